package handlers

import (
	"context"
	"fmt"
	"time"
)

// Limiter decides whether user may submit one more request now
// (NEW_REQUESTS_PER_MINUTE). It is asked only once a submission is valid and
// about to be saved, so refused or invalid input costs nothing. refusal is
// what the user is told; err is a system fault (Redis unreachable).
type Limiter interface {
	AllowSubmission(ctx context.Context, user string) (refusal string, err error)
}

// RateCounter is the shared sliding-window counter behind the limit
// (store.Store.Allow): every replica counts into the same Redis key, so two
// replicas do not double a user's budget.
type RateCounter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, error)
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

func (l *submissionLimiter) AllowSubmission(ctx context.Context, user string) (string, error) {
	if l == nil || l.counter == nil || l.perMinute <= 0 {
		return "", nil
	}
	ok, err := l.counter.Allow(ctx, "submit:"+user, l.perMinute, submissionWindow)
	if err != nil {
		return "", fmt.Errorf("submission limit of %s: %w", user, err)
	}
	if !ok {
		// The window slides: the oldest of the last perMinute submissions
		// leaves it within a minute, so "in a minute" is always enough.
		return fmt.Sprintf("⛔ you have submitted %d requests in the last minute (NEW_REQUESTS_PER_MINUTE): nothing was submitted, try again in a minute", l.perMinute), nil
	}
	return "", nil
}

// admitSubmission applies the Limiter right before a valid request is saved.
// It returns the reply to send instead of saving, or nil to go ahead.
func (h *Handler) admitSubmission(ctx context.Context, u caller) *Reply {
	if h.limiter == nil {
		return nil
	}
	why, err := h.limiter.AllowSubmission(ctx, u.id)
	if err != nil {
		return h.systemFault(u, "check submission limit", err)
	}
	if why != "" {
		h.log.WithField("user", u.id).Info("submission refused: NEW_REQUESTS_PER_MINUTE")
		return refusal(why)
	}
	return nil
}
