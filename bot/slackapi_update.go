package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"
)

// pruneAbove is the number of tracked messages above which idle throttle
// states are dropped, so a long-running bot does not keep one per message.
const pruneAbove = 512

// Update replaces the message (channel, ts), at most once per 2 s per
// message. It sends at once only when the message's window is open and
// chat.update's rate limit lets a call go now; else the call returns at once
// and the content is kept: later calls overwrite it (the newest wins) and it
// is sent when the window opens, at chat.update's pace, so the final state
// of a message is never lost and no caller waits behind the rate limit. A
// chat.update that waits its turn takes, when it goes, the newest content
// deferred meanwhile, so a storm of updates of one message becomes one call.
// Updates of one message go out one at a time, never an older content after
// a newer one. Errors of a deferred update are logged, not returned.
func (s *SlackAPI) Update(ctx context.Context, channel, ts string, m chat.Message) error {
	key := msgKey{channel, ts}
	s.mu.Lock()
	now := s.clock.Now()
	if len(s.updates) > max(pruneAbove, s.pruneAt) {
		s.pruneUpdates()
		s.pruneAt = 2 * len(s.updates)
	}
	st := s.updates[key]
	if st == nil {
		st = &updateState{send: make(chan struct{}, 1)}
		s.updates[key] = st
	}
	// A send already under way (waiting its turn under the rate limit) takes
	// this content if it has not gone yet, else the deferred send does.
	if st.busy == 0 && !st.scheduled && st.pending == nil && (st.last.IsZero() || now.Sub(st.last) >= s.updateEvery) &&
		s.pace.free("chat.update", "") {
		st.last = now
		st.busy++
		s.mu.Unlock()
		return s.sendNow(ctx, key, st, m)
	}
	s.deferUpdate(ctx, key, st, m, now)
	s.mu.Unlock()
	return nil
}

// sendNow sends m as the update of key on the caller's goroutine. When the
// call could not go before ctx ended (a 429's Retry-After past its
// deadline), the content is deferred instead of dropped.
func (s *SlackAPI) sendNow(ctx context.Context, key msgKey, st *updateState, m chat.Message) error {
	defer s.idle(st)
	if !st.lock(ctx) {
		return ctx.Err()
	}
	defer st.unlock()
	carried, err := s.sendUpdate(ctx, key, m)
	if !errors.Is(err, errGaveUp) {
		return err
	}
	// Still holding the send lock: nobody has taken newer content since the
	// call took the newest, so none pending means carried is the newest.
	s.mu.Lock()
	if st.pending == nil {
		s.deferUpdate(ctx, key, st, carried, s.clock.Now())
	}
	s.mu.Unlock()
	return nil
}

// deferUpdate keeps m as key's newest content and makes sure a send of it
// is scheduled. Caller holds s.mu.
func (s *SlackAPI) deferUpdate(ctx context.Context, key msgKey, st *updateState, m chat.Message, now time.Time) {
	// The caller's context ends with its request; the deferred send must not.
	st.pending = &pendingUpdate{ctx: context.WithoutCancel(ctx), m: m}
	if st.scheduled {
		return
	}
	st.scheduled = true
	st.gen++
	gen := st.gen
	delay := max(st.last.Add(s.updateEvery).Sub(now), 0)
	st.stop = s.clock.AfterFunc(delay, func() { s.flushUpdate(context.Background(), key, gen) })
}

// lock takes the right to send the message's next chat.update, unless ctx
// ends first.
func (st *updateState) lock(ctx context.Context) bool {
	select {
	case st.send <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (st *updateState) unlock() { <-st.send }

// idle ends a send begun with st.busy++.
func (s *SlackAPI) idle(st *updateState) {
	s.mu.Lock()
	st.busy--
	s.mu.Unlock()
}

// Flush sends every deferred update now, all at once (they still go out at
// chat.update's pace), until ctx ends. Call it on shutdown so the last
// progress of a message is not lost with the process.
func (s *SlackAPI) Flush(ctx context.Context) {
	s.mu.Lock()
	var keys []msgKey
	for k, st := range s.updates {
		if st.pending != nil {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Go(func() { s.flushUpdate(ctx, k, 0) })
	}
	wg.Wait()
	if ctx.Err() == nil {
		return
	}
	left := 0
	s.mu.Lock()
	for _, st := range s.updates {
		if st.pending != nil {
			left++
		}
	}
	s.mu.Unlock()
	if left > 0 {
		s.log.WithField("pending", left).Warn("shutdown: some deferred chat.updates not sent")
	}
}

// flushUpdate sends the pending content of key, unless stop ends first.
// gen is the timer that fired (0: forced by Flush); a timer made stale by
// Flush does nothing.
func (s *SlackAPI) flushUpdate(stop context.Context, key msgKey, gen uint64) {
	s.mu.Lock()
	st := s.updates[key]
	if st != nil {
		st.busy++
	}
	s.mu.Unlock()
	if st == nil {
		return
	}
	defer s.idle(st)
	if !st.lock(stop) {
		return
	}
	defer st.unlock()

	s.mu.Lock()
	if gen != 0 && (!st.scheduled || st.gen != gen) {
		s.mu.Unlock()
		return
	}
	p := st.pending
	st.pending, st.scheduled = nil, false
	if st.stop != nil {
		st.stop()
		st.stop = nil
	}
	if p == nil {
		s.mu.Unlock()
		return
	}
	st.last = s.clock.Now()
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(p.ctx, flushTimeout)
	defer cancel()
	defer context.AfterFunc(stop, cancel)()
	if _, err := s.sendUpdate(ctx, key, p.m); err != nil {
		s.log.WithFields(logrus.Fields{"channel": key.channel, "ts": key.ts}).WithError(err).Warn("deferred chat.update failed")
	}
}

// pruneUpdates drops throttle states with nothing pending or being sent
// whose window has passed; a later Update simply starts a fresh one.
// Caller holds s.mu.
func (s *SlackAPI) pruneUpdates() {
	now := s.clock.Now()
	for k, st := range s.updates {
		if !st.scheduled && st.pending == nil && st.busy == 0 && now.Sub(st.last) >= s.updateEvery {
			delete(s.updates, k)
		}
	}
}

// newest is the content to send for key when its chat.update goes, after
// its wait under the rate limit: m, or what was deferred since, which the
// call then takes (the deferred send finds nothing left). The message's
// window starts now, when the call goes, not when it began to wait. Caller
// holds key's send lock.
func (s *SlackAPI) newest(key msgKey, m chat.Message) chat.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.updates[key]
	if st == nil {
		return m
	}
	st.last = s.clock.Now()
	if st.pending != nil {
		m = st.pending.m
		st.pending = nil
	}
	return m
}

// sendUpdate sends m, or the newer content deferred by the time the call
// goes (see newest), and returns the content it carried last.
func (s *SlackAPI) sendUpdate(ctx context.Context, key msgKey, m chat.Message) (chat.Message, error) {
	err := s.do(ctx, "chat.update", func() error {
		m = s.newest(key, m) // again on each retry: a 429 may have been long
		// Always send blocks, "[]" included: an update replaces the whole
		// message, and without blocks Slack would keep the old ones (buttons).
		mm := s.mark(m)
		opts := []slack.MsgOption{slack.MsgOptionText(mm.Text, false), slack.MsgOptionBlocks(mm.Blocks...)}
		_, _, _, err := s.client.UpdateMessageContext(ctx, key.channel, key.ts, opts...)
		return err
	})
	return m, err
}
