package input

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA zones must validate the same on a distroless image as on a laptop
	"unicode"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// ValidateCountry accepts an ISO 3166-1 alpha-2 code in any case and returns
// it upper-case. supported restricts it (SUPPORTED_COUNTRIES); empty means
// every code.
func ValidateCountry(key, v string, supported []string) (string, error) {
	code := strings.ToUpper(strings.TrimSpace(v))
	if !request.IsCountry(code) {
		return "", FieldError{key, fmt.Sprintf("%q is not an ISO 3166 alpha-2 country code (e.g. DE, AT, CH)", v)}
	}
	if len(supported) == 0 {
		return code, nil
	}
	for _, s := range supported {
		if strings.EqualFold(strings.TrimSpace(s), code) {
			return code, nil
		}
	}
	return "", FieldError{key, fmt.Sprintf("%s (%s) is not a supported country here (supported: %s)",
		code, request.CountryName(code), quoteList(supported))}
}

// ValidateTimezone accepts an IANA zone name. "Local" is refused: it means
// the server's zone, not the customer's.
func ValidateTimezone(key, v string) (string, error) {
	tz := strings.TrimSpace(v)
	if _, ok := knownZones.Load(tz); ok {
		return tz, nil
	}
	if tz == "" || tz == "Local" || strings.ContainsAny(tz, " \\") || !loads(tz) {
		return "", FieldError{key, fmt.Sprintf("%q is not an IANA time zone (e.g. Europe/Berlin)", v)}
	}
	knownZones.Store(tz, struct{}{})
	return tz, nil
}

// knownZones holds the zone names ValidateTimezone has accepted: loading a
// zone reads and parses its tzdata entry, two thirds of the time spent
// parsing a complete "new" command. Only names that loaded are kept, so it
// holds at most the few hundred IANA zones however many wrong names arrive.
var knownZones sync.Map

func loads(tz string) bool {
	_, err := time.LoadLocation(tz)
	return err == nil
}

// ValidateEmail accepts a bare address (no display name, a dot in the
// domain) and lower-cases its domain; the local part is kept, as some mail
// systems distinguish case there.
func ValidateEmail(key, v string) (string, error) {
	s := strings.TrimSpace(v)
	bad := FieldError{key, fmt.Sprintf("%q is not an email address", v)}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", bad
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") || strings.ContainsAny(domain, "[]") {
		return "", bad
	}
	if runeLen(s) > 254 {
		return "", FieldError{key, fmt.Sprintf("%d characters, at most 254", runeLen(s))}
	}
	return local + "@" + strings.ToLower(domain), nil
}

var requestIDLike = regexp.MustCompile(`^[Rr]-?\d+$`)

// MaxExternalIDLen bounds external ids: they are shown in every outcome line
// and used as Redis key parts.
const MaxExternalIDLen = 64

// ValidateExternalID checks the partner's own customer reference. Ids that
// look like request ids or bare numbers are refused because a CUSTOMER
// argument may be either (R-7 or MS-001) and must stay unambiguous.
func ValidateExternalID(key, v string) (string, error) {
	id := strings.TrimSpace(v)
	switch {
	case id == "":
		return "", FieldError{key, "empty; give your own customer reference (e.g. MS-001)"}
	case requestIDLike.MatchString(id):
		return "", FieldError{key, fmt.Sprintf("%q looks like a request id; use your own customer reference (e.g. MS-001)", v)}
	case isDigits(id):
		return "", FieldError{key, fmt.Sprintf("%q is all digits; bare numbers are read as request ids, so use a reference with letters (e.g. C-%s)", v, id)}
	}
	for _, r := range id {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return "", FieldError{key, fmt.Sprintf("%q contains a space or control character; use letters, digits and - . _", v)}
		}
	}
	if n := runeLen(id); n > MaxExternalIDLen {
		return "", FieldError{key, fmt.Sprintf("%d characters, at most %d", n, MaxExternalIDLen)}
	}
	return id, nil
}

// ValidateYes accepts only "yes": supported-location is a statement the
// requester makes, not a setting.
func ValidateYes(key, v string) error {
	if strings.EqualFold(strings.TrimSpace(v), "yes") {
		return nil
	}
	return FieldError{key, fmt.Sprintf("%q: must be yes — the HQ address must be a supported location for Webex Calling "+
		"(a country and address where Webex Calling service is offered); confirm with %s=yes", v, key)}
}

// ValidateOnOff reads an on/off switch.
func ValidateOnOff(key, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "yes", "true":
		return true, nil
	case "off", "no", "false":
		return false, nil
	}
	return false, FieldError{key, fmt.Sprintf("%q is not on or off", v)}
}

// validateToken checks an opaque id (provisioning id, org id, subscription):
// no spaces or control characters, bounded length.
func validateToken(key, v, what string, max int) (string, error) {
	s := strings.TrimSpace(v)
	if s == "" {
		return "", FieldError{key, "empty; expected " + what}
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", FieldError{key, fmt.Sprintf("%q contains a space or control character; expected %s", v, what)}
		}
	}
	if n := runeLen(s); n > max {
		return "", FieldError{key, fmt.Sprintf("%d characters, at most %d", n, max)}
	}
	return s, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
