package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
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
	if s.request == nil && len(s.errs) == 0 && len(s.missing) > 0 && h.canOpenForms() && (h.set.Interactive || len(c.Args) == 0) {
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
	h.log.WithFields(map[string]any{"request": r.Ref(), "user": u.id, "state": r.State}).Info("request submitted")
	h.queuePublish(ctx, r, h.customerCheck(spec))
	return submission{request: r, reply: &Reply{Text: fmt.Sprintf("📨 %s submitted: customer %s (%s) waits for approval in %s.",
		r.Ref(), chat.Esc(spec.Name), chat.Esc(spec.ExternalID), h.set.ApprovalChannel)}}
}

// precheckFunc runs a request's Webex precheck in the background. An error
// means Webex could not be reached: the precheck is "unavailable".
type precheckFunc func(ctx context.Context) (request.Precheck, error)

func (h *Handler) customerCheck(spec *request.CustomerSpec) precheckFunc {
	return func(ctx context.Context) (request.Precheck, error) { return h.pre.PrecheckCustomer(ctx, spec) }
}

// publishLockTTL bounds how long a dead publisher keeps others from a
// request's summary.
const publishLockTTL = 3 * time.Minute

// publish posts request id's summary for approvers, runs check (none when
// nil) and shows its result on the summary, then applies AUTO_APPROVE — as
// far as that has not happened yet. A submission queues it; the publish
// sweep (Republish) makes up for one that was shed or cut short by a crash.
// A lock per request and a fresh read keep a late queued task, the sweep and
// a second replica from posting a summary twice.
func (h *Handler) publish(ctx context.Context, id int64, check precheckFunc) error {
	ref := request.FormatID(id)
	if h.locks != nil {
		owner := newRef()
		ok, err := h.locks.TryLock(ctx, "publish:"+ref, owner, publishLockTTL)
		if err != nil {
			return fmt.Errorf("publish %s: %w", ref, err)
		}
		if !ok {
			return nil // someone else is publishing it
		}
		defer func() {
			if err := h.locks.Unlock(context.WithoutCancel(ctx), "publish:"+ref, owner); err != nil {
				h.log.WithError(err).WithField("request", ref).Warn("release publish lock")
			}
		}()
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("publish %s: %w", ref, err)
	}
	if r.State != request.StatePendingApproval {
		return nil // approved, rejected or cancelled meanwhile: its flow shows it
	}
	if r.Summary.TS == "" {
		ts, err := h.msg.Post(ctx, h.set.ApprovalChannel, h.summary(r))
		if err != nil {
			return fmt.Errorf("post summary of %s: %w", r.Ref(), err)
		}
		posted, err := h.store.Transition(ctx, r.ID, request.Transition{
			Current: r, From: []request.State{request.StatePendingApproval}, Actor: "bot", Action: "summary posted",
			Mutate: func(x *request.Request) error {
				x.Summary = request.MessageRef{Channel: h.set.ApprovalChannel, TS: ts}
				return nil
			},
		})
		if err != nil {
			return ignoreCancelled(fmt.Errorf("record summary of %s: %w", r.Ref(), err))
		}
		r = posted
	}
	if r.Precheck.Status == request.PrecheckRunning {
		if r, err = h.recordPrecheck(ctx, r, check); err != nil || r == nil {
			return err
		}
	}
	if !h.ux.autoApprove[r.Kind] {
		return nil
	}
	return h.autoApprove(ctx, r.ID)
}

// recordPrecheck runs check and shows its result on r's summary. Without a
// check (a sweep after a crash cannot rebuild every kind's), the precheck is
// marked unavailable: Webex is asked again at commit. It returns nil, nil
// when r left pending_approval meanwhile.
func (h *Handler) recordPrecheck(ctx context.Context, r *request.Request, check precheckFunc) (*request.Request, error) {
	pc := request.Precheck{Status: request.PrecheckUnavailable, Message: "the precheck was interrupted; Webex is checked again at commit"}
	if check != nil {
		var err error
		if pc, err = check(ctx); err != nil {
			h.log.WithError(err).WithField("request", r.Ref()).Warn("precheck unavailable")
			pc = request.Precheck{Status: request.PrecheckUnavailable, Message: "Webex could not be reached; the worker prechecks again before creating"}
		}
	}
	pc.At = h.now()
	checked, err := h.store.Transition(ctx, r.ID, request.Transition{
		Current: r, From: []request.State{request.StatePendingApproval}, Actor: "bot", Action: "precheck",
		Note:   string(pc.Status),
		Mutate: func(x *request.Request) error { x.Precheck = pc; return nil },
	})
	if err != nil {
		return nil, ignoreCancelled(fmt.Errorf("record precheck of %s: %w", r.Ref(), err))
	}
	return checked, h.refreshSummary(ctx, checked)
}

// ignoreCancelled drops a state conflict: the request left
// pending_approval, and whoever moved it shows the new state.
func ignoreCancelled(err error) error {
	var sc *request.StateConflict
	if errors.As(err, &sc) {
		return nil
	}
	return err
}

// refreshSummary re-renders the summary from the stored request.
func (h *Handler) refreshSummary(ctx context.Context, r *request.Request) error {
	if r.Summary.TS == "" {
		return nil
	}
	return h.msg.Update(ctx, r.Summary.Channel, r.Summary.TS, h.summary(r))
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
