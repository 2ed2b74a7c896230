package handlers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/slack-go/slack"
)

// okSetup answers the setup prechecks without Webex.
type okSetup struct{}

func (okSetup) PrecheckUsers(context.Context, *request.UsersSpec) (worker.UsersPrecheck, error) {
	return worker.UsersPrecheck{Precheck: request.Precheck{Status: request.PrecheckOK}}, nil
}
func (okSetup) AvailableNumbers(context.Context, request.CustomerRef, string) ([]string, error) {
	return nil, nil
}
func (okSetup) CheckNumbersAllowed(context.Context, request.CustomerRef, string) error {
	return nil
}
func (okSetup) ResendConsent(context.Context, int64) (int, error) { return 0, nil }
func (okSetup) ReadPSTN(context.Context, request.CustomerRef, string) (*worker.PSTNState, string, error) {
	return nil, "", worker.ErrCustomerNotReady
}
func (okSetup) CheckPSTN(context.Context, *request.PSTNSpec) (string, error)     { return "", nil }
func (okSetup) CheckChange(context.Context, *request.ChangeSpec) (string, error) { return "", nil }
func (okSetup) CheckRemove(context.Context, *request.RemoveSpec) (string, error) { return "", nil }
func (okSetup) CheckLocation(context.Context, *request.LocationSpec) (string, error) {
	return "", nil
}
func (okSetup) RowOutcomes(context.Context, int64) (map[int]request.RowOutcome, error) {
	return nil, nil
}

// The setup and template forms: opened by a command short of keys, errors
// inline on the right input, then submitted like the command.
func TestSetupForms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		command string
		prefill string            // in the opened view
		bad     map[string]string // a step's answers with one bad value
		errKey  string
		good    []map[string]string // the answers of each step
		want    string              // in the last view
	}{
		{"users", "users MS-001", `"value":"MS-001"`,
			map[string]string{customerKey: "MS-001", "rows": "Anna,Muster,anna@x.example,webex_calling,,12\nBen,Berg,not-an-email,webex_calling,,13"}, "rows",
			[]map[string]string{{customerKey: "MS-001", "rows": "Anna,Muster,anna@x.example,webex_calling,,12"}}, "R-2 submitted: users MS-001"},
		{"users of an unknown customer", "users", "",
			map[string]string{customerKey: "MS-404", "rows": "Anna,Muster,anna@x.example,webex_calling,,12"}, customerKey,
			[]map[string]string{{customerKey: "R-1", "rows": "Anna,Muster,anna@x.example,webex_calling,,12"}}, "R-2 submitted: users MS-001"},
		{"location", "location MS-001 name=Köln", `"initial_value":"Köln"`,
			map[string]string{customerKey: "MS-001", "name": "Köln", "address": "Domplatz 1", "city": "Köln", "state": "NRW", "zip": "50667", "timezone": "Mars/Base", "language": "de"}, "timezone",
			[]map[string]string{{customerKey: "MS-001", "name": "Köln", "address": "Domplatz 1", "city": "Köln", "state": "NRW", "zip": "50667", "timezone": "Europe/Berlin", "language": "de"}},
			"R-2 submitted: location Köln MS-001"},
		{"numbers", "numbers", "",
			map[string]string{customerKey: "MS-001", "add": "+4930555099-+4930555001"}, "add",
			[]map[string]string{{customerKey: "MS-001", "add": "+4930555001-+4930555009"}}, "R-2 submitted: numbers MS-001 HQ"},
		{"template", "template new name=de-standard", `"initial_value":"de-standard"`,
			map[string]string{"name": "de-standard", "country": "DE", "language": "de", "package": "webex_calling", "sp-admin": "nope", "subscription": "SUB-1"}, "sp-admin",
			[]map[string]string{{"name": "de-standard", "country": "DE", "language": "de", "package": "webex_calling", "sp-admin": "ops@partner.example", "subscription": "SUB-1"}, {}},
			"R-2 submitted: template de-standard (v1)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFormHarness(t, true)
			f.h.setup = okSetup{}
			ctx := context.Background()
			spec, _ := json.Marshal(request.CustomerSpec{Name: "Müller", Email: "it@mueller.example", ExternalID: "MS-001", Country: "DE", Packages: []string{"webex_calling"}})
			if err := f.st.Create(ctx, &request.Request{Kind: request.KindCustomer, State: request.StateDone, Requester: "alice",
				Subject: "MS-001", ExternalID: "MS-001", Spec: spec}); err != nil {
				t.Fatal(err)
			}
			if r := f.h.Command(ctx, slack.SlashCommand{UserID: "alice", ChannelID: "C1", TriggerID: "T1", Text: c.command}); r != nil {
				t.Fatalf("the form did not open: %q", r.Text)
			}
			v := f.views.last(t)
			if !strings.Contains(viewJSON(v), c.prefill) {
				t.Fatalf("the form is not pre-filled with %s:\n%s", c.prefill, viewJSON(v))
			}
			r := f.submit("alice", v, c.bad)
			if r == nil || r.View == nil || r.View.ResponseAction != slack.RAErrors || r.View.Errors[c.errKey] == "" {
				t.Fatalf("bad answers: %s", viewJSON(r))
			}
			for _, k := range mapKeys(r.View.Errors) {
				if !strings.Contains(viewJSON(v), `"block_id":"`+k+`"`) && !(c.name == "template") {
					t.Fatalf("error keyed %q, which is not an input of the view", k)
				}
			}
			for i, answers := range c.good {
				r = f.submit("alice", v, answers)
				if r == nil || r.View == nil || r.View.ResponseAction != slack.RAUpdate {
					t.Fatalf("step %d: %s", i, viewJSON(r))
				}
				v = *r.View.View
			}
			if !strings.Contains(viewJSON(v), c.want) {
				t.Fatalf("last view lacks %q:\n%s", c.want, viewJSON(v))
			}
		})
	}
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
