package sandbox

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestSeededNumbersValid checks the seeding rule the README cites: every number of every
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
	seeded := numbersOf(t, e, "orgId="+org+"&locationId="+loc)
	if len(seeded) != NumbersPerLocation || seeded[0].PhoneNumber != "+493055500100" {
		t.Fatalf("second DE location: %d numbers from %s", len(seeded), seeded[0].PhoneNumber)
	}
	path := "/v1/telephony/config/locations/" + loc + "/numbers?orgId=" + org
	block := []string{"+492215550001", "+492215550002"}
	e.must(201, e.do("POST", path, map[string]any{"phoneNumbers": block}))
	if n := numbersOf(t, e, "orgId="+org+"&phoneNumber=%2B492215550001"); len(n) != 1 || n[0].State != "INACTIVE" {
		t.Fatalf("added number: %+v", n)
	}
	e.must(204, e.do("PUT", path, map[string]any{"phoneNumbers": block, "action": "ACTIVATE"}))
	if n := numbersOf(t, e, "orgId="+org+"&state=INACTIVE"); len(n) != 0 {
		t.Errorf("still inactive after ACTIVATE: %+v", n)
	}
	if n := numbersOf(t, e, "orgId="+org+"&locationId="+loc+"&start=100&max=50"); len(n) != 2 {
		t.Errorf("page from 100: %d numbers", len(n))
	}
	refusals := []struct {
		name, method string
		body         map[string]any
		status       int
		want         string
	}{
		{"duplicate", "POST", map[string]any{"phoneNumbers": block}, 409, "already exists"},
		{"not E.164", "POST", map[string]any{"phoneNumbers": []string{"0221 5550003"}}, 400, "E.164"},
		{"foreign country", "POST", map[string]any{"phoneNumbers": []string{"+442079461234"}}, 400, "not a number of DE"},
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

func TestIntegratedPSTNRefusesNumbers(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.PSTNIntegrated = mustRe(t, `^Köln$`)
	e, org, loc := locEnv(t, opts)
	c := e.must(200, e.do("GET", "/v1/telephony/pstn/locations/"+loc+"/connection?orgId="+org, nil))
	if c.str(t, "pstnConnectionType") != "INTEGRATED_CCP" {
		t.Fatalf("connection %s", c.body)
	}
	hq := e.must(200, e.do("GET", "/v1/locations?orgId="+org+"&name=HQ", nil)).str(t, "items.0.id")
	if got := e.must(200, e.do("GET", "/v1/telephony/pstn/locations/"+hq+"/connection?orgId="+org, nil)).str(t, "pstnConnectionType"); got != "NON_INTEGRATED_CCP" {
		t.Errorf("HQ connection %s", got)
	}
	path := "/v1/telephony/config/locations/" + loc + "/numbers?orgId=" + org
	checkErrorBody(t, e.must(400, e.do("POST", path, map[string]any{"phoneNumbers": []string{"+492215550001"}})), "INTEGRATED_CCP")
	checkErrorBody(t, e.must(400, e.do("PUT", path, map[string]any{"phoneNumbers": []string{"+493055500100"}})), "INTEGRATED_CCP")
}

func TestValidateNumbers(t *testing.T) {
	t.Parallel()
	e, org, _ := locEnv(t, DefaultOptions())
	_, org2 := e.sb.SeedCustomer(SeedCustomer{ExternalID: "PH-1", Country: "AT", Timezone: "Europe/Vienna", Language: "de_at"})
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
	main := "+493055500100"
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
