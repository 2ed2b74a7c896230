package input

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

// planBase is a complete `new` a plan's keys are added to.
var planBase = map[string]string{
	"name": "Plan GmbH", "email": "it@plan.example", "external-id": "PL-001", "country": "DE",
	"package": "webex_calling,webex_meetings", "provisioning-id": "PROV-DE-1", "supported-location": "yes",
	"address": "Hauptstraße 1", "city": "Berlin", "zip": "10115", "timezone": "Europe/Berlin", "language": "de_DE",
}

func TestParsePlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys map[string]string
		want []string // substrings of the errors; none: valid
	}{
		{"customer alone is no plan", nil, nil},
		{"every step", map[string]string{"pstn": "Sandbox CCP", "numbers": "+4930555001-+4930555010", "main": "+4930555001",
			"rows": "Anna,Muster,anna@plan.example,webex_calling,auto;IT,Admin,it@plan.example,webex_calling,,1001"}, nil},
		{"premises needs a route", map[string]string{"pstn": "Premises-based PSTN"}, []string{"route-type: missing"}},
		{"premises with its route", map[string]string{"pstn": "Premises-based PSTN", "route-type": "trunk", "route": "TRUNK-1"}, nil},
		{"route without pstn", map[string]string{"route-type": "TRUNK", "route": "T"}, []string{"route-type: only with pstn=", "route: only with pstn="}},
		{"numbers without pstn", map[string]string{"numbers": "+4930555001-+4930555002"}, []string{"numbers: needs pstn=…"}},
		{"numbers of another country", map[string]string{"pstn": "Sandbox CCP", "numbers": "+33155500001-+33155500002"}, []string{"numbers:"}},
		{"main outside the block", map[string]string{"pstn": "Sandbox CCP", "numbers": "+4930555001-+4930555002", "main": "+4930555009"}, []string{"main: +4930555009 is not in the block"}},
		{"main without numbers", map[string]string{"main": "+4930555001"}, []string{"main: only with numbers="}},
		{"auto without numbers", map[string]string{"rows": "IT,Admin,it@plan.example,webex_calling,auto"}, []string{"row 1: phone: auto takes a number of the HQ"}},
		{"a row elsewhere than the HQ", map[string]string{"rows": "IT,Admin,it@plan.example,webex_calling,,1001,Köln"}, []string{`row 1: location: "Köln" does not exist`}},
		{"a bad row", map[string]string{"rows": "IT,Admin,not-an-email,webex_calling,,1001"}, []string{"row 1: email"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := maps.Clone(planBase)
			maps.Copy(args, tc.keys)
			spec, missing, errs := ParseCustomer(args, CustomerOptions{})
			if len(missing) > 0 {
				t.Fatalf("missing %v", missing)
			}
			got := errs.Error()
			if len(tc.want) == 0 {
				if len(errs) > 0 {
					t.Fatalf("errors: %s", got)
				}
				if (spec.Steps != nil) != (len(tc.keys) > 0) {
					t.Errorf("steps %+v for keys %v", spec.Steps, tc.keys)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("errors %q lack %q", got, w)
				}
			}
		})
	}
}

// FuzzParseImport: an import's two files of any shape never panic; what it
// returns is either an error or customers and problems whose lines are in
// the files, each customer a complete spec.
func FuzzParseImport(f *testing.F) {
	header := "name,email,external-id,country,package,provisioning-id,supported-location,address,city,zip,timezone,language,pstn,numbers\n"
	row := "Alpha GmbH,it@alpha.example,IM-001,DE,webex_calling,PROV-DE-1,yes,Hauptstraße 1,Berlin,10115,Europe/Berlin,de_DE,Sandbox CCP,+4930555001-+4930555005\n"
	users := "external-id,first,last,email,package,phone,extension\nIM-001,IT,Admin,it@alpha.example,webex_calling,auto,\n"
	for _, s := range [][2]string{
		{header + row, users}, {header + row + row, ""}, {header, users}, {"", ""}, {"\"", "\""},
		{"rows\nx", ""}, {header + row, "first,last\nA,B"}, {header + "a,b,c\n", "external-id\n\n,\n"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, customers, users string) {
		out, problems, err := ParseImport(customers, users, ImportOptions{})
		if err != nil {
			if len(out) > 0 || len(problems) > 0 {
				t.Fatalf("an error with results: %v, %v, %v", err, out, problems)
			}
			return
		}
		lines := strings.Count(customers, "\n") + 1
		for _, c := range out {
			if c.Line < 2 || c.Line > lines || c.Customer.ExternalID == "" || c.Customer.Name == "" {
				t.Fatalf("bad customer %+v", c)
			}
		}
		for _, p := range problems {
			if p.Line < 1 || p.Reason == "" || (p.File != "customers" && p.File != "users") {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}

// Every bad row of an import is named with its file and line, and counted
// by what it is about.
func TestParseImportProblems(t *testing.T) {
	t.Parallel()
	header := "name,email,external-id,country,package,provisioning-id,supported-location,address,city,zip,timezone,language\n"
	good := "Alpha GmbH,it@alpha.example,IM-001,DE,webex_calling,PROV-DE-1,yes,Hauptstraße 1,Berlin,10115,Europe/Berlin,de_DE\n"
	customers := header + good +
		"Beta GmbH,not-an-email,IM-002,DE,webex_calling,PROV-DE-1,yes,Hauptstraße 2,Berlin,10115,Europe/Berlin,de_DE\n" +
		good + // IM-001 again
		"Gamma GmbH,it@gamma.example,IM-003,DE,webex_calling,,yes,Hauptstraße 3,Berlin,10115,Europe/Berlin,de_DE\n" +
		strings.ReplaceAll(good, "IM-001", "IM-004") +
		strings.ReplaceAll(good, "IM-001", "IM-005")
	users := "external-id,first,last,email,package,phone,extension\nIM-001,IT,Admin,it@alpha.example,webex_calling,,1001\nIM-009,A,B,a@b.example,webex_calling,,1001\n" +
		"IM-004,A,B,not-an-email,webex_calling,,1001\n"
	asked := 0
	out, problems, err := ParseImport(customers, users, ImportOptions{Taken: func(exts []string) (map[string]int64, error) {
		asked++
		return map[string]int64{"IM-001": 0, "IM-005": 42}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Line != 2 || asked != 1 {
		t.Fatalf("imported %+v (Taken asked %d times), want line 2 only, asked once", out, asked)
	}
	want := []struct {
		file  string
		line  int
		field string
		text  string
	}{
		{"customers", 3, "email", `"not-an-email"`},
		{"customers", 4, "external-id", "also on line 2"},
		{"customers", 5, "missing", "template or provisioning-id"},
		{"customers", 6, "users: email", "users line 4: email"},
		{"customers", 7, "external-id", "external-id IM-005 is already R-42's"},
		{"users", 3, "users: external-id", "IM-009 is not a customer"},
	}
	got := map[string]ImportProblem{}
	for _, p := range problems {
		got[fmt.Sprintf("%s %d", p.File, p.Line)] = p
	}
	if len(problems) != len(want) {
		t.Errorf("%d problems, want %d: %+v", len(problems), len(want), problems)
	}
	for _, w := range want {
		p, ok := got[fmt.Sprintf("%s %d", w.file, w.line)]
		if !ok || p.Field != w.field || !strings.Contains(p.Reason, w.text) {
			t.Errorf("%s line %d: %+v, want field %q and %q", w.file, w.line, p, w.field, w.text)
		}
	}
}
