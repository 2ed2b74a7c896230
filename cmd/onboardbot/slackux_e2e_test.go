package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onboardbot/onboardbot/provisioning/request"
)

// uxSlack extends the recording Slack fake with what it does not answer:
// usergroups.users.list (members per group) and views.publish (JSON
// bodies, recorded per user). Everything else goes to the fake.
type uxSlack struct {
	*httptest.Server
	base   *fakeSlack
	groups map[string][]string

	mu         sync.Mutex
	groupReads int
	published  map[string][]string // user → views published, as JSON
	// Socket Mode: envelopes to send on the websocket, acks received.
	envelopes chan map[string]any
	acks      map[string]string
}

func newUXSlack(t *testing.T, base *fakeSlack, groups map[string][]string) *uxSlack {
	u := &uxSlack{base: base, groups: groups, published: map[string][]string{},
		envelopes: make(chan map[string]any, 10), acks: map[string]string{}}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	t.Cleanup(func() { close(u.envelopes) }) // ends the socket's writer
	return u
}

func (u *uxSlack) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch strings.TrimPrefix(r.URL.Path, "/") {
	case "usergroups.users.list":
		_ = r.ParseForm()
		u.mu.Lock()
		u.groupReads++
		u.mu.Unlock()
		members, ok := u.groups[r.Form.Get("usergroup")]
		if !ok {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "no_such_subteam"})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "users": members})
	case "views.publish":
		body, _ := io.ReadAll(r.Body)
		var req struct {
			UserID string          `json:"user_id"`
			View   json.RawMessage `json:"view"`
		}
		_ = json.Unmarshal(body, &req)
		u.mu.Lock()
		u.published[req.UserID] = append(u.published[req.UserID], jsonUnescaper.Replace(string(req.View)))
		u.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "view": map[string]any{"id": "VHOME"}})
	case "apps.connections.open":
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(u.URL, "http") + "/ws"})
	case "ws":
		u.serveSocket(w, r)
	default:
		u.base.serve(w, r)
	}
}

// serveSocket is Slack's Socket Mode end: hello, then the queued
// envelopes; acks are recorded by envelope id.
func (u *uxSlack) serveSocket(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	if conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1}) != nil {
		return
	}
	go func() {
		for env := range u.envelopes {
			if conn.WriteJSON(env) != nil {
				return
			}
		}
	}()
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if conn.ReadJSON(&ack) != nil {
			return
		}
		u.mu.Lock()
		u.acks[ack.EnvelopeID] = jsonUnescaper.Replace(string(ack.Payload))
		u.mu.Unlock()
	}
}

func (u *uxSlack) ack(id string) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.acks[id]
	return p, ok
}

func (u *uxSlack) reads() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.groupReads
}

func (u *uxSlack) home(user string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if v := u.published[user]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// newUXE2E is an end-to-end setup whose Slack also serves user groups and
// App Home: UDAVE is in the approver group SAPPROVERS, UBOB is listed in
// APPROVERS, UALICE and UERIN are requesters.
func newUXE2E(t *testing.T, extraEnv ...string) (*e2e, *uxSlack) {
	e := newE2E(t, append([]string{"APPROVERS", "UBOB", "APPROVER_GROUP", "SAPPROVERS"}, extraEnv...)...)
	ux := newUXSlack(t, e.slack, map[string][]string{"SAPPROVERS": {"UDAVE"}})
	e.env["SLACK_API_URL"] = ux.URL + "/"
	return e, ux
}

// request polls the store until request id satisfies cond.
func (e *e2e) request(id int64, what string, cond func(r *request.Request) bool) *request.Request {
	e.t.Helper()
	var got *request.Request
	waitFor(e.t, what, 20*time.Second, func() bool {
		r, err := e.store().Get(context.Background(), id)
		if err != nil {
			return false
		}
		got = r
		return cond(r)
	})
	return got
}

func prechecked(r *request.Request) bool {
	return r.Precheck.Status != "" && r.Precheck.Status != request.PrecheckRunning
}

// ephemeralTo is every ephemeral answer user got.
func (e *e2e) ephemeralTo(user string) string {
	var b strings.Builder
	for _, c := range e.slack.Calls("chat.postEphemeral") {
		if c.Form.Get("user") == user {
			b.WriteString(c.Form.Get("text") + "\n")
		}
	}
	return b.String()
}

func TestApproverGroupMemberApproves(t *testing.T) {
	t.Parallel()
	e, ux := newUXE2E(t)
	url := e.start()
	postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", msCustomer), time.Now())
	r := e.request(1, "the precheck", prechecked)
	waitFor(t, "the approver group read", 10*time.Second, func() bool { return ux.reads() > 0 })
	value := r.Ref() + ":" + r.Hash

	for _, c := range []struct{ user, want string }{
		{"UERIN", "only approvers"}, // not in APPROVERS nor in the group
		{"UALICE", "four-eyes"},     // the requester
	} {
		postSigned(t, url+"/slack/interactions", testSecret, clickBody(c.user, "approve", value), time.Now())
		waitFor(t, c.user+"'s refusal", 10*time.Second, func() bool { return strings.Contains(e.ephemeralTo(c.user), c.want) })
	}
	if got := e.request(1, "still pending", func(*request.Request) bool { return true }); got.State != request.StatePendingApproval {
		t.Fatalf("refused clicks changed the request: %s", got.State)
	}
	postSigned(t, url+"/slack/interactions", testSecret, clickBody("UDAVE", "approve", value), time.Now())
	done := e.request(1, "provisioned", func(r *request.Request) bool { return r.State == request.StateDone })
	if done.ApprovedBy != "UDAVE" {
		t.Fatalf("approved by %q, want the group member UDAVE", done.ApprovedBy)
	}
}

// provisionedCustomer runs a customer with limit.webex_calling=2 through
// approval (UBOB) until done: user batches need one.
func provisionedCustomer(t *testing.T, e *e2e, url string) {
	t.Helper()
	cmd := strings.Replace(msCustomer, "package=webex_calling", "package=webex_calling,webex_meetings limit.webex_calling=2", 1)
	postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", cmd), time.Now())
	r := e.request(1, "the customer's precheck", prechecked)
	postSigned(t, url+"/slack/interactions", testSecret, clickBody("UBOB", "approve", r.Ref()+":"+r.Hash), time.Now())
	e.request(1, "the customer provisioned", func(r *request.Request) bool { return r.State == request.StateDone })
}

func TestAutoApproveUsersWithinQuantities(t *testing.T) {
	t.Parallel()
	e, _ := newUXE2E(t, "AUTO_APPROVE", "users")
	url := e.start()
	provisionedCustomer(t, e, url)

	within := `users MS-001 rows="Anna,Alpha,anna@mueller.example,webex_calling,,1001;Ben,Beta,ben@mueller.example,webex_calling,,1002"`
	before := e.sandbox.Stats().Calls
	postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", within), time.Now())
	batch := e.request(2, "the batch within quantities done", func(r *request.Request) bool { return r.State == request.StateDone })
	// One precheck: each row validated once, the subscribers listed once
	// there and once by the commit; the auto-approval reuses its counts.
	after := e.sandbox.Stats().Calls
	for call, want := range map[string]int{"POST /wholesale/subscribers/validate": 2, "GET /wholesale/subscribers": 2} {
		if got := after[call] - before[call]; got != want {
			t.Errorf("%s: %d calls for a batch of two, want %d", call, got, want)
		}
	}
	if batch.ApprovedBy != "auto" {
		t.Fatalf("approved by %q, want auto", batch.ApprovedBy)
	}
	audit, err := e.store().Audit(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	var audited bool
	for _, a := range audit {
		audited = audited || (a.Actor == "auto" && a.Action == "approved")
	}
	if !audited {
		t.Fatalf("no auto approval in the audit: %+v", audit)
	}

	cases := []struct {
		name, rows string
	}{
		// Two calling seats are used: a third is over the ordered quantity.
		{"over quantities", "Cara,Gamma,cara@mueller.example,webex_calling,,1003"},
		// webex_meetings was ordered without a quantity: nothing to fit.
		{"no ordered quantity", "Dora,Delta,dora@mueller.example,webex_meetings"},
	}
	for i, c := range cases {
		id := int64(3 + i)
		postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", `users MS-001 rows="`+c.rows+`"`), time.Now())
		e.request(id, c.name+": the precheck", prechecked)
		// The auto-approval check runs right after the precheck and audits
		// a refusal: wait for that entry, then look at the state.
		waitFor(t, c.name+": the auto-approval decision", 10*time.Second, func() bool {
			audit, err := e.store().Audit(context.Background(), id)
			if err != nil {
				return false
			}
			for _, a := range audit {
				if a.Actor == "auto" {
					return true
				}
			}
			return false
		})
		r := e.request(id, c.name, func(*request.Request) bool { return true })
		if r.State != request.StatePendingApproval || r.ApprovedBy != "" {
			t.Fatalf("%s: state %s approved by %q; want it waiting for a person", c.name, r.State, r.ApprovedBy)
		}
	}
}

// appHomeOpened is the Events API callback Slack sends when user opens the
// Home tab.
func appHomeOpened(user, eventID string) string {
	b, _ := json.Marshal(map[string]any{
		"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": eventID, "event_time": 1,
		"event": map[string]any{"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home", "event_ts": "1.1"},
	})
	return string(b)
}

func TestAppHomeAndHelpByRole(t *testing.T) {
	t.Parallel()
	e, ux := newUXE2E(t)
	url := e.start()
	postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", msCustomer), time.Now())
	e.request(1, "the precheck", prechecked)
	waitFor(t, "the approver group read", 10*time.Second, func() bool { return ux.reads() > 0 })

	for i, user := range []string{"UALICE", "UDAVE", "UERIN"} {
		resp := postSigned(t, url+"/slack/events", testSecret, appHomeOpened(user, fmt.Sprintf("Ev%d", i)), time.Now())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("app_home_opened: status %d", resp.StatusCode)
		}
		waitFor(t, user+"'s App Home", 10*time.Second, func() bool { return ux.home(user) != "" })
	}
	cases := []struct {
		user          string
		want, notWant []string
	}{
		// The requester sees her request as hers, and nothing to approve.
		{"UALICE", []string{"*Your open requests* (1)", "R-1", "You are a requester"}, []string{"Waiting for your approval"}},
		// A member of the approver group is asked to approve it.
		{"UDAVE", []string{"*Waiting for your approval* (1)", `"action_id":"approve"`, "You are an approver"}, []string{"*Your open requests* (1)"}},
		// Someone else sees neither.
		{"UERIN", []string{"*Your open requests* (0)"}, []string{"Waiting for your approval", "R-1"}},
	}
	for _, c := range cases {
		home := ux.home(c.user)
		for _, w := range c.want {
			if !strings.Contains(home, w) {
				t.Errorf("%s's App Home lacks %q:\n%s", c.user, w, home)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(home, w) {
				t.Errorf("%s's App Home shows %q:\n%s", c.user, w, home)
			}
		}
	}

	helps := map[string]string{}
	for _, user := range []string{"UALICE", "UDAVE", "UBOB"} {
		_, body := postSignedBody(t, url+"/slack/commands", testSecret, commandBody(user, "help"), time.Now())
		helps[user] = jsonUnescaper.Replace(body)
	}
	if strings.Contains(helps["UALICE"], "approve ID") || !strings.Contains(helps["UDAVE"], "approve ID") {
		t.Errorf("help should offer approve to the group member only:\nrequester: %s\nmember: %s", helps["UALICE"], helps["UDAVE"])
	}
	if strings.Contains(helps["UDAVE"], "template retire") || !strings.Contains(helps["UBOB"], "template retire") {
		t.Errorf("help should offer template retire to the admin only:\nmember: %s\nadmin: %s", helps["UDAVE"], helps["UBOB"])
	}
}

// TestSocketModeEndToEnd runs the bot in socket mode: the slash command
// arrives as a websocket envelope, is acked with the reply and handled by
// the same handlers (the summary is posted); HTTP_ADDR serves only probes.
func TestSocketModeEndToEnd(t *testing.T) {
	t.Parallel()
	e, ux := newUXE2E(t, "ONBOARDBOT_MODE", "socket", "SLACK_APP_TOKEN", "xapp-e2e-app-token")
	delete(e.env, "SLACK_SIGNING_SECRET")
	url := e.start()

	payload := map[string]any{"command": "/onboard-customer", "text": msCustomer, "user_id": "UALICE", "channel_id": "CREQ",
		"team_id": "T1", "trigger_id": "trig"}
	ux.envelopes <- map[string]any{"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": true, "payload": payload}
	waitFor(t, "the ack", 15*time.Second, func() bool { _, ok := ux.ack("env-1"); return ok })
	if got, _ := ux.ack("env-1"); !strings.Contains(got, "R-1 submitted") {
		t.Fatalf("ack payload %s, want the submitted reply", got)
	}
	waitFor(t, "the summary", 10*time.Second, func() bool { return strings.Contains(e.slackText("chat.postMessage"), "Müller &amp; Söhne GmbH") })

	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz in socket mode: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp := postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", "help"), time.Now()); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("socket mode must not serve /slack/commands over HTTP: status %d", resp.StatusCode)
	}
}

// TestConsoleHome: /home prints App Home for the current user, and its
// buttons work with /click.
func TestConsoleHome(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, msCommand+"\n/home\n/as bob\n/home\n/click Approve\n/as alice\n/home\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	homes := strings.Split(out, "── App Home")
	if len(homes) != 4 {
		t.Fatalf("want three App Homes:\n%s", out)
	}
	for i, want := range []string{
		"Your open requests (1)",        // alice, her pending request
		"Waiting for your approval (1)", // bob, approver
		"Incomplete setups (no users yet) (1)",
	} {
		if !strings.Contains(homes[i+1], want) {
			t.Errorf("App Home %d lacks %q:\n%s", i+1, want, homes[i+1])
		}
	}
	if strings.Contains(homes[1], "Waiting for your approval") {
		t.Errorf("alice, a requester, was asked to approve:\n%s", homes[1])
	}
	if !strings.Contains(out, "✅ R-1 MS-001 provisioned (org ") {
		t.Errorf("Approve from App Home did not provision:\n%s", out)
	}
}

// rejectSubmissionBody is a view_submission of the Reject reason modal.
func rejectSubmissionBody(user, ref, reason string) string {
	payload := map[string]any{
		"type": "view_submission", "user": map[string]any{"id": user}, "team": map[string]any{"id": "T1"},
		"view": map[string]any{"id": "V1", "callback_id": "reject_reason", "private_metadata": ref + "|CAPPROVALS",
			"state": map[string]any{"values": map[string]any{"reason": map[string]any{"value": map[string]any{"type": "plain_text_input", "value": reason}}}}},
	}
	b, _ := json.Marshal(payload)
	return url.Values{"payload": {string(b)}}.Encode()
}

// TestRejectAsksForAReason: Reject opens a reason modal (views.open with
// the click's trigger); an empty reason is an inline error; the reason
// given reaches the request and the requester's DM.
func TestRejectAsksForAReason(t *testing.T) {
	t.Parallel()
	e, _ := newUXE2E(t)
	url := e.start()
	postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", msCustomer), time.Now())
	e.request(1, "the precheck", prechecked)
	postSigned(t, url+"/slack/interactions", testSecret, clickBody("UBOB", "reject", "R-1"), time.Now())
	waitFor(t, "the reason modal", 10*time.Second, func() bool { return len(e.slack.Calls("views.open")) == 1 })
	if r := e.request(1, "still pending", func(*request.Request) bool { return true }); r.State != request.StatePendingApproval {
		t.Fatalf("the click rejected without a reason: %s", r.State)
	}

	_, body := postSignedBody(t, url+"/slack/interactions", testSecret, rejectSubmissionBody("UBOB", "R-1", "  "), time.Now())
	if !strings.Contains(body, `"response_action":"errors"`) || !strings.Contains(body, `"reason"`) {
		t.Fatalf("an empty reason answered %s, want an inline error on the reason block", body)
	}
	resp, body := postSignedBody(t, url+"/slack/interactions", testSecret, rejectSubmissionBody("UBOB", "R-1", "wrong package for this customer"), time.Now())
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Fatalf("the reason closed the modal with %d %q, want 200 and an empty body", resp.StatusCode, body)
	}
	r := e.request(1, "rejected", func(r *request.Request) bool { return r.State == request.StateRejected })
	if r.Reason != "wrong package for this customer" || r.RejectedBy != "UBOB" {
		t.Fatalf("rejected by %q for %q", r.RejectedBy, r.Reason)
	}
	waitFor(t, "the requester's DM with the reason", 10*time.Second, func() bool {
		for _, c := range e.slack.Calls("chat.postMessage") {
			if c.Form.Get("channel") == "DUALICE" && strings.Contains(jsonUnescaper.Replace(c.Form.Get("text")+c.Form.Get("blocks")), "wrong package for this customer") {
				return true
			}
		}
		return false
	})
}

// TestConsoleRejectReason: in the console, Reject opens the reason form,
// /submit rejects with it, and the requester's DM carries it.
func TestConsoleRejectReason(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, msCommand+"\n/as bob\n/click Reject\n/submit reason=\n/submit reason=\"not ordered yet\"\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"form: Reject R-1", "Say why", "🚫 R-1 MS-001: rejected by @bob: not ordered yet", "Your request R-1 (MS-001): 🚫 rejected by @bob: not ordered yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("console output lacks %q:\n%s", want, out)
		}
	}
}
