package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// msCallingCustomer is a customer with calling and meetings and ten ordered
// calling seats.
const msCallingCustomer = `/onboard-customer new name="Müller & Söhne GmbH" email=it@mueller.example external-id=MS-001 country=DE package=webex_calling,webex_meetings limit.webex_calling=10 provisioning-id=PROV-DE-1 supported-location=yes address="Hauptstraße 1" city=Berlin zip=10115 timezone=Europe/Berlin language=de_DE
/as bob
/click Approve
/as alice
`

// msSetUpCustomer is msCallingCustomer set up as Webex wants it before
// users get numbers: a new customer's HQ has no PSTN connection and no
// numbers, so the PSTN connection comes first, then a block of
// numbers.
const msSetUpCustomer = msCallingCustomer + `/onboard-customer pstn MS-001 connection="Sandbox CCP"
/as bob
/click Approve
/as alice
/onboard-customer numbers MS-001 add=+4930555001-+4930555010
/as bob
/click Approve
/as alice
`

// The users walk-through of docs/commands.md: a calling user with phone=auto, a meetings
// user and the admin with the primary package, approved by someone else.
const usersScript = msSetUpCustomer + `/onboard-customer users MS-001 rows="Anna,Muster,anna@mueller.example,webex_calling,auto;Ben,Beispiel,ben@mueller.example,webex_meetings;IT,Admin,it@mueller.example,webex_calling,,1001"
/as carol
/click Approve
/sandbox
`

func TestConsoleUsersBatch(t *testing.T) {
	t.Parallel()
	out, code := runConsole(t, usersScript)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{`(?m)^✅ R-2 pstn MS-001 HQ: Sandbox CCP$`, `(?m)^✅ R-3 numbers MS-001 HQ: 10 numbers at HQ \(10 added, 10 activated\)$`,
		`(?m)^✅ R-4 users MS-001: 3/3 provisioned$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Fatalf("no line %s:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "subscribers=3") {
		t.Fatalf("the sandbox does not hold 3 subscribers:\n%s", out)
	}
}

func TestConsoleUsersRowErrors(t *testing.T) {
	t.Parallel()
	rows := []string{
		"IT,Admin,it@mueller.example,webex_meetings",        // 1: the admin without the primary package
		"Cara,Plan,cara@mueller.example,cisco_calling_plan", // 2: not a user package
		"Dora,Bad,dora@mueller.example,webex_calling,+49 123",
		"Emil,Nophone,emil@mueller.example,webex_calling", // 4: calling without phone or extension
		"Fritz,One,fritz@mueller.example,webex_meetings",
		"Fritz,Two,fritz@mueller.example,webex_meetings", // 6: duplicate email
		"Gina,Suite,gina@mueller.example,webex_suite",    // 7: a package the customer lacks
	}
	for i := range 11 { // 11 calling rows with extensions: one more than limit.webex_calling
		rows = append(rows, "Seat,"+itoa(int64(i))+",seat"+itoa(int64(i))+"@mueller.example,webex_calling,,"+itoa(int64(2000+i)))
	}
	out, _ := runConsole(t, msCallingCustomer+`/onboard-customer users MS-001 rows="`+strings.Join(rows, ";")+`"`+"\n")
	for _, want := range []string{
		`row 1: package: .*primary package`,
		`row 2: package: .*cisco_calling_plan`,
		`row 3: phone: "\+49 123" is not a valid phone number`,
		`row 4: phone: .*or an extension`,
		`row 6: email: .*row 5`,
		`row 7: package: .*webex_suite`,
		`webex_calling.*10`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("no error matching %s", want)
		}
	}
	if strings.Contains(out, "R-2 submitted") {
		t.Error("an invalid batch was submitted")
	}
	if t.Failed() {
		t.Log(out)
	}
}

// The users form takes a CSV file (Slack's file input; in the console a
// local path) instead of pasted rows.
func TestConsoleUsersFormWithFile(t *testing.T) {
	t.Parallel()
	csv := t.TempDir() + "/users.csv"
	content := "\ufeffFirst Name,Last Name,User ID/Email (Required),Phone Number\nAnna,Muster,anna@mueller.example,auto\nBen,Beispiel,ben@mueller.example,auto\n"
	if err := os.WriteFile(csv, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runConsole(t, msSetUpCustomer+"/onboard-customer users\n/submit customer=MS-001 rows_file=@"+csv+"\n/as carol\n/click Approve\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^✅ R-4 users MS-001: 2/2 provisioned$`).MatchString(out) {
		t.Fatalf("the uploaded batch was not provisioned:\n%s", out)
	}
	// Both a pasted batch and a file: refused inline, nothing submitted.
	out, _ = runConsole(t, msCallingCustomer+"/onboard-customer users\n/submit customer=MS-001 rows_file=@"+csv+` rows="Cara,X,cara@mueller.example,webex_meetings"`+"\n")
	if !strings.Contains(out, "either in the field above or as a file") || strings.Contains(out, "R-2 submitted: users") {
		t.Fatalf("a pasted batch and a file together were not refused:\n%s", out)
	}
}

// Users with a free Webex account (sandbox --migration): the precheck warns
// on the summary, the batch ends waiting for consent, and the resend button
// calls Webex's consent endpoint.
func TestConsoleUsersConsent(t *testing.T) {
	t.Parallel()
	script := strings.Replace(usersScript, "/sandbox\n", "/click Resend consent\n/sandbox\n", 1)
	out, code := runConsole(t, script, "SANDBOX_MIGRATION", "^ben@")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		`Precheck: ✅ passed — 1 user already has a Webex account: consent needed`,
		`(?m)^⏳ R-4 users MS-001: 2/3 provisioned, 1 waiting for consent$`,
		`📧 R-4: consent email sent again to 1 user\.`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestConsoleFollowACustomer: `status CUSTOMER` shows the customer and
// every request on it with its state; a batch's status shows the number
// each phone=auto row got; `numbers CUSTOMER` pages (page=N, More).
func TestConsoleFollowACustomer(t *testing.T) {
	t.Parallel()
	script := strings.Replace(msSetUpCustomer, "add=+4930555001-+4930555010", "add=+4930555001-+4930555099", 1) +
		"/onboard-customer numbers MS-001\n/click More\n/onboard-customer numbers MS-001 page=3\n" +
		`/onboard-customer users MS-001 rows="Anna,Muster,anna@mueller.example,webex_calling,auto"` + "\n/as carol\n/click Approve\n" +
		"/onboard-customer status MS-001\n/onboard-customer status R-4\n"
	out, code := runConsole(t, script)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		`(?m)^99 numbers available at MS-001 HQ \(page 1 of 2\):\n\+4930555001, `,
		"(?m)^Next: `numbers MS-001 location=HQ page=2`$",
		`(?m)^99 numbers available at MS-001 HQ \(page 2 of 2\):\n\+4930555051, `,
		`(?m)^⛔ page 3: MS-001 at HQ has 99 numbers available, on 2 pages\.$`,
		`(?m)^Requests on MS-001 \(3\):\n✅ R-4 users MS-001: 1/1 provisioned\n✅ R-3 numbers MS-001 HQ: 99 numbers at HQ \(99 added, 99 activated\)\n✅ R-2 pstn MS-001 HQ: Sandbox CCP$`,
		`(?m)^✅ R-4 users MS-001: 1/1 provisioned\nrow 1 \(anna@mueller\.example\): phone=auto got \+4930555001$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestConsoleCorrections: corrections that cannot work or would change
// nothing are refused by their precheck, naming why; a meetings user moves
// to a calling package with the extension Webex needs for it.
func TestConsoleCorrections(t *testing.T) {
	t.Parallel()
	script := strings.Replace(msCallingCustomer, "limit.webex_calling=10 ", "", 1) +
		`/onboard-customer users MS-001 rows="Ben,Beispiel,ben@mueller.example,webex_meetings;IT,Admin,it@mueller.example,webex_calling,,1001"` + "\n/as carol\n/click Approve\n/as alice\n" +
		"/onboard-customer change MS-001 user=ben@mueller.example package=webex_calling\n" +
		"/onboard-customer change MS-001 user=ben@mueller.example package=webex_meetings\n" +
		"/onboard-customer change MS-001 user=it@mueller.example package=webex_calling extension=1003\n" +
		"/onboard-customer remove MS-001 user=nobody@mueller.example\n" +
		`/onboard-customer location MS-001 name=HQ address="Hauptstraße 1" city=Berlin state=BE zip=10115 timezone=Europe/Berlin language=de_DE` + "\n" +
		"/onboard-customer change MS-001 user=ben@mueller.example package=webex_calling extension=1002\n/as carol\n/click Approve\n/sandbox\n"
	out, code := runConsole(t, script)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		`Precheck: ❌ failed: ben@mueller\.example has webex_meetings: a move to webex_calling needs phone=\+…\|auto or extension=N`,
		`Precheck: ❌ failed: ben@mueller\.example already has webex_meetings: nothing would change`,
		`Precheck: ❌ failed: it@mueller\.example already has webex_calling`,
		`Precheck: ❌ failed: nobody@mueller\.example is not a user of MS-001: nothing to remove`,
		`Precheck: ❌ failed: a location named HQ already exists at MS-001`,
		`(?m)^✅ R-8 change MS-001 ben@mueller\.example: webex_calling$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}
