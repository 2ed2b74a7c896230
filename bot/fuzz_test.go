package bot

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers"
	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// FuzzInteractionPayload drives the real handlers (store on an in-process
// Redis, one pending request to act on) through the HTTP transport with
// signed interaction payloads: shaped ones whose action, value, user and
// view fields are random, and raw ones. No answer may be a 5xx, a
// block_actions ack must have an empty body, and nothing may panic: the
// handlers recover panics into a reply, so the logs are checked for them.
// FuzzSlackRoutes (http_test.go) covers the transport alone.
func FuzzInteractionPayload(f *testing.F) {
	for _, s := range []struct {
		shaped                  bool
		typ, action, value, cbk string
	}{
		{true, "block_actions", "approve", "R-1:" + fuzzHash, ""},
		{true, "block_actions", "reject", "R-1:0000", ""},
		{true, "block_actions", "approve", "R-99:zz", ""},
		{true, "block_actions", "view_rows", "R-1", ""},
		{true, "block_actions", "resend_consent", "R-1", ""},
		{true, "block_actions", "edit_resubmit", "R-1", ""},
		{true, "block_actions", "retry_request", "1", ""},
		{true, "block_actions", "view_payload", "R-1", ""},
		{true, "view_submission", "", "D-1", "customer"},
		{true, "view_submission", "", "", "users"},
		{true, "block_suggestion", "timezone", "Eur", ""},
		{true, "view_closed", "", "D-1", ""},
		{false, `{"type":"block_actions","user":{"id":"UBOB"},"actions":[{"action_id":"approve","value":"1"}]}`, "", "", ""},
		{false, `{"type":"view_submission","view":{"private_metadata":"D-1","state":{"values":{"name":{"value":{"type":"plain_text_input","value":"x"}}}}}}`, "", "", ""},
		{false, `{"type":"block_actions","actions":null}`, "", "", ""},
	} {
		f.Add(s.shaped, s.typ, s.action, s.value, s.cbk, "UBOB")
	}
	srv, h, logs := fuzzServer(f)
	f.Fuzz(func(t *testing.T, shaped bool, typ, action, value, callbackID, user string) {
		payload := typ
		if shaped {
			payload = shapedPayload(typ, action, value, callbackID, user)
		}
		route := "/slack/interactions"
		if strings.Contains(typ, "suggestion") {
			route = "/slack/options"
		}
		w := serve(srv, signedRequest(route, []byte(url.Values{"payload": {payload}}.Encode()), time.Now()))
		h.Wait() // background work (answers, summaries) finishes before the log check
		if w.Code >= 500 {
			t.Fatalf("%s: %d %q for payload %q", route, w.Code, w.Body, payload)
		}
		if route == "/slack/interactions" && typ != "view_submission" && w.Body.Len() > 0 && w.Code == 200 {
			t.Fatalf("a %q ack has a body (Slack shows it as an error): %q", typ, w.Body)
		}
		if l := logs.take(); strings.Contains(l, "panic") {
			t.Fatalf("a handler panicked on payload %q:\n%s", payload, l)
		}
	})
}

// fuzzHash is not the request's hash: approving with it must be refused as
// stale, which is one more path covered.
const fuzzHash = "0123abcd"

func shapedPayload(typ, action, value, callbackID, user string) string {
	p := map[string]any{
		"type": typ, "user": map[string]any{"id": user}, "team": map[string]any{"id": "T1"},
		"channel": map[string]any{"id": "CAPPROVALS"}, "trigger_id": "trig",
		"actions":   []map[string]any{{"action_id": action, "block_id": "approval", "type": "button", "value": value}},
		"action_id": action, "value": value,
		"view": map[string]any{
			"id": "V1", "callback_id": callbackID, "private_metadata": value,
			"state": map[string]any{"values": map[string]any{
				callbackID: map[string]any{"value": map[string]any{"type": "plain_text_input", "value": value}},
			}},
		},
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// fuzzServer is the HTTP transport in front of a real Handler whose
// collaborators outside Redis answer at once and keep nothing.
func fuzzServer(f *testing.F) (*HTTPServer, *handlers.Handler, *lockedLog) {
	st := store.New(storetest.Miniredis(f), "fuzz:")
	spec, _ := json.Marshal(map[string]any{"name": "Fuzz", "externalId": "FZ-1"})
	if err := st.Create(context.Background(), &request.Request{
		Kind: request.KindCustomer, State: request.StatePendingApproval, Requester: "UALICE",
		Subject: "FZ-1", ExternalID: "FZ-1", Spec: spec, Hash: request.HashSpec(spec),
	}); err != nil {
		f.Fatal(err)
	}
	logs := &lockedLog{}
	logger := logrus.New()
	logger.SetOutput(logs)
	h := handlers.New(handlers.Deps{
		Store: st, Templates: st, Messenger: nopMessenger{}, Prechecker: nopWebex{}, Finder: nopWebex{}, Setup: nopWebex{},
		Settings: handlers.Settings{ApprovalChannel: "CAPPROVALS", Approvers: []string{"UBOB", "UCAROL"}, Admins: []string{"UBOB"}, Interactive: true},
		Log:      logrus.NewEntry(logger), Views: nopViews{}, Drafts: st.Drafts(time.Hour),
	})
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	return NewHTTPServer(HTTPOptions{SigningSecret: testSecret, Router: h, Logger: logrus.NewEntry(quiet)}), h, logs
}

// lockedLog is a syncBuffer read in pieces: take returns what was logged
// since its last call and drops it, so long fuzz runs do not grow it.
type lockedLog struct{ syncBuffer }

func (l *lockedLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.b.String()
	l.b.Reset()
	return out
}

type nopMessenger struct{}

func (nopMessenger) Post(context.Context, string, chat.Message) (string, error) {
	return "1700000000.000100", nil
}
func (nopMessenger) PostThread(context.Context, string, string, chat.Message) error { return nil }
func (nopMessenger) Update(context.Context, string, string, chat.Message) error     { return nil }
func (nopMessenger) Ephemeral(context.Context, string, string, chat.Message) error  { return nil }
func (nopMessenger) DM(context.Context, string, chat.Message) error                 { return nil }

type nopViews struct{}

func (nopViews) OpenView(context.Context, string, slack.ModalViewRequest) (string, error) {
	return "V1", nil
}
func (nopViews) UpdateView(context.Context, string, string, slack.ModalViewRequest) error { return nil }

// nopWebex answers every Webex question the handlers ask with "fine".
type nopWebex struct{}

func (nopWebex) PrecheckCustomer(context.Context, *request.CustomerSpec) (request.Precheck, error) {
	return request.Precheck{Status: request.PrecheckOK}, nil
}
func (nopWebex) FindCustomer(context.Context, string, string) (*request.CustomerState, error) {
	return nil, nil
}
func (nopWebex) PrecheckUsers(context.Context, *request.UsersSpec) (worker.UsersPrecheck, error) {
	return worker.UsersPrecheck{Precheck: request.Precheck{Status: request.PrecheckOK}}, nil
}
func (nopWebex) AvailableNumbers(context.Context, request.CustomerRef, string) ([]string, error) {
	return nil, nil
}
func (nopWebex) CheckNumbersAllowed(context.Context, request.CustomerRef, string) error {
	return nil
}
func (nopWebex) ResendConsent(context.Context, int64) (int, error) { return 0, nil }
func (nopWebex) ReadPSTN(context.Context, request.CustomerRef, string) (*worker.PSTNState, string, error) {
	return nil, "", worker.ErrCustomerNotReady
}
func (nopWebex) CheckPSTN(context.Context, *request.PSTNSpec) (string, error) { return "", nil }
func (nopWebex) CheckChange(context.Context, *request.ChangeSpec) (string, error) {
	return "", nil
}
func (nopWebex) CheckRemove(context.Context, *request.RemoveSpec) (string, error) {
	return "", nil
}
func (nopWebex) CheckLocation(context.Context, *request.LocationSpec) (string, error) {
	return "", nil
}
func (nopWebex) RowOutcomes(context.Context, int64) (map[int]request.RowOutcome, error) {
	return nil, nil
}

// panickyStore fails like a bug would: Get panics.
type panickyStore struct{ *store.Store }

func (panickyStore) Get(context.Context, int64) (*request.Request, error) {
	panic("store exploded")
}

// recordingMessenger keeps the ephemeral answers.
type recordingMessenger struct {
	nopMessenger
	mu   sync.Mutex
	sent []string
}

func (m *recordingMessenger) Ephemeral(_ context.Context, _, _ string, msg chat.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg.Text)
	return nil
}

// TestHandlerPanicBecomesErrorWithRef: a panic inside the real handlers, on
// a slash command and on a click, reaches the user as an error with a ref
// that is in the logs, and the transport answers 200 as for any error.
func TestHandlerPanicBecomesErrorWithRef(t *testing.T) {
	t.Parallel()
	st := store.New(storetest.Miniredis(t), "panic:")
	logs := &lockedLog{}
	logger := logrus.New()
	logger.SetOutput(logs)
	msg := &recordingMessenger{}
	h := handlers.New(handlers.Deps{Store: panickyStore{st}, Templates: st, Messenger: msg,
		Settings: handlers.Settings{ApprovalChannel: "CAPPROVALS", Approvers: []string{"U0BOB"}}, Log: logrus.NewEntry(logger)})
	srv := NewHTTPServer(HTTPOptions{SigningSecret: testSecret, Router: h, Logger: logrus.NewEntry(logger)})
	refRE := regexp.MustCompile(`something went wrong on our side \(ref ([0-9a-f]{8})\)`)
	tests := []struct {
		name, route string
		body        []byte
		answer      func(w *httptest.ResponseRecorder) string
	}{
		{"slash command", "/slack/commands",
			[]byte(url.Values{"command": {"/onboard-customer"}, "text": {"status R-1"}, "user_id": {"U0ALICE"}, "channel_id": {"C1"}}.Encode()),
			func(w *httptest.ResponseRecorder) string { return w.Body.String() }},
		{"button", "/slack/interactions",
			payloadBody(`{"type":"block_actions","user":{"id":"U0BOB"},"channel":{"id":"CAPPROVALS"},"actions":[{"action_id":"approve","block_id":"approval","type":"button","value":"R-1:abcd"}]}`),
			func(*httptest.ResponseRecorder) string {
				h.Wait()
				msg.mu.Lock()
				defer msg.mu.Unlock()
				return strings.Join(msg.sent, "\n")
			}},
	}
	for _, tt := range tests {
		w := serve(srv, signedRequest(tt.route, tt.body, time.Now()))
		if w.Code != 200 {
			t.Fatalf("%s: status %d %q", tt.name, w.Code, w.Body)
		}
		m := refRE.FindStringSubmatch(tt.answer(w))
		if m == nil {
			t.Fatalf("%s: the user was not told of the error with a ref (body %q, answer %q)\n%s", tt.name, w.Body, tt.answer(w), logs.take())
		}
		if l := logs.take(); !strings.Contains(l, m[1]) || !strings.Contains(l, "store exploded") {
			t.Fatalf("%s: ref %s and the panic are not in the logs:\n%s", tt.name, m[1], l)
		}
	}
}
