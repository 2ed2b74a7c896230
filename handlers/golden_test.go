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

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
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
func sampleSpecs(maximal bool, rows int) map[request.Kind]any {
	text := func(short string, n int) string {
		if maximal {
			return long(n)
		}
		return short
	}
	ref := request.CustomerRef{RequestID: 1, ExternalID: text("MS-001", input.MaxExternalIDLen),
		Packages: []string{"webex_calling", "webex_meetings"}, Limits: map[string]int{"webex_calling": 2500}, Country: "DE"}
	customer := request.CustomerSpec{
		Name: text("Müller & Söhne GmbH", 255), Email: "it@mueller.example", ExternalID: ref.ExternalID, Country: "DE",
		Packages: []string{"webex_calling", "webex_meetings"}, ProvisioningID: "PROV-DE-1",
		Address:  request.Address{Line1: text("Hauptstraße 1", 50), Line2: text("", 50), City: text("Berlin", 50), Zip: "10115", Country: "DE"},
		Timezone: "Europe/Berlin", Language: "de_DE", LocationName: text("HQ", 80), ELIN: text("", 50),
		Limits: map[string]int{"webex_calling": 2500, "webex_meetings": 100}, Order: text("", 255),
	}
	users := request.UsersSpec{Customer: ref}
	for i := 1; i <= rows; i++ {
		users.Rows = append(users.Rows, request.UserRow{Line: i, First: text("Anna", 80), Last: text("Alpha", 80),
			Email: fmt.Sprintf("user%04d@mueller.example", i), Package: "webex_calling", Extension: fmt.Sprintf("%04d", 1000+i), Location: text("HQ", 80)})
	}
	return map[request.Kind]any{
		request.KindCustomer: customer,
		request.KindTemplate: request.TemplateSpec{Name: text("de-standard", 80), Country: "DE", Language: "de_DE",
			Packages: []string{"webex_calling"}, Auth: "webex", SPAdmin: "sp@partner.example", Subscription: text("SUB-1", 80), WebexCalls: true, Version: 1},
		request.KindUsers: users,
		request.KindLocation: request.LocationSpec{Customer: ref, Name: text("Köln", 80),
			Address: request.Address{Line1: text("Domplatz 1", 50), City: text("Köln", 50), State: "NW", Zip: "50667", Country: "DE"}, Timezone: "Europe/Berlin", Language: "de_DE"},
		request.KindNumbers: request.NumbersSpec{Customer: ref, Location: "HQ", Numbers: []string{"+4930555001", "+4930555002", "+4930555099"}, Main: "+4930555001"},
		request.KindChange:  request.ChangeSpec{Customer: ref, Email: "anna@mueller.example", Package: "webex_suite"},
		request.KindRemove:  request.RemoveSpec{Customer: ref, Email: "anna@mueller.example"},
		request.KindDelete:  request.DeleteSpec{Customer: ref},
	}
}

// sampleRequest is a request of kind in state, as the store would hold it.
func sampleRequest(id int64, kind request.Kind, state request.State, spec any) *request.Request {
	raw, _ := json.Marshal(spec)
	r := &request.Request{ID: id, Kind: kind, State: state, Requester: "alice", Spec: raw, Hash: request.HashSpec(raw),
		Subject: string(kind) + " MS-001", CreatedAt: goldenNow.Add(-time.Hour), UpdatedAt: goldenNow,
		Precheck: request.Precheck{Status: request.PrecheckOK}, Summary: request.MessageRef{Channel: "#approvals", TS: "1.1"}}
	if kind == request.KindCustomer {
		r.Subject, r.ExternalID = "MS-001", "MS-001"
	}
	switch state {
	case request.StateApproved, request.StateCommitting, request.StateDone, request.StateFailed, request.StateWaiting:
		r.ApprovedBy, r.ApprovedAt, r.ApprovedHash = "bob", goldenNow.Add(-30*time.Minute), r.Hash
	case request.StateRejected:
		r.RejectedBy, r.Reason = "bob", "wrong package for this customer"
	}
	switch state {
	case request.StateDone:
		r.Result = request.Result{CustomerID: "cust-1", OrgID: "org-1", Message: "3/3 provisioned (1 already existed)", Version: 1}
	case request.StateFailed:
		r.Result = request.Result{Message: "address rejected by Webex", TrackingID: "ROUTER_1234"}
	case request.StateWaiting:
		r.Result = request.Result{WaitReason: "compliance review", WaitingSince: goldenNow.Add(-2 * time.Hour)}
	}
	return r
}

// goldenMessages is every message builder over representative inputs.
func goldenMessages() map[string]any {
	h := builderHandler(false)
	specs := sampleSpecs(false, 7)
	out := map[string]any{}
	for _, state := range []request.State{request.StatePendingApproval, request.StateApproved, request.StateCommitting,
		request.StateWaiting, request.StateDone, request.StateFailed, request.StateRejected, request.StateCancelled} {
		r := sampleRequest(1, request.KindCustomer, state, specs[request.KindCustomer])
		out["summary_customer_"+string(state)] = h.summary(r)
		out["outcome_customer_"+string(state)] = chat.Message{Text: outcomeLine(r, goldenNow), Outcome: chat.Unmrkdwn(outcomeLine(r, goldenNow))}
	}
	for _, pc := range []request.PrecheckStatus{request.PrecheckRunning, request.PrecheckFailed, request.PrecheckUnavailable} {
		r := sampleRequest(1, request.KindCustomer, request.StatePendingApproval, specs[request.KindCustomer])
		r.Precheck = request.Precheck{Status: pc, Message: "Webex says no", TrackingID: "ROUTER_9"}
		out["summary_customer_precheck_"+string(pc)] = h.summary(r)
	}
	for kind, spec := range specs {
		if kind == request.KindCustomer {
			continue
		}
		for _, state := range []request.State{request.StatePendingApproval, request.StateDone} {
			out[fmt.Sprintf("summary_%s_%s", kind, state)] = h.summary(sampleRequest(2, kind, state, spec))
		}
	}
	committing := sampleRequest(3, request.KindUsers, request.StateCommitting, specs[request.KindUsers])
	h.ux.progress.set(committing.ID, 3, 7)
	out["summary_users_committing_progress"] = h.summary(committing)
	tmpl := specs[request.KindTemplate].(request.TemplateSpec)
	out["checklist_template"] = checklistMessage(sampleRequest(4, request.KindTemplate, request.StateWaiting, tmpl), &tmpl)
	out["payload_location"] = payloadText(sampleRequest(5, request.KindLocation, request.StatePendingApproval, specs[request.KindLocation]))
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
	out["view_reject"] = rejectView(sampleRequest(7, request.KindCustomer, request.StatePendingApproval, specs[request.KindCustomer]), "CAPPROVALS")
	return out
}

// sampleHome is an App Home with n items per section.
func sampleHome(approver bool, n int) *homeData {
	specs := sampleSpecs(false, 2)
	d := &homeData{User: "alice", Approver: approver, Admin: approver, Now: goldenNow}
	for i := range n {
		id := int64(10 + i)
		d.Drafts = append(d.Drafts, &store.Draft{ID: id, Owner: "alice", Kind: request.KindCustomer,
			Answers: map[string]string{"external-id": "MS-10" + fmt.Sprint(i)}, UpdatedAt: goldenNow})
		d.Mine = append(d.Mine, sampleRequest(id, request.KindUsers, request.StatePendingApproval, specs[request.KindUsers]))
		other := sampleRequest(id+100, request.KindLocation, request.StatePendingApproval, specs[request.KindLocation])
		other.Requester = "carol"
		if approver {
			d.ToApprove = append(d.ToApprove, other)
		}
		d.Incomplete = append(d.Incomplete, sampleRequest(id+200, request.KindCustomer, request.StateDone, specs[request.KindCustomer]))
		d.Failures = append(d.Failures, sampleRequest(id+300, request.KindUsers, request.StateFailed, specs[request.KindUsers]))
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
	h.enableUX(UX{ApproverGroup: "SAPPROVERS", Groups: fakeGroups{"SAPPROVERS": {"carol"}}})
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
	users := &request.Request{Kind: request.KindUsers, State: request.StatePendingApproval,
		Precheck: request.Precheck{Status: request.PrecheckOK}}
	with := func(f func(r *request.Request)) *request.Request {
		r := *users
		f(&r)
		return &r
	}
	location := with(func(r *request.Request) { r.Kind, r.Precheck = request.KindLocation, request.Precheck{} })
	limits := map[string]int{"webex_calling": 10}
	cases := []struct {
		name              string
		r                 *request.Request
		listed            bool
		rows, provisioned map[string]int
		limits            map[string]int
		want              string // substring; "" = auto-approved
	}{
		{"fits", users, true, map[string]int{"webex_calling": 3}, map[string]int{"webex_calling": 7}, limits, ""},
		{"one over", users, true, map[string]int{"webex_calling": 4}, map[string]int{"webex_calling": 7}, limits, "exceeds"},
		{"no ordered quantity", users, true, map[string]int{"webex_calling": 1}, nil, nil, "no ordered quantity"},
		{"not listed", users, false, map[string]int{"webex_calling": 1}, nil, limits, "not in AUTO_APPROVE"},
		{"precheck failed", with(func(r *request.Request) { r.Precheck.Status = request.PrecheckFailed }), true, nil, nil, limits, "precheck"},
		{"precheck unavailable", with(func(r *request.Request) { r.Precheck.Status = request.PrecheckUnavailable }), true, nil, nil, limits, "precheck"},
		{"already approved", with(func(r *request.Request) { r.State = request.StateApproved }), true, nil, nil, limits, "not waiting"},
		{"customer never", with(func(r *request.Request) { r.Kind = request.KindCustomer }), true, nil, nil, limits, "never"},
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
		kind       request.Kind
		text       string
		wantUpdate string // "" = no summary update
		wantThread bool
	}{
		{"users count", request.KindUsers, "120/200 provisioned", "120/200", false},
		{"users step", request.KindUsers, "listing subscribers", "", true},
		{"customer step", request.KindCustomer, "creating the customer at Webex", "", true},
		{"customer with numbers", request.KindCustomer, "1/2 steps", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fm := &formMessenger{}
			h := New(Deps{Messenger: fm, Log: quietLog(), Now: func() time.Time { return goldenNow }})
			r := sampleRequest(3, c.kind, request.StateCommitting, specs[c.kind])
			h.Progress(context.Background(), r, c.text)
			h.Wait()
			updates, threads := fm.of("update"), fm.of("thread")
			if c.wantUpdate == "" && len(updates) > 0 || c.wantUpdate != "" && (len(updates) != 1 || !strings.Contains(strings.Join(textsOf(t, updates[0].m.Blocks), "\n"), c.wantUpdate)) {
				t.Fatalf("summary updates %+v, want one showing %q", updates, c.wantUpdate)
			}
			if (len(threads) > 0) != c.wantThread {
				t.Fatalf("thread messages %+v, want some: %v", threads, c.wantThread)
			}
			r.State = request.StateDone
			if blocks := h.progressBlocks(r); blocks != nil {
				t.Fatal("the bar outlived the commit")
			}
		})
	}
}
