package worker_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/provisioning/worker"
)

func TestPrecheckUsers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		rows        string
		unprovision bool
		status      request.PrecheckStatus
		existing    []string
		rowErrors   []string // substrings, one per refused row
		numbers     int      // available numbers at HQ (default 100)
		unknown     []string // locations the customer does not have
		local       int      // rows decided without asking Webex
	}{
		{name: "customer not provisioned yet", rows: "Ben,B,ben@x.example,webex_meetings", unprovision: true,
			status: request.PrecheckUnavailable},
		{name: "all rows acceptable", rows: "Anna,A,anna@x.example,webex_calling,,1001;Ben,B,ben@x.example,webex_meetings;Dan,D,dan@x.example,webex_calling,auto",
			status: request.PrecheckOK, existing: []string{"anna@x.example"}},
		{name: "a number of no location", rows: "Ben,B,ben@x.example,webex_meetings;Carl,C,carl@x.example,webex_calling,+4930555999999",
			status: request.PrecheckFailed, rowErrors: []string{"row 2 (carl@x.example): ", "+4930555999999 is not a number of location HQ"}},
		{name: "phone=auto where no number is left", rows: "Dan,D,dan@x.example,webex_calling,auto;Eve,E,eve@x.example,webex_calling,auto", numbers: 1, local: 1,
			status: request.PrecheckFailed, rowErrors: []string{"row 2 (eve@x.example): no available number left at location HQ", "`numbers MS-PRE add=FROM-TO location=HQ`"}},
		{name: "a location the customer does not have", rows: "Ben,B,ben@x.example,webex_meetings,,,Köln;Dan,D,dan@x.example,webex_calling,,1002,Köln",
			status: request.PrecheckOK, unknown: []string{"Köln"}, local: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newSetupEnv(t, quietSandbox())
			numbers := tc.numbers
			if numbers == 0 {
				numbers = 100
			}
			env.seedCustomerWith(t, "MS-PRE", numbers)
			ctx := context.Background()
			if _, err := env.cl.CreateSubscriber(ctx, webex.SubscriberRequest{CustomerID: env.ref.CustomerID, Email: "anna@x.example",
				Packages: []string{"webex_calling"}, ProvisioningParameters: &webex.SubscriberParameters{FirstName: "Anna", LastName: "A", Extension: "1001"}}); err != nil {
				t.Fatal(err)
			}
			ref := env.ref
			if tc.unprovision {
				ref.CustomerID, ref.OrgID = "", ""
			}
			rows, errs := input.ParseRows(tc.rows, input.RowsOptions{Packages: ref.Packages, DefaultCountry: "DE"})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			checks := &worker.SetupChecks{API: env.cl, Rows: env.s}
			got, err := checks.PrecheckUsers(ctx, &request.UsersSpec{Customer: ref, Rows: rows})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.status {
				t.Fatalf("status %s (%q), want %s", got.Status, got.Message, tc.status)
			}
			if tc.unprovision {
				if got.Message != worker.NotProvisionedYet || env.sb.Stats().Calls["POST /wholesale/subscribers/validate"] != 0 {
					t.Errorf("message %q; Webex must not be asked", got.Message)
				}
				return
			}
			if !slices.Equal(got.Existing, tc.existing) {
				t.Errorf("existing %v, want %v", got.Existing, tc.existing)
			}
			if got.Provisioned["webex_calling"] != 1 {
				t.Errorf("provisioned %v, want webex_calling 1", got.Provisioned)
			}
			if len(tc.rowErrors) == 0 && len(got.RowErrors) > 0 {
				t.Errorf("row errors %q", got.RowErrors)
			}
			if len(tc.rowErrors) > 0 {
				joined := strings.Join(got.RowErrors, "\n")
				for _, w := range tc.rowErrors {
					if !strings.Contains(joined, w) {
						t.Errorf("row errors %q lack %q", got.RowErrors, w)
					}
				}
			}
			if n, want := env.sb.Stats().Calls["POST /wholesale/subscribers/validate"], len(rows)-len(tc.existing)-tc.local; n != want {
				t.Errorf("%d subscriber prechecks, want %d (one per row not yet a user, not decided here)", n, want)
			}
			var unknown []string
			for name := range got.UnknownLocations {
				unknown = append(unknown, name)
			}
			if !slices.Equal(unknown, tc.unknown) {
				t.Errorf("unknown locations %v, want %v", unknown, tc.unknown)
			}
		})
	}
}
