package input

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

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
func ParseTemplate(args map[string]string, opts TemplateOptions) (spec *request.TemplateSpec, missing []string, errs FieldErrors) {
	t := &request.TemplateSpec{Auth: "webex", WebexCalls: true, Version: max(opts.Version, 1)}
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
		if !slices.Contains(request.AuthModes, t.Auth) {
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
		t.Timezone = request.DefaultTimezone(t.Country) // may stay empty: customers then give one
	}
	if v, ok := get("provisioning-id"); ok {
		t.ProvisioningID, _ = appendErr(&errs, "provisioning-id")(validateToken("provisioning-id", v, "the Provisioning ID Partner Hub shows for the template", maxIDLen))
	}
	if len(errs) > 0 || len(in.missing) > 0 {
		return nil, in.missing, errs
	}
	return t, nil, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
