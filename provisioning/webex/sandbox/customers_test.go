package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// mutate returns a valid create body changed by f.
func mutate(f func(b map[string]any)) map[string]any {
	b := customerBody("MS-9")
	f(b)
	return b
}

func calling(b map[string]any) map[string]any {
	return b["provisioningParameters"].(map[string]any)["calling"].(map[string]any)["location"].(map[string]any)
}

func TestCreateCustomerRefusals(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 51)
	tests := []struct {
		name   string
		body   any
		status int
		want   string // in the error body
	}{
		{"missing provisioningId", mutate(func(b map[string]any) { delete(b, "provisioningId") }), 400, "provisioningId is required"},
		{"foreign provisioningId", mutate(func(b map[string]any) { b["provisioningId"] = "XYZ-1" }), 400, "XYZ-1"},
		{"unknown package", mutate(func(b map[string]any) { b["packages"] = []string{"webex_teleport"} }), 400, "webex_teleport"},
		{"no packages", mutate(func(b map[string]any) { b["packages"] = []string{} }), 400, "at least one"},
		{"add-on alone", mutate(func(b map[string]any) { b["packages"] = []string{"cisco_calling_plan"} }), 400, "cisco_calling_plan needs"},
		{"attendant console without base", mutate(func(b map[string]any) { b["packages"] = []string{"webex_voice", "attendant_console"} }), 400, "attendant_console needs"},
		{"missing externalId", mutate(func(b map[string]any) { delete(b, "externalId") }), 400, "externalId is required"},
		{"address line too long", mutate(func(b map[string]any) { b["address"].(map[string]any)["addressLine1"] = long }), 400, "at most 50"},
		{"address line 2 too long", mutate(func(b map[string]any) { b["address"].(map[string]any)["addressLine2"] = long }), 400, "addressLine2"},
		{"missing city", mutate(func(b map[string]any) { delete(b["address"].(map[string]any), "city") }), 400, "address.city is required"},
		{"country name", mutate(func(b map[string]any) { b["address"].(map[string]any)["country"] = "Germany" }), 400, "ISO 3166"},
		{"lower-case country", mutate(func(b map[string]any) { b["address"].(map[string]any)["country"] = "de" }), 400, "ISO 3166"},
		{"percent in name", mutate(func(b map[string]any) { b["customerInfo"].(map[string]any)["name"] = "100% GmbH" }), 400, "may not contain %"},
		{"bad admin email", mutate(func(b map[string]any) { b["customerInfo"].(map[string]any)["primaryEmail"] = "admin" }), 400, "not an email"},
		{"bad customer language", mutate(func(b map[string]any) { b["customerInfo"].(map[string]any)["language"] = "german" }), 400, "customerInfo.language"},
		{"no customerInfo and no org", mutate(func(b map[string]any) { delete(b, "customerInfo") }), 400, "customerInfo is required"},
		{"calling without location", mutate(func(b map[string]any) { delete(b, "provisioningParameters") }), 400, "calling.location is required"},
		{"calling add-on counts as calling", mutate(func(b map[string]any) {
			b["packages"] = []string{"webex_meetings", "cx_essentials"}
			delete(b, "provisioningParameters")
		}), 400, "calling.location is required"},
		{"bad timezone", mutate(func(b map[string]any) { calling(b)["timezone"] = "Europe/Berlln" }), 400, "IANA"},
		{"Local is no timezone", mutate(func(b map[string]any) { calling(b)["timezone"] = "Local" }), 400, "IANA"},
		{"location language case", mutate(func(b map[string]any) { calling(b)["language"] = "de_DE" }), 400, "calling.location.language"},
		{"location name too long", mutate(func(b map[string]any) { calling(b)["name"] = strings.Repeat("n", 81) }), 400, "at most 80"},
		{"negative limit", mutate(func(b map[string]any) {
			b["provisioningParameters"].(map[string]any)["packages"] = map[string]any{"limits": map[string]any{"webex_calling": -1}}
		}), 400, "limits.webex_calling"},
		{"unknown field", mutate(func(b map[string]any) { b["externalID"] = "typo" }), 400, "unknown field"},
		{"not JSON", "{", 400, "not valid JSON"},
		{"array body", "[]", 400, "not valid JSON"},
		{"trailing data", `{"externalId":"a"} {}`, 400, "after the JSON"},
		{"empty body", "", 400, "missing"},
		{"meetings only needs no location", mutate(func(b map[string]any) {
			b["packages"] = []string{"webex_meetings"}
			delete(b, "provisioningParameters")
		}), 202, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, DefaultOptions(), nil)
			r := e.do("POST", "/v1/wholesale/customers", tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if tt.status >= 400 {
				checkErrorBody(t, r, tt.want)
			}
		})
	}
}

// checkErrorBody asserts Webex's error shape: message, errors[].description, trackingId
// equal to the TrackingID header.
func checkErrorBody(t *testing.T, r result, want string) {
	t.Helper()
	var e struct {
		Message string `json:"message"`
		Errors  []struct {
			Description string `json:"description"`
		} `json:"errors"`
		TrackingID string `json:"trackingId"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if e.Message == "" || len(e.Errors) == 0 || e.Errors[0].Description == "" {
		t.Errorf("error body lacks message or errors: %s", r.body)
	}
	if e.TrackingID == "" || r.header.Get("TrackingID") != e.TrackingID || r.header.Get("trackingid") != e.TrackingID {
		t.Errorf("trackingId %q, header %q", e.TrackingID, r.header.Get("TrackingID"))
	}
	if !strings.Contains(string(r.body), want) {
		t.Errorf("error body %s does not mention %q", r.body, want)
	}
}

func TestCreateCustomerConflictsAndAuth(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.Token = "static"
	opts.RejectAddress = mustRe(t, `^Nowhere`)
	e := newEnv(t, opts, nil)
	e.token = "static"
	e.must(202, e.do("POST", "/v1/wholesale/customers", customerBody("MS-1")))
	checkErrorBody(t, e.must(409, e.do("POST", "/v1/wholesale/customers", customerBody("MS-1"))), "MS-1")
	checkErrorBody(t, e.must(401, e.doAs("", "GET", "/v1/wholesale/customers", nil)), "access token")
	checkErrorBody(t, e.must(401, e.doAs("wrong", "GET", "/v1/wholesale/customers", nil)), "access token")
	rej := mutate(func(b map[string]any) { b["address"].(map[string]any)["addressLine1"] = "Nowhere 1" })
	checkErrorBody(t, e.must(400, e.do("POST", "/v1/wholesale/customers/validate", rej)), "could not be verified")
	checkErrorBody(t, e.must(400, e.do("POST", "/v1/wholesale/customers", rej)), "Nowhere 1")
	r := e.send(e.h, "static", "POST", "/v1/wholesale/customers", nil)
	checkErrorBody(t, e.must(400, r), "missing")
	checkErrorBody(t, e.must(404, e.do("GET", "/v1/wholesale/nothing", nil)), "no such resource")
	checkErrorBody(t, e.must(405, e.do("PATCH", "/v1/wholesale/customers", nil)), "not allowed")
	checkErrorBody(t, e.must(404, e.do("GET", "/wholesale/customers", nil)), "no such resource")
	if got := e.sb.Stats().Creates; got != 1 {
		t.Errorf("creates = %d, want 1 (refused creates do not count)", got)
	}
}

func TestWrongContentType(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	req, _ := http.NewRequest("POST", "http://sandbox.test/v1/wholesale/customers", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("Content-Type", "text/plain")
	rec := newRecorder()
	e.sb.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("status %d, want 415", rec.Code)
	}
}

func TestProvisioningLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	r := e.must(202, e.do("POST", "/v1/wholesale/customers", customerBody("MS-1")))
	url := r.str(t, "url")
	if r.header.Get("Location") != url || !strings.HasPrefix(url, "http://sandbox.test/v1/wholesale/customers/") {
		t.Fatalf("Location %q, url %q", r.header.Get("Location"), url)
	}
	id := url[strings.LastIndex(url, "/")+1:]
	g := e.must(200, e.do("GET", "/v1/wholesale/customers/"+id, nil))
	if g.str(t, "status") != "provisioning" || g.str(t, "orgId") != "" {
		t.Fatalf("before the delay: %s", g.body)
	}
	e.clock.Add(2 * time.Second)
	g = e.must(200, e.do("GET", "/v1/wholesale/customers/"+id, nil))
	org := g.str(t, "orgId")
	if g.str(t, "status") != "provisioned" || org == "" || g.str(t, "resourceDetails.packages.0.status") != "provisioned" {
		t.Fatalf("after the delay: %s", g.body)
	}
	locs := e.must(200, e.do("GET", "/v1/locations?orgId="+org, nil))
	if locs.str(t, "items.0.name") != "HQ" {
		t.Fatalf("HQ location missing: %s", locs.body)
	}
	hq := locs.str(t, "items.0.id")
	if e.sb.locations[hq].elin != "ELIN-1" {
		t.Errorf("ELIN not kept on the HQ location")
	}
	// Like Webex: the new calling location has no PSTN connection and no numbers.
	if n := numbersOf(t, e, "orgId="+org+"&locationId="+hq); len(n) != 0 {
		t.Errorf("a new HQ has numbers: %+v", n)
	}
	checkErrorBody(t, e.must(404, e.do("GET", "/v1/telephony/pstn/locations/"+hq+"/connection?orgId="+org, nil)), "no PSTN connection")
	subs := e.must(200, e.do("GET", "/v1/wholesale/subscribers?customerId="+id, nil))
	if !strings.Contains(string(subs.body), `"items":[]`) {
		t.Errorf("the admin must not be listed as a subscriber: %s", subs.body)
	}
	if got, want := e.sb.Stats().Line(), "sandbox: customers=1 subscribers=0 creates=1 early_retries=0"; got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
}

func TestRPLReview(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.RPLReview = mustRe(t, `^Muster`)
	e := newEnv(t, opts, nil)
	url := e.must(202, e.do("POST", "/v1/wholesale/customers", customerBody("MS-1"))).str(t, "url")
	id := url[strings.LastIndex(url, "/")+1:]
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{{0, "pending_rpl_review"}, {9 * time.Second, "pending_rpl_review"}, {time.Second, "provisioning"}, {2 * time.Second, "provisioned"}} {
		e.clock.Add(step.advance)
		if got := e.must(200, e.do("GET", "/v1/wholesale/customers/"+id, nil)).str(t, "status"); got != step.want {
			t.Fatalf("after +%v: status %q, want %q", step.advance, got, step.want)
		}
	}
}

// TestDelayRealClock is the one test on the real clock: the sandbox's own Delay is what it
// tests. It polls with a deadline and asserts no timing.
func TestDelayRealClock(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.Delay = 20 * time.Millisecond
	sb := New(opts)
	defer sb.Close()
	e := &env{t: t, sb: sb, h: sb, bad: sb, token: "x"}
	url := e.must(202, e.do("POST", "/v1/wholesale/customers", customerBody("MS-1"))).str(t, "url")
	id := url[strings.LastIndex(url, "/")+1:]
	deadline := time.Now().Add(10 * time.Second)
	for {
		if e.must(200, e.do("GET", "/v1/wholesale/customers/"+id, nil)).str(t, "status") == "provisioned" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("customer never provisioned")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestListCustomers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	_, org := e.provisioned("MS-1")
	e.must(202, e.do("POST", "/v1/wholesale/customers", customerBody("MS-2")))
	e.must(202, e.do("POST", "/v1/wholesale/customers", customerBody("MS-3")))
	count := func(q string) int {
		var l struct{ Items []customerOut }
		_ = json.Unmarshal(e.must(200, e.do("GET", "/v1/wholesale/customers"+q, nil)).body, &l)
		return len(l.Items)
	}
	tests := []struct {
		query string
		want  int
	}{
		{"", 3}, {"?externalId=MS-2", 1}, {"?externalId=none", 0}, {"?orgId=" + org, 1},
		{"?status=provisioning", 2}, {"?status=provisioned&status=provisioning", 3}, {"?status=provisioned,provisioning", 3},
		{"?offset=1&max=1", 1}, {"?offset=2&max=5", 1}, {"?offset=9", 0},
	}
	for _, tt := range tests {
		if got := count(tt.query); got != tt.want {
			t.Errorf("%s: %d items, want %d", tt.query, got, tt.want)
		}
	}
	for _, q := range []string{"?status=cooking", "?max=x", "?offset=-1"} {
		checkErrorBody(t, e.must(400, e.do("GET", "/v1/wholesale/customers"+q, nil)), "")
	}
}

func TestUpdateAndDeleteCustomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	id, org := e.provisioned("MS-1")
	sub := map[string]any{"customerId": id, "email": "u@muster.example", "packages": []string{"webex_meetings"},
		"provisioningParameters": map[string]any{"firstName": "U", "lastName": "M"}}
	e.must(200, e.do("POST", "/v1/wholesale/subscribers", sub))
	checkErrorBody(t, e.must(400, e.do("PUT", "/v1/wholesale/customers/"+id, map[string]any{"packages": []string{"cisco_calling_plan"}})), "needs")
	checkErrorBody(t, e.must(400, e.do("PUT", "/v1/wholesale/customers/"+id, map[string]any{"packages": []string{"webex_meetings"}, "orgId": "x"})), "only")
	e.must(202, e.do("PUT", "/v1/wholesale/customers/"+id, map[string]any{"packages": []string{"webex_meetings"}}))
	g := e.must(200, e.do("GET", "/v1/wholesale/customers/"+id, nil))
	if g.str(t, "status") != "updating" || g.str(t, "packages.0") != "webex_meetings" || g.str(t, "orgId") != org {
		t.Fatalf("after PUT: %s", g.body)
	}
	checkErrorBody(t, e.must(409, e.do("PUT", "/v1/wholesale/customers/"+id, map[string]any{"packages": []string{"webex_meetings"}})), "updating")
	e.clock.Add(2 * time.Second)
	e.must(202, e.do("DELETE", "/v1/wholesale/customers/"+id, nil))
	if st := e.must(200, e.do("GET", "/v1/wholesale/customers/"+id, nil)).str(t, "status"); st != "deleting" {
		t.Fatalf("status %q after DELETE", st)
	}
	e.clock.Add(2 * time.Second)
	e.must(404, e.do("GET", "/v1/wholesale/customers/"+id, nil))
	if st := e.sb.Stats(); st.Customers != 0 || st.Subscribers != 0 {
		t.Errorf("after delete: %+v", st)
	}
	// The external id is free again.
	e.must(202, e.do("POST", "/v1/wholesale/customers", customerBody("MS-1")))
}

func TestSeedCustomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	id, org := e.sb.SeedCustomer(SeedCustomer{ExternalID: "PH-1", Country: "GB", Timezone: "Europe/London", Language: "en_gb", PSTN: "INTEGRATED_CCP"})
	l := e.must(200, e.do("GET", "/v1/wholesale/customers?externalId=PH-1", nil))
	if l.str(t, "items.0.id") != id || l.str(t, "items.0.orgId") != org || l.str(t, "items.0.status") != "provisioned" {
		t.Fatalf("seeded customer: %s", l.body)
	}
	n := e.must(200, e.do("GET", "/v1/telephony/config/numbers?orgId="+org+"&available=true&max=1", nil))
	if got := n.str(t, "phoneNumbers.0.phoneNumber"); got != "+442079460000" {
		t.Errorf("first GB number %q", got)
	}
	_, org2 := e.sb.SeedCustomer(SeedCustomer{ExternalID: "PH-2", OrgID: "ORG-X", Packages: []string{"webex_meetings"}})
	if org2 != "ORG-X" {
		t.Errorf("org %q", org2)
	}
	_, org3 := e.sb.SeedCustomer(SeedCustomer{ExternalID: "PH-3", SubPartnerOrgID: "SUB-1", PSTN: "LOCAL_GATEWAY"})
	if n := numbersOf(t, e, "orgId="+org3); len(n) != 0 {
		t.Errorf("a premises-based seed has numbers: %+v", n)
	}
	if c := e.must(200, e.do("GET", "/v1/telephony/pstn/locations/"+e.hqOf(org3)+"/connection?orgId="+org3, nil)); c.str(t, "routeId") != SandboxTrunk {
		t.Errorf("seeded premises connection: %s", c.body)
	}
	if l := e.must(200, e.do("GET", "/v1/wholesale/customers?externalId=PH-3", nil)); !strings.Contains(string(l.body), `"items":[]`) {
		t.Errorf("a sub-partner's customer is listed for the partner: %s", l.body)
	}
	e.must(200, e.do("GET", "/v1/wholesale/customers?externalId=PH-3&onBehalfOfSubPartnerOrgId=SUB-1", nil)).str(t, "items.0.id")
	if st := e.sb.Stats(); st.Customers != 3 || st.Creates != 0 || st.Locations != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestStatsEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	id, org := e.provisioned("MS-1")
	// The org stays usable while the customer is updating.
	e.must(202, e.do("PUT", "/v1/wholesale/customers/"+id, map[string]any{"packages": []string{"webex_calling"}}))
	e.must(200, e.do("GET", "/v1/locations?orgId="+org, nil))
	e.must(401, e.doAs("", "GET", "/v1/wholesale/customers/"+id, nil))
	r := e.must(200, e.do("GET", "/_sandbox/stats", nil))
	var st Stats
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"POST /wholesale/customers": 1, "GET /wholesale/customers/{customerId}": 2,
		"PUT /wholesale/customers/{customerId}": 1, "GET /locations": 1}
	for k, v := range want {
		if st.Calls[k] != v {
			t.Errorf("calls[%s] = %d, want %d (all: %v)", k, st.Calls[k], v, st.Calls)
		}
	}
	if st.Creates != 1 || st.Customers != 1 || st.Unauthorized != 1 || st.Locations != 1 {
		t.Errorf("stats %+v", st)
	}
	e.must(405, e.do("POST", "/_sandbox/stats", nil))
}

func TestAttachExistingOrg(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	attach := func(ext string) map[string]any {
		return mutate(func(b map[string]any) {
			b["externalId"], b["orgId"] = ext, "ORG-EXISTING"
			delete(b, "customerInfo")
		})
	}
	_, org := e.provisioned("MS-0") // an unrelated customer first
	url := e.must(202, e.do("POST", "/v1/wholesale/customers", attach("MS-1"))).str(t, "url")
	e.clock.Add(2 * time.Second)
	if got := e.must(200, e.do("GET", url[strings.Index(url, "/v1/"):], nil)).str(t, "orgId"); got != "ORG-EXISTING" || got == org {
		t.Errorf("attached org id %q", got)
	}
	checkErrorBody(t, e.must(409, e.do("POST", "/v1/wholesale/customers", attach("MS-2"))), "already linked")
}

func TestPrecheckCustomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	addrOnly := map[string]any{"address": map[string]any{"addressLine1": "Hauptstraße 1", "city": "Berlin", "country": "DE"}}
	r := e.must(200, e.do("POST", "/v1/wholesale/customers/validate", addrOnly))
	if r.str(t, "message") != "success" || !strings.Contains(string(r.body), `"infoCode":100`) {
		t.Errorf("precheck: %s", r.body)
	}
	checkErrorBody(t, e.must(400, e.do("POST", "/v1/wholesale/customers/validate", map[string]any{})), "address is required")
	e.provisioned("MS-1")
	checkErrorBody(t, e.must(400, e.do("POST", "/v1/wholesale/customers/validate", customerBody("MS-1"))), "already exists")
}
