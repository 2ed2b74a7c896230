package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/store"
)

const (
	webexTokenCheck      = "Webex token"
	webexCustomersCheck  = "Webex customers"
	webexSubPartnerCheck = "Webex sub-partner"
	// maxWebexErrorBody bounds what doctor reads of a Webex error answer.
	maxWebexErrorBody = 64 << 10
)

// refreshTokenKey is where the store keeps the rotated Webex refresh token
// (store.RefreshTokens); a test keeps the two equal.
func refreshTokenKey(prefix string) string { return prefix + "webex:refresh-token" }

// webexTokens returns the bot's token source, or why none may be used.
//
// The OAuth refresh is doctor's one write, and it is safe for running
// replicas because doctor refreshes exactly as they do: through the same
// store (the same REDIS_URL and REDIS_PREFIX), under the same Redis lock,
// starting from the stored refresh token when there is one, and saving the
// rotated one before the lock is released. A replica that refreshes later
// finds the new refresh token in Redis; one whose access token Webex then
// refuses refreshes once after the 401 the same way. The lock is taken with a
// Redis write before anything is sent to Webex, so a Redis that cannot be
// written stops the refresh before a refresh token is spent. Without a Redis
// that answered, doctor does not refresh: the rotated token would be lost
// with this process, and the bot left with a spent WEBEX_REFRESH_TOKEN.
func (d *doctor) webexTokens() (webex.TokenSource, string) {
	switch {
	case d.cfg.WebexToken != "":
		return webex.StaticToken(d.cfg.WebexToken.Value()), ""
	case d.cfg.RedisURL == "":
		return nil, "REDIS_URL is not set: the OAuth refresh rotates the refresh token, and without a shared Redis the new one would be lost with doctor, leaving the bot a spent WEBEX_REFRESH_TOKEN"
	case d.rdb == nil:
		return nil, "Redis did not answer: the OAuth refresh must save the rotated refresh token there"
	}
	return webex.NewOAuthTokens(webex.OAuthConfig{
		TokenURL: d.cfg.WebexTokenURL, ClientID: d.cfg.WebexClientID, ClientSecret: d.cfg.WebexClientSecret.Value(),
		Store: store.New(d.rdb, d.cfg.RedisPrefix).RefreshTokens(), HTTPClient: d.deps.hc,
	}, d.cfg.WebexRefreshToken.Value()), ""
}

func (d *doctor) checkWebex(ctx context.Context) {
	all := []string{webexTokenCheck, webexCustomersCheck, webexSubPartnerCheck}
	if d.cfg.WebexSandbox {
		d.skipAll("WEBEX_SANDBOX is on: the bot uses its embedded Webex sandbox; set WEBEX_TOKEN or WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET and WEBEX_REFRESH_TOKEN to go live", all...)
		d.clockSkip["Webex"] = "WEBEX_SANDBOX is on: no Webex to compare with"
		return
	}
	tokens, why := d.webexTokens()
	if why != "" {
		d.skipAll(why, all...)
		return
	}
	oauth := d.cfg.WebexToken == ""
	tctx, cancel := context.WithTimeout(ctx, doctorCallTimeout)
	tok, err := tokens.Token(tctx)
	cancel()
	if err != nil {
		// The OAuth client's errors carry no token, client id or secret.
		d.add(failed(webexTokenCheck, "the OAuth refresh failed: "+err.Error(), d.refreshFix()))
		d.skipAll("needs a Webex access token", webexCustomersCheck, webexSubPartnerCheck)
		return
	}
	d.out.addSecret(tok)

	list := d.listCustomers(ctx, tok, "")
	switch {
	case list.err != nil:
		d.add(failed(webexTokenCheck, "cannot reach Webex: "+list.err.Error(),
			"check WEBEX_API_URL and that this machine reaches Webex over HTTPS (proxy, firewall, DNS)"))
		d.skipAll("needs an answer from Webex", webexCustomersCheck, webexSubPartnerCheck)
		return
	case list.status == http.StatusUnauthorized && oauth:
		d.add(failed(webexTokenCheck, "Webex refused the access token the OAuth refresh just issued: "+list.describe(),
			"check that WEBEX_TOKEN_URL belongs to the same Webex as WEBEX_API_URL"))
		d.skipAll("needs an accepted Webex token", webexCustomersCheck, webexSubPartnerCheck)
		return
	case list.status == http.StatusUnauthorized:
		d.add(failed(webexTokenCheck, "Webex refused WEBEX_TOKEN: "+list.describe(),
			"set WEBEX_TOKEN to a current access token of the partner's wholesale admin (personal developer tokens last 12 hours), or use the OAuth refresh flow (WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET, WEBEX_REFRESH_TOKEN) instead"))
		d.skipAll("needs an accepted Webex token", webexCustomersCheck, webexSubPartnerCheck)
		return
	case oauth:
		d.add(passed(webexTokenCheck, fmt.Sprintf("the OAuth refresh was accepted; the rotated refresh token is saved in Redis (%s)", refreshTokenKey(d.cfg.RedisPrefix))))
	default:
		d.add(passed(webexTokenCheck, "Webex accepts WEBEX_TOKEN"))
	}
	if list.status == http.StatusOK {
		d.add(passed(webexCustomersCheck, "wholesale customers can be listed (GET /wholesale/customers?max=1)"))
	} else {
		d.add(failed(webexCustomersCheck, "GET /wholesale/customers?max=1: "+list.describe(), webexListFix(list.status)))
	}
	d.checkSubPartner(ctx, tok)
}

// refreshFix is what to do when the OAuth refresh fails. A refresh token
// stored by the bot wins over WEBEX_REFRESH_TOKEN, so a new one takes effect
// only once the stored one is deleted.
func (d *doctor) refreshFix() string {
	return fmt.Sprintf("check WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET; if the refresh token is refused (invalid_grant), authorize the integration again, set the new WEBEX_REFRESH_TOKEN and delete the stored one (redis-cli DEL %s) so it is used", refreshTokenKey(d.cfg.RedisPrefix))
}

func webexListFix(status int) string {
	switch status {
	case http.StatusForbidden:
		return "the token's user needs the partner's wholesale administration role and the token the spark-admin:wholesale_customers_read scope (authorize the integration again with it)"
	case http.StatusNotFound:
		return "check WEBEX_API_URL (https://webexapis.com/v1)"
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return "Webex is busy or down: run doctor again in a few minutes"
	default:
		return "check WEBEX_API_URL and the token; quote the trackingId to Cisco if it persists"
	}
}

func (d *doctor) checkSubPartner(ctx context.Context, tok string) {
	org := d.cfg.WebexSubPartnerOrgID
	if org == "" {
		d.add(skipped(webexSubPartnerCheck, "WEBEX_SUBPARTNER_ORG_ID is not set"))
		return
	}
	list := d.listCustomers(ctx, tok, org)
	switch {
	case list.err != nil:
		d.add(failed(webexSubPartnerCheck, "cannot reach Webex: "+list.err.Error(), "run doctor again; check the network to Webex"))
	case list.status == http.StatusOK:
		d.add(passed(webexSubPartnerCheck, "customers can be listed on behalf of sub-partner "+org))
	default:
		d.add(failed(webexSubPartnerCheck, fmt.Sprintf("GET /wholesale/customers?onBehalfOfSubPartnerOrgId=%s: %s", org, list.describe()),
			"set WEBEX_SUBPARTNER_ORG_ID to the sub-partner's organisation id, one that the token's partner manages, or unset it"))
	}
}

// webexAnswer is the outcome of one list call.
type webexAnswer struct {
	err        error // no answer at all
	status     int
	message    string
	trackingID string
}

func (a webexAnswer) describe() string {
	s := fmt.Sprintf("HTTP %d", a.status)
	if a.message != "" {
		s += " " + a.message
	}
	if a.trackingID != "" {
		s += " (trackingId " + a.trackingID + ")"
	}
	return s
}

// listCustomers asks Webex for one wholesale customer, on behalf of
// subPartner when set, and reads the Date header for the clock check.
func (d *doctor) listCustomers(ctx context.Context, tok, subPartner string) webexAnswer {
	q := url.Values{"max": {"1"}}
	if subPartner != "" {
		q.Set("onBehalfOfSubPartnerOrgId", subPartner)
	}
	ctx, cancel := context.WithTimeout(ctx, doctorCallTimeout)
	defer cancel()
	u := strings.TrimRight(d.cfg.WebexAPIURL, "/") + "/wholesale/customers?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return webexAnswer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	sent := d.deps.now()
	resp, err := d.deps.hc.Do(req)
	if err != nil {
		return webexAnswer{err: err}
	}
	defer resp.Body.Close()
	d.observeDate("Webex", resp.Header, sent, d.deps.now())
	a := webexAnswer{status: resp.StatusCode, trackingID: resp.Header.Get("Trackingid")}
	if resp.StatusCode == http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebexErrorBody))
		return a
	}
	var body struct {
		Message    string `json:"message"`
		TrackingID string `json:"trackingId"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebexErrorBody))
	if json.Unmarshal(raw, &body) == nil {
		a.message = oneLine(body.Message, 200)
		if body.TrackingID != "" {
			a.trackingID = body.TrackingID
		}
	}
	return a
}

// oneLine keeps an error message from a server on one bounded line.
func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
