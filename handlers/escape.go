package handlers

import (
	"regexp"
	"strings"
)

// esc makes a value safe to interpolate into mrkdwn or a message's
// top-level text: Slack reads `<…>` there as a mention (`<!channel>`,
// `<@U1>`, `<#C1>`, `<!subteam^S1>`) or a link with any label
// (`<https://evil.example|verify here>`), and `&` starts an entity. Every
// value a person typed (names, addresses, rows, reasons, order references,
// template fields, draft answers) and every Webex message, which may echo
// one, goes through esc where it meets mrkdwn, so no value can mention
// anyone, or show a link, in any message, view, App Home or digest. The
// bot's own mentions (mention) and links are built around escaped values.
//
// Never escape what Slack shows literally: plain_text objects, input
// initial values, option and button values, private_metadata (Edit &
// resubmit must get "Müller & Söhne" back, not "&amp;").
func esc(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return escaper.Replace(s)
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// plainText is mrkdwn as a person reads it, for the console's plain outcome
// lines: the bot's mentions as @user, entities decoded.
func plainText(mrkdwn string) string {
	return unescaper.Replace(mentionRE.ReplaceAllString(mrkdwn, "@$1"))
}

var (
	mentionRE = regexp.MustCompile(`<@([A-Za-z0-9._-]+)>`)
	unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")
)

// truncateMd is truncate for mrkdwn: a cut never leaves half an entity
// (`&am`) or half of the bot's own markup (`<@U12`) that Slack would show
// broken or read as the start of a link.
func truncateMd(s string, n int) string {
	t := truncate(s, n)
	if t == s {
		return s
	}
	body := strings.TrimSuffix(t, "…")
	if i := strings.LastIndexByte(body, '<'); i > strings.LastIndexByte(body, '>') {
		body = body[:i]
	}
	if i := strings.LastIndexByte(body, '&'); i >= 0 && !strings.Contains(body[i:], ";") && len(body)-i <= len("&amp") {
		body = body[:i]
	}
	return body + "…"
}
