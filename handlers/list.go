package handlers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
	"github.com/sirupsen/logrus"
)

const (
	// listFetch bounds what one `list` reads; more is counted as "… and N more".
	listFetch = 500
	listShown = 50
)

// list answers `list [mine|pending|incomplete|failed]` (default mine).
func (h *Handler) list(ctx context.Context, u caller, c Command) *Reply {
	which := "mine"
	if len(c.Words) > 2 || len(c.Args) > 0 {
		return refusal("⛔ usage: list [mine|pending|incomplete|failed]")
	}
	if len(c.Words) == 2 {
		which = strings.ToLower(c.Words[1])
	}
	if h.ux.lister == nil {
		return refusal("⛔ list is not available in this setup")
	}
	var (
		items []*request.Request
		title string
		err   error
	)
	switch which {
	case "mine":
		title = "Your requests"
		items, err = h.ux.lister.List(ctx, store.Query{Owner: u.id, Newest: true, Limit: listFetch})
	case "pending":
		title = "Waiting for approval"
		items, err = h.ux.lister.List(ctx, store.Query{States: []request.State{request.StatePendingApproval}, Limit: listFetch})
	case "incomplete":
		title = "Provisioned customers without users"
		items, err = h.incompleteSetups(ctx, "", listFetch)
	case "failed":
		title = "Failed requests"
		items, err = h.failures(ctx, "", listFetch)
	default:
		return refusal(chat.Esc(fmt.Sprintf("⛔ %q: list takes mine, pending, incomplete or failed", c.Words[1])))
	}
	if err != nil {
		ref := chat.NewRef()
		h.log.WithError(err).WithFields(logrus.Fields{"ref": ref, "user": u.id}).Error("list requests")
		return refusal(fmt.Sprintf("⛔ could not read the requests right now (ref %s)", ref))
	}
	return &Reply{Text: listText(title, items, h.now())}
}

// listText renders a list within one message's limits, cut with
// "… and N more".
func listText(title string, items []*request.Request, now time.Time) string {
	var b strings.Builder
	if len(items) == 0 {
		return fmt.Sprintf("*%s:* none.", title)
	}
	fmt.Fprintf(&b, "*%s* (%d):", title, len(items))
	if len(items) == listFetch {
		b.Reset()
		fmt.Fprintf(&b, "*%s* (%d or more):", title, len(items))
	}
	for i, r := range items {
		line := "\n" + chat.TruncateMd(requestLine(r, now), 300)
		if i == listShown || b.Len()+len(line) > chat.MaxMessageChars-100 {
			fmt.Fprintf(&b, "\n… and %d more", len(items)-i)
			break
		}
		b.WriteString(line)
	}
	return b.String()
}

// uxAction answers the buttons of App Home and the summary's View payload.
func (h *Handler) uxAction(ctx context.Context, u caller, actionID, value string) *Reply {
	id, err := request.ParseID(value)
	if err != nil {
		return refusal("⛔ this button is not valid any more")
	}
	cmd := Command{Words: []string{"", request.FormatID(id)}}
	switch actionID {
	case chat.ActionOpenRequest:
		return h.status(ctx, u, cmd)
	case chat.ActionRetryRequest:
		return h.retry(ctx, u, cmd)
	case actionViewPayload:
		return h.viewPayload(ctx, u, id)
	}
	return nil
}

// failures are owner's ("" = anyone's) failed requests and done batches
// with failed rows (⚠️), newest first: both need someone to retry or
// dismiss them.
func (h *Handler) failures(ctx context.Context, owner string, limit int) ([]*request.Request, error) {
	failed, err := h.ux.lister.List(ctx, store.Query{Owner: owner, States: []request.State{request.StateFailed}, Newest: true, Limit: limit})
	if err != nil {
		return nil, err
	}
	partial, _, err := h.ux.lister.DigestRange(ctx, store.DigestRange{Index: store.Partial, Newest: true, Limit: incompleteFetch})
	if err != nil {
		return nil, err
	}
	for _, r := range partial {
		if owner == "" || r.Requester == owner {
			failed = append(failed, r)
		}
	}
	slices.SortStableFunc(failed, func(a, b *request.Request) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return failed[:min(len(failed), limit)], nil
}
