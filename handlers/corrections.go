package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
)

// change, remove and delete are corrections after commit, approved like
// creates.
func (h *Handler) change(ctx context.Context, u caller, c Command) *Reply {
	ref, rep := h.setupTarget(ctx, u, c, "change CUSTOMER user=EMAIL package=P [phone=+…|auto] [extension=N] [location=NAME]")
	if rep != nil {
		return rep
	}
	spec, missing, errs := input.ParseChange(c.Args, *ref)
	if len(errs) > 0 || len(missing) > 0 {
		return refusal(inputProblems(errs, missing))
	}
	check := func(*request.Request) precheckFunc { return h.changeCheck(spec) }
	return h.submitSetup(ctx, u, request.KindChange, fmt.Sprintf("change %s %s: %s", ref.ExternalID, spec.Email, spec.Package), spec, check)
}

func (h *Handler) remove(ctx context.Context, u caller, c Command) *Reply {
	ref, rep := h.setupTarget(ctx, u, c, "remove CUSTOMER user=EMAIL")
	if rep != nil {
		return rep
	}
	spec, missing, errs := input.ParseRemove(c.Args, *ref)
	if len(errs) > 0 || len(missing) > 0 {
		return refusal(inputProblems(errs, missing))
	}
	check := func(*request.Request) precheckFunc { return h.removeCheck(spec) }
	return h.submitSetup(ctx, u, request.KindRemove, fmt.Sprintf("remove %s %s", ref.ExternalID, spec.Email), spec, check)
}

func (h *Handler) deleteCustomer(ctx context.Context, u caller, c Command) *Reply {
	ref, rep := h.setupTarget(ctx, u, c, "delete CUSTOMER")
	if rep != nil {
		return rep
	}
	if len(c.Args) > 0 {
		return refusal("⛔ delete takes no keys (usage: delete CUSTOMER)")
	}
	if ref.CustomerID == "" && ref.RequestID != 0 {
		// A customer that failed at Webex exists there all the same (its
		// wholesale id is known): deleting it is how it is started over.
		if cr, err := h.store.Get(ctx, ref.RequestID); err == nil && cr.State == request.StateFailed {
			ref.CustomerID, ref.OrgID = cr.Result.CustomerID, cr.Result.OrgID
		}
	}
	return h.submitSetup(ctx, u, request.KindDelete, "delete "+ref.ExternalID, request.DeleteSpec{Customer: *ref}, nil)
}

// changeCheck asks Webex whether a package change can work and would change
// anything (the user's package now decides whether a number is needed).
func (h *Handler) changeCheck(spec *request.ChangeSpec) precheckFunc {
	return h.deferredCheck(spec.Customer, func(ctx context.Context, ref request.CustomerRef) (string, error) {
		resolved := *spec
		resolved.Customer = ref
		return h.setup.CheckChange(ctx, &resolved)
	}, spec.Email+" can move to "+spec.Package)
}

// removeCheck asks Webex whether the user to remove is a user.
func (h *Handler) removeCheck(spec *request.RemoveSpec) precheckFunc {
	return h.deferredCheck(spec.Customer, func(ctx context.Context, ref request.CustomerRef) (string, error) {
		resolved := *spec
		resolved.Customer = ref
		return h.setup.CheckRemove(ctx, &resolved)
	}, spec.Email+" is a user")
}

// deferredCheck is a precheck that asks Webex about a customer's objects:
// deferred (approval allowed, the worker checks at commit) while the
// customer is not provisioned; a refusal fails it; ok says what passed.
func (h *Handler) deferredCheck(customer request.CustomerRef, check func(context.Context, request.CustomerRef) (string, error), ok string) precheckFunc {
	return func(ctx context.Context) (request.Precheck, error) {
		ref, pc, err := h.provisionedRef(ctx, customer)
		if err != nil || pc != nil {
			return request.Precheck{Status: pc.Status, Message: pc.Message}, err
		}
		refusal, err := check(ctx, ref)
		switch {
		case errors.Is(err, worker.ErrCustomerNotReady):
			return request.Precheck{Status: request.PrecheckDeferred, Message: "runs when the customer is provisioned; approval is allowed"}, nil
		case err != nil:
			return request.Precheck{}, err
		case refusal != "":
			return request.Precheck{Status: request.PrecheckFailed, Message: refusal}, nil
		}
		return request.Precheck{Status: request.PrecheckOK, Message: ok}, nil
	}
}
