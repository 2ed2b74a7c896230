package handlers

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// formMessenger records what the handler sends.
type formMessenger struct {
	mu   sync.Mutex
	sent []formSent
	seq  int
}

type formSent struct {
	kind, to string
	m        chat.Message
}

func (f *formMessenger) add(kind, to string, m chat.Message) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	f.sent = append(f.sent, formSent{kind, to, m})
	return "17000000." + strings.Repeat("0", 3) + string(rune('0'+f.seq%10))
}
func (f *formMessenger) Post(_ context.Context, ch string, m chat.Message) (string, error) {
	return f.add("post", ch, m), nil
}
func (f *formMessenger) PostThread(_ context.Context, ch, _ string, m chat.Message) error {
	f.add("thread", ch, m)
	return nil
}
func (f *formMessenger) Update(_ context.Context, ch, _ string, m chat.Message) error {
	f.add("update", ch, m)
	return nil
}
func (f *formMessenger) Ephemeral(_ context.Context, _, user string, m chat.Message) error {
	f.add("ephemeral", user, m)
	return nil
}
func (f *formMessenger) DM(_ context.Context, user string, m chat.Message) error {
	f.add("dm", user, m)
	return nil
}

func (f *formMessenger) of(kind string) []formSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []formSent
	for _, s := range f.sent {
		if s.kind == kind {
			out = append(out, s)
		}
	}
	return out
}

// formViews records opened views.
type formViews struct {
	mu     sync.Mutex
	opened []slack.ModalViewRequest
}

func (v *formViews) OpenView(_ context.Context, trigger string, m slack.ModalViewRequest) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.opened = append(v.opened, m)
	return "V1", nil
}
func (v *formViews) UpdateView(context.Context, string, string, slack.ModalViewRequest) error {
	return nil
}
func (v *formViews) last(t *testing.T) slack.ModalViewRequest {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.opened) == 0 {
		t.Fatal("no view was opened")
	}
	return v.opened[len(v.opened)-1]
}

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

type okPrecheck struct{}

func (okPrecheck) PrecheckCustomer(context.Context, *request.CustomerSpec) (request.Precheck, error) {
	return request.Precheck{Status: request.PrecheckOK}, nil
}

type formHarness struct {
	h      *Handler
	st     *store.Store
	drafts *store.Drafts
	msg    *formMessenger
	views  *formViews
}

func newFormHarness(t testing.TB, interactive bool) *formHarness {
	t.Helper()
	st := store.New(storetest.Miniredis(t), "test:")
	f := &formHarness{st: st, drafts: st.Drafts(time.Hour), msg: &formMessenger{}, views: &formViews{}}
	f.h = New(Deps{
		Store: st, Templates: st, Messenger: f.msg, Prechecker: okPrecheck{}, Views: f.views, Drafts: f.drafts,
		UX:       UX{Lister: st},
		Settings: Settings{ApprovalChannel: "#approvals", Approvers: []string{"bob"}, Admins: []string{"bob"}, Interactive: interactive},
		Log:      quietLog(),
	})
	t.Cleanup(f.h.Wait)
	return f
}

// submit sends a view_submission of view v with values by block id.
func (f *formHarness) submit(user string, v slack.ModalViewRequest, values map[string]string) *Reply {
	state := &slack.ViewState{Values: map[string]map[string]slack.BlockAction{}}
	for k, val := range values {
		a := slack.BlockAction{ActionID: actionValue, BlockID: k, Value: val}
		switch {
		case k == "country" || k == "timezone" || k == "template" || k == customerKey || k == primaryKey:
			a = slack.BlockAction{ActionID: actionValue, SelectedOption: slack.OptionBlockObject{Value: val}}
		case k == "package" || k == "supported-location":
			for _, p := range splitList(val) {
				a.SelectedOptions = append(a.SelectedOptions, slack.OptionBlockObject{Value: p})
			}
			a.Value = ""
		}
		state.Values[k] = map[string]slack.BlockAction{actionValue: a}
	}
	return f.h.Interaction(context.Background(), &slack.InteractionCallback{
		Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: user},
		View: slack.View{ID: "V1", CallbackID: v.CallbackID, PrivateMetadata: v.PrivateMetadata, State: state},
	})
}

func viewJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

var msAnswers = map[string]string{
	"name": "Müller & Söhne GmbH", "email": "it@mueller.example", "external-id": "MS-001", "country": "DE",
	"provisioning-id": "PROV-DE-1", "package": "webex_calling", "supported-location": "yes",
	"address": "Hauptstraße 1", "city": "Berlin", "zip": "10115",
}

func TestCustomerFormSteps(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, true)
	ctx := context.Background()
	if r := f.h.Command(ctx, slack.SlashCommand{UserID: "alice", ChannelID: "C1", TriggerID: "T1", Text: `new name="Müller & Söhne GmbH" country=de`}); r != nil {
		t.Fatalf("a command with missing keys should open the form, got %q", r.Text)
	}
	v := f.views.last(t)
	if !strings.Contains(viewJSON(v), `"initial_value":"Müller \u0026 Söhne GmbH"`) || !strings.Contains(viewJSON(v), `"value":"DE"`) {
		t.Fatalf("the form is not pre-filled:\n%s", viewJSON(v))
	}
	cases := []struct {
		name      string
		user      string
		values    map[string]string
		wantErrs  map[string]string // block id → substring
		wantStep  string            // callback of the next view
		wantTitle string
	}{
		{"someone else's draft", "dave", msAnswers, nil, "form:customer:done", ""},
		{"bad email and id", "alice", map[string]string{"name": "Müller", "email": "x@", "external-id": "R-5", "country": "DE"},
			map[string]string{"email": "not an email", "external-id": "R-", "template": "template or give a provisioning id"}, "", ""},
		{"step 1", "alice", msAnswers, nil, "form:customer:1", "New customer (2/6)"},
		{"a repeated step 1 shows step 2", "alice", msAnswers, nil, "form:customer:1", ""},
	}
	for _, c := range cases {
		r := f.submit(c.user, v, c.values)
		if r == nil || r.View == nil {
			t.Fatalf("%s: no view answer", c.name)
		}
		if c.wantErrs != nil {
			if r.View.ResponseAction != slack.RAErrors || len(r.View.Errors) != len(c.wantErrs) {
				t.Fatalf("%s: %+v", c.name, r.View)
			}
			for k, want := range c.wantErrs {
				if !strings.Contains(r.View.Errors[k], want) {
					t.Fatalf("%s: error of %s = %q, want %q", c.name, k, r.View.Errors[k], want)
				}
			}
			continue
		}
		if r.View.ResponseAction != slack.RAUpdate || r.View.View.CallbackID != c.wantStep {
			t.Fatalf("%s: %s %s", c.name, r.View.ResponseAction, viewJSON(r.View.View))
		}
		if c.wantTitle != "" && r.View.View.Title.Text != c.wantTitle {
			t.Fatalf("%s: title %q", c.name, r.View.View.Title.Text)
		}
	}
	d, err := f.drafts.GetDraft(ctx, 1)
	if err != nil || d.Step != 1 || d.Answers["email"] != "it@mueller.example" || d.Owner != "alice" {
		t.Fatalf("draft after step 1: %+v %v", d, err)
	}

	next := func(step int, values map[string]string) slack.ModalViewRequest {
		t.Helper()
		cur, _ := f.drafts.GetDraft(ctx, 1)
		steps := customerFlow.steps(cur.Answers)
		r := f.submit("alice", formView(customerFlow, cur, steps, nil), values)
		if r == nil || r.View == nil || r.View.ResponseAction != slack.RAUpdate {
			t.Fatalf("step %d: %+v", step, r)
		}
		return *r.View.View
	}
	// An add-on without its base package is refused inline on the packages step.
	cur, _ := f.drafts.GetDraft(ctx, 1)
	r := f.submit("alice", formView(customerFlow, cur, customerFlow.steps(cur.Answers), nil), map[string]string{"package": "webex_meetings,cisco_calling_plan"})
	if r.View.ResponseAction != slack.RAErrors || !strings.Contains(r.View.Errors["package"], "add-on") {
		t.Fatalf("add-on rule: %+v", r.View)
	}
	next(2, map[string]string{primaryKey: "webex_suite", "package": "webex_calling,webex_suite"})
	d, _ = f.drafts.GetDraft(ctx, 1)
	if d.Answers["package"] != "webex_suite,webex_calling" {
		t.Fatalf("primary package first: %q", d.Answers["package"])
	}
	next(3, map[string]string{"limit.webex_suite": "10"})
	next(4, map[string]string{"supported-location": "yes", "address": "Hauptstraße 1", "city": "Berlin", "zip": "10115"})
	// The plan step is optional; a bad value is refused inline, a good one
	// shows on the review with its own step.
	cur, _ = f.drafts.GetDraft(ctx, 1)
	r = f.submit("alice", formView(customerFlow, cur, customerFlow.steps(cur.Answers), nil), map[string]string{"numbers": "+4930555001-+4930555002"})
	if r.View.ResponseAction != slack.RAErrors || !strings.Contains(r.View.Errors["numbers"], "needs pstn=") {
		t.Fatalf("numbers without pstn: %+v", r.View)
	}
	review := next(5, map[string]string{"pstn": "Sandbox CCP", "numbers": "+4930555001-+4930555002"})
	if !strings.Contains(viewJSON(review), "webex_suite 10") || !strings.Contains(viewJSON(review), "+4930555001 – +4930555002 (2") || review.Submit.Text != "Submit" {
		t.Fatalf("review:\n%s", viewJSON(review))
	}
	r = f.submit("alice", review, nil)
	if r.View.ResponseAction != slack.RAUpdate || !strings.Contains(viewJSON(r.View.View), "R-1 submitted") {
		t.Fatalf("submit: %s", viewJSON(r.View))
	}
	if _, err := f.drafts.GetDraft(ctx, 1); err == nil {
		t.Fatal("the submitted draft still exists")
	}
	req, err := f.st.Get(ctx, 1)
	if err != nil || req.State != request.StatePendingApproval || req.Requester != "alice" {
		t.Fatalf("request: %+v %v", req, err)
	}
}

func TestFormOpensOnlyWhereAllowed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		interactive bool
		text        string
		opens       bool
		reply       string
	}{
		{"slack, bare command", true, "", true, ""},
		{"slack, some keys", true, "new name=X", true, ""},
		{"slack, a bad key stays an error", true, "new email=nope", false, "not an email"},
		{"piped console, bare command", false, "", true, ""},
		{"piped console, some keys", false, "new name=X", false, "missing:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFormHarness(t, c.interactive)
			r := f.h.Command(context.Background(), slack.SlashCommand{UserID: "alice", ChannelID: "C1", TriggerID: "T1", Text: c.text})
			f.views.mu.Lock()
			opened := len(f.views.opened)
			f.views.mu.Unlock()
			if (opened == 1) != c.opens {
				t.Fatalf("opened %d views", opened)
			}
			if c.reply != "" && (r == nil || !strings.Contains(r.Text, c.reply)) {
				t.Fatalf("reply %+v, want %q", r, c.reply)
			}
		})
	}
}

func TestViewSubmissionRefusals(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, true)
	base := slack.ModalViewRequest{CallbackID: "form:customer:0", PrivateMetadata: "D-1"}
	cases := []struct {
		name     string
		callback string
		metadata string
		want     string // in the answer's view; "" = no answer (the view closes)
	}{
		{"not our view", "someone-else", "D-1", ""},
		{"unknown kind", "form:golf:0", "D-1", ""},
		{"garbage metadata", "form:customer:0", "R-1", "not valid any more"},
		{"no such draft", "form:customer:0", "D-99", "expired or was submitted"},
		{"step out of range", "form:customer:99", "D-1", ""},
	}
	for _, c := range cases {
		v := base
		v.CallbackID, v.PrivateMetadata = c.callback, c.metadata
		r := f.submit("alice", v, msAnswers)
		switch {
		case c.want == "" && r != nil && r.View != nil:
			t.Errorf("%s: want no answer, got %s", c.name, viewJSON(r.View))
		case c.want != "" && (r == nil || r.View == nil || !strings.Contains(viewJSON(r.View), c.want)):
			t.Errorf("%s: got %+v, want %q", c.name, r, c.want)
		}
	}
}

func TestStepErrors(t *testing.T) {
	t.Parallel()
	st := formStep{fields: []field{{key: "customer"}, {key: "rows"}}}
	var errs input.FieldErrors
	errs.Add("row 2: email", `"x" is not an email address`)
	errs.Add("row 3: phone", "not a number")
	errs.Add("name", "too long")
	cases := []struct {
		name string
		last bool
		want map[string]string
	}{
		{"not the last step: later keys wait", false, map[string]string{"rows": `row 2: email: "x" is not an email address; row 3: phone: not a number`}},
		{"last step: nothing is hidden", true, map[string]string{"rows": `row 2: email: "x" is not an email address; row 3: phone: not a number`, "customer": "name: too long; missing: required"}},
	}
	for _, c := range cases {
		missing := []string{}
		if c.last {
			missing = []string{"missing"}
		}
		got := stepErrors(st, missing, errs, c.last)
		if len(got) != len(c.want) {
			t.Fatalf("%s: %v", c.name, got)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Fatalf("%s: %s = %q, want %q", c.name, k, got[k], v)
			}
		}
	}
}

// A double click on Next (two replicas at once) moves the draft one step,
// and both answers show that step.
func TestDoubleSubmitMovesOneStep(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, true)
	f.h.Command(context.Background(), slack.SlashCommand{UserID: "alice", ChannelID: "C1", TriggerID: "T1"})
	v := f.views.last(t)
	const clicks = 6
	answers := make(chan *Reply, clicks)
	var wg sync.WaitGroup
	for range clicks {
		wg.Go(func() { answers <- f.submit("alice", v, msAnswers) })
	}
	wg.Wait()
	close(answers)
	for r := range answers {
		if r == nil || r.View == nil || r.View.ResponseAction != slack.RAUpdate || r.View.View.CallbackID != "form:customer:1" {
			t.Fatalf("answer: %s", viewJSON(r))
		}
	}
	d, err := f.drafts.GetDraft(context.Background(), 1)
	if err != nil || d.Step != 1 {
		t.Fatalf("draft step %d (%v), want 1", d.Step, err)
	}
}
