package webex

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testClientID     = "client-id-1"
	testClientSecret = "client-secret-shh"
)

// tokenEndpoint is a fake of Webex's /access_token: it rotates refresh
// tokens and refuses one that was used before, as Webex does.
type tokenEndpoint struct {
	mu       sync.Mutex
	valid    map[string]bool
	n        int
	calls    atomic.Int32
	ttl      int    // expires_in seconds
	fail     string // when set, answer 400 with this error_description
	noRotate bool
}

func newTokenEndpoint(initial string) *tokenEndpoint {
	return &tokenEndpoint{valid: map[string]bool{initial: true}, ttl: 3600}
}

func (e *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.calls.Add(1)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	f := r.PostForm
	if e.fail != "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, e.fail)
		return
	}
	if f.Get("grant_type") != "refresh_token" || f.Get("client_id") != testClientID || f.Get("client_secret") != testClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	rt := f.Get("refresh_token")
	if !e.valid[rt] {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"refresh token reused or unknown"}`)
		return
	}
	e.n++
	newRT := rt
	if !e.noRotate {
		delete(e.valid, rt)
		newRT = fmt.Sprintf("rt-%d", e.n)
		e.valid[newRT] = true
	}
	fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":%d,"refresh_token":%q,"refresh_token_expires_in":7776000}`, e.n, e.ttl, newRT)
}

// memStore is a RefreshTokenStore in memory, shared by "replicas".
type memStore struct {
	lock    chan struct{}
	mu      sync.Mutex
	tok     string
	saves   int
	saveErr error
}

func newMemStore() *memStore { return &memStore{lock: make(chan struct{}, 1)} }

func (m *memStore) LoadRefreshToken(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok, nil
}

func (m *memStore) SaveRefreshToken(_ context.Context, tok string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	m.tok = tok
	m.saves++
	return nil
}

func (m *memStore) Lock(ctx context.Context) (func(), error) {
	select {
	case m.lock <- struct{}{}:
		return func() { <-m.lock }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func newOAuth(t *testing.T, ep http.Handler, store RefreshTokenStore, initial string) TokenSource {
	t.Helper()
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	return NewOAuthTokens(OAuthConfig{TokenURL: srv.URL + "/v1/access_token", ClientID: testClientID, ClientSecret: testClientSecret, Store: store}, initial)
}

func TestOAuthRefreshRotatesAndPersists(t *testing.T) {
	t.Parallel()
	ep := newTokenEndpoint("rt-initial")
	store := newMemStore()
	ts := newOAuth(t, ep, store, "rt-initial")
	ctx := context.Background()
	tok, err := ts.Token(ctx)
	if err != nil || tok != "at-1" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	if store.tok != "rt-1" {
		t.Errorf("stored refresh token = %q, want rt-1", store.tok)
	}
	if tok2, _ := ts.Token(ctx); tok2 != "at-1" || ep.calls.Load() != 1 {
		t.Errorf("a valid token must be reused: %q after %d calls", tok2, ep.calls.Load())
	}
	// A 401 on at-1: one refresh, with the rotated refresh token.
	tok3, err := ts.Refresh(ctx, "at-1")
	if err != nil || tok3 != "at-2" || store.tok != "rt-2" {
		t.Fatalf("Refresh = %q, %v; stored %q", tok3, err, store.tok)
	}
	// A refresh for a token that is no longer current returns the current one.
	if tok4, err := ts.Refresh(ctx, "at-1"); err != nil || tok4 != "at-2" || ep.calls.Load() != 2 {
		t.Errorf("stale Refresh = %q, %v after %d calls", tok4, err, ep.calls.Load())
	}
}

func TestOAuthConcurrentRefreshOnce(t *testing.T) {
	t.Parallel()
	ep := newTokenEndpoint("rt-0")
	ts := newOAuth(t, ep, newMemStore(), "rt-0")
	ctx := context.Background()
	first, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Go(func() {
			got[i], _ = ts.Refresh(ctx, first)
		})
	}
	wg.Wait()
	for _, g := range got {
		if g != "at-2" {
			t.Fatalf("refresh results %v, want all at-2", got)
		}
	}
	if n := ep.calls.Load(); n != 2 {
		t.Errorf("token endpoint called %d times, want 2 (initial + one refresh)", n)
	}
}

// TestOAuthReplicasShareRotatedToken: replica B starts with the refresh
// token from configuration, which replica A has already rotated; B must use
// the stored one, or Webex refuses it.
func TestOAuthReplicasShareRotatedToken(t *testing.T) {
	t.Parallel()
	ep := newTokenEndpoint("rt-env")
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	store := newMemStore()
	cfg := OAuthConfig{TokenURL: srv.URL, ClientID: testClientID, ClientSecret: testClientSecret, Store: store}
	a, b := NewOAuthTokens(cfg, "rt-env"), NewOAuthTokens(cfg, "rt-env")
	ctx := context.Background()
	if _, err := a.Token(ctx); err != nil {
		t.Fatal(err)
	}
	tb, err := b.Token(ctx)
	if err != nil || tb != "at-2" {
		t.Fatalf("replica B Token = %q, %v", tb, err)
	}
	ta, err := a.Refresh(ctx, "at-1")
	if err != nil || ta != "at-3" || store.tok != "rt-3" {
		t.Fatalf("replica A Refresh = %q, %v; stored %q", ta, err, store.tok)
	}
}

func TestOAuthExpiringTokenRefreshedProactively(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ttl     int           // expires_in
		advance time.Duration // time passed before the second Token()
		refresh bool
	}{
		{"fresh token reused", 3600, 30 * time.Minute, false},
		{"within a minute of expiry", 3600, 59*time.Minute + 10*time.Second, true},
		{"short-lived token reused early", 20, 10 * time.Second, false},
		{"short-lived token near expiry", 20, 16 * time.Second, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ep := newTokenEndpoint("rt-0")
			ep.ttl = tc.ttl
			ts := newOAuth(t, ep, newMemStore(), "rt-0").(*oauthTokens)
			var mu sync.Mutex
			now := time.Now()
			ts.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			ctx := context.Background()
			t1, err := ts.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			now = now.Add(tc.advance)
			mu.Unlock()
			t2, err := ts.Token(ctx)
			if err != nil || (t1 != t2) != tc.refresh {
				t.Fatalf("tokens %q then %q (%v); want refresh %v", t1, t2, err, tc.refresh)
			}
		})
	}
}

func TestOAuthErrorsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	const rt = "rt-secret-initial"
	tests := []struct {
		name  string
		setup func(ep *tokenEndpoint, st *memStore)
	}{
		{"endpoint echoes secrets", func(ep *tokenEndpoint, _ *memStore) {
			ep.fail = "bad grant " + rt + " for " + testClientSecret
		}},
		{"unknown refresh token", func(ep *tokenEndpoint, _ *memStore) { delete(ep.valid, rt) }},
		{"save fails", func(_ *tokenEndpoint, st *memStore) { st.saveErr = errors.New("redis down") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ep := newTokenEndpoint(rt)
			st := newMemStore()
			tc.setup(ep, st)
			_, err := newOAuth(t, ep, st, rt).Token(context.Background())
			if err == nil {
				t.Fatal("want an error")
			}
			for _, s := range []string{rt, testClientSecret, "rt-1", "at-1"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a secret (%q)", err, s)
				}
			}
		})
	}
}

func TestOAuthUnsavedTokenStaysInUse(t *testing.T) {
	t.Parallel()
	ep := newTokenEndpoint("rt-0")
	st := newMemStore()
	st.saveErr = errors.New("redis down")
	ts := newOAuth(t, ep, st, "rt-0")
	ctx := context.Background()
	if _, err := ts.Token(ctx); err == nil {
		t.Fatal("a failed save must be reported")
	}
	st.mu.Lock()
	st.saveErr = nil
	st.mu.Unlock()
	// rt-1 exists only in memory; the next refresh must use it and save.
	tok, err := ts.Refresh(ctx, "at-1")
	if err != nil || tok != "at-2" || st.tok != "rt-2" {
		t.Fatalf("Refresh = %q, %v; stored %q", tok, err, st.tok)
	}
}

// TestClientWithOAuth: a 401 from the API makes the client refresh through
// the OAuth source and retry with the new token.
func TestClientWithOAuth(t *testing.T) {
	t.Parallel()
	ep := newTokenEndpoint("rt-0")
	ts := newOAuth(t, ep, newMemStore(), "rt-0")
	var seen []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") == "Bearer at-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, okCustomer)
	})
	cl := newTestClient(t, api, newFakeClock(), ts)
	if _, err := cl.GetCustomer(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "Bearer at-1,Bearer at-2" {
		t.Errorf("authorizations = %v", seen)
	}
}

func TestOAuthContextCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	unlock, _ := st.Lock(context.Background()) // another replica holds the lock
	defer unlock()
	ts := newOAuth(t, newTokenEndpoint("rt-0"), st, "rt-0")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := ts.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}
