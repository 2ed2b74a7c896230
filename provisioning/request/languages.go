package request

import (
	"fmt"
	"sort"
	"strings"
)

// language is an ISO 639-1 language Webex offers for organisations, meeting
// sites and calling announcements. Region is the country whose variant is
// used when a location needs a regional language ("en" → en_us) and the
// customer's country does not speak it.
type language struct {
	Code, Name, Region string
}

// languages are the languages Webex's user interface is localised into.
// Webex's own list varies per service; the precheck catches the rest.
var languages = []language{
	{"ar", "Arabic", "SA"}, {"bg", "Bulgarian", "BG"}, {"ca", "Catalan", "ES"},
	{"cs", "Czech", "CZ"}, {"cy", "Welsh", "GB"}, {"da", "Danish", "DK"},
	{"de", "German", "DE"}, {"el", "Greek", "GR"}, {"en", "English", "US"},
	{"es", "Spanish", "ES"}, {"et", "Estonian", "EE"}, {"fi", "Finnish", "FI"},
	{"fr", "French", "FR"}, {"he", "Hebrew", "IL"}, {"hi", "Hindi", "IN"},
	{"hr", "Croatian", "HR"}, {"hu", "Hungarian", "HU"}, {"id", "Indonesian", "ID"},
	{"it", "Italian", "IT"}, {"ja", "Japanese", "JP"}, {"ko", "Korean", "KR"},
	{"lt", "Lithuanian", "LT"}, {"lv", "Latvian", "LV"}, {"ms", "Malay", "MY"},
	{"nb", "Norwegian Bokmål", "NO"}, {"nl", "Dutch", "NL"}, {"no", "Norwegian", "NO"},
	{"pl", "Polish", "PL"}, {"pt", "Portuguese", "BR"}, {"ro", "Romanian", "RO"},
	{"ru", "Russian", "RU"}, {"sk", "Slovak", "SK"}, {"sl", "Slovenian", "SI"},
	{"sr", "Serbian", "RS"}, {"sv", "Swedish", "SE"}, {"th", "Thai", "TH"},
	{"tr", "Turkish", "TR"}, {"uk", "Ukrainian", "UA"}, {"vi", "Vietnamese", "VN"},
	{"zh", "Chinese", "CN"},
}

// countryLanguage is the language a customer in the country most likely
// wants when neither the command nor the template names one. Countries not
// listed fall back to English.
var countryLanguage = map[string]string{
	"AD": "ca", "AE": "ar", "AR": "es", "AT": "de", "AU": "en", "BE": "nl", "BG": "bg",
	"BH": "ar", "BO": "es", "BR": "pt", "CA": "en", "CH": "de", "CL": "es", "CN": "zh",
	"CO": "es", "CR": "es", "CY": "el", "CZ": "cs", "DE": "de", "DK": "da", "DO": "es",
	"EC": "es", "EE": "et", "EG": "ar", "ES": "es", "FI": "fi", "FR": "fr", "GB": "en",
	"GR": "el", "GT": "es", "HK": "zh", "HN": "es", "HR": "hr", "HU": "hu", "ID": "id",
	"IE": "en", "IL": "he", "IN": "en", "IT": "it", "JO": "ar", "JP": "ja", "KR": "ko",
	"KW": "ar", "LI": "de", "LT": "lt", "LU": "fr", "LV": "lv", "MA": "ar", "MC": "fr",
	"MX": "es", "MY": "ms", "NI": "es", "NL": "nl", "NO": "nb", "NZ": "en", "OM": "ar",
	"PA": "es", "PE": "es", "PH": "en", "PL": "pl", "PR": "es", "PT": "pt", "PY": "es",
	"QA": "ar", "RO": "ro", "RS": "sr", "RU": "ru", "SA": "ar", "SE": "sv", "SG": "en",
	"SI": "sl", "SK": "sk", "SM": "it", "SV": "es", "TH": "th", "TR": "tr", "TW": "zh",
	"UA": "uk", "US": "en", "UY": "es", "VA": "it", "VE": "es", "VN": "vi", "ZA": "en",
}

var languageByCode = func() map[string]language {
	m := make(map[string]language, len(languages))
	for _, l := range languages {
		m[l.Code] = l
	}
	return m
}()

// LanguageCodes lists the accepted ISO 639-1 codes, sorted.
func LanguageCodes() []string {
	codes := make([]string, 0, len(languages))
	for _, l := range languages {
		codes = append(codes, l.Code)
	}
	sort.Strings(codes)
	return codes
}

// LanguageName is the English name of a language code ("de" or "de_DE"),
// for summaries; "" when unknown.
func LanguageName(code string) string {
	lang, region, _ := strings.Cut(strings.ReplaceAll(code, "-", "_"), "_")
	l, ok := languageByCode[strings.ToLower(lang)]
	if !ok {
		return ""
	}
	if region == "" {
		return l.Name
	}
	return fmt.Sprintf("%s (%s)", l.Name, CountryName(strings.ToUpper(region)))
}

// DefaultLanguage is the customer language for a country when none is given:
// the country's language with the country as region ("de_DE").
func DefaultLanguage(country string) string {
	lang, ok := countryLanguage[strings.ToUpper(country)]
	if !ok {
		return "en"
	}
	return lang + "_" + strings.ToUpper(country)
}

// LocationLanguage is the lower-case form Webex Calling takes for a
// location's language ("de_de"). A bare language takes the country as its
// region when people there speak it, else the language's main region, so
// "de" in DE gives de_de and "en" in DE gives en_us.
func LocationLanguage(lang, country string) string {
	l, region, hasRegion := strings.Cut(strings.ReplaceAll(lang, "-", "_"), "_")
	l = strings.ToLower(l)
	if l == "" {
		return ""
	}
	if hasRegion {
		return l + "_" + strings.ToLower(region)
	}
	country = strings.ToUpper(country)
	if countryLanguage[country] == l {
		return l + "_" + strings.ToLower(country)
	}
	if def, ok := languageByCode[l]; ok {
		return l + "_" + strings.ToLower(def.Region)
	}
	return l + "_" + strings.ToLower(country)
}

// DisplayLanguage is a language code as people write it, whatever form
// Webex stores: "de_de" (a location's) and "de_DE" both show as "de_DE".
func DisplayLanguage(code string) string {
	lang, region, hasRegion := strings.Cut(strings.ReplaceAll(code, "-", "_"), "_")
	if !hasRegion {
		return strings.ToLower(lang)
	}
	return strings.ToLower(lang) + "_" + strings.ToUpper(region)
}

// IsLanguage reports whether code is a language Webex supports (lower case).
func IsLanguage(code string) bool {
	_, ok := languageByCode[code]
	return ok
}
