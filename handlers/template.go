package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"
)

// Templates is the onboarding-template registry: approved versions per name.
type Templates interface {
	ActivateTemplate(ctx context.Context, name string, version int, provisioningID, actor string) error
	RetireTemplate(ctx context.Context, name, actor string) (int, error)
	Template(ctx context.Context, name string) (*request.TemplateVersion, []request.TemplateVersion, error)
	Templates(ctx context.Context) ([]string, error)
}

func (h *Handler) template(ctx context.Context, u caller, c Command) *Reply {
	verb := ""
	if len(c.Words) > 1 {
		verb = strings.ToLower(c.Words[1])
	}
	switch verb {
	case "new":
		return h.templateNew(ctx, u, c)
	case "activate":
		return h.templateActivate(ctx, u, c)
	case "list":
		return h.templateList(ctx, u)
	case "show":
		return h.templateShow(ctx, u, c)
	case "retire":
		return h.templateRetire(ctx, u, c)
	}
	return refusal("⛔ usage: template new|activate NAME provisioning-id=…|list|show NAME|retire NAME")
}

func (h *Handler) templateNew(ctx context.Context, u caller, c Command) *Reply {
	if !h.isRequester(u.id) {
		return refusal("⛔ you are not allowed to submit requests")
	}
	if len(c.Words) > 2 {
		return refusal(chat.Esc(fmt.Sprintf("⛔ unexpected %q after template new: give every value as key=value", c.Words[2])))
	}
	next := 1
	if name := c.Args["name"]; name != "" {
		_, versions, err := h.templates.Template(ctx, name)
		if err != nil && !errors.Is(err, request.ErrNotFound) {
			return h.systemFault(u, "read template", err)
		}
		next = len(versions) + 1
	}
	spec, missing, errs := input.ParseTemplate(c.Args, input.TemplateOptions{
		SupportedCountries: h.set.SupportedCountries, Version: next,
	})
	if len(errs) == 0 && len(missing) > 0 && h.formsAllowed(c.Args, len(c.Words)-1) {
		return h.openForm(ctx, u, u.trigger, request.KindTemplate, c.Args, 0)
	}
	if len(errs) > 0 || len(missing) > 0 {
		return refusal(inputProblems(errs, missing))
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return h.systemFault(u, "encode template spec", err)
	}
	r := &request.Request{
		Kind: request.KindTemplate, State: request.StatePendingApproval,
		Requester: u.id, Subject: "template " + spec.Name, Spec: raw, Hash: request.HashSpec(raw),
	}
	if spec.ProvisioningID != "" {
		r.Precheck.Status = request.PrecheckRunning
	}
	if rep := h.createSubmission(ctx, u, r); rep != nil {
		return rep
	}
	h.queuePublish(ctx, r, h.templateCheck(spec))
	return &Reply{Text: fmt.Sprintf("📨 %s submitted: template %s (v%d) waits for approval in %s.", r.Ref(), chat.Esc(spec.Name), next, h.set.ApprovalChannel)}
}

// templateCheckSpec is the customer a template's provisioning id is verified
// with: Webex has no template API, so a customer precheck with the id and
// the template's country and packages stands in.
func templateCheckSpec(t *request.TemplateSpec, provisioningID string) *request.CustomerSpec {
	tz := t.Timezone
	if tz == "" {
		tz = request.DefaultTimezone(t.Country)
	}
	if tz == "" {
		tz = "UTC"
	}
	return &request.CustomerSpec{
		Name: "Template " + t.Name + " check", Email: t.SPAdmin, ExternalID: "template-check-" + t.Name,
		Country: t.Country, Packages: t.Packages, ProvisioningID: provisioningID,
		Address:  request.Address{Line1: "Template check", City: "Template check", Country: t.Country},
		Timezone: tz, Language: t.Language, LocationName: "HQ",
	}
}

// checklistMessage is the Partner Hub checklist for a template that waits
// for its provisioning id: Partner Hub's clicks, in order, with this
// template's values (Checklist); each step is escaped whole.
func checklistMessage(r *request.Request, spec *request.TemplateSpec) chat.Message {
	lines := []string{fmt.Sprintf("*Partner Hub checklist for template %s v%d* (%s)", chat.Esc(spec.Name), r.Result.Version, r.Ref())}
	for i, step := range spec.Checklist() {
		lines = append(lines, fmt.Sprintf("%d. %s", i+1, chat.Esc(step)))
	}
	text := strings.Join(lines, "\n")
	return chat.Message{Text: text, Blocks: []slack.Block{slack.NewSectionBlock(chat.Md(chat.TruncateMd(text, 2900)), nil, nil)}}
}

func (h *Handler) templateActivate(ctx context.Context, u caller, c Command) *Reply {
	if len(c.Words) != 3 {
		return refusal("⛔ usage: template activate NAME provisioning-id=…")
	}
	name := c.Words[2]
	pid := strings.TrimSpace(c.Args["provisioning-id"])
	for k := range c.Args {
		if k != "provisioning-id" {
			return refusal(fmt.Sprintf("⛔ %s: unknown key (template activate takes provisioning-id=…)", chat.Esc(k)))
		}
	}
	if pid == "" {
		return refusal("⛔ provisioning-id: missing (copy it from Partner Hub → Onboarding templates)")
	}
	_, versions, err := h.templates.Template(ctx, name)
	if errors.Is(err, request.ErrNotFound) {
		return refusal(chat.Esc(fmt.Sprintf("⛔ there is no approved template %q (template list shows them)", name)))
	}
	if err != nil {
		return h.systemFault(u, "read template", err)
	}
	i := slices.IndexFunc(versions, func(tv request.TemplateVersion) bool { return tv.Status == request.TemplatePending })
	if i < 0 {
		return refusal(fmt.Sprintf("⛔ template %s has no version waiting for a provisioning id", chat.Esc(name)))
	}
	tv := versions[i]
	r, err := h.store.Get(ctx, tv.RequestID)
	if err != nil {
		return h.lookupFault(u, tv.RequestID, err)
	}
	if u.id != r.Requester && !h.isApprover(u.id) {
		return refusal(fmt.Sprintf("⛔ %s: only its requester or an approver can activate template %s", r.Ref(), chat.Esc(name)))
	}
	h.expectOutcome(r.ID)
	h.queue.Go(ctx, "activate template", func(ctx context.Context) error {
		defer h.outcomeReported(r.ID)
		return h.verifyAndActivate(ctx, u, r, tv, pid)
	})
	return &Reply{Text: fmt.Sprintf("🔎 %s: checking provisioning id %s for template %s v%d with a Webex precheck…", r.Ref(), chat.Esc(pid), chat.Esc(name), tv.Version)}
}

func (h *Handler) verifyAndActivate(ctx context.Context, u caller, r *request.Request, tv request.TemplateVersion, pid string) error {
	pc, err := h.pre.PrecheckCustomer(ctx, templateCheckSpec(&tv.Spec, pid))
	refuse := func(why string) error {
		return h.msg.Ephemeral(ctx, u.channel, u.id, chat.Message{Text: fmt.Sprintf("⛔ %s: %s", r.Ref(), why)})
	}
	switch {
	case err != nil:
		return refuse("Webex could not be reached to check the provisioning id; try again later")
	case pc.Status == request.PrecheckFailed:
		return refuse(chat.Esc(fmt.Sprintf("Webex refused provisioning id %s: %s%s", pid, pc.Message, chat.TrackingSuffix(pc.TrackingID))))
	}
	if err := h.templates.ActivateTemplate(ctx, tv.Name, tv.Version, pid, u.id); err != nil {
		return fmt.Errorf("activate template %s v%d: %w", tv.Name, tv.Version, err)
	}
	done, err := h.store.Transition(ctx, r.ID, request.Transition{
		From: []request.State{request.StateWaiting}, To: request.StateDone,
		Actor: u.id, Action: request.ActionActivated, Note: "provisioning id " + pid,
		Mutate: func(x *request.Request) error { x.Result.ProvisioningID = pid; return nil },
	})
	if err != nil {
		return err
	}
	h.Settled(ctx, done)
	return nil
}

func (h *Handler) templateList(ctx context.Context, u caller) *Reply {
	names, err := h.templates.Templates(ctx)
	if err != nil {
		return h.systemFault(u, "list templates", err)
	}
	if len(names) == 0 {
		return &Reply{Text: "No templates yet. Create one with `/onboard-customer template new …`."}
	}
	lines := []string{"*Templates*"}
	for _, name := range names {
		active, versions, err := h.templates.Template(ctx, name)
		if err != nil {
			return h.systemFault(u, "read template", err)
		}
		lines = append(lines, "• "+templateLine(name, active, versions))
	}
	return &Reply{Text: strings.Join(lines, "\n")}
}

func templateLine(name string, active *request.TemplateVersion, versions []request.TemplateVersion) string {
	s := chat.Esc(name) + ": "
	if active != nil {
		s += chat.Esc(fmt.Sprintf("v%d active (%s, %s, %s)", active.Version, active.ProvisioningID, active.Spec.Country, strings.Join(active.Spec.Packages, ", ")))
	} else {
		s += "no active version"
	}
	for _, v := range versions {
		if v.Status == request.TemplatePending {
			s += fmt.Sprintf("; v%d waiting for its provisioning id", v.Version)
		}
	}
	return s
}

func (h *Handler) templateShow(ctx context.Context, u caller, c Command) *Reply {
	if len(c.Words) != 3 {
		return refusal("⛔ usage: template show NAME")
	}
	active, versions, err := h.templates.Template(ctx, c.Words[2])
	if errors.Is(err, request.ErrNotFound) {
		return refusal(chat.Esc(fmt.Sprintf("⛔ there is no approved template %q", c.Words[2])))
	}
	if err != nil {
		return h.systemFault(u, "read template", err)
	}
	tv := versions[len(versions)-1]
	if active != nil {
		tv = *active
	}
	lines := []string{templateLine(c.Words[2], active, versions)}
	for _, p := range templatePairs(&tv.Spec, tv.ProvisioningID) {
		lines = append(lines, "• "+p[0]+": "+chat.Esc(p[1]))
	}
	return &Reply{Text: strings.Join(lines, "\n")}
}

func (h *Handler) templateRetire(ctx context.Context, u caller, c Command) *Reply {
	if !h.isAdmin(u.id) {
		return refusal("⛔ only admins can retire templates")
	}
	if len(c.Words) != 3 {
		return refusal("⛔ usage: template retire NAME")
	}
	n, err := h.templates.RetireTemplate(ctx, c.Words[2], u.id)
	if errors.Is(err, request.ErrNotFound) {
		return refusal(fmt.Sprintf("⛔ template %s has no active version to retire", chat.Esc(c.Words[2])))
	}
	if err != nil {
		return h.systemFault(u, "retire template", err)
	}
	h.log.WithFields(logrus.Fields{"user": u.id, "template": c.Words[2], "version": n}).Info("template retired")
	return &Reply{Text: fmt.Sprintf("🗑 template %s v%d retired; new customers can no longer use it.", chat.Esc(c.Words[2]), n)}
}

// templatePairs are a template's settings as label/value pairs;
// provisioningID is the id it was activated with, when it was given later
// than the request.
// templateFields are a template request's summary fields and its
// warnings.
func templateFields(r *request.Request) []slack.Block {
	spec, err := request.SpecOf[request.TemplateSpec](r)
	if err != nil {
		return nil
	}
	blocks := chat.Fields(templatePairs(spec, r.Result.ProvisioningID))
	for _, w := range spec.Warnings() {
		blocks = append(blocks, slack.NewContextBlock("", chat.Md("⚠️ "+chat.Esc(w))))
	}
	return blocks
}

func templatePairs(t *request.TemplateSpec, provisioningID string) [][2]string {
	if provisioningID == "" {
		provisioningID = t.ProvisioningID
	}
	onOff := map[bool]string{true: "on", false: "off"}
	pairs := [][2]string{
		{"Country", t.Country}, {"Language", t.Language}, {"Packages", strings.Join(t.Packages, ", ")},
		{"Authentication", t.Auth + orEmpty(" (IdP "+t.IdPEntityID+")", t.IdPEntityID)},
		{"Service provider admin", t.SPAdmin}, {"Subscription", t.Subscription},
		{"Email language", chat.OrDash(t.EmailLanguage)}, {"Brand", chat.OrDash(t.Brand)},
		{"Admin-invite emails", onOff[t.AdminInvites]}, {"Webex-to-Webex calls", onOff[t.WebexCalls]},
		{"PSTN provider", chat.OrDash(t.PSTNProvider)}, {"Time zone", chat.OrDash(t.Timezone)},
		{"Provisioning id", chat.OrDash(provisioningID)},
	}
	return pairs
}

func orEmpty(s, cond string) string {
	if cond == "" {
		return ""
	}
	return s
}

// templateCheck verifies a template's provisioning id, when it has one.
func (h *Handler) templateCheck(spec *request.TemplateSpec) precheckFunc {
	if spec.ProvisioningID == "" {
		return nil
	}
	return h.customerCheck(templateCheckSpec(spec, spec.ProvisioningID))
}
