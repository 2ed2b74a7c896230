package webex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Customer statuses (the spec's Customer.status).
const (
	StatusProvisioned           = "provisioned"
	StatusProvisionedWithErrors = "provisioned_with_errors"
	StatusProvisioning          = "provisioning"
	StatusUpdating              = "updating"
	StatusDeleting              = "deleting"
	StatusError                 = "error"
	StatusPendingRPLReview      = "pending_rpl_review"
)

// PrecheckOK is the infoCode of a passed precheck.
const PrecheckOK = 100

// Address is the wholesale address (customers and their calling location).
// Lines are limited to 50 characters by Webex.
type Address struct {
	AddressLine1    string `json:"addressLine1"`
	AddressLine2    string `json:"addressLine2,omitempty"`
	City            string `json:"city"`
	StateOrProvince string `json:"stateOrProvince,omitempty"`
	ZipOrPostalCode string `json:"zipOrPostalCode,omitempty"`
	Country         string `json:"country"` // ISO 3166 alpha-2
}

// CustomerInfo is required for a new org; optional when OrgID attaches an
// existing one. Name may not contain '%'.
type CustomerInfo struct {
	Name         string `json:"name,omitempty"`
	PrimaryEmail string `json:"primaryEmail"`
	Language     string `json:"language,omitempty"` // "de_DE" or "de"; create only
}

// CallingLocation is the HQ location Webex creates with a calling package.
type CallingLocation struct {
	Name                        string  `json:"name"`
	Address                     Address `json:"address"`
	Timezone                    string  `json:"timezone"` // IANA
	Language                    string  `json:"language"` // lower case, "de_de"
	EmergencyLocationIdentifier string  `json:"emergencyLocationIdentifier,omitempty"`
}

// CallingParameters is mandatory when a calling package is provisioned.
type CallingParameters struct {
	Location CallingLocation `json:"location"`
}

// MeetingsParameters configures the meetings package.
type MeetingsParameters struct {
	Timezone string `json:"timezone,omitempty"`
}

// PackageParameters carries the ordered quantity per package.
type PackageParameters struct {
	Limits map[string]int `json:"limits,omitempty"`
}

// ProvisioningParameters is the customer's provisioningParameters.
type ProvisioningParameters struct {
	Calling  *CallingParameters  `json:"calling,omitempty"`
	Meetings *MeetingsParameters `json:"meetings,omitempty"`
	Packages *PackageParameters  `json:"packages,omitempty"`
}

// CustomerRequest is the body of "Provision a Wholesale Customer" and of its
// precheck. Create requires ProvisioningID, Packages, ExternalID and Address;
// the precheck only Address.
type CustomerRequest struct {
	ProvisioningID         string                  `json:"provisioningId,omitempty"`
	Packages               []string                `json:"packages,omitempty"`
	OrgID                  string                  `json:"orgId,omitempty"` // attach an existing org
	ExternalID             string                  `json:"externalId,omitempty"`
	Address                Address                 `json:"address"`
	CustomerInfo           *CustomerInfo           `json:"customerInfo,omitempty"`
	ProvisioningParameters *ProvisioningParameters `json:"provisioningParameters,omitempty"`
	SubPartnerAdminEmail   string                  `json:"subPartnerAdminEmail,omitempty"` // create only
}

// CustomerUpdate is the body of "Update a Wholesale Customer". Packages is
// the complete list: packages left out are removed.
type CustomerUpdate struct {
	ExternalID             string                  `json:"externalId,omitempty"`
	Packages               []string                `json:"packages"`
	Address                *Address                `json:"address,omitempty"`
	ProvisioningParameters *ProvisioningParameters `json:"provisioningParameters,omitempty"`
	SubPartnerAdminEmail   string                  `json:"subPartnerAdminEmail,omitempty"`
}

// PackageStatus is one entry of a customer's resourceDetails.packages.
type PackageStatus struct {
	Name       string        `json:"name"`
	Status     string        `json:"status,omitempty"`
	Warnings   []ErrorDetail `json:"warnings,omitempty"`
	Errors     []ErrorDetail `json:"errors,omitempty"`
	LicenseIDs []string      `json:"licenseIds,omitempty"`
}

// ResourceDetails is a customer's per-package provisioning state.
type ResourceDetails struct {
	Packages []PackageStatus `json:"packages,omitempty"`
}

// Customer is a wholesale customer as Webex reports it. OrgID appears once
// the customer is provisioned; Errors lists asynchronous failures.
type Customer struct {
	ID              string          `json:"id"`
	OrgID           string          `json:"orgId,omitempty"`
	ExternalID      string          `json:"externalId,omitempty"`
	Address         Address         `json:"address"`
	Status          string          `json:"status,omitempty"`
	Packages        []string        `json:"packages,omitempty"`
	ResourceDetails ResourceDetails `json:"resourceDetails"`
	Errors          []ErrorDetail   `json:"errors,omitempty"`
	// TrackingID is that of the answer that carried this state (GetCustomer):
	// what Cisco support asks for about a failed provisioning.
	TrackingID string `json:"-"`
}

// CustomerQuery filters ListCustomers; empty fields do not filter.
type CustomerQuery struct {
	ExternalID string
	OrgID      string
	Status     string
}

// PrecheckInfo is one info entry of a precheck answer.
type PrecheckInfo struct {
	InfoCode    int    `json:"infoCode"`
	Description string `json:"description,omitempty"`
}

// Precheck is a precheck answer (200). A refused precheck is an *APIError.
type Precheck struct {
	Message string         `json:"message,omitempty"`
	Info    []PrecheckInfo `json:"info,omitempty"`
}

// UnmarshalJSON accepts info as an object (the spec's schema) or an array
// of them (the spec's own example, and what Webex sends).
func (p *Precheck) UnmarshalJSON(b []byte) error {
	var raw struct {
		Message string          `json:"message"`
		Info    json.RawMessage `json:"info"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = Precheck{Message: raw.Message}
	info := bytes.TrimSpace(raw.Info)
	switch {
	case len(info) == 0 || bytes.Equal(info, []byte("null")):
	case info[0] == '[':
		if err := json.Unmarshal(info, &p.Info); err != nil {
			return fmt.Errorf("precheck info: %w", err)
		}
	default:
		var one PrecheckInfo
		if err := json.Unmarshal(info, &one); err != nil {
			return fmt.Errorf("precheck info: %w", err)
		}
		p.Info = []PrecheckInfo{one}
	}
	return nil
}

// OK reports whether the precheck passed: infoCode 100, or a bare
// "success" message when Webex sent no info.
func (p *Precheck) OK() bool {
	for _, i := range p.Info {
		if i.InfoCode == PrecheckOK {
			return true
		}
	}
	return len(p.Info) == 0 && strings.EqualFold(p.Message, "success")
}

// customerPrecheckBody is CustomerRequest without the fields the precheck
// schema lacks (customerInfo.language, subPartnerAdminEmail).
type customerPrecheckBody struct {
	ProvisioningID         string                  `json:"provisioningId,omitempty"`
	Packages               []string                `json:"packages,omitempty"`
	OrgID                  string                  `json:"orgId,omitempty"`
	ExternalID             string                  `json:"externalId,omitempty"`
	Address                Address                 `json:"address"`
	CustomerInfo           *precheckCustomerInfo   `json:"customerInfo,omitempty"`
	ProvisioningParameters *ProvisioningParameters `json:"provisioningParameters,omitempty"`
}

type precheckCustomerInfo struct {
	Name         string `json:"name,omitempty"`
	PrimaryEmail string `json:"primaryEmail"`
}

// PrecheckCustomer asks Webex whether req would provision. A refusal comes
// back as an *APIError (400 with Webex's reason).
func (cl *Client) PrecheckCustomer(ctx context.Context, req CustomerRequest) (*Precheck, error) {
	body := customerPrecheckBody{
		ProvisioningID: req.ProvisioningID, Packages: req.Packages, OrgID: req.OrgID,
		ExternalID: req.ExternalID, Address: req.Address, ProvisioningParameters: req.ProvisioningParameters,
	}
	if req.CustomerInfo != nil {
		body.CustomerInfo = &precheckCustomerInfo{Name: req.CustomerInfo.Name, PrimaryEmail: req.CustomerInfo.PrimaryEmail}
	}
	p, _, err := fetch[Precheck](ctx, cl, call{op: "precheck customer", route: routePrecheckCustomer, subPartner: true, body: body})
	return p, err
}

// CreateCustomer provisions a customer (asynchronously: poll GetCustomer)
// and returns its wholesale customer id. When it fails after more than one
// attempt, the customer may exist anyway: look it up by external id.
func (cl *Client) CreateCustomer(ctx context.Context, req CustomerRequest) (string, error) {
	const op = "create customer"
	resp, err := cl.do(ctx, call{op: op, route: routeCreateCustomer, subPartner: true, body: req})
	if err != nil {
		return "", err
	}
	var body struct {
		URL string `json:"url"`
	}
	_ = decode(op, resp, &body) // the Location header may still name it
	for _, u := range []string{resp.header.Get("Location"), body.URL} {
		if id := lastSegment(u); id != "" {
			return id, nil
		}
	}
	return "", &APIError{Op: op, Status: resp.status, Message: "accepted, but Webex named no customer id", TrackingID: trackingIDFromHeader(resp.header)}
}

// lastSegment returns the last path segment of a URL or path, unescaped.
func lastSegment(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	p := strings.TrimRight(u.Path, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// GetCustomer reads one customer. A status Webex does not document is a
// *FailedError; the documented failures (error, provisioned_with_errors) come
// back as the customer, whose Failure method gives Webex's words.
func (cl *Client) GetCustomer(ctx context.Context, id string) (*Customer, error) {
	op := fmt.Sprintf("get customer %q", id)
	c, resp, err := fetch[Customer](ctx, cl, call{op: op, route: routeGetCustomer, params: []string{id}, subPartner: true})
	if err != nil {
		return nil, err
	}
	if c.ID == "" {
		c.ID = id
	}
	c.TrackingID = trackingIDFromHeader(resp.header)
	if err := unlisted(op, "customer", c.ID, c.Status, CustomerStatuses, resp); err != nil {
		return nil, err
	}
	return c, nil
}

// ListCustomers returns every customer matching q, across all pages. Check
// each one's Failure: a list does not fail for one customer's status.
func (cl *Client) ListCustomers(ctx context.Context, q CustomerQuery) ([]Customer, error) {
	query := url.Values{"externalId": {q.ExternalID}, "orgId": {q.OrgID}, "status": {q.Status}}
	return listItems[Customer](ctx, cl, call{op: "list customers", route: routeListCustomers, query: query, subPartner: true},
		pager{offsetParam: "offset", size: 100})
}

// UpdateCustomer changes a customer's packages (the complete list) and
// parameters. Webex applies it asynchronously: poll GetCustomer.
func (cl *Client) UpdateCustomer(ctx context.Context, id string, upd CustomerUpdate) error {
	if upd.Packages == nil {
		return errors.New("update customer: packages is the complete list and may not be nil")
	}
	_, err := cl.do(ctx, call{op: fmt.Sprintf("update customer %q", id), route: routeUpdateCustomer, params: []string{id}, subPartner: true, body: upd})
	return err
}

// DeleteCustomer removes (unlinks) a customer, asynchronously.
func (cl *Client) DeleteCustomer(ctx context.Context, id string) error {
	_, err := cl.do(ctx, call{op: fmt.Sprintf("delete customer %q", id), route: routeDeleteCustomer, params: []string{id}, subPartner: true})
	return err
}
