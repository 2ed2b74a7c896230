package input

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError is one invalid value, for the user: Key is the command key
// ("email", "row 3: phone") and Message says what is wrong and what is
// expected, quoting the bad value.
type FieldError struct {
	Key     string
	Message string
}

func (e FieldError) Error() string {
	if e.Key == "" {
		return e.Message
	}
	return e.Key + ": " + e.Message
}

// FieldErrors collects every problem of one input, so the user fixes them
// all in one go instead of one per attempt.
type FieldErrors []FieldError

// Error lists every problem, one per line.
func (es FieldErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err is es as an error, nil when empty: returning a nil FieldErrors as an
// error interface would be a non-nil error.
func (es FieldErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Add records a problem with key.
func (es *FieldErrors) Add(key, message string) {
	*es = append(*es, FieldError{Key: key, Message: message})
}

// Addf records a problem with key, formatted.
func (es *FieldErrors) Addf(key, format string, args ...any) {
	es.Add(key, fmt.Sprintf(format, args...))
}

// Append records err when it is not nil: a FieldError or FieldErrors as it
// is, anything else under key.
func (es *FieldErrors) Append(key string, err error) {
	if err == nil {
		return
	}
	var many FieldErrors
	if errors.As(err, &many) {
		*es = append(*es, many...)
		return
	}
	var one FieldError
	if errors.As(err, &one) {
		*es = append(*es, one)
		return
	}
	es.Add(key, err.Error())
}

// Has reports whether key has a problem recorded.
func (es FieldErrors) Has(key string) bool {
	for _, e := range es {
		if e.Key == key {
			return true
		}
	}
	return false
}

// ByKey groups the messages per key, e.g. for inline errors in a modal.
func (es FieldErrors) ByKey() map[string]string {
	m := make(map[string]string, len(es))
	for _, e := range es {
		if prev, ok := m[e.Key]; ok {
			m[e.Key] = prev + "; " + e.Message
		} else {
			m[e.Key] = e.Message
		}
	}
	return m
}

// runeLen counts code points: every length limit of the grammar is in
// characters, not bytes.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// checkText checks a free-text value: valid UTF-8, no control characters
// (they break Webex payloads and Slack rendering) and at most max code points.
func checkText(key, v string, max int) error {
	if !utf8.ValidString(v) {
		return FieldError{key, fmt.Sprintf("%q is not valid UTF-8 text", v)}
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return FieldError{key, fmt.Sprintf("%q contains a control character (%U)", v, r)}
		}
	}
	if n := runeLen(v); n > max {
		return FieldError{key, fmt.Sprintf("%d characters, at most %d", n, max)}
	}
	return nil
}

// quoteList renders values for "expected one of …" messages.
func quoteList(values []string) string { return strings.Join(values, ", ") }

// keyArgs reads command keys; a key given with an empty value counts as not
// given. need records the required keys that are absent.
type keyArgs struct {
	args    map[string]string
	missing []string
}

func (k *keyArgs) get(key string) (string, bool) {
	v := strings.TrimSpace(k.args[key])
	return v, v != ""
}

func (k *keyArgs) need(key string) (string, bool) {
	v, ok := k.get(key)
	if !ok {
		k.missing = append(k.missing, key)
	}
	return v, ok
}
