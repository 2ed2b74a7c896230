// Package sandbox is a strict fake of the Webex APIs onboardbot uses: wholesale customers
// and subscribers, locations, calling locations, PSTN connections, numbers and the OAuth
// token endpoint. It speaks the wire protocol with its own wire structs and imports nothing
// of the bot, so it can judge the bot's client. It rejects what the real API rejects
// (required fields, enums, lengths, duplicates, unknown ids, bad tokens) with Webex's error
// body, provisions customers asynchronously, and injects latency, rate limits, 5xx and
// timeouts on request. `onboardbot sandbox` serves it alone; the console embeds it.
//
// It is never kinder than Webex: a new calling location has no PSTN connection and no
// numbers; lists are paged with next links that drop every query parameter but max and
// offset/start; customers and subscribers are seen only by the sub-partner they belong to;
// provisioning can end provisioned_with_errors or error, and subscribers can answer with
// errors (see Options). Where Cisco's documents are silent it takes the harsher plausible
// behaviour, and says so in an "assumption:" comment at that place.
//
// The API is served under the path prefix /v1 (clients use the base URL http://addr/v1);
// GET /_sandbox/stats at the root returns Stats as JSON.
package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones are validated against the IANA database on any host

	"golang.org/x/time/rate"
)

// Sandbox is an http.Handler; create it with New and stop it with Close.
type Sandbox struct {
	opts   Options
	now    func() time.Time // test seam
	routes []*route
	closed chan struct{}
	once   sync.Once

	mu          sync.Mutex // guards everything below
	seq         int
	customers   map[string]*customer
	subscribers map[string]*subscriber
	locations   map[string]*location
	numbers     map[string]*number // by E.164
	blocks      map[string]int     // next number block per country
	refresh     map[string]bool    // valid refresh tokens (rotated on use)
	issued      map[string]time.Time
	retryAfter  map[string]time.Time // Retry-After deadline given to a token
	limiter     *rate.Limiter        // --rate; made on the first call
	rng         *rand.Rand
	stats       Stats
}

// New returns a sandbox with no customers. Zero-valued options are taken as given (a zero
// Delay provisions at once); use DefaultOptions for the defaults.
func New(opts Options) *Sandbox {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.HoldTimeout <= 0 {
		opts.HoldTimeout = DefaultOptions().HoldTimeout // a hold of zero would be no timeout at all
	}
	if len(opts.ProvisioningIDs) == 0 {
		opts.ProvisioningIDs = []string{"PROV-*"}
	}
	s := &Sandbox{
		opts:        opts,
		now:         time.Now,
		closed:      make(chan struct{}),
		customers:   map[string]*customer{},
		subscribers: map[string]*subscriber{},
		locations:   map[string]*location{},
		numbers:     map[string]*number{},
		blocks:      map[string]int{},
		refresh:     map[string]bool{},
		issued:      map[string]time.Time{},
		retryAfter:  map[string]time.Time{},
		rng:         rand.New(rand.NewSource(opts.Seed)),
		stats:       Stats{Calls: map[string]int{}, EarlyRetriesByToken: map[string]int{}},
	}
	if opts.RefreshToken != "" {
		s.refresh[opts.RefreshToken] = true
	}
	s.routes = s.table()
	return s
}

// Close releases held calls. The sandbox has no timers: provisioning progress is computed
// from timestamps when a call looks at it.
func (s *Sandbox) Close() { s.once.Do(func() { close(s.closed) }) }

// call is one request being answered; handlers run with s.mu held and fill in resp.
type call struct {
	r        *http.Request
	params   map[string]string
	op       string // "METHOD /path/template"
	token    string
	tracking string
	arrived  time.Time // before --latency: what the client's retry timing is judged by
	now      time.Time // after --latency: when the sandbox acts
	body     []byte
}

// response is built under the lock and written after it is released, so that a slow client
// or a held call never blocks the sandbox.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sandbox/stats" {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
		return
	}
	c := &call{r: r}
	s.mu.Lock()
	s.seq++
	c.tracking = fmt.Sprintf("SANDBOX_%06d", s.seq)
	c.arrived = s.now()
	s.mu.Unlock()

	if !s.pause(r, s.opts.Latency) {
		return
	}
	var resp *response
	var hold bool
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	c.body = body
	if err != nil {
		resp = c.fail(http.StatusRequestEntityTooLarge, "The request body is too large or could not be read.")
	} else {
		resp, hold = s.dispatch(c)
	}
	if hold && !s.pause(r, s.opts.HoldTimeout) {
		return // the client gave up, as intended
	}
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	w.Header().Set("TrackingID", c.tracking)
	if len(resp.body) > 0 && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// pause waits d unless the client leaves or the sandbox closes; false when the client left.
func (s *Sandbox) pause(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.closed:
		return true
	case <-r.Context().Done():
		return false
	}
}

const maxBody = 1 << 20

func unescape(seg string) (string, error) { return url.PathUnescape(seg) }

// dispatch routes, authenticates, applies rate limits and faults, and runs the handler, all
// under the lock. hold reports a p-timeout call: answered only after HoldTimeout.
func (s *Sandbox) dispatch(c *call) (resp *response, hold bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.now = s.now()
	rt, params, allowed := s.match(c.r)
	if rt == nil {
		if allowed != "" {
			resp = c.fail(http.StatusMethodNotAllowed, "method "+c.r.Method+" is not allowed here")
			resp.header.Set("Allow", allowed)
			return resp, false
		}
		return c.fail(http.StatusNotFound, "no such resource: "+c.r.URL.Path), false
	}
	c.params, c.op = params, rt.key
	s.stats.Calls[c.op]++
	if rt.public {
		return rt.h(s, c), false
	}
	if resp := s.authenticate(c); resp != nil {
		s.stats.Unauthorized++
		return resp, false
	}
	s.countEarlyRetry(c)
	if resp := s.rateLimit(c); resp != nil {
		return resp, false
	}
	switch s.fault() {
	case fault5xx:
		s.stats.Injected5xx++
		return s.unavailable(c), false
	case faultTimeout:
		s.stats.InjectedTimeouts++
		hold = true
	}
	s.advance(c.now)
	return rt.h(s, c), hold
}

// authenticate accepts a Bearer token that this sandbox issued and that has not expired,
// the static --token, or (without --token) any other non-empty token.
func (s *Sandbox) authenticate(c *call) *response {
	scheme, tok, ok := strings.Cut(c.r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return c.fail(http.StatusUnauthorized, "The request requires a valid access token set in the Authorization request header.")
	}
	c.token = tok
	if exp, issued := s.issued[tok]; issued {
		if !c.now.Before(exp) {
			return c.fail(http.StatusUnauthorized, "The access token has expired.")
		}
		return nil
	}
	if s.opts.Token != "" && tok != s.opts.Token {
		return c.fail(http.StatusUnauthorized, "The request requires a valid access token set in the Authorization request header.")
	}
	return nil
}

// route is one operation. key is the reference specs' "METHOD /path/template".
type route struct {
	key    string
	method string
	segs   []string
	public bool // no Bearer token, no faults (the OAuth token endpoint)
	h      func(*Sandbox, *call) *response
}

func (s *Sandbox) table() []*route {
	type def struct {
		method, path string
		h            func(*Sandbox, *call) *response
	}
	defs := []def{
		{"GET", "/wholesale/customers", (*Sandbox).listCustomers},
		{"POST", "/wholesale/customers", (*Sandbox).createCustomer},
		{"POST", "/wholesale/customers/validate", (*Sandbox).precheckCustomer},
		{"GET", "/wholesale/customers/{customerId}", (*Sandbox).getCustomer},
		{"PUT", "/wholesale/customers/{customerId}", (*Sandbox).updateCustomer},
		{"DELETE", "/wholesale/customers/{customerId}", (*Sandbox).deleteCustomer},
		{"GET", "/wholesale/subscribers", (*Sandbox).listSubscribers},
		{"POST", "/wholesale/subscribers", (*Sandbox).createSubscriber},
		{"POST", "/wholesale/subscribers/validate", (*Sandbox).precheckSubscriber},
		{"GET", "/wholesale/subscribers/{subscriberId}", (*Sandbox).getSubscriber},
		{"PUT", "/wholesale/subscribers/{subscriberId}", (*Sandbox).updateSubscriber},
		{"DELETE", "/wholesale/subscribers/{subscriberId}", (*Sandbox).deleteSubscriber},
		{"POST", "/subscribers/{subscriberId}/emails/consentMove", (*Sandbox).consentMove},
		{"GET", "/locations", (*Sandbox).listLocations},
		{"POST", "/locations", (*Sandbox).createLocation},
		{"GET", "/locations/{locationId}", (*Sandbox).getLocation},
		{"POST", "/telephony/config/locations", (*Sandbox).enableCalling},
		{"GET", "/telephony/config/locations/{locationId}", (*Sandbox).getCallingLocation},
		{"PUT", "/telephony/config/locations/{locationId}", (*Sandbox).updateCallingLocation},
		{"GET", "/telephony/pstn/locations/{locationId}/connectionOptions", (*Sandbox).connectionOptions},
		{"GET", "/telephony/pstn/locations/{locationId}/connection", (*Sandbox).getPSTNConnection},
		{"PUT", "/telephony/pstn/locations/{locationId}/connection", (*Sandbox).setPSTNConnection},
		{"GET", "/telephony/config/numbers", (*Sandbox).listNumbers},
		{"POST", "/telephony/config/locations/{locationId}/numbers", (*Sandbox).addNumbers},
		{"PUT", "/telephony/config/locations/{locationId}/numbers", (*Sandbox).activateNumbers},
		{"POST", "/telephony/config/actions/validateNumbers/invoke", (*Sandbox).validateNumbers},
		{"POST", "/access_token", (*Sandbox).accessToken},
	}
	var out []*route
	for _, d := range defs {
		out = append(out, &route{
			key: d.method + " " + d.path, method: d.method, h: d.h,
			segs:   strings.Split(strings.TrimPrefix(d.path, "/"), "/"),
			public: d.path == "/access_token",
		})
	}
	return out
}

// match finds the route for r under /v1. Literal segments win over parameters; allowed
// lists the methods of a known path when the method does not fit.
func (s *Sandbox) match(r *http.Request) (*route, map[string]string, string) {
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, "/v1/") {
		return nil, nil, ""
	}
	segs := strings.Split(strings.TrimPrefix(p, "/v1/"), "/")
	var best *route
	var bestParams map[string]string
	bestLit := -1
	var allowed []string
	for _, rt := range s.routes {
		params, lit, ok := matchSegs(rt.segs, segs)
		if !ok {
			continue
		}
		if rt.method != r.Method {
			allowed = append(allowed, rt.method)
			continue
		}
		if lit > bestLit {
			best, bestParams, bestLit = rt, params, lit
		}
	}
	return best, bestParams, strings.Join(allowed, ", ")
}

func matchSegs(tmpl, segs []string) (map[string]string, int, bool) {
	if len(tmpl) != len(segs) {
		return nil, 0, false
	}
	params := map[string]string{}
	lit := 0
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") {
			v, err := unescape(segs[i])
			if err != nil || v == "" {
				return nil, 0, false
			}
			params[t[1:len(t)-1]] = v
			continue
		}
		if t != segs[i] {
			return nil, 0, false
		}
		lit++
	}
	return params, lit, true
}

// apiError is Webex's error body.
type apiError struct {
	Message    string     `json:"message"`
	Errors     []errorObj `json:"errors"`
	TrackingID string     `json:"trackingId"`
}

type errorObj struct {
	Description string `json:"description"`
	ErrorCode   int    `json:"errorCode,omitempty"`
}

// fail answers with Webex's error body: the message, one error per description (the message
// itself when none is given) and the tracking id.
func (c *call) fail(status int, message string, descriptions ...string) *response {
	return c.failCode(status, 0, message, descriptions...)
}

func (c *call) failCode(status, code int, message string, descriptions ...string) *response {
	if len(descriptions) == 0 {
		descriptions = []string{message}
	}
	e := apiError{Message: message, TrackingID: c.tracking}
	for _, d := range descriptions {
		e.Errors = append(e.Errors, errorObj{Description: d, ErrorCode: code})
	}
	return c.json(status, e)
}

func (c *call) json(status int, v any) *response {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"message":"sandbox could not encode its answer"}`)
		status = http.StatusInternalServerError
	}
	return &response{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: b}
}

func (c *call) empty(status int) *response {
	return &response{status: status, header: http.Header{}}
}

// decode reads the JSON body into v strictly: right content type, one object, no unknown
// fields. Unknown fields are refused on purpose: Webex may ignore a misspelt field, which
// would hide a client bug that this fake exists to catch.
func (c *call) decode(v any) *response {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return c.fail(http.StatusBadRequest, "The request body is missing.")
	}
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return c.fail(http.StatusUnsupportedMediaType, "Content-Type must be application/json.")
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return c.fail(http.StatusBadRequest, "The request body is not valid JSON for this operation.", err.Error())
	}
	if dec.More() {
		return c.fail(http.StatusBadRequest, "The request body has data after the JSON object.")
	}
	if err := exactKeys(c.body, reflect.TypeOf(v)); err != nil {
		return c.fail(http.StatusBadRequest, "The request body is not valid JSON for this operation.", err.Error())
	}
	return nil
}

// newID makes an id shaped like Webex's: base64 of "ciscospark://us/<KIND>/<uuid>".
func (s *Sandbox) newID(kind string) string {
	s.seq++
	uuid := fmt.Sprintf("%08x-5a4d-4b0c-8000-%012x", s.seq, s.seq*7919)
	return base64.RawURLEncoding.EncodeToString([]byte("ciscospark://us/" + kind + "/" + uuid))
}

// baseURL is the /v1 base the client used, for Location headers and urls.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/v1"
}
