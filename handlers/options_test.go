package handlers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/onboardbot/onboardbot/store"
)

func suggest(h *Handler, block, typed string) []string {
	resp := h.Options(context.Background(), &slack.InteractionCallback{
		Type: slack.InteractionTypeBlockSuggestion, User: slack.User{ID: "alice"}, BlockID: block, ActionID: actionValue, Value: typed,
	})
	var out []string
	for _, o := range resp.Options {
		out = append(out, o.Value)
	}
	return out
}

func TestOptions(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, true)
	ctx := context.Background()
	for _, tv := range []request.TemplateVersion{
		{Name: "de-standard", RequestID: 1, Status: request.TemplateActive, ProvisioningID: "PROV-DE-1", Spec: request.TemplateSpec{Country: "DE", Packages: []string{"webex_calling"}}},
		{Name: "at-pending", RequestID: 2, Status: request.TemplatePending, Spec: request.TemplateSpec{Country: "AT"}},
	} {
		if _, err := f.st.AddTemplateVersion(ctx, tv); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		ext   string
		kind  request.Kind
		state request.State
	}{
		{"MS-001", request.KindCustomer, request.StatePendingApproval},
		{"MS-002", request.KindCustomer, request.StateRejected},
		{"MS-003", request.KindAdopt, request.StateDone},
	} {
		r := &request.Request{Kind: c.kind, State: c.state, Requester: "alice", Subject: c.ext, ExternalID: c.ext}
		if err := f.st.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, block, typed string
		want               []string // exactly these, in order; nil: check only the count
		max                int
	}{
		{"active templates only", "template", "", []string{"de-standard"}, 1},
		{"templates filtered", "template", "zz", []string{}, 0},
		{"customers, not rejected ones", customerKey, "", []string{"MS-001", "MS-003"}, 2},
		{"customers filtered", customerKey, "003", []string{"MS-003"}, 1},
		{"country by name", "country", "switzerland", []string{"CH"}, 1},
		{"time zones filtered", "timezone", "berlin", []string{"Europe/Berlin"}, 1},
		{"time zones capped", "timezone", "", nil, maxOptions},
		{"unknown menu", "golf", "", []string{}, 0},
	}
	for _, c := range cases {
		got := suggest(f.h, c.block, c.typed)
		if len(got) > maxOptions || (c.want == nil && len(got) != c.max) {
			t.Errorf("%s: %d options", c.name, len(got))
			continue
		}
		if c.want != nil && strings.Join(got, ",") != strings.Join(c.want, ",") {
			if !(c.block == customerKey && sameSet(got, c.want)) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
	if got := suggest(f.h, "country", "de"); got[0] != "DE" {
		t.Errorf("typing de should offer DE first, got %v", got[:3])
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}

func TestCountryOptionsSupported(t *testing.T) {
	t.Parallel()
	got := countryOptions([]string{"de", " AT "})
	if len(got) != 2 || got[0].value != "AT" || got[1].value != "DE" {
		t.Fatalf("%v", got)
	}
	if n := len(countryOptions(nil)); n < 240 {
		t.Fatalf("only %d countries", n)
	}
}

// Every offered zone is one the parser accepts.
func TestTimezoneNamesLoad(t *testing.T) {
	t.Parallel()
	for _, tz := range timezoneNames {
		if _, err := input.ValidateTimezone("timezone", tz); err != nil {
			t.Errorf("%s: %v", tz, err)
		}
		if _, err := time.LoadLocation(tz); err != nil {
			t.Errorf("%s: %v", tz, err)
		}
	}
}

// pstnSetup answers ReadPSTN with fixed options, for a provisioned customer.
type pstnSetup struct {
	okSetup
	asked []string // "<orgId> <location>"
}

func (p *pstnSetup) ReadPSTN(_ context.Context, ref request.CustomerRef, location string) (*worker.PSTNState, string, error) {
	p.asked = append(p.asked, ref.OrgID+" "+location)
	return &worker.PSTNState{Options: []webex.PSTNConnectionOption{{ID: "1", DisplayName: request.PremisesOption}, {ID: "2", DisplayName: "Sandbox CCP"}}}, "", nil
}

// TestPSTNOptions: the PSTN form's connection menu lists what Webex offers
// at the customer and location of the form's draft, and nothing while the
// customer is not provisioned or the draft is someone else's.
func TestPSTNOptions(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, true)
	setup := &pstnSetup{}
	f.h.setup = setup
	ctx := context.Background()
	done := &request.Request{Kind: request.KindCustomer, State: request.StateDone, Requester: "alice", Subject: "MS-001", ExternalID: "MS-001",
		Result: request.Result{CustomerID: "cust-1", OrgID: "org-1"}}
	waiting := &request.Request{Kind: request.KindCustomer, State: request.StateWaiting, Requester: "alice", Subject: "MS-002", ExternalID: "MS-002"}
	for _, r := range []*request.Request{done, waiting} {
		r.Spec = mustMarshal(t, request.CustomerSpec{ExternalID: r.ExternalID, Country: "DE", Packages: []string{"webex_calling"}})
		if err := f.st.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	draft := func(owner, customer string) string {
		d := &store.Draft{Owner: owner, Kind: request.KindPSTN, Answers: map[string]string{customerKey: customer, "location": "Köln"}}
		if err := f.drafts.CreateDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d.Ref()
	}
	ask := func(metadata string) []string {
		resp := f.h.Options(ctx, &slack.InteractionCallback{Type: slack.InteractionTypeBlockSuggestion, User: slack.User{ID: "alice"},
			BlockID: "connection", View: slack.View{PrivateMetadata: metadata}})
		var out []string
		for _, o := range resp.Options {
			out = append(out, o.Value)
		}
		return out
	}
	if got := ask(draft("alice", "MS-001")); strings.Join(got, "|") != request.PremisesOption+"|Sandbox CCP" {
		t.Errorf("options %q, want Webex's two", got)
	}
	if len(setup.asked) != 1 || setup.asked[0] != "org-1 Köln" {
		t.Errorf("Webex was asked %q, want the customer's org at the draft's location", setup.asked)
	}
	for name, md := range map[string]string{"not provisioned": draft("alice", "MS-002"), "someone else's draft": draft("bob", "MS-001"), "no draft": "D-999"} {
		if got := ask(md); len(got) != 0 {
			t.Errorf("%s: options %q, want none", name, got)
		}
	}
}
