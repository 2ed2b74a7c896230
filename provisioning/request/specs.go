package request

import (
	"strings"
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

// PSTNSpec is the PSTN connection a location gets: one of the options
// Webex offers for it, by display name, and for a premises-based option
// the route (trunk or route group) calls leave by.
type PSTNSpec struct {
	Customer   CustomerRef `json:"customer"`
	Location   string      `json:"location"`   // location name; default HQ
	Connection string      `json:"connection"` // the option's display name
	RouteType  string      `json:"routeType,omitempty"`
	RouteID    string      `json:"routeId,omitempty"`
}

// PremisesOption is the display name of the premises-based option.
// Assumption: Webex's connection options carry an id and a display name but
// no type, so the option of this name is taken as the premises-based one
// (Local Gateway), which needs a route; every other option is taken as
// needing none. Webex refuses the set-up when this guess is wrong, with its
// reason on the request.
const PremisesOption = "Premises-based PSTN"

// Premises reports whether the option named connection needs a route.
func Premises(connection string) bool { return strings.EqualFold(connection, PremisesOption) }

// PSTNReady is Result.Status of a PSTN request that is done.
const PSTNReady = "ready"

// UserRow is one user of a `users` request (one CSV row: first, last,
// email, package, phone, extension, location),
// validated and normalised.
type UserRow struct {
	Line      int    `json:"line"` // 1-based data row, as errors name it
	First     string `json:"first"`
	Last      string `json:"last"`
	Email     string `json:"email"`
	Package   string `json:"package"`
	Phone     string `json:"phone,omitempty"` // E.164, or "auto": the next available number of the location
	Extension string `json:"extension,omitempty"`
	Location  string `json:"location"`
	// AlreadyExists marks a user who already is a subscriber of the
	// customer: counted as provisioned, not created again.
	AlreadyExists bool `json:"alreadyExists,omitempty"`
}

// PhoneAuto asks for the next available number of the row's location.
const PhoneAuto = "auto"

// DefaultLocationName is the customer's HQ location, created with the customer.
const DefaultLocationName = "HQ"

// Address is a postal address as Webex takes it; each line ≤ 50 code points.
type Address struct {
	Line1   string `json:"addressLine1"`
	Line2   string `json:"addressLine2,omitempty"`
	City    string `json:"city"`
	State   string `json:"stateOrProvince,omitempty"`
	Zip     string `json:"zipOrPostalCode,omitempty"`
	Country string `json:"country"` // ISO 3166 alpha-2, upper case
}

// CustomerSpec is a validated, normalised customer request: every value the
// approver sees. Field order is fixed, so its JSON (and hash) is stable.
type CustomerSpec struct {
	Name            string         `json:"name"`
	Email           string         `json:"email"`
	ExternalID      string         `json:"externalId"`
	Country         string         `json:"country"`
	Packages        []string       `json:"packages"` // first is the primary package
	Template        string         `json:"template,omitempty"`
	TemplateVersion int            `json:"templateVersion,omitempty"`
	ProvisioningID  string         `json:"provisioningId"`
	Address         Address        `json:"address"`
	Timezone        string         `json:"timezone,omitempty"` // IANA
	Language        string         `json:"language,omitempty"` // customer language, "de_DE" or "de"
	LocationName    string         `json:"locationName,omitempty"`
	ELIN            string         `json:"elin,omitempty"`
	Limits          map[string]int `json:"limits,omitempty"` // ordered quantities per package
	OrgID           string         `json:"orgId,omitempty"`  // attach an existing org
	Order           string         `json:"order,omitempty"`  // partner's order or ticket reference
	SubPartnerOrgID string         `json:"subPartnerOrgId,omitempty"`
	// Steps make the request an onboarding plan: what is set up after the
	// customer, in PlanSteps' order, under the same approval.
	Steps *PlanSteps `json:"steps,omitempty"`
}

// PrimaryPackage is the package the customer's admin must get.
func (c *CustomerSpec) PrimaryPackage() string {
	if len(c.Packages) == 0 {
		return ""
	}
	return c.Packages[0]
}

// HasCalling reports whether any package of the customer is a calling package,
// which makes Webex require the HQ calling location.
func (c *CustomerSpec) HasCalling() bool {
	for _, p := range c.Packages {
		if CallingPackage(p) {
			return true
		}
	}
	return false
}

// CallingPackage reports whether p provisions Webex Calling. Every customer
// package except meetings-only is a calling package for the HQ location rule.
func CallingPackage(p string) bool {
	return p != "webex_meetings" && p != ""
}

// LocationLanguage is the lower-case language for the customer's HQ
// calling location ("de_de").
func (c *CustomerSpec) LocationLanguage() string {
	return LocationLanguage(c.Language, c.Country)
}
