package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
)

// server is an http.Server on a free loopback port.
type server struct {
	srv *http.Server
	URL string
}

func serve(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, URL: "http://" + ln.Addr().String()}
	if c, ok := h.(interface {
		connState(net.Conn, http.ConnState)
	}); ok {
		s.srv.ConnState = c.connState
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *server) Close() { _ = s.srv.Close() }

// floorHandler is the least a Slack endpoint must do: read the body
// (bounded), check the timestamp and the HMAC signature, parse the form,
// answer 200. The bot's figures are read against it.
func floorHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := verifiedForm(w, r, secret); ok {
			w.WriteHeader(http.StatusOK)
		}
	})
}

// verifiedForm is the floor's work: the form of a Slack request whose
// timestamp and signature hold. When they do not, it has answered and
// reports false.
func verifiedForm(w http.ResponseWriter, r *http.Request, secret string) (url.Values, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return nil, false
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-Slack-Request-Timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		http.Error(w, "stale", http.StatusUnauthorized)
		return nil, false
	}
	sv, err := slack.NewSecretsVerifier(r.Header, secret)
	if err != nil {
		http.Error(w, "unsigned", http.StatusUnauthorized)
		return nil, false
	}
	_, _ = sv.Write(body)
	if sv.Ensure() != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil, false
	}
	return form, true
}

// fakeSlack answers the Slack Web API methods the bot calls, fast and
// without keeping messages: the bench only counts. It enforces Slack's rate
// limits (slackLimits) with 429 and Retry-After, unless limits is nil. For
// scenario (e) it tallies the click answers per request ("👍 R-7 approved"
// must appear once).
type fakeSlack struct {
	seq     atomic.Int64
	calls   sync.Map // method → *atomic.Int64, refused calls included
	limited sync.Map // method → *atomic.Int64: calls answered 429
	limits  *rateLimits
	// conns counts the connections the bots opened: far more than their
	// concurrency means they do not keep connections alive.
	conns atomic.Int64

	mu       sync.Mutex
	approved map[int]int // request id → "approved" answers
	refused  int         // click answers that refused (already approved, ⛔)
}

// newFakeSlack returns a fake Slack that enforces limits (none when nil).
func newFakeSlack(limits []slackLimit) *fakeSlack {
	f := &fakeSlack{approved: map[int]int{}}
	if limits != nil {
		f.limits = newRateLimits(limits)
	}
	return f
}

var approvedRE = regexp.MustCompile(`👍 R-(\d+) approved`)

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	_ = r.ParseForm()
	count(&f.calls, method)
	if wait := f.limits.admit(method, r.Form.Get("channel"), time.Now()); wait > 0 {
		count(&f.limited, method)
		refuse(w, wait)
		return
	}
	ts := "1700000000." + strconv.FormatInt(100000+f.seq.Add(1), 10)
	var resp string
	switch method {
	case "chat.postMessage":
		resp = `{"ok":true,"channel":` + strconv.Quote(r.Form.Get("channel")) + `,"ts":"` + ts + `"}`
	case "chat.update":
		resp = `{"ok":true,"channel":` + strconv.Quote(r.Form.Get("channel")) + `,"ts":` + strconv.Quote(r.Form.Get("ts")) + `}`
	case "chat.postEphemeral":
		f.tally(r.Form.Get("text"))
		resp = `{"ok":true,"message_ts":"` + ts + `"}`
	case "conversations.open":
		resp = `{"ok":true,"channel":{"id":"D` + strings.ToUpper(r.Form.Get("users")) + `"}}`
	case "auth.test":
		resp = `{"ok":true,"user_id":"UBOT","team_id":"T1"}`
	default:
		resp = `{"ok":true}`
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, resp)
}

func count(m *sync.Map, method string) {
	c, ok := m.Load(method)
	if !ok {
		c, _ = m.LoadOrStore(method, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
}

func (f *fakeSlack) connState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		f.conns.Add(1)
	}
}

// use is the calls and 429s so far, per method.
func (f *fakeSlack) use() slackUse {
	u := slackUse{calls: map[string]int64{}, limited: map[string]int64{}}
	f.calls.Range(func(k, v any) bool { u.calls[k.(string)] = v.(*atomic.Int64).Load(); return true })
	f.limited.Range(func(k, v any) bool { u.limited[k.(string)] = v.(*atomic.Int64).Load(); return true })
	return u
}

// resetLimits refills Slack's quotas (a new scenario).
func (f *fakeSlack) resetLimits() { f.limits.reset() }

func (f *fakeSlack) tally(text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := approvedRE.FindStringSubmatch(text); m != nil {
		id, _ := strconv.Atoi(m[1])
		f.approved[id]++
		return
	}
	if strings.HasPrefix(text, "⛔") {
		f.refused++
	}
}

// clickAnswers returns the tallies and starts new ones.
func (f *fakeSlack) clickAnswers() (approved map[int]int, refused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	approved, refused = f.approved, f.refused
	f.approved, f.refused = map[int]int{}, 0
	return approved, refused
}

// answered is how many click answers have arrived since the last reset.
func (f *fakeSlack) answered() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.refused
	for _, c := range f.approved {
		n += c
	}
	return n
}

// roundRobin is the load balancer of scenario (e): one
// httputil.ReverseProxy whose backends can be swapped between runs, so 1
// and 3 replicas are measured behind the very same proxy.
type roundRobin struct {
	proxy    *httputil.ReverseProxy
	backends atomic.Pointer[[]*url.URL]
	next     atomic.Uint64
}

func newRoundRobin() *roundRobin {
	rr := &roundRobin{}
	rr.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			bs := *rr.backends.Load()
			pr.SetURL(bs[rr.next.Add(1)%uint64(len(bs))])
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 128, IdleConnTimeout: 30 * time.Second, DisableCompression: true},
		ErrorLog:  nil,
	}
	empty := []*url.URL{}
	rr.backends.Store(&empty)
	return rr
}

func (rr *roundRobin) set(urls ...string) error {
	var bs []*url.URL
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil {
			return err
		}
		bs = append(bs, p)
	}
	if len(bs) == 0 {
		return errors.New("proxy: no backends")
	}
	rr.backends.Store(&bs)
	return nil
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(*rr.backends.Load()) == 0 {
		http.Error(w, "no backends", http.StatusBadGateway)
		return
	}
	rr.proxy.ServeHTTP(w, r)
}
