package webex

import (
	"context"
	"errors"
	"fmt"
	"net/url"
)

// PSTN connection types (the spec's PSTNType). Numbers may be added to a
// location only on LOCAL_GATEWAY and NON_INTEGRATED_CCP; Cisco Calling Plan
// and integrated CCP bring their own.
const (
	PSTNLocalGateway     = "LOCAL_GATEWAY"
	PSTNNonIntegratedCCP = "NON_INTEGRATED_CCP"
	PSTNIntegratedCCP    = "INTEGRATED_CCP"
	PSTNCisco            = "CISCO_PSTN"
)

// Premises route types of a LOCAL_GATEWAY connection (the spec's PremiseRouteType).
const (
	PremiseRouteTrunk      = "TRUNK"
	PremiseRouteRouteGroup = "ROUTE_GROUP"
)

// PSTNConnection is a location's PSTN connection.
type PSTNConnection struct {
	ID                 string   `json:"id"`
	DisplayName        string   `json:"displayName,omitempty"`
	PSTNServices       []string `json:"pstnServices,omitempty"`
	PSTNConnectionType string   `json:"pstnConnectionType"`
	RouteType          string   `json:"routeType,omitempty"`
	RouteID            string   `json:"routeId,omitempty"`
}

// NumbersAllowed reports whether numbers may be added to a location on this
// connection (only where the partner brings its own PSTN).
func (p *PSTNConnection) NumbersAllowed() bool {
	return p.PSTNConnectionType == PSTNLocalGateway || p.PSTNConnectionType == PSTNNonIntegratedCCP
}

// PSTNConnectionOption is one PSTN connection a location can be given
// ("Retrieve PSTN Connection Options for a Location"). Its ID is what
// SetPSTNConnection takes. The option does not say its connection type;
// Webex's premises-based option is displayed as "Premises-based PSTN".
type PSTNConnectionOption struct {
	ID           string   `json:"id"`
	DisplayName  string   `json:"displayName,omitempty"`
	PSTNServices []string `json:"pstnServices,omitempty"`
}

// PSTNConnectionSetup is the body of "Setup PSTN Connection for a Location"
// (the spec's SetUpPSTNLocationConnectionObject): ID is the chosen option's
// id; a premises-based (LOCAL_GATEWAY) option also needs PremiseRouteType
// (PremiseRouteTrunk or PremiseRouteRouteGroup) and PremiseRouteID (the
// trunk's or route group's id). INTEGRATED_CCP and CISCO_PSTN connections
// cannot be set through the API.
type PSTNConnectionSetup struct {
	ID               string `json:"id"`
	PremiseRouteType string `json:"premiseRouteType,omitempty"`
	PremiseRouteID   string `json:"premiseRouteId,omitempty"`
}

// check reports what is wrong with s before it is sent.
func (s PSTNConnectionSetup) check() error {
	var errs []error
	if s.ID == "" {
		errs = append(errs, errors.New("id is required: the id of one of the location's connection options"))
	}
	if s.PremiseRouteType != "" && s.PremiseRouteType != PremiseRouteTrunk && s.PremiseRouteType != PremiseRouteRouteGroup {
		errs = append(errs, fmt.Errorf("premiseRouteType %q is not %s or %s", s.PremiseRouteType, PremiseRouteTrunk, PremiseRouteRouteGroup))
	}
	if (s.PremiseRouteType == "") != (s.PremiseRouteID == "") {
		errs = append(errs, errors.New("premiseRouteType and premiseRouteId go together: give both for a premises-based connection, neither otherwise"))
	}
	return errors.Join(errs...)
}

// ListPSTNConnectionOptions returns the PSTN connections a calling location
// can be given.
func (cl *Client) ListPSTNConnectionOptions(ctx context.Context, orgID, locationID string) ([]PSTNConnectionOption, error) {
	return listItems[PSTNConnectionOption](ctx, cl, call{
		op:    fmt.Sprintf("list PSTN connection options of location %q", locationID),
		route: routeListPSTNConnectionOptions, params: []string{locationID}, query: url.Values{"orgId": {orgID}},
	}, pager{})
}

// SetPSTNConnection sets up (or changes) a location's PSTN connection.
func (cl *Client) SetPSTNConnection(ctx context.Context, orgID, locationID string, setup PSTNConnectionSetup) error {
	op := fmt.Sprintf("set PSTN connection of location %q", locationID)
	if err := setup.check(); err != nil {
		return &APIError{Op: op, Message: err.Error()}
	}
	_, err := cl.do(ctx, call{op: op, route: routeSetPSTNConnection, params: []string{locationID}, query: url.Values{"orgId": {orgID}}, body: setup})
	return err
}

// GetPSTNConnection reads a location's PSTN connection. A calling location
// without one answers 404 (as the sandbox does; Webex's answer schema has
// no way to say "none"), as does an unknown location: a caller that knows
// the location exists reads IsNotFound as "no PSTN connection yet".
func (cl *Client) GetPSTNConnection(ctx context.Context, orgID, locationID string) (*PSTNConnection, error) {
	p, _, err := fetch[PSTNConnection](ctx, cl, call{op: fmt.Sprintf("get PSTN connection of location %q", locationID), route: routeGetPSTNConnection, params: []string{locationID}, query: url.Values{"orgId": {orgID}}})
	return p, err
}
