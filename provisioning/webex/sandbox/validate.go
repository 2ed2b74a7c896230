package sandbox

import (
	"fmt"
	"net/mail"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// customerPackages and subscriberPackages are the spec's enums (WholesalePackagesCustomer,
// WholesalePackagesSubscriber). The sandbox keeps its own copy rather than the client's
// (provisioning/request): a package the client wrongly allowed must be refused here, as
// Webex would refuse it, not pass because both read the same list.
var customerPackages = []string{
	"common_area_calling", "webex_calling", "webex_meetings", "webex_suite", "webex_voice",
	"cx_essentials", "webex_calling_standard", "cisco_calling_plan", "attendant_console",
	"cx_premium_agent", "cx_standard_agent", "cx_voice_ports", "cx_ai_assistant", "webex_ai_agent",
}

var subscriberPackages = []string{
	"webex_calling", "webex_meetings", "webex_suite", "webex_voice", "cx_essentials",
	"webex_calling_standard", "attendant_console", "cx_premium_agent", "cx_standard_agent",
}

// legacySubscriberPackages is the narrower enum of the deprecated single `package` field.
var legacySubscriberPackages = []string{
	"webex_calling", "webex_meetings", "webex_suite", "webex_voice", "cx_essentials", "webex_calling_standard",
}

// isCalling: every package except webex_meetings brings calling and so needs a location.
func isCalling(pkg string) bool { return pkg != "webex_meetings" }

// addOnNeeds are the add-on rules: the add-on needs one of these packages too.
var addOnNeeds = map[string][]string{
	"cisco_calling_plan": {"common_area_calling", "webex_calling", "webex_suite", "webex_voice", "cx_essentials", "webex_calling_standard"},
	"attendant_console":  {"webex_calling", "webex_suite", "cx_essentials"},
}

// elinCountries are where an emergency location identifier may be set: the calling spec
// says pAccessNetworkInfo "is set only when the location's country is Belgium, Germany,
// or France".
var elinCountries = map[string]bool{"BE": true, "DE": true, "FR": true}

// problems collects every reason a request is refused, so one 400 names them all.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

const maxAddressLine = 50

type address struct {
	AddressLine1    string `json:"addressLine1"`
	AddressLine2    string `json:"addressLine2,omitempty"`
	City            string `json:"city"`
	StateOrProvince string `json:"stateOrProvince,omitempty"`
	ZipOrPostalCode string `json:"zipOrPostalCode,omitempty"`
	Country         string `json:"country"`
}

func (p *problems) address(field string, a *address) {
	if a == nil {
		p.add("%s is required", field)
		return
	}
	if strings.TrimSpace(a.AddressLine1) == "" {
		p.add("%s.addressLine1 is required", field)
	}
	if strings.TrimSpace(a.City) == "" {
		p.add("%s.city is required", field)
	}
	for i, v := range []string{a.AddressLine1, a.AddressLine2} {
		if n := utf8.RuneCountInString(v); n > maxAddressLine {
			p.add("%s.addressLine%d is %d characters long; at most %d are allowed", field, i+1, n, maxAddressLine)
		}
	}
	p.country(field+".country", a.Country)
}

func (p *problems) country(field, c string) {
	switch {
	case c == "":
		p.add("%s is required", field)
	case !isoCountries[c]:
		p.add("%s %q is not an ISO 3166-1 alpha-2 country code", field, c)
	}
}

func (p *problems) timezone(field, tz string) {
	if tz == "" {
		p.add("%s is required", field)
		return
	}
	if tz == "Local" || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
		p.add("%s %q is not an IANA time zone", field, tz)
		return
	}
	if _, err := time.LoadLocation(tz); err != nil {
		p.add("%s %q is not an IANA time zone", field, tz)
	}
}

var (
	customerLanguage = regexp.MustCompile(`^[a-z]{2}(_[A-Z]{2})?$`) // de or de_DE
	locationLanguage = regexp.MustCompile(`^[a-z]{2}_[a-z]{2}$`)    // de_de
	e164             = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	extension        = regexp.MustCompile(`^[0-9]{2,10}$`)
)

func (p *problems) language(field, v string, re *regexp.Regexp, example string, required bool) {
	switch {
	case v == "" && required:
		p.add("%s is required", field)
	case v != "" && !re.MatchString(v):
		p.add("%s %q is not a language code like %s", field, v, example)
	}
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	return strings.Contains(domain, ".")
}

func (p *problems) email(field, v string) {
	switch {
	case v == "":
		p.add("%s is required", field)
	case !validEmail(v):
		p.add("%s %q is not an email address", field, v)
	}
}

// customerPackageList checks a complete customer package list.
func (p *problems) customerPackageList(pkgs []string) {
	if len(pkgs) == 0 {
		p.add("packages must name at least one package")
		return
	}
	seen := map[string]bool{}
	for _, pkg := range pkgs {
		switch {
		case !slices.Contains(customerPackages, pkg):
			p.add("package %q is not a wholesale customer package", pkg)
		case seen[pkg]:
			p.add("package %q is listed twice", pkg)
		}
		seen[pkg] = true
	}
	for addOn, needs := range addOnNeeds {
		if seen[addOn] && !slices.ContainsFunc(needs, func(n string) bool { return seen[n] }) {
			p.add("package %s needs one of %s", addOn, strings.Join(needs, ", "))
		}
	}
}

func anyCalling(pkgs []string) bool { return slices.ContainsFunc(pkgs, isCalling) }

// provisioningIDAllowed matches id against the --provisioning-ids globs.
func (s *Sandbox) provisioningIDAllowed(id string) bool {
	for _, g := range s.opts.ProvisioningIDs {
		if ok, _ := path.Match(g, id); ok {
			return true
		}
	}
	return false
}
