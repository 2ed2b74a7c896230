package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// slackCall is one recorded Slack Web API call.
type slackCall struct {
	Method string
	Form   url.Values
}

// fakeSlack is an httptest Slack Web API that records every call and answers
// like Slack for the methods the bot uses.
type fakeSlack struct {
	*httptest.Server
	mu    sync.Mutex
	calls []slackCall
	seq   int
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	form := r.Form
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		form = url.Values{}
	}
	f.mu.Lock()
	f.seq++
	ts := "1700000000." + strconv.Itoa(100000+f.seq)
	f.calls = append(f.calls, slackCall{Method: method, Form: form})
	f.mu.Unlock()
	resp := map[string]any{"ok": true}
	switch method {
	case "chat.postMessage":
		resp["channel"], resp["ts"] = form.Get("channel"), ts
	case "chat.update":
		resp["channel"], resp["ts"] = form.Get("channel"), form.Get("ts")
	case "chat.postEphemeral":
		resp["message_ts"] = ts
	case "conversations.open":
		resp["channel"] = map[string]any{"id": "D" + strings.ToUpper(form.Get("users"))}
	case "auth.test":
		resp["user_id"], resp["team_id"] = "UBOT", "T1"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// Calls returns the recorded calls of one method ("" for all).
func (f *fakeSlack) Calls(method string) []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slackCall
	for _, c := range f.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// slackSign signs body like Slack does for timestamp ts.
func slackSign(secret string, ts int64, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:%s", ts, body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// postSigned sends a Slack-signed form POST to the bot.
func postSigned(t *testing.T, url, secret, body string, ts time.Time) *http.Response {
	t.Helper()
	resp, _ := postSignedBody(t, url, secret, body, ts)
	return resp
}

// postSignedBody is postSigned that also returns the response body.
func postSignedBody(t *testing.T, url, secret, body string, ts time.Time) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("X-Slack-Signature", slackSign(secret, ts.Unix(), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// commandBody is a slash command form as Slack sends it: text is escaped.
func commandBody(user, text string) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
	return url.Values{
		"command": {"/onboard-customer"}, "text": {esc}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"channel_id": {"CREQ"}, "team_id": {"T1"}, "trigger_id": {"trig-" + user}, "response_url": {"http://127.0.0.1:1/unused"},
	}.Encode()
}

// approveBody is a block_actions payload pressing Approve with value.
func clickBody(user, actionID, value string) string {
	payload := map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "name": strings.ToLower(user)},
		"team": map[string]any{"id": "T1"}, "channel": map[string]any{"id": "CAPPROVALS"},
		"trigger_id": "trig", "container": map[string]any{"type": "message", "message_ts": "1"},
		"actions": []map[string]any{{"action_id": actionID, "block_id": "approval", "type": "button", "value": value}},
	}
	b, _ := json.Marshal(payload)
	return url.Values{"payload": {string(b)}}.Encode()
}
