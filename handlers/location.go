package handlers

import (
	"context"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
)

// location requests `location CUSTOMER name=… …`.
func (h *Handler) location(ctx context.Context, u caller, c Command) *Reply {
	if rep, ok := h.setupForm(ctx, u, request.KindLocation, c, input.RequiredLocationKeys...); ok {
		return rep
	}
	ref, rep := h.setupTarget(ctx, u, c, "location CUSTOMER name=… address=… city=… state=… zip=… timezone=… language=…")
	if rep != nil {
		return rep
	}
	spec, missing, errs := input.ParseLocation(c.Args, *ref, h.set.SupportedCountries)
	if len(errs) > 0 || len(missing) > 0 {
		return refusal(inputProblems(errs, missing))
	}
	check := func(*request.Request) precheckFunc { return h.locationCheck(spec) }
	return h.submitSetup(ctx, u, request.KindLocation, fmt.Sprintf("location %s %s", spec.Name, ref.ExternalID), spec, check)
}

// locationCheck asks Webex whether the customer has a location of that
// name already.
func (h *Handler) locationCheck(spec *request.LocationSpec) precheckFunc {
	return h.deferredCheck(spec.Customer, func(ctx context.Context, ref request.CustomerRef) (string, error) {
		resolved := *spec
		resolved.Customer = ref
		return h.setup.CheckLocation(ctx, &resolved)
	}, "no location of that name yet")
}
