package webex

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestPrecheckInfoObjectOrArray(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		ok   bool
		n    int
	}{
		{"array", `{"message":"success","info":[{"infoCode":100,"description":"Provisioning preCheck validation successful."}]}`, true, 1},
		{"object", `{"message":"success","info":{"infoCode":100,"description":"ok"}}`, true, 1},
		{"no info", `{"message":"success"}`, true, 0},
		{"null info", `{"message":"success","info":null}`, true, 0},
		{"other code", `{"message":"warning","info":[{"infoCode":101,"description":"x"}]}`, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := &scripted{replies: []reply{{status: 200, body: tc.body}}}
			cl := newTestClient(t, srv, newFakeClock(), nil)
			p, err := cl.PrecheckCustomer(context.Background(), CustomerRequest{Address: Address{AddressLine1: "a", City: "b", Country: "DE"}})
			if err != nil {
				t.Fatal(err)
			}
			if p.OK() != tc.ok || len(p.Info) != tc.n {
				t.Errorf("precheck = %+v, OK %v; want OK %v with %d info", p, p.OK(), tc.ok, tc.n)
			}
		})
	}
}

func TestPrecheckCustomerSendsPrecheckSchema(t *testing.T) {
	t.Parallel()
	srv := &scripted{replies: []reply{{status: 200, body: `{"message":"success"}`}}}
	cl := newTestClient(t, srv, newFakeClock(), nil)
	req := CustomerRequest{
		ProvisioningID: "P", Packages: []string{"webex_calling"}, ExternalID: "MS-1",
		Address:              Address{AddressLine1: "a", City: "b", Country: "DE"},
		CustomerInfo:         &CustomerInfo{Name: "n", PrimaryEmail: "e@x.example", Language: "de_DE"},
		SubPartnerAdminEmail: "sub@x.example",
	}
	if _, err := cl.PrecheckCustomer(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(srv.bodies[0]), &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["subPartnerAdminEmail"]; ok {
		t.Error("precheck sent subPartnerAdminEmail, which its schema lacks")
	}
	if _, ok := got["customerInfo"].(map[string]any)["language"]; ok {
		t.Error("precheck sent customerInfo.language, which its schema lacks")
	}
	if srv.reqs[0].URL.Path != "/v1/wholesale/customers/validate" || srv.reqs[0].Method != http.MethodPost {
		t.Errorf("request = %s %s", srv.reqs[0].Method, srv.reqs[0].URL.Path)
	}
}

func TestCreateCustomerID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		header  map[string]string
		body    string
		want    string
		wantErr bool
	}{
		{name: "Location header", header: map[string]string{"Location": "https://webexapis.com/v1/wholesale/customers/Y2lzY29:abc"}, want: "Y2lzY29:abc"},
		{name: "relative Location with slash", header: map[string]string{"Location": "/v1/wholesale/customers/ID1/"}, want: "ID1"},
		{name: "escaped Location", header: map[string]string{"Location": "/v1/wholesale/customers/a%3Db"}, want: "a=b"},
		{name: "body url", body: `{"url":"https://webexapis.com/v1/wholesale/customers/ID2"}`, want: "ID2"},
		{name: "header wins", header: map[string]string{"Location": "/v1/wholesale/customers/H"}, body: `{"url":"https://x/v1/wholesale/customers/B"}`, want: "H"},
		{name: "neither", body: `{}`, wantErr: true},
		{name: "garbage body", body: `<html>`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := &scripted{replies: []reply{{status: 202, header: tc.header, body: tc.body}}}
			cl := newTestClient(t, srv, newFakeClock(), nil)
			id, err := cl.CreateCustomer(context.Background(), CustomerRequest{ProvisioningID: "P", Packages: []string{"webex_meetings"}, ExternalID: "E"})
			if (err != nil) != tc.wantErr || id != tc.want {
				t.Errorf("CreateCustomer = %q, %v; want %q (error %v)", id, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestCreateSubscriberStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"200 provisioned", 200, `{"id":"s1","status":"provisioned","packages":["webex_calling"]}`, SubscriberProvisioned},
		{"202 pending", 202, `{"id":"s1","status":"pending_user_migration"}`, SubscriberPendingUserMigration},
		{"202 without status", 202, `{"id":"s1"}`, SubscriberPendingUserMigration},
		{"200 without status", 200, `{"id":"s1"}`, SubscriberProvisioned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := &scripted{replies: []reply{{status: tc.status, body: tc.body}}}
			cl := newTestClient(t, srv, newFakeClock(), nil)
			s, err := cl.CreateSubscriber(context.Background(), SubscriberRequest{
				CustomerID: "c1", Email: "a@x.example", Packages: []string{"webex_calling"},
				ProvisioningParameters: &SubscriberParameters{FirstName: "A", LastName: "B", Extension: "1001"},
				ProvisioningID:         "dropped", CustomerInfo: &PrecheckCustomerInfo{PrimaryEmail: "dropped"},
			})
			if err != nil || s.Status != tc.want || s.ID != "s1" {
				t.Fatalf("CreateSubscriber = %+v, %v; want status %q", s, err, tc.want)
			}
			if strings.Contains(srv.bodies[0], "dropped") {
				t.Errorf("create sent precheck-only fields: %s", srv.bodies[0])
			}
		})
	}
}

// pagedItems serves n items under key, `size` per page, paging by offset
// param; with link set it pages by Link header instead, with next links that
// keep only max and start (as Webex is reported to send them) plus a stray
// orgId of another org, which the client must not take.
func pagedItems(key, offsetParam string, n int, link bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		size, _ := strconv.Atoi(q.Get("max"))
		if size <= 0 {
			size = 3
		}
		off, _ := strconv.Atoi(q.Get(offsetParam))
		if link {
			off, _ = strconv.Atoi(q.Get("start"))
			size = 3
		}
		var items []string
		for i := off; i < min(off+size, n); i++ {
			switch key {
			case "phoneNumbers":
				items = append(items, fmt.Sprintf(`{"phoneNumber":"+4930555%04d","state":"ACTIVE","phoneNumberType":"PRIMARY","mainNumber":false,"includedTelephonyTypes":"PSTN_NUMBER","tollFreeNumber":false,"isServiceNumber":false}`, i))
			default:
				items = append(items, fmt.Sprintf(`{"id":"id%d","name":"n%d","email":"u%d@x.example"}`, i, i, i))
			}
		}
		if link && off+size < n {
			nq := url.Values{"max": {"3"}, "start": {strconv.Itoa(off + size)}, "orgId": {"OTHER"}, "cursor": {"zz"}}
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?%s>; rel="next"`, r.Host, r.URL.Path, nq.Encode()))
		}
		fmt.Fprintf(w, `{"%s":[%s]}`, key, strings.Join(items, ","))
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		h     http.HandlerFunc
		list  func(*Client) (int, error)
		want  int
		calls int
	}{
		{"subscribers by offset", pagedItems("items", "offset", 250, false), func(c *Client) (int, error) {
			s, err := c.ListSubscribers(context.Background(), SubscriberQuery{CustomerID: "c1"})
			return len(s), err
		}, 250, 3},
		{"subscribers exact multiple", pagedItems("items", "offset", 200, false), func(c *Client) (int, error) {
			s, err := c.ListSubscribers(context.Background(), SubscriberQuery{CustomerID: "c1"})
			return len(s), err
		}, 200, 3},
		{"customers by offset", pagedItems("items", "offset", 150, false), func(c *Client) (int, error) {
			s, err := c.ListCustomers(context.Background(), CustomerQuery{ExternalID: "E"})
			return len(s), err
		}, 150, 2},
		{"numbers by start", pagedItems("phoneNumbers", "start", 1500, false), func(c *Client) (int, error) {
			s, err := c.ListNumbers(context.Background(), NumberQuery{OrgID: "o", LocationID: "l", Available: true})
			return len(s), err
		}, 1500, 2},
		{"locations by Link", pagedItems("items", "", 8, true), func(c *Client) (int, error) {
			s, err := c.ListLocations(context.Background(), "o")
			return len(s), err
		}, 8, 3},
		{"subscribers by Link", pagedItems("items", "", 7, true), func(c *Client) (int, error) {
			s, err := c.ListSubscribers(context.Background(), SubscriberQuery{})
			return len(s), err
		}, 7, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls []string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls = append(calls, r.URL.RawQuery)
				tc.h(w, r)
			})
			cl := newTestClient(t, h, newFakeClock(), nil)
			n, err := tc.list(cl)
			if err != nil || n != tc.want || len(calls) != tc.calls {
				t.Fatalf("got %d items, %v, in %d calls %q; want %d in %d", n, err, len(calls), calls, tc.want, tc.calls)
			}
			for _, c := range calls[1:] {
				if q, _ := url.ParseQuery(c); strings.Contains(c, "OTHER") || q.Has("cursor") || len(q["max"]) != 1 {
					t.Errorf("page request %q took more than max and start from the link", c)
				}
			}
		})
	}
}

func TestSubscriberPageSizeAtMost100(t *testing.T) {
	t.Parallel()
	srv := &scripted{replies: []reply{{status: 200, body: `{"items":[]}`}}}
	cl := newTestClient(t, srv, newFakeClock(), nil)
	if _, err := cl.ListSubscribers(context.Background(), SubscriberQuery{CustomerID: "c", Email: "e@x.example", Status: "provisioned"}); err != nil {
		t.Fatal(err)
	}
	q := srv.reqs[0].URL.Query()
	if m, _ := strconv.Atoi(q.Get("max")); m < 1 || m > 100 {
		t.Errorf("max = %q", q.Get("max"))
	}
	if q.Get("customerId") != "c" || q.Get("email") != "e@x.example" || q.Get("status") != "provisioned" || q.Has("offset") {
		t.Errorf("query = %v", q)
	}
}

func TestNextLinkOffHostRefused(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<https://elsewhere.example/v1/locations?page=2>; rel="next"`)
		_, _ = io.WriteString(w, `{"items":[{"id":"1","name":"a"}]}`)
	})
	cl := newTestClient(t, h, newFakeClock(), nil)
	if _, err := cl.ListLocations(context.Background(), "o"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("err = %v, want a refusal to follow an off-host link", err)
	}
}

func TestNumberAndLocationBodies(t *testing.T) {
	t.Parallel()
	srv := &scripted{replies: []reply{{status: 201, body: `{"id":"L1"}`}}}
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)
	cl := New(Config{BaseURL: h.URL, Tokens: StaticToken("tkn1")})
	ctx := context.Background()
	id, err := cl.CreateLocation(ctx, "O", LocationRequest{Name: "HQ", TimeZone: "Europe/Berlin", PreferredLanguage: "de_de", AnnouncementLanguage: "de_de",
		Address: LocationAddress{Address1: "a", City: "b", State: "BE", PostalCode: "10115", Country: "DE"}})
	if err != nil || id != "L1" {
		t.Fatalf("CreateLocation = %q, %v", id, err)
	}
	steps := []func() error{
		func() error { return cl.AddNumbers(ctx, "O", "L1", []string{"+4930555001"}, NumberInactive) },
		func() error { return cl.ActivateNumbers(ctx, "O", "L1", []string{"+4930555001"}) },
		func() error {
			return cl.UpdateCallingLocation(ctx, "O", "L1", CallingLocationUpdate{CallingLineID: &CallingLineID{PhoneNumber: "+4930555001"}, PAccessNetworkInfo: "ELIN1"})
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`POST /telephony/config/locations/L1/numbers {"phoneNumbers":["+4930555001"],"state":"INACTIVE"}`,
		`PUT /telephony/config/locations/L1/numbers {"phoneNumbers":["+4930555001"],"action":"ACTIVATE"}`,
		`PUT /telephony/config/locations/L1 {"callingLineId":{"phoneNumber":"+4930555001"},"pAccessNetworkInfo":"ELIN1"}`,
	}
	for i, w := range want {
		r := srv.reqs[i+1]
		if got := r.Method + " " + r.URL.Path + " " + srv.bodies[i+1]; got != w || r.URL.Query().Get("orgId") != "O" {
			t.Errorf("request %d = %s ?%s, want %s", i, got, r.URL.RawQuery, w)
		}
	}
}
