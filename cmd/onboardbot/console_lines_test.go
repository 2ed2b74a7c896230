package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// answers splits piped console output into the answers of its input lines,
// keyed by the line; a line typed twice gets its answers joined.
func answers(out string) map[string]string {
	m := map[string]string{}
	var line string
	for _, l := range strings.SplitAfter(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "> "); ok {
			line = strings.TrimSpace(rest)
			continue
		}
		m[line] += l
	}
	return m
}

// A bare help (or ?) answers like /onboard-customer help; an unknown console
// command names every console command.
func TestConsoleHelp(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, "help\n?\n/onboard-customer help\n/nonsense\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	a := answers(out)
	want := a["/onboard-customer help"]
	if !strings.Contains(want, "what you can run") {
		t.Fatalf("no help answer:\n%s", out)
	}
	for _, line := range []string{"help", "?"} {
		if a[line] != want {
			t.Errorf("%q answered\n%s\nwant what /onboard-customer help answers:\n%s", line, a[line], want)
		}
	}
	for _, cmd := range []string{"help", "/onboard-customer", "/as NAME", "/click TEXT", "/submit k=v", "/home", "/sandbox", "/quit"} {
		if !strings.Contains(a["/nonsense"], cmd) {
			t.Errorf("the unknown-command hint lacks %s: %s", cmd, a["/nonsense"])
		}
	}
}

// The approval's answer is printed before the outcome that follows it. A
// template without a provisioning id waits for it without a Webex call, so
// its outcome comes as fast as anything can: the click's answer (queued
// behind the ack) lost that race about one run in four. Both ways to
// approve, a few runs each.
func TestConsoleAckBeforeOutcome(t *testing.T) {
	t.Parallel()
	const template = "/onboard-customer template new name=de-standard country=DE language=de_DE package=webex_calling sp-admin=ops@partner.example subscription=SUB-1\n/as bob\n"
	const ack, outcome = "👍 R-1 approved", "⏳ R-1 template de-standard: waiting for its provisioning id"
	for i := range 8 {
		way, approve := "click", "/click Approve"
		if i%2 == 1 {
			way, approve = "command", "/onboard-customer approve R-1"
		}
		t.Run(fmt.Sprintf("%s-%d", way, i), func(t *testing.T) {
			t.Parallel()
			out, code := runConsole(t, template+approve+"\n")
			a, o := strings.Index(out, ack), strings.Index(out, "\n"+outcome+"\n")
			if code != 0 || a < 0 || o < 0 {
				t.Fatalf("exit %d; answer at %d, outcome at %d:\n%s", code, a, o, out)
			}
			if o < a {
				t.Fatalf("the outcome came before the approval's answer:\n%s", out)
			}
		})
	}
}

// One /submit may carry the keys of every step of the customer form: each
// is filled in when its step comes (here after an error on the first step
// was fixed), a key no step takes is refused before the last step is
// pressed, and the request carries the later steps' values.
func TestConsoleSubmitLaterSteps(t *testing.T) {
	t.Parallel()
	const all = `/submit name="Müller & Söhne GmbH" email=not-an-email external-id=MS-001 country=DE provisioning-id=PROV-DE-1 package=webex_calling limit.webex_calling=10 supported-location=yes address="Hauptstraße 1" city=Berlin zip=10115 timezone=Europe/Berlin language=de_DE golf=1`
	script := "/onboard-customer\n" + all + "\n/submit email=it@mueller.example\n/submit\n/as bob\n/click Approve\n"
	out, code := runConsole(t, script)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	a := answers(out)
	first, fixed, submit := a[all], a["/submit email=it@mueller.example"], a["/submit"]
	if !strings.Contains(first, "⛔ the form has errors:") || !strings.Contains(first, "[email]") || strings.Contains(first, "(2/6)") {
		t.Errorf("the first step's error did not stop the /submit on it:\n%s", first)
	}
	for _, want := range []string{
		"── form: New customer (2/6) ──", "Packages [package] (optional): webex_calling",
		"Ordered webex_calling [limit.webex_calling] (optional): 10", "City [city]: Berlin",
		"── form: New customer (6/6) ──", "Ordered quantities: webex_calling 10",
		`⛔ no step from here on has a field "golf"`,
	} {
		if !strings.Contains(fixed, want) {
			t.Errorf("after the fix, the /submit's answer lacks %q:\n%s", want, fixed)
		}
	}
	if strings.Contains(fixed, "📨") || !strings.Contains(submit, "📨 R-1 submitted") {
		t.Errorf("the request was not submitted by the last /submit alone:\n%s", out)
	}
	if n := len(regexp.MustCompile(`(?m)^✅ R-1 MS-001 provisioned \(org [^)]+\)$`).FindAllString(out, -1)); n != 1 {
		t.Fatalf("want one provisioned line, got %d:\n%s", n, out)
	}
}
