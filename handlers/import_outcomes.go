package handlers

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
)

// importFlushEvery is how often the outcome lines of an import's customers
// are posted, together, into the import's thread: fifty customers with four
// steps each are two hundred lines, which one message each would post
// faster than Slack takes messages into one channel (about one a second).
const importFlushEvery = 3 * time.Second

// importOutcomes holds the outcome lines of imports' customers not posted
// yet, in the order they came.
type importOutcomes struct {
	mu      sync.Mutex
	pending map[int64][]string    // import id → lines
	posting map[int64]*sync.Mutex // import id → held while its lines are posted
}

// queueImportLine keeps line (an outcome of a customer of import imp, or of
// one of its steps) for the import's next post, which it schedules when
// none is.
func (h *Handler) queueImportLine(ctx context.Context, imp int64, line string) {
	o := &h.imports
	o.mu.Lock()
	if o.pending == nil {
		o.pending, o.posting = map[int64][]string{}, map[int64]*sync.Mutex{}
	}
	first := len(o.pending[imp]) == 0
	o.pending[imp] = append(o.pending[imp], line)
	o.mu.Unlock()
	if first {
		time.AfterFunc(importFlushEvery, func() {
			h.queue.Go(context.WithoutCancel(ctx), "post import outcomes", func(ctx context.Context) error { return h.flushImport(ctx, imp) })
		})
	}
}

// importLinesPending reports whether lines wait for their post (Busy).
func (h *Handler) importLinesPending() bool {
	h.imports.mu.Lock()
	defer h.imports.mu.Unlock()
	for _, lines := range h.imports.pending {
		if len(lines) > 0 {
			return true
		}
	}
	return false
}

// flushImport posts the lines kept for import imp into its thread (to its
// requester when it has no summary), as few messages as they fit in. Posts
// of one import never overlap, so its lines keep their order.
func (h *Handler) flushImport(ctx context.Context, imp int64) error {
	o := &h.imports
	o.mu.Lock()
	mu := o.posting[imp]
	if mu == nil {
		mu = &sync.Mutex{}
		o.posting[imp] = mu
	}
	o.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	o.mu.Lock()
	lines := o.pending[imp]
	delete(o.pending, imp)
	o.mu.Unlock()
	if len(lines) == 0 {
		return nil
	}
	r, err := h.store.Get(ctx, imp)
	if err != nil {
		return err
	}
	for _, part := range chunkLines(lines, chat.MaxMessageChars) {
		text := strings.Join(part, "\n")
		m := chat.Message{Text: text, Outcome: chat.Unmrkdwn(text)}
		if r.Summary.TS != "" {
			err = h.msg.PostThread(ctx, r.Summary.Channel, r.Summary.TS, m)
		} else {
			err = h.msg.DM(ctx, r.Requester, m)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// chunkLines groups lines into runs of at most limit characters (a longer
// line stays alone).
func chunkLines(lines []string, limit int) [][]string {
	var out [][]string
	var cur []string
	size := 0
	for _, l := range lines {
		if len(cur) > 0 && size+len(l)+1 > limit {
			out, cur, size = append(out, cur), nil, 0
		}
		cur = append(cur, l)
		size += len(l) + 1
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// importMember reports whether r is a customer of an import, or a step of
// one, whose outcome goes with the import's others.
func importMember(r *request.Request) bool {
	return r.Import != 0 && r.Kind != request.KindImport
}
