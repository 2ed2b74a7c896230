package spectest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Exempt names operations ("METHOD /path" after the base path, e.g. "POST /access_token")
// that no reference spec describes and that Recorder and Transport pass through without
// validating or counting. Anything else without a spec operation fails the test.
func (s *Spec) Exempt(ops ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exempt == nil {
		s.exempt = map[string]bool{}
	}
	for _, op := range ops {
		s.exempt[op] = true
	}
}

func (s *Spec) isExempt(r *http.Request) bool {
	p := r.URL.EscapedPath()
	if p == BasePath || strings.HasPrefix(p, BasePath+"/") {
		p = strings.TrimPrefix(p, BasePath)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exempt[r.Method+" "+p]
}

// Recorder wraps a server handler: every request reaching next and every response it writes
// are validated, and the operation is recorded for Covered.
func (s *Spec) Recorder(t testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.isExempt(r) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := readAll(r.Body)
		if err != nil {
			t.Errorf("spectest: read request body of %s %s: %v", r.Method, r.URL.Path, err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.ValidateRequest(t, r, body)
		tee := &teeWriter{ResponseWriter: w}
		next.ServeHTTP(tee, r)
		if tee.status == 0 {
			tee.status = http.StatusOK
			tee.header = w.Header().Clone()
		}
		s.ValidateResponse(t, r, body, tee.status, tee.header, tee.body.Bytes())
	})
}

// Transport wraps a client's RoundTripper (nil = http.DefaultTransport): every request the
// client sends and every response it gets are validated and recorded. Transport errors
// (timeouts) pass through unvalidated: there is no response to check.
func (s *Spec) Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if s.isExempt(r) {
			return base.RoundTrip(r)
		}
		body, err := readAll(r.Body)
		if err != nil {
			return nil, err
		}
		// RoundTrippers must not modify the caller's request: send a copy with a fresh body.
		out := r.Clone(r.Context())
		out.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) == 0 {
			out.Body = http.NoBody
		}
		s.ValidateRequest(t, out, body)
		resp, err := base.RoundTrip(out)
		if err != nil {
			return nil, err
		}
		respBody, err := readAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(respBody))
		s.ValidateResponse(t, out, body, resp.StatusCode, resp.Header, respBody)
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func readAll(rc io.ReadCloser) ([]byte, error) {
	if rc == nil || rc == http.NoBody {
		return nil, nil
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// teeWriter passes the response through and keeps a copy of what was written, with the
// header as it was when the status went out.
type teeWriter struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.header = w.ResponseWriter.Header().Clone()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming handlers working behind the recorder.
func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
