package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/onboardbot/onboardbot/config"
	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/provisioning/worker"
)

// webexCustomers builds the Webex client: the embedded sandbox when
// WEBEX_SANDBOX=1, else the real API with a static or OAuth token.
func (a *App) webexCustomers(ctx context.Context, opts Options) (*worker.WebexCustomers, error) {
	cfg := a.cfg
	wc := webex.Config{BaseURL: cfg.WebexAPIURL, SubPartnerOrgID: cfg.WebexSubPartnerOrgID,
		Logger:     a.log.WithField("component", "webex"),
		Observe:    a.app.webexCall,
		SharedGate: a.store.RetryGate(), // Retry-After waits shared by every replica
		Rate:       float64(cfg.WebexRate),
	}
	if opts.WebexTimeout > 0 {
		wc.HTTPClient = &http.Client{Timeout: opts.WebexTimeout}
	}
	switch {
	case cfg.WebexSandbox:
		sopts, err := sandbox.OptionsFromEnv(opts.Getenv)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		if cfg.Mode == config.ModeConsole && opts.Getenv("SANDBOX_DELAY") == "" {
			sopts.Delay = time.Second
		}
		a.sandbox = sandbox.New(sopts)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("sandbox listener: %w", err)
		}
		srv := &http.Server{Handler: a.sandbox, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		a.closers = append(a.closers, func() error { a.sandbox.Close(); return srv.Close() })
		wc.BaseURL = "http://" + ln.Addr().String() + "/v1"
		tok := sopts.Token
		if tok == "" {
			tok = "sandbox-token"
		}
		wc.Tokens = webex.StaticToken(tok)
	case cfg.WebexToken != "":
		wc.Tokens = webex.StaticToken(cfg.WebexToken.Value())
	default:
		wc.Tokens = webex.NewOAuthTokens(webex.OAuthConfig{
			TokenURL: cfg.WebexTokenURL, ClientID: cfg.WebexClientID, ClientSecret: cfg.WebexClientSecret.Value(),
			Store: a.store.RefreshTokens(),
		}, cfg.WebexRefreshToken.Value())
	}
	return &worker.WebexCustomers{Client: webex.New(wc)}, nil
}
