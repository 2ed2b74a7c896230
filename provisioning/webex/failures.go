package webex

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// CustomerStatuses are the customer statuses Webex documents (the spec's
// Customer.status).
var CustomerStatuses = []string{
	StatusProvisioned, StatusProvisionedWithErrors, StatusProvisioning, StatusUpdating,
	StatusDeleting, StatusError, StatusPendingRPLReview,
}

// SubscriberStatuses are the subscriber statuses Webex documents (the spec's
// Subscriber.status).
var SubscriberStatuses = []string{SubscriberProvisioned, SubscriberPendingUserMigration}

// FailedError is an answer Webex gave with a success status whose content
// says the work failed: a subscriber answered with an errors array, a
// customer whose provisioning ended in error or provisioned_with_errors, or
// a status Webex's documents do not list (never taken for success). Errors
// holds Webex's own words; for a customer each carries the package it
// concerns. Check for it with errors.As.
type FailedError struct {
	Op         string // what we were doing: "create subscriber \"a@x.example\""
	Kind       string // "customer" or "subscriber"
	ID         string // the object's id when Webex named one: it may exist, failed
	Status     string // the object's status as Webex wrote it
	Errors     []FailureDetail
	TrackingID string // of the answer that reported it
}

// FailureDetail is one reason Webex gave: an entry of errors (or, for a
// customer's package, warnings).
type FailureDetail struct {
	Package     string // the customer package it concerns; "" for the object itself
	ErrorCode   int
	Description string
}

func (d FailureDetail) String() string {
	var b strings.Builder
	if d.Package != "" {
		b.WriteString(d.Package + ": ")
	}
	b.WriteString(d.Description)
	if d.ErrorCode != 0 {
		b.WriteString(" (code " + strconv.Itoa(d.ErrorCode) + ")")
	}
	return b.String()
}

func (e *FailedError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op + ": ")
	switch {
	case len(e.Errors) > 0:
		words := make([]string, len(e.Errors))
		for i, d := range e.Errors {
			words[i] = d.String()
		}
		b.WriteString(strings.Join(words, "; "))
		if e.Status != "" {
			fmt.Fprintf(&b, " (status %s)", e.Status)
		}
	case e.Status == "":
		b.WriteString("Webex answered without a status")
	default:
		fmt.Fprintf(&b, "Webex reports status %q, which its documents do not list", e.Status)
	}
	if e.TrackingID != "" {
		b.WriteString(" (trackingId " + e.TrackingID + ")")
	}
	return b.String()
}

// Failure reports whether Webex says this subscriber failed: it carries
// errors, or a status Webex does not document. nil means it did not.
func (s *Subscriber) Failure() *FailedError {
	if len(s.Errors) == 0 && slices.Contains(SubscriberStatuses, s.Status) {
		return nil
	}
	f := &FailedError{Op: fmt.Sprintf("subscriber %q", s.Email), Kind: "subscriber", ID: s.ID, Status: s.Status}
	for _, d := range s.Errors {
		f.Errors = append(f.Errors, FailureDetail{ErrorCode: d.ErrorCode, Description: d.Description})
	}
	return f
}

// Failure reports whether Webex says this customer's provisioning failed:
// status error or provisioned_with_errors (the cause is in its errors and
// in its packages' errors and warnings), or a status Webex does not
// document. nil while it is fine or still on its way.
func (c *Customer) Failure() *FailedError {
	if c.Status != StatusError && c.Status != StatusProvisionedWithErrors && slices.Contains(CustomerStatuses, c.Status) {
		return nil
	}
	f := &FailedError{Op: fmt.Sprintf("customer %q", c.ExternalID), Kind: "customer", ID: c.ID, Status: c.Status}
	for _, d := range c.Errors {
		f.Errors = append(f.Errors, FailureDetail{ErrorCode: d.ErrorCode, Description: d.Description})
	}
	for _, p := range c.ResourceDetails.Packages {
		for _, d := range slices.Concat(p.Errors, p.Warnings) {
			f.Errors = append(f.Errors, FailureDetail{Package: p.Name, ErrorCode: d.ErrorCode, Description: d.Description})
		}
	}
	return f
}

// unlisted returns a FailedError for a status Webex does not document; nil
// for a documented one.
func unlisted(op, kind, id, status string, documented []string, r *response) error {
	if slices.Contains(documented, status) {
		return nil
	}
	return &FailedError{Op: op, Kind: kind, ID: id, Status: status, TrackingID: trackingIDFromHeader(r.header)}
}

// subscriberAnswer turns a subscriber answer that reports a failure into a
// *FailedError.
func subscriberAnswer(op string, sub *Subscriber, r *response) (*Subscriber, error) {
	if f := sub.Failure(); f != nil {
		f.Op, f.TrackingID = op, trackingIDFromHeader(r.header)
		return nil, f
	}
	return sub, nil
}
