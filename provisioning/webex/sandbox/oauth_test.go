package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func (e *env) refresh(form url.Values, basic ...string) (int, map[string]any) {
	e.t.Helper()
	req := httptest.NewRequest("POST", "http://sandbox.test/v1/access_token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	rec := httptest.NewRecorder()
	e.sb.ServeHTTP(rec, req)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec.Code, m
}

func TestOAuthRefresh(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.Token, opts.ClientID, opts.ClientSecret, opts.TokenTTL = "static", "cid", "secret", time.Minute
	e := newEnv(t, opts, nil)
	form := func(rt string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "client_id": {"cid"}, "client_secret": {"secret"}, "refresh_token": {rt}}
	}
	code, tok := e.refresh(form("sandbox-refresh-0"))
	if code != 200 || tok["token_type"] != "Bearer" || tok["expires_in"] != 60.0 || tok["refresh_token_expires_in"] == nil {
		t.Fatalf("refresh: %d %v", code, tok)
	}
	access, next := tok["access_token"].(string), tok["refresh_token"].(string)
	if next == "sandbox-refresh-0" || access == "" {
		t.Fatalf("tokens did not rotate: %v", tok)
	}
	e.must(200, e.doAs(access, "GET", "/v1/wholesale/customers", nil))
	e.must(200, e.doAs("static", "GET", "/v1/wholesale/customers", nil))
	if code, body := e.refresh(form("sandbox-refresh-0")); code != 400 || body["error"] != "invalid_grant" {
		t.Errorf("reused refresh token: %d %v", code, body)
	}
	if code, _ := e.refresh(form(next), "cid", "secret"); code != 200 {
		t.Errorf("rotated refresh token with Basic auth: %d", code)
	}
	e.clock.Add(time.Minute)
	checkErrorBody(t, e.must(401, e.doAs(access, "GET", "/v1/wholesale/customers", nil)), "expired")
	e.must(200, e.doAs("static", "GET", "/v1/wholesale/customers", nil))

	bad := []struct {
		name  string
		form  url.Values
		code  int
		error string
	}{
		{"wrong secret", url.Values{"grant_type": {"refresh_token"}, "client_id": {"cid"}, "client_secret": {"no"}, "refresh_token": {"x"}}, 401, "invalid_client"},
		{"no client", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, 401, "invalid_client"},
		{"wrong grant", url.Values{"grant_type": {"password"}, "client_id": {"cid"}, "client_secret": {"secret"}}, 400, "unsupported_grant_type"},
		{"unknown refresh token", form("guess"), 400, "invalid_grant"},
	}
	for _, tt := range bad {
		if code, body := e.refresh(tt.form); code != tt.code || body["error"] != tt.error {
			t.Errorf("%s: %d %v, want %d %s", tt.name, code, body, tt.code, tt.error)
		}
	}
	if got := e.sb.Stats().TokensIssued; got != 2 {
		t.Errorf("tokens issued = %d, want 2", got)
	}
}

func TestOAuthNeedsForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	r := e.do("POST", "/v1/access_token", `{"grant_type":"refresh_token"}`)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_request") {
		t.Errorf("JSON body: %d %s", r.status, r.body)
	}
}
