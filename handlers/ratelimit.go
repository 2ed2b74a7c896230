package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// Limiter is NEW_REQUESTS_PER_MINUTE: the submission budget of each user,
// applied by the store in the step that saves a valid request
// (createSubmission), so refused or invalid input costs nothing.
type Limiter interface {
	// Budget is user's submission budget; ok is false when there is no
	// limit.
	Budget(user string) (b store.Budget, ok bool)
}

// BudgetedCreator saves a request within a submission budget, in the same
// step that refuses a held external id and takes the request's id
// (store.Store.CreateWithin): a refused submission saves nothing, takes no
// id and uses no budget.
type BudgetedCreator interface {
	CreateWithin(ctx context.Context, r *request.Request, b store.Budget) error
}

// submissionWindow is the window of NEW_REQUESTS_PER_MINUTE.
const submissionWindow = time.Minute

// NewSubmissionLimiter limits each user to perMinute accepted submissions in
// any sliding minute, counted in Redis so that replicas share each budget.
// perMinute <= 0 means no limit (a Handler built without configuration, as
// in unit tests).
func NewSubmissionLimiter(perMinute int) Limiter {
	return submissionLimiter{perMinute: perMinute}
}

type submissionLimiter struct{ perMinute int }

func (l submissionLimiter) Budget(user string) (store.Budget, bool) {
	if l.perMinute <= 0 {
		return store.Budget{}, false
	}
	return store.Budget{Key: "submit:" + user, Limit: l.perMinute, Window: submissionWindow}, true
}

// submissionRefusal is what a user over NEW_REQUESTS_PER_MINUTE is told.
// The window slides: the oldest of the last perMinute submissions leaves it
// within a minute, so "in a minute" is always enough.
func submissionRefusal(perMinute int) string {
	return fmt.Sprintf("⛔ you have submitted %d requests in the last minute (NEW_REQUESTS_PER_MINUTE): nothing was submitted, try again in a minute", perMinute)
}

// createSubmission saves the valid request r of u: within u's budget
// (NEW_REQUESTS_PER_MINUTE) when there is one, and refusing an external id
// that another request holds before the budget is looked at, all in the
// store's first step. It returns the reply to send when nothing was saved,
// nil when r is saved.
func (h *Handler) createSubmission(ctx context.Context, u caller, r *request.Request) *Reply {
	r.Replaces = u.replaces
	var err error
	if b, ok := h.budget(u.id); ok {
		err = h.store.CreateWithin(ctx, r, b)
	} else {
		err = h.store.Create(ctx, r)
	}
	if err == nil {
		return nil
	}
	var taken *request.ExternalIDTaken
	if errors.As(err, &taken) {
		return refusal("⛔ external-id: " + taken.Error())
	}
	var over *store.OverBudget
	if errors.As(err, &over) {
		h.log.WithField("user", u.id).Info("submission refused: NEW_REQUESTS_PER_MINUTE")
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
