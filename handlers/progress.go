package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

const (
	actionViewPayload = "view_payload"
	progressBarWidth  = 20
	// progressTimeout bounds the summary update made on the worker's
	// goroutine: a slow Slack must not hold a batch back for long.
	progressTimeout = 5 * time.Second
)

// progressRE matches the worker's batch counts: "120/200 provisioned".
var progressRE = regexp.MustCompile(`^(\d+)/(\d+)\b`)

// progressBook remembers the newest count of each batch being committed,
// so the summary can show a bar. It lives in memory: the replica whose
// worker commits the batch is the one that renders its progress.
type progressBook struct {
	mu   sync.Mutex
	byID map[int64][2]int
}

func (p *progressBook) set(id int64, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byID == nil {
		p.byID = map[int64][2]int{}
	}
	p.byID[id] = [2]int{done, total}
}

// get returns r's count while r is being committed, and forgets it once r
// has moved on (the bar would be stale).
func (p *progressBook) get(r *request.Request) (done, total int, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.byID[r.ID]
	if !ok {
		return 0, 0, false
	}
	if r.State != request.StateCommitting {
		delete(p.byID, r.ID)
		return 0, 0, false
	}
	return c[0], c[1], true
}

// batchProgress takes a batch count from the worker ("120/200 provisioned")
// and shows it as a bar on the summary instead of a thread message per
// count. It reports whether text was such a count. The update runs on the
// caller's goroutine so that it cannot overtake the final summary of
// Settled; the Slack client throttles it to one chat.update per 2 s.
func (h *Handler) batchProgress(ctx context.Context, r *request.Request, text string) bool {
	m := progressRE.FindStringSubmatch(text)
	if r.Kind != request.KindUsers || m == nil {
		return false
	}
	done, err1 := strconv.Atoi(m[1])
	total, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil || total <= 0 {
		return false
	}
	if r.Summary.TS == "" {
		return true // no summary to carry a bar, and nothing would clear it
	}
	h.ux.progress.set(r.ID, min(done, total), total)
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), progressTimeout)
	defer cancel()
	if err := h.refreshSummary(uctx, r); err != nil {
		h.log.WithError(err).WithField("request", r.Ref()).Warn("progress update")
	}
	return true
}

// progressBar renders "▓▓▓▓▓░░░░░ 120/200".
func progressBar(done, total int) string {
	if total <= 0 {
		return ""
	}
	filled := done * progressBarWidth / total
	return strings.Repeat("▓", filled) + strings.Repeat("░", progressBarWidth-filled) + fmt.Sprintf(" %d/%d", done, total)
}

// progressBlocks is the summary's bar while a batch commits.
func (h *Handler) progressBlocks(r *request.Request) []slack.Block {
	done, total, ok := h.ux.progress.get(r)
	if !ok {
		return nil
	}
	return []slack.Block{slack.NewContextBlock("progress", chat.Md("*Progress:* `"+progressBar(done, total)+"`"))}
}

// viewPayload shows the caller exactly what an approval sends: the
// normalised spec whose hash the summary shows. A users batch holds
// personal data, so only approvers and its requester see it.
func (h *Handler) viewPayload(ctx context.Context, u caller, id int64) *Reply {
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return h.lookupFault(u, id, err)
	}
	if r.Kind == request.KindUsers && u.id != r.Requester && !h.isApprover(u.id) {
		return refusal(fmt.Sprintf("⛔ %s: only approvers and its requester can see a batch's payload (personal data)", r.Ref()))
	}
	return &Reply{Text: payloadText(r)}
}

// payloadText renders a request's spec as indented JSON in a code block,
// cut to one message with "… and N more characters".
func payloadText(r *request.Request) string {
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, r.Spec, "", "  "); err != nil {
		pretty.Reset()
		pretty.Write(r.Spec)
	}
	pretty = *bytes.NewBuffer(literalJSON(pretty.Bytes()))
	head := fmt.Sprintf("*%s payload* (%s, hash `%s`) — what approval sends to Webex; ids resolved at commit are not part of it:\n", r.Ref(), r.Kind, r.Hash)
	body := []rune(pretty.String())
	limit := chat.MaxMessageChars - len([]rune(head)) - 100
	tail := ""
	if len(body) > limit {
		tail = fmt.Sprintf("\n… and %d more characters (View rows lists every row)", len(body)-limit)
		body = body[:limit]
	}
	return head + "```\n" + chat.Esc(string(body)) + "\n```" + tail
}

// literalJSON undoes encoding/json's HTML escaping (\u003c, \u003e,
// \u0026 for <, >, &) so the payload shows values as they were typed; the
// text is escaped for mrkdwn afterwards. An escaped backslash is copied as
// it is, so a typed "\u003c" stays what it was.
func literalJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch string(b[i+2 : i+6]) {
			case "003c":
				out, i = append(out, '<'), i+5
				continue
			case "003e":
				out, i = append(out, '>'), i+5
				continue
			case "0026":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		out, i = append(out, b[i], b[i+1]), i+1
	}
	return out
}
