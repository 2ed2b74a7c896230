package handlers

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// queuePublish queues publish for r with check, as a task that may be shed
// from a full queue: the publish sweep makes up for it. It reports whether
// the task was queued.
func (h *Handler) queuePublish(ctx context.Context, r *request.Request, check precheckFunc) bool {
	id := r.ID
	return h.queue.Spare(ctx, "publish "+r.Ref(), func(ctx context.Context) error { return h.publish(ctx, id, check) })
}

// precheckFunc runs a request's Webex precheck in the background. An error
// means Webex could not be reached: the precheck is "unavailable".
type precheckFunc func(ctx context.Context) (request.Precheck, error)

// publishLockTTL bounds how long a dead publisher keeps others from a
// request's summary.
const publishLockTTL = 3 * time.Minute

// publish posts request id's summary for approvers, runs check (none when
// nil) and shows its result on the summary, then applies AUTO_APPROVE — as
// far as that has not happened yet. A submission queues it; the publish
// sweep (Republish) makes up for one that was shed or cut short by a crash.
// A lock per request and a fresh read keep a late queued task, the sweep and
// a second replica from posting a summary twice.
func (h *Handler) publish(ctx context.Context, id int64, check precheckFunc) error {
	ref := request.FormatID(id)
	if h.locks != nil {
		owner := chat.NewRef()
		ok, err := h.locks.TryLock(ctx, "publish:"+ref, owner, publishLockTTL)
		if err != nil {
			return fmt.Errorf("publish %s: %w", ref, err)
		}
		if !ok {
			return nil // someone else is publishing it
		}
		defer func() {
			if err := h.locks.Unlock(context.WithoutCancel(ctx), "publish:"+ref, owner); err != nil {
				h.log.WithError(err).WithField("request", ref).Warn("release publish lock")
			}
		}()
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("publish %s: %w", ref, err)
	}
	if r.State != request.StatePendingApproval {
		return nil // approved, rejected or cancelled meanwhile: its flow shows it
	}
	if r.Summary.TS == "" {
		ts, err := h.msg.Post(ctx, h.set.ApprovalChannel, h.summary(r))
		if err != nil {
			return fmt.Errorf("post summary of %s: %w", r.Ref(), err)
		}
		posted, err := h.store.Transition(ctx, r.ID, request.Transition{
			Current: r, From: []request.State{request.StatePendingApproval}, Actor: request.ActorBot, Action: request.ActionSummaryPosted,
			Mutate: func(x *request.Request) error {
				x.Summary = request.MessageRef{Channel: h.set.ApprovalChannel, TS: ts}
				return nil
			},
		})
		if err != nil {
			return request.IgnoreConflict(fmt.Errorf("record summary of %s: %w", r.Ref(), err))
		}
		r = posted
	}
	if r.Precheck.Status == request.PrecheckRunning {
		if r, err = h.recordPrecheck(ctx, r, check); err != nil || r == nil {
			return err
		}
	}
	if !h.ux.autoApprove[r.Kind] {
		return nil
	}
	return h.autoApprove(ctx, r.ID)
}

// recordPrecheck runs check and shows its result on r's summary. Without a
// check (a sweep after a crash cannot rebuild every kind's), the precheck is
// marked unavailable: Webex is asked again at commit. It returns nil, nil
// when r left pending_approval meanwhile.
func (h *Handler) recordPrecheck(ctx context.Context, r *request.Request, check precheckFunc) (*request.Request, error) {
	pc := request.Precheck{Status: request.PrecheckUnavailable, Message: "the precheck was interrupted; Webex is checked again at commit"}
	if check != nil {
		var err error
		if pc, err = check(ctx); err != nil {
			h.log.WithError(err).WithField("request", r.Ref()).Warn("precheck unavailable")
			pc = request.Precheck{Status: request.PrecheckUnavailable, Message: "Webex could not be reached; the worker prechecks again before creating"}
		}
	}
	pc.At = h.now()
	checked, err := h.store.Transition(ctx, r.ID, request.Transition{
		Current: r, From: []request.State{request.StatePendingApproval}, Actor: request.ActorBot, Action: request.ActionPrecheck,
		Note:   string(pc.Status),
		Mutate: func(x *request.Request) error { x.Precheck = pc; return nil },
	})
	if err != nil {
		return nil, request.IgnoreConflict(fmt.Errorf("record precheck of %s: %w", r.Ref(), err))
	}
	return checked, h.refreshSummary(ctx, checked)
}

// refreshSummary re-renders the summary from the stored request.
func (h *Handler) refreshSummary(ctx context.Context, r *request.Request) error {
	if r.Summary.TS == "" {
		return nil
	}
	m := h.summary(r)
	if steps := h.planSteps(ctx, r); len(steps) > 0 {
		m.Blocks = append(m.Blocks[:len(m.Blocks)-1:len(m.Blocks)-1], stepStates(steps), m.Blocks[len(m.Blocks)-1])
	}
	return h.msg.Update(ctx, r.Summary.Channel, r.Summary.TS, m)
}

// planSteps are the requests the worker made of plan r's later steps, in
// the order they run; none before its approval, or for a request that is no
// plan.
func (h *Handler) planSteps(ctx context.Context, r *request.Request) []*request.Request {
	if r.Kind != request.KindCustomer || r.State == request.StatePendingApproval {
		return nil
	}
	if spec, err := request.SpecOf[request.CustomerSpec](r); err != nil || spec.Steps == nil {
		return nil
	}
	rs, _, err := h.store.CustomerRequests(ctx, r.ID, customerRequestsFetch)
	if err != nil {
		h.log.WithError(err).WithField("request", r.Ref()).Warn("read the plan's steps")
		return nil
	}
	var steps []*request.Request
	for _, x := range rs {
		if x.Plan == r.ID {
			steps = append(steps, x)
		}
	}
	slices.SortFunc(steps, func(a, b *request.Request) int { return cmp.Compare(a.ID, b.ID) })
	return steps
}

// stepStates is the section of a plan's summary that says where each later
// step stands.
func stepStates(steps []*request.Request) slack.Block {
	lines := []string{"*Steps after the customer:*"}
	for _, s := range steps {
		state := string(s.State)
		switch {
		case s.WaitsInPlan():
			state = "waits for the step before it"
		case s.State == request.StateDone:
			state = doneState(s)
		case s.State == request.StateFailed:
			state = "failed: " + s.Result.Message
		}
		lines = append(lines, fmt.Sprintf("• %s %s: %s", requestIcon(s), chat.Esc(s.Subject), chat.Esc(state)))
	}
	return slack.NewSectionBlock(chat.Md(chat.TruncateMd(strings.Join(lines, "\n"), chat.MaxSectionText)), nil, nil)
}
