package worker

import (
	"context"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// locationCreating is Result.Status of a location request whose create was
// sent: a location of its name found later is its own.
const locationCreating = "creating"

// commitLocation creates a location and enables it for Webex Calling. Each
// step looks first, so a run interrupted half-way (created, not enabled)
// finishes on the next run without creating twice: the location is found by
// name, and a location that answers the calling details is already enabled.
// A location of that name that this request did not create fails it: it
// would end ✅ with nothing done.
func (w *Worker) commitLocation(ctx context.Context, r *request.Request) error {
	spec, err := setupSpec[request.LocationSpec](ctx, w, r)
	if spec == nil {
		return err
	}
	ref, ok, err := w.resolveCustomer(ctx, r, spec.Customer)
	if !ok {
		return err
	}
	if ref.OrgID == "" {
		return w.fail(ctx, r, r.State, fmt.Sprintf("customer %s has no Webex org id yet", ref.ExternalID), "")
	}
	addr := locationAddress(spec.Address, ref.Country)
	announcement := spec.Announcement
	if announcement == "" {
		announcement = spec.Language
	}
	locs, err := w.Setup.ListLocations(ctx, ref.OrgID)
	if err != nil {
		return w.failSetup(ctx, r, err)
	}
	var id string
	if l := exactLocation(locs, spec.Name); l != nil {
		if r.Result.Status != locationCreating {
			return w.fail(ctx, r, r.State, fmt.Sprintf("a location named %s already exists at %s", l.Name, ref.ExternalID), "")
		}
		id = l.ID
	}
	if id == "" {
		if r, err = w.mark(ctx, r, locationCreating); r == nil || err != nil {
			return err
		}
		w.Events.Progress(ctx, r, "creating location "+spec.Name)
		id, err = w.Setup.CreateLocation(ctx, ref.OrgID, webex.LocationRequest{
			Name: spec.Name, TimeZone: spec.Timezone, PreferredLanguage: spec.Language,
			AnnouncementLanguage: announcement, Address: addr,
		})
		if err != nil {
			return w.failSetup(ctx, r, err)
		}
	}
	if _, err := w.Setup.GetCallingLocation(ctx, ref.OrgID, id); err != nil {
		if !webex.IsNotFound(err) {
			return w.failSetup(ctx, r, err)
		}
		w.Events.Progress(ctx, r, "enabling "+spec.Name+" for Webex Calling")
		if err := w.Setup.EnableCallingLocation(ctx, ref.OrgID, webex.CallingLocationRequest{
			ID: id, Name: spec.Name, TimeZone: spec.Timezone, PreferredLanguage: spec.Language,
			AnnouncementLanguage: announcement, Address: addr,
		}); err != nil {
			return w.failSetup(ctx, r, err)
		}
	}
	if spec.ELIN != "" {
		// Webex takes the emergency location identifier in the calling
		// details only (pAccessNetworkInfo), after calling is enabled.
		if err := w.Setup.UpdateCallingLocation(ctx, ref.OrgID, id, webex.CallingLocationUpdate{PAccessNetworkInfo: spec.ELIN}); err != nil {
			return w.failSetup(ctx, r, err)
		}
	}
	return w.settle(ctx, r, request.StateCommitting, request.StateDone, request.LocationReady, "ready")
}

// locationAddress maps the wholesale address onto the Locations API's, whose
// field names differ; the country defaults to the customer's.
func locationAddress(a request.Address, country string) webex.LocationAddress {
	if a.Country != "" {
		country = a.Country
	}
	return webex.LocationAddress{Address1: a.Line1, Address2: a.Line2, City: a.City, State: a.State, PostalCode: a.Zip, Country: country}
}
