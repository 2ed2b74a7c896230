package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/onboardbot/onboardbot/handlers"
	"github.com/onboardbot/onboardbot/handlers/chat"
)

// maxAck is Slack's limit for a Socket Mode response: at 20 KB or more the
// websocket write succeeds but Slack silently drops it.
const maxAck = 20 * 1024

// ackTimeout bounds queueing one ack; Slack wants it within 3 s anyway.
const ackTimeout = 3 * time.Second

// SocketOptions configures the Socket Mode transport.
type SocketOptions struct {
	AppToken string // xapp-…, with connections:write
	BotToken string
	APIURL   string // Slack's Web API base; tests point it at a fake
	Router   handlers.Router
	// Messenger delivers replies too large for an ack (chat.postEphemeral).
	Messenger chat.Messenger
	Logger    *logrus.Entry
	// MinBackoff and MaxBackoff bound the wait between reconnect attempts
	// (defaults 1 s and 1 min).
	MinBackoff, MaxBackoff time.Duration
}

// SocketRunner is the Socket Mode transport: one websocket to Slack,
// reconnected with backoff, whose envelopes go to the same Router as HTTP.
type SocketRunner struct {
	o      SocketOptions
	client *socketmode.Client
	log    *logrus.Entry
}

// NewSocketRunner builds the runner; Run connects.
func NewSocketRunner(o SocketOptions) *SocketRunner {
	if o.Logger == nil {
		o.Logger = logrus.NewEntry(logrus.StandardLogger())
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(time.Minute, o.MinBackoff)
	}
	opts := []slack.Option{slack.OptionAppLevelToken(o.AppToken), slack.OptionHTTPClient(&http.Client{Timeout: 30 * time.Second})}
	if o.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(o.APIURL))
	}
	api := slack.New(o.BotToken, opts...)
	l := o.Logger.WithField("component", "socketmode")
	// slack-go's own logger goes to our log at debug level; it never
	// prints tokens, and payloads only with OptionDebug, which stays off.
	client := socketmode.New(api, socketmode.OptionLog(log.New(l.WriterLevel(logrus.DebugLevel), "", 0)))
	return &SocketRunner{o: o, client: client, log: l}
}

// Run connects and serves until ctx ends. A lost or refused connection is
// retried with exponential backoff and jitter; a connection that came up
// resets the backoff.
func (s *SocketRunner) Run(ctx context.Context) error {
	connected := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.consume(ctx, connected)
	}()
	backoff := s.o.MinBackoff
	for ctx.Err() == nil {
		err := s.client.RunContext(ctx)
		if ctx.Err() != nil {
			break
		}
		select {
		case <-connected:
			backoff = s.o.MinBackoff
		default:
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		s.log.WithError(err).WithField("retry_in", wait.String()).Warn("Socket Mode connection lost; reconnecting")
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		backoff = min(2*backoff, s.o.MaxBackoff)
	}
	<-done
	return nil
}

// consume handles the client's events until ctx ends. Each envelope is
// handled in its own goroutine, as the HTTP server handles each request:
// one slow command must not delay the acks of the others past 3 s.
func (s *SocketRunner) consume(ctx context.Context, connected chan<- struct{}) {
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-s.client.Events:
			switch evt.Type {
			case socketmode.EventTypeConnected:
				s.log.Info("Socket Mode connected")
				select {
				case connected <- struct{}{}:
				default:
				}
			case socketmode.EventTypeInvalidAuth:
				s.log.Error("Socket Mode: Slack refused the app token (invalid_auth)")
			case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
				s.log.WithFields(logrus.Fields{"event": string(evt.Type), "error": fmt.Sprint(evt.Data)}).Warn("Socket Mode error")
			case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
				inflight.Go(func() { s.handle(ctx, evt) })
			}
		}
	}
}

// handle answers one envelope. Every envelope is acked exactly once, even
// when the router panics: an unacked envelope makes Slack show an error
// and, for events, deliver it again.
func (s *SocketRunner) handle(ctx context.Context, evt socketmode.Event) {
	if evt.Request == nil {
		return
	}
	req := *evt.Request
	acked := false
	ack := func(payload any) {
		acked = true
		// Bounded: after a disconnect nobody drains the client's send queue.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
		defer cancel()
		if err := s.client.AckCtx(actx, req.EnvelopeID, payload); err != nil {
			s.log.WithError(err).WithField("type", req.Type).Warn("Socket Mode ack failed")
		}
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.WithFields(logrus.Fields{"ref": chat.NewRef(), "panic": fmt.Sprint(p)}).Error("Socket Mode handler panicked")
		}
		if !acked {
			ack(nil)
		}
	}()
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			return
		}
		reply := s.o.Router.Command(ctx, cmd)
		if reply == nil {
			return
		}
		payload := commandAck(reply)
		if fits(payload) {
			ack(payload)
			return
		}
		// Too large for an ack: answer through the Web API instead.
		ack(nil)
		if s.o.Messenger != nil {
			if err := s.o.Messenger.Ephemeral(ctx, cmd.ChannelID, cmd.UserID, chat.Message{Text: reply.Text, Blocks: reply.Blocks}); err != nil {
				s.log.WithError(err).Warn("large command reply not delivered")
			}
		}
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			return
		}
		if cb.Type == slack.InteractionTypeBlockSuggestion {
			if or, ok := s.o.Router.(OptionsRouter); ok {
				if resp := or.Options(ctx, &cb); resp != nil && len(resp.Options) > 0 && fits(resp) {
					ack(resp)
					return
				}
			}
			ack(map[string]any{"options": []any{}})
			return
		}
		reply := s.o.Router.Interaction(ctx, &cb)
		// As over HTTP, only a view_submission answer carries a body.
		if cb.Type == slack.InteractionTypeViewSubmission && reply != nil && reply.View != nil {
			if fits(reply.View) {
				ack(reply.View)
				return
			}
			s.log.WithField("user", cb.User.ID).Error("view_submission answer over 20 KB: closing the view instead")
		}
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		// Ack first: the handler only starts background work, and Slack
		// retries events that are not acked within 3 s.
		ack(nil)
		if er, isER := s.o.Router.(EventRouter); ok && isER && ev.Type == slackevents.CallbackEvent {
			er.Event(ctx, ev)
		}
	}
}

// commandAck is the slash command reply, as the HTTP transport writes it.
func commandAck(reply *handlers.Reply) any {
	return struct {
		ResponseType string       `json:"response_type"`
		Text         string       `json:"text,omitempty"`
		Blocks       slack.Blocks `json:"blocks,omitzero"`
	}{slack.ResponseTypeEphemeral, reply.Text, slack.Blocks{BlockSet: reply.Blocks}}
}

// fits reports whether payload, wrapped in its envelope, stays below
// Slack's ack limit (the envelope adds well under 100 bytes).
func fits(payload any) bool {
	b, err := json.Marshal(payload)
	return err == nil && len(b)+100 < maxAck
}
