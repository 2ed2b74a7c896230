package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// Views opens and replaces modals: *bot.SlackAPI in Slack modes, the console
// (which prints them as forms) in console mode.
type Views interface {
	OpenView(ctx context.Context, triggerID string, v slack.ModalViewRequest) (viewID string, err error)
	UpdateView(ctx context.Context, viewID, hash string, v slack.ModalViewRequest) error
}

// Modal flows keep nothing but the draft id in private_metadata; every step
// is saved to the draft, so whichever replica gets the next view_submission
// continues the flow.
const (
	// actionValue is the action id of every input element. Block ids carry
	// the command keys, so FieldErrors.ByKey() maps onto inline errors as is.
	actionValue = "value"
	// callbackPrefix starts a form's callback_id: "form:<kind>:<step>".
	callbackPrefix = "form:"
	stepDone       = "done"

	maxViewTitle    = 24
	maxModalBlocks  = 100
	maxMetadata     = 3000
	maxInlineError  = 500
	maxSectionChars = 2900
)

type fieldKind int

const (
	fieldText fieldKind = iota
	fieldMultiline
	fieldNumber
	fieldSelect      // static options
	fieldExternal    // options from /slack/options (options.go), by block id
	fieldMultiSelect // static options, several; answers are a comma list
	fieldYes         // one checkbox; its answer is "yes" or nothing
	fieldFile        // Slack's file input: its content becomes the answer of fileFor
)

// field is one input of a form. key is a command key (or a modal-only key
// the flow's normalize folds into command keys) and the input's block id.
type field struct {
	key      string
	label    string
	hint     string
	kind     fieldKind
	optional bool
	options  []option // fieldSelect, fieldMultiSelect, fieldYes
	maxLen   int      // text inputs; 0: Slack's default
	fileFor  string   // fieldFile: the key whose answer the file's content is
}

type option struct{ value, label string }

// formStep is one screen of a flow. A review step shows what will be
// submitted and has no inputs.
type formStep struct {
	title  string
	intro  string
	fields []field
	review bool
}

// flow is a modal form for one kind of request. Its answers are command
// keys, so submitting it runs the same code as the command.
type flow struct {
	kind  request.Kind
	title string // ≤ 17 code points, so " (n/m)" fits Slack's 24
	steps func(answers map[string]string) []formStep
	// normalize folds modal-only keys into command keys and drops answers
	// that no longer apply (quantities of a package taken out).
	normalize func(answers map[string]string)
	// check validates every answer with the command's own parser.
	check func(ctx context.Context, h *Handler, u caller, answers map[string]string) (missing []string, errs input.FieldErrors, fault *Reply)
	// review renders the review step (nil: the flow has none).
	review func(ctx context.Context, h *Handler, u caller, answers map[string]string) []slack.Block
	// submit creates the request exactly as the command does.
	submit func(ctx context.Context, h *Handler, u caller, answers map[string]string) *Reply
}

// flows are the modal forms by kind (modal_customer.go, modal_setup.go).
// They are registered in init: the flows' functions open forms themselves
// (a command short of keys), which a package-level map literal would turn
// into an initialization cycle.
var flows = map[request.Kind]*flow{}

func init() {
	for _, f := range []*flow{customerFlow, templateFlow, usersFlow, locationFlow, numbersFlow, pstnFlow, importFlow} {
		flows[f.kind] = f
	}
}

func flowFor(k request.Kind) *flow { return flows[k] }

// Drafts is what the modal flows need of draft storage (store.Drafts).
type Drafts interface {
	CreateDraft(ctx context.Context, d *store.Draft) error
	GetDraft(ctx context.Context, id int64) (*store.Draft, error)
	SaveDraft(ctx context.Context, d *store.Draft) error
	DeleteDraft(ctx context.Context, d *store.Draft) error
	DraftsOf(ctx context.Context, owner string, limit int) ([]*store.Draft, error)
}

// canOpenForms reports whether modals are wired (not in every test setup).
func (h *Handler) canOpenForms() bool { return h.views != nil && h.drafts != nil }

// openForm saves answers as a new draft and opens its first step with the
// caller's trigger. It runs on the ack path: the trigger is valid for 3 s,
// once, so nothing may queue in front of views.open.
func (h *Handler) openForm(ctx context.Context, u caller, trigger string, kind request.Kind, answers map[string]string, linkedFrom int64) *Reply {
	f := flowFor(kind)
	if f == nil || !h.canOpenForms() {
		return refusal("⛔ there is no form for " + string(kind) + " here")
	}
	if answers == nil {
		answers = map[string]string{}
	}
	f.normalize(answers)
	d := &store.Draft{Owner: u.id, Kind: kind, Answers: answers, Channel: u.channel, LinkedFrom: linkedFrom}
	if err := h.drafts.CreateDraft(ctx, d); err != nil {
		return h.systemFault(u, "create draft", err)
	}
	if _, err := h.views.OpenView(ctx, trigger, formView(f, d, f.steps(d.Answers), nil)); err != nil {
		ref := chat.NewRef()
		h.log.WithFields(logrus.Fields{"ref": ref, "user": u.id, "draft": d.Ref()}).WithError(err).Warn("open form")
		return refusal(fmt.Sprintf("⛔ could not open the form (ref %s); try the command again", ref))
	}
	h.log.WithFields(logrus.Fields{"user": u.id, "draft": d.Ref(), "kind": kind}).Info("form opened")
	return nil
}

// viewSubmission continues a form: it saves the step's answers, answers
// with inline errors keyed by input block id, the next step, or — on the
// last step — submits the request like the command does.
func (h *Handler) viewSubmission(ctx context.Context, cb *slack.InteractionCallback) *Reply {
	kind, step, ok := parseCallback(cb.View.CallbackID)
	f := flowFor(kind)
	if !ok || f == nil || !h.canOpenForms() {
		return nil // not one of ours: let it close
	}
	u := caller{id: cb.User.ID}
	id, err := store.ParseDraftID(cb.View.PrivateMetadata)
	if err != nil {
		return updateWith(messageView(f, nil, "⛔ This form is not valid any more. Start again with /onboard-customer."))
	}
	d, err := h.drafts.GetDraft(ctx, id)
	switch {
	case errors.Is(err, request.ErrNotFound):
		return updateWith(messageView(f, nil, fmt.Sprintf("⌛ Draft %s has expired or was submitted already. Start again with /onboard-customer.", store.FormatDraftID(id))))
	case err != nil:
		return updateWith(messageView(f, nil, h.systemFault(u, "read draft", err).Text))
	case d.Owner != u.id || d.Kind != kind:
		return updateWith(messageView(f, nil, "⛔ This form belongs to someone else."))
	}
	u.channel = d.Channel
	steps := f.steps(d.Answers)
	if step != d.Step || step < 0 || step >= len(steps) {
		// A repeated or stale submission (a second window): show where the
		// draft really is instead of applying old answers.
		return h.showStep(ctx, u, f, d)
	}
	st := steps[step]
	for _, fl := range st.fields {
		if fl.kind == fieldFile {
			continue // read by readFiles
		}
		if v := stateValue(cb.View.State, fl); v != "" {
			d.Answers[fl.key] = v
		} else {
			delete(d.Answers, fl.key)
		}
	}
	if inline := h.readFiles(ctx, cb.View.State, st, d.Answers); len(inline) > 0 {
		return &Reply{View: slack.NewErrorsViewSubmissionResponse(inline)}
	}
	f.normalize(d.Answers)
	if st.review {
		return h.submitForm(ctx, u, f, d)
	}
	last := step == len(steps)-1
	missing, errs, fault := f.check(ctx, h, u, d.Answers)
	if fault != nil {
		return updateWith(messageView(f, d, fault.Text))
	}
	if inline := stepErrors(st, missing, errs, last); len(inline) > 0 {
		// Keep what was typed: a form reopened later starts from it.
		if err := h.drafts.SaveDraft(ctx, d); err != nil && !errors.Is(err, store.ErrDraftChanged) {
			h.log.WithError(err).WithField("draft", d.Ref()).Warn("save draft answers")
		}
		return &Reply{View: slack.NewErrorsViewSubmissionResponse(inline)}
	}
	if last {
		return h.submitForm(ctx, u, f, d)
	}
	d.Step++
	if rep := h.saveStep(ctx, u, f, d); rep != nil {
		return rep
	}
	return h.showStep(ctx, u, f, d)
}

// saveStep saves the draft; nil on success, else the view that explains.
func (h *Handler) saveStep(ctx context.Context, u caller, f *flow, d *store.Draft) *Reply {
	err := h.drafts.SaveDraft(ctx, d)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrDraftChanged):
		// Someone saved first (a double click, a second window): show the
		// draft as it is now rather than overwrite it.
		if cur, gerr := h.drafts.GetDraft(ctx, d.ID); gerr == nil {
			return h.showStep(ctx, u, f, cur)
		}
		return updateWith(messageView(f, d, "⛔ This form was changed in another window meanwhile; close this one."))
	case errors.Is(err, request.ErrNotFound):
		return updateWith(messageView(f, nil, "⌛ This draft has expired. Start again with /onboard-customer."))
	}
	return updateWith(messageView(f, d, h.systemFault(u, "save draft", err).Text))
}

// showStep answers with the draft's current step.
func (h *Handler) showStep(ctx context.Context, u caller, f *flow, d *store.Draft) *Reply {
	steps := f.steps(d.Answers)
	if d.Step < 0 || d.Step >= len(steps) {
		return updateWith(messageView(f, d, "⏳ This draft is being submitted."))
	}
	var review []slack.Block
	if steps[d.Step].review && f.review != nil {
		review = f.review(ctx, h, u, d.Answers)
	}
	v := formView(f, d, steps, review)
	return updateWith(&v)
}

// submitForm submits the draft's answers through the command's code. The
// draft is marked as being submitted first (a versioned save), so a double
// click submits once.
func (h *Handler) submitForm(ctx context.Context, u caller, f *flow, d *store.Draft) *Reply {
	at := d.Step
	d.Step = len(f.steps(d.Answers))
	if rep := h.saveStep(ctx, u, f, d); rep != nil {
		return rep
	}
	args := make(map[string]string, len(d.Answers))
	for k, v := range d.Answers {
		args[k] = v
	}
	if d.LinkedFrom != 0 {
		u.replaces = h.pendingEdit(ctx, u, d.LinkedFrom)
	}
	rep := f.submit(ctx, h, u, args)
	if id, ok := submittedID(rep); ok {
		if d.LinkedFrom != 0 {
			h.linkResubmission(ctx, u, id, d.LinkedFrom)
		}
		if err := h.drafts.DeleteDraft(ctx, d); err != nil {
			h.log.WithError(err).WithField("draft", d.Ref()).Warn("delete submitted draft; it expires on its own")
		}
		return updateWith(messageView(f, nil, rep.Text))
	}
	d.Step = at
	if err := h.drafts.SaveDraft(ctx, d); err != nil {
		h.log.WithError(err).WithField("draft", d.Ref()).Warn("reopen draft after a refused submit")
	}
	text := "⛔ nothing was submitted"
	if rep != nil && rep.Text != "" {
		text = rep.Text
	}
	return updateWith(messageView(f, d, text+"\n\nYour answers are kept in draft "+d.Ref()+"."))
}

// submittedID reads the request id from a command's "📨 R-7 submitted: …"
// reply: the modal reuses the command functions unchanged, and that reply
// is how they say a request was saved.
func submittedID(r *Reply) (int64, bool) {
	if r == nil || !strings.HasPrefix(r.Text, "📨 ") {
		return 0, false
	}
	ref, _, _ := strings.Cut(strings.TrimPrefix(r.Text, "📨 "), " ")
	id, err := request.ParseID(ref)
	return id, err == nil
}

func updateWith(v *slack.ModalViewRequest) *Reply {
	return &Reply{View: slack.NewUpdateViewSubmissionResponse(v)}
}

// parseCallback reads "form:<kind>:<step>".
func parseCallback(id string) (request.Kind, int, bool) {
	rest, ok := strings.CutPrefix(id, callbackPrefix)
	if !ok {
		return "", 0, false
	}
	kind, step, ok := strings.Cut(rest, ":")
	if !ok {
		return "", 0, false
	}
	if step == stepDone {
		return request.Kind(kind), -1, true
	}
	n, err := strconv.Atoi(step)
	if err != nil || n < 0 || n > 20 {
		return "", 0, false
	}
	return request.Kind(kind), n, true
}

// stateValue reads one input's value from a submitted view, whatever its
// element: text, select, multi-select or checkbox.
func stateValue(st *slack.ViewState, fl field) string {
	if st == nil {
		return ""
	}
	a, ok := st.Values[fl.key][actionValue]
	if !ok {
		return ""
	}
	if v := strings.TrimSpace(a.SelectedOption.Value); v != "" {
		return v
	}
	if len(a.SelectedOptions) > 0 {
		vals := make([]string, 0, len(a.SelectedOptions))
		for _, o := range a.SelectedOptions {
			if v := strings.TrimSpace(o.Value); v != "" && !slices.Contains(vals, v) {
				vals = append(vals, v)
			}
		}
		return strings.Join(vals, ",")
	}
	return strings.TrimSpace(a.Value)
}

// stepErrors maps a parser's verdict onto the step's input blocks. Problems
// of keys on later steps wait for those steps; on the last step they go to
// its first input, named, so nothing is hidden.
func stepErrors(st formStep, missing []string, errs input.FieldErrors, last bool) map[string]string {
	out := map[string]string{}
	onStep := func(k string) bool {
		return slices.ContainsFunc(st.fields, func(f field) bool { return f.key == k })
	}
	add := func(key, msg string) {
		target := key
		switch {
		case onStep(key):
		case strings.HasPrefix(key, "row ") && onStep("rows"):
			target, msg = "rows", key+": "+msg
		case last && len(st.fields) > 0:
			target, msg = st.fields[0].key, key+": "+msg
		default:
			return
		}
		if prev := out[target]; prev != "" {
			msg = prev + "; " + msg
		}
		out[target] = msg
	}
	for _, e := range errs {
		add(e.Key, e.Message)
	}
	for _, k := range missing {
		add(k, missingText(k))
	}
	for k, v := range out {
		out[k] = chat.Truncate(v, maxInlineError)
	}
	return out
}

func missingText(key string) string {
	switch key {
	case "template":
		return "choose a template or give a provisioning id"
	case "timezone":
		return "required: this country spans several time zones"
	case "country":
		return "required (or choose a template that sets it)"
	case "package":
		return "required (or choose a template that sets it)"
	}
	return "required"
}

// formsAllowed reports whether a command short of keys opens its form
// instead of an error: in Slack always, in the piped console only for a
// bare command (scripts expect an error listing the missing keys).
func (h *Handler) formsAllowed(args map[string]string, words int) bool {
	return h.canOpenForms() && (h.set.Interactive || (len(args) == 0 && words <= 1))
}

// setupForm opens kind's form pre-filled from a setup command that lacks its
// CUSTOMER word or one of required; handled is false when the command
// should run as typed.
func (h *Handler) setupForm(ctx context.Context, u caller, kind request.Kind, c Command, required ...string) (rep *Reply, handled bool) {
	if len(c.Words) > 2 || !h.formsAllowed(c.Args, len(c.Words)) {
		return nil, false
	}
	lacking := len(c.Words) < 2
	for _, k := range required {
		if strings.TrimSpace(c.Args[k]) == "" {
			lacking = true
		}
	}
	if !lacking {
		return nil, false
	}
	if !h.isRequester(u.id) {
		return refusal("⛔ you are not allowed to submit requests"), true
	}
	answers := make(map[string]string, len(c.Args)+1)
	for k, v := range c.Args {
		answers[k] = v
	}
	if len(c.Words) == 2 {
		answers[customerKey] = c.Words[1]
	}
	return h.openForm(ctx, u, u.trigger, kind, answers, 0), true
}
