package sandbox

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxLocationName is Webex Calling's limit on a calling location's name.
const maxLocationName = 80

// maxGeneralLocationName is the limit of a location that is not (yet) a calling location.
const maxGeneralLocationName = 256

type locAddress struct {
	Address1   string `json:"address1"`
	Address2   string `json:"address2,omitempty"`
	City       string `json:"city"`
	State      string `json:"state"`
	PostalCode string `json:"postalCode"`
	Country    string `json:"country"`
}

type location struct {
	seq                  int
	id, orgID            string
	name                 string
	timeZone             string
	preferredLanguage    string
	announcementLanguage string
	address              locAddress
	calling              bool
	elin                 string // emergency location identifier (pAccessNetworkInfo)
	pstn                 string // PSTN connection type; "" = none yet
	routeType, routeID   string // premises route of a LOCAL_GATEWAY connection
	mainNumber           string
}

type locationOut struct {
	ID                   string     `json:"id"`
	Name                 string     `json:"name"`
	OrgID                string     `json:"orgId"`
	TimeZone             string     `json:"timeZone"`
	PreferredLanguage    string     `json:"preferredLanguage"`
	AnnouncementLanguage string     `json:"announcementLanguage,omitempty"`
	Address              locAddress `json:"address"`
}

func (l *location) out() locationOut {
	return locationOut{ID: l.id, Name: l.name, OrgID: l.orgID, TimeZone: l.timeZone,
		PreferredLanguage: l.preferredLanguage, AnnouncementLanguage: l.announcementLanguage, Address: l.address}
}

// locationRequest is POST /locations (PostCommonLocationObject) and, with id, POST
// /telephony/config/locations (PostLocationCallingRequest).
type locationRequest struct {
	ID                   string      `json:"id"`
	Name                 string      `json:"name"`
	TimeZone             string      `json:"timeZone"`
	PreferredLanguage    string      `json:"preferredLanguage"`
	AnnouncementLanguage string      `json:"announcementLanguage"`
	Address              *locAddress `json:"address"`
	Latitude             string      `json:"latitude"`
	Longitude            string      `json:"longitude"`
	Notes                string      `json:"notes"`
}

func (p *problems) locationRequest(req *locationRequest, maxName int) {
	switch n := len([]rune(req.Name)); {
	case strings.TrimSpace(req.Name) == "":
		p.add("name is required")
	case n > maxName:
		p.add("name is %d characters long; at most %d are allowed", n, maxName)
	}
	p.timezone("timeZone", req.TimeZone)
	p.language("preferredLanguage", req.PreferredLanguage, locationLanguage, "de_de", true)
	p.language("announcementLanguage", req.AnnouncementLanguage, locationLanguage, "de_de", true)
	a := req.Address
	if a == nil {
		p.add("address is required")
		return
	}
	for _, f := range []struct{ name, v string }{{"address1", a.Address1}, {"city", a.City}, {"state", a.State}, {"postalCode", a.PostalCode}} {
		if strings.TrimSpace(f.v) == "" {
			p.add("address.%s is required", f.name)
		}
	}
	p.country("address.country", a.Country)
}

// org answers 404 unless orgId names the org of a provisioned customer. Without orgId the
// real API acts on the partner's own org; the sandbox refuses, since for this bot that is
// always a bug (the location would land in the partner's org).
func (s *Sandbox) org(c *call) (string, *response) {
	org := c.r.URL.Query().Get("orgId")
	if org == "" {
		return "", c.fail(http.StatusBadRequest, "orgId is required: the sandbox does not act on the partner's own organization.")
	}
	for _, cu := range s.customers {
		if cu.orgID == org && cu.orgLive {
			return org, nil
		}
	}
	return "", c.fail(http.StatusNotFound, "Organization not found.")
}

func (s *Sandbox) location(c *call, org string) (*location, *response) {
	l := s.locations[c.params["locationId"]]
	if l == nil || (org != "" && l.orgID != org) {
		return nil, c.fail(http.StatusNotFound, "Location not found.")
	}
	return l, nil
}

func (s *Sandbox) hqLocation(org string) *location {
	var hq *location
	for _, l := range s.locations {
		if l.orgID == org && l.calling && (hq == nil || l.seq < hq.seq) {
			hq = l
		}
	}
	return hq
}

// createHQ is the side effect of provisioning a calling package: the customer's calling
// location, enabled for calling, with its numbers.
func (s *Sandbox) createHQ(cu *customer, now time.Time) {
	cl := cu.calling
	a := cl.Address
	if a == nil {
		a = &cu.address
	}
	l := &location{
		id: s.newID("LOCATION"), orgID: cu.orgID, name: cl.Name, timeZone: cl.Timezone,
		preferredLanguage: cl.Language, announcementLanguage: cl.Language, elin: cl.EmergencyLocationIdentifier,
		address: locAddress{Address1: a.AddressLine1, Address2: a.AddressLine2, City: a.City,
			State: a.StateOrProvince, PostalCode: a.ZipOrPostalCode, Country: a.Country},
	}
	l.seq = s.seq
	s.locations[l.id] = l
	s.enable(l)
}

// enable turns calling on. Like Webex, a new calling location has no PSTN connection and
// no numbers: the partner sets a connection up, then adds numbers. The exception is a
// location matching --pstn-integrated: it stands for a customer whose Partner Hub template
// named an integrated Cloud Connected PSTN provider, which connects the location and
// brings its numbers (see numberRanges).
func (s *Sandbox) enable(l *location) {
	l.calling = true
	if s.opts.PSTNIntegrated == nil || !s.opts.PSTNIntegrated.MatchString(l.name) {
		return
	}
	l.pstn = pstnIntegratedCCP
	s.seedProviderNumbers(l)
}

// seedProviderNumbers gives l the next block of its country's provider numbers.
func (s *Sandbox) seedProviderNumbers(l *location) {
	block := s.blocks[l.address.Country]
	s.blocks[l.address.Country]++
	for _, e := range seedNumbers(l.address.Country, block) {
		if s.numbers[e] == nil {
			s.numbers[e] = &number{e164: e, orgID: l.orgID, locationID: l.id, state: "ACTIVE"}
		}
	}
}

// locationCall reads a location request for org ?orgId=. calling says whether it is the
// "enable for calling" form, which names an existing location and Webex Calling's limits.
func (s *Sandbox) locationCall(c *call, calling bool) (string, *locationRequest, *response) {
	org, resp := s.org(c)
	if resp != nil {
		return "", nil, resp
	}
	var req locationRequest
	if resp := c.decode(&req); resp != nil {
		return "", nil, resp
	}
	var bad problems
	switch {
	case calling && req.ID == "":
		bad.add("id is required")
	case !calling && req.ID != "":
		bad.add("id cannot be set on a new location")
	}
	maxName := maxGeneralLocationName
	if calling {
		maxName = maxLocationName
	}
	bad.locationRequest(&req, maxName)
	if len(bad) > 0 {
		return "", nil, c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	return org, &req, nil
}

func (s *Sandbox) createLocation(c *call) *response {
	org, req, resp := s.locationCall(c, false)
	if resp != nil {
		return resp
	}
	for _, l := range s.locations {
		if l.orgID == org && strings.EqualFold(l.name, req.Name) {
			return c.fail(http.StatusConflict, "A location named "+req.Name+" already exists in this organization.")
		}
	}
	l := &location{id: s.newID("LOCATION"), orgID: org, name: req.Name, timeZone: req.TimeZone,
		preferredLanguage: req.PreferredLanguage, announcementLanguage: req.AnnouncementLanguage, address: *req.Address}
	l.seq = s.seq
	s.locations[l.id] = l
	return c.json(http.StatusCreated, l.out())
}

// listLocations is "List Locations". Its spec documents max (default 500) and no offset;
// the sandbox pages with start, as the telephony lists do (assumption), and announces
// further pages by Link header, so that a client reading only the first page misses
// locations.
func (s *Sandbox) listLocations(c *call) *response {
	q := c.r.URL.Query()
	var bad problems
	start, max := paging(&bad, q.Get("start"), q.Get("max"), pageLimit{def: 500, limit: 500})
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	var all []*location
	for _, l := range s.locations {
		// Without orgId the partner's own org is meant, where the sandbox keeps nothing.
		if l.orgID != q.Get("orgId") {
			continue
		}
		// name: "whose name contains this string (case-insensitive)", as the spec says.
		if (q.Get("name") != "" && !strings.Contains(strings.ToLower(l.name), strings.ToLower(q.Get("name")))) ||
			(q.Get("id") != "" && l.id != q.Get("id")) {
			continue
		}
		all = append(all, l)
	}
	slices.SortFunc(all, func(a, b *location) int { return a.seq - b.seq })
	return listAnswer(s, c, "items", all, "start", start, max, (*location).out)
}

func (s *Sandbox) getLocation(c *call) *response {
	l, resp := s.location(c, c.r.URL.Query().Get("orgId"))
	if resp != nil {
		return resp
	}
	return c.json(http.StatusOK, l.out())
}

// enableCalling is "Enable a Location for Webex Calling": the location must exist in the
// org; its name must fit Webex Calling's 80 characters.
func (s *Sandbox) enableCalling(c *call) *response {
	org, req, resp := s.locationCall(c, true)
	if resp != nil {
		return resp
	}
	l := s.locations[req.ID]
	if l == nil || l.orgID != org {
		return c.fail(http.StatusNotFound, "Location not found.")
	}
	if l.calling {
		return c.fail(http.StatusConflict, "The location is already enabled for Webex Calling.")
	}
	l.name, l.timeZone, l.address = req.Name, req.TimeZone, *req.Address
	l.preferredLanguage, l.announcementLanguage = req.PreferredLanguage, req.AnnouncementLanguage
	s.enable(l)
	return c.json(http.StatusCreated, map[string]string{"id": l.id})
}

func (s *Sandbox) callingLocation(c *call) (*location, *response) {
	l, resp := s.location(c, c.r.URL.Query().Get("orgId"))
	if resp != nil {
		return nil, resp
	}
	if !l.calling {
		return nil, c.fail(http.StatusNotFound, "The location is not enabled for Webex Calling.")
	}
	return l, nil
}

type callingLineID struct {
	Name        string `json:"name"`
	PhoneNumber string `json:"phoneNumber"`
}

type connection struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// unroutedTrunk stands in the calling details of a location without a premises route: the
// spec's schema requires connection although its description says it is returned only for
// TRUNK and ROUTE_GROUP connections.
const unroutedTrunk = "sandbox-unrouted"

type callingLocationOut struct {
	ID                   string        `json:"id"`
	Name                 string        `json:"name"`
	AnnouncementLanguage string        `json:"announcementLanguage"`
	CallingLineID        callingLineID `json:"callingLineId"`
	Connection           connection    `json:"connection"`
	ExternalCallerIDName string        `json:"externalCallerIdName"`
	UserLimit            float64       `json:"userLimit"`
	PAccessNetworkInfo   string        `json:"pAccessNetworkInfo,omitempty"`
	OutsideDialDigit     string        `json:"outsideDialDigit"`
	RoutingPrefix        string        `json:"routingPrefix"`
	DefaultDomain        string        `json:"defaultDomain"`
}

func (s *Sandbox) getCallingLocation(c *call) *response {
	l, resp := s.callingLocation(c)
	if resp != nil {
		return resp
	}
	var o callingLocationOut
	o.ID, o.Name, o.AnnouncementLanguage = l.id, l.name, l.announcementLanguage
	o.CallingLineID.Name, o.CallingLineID.PhoneNumber = l.name, l.mainNumber
	o.Connection.Type, o.Connection.ID = "TRUNK", unroutedTrunk
	if l.pstn == pstnLocalGateway {
		o.Connection.Type, o.Connection.ID = l.routeType, l.routeID
	}
	o.ExternalCallerIDName, o.UserLimit, o.DefaultDomain = l.name, 500000, "calling.sandbox.invalid"
	o.PAccessNetworkInfo = l.elin
	return c.json(http.StatusOK, o)
}

type callingLocationUpdate struct {
	AnnouncementLanguage    string         `json:"announcementLanguage"`
	CallingLineID           *callingLineID `json:"callingLineId"`
	Connection              *connection    `json:"connection"`
	ExternalCallerIDName    string         `json:"externalCallerIdName"`
	PAccessNetworkInfo      string         `json:"pAccessNetworkInfo"`
	OutsideDialDigit        string         `json:"outsideDialDigit"`
	EnforceOutsideDialDigit *bool          `json:"enforceOutsideDialDigit"`
	RoutingPrefix           string         `json:"routingPrefix"`
	ChargeNumber            string         `json:"chargeNumber"`
}

// updateCallingLocation sets the main number (callingLineId.phoneNumber), which must be
// one of the location's numbers, and the emergency location identifier
// (pAccessNetworkInfo), which the spec allows only in BE, DE and FR; other settings are
// accepted and not kept.
func (s *Sandbox) updateCallingLocation(c *call) *response {
	l, resp := s.callingLocation(c)
	if resp != nil {
		return resp
	}
	var req callingLocationUpdate
	if resp := c.decode(&req); resp != nil {
		return resp
	}
	var bad problems
	bad.language("announcementLanguage", req.AnnouncementLanguage, locationLanguage, "de_de", false)
	if req.Connection != nil && req.Connection.Type != "ROUTE_GROUP" && req.Connection.Type != "TRUNK" {
		bad.add("connection.type %q is not ROUTE_GROUP or TRUNK", req.Connection.Type)
	}
	if req.PAccessNetworkInfo != "" && !elinCountries[l.address.Country] {
		bad.add("pAccessNetworkInfo can be set only for locations in BE, DE or FR; location %s is in %s", l.name, l.address.Country)
	}
	var main string
	if req.CallingLineID != nil && req.CallingLineID.PhoneNumber != "" {
		main = req.CallingLineID.PhoneNumber
		if n := s.numbers[main]; n == nil || n.locationID != l.id {
			bad.add("callingLineId.phoneNumber %s is not a number of this location", main)
		}
	}
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	if main != "" {
		l.mainNumber = main
	}
	if req.AnnouncementLanguage != "" {
		l.announcementLanguage = req.AnnouncementLanguage
	}
	if req.PAccessNetworkInfo != "" {
		l.elin = req.PAccessNetworkInfo
	}
	return c.empty(http.StatusNoContent)
}
