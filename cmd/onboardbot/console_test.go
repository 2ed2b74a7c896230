package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runConsole pipes script into the binary's run function with no
// configuration at all (console mode, embedded Redis, embedded sandbox) and
// returns stdout and the exit status.
func runConsole(t *testing.T, script string, env ...string) (string, int) {
	t.Helper()
	vars := map[string]string{"LOG_LEVEL": "warn"}
	for i := 0; i+1 < len(env); i += 2 {
		vars[env[i]] = env[i+1]
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, nil, func(k string) string { return vars[k] }, strings.NewReader(script), &out, &errOut)
	if errOut.Len() > 0 {
		t.Logf("stderr:\n%s", errOut.String())
	}
	return out.String(), code
}

const msCommand = `/onboard-customer new name="Müller & Söhne GmbH" email=it@mueller.example external-id=MS-001 country=DE package=webex_calling provisioning-id=PROV-DE-1 supported-location=yes address="Hauptstraße 1" city=Berlin zip=10115 timezone=Europe/Berlin language=de_DE`

func TestConsoleFirstRun(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, msCommand+"\n/as bob\n/click Approve\n/sandbox\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if n := len(regexp.MustCompile(`(?m)^✅ R-1 MS-001 provisioned \(org [^)]+\)$`).FindAllString(out, -1)); n != 1 {
		t.Fatalf("want exactly one provisioned line, got %d:\n%s", n, out)
	}
	if !strings.Contains(out, "sandbox: customers=1 subscribers=0 creates=1 early_retries=0") {
		t.Fatalf("no /sandbox line with one create:\n%s", out)
	}
	if !strings.Contains(out, "── #approvals · SANDBOX ──") {
		t.Fatalf("the summary is not headed by its audience with SANDBOX:\n%s", out)
	}
}

func TestConsoleFourEyes(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, "/as bob\n"+msCommand+"\n/click Approve\n/sandbox\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^⛔ R-1: you requested this yourself`).MatchString(out) {
		t.Fatalf("no four-eyes refusal:\n%s", out)
	}
	if !strings.Contains(out, "creates=0") {
		t.Fatalf("a create happened:\n%s", out)
	}
}

func TestConsoleInvalidCommands(t *testing.T) {
	t.Parallel()
	cases := append([]struct{ name, text, want string }{}, invalidCommands...)
	cases = append(cases,
		struct{ name, text, want string }{"missing email", strings.Replace(msCustomer, "email=it@mueller.example", "", 1), "email"},
		struct{ name, text, want string }{"missing supported-location", strings.Replace(msCustomer, "supported-location=yes", "", 1), "supported-location"},
	)
	var script strings.Builder
	for _, c := range cases {
		script.WriteString("/onboard-customer " + c.text + "\n")
	}
	script.WriteString("/sandbox\n")
	out, code := runConsole(t, script.String())
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	blocks := strings.Split(out, "> /onboard-customer ")[1:]
	if len(blocks) != len(cases) {
		t.Fatalf("got %d answers for %d commands:\n%s", len(blocks), len(cases), out)
	}
	for i, c := range cases {
		if !strings.Contains(blocks[i], "nothing was submitted") || !regexp.MustCompile(`(?m)^• (missing: .*)?`+regexp.QuoteMeta(c.want)).MatchString(blocks[i]) {
			t.Errorf("%s: the answer does not name %q:\n%s", c.name, c.want, blocks[i])
		}
	}
	if strings.Contains(out, "#approvals") || !strings.Contains(out, "customers=0") {
		t.Fatalf("an invalid command posted a summary or created a customer:\n%s", out)
	}
}

func TestModeSelectionExits2(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"app token alone":      {"SLACK_APP_TOKEN", "xapp-1"},
		"bot token alone":      {"SLACK_BOT_TOKEN", "xoxb-1"},
		"signing secret alone": {"SLACK_SIGNING_SECRET", "s3cret"},
		"app token and secret": {"SLACK_APP_TOKEN", "xapp-1", "SLACK_SIGNING_SECRET", "s3cret", "SLACK_BOT_TOKEN", "xoxb-1"},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{}
			for i := 0; i+1 < len(env); i += 2 {
				vars[env[i]] = env[i+1]
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), nil, func(k string) string { return vars[k] }, strings.NewReader(""), &out, &errOut)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, errOut.String())
			}
			if !regexp.MustCompile(`SLACK_[A-Z_]+`).MatchString(errOut.String()) {
				t.Fatalf("the message names no variable: %s", errOut.String())
			}
			for _, v := range env {
				if strings.Contains(errOut.String(), v) && !strings.HasPrefix(v, "SLACK_") {
					t.Fatalf("a secret value leaked: %s", errOut.String())
				}
			}
		})
	}
}
