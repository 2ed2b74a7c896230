package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

// newCustomer validates a `new` command and, when it is complete and valid,
// saves a pending_approval request. The summary post and the precheck run in
// the background; the requester is told the request id at once. Valid but
// incomplete keys open the customer form pre-filled where forms can open
// (Slack; in the console only a bare command, as piped scripts expect an
// error listing the missing keys).
func (h *Handler) newCustomer(ctx context.Context, u caller, c Command) *Reply {
	if !h.isRequester(u.id) {
		return refusal("⛔ you are not allowed to submit requests (ask an admin to add you to REQUESTERS)")
	}
	if len(c.Words) > 1 {
		return refusal(chat.Esc(fmt.Sprintf("⛔ unexpected %q after new: give every value as key=value", c.Words[1])))
	}
	s := h.submitCustomer(ctx, u, c.Args)
	// A plan's keys have no place in the customer form: with them, missing
	// keys are an error listing them, and nothing typed is lost.
	if s.request == nil && len(s.errs) == 0 && len(s.missing) > 0 && h.canOpenForms() && (h.set.Interactive || len(c.Args) == 0) && !hasPlanKeys(c.Args) {
		return h.openForm(ctx, u, u.trigger, request.KindCustomer, c.Args, 0)
	}
	return s.reply
}

// submission is what submitCustomer did: request is nil when nothing was
// saved; missing and errs say why when the keys were the reason.
type submission struct {
	reply   *Reply
	request *request.Request
	missing []string
	errs    input.FieldErrors
}

// customerOptions resolves template= for ParseCustomer.
func (h *Handler) customerOptions(ctx context.Context, u caller, template string) (input.CustomerOptions, *Reply) {
	opts := input.CustomerOptions{
		SupportedCountries: h.set.SupportedCountries,
		SubPartnerOrgID:    h.set.SubPartnerOrgID,
	}
	if name := strings.TrimSpace(template); name != "" {
		active, _, err := h.templates.Template(ctx, name)
		if err != nil && !errors.Is(err, request.ErrNotFound) {
			return opts, h.systemFault(u, "read template", err)
		}
		if active != nil {
			d := active.Defaults()
			opts.Template = &d
		}
	}
	return opts, nil
}

// submitCustomer is the one way a customer request is made, from the
// command and from the form: validate args, save the request, then post the
// summary and run the precheck in the background.
func (h *Handler) submitCustomer(ctx context.Context, u caller, args map[string]string) submission {
	opts, fault := h.customerOptions(ctx, u, args["template"])
	if fault != nil {
		return submission{reply: fault}
	}
	spec, missing, errs := input.ParseCustomer(args, opts)
	if len(errs) > 0 || len(missing) > 0 {
		return submission{reply: refusal(inputProblems(errs, missing)), missing: missing, errs: errs}
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return submission{reply: h.systemFault(u, "encode customer spec", err)}
	}
	r := &request.Request{
		Kind:       request.KindCustomer,
		State:      request.StatePendingApproval,
		Requester:  u.id,
		Subject:    spec.ExternalID,
		ExternalID: spec.ExternalID,
		Spec:       raw,
		Hash:       request.HashSpec(raw),
		Precheck:   request.Precheck{Status: request.PrecheckRunning},
	}
	// A held external id is refused before the submission limit counts it:
	// only accepted submissions use the budget (one step in the store).
	if rep := h.createSubmission(ctx, u, r); rep != nil {
		return submission{reply: rep}
	}
	h.log.WithFields(logrus.Fields{"request": r.Ref(), "user": u.id, "state": r.State}).Info("request submitted")
	h.queuePublish(ctx, r, h.customerCheck(spec))
	plan := planSaid(spec.Steps)
	if plan != "" {
		plan += ","
	}
	return submission{request: r, reply: &Reply{Text: fmt.Sprintf("📨 %s submitted: customer %s (%s)%s waits for approval in %s.",
		r.Ref(), chat.Esc(spec.Name), chat.Esc(spec.ExternalID), plan, h.set.ApprovalChannel)}}
}

// hasPlanKeys reports whether args hold any key that makes `new` a plan.
func hasPlanKeys(args map[string]string) bool {
	for _, k := range input.PlanKeys {
		if _, ok := args[k]; ok {
			return true
		}
	}
	return false
}

// planSaid names a plan's later steps: " with its PSTN connection, 10
// numbers and 3 users"; "" for a customer alone.
func planSaid(p *request.PlanSteps) string {
	var parts []string
	if p != nil && p.PSTN != nil {
		parts = append(parts, "its PSTN connection")
	}
	if p != nil && p.Numbers != nil {
		parts = append(parts, request.Count(len(p.Numbers.Numbers), "number"))
	}
	if p != nil && p.Users != nil {
		parts = append(parts, request.Count(len(p.Users.Rows), "user"))
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return " with " + parts[0]
	}
	return " with " + strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func (h *Handler) customerCheck(spec *request.CustomerSpec) precheckFunc {
	return func(ctx context.Context) (request.Precheck, error) { return h.pre.PrecheckCustomer(ctx, spec) }
}

// inputProblems lists every bad and missing key in one message.
func inputProblems(errs input.FieldErrors, missing []string) string {
	var b strings.Builder
	b.WriteString("⛔ nothing was submitted:")
	for _, e := range errs {
		b.WriteString("\n• " + chat.Esc(e.Error()))
	}
	if len(missing) > 0 {
		said := make([]string, len(missing))
		for i, k := range missing {
			said[i] = missingKeys(k)
		}
		b.WriteString("\n• missing: " + chat.Esc(strings.Join(said, ", ")))
	}
	return b.String()
}

// missingKeys says which keys satisfy a missing one: a customer needs a
// template or a provisioning id, either will do.
func missingKeys(key string) string {
	if key == "template" {
		return "template or provisioning-id"
	}
	return key
}
