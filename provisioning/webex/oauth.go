package webex

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// RefreshTokenStore keeps the newest refresh token where every replica sees
// it. Webex rotates refresh tokens and refuses a used one, so a replica that
// refreshes must persist the new token before another one refreshes.
type RefreshTokenStore interface {
	// LoadRefreshToken returns the stored token, "" when none is stored.
	LoadRefreshToken(ctx context.Context) (string, error)
	SaveRefreshToken(ctx context.Context, tok string) error
	// Lock serialises refreshes across replicas.
	Lock(ctx context.Context) (unlock func(), err error)
}

// OAuthConfig configures NewOAuthTokens.
type OAuthConfig struct {
	TokenURL     string // e.g. https://webexapis.com/v1/access_token
	ClientID     string
	ClientSecret string
	Store        RefreshTokenStore
	HTTPClient   *http.Client // default: timeout 30s
}

// expiryMargin refreshes an access token this long before Webex says it
// expires, so a call never starts with a token about to die. Short-lived
// tokens (a sandbox with --token-ttl) use a quarter of their lifetime
// instead, or every call would refresh.
const expiryMargin = time.Minute

// NewOAuthTokens returns a TokenSource that gets access tokens with the
// refresh-token grant. initialRefresh is used until the store holds one.
func NewOAuthTokens(cfg OAuthConfig, initialRefresh string) TokenSource {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	return &oauthTokens{
		cfg: cfg,
		hc:  hc,
		oc: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     oauth2.Endpoint{TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		refresh: initialRefresh,
		sem:     make(chan struct{}, 1),
		now:     time.Now,
	}
}

type oauthTokens struct {
	cfg OAuthConfig
	hc  *http.Client
	oc  oauth2.Config
	now func() time.Time

	// sem serialises refreshes in this process (a mutex that honours ctx);
	// the store's lock does the same across replicas.
	sem chan struct{}

	mu      sync.Mutex // guards the fields below
	access  string
	expiry  time.Time     // zero: unknown, trusted until a 401
	margin  time.Duration // refresh this long before expiry
	refresh string        // newest refresh token this process knows
	// unsaved is set when a rotated refresh token could not be persisted:
	// it is the only valid one, so it wins over the store until saved.
	unsaved bool
}

func (o *oauthTokens) current() (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	valid := o.access != "" && (o.expiry.IsZero() || o.now().Add(o.margin).Before(o.expiry))
	return o.access, valid
}

func (o *oauthTokens) Token(ctx context.Context) (string, error) {
	tok, valid := o.current()
	if valid {
		return tok, nil
	}
	return o.Refresh(ctx, tok)
}

func (o *oauthTokens) Refresh(ctx context.Context, stale string) (string, error) {
	select {
	case o.sem <- struct{}{}:
		defer func() { <-o.sem }()
	case <-ctx.Done():
		return "", fmt.Errorf("refresh access token: %w", ctx.Err())
	}
	// Another goroutine may have refreshed while we waited.
	if tok, valid := o.current(); valid && tok != stale {
		return tok, nil
	}
	if o.cfg.Store == nil {
		return "", errors.New("refresh access token: no refresh token store")
	}
	unlock, err := o.cfg.Store.Lock(ctx)
	if err != nil {
		return "", fmt.Errorf("refresh access token: lock: %w", o.scrub(err))
	}
	defer unlock()
	if tok, valid := o.current(); valid && tok != stale {
		return tok, nil
	}
	// Another replica may have rotated the refresh token: use the stored one.
	stored, err := o.cfg.Store.LoadRefreshToken(ctx)
	if err != nil {
		return "", fmt.Errorf("refresh access token: load refresh token: %w", o.scrub(err))
	}
	o.mu.Lock()
	rt := o.refresh
	if stored != "" && !o.unsaved {
		rt = stored
	}
	o.mu.Unlock()
	if rt == "" {
		return "", errors.New("refresh access token: no refresh token configured or stored")
	}

	hctx := context.WithValue(ctx, oauth2.HTTPClient, o.hc)
	t, err := o.oc.TokenSource(hctx, &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		return "", o.tokenError(err, rt)
	}
	if t.AccessToken == "" {
		return "", &APIError{Op: "refresh access token", Message: "token endpoint returned no access token"}
	}
	newRT := t.RefreshToken
	if newRT == "" {
		newRT = rt // not rotated this time
	}
	o.mu.Lock()
	o.access, o.expiry, o.refresh = t.AccessToken, t.Expiry, newRT
	o.margin = expiryMargin
	if !t.Expiry.IsZero() {
		o.margin = min(expiryMargin, t.Expiry.Sub(o.now())/4)
	}
	o.unsaved = newRT != stored
	o.mu.Unlock()
	if newRT != stored {
		if err := o.cfg.Store.SaveRefreshToken(ctx, newRT); err != nil {
			// We hold a good access token, and unsaved keeps the rotated
			// refresh token in use here; report the fault all the same,
			// since other replicas now hold a dead refresh token.
			return "", fmt.Errorf("refresh access token: save rotated refresh token: %w", o.scrub(err, newRT))
		}
		o.mu.Lock()
		if o.refresh == newRT {
			o.unsaved = false
		}
		o.mu.Unlock()
	}
	return t.AccessToken, nil
}

// tokenError turns an oauth2 failure into an APIError whose text carries no
// token, client id or secret. oauth2's own error quotes the response body.
func (o *oauthTokens) tokenError(err error, rt string) error {
	e := &APIError{Op: "refresh access token", Attempts: 1}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		var status int
		var header http.Header
		if re.Response != nil {
			status, header = re.Response.StatusCode, re.Response.Header
		}
		parsed := parseError(e.Op, status, header, re.Body)
		parsed.Attempts = 1
		if re.ErrorCode != "" {
			// OAuth errors: {"error": "invalid_grant", "error_description": ...}
			parsed.Message = clean(strings.TrimSpace(re.ErrorCode+" "+re.ErrorDescription), maxMessageRunes)
		}
		parsed.Message = o.scrubText(parsed.Message, rt)
		return parsed
	}
	e.Message = o.scrubText(err.Error(), rt)
	e.Retryable = transient(err)
	return e
}

// scrub wraps err so that its text carries no secret.
func (o *oauthTokens) scrub(err error, extra ...string) error {
	msg := o.scrubText(err.Error(), extra...)
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

func (o *oauthTokens) scrubText(s string, extra ...string) string {
	o.mu.Lock()
	secrets := []string{o.cfg.ClientSecret, o.access, o.refresh}
	o.mu.Unlock()
	for _, sec := range append(secrets, extra...) {
		s = redact(s, sec)
	}
	return s
}

// StaticToken is a TokenSource of one fixed token (a personal or service
// token from configuration). Refresh cannot help it: it returns an error, so
// a 401 is final.
func StaticToken(tok string) TokenSource { return staticToken(tok) }

type staticToken string

func (s staticToken) Token(context.Context) (string, error) {
	if s == "" {
		return "", errors.New("no Webex access token configured")
	}
	return string(s), nil
}

func (s staticToken) Refresh(_ context.Context, stale string) (string, error) {
	if stale != string(s) && s != "" {
		return string(s), nil
	}
	return "", errors.New("a static Webex access token cannot be refreshed")
}
