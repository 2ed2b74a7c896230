package store

import (
	"encoding/json"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// referenceFields is what encodeDoc must return: each top-level member of
// r's JSON by name, as encoding/json itself splits it.
func referenceFields(t *testing.T, r *request.Request) map[string]string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range raw {
		out[k] = string(v)
	}
	return out
}

func TestDocumentCodec(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 10, 42, 0, 123456789, time.UTC)
	tricky := `quote " backslash \ brace } bracket ] comma , colon : unicode Müller – 🚀 <&>`
	for _, r := range []*request.Request{
		{ID: 1, Kind: request.KindCustomer, State: request.StateDraft, CreatedAt: at, UpdatedAt: at},
		{
			ID: 42, Kind: request.KindUsers, State: request.StateFailed, Version: 7, Requester: "U1",
			Subject: tricky, ExternalID: "MS-001", CreatedAt: at, UpdatedAt: at.Add(time.Hour),
			Spec: json.RawMessage(`{"rows":[{"email":"a@b.example","note":"} ] , \" {"}],"n":[1,2,[3,{"x":null}]],"ok":true}`),
			Hash: "abc123", Precheck: request.Precheck{Status: request.PrecheckFailed, Message: tricky, At: at},
			ApprovedBy: "U2", ApprovedAt: at, ApprovedHash: "abc123", Reason: tricky,
			Summary: request.MessageRef{Channel: "C1", TS: "1700000000.000100"},
		},
	} {
		got, err := encodeDoc(r)
		if err != nil {
			t.Fatalf("encode %s: %v", r.Ref(), err)
		}
		if want := referenceFields(t, r); !maps.Equal(got, want) {
			t.Fatalf("encode %s:\n got %v\nwant %v", r.Ref(), got, want)
		}
		back, err := decodeDoc(r.ID, got)
		if err != nil {
			t.Fatalf("decode %s: %v", r.Ref(), err)
		}
		again, _ := encodeDoc(back)
		if !maps.Equal(again, got) || !reflect.DeepEqual(back.Subject, r.Subject) || back.Version != r.Version {
			t.Fatalf("%s does not survive encode/decode:\n%v\n%v", r.Ref(), got, again)
		}
	}
}

func TestDecodeDocRefusesDamage(t *testing.T) {
	t.Parallel()
	good, err := encodeDoc(&request.Request{ID: 3, Kind: request.KindCustomer, State: request.StateDraft})
	if err != nil {
		t.Fatal(err)
	}
	for name, damage := range map[string]func(map[string]string){
		"field not JSON":        func(f map[string]string) { f["subject"] = `not json` },
		"field smuggling a key": func(f map[string]string) { f["subject"] = `"x","version":99` },
		"other id":              func(f map[string]string) { f["id"] = `4` },
		"wrong type":            func(f map[string]string) { f["version"] = `"seven"` },
	} {
		f := maps.Clone(good)
		damage(f)
		if _, err := decodeDoc(3, f); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func FuzzSplitObject(f *testing.F) {
	f.Add(`x`, `{"a":[1,{"b":"}"}]}`)
	f.Add(`"\\`, `}`)
	f.Fuzz(func(t *testing.T, subject, spec string) {
		r := &request.Request{ID: 1, Kind: request.KindCustomer, Subject: subject, Reason: spec}
		if json.Valid([]byte(spec)) {
			r.Spec = json.RawMessage(spec)
		}
		got, err := encodeDoc(r)
		if err != nil {
			return // json.Marshal refused (never for these types), nothing to split
		}
		if want := referenceFields(t, r); !maps.Equal(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
	})
}
