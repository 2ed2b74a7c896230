package sandbox

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// createNamed creates a customer named name and returns its id.
func (e *env) createNamed(ext, name, subPartner string) string {
	e.t.Helper()
	b := customerBody(ext)
	b["customerInfo"].(map[string]any)["name"] = name
	target := "/v1/wholesale/customers"
	if subPartner != "" {
		target += "?onBehalfOfSubPartnerOrgId=" + url.QueryEscape(subPartner)
	}
	u := e.must(202, e.do("POST", target, b)).str(e.t, "url")
	return u[strings.LastIndex(u, "/")+1:]
}

func (e *env) customerOut(id string) customerOut {
	e.t.Helper()
	var o customerOut
	if err := json.Unmarshal(e.must(200, e.do("GET", "/v1/wholesale/customers/"+id, nil)).body, &o); err != nil {
		e.t.Fatal(err)
	}
	return o
}

func TestProvisionErrorsThenUpdate(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.ProvisionErrors = mustRe(t, `^Warn`)
	e := newEnv(t, opts, nil)
	id := e.createNamed("MS-1", "Warn GmbH", "")
	e.clock.Add(opts.Delay)
	o := e.customerOut(id)
	if o.Status != "provisioned_with_errors" || o.OrgID == "" || len(o.ResourceDetails.Packages) != 2 {
		t.Fatalf("after provisioning: %+v", o)
	}
	calling, meetings := o.ResourceDetails.Packages[0], o.ResourceDetails.Packages[1]
	if calling.Name != "webex_calling" || calling.Status != "error" || len(calling.Warnings) != 1 || calling.Warnings[0].ErrorCode != 2560 ||
		!strings.Contains(calling.Warnings[0].Description, "maintenance") {
		t.Errorf("calling package: %+v", calling)
	}
	if meetings.Status != "provisioned" || len(meetings.Warnings)+len(meetings.Errors) != 0 {
		t.Errorf("meetings package: %+v", meetings)
	}
	if l := e.must(200, e.do("GET", "/v1/locations?orgId="+o.OrgID, nil)); !strings.Contains(string(l.body), `"items":[]`) {
		t.Errorf("calling failed, yet the HQ exists: %s", l.body)
	}
	checkErrorBody(t, e.must(409, e.do("POST", "/v1/wholesale/subscribers", userBody(id, "a@x.example", "webex_meetings", nil))), "provisioned_with_errors")
	e.must(202, e.do("PUT", "/v1/wholesale/customers/"+id, map[string]any{"packages": []string{"webex_calling", "webex_meetings"}}))
	if st := e.customerOut(id).Status; st != "updating" {
		t.Fatalf("after PUT: %q", st)
	}
	e.clock.Add(opts.Delay)
	o = e.customerOut(id)
	if o.Status != "provisioned" || o.ResourceDetails.Packages[0].Status != "provisioned" || len(o.ResourceDetails.Packages[0].Warnings) != 0 {
		t.Fatalf("after the update: %+v", o)
	}
	if e.hqOf(o.OrgID) == "" {
		t.Error("no HQ after the update")
	}
	e.must(200, e.do("POST", "/v1/wholesale/subscribers", userBody(id, "a@x.example", "webex_meetings", nil)))
}

func TestProvisionFail(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.ProvisionFail = mustRe(t, `^Broken`)
	e := newEnv(t, opts, nil)
	id := e.createNamed("MS-1", "Broken GmbH", "")
	ok := e.createNamed("MS-2", "Fine GmbH", "")
	e.clock.Add(opts.Delay)
	o := e.customerOut(id)
	if o.Status != "error" || o.OrgID != "" {
		t.Fatalf("failed customer: %+v", o)
	}
	p := o.ResourceDetails.Packages[0]
	if p.Name != "webex_calling" || p.Status != "error" || len(p.Errors) != 1 || p.Errors[0].Description == "" || p.Errors[0].ErrorCode == 0 {
		t.Errorf("failing package: %+v", p)
	}
	checkErrorBody(t, e.must(409, e.do("PUT", "/v1/wholesale/customers/"+id, map[string]any{"packages": []string{"webex_meetings"}})), "error")
	if st := e.customerOut(ok).Status; st != "provisioned" {
		t.Errorf("a customer the regexp does not match: %q", st)
	}
	var l struct{ Items []customerOut }
	_ = json.Unmarshal(e.must(200, e.do("GET", "/v1/wholesale/customers?status=error", nil)).body, &l)
	if len(l.Items) != 1 || l.Items[0].ID != id {
		t.Errorf("status=error lists %+v", l.Items)
	}
}

func TestSubscriberErrors(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.SubscriberErrors = mustRe(t, `^broken@`)
	e := newEnv(t, opts, nil)
	cid, org := e.provisioned("MS-1")
	hq := e.hqOf(org)
	e.withCCP(org, hq, "+493055500000", "+493055500001")
	r := e.must(200, e.do("POST", "/v1/wholesale/subscribers", userBody(cid, "broken@x.example", "webex_calling", map[string]any{"primaryPhoneNumber": "+493055500000"})))
	var sub subscriberOut
	if err := json.Unmarshal(r.body, &sub); err != nil {
		t.Fatal(err)
	}
	if len(sub.Errors) != 1 || !strings.Contains(sub.Errors[0].Description, "broken@x.example") || sub.Errors[0].ErrorCode == 0 {
		t.Fatalf("answer: %s", r.body)
	}
	if got := e.must(200, e.do("GET", "/v1/wholesale/subscribers/"+sub.ID, nil)).str(t, "errors.0.description"); got == "" {
		t.Error("the subscriber does not keep its errors")
	}
	if n := numbersOf(t, e, "orgId="+org+"&available=true"); len(n) != 2 {
		t.Errorf("the failed subscriber took its number: %d available", len(n))
	}
	u := e.must(200, e.do("PUT", "/v1/wholesale/subscribers/"+sub.ID, map[string]any{"packages": []string{"webex_meetings"}}))
	if u.str(t, "errors.0.description") == "" {
		t.Errorf("update answer without errors: %s", u.body)
	}
	fine := e.must(200, e.do("POST", "/v1/wholesale/subscribers", userBody(cid, "fine@x.example", "webex_meetings", nil)))
	if strings.Contains(string(fine.body), `"errors"`) {
		t.Errorf("an unmatched email got errors: %s", fine.body)
	}
}

func TestSubscriberPackageRequired(t *testing.T) {
	t.Parallel()
	e, cid, _, _ := subEnv(t)
	pre := "/v1/wholesale/subscribers/validate"
	checkErrorBody(t, e.must(400, e.do("POST", pre, map[string]any{"email": "a@x.example"})), "packages is required")
	checkErrorBody(t, e.must(400, e.do("POST", pre, map[string]any{"email": "a@x.example", "customerId": cid})), "packages is required")
	checkErrorBody(t, e.must(400, e.do("POST", pre, map[string]any{"email": "a@x.example", "package": "webex_meetings", "packages": []string{"webex_meetings"}})), "not both")
	e.must(200, e.do("POST", pre, map[string]any{"email": "a@x.example", "packages": []string{"webex_meetings"}}))
	e.must(200, e.do("POST", pre, map[string]any{"email": "a@x.example", "package": "webex_meetings"}))
	id := e.must(200, e.do("POST", "/v1/wholesale/subscribers", userBody(cid, "a@x.example", "webex_meetings", nil))).str(t, "id")
	checkErrorBody(t, e.must(400, e.do("PUT", "/v1/wholesale/subscribers/"+id, map[string]any{"provisioningParameters": map[string]any{"extension": "1001"}})), "packages is required")
}

func TestELINCountries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	withCountry := func(country, elin string) map[string]any {
		b := customerBody("MS-" + country)
		addr := map[string]any{"addressLine1": "Street 1", "city": "City", "country": country}
		b["address"] = addr
		calling(b)["address"] = addr
		calling(b)["emergencyLocationIdentifier"] = elin
		return b
	}
	for _, tt := range []struct {
		country, elin string
		status        int
	}{{"GB", "ELIN-1", 400}, {"AT", "ELIN-1", 400}, {"GB", "", 200}, {"FR", "ELIN-1", 200}, {"BE", "ELIN-1", 200}, {"DE", "ELIN-1", 200}} {
		r := e.do("POST", "/v1/wholesale/customers/validate", withCountry(tt.country, tt.elin))
		if r.status != tt.status {
			t.Errorf("%s with ELIN %q: status %d, want %d: %s", tt.country, tt.elin, r.status, tt.status, r.body)
		} else if tt.status == 400 {
			checkErrorBody(t, r, "emergencyLocationIdentifier can be given only for locations in BE, DE or FR")
		}
	}
	checkErrorBody(t, e.must(400, e.do("POST", "/v1/wholesale/customers", withCountry("GB", "ELIN-1"))), "emergencyLocationIdentifier")
	_, org := e.provisioned("MS-1")
	at := locationBody("Wien")
	at["address"].(map[string]any)["country"] = "AT"
	at["timeZone"] = "Europe/Vienna"
	loc := e.must(201, e.do("POST", "/v1/locations?orgId="+org, at)).str(t, "id")
	at["id"] = loc
	e.must(201, e.do("POST", "/v1/telephony/config/locations?orgId="+org, at))
	checkErrorBody(t, e.must(400, e.do("PUT", "/v1/telephony/config/locations/"+loc+"?orgId="+org, map[string]any{"pAccessNetworkInfo": "ELIN-2"})), "only for locations in BE, DE or FR")
	hq := e.hqOf(org)
	e.must(204, e.do("PUT", "/v1/telephony/config/locations/"+hq+"?orgId="+org, map[string]any{"pAccessNetworkInfo": "ELIN-2"}))
	if got := e.must(200, e.do("GET", "/v1/telephony/config/locations/"+hq+"?orgId="+org, nil)).str(t, "pAccessNetworkInfo"); got != "ELIN-2" {
		t.Errorf("pAccessNetworkInfo %q", got)
	}
}

// linkOf returns the next link's query, failing when there is none.
func linkOf(t *testing.T, r result) url.Values {
	t.Helper()
	l := r.header.Get("Link")
	open, end := strings.IndexByte(l, '<'), strings.IndexByte(l, '>')
	if open < 0 || end < open || !strings.HasSuffix(l, `; rel="next"`) {
		t.Fatalf("Link %q", l)
	}
	u, err := url.Parse(l[open+1 : end])
	if err != nil || u.Host != "sandbox.test" || !strings.HasPrefix(u.Path, "/v1/") {
		t.Fatalf("next link %q: %v", l, err)
	}
	return u.Query()
}

// TestPageSizeLinks: every list pages at --page-size, and its next link keeps only max and
// the offset parameter, so following it verbatim loses the filters.
func TestPageSizeLinks(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.PageSize = 2
	e := newEnv(t, opts, nil)
	cid, org := e.provisioned("MS-1")
	e.provisioned("MS-2")
	e.provisioned("MS-3")
	for i := range 4 {
		e.must(201, e.do("POST", "/v1/locations?orgId="+org, locationBody("Site "+string(rune('A'+i)))))
		e.must(200, e.do("POST", "/v1/wholesale/subscribers", userBody(cid, "u"+string(rune('a'+i))+"@x.example", "webex_meetings", nil)))
	}
	e.withCCP(org, e.hqOf(org), "+493055500000", "+493055500001", "+493055500002")
	tests := []struct {
		target, key, offsetParam string
		total                    int
	}{
		{"/v1/wholesale/customers?status=provisioned&max=50", "items", "offset", 3},
		{"/v1/wholesale/subscribers?customerId=" + cid + "&max=100", "items", "offset", 4},
		{"/v1/locations?orgId=" + org + "&name=site", "items", "start", 4},
		{"/v1/telephony/config/numbers?orgId=" + org + "&available=true", "phoneNumbers", "start", 3},
	}
	for _, tt := range tests {
		target, seen := tt.target, 0
		base, _ := url.Parse(tt.target)
		for page := 0; ; page++ {
			r := e.must(200, e.do("GET", target, nil))
			var m map[string][]json.RawMessage
			_ = json.Unmarshal(r.body, &m)
			if len(m[tt.key]) > 2 {
				t.Errorf("%s: page of %d with --page-size 2", target, len(m[tt.key]))
			}
			seen += len(m[tt.key])
			if r.header.Get("Link") == "" {
				break
			}
			next := linkOf(t, r)
			if len(next) != 2 || next.Get("max") != "2" || next.Get(tt.offsetParam) == "" {
				t.Fatalf("%s: next link query %v keeps more than max and %s", target, next, tt.offsetParam)
			}
			// Re-apply the first request's parameters, as a client must.
			q := base.Query()
			q.Set("max", next.Get("max"))
			q.Set(tt.offsetParam, next.Get(tt.offsetParam))
			target = base.Path + "?" + q.Encode()
			if page > 10 {
				t.Fatalf("%s: no end of pages", tt.target)
			}
		}
		if seen != tt.total {
			t.Errorf("%s: %d items over all pages, want %d", tt.target, seen, tt.total)
		}
	}
	// Followed verbatim, the locations link has no orgId: the partner's own (empty) org.
	r := e.must(200, e.do("GET", "/v1/locations?orgId="+org, nil))
	next := linkOf(t, r)
	if v := e.must(200, e.do("GET", "/v1/locations?"+next.Encode(), nil)); !strings.Contains(string(v.body), `"items":[]`) {
		t.Errorf("verbatim next page: %s", v.body)
	}
}

func TestSubPartnerScoping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, DefaultOptions(), nil)
	id := e.createNamed("MS-1", "Muster GmbH", "SUB-1")
	e.clock.Add(2 * time.Second)
	e.must(404, e.do("GET", "/v1/wholesale/customers/"+id, nil))
	e.must(404, e.do("GET", "/v1/wholesale/customers/"+id+"?onBehalfOfSubPartnerOrgId=SUB-2", nil))
	if st := e.must(200, e.do("GET", "/v1/wholesale/customers/"+id+"?onBehalfOfSubPartnerOrgId=SUB-1", nil)).str(t, "status"); st != "provisioned" {
		t.Fatalf("status %q", st)
	}
	if l := e.must(200, e.do("GET", "/v1/wholesale/customers", nil)); !strings.Contains(string(l.body), `"items":[]`) {
		t.Errorf("the partner lists a sub-partner's customer: %s", l.body)
	}
	user := userBody(id, "a@x.example", "webex_meetings", nil)
	e.must(404, e.do("POST", "/v1/wholesale/subscribers", user))
	sid := e.must(200, e.do("POST", "/v1/wholesale/subscribers?onBehalfOfSubPartnerOrgId=SUB-1", user)).str(t, "id")
	e.must(404, e.do("GET", "/v1/wholesale/subscribers/"+sid, nil))
	e.must(200, e.do("GET", "/v1/wholesale/subscribers/"+sid+"?onBehalfOfSubPartnerOrgId=SUB-1", nil))
	if l := e.must(200, e.do("GET", "/v1/wholesale/subscribers?customerId="+id, nil)); !strings.Contains(string(l.body), `"items":[]`) {
		t.Errorf("the partner lists a sub-partner's subscriber: %s", l.body)
	}
	e.must(404, e.do("DELETE", "/v1/wholesale/customers/"+id, nil))
	e.must(202, e.do("DELETE", "/v1/wholesale/customers/"+id+"?onBehalfOfSubPartnerOrgId=SUB-1", nil))
}
