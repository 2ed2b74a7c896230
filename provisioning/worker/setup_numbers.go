package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// addNumbersChunk is the most numbers Webex takes in one add or activate.
const addNumbersChunk = 1000

// ErrCustomerNotReady is returned by the read-only setup helpers while the
// customer has no Webex org yet (still provisioning or on hold).
var ErrCustomerNotReady = errors.New("the customer is not provisioned yet")

// commitNumbers adds a block of numbers to a location, activates them and
// sets the main number. Numbers the location already has are not added
// again, so an interrupted run simply runs again.
func (w *Worker) commitNumbers(ctx context.Context, r *request.Request) error {
	spec, err := setupSpec[request.NumbersSpec](ctx, w, r)
	if spec == nil {
		return err
	}
	ref, ok, err := w.resolveCustomer(ctx, r, spec.Customer)
	if !ok {
		return err
	}
	loc, refusal, err := numbersLocation(ctx, w.Setup, ref, spec.Location)
	if err != nil {
		return w.failSetup(ctx, r, err)
	}
	if refusal != "" {
		return w.fail(ctx, r, r.State, refusal, "")
	}
	present, err := w.Setup.ListNumbers(ctx, webex.NumberQuery{OrgID: ref.OrgID, LocationID: loc.ID})
	if err != nil {
		return w.failSetup(ctx, r, err)
	}
	state := map[string]string{}
	for _, n := range present {
		state[n.PhoneNumber] = n.State
	}
	var add, activate []string
	for _, n := range spec.Numbers {
		if _, ok := state[n]; !ok {
			add = append(add, n)
		}
		if state[n] != webex.NumberActive {
			activate = append(activate, n)
		}
	}
	for part := range slices.Chunk(add, addNumbersChunk) {
		w.Events.Progress(ctx, r, fmt.Sprintf("adding %s to %s", request.Count(len(part), "number"), loc.Name))
		if err := w.Setup.AddNumbers(ctx, ref.OrgID, loc.ID, part, webex.NumberInactive); err != nil {
			return w.failSetup(ctx, r, err)
		}
	}
	for part := range slices.Chunk(activate, addNumbersChunk) {
		if err := w.Setup.ActivateNumbers(ctx, ref.OrgID, loc.ID, part); err != nil {
			return w.failSetup(ctx, r, err)
		}
	}
	msg := fmt.Sprintf("%s at %s (%d added, %d activated)", request.Count(len(spec.Numbers), "number"), loc.Name, len(add), len(activate))
	if spec.Main != "" {
		if err := w.Setup.UpdateCallingLocation(ctx, ref.OrgID, loc.ID, webex.CallingLocationUpdate{
			CallingLineID: &webex.CallingLineID{PhoneNumber: spec.Main},
		}); err != nil {
			return w.failSetup(ctx, r, err)
		}
		msg += ", main number " + spec.Main
	}
	return w.settle(ctx, r, request.StateCommitting, request.StateDone, request.NumbersAdded, msg)
}

// numbersLocation finds the location numbers are for and checks that its
// PSTN connection lets the partner add numbers. A non-empty refusal says
// why not, in words for the requester; err is a failed Webex call.
func numbersLocation(ctx context.Context, api SetupAPI, ref request.CustomerRef, name string) (loc *webex.Location, refusal string, err error) {
	if name == "" {
		name = request.DefaultLocationName
	}
	if ref.OrgID == "" {
		return nil, "", ErrCustomerNotReady
	}
	locs, err := api.ListLocations(ctx, ref.OrgID)
	if err != nil {
		return nil, "", err
	}
	loc = findLocation(locs, name)
	if loc == nil {
		return nil, fmt.Sprintf("location %s does not exist at customer %s", name, ref.ExternalID), nil
	}
	pstn, err := api.GetPSTNConnection(ctx, ref.OrgID, loc.ID)
	if webex.IsNotFound(err) {
		// A location Webex Calling does not know, or one without a PSTN
		// connection yet (every new customer's): the calling details tell.
		if _, cerr := api.GetCallingLocation(ctx, ref.OrgID, loc.ID); webex.IsNotFound(cerr) {
			return loc, fmt.Sprintf("numbers cannot be added at location %s: it is not enabled for Webex Calling", loc.Name), nil
		} else if cerr != nil {
			return nil, "", cerr
		}
		return loc, fmt.Sprintf("numbers cannot be added at location %s: it has no PSTN connection yet (see the options with `pstn %s location=%s`, then set one up with `pstn %s location=%s connection=\"…\"`)",
			loc.Name, ref.ExternalID, loc.Name, ref.ExternalID, loc.Name), nil
	}
	if err != nil {
		return nil, "", err
	}
	if !pstn.NumbersAllowed() {
		return loc, fmt.Sprintf("numbers cannot be added at location %s: its PSTN connection is %s (numbers come from the provider)",
			loc.Name, pstn.PSTNConnectionType), nil
	}
	return loc, "", nil
}

// CheckNumbersAllowed is the early check a handler makes when `numbers …
// add=` is submitted: refusal says why numbers cannot be added at the
// location (integrated PSTN, Cisco Calling Plan, unknown location); err is
// a system fault, ErrCustomerNotReady while the customer is provisioning
// (the worker checks again at commit).
func CheckNumbersAllowed(ctx context.Context, api SetupAPI, ref request.CustomerRef, location string) (refusal string, err error) {
	_, refusal, err = numbersLocation(ctx, api, ref, location)
	if err != nil {
		return "", fmt.Errorf("check numbers at %s: %w", location, translate(err))
	}
	return refusal, nil
}

// ListAvailableNumbers lists the numbers nobody has at the customer's
// location (all locations when location is ""), for `numbers CUSTOMER`.
func ListAvailableNumbers(ctx context.Context, api SetupAPI, ref request.CustomerRef, location string) ([]webex.Number, error) {
	if ref.OrgID == "" {
		return nil, ErrCustomerNotReady
	}
	q := webex.NumberQuery{OrgID: ref.OrgID, Available: true}
	if location != "" {
		locs, err := api.ListLocations(ctx, ref.OrgID)
		if err != nil {
			return nil, fmt.Errorf("list numbers: %w", translate(err))
		}
		loc := findLocation(locs, location)
		if loc == nil {
			return nil, fmt.Errorf("location %s does not exist at customer %s: %w", location, ref.ExternalID, request.ErrNotFound)
		}
		q.LocationID = loc.ID
	}
	nums, err := api.ListNumbers(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list numbers: %w", translate(err))
	}
	return nums, nil
}
