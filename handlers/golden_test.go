package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning"
	"github.com/onboardbot/onboardbot/store"
)

// goldenNow is the fixed clock of every message builder in these tests.
var goldenNow = time.Date(2026, 3, 2, 10, 42, 0, 0, time.UTC)

// builderHandler is a Handler for calling builders: no store, no Slack.
func builderHandler(sandbox bool) *Handler {
	return New(Deps{Log: quietLog(), Now: func() time.Time { return goldenNow },
		Settings: Settings{ApprovalChannel: "#approvals", Approvers: []string{"bob"}, Admins: []string{"bob"}, Sandbox: sandbox}})
}

// long repeats a two-byte letter n times: lengths are counted in code
// points, bytes would hide a cut in the wrong place.
func long(n int) string { return strings.Repeat("Ü", n) }

// sampleSpecs returns one spec per kind; maximal fills every field to the
// longest value validation accepts.
func sampleSpecs(maximal bool, rows int) map[provisioning.Kind]any {
	text := func(short string, n int) string {
		if maximal {
			return long(n)
		}
		return short
	}
	ref := provisioning.CustomerRef{RequestID: 1, ExternalID: text("MS-001", provisioning.MaxExternalIDLen),
		Packages: []string{"webex_calling", "webex_meetings"}, Limits: map[string]int{"webex_calling": 2500}, Country: "DE"}
	customer := provisioning.CustomerSpec{
		Name: text("Müller & Söhne GmbH", 255), Email: "it@mueller.example", ExternalID: ref.ExternalID, Country: "DE",
		Packages: []string{"webex_calling", "webex_meetings"}, ProvisioningID: "PROV-DE-1",
		Address:  provisioning.Address{Line1: text("Hauptstraße 1", 50), Line2: text("", 50), City: text("Berlin", 50), Zip: "10115", Country: "DE"},
		Timezone: "Europe/Berlin", Language: "de_DE", LocationName: text("HQ", 80), ELIN: text("", 50),
		Limits: map[string]int{"webex_calling": 2500, "webex_meetings": 100}, Order: text("", 255),
	}
	users := provisioning.UsersSpec{Customer: ref}
	for i := 1; i <= rows; i++ {
		users.Rows = append(users.Rows, provisioning.UserRow{Line: i, First: text("Anna", 80), Last: text("Alpha", 80),
			Email: fmt.Sprintf("user%04d@mueller.example", i), Package: "webex_calling", Extension: fmt.Sprintf("%04d", 1000+i), Location: text("HQ", 80)})
	}
	return map[provisioning.Kind]any{
		provisioning.KindCustomer: customer,
		provisioning.KindTemplate: provisioning.TemplateSpec{Name: text("de-standard", 80), Country: "DE", Language: "de_DE",
			Packages: []string{"webex_calling"}, Auth: "webex", SPAdmin: "sp@partner.example", Subscription: text("SUB-1", 80), WebexCalls: true, Version: 1},
		provisioning.KindUsers: users,
		provisioning.KindLocation: provisioning.LocationSpec{Customer: ref, Name: text("Köln", 80),
			Address: provisioning.Address{Line1: text("Domplatz 1", 50), City: text("Köln", 50), State: "NW", Zip: "50667", Country: "DE"}, Timezone: "Europe/Berlin", Language: "de_DE"},
		provisioning.KindNumbers: provisioning.NumbersSpec{Customer: ref, Location: "HQ", Numbers: []string{"+4930555001", "+4930555002", "+4930555099"}, Main: "+4930555001"},
		provisioning.KindChange:  provisioning.ChangeSpec{Customer: ref, Email: "anna@mueller.example", Package: "webex_suite"},
		provisioning.KindRemove:  provisioning.RemoveSpec{Customer: ref, Email: "anna@mueller.example"},
		provisioning.KindDelete:  provisioning.DeleteSpec{Customer: ref},
	}
}

// sampleRequest is a request of kind in state, as the store would hold it.
func sampleRequest(id int64, kind provisioning.Kind, state provisioning.State, spec any) *provisioning.Request {
	raw, _ := json.Marshal(spec)
	r := &provisioning.Request{ID: id, Kind: kind, State: state, Requester: "alice", Spec: raw, Hash: provisioning.HashSpec(raw),
		Subject: string(kind) + " MS-001", CreatedAt: goldenNow.Add(-time.Hour), UpdatedAt: goldenNow,
		Precheck: provisioning.Precheck{Status: provisioning.PrecheckOK}, Summary: provisioning.MessageRef{Channel: "#approvals", TS: "1.1"}}
	if kind == provisioning.KindCustomer {
		r.Subject, r.ExternalID = "MS-001", "MS-001"
	}
	switch state {
	case provisioning.StateApproved, provisioning.StateCommitting, provisioning.StateDone, provisioning.StateFailed, provisioning.StateWaiting:
		r.ApprovedBy, r.ApprovedAt, r.ApprovedHash = "bob", goldenNow.Add(-30*time.Minute), r.Hash
	case provisioning.StateRejected:
		r.RejectedBy, r.Reason = "bob", "wrong package for this customer"
	}
	switch state {
	case provisioning.StateDone:
		r.Result = provisioning.Result{CustomerID: "cust-1", OrgID: "org-1", Message: "3/3 provisioned (1 already existed)", Version: 1}
	case provisioning.StateFailed:
		r.Result = provisioning.Result{Message: "address rejected by Webex", TrackingID: "ROUTER_1234"}
	case provisioning.StateWaiting:
		r.Result = provisioning.Result{WaitReason: "compliance review", WaitingSince: goldenNow.Add(-2 * time.Hour)}
	}
	return r
}

// goldenMessages is every message builder over representative inputs.
func goldenMessages() map[string]any {
	h := builderHandler(false)
	specs := sampleSpecs(false, 7)
	out := map[string]any{}
	for _, state := range []provisioning.State{provisioning.StatePendingApproval, provisioning.StateApproved, provisioning.StateCommitting,
		provisioning.StateWaiting, provisioning.StateDone, provisioning.StateFailed, provisioning.StateRejected, provisioning.StateCancelled} {
		r := sampleRequest(1, provisioning.KindCustomer, state, specs[provisioning.KindCustomer])
		out["summary_customer_"+string(state)] = h.summary(r)
		out["outcome_customer_"+string(state)] = Message{Text: outcomeLine(r, goldenNow), Outcome: plainText(outcomeLine(r, goldenNow))}
	}
	for _, pc := range []provisioning.PrecheckStatus{provisioning.PrecheckRunning, provisioning.PrecheckFailed, provisioning.PrecheckUnavailable} {
		r := sampleRequest(1, provisioning.KindCustomer, provisioning.StatePendingApproval, specs[provisioning.KindCustomer])
		r.Precheck = provisioning.Precheck{Status: pc, Message: "Webex says no", TrackingID: "ROUTER_9"}
		out["summary_customer_precheck_"+string(pc)] = h.summary(r)
	}
	for kind, spec := range specs {
		if kind == provisioning.KindCustomer {
			continue
		}
		for _, state := range []provisioning.State{provisioning.StatePendingApproval, provisioning.StateDone} {
			out[fmt.Sprintf("summary_%s_%s", kind, state)] = h.summary(sampleRequest(2, kind, state, spec))
		}
	}
	committing := sampleRequest(3, provisioning.KindUsers, provisioning.StateCommitting, specs[provisioning.KindUsers])
	h.ux.progress.set(committing.ID, 3, 7)
	out["summary_users_committing_progress"] = h.summary(committing)
	tmpl := specs[provisioning.KindTemplate].(provisioning.TemplateSpec)
	out["checklist_template"] = checklistMessage(sampleRequest(4, provisioning.KindTemplate, provisioning.StateWaiting, tmpl), &tmpl)
	out["payload_location"] = payloadText(sampleRequest(5, provisioning.KindLocation, provisioning.StatePendingApproval, specs[provisioning.KindLocation]))
	for _, role := range []struct {
		name                       string
		requester, approver, admin bool
	}{{"requester", true, false, false}, {"approver", true, true, false}, {"admin", true, true, true}, {"approver_only", false, true, false}} {
		out["help_"+role.name] = helpText(role.requester, role.approver, role.admin)
	}
	out["home_requester"] = homeView(sampleHome(false, 2))
	out["home_approver"] = homeView(sampleHome(true, 2))
	out["home_empty"] = homeView(&homeData{User: "dave", Now: goldenNow})
	out["list_pending"] = listText("Waiting for approval", sampleHome(true, 3).ToApprove, goldenNow)
	out["list_none"] = listText("Failed requests", nil, goldenNow)
	out["view_reject"] = rejectView(sampleRequest(7, provisioning.KindCustomer, provisioning.StatePendingApproval, specs[provisioning.KindCustomer]), "CAPPROVALS")
	return out
}

// sampleHome is an App Home with n items per section.
func sampleHome(approver bool, n int) *homeData {
	specs := sampleSpecs(false, 2)
	d := &homeData{User: "alice", Approver: approver, Admin: approver, Now: goldenNow}
	for i := range n {
		id := int64(10 + i)
		d.Drafts = append(d.Drafts, &store.Draft{ID: id, Owner: "alice", Kind: provisioning.KindCustomer,
			Answers: map[string]string{"external-id": "MS-10" + fmt.Sprint(i)}, UpdatedAt: goldenNow})
		d.Mine = append(d.Mine, sampleRequest(id, provisioning.KindUsers, provisioning.StatePendingApproval, specs[provisioning.KindUsers]))
		other := sampleRequest(id+100, provisioning.KindLocation, provisioning.StatePendingApproval, specs[provisioning.KindLocation])
		other.Requester = "carol"
		if approver {
			d.ToApprove = append(d.ToApprove, other)
		}
		d.Incomplete = append(d.Incomplete, sampleRequest(id+200, provisioning.KindCustomer, provisioning.StateDone, specs[provisioning.KindCustomer]))
		d.Failures = append(d.Failures, sampleRequest(id+300, provisioning.KindUsers, provisioning.StateFailed, specs[provisioning.KindUsers]))
	}
	return d
}

func TestMessagesGolden(t *testing.T) {
	t.Parallel()
	if updatingGolden() {
		if err := os.MkdirAll(filepath.Join("testdata", "messages"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, v := range goldenMessages() {
		t.Run(name, func(t *testing.T) {
			checkGolden(t, filepath.Join("messages", name), v)
		})
	}
}

// fakeGroups answers usergroups.users.list from a map.
type fakeGroups map[string][]string

func (f fakeGroups) UserGroupMembers(_ context.Context, g string) ([]string, error) {
	if m, ok := f[g]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("no such group %s", g)
}

func TestMemberOf(t *testing.T) {
	t.Parallel()
	groups := map[string][]string{"SAPPROVERS": {"carol"}}
	known := func(g, u string) (bool, bool) {
		m, ok := groups[g]
		return ok && slices.Contains(m, u), ok
	}
	unknown := func(string, string) (bool, bool) { return true, false }
	cases := []struct {
		name    string
		user    string
		ids     []string
		groups  []string
		inGroup func(string, string) (bool, bool)
		want    bool
	}{
		{"listed by id", "bob", []string{"bob"}, nil, known, true},
		{"member of the group", "carol", nil, []string{"SAPPROVERS"}, known, true},
		{"not a member", "dave", []string{"bob"}, []string{"SAPPROVERS"}, known, false},
		{"group not known yet grants nothing", "carol", nil, []string{"SAPPROVERS"}, unknown, false},
		{"no user", "", []string{""}, nil, known, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := memberOf(c.user, c.ids, c.groups, c.inGroup); got != c.want {
				t.Fatalf("memberOf = %v, want %v", got, c.want)
			}
		})
	}
}

func TestApproverGroupCache(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := goldenNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := New(Deps{Log: quietLog(), Now: clock, Settings: Settings{Approvers: []string{"bob"}}})
	h.EnableUX(UX{ApproverGroup: "SAPPROVERS", Groups: fakeGroups{"SAPPROVERS": {"carol"}}})
	if h.isApprover("carol") {
		t.Fatal("carol approved before the group was read")
	}
	// That lookup started a background read of the group: wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for !h.isApprover("carol") {
		if time.Now().After(deadline) {
			t.Fatal("the group was never read")
		}
		time.Sleep(time.Millisecond)
	}
	if h.isApprover("dave") || !h.isApprover("bob") {
		t.Fatal("after the read: dave (not a member) approves, or bob (listed) does not")
	}
	mu.Lock()
	now = now.Add(groupMaxAge + time.Second)
	mu.Unlock()
	if h.isApprover("carol") {
		t.Fatal("a list older than five minutes still granted approval")
	}
}

func TestAutoApproveRefusal(t *testing.T) {
	t.Parallel()
	users := &provisioning.Request{Kind: provisioning.KindUsers, State: provisioning.StatePendingApproval,
		Precheck: provisioning.Precheck{Status: provisioning.PrecheckOK}}
	with := func(f func(r *provisioning.Request)) *provisioning.Request {
		r := *users
		f(&r)
		return &r
	}
	location := with(func(r *provisioning.Request) { r.Kind, r.Precheck = provisioning.KindLocation, provisioning.Precheck{} })
	limits := map[string]int{"webex_calling": 10}
	cases := []struct {
		name              string
		r                 *provisioning.Request
		listed            bool
		rows, provisioned map[string]int
		limits            map[string]int
		want              string // substring; "" = auto-approved
	}{
		{"fits", users, true, map[string]int{"webex_calling": 3}, map[string]int{"webex_calling": 7}, limits, ""},
		{"one over", users, true, map[string]int{"webex_calling": 4}, map[string]int{"webex_calling": 7}, limits, "exceeds"},
		{"no ordered quantity", users, true, map[string]int{"webex_calling": 1}, nil, nil, "no ordered quantity"},
		{"not listed", users, false, map[string]int{"webex_calling": 1}, nil, limits, "not in AUTO_APPROVE"},
		{"precheck failed", with(func(r *provisioning.Request) { r.Precheck.Status = provisioning.PrecheckFailed }), true, nil, nil, limits, "precheck"},
		{"precheck unavailable", with(func(r *provisioning.Request) { r.Precheck.Status = provisioning.PrecheckUnavailable }), true, nil, nil, limits, "precheck"},
		{"already approved", with(func(r *provisioning.Request) { r.State = provisioning.StateApproved }), true, nil, nil, limits, "not waiting"},
		{"customer never", with(func(r *provisioning.Request) { r.Kind = provisioning.KindCustomer }), true, nil, nil, limits, "never"},
		{"location", location, true, nil, nil, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := autoApproveRefusal(c.r, c.listed, c.rows, c.provisioned, c.limits)
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Fatalf("autoApproveRefusal = %q, want %q", got, c.want)
			}
		})
	}
}

// TestHelpByRole: each role sees its own commands and not the others'.
func TestHelpByRole(t *testing.T) {
	t.Parallel()
	h := builderHandler(false)
	h.set.Requesters = []string{"alice", "bob"}
	cases := []struct {
		user          string
		want, notWant []string
	}{
		{"alice", []string{"`users CUSTOMER", "`resume"}, []string{"`approve ID`", "`template retire"}},
		{"bob", []string{"`approve ID`", "`template retire", "`users CUSTOMER"}, nil},
		{"dave", []string{"`status", "`list"}, []string{"`users CUSTOMER", "`approve ID`", "`template retire"}},
	}
	for _, c := range cases {
		text := h.help(caller{id: c.user}).Text
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("help for %s lacks %s", c.user, w)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(text, w) {
				t.Errorf("help for %s offers %s", c.user, w)
			}
		}
	}
}

// TestBatchProgress: the worker's batch counts become the summary's bar
// (chat.update), other steps stay thread messages, and the bar goes once
// the batch has settled.
func TestBatchProgress(t *testing.T) {
	t.Parallel()
	specs := sampleSpecs(false, 3)
	cases := []struct {
		name       string
		kind       provisioning.Kind
		text       string
		wantUpdate string // "" = no summary update
		wantThread bool
	}{
		{"users count", provisioning.KindUsers, "120/200 provisioned", "120/200", false},
		{"users step", provisioning.KindUsers, "listing subscribers", "", true},
		{"customer step", provisioning.KindCustomer, "creating the customer at Webex", "", true},
		{"customer with numbers", provisioning.KindCustomer, "1/2 steps", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fm := &formMessenger{}
			h := New(Deps{Messenger: fm, Log: quietLog(), Now: func() time.Time { return goldenNow }})
			r := sampleRequest(3, c.kind, provisioning.StateCommitting, specs[c.kind])
			h.Progress(context.Background(), r, c.text)
			h.Wait()
			updates, threads := fm.of("update"), fm.of("thread")
			if c.wantUpdate == "" && len(updates) > 0 || c.wantUpdate != "" && (len(updates) != 1 || !strings.Contains(strings.Join(textsOf(t, updates[0].m.Blocks), "\n"), c.wantUpdate)) {
				t.Fatalf("summary updates %+v, want one showing %q", updates, c.wantUpdate)
			}
			if (len(threads) > 0) != c.wantThread {
				t.Fatalf("thread messages %+v, want some: %v", threads, c.wantThread)
			}
			r.State = provisioning.StateDone
			if blocks := h.progressBlocks(r); blocks != nil {
				t.Fatal("the bar outlived the commit")
			}
		})
	}
}
