package sandbox

import (
	"encoding/base64"
	"net/http"
	"slices"
)

// PSTN connection types (the PSTN spec's PSTNType).
const (
	pstnLocalGateway     = "LOCAL_GATEWAY"
	pstnNonIntegratedCCP = "NON_INTEGRATED_CCP"
	pstnIntegratedCCP    = "INTEGRATED_CCP"
	pstnCisco            = "CISCO_PSTN"
)

// SandboxTrunk is the id of the one trunk every organization of the sandbox has: the
// premiseRouteId of a premises-based (LOCAL_GATEWAY) connection with premiseRouteType
// TRUNK. The sandbox has no route groups.
const SandboxTrunk = "TRUNK-1"

// pstnOption is a PSTN connection the sandbox knows. Only the settable ones are offered by
// connectionOptions; the others exist so that a client that tries to set them is refused
// as Webex refuses it.
type pstnOption struct {
	id, displayName, kind string
	services              []string
	settable              bool
}

func connectionID(name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("ciscospark://us/PSTN_CONNECTION/" + name))
}

var pstnOptions = []pstnOption{
	{connectionID("sandbox-premises"), "Premises-based PSTN", pstnLocalGateway, []string{"GEOGRAPHIC_NUMBERS", "TOLLFREE_NUMBERS"}, true},
	{connectionID("sandbox-ccp"), "Sandbox CCP", pstnNonIntegratedCCP, []string{"GEOGRAPHIC_NUMBERS"}, true},
	{connectionID("sandbox-integrated-ccp"), "Sandbox integrated CCP", pstnIntegratedCCP, []string{"GEOGRAPHIC_NUMBERS"}, false},
	{connectionID("sandbox-cisco-pstn"), "Cisco Calling Plan", pstnCisco, []string{"GEOGRAPHIC_NUMBERS"}, false},
}

func pstnOptionByID(id string) *pstnOption {
	for i := range pstnOptions {
		if pstnOptions[i].id == id {
			return &pstnOptions[i]
		}
	}
	return nil
}

func pstnOptionByKind(kind string) *pstnOption {
	for i := range pstnOptions {
		if pstnOptions[i].kind == kind {
			return &pstnOptions[i]
		}
	}
	return nil
}

// numbersAllowed: numbers may be added only where the partner brings its own PSTN.
func numbersAllowed(kind string) bool {
	return kind == pstnLocalGateway || kind == pstnNonIntegratedCCP
}

type connectionOptionOut struct {
	ID           string   `json:"id"`
	DisplayName  string   `json:"displayName"`
	PSTNServices []string `json:"pstnServices"`
}

// connectionOptions is "Retrieve PSTN Connection Options for a Location": the two options
// the API can set, for any calling location.
func (s *Sandbox) connectionOptions(c *call) *response {
	if _, resp := s.callingLocation(c); resp != nil {
		return resp
	}
	var bad problems
	mobileOnly := false
	for _, v := range c.r.URL.Query()["serviceTypes"] {
		if v != "MOBILE_NUMBERS" {
			bad.add("serviceTypes %q is not MOBILE_NUMBERS", v)
		}
		mobileOnly = true
	}
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	items := []connectionOptionOut{}
	for _, o := range pstnOptions {
		// The sandbox offers no mobile numbers: asked for those, it has no option.
		if o.settable && !mobileOnly {
			items = append(items, connectionOptionOut{ID: o.id, DisplayName: o.displayName, PSTNServices: o.services})
		}
	}
	return c.json(http.StatusOK, map[string]any{"items": items})
}

type pstnConnectionOut struct {
	ID                 string   `json:"id"`
	DisplayName        string   `json:"displayName"`
	PSTNServices       []string `json:"pstnServices"`
	PSTNConnectionType string   `json:"pstnConnectionType"`
	RouteType          string   `json:"routeType,omitempty"`
	RouteID            string   `json:"routeId,omitempty"`
}

// codeNoPSTN is the sandbox's error code for a location without PSTN connection.
const codeNoPSTN = 400502

// getPSTNConnection is "Retrieve PSTN Connection for a Location". Assumption: a location
// without connection answers 404 (the spec's answer schema requires a connection type, so
// Webex cannot answer 200 with none).
func (s *Sandbox) getPSTNConnection(c *call) *response {
	l, resp := s.callingLocation(c)
	if resp != nil {
		return resp
	}
	o := pstnOptionByKind(l.pstn)
	if o == nil {
		return c.failCode(http.StatusNotFound, codeNoPSTN, "The location has no PSTN connection.",
			"Location "+l.name+" has no PSTN connection: set one up with PUT /telephony/pstn/locations/{locationId}/connection.")
	}
	return c.json(http.StatusOK, pstnConnectionOut{ID: o.id, DisplayName: o.displayName, PSTNServices: o.services,
		PSTNConnectionType: o.kind, RouteType: l.routeType, RouteID: l.routeID})
}

// setPSTNRequest is the spec's SetUpPSTNLocationConnectionObject.
type setPSTNRequest struct {
	ID               string `json:"id"`
	PremiseRouteType string `json:"premiseRouteType"`
	PremiseRouteID   string `json:"premiseRouteId"`
}

// setPSTNConnection is "Setup PSTN Connection for a Location": id names one of the
// location's connection options; a premises-based one also needs premiseRouteType and
// premiseRouteId.
func (s *Sandbox) setPSTNConnection(c *call) *response {
	l, resp := s.callingLocation(c)
	if resp != nil {
		return resp
	}
	var req setPSTNRequest
	if resp := c.decode(&req); resp != nil {
		return resp
	}
	o := pstnOptionByID(req.ID)
	var bad problems
	switch {
	case req.ID == "":
		// Assumption: the spec says id is required for non-integrated CCP only; the
		// sandbox requires it for every option, since only the id names the option.
		bad.add("id is required: the id of one of the location's connection options")
	case o == nil:
		bad.add("id %q is not one of the location's connection options", req.ID)
	case !o.settable:
		return c.fail(http.StatusBadRequest, "The PSTN connection cannot be set.",
			"A "+o.kind+" connection cannot be set through the API.")
	case o.kind == pstnLocalGateway:
		bad.premiseRoute(req.PremiseRouteType, req.PremiseRouteID)
	case req.PremiseRouteType != "" || req.PremiseRouteID != "":
		// Assumption: route fields on a cloud connection are a client mistake, not noise.
		bad.add("premiseRouteType and premiseRouteId apply only to a premises-based (LOCAL_GATEWAY) connection")
	}
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	if l.pstn == pstnIntegratedCCP {
		// Assumption: the provider owns an integrated connection; the API cannot replace it.
		return c.fail(http.StatusBadRequest, "The PSTN connection cannot be changed.",
			"Location "+l.name+" has an INTEGRATED_CCP connection set by its provider; it cannot be changed through the API.")
	}
	if l.pstn != "" && l.pstn != o.kind && s.locationHasNumbers(l.id) {
		// Assumption: Webex keeps numbers tied to the connection they came with.
		return c.fail(http.StatusConflict, "The PSTN connection cannot be changed while the location has numbers.",
			"Location "+l.name+" has numbers on its "+l.pstn+" connection: remove them before changing to "+o.kind+".")
	}
	l.pstn, l.routeType, l.routeID = o.kind, "", ""
	if o.kind == pstnLocalGateway {
		l.routeType, l.routeID = req.PremiseRouteType, req.PremiseRouteID
	}
	return c.empty(http.StatusNoContent)
}

// premiseRoute checks the route of a premises-based connection against the sandbox's one
// trunk.
func (p *problems) premiseRoute(kind, id string) {
	switch {
	case kind == "":
		p.add("premiseRouteType is required for a premises-based connection: TRUNK or ROUTE_GROUP")
	case !slices.Contains([]string{"TRUNK", "ROUTE_GROUP"}, kind):
		p.add("premiseRouteType %q is not TRUNK or ROUTE_GROUP", kind)
	}
	switch {
	case id == "":
		p.add("premiseRouteId is required for a premises-based connection")
	case kind == "TRUNK" && id != SandboxTrunk:
		p.add("premiseRouteId %q is not a trunk of this organization (the sandbox's trunk is %s)", id, SandboxTrunk)
	case kind == "ROUTE_GROUP":
		p.add("premiseRouteId %q is not a route group of this organization (the sandbox has none)", id)
	}
}

func (s *Sandbox) locationHasNumbers(locID string) bool {
	for _, n := range s.numbers {
		if n.locationID == locID {
			return true
		}
	}
	return false
}
