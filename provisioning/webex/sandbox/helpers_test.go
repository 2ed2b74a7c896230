package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a test clock the sandbox reads through its now seam.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a sandbox on a fake clock, driven in-process through its handler (wrapped, when
// given, e.g. by the spec recorder).
type env struct {
	t     testing.TB
	sb    *Sandbox
	clock *clock
	h     http.Handler
	bad   http.Handler // for requests that break the spec on purpose: only the response is checked
	token string
}

// newEnv returns a sandbox with opts; wrap (nil = none) wraps its handler.
func newEnv(t testing.TB, opts Options, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	if wrap == nil {
		wrap = func(h http.Handler) http.Handler { return h }
	}
	sb := New(opts)
	t.Cleanup(sb.Close)
	clk := &clock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	sb.now = clk.Now
	return &env{t: t, sb: sb, clock: clk, h: wrap(sb), bad: sb, token: "test-token"}
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// str reads a string at a dotted path such as "items.0.id".
func (r result) str(t testing.TB, path string) string {
	t.Helper()
	var v any = r.json(t)
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := 0
			for _, ch := range k {
				i = i*10 + int(ch-'0')
			}
			if i >= len(x) {
				t.Fatalf("%s: index %d out of %d in %s", path, i, len(x), r.body)
			}
			v = x[i]
		}
	}
	s, _ := v.(string)
	return s
}

func (e *env) do(method, target string, body any) result {
	e.t.Helper()
	return e.doAs(e.token, method, target, body)
}

// doBad sends a request that breaks the spec on purpose.
func (e *env) doBad(method, target string, body any) result {
	e.t.Helper()
	return e.send(e.bad, e.token, method, target, body)
}

func (e *env) doAs(token, method, target string, body any) result {
	e.t.Helper()
	return e.send(e.h, token, method, target, body)
}

func (e *env) send(h http.Handler, token, method, target string, body any) result {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, "http://sandbox.test"+target, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (e *env) must(want int, r result) result {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	return r
}

// customerBody is a valid create request; callers change what they test.
func customerBody(ext string) map[string]any {
	addr := map[string]any{"addressLine1": "Hauptstraße 1", "city": "Berlin", "zipOrPostalCode": "10115", "country": "DE"}
	return map[string]any{
		"provisioningId": "PROV-1",
		"packages":       []string{"webex_calling", "webex_meetings"},
		"externalId":     ext,
		"address":        addr,
		"customerInfo":   map[string]any{"name": "Muster GmbH", "primaryEmail": "admin@muster.example", "language": "de_DE"},
		"provisioningParameters": map[string]any{
			"calling": map[string]any{"location": map[string]any{
				"name": "HQ", "address": addr, "timezone": "Europe/Berlin", "language": "de_de",
				"emergencyLocationIdentifier": "ELIN-1"}},
			"meetings": map[string]any{"timezone": "Europe/Berlin"},
			"packages": map[string]any{"limits": map[string]any{"webex_calling": 10}},
		},
	}
}

// provisioned creates a customer and moves the clock past its delay.
func (e *env) provisioned(ext string) (customerID, orgID string) {
	e.t.Helper()
	r := e.must(http.StatusAccepted, e.do("POST", "/v1/wholesale/customers", customerBody(ext)))
	url := r.str(e.t, "url")
	id := url[strings.LastIndex(url, "/")+1:]
	e.clock.Add(e.sb.opts.Delay + e.sb.opts.RPLDelay + time.Second)
	g := e.must(http.StatusOK, e.do("GET", "/v1/wholesale/customers/"+id, nil))
	if st := g.str(e.t, "status"); st != "provisioned" {
		e.t.Fatalf("status %q after the delay", st)
	}
	return id, g.str(e.t, "orgId")
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func jsonReader(t testing.TB, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// connectionOption returns the id of the location's connection option named display.
func (e *env) connectionOption(org, loc, display string) string {
	e.t.Helper()
	r := e.must(200, e.do("GET", "/v1/telephony/pstn/locations/"+loc+"/connectionOptions?orgId="+org, nil))
	var l struct {
		Items []connectionOptionOut `json:"items"`
	}
	if err := json.Unmarshal(r.body, &l); err != nil {
		e.t.Fatal(err)
	}
	for _, o := range l.Items {
		if o.DisplayName == display {
			return o.ID
		}
	}
	e.t.Fatalf("no connection option %q in %s", display, r.body)
	return ""
}

// withCCP gives a calling location the Sandbox CCP connection and adds and activates
// nums there.
func (e *env) withCCP(org, loc string, nums ...string) {
	e.t.Helper()
	id := e.connectionOption(org, loc, "Sandbox CCP")
	e.must(204, e.do("PUT", "/v1/telephony/pstn/locations/"+loc+"/connection?orgId="+org, map[string]any{"id": id}))
	if len(nums) == 0 {
		return
	}
	path := "/v1/telephony/config/locations/" + loc + "/numbers?orgId=" + org
	e.must(201, e.do("POST", path, map[string]any{"phoneNumbers": nums}))
	e.must(204, e.do("PUT", path, map[string]any{"phoneNumbers": nums, "action": "ACTIVATE"}))
}

// hqOf returns the id of the org's first location (the HQ of a provisioned customer).
func (e *env) hqOf(org string) string {
	e.t.Helper()
	return e.must(200, e.do("GET", "/v1/locations?orgId="+org+"&name=HQ", nil)).str(e.t, "items.0.id")
}
