package bot

import (
	"context"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"
)

// pruneAbove is the number of tracked messages above which idle throttle
// states are dropped, so a long-running bot does not keep one per message.
const pruneAbove = 512

// Update replaces the message (channel, ts), at most once per 2 s per
// message. Within the window the call returns at once and the content is
// kept; later calls overwrite it (the newest wins) and it is sent when the
// window opens, so the final state of a message is never lost. Errors of a
// deferred update are logged, not returned.
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
		st = &updateState{}
		s.updates[key] = st
	}
	if !st.scheduled && st.pending == nil && (st.last.IsZero() || now.Sub(st.last) >= s.updateEvery) {
		st.last = now
		s.mu.Unlock()
		st.sendMu.Lock()
		defer st.sendMu.Unlock()
		return s.sendUpdate(ctx, channel, ts, m)
	}
	// The caller's context ends with its request; the deferred send must not.
	st.pending = &pendingUpdate{ctx: context.WithoutCancel(ctx), m: m}
	if !st.scheduled {
		st.scheduled = true
		st.gen++
		gen := st.gen
		delay := max(st.last.Add(s.updateEvery).Sub(now), 0)
		st.stop = s.clock.AfterFunc(delay, func() { s.flushUpdate(key, gen) })
	}
	s.mu.Unlock()
	return nil
}

// Flush sends every deferred update now. Call it on shutdown so the last
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
	for _, k := range keys {
		if ctx.Err() != nil {
			s.log.WithField("pending", len(keys)).Warn("shutdown: some deferred chat.updates not sent")
			return
		}
		s.flushUpdate(k, 0)
	}
}

// flushUpdate sends the pending content of key. gen is the timer that
// fired (0: forced by Flush); a timer made stale by Flush does nothing.
func (s *SlackAPI) flushUpdate(key msgKey, gen uint64) {
	s.mu.Lock()
	st := s.updates[key]
	s.mu.Unlock()
	if st == nil {
		return
	}
	st.sendMu.Lock()
	defer st.sendMu.Unlock()

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
	if err := s.sendUpdate(ctx, key.channel, key.ts, p.m); err != nil {
		s.log.WithFields(logrus.Fields{"channel": key.channel, "ts": key.ts}).WithError(err).Warn("deferred chat.update failed")
	}
}

// pruneUpdates drops throttle states with nothing pending whose window has
// passed; a later Update simply starts a fresh one. Caller holds s.mu.
func (s *SlackAPI) pruneUpdates() {
	now := s.clock.Now()
	for k, st := range s.updates {
		if !st.scheduled && st.pending == nil && now.Sub(st.last) >= s.updateEvery {
			delete(s.updates, k)
		}
	}
}

func (s *SlackAPI) sendUpdate(ctx context.Context, channel, ts string, m chat.Message) error {
	return s.do(ctx, "chat.update", func() error {
		// Always send blocks, "[]" included: an update replaces the whole
		// message, and without blocks Slack would keep the old ones (buttons).
		m := s.mark(m)
		opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
		_, _, _, err := s.client.UpdateMessageContext(ctx, channel, ts, opts...)
		return err
	})
}
