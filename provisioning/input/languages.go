package input

import (
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// NormalizeLanguage accepts de, de_DE, de-DE and de_de and returns the
// customer form Webex takes: "de_DE", or "de" when no region is given.
func NormalizeLanguage(key, v string) (string, error) {
	s := strings.TrimSpace(v)
	lang, region, hasRegion := strings.Cut(strings.ReplaceAll(s, "-", "_"), "_")
	lang = strings.ToLower(lang)
	if !request.IsLanguage(lang) {
		return "", FieldError{key, fmt.Sprintf("%q is not a language Webex supports (expected a language code such as de, de_DE or en_US; one of %s)",
			v, quoteList(request.LanguageCodes()))}
	}
	if !hasRegion {
		return lang, nil
	}
	region = strings.ToUpper(region)
	if !request.IsCountry(region) {
		return "", FieldError{key, fmt.Sprintf("%q: %q is not an ISO 3166 alpha-2 country code (expected e.g. de_DE)", v, region)}
	}
	return lang + "_" + region, nil
}
