package request

import "strings"

// The statuses and reasons a request's Result carries, which the worker
// writes and the store and the handlers read.

// WaitForPrefix starts the WaitReason of a setup request queued behind
// another request (its customer, a location its rows need): "waiting for
// R-7", or "waiting for R-7, which failed" while that one can be retried.
const WaitForPrefix = "waiting for "

// FailedSuffix follows the awaited request when it failed.
const FailedSuffix = ", which failed"

// AwaitedRequest reads the request a WaitReason names ("waiting for R-7…").
func AwaitedRequest(reason string) (int64, bool) {
	rest, ok := strings.CutPrefix(reason, WaitForPrefix)
	if !ok || !strings.HasPrefix(rest, "R-") {
		return 0, false
	}
	rest, _, _ = strings.Cut(rest, ",")
	id, err := ParseID(rest)
	return id, err == nil
}

// Result.Status of corrections that are done.
const (
	UserChanged     = "changed"
	UserRemoved     = "removed"
	CustomerDeleted = "deleted"
)

// LocationReady is Result.Status of a location request that is done.
const LocationReady = "ready"

// NumbersAdded is Result.Status of a numbers request that is done.
const NumbersAdded = "added"

// User batch results (Result.Status of a users request).
const (
	UsersProvisioned = "provisioned" // every row done or already existed
	UsersPartial     = ResultPartial // done, some rows failed: the ⚠️ outcome
	UsersConsent     = "consent"     // waiting: some users must consent first
	UsersFailed      = "failed"      // no row was provisioned
)

// ConsentWaitReason is the WaitReason of a batch whose users must consent.
// It stays the same while the count changes, so WaitingSince keeps the
// start of the wait (the digest's CONSENT_WAIT_AFTER).
const ConsentWaitReason = "waiting for consent"

// Webex customer statuses, as Get a Wholesale Customer reports them.
const (
	CustomerProvisioning          = "provisioning"
	CustomerProvisioned           = "provisioned"
	CustomerProvisionedWithErrors = "provisioned_with_errors"
	CustomerError                 = "error"
	CustomerPendingRPLReview      = "pending_rpl_review"
	CustomerUpdating              = "updating"
	CustomerDeleting              = "deleting"
)

// CustomerState is what the worker needs to know of a customer at Webex.
type CustomerState struct {
	ID         string // wholesale customer id
	OrgID      string
	ExternalID string
	Name       string
	Status     string
	// Errors and Warnings are Webex's reasons, the customer's own and each
	// package's: "webex_calling: <description> (code 2560)".
	Errors     []string `json:"errors,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	Packages   []string `json:"packages,omitempty"`
	Country    string   `json:"country,omitempty"`
	TrackingID string   `json:"-"` // of the answer that reported this state
}

// WaitingForProvisioningID is the WaitReason of an approved template that
// waits for someone to create it in Partner Hub and give its provisioning
// id (Webex has no API to create templates).
const WaitingForProvisioningID = "waiting for its provisioning id"
