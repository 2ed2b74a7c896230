package webex

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSubscriberFailures: an answer that is not a plain success is a
// *FailedError carrying Webex's words, whatever its HTTP status.
func TestSubscriberFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		want       []string // in the error text; nil = no error
	}{
		{"errors with 200", `{"id":"s1","status":"provisioned","errors":[{"errorCode":25008,"description":"Calling entitlement failed."}]}`, 200,
			[]string{"Calling entitlement failed.", "code 25008", "trackingId T-1"}},
		{"errors without status", `{"id":"s1","errors":[{"description":"No licence left."}]}`, 200, []string{"No licence left."}},
		{"unknown status", `{"id":"s1","status":"suspended"}`, 200, []string{`status "suspended"`, "do not list"}},
		{"fine", `{"id":"s1","status":"provisioned","errors":[]}`, 200, nil},
	}
	calls := []struct {
		name string
		run  func(*Client) (*Subscriber, error)
	}{
		{"create", func(c *Client) (*Subscriber, error) {
			return c.CreateSubscriber(context.Background(), SubscriberRequest{CustomerID: "c", Email: "a@x.example", Packages: []string{"webex_meetings"},
				ProvisioningParameters: &SubscriberParameters{FirstName: "A", LastName: "B"}})
		}},
		{"update", func(c *Client) (*Subscriber, error) {
			return c.UpdateSubscriber(context.Background(), "s1", SubscriberUpdate{Packages: []string{"webex_meetings"}})
		}},
		{"get", func(c *Client) (*Subscriber, error) { return c.GetSubscriber(context.Background(), "s1") }},
	}
	for _, tc := range tests {
		for _, call := range calls {
			t.Run(tc.name+"/"+call.name, func(t *testing.T) {
				t.Parallel()
				srv := &scripted{replies: []reply{{status: tc.status, body: tc.body, header: map[string]string{"TrackingID": "T-1"}}}}
				sub, err := call.run(newTestClient(t, srv, newFakeClock(), nil))
				if tc.want == nil {
					if err != nil || sub == nil || sub.ID != "s1" {
						t.Fatalf("= %+v, %v; want the subscriber", sub, err)
					}
					return
				}
				var fe *FailedError
				if !errors.As(err, &fe) || sub != nil || fe.Kind != "subscriber" || fe.ID != "s1" || fe.TrackingID != "T-1" {
					t.Fatalf("= %+v, %#v; want a *FailedError for s1", sub, err)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%q does not say %q", err.Error(), w)
					}
				}
			})
		}
	}
}

func TestCustomerFailures(t *testing.T) {
	t.Parallel()
	withErrors := `{"id":"c1","orgId":"o1","status":"provisioned_with_errors","address":{"addressLine1":"a","city":"b","country":"DE"},
		"resourceDetails":{"packages":[{"name":"webex_meetings","status":"provisioned"},
		{"name":"webex_calling","status":"error","warnings":[{"errorCode":2560,"description":"Calling services are in maintenance."}]}]}}`
	srv := &scripted{replies: []reply{{status: 200, body: withErrors}}}
	c, err := newTestClient(t, srv, newFakeClock(), nil).GetCustomer(context.Background(), "c1")
	if err != nil {
		t.Fatalf("a documented status is not an error of the call: %v", err)
	}
	f := c.Failure()
	if f == nil || len(f.Errors) != 1 || f.Errors[0].Package != "webex_calling" || f.Errors[0].ErrorCode != 2560 ||
		!strings.Contains(f.Error(), "webex_calling: Calling services are in maintenance. (code 2560)") {
		t.Fatalf("failure = %v", f)
	}
	failed := `{"id":"c1","status":"error","errors":[{"errorCode":7,"description":"Org creation failed."}],
		"resourceDetails":{"packages":[{"name":"webex_calling","status":"error","errors":[{"description":"Not provisioned."}]}]}}`
	srv = &scripted{replies: []reply{{status: 200, body: failed}}}
	c, err = newTestClient(t, srv, newFakeClock(), nil).GetCustomer(context.Background(), "c1")
	if err != nil || c.Failure() == nil || len(c.Failure().Errors) != 2 || !strings.Contains(c.Failure().Error(), "Org creation failed.") {
		t.Fatalf("error status: %+v, %v", c, err)
	}
	for _, body := range []string{`{"id":"c1","status":"archived"}`, `{"id":"c1"}`} {
		srv = &scripted{replies: []reply{{status: 200, body: body}}}
		_, err = newTestClient(t, srv, newFakeClock(), nil).GetCustomer(context.Background(), "c1")
		var fe *FailedError
		if !errors.As(err, &fe) || fe.Kind != "customer" || fe.ID != "c1" {
			t.Errorf("%s: err = %v, want a *FailedError", body, err)
		}
	}
	for _, st := range CustomerStatuses {
		c := Customer{ID: "c1", Status: st}
		if got := c.Failure() != nil; got != (st == StatusError || st == StatusProvisionedWithErrors) {
			t.Errorf("status %s: failure %v", st, c.Failure())
		}
	}
}

// TestNextLinkPosition: a next link must name where the next page starts,
// beyond the page just read; anything else in it is ignored.
func TestNextLinkPosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, link string
		want       string // error substring; "" = the list ends fine
	}{
		{"no position", `<http://%s/v1/locations?orgId=o&cursor=abc>; rel="next"`, "names no offset or start"},
		{"backwards", `<http://%s/v1/locations?start=0&max=1>; rel="next"`, "names no offset or start beyond"},
		{"not a number", `<http://%s/v1/locations?start=two>; rel="next"`, `start "two" is not a whole number`},
		{"elsewhere", `<https://elsewhere.example/v1/locations?start=1>; rel="next"`, "refusing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				link := tc.link
				if strings.Contains(link, "%s") {
					link = strings.Replace(link, "%s", r.Host, 1)
				}
				if r.URL.Query().Get("start") == "" {
					w.Header().Set("Link", link)
				}
				_, _ = io.WriteString(w, `{"items":[{"id":"1","name":"a"}]}`)
			})
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			cl := New(Config{BaseURL: srv.URL + "/v1", Tokens: StaticToken("tkn1")})
			_, err := cl.ListLocations(context.Background(), "o")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPSTNBodies(t *testing.T) {
	t.Parallel()
	srv := &scripted{replies: []reply{
		{status: 200, body: `{"items":[{"id":"OPT-1","displayName":"Premises-based PSTN","pstnServices":["GEOGRAPHIC_NUMBERS"]}]}`},
		{status: 204}, {status: 204},
	}}
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)
	cl := New(Config{BaseURL: h.URL, Tokens: StaticToken("tkn1"), SubPartnerOrgID: "SUB"})
	ctx := context.Background()
	opts, err := cl.ListPSTNConnectionOptions(ctx, "O", "L1")
	if err != nil || len(opts) != 1 || opts[0].ID != "OPT-1" || opts[0].DisplayName != "Premises-based PSTN" {
		t.Fatalf("options = %+v, %v", opts, err)
	}
	if err := cl.SetPSTNConnection(ctx, "O", "L1", PSTNConnectionSetup{ID: "OPT-1", PremiseRouteType: PremiseRouteTrunk, PremiseRouteID: "TR-1"}); err != nil {
		t.Fatal(err)
	}
	if err := cl.SetPSTNConnection(ctx, "O", "L1", PSTNConnectionSetup{ID: "OPT-2"}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`GET /telephony/pstn/locations/L1/connectionOptions `,
		`PUT /telephony/pstn/locations/L1/connection {"id":"OPT-1","premiseRouteType":"TRUNK","premiseRouteId":"TR-1"}`,
		`PUT /telephony/pstn/locations/L1/connection {"id":"OPT-2"}`,
	}
	for i, w := range want {
		r := srv.reqs[i]
		q := r.URL.Query()
		if got := r.Method + " " + r.URL.Path + " " + srv.bodies[i]; got != w || q.Get("orgId") != "O" || q.Has("onBehalfOfSubPartnerOrgId") {
			t.Errorf("request %d = %s ?%s, want %s ?orgId=O", i, got, r.URL.RawQuery, w)
		}
	}
	for _, bad := range []PSTNConnectionSetup{{}, {ID: "x", PremiseRouteType: "SIP", PremiseRouteID: "r"}, {ID: "x", PremiseRouteType: PremiseRouteTrunk}} {
		if err := cl.SetPSTNConnection(ctx, "O", "L1", bad); err == nil {
			t.Errorf("%+v was sent", bad)
		}
	}
	if n := srv.count(); n != 3 {
		t.Errorf("%d requests; refused setups must not be sent", n)
	}
}
