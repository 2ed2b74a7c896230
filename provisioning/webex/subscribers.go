package webex

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Subscriber statuses (the spec's Subscriber.status).
const (
	SubscriberProvisioned          = "provisioned"
	SubscriberPendingUserMigration = "pending_user_migration"
)

// maxSubscriberPage is the largest page "List Wholesale Subscribers" serves.
const maxSubscriberPage = 100

// SubscriberParameters is a subscriber's provisioningParameters. A calling
// package needs PrimaryPhoneNumber or Extension (or both).
type SubscriberParameters struct {
	FirstName          string `json:"firstName,omitempty"`
	LastName           string `json:"lastName,omitempty"`
	PrimaryPhoneNumber string `json:"primaryPhoneNumber,omitempty"` // E.164
	Extension          string `json:"extension,omitempty"`
	LocationID         string `json:"locationId,omitempty"`
}

// PrecheckCustomerInfo is the customerInfo of a subscriber precheck made
// before the customer exists.
type PrecheckCustomerInfo struct {
	PrimaryEmail string `json:"primaryEmail"`
}

// SubscriberRequest is the body of "Provision a Wholesale Subscriber" and of
// its precheck. Packages holds exactly one package (Webex accepts one; the
// single "package" field is deprecated and never sent). ProvisioningID and
// CustomerInfo exist only in the precheck schema; CreateSubscriber drops
// them.
type SubscriberRequest struct {
	CustomerID             string                `json:"customerId,omitempty"` // wholesale customer id, not orgId
	Email                  string                `json:"email"`
	Packages               []string              `json:"packages,omitempty"`
	ProvisioningParameters *SubscriberParameters `json:"provisioningParameters,omitempty"`
	ProvisioningID         string                `json:"provisioningId,omitempty"` // precheck only
	CustomerInfo           *PrecheckCustomerInfo `json:"customerInfo,omitempty"`   // precheck only
}

// subscriberCreateBody is the create schema: provisioningParameters is
// required there.
type subscriberCreateBody struct {
	CustomerID             string               `json:"customerId"`
	Email                  string               `json:"email"`
	Packages               []string             `json:"packages,omitempty"`
	ProvisioningParameters SubscriberParameters `json:"provisioningParameters"`
}

// SubscriberUpdateParameters is provisioningParameters of an update: a
// number or extension is needed when moving from webex_meetings to a
// calling package.
type SubscriberUpdateParameters struct {
	PrimaryPhoneNumber string `json:"primaryPhoneNumber,omitempty"`
	Extension          string `json:"extension,omitempty"`
	LocationID         string `json:"locationId,omitempty"`
}

// SubscriberUpdate is the body of "Update a Wholesale Subscriber".
type SubscriberUpdate struct {
	Packages               []string                    `json:"packages,omitempty"`
	ProvisioningParameters *SubscriberUpdateParameters `json:"provisioningParameters,omitempty"`
}

// Subscriber is a wholesale subscriber as Webex reports it.
type Subscriber struct {
	ID                 string        `json:"id"`
	PersonID           string        `json:"personId,omitempty"`
	Email              string        `json:"email,omitempty"`
	CustomerID         string        `json:"customerId,omitempty"`
	ExternalCustomerID string        `json:"externalCustomerId,omitempty"`
	Package            string        `json:"package,omitempty"` // deprecated by Webex; read Packages
	Packages           []string      `json:"packages,omitempty"`
	Status             string        `json:"status,omitempty"`
	Errors             []ErrorDetail `json:"errors,omitempty"`
	Created            string        `json:"created,omitempty"`
	LastStatusChange   string        `json:"lastStatusChange,omitempty"`
}

// SubscriberQuery filters ListSubscribers; empty fields do not filter.
type SubscriberQuery struct {
	CustomerID string
	Email      string
	Status     string
}

// PrecheckSubscriber asks Webex whether req would provision.
func (cl *Client) PrecheckSubscriber(ctx context.Context, req SubscriberRequest) (*Precheck, error) {
	p, _, err := fetch[Precheck](ctx, cl, call{op: fmt.Sprintf("precheck subscriber %q", req.Email), route: routePrecheckSubscriber, subPartner: true, body: req})
	return p, err
}

// CreateSubscriber provisions a subscriber. 200 means done; 202 means the
// email belongs to a free Webex account whose owner must consent first
// (status pending_user_migration). An answer with an errors array, or with a
// status Webex does not document, is a *FailedError: not done, whatever its
// HTTP status (the subscriber may exist nonetheless: FailedError.ID).
func (cl *Client) CreateSubscriber(ctx context.Context, req SubscriberRequest) (*Subscriber, error) {
	op := fmt.Sprintf("create subscriber %q", req.Email)
	body := subscriberCreateBody{CustomerID: req.CustomerID, Email: req.Email, Packages: req.Packages}
	if req.ProvisioningParameters != nil {
		body.ProvisioningParameters = *req.ProvisioningParameters
	}
	sub, resp, err := fetch[Subscriber](ctx, cl, call{op: op, route: routeCreateSubscriber, subPartner: true, body: body})
	if err != nil {
		return nil, err
	}
	if sub.Status == "" {
		sub.Status = SubscriberProvisioned
		if resp.status == http.StatusAccepted {
			sub.Status = SubscriberPendingUserMigration
		}
	}
	if sub.ID == "" {
		sub.ID = lastSegment(resp.header.Get("Location"))
	}
	return subscriberAnswer(op, sub, resp)
}

// ListSubscribers returns every subscriber matching q, across all pages.
// Webex does not list the customer's administrator. Check each one's
// Failure: a subscriber listed with errors is not provisioned.
func (cl *Client) ListSubscribers(ctx context.Context, q SubscriberQuery) ([]Subscriber, error) {
	query := url.Values{"customerId": {q.CustomerID}, "email": {q.Email}, "status": {q.Status}}
	return listItems[Subscriber](ctx, cl, call{op: "list subscribers", route: routeListSubscribers, query: query, subPartner: true},
		pager{offsetParam: "offset", size: maxSubscriberPage})
}

// GetSubscriber reads one subscriber; one with errors or an undocumented
// status is a *FailedError.
func (cl *Client) GetSubscriber(ctx context.Context, id string) (*Subscriber, error) {
	op := fmt.Sprintf("get subscriber %q", id)
	sub, resp, err := fetch[Subscriber](ctx, cl, call{op: op, route: routeGetSubscriber, params: []string{id}, subPartner: true})
	if err != nil {
		return nil, err
	}
	return subscriberAnswer(op, sub, resp)
}

// UpdateSubscriber changes a subscriber's package (and, when moving to a
// calling package, its number or extension).
// An answer with errors or an undocumented status is a *FailedError.
func (cl *Client) UpdateSubscriber(ctx context.Context, id string, upd SubscriberUpdate) (*Subscriber, error) {
	op := fmt.Sprintf("update subscriber %q", id)
	sub, resp, err := fetch[Subscriber](ctx, cl, call{op: op, route: routeUpdateSubscriber, params: []string{id}, subPartner: true, body: upd})
	if err != nil {
		return nil, err
	}
	if sub.Status == "" {
		sub.Status = SubscriberProvisioned // the update answer may leave it out
	}
	return subscriberAnswer(op, sub, resp)
}

// DeleteSubscriber removes a subscriber.
func (cl *Client) DeleteSubscriber(ctx context.Context, id string) error {
	_, err := cl.do(ctx, call{op: fmt.Sprintf("delete subscriber %q", id), route: routeDeleteSubscriber, params: []string{id}, subPartner: true})
	return err
}

// ResendConsent sends the consent ("user move") email again to a subscriber
// pending migration.
func (cl *Client) ResendConsent(ctx context.Context, subscriberID string) error {
	_, err := cl.do(ctx, call{op: fmt.Sprintf("resend consent email to subscriber %q", subscriberID), route: routeResendConsent, params: []string{subscriberID}, subPartner: true})
	return err
}
