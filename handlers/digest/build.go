package digest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// builder gathers one occurrence's digests, one Category at a time, each
// from a range of a sorted-set index.
type builder struct {
	g    *Digester
	at   time.Time
	only string // one requester's DM alone; "" for everything
	out  *Digests
}

func (b *builder) wants(owner string) bool { return b.only == "" || owner == b.only }

func (b *builder) toChannel(it Item) {
	b.out.Channel.Items = append(b.out.Channel.Items, it)
}

func (b *builder) toOwner(owner string, it Item) {
	if owner == "" || !b.wants(owner) {
		return
	}
	d := b.out.DMs[owner]
	if d == nil {
		d = &Digest{Recipient: owner}
		b.out.DMs[owner] = d
	}
	d.Items = append(d.Items, it)
}

func (b *builder) requestItem(c Category, r *request.Request, since time.Time, what string) Item {
	return Item{Key: ItemKey(c, r.Ref(), r.UpdatedAt), Cat: c, Request: r.ID, since: since,
		Line: chat.TruncateMd(fmt.Sprintf("%s %s: %s", r.Ref(), chat.Esc(r.Subject), what), 280)}
}

// rangeOf reads one index range; for the channel's categories what lies
// beyond Deps.Fetch is counted into its "… and N more" (a DM's share of
// the unread cannot be told: DMs show what was read).
func (b *builder) rangeOf(ctx context.Context, q store.DigestRange, channel bool) ([]*request.Request, error) {
	q.Limit = b.g.fetch
	rs, total, err := b.g.store.DigestRange(ctx, q)
	if err != nil {
		return nil, err
	}
	if channel && total > int64(q.Limit) && b.only == "" {
		b.out.Channel.More += int(total) - q.Limit
	}
	return rs, nil
}

// stale: pending approvals not touched for STALE_APPROVAL_AFTER.
func (b *builder) stale(ctx context.Context) error {
	rs, err := b.rangeOf(ctx, store.DigestRange{Index: store.ByState, State: request.StatePendingApproval,
		To: b.at.Add(-b.g.set.StaleApprovalAfter)}, true)
	if err != nil {
		return err
	}
	for _, r := range rs {
		b.toChannel(b.requestItem(Stale, r, r.CreatedAt,
			fmt.Sprintf("waiting for approval for %s · %s", chat.Age(b.at.Sub(r.CreatedAt)), chat.Mention(r.Requester))))
	}
	return nil
}

// failed: every failed request, and every batch done with failed rows (⚠️),
// until it is retried or dismissed.
func (b *builder) failed(ctx context.Context) error {
	rs, err := b.rangeOf(ctx, store.DigestRange{Index: store.ByState, State: request.StateFailed, To: b.at, Newest: true}, true)
	if err != nil {
		return err
	}
	for _, r := range rs {
		b.toChannel(b.requestItem(Failed, r, r.UpdatedAt,
			fmt.Sprintf("failed %s ago: %s", chat.Age(b.at.Sub(r.UpdatedAt)), chat.Esc(chat.Truncate(r.Result.Message, 160)+chat.TrackingSuffix(r.Result.TrackingID)))))
	}
	partial, err := b.rangeOf(ctx, store.DigestRange{Index: store.Partial, To: b.at, Newest: true}, true)
	if err != nil {
		return err
	}
	for _, r := range partial {
		b.toChannel(b.requestItem(Failed, r, r.UpdatedAt,
			fmt.Sprintf("⚠️ done %s ago with failed rows: %s", chat.Age(b.at.Sub(r.UpdatedAt)), chat.Esc(chat.Truncate(r.Result.Message, 160)))))
	}
	return nil
}

// consentAndStuck: approved or committing requests not moving for
// STUCK_AFTER, waits at Webex (provisioning, compliance hold, another
// request) longer than that, and user batches waiting for consent longer
// than CONSENT_WAIT_AFTER (to their requester).
func (b *builder) consentAndStuck(ctx context.Context) error {
	stuck := b.at.Add(-b.g.set.StuckAfter)
	consent := b.at.Add(-b.g.set.ConsentWaitAfter)
	if b.only == "" {
		for _, st := range []request.State{request.StateApproved, request.StateCommitting} {
			rs, err := b.rangeOf(ctx, store.DigestRange{Index: store.ByState, State: st, To: stuck}, true)
			if err != nil {
				return err
			}
			for _, r := range rs {
				what := "queued"
				if st == request.StateCommitting {
					what = "committing"
				}
				b.toChannel(b.requestItem(Stuck, r, r.UpdatedAt, fmt.Sprintf("%s for %s", what, chat.Age(b.at.Sub(r.UpdatedAt)))))
			}
		}
	}
	rs, err := b.rangeOf(ctx, store.DigestRange{Index: store.ByWaitingSince, To: latest(stuck, consent)}, true)
	if err != nil {
		return err
	}
	for _, r := range rs {
		since := r.Result.WaitingSince
		waited := chat.Age(b.at.Sub(since))
		switch {
		case r.Result.WaitReason == request.ConsentWaitReason:
			if !since.After(consent) {
				what := r.Result.Message
				if what == "" {
					what = r.Result.WaitReason
				}
				b.toOwner(r.Requester, b.requestItem(Consent, r, since, fmt.Sprintf("%s (%s)", chat.Esc(what), waited)))
			}
		case b.only != "" || since.After(stuck):
		case strings.Contains(r.Result.WaitReason, "compliance"):
			b.toChannel(b.requestItem(Hold, r, since, fmt.Sprintf("%s (%s)", chat.Esc(r.Result.WaitReason), waited)))
		default:
			b.toChannel(b.requestItem(Stuck, r, since, fmt.Sprintf("%s (%s)", chat.Esc(chat.OrDash(r.Result.WaitReason)), waited)))
		}
	}
	return nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// rejected: rejections of the last week whose request was not edited and
// resubmitted.
func (b *builder) rejected(ctx context.Context) error {
	rs, err := b.rangeOf(ctx, store.DigestRange{Index: store.ByState, State: request.StateRejected,
		From: b.at.Add(-rejectedShownFor), To: b.at}, false)
	if err != nil {
		return err
	}
	var ids []int64
	for _, r := range rs {
		if b.wants(r.Requester) {
			ids = append(ids, r.ID)
		}
	}
	resubmitted, err := b.g.store.AuditHas(ctx, ids, "edited")
	if err != nil {
		return err
	}
	for _, r := range rs {
		if !resubmitted[r.ID] {
			b.toOwner(r.Requester, b.requestItem(Rejected, r, r.UpdatedAt,
				fmt.Sprintf("rejected by %s: %s", chat.Mention(r.RejectedBy), chat.Esc(chat.Truncate(r.Reason, 160)))))
		}
	}
	return nil
}

// incomplete: provisioned customers (created or adopted) without a done
// users request are due at once, unless Webex lists users for them (users
// added in Control Hub, an adopted customer's existing users).
func (b *builder) incomplete(ctx context.Context) error {
	rs, err := b.rangeOf(ctx, store.DigestRange{Index: store.Incomplete, To: b.at}, false)
	if err != nil {
		return err
	}
	var ids []string
	for _, r := range rs {
		if b.wants(r.Requester) && r.Result.CustomerID != "" {
			ids = append(ids, r.Result.CustomerID)
		}
	}
	known, err := b.g.store.DigestMarks(ctx, "users", ids)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if !b.wants(r.Requester) || (r.Result.CustomerID != "" && !known[r.Result.CustomerID].IsZero()) {
			continue
		}
		if b.hasUsersAtWebex(ctx, r) {
			continue
		}
		what := "provisioned, no users yet"
		if r.Result.OrgID != "" {
			what = fmt.Sprintf("provisioned (org %s), no users yet", chat.Esc(r.Result.OrgID))
		}
		b.toOwner(r.Requester, b.requestItem(NoUsers, r, r.UpdatedAt, what))
	}
	return nil
}

// hasUsersAtWebex asks Webex; when it cannot say, the item stays: a
// reminder too many beats a customer forgotten.
func (b *builder) hasUsersAtWebex(ctx context.Context, r *request.Request) bool {
	if b.g.subs == nil || r.Result.CustomerID == "" {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, webexCheckTime)
	defer cancel()
	counts, err := b.g.subs.CountSubscribers(cctx, r.Result.CustomerID)
	if err != nil {
		b.g.log.WithError(err).WithField("request", r.Ref()).Warn("digest: count the customer's users at Webex")
		return false
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return false
	}
	if err := b.g.store.MarkDigestItem(ctx, "users", r.Result.CustomerID, b.at, usersKnownFor); err != nil {
		b.g.log.WithError(err).WithField("request", r.Ref()).Warn("digest: remember the customer has users")
	}
	return true
}

// drafts: forms left unsubmitted for IDLE_DRAFT_AFTER. Drafts are indexed
// per owner; the owners are those who saved a draft lately, and those who
// ever submitted a request (drafts saved before the draft owners were
// indexed).
func (b *builder) drafts(ctx context.Context) error {
	if b.g.drafts == nil {
		return nil
	}
	owners := []string{b.only}
	if b.only == "" {
		withDrafts, err := b.g.drafts.DraftOwners(ctx)
		if err != nil {
			return err
		}
		submitted, err := b.g.store.Owners(ctx)
		if err != nil {
			return err
		}
		owners = slices.Compact(slices.Sorted(slices.Values(append(withDrafts, submitted...))))
	}
	idle, err := b.g.drafts.IdleDrafts(ctx, owners, b.at.Add(-b.g.set.IdleDraftAfter), draftsPerOwner)
	if err != nil {
		return err
	}
	for owner, ds := range idle {
		for _, d := range ds {
			b.toOwner(owner, Item{Key: ItemKey(Draft, d.Ref(), d.UpdatedAt), Cat: Draft, Draft: d.ID,
				since: d.UpdatedAt, Line: chat.TruncateMd(b.g.describeDraft(d), 280)})
		}
	}
	return nil
}

// seats: customers with ordered quantities whose users changed in the
// last day, with the seats Webex counts against what was ordered.
func (b *builder) seats(ctx context.Context) error {
	if b.g.subs == nil {
		return nil
	}
	rs, _, err := b.g.store.DigestRange(ctx, store.DigestRange{Index: store.ByState, State: request.StateDone,
		From: b.at.Add(-seatsWindow), To: b.at, Limit: b.g.fetch, Newest: true})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, r := range rs {
		ref, ok := r.Customer()
		ok = ok && r.Kind == request.KindUsers
		if r.Result.CustomerID != "" {
			ref.CustomerID = r.Result.CustomerID // resolved at commit
		}
		if !ok || len(ref.Limits) == 0 || ref.CustomerID == "" || seen[ref.CustomerID] || len(seen) == maxSeatChecks {
			continue
		}
		seen[ref.CustomerID] = true
		cctx, cancel := context.WithTimeout(ctx, webexCheckTime)
		counts, err := b.g.subs.CountSubscribers(cctx, ref.CustomerID)
		cancel()
		if err != nil {
			b.g.log.WithError(err).WithField("request", r.Ref()).Warn("digest: count seats at Webex")
			continue
		}
		pkgs := make([]string, 0, len(ref.Limits))
		for p := range ref.Limits {
			pkgs = append(pkgs, p)
		}
		sort.Strings(pkgs)
		parts := make([]string, len(pkgs))
		for i, p := range pkgs {
			parts[i] = fmt.Sprintf("%s %d/%d", chat.Esc(p), counts[p], ref.Limits[p])
		}
		it := b.requestItem(Seats, r, r.UpdatedAt, strings.Join(parts, ", "))
		if ref.RequestID != 0 {
			it.Line = chat.TruncateMd(fmt.Sprintf("%s %s: %s (after %s)", request.FormatID(ref.RequestID), chat.Esc(ref.ExternalID), strings.Join(parts, ", "), r.Ref()), 280)
		}
		b.toChannel(it)
	}
	return nil
}

// hideMarked drops snoozed items (snoozed until after this occurrence)
// and dismissed ones.
func (b *builder) hideMarked(ctx context.Context) error {
	var keys []string
	for _, d := range b.out.All() {
		for _, it := range d.Items {
			keys = append(keys, it.Key)
		}
	}
	snoozed, err := b.g.store.DigestMarks(ctx, "snooze", keys)
	if err != nil {
		return err
	}
	dismissed, err := b.g.store.DigestMarks(ctx, "dismiss", keys)
	if err != nil {
		return err
	}
	for _, d := range b.out.All() {
		kept := d.Items[:0]
		for _, it := range d.Items {
			if until, ok := snoozed[it.Key]; ok && until.After(b.at) {
				continue
			}
			if _, ok := dismissed[it.Key]; ok {
				continue
			}
			kept = append(kept, it)
		}
		d.Items = kept
	}
	return nil
}
