package sandbox

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestSeededNumbersValid checks the seeding rule docs/commands.md cites: every number of every
// block is a valid number of its country for phonenumbers, and blocks do not overlap.
func TestSeededNumbersValid(t *testing.T) {
	t.Parallel()
	for country := range numberRanges {
		t.Run(country, func(t *testing.T) {
			t.Parallel()
			seen := map[string]bool{}
			for block := 0; block < maxBlocks; block++ {
				nums := seedNumbers(country, block)
				if len(nums) != NumbersPerLocation {
					t.Fatalf("block %d has %d numbers", block, len(nums))
				}
				check := nums
				if block != 0 && block != maxBlocks-1 {
					// phonenumbers is slow under -race; number plans are ranges, so the
					// ends of the middle blocks stand for them, the outer blocks in full.
					check = []string{nums[0], nums[len(nums)-1]}
				}
				for _, n := range nums {
					if seen[n] {
						t.Fatalf("%s seeded twice", n)
					}
					seen[n] = true
				}
				for _, n := range check {
					p, err := phonenumbers.Parse(n, country)
					if err != nil || !phonenumbers.IsValidNumberForRegion(p, country) {
						t.Fatalf("%s (block %d) is not a valid %s number", n, block, country)
					}
					if got := phonenumbers.Format(p, phonenumbers.E164); got != n {
						t.Fatalf("%s formats as %s", n, got)
					}
					if !strings.HasPrefix(n, callingCode(country)) || callingCode(country) == "" {
						t.Fatalf("%s lacks the calling code of %s", n, country)
					}
				}
			}
			if seedNumbers(country, maxBlocks) != nil {
				t.Error("blocks beyond maxBlocks are seeded")
			}
		})
	}
	if seedNumbers("ZW", 0) != nil {
		t.Error("a country without a range got numbers")
	}
}

// locEnv is a provisioned customer with a second calling location "Köln".
func locEnv(t *testing.T, opts Options) (e *env, org, loc string) {
	e = newEnv(t, opts, nil)
	_, org = e.provisioned("MS-1")
	loc = e.must(201, e.do("POST", "/v1/locations?orgId="+org, locationBody("Köln"))).str(t, "id")
	b := locationBody("Köln")
	b["id"] = loc
	e.must(201, e.do("POST", "/v1/telephony/config/locations?orgId="+org, b))
	return e, org, loc
}

func locationBody(name string) map[string]any {
	return map[string]any{"name": name, "timeZone": "Europe/Berlin", "preferredLanguage": "de_de", "announcementLanguage": "de_de",
		"address": map[string]any{"address1": "Domplatz 1", "city": "Köln", "state": "NRW", "postalCode": "50667", "country": "DE"}}
}

func numbersOf(t *testing.T, e *env, query string) []numberOut {
	var l struct{ PhoneNumbers []numberOut }
	if err := json.Unmarshal(e.must(200, e.do("GET", "/v1/telephony/config/numbers?"+query, nil)).body, &l); err != nil {
		t.Fatal(err)
	}
	return l.PhoneNumbers
}

func TestAddAndActivateNumbers(t *testing.T) {
	t.Parallel()
	e, org, loc := locEnv(t, DefaultOptions())
	if n := numbersOf(t, e, "orgId="+org); len(n) != 0 {
		t.Fatalf("a new customer has numbers: %+v", n)
	}
	path := "/v1/telephony/config/locations/" + loc + "/numbers?orgId=" + org
	block := []string{"+492215550001", "+492215550002"}
	checkErrorBody(t, e.must(400, e.do("POST", path, map[string]any{"phoneNumbers": block})), "no PSTN connection")
	e.withCCP(org, loc)
	e.withCCP(org, e.hqOf(org), "+493055500000")
	e.must(201, e.do("POST", path, map[string]any{"phoneNumbers": block}))
	if n := numbersOf(t, e, "orgId="+org+"&phoneNumber=%2B492215550001"); len(n) != 1 || n[0].State != "INACTIVE" {
		t.Fatalf("added number: %+v", n)
	}
	e.must(204, e.do("PUT", path, map[string]any{"phoneNumbers": block, "action": "ACTIVATE"}))
	if n := numbersOf(t, e, "orgId="+org+"&state=INACTIVE"); len(n) != 0 {
		t.Errorf("still inactive after ACTIVATE: %+v", n)
	}
	if n := numbersOf(t, e, "orgId="+org+"&locationId="+loc+"&start=1&max=50"); len(n) != 1 || n[0].PhoneNumber != block[1] {
		t.Errorf("page from 1: %+v", n)
	}
	refusals := []struct {
		name, method string
		body         map[string]any
		status       int
		want         string
	}{
		{"duplicate", "POST", map[string]any{"phoneNumbers": block}, 409, "already exists"},
		{"not E.164", "POST", map[string]any{"phoneNumbers": []string{"0221 5550003"}}, 400, "E.164"},
		{"foreign country", "POST", map[string]any{"phoneNumbers": []string{"+442079461234"}}, 400, "not a valid number of DE"},
		{"no such German number", "POST", map[string]any{"phoneNumbers": []string{"+4901234567"}}, 400, "not a valid number of DE"},
		{"twice in list", "POST", map[string]any{"phoneNumbers": []string{"+492215550009", "+492215550009"}}, 400, "twice"},
		{"empty", "POST", map[string]any{"phoneNumbers": []string{}}, 400, "at least one"},
		{"bad state", "POST", map[string]any{"phoneNumbers": []string{"+492215550010"}, "state": "ON"}, 400, "state"},
		{"other location's number", "PUT", map[string]any{"phoneNumbers": []string{"+493055500000"}}, 400, "not a number of this location"},
		{"bad action", "PUT", map[string]any{"phoneNumbers": block, "action": "ENABLE"}, 400, "action"},
	}
	for _, tt := range refusals {
		r := e.do(tt.method, path, tt.body)
		if r.status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, r.status, tt.status, r.body)
			continue
		}
		checkErrorBody(t, r, tt.want)
	}
	checkErrorBody(t, e.must(404, e.do("POST", "/v1/telephony/config/locations/nope/numbers?orgId="+org, map[string]any{"phoneNumbers": block})), "Location not found")
}

// TestPremisesPSTN: a LOCAL_GATEWAY connection on the sandbox's trunk takes numbers too.
func TestPremisesPSTN(t *testing.T) {
	t.Parallel()
	e, org, loc := locEnv(t, DefaultOptions())
	id := e.connectionOption(org, loc, "Premises-based PSTN")
	e.must(204, e.do("PUT", "/v1/telephony/pstn/locations/"+loc+"/connection?orgId="+org,
		map[string]any{"id": id, "premiseRouteType": "TRUNK", "premiseRouteId": SandboxTrunk}))
	c := e.must(200, e.do("GET", "/v1/telephony/pstn/locations/"+loc+"/connection?orgId="+org, nil))
	if c.str(t, "pstnConnectionType") != "LOCAL_GATEWAY" || c.str(t, "routeType") != "TRUNK" || c.str(t, "routeId") != SandboxTrunk || c.str(t, "id") != id {
		t.Fatalf("connection %s", c.body)
	}
	d := e.must(200, e.do("GET", "/v1/telephony/config/locations/"+loc+"?orgId="+org, nil))
	if d.str(t, "connection.type") != "TRUNK" || d.str(t, "connection.id") != SandboxTrunk {
		t.Errorf("calling details: %s", d.body)
	}
	e.must(201, e.do("POST", "/v1/telephony/config/locations/"+loc+"/numbers?orgId="+org, map[string]any{"phoneNumbers": []string{"+492215550001"}}))
}

func TestPSTNConnectionRefusals(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.PSTNIntegrated = mustRe(t, `^Integrated`)
	e, org, loc := locEnv(t, opts)
	checkErrorBody(t, e.must(404, e.do("GET", "/v1/telephony/pstn/locations/"+loc+"/connection?orgId="+org, nil)), "no PSTN connection")
	premises := e.connectionOption(org, loc, "Premises-based PSTN")
	ccp := e.connectionOption(org, loc, "Sandbox CCP")
	integ := e.must(201, e.do("POST", "/v1/locations?orgId="+org, locationBody("Integrated Site"))).str(t, "id")
	b := locationBody("Integrated Site")
	b["id"] = integ
	e.must(201, e.do("POST", "/v1/telephony/config/locations?orgId="+org, b))
	integID := e.must(200, e.do("GET", "/v1/telephony/pstn/locations/"+integ+"/connection?orgId="+org, nil)).str(t, "id")
	path := "/v1/telephony/pstn/locations/" + loc + "/connection?orgId=" + org
	tests := []struct {
		name   string
		path   string
		body   map[string]any
		status int
		want   string
	}{
		{"no id", path, map[string]any{"premiseRouteType": "TRUNK", "premiseRouteId": SandboxTrunk}, 400, "id is required"},
		{"unknown id", path, map[string]any{"id": "nope"}, 400, "not one of the location's connection options"},
		{"premises without route", path, map[string]any{"id": premises}, 400, "premiseRouteType is required"},
		{"premises without route id", path, map[string]any{"id": premises, "premiseRouteType": "TRUNK"}, 400, "premiseRouteId is required"},
		{"bad route type", path, map[string]any{"id": premises, "premiseRouteType": "SIP", "premiseRouteId": SandboxTrunk}, 400, "not TRUNK or ROUTE_GROUP"},
		{"unknown trunk", path, map[string]any{"id": premises, "premiseRouteType": "TRUNK", "premiseRouteId": "TRUNK-9"}, 400, "not a trunk"},
		{"no route groups", path, map[string]any{"id": premises, "premiseRouteType": "ROUTE_GROUP", "premiseRouteId": "RG-1"}, 400, "not a route group"},
		{"route on CCP", path, map[string]any{"id": ccp, "premiseRouteType": "TRUNK", "premiseRouteId": SandboxTrunk}, 400, "apply only to a premises-based"},
		{"integrated cannot be set", path, map[string]any{"id": integID}, 400, "INTEGRATED_CCP connection cannot be set"},
		{"Cisco PSTN cannot be set", path, map[string]any{"id": connectionID("sandbox-cisco-pstn")}, 400, "CISCO_PSTN connection cannot be set"},
		{"unknown field", path, map[string]any{"id": ccp, "routeType": "TRUNK"}, 400, "unknown field"},
		{"integrated location", "/v1/telephony/pstn/locations/" + integ + "/connection?orgId=" + org, map[string]any{"id": ccp}, 400, "cannot be changed"},
		{"not a calling location", "/v1/telephony/pstn/locations/nope/connection?orgId=" + org, map[string]any{"id": ccp}, 404, "Location not found"},
	}
	for _, tt := range tests {
		r := e.do("PUT", tt.path, tt.body)
		if r.status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, r.status, tt.status, r.body)
			continue
		}
		checkErrorBody(t, r, tt.want)
	}
	e.withCCP(org, loc, "+492215550001")
	checkErrorBody(t, e.must(409, e.do("PUT", path, map[string]any{"id": premises, "premiseRouteType": "TRUNK", "premiseRouteId": SandboxTrunk})), "remove them")
	e.must(204, e.do("PUT", path, map[string]any{"id": ccp})) // the same type again is fine
	if got := e.must(200, e.do("GET", "/v1/telephony/pstn/locations/"+loc+"/connectionOptions?orgId="+org+"&serviceTypes=MOBILE_NUMBERS", nil)); !strings.Contains(string(got.body), `"items":[]`) {
		t.Errorf("mobile options: %s", got.body)
	}
	checkErrorBody(t, e.must(400, e.do("GET", "/v1/telephony/pstn/locations/"+loc+"/connectionOptions?orgId="+org+"&serviceTypes=FAX", nil)), "serviceTypes")
}

func TestIntegratedPSTNRefusesNumbers(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.PSTNIntegrated = mustRe(t, `^Köln$`)
	e, org, loc := locEnv(t, opts)
	c := e.must(200, e.do("GET", "/v1/telephony/pstn/locations/"+loc+"/connection?orgId="+org, nil))
	if c.str(t, "pstnConnectionType") != "INTEGRATED_CCP" {
		t.Fatalf("connection %s", c.body)
	}
	provider := numbersOf(t, e, "orgId="+org+"&locationId="+loc)
	if len(provider) != NumbersPerLocation || provider[0].PhoneNumber != "+493055500000" {
		t.Fatalf("provider numbers: %d from %+v", len(provider), provider[:min(1, len(provider))])
	}
	hq := e.hqOf(org)
	checkErrorBody(t, e.must(404, e.do("GET", "/v1/telephony/pstn/locations/"+hq+"/connection?orgId="+org, nil)), "no PSTN connection")
	if n := numbersOf(t, e, "orgId="+org+"&locationId="+hq); len(n) != 0 {
		t.Errorf("HQ without PSTN has numbers: %+v", n)
	}
	path := "/v1/telephony/config/locations/" + loc + "/numbers?orgId=" + org
	checkErrorBody(t, e.must(400, e.do("POST", path, map[string]any{"phoneNumbers": []string{"+492215550001"}})), "INTEGRATED_CCP")
	checkErrorBody(t, e.must(400, e.do("PUT", path, map[string]any{"phoneNumbers": []string{"+493055500000"}})), "INTEGRATED_CCP")
}

func TestValidateNumbers(t *testing.T) {
	t.Parallel()
	e, org, loc := locEnv(t, DefaultOptions())
	e.withCCP(org, loc, "+493055500000")
	_, org2 := e.sb.SeedCustomer(SeedCustomer{ExternalID: "PH-1", Country: "AT", Timezone: "Europe/Vienna", Language: "de_at", PSTN: "INTEGRATED_CCP"})
	atNumber := numbersOf(t, e, "orgId="+org2+"&max=1")[0].PhoneNumber
	r := e.must(200, e.do("POST", "/v1/telephony/config/actions/validateNumbers/invoke?orgId="+org,
		map[string]any{"phoneNumbers": []string{"+492215550001", "+493055500000", atNumber, "12", "+492215550001"}}))
	var v struct {
		Status  string
		Numbers []validatedNumber
	}
	_ = json.Unmarshal(r.body, &v)
	want := []string{"Available", "Duplicate", "Unavailable", "Invalid", "Duplicate In List"}
	if v.Status != "ERRORS" || len(v.Numbers) != len(want) {
		t.Fatalf("validate: %s", r.body)
	}
	for i, w := range want {
		if v.Numbers[i].State != w {
			t.Errorf("%s: %s, want %s", v.Numbers[i].Number, v.Numbers[i].State, w)
		}
	}
	ok := e.must(200, e.do("POST", "/v1/telephony/config/actions/validateNumbers/invoke?orgId="+org, map[string]any{"phoneNumbers": []string{"+492215550001"}}))
	if ok.str(t, "status") != "OK" {
		t.Errorf("all available: %s", ok.body)
	}
}

func TestLocations(t *testing.T) {
	t.Parallel()
	e, org, loc := locEnv(t, DefaultOptions())
	refusals := []struct {
		name   string
		target string
		body   func() map[string]any
		status int
		want   string
	}{
		{"no orgId", "/v1/locations", func() map[string]any { return locationBody("X") }, 400, "orgId is required"},
		{"unknown org", "/v1/locations?orgId=nope", func() map[string]any { return locationBody("X") }, 404, "Organization not found"},
		{"missing state", "/v1/locations?orgId=" + org, func() map[string]any {
			b := locationBody("X")
			delete(b["address"].(map[string]any), "state")
			return b
		}, 400, "address.state is required"},
		{"no announcement language", "/v1/locations?orgId=" + org, func() map[string]any {
			b := locationBody("X")
			delete(b, "announcementLanguage")
			return b
		}, 400, "announcementLanguage is required"},
		{"language case", "/v1/locations?orgId=" + org, func() map[string]any {
			b := locationBody("X")
			b["preferredLanguage"] = "de_DE"
			return b
		}, 400, "preferredLanguage"},
		{"bad time zone", "/v1/locations?orgId=" + org, func() map[string]any {
			b := locationBody("X")
			b["timeZone"] = "CET+1"
			return b
		}, 400, "IANA"},
		{"calling name over 80", "/v1/telephony/config/locations?orgId=" + org, func() map[string]any {
			b := locationBody(strings.Repeat("n", 81))
			b["id"] = loc
			return b
		}, 400, "at most 80"},
		{"enable without id", "/v1/telephony/config/locations?orgId=" + org, func() map[string]any { return locationBody("X") }, 400, "id is required"},
		{"enable unknown", "/v1/telephony/config/locations?orgId=" + org, func() map[string]any {
			b := locationBody("X")
			b["id"] = "nope"
			return b
		}, 404, "Location not found"},
	}
	for _, tt := range refusals {
		r := e.do("POST", tt.target, tt.body())
		if r.status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, r.status, tt.status, r.body)
			continue
		}
		checkErrorBody(t, r, tt.want)
	}
	// A long name is fine for a location that is not a calling location.
	e.must(201, e.do("POST", "/v1/locations?orgId="+org, locationBody(strings.Repeat("n", 100))))
	g := e.must(200, e.do("GET", "/v1/telephony/config/locations/"+loc+"?orgId="+org, nil))
	if g.str(t, "name") != "Köln" || g.str(t, "callingLineId.phoneNumber") != "" {
		t.Errorf("calling location: %s", g.body)
	}
	main := "+492215550001"
	e.withCCP(org, loc, main)
	e.withCCP(org, e.hqOf(org), "+493055500000")
	checkErrorBody(t, e.must(400, e.do("PUT", "/v1/telephony/config/locations/"+loc+"?orgId="+org, map[string]any{"callingLineId": map[string]any{"phoneNumber": "+493055500000"}})), "not a number of this location")
	e.must(204, e.do("PUT", "/v1/telephony/config/locations/"+loc+"?orgId="+org, map[string]any{"callingLineId": map[string]any{"phoneNumber": main}}))
	if got := numbersOf(t, e, "orgId="+org+"&phoneNumber="+url.QueryEscape(main)); !got[0].MainNumber {
		t.Errorf("main number not marked: %+v", got)
	}
	e.must(404, e.do("GET", "/v1/locations/"+loc+"?orgId=other", nil))
	if l := e.must(200, e.do("GET", "/v1/locations", nil)); !strings.Contains(string(l.body), `"items":[]`) {
		t.Errorf("partner org listing: %s", l.body)
	}
}
