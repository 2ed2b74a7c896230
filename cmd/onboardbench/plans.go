package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// planSteps is how many steps each imported customer's plan has: PSTN,
// numbers, users.
const planSteps = 3

// plans follows in Redis the plans an approved import made, as the bot
// stores them: the import's Result.Requests are its customers (field
// import), each customer's steps are requests with field plan = the
// customer's id, found under the customer's index.
type plans struct {
	st        *store.Store
	imp       int64
	customers []int64
	ended     map[int64]planEnd // customer id → how its plan ended
}

// planEnd is a settled plan: every request of it (customer and steps), its
// users step, and whether it all ended done.
type planEnd struct {
	ok    bool
	why   string
	ids   []int64
	users int64
}

func newPlans(st *store.Store, imp int64) *plans {
	return &plans{st: st, imp: imp, ended: map[int64]planEnd{}}
}

// poll looks once at the plans not settled yet; it reports whether every
// plan of the import has settled (done, or failed at some request).
func (p *plans) poll(ctx context.Context) (bool, error) {
	if p.customers == nil {
		imp, err := p.st.Get(ctx, p.imp)
		if err != nil {
			return false, err
		}
		if imp.State == request.StateFailed {
			return false, fmt.Errorf("%s failed: %s", imp.Ref(), imp.Result.Message)
		}
		if len(imp.Result.Requests) == 0 {
			return false, nil // the customers are being made
		}
		p.customers = imp.Result.Requests
	}
	for _, id := range p.customers {
		if _, ok := p.ended[id]; ok {
			continue
		}
		end, settled, err := p.check(ctx, id)
		if err != nil {
			return false, err
		}
		if settled {
			p.ended[id] = end
		}
	}
	return len(p.ended) == len(p.customers), nil
}

// check reads the plan of customer request id: settled when the customer
// failed, a step failed (or ended partial), or all of it is done.
func (p *plans) check(ctx context.Context, id int64) (planEnd, bool, error) {
	c, err := p.st.Get(ctx, id)
	if err != nil {
		return planEnd{}, false, err
	}
	end := planEnd{ids: []int64{id}}
	switch {
	case c.State.Final() && c.State != request.StateDone:
		end.why = fmt.Sprintf("%s %s %s: %s", c.Ref(), c.Subject, c.State, c.Result.Message)
		return end, true, nil
	case c.State != request.StateDone:
		return end, false, nil
	}
	steps, _, err := p.st.CustomerRequests(ctx, id, 100)
	if err != nil {
		return end, false, err
	}
	n := 0
	for _, s := range steps {
		if s.Plan != id {
			continue
		}
		n++
		end.ids = append(end.ids, s.ID)
		if s.Kind == request.KindUsers {
			end.users = s.ID
		}
		switch {
		case s.State == request.StateFailed || (s.State == request.StateDone && s.Result.Status == request.ResultPartial):
			end.why = fmt.Sprintf("%s %s %s: %s", s.Ref(), s.Subject, s.State, s.Result.Message)
			return end, true, nil
		case s.State != request.StateDone:
			return end, false, nil
		}
	}
	end.ok = n == planSteps
	return end, end.ok, nil
}

// failed lists why the plans that did not end done ended so.
func (p *plans) failed() []string {
	var out []string
	for _, id := range p.customers {
		if e, ok := p.ended[id]; ok && !e.ok {
			out = append(out, e.why)
		}
	}
	return out
}

// settledAt is when the last request of every settled plan reached done
// or failed, from the audit trails: exact, whatever the polling interval.
func (p *plans) settledAt(ctx context.Context) (time.Time, error) {
	var last time.Time
	for _, e := range p.ended {
		for _, id := range e.ids {
			at, err := finalAt(ctx, p.st, id)
			if err != nil {
				return last, err
			}
			if at.After(last) {
				last = at
			}
		}
	}
	return last, nil
}

// finalAt is when request id last moved to done or failed (zero if never).
func finalAt(ctx context.Context, st *store.Store, id int64) (time.Time, error) {
	return auditAt(ctx, st, id, func(e request.AuditEntry) bool {
		return e.To == request.StateDone || e.To == request.StateFailed
	}, true)
}

// auditAt is the time of the first (or, last=true, the last) audit entry
// of request id that match holds for; zero when none does.
func auditAt(ctx context.Context, st *store.Store, id int64, match func(request.AuditEntry) bool, last bool) (time.Time, error) {
	entries, err := st.Audit(ctx, id)
	if errors.Is(err, request.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	var at time.Time
	for _, e := range entries {
		if match(e) {
			at = e.At
			if !last {
				break
			}
		}
	}
	return at, nil
}

// usersDone counts the rows of the plans' users steps stored done or
// existed.
func (p *plans) usersDone(ctx context.Context) (int, error) {
	done := 0
	for _, e := range p.ended {
		if e.users == 0 {
			continue
		}
		outcomes, err := p.st.RowOutcomes(ctx, e.users)
		if err != nil {
			return done, err
		}
		for _, o := range outcomes {
			if o.Status == request.RowDone || o.Status == request.RowExisted {
				done++
			}
		}
	}
	return done, nil
}

// timeline is the audit trail of the plan of customer request id, each
// request on its own, times from start: "R-2 customer: committing 0.1s,
// creating 0.1s, …; R-53 pstn: …". It shows where a plan's time goes.
func (p *plans) timeline(ctx context.Context, id int64, start time.Time) string {
	e, ok := p.ended[id]
	if !ok {
		return request.FormatID(id) + " has not settled"
	}
	var parts []string
	for _, rid := range slices.Sorted(slices.Values(e.ids)) {
		r, err := p.st.Get(ctx, rid)
		if err != nil {
			return err.Error()
		}
		entries, err := p.st.Audit(ctx, rid)
		if err != nil {
			return err.Error()
		}
		var steps []string
		for _, a := range entries {
			steps = append(steps, fmt.Sprintf("%s %s", a.Action, a.At.Sub(start).Round(100*time.Millisecond)))
		}
		parts = append(parts, fmt.Sprintf("%s %s: %s", r.Ref(), r.Kind, strings.Join(steps, ", ")))
	}
	return strings.Join(parts, "; ")
}
