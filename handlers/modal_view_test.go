package handlers

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// -update rewrites the golden files. Other golden tests of this package may
// register the same flag; whoever comes first registers it (package
// variables initialise before init functions run).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata/")
	}
}

func updatingGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkGolden compares v's indented JSON with testdata/name.json.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".json")
	if updatingGolden() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./handlers -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended):\n%s", path, got)
	}
}

// sampleDrafts are pre-filled drafts of every form, as golden input.
func sampleDrafts() map[request.Kind]*store.Draft {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d := func(kind request.Kind, linked int64, a map[string]string) *store.Draft {
		return &store.Draft{ID: 7, Owner: "alice", Kind: kind, Answers: a, LinkedFrom: linked, Version: 1, CreatedAt: at, UpdatedAt: at}
	}
	customer := map[string]string{}
	for k, v := range msAnswers {
		customer[k] = v
	}
	customer["limit.webex_calling"] = "25"
	return map[request.Kind]*store.Draft{
		request.KindCustomer: d(request.KindCustomer, 0, customer),
		request.KindTemplate: d(request.KindTemplate, 3, map[string]string{"name": "de-standard", "country": "DE", "language": "de_DE",
			"package": "webex_calling,webex_meetings", "sp-admin": "ops@partner.example", "subscription": "SUB-1", "admin-invites": "on"}),
		request.KindUsers: d(request.KindUsers, 0, map[string]string{customerKey: "MS-001",
			"rows": "Anna,Muster,anna@mueller.example,webex_calling,auto,,HQ\nBen,Berg,ben@mueller.example,webex_meetings,,,"}),
		request.KindLocation: d(request.KindLocation, 0, map[string]string{customerKey: "MS-001", "name": "Köln",
			"address": "Domplatz 1", "city": "Köln", "state": "NRW", "zip": "50667", "timezone": "Europe/Berlin", "language": "de_de"}),
		request.KindNumbers: d(request.KindNumbers, 0, map[string]string{customerKey: "MS-001", "location": "HQ",
			"add": "+4930555001-+4930555099"}),
		request.KindPSTN: d(request.KindPSTN, 0, map[string]string{customerKey: "MS-001", "location": "HQ",
			"connection": request.PremisesOption, "route-type": "TRUNK", "route": "TRUNK-1"}),
	}
}

func TestFormViewsGolden(t *testing.T) {
	t.Parallel()
	for kind, d := range sampleDrafts() {
		f := flowFor(kind)
		steps := f.steps(d.Answers)
		for i, st := range steps {
			t.Run(fmt.Sprintf("%s/%d", kind, i), func(t *testing.T) {
				dd := *d
				dd.Step = i
				var review []slack.Block
				if st.review {
					spec, missing, errs := input.ParseCustomer(d.Answers, input.CustomerOptions{})
					if spec == nil {
						t.Fatalf("sample customer does not parse: %v %v", missing, errs)
					}
					review = reviewBlocks(customerFields(spec))
				}
				checkGolden(t, fmt.Sprintf("modal_%s_%d", kind, i), formView(f, &dd, steps, review))
			})
		}
	}
	t.Run("message", func(t *testing.T) {
		checkGolden(t, "modal_message", messageView(customerFlow, sampleDrafts()[request.KindCustomer],
			"📨 R-1 submitted: customer Müller & Söhne GmbH (MS-001) waits for approval in #approvals."))
	})
}

// Every form on maximal input stays within Slack's modal limits: the
// longest allowed values, every package (so every quantity input), a huge
// pasted batch, the largest draft id and an Edit & resubmit link.
func TestFormViewsWithinLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ü", 255)
	var rows strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&rows, "First%d,Last%d,user%d@mueller.example,webex_calling,+4930555%04d,,HQ\n", i, i, i, i)
	}
	answers := map[string]string{
		"name": long, "email": long, "external-id": long, "country": "DE", "template": long, "provisioning-id": long, "order": long,
		"package": strings.Join(request.CustomerPackages, ","), "supported-location": "yes", "address": long, "address2": long,
		"city": long, "state": long, "zip": long, "timezone": "America/Argentina/ComodRivadavia", "language": "de_DE",
		"location-name": long, "elin": long, customerKey: long, "rows": rows.String(), "add": long, "main": long, "location": long,
		"sp-admin": long, "subscription": long, "idp-entity-id": long, "brand": long, "pstn-provider": long,
	}
	for _, p := range request.CustomerPackages {
		answers[input.LimitKeyPrefix+p] = "100000"
	}
	huge := strings.Repeat("x", 5000)
	var reviewFields [][2]string
	for i := range 150 {
		reviewFields = append(reviewFields, [2]string{fmt.Sprintf("Field %d", i), huge})
	}
	for _, kind := range []request.Kind{request.KindCustomer, request.KindTemplate, request.KindUsers, request.KindLocation, request.KindNumbers, request.KindPSTN} {
		f := flowFor(kind)
		// Each input gets the longest value it allows.
		a := map[string]string{}
		for k, v := range answers {
			a[k] = v
		}
		for _, st := range f.steps(answers) {
			for _, fl := range st.fields {
				if fl.maxLen > 0 {
					a[fl.key] = strings.Repeat("ü", fl.maxLen)
				}
			}
		}
		d := &store.Draft{ID: math.MaxInt64, Owner: "alice", Kind: kind, Answers: a, LinkedFrom: math.MaxInt64}
		steps := f.steps(a)
		for i, st := range steps {
			d.Step = i
			var review []slack.Block
			if st.review {
				review = reviewBlocks(chat.Fields(reviewFields))
			}
			v := formView(f, d, steps, review)
			if probs := checkView(v); len(probs) > 0 {
				t.Errorf("%s step %d: %v", kind, i, probs)
			}
			if _, err := json.Marshal(v); err != nil {
				t.Errorf("%s step %d: %v", kind, i, err)
			}
		}
		if probs := checkView(*messageView(f, d, huge)); len(probs) > 0 {
			t.Errorf("%s message: %v", kind, probs)
		}
	}
	// The cut is visible.
	var many []slack.Block
	for range 150 {
		many = append(many, slack.NewDividerBlock())
	}
	capped := capBlocks(many)
	if len(capped) != maxModalBlocks || !strings.Contains(viewJSON(capped[len(capped)-1]), "… and 51 more") {
		t.Fatalf("capBlocks: %d blocks, last %s", len(capped), viewJSON(capped[len(capped)-1]))
	}
}

// checkView itself: each limit, broken alone, is reported.
func TestCheckView(t *testing.T) {
	t.Parallel()
	ok := func() slack.ModalViewRequest {
		return formView(customerFlow, sampleDrafts()[request.KindCustomer], customerFlow.steps(msAnswers), nil)
	}
	long := slack.NewPlainTextInputBlockElement(nil, actionValue)
	long.MaxLength, long.InitialValue = 5, "123456"
	cases := []struct {
		name  string
		spoil func(v *slack.ModalViewRequest)
		want  string
	}{
		{"fine", func(*slack.ModalViewRequest) {}, ""},
		{"title", func(v *slack.ModalViewRequest) { v.Title = chat.Plain(strings.Repeat("x", 25)) }, "title"},
		{"submit", func(v *slack.ModalViewRequest) { v.Submit = chat.Plain(strings.Repeat("x", 25)) }, "button"},
		{"blocks", func(v *slack.ModalViewRequest) {
			for range 101 {
				v.Blocks.BlockSet = append(v.Blocks.BlockSet, slack.NewDividerBlock())
			}
		}, "blocks"},
		{"metadata", func(v *slack.ModalViewRequest) { v.PrivateMetadata = strings.Repeat("x", 3001) }, "private_metadata"},
		{"initial value", func(v *slack.ModalViewRequest) {
			v.Blocks.BlockSet = append(v.Blocks.BlockSet, slack.NewInputBlock("x", chat.Plain("x"), nil, long))
		}, "initial value"},
	}
	for _, c := range cases {
		v := ok()
		c.spoil(&v)
		probs := strings.Join(checkView(v), "; ")
		if (c.want == "") != (probs == "") || !strings.Contains(probs, c.want) {
			t.Errorf("%s: %q, want %q", c.name, probs, c.want)
		}
	}
}
