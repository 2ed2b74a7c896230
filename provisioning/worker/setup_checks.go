package worker

import (
	"context"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// What the corrections and a new location are checked for before approval
// (and again at commit): a correction that would change nothing, or could
// not work, is refused naming why, instead of ending ✅ with nothing done.
// Each returns a refusal ("" when fine), ErrCustomerNotReady while the
// customer has no Webex ids, or a failed Webex call.

// CheckChange checks a package change against the user Webex has: the user
// must exist and not have the package already; a move from webex_meetings
// to a calling package needs a number or an extension, and a move between
// calling packages may not have one (Webex keeps the user's number).
func CheckChange(ctx context.Context, api SetupAPI, spec *request.ChangeSpec) (string, error) {
	if spec.Customer.CustomerID == "" {
		return "", ErrCustomerNotReady
	}
	sub, err := findUser(ctx, api, spec.Customer.CustomerID, spec.Email)
	if err != nil {
		return "", err
	}
	return changeRefusal(spec, sub), nil
}

// changeRefusal is CheckChange's rule for the user Webex has (nil: none).
func changeRefusal(spec *request.ChangeSpec, sub *webex.Subscriber) string {
	if sub == nil {
		return fmt.Sprintf("%s is not a user of %s", spec.Email, spec.Customer.ExternalID)
	}
	now := subscriberPackage(sub)
	switch {
	case now == spec.Package:
		return fmt.Sprintf("%s already has %s: nothing would change", spec.Email, spec.Package)
	case !request.CallingSubscriberPackage(spec.Package):
		return ""
	case !request.CallingSubscriberPackage(now) && !spec.Number():
		return fmt.Sprintf("%s has %s: a move to %s needs phone=+…|auto or extension=N (Webex takes a number with the change)", spec.Email, now, spec.Package)
	case request.CallingSubscriberPackage(now) && spec.Number():
		return fmt.Sprintf("%s has %s, a calling package: Webex keeps the user's number on a move to %s; leave phone= and extension= out", spec.Email, now, spec.Package)
	}
	return ""
}

// CheckRemove checks that the user to remove is a user of the customer.
func CheckRemove(ctx context.Context, api SetupAPI, spec *request.RemoveSpec) (string, error) {
	if spec.Customer.CustomerID == "" {
		return "", ErrCustomerNotReady
	}
	sub, err := findUser(ctx, api, spec.Customer.CustomerID, spec.Email)
	if err != nil || sub != nil {
		return "", err
	}
	return fmt.Sprintf("%s is not a user of %s: nothing to remove", spec.Email, spec.Customer.ExternalID), nil
}

// CheckLocation checks that the customer has no location of that name yet.
func CheckLocation(ctx context.Context, api SetupAPI, spec *request.LocationSpec) (string, error) {
	if spec.Customer.OrgID == "" {
		return "", ErrCustomerNotReady
	}
	locs, err := api.ListLocations(ctx, spec.Customer.OrgID)
	if err != nil {
		return "", translate(err)
	}
	if loc := exactLocation(locs, spec.Name); loc != nil {
		return fmt.Sprintf("a location named %s already exists at %s", loc.Name, spec.Customer.ExternalID), nil
	}
	return "", nil
}

// findUser is the customer's user with email, nil when there is none.
func findUser(ctx context.Context, api SetupAPI, customerID, email string) (*webex.Subscriber, error) {
	subs, err := api.ListSubscribers(ctx, webex.SubscriberQuery{CustomerID: customerID, Email: email})
	if err != nil {
		return nil, translate(err)
	}
	for i := range subs {
		if strings.EqualFold(subs[i].Email, email) {
			return &subs[i], nil
		}
	}
	return nil, nil
}

// subscriberPackage is the one package a subscriber has.
func subscriberPackage(sub *webex.Subscriber) string {
	if len(sub.Packages) > 0 {
		return sub.Packages[0]
	}
	return sub.Package
}

// exactLocation finds a location by name, ignoring case, without
// findLocation's stand-in for HQ.
func exactLocation(locs []webex.Location, name string) *webex.Location {
	for i := range locs {
		if strings.EqualFold(locs[i].Name, name) {
			return &locs[i]
		}
	}
	return nil
}
