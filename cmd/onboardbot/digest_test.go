package main

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/bot"
	"github.com/onboardbot/onboardbot/handlers/digest"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// A customer provisioned without users is due at once: alice's own digest,
// asked for right after bob approved it, names it.
func TestConsoleDigestNamesProvisionedCustomerWithoutUsers(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, msCommand+"\n/as bob\n/click Approve\n/as alice\n/onboard-customer digest\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	_, after, ok := strings.Cut(out, "> /onboard-customer digest\n")
	if !ok {
		t.Fatalf("the digest command was not read:\n%s", out)
	}
	block := regexp.MustCompile(`(?m)^── @alice[^\n]*──\n📋 digest for @alice\n((?:[^─\n][^\n]*\n?)*)`).FindStringSubmatch(after)
	if block == nil {
		t.Fatalf("no block headed 📋 digest for @alice after the command:\n%s", after)
	}
	if !regexp.MustCompile(`(?m)^• R-1 MS-001: provisioned \(org [^)]+\), no users yet$`).MatchString(block[1]) {
		t.Fatalf("the digest has no line naming R-1 and MS-001:\n%s", block[0])
	}
	if !strings.Contains(block[1], "[Open]") || !strings.Contains(block[1], "[Snooze]") {
		t.Fatalf("the item has no Open or Snooze button:\n%s", block[0])
	}
}

// A requester with nothing due is told so, and no channel digest is
// posted for a non-admin.
func TestConsoleDigestNothingDue(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, "/as dave\n/onboard-customer digest\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "📋 nothing is due for you right now.") || strings.Contains(out, "📋 digest for") {
		t.Fatalf("want only a nothing-due answer:\n%s", out)
	}
}

// An admin's `digest` also posts the channel digest: with
// STALE_APPROVAL_AFTER at a millisecond, alice's request waiting for
// approval is in it, with Dismiss for the admin.
func TestConsoleAdminDigestPostsChannelDigest(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, msCommand+"\n/as bob\n/onboard-customer digest\n", "STALE_APPROVAL_AFTER", "1ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	_, after, _ := strings.Cut(out, "> /onboard-customer digest\n")
	block := regexp.MustCompile(`(?m)^── #approvals[^\n]*──\n📋 digest for #approvals\n((?:[^─\n][^\n]*\n?)*)`).FindStringSubmatch(after)
	if block == nil {
		t.Fatalf("no channel digest after bob's command:\n%s", after)
	}
	if !regexp.MustCompile(`(?m)^• R-1 MS-001: waiting for approval for [^·]+ · @alice$`).MatchString(block[1]) || !strings.Contains(block[1], "[Dismiss]") {
		t.Fatalf("the channel digest lacks R-1 or its Dismiss button:\n%s", block[0])
	}
}

// Three replicas, each with its own Slack client, run the same occurrence
// on one Redis: the recording Slack API gets one channel digest and one DM
// per requester; the next occurrence sends them once more.
func TestDigestThreeReplicasOneSlackAPI(t *testing.T) {
	t.Parallel()
	slackAPI := newFakeSlack(t)
	rdb, prefix := storetest.Client(t), storetest.Prefix(t)
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	st := store.New(rdb, prefix).WithClock(func() time.Time { return at.Add(-2 * time.Hour) })
	ctx := context.Background()
	for _, r := range []*request.Request{
		{Kind: request.KindCustomer, State: request.StateDone, Requester: "UALICE", Subject: "MS-001", Result: request.Result{CustomerID: "c1"}},
		{Kind: request.KindCustomer, State: request.StateFailed, Requester: "UBOB", Subject: "MS-002"},
		{Kind: request.KindCustomer, State: request.StateRejected, Requester: "UCAROL", Subject: "MS-003", RejectedBy: "UBOB", Reason: "wrong country"},
	} {
		if err := st.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	replica := func() *digest.Digester {
		return digest.New(digest.Deps{Store: store.New(rdb, prefix), Messenger: bot.NewSlackAPI(testToken, slackAPI.URL+"/", nil),
			Settings: digest.Settings{Channel: "CAPPROVALS", Admins: []string{"UBOB"},
				StaleApprovalAfter: 4 * time.Hour, IdleDraftAfter: 24 * time.Hour, StuckAfter: time.Hour, ConsentWaitAfter: 72 * time.Hour}})
	}
	replicas := []*digest.Digester{replica(), replica(), replica()}
	for day := 1; day <= 2; day++ {
		occurrence := at.Add(time.Duration(day-1) * 24 * time.Hour)
		var wg sync.WaitGroup
		for _, g := range replicas {
			wg.Go(func() {
				if _, err := g.Run(ctx, occurrence); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got := map[string]int{}
		for _, c := range slackAPI.Calls("chat.postMessage") {
			got[c.Form.Get("channel")]++
		}
		for _, to := range []string{"CAPPROVALS", "DUALICE", "DUCAROL"} {
			if got[to] != day {
				t.Fatalf("after occurrence %d: %s got %d digests (%v)", day, to, got[to], got)
			}
		}
		if len(got) != 3 {
			t.Fatalf("digests went to %v", got)
		}
	}
}
