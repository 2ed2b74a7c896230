package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// RequestLister finds requests through the store's indexes (list, App
// Home): by state, owner or kind, and by the digest's indexes (provisioned
// customers without users, batches with failed rows).
type RequestLister interface {
	List(ctx context.Context, q store.Query) ([]*request.Request, error)
	DigestRange(ctx context.Context, q store.DigestRange) ([]*request.Request, int64, error)
}

// HomePublisher sets a user's App Home tab (views.publish).
type HomePublisher interface {
	PublishHomeView(ctx context.Context, user string, v slack.HomeTabViewRequest) error
}

// UX configures the Slack experience beyond the request flows. Every part
// is optional: without Lister, `list` and App Home say they are unavailable
// and the forms' customer menu offers none; without Groups, APPROVER_GROUP
// grants nothing.
type UX struct {
	ApproverGroup string
	AutoApprove   []string // request kinds: users, location
	Groups        GroupMembers
	Home          HomePublisher
	Lister        RequestLister
}

// uxState is UX as the handler uses it, plus the batches' progress.
type uxState struct {
	approverGroup string
	autoApprove   map[request.Kind]bool
	groups        *groupCache
	home          HomePublisher
	lister        RequestLister
	progress      progressBook
}

// enableUX turns on the parts of o that are set.
func (h *Handler) enableUX(o UX) {
	h.ux.approverGroup = o.ApproverGroup
	h.ux.autoApprove = map[request.Kind]bool{}
	for _, k := range o.AutoApprove {
		h.ux.autoApprove[request.Kind(strings.ToLower(strings.TrimSpace(k)))] = true
	}
	if o.Groups != nil {
		h.ux.groups = newGroupCache(o.Groups, h.now, h.log.WithField("component", "usergroups"))
	}
	h.ux.home, h.ux.lister = o.Home, o.Lister
}

const (
	// homeShown is how many items one App Home section lists: five sections
	// of this size (each with a divider, a title and "… and N more") and the
	// header stay below Slack's 100 blocks per view.
	homeShown = 16
	// homeFetch bounds what is read per section to count the rest.
	homeFetch     = 200
	maxViewBlocks = 100
)

// incompleteFetch bounds one read of that index; a requester's own are
// picked from it.
const incompleteFetch = 1000

// homeData is what App Home shows one user; homeView renders it.
type homeData struct {
	User       string
	Approver   bool
	Admin      bool
	Sandbox    bool
	Now        time.Time          // the clock the ages and states are told by
	Drafts     []*store.Draft     // own drafts (modal flows left half-way)
	Mine       []*request.Request // own requests not finished yet
	ToApprove  []*request.Request // others' requests waiting for approval (approvers)
	Incomplete []*request.Request // provisioned customers without users
	Failures   []*request.Request // recent failures
}

var openStates = []request.State{request.StatePendingApproval, request.StateApproved, request.StateCommitting, request.StateWaiting}

// homeFor gathers user's App Home. Requesters see their own requests,
// setups and failures; approvers and admins see everyone's.
func (h *Handler) homeFor(ctx context.Context, user string) (*homeData, error) {
	l := h.ux.lister
	if l == nil {
		return nil, fmt.Errorf("no request index configured")
	}
	d := &homeData{User: user, Approver: h.isApprover(user), Admin: h.isAdmin(user), Sandbox: h.set.Sandbox, Now: h.now()}
	everyone := d.Approver || d.Admin
	var err error
	if h.drafts != nil {
		if d.Drafts, err = h.drafts.DraftsOf(ctx, user, homeFetch); err != nil {
			return nil, err
		}
	}
	if d.Mine, err = l.List(ctx, store.Query{Owner: user, States: openStates, Newest: true, Limit: homeFetch}); err != nil {
		return nil, err
	}
	if d.Approver {
		pending, err := l.List(ctx, store.Query{States: []request.State{request.StatePendingApproval}, Limit: homeFetch})
		if err != nil {
			return nil, err
		}
		for _, r := range pending {
			if r.Requester != user { // four-eyes: one's own is in Mine
				d.ToApprove = append(d.ToApprove, r)
			}
		}
	}
	owner := user
	if everyone {
		owner = ""
	}
	if d.Incomplete, err = h.incompleteSetups(ctx, owner, homeFetch); err != nil {
		return nil, err
	}
	if d.Failures, err = h.failures(ctx, owner, homeFetch); err != nil {
		return nil, err
	}
	return d, nil
}

// incompleteSetups are provisioned customers (created or adopted) of owner
// ("" = anyone) without a done users request: a customer is set up once it
// has users. They come from the index the digest keeps; a lister
// without it has none to show.
func (h *Handler) incompleteSetups(ctx context.Context, owner string, limit int) ([]*request.Request, error) {
	all, _, err := h.ux.lister.DigestRange(ctx, store.DigestRange{Index: store.Incomplete, Newest: true, Limit: incompleteFetch})
	if err != nil {
		return nil, err
	}
	var out []*request.Request
	for _, r := range all {
		if (owner == "" || r.Requester == owner) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

// homeView renders d as a Home tab: at most maxViewBlocks blocks, each
// section cut at homeShown items with "… and N more".
func homeView(d *homeData) slack.HomeTabViewRequest {
	title := "Onboarding"
	if d.Sandbox {
		title += " · SANDBOX"
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(chat.Plain(title)),
		slack.NewContextBlock("", chat.Md(homeRole(d)+" Type `/onboard-customer help` for what you can run.")),
	}
	blocks = append(blocks, draftSection(d.Drafts)...)
	blocks = append(blocks, homeSection(d.Now, "Your open requests", "Nothing of yours is waiting.", d.Mine, homeOpenButton)...)
	if d.Approver {
		blocks = append(blocks, homeSection(d.Now, "Waiting for your approval", "Nothing waits for your approval.", d.ToApprove, homeApproveButton)...)
	}
	// What an empty list proves depends on whose customers it holds: a
	// requester's list holds only theirs.
	noneIncomplete := "Every customer you provisioned has users."
	if d.Approver || d.Admin {
		noneIncomplete = "Every provisioned customer has users."
	}
	blocks = append(blocks, homeSection(d.Now, "Incomplete setups (no users yet)", noneIncomplete, d.Incomplete, homeOpenButton)...)
	blocks = append(blocks, homeSection(d.Now, "Recent failures", "No failures.", d.Failures, homeRetryButton)...)
	if len(blocks) > maxViewBlocks {
		blocks = blocks[:maxViewBlocks-1]
		blocks = append(blocks, slack.NewContextBlock("", chat.Md("… and more: use `/onboard-customer list`")))
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

func homeRole(d *homeData) string {
	switch {
	case d.Admin && d.Approver:
		return "You are an approver and an admin."
	case d.Admin:
		return "You are an admin."
	case d.Approver:
		return "You are an approver."
	}
	return "You are a requester."
}

func homeSection(now time.Time, title, empty string, items []*request.Request, button func(*request.Request) *slack.ButtonBlockElement) []slack.Block {
	blocks := []slack.Block{slack.NewDividerBlock(), slack.NewSectionBlock(chat.Md(fmt.Sprintf("*%s* (%d)", title, len(items))), nil, nil)}
	if len(items) == 0 {
		return append(blocks, slack.NewContextBlock("", chat.Md(empty)))
	}
	for i, r := range items {
		if i == homeShown {
			blocks = append(blocks, slack.NewContextBlock("", chat.Md(fmt.Sprintf("… and %d more (`/onboard-customer list`)", len(items)-homeShown))))
			break
		}
		blocks = append(blocks, slack.NewSectionBlock(chat.Md(chat.TruncateMd(requestLine(r, now), 2900)), nil, slack.NewAccessory(button(r))))
	}
	return blocks
}

func draftSection(drafts []*store.Draft) []slack.Block {
	blocks := []slack.Block{slack.NewDividerBlock(), slack.NewSectionBlock(chat.Md(fmt.Sprintf("*Your drafts* (%d)", len(drafts))), nil, nil)}
	if len(drafts) == 0 {
		return append(blocks, slack.NewContextBlock("", chat.Md("No drafts.")))
	}
	for i, dr := range drafts {
		if i == homeShown {
			blocks = append(blocks, slack.NewContextBlock("", chat.Md(fmt.Sprintf("… and %d more (`/onboard-customer resume`)", len(drafts)-homeShown))))
			break
		}
		b := slack.NewButtonBlockElement(chat.ActionResumeDraft, dr.Ref(), chat.Plain("Resume"))
		blocks = append(blocks, slack.NewSectionBlock(chat.Md(chat.TruncateMd("📝 "+DescribeDraft(dr), 2900)), nil, slack.NewAccessory(b)))
	}
	return blocks
}

// requestLine is one request in lists: icon, id, subject, state, requester.
func requestLine(r *request.Request, now time.Time) string {
	return fmt.Sprintf("%s *%s* %s — %s · %s", requestIcon(r), r.Ref(), chat.Esc(r.Subject), describeStateAt(r, now), chat.Mention(r.Requester))
}

func homeOpenButton(r *request.Request) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(chat.ActionOpenRequest, r.Ref(), chat.Plain("Open"))
}

func homeApproveButton(r *request.Request) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionApprove, r.Ref()+":"+r.Hash, chat.Plain("Approve"))
	b.Style = slack.StylePrimary
	return b
}

func homeRetryButton(r *request.Request) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(chat.ActionRetryRequest, r.Ref(), chat.Plain("Retry"))
}

// HomeView builds user's App Home now (the console's /home prints it).
func (h *Handler) HomeView(ctx context.Context, user string) (slack.HomeTabViewRequest, error) {
	d, err := h.homeFor(ctx, user)
	if err != nil {
		return slack.HomeTabViewRequest{}, fmt.Errorf("app home of %s: %w", user, err)
	}
	return homeView(d), nil
}

// Event handles Events API callbacks: app_home_opened publishes the Home
// tab. Publishing is idempotent, so a delivery Slack retries does no harm
// and needs no dedupe.
func (h *Handler) Event(ctx context.Context, ev slackevents.EventsAPIEvent) {
	defer func() {
		if p := recover(); p != nil {
			h.log.WithField("panic", fmt.Sprint(p)).Error("event handler panic")
		}
	}()
	var user, tab string
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppHomeOpenedEvent:
		user, tab = e.User, e.Tab
	case slackevents.AppHomeOpenedEvent:
		user, tab = e.User, e.Tab
	default:
		return
	}
	if user == "" || (tab != "" && tab != "home") || h.ux.home == nil {
		return
	}
	h.queue.Go(ctx, "publish app home", func(ctx context.Context) error {
		v, err := h.HomeView(ctx, user)
		if err != nil {
			return err
		}
		return h.ux.home.PublishHomeView(ctx, user, v)
	})
}
