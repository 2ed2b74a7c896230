package handlers

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// FuzzViewSubmission feeds arbitrary view_submission payloads, decoded the
// way the HTTP transport decodes them, to the form code. It calls
// viewSubmission directly, not Interaction, whose recover would hide a
// panic. Drafts D-1 and D-2 exist, so fuzzed payloads reach every step.
func FuzzViewSubmission(f *testing.F) {
	seeds := []string{
		`{"type":"view_submission","user":{"id":"alice"},"view":{"callback_id":"form:customer:0","private_metadata":"D-1","state":{"values":{"email":{"value":{"type":"plain_text_input","value":"x@"}}}}}}`,
		`{"type":"view_submission","user":{"id":"alice"},"view":{"callback_id":"form:customer:1","private_metadata":"D-1","state":{"values":{"package":{"value":{"type":"multi_static_select","selected_options":[{"value":"webex_calling"},{"value":""}]}},"primary":{"value":{"selected_option":{"value":"cx_voice_ports"}}}}}}}`,
		`{"type":"view_submission","user":{"id":"alice"},"view":{"callback_id":"form:users:0","private_metadata":"D-2","state":{"values":{"customer":{"value":{"selected_option":{"value":"R-1"}}},"rows":{"value":{"value":"a,b,\"c"}}}}}}`,
		`{"type":"view_submission","user":{"id":"alice"},"view":{"callback_id":"form:customer:4","private_metadata":"D-1","state":null}}`,
		`{"type":"view_submission","user":{"id":"alice"},"view":{"callback_id":"form:customer:done","private_metadata":"D-9223372036854775807"}}`,
		`{"type":"view_submission","view":{"callback_id":"form:::","private_metadata":"d-"}}`,
		`{}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	fh := newFormHarness(f, true)
	ctx := context.Background()
	for _, kind := range []string{"customer", "users"} {
		d := sampleDrafts()[request.Kind(kind)]
		d.Owner = "alice"
		if err := fh.drafts.CreateDraft(ctx, d); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, payload string) {
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(payload), &cb); err != nil {
			return
		}
		r := fh.h.viewSubmission(ctx, &cb)
		if r != nil && r.View != nil {
			if r.View.View != nil {
				if probs := checkView(*r.View.View); len(probs) > 0 {
					t.Fatalf("answer breaks Slack's limits: %v", probs)
				}
			}
			for k := range r.View.Errors {
				if k == "" {
					t.Fatalf("an inline error without a block id: %v", r.View.Errors)
				}
			}
		}
	})
}
