package request

import "slices"

// PlanSteps are the steps of an onboarding plan after its customer, each
// present only when asked for. They run in the order Webex needs: a new
// customer's HQ has no PSTN connection, numbers can only be added once it
// has one, and users with phone=auto take those numbers. Their customer
// references carry no request id until the worker makes the steps (the
// plan's own id is not known before it is saved).
type PlanSteps struct {
	PSTN    *PSTNSpec    `json:"pstn,omitempty"`
	Numbers *NumbersSpec `json:"numbers,omitempty"`
	Users   *UsersSpec   `json:"users,omitempty"`
}

// PlanStep is one step of a plan: the kind of request it becomes and its
// spec.
type PlanStep struct {
	Kind Kind
	Spec any
}

// List is the plan's steps in the order they run.
func (p *PlanSteps) List() []PlanStep {
	if p == nil {
		return nil
	}
	var out []PlanStep
	if p.PSTN != nil {
		out = append(out, PlanStep{KindPSTN, p.PSTN})
	}
	if p.Numbers != nil {
		out = append(out, PlanStep{KindNumbers, p.Numbers})
	}
	if p.Users != nil {
		out = append(out, PlanStep{KindUsers, p.Users})
	}
	return out
}

// PlanRef is the id a request is shown and reported under: its plan's, for
// a step of one.
func (r *Request) PlanRef() string {
	if r.Plan != 0 {
		return FormatID(r.Plan)
	}
	return r.Ref()
}

// WaitsInPlan reports whether waiting request r, a step of a plan, waits
// for the plan's customer or the step before it: the plan's own order, not
// news for anyone.
func (r *Request) WaitsInPlan() bool {
	id, ok := AwaitedRequest(r.Result.WaitReason)
	return ok && r.Plan != 0 && r.State == StateWaiting && slices.Contains(r.Precheck.WaitFor, id)
}

// ImportSpec is an import: customers (each with its plan's steps), in the
// order of the file, and the rows of the file left out (valid-only=yes),
// each with its line and reason.
type ImportSpec struct {
	Customers []ImportedCustomer `json:"customers"`
	Refused   []string           `json:"refused,omitempty"`
	// RefusedBy counts the rows left out by what they were refused for
	// ("email", "users: phone", "missing").
	RefusedBy map[string]int `json:"refusedBy,omitempty"`
}

// ImportedCustomer is one row of an import's customers file.
type ImportedCustomer struct {
	Line     int          `json:"line"` // of the customers file
	Customer CustomerSpec `json:"customer"`
}
