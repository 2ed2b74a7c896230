package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// PSTNState is a location's PSTN connection (nil: none yet) and the options
// Webex offers for it.
type PSTNState struct {
	Location   webex.Location
	Connection *webex.PSTNConnection
	Options    []webex.PSTNConnectionOption
}

// ReadPSTN reads the PSTN connection of a customer's location and its
// options. A refusal says why there is nothing to read (unknown location).
func ReadPSTN(ctx context.Context, api SetupAPI, ref request.CustomerRef, location string) (*PSTNState, string, error) {
	if ref.OrgID == "" {
		return nil, "", ErrCustomerNotReady
	}
	locs, err := api.ListLocations(ctx, ref.OrgID)
	if err != nil {
		return nil, "", fmt.Errorf("read PSTN of %s: %w", location, translate(err))
	}
	loc := findLocation(locs, location)
	if loc == nil {
		return nil, fmt.Sprintf("location %s does not exist at customer %s", location, ref.ExternalID), nil
	}
	st := &PSTNState{Location: *loc}
	st.Connection, err = api.GetPSTNConnection(ctx, ref.OrgID, loc.ID)
	if webex.IsNotFound(err) {
		st.Connection, err = nil, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read PSTN of %s: %w", location, translate(err))
	}
	if st.Options, err = api.ListPSTNConnectionOptions(ctx, ref.OrgID, loc.ID); err != nil {
		return nil, "", fmt.Errorf("read PSTN options of %s: %w", location, translate(err))
	}
	return st, "", nil
}

// Option finds the option named connection, ignoring case.
func (st *PSTNState) Option(connection string) *webex.PSTNConnectionOption {
	for i := range st.Options {
		if strings.EqualFold(st.Options[i].DisplayName, connection) {
			return &st.Options[i]
		}
	}
	return nil
}

// OptionNames lists the options as people type them: "Premises-based PSTN", "Sandbox CCP".
func (st *PSTNState) OptionNames() string {
	names := make([]string, len(st.Options))
	for i, o := range st.Options {
		names[i] = fmt.Sprintf("%q", o.DisplayName)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// CheckPSTN is the precheck of a PSTN request: the connection must be one
// of the options Webex offers at the location. It returns a refusal, or
// ErrCustomerNotReady while the customer is not provisioned.
func CheckPSTN(ctx context.Context, api SetupAPI, spec *request.PSTNSpec) (string, error) {
	st, refusal, err := ReadPSTN(ctx, api, spec.Customer, spec.Location)
	if err != nil || refusal != "" {
		return refusal, err
	}
	if st.Option(spec.Connection) == nil {
		return fmt.Sprintf("%q is not a PSTN option at %s (Webex offers %s)", spec.Connection, st.Location.Name, st.OptionNames()), nil
	}
	return "", nil
}

// commitPSTN sets the location's PSTN connection. A location that already
// has the connection asked for is done (a run interrupted after the set-up
// finishes so); one with another connection is changed as approved.
func (w *Worker) commitPSTN(ctx context.Context, r *request.Request) error {
	spec, err := setupSpec[request.PSTNSpec](ctx, w, r)
	if spec == nil {
		return err
	}
	ref, ok, err := w.resolveCustomer(ctx, r, spec.Customer)
	if !ok {
		return err
	}
	st, refusal, err := ReadPSTN(ctx, w.Setup, ref, spec.Location)
	if err != nil {
		if errors.Is(err, ErrCustomerNotReady) {
			return w.fail(ctx, r, r.State, fmt.Sprintf("customer %s has no Webex org id yet", ref.ExternalID), "")
		}
		return w.failSetup(ctx, r, err)
	}
	if refusal != "" {
		return w.fail(ctx, r, r.State, refusal, "")
	}
	opt := st.Option(spec.Connection)
	if opt == nil {
		return w.fail(ctx, r, r.State, fmt.Sprintf("%q is not a PSTN option at %s (Webex offers %s)", spec.Connection, st.Location.Name, st.OptionNames()), "")
	}
	done := st.Connection != nil && strings.EqualFold(st.Connection.DisplayName, opt.DisplayName) &&
		st.Connection.RouteType == spec.RouteType && st.Connection.RouteID == spec.RouteID
	if !done {
		w.Events.Progress(ctx, r, "setting up "+opt.DisplayName+" at "+st.Location.Name)
		setup := webex.PSTNConnectionSetup{ID: opt.ID, PremiseRouteType: spec.RouteType, PremiseRouteID: spec.RouteID}
		if err := w.Setup.SetPSTNConnection(ctx, ref.OrgID, st.Location.ID, setup); err != nil {
			return w.failSetup(ctx, r, err)
		}
	}
	return w.settle(ctx, r, request.StateCommitting, request.StateDone, request.PSTNReady, opt.DisplayName)
}
