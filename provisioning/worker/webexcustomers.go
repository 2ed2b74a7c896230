package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// WebexCustomers adapts the Webex HTTP client to CustomerAPI: it turns a
// CustomerSpec into the wire request and Webex errors into *WebexError.
type WebexCustomers struct {
	Client *webex.Client
}

var _ CustomerAPI = (*WebexCustomers)(nil)

// CustomerRequestFor is the exact body sent to Webex for spec.
func CustomerRequestFor(c *request.CustomerSpec) webex.CustomerRequest {
	addr := webex.Address{
		AddressLine1: c.Address.Line1, AddressLine2: c.Address.Line2, City: c.Address.City,
		StateOrProvince: c.Address.State, ZipOrPostalCode: c.Address.Zip, Country: c.Address.Country,
	}
	req := webex.CustomerRequest{
		ProvisioningID: c.ProvisioningID,
		Packages:       c.Packages,
		OrgID:          c.OrgID,
		ExternalID:     c.ExternalID,
		Address:        addr,
		CustomerInfo:   &webex.CustomerInfo{Name: c.Name, PrimaryEmail: c.Email, Language: c.Language},
	}
	params := &webex.ProvisioningParameters{}
	if c.HasCalling() {
		params.Calling = &webex.CallingParameters{Location: webex.CallingLocation{
			Name: c.LocationName, Address: addr, Timezone: c.Timezone,
			Language: c.LocationLanguage(), EmergencyLocationIdentifier: c.ELIN,
		}}
	}
	for _, p := range c.Packages {
		if p == "webex_meetings" || p == "webex_suite" {
			params.Meetings = &webex.MeetingsParameters{Timezone: c.Timezone}
		}
	}
	if len(c.Limits) > 0 {
		params.Packages = &webex.PackageParameters{Limits: c.Limits}
	}
	if params.Calling != nil || params.Meetings != nil || params.Packages != nil {
		req.ProvisioningParameters = params
	}
	return req
}

// PrecheckCustomer runs Webex's precheck. A refusal is a Precheck with
// status failed; an unreachable Webex is an error.
func (w *WebexCustomers) PrecheckCustomer(ctx context.Context, c *request.CustomerSpec) (request.Precheck, error) {
	res, err := w.Client.PrecheckCustomer(ctx, CustomerRequestFor(c))
	if err != nil {
		var ae *webex.APIError
		if errors.As(err, &ae) && !ae.Retryable && ae.Status >= 400 && ae.Status < 500 {
			return request.Precheck{Status: request.PrecheckFailed, Message: apiMessage(ae), TrackingID: ae.TrackingID}, nil
		}
		return request.Precheck{}, translate(err)
	}
	if !res.OK() {
		msg := res.Message
		for _, i := range res.Info {
			if i.Description != "" {
				msg = fmt.Sprintf("%s (info %d)", i.Description, i.InfoCode)
			}
		}
		return request.Precheck{Status: request.PrecheckFailed, Message: msg}, nil
	}
	return request.Precheck{Status: request.PrecheckOK, Message: res.Message}, nil
}

// CreateCustomer sends the create (202) and returns the customer id.
func (w *WebexCustomers) CreateCustomer(ctx context.Context, c *request.CustomerSpec) (string, error) {
	id, err := w.Client.CreateCustomer(ctx, CustomerRequestFor(c))
	return id, translate(err)
}

// GetCustomer reads a customer's status.
func (w *WebexCustomers) GetCustomer(ctx context.Context, id string) (*request.CustomerState, error) {
	c, err := w.Client.GetCustomer(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	return customerState(c), nil
}

// FindCustomer looks a customer up by external id or org id.
func (w *WebexCustomers) FindCustomer(ctx context.Context, externalID, orgID string) (*request.CustomerState, error) {
	list, err := w.Client.ListCustomers(ctx, webex.CustomerQuery{ExternalID: externalID, OrgID: orgID})
	if err != nil {
		return nil, translate(err)
	}
	for i := range list {
		c := &list[i]
		if (externalID == "" || c.ExternalID == externalID) && (orgID == "" || c.OrgID == orgID) {
			return customerState(c), nil
		}
	}
	return nil, nil
}

// UpdateCustomer re-applies packages (the complete list).
func (w *WebexCustomers) UpdateCustomer(ctx context.Context, id string, packages []string) error {
	return translate(w.Client.UpdateCustomer(ctx, id, webex.CustomerUpdate{Packages: packages}))
}

func customerState(c *webex.Customer) *request.CustomerState {
	s := &request.CustomerState{ID: c.ID, OrgID: c.OrgID, ExternalID: c.ExternalID, Status: c.Status,
		Packages: c.Packages, Country: c.Address.Country, TrackingID: c.TrackingID}
	for _, e := range c.Errors {
		s.Errors = append(s.Errors, reasonText("", e))
	}
	for _, p := range c.ResourceDetails.Packages {
		for _, e := range p.Errors {
			s.Errors = append(s.Errors, reasonText(p.Name, e))
		}
		for _, e := range p.Warnings {
			s.Warnings = append(s.Warnings, reasonText(p.Name, e))
		}
	}
	return s
}

// reasonText is one of Webex's reasons as people read it:
// "webex_calling: <description> (code 2560)".
func reasonText(pkg string, e webex.ErrorDetail) string {
	return webex.FailureDetail{Package: pkg, ErrorCode: e.ErrorCode, Description: e.Description}.String()
}

// failedMessage is what Webex said of a failed object, without our
// operation name or the trackingId (reported apart).
func failedMessage(fe *webex.FailedError) string {
	words := make([]string, len(fe.Errors))
	for i, d := range fe.Errors {
		words[i] = d.String()
	}
	switch {
	case len(words) > 0:
		return strings.Join(words, "; ")
	case fe.Status == "":
		return "Webex answered without a status"
	}
	return fmt.Sprintf("Webex reports status %q, which its documents do not list", fe.Status)
}

// apiMessage prefers Webex's detailed description over its generic message.
func apiMessage(ae *webex.APIError) string {
	msg := ae.Message
	if len(ae.Errors) > 0 && ae.Errors[0].Description != "" && ae.Errors[0].Description != msg {
		msg = ae.Errors[0].Description
	}
	return msg
}

// translate turns the client's errors into *WebexError; nil stays nil.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var ae *webex.APIError
	if errors.As(err, &ae) {
		return &WebexError{Op: ae.Op, Status: ae.Status, Message: apiMessage(ae), TrackingID: ae.TrackingID, Retryable: ae.Retryable}
	}
	var fe *webex.FailedError
	if errors.As(err, &fe) {
		// Webex answered, but says the object failed (a subscriber with
		// errors, a status its documents do not list): final, in its words.
		return &WebexError{Op: fe.Op, Message: failedMessage(fe), TrackingID: fe.TrackingID}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &WebexError{Op: "webex", Message: err.Error(), Retryable: webex.IsRetryable(err)}
}
