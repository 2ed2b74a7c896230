package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/onboardbot/onboardbot/handlers"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// fakeRouter records what reached it and answers with fixed replies.
type fakeRouter struct {
	mu       sync.Mutex
	commands []slack.SlashCommand
	inters   []*slack.InteractionCallback
	events   []slackevents.EventsAPIEvent
	reply    *handlers.Reply
	panicMsg string
}

func (f *fakeRouter) Command(_ context.Context, cmd slack.SlashCommand) *handlers.Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicMsg != "" {
		panic(f.panicMsg)
	}
	f.commands = append(f.commands, cmd)
	return f.reply
}

func (f *fakeRouter) Interaction(_ context.Context, cb *slack.InteractionCallback) *handlers.Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inters = append(f.inters, cb)
	return f.reply
}

func (f *fakeRouter) Event(_ context.Context, ev slackevents.EventsAPIEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
}

func (f *fakeRouter) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.commands) + len(f.inters) + len(f.events)
}

// testServer returns a server, its router and the log output.
func testServer(t *testing.T, mutate func(*HTTPOptions)) (*HTTPServer, *fakeRouter, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	logger := logrus.New()
	logger.SetOutput(logs)
	logger.SetLevel(logrus.DebugLevel)
	router := &fakeRouter{}
	o := HTTPOptions{SigningSecret: testSecret, Router: router, Logger: logrus.NewEntry(logger), Now: time.Now}
	if mutate != nil {
		mutate(&o)
	}
	return NewHTTPServer(o), router, logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func signature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// signedRequest builds a request signed like Slack's at time at.
func signedRequest(path string, body []byte, at time.Time) *http.Request {
	ts := strconv.FormatInt(at.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", signature(testSecret, ts, body))
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

var commandBody = []byte(url.Values{
	"command": {"/onboard-customer"}, "text": {"help"}, "user_id": {"U0ALICE"},
	"channel_id": {"C0GENERAL"}, "trigger_id": {"1.2.abc"},
}.Encode())

func payloadBody(payload string) []byte {
	return []byte(url.Values{"payload": {payload}}.Encode())
}

func TestSignatureMatrix(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name  string
		build func() *http.Request
		want  int
	}{
		{"valid", func() *http.Request { return signedRequest("/slack/commands", commandBody, now) }, 200},
		{"missing headers", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(commandBody))
		}, 401},
		{"missing signature", func() *http.Request {
			r := signedRequest("/slack/commands", commandBody, now)
			r.Header.Del("X-Slack-Signature")
			return r
		}, 401},
		{"missing timestamp", func() *http.Request {
			r := signedRequest("/slack/commands", commandBody, now)
			r.Header.Del("X-Slack-Request-Timestamp")
			return r
		}, 401},
		{"wrong secret", func() *http.Request {
			r := signedRequest("/slack/commands", commandBody, now)
			ts := r.Header.Get("X-Slack-Request-Timestamp")
			r.Header.Set("X-Slack-Signature", signature("another-secret", ts, commandBody))
			return r
		}, 401},
		{"malformed signature", func() *http.Request {
			r := signedRequest("/slack/commands", commandBody, now)
			r.Header.Set("X-Slack-Signature", "v0=not-hex")
			return r
		}, 401},
		{"stale timestamp", func() *http.Request { return signedRequest("/slack/commands", commandBody, now.Add(-6*time.Minute)) }, 401},
		{"future timestamp", func() *http.Request { return signedRequest("/slack/commands", commandBody, now.Add(6*time.Minute)) }, 401},
		{"tampered body", func() *http.Request {
			r := signedRequest("/slack/commands", commandBody, now)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(commandBody, []byte("help"), []byte("list"), 1)))
			return r
		}, 401},
		{"signed interaction", func() *http.Request {
			return signedRequest("/slack/interactions", payloadBody(`{"type":"block_actions","user":{"id":"U0BOB"}}`), now)
		}, 200},
		{"unsigned interaction", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/slack/interactions", bytes.NewReader(payloadBody(`{"type":"block_actions"}`)))
		}, 401},
		{"unsigned event", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(`{"type":"url_verification","challenge":"x"}`))
		}, 401},
		{"unsigned options", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/slack/options", bytes.NewReader(payloadBody(`{"type":"block_suggestion"}`)))
		}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, router, logs := testServer(t, nil)
			w := serve(srv, tt.build())
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.want == 200]; router.calls() != want {
				t.Errorf("router called %d times, want %d", router.calls(), want)
			}
			if strings.Contains(logs.String(), testSecret) {
				t.Error("signing secret in the logs")
			}
		})
	}
}

func TestInjectedClockDecidesStaleness(t *testing.T) {
	t.Parallel()
	srv, router, _ := testServer(t, func(o *HTTPOptions) {
		o.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
	})
	if w := serve(srv, signedRequest("/slack/commands", commandBody, time.Now())); w.Code != 401 || router.calls() != 0 {
		t.Fatalf("status %d, %d router calls; want 401 and none", w.Code, router.calls())
	}
}

func TestNoSigningSecretRefusesAll(t *testing.T) {
	t.Parallel()
	srv, router, _ := testServer(t, func(o *HTTPOptions) { o.SigningSecret = "" })
	if w := serve(srv, signedRequest("/slack/commands", commandBody, time.Now())); w.Code != 401 || router.calls() != 0 {
		t.Fatalf("status %d with no secret configured, want 401", w.Code)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		size int
		want int
	}{{maxBody + 1, 413}, {maxBody, 200}} {
		srv, router, _ := testServer(t, nil)
		// A valid form whose text fills the body to exactly tt.size bytes.
		prefix := "command=%2Fonboard-customer&user_id=U0A&text="
		body := []byte(prefix + strings.Repeat("a", tt.size-len(prefix)))
		w := serve(srv, signedRequest("/slack/commands", body, time.Now()))
		if w.Code != tt.want {
			t.Errorf("%d bytes: status %d, want %d", tt.size, w.Code, tt.want)
		}
		if tt.want == 413 && router.calls() != 0 {
			t.Error("router called for an oversized body")
		}
	}
}

func TestCommandReply(t *testing.T) {
	t.Parallel()
	srv, router, _ := testServer(t, nil)
	w := serve(srv, signedRequest("/slack/commands?text=evil&user_id=UEVIL", commandBody, time.Now()))
	if w.Code != 200 || w.Body.Len() != 0 {
		t.Fatalf("nil reply: status %d body %q, want empty 200", w.Code, w.Body)
	}
	if got := router.commands[0]; got.Text != "help" || got.UserID != "U0ALICE" || got.TriggerID != "1.2.abc" {
		t.Errorf("parsed %+v; the query string must not override the signed body", got)
	}

	router.reply = &handlers.Reply{Text: "hello", Blocks: []slack.Block{slack.NewDividerBlock()}}
	w = serve(srv, signedRequest("/slack/commands", commandBody, time.Now()))
	var got struct {
		ResponseType string           `json:"response_type"`
		Text         string           `json:"text"`
		Blocks       []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("reply %q: %v", w.Body, err)
	}
	if got.ResponseType != "ephemeral" || got.Text != "hello" || len(got.Blocks) != 1 || got.Blocks[0]["type"] != "divider" {
		t.Errorf("reply = %s", w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestInteractions(t *testing.T) {
	t.Parallel()
	errorsView := slack.NewErrorsViewSubmissionResponse(map[string]string{"email": "not an email"})
	tests := []struct {
		name     string
		path     string
		body     []byte
		reply    *handlers.Reply
		want     int
		wantBody string // "" = empty
		calls    int
	}{
		{"block_actions acks empty even with a reply", "/slack/interactions", payloadBody(`{"type":"block_actions","user":{"id":"U0BOB"}}`), &handlers.Reply{Text: "x"}, 200, "", 1},
		{"view_submission nil closes the view", "/slack/interactions", payloadBody(`{"type":"view_submission","user":{"id":"U0BOB"}}`), nil, 200, "", 1},
		{"view_submission without View closes", "/slack/interactions", payloadBody(`{"type":"view_submission"}`), &handlers.Reply{Text: "ignored"}, 200, "", 1},
		{"view_submission errors", "/slack/interactions", payloadBody(`{"type":"view_submission"}`), &handlers.Reply{View: errorsView}, 200, `{"response_action":"errors","errors":{"email":"not an email"}}`, 1},
		{"no payload in body", "/slack/interactions", []byte("foo=bar"), nil, 400, "payload missing from the request body\n", 0},
		{"payload not JSON", "/slack/interactions", payloadBody(`{nope`), nil, 400, "malformed payload\n", 0},
		{"options without OptionsRouter", "/slack/options", payloadBody(`{"type":"block_suggestion","value":"de"}`), nil, 200, `{"options":[]}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, router, _ := testServer(t, nil)
			router.reply = tt.reply
			w := serve(srv, signedRequest(tt.path, tt.body, time.Now()))
			if w.Code != tt.want || w.Body.String() != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body, tt.want, tt.wantBody)
			}
			if router.calls() != tt.calls {
				t.Errorf("router called %d times, want %d", router.calls(), tt.calls)
			}
		})
	}
}

func TestQueryStringPayloadIgnored(t *testing.T) {
	t.Parallel()
	srv, router, _ := testServer(t, nil)
	evil := url.QueryEscape(`{"type":"block_actions","user":{"id":"UEVIL"}}`)
	// Signed body without a payload, payload smuggled in the query string.
	w := serve(srv, signedRequest("/slack/interactions?payload="+evil, []byte("x=1"), time.Now()))
	if w.Code != 400 || router.calls() != 0 {
		t.Fatalf("status %d, %d router calls; want 400 and none", w.Code, router.calls())
	}
	// With both, the signed body wins.
	w = serve(srv, signedRequest("/slack/interactions?payload="+evil, payloadBody(`{"type":"block_actions","user":{"id":"U0BOB"}}`), time.Now()))
	if w.Code != 200 || router.calls() != 1 || router.inters[0].User.ID != "U0BOB" {
		t.Fatalf("status %d; the router saw %+v", w.Code, router.inters)
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	srv, router, _ := testServer(t, nil)
	w := serve(srv, signedRequest("/slack/events", []byte(`{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","token":"x"}`), time.Now()))
	if w.Code != 200 || w.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("challenge: %d %q", w.Code, w.Body)
	}
	cb := `{"type":"event_callback","event_id":"Ev1","team_id":"T1","event":{"type":"app_home_opened","user":"U0ALICE","tab":"home","channel":"D1"}}`
	w = serve(srv, signedRequest("/slack/events", []byte(cb), time.Now()))
	if w.Code != 200 || len(router.events) != 1 {
		t.Fatalf("event_callback: %d, %d events routed", w.Code, len(router.events))
	}
	if ev, ok := router.events[0].InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); !ok || ev.User != "U0ALICE" {
		t.Errorf("inner event = %#v", router.events[0].InnerEvent.Data)
	}
	w = serve(srv, signedRequest("/slack/events", []byte(`{"type":"event_callback","event_id":"Ev2","event":{"type":"no_such_event"}}`), time.Now()))
	if w.Code != 200 || len(router.events) != 1 {
		t.Errorf("unknown inner event: %d, %d events routed; want 200 and not routed", w.Code, len(router.events))
	}
	w = serve(srv, signedRequest("/slack/events", []byte(`{not json`), time.Now()))
	if w.Code != 400 {
		t.Errorf("malformed event: %d, want 400", w.Code)
	}
}

// plainRouter has no Event method: events are acked and dropped.
type plainRouter struct{ handlers.Router }

func TestEventsWithoutEventRouter(t *testing.T) {
	t.Parallel()
	srv, router, _ := testServer(t, func(o *HTTPOptions) { o.Router = plainRouter{o.Router} })
	w := serve(srv, signedRequest("/slack/events", []byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_home_opened","user":"U1"}}`), time.Now()))
	if w.Code != 200 || router.calls() != 0 {
		t.Fatalf("got %d with %d calls", w.Code, router.calls())
	}
}

func TestPanicBecomes500WithRef(t *testing.T) {
	t.Parallel()
	srv, router, logs := testServer(t, nil)
	router.panicMsg = "boom"
	w := serve(srv, signedRequest("/slack/commands", commandBody, time.Now()))
	if w.Code != 500 {
		t.Fatalf("status %d, want 500", w.Code)
	}
	m := regexp.MustCompile(`ref ([0-9a-f]{8})`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no ref in %q", w.Body)
	}
	if !strings.Contains(logs.String(), m[1]) {
		t.Errorf("ref %s not logged:\n%s", m[1], logs)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	metrics := NewMetrics()
	var readyErr error
	var mu sync.Mutex
	srv, _, _ := testServer(t, func(o *HTTPOptions) {
		o.Metrics = metrics.Handler()
		o.Stats = metrics
		o.Ready = func(context.Context) error { mu.Lock(); defer mu.Unlock(); return readyErr }
	})
	get := func(path string) *httptest.ResponseRecorder {
		return serve(srv, httptest.NewRequest(http.MethodGet, path, nil))
	}
	if w := get("/healthz"); w.Code != 200 || !strings.HasPrefix(w.Body.String(), "ok") {
		t.Errorf("healthz: %d %q", w.Code, w.Body)
	}
	if w := get("/readyz"); w.Code != 200 {
		t.Errorf("readyz: %d %q", w.Code, w.Body)
	}
	mu.Lock()
	readyErr = errors.New("redis: dial tcp 10.0.0.1:6379: connection refused (secret " + testSecret + ")")
	mu.Unlock()
	w := get("/readyz")
	if w.Code != 503 || !strings.Contains(w.Body.String(), "redis") || strings.Contains(w.Body.String(), testSecret) {
		t.Errorf("readyz failing: %d %q", w.Code, w.Body)
	}
	serve(srv, signedRequest("/slack/commands", commandBody, time.Now()))
	w = get("/metrics")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `onboardbot_ack_seconds_count{route="commands"} 1`) {
		t.Errorf("metrics: %d, ack histogram missing", w.Code)
	}
	if w := serve(srv, httptest.NewRequest(http.MethodGet, "/slack/commands", nil)); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /slack/commands: %d, want 405", w.Code)
	}
}

func TestProbesOnlyWithoutRouter(t *testing.T) {
	t.Parallel()
	srv := NewHTTPServer(HTTPOptions{Logger: logrus.NewEntry(logrus.New())})
	if w := serve(srv, httptest.NewRequest(http.MethodGet, "/healthz", nil)); w.Code != 200 {
		t.Errorf("healthz: %d", w.Code)
	}
	if w := serve(srv, signedRequest("/slack/commands", commandBody, time.Now())); w.Code != 404 {
		t.Errorf("Slack route without a Router: %d, want 404", w.Code)
	}
}

// FuzzSlackRoutes feeds signed bodies of any shape to every Slack route: the
// transport must answer without a 5xx (the fake router never fails).
func FuzzSlackRoutes(f *testing.F) {
	f.Add(uint8(0), commandBody)
	f.Add(uint8(1), payloadBody(`{"type":"view_submission","view":{"state":{"values":{}}}}`))
	f.Add(uint8(2), payloadBody(`{"type":"block_suggestion","value":"de"}`))
	f.Add(uint8(3), []byte(`{"type":"event_callback","event":{"type":"app_home_opened"}}`))
	f.Add(uint8(3), []byte(`{"type":"url_verification","challenge":"c"}`))
	routes := []string{"/slack/commands", "/slack/interactions", "/slack/options", "/slack/events"}
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	srv := NewHTTPServer(HTTPOptions{SigningSecret: testSecret, Router: nopRouter{}, Logger: logrus.NewEntry(logger)})
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		w := serve(srv, signedRequest(routes[int(route)%len(routes)], body, time.Now()))
		if w.Code >= 500 {
			t.Fatalf("%s: %d %q", routes[int(route)%len(routes)], w.Code, w.Body)
		}
	})
}

// nopRouter keeps nothing, so long fuzz runs do not grow memory.
type nopRouter struct{}

func (nopRouter) Command(context.Context, slack.SlashCommand) *handlers.Reply { return nil }
func (nopRouter) Interaction(context.Context, *slack.InteractionCallback) *handlers.Reply {
	return nil
}

// A static reply (help) is encoded once per text and answered the same as
// any other; another static text gets its own answer.
func TestStaticReplyAnswers(t *testing.T) {
	t.Parallel()
	srv, router, _ := testServer(t, nil)
	body := []byte(url.Values{"command": {"/onboard-customer"}, "text": {"help"}, "user_id": {"U1"}}.Encode())
	want := func(text string) string {
		b, _ := json.Marshal(map[string]string{"response_type": "ephemeral", "text": text})
		return string(b)
	}
	for _, text := range []string{"*help* <one> & two", "*help* <one> & two", "another help"} {
		router.mu.Lock()
		router.reply = &handlers.Reply{Text: text, Static: true}
		router.mu.Unlock()
		w := serve(srv, signedRequest("/slack/commands", body, time.Now()))
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%q: status %d, content type %q", text, w.Code, w.Header().Get("Content-Type"))
		}
		var got, exp map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("%q: body %q: %v", text, w.Body, err)
		}
		_ = json.Unmarshal([]byte(want(text)), &exp)
		if !maps.Equal(got, exp) {
			t.Fatalf("%q: answered %v, want %v", text, got, exp)
		}
	}
}

// slashCommand reads every field slack-go's SlashCommandParse reads, alike.
func TestSlashCommandMatchesSlackGo(t *testing.T) {
	form := url.Values{
		"token": {"tok"}, "team_id": {"T1"}, "team_domain": {"acme"}, "enterprise_id": {"E1"},
		"enterprise_name": {"Acme Group"}, "is_enterprise_install": {"true"}, "channel_id": {"C1"},
		"channel_name": {"ops"}, "user_id": {"U1"}, "user_name": {"alice"}, "command": {"/onboard-customer"},
		"text": {"new name=Ä & Ö <x> external-id=MS-1"}, "response_url": {"https://hooks.slack.com/commands/1"},
		"trigger_id": {"1.2.3"}, "api_app_id": {"A1"},
	}
	body := form.Encode()
	got, err := slashCommand([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	want, err := slack.SlashCommandParse(req)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("slashCommand = %+v\nSlashCommandParse = %+v", got, want)
	}
	if _, err := slashCommand([]byte("text=%zz")); err == nil {
		t.Error("a malformed body was accepted")
	}
}
