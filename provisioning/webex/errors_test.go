package webex

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestParseError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		header   http.Header
		body     string
		message  string
		tracking string
		errors   []ErrorDetail
		retry    time.Duration
	}{
		{name: "webex body", status: 400,
			body:    `{"message":"Invalid address","errors":[{"description":"Country is invalid","errorCode":1200}],"trackingId":"ROUTER_abc"}`,
			message: "Invalid address", tracking: "ROUTER_abc", errors: []ErrorDetail{{ErrorCode: 1200, Description: "Country is invalid"}}},
		{name: "errors only", status: 409, body: `{"errors":[{"description":"The email is already associated with an existing user.","errorCode":"10022"}]}`,
			message: "The email is already associated with an existing user.", errors: []ErrorDetail{{ErrorCode: 10022, Description: "The email is already associated with an existing user."}}},
		{name: "tracking id from header", status: 503, header: http.Header{"Trackingid": {"HDR_1"}}, body: `{"message":"try later"}`,
			message: "try later", tracking: "HDR_1"},
		{name: "body tracking id wins", status: 500, header: http.Header{"Trackingid": {"HDR_1"}}, body: `{"trackingId":"BODY_1"}`,
			message: "Internal Server Error", tracking: "BODY_1"},
		{name: "empty", status: 502, message: "Bad Gateway"},
		{name: "html", status: 504, body: "<html><body><h1>504 Gateway Time-out</h1></body></html>", message: "Gateway Timeout"},
		{name: "garbage", status: 429, header: http.Header{"Retry-After": {"7"}}, body: "\x00\xff{{{", message: "Too Many Requests", retry: 7 * time.Second},
		{name: "wrong types", status: 400, body: `{"message":42,"errors":"nope","trackingId":["x"]}`, message: "Bad Request"},
		{name: "odd error entries", status: 400, body: `{"errors":[1,"x",null,{"errorCode":{"a":1}},{"description":"ok"}]}`,
			message: "ok", errors: []ErrorDetail{{Description: "ok"}}},
		{name: "control characters and whitespace", status: 400, body: `{"message":"line1\n\tline2\u0007"}`, message: "line1 line2"},
		{name: "unknown status", status: 499, message: "HTTP 499"},
		{name: "array body", status: 400, body: `[1,2]`, message: "Bad Request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := parseError("create customer", tc.status, tc.header, []byte(tc.body))
			if e.Message != tc.message || e.TrackingID != tc.tracking || e.Status != tc.status || e.RetryAfter != tc.retry {
				t.Errorf("got %+v; want message %q tracking %q retry %v", e, tc.message, tc.tracking, tc.retry)
			}
			if len(e.Errors) != len(tc.errors) {
				t.Fatalf("errors = %+v, want %+v", e.Errors, tc.errors)
			}
			for i := range e.Errors {
				if e.Errors[i] != tc.errors[i] {
					t.Errorf("errors[%d] = %+v, want %+v", i, e.Errors[i], tc.errors[i])
				}
			}
		})
	}
}

func TestAPIErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  APIError
		want string
	}{
		{APIError{Op: "create customer", Status: 400, Message: "Invalid address", TrackingID: "X"}, "create customer: 400 Invalid address (trackingId X)"},
		{APIError{Op: "get customer \"c\"", Status: 503, Message: "Service Unavailable", Attempts: 10}, "get customer \"c\": 503 Service Unavailable after 10 attempts"},
		{APIError{Op: "list numbers", Message: "dial tcp: connection refused", Attempts: 1}, "list numbers: dial tcp: connection refused"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 1 ":                           time.Second,
		"0.5":                           500 * time.Millisecond,
		"-4":                            0,
		"soon":                          0,
		"Thu, 01 Jan 2026 00:00:10 GMT": 10 * time.Second,
		"Wed, 31 Dec 2025 23:59:00 GMT": 0,
		"999999999":                     0,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		`{"message":"Invalid","errors":[{"description":"d","errorCode":1}],"trackingId":"T"}`,
		`{"errors":[{"errorCode":"10022"}]}`, `<html></html>`, ``, `null`, `{"message":null}`, "\xff\xfe",
	} {
		f.Add(400, s, "T-1", "5")
	}
	f.Fuzz(func(t *testing.T, status int, body, tracking, retryAfter string) {
		h := http.Header{"Trackingid": {tracking}, "Retry-After": {retryAfter}}
		e := parseError("op", status, h, []byte(body))
		if e.Message == "" {
			t.Fatal("empty message")
		}
		for _, s := range []string{e.Message, e.TrackingID} {
			if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
				t.Fatalf("unsafe text %q", s)
			}
			if utf8.RuneCountInString(s) > maxMessageRunes+1 {
				t.Fatalf("text too long: %d runes", utf8.RuneCountInString(s))
			}
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative RetryAfter %v", e.RetryAfter)
		}
		_ = e.Error()
	})
}

func FuzzParseLink(f *testing.F) {
	for _, s := range []string{
		`<https://webexapis.com/v1/x?start=2>; rel="next"`,
		`<a>; rel=prev, <b>; rel="next last"`, `<`, `>;rel=next`, `<x>;;;rel="`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, l := range parseLink(v) {
			if l.target == "" {
				t.Fatal("empty target")
			}
		}
		_ = nextLink(http.Header{"Link": {v}})
	})
}

func TestNextLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header []string
		want   string
	}{
		{[]string{`<https://h/v1/locations?max=2&start=2>; rel="next"`}, "https://h/v1/locations?max=2&start=2"},
		{[]string{`<https://h/p1>; rel="prev", <https://h/p3>; rel="next"`}, "https://h/p3"},
		{[]string{`<https://h/p1>; rel="first"`, `<https://h/p9>; REL=next`}, "https://h/p9"},
		{[]string{`<https://h/p1>; rel="prev"`}, ""},
		{nil, ""},
		{[]string{`garbage`}, ""},
	}
	for _, tc := range tests {
		h := http.Header{}
		for _, v := range tc.header {
			h.Add("Link", v)
		}
		if got := nextLink(h); got != tc.want {
			t.Errorf("nextLink(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

// FuzzDecodeAnswers feeds outside bytes to every decoder of successful
// answers and to the header parsers: none may panic.
func FuzzDecodeAnswers(f *testing.F) {
	for _, s := range []string{
		`{"message":"success","info":[{"infoCode":100}]}`, `{"info":{"infoCode":"x"}}`,
		`{"id":"c","errors":[{"errorCode":"1"}],"resourceDetails":{"packages":[{"name":"webex_calling","warnings":[1]}]}}`,
		`{"items":[{"id":1}]}`, `{"phoneNumbers":[{"mainNumber":"yes"}]}`, `[]`, `nul`,
	} {
		f.Add([]byte(s), "https://webexapis.com/v1/wholesale/customers/X", "3")
	}
	f.Fuzz(func(t *testing.T, body []byte, location, retryAfter string) {
		r := &response{status: 200, header: http.Header{"Location": {location}}, body: body}
		_ = decode("op", r, new(Precheck))
		_ = decode("op", r, new(Customer))
		_ = decode("op", r, new(Subscriber))
		_ = decode("op", r, new(NumberValidation))
		_ = decode("op", r, new(struct{ PhoneNumbers []Number }))
		_ = lastSegment(location)
		if d := parseRetryAfter(retryAfter, time.Now()); d < 0 {
			t.Fatalf("negative Retry-After %v", d)
		}
	})
}
