package bot

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers"
)

// `/submit k=v …` fills the open form and presses its button. The bot's
// forms may have several steps (the customer form: company, packages,
// quantities, HQ location, review), and a console user types every key at
// once, as for the command. So keys of a later step are kept, and the
// console presses Next on each step until every kept key has found its
// step — the step holding the last of them is pressed too, since its keys
// were given — and stops at the step after it (for the customer form, its
// review, which one more /submit submits). A step after it that asks
// nothing required (every input optional, as the customer form's onboarding
// plan) is pressed as it is: its keys, when wanted, come with the others.
// A step answered with errors
// stops it; the kept keys wait for the next /submit. A key that no step
// takes is refused once the last step is reached, before it is pressed.

// formKey is one key=value of a /submit.
type formKey struct{ key, value string }

// maxFormSteps bounds the presses of one /submit: the bot's forms have at
// most 20 steps (handlers' callback ids say so).
const maxFormSteps = 20

// submit handles `/submit k=v …`.
func (c *Console) submit(ctx context.Context, rest string) {
	c.form.mu.Lock()
	open := c.form.view != nil
	c.form.mu.Unlock()
	if !open {
		c.printf("no form is open: /onboard-customer with no keys opens one\n")
		return
	}
	cmd, err := handlers.ParseCommand(rest)
	if err != nil {
		c.printf("⛔ %s\n", err)
		return
	}
	if len(cmd.Words) > 0 {
		c.printf("⛔ /submit takes key=value pairs only, not %q\n", cmd.Words[0])
		return
	}
	given := make([]formKey, 0, len(cmd.Keys))
	for _, k := range cmd.Keys {
		given = append(given, formKey{k, cmd.Args[k]})
	}
	c.answer(func() {
		for range maxFormSteps {
			if !c.pressStep(ctx, given) {
				return
			}
			given = nil
		}
	})
}

// pressStep places the given keys and those kept from earlier on the open
// form, presses its button and prints the answer. It reports whether the
// next step must be pressed too.
func (c *Console) pressStep(ctx context.Context, given []formKey) (again bool) {
	c.form.mu.Lock()
	view, id := c.form.view, c.form.id
	if view == nil {
		c.form.mu.Unlock()
		return false
	}
	typed := maps.Clone(c.form.typed)
	if typed == nil {
		typed = map[string]string{}
	}
	inputs := formInputs(view)
	later := placeKeys(inputs, typed, append(slices.Clone(c.form.later), given...))
	if len(later) > 0 && !hasLaterStep(view) {
		c.form.typed, c.form.later = typed, nil
		c.form.mu.Unlock()
		c.refuseKeys(view, inputs, later)
		return false
	}
	c.form.later = later
	c.form.mu.Unlock()

	cb := &slack.InteractionCallback{
		Type: slack.InteractionTypeViewSubmission,
		User: slack.User{ID: c.currentUser(), Name: c.currentUser()},
		View: slack.View{ID: id, Type: slack.VTModal, CallbackID: view.CallbackID, PrivateMetadata: view.PrivateMetadata,
			State: &slack.ViewState{Values: formState(inputs, typed)}},
	}
	reply := c.Router.Interaction(ctx, cb)
	if reply != nil && reply.Text != "" {
		c.printReply(&handlers.Reply{Text: reply.Text})
	}
	var resp *slack.ViewSubmissionResponse
	if reply != nil {
		resp = reply.View
	}
	switch {
	case resp == nil || resp.ResponseAction == slack.RAClear:
		c.closeForm(id)
		c.printf("(form closed)\n")
	case resp.ResponseAction == slack.RAErrors:
		c.form.mu.Lock()
		if c.form.id == id {
			c.form.typed = typed
		}
		c.form.mu.Unlock()
		c.printErrors(inputs, resp.Errors)
	case (resp.ResponseAction == slack.RAUpdate || resp.ResponseAction == slack.RAPush) && resp.View != nil:
		return c.nextStep(id, view, resp.View)
	default:
		c.printf("(the bot answered %q; form left as it is)\n", resp.ResponseAction)
	}
	return false
}

// nextStep shows the form's next step with the kept keys that belong to it,
// and reports whether it must be pressed too: when it took kept keys or
// more are kept for a later one. A step that did not move on (the bot
// showed the same step again) or has no button ends the presses.
func (c *Console) nextStep(id string, prev, next *slack.ModalViewRequest) (again bool) {
	c.form.mu.Lock()
	if c.form.id != id {
		c.form.mu.Unlock()
		return false
	}
	typed := map[string]string{}
	later := placeKeys(formInputs(next), typed, c.form.later)
	placed := len(typed) > 0
	c.form.view, c.form.typed, c.form.later = next, typed, later
	moved := next.CallbackID != prev.CallbackID && next.Submit != nil
	if !moved {
		c.form.later = nil
	}
	c.form.mu.Unlock()
	c.printForm(next, typed)
	if !moved && len(later) > 0 {
		c.printf("(not filled in: %s)\n", strings.Join(keyNames(later), ", "))
	}
	return moved && (placed || len(later) > 0 || allOptional(next))
}

// allOptional reports whether view asks for input, none of it required.
func allOptional(view *slack.ModalViewRequest) bool {
	inputs := formInputs(view)
	for _, in := range inputs {
		if !in.Optional {
			return false
		}
	}
	return len(inputs) > 0
}

// placeKeys puts the keys that are inputs of the form into typed and
// returns the others, in order. A key given twice keeps its last value.
func placeKeys(inputs []*slack.InputBlock, typed map[string]string, keys []formKey) (rest []formKey) {
	for _, k := range keys {
		if slices.ContainsFunc(inputs, func(in *slack.InputBlock) bool { return in.BlockID == k.key }) {
			typed[k.key] = k.value
			continue
		}
		rest = slices.DeleteFunc(rest, func(r formKey) bool { return r.key == k.key })
		rest = append(rest, k)
	}
	return rest
}

// stepTitleRE reads the step counter the bot's multi-step forms end their
// title with: "New customer (2/5)".
var stepTitleRE = regexp.MustCompile(`\((\d+)/(\d+)\)$`)

// hasLaterStep reports whether the form has a step after this one.
func hasLaterStep(v *slack.ModalViewRequest) bool {
	m := stepTitleRE.FindStringSubmatch(strings.TrimSpace(textOf(v.Title)))
	if m == nil || v.Submit == nil {
		return false
	}
	at, err1 := strconv.Atoi(m[1])
	of, err2 := strconv.Atoi(m[2])
	return err1 == nil && err2 == nil && at < of
}

// refuseKeys says which keys no step of the form takes from here on; the
// others stay typed into the open step, which is not pressed.
func (c *Console) refuseKeys(v *slack.ModalViewRequest, inputs []*slack.InputBlock, keys []formKey) {
	names := keyNames(keys)
	for i, n := range names {
		names[i] = strconv.Quote(n)
	}
	fields := "none"
	if len(inputs) > 0 {
		fields = strings.Join(blockIDs(inputs), ", ")
	}
	if !stepTitleRE.MatchString(strings.TrimSpace(textOf(v.Title))) {
		c.printf("⛔ this form has no field %s (its fields: %s)\n", strings.Join(names, ", "), fields)
		return
	}
	c.printf("⛔ no step from here on has a field %s (this step's fields: %s); this step was not submitted\n", strings.Join(names, ", "), fields)
}

func keyNames(keys []formKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.key
	}
	return out
}
