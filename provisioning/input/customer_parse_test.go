package input

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// validCustomerArgs is the README's first example after the grammar has unquoted
// and unescaped it.
func validCustomerArgs() map[string]string {
	return map[string]string{
		"name": "Müller & Söhne GmbH", "email": "it@mueller.example", "external-id": "MS-001",
		"country": "DE", "package": "webex_calling", "provisioning-id": "PROV-DE-1",
		"supported-location": "yes", "address": "Hauptstraße 1", "city": "Berlin", "zip": "10115",
		"timezone": "Europe/Berlin", "language": "de_DE",
	}
}

func deTemplate(adminInvites bool) *request.TemplateDefaults {
	return &request.TemplateDefaults{
		Name: "de-standard", Version: 2, ProvisioningID: "PROV-DE-9", Country: "DE",
		Language: "de_DE", Timezone: "Europe/Berlin", Packages: []string{"webex_suite", "webex_meetings"},
		AdminInvites: adminInvites,
	}
}

func TestParseCustomerValid(t *testing.T) {
	t.Parallel()
	spec, missing, errs := ParseCustomer(validCustomerArgs(), CustomerOptions{SubPartnerOrgID: "SUB-1"})
	if spec == nil || missing != nil || errs != nil {
		t.Fatalf("ParseCustomer = %v, %v, %v", spec, missing, errs)
	}
	want := &request.CustomerSpec{
		Name: "Müller & Söhne GmbH", Email: "it@mueller.example", ExternalID: "MS-001", Country: "DE",
		Packages: []string{"webex_calling"}, ProvisioningID: "PROV-DE-1",
		Address:  request.Address{Line1: "Hauptstraße 1", City: "Berlin", Zip: "10115", Country: "DE"},
		Timezone: "Europe/Berlin", Language: "de_DE", LocationName: "HQ", SubPartnerOrgID: "SUB-1",
	}
	if !reflect.DeepEqual(spec, want) {
		t.Fatalf("spec = %+v\nwant   %+v", spec, want)
	}
	if got := spec.LocationLanguage(); got != "de_de" {
		t.Errorf("LocationLanguage = %q", got)
	}
}

func TestParseCustomerDefaults(t *testing.T) {
	t.Parallel()
	args := validCustomerArgs()
	delete(args, "timezone")
	delete(args, "language")
	args["country"] = "at"
	args["package"] = "webex_calling,webex_meetings"
	args["limit.webex_calling"] = "20"
	args["limit.webex_meetings"] = "5"
	args["order"] = "TICKET-77"
	args["location-name"] = "Wien Zentrale"
	spec, missing, errs := ParseCustomer(args, CustomerOptions{})
	if spec == nil {
		t.Fatalf("missing %v, errs %v", missing, errs)
	}
	if spec.ELIN != "" {
		t.Errorf("elin %q in AT", spec.ELIN)
	}
	if spec.Country != "AT" || spec.Address.Country != "AT" || spec.Timezone != "Europe/Vienna" || spec.Language != "de_AT" {
		t.Errorf("defaults: %+v", spec)
	}
	if !reflect.DeepEqual(spec.Limits, map[string]int{"webex_calling": 20, "webex_meetings": 5}) ||
		spec.Order != "TICKET-77" || spec.LocationName != "Wien Zentrale" {
		t.Errorf("optional keys: %+v", spec)
	}
}

func TestParseCustomerTemplate(t *testing.T) {
	t.Parallel()
	base := func() map[string]string {
		a := validCustomerArgs()
		for _, k := range []string{"provisioning-id", "country", "package", "language", "timezone"} {
			delete(a, k)
		}
		a["template"] = "de-standard"
		return a
	}
	spec, missing, errs := ParseCustomer(base(), CustomerOptions{Template: deTemplate(false)})
	if spec == nil {
		t.Fatalf("missing %v, errs %v", missing, errs)
	}
	if spec.Template != "de-standard" || spec.TemplateVersion != 2 || spec.ProvisioningID != "PROV-DE-9" || spec.Country != "DE" ||
		!slices.Equal(spec.Packages, []string{"webex_suite", "webex_meetings"}) || spec.Language != "de_DE" || spec.Timezone != "Europe/Berlin" {
		t.Errorf("template defaults not applied: %+v", spec)
	}

	// Explicit keys win; a different country does not inherit the template's zone.
	a := base()
	a["package"] = "webex_calling"
	a["country"] = "CH"
	a["language"] = "fr"
	spec, _, errs = ParseCustomer(a, CustomerOptions{Template: deTemplate(false)})
	if spec == nil || !slices.Equal(spec.Packages, []string{"webex_calling"}) || spec.Country != "CH" || spec.Language != "fr" || spec.Timezone != "Europe/Zurich" {
		t.Errorf("explicit keys: %+v %v", spec, errs)
	}

	// The same provisioning id as the template's is fine.
	a = base()
	a["provisioning-id"] = "PROV-DE-9"
	if spec, _, errs := ParseCustomer(a, CustomerOptions{Template: deTemplate(false)}); spec == nil {
		t.Errorf("same provisioning id refused: %v", errs)
	}
	// org-id needs admin invites on.
	a = base()
	a["org-id"] = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi81MmNm"
	if spec, _, errs := ParseCustomer(a, CustomerOptions{Template: deTemplate(true)}); spec == nil || spec.OrgID == "" {
		t.Errorf("org-id with admin invites on refused: %v", errs)
	}
}

func TestParseCustomerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change map[string]string // "" deletes the key
		opts   CustomerOptions
		key    string
		msg    string
	}{
		{"email", map[string]string{"email": "not-an-email"}, CustomerOptions{}, "email", `email: "not-an-email" is not an email address`},
		{"country", map[string]string{"country": "XX"}, CustomerOptions{}, "country", `country: "XX" is not an ISO 3166 alpha-2 country code`},
		{"unsupported country", map[string]string{"country": "FR", "timezone": ""}, CustomerOptions{SupportedCountries: []string{"DE"}}, "country", "not a supported country"},
		{"timezone", map[string]string{"timezone": "Mars/Base"}, CustomerOptions{}, "timezone", `timezone: "Mars/Base" is not an IANA time zone (e.g. Europe/Berlin)`},
		{"package", map[string]string{"package": "webex_golf"}, CustomerOptions{}, "package", `package: "webex_golf" is not a Webex package (expected one of`},
		{"address 51 code points", map[string]string{"address": strings.Repeat("ü", 51)}, CustomerOptions{}, "address", "address: 51 characters, at most 50"},
		{"address2 too long", map[string]string{"address2": strings.Repeat("ß", 51)}, CustomerOptions{}, "address2", "51 characters, at most 50"},
		{"external-id request id", map[string]string{"external-id": "R-5"}, CustomerOptions{}, "external-id", `external-id: "R-5" looks like a request id; use your own customer reference`},
		{"external-id digits", map[string]string{"external-id": "10042"}, CustomerOptions{}, "external-id", `external-id: "10042" is all digits`},
		{"name percent", map[string]string{"name": "100% Telco"}, CustomerOptions{}, "name", "contains %"},
		{"name too long", map[string]string{"name": strings.Repeat("ä", 256)}, CustomerOptions{}, "name", "256 characters, at most 255"},
		{"supported-location no", map[string]string{"supported-location": "no"}, CustomerOptions{}, "supported-location", "supported location for Webex Calling"},
		{"unknown key", map[string]string{"colour": "blue"}, CustomerOptions{}, "colour", "colour: unknown key (expected one of name, email, external-id,"},
		{"language", map[string]string{"language": "klingon"}, CustomerOptions{}, "language", "not a language Webex supports"},
		{"location-name too long", map[string]string{"location-name": strings.Repeat("ö", 81)}, CustomerOptions{}, "location-name", "81 characters, at most 80"},
		{"elin", map[string]string{"elin": "12 34"}, CustomerOptions{}, "elin", "letters, digits and -"},
		{"elin outside BE, DE, FR", map[string]string{"country": "AT", "elin": "AT1234"}, CustomerOptions{}, "elin", "only for a location in Belgium (BE), Germany (DE) or France (FR)"},
		{"limit not a package of the customer", map[string]string{"limit.webex_suite": "5"}, CustomerOptions{}, "limit.webex_suite", "not one of the customer's packages (webex_calling)"},
		{"limit unknown package", map[string]string{"limit.webex_golf": "5"}, CustomerOptions{}, "limit.webex_golf", "not a Webex package"},
		{"limit zero", map[string]string{"limit.webex_calling": "0"}, CustomerOptions{}, "limit.webex_calling", "whole number from 1 to 100000"},
		{"limit too big", map[string]string{"limit.webex_calling": "100001"}, CustomerOptions{}, "limit.webex_calling", "whole number from 1 to 100000"},
		{"limit signed", map[string]string{"limit.webex_calling": "+5"}, CustomerOptions{}, "limit.webex_calling", "whole number"},
		{"unknown template", map[string]string{"template": "fr-basic", "provisioning-id": ""}, CustomerOptions{Template: deTemplate(false)}, "template", `"fr-basic" is not an active template`},
		{"template and other provisioning id", map[string]string{"template": "de-standard"}, CustomerOptions{Template: deTemplate(false)}, "provisioning-id", `"PROV-DE-1" differs from template de-standard v2's provisioning id "PROV-DE-9"`},
		{"org-id with admin invites off", map[string]string{"template": "de-standard", "provisioning-id": "", "org-id": "ORG1"}, CustomerOptions{Template: deTemplate(false)}, "org-id", `"allow admin-invite emails" on`},
		{"provisioning-id with space", map[string]string{"provisioning-id": "PROV 1"}, CustomerOptions{}, "provisioning-id", "space"},
		{"control character", map[string]string{"city": "Ber\nlin"}, CustomerOptions{}, "city", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := withChanges(validCustomerArgs(), tt.change)
			spec, _, errs := ParseCustomer(args, tt.opts)
			if spec != nil {
				t.Fatalf("spec returned despite %s", tt.name)
			}
			if !errs.Has(tt.key) {
				t.Fatalf("no error for key %q: %v", tt.key, errs)
			}
			if !strings.Contains(errs.Error(), tt.msg) {
				t.Errorf("errors %q do not contain %q", errs.Error(), tt.msg)
			}
		})
	}
}

func TestParseCustomerMissing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		drop    []string
		set     map[string]string
		missing []string
	}{
		{name: "email", drop: []string{"email"}, missing: []string{"email"}},
		{name: "supported-location", drop: []string{"supported-location"}, missing: []string{"supported-location"}},
		{name: "empty value counts as missing", set: map[string]string{"email": "  "}, missing: []string{"email"}},
		{name: "template or provisioning-id", drop: []string{"provisioning-id"}, missing: []string{"template"}},
		{name: "multi-zone country needs timezone", drop: []string{"timezone"}, set: map[string]string{"country": "US", "language": "en_US"}, missing: []string{"timezone"}},
		{name: "everything", drop: []string{"name", "email", "external-id", "country", "package", "provisioning-id", "supported-location", "address", "city", "timezone", "language", "zip"},
			missing: []string{"name", "email", "external-id", "country", "package", "template", "supported-location", "address", "city"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := validCustomerArgs()
			for _, k := range tt.drop {
				delete(args, k)
			}
			for k, v := range tt.set {
				args[k] = v
			}
			spec, missing, errs := ParseCustomer(args, CustomerOptions{})
			if spec != nil || errs != nil || !slices.Equal(missing, tt.missing) {
				t.Fatalf("ParseCustomer = %v, missing %v, errs %v; want missing %v", spec, missing, errs, tt.missing)
			}
			for _, k := range missing {
				if !slices.Contains(CustomerKeys, k) {
					t.Errorf("missing key %q is not in CustomerKeys", k)
				}
			}
		})
	}
}

func FuzzParseCustomer(f *testing.F) {
	f.Add("name", "Müller & Söhne GmbH", "package", "webex_calling,cisco_calling_plan", "limit.webex_calling", "20")
	f.Add("country", "us", "timezone", "Local", "language", "de-XX")
	f.Add("email", "\"a b\"@x.example", "external-id", "R-1", "org-id", "\x00")
	f.Add("template", "de-standard", "provisioning-id", "PROV-DE-9", "limit.", "-1")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		for _, tmpl := range []*request.TemplateDefaults{nil, deTemplate(false)} {
			args := validCustomerArgs()
			args[k1], args[k2], args[k3] = v1, v2, v3
			spec, missing, errs := ParseCustomer(args, CustomerOptions{Template: tmpl, SupportedCountries: []string{"DE", "US"}})
			if spec != nil && (missing != nil || errs != nil) {
				t.Fatalf("half-valid result: %+v %v %v", spec, missing, errs)
			}
			if spec == nil && missing == nil && errs == nil {
				t.Fatal("nil spec without a reason")
			}
			if spec != nil && (spec.Name == "" || len(spec.Packages) == 0 || spec.ProvisioningID == "" || spec.Address.Country != spec.Country) {
				t.Fatalf("incomplete spec: %+v", spec)
			}
		}
	})
}
