package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
)

// The template walk-through of docs/commands.md (issue acceptance: template → checklist
// → activate → customer from the template → provisioned).
const templateScript = `/onboard-customer template new name=de-standard country=DE language=de_DE package=webex_calling,webex_meetings sp-admin=ops@partner.example subscription=SUB-1
/as bob
/click Approve
/as alice
/onboard-customer template activate de-standard provisioning-id=PROV-DE-7
/onboard-customer new name="Acme GmbH" email=it@acme.example external-id=AC-001 template=de-standard supported-location=yes address="Hauptstraße 2" city=Berlin zip=10115
/as carol
/click Approve
`

func TestConsoleTemplateToCustomer(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, templateScript)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		`(?m)^⏳ R-1 template de-standard: waiting for its provisioning id$`,
		`Partner Hub checklist for template de-standard v1`,
		`Run ` + "`" + `/onboard-customer template activate de-standard provisioning-id=<the Provisioning ID>` + "`",
		`(?m)^✅ R-1 template de-standard v1 active$`,
		`Source: template de-standard v1 \(` + "`PROV-DE-7`" + `\)`,
		`(?m)^✅ R-2 AC-001 provisioned \(org [^)]+\)$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestConsoleTemplateActivationRefusesUnknownID(t *testing.T) {
	t.Parallel()
	script := strings.Replace(templateScript, "PROV-DE-7", "BOGUS-7", 1)
	out, _ := runConsole(t, script)
	if !regexp.MustCompile(`(?m)^⛔ R-1: Webex refused provisioning id BOGUS-7`).MatchString(out) {
		t.Fatalf("no refusal of an unknown provisioning id:\n%s", out)
	}
	if strings.Contains(out, "v1 active") || !strings.Contains(out, "template: ") {
		t.Fatalf("the template must stay inactive and the customer be refused:\n%s", out)
	}
}

func TestConsoleRejectedAddressRefusesApproval(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, msCommand+"\n/as bob\n/click Approve\n/sandbox\n", "SANDBOX_REJECT_ADDRESS", "Hauptstraße")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "Precheck: ❌ failed") {
		t.Fatalf("the summary does not show the failed precheck:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^⛔ R-1: the Webex precheck failed`).MatchString(out) || !strings.Contains(out, "creates=0") {
		t.Fatalf("approval was not refused:\n%s", out)
	}
}

func TestAdoptCustomerCreatedElsewhere(t *testing.T) {
	e := newE2E(t)
	url := e.start()
	_, orgID := e.sandbox.SeedCustomer(sandbox.SeedCustomer{ExternalID: "MS-009", Name: "Seeded GmbH"})

	postSigned(t, url+"/slack/commands", testSecret, commandBody("UALICE", "adopt MS-009"), time.Now())
	want := "✅ R-1 adopted MS-009 (org " + orgID + ")"
	waitFor(t, "the adoption outcome", 10*time.Second, func() bool { return strings.Contains(e.slackText("chat.postMessage"), want) })

	_, body := postSignedBody(t, url+"/slack/commands", testSecret, commandBody("UALICE", "status MS-009"), time.Now())
	if !strings.Contains(body, "R-1 MS-009") || !strings.Contains(body, "created by") {
		t.Fatalf("status does not show the adopted customer: %s", body)
	}
	// A second adopt is refused: the customer is already under the bot.
	_, body = postSignedBody(t, url+"/slack/commands", testSecret, commandBody("UBOB", "adopt MS-009"), time.Now())
	if !strings.Contains(body, "already under the bot (R-1)") {
		t.Fatalf("second adopt: %s", body)
	}
	if r, err := e.store().Get(context.Background(), 1); err != nil || r.Result.OrgID != orgID {
		t.Fatalf("stored adoption: %+v, %v", r, err)
	}
}
