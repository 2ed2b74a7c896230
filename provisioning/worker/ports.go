package worker

import (
	"context"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// RequestStore is what the worker needs of request storage.
type RequestStore interface {
	Get(ctx context.Context, id int64) (*request.Request, error)
	// Transition returns *StateConflict when the request is not in t.From.
	Transition(ctx context.Context, id int64, t request.Transition) (*request.Request, error)
	// Create saves a new request (the steps of an approved plan, the
	// customers of an approved import); a held external id is
	// *request.ExternalIDTaken.
	Create(ctx context.Context, r *request.Request) error
	// ByExternalID is the request holding an external id (ErrNotFound: none).
	ByExternalID(ctx context.Context, externalID string) (int64, error)
}

// JobQueue is the crash-safe job stream (a Redis Stream with a consumer group).
type JobQueue interface {
	EnqueueJob(ctx context.Context, requestID int64) error
	// EnqueueBulkJob and NextBulkJob are the bulk lane: the work of an
	// import, taken by workers of its own so that it never holds up a job
	// someone waits for.
	EnqueueBulkJob(ctx context.Context, requestID int64) error
	NextBulkJob(ctx context.Context, consumer string, block time.Duration) (*request.Job, error)
	// NextJob hands out a job: first one abandoned by a dead consumer (idle
	// longer than the claim timeout), else a new one, waiting up to block.
	// It returns (nil, nil) when there is none.
	NextJob(ctx context.Context, consumer string, block time.Duration) (*request.Job, error)
	// RefreshJob renews the consumer's claim so the job is not taken over.
	RefreshJob(ctx context.Context, consumer string, job *request.Job) error
	AckJob(ctx context.Context, job *request.Job) error
}

// WatchList holds waiting requests by their next check time; any replica
// polls it, one item at a time under a per-item lock.
type WatchList interface {
	Watch(ctx context.Context, requestID int64, next time.Time) error
	Unwatch(ctx context.Context, requestID int64) error
	DueWatches(ctx context.Context, now time.Time, max int) ([]int64, error)
	// TryLock takes name for owner for ttl; false when someone else holds it.
	TryLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// ExtendLock renews a lock owner holds; false when it was lost.
	ExtendLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, name, owner string) error
}

// Refresher is an optional part of Events: a request whose state did not
// change but whose summary shows something that did (the age of a hold).
type Refresher interface {
	Refresh(ctx context.Context, r *request.Request)
}

// Events is how the worker reports to people. handlers implements it; the
// worker never blocks on it for long.
type Events interface {
	// Progress reports a step of a request being committed.
	Progress(ctx context.Context, r *request.Request, text string)
	// Settled reports that a request reached done, failed or waiting.
	Settled(ctx context.Context, r *request.Request)
}

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

// RowStore keeps per-row outcomes of a batch request.
type RowStore interface {
	SaveRowOutcomes(ctx context.Context, requestID int64, rows []request.RowOutcome) error
	RowOutcomes(ctx context.Context, requestID int64) (map[int]request.RowOutcome, error)
}

// SetupAPI is what setting a customer up needs of the Webex client: exactly
// the calls the setup commits, the precheck and the numbers listing make.
// Errors are the client's (*webex.APIError), with retryable faults already
// retried inside it.
type SetupAPI interface {
	ListSubscribers(ctx context.Context, q webex.SubscriberQuery) ([]webex.Subscriber, error)
	PrecheckSubscriber(ctx context.Context, req webex.SubscriberRequest) (*webex.Precheck, error)
	CreateSubscriber(ctx context.Context, req webex.SubscriberRequest) (*webex.Subscriber, error)
	UpdateSubscriber(ctx context.Context, id string, upd webex.SubscriberUpdate) (*webex.Subscriber, error)
	DeleteSubscriber(ctx context.Context, id string) error
	ResendConsent(ctx context.Context, subscriberID string) error
	DeleteCustomer(ctx context.Context, id string) error

	ListLocations(ctx context.Context, orgID string) ([]webex.Location, error)
	CreateLocation(ctx context.Context, orgID string, req webex.LocationRequest) (string, error)
	EnableCallingLocation(ctx context.Context, orgID string, req webex.CallingLocationRequest) error
	GetCallingLocation(ctx context.Context, orgID, locationID string) (*webex.CallingLocationDetails, error)
	UpdateCallingLocation(ctx context.Context, orgID, locationID string, upd webex.CallingLocationUpdate) error
	GetPSTNConnection(ctx context.Context, orgID, locationID string) (*webex.PSTNConnection, error)
	ListPSTNConnectionOptions(ctx context.Context, orgID, locationID string) ([]webex.PSTNConnectionOption, error)
	SetPSTNConnection(ctx context.Context, orgID, locationID string, setup webex.PSTNConnectionSetup) error

	ListNumbers(ctx context.Context, q webex.NumberQuery) ([]webex.Number, error)
	AddNumbers(ctx context.Context, orgID, locationID string, numbers []string, state string) error
	ActivateNumbers(ctx context.Context, orgID, locationID string, numbers []string) error
}
