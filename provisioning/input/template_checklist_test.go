package input

import (
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// checklistSkeleton is Partner Hub's order: every checklist has these
// fragments, one step each, in this order.
var checklistSkeleton = []string{
	"Customers → Onboarding templates and click Create template",
	"Webex for Wholesale and click Next",
	"Primary settings → Template name: ",
	"Primary settings → Service provider admin: ",
	"Primary settings → Country or region: ",
	"Primary settings → Default email language: ",
	"Primary settings → Wholesale subscription: ",
	"Wholesale calling → Cloud Connected PSTN provider: ",
	"Authentication → ",
	"Common settings → Brand name for emails: ",
	"Common settings → Allow admin-invite emails when attaching to existing orgs: ",
	"Call settings → Webex-to-Webex calls: ",
	"then click Submit",
	"copy its Provisioning ID",
}

func TestChecklist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change map[string]string
		edit   func(*request.TemplateSpec) // for specs ParseTemplate cannot make
		want   []string                    // fragments, each in the step of the same index as its skeleton entry or later, in order
		absent []string
	}{
		{
			name: "webex auth, defaults",
			want: []string{
				"Template name: `de-standard`.", "Service provider admin: `ops@partner.example`.", "Germany (`DE`)",
				"Default email language: German (Germany) (`de_DE`).", "Wholesale subscription: `SUB-4711`.",
				"provider: leave it empty, then click Next. (A provider is advised against here: customers created with one get integrated PSTN, whose numbers come from the provider and cannot be managed from the bot.)",
				"Webex authentication (the default), then click Next.", "Brand name for emails: leave it empty",
				"existing orgs: `off`.", "Webex-to-Webex calls: `on`.", "both Wholesale and BroadWorks",
				"if it is not there, go on: there is nothing to set.",
				"Run `/onboard-customer template activate de-standard provisioning-id=<the Provisioning ID>`",
			},
			absent: []string{"choose `", "IdP entity ID", "Check that it is", "tell the approvers"},
		},
		{
			name: "saml, every option",
			change: map[string]string{
				"auth": "saml", "idp-entity-id": "https://idp.partner.example/saml", "email-language": "en-GB",
				"brand": "Partner Cloud", "admin-invites": "on", "webex-calls": "off", "pstn-provider": "Acme PSTN",
				"provisioning-id": "PROV-DE-1",
			},
			want: []string{
				"Default email language: English (United Kingdom) (`en_GB`).",
				"provider: choose `Acme PSTN`, then click Next. (Approved, though advised against: customers created with one get integrated PSTN",
				"Partner authentication (SAML), IdP entity ID `https://idp.partner.example/saml`, then click Next.",
				"Brand name for emails: `Partner Cloud`.", "existing orgs: `on`.", "Webex-to-Webex calls: `off`.",
				"this template's `off` cannot be set: tell the approvers",
				"Check that it is `PROV-DE-1`, the Provisioning ID this template was approved with",
			},
			absent: []string{"leave it empty", "template activate", "Webex authentication", "nothing to set"},
		},
		{
			name:   "oidc without provisioning id",
			change: map[string]string{"auth": "oidc", "idp-entity-id": "oidc-entity-7", "webex-calls": "on", "admin-invites": "off"},
			want: []string{
				"Partner authentication (OIDC), IdP entity ID `oidc-entity-7`, then click Next.",
				"existing orgs: `off`.", "Webex-to-Webex calls: `on`.",
				"Run `/onboard-customer template activate de-standard provisioning-id=<the Provisioning ID>`",
			},
			absent: []string{"SAML", "Check that it is"},
		},
		{
			name: "no email language stored",
			edit: func(s *request.TemplateSpec) { s.EmailLanguage = "" },
			want: []string{"Default email language: leave Partner Hub's default (this template sets no email language)."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec, missing, errs := ParseTemplate(withChanges(validTemplateArgs(), tt.change), TemplateOptions{})
			if spec == nil {
				t.Fatalf("missing %v, errs %v", missing, errs)
			}
			if tt.edit != nil {
				tt.edit(spec)
			}
			steps := spec.Checklist()
			text := strings.Join(steps, "\n")
			if len(steps) != len(checklistSkeleton)+1 {
				t.Errorf("%d steps, want %d:\n%s", len(steps), len(checklistSkeleton)+1, text)
			}
			for i, frag := range checklistSkeleton {
				if i >= len(steps) || !strings.Contains(steps[i], frag) {
					t.Errorf("step %d lacks %q:\n%s", i+1, frag, text)
				}
			}
			if last := steps[len(steps)-1]; !strings.Contains(last, "Provisioning ID") {
				t.Errorf("the last step is not about the Provisioning ID: %q", last)
			}
			wantInOrder(t, text, tt.want)
			for _, a := range append(tt.absent, "``", "Settings → Wholesale", "\n\n") {
				if strings.Contains(text, a) {
					t.Errorf("checklist has %q:\n%s", a, text)
				}
			}
		})
	}
}

// wantInOrder checks that text has every fragment, each after the previous one.
func wantInOrder(t *testing.T, text string, frags []string) {
	t.Helper()
	rest := text
	for _, f := range frags {
		i := strings.Index(rest, f)
		if i < 0 {
			if strings.Contains(text, f) {
				t.Errorf("checklist has %q, but out of order:\n%s", f, text)
			} else {
				t.Errorf("checklist lacks %q:\n%s", f, text)
			}
			continue
		}
		rest = rest[i+len(f):]
	}
}
