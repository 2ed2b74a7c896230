package sandbox

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/webex/spectest"
)

// TestContract drives every operation of the sandbox, successes and refusals, through the
// spec recorder: each request and response must match the Webex reference specs, and every
// operation the sandbox serves must have been seen (the OAuth token endpoint is the one
// operation no reference spec describes).
func TestContract(t *testing.T) {
	t.Parallel()
	spec := spectest.Load(t)
	spec.Exempt("POST /access_token")
	opts := DefaultOptions()
	opts.Migration = mustRe(t, `^migrate-`)
	opts.PSTNIntegrated = mustRe(t, `Integrated`)
	opts.ProvisionErrors = mustRe(t, `^Warn`)
	opts.ProvisionFail = mustRe(t, `^Broken`)
	opts.SubscriberErrors = mustRe(t, `^unentitled@`)
	opts.PageSize = 1
	e := newEnv(t, opts, func(h http.Handler) http.Handler { return spec.Recorder(t, h) })
	e.bad = responseChecker(t, spec, e.sb)

	// Customers.
	e.must(200, e.do("POST", "/v1/wholesale/customers/validate", customerBody("MS-1")))
	bad := customerBody("MS-1")
	bad["provisioningId"] = "OTHER-1"
	e.must(400, e.do("POST", "/v1/wholesale/customers/validate", bad))
	e.must(400, e.do("POST", "/v1/wholesale/customers", bad))
	gb := customerBody("MS-GB")
	calling(gb)["address"] = map[string]any{"addressLine1": "1 High St", "city": "London", "country": "GB"}
	e.must(400, e.do("POST", "/v1/wholesale/customers/validate", gb))
	cid, org := e.provisioned("MS-1")
	e.must(409, e.do("POST", "/v1/wholesale/customers", customerBody("MS-1")))
	e.must(404, e.do("GET", "/v1/wholesale/customers/nope", nil))
	e.must(401, e.doAs("", "GET", "/v1/wholesale/customers/"+cid, nil))
	e.must(200, e.do("GET", "/v1/wholesale/customers?externalId=MS-1&status=provisioned&offset=0&max=10", nil))
	e.must(400, e.do("GET", "/v1/wholesale/customers?max=0", nil))
	contractFailures(t, e)
	if l := e.must(200, e.do("GET", "/v1/wholesale/customers?max=10", nil)); l.header.Get("Link") == "" {
		t.Errorf("a page of 1 out of several customers without Link: %s", l.body)
	}

	// Locations.
	hq := e.must(200, e.do("GET", "/v1/locations?orgId="+org, nil)).str(t, "items.0.id")
	e.must(200, e.do("GET", "/v1/locations/"+hq+"?orgId="+org, nil))
	e.must(404, e.do("GET", "/v1/locations/nope?orgId="+org, nil))
	newLoc := map[string]any{"name": "Köln", "timeZone": "Europe/Berlin", "preferredLanguage": "de_de", "announcementLanguage": "de_de",
		"address": map[string]any{"address1": "Domplatz 1", "city": "Köln", "state": "NRW", "postalCode": "50667", "country": "DE"}}
	koeln := e.must(201, e.do("POST", "/v1/locations?orgId="+org, newLoc)).str(t, "id")
	e.must(409, e.do("POST", "/v1/locations?orgId="+org, newLoc))
	enable := map[string]any{"id": koeln}
	for k, v := range newLoc {
		enable[k] = v
	}
	e.must(404, e.do("GET", "/v1/telephony/config/locations/"+koeln+"?orgId="+org, nil))
	e.must(201, e.do("POST", "/v1/telephony/config/locations?orgId="+org, enable))
	e.must(409, e.do("POST", "/v1/telephony/config/locations?orgId="+org, enable))
	e.must(200, e.do("GET", "/v1/telephony/config/locations/"+koeln+"?orgId="+org, nil))
	e.must(404, e.do("GET", "/v1/telephony/pstn/locations/"+koeln+"/connection?orgId="+org, nil))
	e.must(400, e.do("POST", "/v1/telephony/config/locations/"+koeln+"/numbers?orgId="+org, map[string]any{"phoneNumbers": []string{"+493099900009"}}))
	opts200 := e.must(200, e.do("GET", "/v1/telephony/pstn/locations/"+koeln+"/connectionOptions?orgId="+org, nil))
	premises, ccp := opts200.str(t, "items.0.id"), opts200.str(t, "items.1.id")
	conn := "/v1/telephony/pstn/locations/" + koeln + "/connection?orgId=" + org
	e.must(400, e.do("PUT", conn, map[string]any{"id": premises}))
	e.must(204, e.do("PUT", conn, map[string]any{"id": premises, "premiseRouteType": "TRUNK", "premiseRouteId": SandboxTrunk}))
	e.must(200, e.do("GET", conn, nil))
	e.must(204, e.do("PUT", conn, map[string]any{"id": ccp}))
	e.must(200, e.do("GET", conn, nil))
	e.must(200, e.do("GET", "/v1/telephony/config/locations/"+koeln+"?orgId="+org, nil))

	// Numbers.
	e.must(201, e.do("POST", "/v1/telephony/config/locations/"+koeln+"/numbers?orgId="+org, map[string]any{"phoneNumbers": []string{"+493055500000", "+493055500001"}, "state": "ACTIVE"}))
	nums := e.must(200, e.do("GET", "/v1/telephony/config/numbers?orgId="+org+"&locationId="+koeln+"&available=true&start=0&max=5", nil))
	first := nums.str(t, "phoneNumbers.0.phoneNumber")
	if nums.header.Get("Link") == "" {
		t.Errorf("a page of 1 out of 2 numbers without Link")
	}
	e.must(204, e.do("PUT", "/v1/telephony/config/locations/"+koeln+"?orgId="+org, map[string]any{"callingLineId": map[string]any{"phoneNumber": first}}))
	e.must(400, e.doBad("GET", "/v1/telephony/config/numbers?orgId="+org+"&available=maybe", nil))
	block := []string{"+493099900001", "+493099900002"}
	e.must(200, e.do("POST", "/v1/telephony/config/actions/validateNumbers/invoke?orgId="+org, map[string]any{"phoneNumbers": block}))
	e.must(201, e.do("POST", "/v1/telephony/config/locations/"+koeln+"/numbers?orgId="+org, map[string]any{"phoneNumbers": block}))
	e.must(409, e.do("POST", "/v1/telephony/config/locations/"+koeln+"/numbers?orgId="+org, map[string]any{"phoneNumbers": block}))
	e.must(204, e.do("PUT", "/v1/telephony/config/locations/"+koeln+"/numbers?orgId="+org, map[string]any{"phoneNumbers": block, "action": "ACTIVATE"}))
	e.must(400, e.do("PUT", "/v1/telephony/config/locations/"+koeln+"/numbers?orgId="+org, map[string]any{"phoneNumbers": []string{"+493011111111"}}))

	// Subscribers.
	user := map[string]any{"customerId": cid, "email": "anna@muster.example", "packages": []string{"webex_calling"},
		"provisioningParameters": map[string]any{"firstName": "Anna", "lastName": "Muster", "primaryPhoneNumber": first, "locationId": koeln}}
	e.must(200, e.do("POST", "/v1/wholesale/subscribers/validate", user))
	e.must(400, e.do("POST", "/v1/wholesale/subscribers/validate", map[string]any{"email": "not-an-email"}))
	e.must(400, e.do("POST", "/v1/wholesale/subscribers/validate", map[string]any{"email": "anna@muster.example", "customerId": cid}))
	sid := e.must(200, e.do("POST", "/v1/wholesale/subscribers", user)).str(t, "id")
	e.must(409, e.do("POST", "/v1/wholesale/subscribers", user))
	e.must(200, e.do("GET", "/v1/wholesale/subscribers/"+sid, nil))
	e.must(200, e.do("GET", "/v1/wholesale/subscribers?customerId="+cid+"&max=100&offset=0", nil))
	e.must(400, e.do("GET", "/v1/wholesale/subscribers?max=101", nil))
	e.must(200, e.do("PUT", "/v1/wholesale/subscribers/"+sid, map[string]any{"packages": []string{"webex_meetings"}}))
	mig := map[string]any{"customerId": cid, "email": "migrate-bob@muster.example", "packages": []string{"webex_meetings"},
		"provisioningParameters": map[string]any{"firstName": "Bob", "lastName": "Muster"}}
	mid := e.must(202, e.do("POST", "/v1/wholesale/subscribers", mig)).str(t, "id")
	e.must(204, e.do("POST", "/v1/subscribers/"+mid+"/emails/consentMove", nil))
	e.must(409, e.do("POST", "/v1/subscribers/"+sid+"/emails/consentMove", nil))
	unent := map[string]any{"customerId": cid, "email": "unentitled@muster.example", "packages": []string{"webex_meetings"},
		"provisioningParameters": map[string]any{"firstName": "Uwe", "lastName": "Muster"}}
	if r := e.must(200, e.do("POST", "/v1/wholesale/subscribers", unent)); r.str(t, "errors.0.description") == "" {
		t.Errorf("subscriber errors missing: %s", r.body)
	}
	e.must(200, e.do("GET", "/v1/wholesale/subscribers?customerId="+cid+"&max=100", nil))
	e.must(204, e.do("DELETE", "/v1/wholesale/subscribers/"+sid, nil))
	e.must(404, e.do("GET", "/v1/wholesale/subscribers/"+sid, nil))

	// Integrated PSTN refuses numbers.
	integ := newLoc
	integ["name"] = "Integrated Site"
	iid := e.must(201, e.do("POST", "/v1/locations?orgId="+org, integ)).str(t, "id")
	integ["id"] = iid
	e.must(201, e.do("POST", "/v1/telephony/config/locations?orgId="+org, integ))
	e.must(400, e.do("POST", "/v1/telephony/config/locations/"+iid+"/numbers?orgId="+org, map[string]any{"phoneNumbers": []string{"+493099900003"}}))

	// Customer update and delete.
	upd := map[string]any{"packages": []string{"webex_calling", "webex_meetings", "attendant_console"}}
	e.must(202, e.do("PUT", "/v1/wholesale/customers/"+cid, upd))
	e.must(409, e.do("PUT", "/v1/wholesale/customers/"+cid, upd))
	e.must(202, e.do("DELETE", "/v1/wholesale/customers/"+cid, nil))
	e.must(404, e.do("DELETE", "/v1/wholesale/customers/nope", nil))

	var missing []string
	for _, rt := range e.sb.routes {
		if !rt.public && !slices.Contains(spec.Covered(), rt.key) {
			missing = append(missing, rt.key)
		}
	}
	if len(missing) > 0 {
		t.Errorf("operations not exercised against the spec:\n%s", strings.Join(missing, "\n"))
	}
	for _, rt := range e.sb.routes {
		if !rt.public && !slices.Contains(spec.Operations(), rt.key) {
			t.Errorf("sandbox serves %s, which no reference spec describes", rt.key)
		}
	}
}

// responseChecker validates only the responses of h: for requests that break the spec on
// purpose, whose answers must still match it.
func responseChecker(t *testing.T, spec *spectest.Spec, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		spec.ValidateResponse(t, r, body, rec.Code, rec.Header(), rec.Body.Bytes())
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// contractFailures provisions customers that end in provisioned_with_errors and error,
// and updates the first: every answer must match the spec.
func contractFailures(t *testing.T, e *env) {
	t.Helper()
	create := func(ext, name string) string {
		b := customerBody(ext)
		b["customerInfo"].(map[string]any)["name"] = name
		url := e.must(202, e.do("POST", "/v1/wholesale/customers", b)).str(t, "url")
		return url[strings.LastIndex(url, "/")+1:]
	}
	warn, broken := create("MS-WARN", "Warn GmbH"), create("MS-BROKEN", "Broken GmbH")
	e.clock.Add(e.sb.opts.Delay)
	if st := e.must(200, e.do("GET", "/v1/wholesale/customers/"+warn, nil)).str(t, "status"); st != "provisioned_with_errors" {
		t.Errorf("status %q", st)
	}
	if st := e.must(200, e.do("GET", "/v1/wholesale/customers/"+broken, nil)).str(t, "status"); st != "error" {
		t.Errorf("status %q", st)
	}
	e.must(409, e.do("PUT", "/v1/wholesale/customers/"+broken, map[string]any{"packages": []string{"webex_calling"}}))
	e.must(202, e.do("PUT", "/v1/wholesale/customers/"+warn, map[string]any{"packages": []string{"webex_calling", "webex_meetings"}}))
	e.must(200, e.do("GET", "/v1/wholesale/customers/"+warn, nil))
	e.clock.Add(e.sb.opts.Delay)
}
