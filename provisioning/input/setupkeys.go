package input

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"github.com/onboardbot/onboardbot/provisioning/request"
)

// LocationKeys is every key `location CUSTOMER` accepts.
var LocationKeys = []string{"name", "address", "address2", "city", "state", "zip", "country", "timezone", "language", "elin"}

// RequiredLocationKeys must be given.
var RequiredLocationKeys = []string{"name", "address", "city", "state", "zip", "timezone", "language"}

// maxLocationName is Webex Calling's limit on a location name.
const maxLocationName = 80

// ParseLocation validates the keys of `location CUSTOMER`. The country
// defaults to the customer's.
func ParseLocation(args map[string]string, ref request.CustomerRef, supported []string) (spec *request.LocationSpec, missing []string, errs FieldErrors) {
	checkUnknownKeys(args, LocationKeys, &errs)
	in := &keyArgs{args: args}
	l := &request.LocationSpec{Customer: ref}
	if v, ok := in.need("name"); ok {
		if err := checkText("name", v, maxLocationName); err != nil {
			errs.Append("name", err)
		}
		l.Name = v
	}
	l.Address.Country = ref.Country
	if v, ok := in.get("country"); ok {
		l.Address.Country, _ = appendErr(&errs, "country")(ValidateCountry("country", v, supported))
	}
	if l.Address.Country == "" {
		in.missing = append(in.missing, "country")
	}
	for _, f := range []struct {
		key      string
		dst      *string
		required bool
	}{
		{"address", &l.Address.Line1, true}, {"address2", &l.Address.Line2, false},
		{"city", &l.Address.City, true}, {"state", &l.Address.State, true}, {"zip", &l.Address.Zip, true},
	} {
		get := in.get
		if f.required {
			get = in.need
		}
		if v, ok := get(f.key); ok {
			if err := checkText(f.key, v, maxAddressLine); err != nil {
				errs.Append(f.key, err)
			}
			*f.dst = v
		}
	}
	if v, ok := in.need("timezone"); ok {
		l.Timezone, _ = appendErr(&errs, "timezone")(ValidateTimezone("timezone", v))
	}
	if v, ok := in.need("language"); ok {
		if lang, err := NormalizeLanguage("language", v); err != nil {
			errs.Append("language", err)
		} else {
			l.Language = request.LocationLanguage(lang, l.Address.Country)
		}
	}
	if v, ok := in.get("elin"); ok {
		l.ELIN, _ = appendErr(&errs, "elin")(ValidateELIN("elin", v, l.Address.Country))
	}
	if len(errs) > 0 || len(in.missing) > 0 {
		return nil, in.missing, errs
	}
	return l, nil, nil
}

// maxBlock bounds one `numbers … add=` block: Webex adds numbers in batches
// and a typo in a range end should not order a million numbers.
const maxBlock = 1000

// ParseNumberBlock expands "+4930555001-+4930555099" (or one number) into
// E.164 numbers, each valid for phonenumbers.
func ParseNumberBlock(key, v, country string) ([]string, error) {
	from, to, isRange := strings.Cut(strings.TrimSpace(v), "-+")
	if isRange {
		to = "+" + to
	}
	first, err := NormalizePhone(key, from, country)
	if err != nil || first == request.PhoneAuto {
		return nil, FieldError{key, fmt.Sprintf("%q is not a number or block (expected +4930555001-+4930555099)", v)}
	}
	if err := checkCallingCode(key, first, country); err != nil {
		return nil, err
	}
	if !isRange {
		return []string{first}, nil
	}
	last, err := NormalizePhone(key, to, country)
	if err != nil || last == request.PhoneAuto || len(last) != len(first) {
		return nil, FieldError{key, fmt.Sprintf("%q: the block's end %q is not a number of the same length as its start", v, to)}
	}
	a, _ := new(big.Int).SetString(first[1:], 10)
	b, _ := new(big.Int).SetString(last[1:], 10)
	n := new(big.Int).Sub(b, a)
	if n.Sign() < 0 || n.Cmp(big.NewInt(maxBlock-1)) > 0 {
		return nil, FieldError{key, fmt.Sprintf("%q: a block holds 1 to %d numbers, start first", v, maxBlock)}
	}
	out := make([]string, 0, n.Int64()+1)
	for i := int64(0); i <= n.Int64(); i++ {
		num := new(big.Int).Add(a, big.NewInt(i)).String()
		e164, err := NormalizePhone(key, "+"+strings.Repeat("0", len(first)-1-len(num))+num, country)
		if err != nil {
			return nil, FieldError{key, fmt.Sprintf("%q: +%s in the block is not a valid number", v, num)}
		}
		out = append(out, e164)
	}
	return out, nil
}

// checkCallingCode refuses a number whose country calling code is not that
// of country: Webex adds a location's numbers only from its own country.
func checkCallingCode(key, e164, country string) error {
	if country == "" {
		return nil
	}
	num, err := phonenumbers.Parse(e164, "")
	want := phonenumbers.GetCountryCodeForRegion(country)
	if err != nil || want == 0 || int(num.GetCountryCode()) == want {
		return nil
	}
	return FieldError{key, fmt.Sprintf("%s is a number of +%d, not of %s (+%d): a location takes numbers of its own country", e164, num.GetCountryCode(), country, want)}
}

// ChangeKeys is every key `change CUSTOMER` accepts.
var ChangeKeys = []string{"user", "package", "phone", "extension", "location"}

// ParseChange validates `change CUSTOMER user=EMAIL package=P [phone=+…|auto]
// [extension=N] [location=NAME]`: the package must be a subscriber package
// of the customer; a number is for a calling package only. Whether the user
// needs one (a move from webex_meetings) or may not have one (between
// calling packages, Webex keeps the number) depends on the user's package
// now: the precheck asks Webex.
func ParseChange(args map[string]string, ref request.CustomerRef) (*request.ChangeSpec, []string, FieldErrors) {
	var errs FieldErrors
	checkUnknownKeys(args, ChangeKeys, &errs)
	in := &keyArgs{args: args}
	c := &request.ChangeSpec{Customer: ref}
	if v, ok := in.get("phone"); ok {
		c.Phone, _ = appendErr(&errs, "phone")(NormalizePhone("phone", v, ref.Country))
	}
	if v, ok := in.get("extension"); ok {
		if !isDigits(v) || len(v) < 2 || len(v) > 10 {
			errs.Addf("extension", "%q is not an extension (2 to 10 digits)", v)
		}
		c.Extension = v
	}
	if v, ok := in.get("location"); ok {
		errs.Append("location", checkText("location", v, maxLocationName))
		c.Location = v
	}
	if c.Number() && c.Location == "" {
		c.Location = request.DefaultLocationName
	}
	if v, ok := in.need("user"); ok {
		c.Email, _ = appendErr(&errs, "user")(ValidateEmail("user", v))
	}
	if v, ok := in.need("package"); ok {
		switch {
		case !request.IsSubscriberPackage(v):
			errs.Addf("package", "%q is not a user package (expected one of %s)", v, quoteList(request.SubscriberPackages))
		case len(ref.Packages) > 0 && !slices.Contains(ref.Packages, v):
			errs.Addf("package", "%q is not one of the customer's packages (%s)", v, quoteList(ref.Packages))
		case ref.AdminEmail != "" && strings.EqualFold(c.Email, ref.AdminEmail) && v != ref.Packages[0]:
			errs.Addf("package", "%s is the customer's admin and keeps the primary package %s (downgrading the admin is not supported)", c.Email, ref.Packages[0])
		case !request.CallingSubscriberPackage(v) && (c.Number() || c.Location != ""):
			errs.Addf("phone", "%s is not a calling package: leave phone=, extension= and location= out", v)
		}
		c.Package = v
	}
	if len(errs) > 0 || len(in.missing) > 0 {
		return nil, in.missing, errs
	}
	return c, nil, nil
}

// ParseRemove validates `remove CUSTOMER user=EMAIL`; the admin stays.
func ParseRemove(args map[string]string, ref request.CustomerRef) (*request.RemoveSpec, []string, FieldErrors) {
	var errs FieldErrors
	checkUnknownKeys(args, []string{"user"}, &errs)
	in := &keyArgs{args: args}
	r := &request.RemoveSpec{Customer: ref}
	if v, ok := in.need("user"); ok {
		r.Email, _ = appendErr(&errs, "user")(ValidateEmail("user", v))
		if ref.AdminEmail != "" && strings.EqualFold(r.Email, ref.AdminEmail) {
			errs.Addf("user", "%s is the customer's admin and cannot be removed", r.Email)
		}
	}
	if len(errs) > 0 || len(in.missing) > 0 {
		return nil, in.missing, errs
	}
	return r, nil, nil
}

func checkUnknownKeys(args map[string]string, allowed []string, errs *FieldErrors) {
	for _, k := range sortedKeys(args) {
		if !slices.Contains(allowed, k) {
			errs.Addf(k, "unknown key (expected one of %s)", quoteList(allowed))
		}
	}
}
