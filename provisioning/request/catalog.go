package request

import "strings"

var countryByCode = func() map[string]country {
	m := make(map[string]country, len(countries))
	for _, c := range countries {
		m[c.Code] = c
	}
	return m
}()

// CountryName is the English name of an ISO 3166 alpha-2 code, "" when unknown.
func CountryName(code string) string { return countryByCode[strings.ToUpper(code)].Name }

// DefaultTimezone is the IANA zone for a country when none is given; "" when
// the country spans several zones and the user must choose.
func DefaultTimezone(code string) string { return countryByCode[strings.ToUpper(code)].Timezone }

// IsCountry reports whether code is an ISO 3166 alpha-2 code (upper case).
func IsCountry(code string) bool {
	_, ok := countryByCode[code]
	return ok
}
