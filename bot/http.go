package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/onboardbot/onboardbot/handlers"
	"github.com/onboardbot/onboardbot/handlers/chat"
)

const (
	// maxBody bounds what is read before the signature is known to be good.
	maxBody = 1 << 20
	// maxSkew is how far a request's timestamp may be from now, either way.
	maxSkew = 5 * time.Minute
	// readyTimeout keeps a probe from hanging on a dead Redis or Slack.
	readyTimeout = 2 * time.Second
)

// EventRouter is implemented by a Router that handles Events API callbacks
// (app_home_opened). Slack retries deliveries, so it must dedupe on EventID.
type EventRouter interface {
	Event(ctx context.Context, ev slackevents.EventsAPIEvent)
}

// OptionsRouter is implemented by a Router that fills external_select menus
// (block_suggestion payloads on /slack/options).
type OptionsRouter interface {
	Options(ctx context.Context, cb *slack.InteractionCallback) *slack.OptionsResponse
}

// HTTPOptions configures the HTTP transport.
type HTTPOptions struct {
	SigningSecret string
	// Router receives the verified Slack requests. Nil (socket mode) serves
	// only /healthz, /readyz and /metrics.
	Router handlers.Router
	// Ready reports whether Redis and Slack auth work; its error names the
	// failing check and must not contain secrets. Nil means always ready.
	Ready func(ctx context.Context) error
	// Metrics serves /metrics; nil: Stats.Handler(), or 404 without Stats.
	Metrics http.Handler
	// Stats records ack latency per route; nil records nothing.
	Stats  *Metrics
	Logger *logrus.Entry
	// Now is the clock for the timestamp check; nil means time.Now.
	Now func() time.Time
}

// HTTPServer is the HTTP transport: Slack's request URLs
// plus /healthz, /readyz and /metrics. It is an http.Handler.
type HTTPServer struct {
	o   HTTPOptions
	mux *http.ServeMux
	log *logrus.Entry
	now func() time.Time
	// static keeps the encoded answers of static replies (help), by text:
	// encoding 2 KB of text was most of help's cost.
	static sync.Map
}

// NewHTTPServer builds the handler. Without a signing secret every Slack
// request is refused (401): failing closed beats serving unsigned requests.
func NewHTTPServer(o HTTPOptions) *HTTPServer {
	s := &HTTPServer{o: o, mux: http.NewServeMux(), log: o.Logger, now: o.Now}
	if s.log == nil {
		s.log = logrus.NewEntry(logrus.StandardLogger())
	}
	if s.now == nil {
		s.now = time.Now
	}
	// Socket mode serves only the probes and metrics: no Router, no Slack routes.
	if o.Router != nil {
		if o.SigningSecret == "" {
			s.log.Error("no Slack signing secret: every Slack request will be refused")
		}
		s.mux.Handle("POST /slack/commands", s.slack("commands", s.command))
		s.mux.Handle("POST /slack/interactions", s.slack("interactions", s.interaction))
		s.mux.Handle("POST /slack/options", s.slack("options", s.options))
		s.mux.Handle("POST /slack/events", s.slack("events", s.event))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	metrics := o.Metrics
	if metrics == nil && o.Stats != nil {
		metrics = o.Stats.Handler()
	}
	if metrics == nil {
		metrics = http.NotFoundHandler()
	}
	s.mux.Handle("GET /metrics", metrics)
	return s
}

func (s *HTTPServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *HTTPServer) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.o.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.o.Ready(ctx); err != nil {
			msg := s.redact(err.Error())
			s.log.WithField("route", "readyz").Warn("not ready: " + msg)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready: "+msg+"\n")
			return
		}
	}
	_, _ = io.WriteString(w, "ready\n")
}

// redact is a last guard: checks report their own errors, and one that
// echoes its configuration must still not publish the signing secret.
func (s *HTTPServer) redact(msg string) string {
	if s.o.SigningSecret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, s.o.SigningSecret, "[redacted]")
}

// slackHandler answers one verified Slack request from its raw body.
type slackHandler func(w http.ResponseWriter, r *http.Request, body []byte, log *logrus.Entry)

// slack wraps a handler with what every Slack route needs: a bounded body,
// the signature check before anything else, panic recovery, ack metrics.
func (s *HTTPServer) slack(route string, h slackHandler) http.Handler {
	log := s.log.WithField("route", route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() { s.o.Stats.ObserveAck(route, time.Since(start)) }()
		defer func() {
			if p := recover(); p != nil {
				ref := chat.NewRef()
				log.WithFields(logrus.Fields{"ref": ref, "panic": fmt.Sprint(p)}).Error("handler panicked")
				http.Error(w, "internal error (ref "+ref+")", http.StatusInternalServerError)
			}
		}()

		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				log.Warn("request body over 1 MiB refused")
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if reason := s.verify(r.Header, body); reason != "" {
			log.WithField("reason", reason).Warn("unverified Slack request refused")
			http.Error(w, "invalid request signature", http.StatusUnauthorized)
			return
		}
		h(w, r, body, log)
	})
}

// verify returns why the request is not Slack's, or "" when it is.
func (s *HTTPServer) verify(h http.Header, body []byte) string {
	// slack-go v0.35.0 already refuses a skew over 5 minutes either way, by
	// the wall clock. This check adds the injected clock, so "now" in tests
	// is the same for the transport and its callers.
	ts, err := strconv.ParseInt(h.Get("X-Slack-Request-Timestamp"), 10, 64)
	if err != nil {
		return "missing or malformed timestamp"
	}
	if skew := s.now().Sub(time.Unix(ts, 0)); skew > maxSkew || skew < -maxSkew {
		return "timestamp more than 5 minutes from now"
	}
	sv, err := slack.NewSecretsVerifier(h, s.o.SigningSecret)
	if err != nil {
		switch {
		case errors.Is(err, slack.ErrMissingHeaders):
			return "missing signature headers"
		case errors.Is(err, slack.ErrExpiredTimestamp):
			return "timestamp more than 5 minutes from now"
		case errors.Is(err, slack.ErrInvalidConfiguration):
			return "no signing secret configured"
		default:
			return "malformed signature"
		}
	}
	if _, err := sv.Write(body); err != nil {
		return "cannot hash body"
	}
	if err := sv.Ensure(); err != nil {
		return "signature mismatch"
	}
	return ""
}

func (s *HTTPServer) command(w http.ResponseWriter, r *http.Request, body []byte, log *logrus.Entry) {
	// Parsed from the verified body alone, so nothing unsigned (the query
	// string) can reach the handler.
	cmd, err := slashCommand(body)
	if err != nil {
		log.WithError(err).Warn("malformed slash command")
		http.Error(w, "malformed slash command", http.StatusBadRequest)
		return
	}
	if log.Logger.IsLevelEnabled(logrus.DebugLevel) {
		log.WithFields(logrus.Fields{"user": cmd.UserID, "command": cmd.Command}).Debug("slash command")
	}
	reply := s.o.Router.Command(routerContext(r), cmd)
	if reply == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	answer := struct {
		ResponseType string       `json:"response_type"`
		Text         string       `json:"text,omitempty"`
		Blocks       slack.Blocks `json:"blocks,omitzero"`
	}{slack.ResponseTypeEphemeral, reply.Text, slack.Blocks{BlockSet: reply.Blocks}}
	if !reply.Static || len(reply.Blocks) > 0 {
		writeJSON(w, log, answer)
		return
	}
	b, ok := s.static.Load(reply.Text)
	if !ok {
		var enc bytes.Buffer
		if err := encodeJSON(&enc, answer); err != nil {
			writeJSON(w, log, answer) // reports the error
			return
		}
		b, _ = s.static.LoadOrStore(reply.Text, enc.Bytes())
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.([]byte))
}

// slashCommand decodes a slash command's form body: the fields of
// slack.SlashCommandParse, without building a second http.Request for it
// (2.1 µs and 18 allocations against 5.1 µs and 49, a tenth of help's
// cost; TestSlashCommandMatchesSlackGo keeps the two alike).
func slashCommand(body []byte) (slack.SlashCommand, error) {
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return slack.SlashCommand{}, err
	}
	return slack.SlashCommand{
		Token: f.Get("token"), TeamID: f.Get("team_id"), TeamDomain: f.Get("team_domain"),
		EnterpriseID: f.Get("enterprise_id"), EnterpriseName: f.Get("enterprise_name"),
		IsEnterpriseInstall: f.Get("is_enterprise_install") == "true",
		ChannelID:           f.Get("channel_id"), ChannelName: f.Get("channel_name"),
		UserID: f.Get("user_id"), UserName: f.Get("user_name"),
		Command: f.Get("command"), Text: f.Get("text"), ResponseURL: f.Get("response_url"),
		TriggerID: f.Get("trigger_id"), APIAppID: f.Get("api_app_id"),
	}, nil
}

// routerContext keeps the request's values but not its cancellation, which
// fires as soon as the ack is written: handlers may start background work
// from it and bound their own calls.
func routerContext(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }

// interactionPayload decodes the payload form field of the verified body.
func interactionPayload(w http.ResponseWriter, body []byte, log *logrus.Entry) (*slack.InteractionCallback, bool) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "payload missing from the request body", http.StatusBadRequest)
		return nil, false
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		log.WithError(err).Warn("malformed interaction payload")
		http.Error(w, "malformed payload", http.StatusBadRequest)
		return nil, false
	}
	return &cb, true
}

func (s *HTTPServer) interaction(w http.ResponseWriter, r *http.Request, body []byte, log *logrus.Entry) {
	cb, ok := interactionPayload(w, body, log)
	if !ok {
		return
	}
	log = log.WithFields(logrus.Fields{"user": cb.User.ID, "type": string(cb.Type)})
	log.Debug("interaction")
	reply := s.o.Router.Interaction(routerContext(r), cb)
	// Only a view_submission answer has a body: anything else there, even
	// {"ok":true}, makes Slack show "trouble connecting".
	if cb.Type == slack.InteractionTypeViewSubmission && reply != nil && reply.View != nil {
		writeJSON(w, log, reply.View)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *HTTPServer) options(w http.ResponseWriter, r *http.Request, body []byte, log *logrus.Entry) {
	cb, ok := interactionPayload(w, body, log)
	if !ok {
		return
	}
	log = log.WithField("user", cb.User.ID)
	if or, ok := s.o.Router.(OptionsRouter); ok {
		if resp := or.Options(routerContext(r), cb); resp != nil && len(resp.Options) > 0 {
			writeJSON(w, log, resp)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"options":[]}`)
}

func (s *HTTPServer) event(w http.ResponseWriter, r *http.Request, body []byte, log *logrus.Entry) {
	// The token field is legacy; the signature already proved the origin.
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		if json.Valid(body) {
			// An event slack-go cannot decode (a type we did not subscribe to,
			// a malformed inner event): a non-200 would only make Slack retry it.
			log.WithError(err).Warn("undecodable event dropped")
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Error(w, "malformed event", http.StatusBadRequest)
		return
	}
	switch ev.Type {
	case slackevents.URLVerification:
		uv, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			http.Error(w, "malformed url_verification", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, uv.Challenge)
	case slackevents.CallbackEvent:
		if er, ok := s.o.Router.(EventRouter); ok {
			log.WithField("event", ev.InnerEvent.Type).Debug("event")
			er.Event(routerContext(r), ev)
		}
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func writeJSON(w http.ResponseWriter, log *logrus.Entry, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 { // a huge one-off answer is not kept
			buf.Reset()
			jsonBuffers.Put(buf)
		}
	}()
	if err := encodeJSON(buf, v); err != nil {
		ref := chat.NewRef()
		log.WithFields(logrus.Fields{"ref": ref}).WithError(err).Error("cannot encode reply")
		http.Error(w, "internal error (ref "+ref+")", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
}

// encodeJSON writes v to buf as every answer to Slack is encoded: without
// HTML escaping (Slack reads JSON, not HTML: "<@U1>" stays as it is) and
// without a trailing newline.
func encodeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}

// jsonBuffers keeps encoding buffers between answers.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
