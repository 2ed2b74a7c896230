package handlers

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// GroupMembers lists the members of a Slack user group
// (usergroups.users.list, a tier-2 method: about 20 calls a minute).
type GroupMembers interface {
	UserGroupMembers(ctx context.Context, groupID string) ([]string, error)
}

const (
	// groupMaxAge is how long a group's member list is trusted: someone
	// removed from APPROVER_GROUP loses the right within five minutes.
	groupMaxAge = 5 * time.Minute
	// groupRefreshEvery keeps the lists fresh well inside groupMaxAge, so a
	// slow or failed refresh does not turn every approver away at once.
	groupRefreshEvery = 2 * time.Minute
	groupFetchTimeout = 10 * time.Second
)

// groupCache holds the member lists of the user groups named in
// APPROVER_GROUP and REQUESTERS. Lookups never call Slack: they must stay
// on the ack path's budget. A list that is missing or older than
// groupMaxAge counts as unknown, and an unknown list grants nothing.
type groupCache struct {
	src GroupMembers
	now func() time.Time
	log *logrus.Entry

	mu         sync.Mutex
	members    map[string]map[string]bool
	fetched    map[string]time.Time
	refreshing map[string]bool
}

func newGroupCache(src GroupMembers, now func() time.Time, log *logrus.Entry) *groupCache {
	return &groupCache{src: src, now: now, log: log, members: map[string]map[string]bool{},
		fetched: map[string]time.Time{}, refreshing: map[string]bool{}}
}

// member reports whether user is in group by the cached list; known is
// false when there is no fresh list. A stale or missing list starts a
// refresh in the background for the next lookup.
func (c *groupCache) member(group, user string) (in, known bool) {
	if c == nil || c.src == nil || group == "" {
		return false, false
	}
	c.mu.Lock()
	at, ok := c.fetched[group]
	fresh := ok && c.now().Sub(at) <= groupMaxAge
	in = fresh && c.members[group][user]
	c.mu.Unlock()
	if !fresh {
		c.refreshAsync(group)
	}
	return in, fresh
}

// refreshAsync fetches group once in its own goroutine unless a fetch of it
// is already running. It is not tracked as handler work: the console's
// "settled" must not wait on Slack's user groups.
func (c *groupCache) refreshAsync(group string) {
	c.mu.Lock()
	if c.refreshing[group] {
		c.mu.Unlock()
		return
	}
	c.refreshing[group] = true
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), groupFetchTimeout)
		defer cancel()
		c.refresh(ctx, group)
	}()
}

// refresh fetches one group's members now. A failure keeps the previous
// list, which expires on its own after groupMaxAge.
func (c *groupCache) refresh(ctx context.Context, group string) {
	defer func() {
		c.mu.Lock()
		delete(c.refreshing, group)
		c.mu.Unlock()
	}()
	users, err := c.src.UserGroupMembers(ctx, group)
	if err != nil {
		c.log.WithError(err).WithField("group", group).Warn("user group members unavailable; its members are not recognised until the next refresh")
		return
	}
	set := make(map[string]bool, len(users))
	for _, u := range users {
		set[u] = true
	}
	c.mu.Lock()
	c.members[group], c.fetched[group] = set, c.now()
	c.mu.Unlock()
}

// refreshAll fetches every group once, each within groupFetchTimeout.
func (c *groupCache) refreshAll(ctx context.Context, groups []string) {
	if c == nil || c.src == nil {
		return
	}
	for _, g := range groups {
		fctx, cancel := context.WithTimeout(ctx, groupFetchTimeout)
		c.refresh(fctx, g)
		cancel()
	}
}

// isGroupID tells a Slack user-group id (S…) from a user id (U… or W…):
// REQUESTERS may hold both.
func isGroupID(id string) bool { return strings.HasPrefix(id, "S") }

// memberOf is the membership rule shared by approvers and requesters, as a
// pure function: user is listed by id, or belongs to a listed group by a
// fresh cached list (inGroup). An unknown list grants nothing.
func memberOf(user string, ids []string, groups []string, inGroup func(group, user string) (in, known bool)) bool {
	if user == "" {
		return false
	}
	if slices.Contains(ids, user) {
		return true
	}
	for _, g := range groups {
		if in, known := inGroup(g, user); known && in {
			return true
		}
	}
	return false
}

// approverGroups is every user group whose members approve.
func (h *Handler) approverGroups() []string {
	if h.ux.approverGroup == "" {
		return nil
	}
	return []string{h.ux.approverGroup}
}

// requesterGroups are the user-group ids listed in REQUESTERS.
func (h *Handler) requesterGroups() []string {
	var out []string
	for _, id := range h.set.Requesters {
		if isGroupID(id) {
			out = append(out, id)
		}
	}
	return out
}

// UserGroupRefresh is how often RefreshUserGroups should run: well inside
// the age after which a cached member list grants nothing.
const UserGroupRefresh = groupRefreshEvery

// RefreshUserGroups fetches the member lists of APPROVER_GROUP and the
// groups in REQUESTERS once (nothing when none is configured or there is
// no Slack to ask).
func (h *Handler) RefreshUserGroups(ctx context.Context) {
	h.ux.groups.refreshAll(ctx, append(h.approverGroups(), h.requesterGroups()...))
}
