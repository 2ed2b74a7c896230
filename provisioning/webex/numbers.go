package webex

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// Number states for AddNumbers (the spec's NumberStateOptions).
const (
	NumberActive   = "ACTIVE"
	NumberInactive = "INACTIVE"
)

// numberPage is the page size of ListNumbers; Webex's default is 2000.
const numberPage = 1000

// NumberQuery filters ListNumbers. OrgID is the customer's org.
type NumberQuery struct {
	OrgID      string
	LocationID string
	Available  bool // only numbers not assigned to anyone
}

// NumberLocation is the location a number belongs to.
type NumberLocation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// NumberOwner is who a number is assigned to.
type NumberOwner struct {
	ID        string `json:"id,omitempty"`
	Type      string `json:"type,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
}

// Number is one entry of "Get Phone Numbers for an Organization".
type Number struct {
	PhoneNumber            string          `json:"phoneNumber,omitempty"` // E.164; empty for extension-only entries
	Extension              string          `json:"extension,omitempty"`
	RoutingPrefix          string          `json:"routingPrefix,omitempty"`
	ESN                    string          `json:"esn,omitempty"`
	State                  string          `json:"state"`
	PhoneNumberType        string          `json:"phoneNumberType"`
	MainNumber             bool            `json:"mainNumber"`
	IncludedTelephonyTypes string          `json:"includedTelephonyTypes"`
	TollFreeNumber         bool            `json:"tollFreeNumber"`
	IsServiceNumber        bool            `json:"isServiceNumber"`
	Location               *NumberLocation `json:"location,omitempty"`
	Owner                  *NumberOwner    `json:"owner,omitempty"`
}

// NumberValidation is the answer of "Validate phone numbers".
type NumberValidation struct {
	Status  string            `json:"status"` // OK or ERRORS
	Numbers []ValidatedNumber `json:"numbers"`
}

// ValidatedNumber is one number's verdict; State "Available" means usable.
type ValidatedNumber struct {
	Number         string   `json:"number"`
	State          string   `json:"state"`
	TollFreeNumber bool     `json:"tollFreeNumber"`
	Detail         []string `json:"detail,omitempty"`
}

type numbersBody struct {
	PhoneNumbers []string `json:"phoneNumbers"`
	State        string   `json:"state,omitempty"`
}

type numbersActionBody struct {
	PhoneNumbers []string `json:"phoneNumbers"`
	Action       string   `json:"action,omitempty"`
}

// ListNumbers returns every number matching q, paging with start/max (or
// the Link header when Webex sends one).
func (cl *Client) ListNumbers(ctx context.Context, q NumberQuery) ([]Number, error) {
	const op = "list numbers"
	query := url.Values{"orgId": {q.OrgID}, "locationId": {q.LocationID}}
	if q.Available {
		query.Set("available", strconv.FormatBool(true))
	}
	var out []Number
	err := cl.listAll(ctx, call{op: op, route: routeListNumbers, query: query},
		pager{offsetParam: "start", size: numberPage},
		func(r *response) (int, error) {
			var page struct {
				PhoneNumbers []Number `json:"phoneNumbers"`
			}
			if err := decode(op, r, &page); err != nil {
				return 0, err
			}
			out = append(out, page.PhoneNumbers...)
			return len(page.PhoneNumbers), nil
		})
	return out, err
}

// AddNumbers adds E.164 numbers to a location in state (NumberActive or
// NumberInactive; "" lets Webex choose). Only for locations whose PSTN
// connection allows it (PSTNConnection.NumbersAllowed).
func (cl *Client) AddNumbers(ctx context.Context, orgID, locationID string, numbers []string, state string) error {
	_, err := cl.do(ctx, call{
		op:    fmt.Sprintf("add %d numbers to location %q", len(numbers), locationID),
		route: routeAddNumbers, params: []string{locationID}, query: url.Values{"orgId": {orgID}},
		body: numbersBody{PhoneNumbers: numbers, State: state},
	})
	return err
}

// ActivateNumbers activates numbers already added to a location.
func (cl *Client) ActivateNumbers(ctx context.Context, orgID, locationID string, numbers []string) error {
	_, err := cl.do(ctx, call{
		op:    fmt.Sprintf("activate %d numbers in location %q", len(numbers), locationID),
		route: routeActivateNumbers, params: []string{locationID}, query: url.Values{"orgId": {orgID}},
		body: numbersActionBody{PhoneNumbers: numbers, Action: "ACTIVATE"},
	})
	return err
}

// ValidateNumbers asks whether numbers can be added to the org.
func (cl *Client) ValidateNumbers(ctx context.Context, orgID string, numbers []string) (*NumberValidation, error) {
	v, _, err := fetch[NumberValidation](ctx, cl, call{op: fmt.Sprintf("validate %d numbers", len(numbers)), route: routeValidateNumbers, query: url.Values{"orgId": {orgID}}, body: numbersBody{PhoneNumbers: numbers}})
	return v, err
}
