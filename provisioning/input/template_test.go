package input

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

func validTemplateArgs() map[string]string {
	return map[string]string{
		"name": "de-standard", "country": "DE", "language": "de_DE", "package": "webex_calling,webex_meetings",
		"sp-admin": "ops@partner.example", "subscription": "SUB-4711",
	}
}

func TestParseTemplateValid(t *testing.T) {
	t.Parallel()
	spec, missing, errs := ParseTemplate(validTemplateArgs(), TemplateOptions{})
	if spec == nil {
		t.Fatalf("missing %v, errs %v", missing, errs)
	}
	want := &request.TemplateSpec{
		Name: "de-standard", Country: "DE", Language: "de_DE", Packages: []string{"webex_calling", "webex_meetings"},
		Auth: "webex", SPAdmin: "ops@partner.example", Subscription: "SUB-4711", EmailLanguage: "de_DE",
		WebexCalls: true, Timezone: "Europe/Berlin", Version: 1,
	}
	if !reflect.DeepEqual(spec, want) {
		t.Fatalf("spec = %+v\nwant   %+v", spec, want)
	}
	if w := spec.Warnings(); len(w) != 0 {
		t.Errorf("warnings for a plain template: %v", w)
	}
	d := spec.Defaults()
	if d.Name != "de-standard" || d.Version != 1 || d.Country != "DE" || d.Timezone != "Europe/Berlin" || !slices.Equal(d.Packages, spec.Packages) || d.AdminInvites {
		t.Errorf("Defaults = %+v", d)
	}
}

func TestParseTemplateOptions(t *testing.T) {
	t.Parallel()
	args := validTemplateArgs()
	args["auth"] = "SAML"
	args["idp-entity-id"] = "https://idp.partner.example/saml"
	args["email-language"] = "en-GB"
	args["brand"] = "Partner Cloud"
	args["admin-invites"] = "on"
	args["webex-calls"] = "off"
	args["pstn-provider"] = "Acme PSTN"
	args["timezone"] = "Europe/Berlin"
	args["provisioning-id"] = "PROV-DE-1"
	spec, missing, errs := ParseTemplate(args, TemplateOptions{Version: 3})
	if spec == nil {
		t.Fatalf("missing %v, errs %v", missing, errs)
	}
	if spec.Auth != "saml" || spec.EmailLanguage != "en_GB" || !spec.AdminInvites || spec.WebexCalls || spec.Version != 3 || spec.ProvisioningID != "PROV-DE-1" {
		t.Errorf("spec = %+v", spec)
	}
	w := strings.Join(spec.Warnings(), "\n")
	if !strings.Contains(w, "Cloud Connected PSTN provider (Acme PSTN)") || !strings.Contains(w, "advises against") {
		t.Errorf("warnings = %q", w)
	}
}

func TestParseTemplateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  map[string]string
		key     string
		msg     string
		missing []string
	}{
		{name: "bad name", change: map[string]string{"name": "DE Standard"}, key: "name", msg: "lower-case letters, digits and -"},
		{name: "bad country", change: map[string]string{"country": "XX"}, key: "country", msg: "ISO 3166"},
		{name: "bad package", change: map[string]string{"package": "webex_golf"}, key: "package", msg: "not a Webex package"},
		{name: "bad auth", change: map[string]string{"auth": "ldap"}, key: "auth", msg: "expected webex, saml or oidc"},
		{name: "idp with webex auth", change: map[string]string{"idp-entity-id": "x"}, key: "idp-entity-id", msg: "only used with auth=saml"},
		{name: "sp-admin not email", change: map[string]string{"sp-admin": "ops"}, key: "sp-admin", msg: "not an email address"},
		{name: "on/off", change: map[string]string{"admin-invites": "sometimes"}, key: "admin-invites", msg: "not on or off"},
		{name: "unknown key", change: map[string]string{"colour": "x"}, key: "colour", msg: "unknown key (expected one of name, country"},
		{name: "timezone", change: map[string]string{"timezone": "Mars/Base"}, key: "timezone", msg: "not an IANA time zone"},
		{name: "oidc needs idp", change: map[string]string{"auth": "oidc"}, missing: []string{"idp-entity-id"}},
		{name: "required", change: map[string]string{"sp-admin": "", "subscription": ""}, missing: []string{"sp-admin", "subscription"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := withChanges(validTemplateArgs(), tt.change)
			spec, missing, errs := ParseTemplate(args, TemplateOptions{})
			if spec != nil {
				t.Fatal("spec returned")
			}
			if !slices.Equal(missing, tt.missing) {
				t.Errorf("missing = %v, want %v", missing, tt.missing)
			}
			if tt.key != "" && (!errs.Has(tt.key) || !strings.Contains(errs.Error(), tt.msg)) {
				t.Errorf("errors %q lack %s: %q", errs.Error(), tt.key, tt.msg)
			}
		})
	}
}
