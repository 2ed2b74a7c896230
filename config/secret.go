package config

import (
	"fmt"
	"io"
)

const redacted = "[redacted]"

// Secret is a configuration value that must not reach a log line or an
// error by accident: every way of printing or encoding it yields
// "[redacted]". Value returns the real value for the one place that needs it.
type Secret string

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer, so %#v of a Config is safe too.
func (s Secret) GoString() string { return redacted }

// Format covers every fmt verb (%s, %v, %q, %x, ...), not only those that
// would call String.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON keeps secrets out of JSON logs and dumps.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText keeps secrets out of text encoders (and JSON map keys).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
