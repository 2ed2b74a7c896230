package bot

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers"
)

// formRouter answers view submissions from a script and records them.
type formRouter struct {
	mu      sync.Mutex
	got     []*slack.InteractionCallback
	answers []*handlers.Reply
}

func (r *formRouter) Command(context.Context, slack.SlashCommand) *handlers.Reply { return nil }
func (r *formRouter) Interaction(_ context.Context, cb *slack.InteractionCallback) *handlers.Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, cb)
	if len(r.answers) == 0 {
		return nil
	}
	a := r.answers[0]
	r.answers = r.answers[1:]
	return a
}

func testForm(title, callback string) slack.ModalViewRequest {
	name := slack.NewPlainTextInputBlockElement(nil, "value")
	name.InitialValue = "Müller"
	country := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, nil, "value")
	pkgs := slack.NewOptionsMultiSelectBlockElement(slack.MultiOptTypeStatic, nil, "value",
		slack.NewOptionBlockObject("webex_calling", plainText("webex_calling"), nil), slack.NewOptionBlockObject("webex_suite", plainText("webex_suite"), nil))
	yes := slack.NewCheckboxGroupsBlockElement("value", slack.NewOptionBlockObject("yes", plainText("supported"), nil))
	limit := slack.NewNumberInputBlockElement(nil, "value", false)
	in := func(id, label string, el slack.BlockElement) *slack.InputBlock {
		return slack.NewInputBlock(id, plainText(label), plainText("hint for "+id), el)
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plainText(title), Submit: plainText("Next"), CallbackID: callback, PrivateMetadata: "D-4",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", plainText("Step 1 of 2")),
			in("name", "Company name", name), in("email", "Admin email", slack.NewPlainTextInputBlockElement(nil, "value")),
			in("country", "Country", country), in("package", "Packages", pkgs), in("supported-location", "Supported", yes),
			in("limit.webex_calling", "Ordered", limit),
		}},
	}
}

func TestConsoleSubmit(t *testing.T) {
	t.Parallel()
	next := testForm("Step two", "form:customer:1")
	router := &formRouter{answers: []*handlers.Reply{
		{View: slack.NewErrorsViewSubmissionResponse(map[string]string{"email": `"bad" is not an email address`})},
		{View: slack.NewUpdateViewSubmissionResponse(&next)},
		nil,
	}}
	var out bytes.Buffer
	script := strings.Join([]string{
		`/submit email=bad package=webex_calling,webex_suite supported-location=yes country=DE limit.webex_calling=25`,
		`/submit email=it@mueller.example`,
		`/submit`,
		`/submit name=again`,
	}, "\n") + "\n"
	c := &Console{Router: router, In: strings.NewReader(script), Out: &out, Piped: true}
	if _, err := c.OpenView(context.Background(), "trigger", testForm("New customer (1/2)", "form:customer:0")); err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"── form: New customer (1/2) ──", "  Company name [name]: Müller", "      hint for email", "[Next] with /submit",
		"⛔ the form has errors:\n  Admin email [email]: \"bad\" is not an email address",
		"── form: Step two ──", "(form closed)", "no form is open",
	} {
		if !strings.Contains(text, want) {
			t.Fatalf("output lacks %q:\n%s", want, text)
		}
	}
	if len(router.got) != 3 {
		t.Fatalf("%d submissions, want 3", len(router.got))
	}
	first := router.got[0]
	if first.Type != slack.InteractionTypeViewSubmission || first.View.CallbackID != "form:customer:0" || first.View.PrivateMetadata != "D-4" || first.User.ID != "alice" {
		t.Fatalf("first submission: %+v", first)
	}
	cases := []struct {
		sub   int
		block string
		want  string
	}{
		{0, "name", "Müller"}, // the pre-filled value is submitted as it is
		{0, "email", "bad"},
		{0, "country", "DE"},
		{0, "package", "webex_calling,webex_suite"},
		{0, "supported-location", "yes"},
		{0, "limit.webex_calling", "25"},
		{1, "email", "it@mueller.example"},
		{1, "package", "webex_calling,webex_suite"}, // typed before the errors: kept, as Slack keeps it
		{2, "email", ""},                            // a new step starts empty
	}
	for _, c := range cases {
		a := router.got[c.sub].View.State.Values[c.block]["value"]
		got := a.Value
		if a.SelectedOption.Value != "" {
			got = a.SelectedOption.Value
		}
		if len(a.SelectedOptions) > 0 {
			var vals []string
			for _, o := range a.SelectedOptions {
				vals = append(vals, o.Value)
			}
			got = strings.Join(vals, ",")
		}
		if got != c.want {
			t.Errorf("submission %d, %s = %q, want %q", c.sub, c.block, got, c.want)
		}
	}
}

func TestConsoleSubmitRefusesUnknownFields(t *testing.T) {
	t.Parallel()
	router := &formRouter{}
	var out bytes.Buffer
	c := &Console{Router: router, In: strings.NewReader("/submit golf=1\n/submit word\n"), Out: &out, Piped: true}
	if _, err := c.OpenView(context.Background(), "", testForm("Form", "form:customer:0")); err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(router.got) != 0 {
		t.Fatalf("a bad /submit reached the router")
	}
	if !strings.Contains(out.String(), `this form has no field "golf"`) || !strings.Contains(out.String(), "key=value pairs only") {
		t.Fatalf("output:\n%s", out.String())
	}
}
