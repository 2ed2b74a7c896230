package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/handlers/digest"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// occurrence is a Wednesday 09:00 UTC, as the default schedule has it.
var occurrence = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

var digestThresholds = digest.Settings{
	Channel: "#approvals", Admins: []string{"bob"},
	StaleApprovalAfter: 4 * time.Hour, IdleDraftAfter: 24 * time.Hour, StuckAfter: time.Hour, ConsentWaitAfter: 72 * time.Hour,
}

// digestClock is the store's and handler's time, moved by the test.
type digestClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *digestClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *digestClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// digestSent records digests by recipient; failAfter > 0 makes every send
// after that many fail and calls die (a replica that goes away mid-run).
type digestSent struct {
	mu        sync.Mutex
	to        []string
	msgs      []chat.Message
	failAfter int
	die       func()
}

func (d *digestSent) send(to string, m chat.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failAfter > 0 && len(d.to) >= d.failAfter {
		if d.die != nil {
			d.die()
		}
		return errors.New("replica gone")
	}
	d.to = append(d.to, to)
	d.msgs = append(d.msgs, m)
	return nil
}
func (d *digestSent) Post(_ context.Context, ch string, m chat.Message) (string, error) {
	return "1.0", d.send(ch, m)
}
func (d *digestSent) PostThread(context.Context, string, string, chat.Message) error { return nil }
func (d *digestSent) Update(context.Context, string, string, chat.Message) error     { return nil }
func (d *digestSent) Ephemeral(_ context.Context, _, user string, m chat.Message) error {
	return d.send("ephemeral:"+user, m)
}
func (d *digestSent) DM(_ context.Context, user string, m chat.Message) error {
	return d.send("@"+user, m)
}

func (d *digestSent) recipients() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.to...)
}

// subscribers is Webex's subscriber count per customer id.
type subscribers map[string]int

func (s subscribers) CountSubscribers(_ context.Context, id string) (map[string]int, error) {
	return map[string]int{"webex_calling": s[id]}, nil
}

// seed describes one stored request: who owns it, its state, when it was
// last written (ago before the occurrence), and which digest should show
// it ("" none, "#approvals" the channel, "@user" a DM).
type seed struct {
	name      string
	kind      request.Kind
	state     request.State
	owner     string
	ago       time.Duration
	waitSince time.Duration // waiting: how long before the occurrence the wait began
	reason    string
	customer  string         // customer's Webex id (done customers)
	forRef    string         // users and delete requests: the seed name of their customer
	edited    bool           // rejected and resubmitted
	limits    map[string]int // users requests: the customer's ordered quantities
	want      string
	line      string // what the item's line says, after "R-n SUBJECT: "
}

var digestSeeds = []seed{
	{name: "stale approval", kind: request.KindCustomer, state: request.StatePendingApproval, owner: "alice", ago: 5 * time.Hour, want: "#approvals", line: "waiting for approval for 5h · <@alice>"},
	{name: "fresh approval", kind: request.KindCustomer, state: request.StatePendingApproval, owner: "alice", ago: 3 * time.Hour},
	{name: "failed", kind: request.KindCustomer, state: request.StateFailed, owner: "bob", ago: 2 * time.Hour, want: "#approvals"},
	{name: "committing long", kind: request.KindCustomer, state: request.StateCommitting, owner: "bob", ago: 2 * time.Hour, want: "#approvals"},
	{name: "committing now", kind: request.KindCustomer, state: request.StateCommitting, owner: "bob", ago: 30 * time.Minute},
	{name: "queued long", kind: request.KindLocation, state: request.StateApproved, owner: "carol", ago: 3 * time.Hour, want: "#approvals"},
	{name: "compliance hold", kind: request.KindCustomer, state: request.StateWaiting, owner: "carol", ago: 10 * time.Minute, waitSince: 3 * time.Hour, reason: "compliance review", want: "#approvals", line: "compliance review (3h)"},
	{name: "provisioning briefly", kind: request.KindCustomer, state: request.StateWaiting, owner: "carol", ago: 30 * time.Minute, waitSince: 30 * time.Minute, reason: "provisioning"},
	{name: "consent long", kind: request.KindUsers, state: request.StateWaiting, owner: "carol", ago: time.Hour, waitSince: 80 * time.Hour, reason: request.ConsentWaitReason, want: "@carol", line: "waiting for consent (3d)"},
	{name: "consent recent", kind: request.KindUsers, state: request.StateWaiting, owner: "carol", ago: time.Hour, waitSince: 10 * time.Hour, reason: request.ConsentWaitReason},
	{name: "no users", kind: request.KindCustomer, state: request.StateDone, owner: "alice", ago: 10 * time.Minute, customer: "cust-a", want: "@alice"},
	{name: "adopted no users", kind: request.KindAdopt, state: request.StateDone, owner: "dave", ago: 40 * 24 * time.Hour, customer: "cust-d", want: "@dave"},
	{name: "users in store", kind: request.KindCustomer, state: request.StateDone, owner: "bob", ago: 5 * time.Hour, customer: "cust-b"},
	{name: "their users", kind: request.KindUsers, state: request.StateDone, owner: "bob", ago: 4 * time.Hour, forRef: "users in store"},
	{name: "batch with limits", kind: request.KindUsers, state: request.StateDone, owner: "bob", ago: 3 * time.Hour, forRef: "users in store",
		customer: "cust-b", limits: map[string]int{"webex_calling": 10}, want: "#approvals", line: "webex_calling 4/10 (after R-"},
	{name: "batch of yesterday", kind: request.KindUsers, state: request.StateDone, owner: "dave", ago: 25 * time.Hour, forRef: "deleted customer",
		customer: "cust-x", limits: map[string]int{"webex_calling": 10}},
	{name: "users at webex", kind: request.KindAdopt, state: request.StateDone, owner: "dave", ago: 5 * time.Hour, customer: "cust-w"},
	{name: "deleted customer", kind: request.KindCustomer, state: request.StateDone, owner: "dave", ago: 5 * time.Hour, customer: "cust-x"},
	{name: "its deletion", kind: request.KindDelete, state: request.StateDone, owner: "dave", ago: 4 * time.Hour, forRef: "deleted customer"},
	{name: "rejected", kind: request.KindCustomer, state: request.StateRejected, owner: "dave", ago: 2 * time.Hour, want: "@dave"},
	{name: "rejected resubmitted", kind: request.KindCustomer, state: request.StateRejected, owner: "dave", ago: 2 * time.Hour, edited: true},
	{name: "rejected long ago", kind: request.KindCustomer, state: request.StateRejected, owner: "dave", ago: 8 * 24 * time.Hour},
	{name: "cancelled", kind: request.KindCustomer, state: request.StateCancelled, owner: "alice", ago: 30 * time.Hour},
	{name: "location done", kind: request.KindLocation, state: request.StateDone, owner: "alice", ago: 30 * time.Hour},
}

// digestFixture is a store, clock and Digester with seeds written.
type digestFixture struct {
	st     *store.Store
	prefix string
	clk    *digestClock
	ids    map[string]int64 // seed name → request id
	names  map[string]string
}

func newDigestFixture(t *testing.T, seeds []seed) *digestFixture {
	t.Helper()
	return newDigestFixtureWith(t, seeds, nil)
}

// newDigestFixtureWith is newDigestFixture with edit applied to every
// request before it is written.
func newDigestFixtureWith(t *testing.T, seeds []seed, edit func(r *request.Request)) *digestFixture {
	t.Helper()
	clk := &digestClock{t: occurrence}
	prefix := storetest.Prefix(t)
	f := &digestFixture{st: store.New(storetest.Client(t), prefix).WithClock(clk.Now), prefix: prefix, clk: clk,
		ids: map[string]int64{}, names: map[string]string{}}
	ctx := context.Background()
	// Oldest first, as they would have happened.
	ordered := append([]seed(nil), seeds...)
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].ago > ordered[j].ago })
	for _, sd := range ordered {
		clk.Set(occurrence.Add(-sd.ago))
		r := &request.Request{Kind: sd.kind, State: sd.state, Requester: sd.owner, Subject: "S-" + strings.ReplaceAll(sd.name, " ", "-")}
		r.Result.CustomerID = sd.customer
		if sd.state == request.StateWaiting {
			r.Result.WaitReason, r.Result.WaitingSince = sd.reason, occurrence.Add(-sd.waitSince)
		}
		if sd.state == request.StateRejected {
			r.RejectedBy, r.Reason = "bob", "wrong address"
		}
		if sd.forRef != "" {
			r.Spec, _ = json.Marshal(map[string]any{"customer": map[string]any{"requestId": f.ids[sd.forRef], "externalId": "x", "limits": sd.limits}})
		}
		if edit != nil {
			edit(r)
		}
		if err := f.st.Create(ctx, r); err != nil {
			t.Fatalf("seed %s: %v", sd.name, err)
		}
		if sd.edited {
			if err := f.st.AppendAudit(ctx, r.ID, request.AuditEntry{Actor: sd.owner, Action: "edited"}); err != nil {
				t.Fatal(err)
			}
		}
		f.ids[sd.name], f.names[r.Ref()] = r.ID, sd.name
	}
	clk.Set(occurrence)
	return f
}

func (f *digestFixture) digester(msg chat.Messenger) *digest.Digester {
	// The drafts' TTL, as DRAFT_TTL has it: longer than IDLE_DRAFT_AFTER.
	return digest.New(digest.Deps{Store: f.st, Drafts: f.st.Drafts(7 * 24 * time.Hour), Subscribers: subscribers{"cust-w": 3, "cust-b": 4},
		Messenger: msg, Settings: digestThresholds, Log: quietLog()})
}

// shown maps each recipient to the seed names its digest holds, sorted.
func (f *digestFixture) shown(d *digest.Digests) map[string][]string {
	out := map[string][]string{}
	add := func(to string, dg *digest.Digest) {
		for _, it := range dg.Items {
			name := f.names[request.FormatID(it.Request)]
			if it.Draft != 0 {
				name = "draft"
			}
			out[to] = append(out[to], name)
		}
		sort.Strings(out[to])
	}
	add("#approvals", d.Channel)
	for u, dg := range d.DMs {
		add("@"+u, dg)
	}
	for k, v := range out {
		if len(v) == 0 {
			delete(out, k)
		}
	}
	return out
}

func wantShown(seeds []seed, extra map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, sd := range seeds {
		if sd.want != "" {
			out[sd.want] = append(out[sd.want], sd.name)
		}
	}
	for k, v := range extra {
		out[k] = append(out[k], v...)
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

func TestDigestHoldsExactlyTheDueItems(t *testing.T) {
	t.Parallel()
	onlyNotDue := func() []seed {
		var out []seed
		for _, sd := range digestSeeds {
			if sd.want == "" && sd.forRef == "" && sd.name != "users in store" && sd.name != "deleted customer" {
				out = append(out, sd)
			}
		}
		return out
	}()
	cases := []struct {
		name   string
		seeds  []seed
		drafts map[time.Duration]string // age → owner
		extra  map[string][]string
		sweep  bool // drop the digest indexes and let the sweeper rebuild them first
	}{
		{name: "every state and age", seeds: digestSeeds, drafts: map[time.Duration]string{30 * time.Hour: "alice", 2 * time.Hour: "alice"},
			extra: map[string][]string{"@alice": {"draft"}}},
		{name: "indexes rebuilt by the sweeper", seeds: digestSeeds, sweep: true},
		{name: "nothing due", seeds: onlyNotDue, drafts: map[time.Duration]string{2 * time.Hour: "alice"}},
		// Erin never submitted a request: her abandoned form reminds her all the same.
		{name: "first-time user's idle draft", drafts: map[time.Duration]string{30 * time.Hour: "erin"},
			extra: map[string][]string{"@erin": {"draft"}}},
		{name: "empty store"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newDigestFixture(t, tc.seeds)
			for ago, owner := range tc.drafts {
				f.clk.Set(occurrence.Add(-ago))
				if err := f.st.Drafts(time.Hour).CreateDraft(ctx, &store.Draft{Owner: owner, Kind: request.KindCustomer}); err != nil {
					t.Fatal(err)
				}
			}
			f.clk.Set(occurrence)
			if tc.sweep {
				rdb := f.st.Client()
				if err := rdb.Del(ctx, f.prefix+"idx:digest:incomplete", f.prefix+"idx:digest:waiting-since").Err(); err != nil {
					t.Fatal(err)
				}
				if rep, err := f.st.Sweep(ctx); err != nil || rep.Added == 0 {
					t.Fatalf("sweep: %+v, %v", rep, err)
				}
			}
			if rep, err := f.st.Sweep(ctx); err != nil || rep.Repaired() {
				t.Fatalf("the digest indexes disagree with the documents: %+v, %v", rep, err)
			}
			msg := &digestSent{}
			g := f.digester(msg)
			built, err := g.Build(ctx, occurrence, "")
			if err != nil {
				t.Fatal(err)
			}
			want := wantShown(tc.seeds, tc.extra)
			if got := f.shown(built); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("digests hold\n%v\nwant\n%v", got, want)
			}
			for _, sd := range tc.seeds {
				if it, ok := itemOf(built, f.ids[sd.name]); sd.line != "" && (!ok || !strings.Contains(it.Line, sd.line)) {
					t.Errorf("%s: line %q, want it to say %q", sd.name, it.Line, sd.line)
				}
			}
			rep, err := g.Run(ctx, occurrence)
			if err != nil {
				t.Fatal(err)
			}
			sent := msg.recipients()
			sort.Strings(sent)
			var wantTo []string
			for to := range want {
				wantTo = append(wantTo, to)
			}
			sort.Strings(wantTo)
			if fmt.Sprint(sent) != fmt.Sprint(wantTo) || rep.Sent != len(wantTo) {
				t.Fatalf("sent to %v (report %+v), want %v", sent, rep, wantTo)
			}
		})
	}
}

// Three replicas run the same occurrence on one Redis: one digest per
// recipient. A replica that dies after claiming some recipients leaves
// those without a digest, never with two.
func TestDigestOncePerRecipientAcrossReplicas(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		dieAfter  int // the first replica's sends before it dies; 0: it lives
		maxLost   int
		firstOnly bool // the dying replica walks first, alone
	}{
		{name: "all alive", maxLost: 0},
		{name: "one dies after one send", dieAfter: 1, maxLost: 1, firstOnly: true},
		{name: "one dies after three sends", dieAfter: 3, maxLost: 1, firstOnly: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newDigestFixture(t, digestSeeds)
			want := wantShown(digestSeeds, nil)
			msgs := []*digestSent{{failAfter: tc.dieAfter}, {}, {}}
			ctx, die := context.WithCancel(context.Background())
			defer die()
			msgs[0].die = die
			run := func(i int, ctx context.Context) {
				if _, err := f.digester(msgs[i]).Run(ctx, occurrence); err != nil && !errors.Is(err, context.Canceled) {
					t.Error(err)
				}
			}
			var wg sync.WaitGroup
			if tc.firstOnly {
				run(0, ctx)
			} else {
				wg.Go(func() { run(0, ctx) })
			}
			for i := 1; i < 3; i++ {
				wg.Go(func() { run(i, context.Background()) })
			}
			wg.Wait()
			got := map[string]int{}
			for _, m := range msgs {
				for _, to := range m.recipients() {
					got[to]++
				}
			}
			lost := 0
			for to := range want {
				switch got[to] {
				case 0:
					lost++
				case 1:
				default:
					t.Errorf("%s got %d digests", to, got[to])
				}
			}
			if lost > tc.maxLost {
				t.Fatalf("%d recipients got no digest (at most %d claimed by the dead replica): %v", lost, tc.maxLost, got)
			}
			if tc.dieAfter > 0 && len(msgs[0].recipients()) != tc.dieAfter {
				t.Fatalf("the dying replica sent %d, want %d", len(msgs[0].recipients()), tc.dieAfter)
			}
		})
	}
}

// itemOf finds request id's item in any digest.
func itemOf(d *digest.Digests, id int64) (digest.Item, bool) {
	for _, dg := range d.All() {
		for _, it := range dg.Items {
			if it.Request == id {
				return it, true
			}
		}
	}
	return digest.Item{}, false
}
