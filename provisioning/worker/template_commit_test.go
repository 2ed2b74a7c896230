package worker_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// An approved template becomes a version: active at once with a
// provisioning id, else waiting for it; a second delivery of the job adds
// no second version and reports nothing.
func TestWorkerCommitTemplate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name           string
		provisioningID string
		state          request.State
		status         string
		wait           string
	}{
		{"with its provisioning id", "prov-1", request.StateDone, request.TemplateActive, ""},
		{"without one", "", request.StateWaiting, request.TemplatePending, request.WaitingForProvisioningID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := store.New(storetest.Client(t), storetest.Prefix(t))
			at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
			rec := &recorder{}
			w := &worker.Worker{Store: s, Jobs: s, Watch: s, Templates: s, Events: rec, Consumer: "c1", Now: func() time.Time { return at }}
			raw, err := json.Marshal(request.TemplateSpec{Name: "standard", Country: "US", Packages: []string{"webex_calling"}, ProvisioningID: tc.provisioningID})
			if err != nil {
				t.Fatal(err)
			}
			r := &request.Request{Kind: request.KindTemplate, State: request.StateApproved, Requester: "UALICE", Subject: "standard",
				Spec: raw, Hash: request.HashSpec(raw), ApprovedBy: "UBOB", ApprovedHash: request.HashSpec(raw)}
			if err := s.Create(ctx, r); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := w.Commit(ctx, r.ID); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Get(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tc.state || got.Result.Version != 1 || got.Result.WaitReason != tc.wait || got.Result.ProvisioningID != tc.provisioningID {
				t.Fatalf("state %s, v%d, wait %q, provisioning id %q", got.State, got.Result.Version, got.Result.WaitReason, got.Result.ProvisioningID)
			}
			if tc.wait != "" && !got.Result.WaitingSince.Equal(at) {
				t.Fatalf("waiting since %s, want %s", got.Result.WaitingSince, at)
			}
			cur, versions, err := s.Template(ctx, "standard")
			if err != nil {
				t.Fatal(err)
			}
			if len(versions) != 1 || versions[0].Status != tc.status {
				t.Fatalf("versions %+v", versions)
			}
			if (cur != nil) != (tc.status == request.TemplateActive) {
				t.Fatalf("current version %+v with status %s", cur, tc.status)
			}
			if n, states := rec.events(); n != 1 || states[0] != tc.state {
				t.Fatalf("%d events, settled %v", n, states)
			}
		})
	}
}
