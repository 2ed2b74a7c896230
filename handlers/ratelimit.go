package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/onboardbot/onboardbot/provisioning"
	"github.com/onboardbot/onboardbot/store"
)

// Limiter decides whether user may submit one more request now
// (NEW_REQUESTS_PER_MINUTE). It is applied only once a submission is valid
// and about to be saved, so refused or invalid input costs nothing.
type Limiter interface {
	// Budget is user's submission budget, applied by the store in the step
	// that saves the request (createSubmission); ok is false when there is
	// no limit.
	Budget(user string) (b store.Budget, ok bool)
	// AllowSubmission checks and uses one submission of user's budget on
	// its own, for flows that save without a budget (admitSubmission).
	// refusal is what the user is told; err is a system fault (Redis
	// unreachable).
	AllowSubmission(ctx context.Context, user string) (refusal string, err error)
}

// RateCounter is the shared sliding-window counter behind the limit
// (store.Store.Allow): every replica counts into the same Redis key, so two
// replicas do not double a user's budget.
type RateCounter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, error)
}

// BudgetedCreator saves a request within a submission budget, in the same
// step that refuses a held external id and takes the request's id
// (store.Store.CreateWithin): a refused submission saves nothing, takes no
// id and uses no budget.
type BudgetedCreator interface {
	CreateWithin(ctx context.Context, r *provisioning.Request, b store.Budget) error
}

// submissionWindow is the window of NEW_REQUESTS_PER_MINUTE.
const submissionWindow = time.Minute

// NewSubmissionLimiter limits each user to perMinute accepted submissions in
// any sliding minute. perMinute <= 0 means no limit (a Handler built without
// configuration, as in unit tests).
func NewSubmissionLimiter(c RateCounter, perMinute int) Limiter {
	return &submissionLimiter{counter: c, perMinute: perMinute}
}

type submissionLimiter struct {
	counter   RateCounter
	perMinute int
}

// submissionKey is the budget of user: CreateWithin and Allow count into the
// same window.
func submissionKey(user string) string { return "submit:" + user }

func (l *submissionLimiter) limited() bool {
	return l != nil && l.counter != nil && l.perMinute > 0
}

func (l *submissionLimiter) Budget(user string) (store.Budget, bool) {
	if !l.limited() {
		return store.Budget{}, false
	}
	return store.Budget{Key: submissionKey(user), Limit: l.perMinute, Window: submissionWindow}, true
}

func (l *submissionLimiter) AllowSubmission(ctx context.Context, user string) (string, error) {
	if !l.limited() {
		return "", nil
	}
	ok, err := l.counter.Allow(ctx, submissionKey(user), l.perMinute, submissionWindow)
	if err != nil {
		return "", fmt.Errorf("submission limit of %s: %w", user, err)
	}
	if !ok {
		return submissionRefusal(l.perMinute), nil
	}
	return "", nil
}

// submissionRefusal is what a user over NEW_REQUESTS_PER_MINUTE is told.
// The window slides: the oldest of the last perMinute submissions leaves it
// within a minute, so "in a minute" is always enough.
func submissionRefusal(perMinute int) string {
	return fmt.Sprintf("⛔ you have submitted %d requests in the last minute (NEW_REQUESTS_PER_MINUTE): nothing was submitted, try again in a minute", perMinute)
}

// logSubmissionRefused logs a refusal by NEW_REQUESTS_PER_MINUTE.
func (h *Handler) logSubmissionRefused(u caller) {
	h.log.WithField("user", u.id).Info("submission refused: NEW_REQUESTS_PER_MINUTE")
}

// createSubmission saves the valid request r of u: within u's budget
// (NEW_REQUESTS_PER_MINUTE) when there is one, and refusing an external id
// that another request holds before the budget is looked at, all in the
// store's first step. It returns the reply to send when nothing was saved,
// nil when r is saved.
func (h *Handler) createSubmission(ctx context.Context, u caller, r *provisioning.Request) *Reply {
	var err error
	if b, ok := h.budget(u.id); ok {
		err = h.store.CreateWithin(ctx, r, b)
	} else {
		err = h.store.Create(ctx, r)
	}
	if err == nil {
		return nil
	}
	var taken *provisioning.ExternalIDTaken
	if errors.As(err, &taken) {
		return refusal("⛔ external-id: " + taken.Error())
	}
	var over *store.OverBudget
	if errors.As(err, &over) {
		h.logSubmissionRefused(u)
		return refusal(submissionRefusal(over.Budget.Limit))
	}
	return h.systemFault(u, "create request", err)
}

func (h *Handler) budget(user string) (store.Budget, bool) {
	if h.limiter == nil {
		return store.Budget{}, false
	}
	return h.limiter.Budget(user)
}

// admitSubmission applies the Limiter on its own, right before a valid
// request is saved by a flow that does not use createSubmission. It returns
// the reply to send instead of saving, or nil to go ahead.
func (h *Handler) admitSubmission(ctx context.Context, u caller) *Reply {
	if h.limiter == nil {
		return nil
	}
	why, err := h.limiter.AllowSubmission(ctx, u.id)
	if err != nil {
		return h.systemFault(u, "check submission limit", err)
	}
	if why != "" {
		h.logSubmissionRefused(u)
		return refusal(why)
	}
	return nil
}
