package provisioning

import (
	"fmt"
	"slices"
	"strings"
)

// CustomerPackages are the Webex Wholesale packages a customer can order
// (WholesalePackagesCustomer in Cisco's spec).
var CustomerPackages = []string{
	"common_area_calling", "webex_calling", "webex_meetings", "webex_suite", "webex_voice",
	"cx_essentials", "webex_calling_standard", "cisco_calling_plan", "attendant_console",
	"cx_premium_agent", "cx_standard_agent", "cx_voice_ports", "cx_ai_assistant", "webex_ai_agent",
}

// SubscriberPackages are the packages a user can get
// (WholesalePackagesSubscriber); one per user.
var SubscriberPackages = []string{
	"webex_calling", "webex_meetings", "webex_suite", "webex_voice", "cx_essentials",
	"webex_calling_standard", "attendant_console", "cx_premium_agent", "cx_standard_agent",
}

// addOnRule says which base packages an add-on package needs next to it.
type addOnRule struct {
	AddOn  string
	NeedsA []string
}

var addOnRules = []addOnRule{
	{"cisco_calling_plan", []string{"common_area_calling", "webex_calling", "webex_suite", "webex_voice", "cx_essentials", "webex_calling_standard"}},
	{"attendant_console", []string{"webex_calling", "webex_suite", "cx_essentials"}},
}

// IsCustomerPackage reports whether p is a customer package.
func IsCustomerPackage(p string) bool { return slices.Contains(CustomerPackages, p) }

// IsSubscriberPackage reports whether p can be given to a user.
func IsSubscriberPackage(p string) bool { return slices.Contains(SubscriberPackages, p) }

// CallingSubscriberPackage reports whether a user with package p needs a
// phone number or extension: every subscriber package except meetings-only.
func CallingSubscriberPackage(p string) bool {
	return IsSubscriberPackage(p) && p != "webex_meetings"
}

// ParsePackages reads a comma list of customer packages. The first is the
// primary package, which the customer's admin gets, so it must be one a user
// can have. Every problem is returned, not just the first.
func ParsePackages(key, v string) ([]string, FieldErrors) {
	var errs FieldErrors
	var pkgs []string
	for _, raw := range strings.Split(v, ",") {
		p := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case p == "":
			continue
		case !IsCustomerPackage(p):
			errs.Addf(key, "%q is not a Webex package (expected one of %s)", strings.TrimSpace(raw), quoteList(CustomerPackages))
		case slices.Contains(pkgs, p):
			errs.Addf(key, "%s is listed twice; list each package once", p)
		default:
			pkgs = append(pkgs, p)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(pkgs) == 0 {
		errs.Addf(key, "%q names no package (expected a comma list of %s)", v, quoteList(CustomerPackages))
		return nil, errs
	}
	if !IsSubscriberPackage(pkgs[0]) {
		errs.Addf(key, "%s cannot be the primary (first) package: the customer's admin gets the primary package and %s is not one a user can have (put one of %s first)",
			pkgs[0], pkgs[0], quoteList(SubscriberPackages))
	}
	errs = append(errs, CheckAddOns(key, pkgs)...)
	if len(errs) > 0 {
		return nil, errs
	}
	return pkgs, nil
}

// CheckAddOns applies Webex's add-on rules to a customer's package list.
func CheckAddOns(key string, pkgs []string) FieldErrors {
	var errs FieldErrors
	for _, r := range addOnRules {
		if !slices.Contains(pkgs, r.AddOn) {
			continue
		}
		if !slices.ContainsFunc(pkgs, func(p string) bool { return slices.Contains(r.NeedsA, p) }) {
			errs.Addf(key, "%s is an add-on and needs one of %s in the same list", r.AddOn, quoteList(r.NeedsA))
		}
	}
	return errs
}

// checkPackageOf says whether p can be given to a user of a customer with
// pkgs; "" when it can.
func checkPackageOf(p string, pkgs []string) string {
	switch {
	case !IsCustomerPackage(p):
		return fmt.Sprintf("%q is not a Webex package (expected one of %s)", p, quoteList(pkgs))
	case !IsSubscriberPackage(p):
		return fmt.Sprintf("%q is not a subscriber package: users cannot get it (expected one of %s)", p, quoteList(subscriberOnly(pkgs)))
	case !slices.Contains(pkgs, p):
		return fmt.Sprintf("%q is not one of the customer's packages (%s)", p, quoteList(pkgs))
	}
	return ""
}

func subscriberOnly(pkgs []string) []string {
	var out []string
	for _, p := range pkgs {
		if IsSubscriberPackage(p) {
			out = append(out, p)
		}
	}
	return out
}
