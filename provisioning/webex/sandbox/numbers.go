package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

type number struct {
	e164       string
	orgID      string
	locationID string
	state      string // ACTIVE or INACTIVE
	owner      string // subscriber id, "" = available
}

type numberOut struct {
	PhoneNumber            string `json:"phoneNumber"`
	State                  string `json:"state"`
	PhoneNumberType        string `json:"phoneNumberType"`
	MainNumber             bool   `json:"mainNumber"`
	IncludedTelephonyTypes string `json:"includedTelephonyTypes"`
	TollFreeNumber         bool   `json:"tollFreeNumber"`
	IsServiceNumber        bool   `json:"isServiceNumber"`
	Location               struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"location"`
	Owner *numberOwner `json:"owner,omitempty"`
}

type numberOwner struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
}

func (s *Sandbox) numberOut(n *number) numberOut {
	l := s.locations[n.locationID]
	o := numberOut{PhoneNumber: n.e164, State: n.state, PhoneNumberType: "PRIMARY",
		IncludedTelephonyTypes: "PSTN_NUMBER"}
	if l != nil {
		o.Location.ID, o.Location.Name = l.id, l.name
		o.MainNumber = l.mainNumber == n.e164
	}
	if sub := s.subscribers[n.owner]; sub != nil {
		o.Owner = &numberOwner{ID: sub.personID, Type: "PEOPLE", FirstName: sub.firstName, LastName: sub.lastName}
	}
	return o
}

const maxNumbersPage = 2000

// listNumbers is GET /telephony/config/numbers; available=true lists numbers no one owns.
// Pages with start/max, sorted by number.
func (s *Sandbox) listNumbers(c *call) *response {
	q := c.r.URL.Query()
	var bad problems
	start, max := paging(&bad, q.Get("start"), q.Get("max"), pageLimit{def: maxNumbersPage, limit: maxNumbersPage})
	var available *bool
	if v := q.Get("available"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad.add("available %q is not true or false", v)
		}
		available = &b
	}
	state := q.Get("state")
	if state != "" && state != "ACTIVE" && state != "INACTIVE" {
		bad.add("state %q is not ACTIVE or INACTIVE", state)
	}
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	org := q.Get("orgId") // "" = the partner's own org, where the sandbox keeps no numbers
	if loc := q.Get("locationId"); loc != "" {
		if l := s.locations[loc]; l == nil || l.orgID != org {
			return c.fail(http.StatusNotFound, "Location not found.")
		}
	}
	var all []*number
	for _, n := range s.numbers {
		switch {
		case n.orgID != org,
			q.Get("locationId") != "" && n.locationID != q.Get("locationId"),
			q.Get("phoneNumber") != "" && !strings.Contains(n.e164, q.Get("phoneNumber")),
			state != "" && n.state != state,
			available != nil && *available != (n.owner == ""):
			continue
		}
		all = append(all, n)
	}
	slices.SortFunc(all, func(a, b *number) int { return strings.Compare(a.e164, b.e164) })
	return listAnswer(s, c, "phoneNumbers", all, "start", start, max, s.numberOut)
}

type numbersRequest struct {
	PhoneNumbers    []string `json:"phoneNumbers"`
	NumberType      string   `json:"numberType"`
	NumberUsageType string   `json:"numberUsageType"`
	State           string   `json:"state"`
	SubscriptionID  string   `json:"subscriptionId"`
	CarrierID       string   `json:"carrierId"`
	Action          string   `json:"action"`
}

const maxNumbersPerCall = 1000

// numbersCall finds the calling location of a numbers call and reads the body. Numbers
// can be managed only on a location whose PSTN connection the partner brings
// (LOCAL_GATEWAY or NON_INTEGRATED_CCP): with Cisco Calling Plan or integrated CCP the
// provider manages them, and without a connection there is nothing to route them. bad
// holds the problems of the number list, for the caller to add its own.
func (s *Sandbox) numbersCall(c *call) (l *location, req *numbersRequest, bad problems, resp *response) {
	l, resp = s.location(c, c.r.URL.Query().Get("orgId"))
	if resp != nil {
		return nil, nil, nil, resp
	}
	if !l.calling {
		return nil, nil, nil, c.fail(http.StatusBadRequest, "The location is not enabled for Webex Calling.")
	}
	switch {
	case l.pstn == "":
		return nil, nil, nil, c.failCode(http.StatusBadRequest, codeNoPSTN, "Numbers cannot be managed for this location.",
			"Location "+l.name+" has no PSTN connection: set up a LOCAL_GATEWAY or NON_INTEGRATED_CCP connection first.")
	case !numbersAllowed(l.pstn):
		return nil, nil, nil, c.failCode(http.StatusBadRequest, 400501, "Numbers cannot be managed for this location.",
			"The location's PSTN connection is "+l.pstn+": its provider manages the numbers.")
	}
	req = &numbersRequest{}
	if resp := c.decode(req); resp != nil {
		return nil, nil, nil, resp
	}
	bad.numberList(req.PhoneNumbers)
	return l, req, bad, nil
}

func (p *problems) numberList(nums []string) {
	if len(nums) == 0 {
		p.add("phoneNumbers must list at least one number")
	}
	if len(nums) > maxNumbersPerCall {
		p.add("phoneNumbers lists %d numbers; at most %d are allowed per call", len(nums), maxNumbersPerCall)
	}
	seen := map[string]bool{}
	for _, n := range nums {
		switch {
		case !e164.MatchString(n):
			p.add("phone number %q is not in E.164 format", n)
		case seen[n]:
			p.add("phone number %s is listed twice", n)
		}
		seen[n] = true
	}
}

// addNumbers is POST .../locations/{id}/numbers: new numbers, INACTIVE unless state says
// otherwise, in the location's country.
func (s *Sandbox) addNumbers(c *call) *response {
	l, req, bad, resp := s.numbersCall(c)
	if resp != nil {
		return resp
	}
	if req.Action != "" {
		bad.add("action is not a field of this request")
	}
	if req.State != "" && req.State != "ACTIVE" && req.State != "INACTIVE" {
		bad.add("state %q is not ACTIVE or INACTIVE", req.State)
	}
	if req.NumberType != "" && !slices.Contains([]string{"TOLLFREE", "DID", "MOBILE"}, req.NumberType) {
		bad.add("numberType %q is not TOLLFREE, DID or MOBILE", req.NumberType)
	}
	if req.NumberUsageType != "" && req.NumberUsageType != "NONE" && req.NumberUsageType != "SERVICE" {
		bad.add("numberUsageType %q is not NONE or SERVICE", req.NumberUsageType)
	}
	for _, n := range req.PhoneNumbers {
		if e164.MatchString(n) && !validNumberOf(n, l.address.Country) {
			bad.add("phone number %s is not a valid number of %s, the location's country", n, l.address.Country)
		}
	}
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	var taken []string
	for _, n := range req.PhoneNumbers {
		if s.numbers[n] != nil {
			taken = append(taken, "phone number "+n+" already exists")
		}
	}
	if len(taken) > 0 {
		return c.fail(http.StatusConflict, "Some numbers already exist.", taken...)
	}
	state := req.State
	if state == "" {
		state = "INACTIVE"
	}
	for _, n := range req.PhoneNumbers {
		s.numbers[n] = &number{e164: n, orgID: l.orgID, locationID: l.id, state: state}
	}
	return c.empty(http.StatusCreated)
}

// activateNumbers is PUT .../locations/{id}/numbers (action ACTIVATE, the default, or
// DEACTIVATE) on numbers of this location.
func (s *Sandbox) activateNumbers(c *call) *response {
	l, req, bad, resp := s.numbersCall(c)
	if resp != nil {
		return resp
	}
	if req.State != "" || req.NumberType != "" || req.NumberUsageType != "" || req.SubscriptionID != "" || req.CarrierID != "" {
		bad.add("only phoneNumbers and action may be sent")
	}
	state := "ACTIVE"
	switch req.Action {
	case "", "ACTIVATE":
	case "DEACTIVATE":
		state = "INACTIVE"
	default:
		bad.add("action %q is not ACTIVATE or DEACTIVATE", req.Action)
	}
	for _, n := range req.PhoneNumbers {
		if num := s.numbers[n]; e164.MatchString(n) && (num == nil || num.locationID != l.id) {
			bad.add("phone number %s is not a number of this location", n)
		}
	}
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	for _, n := range req.PhoneNumbers {
		s.numbers[n].state = state
	}
	return c.empty(http.StatusNoContent)
}

type validatedNumber struct {
	Number         string   `json:"number"`
	State          string   `json:"state"`
	TollFreeNumber bool     `json:"tollFreeNumber"`
	Detail         []string `json:"detail"`
}

// validateNumbers says for each number whether it could be added to the org: Available,
// Duplicate (already in this org), Duplicate In List, Invalid, Unavailable (another org).
func (s *Sandbox) validateNumbers(c *call) *response {
	org := c.r.URL.Query().Get("orgId")
	var req struct {
		PhoneNumbers []string `json:"phoneNumbers"`
	}
	if resp := c.decode(&req); resp != nil {
		return resp
	}
	if len(req.PhoneNumbers) == 0 || len(req.PhoneNumbers) > maxNumbersPerCall {
		return c.fail(http.StatusBadRequest, "The request is invalid.", "phoneNumbers must list 1 to 1000 numbers")
	}
	status := "OK"
	out := []validatedNumber{}
	seen := map[string]bool{}
	for _, n := range req.PhoneNumbers {
		v := validatedNumber{Number: n, State: "Available", Detail: []string{}}
		switch existing := s.numbers[n]; {
		case !e164.MatchString(n):
			v.State, v.Detail = "Invalid", []string{"not an E.164 number"}
		case seen[n]:
			v.State = "Duplicate In List"
		case existing != nil && existing.orgID == org:
			v.State = "Duplicate"
		case existing != nil:
			v.State = "Unavailable"
		}
		seen[n] = true
		if v.State != "Available" {
			status = "ERRORS"
		}
		out = append(out, v)
	}
	return c.json(http.StatusOK, map[string]any{"status": status, "numbers": out})
}

// validNumberOf reports whether e164 is a valid number of country by the numbering plans
// of nyaruka/phonenumbers (Google's libphonenumber data).
func validNumberOf(e164, country string) bool {
	p, err := phonenumbers.Parse(e164, country)
	return err == nil && phonenumbers.IsValidNumberForRegion(p, country)
}
