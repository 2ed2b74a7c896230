package handlers

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/handlers/digest"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// rowsSetup is okSetup with row outcomes.
type rowsSetup struct {
	okSetup
	outcomes map[int]request.RowOutcome
}

func (s rowsSetup) RowOutcomes(context.Context, int64) (map[int]request.RowOutcome, error) {
	return s.outcomes, nil
}

// partialBatch stores a users batch done with one failed row, for customer
// R-1 of alice, and returns it.
func partialBatch(t *testing.T, f *formHarness) *request.Request {
	t.Helper()
	specs := sampleSpecs(false, 2)
	r := sampleRequest(0, request.KindUsers, request.StateDone, specs[request.KindUsers])
	r.ID = 0
	r.Result = request.Result{Status: request.ResultPartial, Message: "1/2 provisioned, 1 failed",
		Failures: []string{`row 2 (user0002@mueller.example): location "Köln" does not exist`}}
	if err := f.st.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// Items 4 and 5 of "What users see is true": a batch done with failed rows
// is ⚠️ wherever it is shown, is listed with the failures, and says why its
// rows failed: after the outcome line, in status, and row by row in View
// rows.
func TestPartialBatchIsShownAsSuch(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, false)
	f.h.setup = rowsSetup{outcomes: map[int]request.RowOutcome{
		1: {Line: 1, Status: request.RowDone, Phone: "+4930555001"},
		2: {Line: 2, Status: request.RowFailed, Message: `location "Köln" does not exist`},
	}}
	f.h.enableUX(UX{Lister: f.st})
	f.h.now = func() time.Time { return goldenNow }
	ctx := context.Background()
	r := partialBatch(t, f)
	why := `row 2 (user0002@mueller.example): location "Köln" does not exist`

	summary := f.h.summary(r)
	if !strings.Contains(strings.Join(textsOf(t, summary), "\n"), "*State:* ⚠️ 1/2 provisioned, 1 failed") {
		t.Errorf("the summary's state is not ⚠️: %v", textsOf(t, summary))
	}
	f.h.expectOutcome(r.ID)
	f.h.Settled(ctx, r)
	f.h.Wait()
	for _, kind := range []string{"thread", "dm"} {
		sent := f.msg.of(kind)
		if len(sent) != 1 || !strings.Contains(sent[0].m.Text, "⚠️") || !strings.Contains(chat.Unmrkdwn(sent[0].m.Text), why) {
			t.Errorf("%s: %+v, want ⚠️ and why row 2 failed", kind, sent)
		}
	}
	if out := f.msg.of("thread")[0].m.Outcome; !strings.HasPrefix(out, "⚠️ "+r.Ref()+" users MS-001: 1/2 provisioned, 1 failed\n"+why) {
		t.Errorf("the console's outcome %q is not the line followed by why", out)
	}
	status := f.h.Command(ctx, slack.SlashCommand{UserID: "alice", ChannelID: "C1", Text: "status " + r.Ref()}).Text
	if !strings.HasPrefix(status, "⚠️ "+r.Ref()) || !strings.Contains(chat.Unmrkdwn(status), why) {
		t.Errorf("status %q: not ⚠️, or without why", status)
	}
	failed := f.h.Command(ctx, slack.SlashCommand{UserID: "bob", ChannelID: "C1", Text: "list failed"}).Text
	if !strings.Contains(failed, "⚠️ *"+r.Ref()+"*") {
		t.Errorf("list failed %q lacks the batch", failed)
	}
	home, err := f.h.homeFor(ctx, "alice")
	if err != nil || len(home.Failures) != 1 || home.Failures[0].ID != r.ID {
		t.Errorf("App Home's failures %v (%v), want the batch", home, err)
	} else if s := strings.Join(textsOf(t, homeView(home)), "\n"); !strings.Contains(s, "⚠️ *"+r.Ref()+"*") {
		t.Errorf("App Home does not show the batch as ⚠️:\n%s", s)
	}
	f.h.answer(ctx, caller{id: "bob", channel: "C1"}, f.h.viewRows(ctx, caller{id: "bob", channel: "C1"}, r.Ref()))
	rows := f.h.viewRows(ctx, caller{id: "bob"}, r.Ref()).Text
	for _, want := range []string{"→ provisioned (+4930555001)", `→ failed: location "Köln" does not exist`} {
		if !strings.Contains(chat.Unmrkdwn(rows), want) {
			t.Errorf("View rows lacks %q:\n%s", want, rows)
		}
	}
	// Retried, it is no failure any more.
	if rep := f.h.Command(ctx, slack.SlashCommand{UserID: "alice", ChannelID: "C1", Text: "retry " + r.Ref()}); !strings.Contains(rep.Text, "queued again") {
		t.Fatalf("retry: %q", rep.Text)
	}
	if failed := f.h.Command(ctx, slack.SlashCommand{UserID: "bob", ChannelID: "C1", Text: "list failed"}).Text; strings.Contains(failed, r.Ref()) {
		t.Errorf("a retried batch is still listed as failed: %q", failed)
	}
}

// The channel digest lists a batch done with failed rows until it is
// retried.
func TestPartialBatchInDigest(t *testing.T) {
	t.Parallel()
	fx := newDigestFixtureWith(t, []seed{{name: "partial", kind: request.KindUsers, state: request.StateDone, owner: "alice", ago: time.Hour}},
		func(r *request.Request) {
			r.Result.Status, r.Result.Message = request.ResultPartial, "1/2 provisioned, 1 failed"
		})
	h := fx.digestHandler(t)
	it, ok := shownAt(t, h, occurrence, fx.ids["partial"])
	if !ok || it.Cat != digest.Failed || !strings.Contains(it.Line, "⚠️ done 1h ago with failed rows: 1/2 provisioned, 1 failed") {
		t.Fatalf("digest item %+v (shown %v), want a failed item saying ⚠️", it, ok)
	}
}

// Item 10 (b, c, d, f, g, k): small untruths.
func TestSmallUntruths(t *testing.T) {
	t.Parallel()
	h := builderHandler(false)
	specs := sampleSpecs(false, 3)
	t.Run("provisioning id once active", func(t *testing.T) {
		r := sampleRequest(1, request.KindTemplate, request.StateDone, specs[request.KindTemplate])
		r.Result.ProvisioningID = "PROV-DE-7"
		if s := strings.Join(textsOf(t, h.summary(r)), "\n"); !strings.Contains(s, "*Provisioning id*\nPROV-DE-7") {
			t.Errorf("the template's summary lacks its provisioning id:\n%s", s)
		}
	})
	t.Run("no subject said twice", func(t *testing.T) {
		for kind, spec := range specs {
			r := sampleRequest(1, kind, request.StateDone, spec)
			if s := describeStateAt(r, goldenNow); strings.Contains(s, r.Subject) {
				t.Errorf("%s: the state %q says the subject %q again", kind, s, r.Subject)
			}
		}
	})
	t.Run("each command once in help", func(t *testing.T) {
		cmd := regexp.MustCompile("^• `([a-z]+(?: [a-z]+)?)")
		for i := range 8 {
			seen := map[string]bool{}
			for _, line := range strings.Split(helpText(i&1 != 0, i&2 != 0, i&4 != 0), "\n") {
				m := cmd.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				if seen[m[1]] {
					t.Errorf("help for roles %03b lists %q twice", i, m[1])
				}
				seen[m[1]] = true
			}
		}
	})
	t.Run("1 number", func(t *testing.T) {
		if got := request.Count(1, "number"); got != "1 number" {
			t.Errorf("Count(1) = %q", got)
		}
		if got := request.Count(2, "number"); got != "2 numbers" {
			t.Errorf("Count(2) = %q", got)
		}
	})
	t.Run("location language as de_DE", func(t *testing.T) {
		spec := specs[request.KindLocation].(request.LocationSpec)
		spec.Language = "de_de"
		r := sampleRequest(1, request.KindLocation, request.StatePendingApproval, spec)
		if s := strings.Join(textsOf(t, h.summary(r)), "\n"); !strings.Contains(s, "*Language*\nde_DE") {
			t.Errorf("the location summary does not show de_DE:\n%s", s)
		}
	})
	t.Run("every customer has users, said for the caller's scope", func(t *testing.T) {
		for _, c := range []struct {
			approver bool
			want     string
		}{{false, "Every customer you provisioned has users."}, {true, "Every provisioned customer has users."}} {
			s := strings.Join(textsOf(t, homeView(&homeData{User: "alice", Approver: c.approver, Now: goldenNow})), "\n")
			if !strings.Contains(s, c.want) {
				t.Errorf("approver %v: App Home lacks %q", c.approver, c.want)
			}
		}
	})
}

// Item 3: a pending request whose precheck could not answer (the customer
// not provisioned yet) may be approved and its precheck run again; one that
// passed is not run again.
func TestRunThePrecheckAgain(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, false)
	ctx := context.Background()
	specs := sampleSpecs(false, 1)
	pending := func(status request.PrecheckStatus) *request.Request {
		r := sampleRequest(0, request.KindPSTN, request.StatePendingApproval, request.PSTNSpec{Customer: specs[request.KindUsers].(request.UsersSpec).Customer, Location: "HQ", Connection: "Sandbox CCP"})
		r.ID, r.Precheck = 0, request.Precheck{Status: status, Message: "runs when R-1 is provisioned"}
		if err := f.st.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	deferred := pending(request.PrecheckDeferred)
	if why := approveRefusal(deferred, "bob", true, ""); why != "" {
		t.Errorf("a deferred precheck refuses approval: %s", why)
	}
	if s := strings.Join(textsOf(t, f.h.summary(deferred)), "\n"); !strings.Contains(s, "Run the precheck again") || !strings.Contains(s, "⏸ deferred") {
		t.Errorf("the summary offers no new precheck, or does not say it is deferred:\n%s", s)
	}
	rep := f.h.Command(ctx, slack.SlashCommand{UserID: "alice", ChannelID: "C1", Text: "retry " + deferred.Ref()})
	if !strings.Contains(rep.Text, "the precheck runs again") {
		t.Fatalf("retry of a deferred precheck: %q", rep.Text)
	}
	f.h.Wait()
	if got, _ := f.st.Get(ctx, deferred.ID); got.State != request.StatePendingApproval || got.Precheck.Status == request.PrecheckDeferred && got.Precheck.Message == deferred.Precheck.Message {
		t.Errorf("after the retry %s is %s with precheck %+v; want pending with a precheck run again", got.Ref(), got.State, got.Precheck)
	}
	passed := pending(request.PrecheckOK)
	rep = f.h.recheckButton(ctx, caller{id: "alice"}, passed.Ref())
	if !strings.Contains(rep.Text, "passed; nothing to run again") {
		t.Errorf("a passed precheck run again: %q", rep.Text)
	}
}

// Handler.Moving: requests that move on by themselves keep the piped
// console waiting at the end of its input; waits for people and for a
// failed request do not.
func TestMoving(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name     string
		kind     request.Kind
		reason   string
		customer request.State // of the awaited customer R-1
		want     bool
	}{
		{"compliance review", request.KindCustomer, "compliance review", request.StateDone, true},
		{"queued behind a customer", request.KindUsers, "waiting for R-1", request.StateCommitting, true},
		{"consent", request.KindUsers, request.ConsentWaitReason, request.StateDone, false},
		{"a template's provisioning id", request.KindTemplate, request.WaitingForProvisioningID, request.StateDone, false},
		{"behind a failed customer", request.KindUsers, "waiting for R-1" + request.FailedSuffix, request.StateFailed, false},
		{"behind a retried customer", request.KindUsers, "waiting for R-1" + request.FailedSuffix, request.StateApproved, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFormHarness(t, false)
			f.h.enableUX(UX{Lister: f.st})
			for _, r := range []*request.Request{
				{Kind: request.KindCustomer, State: c.customer, Requester: "alice", Subject: "MS-001"},
				{Kind: c.kind, State: request.StateWaiting, Requester: "alice", Subject: "x", Result: request.Result{WaitReason: c.reason}},
			} {
				if err := f.st.Create(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			if got := f.h.Moving(ctx); got != c.want {
				t.Fatalf("Moving = %v, want %v", got, c.want)
			}
		})
	}
}

// Item 4 (precheck): rows naming a location the customer lacks wait for an
// approved location request that creates it, and are refused otherwise.
func TestLocationWaits(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, false)
	ctx := context.Background()
	customer := &request.Request{Kind: request.KindCustomer, State: request.StateDone, Requester: "alice", Subject: "MS-001", ExternalID: "MS-001"}
	if err := f.st.Create(ctx, customer); err != nil {
		t.Fatal(err)
	}
	ref := request.CustomerRef{RequestID: customer.ID, ExternalID: "MS-001", Country: "DE"}
	location := func(name string, state request.State) *request.Request {
		r := &request.Request{Kind: request.KindLocation, State: state, Requester: "alice", Subject: "location " + name,
			Spec: mustMarshal(t, request.LocationSpec{Customer: ref, Name: name})}
		if err := f.st.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	approved := location("Köln", request.StateApproved)
	pendingLoc := location("Bonn", request.StatePendingApproval)
	row := func(n int, loc string) request.UserRow {
		return request.UserRow{Line: n, Email: "u" + loc + "@x.example", Location: loc}
	}
	waitFor, refused, err := f.h.locationWaits(ctx, ref, map[string][]request.UserRow{
		"köln": {row(1, "köln")}, "Bonn": {row(2, "Bonn")}, "Essen": {row(3, "Essen")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(waitFor) != 1 || waitFor[0] != approved.ID {
		t.Errorf("waitFor %v, want the approved location request %s", waitFor, approved.Ref())
	}
	joined := strings.Join(refused, "\n")
	for _, want := range []string{"row 2 (uBonn@x.example): location \"Bonn\" does not exist at MS-001 yet; approve " + pendingLoc.Ref(),
		"row 3 (uEssen@x.example): location \"Essen\" does not exist at MS-001 (request it with `location MS-001 name=Essen …` first)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("refused rows %q lack %q", refused, want)
		}
	}
	if strings.Contains(joined, "row 1") {
		t.Errorf("the row waiting for %s was refused: %q", approved.Ref(), refused)
	}
}

// numbersSetup is okSetup that records the org CheckNumbersAllowed was
// asked about.
type numbersSetup struct {
	okSetup
	mu   sync.Mutex
	orgs []string
}

func (s *numbersSetup) CheckNumbersAllowed(_ context.Context, ref request.CustomerRef, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs = append(s.orgs, ref.OrgID)
	return nil
}

// A numbers request behind a customer that is not provisioned yet has its
// precheck deferred, like every setup request, and once the customer is
// provisioned the precheck run again asks Webex about the customer's org.
func TestNumbersPrecheckBehindUnprovisionedCustomer(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, false)
	setup := &numbersSetup{}
	f.h.setup = setup
	ctx := context.Background()
	cust := &request.Request{Kind: request.KindCustomer, State: request.StateCommitting, Requester: "alice", Subject: "MS-001", ExternalID: "MS-001"}
	if err := f.st.Create(ctx, cust); err != nil {
		t.Fatal(err)
	}
	spec := request.NumbersSpec{Customer: request.CustomerRef{RequestID: cust.ID, ExternalID: "MS-001"}, Location: "HQ", Numbers: []string{"+4930555001"}}
	r := sampleRequest(2, request.KindNumbers, request.StatePendingApproval, spec)
	pc, err := f.h.checkFor(r)(ctx)
	if err != nil || pc.Status != request.PrecheckDeferred {
		t.Fatalf("behind a customer committing: precheck %+v (%v), want deferred", pc, err)
	}
	if len(setup.orgs) != 0 {
		t.Fatalf("Webex asked about orgs %q before the customer was provisioned", setup.orgs)
	}
	if _, err := f.st.Transition(ctx, cust.ID, request.Transition{From: []request.State{request.StateCommitting}, To: request.StateDone,
		Actor: request.ActorWorker, Action: request.ActionDone, Mutate: func(x *request.Request) error {
			x.Result.CustomerID, x.Result.OrgID = "cust-1", "org-1"
			return nil
		}}); err != nil {
		t.Fatal(err)
	}
	pc, err = f.h.checkFor(r)(ctx)
	if err != nil || pc.Status != request.PrecheckOK || len(setup.orgs) != 1 || setup.orgs[0] != "org-1" {
		t.Fatalf("after the customer was provisioned: precheck %+v (%v), orgs asked %q; want ok for org-1", pc, err, setup.orgs)
	}
}

// A request the worker queued again by itself (approved, or committing)
// moves on by itself: the piped console waits for it too. Nothing else
// resting: nothing to wait for.
func TestMovingApprovedByTheWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, state := range []request.State{request.StateApproved, request.StateCommitting, request.StateDone} {
		t.Run(string(state), func(t *testing.T) {
			t.Parallel()
			f := newFormHarness(t, false)
			r := &request.Request{Kind: request.KindUsers, State: state, Requester: "alice", Subject: "users MS-001"}
			if err := f.st.Create(ctx, r); err != nil {
				t.Fatal(err)
			}
			if got, want := f.h.Moving(ctx), state != request.StateDone; got != want {
				t.Fatalf("Moving = %v with a request %s, want %v", got, state, want)
			}
		})
	}
}
