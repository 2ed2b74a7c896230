package worker_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/provisioning/worker"
)

func locationSpec(ref request.CustomerRef, name, elin string) request.LocationSpec {
	return request.LocationSpec{Customer: ref, Name: name,
		Address:  request.Address{Line1: "Domkloster 4", City: "Köln", State: "NRW", Zip: "50667", Country: "DE"},
		Timezone: "Europe/Berlin", Language: "de_de", ELIN: elin}
}

func TestCommitLocation(t *testing.T) {
	t.Parallel()
	env := newSetupEnv(t, quietSandbox())
	env.seedCustomer(t, "MS-LOC")
	ctx := context.Background()
	r := env.submit(t, request.KindLocation, request.StateApproved, locationSpec(env.ref, "Köln", "DE-KOELN-1"))

	wantState(t, env.commit(t, r.ID), request.StateDone, "ready")
	calls := env.sb.Stats().Calls
	if calls[opCreateLocation] != 1 || calls[opEnableCalling] != 1 || calls[opUpdateCalling] != 1 {
		t.Errorf("create %d, enable %d, update %d calls; want one each", calls[opCreateLocation], calls[opEnableCalling], calls[opUpdateCalling])
	}
	if b := env.sent("POST /telephony/config/locations"); len(b) != 1 || !strings.Contains(b[0], `"announcementLanguage":"de_de"`) || !strings.Contains(b[0], `"postalCode":"50667"`) {
		t.Errorf("enable-calling bodies %q", b)
	}
	locs, err := env.cl.ListLocations(ctx, env.ref.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, l := range locs {
		if l.Name == "Köln" {
			id = l.ID
		}
	}
	if id == "" {
		t.Fatalf("no location Köln at the sandbox: %+v", locs)
	}
	if b := env.sent("PUT /telephony/config/locations/" + id); len(b) != 1 || !strings.Contains(b[0], `"pAccessNetworkInfo":"DE-KOELN-1"`) {
		t.Errorf("calling details update %q lacks the emergency location identifier", b)
	}
	if _, err := env.cl.GetCallingLocation(ctx, env.ref.OrgID, id); err != nil {
		t.Errorf("Köln is not a calling location: %v", err)
	}

	// A second request for a location that exists would end ✅ with
	// nothing done: it fails saying so.
	again := env.submit(t, request.KindLocation, request.StateApproved, locationSpec(env.ref, "Köln", ""))
	wantState(t, env.commit(t, again.ID), request.StateFailed, "a location named Köln already exists at MS-LOC")
	// A run after a crash that followed the create (the request says it sent
	// it) finds its own location and finishes, without creating twice.
	redelivered := env.submit(t, request.KindLocation, request.StateApproved, locationSpec(env.ref, "Köln", ""))
	if _, err := env.s.Transition(ctx, redelivered.ID, request.Transition{From: request.AllStates, Actor: "worker", Action: "creating",
		Mutate: func(x *request.Request) error { x.Result.Status = "creating"; return nil }}); err != nil {
		t.Fatal(err)
	}
	wantState(t, env.commit(t, redelivered.ID), request.StateDone, "ready")
	if calls := env.sb.Stats().Calls; calls[opCreateLocation] != 1 || calls[opEnableCalling] != 1 {
		t.Errorf("later runs: create %d, enable %d; want no new calls", calls[opCreateLocation], calls[opEnableCalling])
	}
}

func TestCommitNumbers(t *testing.T) {
	t.Parallel()
	block := []string{"+493055590000", "+493055590001", "+493055590002"}
	tests := []struct {
		name     string
		location string
		numbers  []string
		main     string
		state    request.State
		message  string
		adds     int
	}{
		{name: "block at HQ with a main number", location: "HQ", numbers: block, main: block[0], state: request.StateDone,
			message: "3 numbers at HQ (3 added, 3 activated), main number +493055590000", adds: 1},
		{name: "integrated PSTN", location: "Integrated Site", numbers: block, state: request.StateFailed,
			message: "numbers cannot be added at location Integrated Site: its PSTN connection is INTEGRATED_CCP (numbers come from the provider)"},
		{name: "unknown location", location: "Nowhere", numbers: block, state: request.StateFailed,
			message: "location Nowhere does not exist at customer MS-NUM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := quietSandbox()
			opts.PSTNIntegrated = regexp.MustCompile(`^Integrated`)
			env := newSetupEnv(t, opts)
			env.seedCustomer(t, "MS-NUM")
			ctx := context.Background()
			site := env.submit(t, request.KindLocation, request.StateApproved, locationSpec(env.ref, "Integrated Site", ""))
			wantState(t, env.commit(t, site.ID), request.StateDone, "ready")

			refusal, err := worker.CheckNumbersAllowed(ctx, env.cl, env.ref, tc.location)
			if err != nil || (refusal == "") != (tc.state == request.StateDone) {
				t.Errorf("CheckNumbersAllowed = %q, %v", refusal, err)
			}
			r := env.submit(t, request.KindNumbers, request.StateApproved,
				request.NumbersSpec{Customer: env.ref, Location: tc.location, Numbers: tc.numbers, Main: tc.main})
			got := env.commit(t, r.ID)
			wantState(t, got, tc.state, tc.message)
			if n := env.sb.Stats().Calls[opAddNumbers]; n != tc.adds {
				t.Errorf("%d add calls, want %d", n, tc.adds)
			}
			if tc.state != request.StateDone {
				return
			}
			nums, err := env.cl.ListNumbers(ctx, webex.NumberQuery{OrgID: env.ref.OrgID})
			if err != nil {
				t.Fatal(err)
			}
			active := map[string]bool{}
			for _, n := range nums {
				active[n.PhoneNumber] = n.State == webex.NumberActive
				if n.PhoneNumber == tc.main && !n.MainNumber {
					t.Errorf("%s is not the main number", tc.main)
				}
			}
			for _, n := range tc.numbers {
				if !active[n] {
					t.Errorf("%s is not an active number", n)
				}
			}
			avail, err := worker.ListAvailableNumbers(ctx, env.cl, env.ref, "HQ")
			if err != nil || len(avail) != 100+len(tc.numbers) {
				t.Errorf("available at HQ: %d, %v; want the 100 seeded and the block", len(avail), err)
			}
			// Run again: nothing left to add or activate.
			again := env.submit(t, request.KindNumbers, request.StateApproved,
				request.NumbersSpec{Customer: env.ref, Location: tc.location, Numbers: tc.numbers})
			wantState(t, env.commit(t, again.ID), request.StateDone, "3 numbers at HQ (0 added, 0 activated)")
			if calls := env.sb.Stats().Calls; calls[opAddNumbers] != 1 || calls[opActivateNumbers] != 1 {
				t.Errorf("second run: add %d, activate %d; want no new calls", calls[opAddNumbers], calls[opActivateNumbers])
			}
		})
	}
}
