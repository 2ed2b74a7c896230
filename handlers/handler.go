package handlers

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onboardbot/onboardbot/handlers/background"
	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/handlers/digest"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/worker"
	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"
)

// Store is what handlers need of request storage.
type Store interface {
	Create(ctx context.Context, r *request.Request) error
	BudgetedCreator // CreateWithin (ratelimit.go)
	Get(ctx context.Context, id int64) (*request.Request, error)
	Transition(ctx context.Context, id int64, t request.Transition) (*request.Request, error)
	Audit(ctx context.Context, id int64) ([]request.AuditEntry, error)
	ByExternalID(ctx context.Context, extID string) (int64, error)
	ExternalIDHolders(ctx context.Context, extIDs []string) (map[string]int64, error)
	// CustomerRequests are the setup requests of a customer request,
	// newest first.
	CustomerRequests(ctx context.Context, id int64, limit int) ([]*request.Request, int64, error)
}

// Locker takes and releases short named locks shared by every replica
// (store.Store).
type Locker interface {
	TryLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, name, owner string) error
}

// Prechecker runs Webex's customer precheck.
type Prechecker interface {
	PrecheckCustomer(ctx context.Context, c *request.CustomerSpec) (request.Precheck, error)
}

// Settings are the parts of the configuration handlers act on.
type Settings struct {
	ApprovalChannel    string
	Approvers          []string // Slack user ids
	Admins             []string
	Requesters         []string // empty: every workspace member
	SupportedCountries []string
	SubPartnerOrgID    string
	// Sandbox marks every message: Webex is the embedded fake.
	Sandbox bool
	// Interactive is false for the piped console: a command with missing
	// keys is an error instead of a pre-filled modal.
	Interactive bool
}

// Deps are the handler's collaborators.
type Deps struct {
	Store      Store
	Templates  Templates
	Messenger  chat.Messenger
	Prechecker Prechecker
	Finder     CustomerFinder
	Setup      SetupChecker
	Files      Files
	Settings   Settings
	Log        *logrus.Entry
	Now        func() time.Time

	// Views and Drafts run the modal forms (modal.go); nil: no forms.
	Views  Views
	Drafts Drafts

	// Locks keep two replicas from posting one summary twice; nil: one
	// process (tests).
	Locks Locker

	// Limiter applies NEW_REQUESTS_PER_MINUTE to accepted submissions
	// (ratelimit.go); nil: no limit.
	Limiter Limiter

	// Queue runs the background work (shared with the worker, which yields
	// to acks through it); nil: a queue of the handler's own.
	Queue *background.Queue

	// UX is the Slack experience beyond the request flows (home.go).
	UX UX

	// Digest builds `/onboard-customer digest` and answers the digest's
	// Snooze and Dismiss; nil: no digests.
	Digest *digest.Digester
}

// Handler implements Router and worker.Events.
type Handler struct {
	store     Store
	templates Templates
	msg       chat.Messenger
	pre       Prechecker
	finder    CustomerFinder
	setup     SetupChecker
	files     Files
	set       Settings
	log       *logrus.Entry
	now       func() time.Time
	views     Views
	drafts    Drafts
	limiter   Limiter
	locks     Locker

	// queue runs what is not the ack: summaries, prechecks, click answers,
	// events; shutdown and the piped console wait for it.
	queue *background.Queue

	mu       sync.Mutex
	awaiting map[int64]bool // approved requests whose outcome is not reported yet

	// ux is the Slack experience beyond the flows: approver groups,
	// auto-approval, progress, list and App Home (home.go).
	ux *uxState
	// imports keeps the outcome lines of imports' customers for their
	// import's next post.
	imports importOutcomes

	// digest builds `/onboard-customer digest` and answers the digest's
	// Snooze and Dismiss (digest.go); nil: no digests.
	digest *digest.Digester
}

var _ Router = (*Handler)(nil)
var _ worker.Events = (*Handler)(nil)
var _ worker.Refresher = (*Handler)(nil)

// New builds a Handler.
func New(d Deps) *Handler {
	h := &Handler{store: d.Store, templates: d.Templates, msg: d.Messenger, pre: d.Prechecker, finder: d.Finder, setup: d.Setup, files: d.Files, set: d.Settings, log: d.Log, now: d.Now,
		awaiting: map[int64]bool{}, ux: &uxState{}}
	h.views, h.drafts = d.Views, d.Drafts
	h.limiter, h.locks = d.Limiter, d.Locks
	if h.log == nil {
		h.log = logrus.NewEntry(logrus.StandardLogger())
	}
	h.queue = d.Queue
	if h.queue == nil {
		h.queue = background.New(h.log)
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.enableUX(d.UX)
	h.digest = d.Digest
	return h
}

// Command handles a slash command. It returns within Slack's 3 s: anything
// slow runs in the background.
func (h *Handler) Command(ctx context.Context, cmd slack.SlashCommand) (reply *Reply) {
	defer h.queue.Answering()()
	// The transport sends the reply as it returns: what it must precede may
	// follow now.
	defer func() { reply.answered() }()
	defer h.recoverInto(&reply, cmd.UserID)
	ctx, cancel := context.WithTimeout(ctx, ackBudget)
	defer cancel()
	c, err := ParseCommand(cmd.Text)
	if err != nil {
		return refusal("⛔ nothing was submitted:\n• " + chat.Esc(err.Error()))
	}
	u := caller{id: cmd.UserID, channel: cmd.ChannelID, trigger: cmd.TriggerID}
	sub := ""
	if len(c.Words) > 0 {
		sub = strings.ToLower(c.Words[0])
	}
	switch sub {
	case "", "new":
		return h.newCustomer(ctx, u, c)
	case "template":
		return h.template(ctx, u, c)
	case "adopt":
		return h.adopt(ctx, u, c)
	case "import":
		return h.importCustomers(ctx, u, c)
	case "users":
		return h.users(ctx, u, c)
	case "location":
		return h.location(ctx, u, c)
	case "numbers":
		return h.numbers(ctx, u, c)
	case "pstn":
		return h.pstn(ctx, u, c)
	case "change":
		return h.change(ctx, u, c)
	case "remove":
		return h.remove(ctx, u, c)
	case "delete":
		return h.deleteCustomer(ctx, u, c)
	case "retry":
		return h.retry(ctx, u, c)
	case "cancel":
		return h.cancel(ctx, u, c)
	case "approve":
		return h.approveCommand(ctx, u, c)
	case "reject":
		return h.rejectCommand(ctx, u, c)
	case "status":
		return h.status(ctx, u, c)
	case "list":
		return h.list(ctx, u, c)
	case "resume":
		return h.resume(ctx, u, c)
	case "digest":
		return h.digestNow(ctx, u, c)
	case "help":
		return h.help(u)
	}
	return refusal(chat.Esc(fmt.Sprintf("⛔ unknown sub-command %q.", c.Words[0])) + " Try `/onboard-customer help`.")
}

// Interaction handles button clicks and view submissions.
func (h *Handler) Interaction(ctx context.Context, cb *slack.InteractionCallback) (reply *Reply) {
	defer h.queue.Answering()()
	defer h.recoverInteraction(&reply, cb)
	ctx, cancel := context.WithTimeout(ctx, ackBudget)
	defer cancel()
	if cb.Type == slack.InteractionTypeViewSubmission {
		if cb.View.CallbackID == rejectCallbackID {
			return h.rejectSubmission(ctx, cb)
		}
		return h.viewSubmission(ctx, cb)
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		return nil
	}
	u := caller{id: cb.User.ID, channel: cb.Channel.ID}
	for _, a := range cb.ActionCallback.BlockActions {
		switch a.ActionID {
		case actionApprove:
			h.answer(ctx, u, h.approveButton(ctx, u, a.Value))
		case actionReject:
			h.answer(ctx, u, h.rejectWithReason(ctx, u, cb.TriggerID, a.Value))
		case actionViewRows:
			h.answer(ctx, u, h.viewRows(ctx, u, a.Value))
		case chat.ActionResendConsent:
			h.answer(ctx, u, h.resendConsent(ctx, u, a.Value))
		case chat.ActionEditResubmit:
			h.answer(ctx, u, h.editResubmit(ctx, u, cb.TriggerID, a.Value))
		case chat.ActionResumeDraft:
			h.answer(ctx, u, h.resumeButton(ctx, u, cb.TriggerID, a.Value))
		case digest.ActionSnooze, digest.ActionDismiss:
			h.answer(ctx, u, h.digestButton(ctx, u, a.ActionID, a.Value))
		case actionRecheck:
			h.answer(ctx, u, h.recheckButton(ctx, u, a.Value))
		case actionNumbersPage:
			h.answer(ctx, u, h.numbersPageButton(ctx, u, a.Value))
		case actionViewPayload, chat.ActionOpenRequest, chat.ActionRetryRequest:
			h.answer(ctx, u, h.uxAction(ctx, u, a.ActionID, a.Value))
		}
	}
	return nil
}

// ackBudget bounds the work done on the ack path, so that a stalled Redis
// still gets the user an answer inside Slack's 3 s (with room for the reply
// to travel). Background work is detached from it (background()).
const ackBudget = 2500 * time.Millisecond

// caller is who acts, and where.
type caller struct {
	id      string
	channel string
	// trigger opens a modal: valid for 3 s, once (slash commands only).
	trigger string
	// replaces is the pending request the caller's submission edits: the
	// new request takes over its external id, and it is cancelled.
	replaces int64
}

// answer sends a click's reply as an ephemeral message in the background:
// Slack ignores the body of a block_actions ack.
func (h *Handler) answer(ctx context.Context, u caller, r *Reply) {
	if r == nil || (r.Text == "" && len(r.Blocks) == 0) {
		r.answered()
		return
	}
	// Never shed: the person who clicked is told what happened, however
	// late (the answer holds a line of text, not the request).
	h.queue.Go(ctx, "answer click", func(ctx context.Context) error {
		defer r.answered()
		if u.channel == "" {
			// A click in App Home has no channel to answer in.
			return h.msg.DM(ctx, u.id, chat.Message{Text: r.Text, Blocks: r.Blocks})
		}
		return h.msg.Ephemeral(ctx, u.channel, u.id, chat.Message{Text: r.Text, Blocks: r.Blocks})
	})
}

// Wait blocks until background work has finished (graceful shutdown).
func (h *Handler) Wait() { h.queue.Wait() }

// Busy reports whether work started here has not settled: background tasks
// run, or approved requests have not reported their outcome. The piped
// console reads the next line only when nothing is busy.
func (h *Handler) Busy() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.queue.Busy() || len(h.awaiting) > 0 || h.importLinesPending()
}

// expectOutcome marks id as awaiting its outcome (Busy until Settled).
// Call it before a transition that enqueues id's job: a worker may report
// the outcome before the transition returns. undo takes the mark back when
// the transition did not happen, unless id was awaited already.
func (h *Handler) expectOutcome(id int64) (undo func()) {
	h.mu.Lock()
	had := h.awaiting[id]
	h.awaiting[id] = true
	h.mu.Unlock()
	return func() {
		if !had {
			h.outcomeReported(id)
		}
	}
}

func (h *Handler) outcomeReported(id int64) {
	h.mu.Lock()
	delete(h.awaiting, id)
	h.mu.Unlock()
}

func (h *Handler) recoverInto(reply **Reply, user string) {
	if p := recover(); p != nil {
		*reply = h.panicReply(p, user)
	}
}

// recoverInteraction is recoverInto for clicks and view submissions, whose
// ack body Slack does not show (a block_actions ack has none; a
// view_submission without response_action just closes the view): the error
// and its ref go to the user as a message instead.
func (h *Handler) recoverInteraction(reply **Reply, cb *slack.InteractionCallback) {
	if p := recover(); p != nil {
		*reply = h.panicReply(p, cb.User.ID)
		h.answer(context.Background(), caller{id: cb.User.ID, channel: cb.Channel.ID}, *reply)
	}
}

func (h *Handler) panicReply(p any, user string) *Reply {
	ref := chat.NewRef()
	h.log.WithFields(logrus.Fields{"ref": ref, "user": user, "panic": fmt.Sprint(p)}).Error("handler panic\n" + string(debug.Stack()))
	return refusal(fmt.Sprintf("⛔ something went wrong on our side (ref %s)", ref))
}

// systemFault tells the user that nothing was saved, with a ref that is also
// in the logs. err never reaches the user: it may name internals.
func (h *Handler) systemFault(u caller, what string, err error) *Reply {
	ref := chat.NewRef()
	h.log.WithFields(logrus.Fields{"ref": ref, "user": u.id}).WithError(err).Error(what)
	return refusal(fmt.Sprintf("⛔ could not save — nothing was submitted (ref %s)", ref))
}

func refusal(text string) *Reply { return &Reply{Text: text} }

// isApprover: APPROVERS ∪ the members of APPROVER_GROUP (approvers.go).
func (h *Handler) isApprover(user string) bool {
	return memberOf(user, h.set.Approvers, h.approverGroups(), h.ux.groups.member)
}
func (h *Handler) isAdmin(user string) bool { return slices.Contains(h.set.Admins, user) }
func (h *Handler) isRequester(user string) bool {
	return len(h.set.Requesters) == 0 || memberOf(user, h.set.Requesters, h.requesterGroups(), h.ux.groups.member)
}
