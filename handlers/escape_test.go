package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// poison is what a requester might type to mention everyone, a person, a
// channel or a user group, or to disguise a link, plus a bare ampersand.
const poison = "<!here> <@U1> <#C1> <!subteam^S1> <https://evil.example|x> &"

// escapedPoison is poison as mrkdwn must carry it.
var escapedPoison = chat.Esc(poison)

// poisonMarker is the part of poison that arrives unchanged from every
// door: a slash command turns a typed link into its label (Slack links
// URLs in command text).
const poisonMarker = "<!here> <@U1> <#C1> <!subteam^S1>"

// botMentionRE are the mentions the bot makes itself (requesters,
// approvers, the approval channel): they stay live.
var botMentionRE = regexp.MustCompile(`<@(alice|bob|carol|dave)>|<#CAPPROVALS>`)

// poisoned returns a copy of v with every string in it (struct fields,
// slice elements, map values and keys of string maps) replaced by poison.
func poisoned[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	poisonValue(rv)
	return v
}

func poisonValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(poison)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				poisonValue(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			poisonValue(v.Index(i))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			poisonValue(v.Elem())
		}
	case reflect.Interface:
		if !v.IsNil() {
			e := reflect.New(v.Elem().Type()).Elem()
			e.Set(v.Elem())
			poisonValue(e)
			v.Set(e)
		}
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String && !v.IsNil() {
			elem := reflect.New(v.Type().Elem()).Elem()
			if iter := v.MapRange(); iter.Next() {
				elem.Set(iter.Value())
			}
			v.SetMapIndex(reflect.ValueOf(poison).Convert(v.Type().Key()), elem)
		}
	}
}

// poisonedRequest is a request of kind in state whose every typed or
// Webex-given text is poison.
func poisonedRequest(id int64, kind request.Kind, state request.State, spec any) *request.Request {
	r := sampleRequest(id, kind, state, poisoned(spec))
	r.Subject, r.ExternalID = poison, poison
	r.Precheck.Message = poison
	r.Result.Message, r.Result.WaitReason, r.Result.OrgID, r.Result.TrackingID = poison, poison, poison, poison
	if state == request.StateRejected {
		r.Reason = poison
	}
	return r
}

// textCheck is one decoded string of a built message, with how Slack reads it.
type textCheck struct {
	where  string
	text   string
	mrkdwn bool
}

// decodedTexts collects every text of v as Slack reads it. v is marshalled
// and decoded again: the raw JSON escapes `<` as \u003c, so it cannot be
// searched, but the decoded strings are exactly what Slack receives.
func decodedTexts(t *testing.T, v any) []textCheck {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var root any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	var out []textCheck
	var walk func(path string, x any)
	walk = func(path string, x any) {
		switch y := x.(type) {
		case map[string]any:
			typ, _ := y["type"].(string)
			for k, val := range y {
				s, isString := val.(string)
				switch {
				case !isString:
					walk(path+"."+k, val)
				case k == "text" || k == "Text" || k == "Outcome":
					// A text object's type says how it is read; a
					// message's top-level text is mrkdwn; the console's
					// Outcome line is plain.
					out = append(out, textCheck{path + "." + k, s, typ == slack.MarkdownType || (typ == "" && k != "Outcome")})
				case k == "initial_value" || k == "value" || k == "private_metadata":
					out = append(out, textCheck{path + "." + k, s, false})
				}
			}
		case []any:
			for i, e := range y {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", root)
	return out
}

// checkEscaped fails when a value reached v's mrkdwn unescaped or its
// literal texts escaped. It reports whether a value reached v at all: a
// check of a message without one proves nothing.
func checkEscaped(t *testing.T, name string, v any) (reached bool) {
	t.Helper()
	for _, c := range decodedTexts(t, v) {
		if c.mrkdwn {
			rest := botMentionRE.ReplaceAllString(c.text, "")
			if i := strings.IndexAny(rest, "<>"); i >= 0 {
				t.Errorf("%s%s: mrkdwn holds a live %q: %q", name, c.where, rest[i:min(len(rest), i+24)], c.text)
			}
			if strings.Contains(entityRE.ReplaceAllString(rest, ""), "&") {
				t.Errorf("%s%s: mrkdwn holds a bare &: %q", name, c.where, c.text)
			}
			reached = reached || strings.Contains(c.text, chat.Esc(poisonMarker))
			continue
		}
		if strings.Contains(c.text, "&lt;") || strings.Contains(c.text, "&amp;") {
			t.Errorf("%s%s: a literal text is escaped (Slack shows it as typed): %q", name, c.where, c.text)
		}
		reached = reached || strings.Contains(c.text, poisonMarker)
	}
	return reached
}

// entityRE are the entities esc writes; any other & is bare.
var entityRE = regexp.MustCompile(`&(amp|lt|gt);`)

func TestEscapeCheckCanFail(t *testing.T) {
	t.Parallel()
	for _, s := range []string{poison, "a & b", "<@U1>", "x > y"} {
		rest := botMentionRE.ReplaceAllString(s, "")
		if !strings.ContainsAny(rest, "<>") && !strings.Contains(entityRE.ReplaceAllString(rest, ""), "&") {
			t.Errorf("the check would pass raw %q", s)
		}
	}
	for _, s := range []string{escapedPoison, "<@bob> approved &lt;x&gt; &amp; more", "&gt;"} {
		rest := botMentionRE.ReplaceAllString(s, "")
		if strings.ContainsAny(rest, "<>") || strings.Contains(entityRE.ReplaceAllString(rest, ""), "&") {
			t.Errorf("the check refuses escaped %q", s)
		}
	}
	if chat.Esc("Müller & Söhne") != "Müller &amp; Söhne" || chat.Unmrkdwn(chat.Esc(poison)+" <@bob>") != poison+" @bob" {
		t.Fatal("esc and plainText do not round-trip")
	}
}

// TestTypedValuesAreData builds every message and view with poison in
// every typed field and in every Webex message.
func TestTypedValuesAreData(t *testing.T) {
	t.Parallel()
	built := map[string]any{}
	fm := &formMessenger{}
	h := New(Deps{Messenger: fm, Log: quietLog(), Now: func() time.Time { return goldenNow },
		Settings: Settings{ApprovalChannel: "#approvals", Approvers: []string{"bob"}, Admins: []string{"bob"}}})
	specs := sampleSpecs(false, 3)
	states := []request.State{request.StatePendingApproval, request.StateApproved, request.StateCommitting,
		request.StateWaiting, request.StateDone, request.StateFailed, request.StateRejected, request.StateCancelled}
	for kind, spec := range specs {
		for _, state := range states {
			r := poisonedRequest(1, kind, state, spec)
			name := fmt.Sprintf("%s_%s", kind, state)
			built["summary_"+name] = h.summary(r)
			if line := outcomeLine(r, goldenNow); line != "" {
				built["outcome_"+name] = chat.Message{Text: line, Outcome: chat.Unmrkdwn(line)}
			}
			built["list_"+name] = chat.Message{Text: listText("Requests", []*request.Request{r}, goldenNow)}
		}
		r := poisonedRequest(2, kind, request.StateCommitting, spec)
		h.Progress(context.Background(), r, poison)
		for _, state := range []request.State{request.StateDone, request.StateFailed, request.StateRejected, request.StateWaiting} {
			r := poisonedRequest(3, kind, state, spec)
			h.Settled(context.Background(), r)
			r.Summary = request.MessageRef{}
			h.Settled(context.Background(), r)
		}
	}
	h.Wait()
	for i, s := range fm.sent {
		built[fmt.Sprintf("sent_%d_%s", i, s.kind)] = s.m
	}
	tmpl := poisoned(specs[request.KindTemplate].(request.TemplateSpec))
	built["checklist"] = checklistMessage(poisonedRequest(4, request.KindTemplate, request.StateWaiting, tmpl), &tmpl)
	built["template_line"] = chat.Message{Text: templateLine(poison, &request.TemplateVersion{Version: 1, ProvisioningID: poison, Spec: tmpl}, nil)}
	for kind, spec := range specs {
		built["payload_"+string(kind)] = chat.Message{Text: payloadText(poisonedRequest(5, kind, request.StatePendingApproval, spec))}
	}
	built["reject_view"] = rejectView(poisonedRequest(7, request.KindCustomer, request.StatePendingApproval, specs[request.KindCustomer]), "CAPPROVALS")
	built["home"] = homeView(poisonedHome())
	for kind, f := range flows {
		d := &store.Draft{ID: 9, Owner: "alice", Kind: kind, Answers: map[string]string{}, UpdatedAt: goldenNow}
		for _, st := range f.steps(map[string]string{"package": "webex_calling"}) {
			for _, fl := range st.fields {
				d.Answers[fl.key] = poison
			}
		}
		d.Answers["external-id"] = poison
		for step := range f.steps(d.Answers) {
			d.Step = step
			built[fmt.Sprintf("form_%s_%d", kind, step)] = formView(f, d, f.steps(d.Answers), []slack.Block{slack.NewSectionBlock(chat.Md(chat.Esc(poison)), nil, nil)})
		}
	}
	names := make([]string, 0, len(built))
	for name := range built {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !checkEscaped(t, name, built[name]) {
			t.Errorf("%s: no typed value reached it; the check proves nothing", name)
		}
	}
}

// poisonedHome is an App Home whose drafts and requests hold poison.
func poisonedHome() *homeData {
	specs := sampleSpecs(false, 1)
	d := &homeData{User: "alice", Approver: true, Admin: true, Now: goldenNow}
	d.Drafts = []*store.Draft{{ID: 1, Owner: "alice", Kind: request.KindCustomer, Answers: map[string]string{"external-id": poison}, UpdatedAt: goldenNow}}
	d.Mine = []*request.Request{poisonedRequest(2, request.KindUsers, request.StatePendingApproval, specs[request.KindUsers])}
	d.ToApprove = []*request.Request{poisonedRequest(3, request.KindLocation, request.StatePendingApproval, specs[request.KindLocation])}
	d.Incomplete = []*request.Request{poisonedRequest(4, request.KindCustomer, request.StateDone, specs[request.KindCustomer])}
	d.Failures = []*request.Request{poisonedRequest(5, request.KindUsers, request.StateFailed, specs[request.KindUsers])}
	return d
}

// TestTypedValuesAreDataInReplies: what the bot answers echoes typed
// values (errors name them), and a request saved with poison in its values
// is shown as data by status, list, the summary post and the digest.
func TestTypedValuesAreDataInReplies(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, false)
	run := func(user, text string) *Reply {
		return f.h.Command(context.Background(), slack.SlashCommand{UserID: user, ChannelID: "C1", Text: text})
	}
	q := strings.NewReplacer(`"`, `\"`).Replace(poison)
	replies := map[string]*Reply{
		"unknown sub-command": run("alice", `"`+q+`"`),
		"bad keys":            run("alice", `new name="`+q+`" email="`+q+`" external-id="`+q+`" country="`+q+`"`),
		"status unknown":      run("alice", `status "`+q+`"`),
		"list unknown":        run("alice", `list "`+q+`"`),
		"template show":       run("alice", `template show "`+q+`"`),
		"customer unknown":    run("alice", `users "`+q+`" rows="a,b,c@x.example"`),
	}
	// A valid customer whose free-text values are poison.
	ok := run("alice", `new name="`+strings.ReplaceAll(q, "%", "")+`" email=it@mueller.example external-id=MS-001 country=DE package=webex_calling provisioning-id=PROV-DE-1 supported-location=yes address="`+q[:49]+`" city=Berlin zip=10115 order="`+q+`"`)
	replies["submitted"] = ok
	f.h.Wait()
	replies["status"] = run("bob", "status R-1")
	replies["reject"] = run("bob", `reject R-1 reason="`+q+`"`)
	f.h.Wait()
	replies["status rejected"] = run("alice", "status R-1")
	replies["list"] = run("alice", "list mine")
	// The replies that echo no typed value (still checked for escaping).
	echoes := map[string]bool{"status": false, "reject": false, "list": false, "list unknown": false}
	for name, r := range replies {
		if r == nil {
			t.Fatalf("%s: no reply", name)
		}
		want, listed := echoes[name]
		if reached := checkEscaped(t, "reply "+name, chat.Message{Text: r.Text, Blocks: r.Blocks}); !reached && (want || !listed) {
			t.Errorf("reply %s: the typed value is not in it (%q); the check proves nothing", name, r.Text)
		}
	}
	reached := 0
	for i, s := range f.msg.sent {
		if checkEscaped(t, fmt.Sprintf("sent %d (%s to %s)", i, s.kind, s.to), s.m) {
			reached++
		}
	}
	if reached < 3 { // the summary post, its rejected update, the DM
		t.Errorf("only %d of %d sent messages carried a typed value", reached, len(f.msg.sent))
	}
}

// TestTypedValuesAreDataInDigests: every digest of an occurrence, with
// poison in every request's subject, reason and Webex message.
func TestTypedValuesAreDataInDigests(t *testing.T) {
	t.Parallel()
	f := newDigestFixtureWith(t, digestSeeds, func(r *request.Request) {
		r.Subject, r.Result.Message, r.Result.OrgID = poison, poison, poison
		if r.Reason != "" {
			r.Reason = poison
		}
	})
	h := f.digestHandler(t)
	d, err := h.digest.Build(context.Background(), occurrence, "")
	if err != nil {
		t.Fatal(err)
	}
	all := d.All()
	reached := 0
	for _, dg := range all {
		if len(dg.Items) > 0 && checkEscaped(t, "digest for "+dg.Recipient, h.digest.Render(dg, true)) {
			reached++
		}
	}
	if reached < 3 {
		t.Fatalf("only %d of %d digests carried a typed value", reached, len(all))
	}
}
