package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// Slack's limits that the builders must respect (Block Kit's documented
// maxima; a message of more text fails around 12-13k characters).
const (
	limitMessageBlocks = 50
	limitViewBlocks    = 100
	limitMessageChars  = 12000
	limitHeaderChars   = 150
	limitSectionChars  = 3000
	limitFieldChars    = 2000
	limitButtonChars   = 75
	limitTitleChars    = 24
	limitMetadataChars = 3000
)

// textsOf collects every "text" string in v's JSON, with the JSON key of
// the object that holds it: what Slack counts and renders.
func textsOf(t *testing.T, v any) (texts []string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(x any)
	walk = func(x any) {
		switch y := x.(type) {
		case map[string]any:
			for k, val := range y {
				if s, ok := val.(string); ok && (k == "text" || k == "Text") {
					texts = append(texts, s)
				}
				walk(val)
			}
		case []any:
			for _, e := range y {
				walk(e)
			}
		}
	}
	var root any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	walk(root)
	return texts
}

// checkBlocks applies the per-block limits to blocks.
func checkBlocks(t *testing.T, name string, blocks []slack.Block) {
	t.Helper()
	for i, b := range blocks {
		switch v := b.(type) {
		case *slack.HeaderBlock:
			if n := utf8.RuneCountInString(v.Text.Text); n > limitHeaderChars {
				t.Errorf("%s: header %d has %d characters (limit %d)", name, i, n, limitHeaderChars)
			}
		case *slack.SectionBlock:
			if v.Text != nil && utf8.RuneCountInString(v.Text.Text) > limitSectionChars {
				t.Errorf("%s: section %d text over %d characters", name, i, limitSectionChars)
			}
			for _, f := range v.Fields {
				if utf8.RuneCountInString(f.Text) > limitFieldChars {
					t.Errorf("%s: section %d has a field over %d characters", name, i, limitFieldChars)
				}
			}
		case *slack.ActionBlock:
			for _, e := range v.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok && utf8.RuneCountInString(btn.Text.Text) > limitButtonChars {
					t.Errorf("%s: button %q too long", name, btn.Text.Text)
				}
			}
		}
	}
}

func checkMessage(t *testing.T, name string, m chat.Message) {
	t.Helper()
	if len(m.Blocks) > limitMessageBlocks {
		t.Errorf("%s: %d blocks (limit %d per message)", name, len(m.Blocks), limitMessageBlocks)
	}
	checkBlocks(t, name, m.Blocks)
	total := 0
	for _, s := range textsOf(t, m) {
		total += utf8.RuneCountInString(s)
	}
	if total > limitMessageChars {
		t.Errorf("%s: %d characters (limit %d per message)", name, total, limitMessageChars)
	}
}

func checkHome(t *testing.T, name string, v slack.HomeTabViewRequest) {
	t.Helper()
	if n := len(v.Blocks.BlockSet); n > limitViewBlocks {
		t.Errorf("%s: %d blocks (limit %d per view)", name, n, limitViewBlocks)
	}
	if n := utf8.RuneCountInString(v.PrivateMetadata); n > limitMetadataChars {
		t.Errorf("%s: private_metadata %d characters", name, n)
	}
	checkBlocks(t, name, v.Blocks.BlockSet)
}

// wantMore asserts a visible "… and N more" where a builder cut its input.
func wantMore(t *testing.T, name string, v any, n int) {
	t.Helper()
	want := fmt.Sprintf("and %d more", n)
	for _, s := range textsOf(t, v) {
		if strings.Contains(s, want) {
			return
		}
	}
	t.Errorf("%s: no visible %q where the list was cut", name, want)
}

func wantSomeMore(t *testing.T, name string, v any) {
	t.Helper()
	for _, s := range textsOf(t, v) {
		if strings.Contains(s, "… and ") && strings.Contains(s, " more") {
			return
		}
	}
	t.Errorf("%s: no visible \"… and N more\" where the list was cut", name)
}

// TestBuildersWithinSlackLimits runs every message and view builder on the
// largest inputs the bot accepts.
func TestBuildersWithinSlackLimits(t *testing.T) {
	t.Parallel()
	const rows = 2000
	h := builderHandler(true)
	specs := sampleSpecs(true, rows)
	states := append([]request.State{}, request.AllStates...)
	for kind, spec := range specs {
		for _, state := range states {
			r := sampleRequest(9, kind, state, spec)
			r.Subject = long(300) // subjects embed the longest external ids and names
			r.Result.Message, r.Reason = long(2000), long(2000)
			// Row errors of a 2,000-row batch land in the precheck message.
			r.Precheck = request.Precheck{Status: request.PrecheckFailed, Message: long(20000), TrackingID: long(100)}
			r.Result.WaitReason = long(2000)
			name := fmt.Sprintf("summary %s %s", kind, state)
			checkMessage(t, name, h.summary(r))
			if line := outcomeLine(r, goldenNow); line != "" {
				checkMessage(t, "outcome "+name, chat.Message{Text: line})
			}
			checkMessage(t, "payload "+name, chat.Message{Text: payloadText(r)})
		}
	}
	batch := sampleRequest(9, request.KindUsers, request.StateCommitting, specs[request.KindUsers])
	h.ux.progress.set(batch.ID, rows/2, rows)
	summary := h.summary(batch)
	checkMessage(t, "2,000-row summary", summary)
	wantMore(t, "2,000-row summary", summary, rows-summaryRows)
	if !strings.Contains(strings.Join(textsOf(t, summary), "\n"), "1000/2000") {
		t.Error("2,000-row summary: no progress bar while committing")
	}
	wantSomeMore(t, "2,000-row payload", chat.Message{Text: payloadText(batch)})

	tmpl := specs[request.KindTemplate].(request.TemplateSpec)
	checkMessage(t, "checklist", checklistMessage(sampleRequest(9, request.KindTemplate, request.StateWaiting, tmpl), &tmpl))
	for _, roles := range [][3]bool{{true, true, true}, {true, false, false}, {false, true, false}} {
		checkMessage(t, "help", chat.Message{Text: helpText(roles[0], roles[1], roles[2])})
	}

	longest := sampleRequest(1<<40, request.KindCustomer, request.StatePendingApproval, specs[request.KindCustomer])
	longest.Subject = long(300)
	reject := rejectView(longest, "C0123456789ABCDEF")
	if n := utf8.RuneCountInString(reject.Title.Text); n > limitTitleChars {
		t.Errorf("reject view title %q: %d characters (limit %d)", reject.Title.Text, n, limitTitleChars)
	}
	if len(reject.PrivateMetadata) > limitMetadataChars || len(reject.Blocks.BlockSet) > limitViewBlocks {
		t.Errorf("reject view: metadata %d characters, %d blocks", len(reject.PrivateMetadata), len(reject.Blocks.BlockSet))
	}
	checkBlocks(t, "reject view", reject.Blocks.BlockSet)

	crowded := sampleHome(true, 300)
	for _, list := range [][]*request.Request{crowded.Mine, crowded.ToApprove, crowded.Incomplete, crowded.Failures} {
		for _, r := range list {
			r.Subject = long(300)
		}
	}
	home := homeView(crowded)
	checkHome(t, "crowded App Home", home)
	wantMore(t, "crowded App Home", home, 300-homeShown)

	many := make([]*request.Request, listFetch)
	for i := range many {
		many[i] = sampleRequest(int64(i+1), request.KindUsers, request.StateFailed, specs[request.KindDelete])
		many[i].Subject = long(300)
	}
	list := chat.Message{Text: listText("Failed requests", many, goldenNow)}
	checkMessage(t, "list of 500", list)
	wantSomeMore(t, "list of 500", list)
}

// TestViewRowsOf2000 checks the approver's row list of a maximal batch: it
// reads the request from a real store.
func TestViewRowsOf2000(t *testing.T) {
	t.Parallel()
	st := store.New(storetest.Miniredis(t), "test:")
	h := New(Deps{Store: st, Log: quietLog(), Settings: Settings{Approvers: []string{"bob"}}})
	spec := sampleSpecs(true, 2000)[request.KindUsers]
	raw, _ := json.Marshal(spec)
	r := &request.Request{Kind: request.KindUsers, State: request.StatePendingApproval, Requester: "alice", Subject: "users MS-001", Spec: raw, Hash: request.HashSpec(raw)}
	if err := st.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	rep := h.viewRows(context.Background(), caller{id: "bob"}, r.Ref())
	checkMessage(t, "view rows", chat.Message{Text: rep.Text, Blocks: rep.Blocks})
	wantSomeMore(t, "view rows", chat.Message{Text: rep.Text})
	if refused := h.viewRows(context.Background(), caller{id: "dave"}, r.Ref()); !strings.HasPrefix(refused.Text, "⛔") {
		t.Fatalf("a non-approver saw the rows: %q", refused.Text)
	}
}

// TestHomeTitleAndHeaders: the Home tab's header is a title; Slack cuts
// view titles at 24 characters.
func TestHomeTitleFits(t *testing.T) {
	t.Parallel()
	for _, sandbox := range []bool{false, true} {
		v := homeView(&homeData{Sandbox: sandbox})
		hb, ok := v.Blocks.BlockSet[0].(*slack.HeaderBlock)
		if !ok || utf8.RuneCountInString(hb.Text.Text) > limitTitleChars {
			t.Fatalf("home title %+v: want a header of at most %d characters", v.Blocks.BlockSet[0], limitTitleChars)
		}
	}
}

// TestListCommand: each list shows the requests it names and no others.
func TestListCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Miniredis(t), "test:")
	h := New(Deps{Store: st, Log: quietLog(), Settings: Settings{Approvers: []string{"bob"}}})
	h.enableUX(UX{Lister: st})
	specs := sampleSpecs(false, 1)
	add := func(kind request.Kind, state request.State, owner string, spec any) *request.Request {
		r := sampleRequest(0, kind, state, spec)
		r.ID, r.Requester, r.Subject = 0, owner, fmt.Sprintf("%s-%s-%s", kind, state, owner)
		if kind == request.KindCustomer {
			r.ExternalID = r.Subject
		}
		if err := st.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	withUsers := add(request.KindCustomer, request.StateDone, "alice", specs[request.KindCustomer])
	add(request.KindCustomer, request.StateDone, "carol", specs[request.KindCustomer]) // no users: incomplete
	users := specs[request.KindUsers].(request.UsersSpec)
	users.Customer.RequestID, users.Customer.ExternalID = withUsers.ID, withUsers.ExternalID
	add(request.KindUsers, request.StateDone, "alice", users)
	add(request.KindLocation, request.StatePendingApproval, "alice", specs[request.KindLocation])
	add(request.KindDelete, request.StateFailed, "carol", specs[request.KindDelete])

	cases := []struct {
		args          string
		want, notWant []string
	}{
		{"list", []string{"location-pending_approval-alice", "users-done-alice"}, []string{"carol"}},
		{"list mine", []string{"customer-done-alice"}, []string{"carol"}},
		{"list pending", []string{"location-pending_approval-alice"}, []string{"done", "failed"}},
		{"list incomplete", []string{"customer-done-carol"}, []string{"customer-done-alice", "users-done"}},
		{"list failed", []string{"delete-failed-carol"}, []string{"pending", "done"}},
		{"list everything", []string{"⛔"}, nil},
	}
	for _, c := range cases {
		cmd, err := ParseCommand(c.args)
		if err != nil {
			t.Fatal(err)
		}
		text := h.list(ctx, caller{id: "alice"}, cmd).Text
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s lacks %q:\n%s", c.args, w, text)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(text, w) {
				t.Errorf("%s shows %q:\n%s", c.args, w, text)
			}
		}
	}
}

// TestViewPayload: the payload is the stored spec with its hash; a batch's
// (personal data) only for approvers and its requester.
func TestViewPayload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Miniredis(t), "test:")
	h := New(Deps{Store: st, Log: quietLog(), Settings: Settings{Approvers: []string{"bob"}}})
	specs := sampleSpecs(false, 2)
	for _, kind := range []request.Kind{request.KindUsers, request.KindLocation} {
		r := sampleRequest(0, kind, request.StatePendingApproval, specs[kind])
		if err := st.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			user string
			ok   bool
		}{{"alice", true}, {"bob", true}, {"dave", kind != request.KindUsers}} {
			text := h.uxAction(ctx, caller{id: c.user}, actionViewPayload, r.Ref()).Text
			shown := strings.Contains(text, r.Hash) && strings.Contains(text, `"customer"`)
			if shown != c.ok {
				t.Errorf("%s payload for %s: shown=%v, want %v:\n%s", kind, c.user, shown, c.ok, text)
			}
		}
	}
}
