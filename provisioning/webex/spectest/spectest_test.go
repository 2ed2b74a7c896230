package spectest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeTB records failures instead of failing the real test, so that the tests can assert
// that a bad request or response is caught.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) failed() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errors, "\n")
}

const validCustomer = `{
  "provisioningId": "PROV-1", "packages": ["webex_calling"], "externalId": "MS-001",
  "address": {"addressLine1": "Hauptstr. 1", "city": "Berlin", "country": "DE"},
  "customerInfo": {"name": "Muster GmbH", "primaryEmail": "admin@muster.example"},
  "provisioningParameters": {"calling": {"location": {"name": "HQ",
    "address": {"addressLine1": "Hauptstr. 1", "city": "Berlin", "country": "DE"},
    "timezone": "Europe/Berlin", "language": "de_de"}}}
}`

func newReq(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer t0k")
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

func TestValidateRequest(t *testing.T) {
	t.Parallel()
	spec := Load(t)
	tests := []struct {
		name, method, target, body string
		wantOp                     string
		wantErr                    string // substring of the failure; "" = must pass
	}{
		{"valid create", "POST", "https://webexapis.com/v1/wholesale/customers", validCustomer, "POST /wholesale/customers", ""},
		{"any host, no base path", "POST", "http://127.0.0.1:8089/wholesale/customers", validCustomer, "POST /wholesale/customers", ""},
		{"missing externalId", "POST", "/v1/wholesale/customers", strings.Replace(validCustomer, `"externalId": "MS-001",`, "", 1), "POST /wholesale/customers", "externalId"},
		{"unknown package", "POST", "/v1/wholesale/customers", strings.Replace(validCustomer, `"webex_calling"`, `"webex_teleport"`, 1), "POST /wholesale/customers", "packages"},
		{"literal beats parameter", "POST", "/v1/wholesale/customers/validate", `{"address": {"addressLine1": "a", "city": "b", "country": "DE"}}`, "POST /wholesale/customers/validate", ""},
		{"path parameter", "GET", "/v1/wholesale/customers/abc%2Fdef", "", "GET /wholesale/customers/{customerId}", ""},
		{"query type checked", "GET", "/v1/locations?orgId=o&max=many", "", "GET /locations", "max"},
		{"other spec file", "GET", "/v1/telephony/pstn/locations/L1/connection?orgId=o", "", "GET /telephony/pstn/locations/{locationId}/connection", ""},
		{"unknown path", "GET", "/v1/wholesale/nothing", "", "", "no operation"},
		{"wrong method", "PATCH", "/v1/wholesale/customers", "", "", "not with this method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ft := &fakeTB{TB: t}
			op := spec.ValidateRequest(ft, newReq(tt.method, tt.target, tt.body), []byte(tt.body))
			if op != tt.wantOp {
				t.Errorf("operation = %q, want %q", op, tt.wantOp)
			}
			got := ft.failed()
			switch {
			case tt.wantErr == "" && got != "":
				t.Errorf("valid request failed validation:\n%s", got)
			case tt.wantErr != "" && !strings.Contains(got, tt.wantErr):
				t.Errorf("failure = %q, want it to mention %q", got, tt.wantErr)
			}
		})
	}
}

func TestValidateResponse(t *testing.T) {
	t.Parallel()
	spec := Load(t)
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name, method, target, reqBody string
		status                        int
		body                          string
		wantErr                       string
	}{
		{"create accepted", "POST", "/v1/wholesale/customers", validCustomer, 202, `{"url": "http://x/v1/wholesale/customers/c1"}`, ""},
		{"undocumented status", "POST", "/v1/wholesale/customers", validCustomer, 418, `{}`, "status is not supported"},
		{"bad status enum", "GET", "/v1/wholesale/customers/c1", "", 200, `{"id": "c1", "status": "cooking"}`, "status"},
		{"list shape", "GET", "/v1/wholesale/customers", "", 200, `{"items": [{"id": "c1", "status": "provisioned"}]}`, ""},
		{"list not an array", "GET", "/v1/wholesale/customers", "", 200, `{"items": {"id": "c1"}}`, "items"},
		{"precheck info object", "POST", "/v1/wholesale/customers/validate", `{"address": {"addressLine1": "a", "city": "b", "country": "DE"}}`, 200, `{"message": "success", "info": {"infoCode": 100, "description": "ok"}}`, ""},
		{"precheck info array", "POST", "/v1/wholesale/customers/validate", `{"address": {"addressLine1": "a", "city": "b", "country": "DE"}}`, 200, `{"message": "success", "info": [{"infoCode": 100, "description": "ok"}]}`, ""},
		{"precheck info array, bad element", "POST", "/v1/wholesale/customers/validate", `{"address": {"addressLine1": "a", "city": "b", "country": "DE"}}`, 200, `{"message": "success", "info": [{"infoCode": "x"}]}`, "infoCode"},
		{"array elsewhere still fails", "GET", "/v1/wholesale/customers/c1", "", 200, `{"id": "c1", "address": [{"city": "b"}]}`, "address"},
		{"error status without schema", "GET", "/v1/wholesale/customers/c1", "", 404, `{"message": "not found", "trackingId": "t"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ft := &fakeTB{TB: t}
			spec.ValidateResponse(ft, newReq(tt.method, tt.target, tt.reqBody), []byte(tt.reqBody), tt.status, jsonHdr, []byte(tt.body))
			got := ft.failed()
			switch {
			case tt.wantErr == "" && got != "":
				t.Errorf("valid response failed validation:\n%s", got)
			case tt.wantErr != "" && !strings.Contains(got, tt.wantErr):
				t.Errorf("failure = %q, want it to mention %q", got, tt.wantErr)
			}
		})
	}
}

// fakeWebex answers a customer create correctly and a customer get with a wrong status enum.
func fakeWebex() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST" && r.URL.Path == "/v1/wholesale/customers":
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Location", "http://x/v1/wholesale/customers/c1")
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"url": "http://x/v1/wholesale/customers/c1"}`)
		case r.URL.Path == "/v1/access_token":
			_, _ = io.WriteString(w, `{"access_token": "a"}`)
		default:
			_, _ = io.WriteString(w, `{"id": "c1", "status": "cooking"}`)
		}
	})
}

func TestRecorderAndTransport(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"recorder", "transport"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			spec := Load(t)
			spec.Exempt("POST /access_token")
			ft := &fakeTB{TB: t}
			client := http.DefaultClient
			var srv *httptest.Server
			if mode == "recorder" {
				srv = httptest.NewServer(spec.Recorder(ft, fakeWebex()))
			} else {
				srv = httptest.NewServer(fakeWebex())
				client = &http.Client{Transport: spec.Transport(ft, nil)}
			}
			defer srv.Close()
			do := func(method, path, body string) {
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer t")
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if len(b) == 0 {
					t.Errorf("%s %s: body did not reach the client", method, path)
				}
			}
			do("POST", "/v1/wholesale/customers", validCustomer)
			do("POST", "/v1/access_token", "")
			if got := ft.failed(); got != "" {
				t.Fatalf("valid exchange failed:\n%s", got)
			}
			do("GET", "/v1/wholesale/customers/c1", "")
			if got := ft.failed(); !strings.Contains(got, "cooking") && !strings.Contains(got, "status") {
				t.Errorf("bad response not caught: %q", got)
			}
			want := []string{"GET /wholesale/customers/{customerId}", "POST /wholesale/customers"}
			if got := spec.Covered(); !slices.Equal(got, want) {
				t.Errorf("Covered() = %v, want %v", got, want)
			}
		})
	}
}

func TestOperationsListed(t *testing.T) {
	t.Parallel()
	ops := Load(t).Operations()
	for _, want := range []string{
		"POST /wholesale/customers", "POST /wholesale/subscribers/validate",
		"POST /subscribers/{subscriberId}/emails/consentMove", "POST /locations",
		"POST /telephony/config/locations", "GET /telephony/config/numbers",
		"POST /telephony/config/locations/{locationId}/numbers",
	} {
		if !slices.Contains(ops, want) {
			t.Errorf("Operations() lacks %q", want)
		}
	}
}

// TestFindReferenceMissing runs in a directory with no shared/reference above it.
func TestFindReferenceMissing(t *testing.T) {
	t.Chdir(t.TempDir())
	if dir, why := findReference(); dir != "" || !strings.Contains(why, ReferenceDir) {
		t.Errorf("findReference() = %q, %q; want no dir and a reason naming %s", dir, why, ReferenceDir)
	}
}
