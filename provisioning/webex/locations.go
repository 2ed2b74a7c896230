package webex

import (
	"context"
	"fmt"
	"net/url"
)

// LocationAddress is the address of the Locations and calling APIs. Unlike
// the wholesale Address, State and PostalCode are required here.
type LocationAddress struct {
	Address1   string `json:"address1"`
	Address2   string `json:"address2,omitempty"`
	City       string `json:"city"`
	State      string `json:"state"`
	PostalCode string `json:"postalCode"`
	Country    string `json:"country"` // ISO 3166 alpha-2
}

// LocationRequest is the body of "Create a Location". Name is at most 80
// characters for a location that will be enabled for calling.
type LocationRequest struct {
	Name                 string          `json:"name"`
	TimeZone             string          `json:"timeZone"`
	PreferredLanguage    string          `json:"preferredLanguage"`    // email language, "de_de"
	AnnouncementLanguage string          `json:"announcementLanguage"` // phone announcements, "de_de"
	Address              LocationAddress `json:"address"`
	Latitude             string          `json:"latitude,omitempty"`
	Longitude            string          `json:"longitude,omitempty"`
	Notes                string          `json:"notes,omitempty"`
}

// Location is a location as listed. The reference spec's schema has only id
// and name; Webex also returns the other fields, which are read when present.
type Location struct {
	ID                string           `json:"id"`
	Name              string           `json:"name"`
	OrgID             string           `json:"orgId,omitempty"`
	TimeZone          string           `json:"timeZone,omitempty"`
	PreferredLanguage string           `json:"preferredLanguage,omitempty"`
	Address           *LocationAddress `json:"address,omitempty"`
}

// CallingLocationRequest is the body of "Enable a Location for Webex
// Calling": the id of a location made with CreateLocation and its details.
type CallingLocationRequest struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	TimeZone             string          `json:"timeZone"`
	PreferredLanguage    string          `json:"preferredLanguage"`
	AnnouncementLanguage string          `json:"announcementLanguage"`
	Address              LocationAddress `json:"address"`
}

// CallingLineID is a calling location's caller id: PhoneNumber is the
// location's main number (E.164).
type CallingLineID struct {
	Name        string `json:"name,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

// RouteConnection is a calling location's premises PSTN route.
type RouteConnection struct {
	Type string `json:"type"` // TRUNK or ROUTE_GROUP
	ID   string `json:"id"`
}

// CallingLocationDetails is "Get Location Webex Calling Details": a location
// that answers it is enabled for calling.
type CallingLocationDetails struct {
	ID                   string           `json:"id"`
	Name                 string           `json:"name"`
	AnnouncementLanguage string           `json:"announcementLanguage,omitempty"`
	CallingLineID        CallingLineID    `json:"callingLineId"`
	Connection           *RouteConnection `json:"connection,omitempty"`
	SubscriptionID       string           `json:"subscriptionId,omitempty"`
	ExternalCallerIDName string           `json:"externalCallerIdName,omitempty"`
	UserLimit            int              `json:"userLimit,omitempty"`
	PAccessNetworkInfo   string           `json:"pAccessNetworkInfo,omitempty"` // emergency location identifier
	OutsideDialDigit     string           `json:"outsideDialDigit,omitempty"`
	RoutingPrefix        string           `json:"routingPrefix,omitempty"`
	DefaultDomain        string           `json:"defaultDomain,omitempty"`
}

// CallingLocationUpdate is the body of "Update Location Webex Calling
// Details", reduced to what onboardbot sets: the main number and the
// emergency location identifier (pAccessNetworkInfo; Webex takes it only for
// locations in BE, DE and FR).
type CallingLocationUpdate struct {
	AnnouncementLanguage string         `json:"announcementLanguage,omitempty"`
	CallingLineID        *CallingLineID `json:"callingLineId,omitempty"`
	PAccessNetworkInfo   string         `json:"pAccessNetworkInfo,omitempty"`
}

type idBody struct {
	ID string `json:"id"`
}

// CreateLocation creates a location in the customer's org and returns its id.
func (cl *Client) CreateLocation(ctx context.Context, orgID string, req LocationRequest) (string, error) {
	op := fmt.Sprintf("create location %q", req.Name)
	body, resp, err := fetch[idBody](ctx, cl, call{op: op, route: routeCreateLocation, query: url.Values{"orgId": {orgID}}, body: req})
	if err != nil {
		return "", err
	}
	if body.ID == "" {
		body.ID = lastSegment(resp.header.Get("Location"))
	}
	if body.ID == "" {
		return "", &APIError{Op: op, Status: resp.status, Message: "created, but Webex named no location id", TrackingID: trackingIDFromHeader(resp.header)}
	}
	return body.ID, nil
}

// ListLocations returns every location of the org (pages by Link header).
func (cl *Client) ListLocations(ctx context.Context, orgID string) ([]Location, error) {
	return listItems[Location](ctx, cl, call{op: "list locations", route: routeListLocations, query: url.Values{"orgId": {orgID}}}, pager{})
}

// GetLocation reads one location.
func (cl *Client) GetLocation(ctx context.Context, orgID, locationID string) (*Location, error) {
	l, _, err := fetch[Location](ctx, cl, call{op: fmt.Sprintf("get location %q", locationID), route: routeGetLocation, params: []string{locationID}, query: url.Values{"orgId": {orgID}}})
	return l, err
}

// EnableCallingLocation adds an existing location to Webex Calling.
func (cl *Client) EnableCallingLocation(ctx context.Context, orgID string, req CallingLocationRequest) error {
	_, err := cl.do(ctx, call{op: fmt.Sprintf("enable calling for location %q", req.Name), route: routeEnableCallingLocation, query: url.Values{"orgId": {orgID}}, body: req})
	return err
}

// GetCallingLocation reads a location's Webex Calling details; 404 when the
// location is not enabled for calling.
func (cl *Client) GetCallingLocation(ctx context.Context, orgID, locationID string) (*CallingLocationDetails, error) {
	d, _, err := fetch[CallingLocationDetails](ctx, cl, call{op: fmt.Sprintf("get calling location %q", locationID), route: routeGetCallingLocation, params: []string{locationID}, query: url.Values{"orgId": {orgID}}})
	return d, err
}

// UpdateCallingLocation sets a calling location's main number and emergency
// location identifier. Webex answers 200, 204 or 206; 206 concerns only
// routing-prefix jobs, which onboardbot never changes.
func (cl *Client) UpdateCallingLocation(ctx context.Context, orgID, locationID string, upd CallingLocationUpdate) error {
	_, err := cl.do(ctx, call{op: fmt.Sprintf("update calling location %q", locationID), route: routeUpdateCallingLocation, params: []string{locationID}, query: url.Values{"orgId": {orgID}}, body: upd})
	return err
}
