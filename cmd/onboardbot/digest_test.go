package main

import (
	"regexp"
	"strings"
	"testing"
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
