package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers"
)

// fakeSocketSlack answers apps.connections.open with its own websocket URL
// and, on each connection, says hello and sends the envelopes of that
// connection; acks are collected by envelope id.
type fakeSocketSlack struct {
	*httptest.Server
	t *testing.T
	// perConn[i] are the envelopes sent on the i-th connection; a
	// connection past the list gets none. closeAfter[i] drops connection i
	// right after sending, to exercise the reconnect loop.
	perConn    [][]map[string]any
	closeAfter map[int]bool

	mu    sync.Mutex
	conns int
	acks  map[string]json.RawMessage
}

func newFakeSocketSlack(t *testing.T, perConn [][]map[string]any, closeAfter map[int]bool) *fakeSocketSlack {
	f := &fakeSocketSlack{t: t, perConn: perConn, closeAfter: closeAfter, acks: map[string]json.RawMessage{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer xapp-test" {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		url := "ws" + strings.TrimPrefix(f.URL, "http") + "/ws"
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": url})
	})
	mux.HandleFunc("/ws", f.serveWS)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSocketSlack) serveWS(w http.ResponseWriter, r *http.Request) {
	// Slack's client sends Origin https://api.slack.com: accept it.
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	f.mu.Lock()
	n := f.conns
	f.conns++
	f.mu.Unlock()
	if err := conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1}); err != nil {
		return
	}
	if n < len(f.perConn) {
		for _, env := range f.perConn[n] {
			if err := conn.WriteJSON(env); err != nil {
				return
			}
		}
	}
	if f.closeAfter[n] {
		return
	}
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			return
		}
		f.mu.Lock()
		f.acks[ack.EnvelopeID] = ack.Payload
		f.mu.Unlock()
	}
}

func (f *fakeSocketSlack) ack(id string) (json.RawMessage, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.acks[id]
	return p, ok
}

// recordingRouter answers commands with a fixed text and records them.
type recordingRouter struct {
	mu       sync.Mutex
	commands []slack.SlashCommand
	reply    string
}

func (r *recordingRouter) Command(_ context.Context, cmd slack.SlashCommand) *handlers.Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commands = append(r.commands, cmd)
	if cmd.Text == "panic" {
		panic("boom")
	}
	return &handlers.Reply{Text: r.reply + " " + cmd.Text}
}

func (r *recordingRouter) Interaction(context.Context, *slack.InteractionCallback) *handlers.Reply {
	return nil
}

func (r *recordingRouter) seen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.commands)
}

func slashEnvelope(id, text string) map[string]any {
	return map[string]any{
		"envelope_id": id, "type": "slash_commands", "accepts_response_payload": true,
		"payload": map[string]any{"command": "/onboard-customer", "text": text, "user_id": "UALICE", "channel_id": "CREQ", "trigger_id": "t1"},
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSocketModeSlashCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		perConn    [][]map[string]any
		closeAfter map[int]bool
		envelope   string // whose ack is checked
		wantAck    string // substring of the ack payload
		wantConns  int
	}{
		{name: "acked with the reply", perConn: [][]map[string]any{{slashEnvelope("env-1", "help")}},
			envelope: "env-1", wantAck: `"text":"hi help"`, wantConns: 1},
		{name: "panicking handler still acked", perConn: [][]map[string]any{{slashEnvelope("env-p", "panic")}},
			envelope: "env-p", wantAck: "", wantConns: 1},
		{name: "after a dropped connection", perConn: [][]map[string]any{nil, {slashEnvelope("env-2", "list")}},
			closeAfter: map[int]bool{0: true}, envelope: "env-2", wantAck: `"response_type":"ephemeral"`, wantConns: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeSocketSlack(t, c.perConn, c.closeAfter)
			router := &recordingRouter{reply: "hi"}
			runner := NewSocketRunner(SocketOptions{AppToken: "xapp-test", BotToken: "xoxb-test", APIURL: fake.URL + "/",
				Router: router, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = runner.Run(ctx); close(done) }()
			t.Cleanup(func() { cancel(); <-done })

			waitUntil(t, "the ack of "+c.envelope, func() bool { _, ok := fake.ack(c.envelope); return ok })
			got, _ := fake.ack(c.envelope)
			if c.wantAck != "" && !strings.Contains(string(got), c.wantAck) {
				t.Fatalf("ack payload = %s, want it to contain %s", got, c.wantAck)
			}
			if router.seen() != 1 {
				t.Fatalf("router saw %d commands, want 1", router.seen())
			}
			fake.mu.Lock()
			conns := fake.conns
			fake.mu.Unlock()
			if conns != c.wantConns {
				t.Fatalf("%d connections, want %d", conns, c.wantConns)
			}
		})
	}
}

func TestSocketAckSizeLimit(t *testing.T) {
	t.Parallel()
	small := commandAck(&handlers.Reply{Text: "ok"})
	big := commandAck(&handlers.Reply{Text: strings.Repeat("x", maxAck)})
	if !fits(small) || fits(big) {
		t.Fatalf("fits(small)=%v fits(big)=%v, want true, false", fits(small), fits(big))
	}
}
