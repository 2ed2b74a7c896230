package sandbox

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// exactKeys reports the first object key in data that matches no field of t exactly.
// encoding/json matches keys case-insensitively ("externalID" fills ExternalID), which
// Webex does not; a client sending the wrong case must hear about it here.
func exactKeys(data []byte, t reflect.Type) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return walkKeys(v, t, "")
}

func walkKeys(v any, t reflect.Type, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			fields := map[string]reflect.Type{}
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name != "" && name != "-" {
					fields[name] = f.Type
				}
			}
			for k, sub := range x {
				ft, ok := fields[k]
				if !ok {
					return fmt.Errorf("json: unknown field %q", at+k)
				}
				if err := walkKeys(sub, ft, at+k+"."); err != nil {
					return err
				}
			}
		case reflect.Map:
			for k, sub := range x {
				if err := walkKeys(sub, t.Elem(), at+k+"."); err != nil {
					return err
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, sub := range x {
				if err := walkKeys(sub, t.Elem(), at); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
