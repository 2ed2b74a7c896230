package worker

import (
	"context"
	"errors"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// CheckWatchList checks every due item once: a round of the replica's
// watch-list loop (every PollInterval). Every replica runs it; each due item
// is checked by one of them at a time, under a per-item lock.
func (w *Worker) CheckWatchList(ctx context.Context) {
	ids, err := w.Watch.DueWatches(ctx, w.now(), 20)
	if err != nil {
		if ctx.Err() == nil {
			w.log().WithError(err).Warn("watch list unavailable")
		}
		return
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		w.checkWatched(ctx, id)
	}
}

func (w *Worker) checkWatched(ctx context.Context, id int64) {
	lock := "watch:" + request.FormatID(id)
	ok, err := w.Watch.TryLock(ctx, lock, w.Consumer, time.Minute)
	if err != nil || !ok {
		return
	}
	defer func() {
		if err := w.Watch.Unlock(context.WithoutCancel(ctx), lock, w.Consumer); err != nil {
			w.log().WithError(err).Warn("unlock watch item")
		}
	}()
	log := w.log().WithField("request", request.FormatID(id))
	r, err := w.Store.Get(ctx, id)
	if err != nil {
		log.WithError(err).Warn("watched request unreadable")
		return
	}
	if r.State == request.StateWaiting && request.SetupKind(r.Kind) {
		w.checkWatchedSetup(ctx, r)
		return
	}
	if r.State == request.StateWaiting && r.Kind == request.KindImport {
		if err := w.checkImport(ctx, r); err != nil {
			log.WithError(err).Warn("import check")
		}
		return
	}
	if r.State != request.StateWaiting || r.Kind != request.KindCustomer || r.Result.CustomerID == "" {
		// Settled elsewhere, or never ours to watch.
		if err := w.Watch.Unwatch(ctx, id); err != nil {
			log.WithError(err).Warn("unwatch")
		}
		return
	}
	cs, err := w.Customers.GetCustomer(ctx, r.Result.CustomerID)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		msg, tid := DescribeFailure(err)
		var we *WebexError
		if errors.As(err, &we) && we.Retryable {
			log.WithField("trackingId", tid).Warn("watched customer check failed; trying later: " + msg)
			if err := w.Watch.Watch(ctx, id, w.now().Add(w.watchInterval())); err != nil {
				log.WithError(err).Warn("rewatch")
			}
			return
		}
		if err := w.fail(ctx, r, request.StateWaiting, msg, tid); err != nil {
			log.WithError(err).Warn("record failure")
		}
		return
	}
	settled, err := w.applyCustomerStatus(ctx, r, cs, request.StateWaiting)
	if err != nil {
		log.WithError(err).Warn("apply watched status")
		return
	}
	if !settled {
		reason := "provisioning"
		if err := w.park(ctx, r, request.StateWaiting, cs.Status, reason); err != nil {
			log.WithError(err).Warn("rewatch")
		}
	}
}
