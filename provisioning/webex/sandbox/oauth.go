package sandbox

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"time"
)

// refreshTokenTTL is what Webex announces for integration refresh tokens (90 days).
const refreshTokenTTL = 90 * 24 * time.Hour

type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	TokenType             string `json:"token_type"`
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	TrackingID  string `json:"trackingId"`
}

// accessToken is POST /v1/access_token with grant_type=refresh_token. Refresh tokens
// rotate: the one used stops working, so a replica that reuses a stale one gets
// invalid_grant, as with Webex. Client credentials may come as form fields or Basic auth.
func (s *Sandbox) accessToken(c *call) *response {
	oerr := func(status int, code, desc string) *response {
		return c.json(status, oauthError{Error: code, Description: desc, TrackingID: c.tracking})
	}
	mt, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return oerr(http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
	}
	form, err := url.ParseQuery(string(c.body))
	if err != nil {
		return oerr(http.StatusBadRequest, "invalid_request", "the form does not parse")
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := c.r.BasicAuth(); ok {
		id, secret = u, p
	}
	if id == "" || secret == "" {
		return oerr(http.StatusUnauthorized, "invalid_client", "client_id and client_secret are required")
	}
	if (s.opts.ClientID != "" && id != s.opts.ClientID) || (s.opts.ClientSecret != "" && secret != s.opts.ClientSecret) {
		return oerr(http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
	}
	if gt := form.Get("grant_type"); gt != "refresh_token" {
		return oerr(http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported; use refresh_token", gt))
	}
	rt := form.Get("refresh_token")
	if rt == "" || !s.refresh[rt] {
		return oerr(http.StatusBadRequest, "invalid_grant", "the refresh token is unknown, expired or already used")
	}
	delete(s.refresh, rt)
	s.stats.TokensIssued++
	n := s.stats.TokensIssued
	access := fmt.Sprintf("sandbox-access-%d-%s", n, c.tracking)
	next := fmt.Sprintf("sandbox-refresh-%d-%s", n, c.tracking)
	s.refresh[next] = true
	s.issued[access] = c.now.Add(s.opts.TokenTTL)
	return c.json(http.StatusOK, tokenResponse{
		AccessToken:           access,
		ExpiresIn:             int64(s.opts.TokenTTL / time.Second),
		RefreshToken:          next,
		RefreshTokenExpiresIn: int64(refreshTokenTTL / time.Second),
		TokenType:             "Bearer",
	})
}
