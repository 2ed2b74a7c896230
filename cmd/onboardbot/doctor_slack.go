package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/onboardbot/onboardbot/config"
)

// Doctor calls Slack's Web API itself rather than through bot.SlackAPI: it
// needs the answers' headers (X-OAuth-Scopes, Date), which slack-go drops,
// and it must not retry or wait the way the bot does.

const (
	slackAuthCheck  = "Slack auth.test"
	slackScopeCheck = "Slack scopes"
	slackGroupCheck = "Slack APPROVER_GROUP"
	// maxChannelPages bounds the search of a #name channel (1,000 a page).
	maxChannelPages = 50
	// maxSlackBody bounds what doctor reads of one Slack answer.
	maxSlackBody = 8 << 20
)

// reinstallFix is the fix for a scope the token lacks: Slack grants an
// installed app new scopes only when it is installed again.
const reinstallFix = "update the app from the manifest (`onboardbot manifest`, app settings → App Manifest), then reinstall it to the workspace (Install App → Reinstall) so the token gets the new scopes"

// slackError is a Web API answer with ok=false.
type slackError struct {
	method, code, needed string
}

func (e *slackError) Error() string {
	if e.needed != "" {
		return fmt.Sprintf("slack %s: %s (needs %s)", e.method, e.code, e.needed)
	}
	return fmt.Sprintf("slack %s: %s", e.method, e.code)
}

// slackCode is the Web API error code in err, "" when err is not one.
func slackCode(err error) string {
	var se *slackError
	if errors.As(err, &se) {
		return se.code
	}
	return ""
}

type slackProbe struct {
	d     *doctor
	base  string // ends in "/"
	token string
}

// call POSTs params to method and decodes the answer into out.
func (p *slackProbe) call(ctx context.Context, method string, params url.Values, out any) (http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, doctorCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+method, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, fmt.Errorf("slack %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+p.token)
	sent := p.d.deps.now()
	resp, err := p.d.deps.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("slack %s: %w", method, err)
	}
	defer resp.Body.Close()
	p.d.observeDate("Slack", resp.Header, sent, p.d.deps.now())
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return resp.Header, fmt.Errorf("slack %s: rate limited (Retry-After %s s); run doctor again in a minute", method, resp.Header.Get("Retry-After"))
	case resp.StatusCode != http.StatusOK:
		return resp.Header, fmt.Errorf("slack %s: HTTP %s", method, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSlackBody))
	if err != nil {
		return resp.Header, fmt.Errorf("slack %s: read answer: %w", method, err)
	}
	var status struct {
		OK     bool   `json:"ok"`
		Error  string `json:"error"`
		Needed string `json:"needed"`
	}
	if err := json.Unmarshal(body, &status); err != nil {
		return resp.Header, fmt.Errorf("slack %s: the answer is not JSON (is SLACK_API_URL Slack's Web API?)", method)
	}
	if !status.OK {
		return resp.Header, &slackError{method: method, code: status.Error, needed: status.Needed}
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return resp.Header, fmt.Errorf("slack %s: decode answer: %w", method, err)
		}
	}
	return resp.Header, nil
}

// slackChecks names the Slack checks after auth.test, for skipping them.
func (d *doctor) slackChecks() []string {
	names := []string{slackScopeCheck, "Slack APPROVAL_CHANNEL"}
	if d.cfg.DigestChannel != d.cfg.ApprovalChannel {
		names = append(names, "Slack DIGEST_CHANNEL")
	}
	return append(names, "Slack APPROVERS", "Slack ADMINS", slackGroupCheck)
}

func (d *doctor) checkSlack(ctx context.Context) {
	if d.cfg.Mode == config.ModeConsole {
		why := "console mode (no Slack token is set); set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) to check Slack"
		d.skipAll(why, append([]string{slackAuthCheck}, d.slackChecks()...)...)
		d.clockSkip["Slack"] = "console mode: no Slack to compare with"
		return
	}
	p := &slackProbe{d: d, base: d.cfg.SlackAPIURL, token: d.cfg.SlackBotToken.Value()}
	var auth struct {
		UserID string `json:"user_id"`
		User   string `json:"user"`
		Team   string `json:"team"`
		TeamID string `json:"team_id"`
		BotID  string `json:"bot_id"`
	}
	h, err := p.call(ctx, "auth.test", nil, &auth)
	if err == nil && auth.BotID == "" {
		d.add(failed(slackAuthCheck, fmt.Sprintf("SLACK_BOT_TOKEN belongs to %s, not to a bot", auth.UserID),
			"set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) on the app's OAuth & Permissions page"))
		d.skipAll("needs a bot token", d.slackChecks()...)
		return
	}
	if err != nil {
		d.add(failed(slackAuthCheck, err.Error(), slackAuthFix(err)))
		d.skipAll("needs a bot token that Slack accepts", d.slackChecks()...)
		return
	}
	d.add(passed(slackAuthCheck, fmt.Sprintf("bot token accepted (bot user %s @%s, workspace %s %s)", auth.UserID, auth.User, auth.TeamID, auth.Team)))
	d.checkScopes(h)
	d.checkChannel(ctx, p, "APPROVAL_CHANNEL", d.cfg.ApprovalChannel)
	if d.cfg.DigestChannel != d.cfg.ApprovalChannel {
		d.checkChannel(ctx, p, "DIGEST_CHANNEL", d.cfg.DigestChannel)
	}
	d.checkUsers(ctx, p, "APPROVERS", d.cfg.Approvers)
	d.checkUsers(ctx, p, "ADMINS", d.cfg.Admins)
	d.checkGroup(ctx, p)
}

func slackAuthFix(err error) string {
	switch slackCode(err) {
	case "":
		return "check SLACK_API_URL and that this machine reaches Slack over HTTPS (proxy, firewall, DNS)"
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		return "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) on the app's OAuth & Permissions page; reinstall the app if it was uninstalled or the token revoked"
	default:
		return "see Slack's auth.test documentation for this error; check SLACK_BOT_TOKEN"
	}
}

// checkScopes compares the token's scopes, which Slack sends with every
// answer in X-OAuth-Scopes, with the manifest's bot scopes.
func (d *doctor) checkScopes(h http.Header) {
	raw := h.Get("X-OAuth-Scopes")
	if raw == "" {
		d.add(failed(slackScopeCheck, "Slack's answer carried no X-OAuth-Scopes header, so the token's scopes are unknown",
			"check that SLACK_API_URL is Slack's Web API (https://slack.com/api/) and SLACK_BOT_TOKEN a bot token"))
		return
	}
	have := map[string]bool{}
	for _, s := range strings.Split(raw, ",") {
		have[strings.TrimSpace(s)] = true
	}
	var missing []string
	for _, s := range botScopes {
		if !have[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		d.add(failed(slackScopeCheck, "the bot token lacks "+strings.Join(missing, ", "), reinstallFix))
		return
	}
	d.add(passed(slackScopeCheck, fmt.Sprintf("the bot token has all %d scopes of the manifest", len(botScopes))))
}

// slackChannel is the part of conversations.info's channel doctor reads.
type slackChannel struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	IsIM       bool   `json:"is_im"`
	IsMember   bool   `json:"is_member"`
	IsArchived bool   `json:"is_archived"`
}

// checkChannel checks that the bot can post to channel: it exists, is not
// archived, and the bot is a member. A #name is resolved first, which, like
// the membership of a private channel, needs channels:read and groups:read.
func (d *doctor) checkChannel(ctx context.Context, p *slackProbe, variable, channel string) {
	name := "Slack " + variable
	inviteFix := fmt.Sprintf("invite the bot in the channel (/invite @onboardbot), or set %s to a channel it is in", variable)
	id := channel
	if strings.HasPrefix(channel, "#") {
		found, err := p.findChannel(ctx, channel[1:])
		switch {
		case err != nil:
			d.add(failed(name, fmt.Sprintf("cannot resolve %s: %v", channel, err), channelFix(err, variable)))
			return
		case found == "":
			d.add(failed(name, fmt.Sprintf("no channel %s that the bot can see (a private channel is visible only to its members)", channel),
				inviteFix+"; or create the channel, or give its id (C…)"))
			return
		}
		id = found
	}
	var info struct {
		Channel slackChannel `json:"channel"`
	}
	_, err := p.call(ctx, "conversations.info", url.Values{"channel": {id}}, &info)
	if err != nil {
		d.add(failed(name, fmt.Sprintf("%s: %v", channel, err), channelFix(err, variable)))
		return
	}
	ch := info.Channel
	shown := channel
	if ch.Name != "" && !strings.HasPrefix(channel, "#") {
		shown = fmt.Sprintf("%s (#%s)", channel, ch.Name)
	} else if strings.HasPrefix(channel, "#") {
		shown = fmt.Sprintf("%s (%s)", channel, id)
	}
	switch {
	case ch.IsArchived:
		d.add(failed(name, shown+" is archived", "unarchive it, or set "+variable+" to another channel"))
	case !ch.IsMember && !ch.IsIM:
		d.add(failed(name, "the bot is not a member of "+shown, inviteFix))
	default:
		d.add(passed(name, "the bot is a member of "+shown))
	}
}

func channelFix(err error, variable string) string {
	switch slackCode(err) {
	case "missing_scope":
		return "give the token channels:read and groups:read: update the app from the manifest and reinstall it (see Slack scopes)"
	case "channel_not_found":
		return fmt.Sprintf("set %s to the channel's id (channel details → About → Channel ID); for a private channel, invite the bot first (/invite @onboardbot)", variable)
	default:
		return "check " + variable + " and run doctor again"
	}
}

// findChannel returns the id of the channel named name that the bot can
// see, "" when there is none (it reads at most maxChannelPages pages).
func (p *slackProbe) findChannel(ctx context.Context, name string) (string, error) {
	cursor := ""
	for range maxChannelPages {
		params := url.Values{"types": {"public_channel,private_channel"}, "exclude_archived": {"true"}, "limit": {"1000"}}
		if cursor != "" {
			params.Set("cursor", cursor)
		}
		var page struct {
			Channels []slackChannel `json:"channels"`
			Meta     struct {
				NextCursor string `json:"next_cursor"`
			} `json:"response_metadata"`
		}
		if _, err := p.call(ctx, "conversations.list", params, &page); err != nil {
			return "", err
		}
		for _, ch := range page.Channels {
			if ch.Name == name {
				return ch.ID, nil
			}
		}
		if cursor = page.Meta.NextCursor; cursor == "" {
			return "", nil
		}
	}
	return "", fmt.Errorf("not among the first %d channels; give its id (C…) instead", maxChannelPages*1000)
}

// checkUsers resolves every id of a user list with users.info: each must
// be an active person of the workspace.
func (d *doctor) checkUsers(ctx context.Context, p *slackProbe, variable string, ids []string) {
	name := "Slack " + variable
	if len(ids) == 0 {
		d.add(skipped(name, variable+" is not set"))
		return
	}
	var bad []string
	var unique []string
	for _, id := range ids {
		if !slices.Contains(unique, id) {
			unique = append(unique, id)
		}
	}
	for _, id := range unique {
		var u struct {
			User struct {
				Deleted bool `json:"deleted"`
				IsBot   bool `json:"is_bot"`
			} `json:"user"`
		}
		_, err := p.call(ctx, "users.info", url.Values{"user": {id}}, &u)
		switch {
		case slackCode(err) == "user_not_found":
			bad = append(bad, id+" (no such user)")
		case err != nil:
			fix := "check " + variable + " and run doctor again"
			if slackCode(err) == "missing_scope" {
				fix = reinstallFix
			}
			d.add(failed(name, fmt.Sprintf("%s: %v", id, err), fix))
			return
		case u.User.Deleted:
			bad = append(bad, id+" (deactivated)")
		case u.User.IsBot:
			bad = append(bad, id+" (a bot, not a person)")
		}
	}
	if len(bad) > 0 {
		d.add(failed(name, "not a person of this workspace: "+strings.Join(bad, ", "),
			"correct "+variable+": a member's id is in their Slack profile → ⋮ → Copy member ID (U…)"))
		return
	}
	what := "resolve to people"
	if len(unique) == 1 {
		what = "resolves to a person"
	}
	d.add(passed(name, fmt.Sprintf("%s %s of the workspace", strings.Join(unique, ", "), what)))
}

// checkGroup resolves APPROVER_GROUP with usergroups.users.list.
func (d *doctor) checkGroup(ctx context.Context, p *slackProbe) {
	group := d.cfg.ApproverGroup
	if group == "" {
		d.add(skipped(slackGroupCheck, "APPROVER_GROUP is not set"))
		return
	}
	var g struct {
		Users []string `json:"users"`
	}
	_, err := p.call(ctx, "usergroups.users.list", url.Values{"usergroup": {group}}, &g)
	switch {
	case slackCode(err) == "no_such_subteam":
		d.add(failed(slackGroupCheck, "no user group "+group+" in this workspace",
			"set APPROVER_GROUP to the group's id (S…): in Slack, People → User groups → the group → ⋮ → Copy group ID"))
	case slackCode(err) == "missing_scope":
		d.add(failed(slackGroupCheck, err.Error(), reinstallFix))
	case err != nil:
		d.add(failed(slackGroupCheck, err.Error(), "check APPROVER_GROUP and run doctor again"))
	case len(g.Users) == 0 && len(d.cfg.Approvers) == 0:
		d.add(failed(slackGroupCheck, group+" has no members and APPROVERS is empty: nobody could approve",
			"add the approvers to the group, or list them in APPROVERS"))
	default:
		d.add(passed(slackGroupCheck, fmt.Sprintf("%s resolves (%d members)", group, len(g.Users))))
	}
}
