package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// subEnv is a provisioned DE customer with webex_calling and webex_meetings, its HQ id and
// one available number there.
func subEnv(t *testing.T) (e *env, customerID, hq, phone string) {
	opts := DefaultOptions()
	opts.Migration = mustRe(t, `@free\.example$`)
	e = newEnv(t, opts, nil)
	customerID, org := e.provisioned("MS-1")
	hq = e.hqOf(org)
	e.withCCP(org, hq, "+493055500000", "+493055500001", "+493055500002")
	phone = e.must(200, e.do("GET", "/v1/telephony/config/numbers?orgId="+org+"&available=true&max=1", nil)).str(t, "phoneNumbers.0.phoneNumber")
	return e, customerID, hq, phone
}

func userBody(cid, email, pkg string, params map[string]any) map[string]any {
	pp := map[string]any{"firstName": "Anna", "lastName": "Muster"}
	for k, v := range params {
		pp[k] = v
	}
	return map[string]any{"customerId": cid, "email": email, "packages": []string{pkg}, "provisioningParameters": pp}
}

func TestCreateSubscriber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   func(cid, hq, phone string) any
		status int
		want   string
	}{
		{"phone", func(cid, hq, phone string) any {
			return userBody(cid, "a@x.example", "webex_calling", map[string]any{"primaryPhoneNumber": phone, "locationId": hq})
		}, 200, ""},
		{"phone at the default location", func(cid, hq, phone string) any {
			return userBody(cid, "a@x.example", "webex_calling", map[string]any{"primaryPhoneNumber": phone})
		}, 200, ""},
		{"extension only", func(cid, hq, phone string) any {
			return userBody(cid, "a@x.example", "webex_calling", map[string]any{"extension": "1001"})
		}, 200, ""},
		{"meetings needs no phone", func(cid, hq, phone string) any { return userBody(cid, "a@x.example", "webex_meetings", nil) }, 200, ""},
		{"deprecated package field", func(cid, hq, phone string) any {
			b := userBody(cid, "a@x.example", "webex_meetings", nil)
			delete(b, "packages")
			b["package"] = "webex_meetings"
			return b
		}, 200, ""},
		{"migration", func(cid, hq, phone string) any { return userBody(cid, "a@free.example", "webex_meetings", nil) }, 202, ""},
		{"calling without phone or extension", func(cid, hq, phone string) any {
			return userBody(cid, "a@x.example", "webex_calling", nil)
		}, 400, "primaryPhoneNumber or extension"},
		{"two packages", func(cid, hq, phone string) any {
			b := userBody(cid, "a@x.example", "webex_meetings", nil)
			b["packages"] = []string{"webex_meetings", "webex_calling"}
			return b
		}, 400, "exactly one"},
		{"package not of the customer", func(cid, hq, phone string) any {
			return userBody(cid, "a@x.example", "webex_suite", map[string]any{"extension": "1001"})
		}, 400, "not one of the customer's packages"},
		{"customer-only package", func(cid, hq, phone string) any { return userBody(cid, "a@x.example", "common_area_calling", nil) }, 400, "not a wholesale subscriber package"},
		{"phone not of the location", func(cid, hq, phone string) any {
			return userBody(cid, "a@x.example", "webex_calling", map[string]any{"primaryPhoneNumber": "+4930999999"})
		}, 400, "not a number of location"},
		{"bad extension", func(cid, hq, phone string) any {
			return userBody(cid, "a@x.example", "webex_calling", map[string]any{"extension": "1"})
		}, 400, "2 to 10 digits"},
		{"foreign location", func(cid, hq, phone string) any {
			return userBody(cid, "a@x.example", "webex_calling", map[string]any{"extension": "11", "locationId": "nope"})
		}, 400, "not a location of the customer"},
		{"missing names", func(cid, hq, phone string) any {
			return map[string]any{"customerId": cid, "email": "a@x.example", "packages": []string{"webex_meetings"}, "provisioningParameters": map[string]any{}}
		}, 400, "firstName is required"},
		{"bad email", func(cid, hq, phone string) any { return userBody(cid, "anna", "webex_meetings", nil) }, 400, "not an email"},
		{"unknown customer", func(cid, hq, phone string) any { return userBody("nope", "a@x.example", "webex_meetings", nil) }, 404, "Customer not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, cid, hq, phone := subEnv(t)
			r := e.do("POST", "/v1/wholesale/subscribers", tt.body(cid, hq, phone))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status >= 400 {
				checkErrorBody(t, r, tt.want)
			}
		})
	}
}

func TestSubscriberConflicts(t *testing.T) {
	t.Parallel()
	e, cid, hq, phone := subEnv(t)
	e.must(200, e.do("POST", "/v1/wholesale/subscribers", userBody(cid, "a@x.example", "webex_calling", map[string]any{"primaryPhoneNumber": phone})))
	checkErrorBody(t, e.must(409, e.do("POST", "/v1/wholesale/subscribers", userBody(cid, "A@x.example", "webex_meetings", nil))), "already exists")
	checkErrorBody(t, e.must(400, e.do("POST", "/v1/wholesale/subscribers", userBody(cid, "b@x.example", "webex_calling", map[string]any{"primaryPhoneNumber": phone}))), "already assigned")
	checkErrorBody(t, e.must(400, e.do("POST", "/v1/wholesale/subscribers/validate", userBody(cid, "a@x.example", "webex_meetings", nil))), "already a subscriber")
	other, _ := e.provisioned("MS-2")
	checkErrorBody(t, e.must(409, e.do("POST", "/v1/wholesale/subscribers", userBody(other, "a@x.example", "webex_meetings", nil))), "another organization")
	// The number is taken: no longer listed as available.
	org := e.sb.customers[cid].orgID
	avail := e.must(200, e.do("GET", "/v1/telephony/config/numbers?orgId="+org+"&locationId="+hq+"&available=true&max=1", nil))
	if avail.str(t, "phoneNumbers.0.phoneNumber") == phone {
		t.Errorf("assigned number %s still available", phone)
	}
	// A customer still provisioning takes no users.
	url := e.must(202, e.do("POST", "/v1/wholesale/customers", customerBody("MS-3"))).str(t, "url")
	pending := url[strings.LastIndex(url, "/")+1:]
	checkErrorBody(t, e.must(409, e.do("POST", "/v1/wholesale/subscribers", userBody(pending, "c@x.example", "webex_meetings", nil))), "provisioning")
}

func TestSubscriberUpdateListDelete(t *testing.T) {
	t.Parallel()
	e, cid, _, phone := subEnv(t)
	var ids []string
	for i := 0; i < 60; i++ {
		ids = append(ids, e.must(200, e.do("POST", "/v1/wholesale/subscribers", userBody(cid, fmt.Sprintf("u%02d@x.example", i), "webex_meetings", nil))).str(t, "id"))
	}
	count := func(q string) int {
		var l struct{ Items []subscriberOut }
		_ = json.Unmarshal(e.must(200, e.do("GET", "/v1/wholesale/subscribers"+q, nil)).body, &l)
		return len(l.Items)
	}
	for _, tt := range []struct {
		q    string
		want int
	}{{"", 50}, {"?max=100", 60}, {"?offset=50", 10}, {"?customerId=" + cid + "&email=u07@x.example", 1}, {"?status=pending_user_migration", 0}} {
		if got := count(tt.q); got != tt.want {
			t.Errorf("%q: %d, want %d", tt.q, got, tt.want)
		}
	}
	checkErrorBody(t, e.must(400, e.do("GET", "/v1/wholesale/subscribers?max=101", nil)), "exceeds 100")
	u := e.must(200, e.do("PUT", "/v1/wholesale/subscribers/"+ids[0], map[string]any{"packages": []string{"webex_calling"}, "provisioningParameters": map[string]any{"primaryPhoneNumber": phone}}))
	if u.str(t, "packages.0") != "webex_calling" || u.str(t, "package") != "webex_calling" {
		t.Errorf("update: %s", u.body)
	}
	checkErrorBody(t, e.must(400, e.do("PUT", "/v1/wholesale/subscribers/"+ids[1], map[string]any{"packages": []string{"webex_calling"}})), "primaryPhoneNumber or extension")
	checkErrorBody(t, e.must(400, e.do("PUT", "/v1/wholesale/subscribers/"+ids[1], map[string]any{"email": "x@x.example"})), "only")
	e.must(204, e.do("DELETE", "/v1/wholesale/subscribers/"+ids[0], nil))
	e.must(404, e.do("DELETE", "/v1/wholesale/subscribers/"+ids[0], nil))
	// The number is free again.
	e.must(200, e.do("PUT", "/v1/wholesale/subscribers/"+ids[1], map[string]any{"packages": []string{"webex_calling"}, "provisioningParameters": map[string]any{"primaryPhoneNumber": phone}}))
	if st := e.sb.Stats(); st.Subscribers != 59 || st.SubscriberCreates != 60 {
		t.Errorf("stats %+v", st)
	}
}

func TestConsent(t *testing.T) {
	t.Parallel()
	e, cid, _, _ := subEnv(t)
	id := e.must(202, e.do("POST", "/v1/wholesale/subscribers", userBody(cid, "a@free.example", "webex_meetings", nil))).str(t, "id")
	if st := e.must(200, e.do("GET", "/v1/wholesale/subscribers/"+id, nil)).str(t, "status"); st != "pending_user_migration" {
		t.Fatalf("status %q", st)
	}
	e.must(204, e.do("POST", "/v1/subscribers/"+id+"/emails/consentMove", nil))
	e.must(204, e.do("POST", "/v1/subscribers/"+id+"/emails/consentMove", nil))
	e.must(404, e.do("POST", "/v1/subscribers/nope/emails/consentMove", nil))
	if !e.sb.Consent("a@free.example") || e.sb.Consent("a@free.example") {
		t.Error("Consent should succeed once")
	}
	if st := e.must(200, e.do("GET", "/v1/wholesale/subscribers/"+id, nil)).str(t, "status"); st != "provisioned" {
		t.Errorf("after consent: %q", st)
	}
	if n := e.sb.Stats().ConsentResends; n != 2 {
		t.Errorf("consent resends = %d", n)
	}
}
