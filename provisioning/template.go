package provisioning

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// TemplateSpec is a validated `template new`: every setting of a Partner Hub
// onboarding template (WEBEX.md "Template settings") plus the defaults the
// bot pre-fills for customers. Webex has no template API, so this is what
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

// Checklist is the Partner Hub clicks that create this template, with its
// exact values, one step per string.
func (t *TemplateSpec) Checklist() []string {
	orDefault := func(v, def string) string {
		if v == "" {
			return def
		}
		return "`" + v + "`"
	}
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	auth := map[string]string{"webex": "Webex", "saml": "Partner SAML", "oidc": "Partner OIDC"}[t.Auth]
	if t.IdPEntityID != "" {
		auth += fmt.Sprintf(", IdP entity ID `%s`", t.IdPEntityID)
	}
	pstn := "leave empty (none)"
	if t.PSTNProvider != "" {
		pstn = fmt.Sprintf("`%s` (advised against)", t.PSTNProvider)
	}
	steps := []string{
		"Partner Hub → Settings → Wholesale → Onboarding templates → Create template.",
		fmt.Sprintf("Template name: `%s`.", t.Name),
		fmt.Sprintf("Service provider admin: `%s`.", t.SPAdmin),
		fmt.Sprintf("Country or region: %s (`%s`).", CountryName(t.Country), t.Country),
		fmt.Sprintf("Default email language: %s (`%s`).", LanguageName(t.EmailLanguage), t.EmailLanguage),
		fmt.Sprintf("Wholesale subscription: `%s`.", t.Subscription),
		fmt.Sprintf("Cloud Connected PSTN provider: %s.", pstn),
		fmt.Sprintf("Authentication: %s.", auth),
		fmt.Sprintf("Brand name for emails: %s.", orDefault(t.Brand, "leave the default")),
		fmt.Sprintf("Allow admin-invite emails (attaching existing orgs): %s.", onOff(t.AdminInvites)),
		fmt.Sprintf("Allow Webex-to-Webex calls: %s.", onOff(t.WebexCalls)),
		"Save the template and copy its Provisioning ID.",
	}
	if t.ProvisioningID != "" {
		steps = append(steps, fmt.Sprintf("Check that the Provisioning ID is `%s`.", t.ProvisioningID))
	} else {
		steps = append(steps, fmt.Sprintf("Run `/onboard-customer template activate %s provisioning-id=<the Provisioning ID>`.", t.Name))
	}
	return steps
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
