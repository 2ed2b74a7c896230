package request

import (
	"testing"
	"time"
)

func TestLanguagesAndCountries(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ lang, country, want string }{
		{"de_DE", "DE", "de_de"}, {"de", "DE", "de_de"}, {"de", "AT", "de_at"},
		{"en", "DE", "en_us"}, {"fr_CA", "CA", "fr_ca"}, {"", "DE", ""},
	} {
		if got := LocationLanguage(tt.lang, tt.country); got != tt.want {
			t.Errorf("LocationLanguage(%q, %q) = %q, want %q", tt.lang, tt.country, got, tt.want)
		}
	}
	for country, want := range map[string]string{"DE": "de_DE", "AT": "de_AT", "US": "en_US", "KE": "en"} {
		if got := DefaultLanguage(country); got != want {
			t.Errorf("DefaultLanguage(%s) = %q, want %q", country, got, want)
		}
	}
	for country, want := range map[string]string{"DE": "Europe/Berlin", "AT": "Europe/Vienna", "ES": "Europe/Madrid", "US": "", "AU": "", "XX": ""} {
		if got := DefaultTimezone(country); got != want {
			t.Errorf("DefaultTimezone(%s) = %q, want %q", country, got, want)
		}
	}
	if len(countries) != 249 || CountryName("de") != "Germany" || LanguageName("de_DE") != "German (Germany)" {
		t.Errorf("tables: %d countries, %q, %q", len(countries), CountryName("de"), LanguageName("de_DE"))
	}
	seen := map[string]bool{}
	for _, c := range countries {
		if len(c.Code) != 2 || seen[c.Code] || c.Name == "" {
			t.Errorf("bad country entry %+v", c)
		}
		seen[c.Code] = true
		if c.Timezone != "" {
			if _, err := time.LoadLocation(c.Timezone); err != nil {
				t.Errorf("%s: default timezone: %v", c.Code, err)
			}
		}
	}
	for _, l := range languages {
		if _, ok := countryByCode[l.Region]; !ok {
			t.Errorf("language %s: region %s is not a country", l.Code, l.Region)
		}
	}
	for c, l := range countryLanguage {
		if _, ok := countryByCode[c]; !ok || languageByCode[l].Code == "" {
			t.Errorf("countryLanguage %s=%s refers to an unknown entry", c, l)
		}
	}
}
