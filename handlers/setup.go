package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/sirupsen/logrus"
)

// SetupChecker is what the setup flows ask Webex outside the job stream.
type SetupChecker interface {
	PrecheckUsers(ctx context.Context, spec *request.UsersSpec) (worker.UsersPrecheck, error)
	AvailableNumbers(ctx context.Context, ref request.CustomerRef, location string) ([]string, error)
	CheckNumbersAllowed(ctx context.Context, ref request.CustomerRef, location string) error
	ResendConsent(ctx context.Context, requestID int64) (int, error)
	// ReadPSTN is a location's PSTN connection and options; CheckPSTN the
	// precheck of a PSTN request (a refusal, or ErrCustomerNotReady).
	ReadPSTN(ctx context.Context, ref request.CustomerRef, location string) (*worker.PSTNState, string, error)
	CheckPSTN(ctx context.Context, spec *request.PSTNSpec) (string, error)
	// CheckChange, CheckRemove and CheckLocation are the prechecks of the
	// corrections and of a new location: a refusal, or ErrCustomerNotReady.
	CheckChange(ctx context.Context, spec *request.ChangeSpec) (string, error)
	CheckRemove(ctx context.Context, spec *request.RemoveSpec) (string, error)
	CheckLocation(ctx context.Context, spec *request.LocationSpec) (string, error)
	// RowOutcomes is what happened to each row of a batch, by row number.
	RowOutcomes(ctx context.Context, requestID int64) (map[int]request.RowOutcome, error)
}

// resolveCustomer turns a CUSTOMER argument (request id or external id) into
// the customer a setup request is for. Customers not created through the bot
// must be adopted first.
func (h *Handler) resolveCustomer(ctx context.Context, u caller, arg string) (*request.CustomerRef, *Reply) {
	id, err := request.ParseID(arg)
	if err != nil {
		id, err = h.store.ByExternalID(ctx, arg)
		if errors.Is(err, request.ErrNotFound) {
			return nil, refusal(chat.Esc(fmt.Sprintf("⛔ CUSTOMER: %q is not a customer the bot knows (give its request id or external id; adopt customers created in Partner Hub first)", arg)))
		}
		if err != nil {
			return nil, h.lookupFault(u, 0, err)
		}
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return nil, h.lookupFault(u, id, err)
	}
	ref := &request.CustomerRef{RequestID: r.ID, ExternalID: r.ExternalID, CustomerID: r.Result.CustomerID, OrgID: r.Result.OrgID}
	switch r.Kind {
	case request.KindCustomer:
		spec, err := request.SpecOf[request.CustomerSpec](r)
		if err != nil {
			return nil, h.systemFault(u, "decode customer", err)
		}
		ref.Packages, ref.Limits, ref.AdminEmail, ref.Country = spec.Packages, spec.Limits, spec.Email, spec.Country
	case request.KindAdopt:
		cs, err := request.SpecOf[request.CustomerState](r)
		if err != nil {
			return nil, h.systemFault(u, "decode adopted customer", err)
		}
		ref.Packages, ref.Country = cs.Packages, cs.Country
	default:
		return nil, refusal(fmt.Sprintf("⛔ CUSTOMER: %s is a %s request, not a customer", r.Ref(), r.Kind))
	}
	switch {
	case r.State == request.StateDone && r.Result.Status == request.CustomerDeleted:
		return nil, refusal(fmt.Sprintf("⛔ CUSTOMER: %s (%s) was deleted; nothing can be set up for it", r.Ref(), chat.Esc(r.Subject)))
	case r.State == request.StateRejected, r.State == request.StateCancelled, r.State == request.StateExpired, r.State == request.StateDraft:
		return nil, refusal(fmt.Sprintf("⛔ CUSTOMER: %s (%s) is %s; nothing can be set up for it", r.Ref(), chat.Esc(r.Subject), r.State))
	case r.State != request.StateDone:
		// Not provisioned yet (pending, provisioning, on hold, or failed and
		// to be retried): the request waits for it, and its Webex ids are
		// resolved at commit, so the precheck waits too.
		ref.CustomerID, ref.OrgID = "", ""
	}
	return ref, nil
}

// submitSetup saves a setup request for approval and, in the background,
// posts its summary and runs its precheck (none when check is nil).
func (h *Handler) submitSetup(ctx context.Context, u caller, kind request.Kind, subject string, spec any, check func(*request.Request) precheckFunc) *Reply {
	return h.submitSaying(ctx, u, kind, subject, chat.Esc(subject), spec, check)
}

// submitSaying is submitSetup whose answer names the request as said
// (mrkdwn, escaped).
func (h *Handler) submitSaying(ctx context.Context, u caller, kind request.Kind, subject, said string, spec any, check func(*request.Request) precheckFunc) *Reply {
	raw, err := json.Marshal(spec)
	if err != nil {
		return h.systemFault(u, "encode request", err)
	}
	r := &request.Request{
		Kind: kind, State: request.StatePendingApproval, Requester: u.id,
		Subject: subject, Spec: raw, Hash: request.HashSpec(raw),
	}
	var run precheckFunc
	if check != nil {
		run = check(r)
		r.Precheck.Status = request.PrecheckRunning
	}
	if rep := h.createSubmission(ctx, u, r); rep != nil {
		return rep
	}
	h.log.WithFields(logrus.Fields{"request": r.Ref(), "user": u.id, "state": r.State, "kind": kind}).Info("request submitted")
	h.queuePublish(ctx, r, run) // and AUTO_APPROVE, right after the precheck
	return &Reply{Text: fmt.Sprintf("📨 %s submitted: %s waits for approval in %s.", r.Ref(), said, h.set.ApprovalChannel)}
}

// setupTarget checks the caller may submit and reads the CUSTOMER word.
func (h *Handler) setupTarget(ctx context.Context, u caller, c Command, usage string) (*request.CustomerRef, *Reply) {
	if !h.isRequester(u.id) {
		return nil, refusal("⛔ you are not allowed to submit requests")
	}
	if len(c.Words) != 2 {
		return nil, refusal("⛔ usage: " + usage)
	}
	return h.resolveCustomer(ctx, u, c.Words[1])
}
