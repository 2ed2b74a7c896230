package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// viewsRecorder sits in front of the recording Slack fake: slack-go sends
// views.* as JSON, which fakeSlack does not keep, so these calls are
// recorded here with their bodies and answered with a view id; every other
// method goes on to fakeSlack.
type viewsRecorder struct {
	*httptest.Server
	mu    sync.Mutex
	calls []viewsCall
}

type viewsCall struct {
	Method  string
	Trigger string
	View    slack.ModalViewRequest
	// During is whether the call arrived while a slash command was being
	// handled (before its ack was written).
	During bool
}

func newViewsRecorder(t *testing.T, next *fakeSlack, inCommand func() bool) *viewsRecorder {
	target, _ := url.Parse(next.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	v := &viewsRecorder{}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := strings.TrimPrefix(r.URL.Path, "/")
		if !strings.HasPrefix(method, "views.") {
			proxy.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req struct {
			TriggerID string                 `json:"trigger_id"`
			View      slack.ModalViewRequest `json:"view"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Errorf("%s: body is not JSON: %v", method, err)
		}
		v.mu.Lock()
		v.calls = append(v.calls, viewsCall{Method: method, Trigger: req.TriggerID, View: req.View, During: inCommand()})
		v.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"view":{"id":"V0MODAL","hash":"h1"}}`)
	}))
	t.Cleanup(v.Close)
	return v
}

func (v *viewsRecorder) Calls(method string) []viewsCall {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []viewsCall
	for _, c := range v.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// input is one answered input of a submitted view, as Slack sends it.
type input map[string]any

func text(v string) input { return input{"type": "plain_text_input", "value": v} }
func pick(v string) input {
	return input{"type": "external_select", "selected_option": map[string]any{"value": v, "text": map[string]any{"type": "plain_text", "text": v}}}
}
func picks(typ string, vs ...string) input {
	opts := make([]map[string]any, len(vs))
	for i, v := range vs {
		opts[i] = map[string]any{"value": v, "text": map[string]any{"type": "plain_text", "text": v}}
	}
	return input{"type": typ, "selected_options": opts}
}

// submissionBody is a view_submission payload for the view v with values
// keyed by block id (action id "value", as the bot builds its inputs).
func submissionBody(user string, v slack.ModalViewRequest, values map[string]input) string {
	state := map[string]any{}
	for block, in := range values {
		state[block] = map[string]any{"value": in}
	}
	payload := map[string]any{
		"type": "view_submission", "user": map[string]any{"id": user, "name": strings.ToLower(user)},
		"team": map[string]any{"id": "T1"}, "trigger_id": "trig-view",
		"view": map[string]any{"id": "V0MODAL", "type": "modal", "callback_id": v.CallbackID,
			"private_metadata": v.PrivateMetadata, "hash": "h1", "state": map[string]any{"values": state}},
	}
	b, _ := json.Marshal(payload)
	return url.Values{"payload": {string(b)}}.Encode()
}

// submitView posts a view_submission and decodes the response_action.
func submitView(t *testing.T, base string, body string) slack.ViewSubmissionResponse {
	t.Helper()
	resp, raw := postSignedBody(t, base+"/slack/interactions", testSecret, body, time.Now())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("view_submission: status %d: %s", resp.StatusCode, raw)
	}
	var out slack.ViewSubmissionResponse
	if raw == "" {
		return out // the view closes
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("view_submission answer is not JSON: %v\n%s", err, raw)
	}
	return out
}

func inputIDs(v slack.ModalViewRequest) map[string]bool {
	ids := map[string]bool{}
	for _, b := range v.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			ids[in.BlockID] = true
		}
	}
	return ids
}

// Acceptance 1 of issue 5: the customer modal end to end over HTTP, every
// step on the other of two bot instances sharing one Redis.
func TestModalCustomerEndToEnd(t *testing.T) {
	e := newE2E(t)
	var inCommand sync.Mutex
	handling := false
	rec := newViewsRecorder(t, e.slack, func() bool { inCommand.Lock(); defer inCommand.Unlock(); return handling })
	e.env["SLACK_API_URL"] = rec.URL + "/"
	bots := []string{e.start(), e.start()}

	inCommand.Lock()
	handling = true
	inCommand.Unlock()
	resp := postSigned(t, bots[0]+"/slack/commands", testSecret, commandBody("UALICE", ""), time.Now())
	inCommand.Lock()
	handling = false
	inCommand.Unlock()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("command: status %d", resp.StatusCode)
	}
	opened := rec.Calls("views.open")
	if len(opened) != 1 {
		t.Fatalf("views.open called %d times, want once", len(opened))
	}
	if !opened[0].During || opened[0].Trigger != "trig-UALICE" {
		t.Fatalf("views.open must use the command's trigger while the command is handled: during=%v trigger=%q", opened[0].During, opened[0].Trigger)
	}
	view := opened[0].View
	if view.PrivateMetadata != "D-1" || view.CallbackID != "form:customer:0" {
		t.Fatalf("opened view: metadata %q callback %q", view.PrivateMetadata, view.CallbackID)
	}

	step1 := map[string]input{
		"name": text("Müller & Söhne GmbH"), "email": text("not-an-email"), "external-id": text("MS-001"),
		"country": pick("DE"), "provisioning-id": text("PROV-DE-1"),
	}
	got := submitView(t, bots[1], submissionBody("UALICE", view, step1))
	if got.ResponseAction != slack.RAErrors || len(got.Errors) != 1 || !strings.Contains(got.Errors["email"], "not an email") {
		t.Fatalf("bad email: %+v", got)
	}
	if !inputIDs(view)["email"] {
		t.Fatal(`the error is keyed "email", which is not an input block of the view`)
	}

	step1["email"] = text("it@mueller.example")
	steps := []struct {
		values   map[string]input
		callback string
	}{
		{step1, "form:customer:1"},
		{map[string]input{"package": picks("multi_static_select", "webex_calling")}, "form:customer:2"},
		{map[string]input{"limit.webex_calling": {"type": "number_input", "value": "25"}}, "form:customer:3"},
		{map[string]input{"supported-location": picks("checkboxes", "yes"), "address": text("Hauptstraße 1"), "city": text("Berlin"),
			"zip": text("10115"), "timezone": pick("Europe/Berlin"), "language": text("de_DE")}, "form:customer:4"},
		{nil, "form:customer:5"}, // the onboarding plan, left empty
	}
	for i, s := range steps {
		got := submitView(t, bots[i%2], submissionBody("UALICE", view, s.values))
		if got.ResponseAction != slack.RAUpdate || got.View == nil {
			t.Fatalf("step %d: %+v", i+1, got)
		}
		if got.View.CallbackID != s.callback || got.View.PrivateMetadata != "D-1" {
			t.Fatalf("step %d: next view %q (%q), want %q", i+1, got.View.CallbackID, got.View.PrivateMetadata, s.callback)
		}
		view = *got.View
	}
	review, _ := json.Marshal(view)
	// The review is mrkdwn: the typed & arrives as &amp; (shown as "&").
	for _, want := range []string{"Müller &amp; Söhne GmbH", "it@mueller.example", "webex_calling 25", "Hauptstraße 1"} {
		if !strings.Contains(jsonUnescaper.Replace(string(review)), want) {
			t.Fatalf("review step lacks %q:\n%s", want, review)
		}
	}

	got = submitView(t, bots[1], submissionBody("UALICE", view, nil))
	if got.ResponseAction != slack.RAUpdate || got.View == nil {
		t.Fatalf("submit: %+v", got)
	}
	if done, _ := json.Marshal(got.View); !strings.Contains(string(done), "R-1 submitted") {
		t.Fatalf("the last view does not name the request:\n%s", done)
	}
	waitFor(t, "the summary in the approval channel", 10*time.Second, func() bool {
		for _, c := range e.slack.Calls("chat.postMessage") {
			if c.Form.Get("channel") == "CAPPROVALS" && strings.Contains(c.Form.Get("blocks"), "MS-001") {
				return true
			}
		}
		return false
	})
	r, err := e.store().Get(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requester != "UALICE" || r.ExternalID != "MS-001" || !strings.Contains(string(r.Spec), `"limits":{"webex_calling":25}`) {
		t.Fatalf("request: %+v %s", r, r.Spec)
	}
	// The submitted draft is gone: a second click on Submit changes nothing.
	again := submitView(t, bots[0], submissionBody("UALICE", view, nil))
	if again.View == nil || !strings.Contains(mustJSON(again.View), "expired or was submitted") {
		t.Fatalf("second submit: %+v", again)
	}
	if n, _ := e.store().Count(t.Context()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// The piped console fills the customer form with /submit, step by step, and
// the request it submits is approved and provisioned like a typed one.
func TestConsoleCustomerFormPiped(t *testing.T) {
	t.Parallel()
	script := strings.Join([]string{
		`/onboard-customer`,
		`/submit name="Müller & Söhne GmbH" email=not-an-email external-id=MS-001 country=DE provisioning-id=PROV-DE-1`,
		`/submit email=it@mueller.example`,
		`/submit package=webex_calling`,
		`/submit limit.webex_calling=25`,
		`/submit supported-location=yes address="Hauptstraße 1" city=Berlin zip=10115`,
		`/submit`,
		`/as bob`,
		`/click Approve`,
	}, "\n") + "\n"
	out, code := runConsole(t, script)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"── form: New customer (1/6) ──",
		"⛔ the form has errors:\n  Admin email [email]: \"not-an-email\" is not an email address",
		"── form: New customer (2/6) ──", "── form: New customer (6/6) ──",
		"📨 R-1 submitted: customer Müller & Söhne GmbH (MS-001)",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^✅ R-1 MS-001 provisioned \(org [^)]+\)$`).FindAllString(out, -1)); n != 1 {
		t.Fatalf("want exactly one provisioned line, got %d:\n%s", n, out)
	}
}
