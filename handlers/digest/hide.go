package digest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

// ErrStaleKey is a Snooze or Dismiss button whose item key is not one this
// version of the digest writes.
var ErrStaleKey = errors.New("digest: not an item key")

// AuditError is a Hide whose audit entry could not be written on request
// ID: nothing was hidden.
type AuditError struct {
	ID  int64
	Err error
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("audit %s: %v", request.FormatID(e.ID), e.Err)
}

func (e *AuditError) Unwrap() error { return e.Err }

// Hide answers Snooze (dismiss false) and Dismiss on the item key for
// actor at now, and returns what to tell them. Both are audited on the
// request (drafts have no audit trail; the log has them) before the marker
// is set, so nothing is hidden without a trace. Who may dismiss is the
// caller's rule.
func (g *Digester) Hide(ctx context.Context, actor, key string, dismiss bool, now time.Time) (string, error) {
	cat, ref, ok := ParseItemKey(key)
	if !ok {
		return "", ErrStaleKey
	}
	title := cat
	for _, c := range categories {
		if c.key == cat {
			title = strings.ToLower(c.title)
		}
	}
	until := now.Add(SnoozeFor)
	kind, ttl, action := "snooze", SnoozeFor+time.Hour, "digest snoozed"
	note := fmt.Sprintf("%s: hidden from digests until %s UTC", title, until.UTC().Format("2006-01-02 15:04"))
	answer := fmt.Sprintf("💤 %s snoozed until %s UTC: the digest after that shows it again.", ref, until.UTC().Format("2006-01-02 15:04"))
	if dismiss {
		kind, ttl, until, action = "dismiss", DismissFor, now, "digest dismissed"
		note = title + ": left out of digests until it changes"
		answer = fmt.Sprintf("🔕 %s dismissed: digests leave it out until it changes.", ref)
	}
	if id, err := request.ParseID(ref); err == nil {
		if err := g.store.AppendAudit(ctx, id, request.AuditEntry{At: now.UTC(), Actor: actor, Action: action, Note: note}); err != nil {
			return "", &AuditError{ID: id, Err: err}
		}
	} else {
		g.log.WithFields(logrus.Fields{"user": actor, "item": key}).Info(action)
	}
	if err := g.store.MarkDigestItem(ctx, kind, key, until, ttl); err != nil {
		return "", fmt.Errorf("mark digest item: %w", err)
	}
	return answer, nil
}
