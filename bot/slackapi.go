package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers/chat"
)

var _ chat.Messenger = (*SlackAPI)(nil)

// ErrViewHashConflict is returned by UpdateView when the view changed since
// the hash was read (someone else updated it first).
var ErrViewHashConflict = errors.New("slack: view hash conflict")

const (
	// updateEvery throttles progress: ≤ 1 chat.update per 2 s per message,
	// well inside chat.update's rate limit (Tier 3, about 50 a minute).
	updateEvery = 2 * time.Second
	// flushTimeout bounds a deferred chat.update whose caller has long
	// returned. It waits its turn at chat.update's pace (slackpace.go) like
	// any update, and a backlog of many messages takes minutes to go out:
	// the bound is for a Slack that never lets it through, not for pacing.
	flushTimeout = 10 * time.Minute
)

// clock is the time source of the update throttle; tests move a fake one.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// SlackAPI is the outgoing Slack client: chat.Messenger plus the view,
// auth and user-group calls. It paces every call to Slack's rate tiers
// (slackpace.go), keeps the posts into one channel in order, waits out a
// 429's Retry-After for every caller of the method at once and retries until
// the caller's context ends, and coalesces the chat.updates of one message.
type SlackAPI struct {
	client  *slack.Client
	log     *logrus.Entry
	metrics *Metrics
	sandbox bool // mark every message SANDBOX

	clock       clock
	updateEvery time.Duration
	pace        *pacer

	mu      sync.Mutex
	dms     map[string]string // user id → DM channel id
	updates map[msgKey]*updateState
	// pruneAt is the size of updates that triggers the next prune: twice
	// what the last one left, so that many messages updated within one
	// window (a burst of submissions) do not make every Update scan them
	// all under s.mu.
	pruneAt int
}

type msgKey struct{ channel, ts string }

// updateState is the throttle of one message.
type updateState struct {
	// send (capacity 1) serialises the chat.updates of this message, so a
	// deferred update can never overtake a newer one; see lock.
	send      chan struct{}
	busy      int            // sends begun and not ended; guarded by SlackAPI.mu
	last      time.Time      // when the latest chat.update began or went out
	pending   *pendingUpdate // newest content not yet sent
	scheduled bool
	gen       uint64 // identifies the timer that may send pending
	stop      func() bool
}

type pendingUpdate struct {
	ctx context.Context
	m   chat.Message
}

// NewSlackAPI builds the client for apiURL (Slack's, or a fake in tests).
func NewSlackAPI(token, apiURL string, log *logrus.Entry) *SlackAPI {
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	// Slack's API is one host, and the default transport keeps only two
	// idle connections per host: a burst of background posts would open
	// (and TLS-handshake) a new connection for most calls.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 30 * time.Second, Transport: tr})}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return &SlackAPI{
		client:      slack.New(token, opts...),
		log:         log,
		clock:       realClock{},
		updateEvery: updateEvery,
		pace:        newPacer(paceRules, channelRule),
		dms:         map[string]string{},
		updates:     map[msgKey]*updateState{},
	}
}

// WithMetrics makes the client count its calls and 429s in m.
func (s *SlackAPI) WithMetrics(m *Metrics) *SlackAPI {
	s.metrics = m
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do runs one Web API call of a method without a channel to pace by.
func (s *SlackAPI) do(ctx context.Context, method string, call func() error) error {
	return s.doIn(ctx, method, "", call)
}

// doIn runs one Web API call of method into channel. chat.postMessage into
// one channel waits for the calls made before it; every call waits for its
// method's (and channel's) rate-limit gate and token. A 429 closes the gate
// for every caller until its Retry-After has passed and the call is retried
// after it, as often as Slack refuses, until ctx ends. Any other error is
// returned at once.
func (s *SlackAPI) doIn(ctx context.Context, method, channel string, call func() error) error {
	start := time.Now()
	done, err := s.pace.turn(ctx, method, channel)
	if err != nil {
		return fmt.Errorf("slack %s: waiting for the posts before it in %s, %w: %w", method, channel, errGaveUp, err)
	}
	defer done()
	var refused error
	for attempt := 0; ; attempt++ {
		if err := s.pace.admit(ctx, method, channel); err != nil {
			if refused != nil {
				return fmt.Errorf("slack %s: rate limited after %d attempts, %w: %w (%w)", method, attempt, errGaveUp, refused, err)
			}
			return fmt.Errorf("slack %s: %w: %w", method, errGaveUp, err)
		}
		s.metrics.SlackWaited(method, time.Since(start))
		s.metrics.SlackCall(method)
		err := call()
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) {
			if err != nil && refused != nil && ctx.Err() != nil { // cut off
				return fmt.Errorf("slack %s: rate limited after %d attempts, %w: %w (%w)", method, attempt+1, errGaveUp, refused, err)
			}
			if err != nil {
				return fmt.Errorf("slack %s: %w", method, err)
			}
			return nil
		}
		refused, start = err, time.Now()
		s.pace.refused(method, channel, rl.RetryAfter)
		s.metrics.SlackRateLimited(method)
		s.log.WithFields(logrus.Fields{"method": method, "channel": channel, "retry_after": rl.RetryAfter.String(), "attempt": attempt + 1}).
			Warn("Slack rate limit: every call of the method waits, then this one is retried")
	}
}

// WithSandboxMark marks every message as coming from a bot whose Webex is
// the sandbox, so nobody mistakes a test run for a real provisioning.
func (s *SlackAPI) WithSandboxMark() *SlackAPI {
	s.sandbox = true
	return s
}

// mark adds the SANDBOX marker when the bot runs against the sandbox.
func (s *SlackAPI) mark(m chat.Message) chat.Message {
	if !s.sandbox {
		return m
	}
	m.Text = "[SANDBOX] " + m.Text
	if len(m.Blocks) > 0 {
		m.Blocks = append(slices.Clip(m.Blocks), slack.NewContextBlock("sandbox",
			slack.NewTextBlockObject(slack.MarkdownType, "🧪 SANDBOX — Webex is the embedded fake; nothing reached Webex", false, false)))
	}
	return m
}

func msgOptions(m chat.Message) []slack.MsgOption {
	// Text is the notification fallback; Outcome is for the console only.
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	return opts
}

// Post sends a message to channel and returns its ts.
func (s *SlackAPI) Post(ctx context.Context, channel string, m chat.Message) (string, error) {
	var ts string
	err := s.doIn(ctx, methodPost, channel, func() (err error) {
		_, ts, err = s.client.PostMessageContext(ctx, channel, msgOptions(s.mark(m))...)
		return err
	})
	return ts, err
}

// PostThread replies in the thread of threadTS.
func (s *SlackAPI) PostThread(ctx context.Context, channel, threadTS string, m chat.Message) error {
	return s.doIn(ctx, methodPost, channel, func() error {
		_, _, err := s.client.PostMessageContext(ctx, channel, append(msgOptions(s.mark(m)), slack.MsgOptionTS(threadTS))...)
		return err
	})
}

// Ephemeral shows m to user only, in channel.
func (s *SlackAPI) Ephemeral(ctx context.Context, channel, user string, m chat.Message) error {
	return s.do(ctx, "chat.postEphemeral", func() error {
		_, err := s.client.PostEphemeralContext(ctx, channel, user, msgOptions(s.mark(m))...)
		return err
	})
}

// DM sends m to user's direct-message channel, opened once and cached.
func (s *SlackAPI) DM(ctx context.Context, user string, m chat.Message) error {
	channel, err := s.dmChannel(ctx, user)
	if err != nil {
		return err
	}
	if _, err := s.Post(ctx, channel, m); err != nil {
		// The cached channel may be gone (app reinstalled): open it anew
		// next time. Not when the post never got its turn under the rate
		// limit: that says nothing of the channel, and opening it again
		// would only spend conversations.open's tier.
		if !errors.Is(err, errGaveUp) {
			s.mu.Lock()
			delete(s.dms, user)
			s.mu.Unlock()
		}
		return fmt.Errorf("DM %s: %w", user, err)
	}
	return nil
}

func (s *SlackAPI) dmChannel(ctx context.Context, user string) (string, error) {
	s.mu.Lock()
	channel, ok := s.dms[user]
	s.mu.Unlock()
	if ok {
		return channel, nil
	}
	err := s.do(ctx, "conversations.open", func() error {
		ch, _, _, err := s.client.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
		if err == nil {
			channel = ch.ID
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("DM %s: %w", user, err)
	}
	s.mu.Lock()
	s.dms[user] = channel
	s.mu.Unlock()
	return channel, nil
}

// AuthTest checks the bot token, for /readyz.
func (s *SlackAPI) AuthTest(ctx context.Context) error {
	return s.do(ctx, "auth.test", func() error {
		_, err := s.client.AuthTestContext(ctx)
		return err
	})
}

// OpenView opens a modal for the trigger (valid 3 s, once) and returns its id.
func (s *SlackAPI) OpenView(ctx context.Context, triggerID string, v slack.ModalViewRequest) (string, error) {
	var id string
	err := s.do(ctx, "views.open", func() error {
		resp, err := s.client.OpenViewContext(ctx, triggerID, v)
		if err == nil {
			id = resp.ID
		}
		return err
	})
	return id, err
}

// UpdateView replaces the modal viewID. A non-empty hash makes the update
// conditional: ErrViewHashConflict when the view changed meanwhile.
func (s *SlackAPI) UpdateView(ctx context.Context, viewID, hash string, v slack.ModalViewRequest) error {
	return s.do(ctx, "views.update", func() error {
		_, err := s.client.UpdateViewContext(ctx, v, "", hash, viewID)
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && se.Err == "hash_conflict" {
			return ErrViewHashConflict
		}
		return err
	})
}

// PublishHomeView sets user's App Home tab.
func (s *SlackAPI) PublishHomeView(ctx context.Context, user string, v slack.HomeTabViewRequest) error {
	return s.do(ctx, "views.publish", func() error {
		_, err := s.client.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: v})
		return err
	})
}

// UserGroupMembers lists the user ids in a user group (APPROVER_GROUP).
func (s *SlackAPI) UserGroupMembers(ctx context.Context, groupID string) ([]string, error) {
	var users []string
	err := s.do(ctx, "usergroups.users.list", func() (err error) {
		users, err = s.client.GetUserGroupMembersContext(ctx, groupID)
		return err
	})
	return users, err
}
