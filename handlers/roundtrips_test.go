package handlers

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// gatedStore holds the background work of a submission (its first use of the
// store is a read) until open, so that only the ack path is counted.
type gatedStore struct {
	*store.Store
	gate chan struct{}
}

func (g gatedStore) Get(ctx context.Context, id int64) (*request.Request, error) {
	<-g.gate
	return g.Store.Get(ctx, id)
}

func (g gatedStore) Transition(ctx context.Context, id int64, t request.Transition) (*request.Request, error) {
	<-g.gate
	return g.Store.Transition(ctx, id, t)
}

const msNew = `new name="Müller & Söhne GmbH" email=it@mueller.example external-id=MS-001 country=DE package=webex_calling provisioning-id=PROV-DE-1 supported-location=yes address="Hauptstraße 1" city=Berlin zip=10115 timezone=Europe/Berlin language=de_DE`

// TestAckRoundTrips counts the Redis round trips of the two hot acks: a
// `new` command with NEW_REQUESTS_PER_MINUTE set (2: one script, one
// pipeline) and an Approve click (3: the read, the compare-and-set, one
// pipeline of indexes and job).
func TestAckRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := storetest.Miniredis(t)
	trips := &storetest.RoundTrips{}
	rdb.AddHook(trips)
	st := store.New(rdb, storetest.Prefix(t))
	gs := gatedStore{Store: st, gate: make(chan struct{})}
	h := New(Deps{Store: gs, Templates: st, Messenger: &formMessenger{}, Prechecker: okPrecheck{},
		Settings: Settings{ApprovalChannel: "#approvals", Approvers: []string{"bob"}},
		Log:      quietLog(), Limiter: NewSubmissionLimiter(5)})
	// Loads the scripts.
	if err := st.CreateWithin(ctx, &request.Request{Kind: request.KindCustomer, State: request.StatePendingApproval, ExternalID: "WARM"},
		store.Budget{Key: "warm", Limit: 1, Window: submissionWindow}); err != nil {
		t.Fatal(err)
	}

	var rep *Reply
	if n := trips.Count(func() {
		rep = h.Command(ctx, slack.SlashCommand{UserID: "alice", ChannelID: "C1", Text: msNew})
	}); n != 2 {
		t.Errorf("`new`: %d round trips on the ack path, want 2", n)
	}
	if rep == nil || !strings.Contains(rep.Text, "R-2 submitted") {
		t.Fatalf("`new` answered %+v", rep)
	}
	close(gs.gate)
	h.Wait()

	// The precheck passed in the background; approve the request.
	r, err := st.Get(ctx, 2)
	if err != nil || r.Precheck.Status != request.PrecheckOK {
		t.Fatalf("R-2 = %+v, %v; want its precheck passed", r, err)
	}
	if n := trips.Count(func() {
		rep = h.Interaction(ctx, &slack.InteractionCallback{
			Type: slack.InteractionTypeBlockActions, User: slack.User{ID: "bob"},
			ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{ActionID: actionApprove, Value: r.Ref() + ":" + r.Hash}}},
		})
	}); n != 3 {
		t.Errorf("Approve click: %d round trips on the ack path, want 3", n)
	}
	h.Wait()
	if got, _ := st.Get(ctx, 2); got.State != request.StateApproved {
		t.Fatalf("after the click R-2 is %s", got.State)
	}
	job, err := st.NextJob(ctx, "w1", 0)
	if err != nil || job == nil || job.RequestID != 2 {
		t.Fatalf("NextJob = %+v, %v; want the job of R-2", job, err)
	}
	if job, err := st.NextJob(ctx, "w1", 0); job != nil || err != nil {
		t.Errorf("a second job: %+v, %v", job, err)
	}
}

// TestSubmissionRefusals: invalid input, then a held external id, then the
// budget; neither refusal uses budget or takes a request id.
func TestSubmissionRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Miniredis(t), storetest.Prefix(t))
	h := New(Deps{Store: st, Templates: st, Messenger: &formMessenger{}, Prechecker: okPrecheck{},
		Settings: Settings{ApprovalChannel: "#approvals"}, Log: quietLog(), Limiter: NewSubmissionLimiter(2)})
	t.Cleanup(h.Wait)
	newCmd := func(ext string) string {
		return h.Command(ctx, slack.SlashCommand{UserID: "alice", ChannelID: "C1",
			Text: strings.Replace(msNew, "external-id=MS-001", "external-id="+ext, 1)}).Text
	}
	steps := []struct{ ext, want string }{
		{"MS-001", "R-1 submitted"},
		{"MS-001", `⛔ external-id: external-id "MS-001" is already used by R-1`},
		{"R-9", "⛔ nothing was submitted"}, // invalid: looks like a request id
		{"MS-002", "R-2 submitted"},
		{"MS-001", "⛔ external-id:"}, // held first, even over budget
		{"MS-003", "⛔ you have submitted 2 requests in the last minute (NEW_REQUESTS_PER_MINUTE): nothing was submitted, try again in a minute"},
	}
	for i, s := range steps {
		if got := newCmd(s.ext); !strings.Contains(got, s.want) {
			t.Fatalf("step %d (%s): %q, want %q", i+1, s.ext, got, s.want)
		}
	}
	if _, err := st.ByExternalID(ctx, "MS-003"); !errors.Is(err, request.ErrNotFound) {
		t.Errorf("a refused submission reserved its external id: %v", err)
	}
	// Another user has a budget of their own, and no id was skipped.
	rep := h.Command(ctx, slack.SlashCommand{UserID: "carol", ChannelID: "C1", Text: strings.Replace(msNew, "MS-001", "MS-004", 1)})
	if !strings.Contains(rep.Text, "R-3 submitted") {
		t.Errorf("carol's submission: %q, want R-3", rep.Text)
	}
	// Without NEW_REQUESTS_PER_MINUTE nothing is limited.
	free := New(Deps{Store: st, Templates: st, Messenger: &formMessenger{}, Prechecker: okPrecheck{},
		Settings: Settings{ApprovalChannel: "#approvals"}, Log: quietLog(), Limiter: NewSubmissionLimiter(0)})
	t.Cleanup(free.Wait)
	rep = free.Command(ctx, slack.SlashCommand{UserID: "alice", ChannelID: "C1", Text: strings.Replace(msNew, "MS-001", "MS-005", 1)})
	if !strings.Contains(rep.Text, "R-4 submitted") {
		t.Errorf("without a limit: %q", rep.Text)
	}
}
