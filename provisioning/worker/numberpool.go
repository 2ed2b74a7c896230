package worker

import (
	"context"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// numberPool hands out the available numbers of a customer's locations for
// phone=auto, in Webex's order, one list per location, never the same
// number twice and never one the batch gives a row explicitly. It reserves
// nothing at Webex: the precheck uses it to tell each row the number it
// would get, the commit to give it.
type numberPool struct {
	api   SetupAPI
	orgID string
	used  map[string]bool
	pools map[string][]string // location id → numbers not handed out yet
}

func newNumberPool(api SetupAPI, orgID string, used map[string]bool) *numberPool {
	if used == nil {
		used = map[string]bool{}
	}
	return &numberPool{api: api, orgID: orgID, used: used, pools: map[string][]string{}}
}

// next is the next available number at location locationID; "" when it has
// none left.
func (p *numberPool) next(ctx context.Context, locationID string) (string, error) {
	pool, listed := p.pools[locationID]
	if !listed {
		nums, err := p.api.ListNumbers(ctx, webex.NumberQuery{OrgID: p.orgID, LocationID: locationID, Available: true})
		if err != nil {
			return "", err
		}
		for _, n := range nums {
			if n.PhoneNumber != "" && !n.TollFreeNumber {
				pool = append(pool, n.PhoneNumber)
			}
		}
	}
	phone := ""
	for len(pool) > 0 && phone == "" {
		if !p.used[pool[0]] {
			phone = pool[0]
			p.used[phone] = true
		}
		pool = pool[1:]
	}
	p.pools[locationID] = pool
	return phone, nil
}

// noNumberLeft is the refusal of a phone=auto row at a location without an
// available number, with the command that fixes it.
func noNumberLeft(ref request.CustomerRef, location string) string {
	return "no available number left at location " + location + " for phone=auto (add a block with `numbers " +
		ref.ExternalID + " add=FROM-TO location=" + location + "`, once the location has a PSTN connection: `pstn " +
		ref.ExternalID + " location=" + location + "`)"
}
