package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// CustomerAPI is the worker's view of Webex's wholesale customers API. The
// adapter over the HTTP client translates wire types and errors (*WebexError).
type CustomerAPI interface {
	PrecheckCustomer(ctx context.Context, c *request.CustomerSpec) (request.Precheck, error)
	CreateCustomer(ctx context.Context, c *request.CustomerSpec) (customerID string, err error)
	GetCustomer(ctx context.Context, customerID string) (*request.CustomerState, error)
	// FindCustomer looks a customer up by external id or org id; nil when none.
	FindCustomer(ctx context.Context, externalID, orgID string) (*request.CustomerState, error)
	// UpdateCustomer re-applies the customer's complete package list (Update a
	// Wholesale Customer, 202): what makes Webex provision again a customer
	// that ended provisioned_with_errors.
	UpdateCustomer(ctx context.Context, customerID string, packages []string) error
}

// WebexError is a failed Webex call as people are told about it.
type WebexError struct {
	Op         string
	Status     int
	Message    string
	TrackingID string
	Retryable  bool // the call may succeed later (429, 5xx, timeouts)
}

func (e *WebexError) Error() string {
	s := e.Op + ": " + e.Message
	if e.Status != 0 {
		s = fmt.Sprintf("%s: %d %s", e.Op, e.Status, e.Message)
	}
	if e.TrackingID != "" {
		s += " (trackingId " + e.TrackingID + ")"
	}
	return s
}

// DescribeFailure splits an error into what the user reads and Webex's
// trackingId. Errors that are not Webex's keep their text.
func DescribeFailure(err error) (message, trackingID string) {
	var we *WebexError
	if errors.As(err, &we) {
		msg := we.Message
		if msg == "" {
			msg = fmt.Sprintf("Webex answered %d", we.Status)
		}
		return msg, we.TrackingID
	}
	return err.Error(), ""
}
