package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/provisioning/worker"
)

func TestCommitUsersThreeRows(t *testing.T) {
	t.Parallel()
	env := newSetupEnv(t, quietSandbox())
	env.seedCustomer(t, "MS-001")
	ctx := context.Background()
	seeded, err := env.cl.ListNumbers(ctx, webex.NumberQuery{OrgID: env.ref.OrgID, Available: true})
	if err != nil || len(seeded) == 0 {
		t.Fatalf("seeded numbers: %d, %v", len(seeded), err)
	}
	r := env.users(t, "Anna,Auto,anna@ms.example,webex_calling,auto;"+
		"Ben,Meet,ben@ms.example,webex_meetings;"+
		"Ada,Admin,admin@ms-001.example,webex_calling,,1001")

	got := env.commit(t, r.ID)
	wantState(t, got, request.StateDone, "3/3 provisioned")
	if got.Result.Status != request.UsersProvisioned {
		t.Errorf("status %q, want %q", got.Result.Status, request.UsersProvisioned)
	}
	rows, err := env.s.RowOutcomes(ctx, r.ID)
	if err != nil || len(rows) != 3 {
		t.Fatalf("row outcomes %v, %v", rows, err)
	}
	auto := rows[1].Phone
	if !slices.ContainsFunc(seeded, func(n webex.Number) bool { return n.PhoneNumber == auto }) {
		t.Errorf("phone=auto got %q, not one of the location's seeded numbers", auto)
	}
	subs := env.subscribers(t)
	for i, email := range []string{"anna@ms.example", "ben@ms.example", "admin@ms-001.example"} {
		if subs[email].ID == "" || rows[i+1].SubscriberID != subs[email].ID || rows[i+1].Status != request.RowDone {
			t.Errorf("row %d: outcome %+v, subscriber %+v", i+1, rows[i+1], subs[email])
		}
	}
	if n := env.sb.Stats().SubscriberCreates; n != 3 {
		t.Errorf("%d creates, want 3", n)
	}

	// Committed again (a redelivered job after approval), nothing is
	// created twice and the existing users count as this batch's.
	again := env.submit(t, request.KindUsers, request.StateApproved, mustSpec(t, r))
	wantState(t, env.commit(t, again.ID), request.StateDone, "3/3 provisioned (3 already existed)")
	if n := env.sb.Stats().SubscriberCreates; n != 3 {
		t.Errorf("%d creates after the second batch, want 3", n)
	}
}

func mustSpec(t *testing.T, r *request.Request) request.UsersSpec {
	t.Helper()
	var spec request.UsersSpec
	if err := json.Unmarshal(r.Spec, &spec); err != nil {
		t.Fatal(err)
	}
	return spec
}

// controlHubRows is n users in Control Hub's CSV columns (no package column:
// the customer's primary package); every fourth takes phone=auto, the
// others an extension.
func controlHubRows(n int) string {
	var b strings.Builder
	b.WriteString("First Name,Last Name,User ID/Email (Required),Phone Number,Extension\n")
	for i := 1; i <= n; i++ {
		phone, ext := "", fmt.Sprint(2000+i)
		if i%4 == 0 {
			phone, ext = "auto", ""
		}
		fmt.Fprintf(&b, "User%d,Test,user%03d@ms.example,%s,%s\n", i, i, phone, ext)
	}
	return b.String()
}

func TestCommitUsersUnderRateLimitAndFaults(t *testing.T) {
	t.Parallel()
	opts := quietSandbox()
	opts.Rate, opts.P5xx, opts.Seed, opts.Latency = 50, 0.05, 7, time.Millisecond
	env := newSetupEnv(t, opts)
	env.seedCustomer(t, "MS-200")
	r := env.users(t, controlHubRows(200))

	got := env.commit(t, r.ID)
	wantState(t, got, request.StateDone, "200/200 provisioned")
	if n := len(env.subscribers(t)); n != 200 {
		t.Errorf("%d subscribers, want 200", n)
	}
	st := env.sb.Stats()
	if st.Subscribers != 200 || st.SubscriberCreates != 200 {
		t.Errorf("sandbox subscribers %d, creates %d; want 200 each", st.Subscribers, st.SubscriberCreates)
	}
	if st.EarlyRetries != 0 {
		t.Errorf("%d early retries (by token %v)", st.EarlyRetries, st.EarlyRetriesByToken)
	}
	// Each 503 holds the token for its Retry-After second, which keeps the
	// batch under 50 calls a second: the 503s are what this seed injects.
	if st.Injected5xx == 0 {
		t.Errorf("no 503 injected: the test proves nothing (stats %+v)", st)
	}
	t.Logf("429s %d, 503s %d, calls %d", st.RateLimited, st.Injected5xx, st.Calls[opCreateSubscriber])
	// The batch runs for seconds (each 503 holds the token a second), so the
	// thread hears of its progress.
	env.rec.mu.Lock()
	progress := slices.ContainsFunc(env.rec.progress, func(p string) bool { return strings.HasSuffix(p, "/200 provisioned") })
	env.rec.mu.Unlock()
	if !progress {
		t.Errorf("no progress reported: %q", env.rec.progress)
	}
}

// stoppingAPI is the setup client of a worker that is stopped after its
// limit-th create: it cancels the worker's context, as a shutdown would.
type stoppingAPI struct {
	worker.SetupAPI
	creates atomic.Int64
	limit   int64
	stop    context.CancelFunc
}

func (s *stoppingAPI) CreateSubscriber(ctx context.Context, req webex.SubscriberRequest) (*webex.Subscriber, error) {
	sub, err := s.SetupAPI.CreateSubscriber(ctx, req)
	if s.creates.Add(1) == s.limit {
		s.stop()
	}
	return sub, err
}

func TestCommitUsersResumedByAnotherWorker(t *testing.T) {
	t.Parallel()
	opts := quietSandbox()
	opts.Latency = time.Millisecond // creates are in flight when the worker stops
	env := newSetupEnv(t, opts)
	env.seedCustomer(t, "MS-RES")
	r := env.users(t, controlHubRows(200))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopping := &stoppingAPI{SetupAPI: env.cl, limit: 80, stop: cancel}
	first := env.worker("worker-1", stopping)
	if err := first.Commit(ctx, r.ID); err == nil {
		t.Fatal("the stopped worker reports its job finished")
	}
	mid := env.get(t, r.ID)
	if mid.State != request.StateCommitting {
		t.Fatalf("after the stop: %s, want committing (the job is handed back)", mid.State)
	}
	saved, err := env.s.RowOutcomes(context.Background(), r.ID)
	if err != nil || len(saved) == 0 || len(saved) >= 200 {
		t.Fatalf("%d rows saved by the stopped worker (%v); want some, not all", len(saved), err)
	}

	second := env.worker("worker-2", env.cl)
	if err := second.Commit(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	wantState(t, env.get(t, r.ID), request.StateDone, "200/200 provisioned")
	if st := env.sb.Stats(); st.SubscriberCreates != 200 || st.Subscribers != 200 {
		t.Errorf("creates %d, subscribers %d; want every user created exactly once", st.SubscriberCreates, st.Subscribers)
	}
	env.subscribers(t) // no duplicate email
}

func TestCommitUsersConsent(t *testing.T) {
	t.Parallel()
	opts := quietSandbox()
	opts.Migration = regexp.MustCompile(`^legacy`)
	env := newSetupEnv(t, opts)
	env.seedCustomer(t, "MS-CON")
	env.w.WatchInterval = time.Minute
	ctx := context.Background()
	r := env.users(t, "Lea,Legacy,legacy.lea@ms.example,webex_meetings;Max,Neu,max@ms.example,webex_calling,,1002;"+
		"Leo,Legacy,legacy.leo@ms.example,webex_calling,auto")

	got := env.commit(t, r.ID)
	wantState(t, got, request.StateWaiting, "1/3 provisioned, 2 waiting for consent")
	if got.Result.WaitReason != request.ConsentWaitReason {
		t.Errorf("wait reason %q", got.Result.WaitReason)
	}
	if _, watched, err := env.s.WatchDue(ctx, r.ID); err != nil || !watched {
		t.Fatalf("a batch waiting for consent is not watched (%v)", err)
	}

	sent, err := worker.ResendConsent(ctx, env.cl, env.s, r.ID)
	if err != nil || sent != 2 {
		t.Fatalf("resent %d, %v; want 2", sent, err)
	}
	if n := env.sb.Stats().ConsentResends; n != 2 {
		t.Errorf("sandbox consent resends %d, want 2", n)
	}

	// Nobody consents for hours: the checks space out, up to 15 minutes.
	env.clock.Advance(5 * time.Hour)
	env.w.CheckWatchList(ctx)
	wantState(t, env.get(t, r.ID), request.StateWaiting, "1/3 provisioned, 2 waiting for consent")
	if due, _, err := env.s.WatchDue(ctx, r.ID); err != nil || due.Sub(env.clock.Now()) < 14*time.Minute || due.Sub(env.clock.Now()) > 15*time.Minute {
		t.Errorf("next consent check in %s (%v), want 15m after a 5h wait", due.Sub(env.clock.Now()), err)
	}

	// One consents: the next check counts it, the batch keeps waiting.
	if !env.sb.Consent("legacy.lea@ms.example") {
		t.Fatal("no consent pending at the sandbox")
	}
	env.clock.Advance(15 * time.Minute)
	env.w.CheckWatchList(ctx)
	wantState(t, env.get(t, r.ID), request.StateWaiting, "2/3 provisioned, 1 waiting for consent")

	env.sb.Consent("legacy.leo@ms.example")
	env.clock.Advance(15 * time.Minute)
	env.w.CheckWatchList(ctx)
	wantState(t, env.get(t, r.ID), request.StateDone, "3/3 provisioned")
	if _, watched, _ := env.s.WatchDue(ctx, r.ID); watched {
		t.Error("a done batch is still watched")
	}
	if n := env.sb.Stats().SubscriberCreates; n != 3 {
		t.Errorf("%d creates; consent rows must be re-checked, not re-created", n)
	}
}

func TestCommitUsersFailedRowsAndRetry(t *testing.T) {
	t.Parallel()
	env := newSetupEnv(t, quietSandbox())
	env.seedCustomer(t, "MS-ERR")
	ctx := context.Background()
	// Row 2 names a location the customer lacks; row 3's extension is held
	// by a user outside the batch.
	holder, err := env.cl.CreateSubscriber(ctx, webex.SubscriberRequest{CustomerID: env.ref.CustomerID, Email: "holder@ms.example",
		Packages: []string{"webex_calling"}, ProvisioningParameters: &webex.SubscriberParameters{FirstName: "H", LastName: "Older", Extension: "3001"}})
	if err != nil {
		t.Fatal(err)
	}
	r := env.users(t, "Ann,One,ann@ms.example,webex_calling,,3000;Bob,Two,bob@ms.example,webex_calling,,3002,Köln;"+
		"Cem,Three,cem@ms.example,webex_calling,,3001")

	got := env.commit(t, r.ID)
	wantState(t, got, request.StateDone, "1/3 provisioned, 2 failed")
	if got.Result.Status != request.ResultPartial {
		t.Errorf("status %q, want %q (the ⚠️ outcome)", got.Result.Status, request.ResultPartial)
	}
	rows, _ := env.s.RowOutcomes(ctx, r.ID)
	if !strings.Contains(rows[2].Message, `location "Köln" does not exist`) {
		t.Errorf("row 2: %+v", rows[2])
	}
	if !strings.Contains(rows[3].Message, "extension 3001 is already used") || !strings.HasPrefix(rows[3].TrackingID, "SANDBOX_") {
		t.Errorf("row 3 lacks Webex's message and trackingId: %+v", rows[3])
	}

	// The user holding the extension leaves; `retry` re-runs the commit:
	// only the failed rows are tried again.
	if err := env.cl.DeleteSubscriber(ctx, holder.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.s.Transition(ctx, r.ID, request.Transition{From: []request.State{request.StateDone},
		To: request.StateApproved, Actor: "UALICE", Action: "retry"}); err != nil {
		t.Fatal(err)
	}
	creates := env.sb.Stats().SubscriberCreates
	wantState(t, env.commit(t, r.ID), request.StateDone, "2/3 provisioned, 1 failed")
	if n := env.sb.Stats().SubscriberCreates - creates; n != 1 {
		t.Errorf("retry created %d users, want 1 (row 3; row 1 is done, row 2 fails before Webex)", n)
	}
}

// TestCommitUsersSeatsLeft: a batch approved before its customer existed is
// held to the ordered quantity at commit; rows beyond it fail, named.
func TestCommitUsersSeatsLeft(t *testing.T) {
	t.Parallel()
	env := newSetupEnv(t, quietSandbox())
	env.seedCustomer(t, "MS-CAP")
	env.ref.Limits = map[string]int{"webex_calling": 2}
	ctx := context.Background()
	if _, err := env.cl.CreateSubscriber(ctx, webex.SubscriberRequest{CustomerID: env.ref.CustomerID, Email: "early@x.example",
		Packages: []string{"webex_calling"}, ProvisioningParameters: &webex.SubscriberParameters{FirstName: "E", LastName: "Arly", Extension: "1000"}}); err != nil {
		t.Fatal(err)
	}
	r := env.users(t, "Ann,A,ann@x.example,webex_calling,,1001;Ben,B,ben@x.example,webex_meetings;Cem,C,cem@x.example,webex_calling,,1003")
	wantState(t, env.commit(t, r.ID), request.StateDone, "2/3 provisioned, 1 failed")
	rows, _ := env.s.RowOutcomes(ctx, r.ID)
	if rows[1].Status != request.RowDone || !strings.Contains(rows[3].Message, "no webex_calling seat left (limit.webex_calling=2") {
		t.Errorf("rows %+v", rows)
	}
}
