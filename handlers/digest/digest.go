package digest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/store"
)

// Reminder digests: a channel digest of what
// approvers and admins should look at, and a DM per requester of what is
// theirs to finish. Every replica runs the schedule; each (occurrence,
// recipient) is claimed with SET NX PX before it is sent, so a recipient
// gets one digest normally and at most one when a replica dies mid-run.

const (
	// claimTTL keeps an occurrence's claims well past any run of it.
	claimTTL = 48 * time.Hour
	// SnoozeFor hides an item until tomorrow's digest at the same hour.
	SnoozeFor = 23 * time.Hour
	// DismissFor bounds a dismissal's marker: the item's key names the
	// request's version, so a request that changes comes back anyway.
	DismissFor = 90 * 24 * time.Hour
	// rejectedShownFor is how long a rejection not resubmitted is
	// recalled: after a week the requester has made up their mind.
	rejectedShownFor = 7 * 24 * time.Hour
	// usersKnownFor caches "Webex lists users for this customer", so a
	// customer set up outside the bot costs one Webex call a week.
	usersKnownFor = 7 * 24 * time.Hour
	// seatsWindow: customers whose users changed within it get a seats line.
	seatsWindow = 24 * time.Hour
	// digestFetch bounds what one Category reads; the rest is counted.
	digestFetch = 1000
	// draftsPerOwner and maxSeatChecks bound the reads per recipient and
	// the Webex calls per run.
	draftsPerOwner = 20
	maxSeatChecks  = 20
	webexCheckTime = 10 * time.Second
)

// Store is what digests read and write in the store.
type Store interface {
	DigestRange(ctx context.Context, q store.DigestRange) ([]*request.Request, int64, error)
	Owners(ctx context.Context) ([]string, error)
	AuditHas(ctx context.Context, ids []int64, action string) (map[int64]bool, error)
	MarkDigestItem(ctx context.Context, kind, item string, until time.Time, ttl time.Duration) error
	DigestMarks(ctx context.Context, kind string, items []string) (map[string]time.Time, error)
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
	AppendAudit(ctx context.Context, id int64, e request.AuditEntry) error
}

// DraftFinder finds drafts nobody saved for a while, and who has
// drafts at all.
type DraftFinder interface {
	IdleDrafts(ctx context.Context, owners []string, before time.Time, perOwner int) (map[string][]*store.Draft, error)
	DraftOwners(ctx context.Context) ([]string, error)
}

// SubscriberCounter counts a customer's users at Webex by package. Webex
// does not list the customer's administrator, so 0 means "no users yet".
type SubscriberCounter interface {
	CountSubscribers(ctx context.Context, customerID string) (map[string]int, error)
}

// Settings are the digest's part of the configuration.
type Settings struct {
	Channel                                                          string
	Admins                                                           []string
	StaleApprovalAfter, IdleDraftAfter, StuckAfter, ConsentWaitAfter time.Duration
	Sandbox                                                          bool
}

// Deps are a Digester's collaborators; Drafts and Subscribers may be
// nil (no idle drafts, no Webex check or seats).
type Deps struct {
	Store       Store
	Drafts      DraftFinder
	Subscribers SubscriberCounter
	Messenger   chat.Messenger
	Settings    Settings
	// DescribeDraft is the one-line description of a draft the lists use;
	// nil shows the draft's ref and kind.
	DescribeDraft func(*store.Draft) string
	Log           *logrus.Entry
	// OnRun counts a scheduled run (cmd counts it in /metrics).
	OnRun func()
	// Fetch bounds what one Category reads from the store; the rest is
	// counted into "… and N more". 0 is 1,000.
	Fetch int
}

// Digester builds and sends digests.
type Digester struct {
	store  Store
	drafts DraftFinder
	subs   SubscriberCounter
	msg    chat.Messenger
	set    Settings
	log    *logrus.Entry
	onRun  func()
	// describeDraft is Deps.DescribeDraft.
	describeDraft func(*store.Draft) string
	// fetch is Deps.Fetch.
	fetch int
}

// New builds a Digester.
func New(d Deps) *Digester {
	g := &Digester{store: d.Store, drafts: d.Drafts, subs: d.Subscribers, msg: d.Messenger, set: d.Settings, log: d.Log, onRun: d.OnRun, fetch: cmp.Or(d.Fetch, digestFetch),
		describeDraft: d.DescribeDraft}
	if g.log == nil {
		g.log = logrus.NewEntry(logrus.StandardLogger())
	}
	if g.describeDraft == nil {
		g.describeDraft = func(d *store.Draft) string { return d.Ref() + " " + string(d.Kind) }
	}
	return g
}

// Category is a kind of digest item; the order is the digest's order.
type Category int

const (
	Stale Category = iota
	Failed
	Stuck
	Hold
	Seats
	Draft
	NoUsers
	Consent
	Rejected
)

var categories = []struct{ key, title string }{
	Stale:    {"stale", "Waiting for approval"},
	Failed:   {"failed", "Failed"},
	Stuck:    {"stuck", "Stuck"},
	Hold:     {"hold", "On compliance hold"},
	Seats:    {"seats", "Seats used of the ordered quantities"},
	Draft:    {"draft", "Drafts not submitted"},
	NoUsers:  {"nousers", "Provisioned, no users yet"},
	Consent:  {"consent", "Users waiting for consent"},
	Rejected: {"rejected", "Rejected, not resubmitted"},
}

// Item is one line of a digest.
type Item struct {
	// Key names the item for snooze and dismiss: Category, id and the
	// version seen, "failed:R-7:1764061200000".
	Key     string
	Cat     Category
	Request int64 // 0 for drafts
	Draft   int64
	Line    string
	// since orders items within a Category, oldest first.
	since time.Time
}

// Digest is one recipient's digest.
type Digest struct {
	// Recipient is the channel (Channel) or the Slack user id.
	Recipient string
	Channel   bool
	Items     []Item
	// More counts due items not read (a Category past Deps.Fetch).
	More int
}

// Digests is everything due at one occurrence.
type Digests struct {
	Channel *Digest
	DMs     map[string]*Digest
}

// Report says what one run did.
type Report struct {
	Due     int // recipients with a non-empty digest
	Sent    int
	Claimed int // recipients another replica had claimed
	Failed  int
}

// Run sends the digests due at occurrence. Each recipient is claimed
// before its digest is sent; a claim lost to another replica is skipped,
// and a send that fails after the claim is not repeated (at most one).
func (g *Digester) Run(ctx context.Context, occurrence time.Time) (Report, error) {
	var rep Report
	if g.onRun != nil {
		g.onRun()
	}
	all, err := g.Build(ctx, occurrence, "")
	if err != nil {
		return rep, err
	}
	var due []*Digest
	if len(all.Channel.Items) > 0 {
		due = append(due, all.Channel)
	}
	users := make([]string, 0, len(all.DMs))
	for u, d := range all.DMs {
		if len(d.Items) > 0 {
			users = append(users, u)
		}
	}
	sort.Strings(users)
	for _, u := range users {
		due = append(due, all.DMs[u])
	}
	rep.Due = len(due)
	stamp := strconv.FormatInt(occurrence.Unix(), 10)
	for _, d := range due {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		who := "@" + d.Recipient
		if d.Channel {
			who = "#" + strings.TrimPrefix(d.Recipient, "#")
		}
		ok, err := g.store.Once(ctx, "digest:"+stamp+":"+who, claimTTL)
		if err != nil {
			return rep, fmt.Errorf("claim digest for %s: %w", who, err)
		}
		if !ok {
			rep.Claimed++
			continue
		}
		m := g.Render(d, d.Channel || slices.Contains(g.set.Admins, d.Recipient))
		if d.Channel {
			_, err = g.msg.Post(ctx, d.Recipient, m)
		} else {
			err = g.msg.DM(ctx, d.Recipient, m)
		}
		if err != nil {
			rep.Failed++
			g.log.WithError(err).WithField("recipient", who).Warn("send digest")
			continue
		}
		rep.Sent++
	}
	return rep, nil
}

// Build gathers what is due at occurrence. With only set, it builds that
// requester's DM alone (`/onboard-customer digest`) and leaves the channel
// digest empty.
func (g *Digester) Build(ctx context.Context, at time.Time, only string) (*Digests, error) {
	b := &builder{g: g, at: at.UTC(), only: only,
		out: &Digests{Channel: &Digest{Recipient: g.set.Channel, Channel: true}, DMs: map[string]*Digest{}}}
	steps := []func(context.Context) error{b.rejected, b.consentAndStuck, b.incomplete, b.drafts}
	if only == "" {
		steps = append([]func(context.Context) error{b.stale, b.failed}, steps...)
		steps = append(steps, b.seats)
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, fmt.Errorf("build digest: %w", err)
		}
	}
	if err := b.hideMarked(ctx); err != nil {
		return nil, fmt.Errorf("build digest: %w", err)
	}
	for _, d := range b.out.All() {
		sort.SliceStable(d.Items, func(i, j int) bool {
			if d.Items[i].Cat != d.Items[j].Cat {
				return d.Items[i].Cat < d.Items[j].Cat
			}
			return d.Items[i].since.Before(d.Items[j].since)
		})
	}
	return b.out, nil
}

// All is the channel digest, then every DM in recipient order.
func (d *Digests) All() []*Digest {
	out := []*Digest{d.Channel}
	for _, u := range slices.Sorted(maps.Keys(d.DMs)) {
		out = append(out, d.DMs[u])
	}
	return out
}

// ItemKey is an item's identity: a request that changed is a new item, so
// neither a snooze nor a dismissal hides what happened since.
func ItemKey(c Category, ref string, version time.Time) string {
	return categories[c].key + ":" + ref + ":" + strconv.FormatInt(version.UnixMilli(), 10)
}

// ParseItemKey reads an item key back: Category key, request or draft id.
func ParseItemKey(key string) (cat, ref string, ok bool) {
	parts := strings.Split(key, ":")
	if len(parts) != 3 {
		return "", "", false
	}
	if _, err := strconv.ParseInt(parts[2], 10, 64); err != nil {
		return "", "", false
	}
	for _, c := range categories {
		if c.key == parts[0] {
			return parts[0], parts[1], true
		}
	}
	return "", "", false
}

// WebexSubscribers counts subscribers through the Webex client.
type WebexSubscribers struct {
	API interface {
		ListSubscribers(ctx context.Context, q webex.SubscriberQuery) ([]webex.Subscriber, error)
	}
}

// CountSubscribers lists the customer's subscribers and counts them by
// their first package.
func (w WebexSubscribers) CountSubscribers(ctx context.Context, customerID string) (map[string]int, error) {
	subs, err := w.API.ListSubscribers(ctx, webex.SubscriberQuery{CustomerID: customerID})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, s := range subs {
		pkg := s.Package
		if len(s.Packages) > 0 {
			pkg = s.Packages[0]
		}
		out[pkg]++
	}
	return out, nil
}
