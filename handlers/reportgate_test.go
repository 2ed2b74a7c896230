package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/onboardbot/onboardbot/handlers/chat"
)

// orderMessenger records the texts it is asked to send, in order.
type orderMessenger struct {
	mu    sync.Mutex
	texts []string
}

func (m *orderMessenger) add(text string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.texts = append(m.texts, text)
	return nil
}

func (m *orderMessenger) Post(_ context.Context, _ string, msg chat.Message) (string, error) {
	return "1", m.add(msg.Text)
}
func (m *orderMessenger) PostThread(_ context.Context, _, _ string, msg chat.Message) error {
	return m.add(msg.Text)
}
func (m *orderMessenger) Update(context.Context, string, string, chat.Message) error { return nil }
func (m *orderMessenger) Ephemeral(_ context.Context, _, _ string, msg chat.Message) error {
	return m.add(msg.Text)
}
func (m *orderMessenger) DM(_ context.Context, _ string, msg chat.Message) error {
	return m.add(msg.Text)
}

// The answer to an approval goes out before what the request reports
// afterwards, even when the worker reports before the answer is queued
// (the worst case, forced here). It is a race without the gate: run it a
// few times.
func TestReportsWaitForTheApprovalsAnswer(t *testing.T) {
	t.Parallel()
	for range 20 {
		msg := &orderMessenger{}
		h := New(Deps{Log: quietLog(), Messenger: msg})
		release := h.queue.Hold(1)
		h.queue.Report(context.Background(), 1, "outcome", func(ctx context.Context) error {
			return h.msg.PostThread(ctx, "c", "1", chat.Message{Text: "outcome"})
		})
		h.answer(context.Background(), caller{id: "bob", channel: "c"}, &Reply{Text: "answer", release: release})
		h.Wait()
		if len(msg.texts) != 2 || msg.texts[0] != "answer" {
			t.Fatalf("sent %q, want the answer first", msg.texts)
		}
	}
}

// Held reports count as queued work (Busy), other requests' reports are not
// held, and a command's reply releases them when Command returns.
func TestReportsHeldOnlyForTheirRequest(t *testing.T) {
	t.Parallel()
	h := New(Deps{Log: quietLog()})
	release := h.queue.Hold(7)
	var held, other atomic.Bool
	h.queue.Report(context.Background(), 7, "held", func(context.Context) error { held.Store(true); return nil })
	h.queue.Report(context.Background(), 8, "other", func(context.Context) error { other.Store(true); return nil })
	waitUntil(t, other.Load)
	if held.Load() || !h.Busy() {
		t.Fatalf("a report ran while its request's answer was owed (ran %v, busy %v)", held.Load(), h.Busy())
	}
	(&Reply{Text: "👍", release: release}).answered()
	h.Wait()
	if !held.Load() || h.Busy() {
		t.Fatalf("after the answer: ran %v, busy %v", held.Load(), h.Busy())
	}
	release() // a second call is harmless
	(*Reply)(nil).answered()
}
