package main

import (
	"bytes"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// recorder stands in front of the sandbox, in the bench's process, and
// notes when each customer create was accepted, and the calls about one
// customer (the probe of scenario (g)): the sandbox's stats count calls per
// operation but say neither when the create of a given external id arrived
// nor whose a call was. A call is the probe's when its body or query names
// the probe's external id (precheck, lookup, create) or its path the
// customer id the sandbox gave the probe's create (status polls).
type recorder struct {
	h http.Handler

	mu       sync.Mutex
	probe    string // external id; "" follows none
	customer string // the sandbox's id of the probe's customer, once created
	calls    []probeCall
	creates  []time.Time // accepted creates of other customers, when they arrived
}

// probeCall is one call about the probe: when it reached the sandbox (before
// the sandbox's latency), what it was and how it was answered.
type probeCall struct {
	at     time.Time
	method string
	path   string
	status int
}

func newRecorder(h http.Handler) *recorder { return &recorder{h: h} }

// follow starts recording the calls about external id ext.
func (rc *recorder) follow(ext string) {
	rc.mu.Lock()
	rc.probe = ext
	rc.mu.Unlock()
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	create := r.Method == http.MethodPost && r.URL.Path == "/v1/wholesale/customers"
	rc.mu.Lock()
	probe, customer := rc.probe, rc.customer
	rc.mu.Unlock()
	mine := false
	if probe != "" {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		mine = bytes.Contains(body, []byte(probe)) || strings.Contains(r.URL.RawQuery, probe) ||
			(customer != "" && strings.Contains(r.URL.Path, customer))
	}
	if !mine && !create {
		rc.h.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	rc.h.ServeHTTP(sw, r)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch {
	case mine:
		rc.calls = append(rc.calls, probeCall{at: at, method: r.Method, path: r.URL.Path, status: sw.status})
		if loc := sw.Header().Get("Location"); create && sw.status < 300 && loc != "" && rc.customer == "" {
			rc.customer = path.Base(loc)
		}
	case sw.status < 300:
		rc.creates = append(rc.creates, at)
	}
}

// createdAll is when the n-th accepted create of a customer other than the
// probe arrived (zero before there were n).
func (rc *recorder) createdAll(n int) time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if n < 1 || len(rc.creates) < n {
		return time.Time{}
	}
	return rc.creates[n-1]
}

// probeCalls returns the calls recorded about the probe.
func (rc *recorder) probeCalls() []probeCall {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]probeCall(nil), rc.calls...)
}

// created reports when the probe's create first reached the sandbox and
// when one was first accepted (zero when none).
func (rc *recorder) created() (first, accepted time.Time) {
	for _, c := range rc.probeCalls() {
		if c.method != http.MethodPost || c.path != "/v1/wholesale/customers" {
			continue
		}
		if first.IsZero() {
			first = c.at
		}
		if accepted.IsZero() && c.status < 300 {
			accepted = c.at
		}
	}
	return first, accepted
}

// statusWriter keeps the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
