package request

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State is a request's lifecycle state; the transitions allowed between
// them are in transition.go.
type State string

const (
	StateDraft           State = "draft"
	StatePendingApproval State = "pending_approval"
	StateApproved        State = "approved"
	StateCommitting      State = "committing"
	StateWaiting         State = "waiting"
	StateDone            State = "done"
	StateFailed          State = "failed"
	StateRejected        State = "rejected"
	StateCancelled       State = "cancelled"
	StateExpired         State = "expired"
)

// AllStates lists every state in lifecycle order.
var AllStates = []State{
	StateDraft, StatePendingApproval, StateApproved, StateCommitting, StateWaiting,
	StateDone, StateFailed, StateRejected, StateCancelled, StateExpired,
}

// Valid reports whether s is one of AllStates.
func (s State) Valid() bool {
	for _, v := range AllStates {
		if v == s {
			return true
		}
	}
	return false
}

// Final reports whether no transition leaves s except retry from failed.
func (s State) Final() bool {
	switch s {
	case StateDone, StateFailed, StateRejected, StateCancelled, StateExpired:
		return true
	}
	return false
}

// ReleasesExternalID reports whether a request in state s no longer holds its
// external id: it ended without creating anything.
func (s State) ReleasesExternalID() bool {
	switch s {
	case StateRejected, StateCancelled, StateExpired:
		return true
	}
	return false
}

// Kind is what a request asks for.
type Kind string

const (
	KindCustomer Kind = "customer"
	KindTemplate Kind = "template"
	KindUsers    Kind = "users"
	KindLocation Kind = "location"
	KindNumbers  Kind = "numbers"
	// KindPSTN sets up a location's PSTN connection: a new customer's
	// locations have none, and without one no number can be added.
	KindPSTN   Kind = "pstn"
	KindChange Kind = "change"
	KindRemove Kind = "remove"
	KindDelete Kind = "delete"
	KindAdopt  Kind = "adopt"
	// KindImport is many customers at once (an ImportSpec): one approval,
	// then each customer is a request (a plan) of its own.
	KindImport Kind = "import"
)

// PrecheckStatus is the state of the background Webex precheck of a request.
type PrecheckStatus string

const (
	PrecheckNone        PrecheckStatus = ""            // the kind has no precheck
	PrecheckRunning     PrecheckStatus = "running"     // submitted, result not in yet
	PrecheckOK          PrecheckStatus = "ok"          // Webex accepted the payload
	PrecheckFailed      PrecheckStatus = "failed"      // Webex refused it: approval is refused
	PrecheckUnavailable PrecheckStatus = "unavailable" // Webex unreachable: approval allowed, the worker prechecks again
	// PrecheckDeferred: what the precheck asks about does not exist yet (the
	// customer is not provisioned); approval is allowed and the worker
	// prechecks just before it commits.
	PrecheckDeferred PrecheckStatus = "deferred"
)

// Passing reports whether the precheck could not say yes or no for a
// reason that passes (Webex unreachable, a customer not provisioned yet):
// approval is allowed, and it can be run again.
func (s PrecheckStatus) Passing() bool {
	return s == PrecheckUnavailable || s == PrecheckDeferred
}

// Precheck is the outcome of a precheck call.
type Precheck struct {
	Status     PrecheckStatus `json:"status,omitempty"`
	Message    string         `json:"message,omitempty"`
	TrackingID string         `json:"trackingId,omitempty"`
	At         time.Time      `json:"at,omitzero"`
	// Seats and NewUsers, for a users batch: the users each package had at
	// the customer, and the batch's rows that are new users, by package, when
	// the precheck ran (AUTO_APPROVE weighs them against the ordered
	// quantities without asking Webex again).
	Seats    map[string]int `json:"seats,omitempty"`
	NewUsers map[string]int `json:"newUsers,omitempty"`
	// WaitFor are requests the commit must wait for: the approved location
	// requests that create the locations some rows name.
	WaitFor []int64 `json:"waitFor,omitempty"`
}

// MessageRef points at a chat message (the summary) without saying which chat.
type MessageRef struct {
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
}

// ResultPartial marks a done batch in which some rows failed (⚠️).
const ResultPartial = "partial"

// Result is what committing a request produced.
type Result struct {
	CustomerID string `json:"customerId,omitempty"` // Webex wholesale customer id
	OrgID      string `json:"orgId,omitempty"`
	Status     string `json:"status,omitempty"` // last Webex status seen
	Message    string `json:"message,omitempty"`
	TrackingID string `json:"trackingId,omitempty"`
	// WaitingSince is when the request first parked in StateWaiting for the
	// current reason (compliance hold, slow provisioning).
	WaitingSince time.Time `json:"waitingSince,omitzero"`
	WaitReason   string    `json:"waitReason,omitempty"`
	// Version is the template version a `template new` request became,
	// ProvisioningID the Partner Hub id it was activated with.
	Version        int    `json:"version,omitempty"`
	ProvisioningID string `json:"provisioningId,omitempty"`
	// Failures say why parts failed, one line each: the failed rows of a
	// batch ("row 3 (anna@x.example): location \"Köln\" does not exist…").
	// At most MaxFailureLines; the rest are counted in a last line.
	Failures []string `json:"failures,omitempty"`
	// Requests are the requests an import made, one a customer, in the
	// order of its file.
	Requests []int64 `json:"requests,omitempty"`
}

// Request is one unit of approval: a customer, a template, a user batch, ...
// Spec holds the kind-specific, normalised payload (for KindCustomer a
// CustomerSpec); its hash is what the approver saw.
type Request struct {
	ID         int64           `json:"id"`
	Kind       Kind            `json:"kind"`
	State      State           `json:"state"`
	Version    int64           `json:"version"`
	Requester  string          `json:"requester"`
	Subject    string          `json:"subject"`              // shown in outcome lines, e.g. the external id
	ExternalID string          `json:"externalId,omitempty"` // reserved at submit for customer requests
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
	Spec       json.RawMessage `json:"spec,omitempty"`
	Hash       string          `json:"hash,omitempty"`
	Precheck   Precheck        `json:"precheck,omitzero"`

	ApprovedBy   string    `json:"approvedBy,omitempty"`
	ApprovedAt   time.Time `json:"approvedAt,omitzero"`
	ApprovedHash string    `json:"approvedHash,omitempty"`
	RejectedBy   string    `json:"rejectedBy,omitempty"`
	Reason       string    `json:"reason,omitempty"`

	Summary MessageRef `json:"summary,omitzero"`
	Result  Result     `json:"result,omitzero"`

	// Replaces is the pending request this one is an edit of: it takes over
	// that one's external id, which is then cancelled.
	Replaces int64 `json:"replaces,omitempty"`

	// Plan is the onboarding plan this request is a step of: the worker
	// made it from the plan's approved spec, it is shown and reported under
	// the plan's id, and it runs after the step before it.
	Plan int64 `json:"plan,omitempty"`
	// Import is the import this request is part of: a customer the worker
	// made when the import was approved (it runs as if submitted alone), or
	// a step of such a customer's plan. Its jobs take the bulk lane; the
	// import reports once every customer of it has settled.
	Import int64 `json:"import,omitempty"`
}

// Ref is the user-facing id, "R-7".
func (r *Request) Ref() string { return FormatID(r.ID) }

// FormatID renders a request number as "R-<n>".
func FormatID(n int64) string { return "R-" + strconv.FormatInt(n, 10) }

// ParseID accepts "R-7", "r-7", "R7" and "7".
func ParseID(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if len(t) > 0 && (t[0] == 'R' || t[0] == 'r') {
		t = strings.TrimPrefix(t[1:], "-")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || t == "" || t[0] == '+' {
		return 0, fmt.Errorf("%q is not a request id (expected R-<number>)", s)
	}
	return n, nil
}

// HashSpec is the short hash of a normalised spec: the first 12 hex digits of
// its SHA-256. Specs are marshalled from structs, so field order is fixed.
func HashSpec(spec json.RawMessage) string {
	sum := sha256.Sum256(spec)
	return hex.EncodeToString(sum[:])[:12]
}

// AuditEntry is one line of a request's audit trail.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // a Slack user id or a system actor (ActorWorker, ActorBot, ActorAuto)
	Action string    `json:"action"` // created, approved, rejected, committing, done, ...
	From   State     `json:"from,omitempty"`
	To     State     `json:"to,omitempty"`
	Note   string    `json:"note,omitempty"`
}

// ErrNotFound is returned when a request (or other stored object) does not exist.
var ErrNotFound = errors.New("not found")

// StateConflict is returned when a transition's expected state does not hold:
// someone else moved the request first. Current is the request as it is now and
// Last its newest audit entry, so the caller can say what already happened.
type StateConflict struct {
	Current *Request
	Last    AuditEntry
}

func (e *StateConflict) Error() string {
	return fmt.Sprintf("%s is %s", e.Current.Ref(), e.Current.State)
}

// ExternalIDTaken is returned when an external customer id is already held by
// another active (or completed) request.
type ExternalIDTaken struct {
	ExternalID string
	Holder     int64
}

func (e *ExternalIDTaken) Error() string {
	return fmt.Sprintf("external-id %q is already used by %s", e.ExternalID, FormatID(e.Holder))
}
