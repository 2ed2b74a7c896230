package input

import (
	"fmt"
	"slices"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

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
		case !request.IsCustomerPackage(p):
			errs.Addf(key, "%q is not a Webex package (expected one of %s)", strings.TrimSpace(raw), quoteList(request.CustomerPackages))
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
		errs.Addf(key, "%q names no package (expected a comma list of %s)", v, quoteList(request.CustomerPackages))
		return nil, errs
	}
	if !request.IsSubscriberPackage(pkgs[0]) {
		errs.Addf(key, "%s cannot be the primary (first) package: the customer's admin gets the primary package and %s is not one a user can have (put one of %s first)",
			pkgs[0], pkgs[0], quoteList(request.SubscriberPackages))
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
	for _, r := range request.AddOnRules {
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
	case !request.IsCustomerPackage(p):
		return fmt.Sprintf("%q is not a Webex package (expected one of %s)", p, quoteList(pkgs))
	case !request.IsSubscriberPackage(p):
		return fmt.Sprintf("%q is not a subscriber package: users cannot get it (expected one of %s)", p, quoteList(subscriberOnly(pkgs)))
	case !slices.Contains(pkgs, p):
		return fmt.Sprintf("%q is not one of the customer's packages (%s)", p, quoteList(pkgs))
	}
	return ""
}

func subscriberOnly(pkgs []string) []string {
	var out []string
	for _, p := range pkgs {
		if request.IsSubscriberPackage(p) {
			out = append(out, p)
		}
	}
	return out
}
