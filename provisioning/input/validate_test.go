package input

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// wantFieldError checks that err is a FieldError for key whose Error()
// contains every part of want.
func wantFieldError(t *testing.T, err error, key string, want ...string) {
	t.Helper()
	var fe FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a FieldError", err)
	}
	if fe.Key != key {
		t.Errorf("key = %q, want %q (%v)", fe.Key, key, err)
	}
	for _, w := range want {
		if !strings.Contains(fe.Error(), w) {
			t.Errorf("%q does not contain %q", fe.Error(), w)
		}
	}
}

// withChanges applies a test case's changes to valid args: "" deletes a key.
func withChanges(args, change map[string]string) map[string]string {
	for k, v := range change {
		if v == "" {
			delete(args, k)
		} else {
			args[k] = v
		}
	}
	return args
}

func TestFieldErrors(t *testing.T) {
	t.Parallel()
	var es FieldErrors
	if es.Err() != nil {
		t.Fatal("empty FieldErrors must give a nil error")
	}
	es.Add("email", `"x" is not an email address`)
	es.Addf("country", "%q is bad", "XX")
	es.Append("zip", nil)
	es.Append("zip", FieldError{"zip", "too long"})
	es.Append("misc", errors.New("plain"))
	want := "email: \"x\" is not an email address\ncountry: \"XX\" is bad\nzip: too long\nmisc: plain"
	if es.Err() == nil || es.Error() != want {
		t.Fatalf("Error() = %q, want %q", es.Error(), want)
	}
	if !es.Has("zip") || es.Has("city") {
		t.Error("Has is wrong")
	}
	if got := es.ByKey()["country"]; got != `"XX" is bad` {
		t.Errorf("ByKey = %q", got)
	}
	if got := (FieldError{"email", `"not-an-email" is not an email address`}).Error(); got != `email: "not-an-email" is not an email address` {
		t.Errorf("FieldError.Error() = %q", got)
	}
}

func TestValidators(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func() (string, error)
		want string   // normalised value when valid
		key  string   // error key when invalid
		msg  []string // error message parts
	}{
		{"email ok, domain lower-cased", func() (string, error) { return ValidateEmail("email", " It@Mueller.EXAMPLE ") }, "It@mueller.example", "", nil},
		{"email invalid", func() (string, error) { return ValidateEmail("email", "not-an-email") }, "", "email", []string{`email: "not-an-email" is not an email address`}},
		{"email display name", func() (string, error) { return ValidateEmail("email", "Anna <anna@x.example>") }, "", "email", []string{"not an email address"}},
		{"email no dot", func() (string, error) { return ValidateEmail("email", "anna@localhost") }, "", "email", []string{"not an email address"}},
		{"email empty", func() (string, error) { return ValidateEmail("email", "") }, "", "email", nil},
		{"country lower case", func() (string, error) { return ValidateCountry("country", "de", nil) }, "DE", "", nil},
		{"country unknown", func() (string, error) { return ValidateCountry("country", "XX", nil) }, "", "country", []string{`country: "XX" is not an ISO 3166 alpha-2 country code`}},
		{"country not supported", func() (string, error) { return ValidateCountry("country", "FR", []string{"DE", "AT"}) }, "", "country", []string{"FR (France) is not a supported country", "DE, AT"}},
		{"country supported", func() (string, error) { return ValidateCountry("country", "at", []string{"DE", "AT"}) }, "AT", "", nil},
		{"timezone ok", func() (string, error) { return ValidateTimezone("timezone", "Europe/Berlin") }, "Europe/Berlin", "", nil},
		{"timezone UTC", func() (string, error) { return ValidateTimezone("timezone", "UTC") }, "UTC", "", nil},
		{"timezone Mars", func() (string, error) { return ValidateTimezone("timezone", "Mars/Base") }, "", "timezone", []string{`timezone: "Mars/Base" is not an IANA time zone (e.g. Europe/Berlin)`}},
		{"timezone Local", func() (string, error) { return ValidateTimezone("timezone", "Local") }, "", "timezone", []string{"not an IANA time zone"}},
		{"timezone empty", func() (string, error) { return ValidateTimezone("timezone", "") }, "", "timezone", nil},
		{"external id ok", func() (string, error) { return ValidateExternalID("external-id", "MS-001") }, "MS-001", "", nil},
		{"external id R-5", func() (string, error) { return ValidateExternalID("external-id", "R-5") }, "", "external-id", []string{`external-id: "R-5" looks like a request id; use your own customer reference`}},
		{"external id r7", func() (string, error) { return ValidateExternalID("external-id", "r7") }, "", "external-id", []string{"looks like a request id"}},
		{"external id digits", func() (string, error) { return ValidateExternalID("external-id", "10042") }, "", "external-id", []string{`external-id: "10042" is all digits`}},
		{"external id too long", func() (string, error) { return ValidateExternalID("external-id", strings.Repeat("ü", 65)) }, "", "external-id", []string{"65 characters, at most 64"}},
		{"external id 64 multi-byte", func() (string, error) { return ValidateExternalID("external-id", strings.Repeat("ü", 64)) }, strings.Repeat("ü", 64), "", nil},
		{"external id control", func() (string, error) { return ValidateExternalID("external-id", "A\x01B") }, "", "external-id", []string{"control"}},
		{"language bare", func() (string, error) { return NormalizeLanguage("language", "DE") }, "de", "", nil},
		{"language underscore", func() (string, error) { return NormalizeLanguage("language", "de_DE") }, "de_DE", "", nil},
		{"language dash", func() (string, error) { return NormalizeLanguage("language", "de-DE") }, "de_DE", "", nil},
		{"language lower", func() (string, error) { return NormalizeLanguage("language", "de_de") }, "de_DE", "", nil},
		{"language unknown", func() (string, error) { return NormalizeLanguage("language", "xx") }, "", "language", []string{`"xx" is not a language Webex supports`}},
		{"language bad region", func() (string, error) { return NormalizeLanguage("language", "de_XX") }, "", "language", []string{`"XX" is not an ISO 3166`}},
		{"phone E.164", func() (string, error) { return NormalizePhone("phone", "+49 30 555001", "") }, "+4930555001", "", nil},
		{"phone national", func() (string, error) { return NormalizePhone("phone", "030 555001", "DE") }, "+4930555001", "", nil},
		{"phone auto", func() (string, error) { return NormalizePhone("phone", "AUTO", "") }, "auto", "", nil},
		{"phone invalid", func() (string, error) { return NormalizePhone("row 3: phone", "+49 123", "DE") }, "", "row 3: phone", []string{`row 3: phone: "+49 123" is not a valid phone number`}},
		{"phone national without country", func() (string, error) { return NormalizePhone("phone", "030 555001", "") }, "", "phone", []string{"E.164"}},
		{"elin ok", func() (string, error) { return ValidateELIN("elin", "DE12345", "DE") }, "DE12345", "", nil},
		{"elin as Cisco's example", func() (string, error) { return ValidateELIN("elin", "Richardson-TX", "FR") }, "Richardson-TX", "", nil},
		{"elin bad", func() (string, error) { return ValidateELIN("elin", "12 34", "DE") }, "", "elin", []string{"letters, digits and -"}},
		{"elin long", func() (string, error) { return ValidateELIN("elin", strings.Repeat("1", 33), "DE") }, "", "elin", []string{"33 characters, at most 32"}},
		{"elin outside BE, DE, FR", func() (string, error) { return ValidateELIN("elin", "AT1", "AT") }, "", "elin", []string{"only for a location in Belgium (BE), Germany (DE) or France (FR)", "Austria (AT)"}},
		{"template name ok", func() (string, error) { return ValidateTemplateName("name", "de-standard") }, "de-standard", "", nil},
		{"template name upper", func() (string, error) { return ValidateTemplateName("name", "DE") }, "", "name", []string{"lower-case letters, digits and -", "at most 40"}},
		{"template name long", func() (string, error) { return ValidateTemplateName("name", strings.Repeat("a", 41)) }, "", "name", nil},
		{"template name leading dash", func() (string, error) { return ValidateTemplateName("name", "-x") }, "", "name", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.fn()
			if tt.key == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			wantFieldError(t, err, tt.key, tt.msg...)
		})
	}
}

func TestValidateYesAndOnOff(t *testing.T) {
	t.Parallel()
	if err := ValidateYes("supported-location", "YES"); err != nil {
		t.Fatal(err)
	}
	wantFieldError(t, ValidateYes("supported-location", "no"), "supported-location", "supported location for Webex Calling")
	for v, want := range map[string]bool{"on": true, "off": false, "Yes": true, "false": false} {
		if got, err := ValidateOnOff("k", v); err != nil || got != want {
			t.Errorf("ValidateOnOff(%q) = %v, %v", v, got, err)
		}
	}
	_, err := ValidateOnOff("admin-invites", "maybe")
	wantFieldError(t, err, "admin-invites", `"maybe" is not on or off`)
}

func TestParsePackages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
		msgs []string
	}{
		{in: "webex_calling", want: []string{"webex_calling"}},
		{in: " Webex_Calling , cisco_calling_plan,attendant_console", want: []string{"webex_calling", "cisco_calling_plan", "attendant_console"}},
		{in: "webex_golf", msgs: []string{`package: "webex_golf" is not a Webex package (expected one of common_area_calling,`}},
		{in: "webex_calling,webex_calling", msgs: []string{"webex_calling is listed twice"}},
		{in: "webex_meetings,cisco_calling_plan", msgs: []string{"cisco_calling_plan is an add-on and needs one of common_area_calling, webex_calling"}},
		{in: "webex_voice,attendant_console", msgs: []string{"attendant_console is an add-on and needs one of webex_calling, webex_suite, cx_essentials"}},
		{in: "common_area_calling,webex_calling", msgs: []string{"common_area_calling cannot be the primary"}},
		{in: " , ", msgs: []string{"names no package"}},
	}
	for _, tt := range tests {
		got, errs := ParsePackages("package", tt.in)
		if tt.msgs == nil {
			if errs != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParsePackages(%q) = %v, %v; want %v", tt.in, got, errs, tt.want)
			}
			continue
		}
		if got != nil || len(errs) == 0 {
			t.Errorf("ParsePackages(%q) = %v, %v; want errors", tt.in, got, errs)
			continue
		}
		for _, m := range tt.msgs {
			if !strings.Contains(errs.Error(), m) {
				t.Errorf("ParsePackages(%q): %q does not contain %q", tt.in, errs.Error(), m)
			}
		}
	}
	for p, want := range map[string]bool{"webex_calling": true, "webex_meetings": false, "cisco_calling_plan": false, "attendant_console": true, "": false} {
		if request.CallingSubscriberPackage(p) != want {
			t.Errorf("CallingSubscriberPackage(%q) != %v", p, want)
		}
	}
}

// The zones ValidateTimezone remembers change nothing it answers: a name
// accepted once is accepted again, and a wrong name stays wrong after valid
// ones (and is not remembered).
func TestValidateTimezoneRemembersOnlyValidZones(t *testing.T) {
	for range 2 {
		if got, err := ValidateTimezone("timezone", " Europe/Berlin "); err != nil || got != "Europe/Berlin" {
			t.Fatalf("Europe/Berlin: %q, %v", got, err)
		}
		for _, bad := range []string{"Europe/Atlantis", "Local", "", "Europe/Berlin x"} {
			if _, err := ValidateTimezone("timezone", bad); err == nil {
				t.Fatalf("%q accepted", bad)
			}
			if _, ok := knownZones.Load(bad); ok {
				t.Fatalf("%q remembered", bad)
			}
		}
	}
}
