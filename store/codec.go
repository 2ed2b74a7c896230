package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// A request document is a hash with one field per JSON field of
// request.Request, each holding that field's JSON encoding: the
// document is never one blob, a single field can be read with HGET, and new
// fields of Request need no change here. The Lua compare-and-set compares the
// "version" and "state" fields in this same encoding.

// encodeDoc returns the hash fields of r.
func encodeDoc(r *request.Request) (map[string]string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.Ref(), err)
	}
	fields, err := splitObject(b)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.Ref(), err)
	}
	return fields, nil
}

// splitObject splits a JSON object as json.Marshal writes it (compact,
// valid) into its members' raw values by name, in one pass and without a
// second decode: documents are encoded on every transition.
func splitObject(b []byte) (map[string]string, error) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, errors.New("not a JSON object")
	}
	fields := make(map[string]string, 24)
	for i := 1; i < len(b)-1; {
		if b[i] != '"' {
			return nil, fmt.Errorf("member name expected at byte %d", i)
		}
		end := endOfString(b, i)
		if end >= len(b) || b[end] != ':' {
			return nil, fmt.Errorf("':' expected at byte %d", end)
		}
		var name string
		if err := json.Unmarshal(b[i:end], &name); err != nil {
			return nil, err
		}
		start := end + 1
		i = endOfValue(b, start)
		fields[name] = string(b[start:i])
		i++ // the ',' after the value, or the closing '}'
	}
	return fields, nil
}

// endOfString returns the index just past the string that starts at b[i].
func endOfString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// endOfValue returns the index of the ',' or '}' that ends the member value
// starting at b[i].
func endOfValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			i = endOfString(b, i)
			continue
		case c == '{' || c == '[':
			depth++
		case (c == '}' || c == ']') && depth > 0:
			depth--
		case (c == ',' || c == '}') && depth == 0:
			return i
		}
		i++
	}
	return i
}

// decodeDoc rebuilds a request from its hash fields. A field that is not
// valid JSON (a hand-edited or damaged document) is an error, not a panic.
func decodeDoc(id int64, fields map[string]string) (*request.Request, error) {
	n := 2
	for k, v := range fields {
		n += len(k) + len(v) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for k, v := range fields {
		if !json.Valid([]byte(v)) {
			return nil, fmt.Errorf("decode %s: field %q is not valid JSON", request.FormatID(id), k)
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k) // field names are plain ASCII: Go and JSON quote them alike
		b = append(b, ':')
		b = append(b, v...)
	}
	b = append(b, '}')
	var r request.Request
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", request.FormatID(id), err)
	}
	if r.ID != id {
		return nil, fmt.Errorf("decode %s: document says id %d", request.FormatID(id), r.ID)
	}
	return &r, nil
}

// pairs flattens fields into sorted field/value arguments for HSET.
func pairs(fields map[string]string) []any {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		out = append(out, k, fields[k])
	}
	return out
}

// storedState is how the "state" field of a document holds st.
func storedState(st request.State) string {
	b, _ := json.Marshal(string(st)) // marshalling a string cannot fail
	return string(b)
}

// storedVersion is how the "version" field of a document holds v.
func storedVersion(v int64) string { return strconv.FormatInt(v, 10) }

func encodeAudit(e request.AuditEntry) (string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("encode audit entry: %w", err)
	}
	return string(b), nil
}

func decodeAudit(s string) (request.AuditEntry, error) {
	var e request.AuditEntry
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return e, fmt.Errorf("decode audit entry: %w", err)
	}
	return e, nil
}
