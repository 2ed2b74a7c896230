package handlers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

const msCommandText = `new name="Müller & Söhne GmbH" email=it@mueller.example external-id=MS-001 country=DE package=webex_calling provisioning-id=PROV-DE-1 supported-location=yes address="Hauptstraße 1" city=Berlin zip=10115 limit.webex_calling=25`

func click(h *Handler, user, channel, action, value string) {
	h.Interaction(context.Background(), &slack.InteractionCallback{
		Type: slack.InteractionTypeBlockActions, User: slack.User{ID: user}, TriggerID: "T-click",
		Channel:        slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: channel}}},
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{ActionID: action, Value: value}}},
	})
}

// walkForm submits every step of draft id with the answers it already has,
// as a user pressing Next on a pre-filled form, and returns the last view.
func walkForm(t *testing.T, f *formHarness, user string, id int64) *slack.ModalViewRequest {
	t.Helper()
	for range 10 {
		d, err := f.drafts.GetDraft(context.Background(), id)
		if err != nil {
			t.Fatalf("draft: %v", err)
		}
		fl := flowFor(d.Kind)
		steps := fl.steps(d.Answers)
		values := map[string]string{}
		for _, field := range steps[d.Step].fields {
			if v := d.Answers[field.key]; v != "" {
				values[field.key] = v
			}
		}
		r := f.submit(user, formView(fl, d, steps, nil), values)
		if r == nil || r.View == nil || r.View.ResponseAction != slack.RAUpdate {
			t.Fatalf("step %d: %+v", d.Step, r)
		}
		if strings.HasSuffix(r.View.View.CallbackID, ":"+stepDone) {
			return r.View.View
		}
	}
	t.Fatal("the form did not end")
	return nil
}

// Acceptance 3 of issue 5: reject with a reason → the requester's DM has it
// → Edit & resubmit opens a pre-filled form linked to the old request, and
// the new request's audit names the old one.
func TestRejectThenEditAndResubmit(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, true)
	ctx := context.Background()
	if r := f.h.Command(ctx, slack.SlashCommand{UserID: "alice", ChannelID: "C1", TriggerID: "T1", Text: msCommandText}); r == nil || !strings.HasPrefix(r.Text, "📨 R-1") {
		t.Fatalf("submit: %+v", r)
	}
	f.h.Wait()
	if r := f.h.Command(ctx, slack.SlashCommand{UserID: "bob", ChannelID: "C1", Text: `reject R-1 reason="the HQ is in Potsdam"`}); r == nil || !strings.Contains(r.Text, "rejected") {
		t.Fatalf("reject: %+v", r)
	}
	f.h.Wait()

	var dm *formSent
	for _, s := range f.msg.of("dm") {
		if s.to == "alice" && strings.Contains(s.m.Text, "the HQ is in Potsdam") {
			dm = &s
		}
	}
	if dm == nil {
		t.Fatalf("no DM with the reason: %+v", f.msg.of("dm"))
	}
	if b := viewJSON(dm.m.Blocks); !strings.Contains(b, `"action_id":"`+chat.ActionEditResubmit+`"`) || !strings.Contains(b, `"value":"R-1"`) {
		t.Fatalf("the DM has no Edit & resubmit button: %s", b)
	}
	updates := f.msg.of("update")
	if len(updates) == 0 || !strings.Contains(viewJSON(updates[len(updates)-1].m.Blocks), "Edit \\u0026 resubmit") {
		t.Fatal("the rejected summary has no Edit & resubmit button")
	}

	click(f.h, "dave", "D1", chat.ActionEditResubmit, "R-1")
	f.h.Wait()
	if eph := f.msg.of("ephemeral"); len(eph) != 1 || !strings.Contains(eph[0].m.Text, "only its requester") {
		t.Fatalf("someone else's click: %+v", eph)
	}
	click(f.h, "alice", "DALICE", chat.ActionEditResubmit, "R-1")
	v := f.views.last(t)
	js := viewJSON(v)
	for _, want := range []string{"edit of R-1", `"initial_value":"Müller \u0026 Söhne GmbH"`, `"initial_value":"it@mueller.example"`} {
		if !strings.Contains(js, want) {
			t.Fatalf("the form lacks %s:\n%s", want, js)
		}
	}
	d, err := f.drafts.GetDraft(ctx, 1)
	if err != nil || d.LinkedFrom != 1 || d.Answers["limit.webex_calling"] != "25" || d.Channel != "DALICE" {
		t.Fatalf("draft: %+v %v", d, err)
	}

	d.Answers["address"] = "Am Kanal 1"
	d.Answers["city"] = "Potsdam"
	if err := f.drafts.SaveDraft(ctx, d); err != nil {
		t.Fatal(err)
	}
	done := walkForm(t, f, "alice", 1)
	if !strings.Contains(viewJSON(done), "R-2 submitted") {
		t.Fatalf("last view: %s", viewJSON(done))
	}
	f.h.Wait()
	audit, err := f.st.Audit(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !hasAudit(audit, "resubmitted", "edit of R-1") {
		t.Fatalf("R-2's audit does not name R-1: %+v", audit)
	}
	old, _ := f.st.Audit(ctx, 1)
	if !hasAudit(old, "edited", "resubmitted as R-2") {
		t.Fatalf("R-1's audit does not name R-2: %+v", old)
	}
	r2, _ := f.st.Get(ctx, 2)
	if !strings.Contains(string(r2.Spec), "Potsdam") || r2.State != request.StatePendingApproval {
		t.Fatalf("R-2: %s %s", r2.State, r2.Spec)
	}
}

func hasAudit(es []request.AuditEntry, action, note string) bool {
	for _, e := range es {
		if e.Action == action && e.Note == note {
			return true
		}
	}
	return false
}

// Every kind with a form turns its spec back into answers its parser takes.
func TestAnswersFromRequestRoundTrip(t *testing.T) {
	t.Parallel()
	ref := request.CustomerRef{RequestID: 1, ExternalID: "MS-001", Packages: []string{"webex_calling", "webex_meetings"}, Country: "DE"}
	cases := []struct {
		kind  request.Kind
		spec  any
		check func(a map[string]string) error
	}{
		{request.KindUsers, request.UsersSpec{Customer: ref, Rows: []request.UserRow{
			{Line: 1, First: "Anna", Last: "van Dijk, Jr.", Email: "anna@x.example", Package: "webex_calling", Phone: "auto", Location: "HQ"}}},
			func(a map[string]string) error {
				rows, errs := input.ParseRows(a["rows"], rowsOptions(&ref))
				if len(errs) > 0 || len(rows) != 1 || rows[0].Last != "van Dijk, Jr." {
					return errs.Err()
				}
				return nil
			}},
		{request.KindLocation, request.LocationSpec{Customer: ref, Name: "Köln", Address: request.Address{Line1: "Domplatz 1", City: "Köln", State: "NRW", Zip: "50667", Country: "DE"},
			Timezone: "Europe/Berlin", Language: "de_de"},
			func(a map[string]string) error {
				_, missing, errs := input.ParseLocation(withoutKey(a, customerKey), ref, nil)
				if len(missing) > 0 {
					errs.Addf("missing", "%v", missing)
				}
				return errs.Err()
			}},
	}
	for _, c := range cases {
		r := &request.Request{ID: 5, Kind: c.kind, Spec: mustMarshal(t, c.spec)}
		a, err := answersFromRequest(r)
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if a[customerKey] != "MS-001" {
			t.Fatalf("%s: customer %q", c.kind, a[customerKey])
		}
		if err := c.check(a); err != nil {
			t.Fatalf("%s: %v (answers %v)", c.kind, err, a)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A pending request's requester edits and resubmits it: the edit is saved
// although it names the same external id (it takes over the reservation),
// and the old request is cancelled, audited as replaced by the new one.
func TestEditAndResubmitPending(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, true)
	ctx := context.Background()
	if r := f.h.Command(ctx, slack.SlashCommand{UserID: "alice", ChannelID: "C1", TriggerID: "T1", Text: msCommandText}); r == nil || !strings.HasPrefix(r.Text, "📨 R-1") {
		t.Fatalf("submit: %+v", r)
	}
	f.h.Wait()
	posts := f.msg.of("update")
	if len(posts) == 0 || !strings.Contains(viewJSON(posts[len(posts)-1].m.Blocks), `"action_id":"`+chat.ActionEditResubmit+`"`) {
		t.Fatal("the pending summary offers no Edit & resubmit")
	}
	click(f.h, "alice", "DALICE", chat.ActionEditResubmit, "R-1")
	d, err := f.drafts.GetDraft(ctx, 1)
	if err != nil || d.LinkedFrom != 1 {
		t.Fatalf("draft: %+v %v", d, err)
	}
	d.Answers["city"] = "Potsdam"
	if err := f.drafts.SaveDraft(ctx, d); err != nil {
		t.Fatal(err)
	}
	if done := walkForm(t, f, "alice", 1); !strings.Contains(viewJSON(done), "R-2 submitted") {
		t.Fatalf("last view: %s", viewJSON(done))
	}
	f.h.Wait()
	old, err := f.st.Get(ctx, 1)
	if err != nil || old.State != request.StateCancelled {
		t.Fatalf("R-1 is %v (%v), want cancelled", old.State, err)
	}
	audit, _ := f.st.Audit(ctx, 1)
	if !hasAudit(audit, "cancelled", "replaced by its edit R-2") {
		t.Fatalf("R-1's audit does not point to R-2: %+v", audit)
	}
	if id, err := f.st.ByExternalID(ctx, "MS-001"); err != nil || id != 2 {
		t.Fatalf("MS-001 is held by %d (%v), want R-2", id, err)
	}
	// Someone else's pending request cannot be taken over by an edit.
	if r := f.h.Command(ctx, slack.SlashCommand{UserID: "bob", ChannelID: "C1", Text: msCommandText}); r == nil || !strings.Contains(r.Text, "already used by R-2") {
		t.Fatalf("a second submission of MS-001: %+v", r)
	}
}
