package provisioning

import (
	"context"
	"time"
)

// CustomerRef names the customer a setup request (users, location, numbers,
// corrections) is for. It is resolved when the request is submitted; the
// Webex ids may still be empty then (the customer is provisioning or on
// hold) and are "resolved at commit" from the customer request.
type CustomerRef struct {
	RequestID  int64  `json:"requestId,omitempty"` // the customer or adopt request
	ExternalID string `json:"externalId"`
	CustomerID string `json:"customerId,omitempty"` // wholesale customer id
	OrgID      string `json:"orgId,omitempty"`
	// Packages are the customer's packages (first = primary), Limits its
	// ordered quantities, AdminEmail its full administrator.
	Packages   []string       `json:"packages,omitempty"`
	Limits     map[string]int `json:"limits,omitempty"`
	AdminEmail string         `json:"adminEmail,omitempty"`
	Country    string         `json:"country,omitempty"`
}

// UsersSpec is a batch of users for one customer.
type UsersSpec struct {
	Customer CustomerRef `json:"customer"`
	Rows     []UserRow   `json:"rows"`
}

// LocationSpec is a new location, enabled for Webex Calling after creation.
type LocationSpec struct {
	Customer     CustomerRef `json:"customer"`
	Name         string      `json:"name"` // ≤ 80
	Address      Address     `json:"address"`
	Timezone     string      `json:"timezone"`
	Language     string      `json:"language"`               // lower case, "de_de": preferred and announcement language
	ELIN         string      `json:"elin,omitempty"`         // emergency location identifier
	Announcement string      `json:"announcement,omitempty"` // announcement language when it differs
}

// NumbersSpec adds and activates a block of numbers at a location (only on
// a non-integrated PSTN connection) and optionally sets the main number.
type NumbersSpec struct {
	Customer CustomerRef `json:"customer"`
	Location string      `json:"location"` // location name; default HQ
	Numbers  []string    `json:"numbers"`  // E.164, the expanded block
	Main     string      `json:"main,omitempty"`
}

// ChangeSpec moves one user to another package. A move from webex_meetings
// to a calling package needs a number or an extension (Webex sends
// provisioning parameters with a package change only then); Phone is E.164
// or PhoneAuto, Location the location whose numbers auto takes from and
// where the user then lives (default HQ).
type ChangeSpec struct {
	Customer  CustomerRef `json:"customer"`
	Email     string      `json:"email"`
	Package   string      `json:"package"`
	Phone     string      `json:"phone,omitempty"`
	Extension string      `json:"extension,omitempty"`
	Location  string      `json:"location,omitempty"`
}

// Number says whether the change gives the user a number or extension.
func (c *ChangeSpec) Number() bool { return c.Phone != "" || c.Extension != "" }

// RemoveSpec removes one user from the customer.
type RemoveSpec struct {
	Customer CustomerRef `json:"customer"`
	Email    string      `json:"email"`
}

// DeleteSpec deletes (unlinks) the customer.
type DeleteSpec struct {
	Customer CustomerRef `json:"customer"`
}

// Row outcome statuses.
const (
	RowPending  = ""        // not tried yet
	RowDone     = "done"    // provisioned by this request
	RowExisted  = "existed" // already a subscriber: counts as provisioned
	RowConsent  = "consent" // 202 pending_user_migration: the user must consent
	RowFailed   = "failed"
	RowRetrying = "retrying" // a retryable error; tried again on the next run
)

// RowOutcome is what happened to one row of a batch. Outcomes are stored per
// row, so a resumed batch never repeats finished rows.
type RowOutcome struct {
	Line         int       `json:"line"`
	Email        string    `json:"email"`
	Status       string    `json:"status"`
	SubscriberID string    `json:"subscriberId,omitempty"`
	Phone        string    `json:"phone,omitempty"` // the number assigned (phone=auto resolved)
	Message      string    `json:"message,omitempty"`
	TrackingID   string    `json:"trackingId,omitempty"`
	At           time.Time `json:"at,omitzero"`
}

// RowStore keeps per-row outcomes of a batch request.
type RowStore interface {
	SaveRowOutcomes(ctx context.Context, requestID int64, rows []RowOutcome) error
	RowOutcomes(ctx context.Context, requestID int64) (map[int]RowOutcome, error)
}

// UsersPrecheck is the background check of a user batch before approval.
type UsersPrecheck struct {
	Precheck
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
	UnknownLocations map[string][]UserRow `json:"unknownLocations,omitempty"`
}
