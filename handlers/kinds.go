package handlers

import (
	"fmt"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// kindRules is everything the handlers do differently for one kind of
// request. A new kind adds its row to kinds (and its form to flows in
// modal.go, its command to commands, its commit to the worker's commits).
type kindRules struct {
	// fields are the summary's fields: what the approver approves.
	fields func(r *request.Request) []slack.Block
	// check rebuilds the precheck of a stored request (publish sweep,
	// "Run the precheck again"); nil: the kind has none.
	check func(h *Handler, r *request.Request) precheckFunc
	// answers turns a stored spec back into form answers for Edit &
	// resubmit; nil: the kind cannot be edited and resubmitted.
	answers func(r *request.Request, set func(k, v string)) error
	// done says what a done request achieved: after its id on the outcome
	// line (line), and where its subject is already said (state).
	done func(r *request.Request) (line, state string)
}

// kinds describes each kind of request once. Rows are filled in init: the
// rules refer to forms and summaries that refer back to kinds.
var kinds map[request.Kind]kindRules

func init() {
	kinds = map[request.Kind]kindRules{
		request.KindCustomer: {fields: fieldsOf(customerFields), check: checkOf((*Handler).customerCheck),
			answers: answersOf(customerAnswers), done: customerDone},
		request.KindAdopt: {done: customerDone},
		request.KindTemplate: {fields: templateFields, check: checkOf((*Handler).templateCheck),
			answers: answersOf(templateAnswers), done: templateDone},
		request.KindUsers: {fields: fieldsOf(usersFields), check: checkOf((*Handler).usersCheck),
			answers: answersOf(usersAnswers), done: messageDone},
		request.KindLocation: {fields: fieldsOf(locationFields), check: checkOf((*Handler).locationCheck),
			answers: answersOf(locationAnswers), done: locationDone},
		request.KindNumbers: {fields: fieldsOf(numbersFields), check: checkOf((*Handler).numbersCheck),
			answers: answersOf(numbersAnswers), done: messageDone},
		request.KindPSTN:   {fields: fieldsOf(pstnFields), check: checkOf((*Handler).pstnCheck), done: messageDone},
		request.KindChange: {fields: fieldsOf(changeFields), check: checkOf((*Handler).changeCheck)},
		request.KindRemove: {fields: fieldsOf(removeFields), check: checkOf((*Handler).removeCheck)},
		request.KindDelete: {fields: fieldsOf(deleteFields)},
		request.KindImport: {fields: fieldsOf(importFields), check: checkOf((*Handler).importCheck), done: messageDone},
	}
}

// fieldsOf adapts a summary renderer of spec type T; an unreadable spec
// shows no fields (the payload button still shows what is stored).
func fieldsOf[T any](f func(*T) []slack.Block) func(*request.Request) []slack.Block {
	return func(r *request.Request) []slack.Block {
		spec, err := request.SpecOf[T](r)
		if err != nil {
			return nil
		}
		return f(spec)
	}
}

// checkOf adapts a precheck builder of spec type T; nil for an unreadable
// spec.
func checkOf[T any](f func(*Handler, *T) precheckFunc) func(*Handler, *request.Request) precheckFunc {
	return func(h *Handler, r *request.Request) precheckFunc {
		spec, err := request.SpecOf[T](r)
		if err != nil {
			return nil
		}
		return f(h, spec)
	}
}

// answersOf adapts a form filler of spec type T.
func answersOf[T any](f func(*T, func(k, v string))) func(*request.Request, func(k, v string)) error {
	return func(r *request.Request, set func(k, v string)) error {
		spec, err := request.SpecOf[T](r)
		if err != nil {
			return err
		}
		f(spec, set)
		return nil
	}
}

// kindFields are r's summary fields.
func kindFields(r *request.Request) []slack.Block {
	if f := kinds[r.Kind].fields; f != nil {
		return f(r)
	}
	return nil
}

// checkFor rebuilds the precheck of a stored request; nil when its kind has
// none or its spec cannot be read.
func (h *Handler) checkFor(r *request.Request) precheckFunc {
	if c := kinds[r.Kind].check; c != nil {
		return c(h, r)
	}
	return nil
}

// hasForm reports whether requests of kind k can be edited in a form.
func hasForm(k request.Kind) bool { return kinds[k].answers != nil }

// doneLine and doneState are what a done request achieved, as the outcome
// line says it (with its subject) and as a state (without); plain text.
func doneLine(r *request.Request) string {
	if d := kinds[r.Kind].done; d != nil {
		line, _ := d(r)
		return line
	}
	return r.Subject
}

func doneState(r *request.Request) string {
	if d := kinds[r.Kind].done; d != nil {
		_, state := d(r)
		return state
	}
	return "done"
}

func customerDone(r *request.Request) (string, string) {
	switch {
	case r.Result.Status == request.CustomerDeleted:
		state := fmt.Sprintf("deleted (was org %s)", r.Result.OrgID)
		return r.Subject + " " + state, state
	case r.Kind == request.KindAdopt:
		return fmt.Sprintf("adopted %s (org %s)", r.Subject, r.Result.OrgID), fmt.Sprintf("adopted (org %s)", r.Result.OrgID)
	}
	state := fmt.Sprintf("provisioned (org %s)", r.Result.OrgID)
	return r.Subject + " " + state, state
}

func templateDone(r *request.Request) (string, string) {
	state := fmt.Sprintf("v%d active", r.Result.Version)
	return r.Subject + " " + state, state
}

func locationDone(r *request.Request) (string, string) { return r.Subject + " ready", "ready" }

// messageDone is the worker's account of what was done ("3 users
// provisioned"), when it gave one.
func messageDone(r *request.Request) (string, string) {
	if r.Result.Message == "" {
		return r.Subject, "done"
	}
	return r.Subject + ": " + r.Result.Message, r.Result.Message
}
