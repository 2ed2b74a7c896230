package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// importCustomers is an import's customers file: five customers, the first
// two with their PSTN connection and a block of numbers.
const importCustomers = `name,email,external-id,country,package,provisioning-id,supported-location,address,city,zip,timezone,language,pstn,numbers
Alpha GmbH,it@alpha.example,IM-001,DE,webex_calling,PROV-DE-1,yes,Hauptstraße 1,Berlin,10115,Europe/Berlin,de_DE,Sandbox CCP,+4930555001-+4930555005
Beta GmbH,it@beta.example,IM-002,DE,webex_calling,PROV-DE-1,yes,Hauptstraße 2,Berlin,10115,Europe/Berlin,de_DE,Sandbox CCP,+4930556001-+4930556005
"Gamma, Söhne & Co",it@gamma.example,IM-003,DE,webex_calling,PROV-DE-1,yes,Hauptstraße 3,Berlin,10115,Europe/Berlin,de_DE,,
Delta GmbH,it@delta.example,IM-004,DE,webex_calling,PROV-DE-1,yes,Hauptstraße 4,Berlin,10115,Europe/Berlin,de_DE,,
Epsilon GmbH,it@epsilon.example,IM-005,DE,webex_calling,PROV-DE-1,yes,Hauptstraße 5,Berlin,10115,Europe/Berlin,de_DE,,
`

const importUsers = `external-id,first,last,email,package,phone,extension
IM-001,IT,Admin,it@alpha.example,webex_calling,auto,
IM-001,Anna,Muster,anna@alpha.example,webex_calling,,1002
IM-002,IT,Admin,it@beta.example,webex_calling,,1001
`

// An import with one bad row is refused, naming the row's line and reason;
// the clean file, approved once, provisions every customer with its plan.
func TestConsoleImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	bad := write("bad.csv", strings.Replace(importCustomers, "it@gamma.example", "not-an-email", 1))
	good, users := write("customers.csv", importCustomers), write("users.csv", importUsers)
	script := "/onboard-customer import rows=@" + bad + " users=@" + users + "\n" +
		"/onboard-customer import rows=@" + good + " users=@" + users + "\n/as bob\n/click Approve\n/sandbox\n/onboard-customer status R-1\n"
	out, code := runConsole(t, script)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, s := range []string{
		"⛔ nothing was submitted: 1 row of 5 rows cannot be imported (fix them, or add valid-only=yes to import the others); by reason: email 1",
		`• customers line 4: IM-003: email: "not-an-email" is not an email address`,
		"📨 R-1 submitted: import of 5 customers with 3 users waits for approval in #approvals.",
		"✅ R-2 users IM-001: 2/2 provisioned",
		"sandbox: customers=5 subscribers=3 creates=5 early_retries=0",
		"Customers of R-1 (5):",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q", s)
		}
	}
	run, _, _ := strings.Cut(out, "> /onboard-customer status R-1")
	lines := outcomeLineRE.FindAllString(run, -1)
	if n := len(lines); n == 0 || lines[n-1] != "✅ R-1 import: 5/5 customers provisioned" {
		t.Fatalf("the import's outcome is not the last line: %q\n%s", lines, out)
	}
	if n := len(regexp.MustCompile(`(?m)^✅ R-\d+ IM-00\d provisioned \(org [^)]+\)$`).FindAllString(run, -1)); n != 5 {
		t.Errorf("%d customers provisioned, want 5:\n%s", n, out)
	}
}

// A bare import opens the import form; its CSV uploads (in the console,
// local paths) make the same import as the command.
func TestConsoleImportForm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	customers, users := filepath.Join(dir, "customers.csv"), filepath.Join(dir, "users.csv")
	for path, content := range map[string]string{customers: importCustomers, users: importUsers} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, code := runConsole(t, "/onboard-customer import\n/submit rows_file=@"+customers+" users_file=@"+users+"\n/as bob\n/click Approve\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, s := range []string{"── form: Import customers ──", "📨 R-1 submitted: import of 5 customers with 3 users waits for approval", "✅ R-1 import: 5/5 customers provisioned"} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q:\n%s", s, out)
		}
	}
}

// A customer of an import that fails makes the import ⚠️ with its reason;
// `retry` of the import names the customers to retry instead of running
// the import again.
func TestConsoleImportWithAFailedCustomer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	customers := filepath.Join(dir, "customers.csv")
	if err := os.WriteFile(customers, []byte(importCustomers), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runConsole(t, "/onboard-customer import rows=@"+customers+"\n/as bob\n/click Approve\n/as alice\n/onboard-customer retry R-1\n",
		"SANDBOX_PROVISION_FAIL", "Gamma")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, re := range []string{
		`(?m)^⚠️ R-1 import: 4/5 customers provisioned, 1 failed$`,
		`(?m)^IM-003 \(R-\d+\): failed .*code 400130`,
		"⛔ R-1: an import is not run again; each of its customers is a request of its own. Retry those that failed: `retry R-\\d+` \\(IM-003\\)",
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("missing %s:\n%s", re, out)
		}
	}
}
