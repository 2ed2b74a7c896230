package worker

import (
	"errors"
	"fmt"
)

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
