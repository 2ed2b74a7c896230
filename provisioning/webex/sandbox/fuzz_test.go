package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzTargets are the paths the fuzzer may hit; {c}, {o}, {l}, {s} are replaced by ids of
// a seeded customer, its org, its HQ and a subscriber so that deep handlers are reached.
var fuzzTargets = []string{
	"/v1/wholesale/customers", "/v1/wholesale/customers/validate", "/v1/wholesale/customers/{c}",
	"/v1/wholesale/subscribers", "/v1/wholesale/subscribers/validate", "/v1/wholesale/subscribers/{s}",
	"/v1/subscribers/{s}/emails/consentMove", "/v1/locations?orgId={o}", "/v1/locations/{l}?orgId={o}",
	"/v1/telephony/config/locations?orgId={o}", "/v1/telephony/config/locations/{l}?orgId={o}",
	"/v1/telephony/pstn/locations/{l}/connection?orgId={o}",
	"/v1/telephony/config/numbers?orgId={o}&available=true", "/v1/telephony/config/locations/{l}/numbers?orgId={o}",
	"/v1/telephony/config/actions/validateNumbers/invoke?orgId={o}", "/v1/access_token", "/_sandbox/stats",
}

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}

// FuzzHandler feeds random bodies and queries to every operation: the sandbox must never
// panic, must answer with a known status, and every API error must carry Webex's body.
func FuzzHandler(f *testing.F) {
	seeds := []string{"", "{", "null", "[]", `{"packages":null}`, `{"phoneNumbers":["+4930"]}`,
		mustJSON(customerBody("F-1")), mustJSON(userBody("{c}", "a@b.example", "webex_calling", map[string]any{"extension": "12"})),
		mustJSON(locationBody("X")), "grant_type=refresh_token&client_id=a&client_secret=b&refresh_token=sandbox-refresh-0"}
	for i, s := range seeds {
		f.Add(uint8(i), uint8(i), s, "")
	}
	f.Fuzz(func(t *testing.T, method, target uint8, body, query string) {
		sb := New(DefaultOptions())
		defer sb.Close()
		cid, org := sb.SeedCustomer(SeedCustomer{ExternalID: "F-0"})
		var hq string
		for id := range sb.locations {
			hq = id
		}
		path := strings.NewReplacer("{c}", cid, "{o}", org, "{l}", hq, "{s}", "sub").Replace(fuzzTargets[int(target)%len(fuzzTargets)])
		body = strings.ReplaceAll(body, "{c}", cid)
		req := httptest.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], "http://sandbox.test/", strings.NewReader(body))
		req.URL.Path = path
		if p, q, ok := strings.Cut(path, "?"); ok {
			req.URL.Path, req.URL.RawQuery = p, q+"&"+query
		}
		req.Header.Set("Authorization", "Bearer fuzz")
		req.Header.Set("Content-Type", "application/json")
		if strings.HasSuffix(path, "access_token") {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code >= 600 || rec.Code == http.StatusInternalServerError {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Code >= 400 && strings.HasPrefix(path, "/v1/") && !strings.HasSuffix(path, "access_token") {
			var e apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Message == "" || e.TrackingID == "" || len(e.Errors) == 0 {
				t.Fatalf("status %d without Webex's error body: %s", rec.Code, rec.Body)
			}
		}
	})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
