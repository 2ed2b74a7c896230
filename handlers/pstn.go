package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
)

// pstn shows a location's PSTN connection and the options Webex offers for
// it, or requests one: `pstn CUSTOMER [location=NAME]` ·
// `pstn CUSTOMER [location=NAME] connection="…" [route-type=… route=…]`.
// A new customer's locations have no PSTN connection, and no number can be
// added before one is set up.
func (h *Handler) pstn(ctx context.Context, u caller, c Command) *Reply {
	const usage = `pstn CUSTOMER [location=NAME] · pstn CUSTOMER [location=NAME] connection="…" [route-type=TRUNK|ROUTE_GROUP route=ID]`
	if rep, ok := h.setupForm(ctx, u, request.KindPSTN, c, "connection"); ok && len(c.Words) < 2 {
		return rep // a bare `pstn` opens the form; with a CUSTOMER and no connection= it shows the PSTN
	}
	if len(c.Words) != 2 {
		return refusal("⛔ usage: " + usage)
	}
	if _, setting := c.Args["connection"]; !setting {
		return h.showPSTN(ctx, u, c)
	}
	ref, rep := h.setupTarget(ctx, u, c, usage)
	if rep != nil {
		return rep
	}
	spec, missing, errs := input.ParsePSTN(c.Args, *ref)
	if len(errs) > 0 || len(missing) > 0 {
		return refusal(inputProblems(errs, missing))
	}
	check := func(*request.Request) precheckFunc { return h.pstnCheck(spec) }
	return h.submitSetup(ctx, u, request.KindPSTN, fmt.Sprintf("pstn %s %s", ref.ExternalID, spec.Location), spec, check)
}

// showPSTN answers `pstn CUSTOMER [location=NAME]` in the background: it
// asks Webex.
func (h *Handler) showPSTN(ctx context.Context, u caller, c Command) *Reply {
	for k := range c.Args {
		if k != "location" {
			return refusal(fmt.Sprintf("⛔ %s: unknown key (expected location, or connection= to set one up)", chat.Esc(k)))
		}
	}
	ref, rep := h.resolveCustomer(ctx, u, c.Words[1])
	if rep != nil {
		return rep
	}
	location := strings.TrimSpace(c.Args["location"])
	if location == "" {
		location = request.DefaultLocationName
	}
	h.queue.Go(ctx, "show pstn", func(ctx context.Context) error {
		return h.msg.Ephemeral(ctx, u.channel, u.id, chat.Message{Text: h.pstnText(ctx, *ref, location)})
	})
	return &Reply{Text: chat.Esc(fmt.Sprintf("🔎 looking up the PSTN connection of %s at %s…", ref.ExternalID, location))}
}

// pstnText says what a location's PSTN connection is and how to set one up.
func (h *Handler) pstnText(ctx context.Context, ref request.CustomerRef, location string) string {
	st, refusal, err := h.setup.ReadPSTN(ctx, ref, location)
	switch {
	case errors.Is(err, worker.ErrCustomerNotReady):
		return chat.Esc(fmt.Sprintf("⛔ %s is not provisioned yet: its locations have no PSTN connection to show", ref.ExternalID))
	case err != nil:
		msg, _ := worker.DescribeFailure(err)
		return chat.Esc(fmt.Sprintf("⛔ could not read the PSTN connection of %s at %s: %s", ref.ExternalID, location, msg))
	case refusal != "":
		return "⛔ " + chat.Esc(refusal)
	}
	var b strings.Builder
	if st.Connection == nil {
		fmt.Fprintf(&b, "%s at %s has no PSTN connection yet: no number can be added there.", chat.Esc(ref.ExternalID), chat.Esc(st.Location.Name))
	} else {
		fmt.Fprintf(&b, "%s at %s: PSTN connection %s (%s)", chat.Esc(ref.ExternalID), chat.Esc(st.Location.Name), chat.Esc(st.Connection.DisplayName), chat.Esc(st.Connection.PSTNConnectionType))
		if st.Connection.RouteID != "" {
			fmt.Fprintf(&b, ", route %s %s", chat.Esc(st.Connection.RouteType), chat.Esc(st.Connection.RouteID))
		}
		b.WriteString(".")
	}
	b.WriteString("\nOptions Webex offers there:")
	for _, o := range st.Options {
		line := "\n• " + chat.Esc(o.DisplayName)
		if request.Premises(o.DisplayName) {
			line += " (needs route-type=TRUNK|ROUTE_GROUP route=ID)"
		}
		b.WriteString(line)
	}
	if len(st.Options) == 0 {
		b.WriteString(" none.")
	} else {
		fmt.Fprintf(&b, "\nSet one up: `pstn %s location=%s connection=\"%s\"`", chat.Esc(ref.ExternalID), chat.Esc(st.Location.Name), chat.Esc(st.Options[len(st.Options)-1].DisplayName))
	}
	return b.String()
}

// pstnCheck is a PSTN request's precheck: the connection must be an option
// Webex offers at the location. Until the customer is provisioned it is
// deferred to the commit.
func (h *Handler) pstnCheck(spec *request.PSTNSpec) precheckFunc {
	return h.deferredCheck(spec.Customer, func(ctx context.Context, ref request.CustomerRef) (string, error) {
		resolved := *spec
		resolved.Customer = ref
		return h.setup.CheckPSTN(ctx, &resolved)
	}, fmt.Sprintf("%s is offered at %s", spec.Connection, spec.Location))
}
