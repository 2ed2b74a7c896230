package input

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// CustomerOptions carries what ParseCustomer needs besides the keys.
type CustomerOptions struct {
	SupportedCountries []string                  // SUPPORTED_COUNTRIES; empty = all
	Template           *request.TemplateDefaults // the active template named by template=; nil when none
	SubPartnerOrgID    string                    // WEBEX_SUBPARTNER_ORG_ID
}

// CustomerKeys is every key `new` accepts, in the order a form shows them.
// limit.<package> keys are accepted for each customer package on top.
var CustomerKeys = []string{
	"name", "email", "external-id", "country", "package", "template", "provisioning-id",
	"supported-location", "address", "address2", "city", "state", "zip", "timezone",
	"language", "location-name", "elin", "org-id", "order",
}

// RequiredCustomerKeys must be given. country and package
// may come from a template instead; provisioning-id is reported as missing
// under "template" when neither is given.
var RequiredCustomerKeys = []string{
	"name", "email", "external-id", "country", "package", "template",
	"supported-location", "address", "city",
}

// LimitKeyPrefix starts the keys of ordered quantities, limit.<package>=<n>.
const LimitKeyPrefix = "limit."

// MaxLimit bounds an ordered quantity; larger numbers are typos.
const MaxLimit = 100000

// Length limits. Webex's spec gives 50 per address line and 80 for a calling
// location name; it gives none for the customer name, so 255 keeps it sane.
const (
	maxNameLen     = 255
	maxAddressLine = 50
	maxLocationLen = 80
	maxELINLen     = 32
	maxOrderLen    = 255
	maxIDLen       = 256
)

// ParseCustomer validates the keys of `new`. It returns the normalised spec,
// the required keys that are missing (so a Slack modal can be opened
// pre-filled) and every invalid key. spec is nil unless both are empty.
func ParseCustomer(args map[string]string, opts CustomerOptions) (spec *request.CustomerSpec, missing []string, errs FieldErrors) {
	c := &request.CustomerSpec{SubPartnerOrgID: opts.SubPartnerOrgID}
	in := &keyArgs{args: args}
	get, need := in.get, in.need
	checkUnknownCustomerKeys(args, &errs)

	tmpl := customerTemplate(args, opts, &errs)
	if tmpl != nil {
		c.Template, c.TemplateVersion, c.ProvisioningID = tmpl.Name, tmpl.Version, tmpl.ProvisioningID
	}

	if v, ok := need("name"); ok {
		if err := checkText("name", v, maxNameLen); err != nil {
			errs.Append("name", err)
		} else if strings.Contains(v, "%") {
			errs.Addf("name", "%q contains %%, which Webex does not allow in a customer name", v)
		}
		c.Name = v
	}
	if v, ok := need("email"); ok {
		c.Email, _ = appendErr(&errs, "email")(ValidateEmail("email", v))
	}
	if v, ok := need("external-id"); ok {
		c.ExternalID, _ = appendErr(&errs, "external-id")(ValidateExternalID("external-id", v))
	}
	parseCustomerCountry(c, tmpl, opts, in, &errs)
	parseCustomerPackages(c, tmpl, in, &errs)

	if v, ok := get("provisioning-id"); ok {
		id, err := validateToken("provisioning-id", v, "the Provisioning ID of a Partner Hub template", maxIDLen)
		switch {
		case err != nil:
			errs.Append("provisioning-id", err)
		case tmpl != nil && id != tmpl.ProvisioningID:
			errs.Addf("provisioning-id", "%q differs from template %s v%d's provisioning id %q; give one or the other",
				id, tmpl.Name, tmpl.Version, tmpl.ProvisioningID)
		default:
			c.ProvisioningID = id
		}
	} else if _, named := get("template"); !named {
		in.missing = append(in.missing, "template")
	}

	if v, ok := need("supported-location"); ok {
		errs.Append("supported-location", ValidateYes("supported-location", v))
	}
	parseCustomerAddress(c, in, &errs)
	parseCustomerLocale(c, tmpl, in, &errs)

	c.LocationName = request.DefaultLocationName
	if v, ok := get("location-name"); ok {
		if err := checkText("location-name", v, maxLocationLen); err != nil {
			errs.Append("location-name", err)
		}
		c.LocationName = v
	}
	if v, ok := get("elin"); ok {
		c.ELIN, _ = appendErr(&errs, "elin")(ValidateELIN("elin", v, c.Country))
	}
	if v, ok := get("order"); ok {
		errs.Append("order", checkText("order", v, maxOrderLen))
		c.Order = v
	}
	parseOrgID(c, tmpl, in, &errs)
	c.Limits = parseLimits(args, c.Packages, &errs)
	if c.Country != "" && len(c.Packages) > 0 {
		// The steps are checked against the customer's country and packages.
		c.Steps = parsePlan(args, c, &errs)
	}

	if len(errs) > 0 || len(in.missing) > 0 {
		return nil, in.missing, errs
	}
	return c, nil, nil
}

// parseOrgID reads org-id=, an existing org to attach: only with a
// template that allows admin-invite emails.
func parseOrgID(c *request.CustomerSpec, tmpl *request.TemplateDefaults, in *keyArgs, errs *FieldErrors) {
	v, ok := in.get("org-id")
	if !ok {
		return
	}
	id, err := validateToken("org-id", v, "a Webex organisation id", maxIDLen)
	errs.Append("org-id", err)
	if err == nil && tmpl != nil && !tmpl.AdminInvites {
		errs.Addf("org-id", "attaching an existing org needs the template's \"allow admin-invite emails\" on, and template %s v%d has it off; "+
			"use a template with admin-invites=on or leave out org-id to create a new org", tmpl.Name, tmpl.Version)
	}
	c.OrgID = id
}

// appendErr records a validator's error under key and passes its value on.
func appendErr(errs *FieldErrors, key string) func(string, error) (string, error) {
	return func(v string, err error) (string, error) {
		errs.Append(key, err)
		return v, err
	}
}

func checkUnknownCustomerKeys(args map[string]string, errs *FieldErrors) {
	for _, k := range sortedKeys(args) {
		if slices.Contains(CustomerKeys, k) || slices.Contains(PlanKeys, k) || strings.HasPrefix(k, LimitKeyPrefix) {
			continue
		}
		errs.Addf(k, "unknown key (expected one of %s, limit.<package>, or the plan's %s)", quoteList(CustomerKeys), quoteList(PlanKeys))
	}
}

// customerTemplate resolves template=: the caller looks the name up and
// passes the active template's defaults in opts.
func customerTemplate(args map[string]string, opts CustomerOptions, errs *FieldErrors) *request.TemplateDefaults {
	name := strings.TrimSpace(args["template"])
	if name == "" {
		return nil
	}
	if opts.Template == nil || !strings.EqualFold(opts.Template.Name, name) {
		errs.Addf("template", "%q is not an active template (see /onboard-customer template list)", name)
		return nil
	}
	return opts.Template
}

func parseCustomerCountry(c *request.CustomerSpec, tmpl *request.TemplateDefaults, opts CustomerOptions, in *keyArgs, errs *FieldErrors) {
	v, ok := in.get("country")
	if !ok && tmpl != nil && tmpl.Country != "" {
		v, ok = tmpl.Country, true
	}
	if !ok {
		in.missing = append(in.missing, "country")
		return
	}
	c.Country, _ = appendErr(errs, "country")(ValidateCountry("country", v, opts.SupportedCountries))
	c.Address.Country = c.Country
}

func parseCustomerPackages(c *request.CustomerSpec, tmpl *request.TemplateDefaults, in *keyArgs, errs *FieldErrors) {
	v, ok := in.get("package")
	if !ok && tmpl != nil && len(tmpl.Packages) > 0 {
		v, ok = strings.Join(tmpl.Packages, ","), true
	}
	if !ok {
		in.missing = append(in.missing, "package")
		return
	}
	pkgs, perrs := ParsePackages("package", v)
	*errs = append(*errs, perrs...)
	c.Packages = pkgs
}

func parseCustomerAddress(c *request.CustomerSpec, in *keyArgs, errs *FieldErrors) {
	line := func(key string, dst *string, required bool, max int) {
		fetch := in.get
		if required {
			fetch = in.need
		}
		if v, ok := fetch(key); ok {
			errs.Append(key, checkText(key, v, max))
			*dst = v
		}
	}
	line("address", &c.Address.Line1, true, maxAddressLine)
	line("address2", &c.Address.Line2, false, maxAddressLine)
	line("city", &c.Address.City, true, maxAddressLine)
	line("state", &c.Address.State, false, maxAddressLine)
	line("zip", &c.Address.Zip, false, maxAddressLine)
}

// parseCustomerLocale fills language and timezone: explicit keys win, then
// the template, then the country's default. A multi-zone country without a
// default makes timezone required.
func parseCustomerLocale(c *request.CustomerSpec, tmpl *request.TemplateDefaults, in *keyArgs, errs *FieldErrors) {
	if v, ok := in.get("language"); ok {
		c.Language, _ = appendErr(errs, "language")(NormalizeLanguage("language", v))
	} else if tmpl != nil && tmpl.Language != "" {
		c.Language = tmpl.Language
	} else if c.Country != "" {
		c.Language = request.DefaultLanguage(c.Country)
	}
	if v, ok := in.get("timezone"); ok {
		c.Timezone, _ = appendErr(errs, "timezone")(ValidateTimezone("timezone", v))
		return
	}
	if tmpl != nil && tmpl.Timezone != "" && (c.Country == "" || strings.EqualFold(c.Country, tmpl.Country)) {
		c.Timezone = tmpl.Timezone
		return
	}
	if c.Country == "" {
		return // country missing or invalid: already reported
	}
	if c.Timezone = request.DefaultTimezone(c.Country); c.Timezone == "" {
		in.missing = append(in.missing, "timezone")
	}
}

// ValidateELIN checks an emergency location identifier: ASCII letters,
// digits and "-" (Cisco's own example is "Richardson-TX"). Webex sets one
// only for a location in Belgium, Germany or France (pAccessNetworkInfo);
// country is the location's, "" while not known.
func ValidateELIN(key, v, country string) (string, error) {
	s := strings.TrimSpace(v)
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
			return "", FieldError{key, fmt.Sprintf("%q is not an emergency location identifier (letters, digits and -, e.g. Richardson-TX)", v)}
		}
	}
	if n := runeLen(s); n > maxELINLen {
		return "", FieldError{key, fmt.Sprintf("%d characters, at most %d", n, maxELINLen)}
	}
	if country != "" && !ELINCountry(country) {
		return "", FieldError{key, fmt.Sprintf("Webex takes an emergency location identifier only for a location in Belgium (BE), Germany (DE) or France (FR), not %s (%s): leave it out", request.CountryName(country), country)}
	}
	return s, nil
}

// ELINCountry reports whether locations in country take an emergency
// location identifier.
func ELINCountry(country string) bool {
	switch strings.ToUpper(country) {
	case "BE", "DE", "FR":
		return true
	}
	return false
}

// parseLimits reads limit.<package>=<n> for the customer's packages.
func parseLimits(args map[string]string, pkgs []string, errs *FieldErrors) map[string]int {
	var limits map[string]int
	for _, k := range sortedKeys(args) {
		if !strings.HasPrefix(k, LimitKeyPrefix) {
			continue
		}
		p := strings.TrimPrefix(k, LimitKeyPrefix)
		v := strings.TrimSpace(args[k])
		n, err := strconv.Atoi(v)
		switch {
		case !request.IsCustomerPackage(p):
			errs.Addf(k, "%q is not a Webex package (expected limit.<package> with one of %s)", p, quoteList(request.CustomerPackages))
			continue
		case pkgs != nil && !slices.Contains(pkgs, p):
			errs.Addf(k, "%s is not one of the customer's packages (%s)", p, quoteList(pkgs))
			continue
		case err != nil || n <= 0 || n > MaxLimit || !isDigits(v):
			errs.Addf(k, "%q is not a whole number from 1 to %d (the ordered quantity of %s)", v, MaxLimit, p)
			continue
		}
		if limits == nil {
			limits = map[string]int{}
		}
		limits[p] = n
	}
	return limits
}
