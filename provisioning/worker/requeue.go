package worker

import (
	"context"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// StateLister lists requests in some states, least recently updated first.
type StateLister interface {
	InStates(ctx context.Context, states []request.State, limit int) ([]*request.Request, error)
}

// requeueBatch bounds the requests one requeue reads.
const requeueBatch = 100

// RequeueLost queues again the jobs of requests approved or committing for
// longer than olderThan: a job lost between the approval and the stream (an
// enqueue that failed, a crash before it was written) would leave them
// there for ever. For a request a live worker holds, the duplicate job is
// acknowledged at once (its commit lock is held), so this is safe on every
// replica at any time. Requests comes from lister; w.Jobs takes the jobs.
func (w *Worker) RequeueLost(ctx context.Context, lister StateLister, olderThan time.Duration) {
	stuck, err := lister.InStates(ctx, []request.State{request.StateApproved, request.StateCommitting}, requeueBatch)
	if err != nil {
		if ctx.Err() == nil {
			w.log().WithError(err).Warn("list approved requests")
		}
		return
	}
	now := w.now()
	for _, r := range stuck {
		if now.Sub(r.UpdatedAt) < olderThan {
			continue
		}
		if err := w.enqueue(ctx, r); err != nil {
			w.log().WithError(err).WithField("request", r.Ref()).Warn("requeue approved request")
		}
	}
}
