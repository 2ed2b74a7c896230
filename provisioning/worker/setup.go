package worker

import (
	"context"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// RowStore keeps per-row outcomes of a batch request.
type RowStore interface {
	SaveRowOutcomes(ctx context.Context, requestID int64, rows []request.RowOutcome) error
	RowOutcomes(ctx context.Context, requestID int64) (map[int]request.RowOutcome, error)
}

// UsersPrecheck is the background check of a user batch before approval.
type UsersPrecheck struct {
	request.Precheck
	// Provisioned counts the customer's subscribers per package at Webex
	// now (the admin excluded): seats in use against the ordered quantities.
	Provisioned map[string]int `json:"provisioned,omitempty"`
	Existing    []string       `json:"existing,omitempty"` // emails that already are subscribers
	Consent     []string       `json:"consent,omitempty"`  // emails with a free Webex account: consent needed
	RowErrors   []string       `json:"rowErrors,omitempty"`
	// Refused is Webex's reason for each refused row, by row number.
	Refused map[int]string `json:"refused,omitempty"`
	// UnknownLocations are the locations calling rows name that the
	// customer does not have (yet), with the rows that name them. They are
	// not refused here: a location request may be about to create one.
	UnknownLocations map[string][]request.UserRow `json:"unknownLocations,omitempty"`
}
