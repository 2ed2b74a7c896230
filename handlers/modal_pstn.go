package handlers

import (
	"context"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// pstnFlow is the PSTN form: the customer and location first, then the
// connection, chosen from the options Webex offers at that location (an
// external select answered from the draft's customer and location), and
// the route a premises-based connection needs.
var pstnFlow = &flow{
	kind:  request.KindPSTN,
	title: "Set up PSTN",
	steps: func(map[string]string) []formStep {
		return []formStep{
			{title: "Location", fields: []field{
				customerField,
				{key: "location", label: "Location", optional: true, maxLen: 80, hint: "Empty: HQ."},
			}},
			{title: "Connection", intro: "The options are those Webex offers at this location. " +
				"`" + request.PremisesOption + "` (a Local Gateway) needs the trunk or route group its calls leave by.",
				fields: []field{
					{key: "connection", label: "PSTN connection", kind: fieldExternal},
					{key: "route-type", label: "Route type", kind: fieldSelect, optional: true,
						options: []option{{"TRUNK", "Trunk"}, {"ROUTE_GROUP", "Route group"}}},
					{key: "route", label: "Route (trunk or route group id)", optional: true, maxLen: 255},
				}},
		}
	},
	normalize: noNormalize,
	check: func(ctx context.Context, h *Handler, u caller, a map[string]string) ([]string, input.FieldErrors, *Reply) {
		ref, errs, fault := h.setupCheck(ctx, u, a)
		missing := missingOf(a, customerKey, "connection")
		if ref != nil && a["connection"] != "" {
			_, _, perrs := input.ParsePSTN(withoutKey(a, customerKey), *ref)
			errs = append(errs, perrs...)
		}
		return missing, errs, fault
	},
	submit: func(ctx context.Context, h *Handler, u caller, a map[string]string) *Reply {
		return h.pstn(ctx, u, Command{Words: []string{"pstn", a[customerKey]}, Args: withoutKey(a, customerKey)})
	},
}

// pstnOptions are the PSTN connection options Webex offers at the location
// the draft in the form's metadata names; none while that is not known (no
// customer yet, not provisioned, Webex unreachable).
func (h *Handler) pstnOptions(ctx context.Context, user, metadata string) []option {
	if h.drafts == nil || h.setup == nil {
		return nil
	}
	id, err := store.ParseDraftID(metadata)
	if err != nil {
		return nil
	}
	d, err := h.drafts.GetDraft(ctx, id)
	if err != nil || d.Owner != user {
		return nil
	}
	target, rep := h.resolveCustomer(ctx, caller{id: user}, d.Answers[customerKey])
	if rep != nil {
		return nil
	}
	ref, pending, err := h.provisionedRef(ctx, *target)
	if err != nil || pending != nil {
		return nil
	}
	location := strings.TrimSpace(d.Answers["location"])
	if location == "" {
		location = request.DefaultLocationName
	}
	st, refusal, err := h.setup.ReadPSTN(ctx, ref, location)
	if err != nil || refusal != "" {
		h.log.WithError(err).WithField("user", user).Info("options: PSTN options unavailable: " + refusal)
		return nil
	}
	out := make([]option, 0, len(st.Options))
	for _, o := range st.Options {
		out = append(out, option{o.DisplayName, o.DisplayName})
	}
	return out
}
