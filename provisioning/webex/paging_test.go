package webex

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/provisioning/webex/spectest"
)

// pageRecorder keeps the GET requests a client sends.
type pageRecorder struct {
	mu   sync.Mutex
	gets []*url.URL
	next http.RoundTripper
}

func (p *pageRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet {
		p.mu.Lock()
		u := *r.URL
		p.gets = append(p.gets, &u)
		p.mu.Unlock()
	}
	return p.next.RoundTrip(r)
}

// take returns and forgets the recorded requests.
func (p *pageRecorder) take() []*url.URL {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.gets
	p.gets = nil
	return out
}

// pagingWorld is a sandbox paging every list by 2, a client acting for
// sub-partner SUB-1, and the data of the paging test: for each list, seven
// items inside its filters and others just outside them.
type pagingWorld struct {
	cl        *Client
	rec       *pageRecorder
	customers []string // the seven provisioned customers of SUB-1
	c1, org1  string   // the first of them, with the users, locations and numbers
	hq1       string
	subs      []string // the seven provisioned subscribers of c1
	locs      []string // the seven locations of org1
	numbers   []string // the seven available numbers at hq1
}

func newPagingWorld(t *testing.T) *pagingWorld {
	t.Helper()
	spec := spectest.Load(t)
	spec.Exempt(tokenOp)
	opts := quietOptions()
	opts.PageSize = 2
	opts.RPLReview, opts.RPLDelay = regexp.MustCompile(`^Review`), time.Hour
	opts.Migration = regexp.MustCompile(`^pending@`)
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { sb.Close(); srv.Close() })
	w := &pagingWorld{rec: &pageRecorder{next: spec.Transport(t, nil)}}
	w.cl = New(Config{BaseURL: srv.URL + "/v1", HTTPClient: &http.Client{Transport: w.rec, Timeout: 10 * time.Second},
		Tokens: StaticToken("tkn-paging"), SubPartnerOrgID: "SUB-1"})
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	addr := Address{AddressLine1: "Hauptstr. 1", City: "Berlin", ZipOrPostalCode: "10115", Country: "DE"}
	create := func(ext, name string) *Customer {
		id, err := w.cl.CreateCustomer(ctx, CustomerRequest{ProvisioningID: "PROV-1", Packages: []string{"webex_calling", "webex_meetings"},
			ExternalID: ext, Address: addr, CustomerInfo: &CustomerInfo{Name: name, PrimaryEmail: "admin@" + strings.ToLower(ext) + ".example"},
			ProvisioningParameters: &ProvisioningParameters{
				Calling:  &CallingParameters{Location: CallingLocation{Name: "HQ", Address: addr, Timezone: "Europe/Berlin", Language: "de_de"}},
				Meetings: &MeetingsParameters{Timezone: "Europe/Berlin"}}})
		check("create "+ext, err)
		c, err := w.cl.GetCustomer(ctx, id)
		check("get "+ext, err)
		return c
	}
	var orgs []string
	for i := range 7 {
		c := create(fmt.Sprintf("MS-%d", i), fmt.Sprintf("Muster %d", i))
		w.customers = append(w.customers, c.ID)
		orgs = append(orgs, c.OrgID)
	}
	create("RV-1", "Review 1") // pending_rpl_review: outside status=provisioned
	create("RV-2", "Review 2")
	sb.SeedCustomer(sandbox.SeedCustomer{ExternalID: "OWN-1"})                            // the partner's own
	sb.SeedCustomer(sandbox.SeedCustomer{ExternalID: "SUB2-1", SubPartnerOrgID: "SUB-2"}) // another sub-partner's
	sb.SeedCustomer(sandbox.SeedCustomer{ExternalID: "SUB2-2", SubPartnerOrgID: "SUB-2"})
	w.c1, w.org1 = w.customers[0], orgs[0]
	w.fillOrg(t, orgs[0], orgs[1])
	w.fillSubscribers(t, w.customers[1])
	w.rec.take()
	return w
}

// fillOrg gives org1 seven locations and seven available numbers at its HQ,
// and org2 locations and numbers of its own.
func (w *pagingWorld) fillOrg(t *testing.T, org1, org2 string) {
	t.Helper()
	ctx := context.Background()
	la := LocationAddress{Address1: "Domplatz 1", City: "Köln", State: "NW", PostalCode: "50667", Country: "DE"}
	locate := func(org, name string) string {
		id, err := w.cl.CreateLocation(ctx, org, LocationRequest{Name: name, TimeZone: "Europe/Berlin", PreferredLanguage: "de_de", AnnouncementLanguage: "de_de", Address: la})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	withNumbers := func(org, loc string, nums []string) {
		opts, err := w.cl.ListPSTNConnectionOptions(ctx, org, loc)
		if err != nil || len(opts) == 0 {
			t.Fatalf("options %+v, %v", opts, err)
		}
		i := slices.IndexFunc(opts, func(o PSTNConnectionOption) bool { return o.DisplayName == "Sandbox CCP" })
		if err := w.cl.SetPSTNConnection(ctx, org, loc, PSTNConnectionSetup{ID: opts[i].ID}); err != nil {
			t.Fatal(err)
		}
		if err := w.cl.AddNumbers(ctx, org, loc, nums, NumberActive); err != nil {
			t.Fatal(err)
		}
	}
	locs, err := w.cl.ListLocations(ctx, org1)
	if err != nil || len(locs) != 1 {
		t.Fatalf("locations of a new customer: %+v, %v", locs, err)
	}
	w.hq1 = locs[0].ID
	w.locs = append(w.locs, w.hq1)
	for i := range 6 {
		w.locs = append(w.locs, locate(org1, fmt.Sprintf("Site %d", i)))
	}
	locate(org2, "Elsewhere 1")
	locate(org2, "Elsewhere 2")
	var hqNums []string
	for i := range 9 {
		hqNums = append(hqNums, fmt.Sprintf("+49305550%04d", i))
	}
	withNumbers(org1, w.hq1, hqNums)
	w.numbers = hqNums[2:] // the first two go to calling users below
	koeln := w.locs[1]
	if err := w.cl.EnableCallingLocation(ctx, org1, CallingLocationRequest{ID: koeln, Name: "Site 0", TimeZone: "Europe/Berlin",
		PreferredLanguage: "de_de", AnnouncementLanguage: "de_de", Address: la}); err != nil {
		t.Fatal(err)
	}
	withNumbers(org1, koeln, []string{"+492215550001", "+492215550002", "+492215550003"})
	org2Locs, err := w.cl.ListLocations(ctx, org2)
	if err != nil || len(org2Locs) == 0 {
		t.Fatalf("org2 locations: %+v, %v", org2Locs, err)
	}
	withNumbers(org2, org2Locs[0].ID, []string{"+493055590001", "+493055590002", "+493055590003"})
}

// fillSubscribers gives c1 seven provisioned users (two of them on hq1
// numbers) and one pending migration, and other a few users of its own.
func (w *pagingWorld) fillSubscribers(t *testing.T, other string) {
	t.Helper()
	ctx := context.Background()
	add := func(cid, email, pkg, phone string) *Subscriber {
		s, err := w.cl.CreateSubscriber(ctx, SubscriberRequest{CustomerID: cid, Email: email, Packages: []string{pkg},
			ProvisioningParameters: &SubscriberParameters{FirstName: "U", LastName: "Ser", PrimaryPhoneNumber: phone}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for i := range 7 {
		pkg, phone := "webex_meetings", ""
		if i < 2 {
			pkg, phone = "webex_calling", fmt.Sprintf("+49305550%04d", i)
		}
		w.subs = append(w.subs, add(w.c1, fmt.Sprintf("u%d@muster.example", i), pkg, phone).ID)
	}
	add(w.c1, "pending@muster.example", "webex_meetings", "") // pending_user_migration
	for i := range 3 {
		add(other, fmt.Sprintf("o%d@other.example", i), "webex_meetings", "")
	}
}

// checkPages asserts that the list needed several page requests and that
// every one of them carried every parameter of the first, once, with its
// value, and only max and the offset parameter beyond them.
func checkPages(t *testing.T, reqs []*url.URL, want url.Values, offsetParam string) {
	t.Helper()
	if len(reqs) < 4 {
		t.Fatalf("%d page requests for seven items two a page: %v", len(reqs), reqs)
	}
	for i, u := range reqs {
		q := u.Query()
		for k, v := range want {
			if !slices.Equal(q[k], v) {
				t.Errorf("page request %d (%s): %s = %q, want %q", i, u.RawQuery, k, q[k], v)
			}
		}
		for k, v := range q {
			if _, ok := want[k]; !ok && k != "max" && k != offsetParam {
				t.Errorf("page request %d (%s) carries %s=%q", i, u.RawQuery, k, v)
			}
		}
		if i > 0 && (q.Get("max") != "2" || q.Get(offsetParam) != fmt.Sprint(2*i)) {
			t.Errorf("page request %d (%s): max/%s not from the next link", i, u.RawQuery, offsetParam)
		}
	}
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// TestPagingEveryList reads every list the client reads from a sandbox that
// pages by two and drops all but max and offset/start from its next links:
// every item is read, none from outside the filters, and every page request
// carries every parameter.
func TestPagingEveryList(t *testing.T) {
	t.Parallel()
	w := newPagingWorld(t)
	ctx := context.Background()
	sub := url.Values{"onBehalfOfSubPartnerOrgId": {"SUB-1"}}
	with := func(base url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}

	cs, err := w.cl.ListCustomers(ctx, CustomerQuery{Status: StatusProvisioned})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	sameSet(t, "customers", ids, w.customers)
	checkPages(t, w.rec.take(), with(sub, "status", StatusProvisioned), "offset")

	ss, err := w.cl.ListSubscribers(ctx, SubscriberQuery{CustomerID: w.c1, Status: SubscriberProvisioned})
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	sameSet(t, "subscribers", ids, w.subs)
	checkPages(t, w.rec.take(), with(sub, "customerId", w.c1, "status", SubscriberProvisioned), "offset")

	ls, err := w.cl.ListLocations(ctx, w.org1)
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, l := range ls {
		ids = append(ids, l.ID)
	}
	sameSet(t, "locations", ids, w.locs)
	checkPages(t, w.rec.take(), url.Values{"orgId": {w.org1}}, "start")

	ns, err := w.cl.ListNumbers(ctx, NumberQuery{OrgID: w.org1, LocationID: w.hq1, Available: true})
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, n := range ns {
		ids = append(ids, n.PhoneNumber)
	}
	sameSet(t, "numbers", ids, w.numbers)
	checkPages(t, w.rec.take(), url.Values{"orgId": {w.org1}, "locationId": {w.hq1}, "available": {"true"}}, "start")
}
