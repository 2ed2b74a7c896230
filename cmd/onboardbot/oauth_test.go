package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

const (
	oauthClientID     = "onboardbot-client"
	oauthClientSecret = "onboardbot-client-secret"
	oauthRefresh      = "refresh-0"
	tokenOp           = "POST /access_token"
)

// oauthSandbox serves a sandbox whose access tokens live ttl and whose token
// endpoint knows one client and one refresh token.
func oauthSandbox(o *sandbox.Options, ttl time.Duration) {
	o.Token = "" // tokens the sandbox issued, checked for expiry
	o.TokenTTL = ttl
	o.ClientID, o.ClientSecret, o.RefreshToken = oauthClientID, oauthClientSecret, oauthRefresh
}

// tokenCounts is what the sandbox's token endpoint did: refreshes granted and
// refused (a reused or unknown refresh token), and 401 answers to API calls.
type tokenCounts struct{ issued, refused, unauthorized int }

func countTokens(sb *sandbox.Sandbox) tokenCounts {
	st := sb.Stats()
	return tokenCounts{issued: st.TokensIssued, refused: st.Calls[tokenOp] - st.TokensIssued, unauthorized: st.Unauthorized}
}

// assertNewestStored checks that Redis holds the refresh token the sandbox
// issued last (its tokens are numbered in order of issue).
func assertNewestStored(t *testing.T, rdb redis.UniversalClient, prefix string, issued int) {
	t.Helper()
	stored, err := store.New(rdb, prefix).RefreshTokens().LoadRefreshToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("sandbox-refresh-%d-", issued); !strings.HasPrefix(stored, want) {
		t.Fatalf("stored refresh token %q, want the newest (%s…)", stored, want)
	}
}

// concurrently runs calls goroutines of fn on every replica at once and
// returns the errors.
func concurrently[R any](replicas []R, calls int, fn func(r R) error) []error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i, r := range replicas {
		for j := range calls {
			wg.Go(func() {
				if err := fn(r); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("replica %d call %d: %w", i, j, err))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return errs
}

// TestOAuthTwoReplicasShareRotatedToken is acceptance 4 of issue 3 at the
// client: two replicas built as app.go builds them (the refresh token in
// Redis under one prefix) call Webex concurrently; whenever the access tokens
// expire each replica refreshes once, no refresh token is spent twice (the
// sandbox refuses reuse) and Redis holds the newest one.
func TestOAuthTwoReplicasShareRotatedToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ttl  time.Duration
		// whether an expired token is only noticed through Webex's 401:
		// an expires_in that rounds to 0 s carries no expiry.
		via401 bool
	}{
		{"expiry noticed by a 401", 300 * time.Millisecond, true},
		{"expiry known ahead", 1200 * time.Millisecond, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			opts := sandbox.DefaultOptions()
			opts.Delay = 0
			oauthSandbox(&opts, c.ttl)
			sb := sandbox.New(opts)
			srv := httptest.NewServer(sb)
			t.Cleanup(func() { srv.Close(); sb.Close() })
			customerID, _ := sb.SeedCustomer(sandbox.SeedCustomer{ExternalID: "SEED-1"})
			rdb, prefix := storetest.Client(t), storetest.Prefix(t)
			replica := func() *webex.Client {
				tokens := webex.NewOAuthTokens(webex.OAuthConfig{
					TokenURL: srv.URL + "/v1/access_token", ClientID: oauthClientID, ClientSecret: oauthClientSecret,
					Store: store.New(rdb, prefix).RefreshTokens(),
				}, oauthRefresh)
				return webex.New(webex.Config{BaseURL: srv.URL + "/v1", Tokens: tokens,
					BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
			}
			replicas := []*webex.Client{replica(), replica()}
			ctx := context.Background()
			call := func(cl *webex.Client) error {
				if _, err := cl.GetCustomer(ctx, customerID); err != nil {
					return err
				}
				_, err := cl.ListCustomers(ctx, webex.CustomerQuery{ExternalID: "SEED-1"})
				return err
			}

			var before tokenCounts
			for round := range 3 {
				if round > 0 {
					// Nothing to poll: the access tokens must grow old.
					time.Sleep(c.ttl)
				}
				for _, err := range concurrently(replicas, 4, call) {
					t.Errorf("round %d: %v", round, err)
				}
				got := countTokens(sb)
				if n := got.issued - before.issued; n != len(replicas) {
					t.Errorf("round %d: %d refreshes, want one per replica (%d)", round, n, len(replicas))
				}
				if got.refused != 0 {
					t.Errorf("round %d: the token endpoint refused %d refreshes (a refresh token used twice)", round, got.refused)
				}
				if saw401 := got.unauthorized > before.unauthorized; round > 0 && saw401 != c.via401 {
					t.Errorf("round %d: 401 answers went from %d to %d; want some: %v", round, before.unauthorized, got.unauthorized, c.via401)
				}
				assertNewestStored(t, rdb, prefix, got.issued)
				before = got
			}

			// A replica started later with the configured (long spent)
			// refresh token takes the stored one instead.
			if err := call(replica()); err != nil {
				t.Fatalf("a late replica: %v", err)
			}
			if got := countTokens(sb); got.issued != before.issued+1 || got.refused != 0 {
				t.Fatalf("a late replica: %+v after %+v, want one more refresh and none refused", got, before)
			}
		})
	}
}

// TestOAuthTwoAppInstances: two bot instances configured with
// WEBEX_CLIENT_ID/SECRET/REFRESH_TOKEN against the sandbox share the rotating
// refresh token through Redis: a customer is submitted on one and approved
// and provisioned while access tokens keep expiring, then both instances call
// Webex at once.
func TestOAuthTwoAppInstances(t *testing.T) {
	t.Parallel()
	const ttl = 300 * time.Millisecond
	e := newE2E(t)
	e.useSandbox(func(o *sandbox.Options) { oauthSandbox(o, ttl) })
	delete(e.env, "WEBEX_TOKEN")
	e.env["WEBEX_CLIENT_ID"], e.env["WEBEX_CLIENT_SECRET"], e.env["WEBEX_REFRESH_TOKEN"] = oauthClientID, oauthClientSecret, oauthRefresh
	apps := []*App{e.startApp(), e.startApp()}

	e.submitAndApprove(apps[0].URL)
	waitFor(t, "R-1 provisioned", 15*time.Second, func() bool {
		return strings.Contains(e.slackText("chat.postMessage"), "✅ R-1 MS-001 provisioned (org ")
	})
	time.Sleep(ttl) // every access token expires
	before := countTokens(e.sandbox)
	errs := concurrently(apps, 4, func(a *App) error {
		_, err := a.worker.Customers.FindCustomer(context.Background(), "MS-001", "")
		return err
	})
	for _, err := range errs {
		t.Error(err)
	}
	got := countTokens(e.sandbox)
	if got.refused != 0 {
		t.Fatalf("the token endpoint refused %d refreshes (a refresh token used twice); %+v", got.refused, got)
	}
	if n := got.issued - before.issued; n != len(apps) {
		t.Errorf("%d refreshes after the tokens expired, want one per instance (%d)", n, len(apps))
	}
	assertNewestStored(t, e.rdb, e.prefix, got.issued)
	if got := e.sandbox.Stats().Creates; got != 1 {
		t.Errorf("sandbox creates = %d, want 1", got)
	}
}
