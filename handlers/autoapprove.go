package handlers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

// autoActor is the audit actor of AUTO_APPROVE approvals.
const autoActor = request.ActorAuto

// autoApproveRefusal is the AUTO_APPROVE rule as a pure function: "" means
// r is approved without a second person. A users batch must have passed its
// precheck and fit the ordered quantities: for every package of its new
// rows, rows + users already provisioned ≤ limit.<package>. A package
// without an ordered quantity does not fit — no quantities, no exemption
// (AUTO_APPROVE lets through what fits the ordered quantities, nothing
// else).
// A location consumes no quantity: it qualifies when listed and its
// precheck (no location of that name yet) passed. newRows and provisioned count users per package.
func autoApproveRefusal(r *request.Request, listed bool, newRows, provisioned, limits map[string]int) string {
	switch {
	case !listed:
		return fmt.Sprintf("%s requests are not in AUTO_APPROVE", r.Kind)
	case r.State != request.StatePendingApproval:
		return "not waiting for approval"
	case r.Kind == request.KindLocation:
		if r.Precheck.Status != request.PrecheckNone && r.Precheck.Status != request.PrecheckOK {
			return "precheck " + string(r.Precheck.Status)
		}
		return ""
	case r.Kind != request.KindUsers:
		return fmt.Sprintf("%s requests are never auto-approved", r.Kind)
	case r.Precheck.Status != request.PrecheckOK:
		return "precheck not passed (" + chat.OrDash(string(r.Precheck.Status)) + ")"
	}
	packages := make([]string, 0, len(newRows))
	for p := range newRows {
		packages = append(packages, p)
	}
	sort.Strings(packages)
	for _, p := range packages {
		limit, ok := limits[p]
		if !ok {
			return fmt.Sprintf("no ordered quantity for %s", p)
		}
		if newRows[p]+provisioned[p] > limit {
			return fmt.Sprintf("%s: %d new + %d provisioned exceeds the ordered %d", p, newRows[p], provisioned[p], limit)
		}
	}
	return ""
}

// autoApprove approves request id as "auto" when AUTO_APPROVE lists its
// kind and autoApproveRefusal allows it; otherwise it waits for a person.
// It runs after the summary and precheck (submitSetup's background work).
func (h *Handler) autoApprove(ctx context.Context, id int64) error {
	if len(h.ux.autoApprove) == 0 {
		return nil
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("auto-approve %s: %w", request.FormatID(id), err)
	}
	listed := h.ux.autoApprove[r.Kind]
	if !listed {
		return nil
	}
	newRows, provisioned, limits, err := h.batchQuantities(ctx, r)
	if err != nil {
		return fmt.Errorf("auto-approve %s: %w", r.Ref(), err)
	}
	log := h.log.WithFields(logrus.Fields{"request": r.Ref(), "kind": r.Kind})
	if why := autoApproveRefusal(r, listed, newRows, provisioned, limits); why != "" {
		log.WithField("why", why).Info("not auto-approved: waits for an approver")
		// Audited too: the approver (and `status`) can see why a listed
		// kind still waits for a person.
		_, err := h.store.Transition(ctx, id, request.Transition{
			From:  []request.State{request.StatePendingApproval},
			Actor: autoActor, Action: request.ActionNotAutoApproved, Note: why,
		})
		var sc *request.StateConflict
		if err != nil && !errors.As(err, &sc) {
			return fmt.Errorf("audit declined auto-approval of %s: %w", r.Ref(), err)
		}
		return nil
	}
	now := h.now()
	undo := h.expectOutcome(id)
	approved, err := h.store.Transition(ctx, id, request.Transition{
		From:  []request.State{request.StatePendingApproval},
		To:    request.StateApproved,
		Actor: autoActor, Action: request.ActionApproved, Note: "AUTO_APPROVE: precheck passed, within ordered quantities; hash " + r.Hash,
		// r is the read checked above; the job goes on the stream with the
		// index updates (a failed enqueue is reported by the store and made
		// up by the requeue loop).
		Current: r, Enqueue: true,
		Mutate: func(x *request.Request) error {
			// Edited, re-prechecked or cancelled since the read: no exemption.
			if x.Hash != r.Hash || x.Precheck.Status != r.Precheck.Status {
				return ruleRefusal("changed since the auto-approval check")
			}
			x.ApprovedBy, x.ApprovedAt, x.ApprovedHash = autoActor, now, x.Hash
			return nil
		},
	})
	if err != nil {
		undo()
	}
	var sc *request.StateConflict
	var rule ruleRefusal
	if errors.As(err, &sc) || errors.As(err, &rule) {
		return nil // a person (or a cancel) was first
	}
	if err != nil {
		return fmt.Errorf("auto-approve %s: %w", r.Ref(), err)
	}
	log.Info("request auto-approved")
	return h.refreshSummary(ctx, approved)
}

// batchQuantities counts a users batch's new rows per package and asks
// Webex (the precheck's listing) for the users already provisioned. Other
// kinds need no counts.
func (h *Handler) batchQuantities(ctx context.Context, r *request.Request) (newRows, provisioned, limits map[string]int, err error) {
	if r.Kind != request.KindUsers || r.Precheck.Status != request.PrecheckOK {
		return nil, nil, nil, nil
	}
	spec, err := request.SpecOf[request.UsersSpec](r)
	if err != nil {
		return nil, nil, nil, err
	}
	if r.Precheck.NewUsers != nil || r.Precheck.Seats != nil {
		// The precheck counted them a moment ago.
		return r.Precheck.NewUsers, r.Precheck.Seats, spec.Customer.Limits, nil
	}
	// A precheck recorded before it kept the counts: ask Webex.
	if h.setup == nil {
		return nil, nil, nil, errors.New("no Webex setup client to count provisioned users")
	}
	up, err := h.setup.PrecheckUsers(ctx, spec)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("count provisioned users: %w", err)
	}
	return newUsers(spec, emailSet(up.Existing)), up.Provisioned, spec.Customer.Limits, nil
}

// emailSet is the addresses of users Webex already has, lower-cased as
// newUsers and the row checks compare them.
func emailSet(emails []string) map[string]bool {
	set := make(map[string]bool, len(emails))
	for _, e := range emails {
		set[strings.ToLower(e)] = true
	}
	return set
}

// newUsers counts spec's rows that are new users (not marked as existing,
// nor found at Webex), by package.
func newUsers(spec *request.UsersSpec, existing map[string]bool) map[string]int {
	n := map[string]int{}
	for _, row := range spec.Rows {
		if !row.AlreadyExists && !existing[strings.ToLower(row.Email)] {
			n[row.Package]++
		}
	}
	return n
}
