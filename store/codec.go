package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/onboardbot/onboardbot/provisioning"
)

// A request document is a hash with one field per JSON field of
// provisioning.Request, each holding that field's JSON encoding: the
// document is never one blob, a single field can be read with HGET, and new
// fields of Request need no change here. The Lua compare-and-set compares the
// "version" and "state" fields in this same encoding.

// encodeDoc returns the hash fields of r.
func encodeDoc(r *provisioning.Request) (map[string]string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.Ref(), err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.Ref(), err)
	}
	fields := make(map[string]string, len(raw))
	for k, v := range raw {
		fields[k] = string(v)
	}
	return fields, nil
}

// decodeDoc rebuilds a request from its hash fields. A field that is not
// valid JSON (a hand-edited or damaged document) is an error, not a panic.
func decodeDoc(id int64, fields map[string]string) (*provisioning.Request, error) {
	raw := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		if !json.Valid([]byte(v)) {
			return nil, fmt.Errorf("decode %s: field %q is not valid JSON", provisioning.FormatID(id), k)
		}
		raw[k] = json.RawMessage(v)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", provisioning.FormatID(id), err)
	}
	var r provisioning.Request
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", provisioning.FormatID(id), err)
	}
	if r.ID != id {
		return nil, fmt.Errorf("decode %s: document says id %d", provisioning.FormatID(id), r.ID)
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
func storedState(st provisioning.State) string {
	b, _ := json.Marshal(string(st)) // marshalling a string cannot fail
	return string(b)
}

// storedVersion is how the "version" field of a document holds v.
func storedVersion(v int64) string { return strconv.FormatInt(v, 10) }

func encodeAudit(e provisioning.AuditEntry) (string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("encode audit entry: %w", err)
	}
	return string(b), nil
}

func decodeAudit(s string) (provisioning.AuditEntry, error) {
	var e provisioning.AuditEntry
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return e, fmt.Errorf("decode audit entry: %w", err)
	}
	return e, nil
}
