package input

import (
	"fmt"
	"slices"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// PlanKeys are the keys that make `new` an onboarding plan: the HQ's PSTN
// connection (pstn=, with route-type= and route= for the premises-based
// option), a block of numbers for the HQ (numbers=FROM-TO, main=) and users
// (rows=, as for `users`).
var PlanKeys = []string{"pstn", "route-type", "route", "numbers", "main", "rows"}

// parsePlan reads the plan keys of a `new` whose customer keys parsed into
// c. Everything is checked that can be before the customer exists: the
// keys, the connection's route, the numbers against the country, the rows
// against the packages and ordered quantities. What only Webex can say
// (the options it offers, which numbers are free) is prechecked by the
// worker just before each step runs. A new customer has one location, its
// HQ, with no PSTN connection and no numbers: numbers need pstn=, phone=auto
// needs numbers=, and every row lives at the HQ.
func parsePlan(args map[string]string, c *request.CustomerSpec, errs *FieldErrors) *request.PlanSteps {
	in := &keyArgs{args: args}
	ref := request.CustomerRef{ExternalID: c.ExternalID, Packages: c.Packages, Limits: c.Limits, AdminEmail: c.Email, Country: c.Country}
	hq := c.LocationName
	steps := &request.PlanSteps{}
	if conn, ok := in.get("pstn"); ok {
		pstnArgs := map[string]string{"location": hq, "connection": conn}
		for _, k := range []string{"route-type", "route"} {
			if v, given := args[k]; given {
				pstnArgs[k] = v
			}
		}
		spec, _, perrs := ParsePSTN(pstnArgs, ref)
		for _, e := range perrs {
			key := e.Key
			if key == "connection" {
				key = "pstn"
			}
			errs.Add(key, strings.Replace(e.Message, "connection=", "pstn=", 1))
		}
		steps.PSTN = spec
	} else {
		for _, k := range []string{"route-type", "route"} {
			if _, given := args[k]; given {
				errs.Addf(k, "only with pstn=%q (the premises-based connection)", request.PremisesOption)
			}
		}
	}
	steps.Numbers = parsePlanNumbers(in, ref, hq, steps.PSTN != nil, errs)
	if text, ok := in.get("rows"); ok {
		steps.Users = parsePlanRows(text, ref, hq, steps.Numbers != nil, errs)
	}
	if steps.PSTN == nil && steps.Numbers == nil && steps.Users == nil {
		return nil
	}
	return steps
}

// parsePlanNumbers reads numbers= and main=.
func parsePlanNumbers(in *keyArgs, ref request.CustomerRef, hq string, pstn bool, errs *FieldErrors) *request.NumbersSpec {
	block, ok := in.get("numbers")
	main, hasMain := in.get("main")
	if !ok {
		if hasMain {
			errs.Add("main", "only with numbers=FROM-TO (the block the main number is one of)")
		}
		return nil
	}
	spec := &request.NumbersSpec{Customer: ref, Location: hq}
	var err error
	if spec.Numbers, err = ParseNumberBlock("numbers", block, ref.Country); err != nil {
		errs.Append("numbers", err)
	}
	if !pstn {
		errs.Addf("numbers", "needs pstn=…: a new customer's %s has no PSTN connection, and numbers can only be added on a premises-based or non-integrated cloud connected one", hq)
	}
	if hasMain {
		if spec.Main, err = NormalizePhone("main", main, ref.Country); err != nil {
			errs.Append("main", err)
		} else if len(spec.Numbers) > 0 && !slices.Contains(spec.Numbers, spec.Main) {
			errs.Addf("main", "%s is not in the block numbers=%s", spec.Main, block)
		}
	}
	if errs.Has("numbers") || errs.Has("main") {
		return nil
	}
	return spec
}

// parsePlanRows reads rows= for a customer that does not exist yet.
func parsePlanRows(text string, ref request.CustomerRef, hq string, numbers bool, errs *FieldErrors) *request.UsersSpec {
	rows, rerrs := ParseRows(text, RowsOptions{Packages: ref.Packages, AdminEmail: ref.AdminEmail, Limits: ref.Limits, DefaultCountry: ref.Country, DefaultLocation: hq})
	*errs = append(*errs, rerrs...)
	for _, r := range rows {
		key := fmt.Sprintf("row %d", r.Line)
		if !strings.EqualFold(r.Location, hq) {
			errs.Addf(key+": location", "%q does not exist: a new customer has only its HQ location %q (add others with `location` once it is provisioned)", r.Location, hq)
		}
		if r.Phone == request.PhoneAuto && !numbers {
			errs.Addf(key+": phone", "auto takes a number of the HQ, and a new customer has none: add numbers=FROM-TO (with pstn=…), or give the number")
		}
	}
	if len(rerrs) > 0 {
		return nil
	}
	return &request.UsersSpec{Customer: ref, Rows: rows}
}
