package provisioning

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// TemplateSpec is a validated `template new`: every setting of a Partner Hub
// onboarding template plus the defaults the bot pre-fills for customers. Webex has no template API, so this is what
// the approver approves and what the checklist tells the admin to click.
type TemplateSpec struct {
	Name           string   `json:"name"`
	Country        string   `json:"country"`
	Language       string   `json:"language"`
	Packages       []string `json:"packages"`
	Auth           string   `json:"auth"` // webex | saml | oidc
	IdPEntityID    string   `json:"idpEntityId,omitempty"`
	SPAdmin        string   `json:"spAdmin"`
	Subscription   string   `json:"subscription"`
	EmailLanguage  string   `json:"emailLanguage,omitempty"`
	Brand          string   `json:"brand,omitempty"`
	AdminInvites   bool     `json:"adminInvites"`
	WebexCalls     bool     `json:"webexCalls"`
	PSTNProvider   string   `json:"pstnProvider,omitempty"`
	Timezone       string   `json:"timezone,omitempty"`
	ProvisioningID string   `json:"provisioningId,omitempty"`
	Version        int      `json:"version"`
}

// TemplateOptions carries what ParseTemplate needs besides the keys.
type TemplateOptions struct {
	SupportedCountries []string // SUPPORTED_COUNTRIES; empty = all
	Version            int      // the version this template becomes (n+1 of an existing name); 0 means 1
}

// TemplateKeys is every key `template new` accepts.
var TemplateKeys = []string{
	"name", "country", "language", "package", "auth", "idp-entity-id", "sp-admin",
	"subscription", "email-language", "brand", "admin-invites", "webex-calls",
	"pstn-provider", "timezone", "provisioning-id",
}

// RequiredTemplateKeys must be given; idp-entity-id also when auth is saml or oidc.
var RequiredTemplateKeys = []string{"name", "country", "language", "package", "sp-admin", "subscription"}

// AuthModes are the template's authentication choices; webex is the default.
var AuthModes = []string{"webex", "saml", "oidc"}

var templateNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// ValidateTemplateName checks a template name: it is typed in commands and
// shown in summaries ("template de-standard v2"), so it stays short and plain.
func ValidateTemplateName(key, v string) (string, error) {
	s := strings.TrimSpace(v)
	if !templateNameRE.MatchString(s) {
		return "", FieldError{key, fmt.Sprintf("%q is not a template name (lower-case letters, digits and -, starting with a letter or digit, at most 40; e.g. de-standard)", v)}
	}
	return s, nil
}

// ParseTemplate validates the keys of `template new`. Like ParseCustomer it
// returns the missing required keys and every invalid key; spec is nil unless
// both are empty.
func ParseTemplate(args map[string]string, opts TemplateOptions) (spec *TemplateSpec, missing []string, errs FieldErrors) {
	t := &TemplateSpec{Auth: "webex", WebexCalls: true, Version: max(opts.Version, 1)}
	in := &keyArgs{args: args}
	get, need := in.get, in.need
	for _, k := range sortedKeys(args) {
		if !slices.Contains(TemplateKeys, k) {
			errs.Addf(k, "unknown key (expected one of %s)", quoteList(TemplateKeys))
		}
	}
	if v, ok := need("name"); ok {
		t.Name, _ = appendErr(&errs, "name")(ValidateTemplateName("name", v))
	}
	if v, ok := need("country"); ok {
		t.Country, _ = appendErr(&errs, "country")(ValidateCountry("country", v, opts.SupportedCountries))
	}
	if v, ok := need("language"); ok {
		t.Language, _ = appendErr(&errs, "language")(NormalizeLanguage("language", v))
	}
	if v, ok := need("package"); ok {
		pkgs, perrs := ParsePackages("package", v)
		errs = append(errs, perrs...)
		t.Packages = pkgs
	}
	if v, ok := get("auth"); ok {
		t.Auth = strings.ToLower(v)
		if !slices.Contains(AuthModes, t.Auth) {
			errs.Addf("auth", "%q is not an authentication mode (expected webex, saml or oidc)", v)
		}
	}
	if v, ok := get("idp-entity-id"); ok {
		if t.Auth == "webex" {
			errs.Add("idp-entity-id", "only used with auth=saml or auth=oidc (partner single sign-on)")
		}
		errs.Append("idp-entity-id", checkText("idp-entity-id", v, maxIDLen))
		t.IdPEntityID = v
	} else if t.Auth == "saml" || t.Auth == "oidc" {
		in.missing = append(in.missing, "idp-entity-id")
	}
	if v, ok := need("sp-admin"); ok {
		t.SPAdmin, _ = appendErr(&errs, "sp-admin")(ValidateEmail("sp-admin", v))
	}
	if v, ok := need("subscription"); ok {
		t.Subscription, _ = appendErr(&errs, "subscription")(validateToken("subscription", v, "the wholesale subscription id", maxIDLen))
	}
	if v, ok := get("email-language"); ok {
		t.EmailLanguage, _ = appendErr(&errs, "email-language")(NormalizeLanguage("email-language", v))
	} else {
		t.EmailLanguage = t.Language
	}
	if v, ok := get("brand"); ok {
		errs.Append("brand", checkText("brand", v, maxNameLen))
		t.Brand = v
	}
	onOff := func(key string, dst *bool) {
		if v, ok := get(key); ok {
			b, err := ValidateOnOff(key, v)
			errs.Append(key, err)
			*dst = b
		}
	}
	onOff("admin-invites", &t.AdminInvites)
	onOff("webex-calls", &t.WebexCalls)
	if v, ok := get("pstn-provider"); ok {
		errs.Append("pstn-provider", checkText("pstn-provider", v, maxNameLen))
		t.PSTNProvider = v
	}
	if v, ok := get("timezone"); ok {
		t.Timezone, _ = appendErr(&errs, "timezone")(ValidateTimezone("timezone", v))
	} else if t.Country != "" {
		t.Timezone = DefaultTimezone(t.Country) // may stay empty: customers then give one
	}
	if v, ok := get("provisioning-id"); ok {
		t.ProvisioningID, _ = appendErr(&errs, "provisioning-id")(validateToken("provisioning-id", v, "the Provisioning ID Partner Hub shows for the template", maxIDLen))
	}
	if len(errs) > 0 || len(in.missing) > 0 {
		return nil, in.missing, errs
	}
	return t, nil, nil
}

// Warnings are advisories the summary shows; they do not block approval.
func (t *TemplateSpec) Warnings() []string {
	var w []string
	if t.PSTNProvider != "" {
		w = append(w, fmt.Sprintf("A Cloud Connected PSTN provider (%s) is set: the onboarding guide advises against choosing one in the template; "+
			"set up PSTN per customer location instead.", t.PSTNProvider))
	}
	if t.AdminInvites {
		w = append(w, "Admin-invite emails are on: customers may be attached to existing Webex orgs, whose admins get an invitation email.")
	}
	if !t.WebexCalls {
		w = append(w, "Webex-to-Webex calls are off: users of this template's customers cannot call other Webex users directly.")
	}
	return w
}

// Checklist is the clicks a partner admin makes in Partner Hub to create
// this template, in Partner Hub's order, each step with this template's
// exact values in backticks; one step per string. The caller escapes each
// step for mrkdwn.
func (t *TemplateSpec) Checklist() []string {
	steps := []string{
		"In Partner Hub, open Customers → Onboarding templates and click Create template.",
		"Choose Webex for Wholesale and click Next.",
	}
	steps = append(steps, t.primarySteps()...)
	steps = append(steps, t.pstnStep(), t.authStep())
	steps = append(steps, t.settingsSteps()...)
	steps = append(steps,
		"Click Next, compare the summary with this checklist (Edit goes back to a section), then click Submit.",
		"Open the new template under Customers → Onboarding templates and copy its Provisioning ID.",
		t.activateStep())
	return steps
}

// primarySteps are the Primary settings, top to bottom.
func (t *TemplateSpec) primarySteps() []string {
	lang := "leave Partner Hub's default (this template sets no email language)"
	if t.EmailLanguage != "" {
		lang = named(LanguageName(t.EmailLanguage), t.EmailLanguage)
	}
	return []string{
		fmt.Sprintf("Primary settings → Template name: `%s`.", t.Name),
		fmt.Sprintf("Primary settings → Service provider admin: `%s`.", t.SPAdmin),
		fmt.Sprintf("Primary settings → Country or region: %s.", named(CountryName(t.Country), t.Country)),
		fmt.Sprintf("Primary settings → Default email language: %s.", lang),
		fmt.Sprintf("Primary settings → Wholesale subscription: `%s`.", t.Subscription),
	}
}

// ccpCaveat is why a Cloud Connected PSTN provider in the template is
// advised against.
const ccpCaveat = "customers created with one get integrated PSTN, whose numbers come from the provider and cannot be managed from the bot"

func (t *TemplateSpec) pstnStep() string {
	if t.PSTNProvider == "" {
		return "Wholesale calling → Cloud Connected PSTN provider: leave it empty, then click Next. (A provider is advised against here: " + ccpCaveat + ".)"
	}
	return fmt.Sprintf("Wholesale calling → Cloud Connected PSTN provider: choose `%s`, then click Next. "+
		"(Approved, though advised against: %s.)", t.PSTNProvider, ccpCaveat)
}

func (t *TemplateSpec) authStep() string {
	var s string
	switch t.Auth {
	case "saml", "oidc":
		s = fmt.Sprintf("Authentication → Partner authentication (%s)", strings.ToUpper(t.Auth))
		if t.IdPEntityID != "" {
			s += fmt.Sprintf(", IdP entity ID `%s`", t.IdPEntityID)
		}
	default:
		s = "Authentication → Webex authentication (the default)"
	}
	return s + ", then click Next."
}

// settingsSteps are the email and calling settings: Common settings, then
// Call settings.
func (t *TemplateSpec) settingsSteps() []string {
	brand := "leave it empty (Partner Hub's default)"
	if t.Brand != "" {
		brand = "`" + t.Brand + "`"
	}
	calls := fmt.Sprintf("Call settings → Webex-to-Webex calls: `%s`. Partner Hub shows this toggle only to partners "+
		"that have both Wholesale and BroadWorks onboarding templates, so you may not see it; ", onOffWord(t.WebexCalls))
	if t.WebexCalls {
		calls += "if it is not there, go on: there is nothing to set."
	} else {
		calls += "if it is not there, this template's `off` cannot be set: tell the approvers before you submit."
	}
	return []string{
		fmt.Sprintf("Common settings → Brand name for emails: %s.", brand),
		fmt.Sprintf("Common settings → Allow admin-invite emails when attaching to existing orgs: `%s`.", onOffWord(t.AdminInvites)),
		calls,
	}
}

func (t *TemplateSpec) activateStep() string {
	if t.ProvisioningID != "" {
		return fmt.Sprintf("Check that it is `%s`, the Provisioning ID this template was approved with; if not, tell the approvers.", t.ProvisioningID)
	}
	return fmt.Sprintf("Run `/onboard-customer template activate %s provisioning-id=<the Provisioning ID>` with the ID you copied.", t.Name)
}

// named is "Germany (`DE`)", or just "`DE`" for a code without a name.
func named(name, code string) string {
	if name == "" {
		return "`" + code + "`"
	}
	return fmt.Sprintf("%s (`%s`)", name, code)
}

func onOffWord(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// Defaults is what customers created with this template inherit.
func (t *TemplateSpec) Defaults() TemplateDefaults {
	return TemplateDefaults{
		Name:           t.Name,
		Version:        t.Version,
		ProvisioningID: t.ProvisioningID,
		Country:        t.Country,
		Language:       t.Language,
		Timezone:       t.Timezone,
		Packages:       slices.Clone(t.Packages),
		AdminInvites:   t.AdminInvites,
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
