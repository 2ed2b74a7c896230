package webex

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/provisioning/webex/spectest"
)

// tokenOp is the one operation no reference spec describes.
const tokenOp = "POST /access_token"

// contractClient serves a sandbox and returns a client whose every request
// and response is validated against the reference specs, with OAuth tokens
// from the sandbox's token endpoint.
func contractClient(t *testing.T, spec *spectest.Spec, opts sandbox.Options) (*Client, *sandbox.Sandbox) {
	t.Helper()
	opts.ClientID, opts.ClientSecret, opts.RefreshToken = "cid", "csecret", "refresh-0"
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { sb.Close(); srv.Close() })
	hc := &http.Client{Transport: spec.Transport(t, nil), Timeout: 10 * time.Second}
	tokens := NewOAuthTokens(OAuthConfig{
		TokenURL: srv.URL + "/v1/access_token", ClientID: "cid", ClientSecret: "csecret",
		Store: newMemStore(), HTTPClient: hc,
	}, "refresh-0")
	cl := New(Config{
		BaseURL: srv.URL + "/v1", HTTPClient: hc, Tokens: tokens, SubPartnerOrgID: "SUBPARTNER-1",
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	})
	return cl, sb
}

func quietOptions() sandbox.Options {
	o := sandbox.DefaultOptions()
	o.Delay, o.Latency, o.Rate, o.P5xx, o.PTimeout, o.RPLReview = 0, 0, 0, 0, 0, nil
	return o
}

// TestContract sends every operation of the client to the sandbox through
// the spec validator, and checks that what was covered is exactly
// Operations.
func TestContract(t *testing.T) {
	t.Parallel()
	spec := spectest.Load(t)
	spec.Exempt(tokenOp)
	opts := quietOptions()
	opts.Migration = regexp.MustCompile(`^pending@`)
	opts.SubscriberErrors = regexp.MustCompile(`^broken@`)
	opts.ProvisionErrors = regexp.MustCompile(`^Warn`)
	opts.ProvisionFail = regexp.MustCompile(`^Broken`)
	cl, sb := contractClient(t, spec, opts)
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	addr := Address{AddressLine1: "Hauptstr. 1", City: "Berlin", ZipOrPostalCode: "10115", Country: "DE"}
	req := CustomerRequest{
		ProvisioningID: "PROV-1", Packages: []string{"webex_calling", "webex_meetings"}, ExternalID: "MS-001",
		Address:      addr,
		CustomerInfo: &CustomerInfo{Name: "Muster GmbH", PrimaryEmail: "admin@muster.example", Language: "de_DE"},
		ProvisioningParameters: &ProvisioningParameters{
			Calling:  &CallingParameters{Location: CallingLocation{Name: "HQ", Address: addr, Timezone: "Europe/Berlin", Language: "de_de", EmergencyLocationIdentifier: "ELIN-1"}},
			Meetings: &MeetingsParameters{Timezone: "Europe/Berlin"},
			Packages: &PackageParameters{Limits: map[string]int{"webex_calling": 10}},
		},
	}
	pre, err := cl.PrecheckCustomer(ctx, req)
	must("precheck customer", err)
	if !pre.OK() {
		t.Fatalf("precheck = %+v", pre)
	}
	custID, err := cl.CreateCustomer(ctx, req)
	must("create customer", err)
	var cust *Customer
	for deadline := time.Now().Add(5 * time.Second); ; {
		cust, err = cl.GetCustomer(ctx, custID)
		must("get customer", err)
		if cust.Status == StatusProvisioned || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if cust.Status != StatusProvisioned || cust.OrgID == "" {
		t.Fatalf("customer = %+v", cust)
	}
	org := cust.OrgID
	list, err := cl.ListCustomers(ctx, CustomerQuery{ExternalID: "MS-001"})
	must("list customers", err)
	if len(list) != 1 || list[0].ID != custID {
		t.Fatalf("list customers = %+v", list)
	}
	must("update customer", cl.UpdateCustomer(ctx, custID, CustomerUpdate{Packages: []string{"webex_calling", "webex_meetings"}}))

	sub := SubscriberRequest{CustomerID: custID, Email: "anna@muster.example", Packages: []string{"webex_calling"},
		ProvisioningParameters: &SubscriberParameters{FirstName: "Anna", LastName: "Muster", Extension: "1001"}}
	_, err = cl.PrecheckSubscriber(ctx, sub)
	must("precheck subscriber", err)
	anna, err := cl.CreateSubscriber(ctx, sub)
	must("create subscriber", err)
	if anna.Status != SubscriberProvisioned {
		t.Errorf("anna = %+v", anna)
	}
	sub.Email, sub.ProvisioningParameters.Extension = "pending@muster.example", "1002"
	pending, err := cl.CreateSubscriber(ctx, sub)
	must("create migrating subscriber", err)
	if pending.Status != SubscriberPendingUserMigration {
		t.Errorf("pending = %+v", pending)
	}
	must("resend consent", cl.ResendConsent(ctx, pending.ID))
	subs, err := cl.ListSubscribers(ctx, SubscriberQuery{CustomerID: custID})
	must("list subscribers", err)
	if len(subs) != 2 {
		t.Errorf("subscribers = %+v", subs)
	}
	_, err = cl.GetSubscriber(ctx, anna.ID)
	must("get subscriber", err)
	_, err = cl.UpdateSubscriber(ctx, anna.ID, SubscriberUpdate{Packages: []string{"webex_meetings"}})
	must("update subscriber", err)
	must("delete subscriber", cl.DeleteSubscriber(ctx, pending.ID))

	locs, err := cl.ListLocations(ctx, org)
	must("list locations", err)
	if len(locs) == 0 {
		t.Fatal("no HQ location")
	}
	_, err = cl.GetLocation(ctx, org, locs[0].ID)
	must("get location", err)
	la := LocationAddress{Address1: "Domplatz 1", City: "Köln", State: "NW", PostalCode: "50667", Country: "DE"}
	locID, err := cl.CreateLocation(ctx, org, LocationRequest{Name: "Köln", TimeZone: "Europe/Berlin", PreferredLanguage: "de_de", AnnouncementLanguage: "de_de", Address: la})
	must("create location", err)
	must("enable calling", cl.EnableCallingLocation(ctx, org, CallingLocationRequest{ID: locID, Name: "Köln", TimeZone: "Europe/Berlin", PreferredLanguage: "de_de", AnnouncementLanguage: "de_de", Address: la}))
	_, err = cl.GetCallingLocation(ctx, org, locID)
	must("get calling location", err)
	contractPSTN(t, cl, org, locID)
	block := []string{"+4922150001000", "+4922150001001"}
	_, err = cl.ValidateNumbers(ctx, org, block)
	must("validate numbers", err)
	must("add numbers", cl.AddNumbers(ctx, org, locID, block, NumberInactive))
	must("activate numbers", cl.ActivateNumbers(ctx, org, locID, block))
	nums, err := cl.ListNumbers(ctx, NumberQuery{OrgID: org, LocationID: locID, Available: true})
	must("list numbers", err)
	if len(nums) != len(block) {
		t.Errorf("available numbers = %+v", nums)
	}
	must("set main number", cl.UpdateCallingLocation(ctx, org, locID, CallingLocationUpdate{
		CallingLineID: &CallingLineID{PhoneNumber: nums[0].PhoneNumber}, PAccessNetworkInfo: "ELIN-2"}))
	contractFailures(t, cl, req, custID)
	must("delete customer", cl.DeleteCustomer(ctx, custID))

	want := slices.Sorted(slices.Values(Operations))
	if got := spec.Covered(); !slices.Equal(got, want) {
		t.Errorf("covered operations differ from Operations\n got: %q\nwant: %q", got, want)
	}
	for _, op := range Operations {
		if !slices.Contains(spec.Operations(), op) {
			t.Errorf("operation %q is in no reference spec", op)
		}
	}
	if st := sb.Stats(); st.EarlyRetries != 0 {
		t.Errorf("early retries: %d", st.EarlyRetries)
	}
}

// TestContractUnderFaults runs calls against a rate-limited, failing
// sandbox: every call must succeed in the end, and no call may be sent
// before a Retry-After deadline its token was given. With several goroutines
// a call already on the wire when another one's 429 or 503 arrives cannot be
// recalled, so the sandbox may count at most one early call per other
// goroutine and per deadline.
func TestContractUnderFaults(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits out real Retry-After seconds")
	}
	tests := []struct {
		name              string
		goroutines, calls int
	}{
		{"sequential", 1, 12},
		{"concurrent", 4, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := spectest.Load(t)
			spec.Exempt(tokenOp)
			opts := quietOptions()
			opts.Rate, opts.P5xx, opts.Seed = 3, 0.1, 7
			cl, sb := contractClient(t, spec, opts)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			addr := Address{AddressLine1: "Hauptstr. 1", City: "Berlin", Country: "DE"}
			var wg sync.WaitGroup
			errs := make(chan error, tc.goroutines*tc.calls)
			for range tc.goroutines {
				wg.Go(func() {
					for range tc.calls {
						if _, err := cl.PrecheckCustomer(ctx, CustomerRequest{Address: addr}); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			st := sb.Stats()
			if st.RateLimited == 0 {
				t.Errorf("the sandbox never rate-limited: %+v", st)
			}
			t.Logf("stats: early %d, 429 %d, 503 %d, calls %v", st.EarlyRetries, st.RateLimited, st.Injected5xx, st.Calls)
			if limit := (st.RateLimited + st.Injected5xx) * (tc.goroutines - 1); st.EarlyRetries > limit {
				t.Errorf("early retries: %d, more than the %d calls that can be in flight (stats %+v)", st.EarlyRetries, limit, st)
			}
		})
	}
}

// TestContractOAuthReplicas: two replicas share the refresh token store
// against the sandbox's token endpoint, which refuses a used refresh token;
// access tokens that expire are replaced without failing a call.
func TestContractOAuthReplicas(t *testing.T) {
	t.Parallel()
	spec := spectest.Load(t)
	spec.Exempt(tokenOp)
	opts := quietOptions()
	opts.ClientID, opts.ClientSecret, opts.RefreshToken = "cid", "csecret", "refresh-0"
	opts.TokenTTL = time.Second
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { sb.Close(); srv.Close() })
	hc := &http.Client{Transport: spec.Transport(t, nil), Timeout: 10 * time.Second}
	store := newMemStore()
	oc := OAuthConfig{TokenURL: srv.URL + "/v1/access_token", ClientID: "cid", ClientSecret: "csecret", Store: store, HTTPClient: hc}
	replicas := []*Client{
		New(Config{BaseURL: srv.URL + "/v1", HTTPClient: hc, Tokens: NewOAuthTokens(oc, "refresh-0")}),
		New(Config{BaseURL: srv.URL + "/v1", HTTPClient: hc, Tokens: NewOAuthTokens(oc, "refresh-0")}),
	}
	ctx := context.Background()
	req := CustomerRequest{Address: Address{AddressLine1: "Hauptstr. 1", City: "Berlin", Country: "DE"}}
	for round := range 2 {
		for i, cl := range replicas {
			if _, err := cl.PrecheckCustomer(ctx, req); err != nil {
				t.Fatalf("round %d replica %d: %v", round, i, err)
			}
		}
		time.Sleep(time.Second) // every access token expires
	}
	if st := sb.Stats(); st.TokensIssued != 4 {
		t.Errorf("tokens issued = %d, want 4 (one per replica per round)", st.TokensIssued)
	}
}

// contractPSTN gives a new calling location, which has no PSTN connection and
// takes no numbers, a premises-based connection and then the sandbox's CCP.
func contractPSTN(t *testing.T, cl *Client, org, locID string) {
	t.Helper()
	ctx := context.Background()
	if _, err := cl.GetPSTNConnection(ctx, org, locID); !IsNotFound(err) {
		t.Fatalf("a new location's PSTN connection: %v, want 404", err)
	}
	var ae *APIError
	if err := cl.AddNumbers(ctx, org, locID, []string{"+4922150001009"}, NumberActive); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Fatalf("numbers without PSTN: %v, want a 400", err)
	}
	opts, err := cl.ListPSTNConnectionOptions(ctx, org, locID)
	if err != nil || len(opts) != 2 {
		t.Fatalf("connection options = %+v, %v", opts, err)
	}
	byName := map[string]string{}
	for _, o := range opts {
		byName[o.DisplayName] = o.ID
	}
	steps := []struct {
		setup PSTNConnectionSetup
		want  string
	}{
		{PSTNConnectionSetup{ID: byName["Premises-based PSTN"], PremiseRouteType: PremiseRouteTrunk, PremiseRouteID: sandbox.SandboxTrunk}, PSTNLocalGateway},
		{PSTNConnectionSetup{ID: byName["Sandbox CCP"]}, PSTNNonIntegratedCCP},
	}
	for _, st := range steps {
		if err := cl.SetPSTNConnection(ctx, org, locID, st.setup); err != nil {
			t.Fatalf("set %+v: %v", st.setup, err)
		}
		p, err := cl.GetPSTNConnection(ctx, org, locID)
		if err != nil || p.PSTNConnectionType != st.want || !p.NumbersAllowed() || p.ID != st.setup.ID {
			t.Fatalf("after setting %+v: %+v, %v", st.setup, p, err)
		}
	}
	if err := cl.SetPSTNConnection(ctx, org, locID, PSTNConnectionSetup{ID: "no-such-option"}); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("unknown option: %v, want a 400", err)
	}
	if err := cl.SetPSTNConnection(ctx, org, locID, PSTNConnectionSetup{}); err == nil || !strings.Contains(err.Error(), "id is required") {
		t.Errorf("empty setup: %v", err)
	}
}

// contractFailures: a subscriber answered with errors, a customer that
// provisions with errors and is updated, and one that fails, are all reported
// as failures in Webex's words.
func contractFailures(t *testing.T, cl *Client, req CustomerRequest, custID string) {
	t.Helper()
	ctx := context.Background()
	_, err := cl.CreateSubscriber(ctx, SubscriberRequest{CustomerID: custID, Email: "broken@muster.example", Packages: []string{"webex_meetings"},
		ProvisioningParameters: &SubscriberParameters{FirstName: "B", LastName: "Roken"}})
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Kind != "subscriber" || fe.ID == "" || len(fe.Errors) == 0 || fe.TrackingID == "" ||
		!strings.Contains(err.Error(), fe.Errors[0].Description) {
		t.Fatalf("subscriber with errors: %v", err)
	}
	if _, err := cl.GetSubscriber(ctx, fe.ID); !errors.As(err, &fe) {
		t.Errorf("get subscriber with errors: %v", err)
	}
	provision := func(ext, name string) *Customer {
		r := req
		r.ExternalID, r.CustomerInfo = ext, &CustomerInfo{Name: name, PrimaryEmail: "admin@" + strings.ToLower(ext) + ".example"}
		id, err := cl.CreateCustomer(ctx, r)
		if err != nil {
			t.Fatalf("create %s: %v", ext, err)
		}
		c, err := cl.GetCustomer(ctx, id)
		if err != nil {
			t.Fatalf("get %s: %v", ext, err)
		}
		return c
	}
	warn := provision("MS-WARN", "Warn GmbH")
	f := warn.Failure()
	if warn.Status != StatusProvisionedWithErrors || f == nil || len(f.Errors) != 1 || f.Errors[0].ErrorCode != 2560 || f.Errors[0].Package != "webex_calling" {
		t.Fatalf("provisioned with errors: %+v, failure %v", warn, f)
	}
	if err := cl.UpdateCustomer(ctx, warn.ID, CustomerUpdate{Packages: warn.Packages}); err != nil {
		t.Fatal(err)
	}
	if c, err := cl.GetCustomer(ctx, warn.ID); err != nil || c.Status != StatusProvisioned || c.Failure() != nil {
		t.Errorf("after the update: %+v, %v", c, err)
	}
	broken := provision("MS-BROKEN", "Broken GmbH")
	if f := broken.Failure(); broken.Status != StatusError || f == nil || len(f.Errors) == 0 || f.Errors[0].Description == "" {
		t.Errorf("failed customer: %+v, failure %v", broken, f)
	}
}
