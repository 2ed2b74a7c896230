package main

import (
	"regexp"
	"strings"
	"testing"
)

// planCommand is a customer with its PSTN connection, a block of ten
// numbers and three users, one of them on phone=auto: an onboarding plan.
const planCommand = `/onboard-customer new name="Müller & Söhne GmbH" email=it@mueller.example external-id=MS-001 country=DE package=webex_calling,webex_meetings limit.webex_calling=10 provisioning-id=PROV-DE-1 supported-location=yes address="Hauptstraße 1" city=Berlin zip=10115 timezone=Europe/Berlin language=de_DE pstn="Sandbox CCP" numbers=+4930555001-+4930555010 rows="Anna,Muster,anna@mueller.example,webex_calling,auto;Ben,Beispiel,ben@mueller.example,webex_meetings;IT,Admin,it@mueller.example,webex_calling,,1001"`

var outcomeLineRE = regexp.MustCompile(`(?m)^(✅|⚠️|❌|⏳|🚫|🗑|⌛) R-\d+ .*$`)

// One `new` with setup keys, one approval: the customer, its PSTN
// connection, its numbers and its users, each its own line under the plan's
// id, in that order, and no line for a step that waits for the one before.
func TestConsolePlanRunsInOrder(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, planCommand+"\n/as bob\n/click Approve\n/sandbox\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "📨 R-1 submitted: customer Müller & Söhne GmbH (MS-001) with its PSTN connection, 10 numbers and 3 users, waits for approval in #approvals.") {
		t.Errorf("the submission does not name the plan's steps:\n%s", out)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^✅ R-1 MS-001 provisioned \(org [^)]+\)$`),
		regexp.MustCompile(`^✅ R-1 pstn MS-001 HQ: Sandbox CCP$`),
		regexp.MustCompile(`^✅ R-1 numbers MS-001 HQ: 10 numbers at HQ \(10 added, 10 activated\)$`),
		regexp.MustCompile(`^✅ R-1 users MS-001: 3/3 provisioned$`),
	}
	got := outcomeLineRE.FindAllString(out, -1)
	if len(got) != len(want) {
		t.Fatalf("outcome lines %q, want 4 (customer, pstn, numbers, users)\n%s", got, out)
	}
	for i, re := range want {
		if !re.MatchString(got[i]) {
			t.Errorf("outcome line %d = %q, want %s", i+1, got[i], re)
		}
	}
	if !strings.Contains(out, "sandbox: customers=1 subscribers=3 creates=1 early_retries=0") {
		t.Errorf("sandbox counters after the plan:\n%s", out)
	}
}

// A step that fails holds the steps after it; `retry` of the plan runs that
// step again (here it fails again: the connection is not one Webex offers).
func TestConsolePlanRetryResumesAtTheFailedStep(t *testing.T) {
	t.Parallel()
	script := strings.Replace(planCommand, `pstn="Sandbox CCP"`, `pstn="Nope CCP"`, 1) +
		"\n/as bob\n/click Approve\n/as alice\n/onboard-customer retry R-1\n/onboard-customer status R-1\n/onboard-customer status R-2\n"
	out, code := runConsole(t, script)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	failed := `❌ R-1 pstn MS-001 HQ failed: "Nope CCP" is not a PSTN option at HQ (Webex offers "Premises-based PSTN", "Sandbox CCP")`
	if n := strings.Count(out, "\n"+failed+"\n"); n != 1 {
		t.Errorf("the failed step's line %d times, want once (the console prints a line once):\n%s", n, out)
	}
	if !regexp.MustCompile(`(?m)^• \S+ \S+ retry by @alice$`).MatchString(out) {
		t.Errorf("status R-2 shows no retry of the pstn step:\n%s", out)
	}
	for _, s := range []string{"🔁 R-1 queued again at its step pstn MS-001 HQ.", "numbers MS-001 HQ: waiting for R-2"} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "✅ R-1 numbers") || strings.Contains(out, "✅ R-1 users") {
		t.Errorf("a step after the failed one ran:\n%s", out)
	}
}

// What cannot work at a new customer is refused when the plan is submitted,
// every problem named, and nothing is saved.
func TestConsolePlanRefusedAtSubmit(t *testing.T) {
	t.Parallel()
	bad := strings.NewReplacer(`pstn="Sandbox CCP" `, "", "auto;", "auto,,Köln;").Replace(planCommand) + " main=+4930555999"
	out, code := runConsole(t, bad+"\n/onboard-customer list pending\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, s := range []string{
		"⛔ nothing was submitted:",
		"numbers: needs pstn=…: a new customer's HQ has no PSTN connection",
		"main: +4930555999 is not in the block numbers=+4930555001-+4930555010",
		`row 1: location: "Köln" does not exist: a new customer has only its HQ location "HQ"`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "📨 R-1") {
		t.Errorf("a refused plan was saved:\n%s", out)
	}
}
