package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// chat.ActionResumeDraft reopens a draft's form where it was left (App Home and
// the `resume` list carry it); its value is the draft id.

// maxDraftsListed bounds `resume` without an id.
const maxDraftsListed = 20

// resume is `resume [D-n]`: without an id it lists the caller's drafts, with
// one it reopens that form at its step. Drafts are the owner's alone.
func (h *Handler) resume(ctx context.Context, u caller, c Command) *Reply {
	if h.drafts == nil {
		return refusal("⛔ drafts are not available here")
	}
	if len(c.Args) > 0 || len(c.Words) > 2 {
		return refusal("⛔ usage: resume [D-<n>]")
	}
	if len(c.Words) == 1 {
		return h.listDrafts(ctx, u)
	}
	id, err := store.ParseDraftID(c.Words[1])
	if err != nil {
		return refusal("⛔ " + chat.Esc(err.Error()))
	}
	return h.reopenDraft(ctx, u, u.trigger, id)
}

func (h *Handler) listDrafts(ctx context.Context, u caller) *Reply {
	ds, err := h.drafts.DraftsOf(ctx, u.id, maxDraftsListed)
	if err != nil {
		return h.systemFault(u, "list drafts", err)
	}
	if len(ds) == 0 {
		return &Reply{Text: "You have no drafts. `/onboard-customer` with no keys opens a new customer form."}
	}
	lines := []string{"*Your drafts*"}
	var buttons []slack.BlockElement
	for _, d := range ds {
		lines = append(lines, "• "+DescribeDraft(d))
		buttons = append(buttons, slack.NewButtonBlockElement(chat.ActionResumeDraft, d.Ref(), chat.Plain("Resume "+d.Ref())))
	}
	text := strings.Join(lines, "\n")
	blocks := []slack.Block{slack.NewSectionBlock(chat.Md(chat.TruncateMd(text, maxSectionChars)), nil, nil)}
	// An actions block holds at most 25 elements.
	for len(buttons) > 0 {
		n := min(len(buttons), 25)
		blocks = append(blocks, slack.NewActionBlock("", buttons[:n]...))
		buttons = buttons[n:]
	}
	return &Reply{Text: text, Blocks: blocks}
}

// DescribeDraft describes a draft for lists and digests: "D-3 customer MS-001, step 2 of 5".
func DescribeDraft(d *store.Draft) string {
	subject := d.Answers["external-id"]
	if subject == "" {
		subject = d.Answers["name"]
	}
	if subject == "" {
		subject = d.Answers[customerKey]
	}
	s := fmt.Sprintf("%s %s", d.Ref(), d.Kind)
	if subject != "" {
		s += " " + chat.Esc(chat.Truncate(subject, 80))
	}
	if f := flowFor(d.Kind); f != nil {
		s += fmt.Sprintf(", step %d of %d", min(d.Step+1, len(f.steps(d.Answers))), len(f.steps(d.Answers)))
	}
	if d.LinkedFrom != 0 {
		s += ", edit of " + request.FormatID(d.LinkedFrom)
	}
	return s + " · saved " + d.UpdatedAt.UTC().Format("2006-01-02 15:04")
}

// resumeButton reopens the draft in value (a click: App Home, the list).
func (h *Handler) resumeButton(ctx context.Context, u caller, trigger, value string) *Reply {
	id, err := store.ParseDraftID(value)
	if err != nil {
		return refusal("⛔ this button is not valid any more")
	}
	return h.reopenDraft(ctx, u, trigger, id)
}

func (h *Handler) reopenDraft(ctx context.Context, u caller, trigger string, id int64) *Reply {
	if !h.canOpenForms() {
		return refusal("⛔ forms are not available here")
	}
	d, err := h.drafts.GetDraft(ctx, id)
	switch {
	case errors.Is(err, request.ErrNotFound):
		return refusal(fmt.Sprintf("⛔ %s: no such draft (drafts expire after DRAFT_TTL, and submitted ones are gone)", store.FormatDraftID(id)))
	case err != nil:
		return h.systemFault(u, "read draft", err)
	case d.Owner != u.id:
		return refusal(fmt.Sprintf("⛔ %s is someone else's draft", d.Ref()))
	}
	f := flowFor(d.Kind)
	if f == nil {
		return refusal(fmt.Sprintf("⛔ %s has no form", d.Ref()))
	}
	steps := f.steps(d.Answers)
	if d.Step < 0 || d.Step >= len(steps) {
		return refusal(fmt.Sprintf("⏳ %s is being submitted", d.Ref()))
	}
	var review []slack.Block
	if steps[d.Step].review && f.review != nil {
		review = f.review(ctx, h, u, d.Answers)
	}
	if _, err := h.views.OpenView(ctx, trigger, formView(f, d, steps, review)); err != nil {
		ref := chat.NewRef()
		h.log.WithFields(logrus.Fields{"ref": ref, "user": u.id, "draft": d.Ref()}).WithError(err).Warn("reopen form")
		return refusal(fmt.Sprintf("⛔ could not open the form (ref %s); try again", ref))
	}
	return nil
}
