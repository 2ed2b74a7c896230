// Package chat is what every message and view of the bot is built from:
// the outgoing Message and the Messenger that sends it, mrkdwn and
// plain_text objects, the one escape of typed values (Esc), cuts that keep
// Slack's limits, and the small words (ages, counts, mentions) they share.
package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Esc makes a value safe to interpolate into mrkdwn or a message's
// top-level text: Slack reads `<…>` there as a Mention (`<!channel>`,
// `<@U1>`, `<#C1>`, `<!subteam^S1>`) or a link with any label
// (`<https://evil.example|verify here>`), and `&` starts an entity. Every
// value a person typed (names, addresses, rows, reasons, order references,
// template fields, draft answers) and every Webex message, which may echo
// one, goes through Esc where it meets mrkdwn, so no value can Mention
// anyone, or show a link, in any message, view, App Home or digest. The
// bot's own mentions (Mention) and links are built around escaped values.
//
// Never escape what Slack shows literally: plain_text objects, input
// initial values, option and button values, private_metadata (Edit &
// resubmit must get "Müller & Söhne" back, not "&amp;").
func Esc(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return escaper.Replace(s)
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Unmrkdwn is mrkdwn as a person reads it, for the console's Plain outcome
// lines: the bot's mentions as @user, entities decoded.
func Unmrkdwn(mrkdwn string) string {
	return unescaper.Replace(mentionRE.ReplaceAllString(mrkdwn, "@$1"))
}

var (
	mentionRE = regexp.MustCompile(`<@([A-Za-z0-9._-]+)>`)
	unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")
)

// TruncateMd is Truncate for mrkdwn: a cut never leaves half an entity
// (`&am`) or half of the bot's own markup (`<@U12`) that Slack would show
// broken or read as the start of a link.
func TruncateMd(s string, n int) string {
	t := Truncate(s, n)
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

// Pick is one or many by n: the verb that goes with request.Count.
func Pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Fields lays label/value pairs out as section fields, at most 10
// per section (Slack's limit). Labels are the bot's own words; values are
// data, shown literally (escaped).
func Fields(pairs [][2]string) []slack.Block {
	var blocks []slack.Block
	for len(pairs) > 0 {
		n := min(len(pairs), 10)
		fields := make([]*slack.TextBlockObject, 0, n)
		for _, p := range pairs[:n] {
			fields = append(fields, Md(fmt.Sprintf("*%s*\n%s", p[0], Esc(Truncate(p[1], 1900)))))
		}
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
		pairs = pairs[n:]
	}
	return blocks
}

// Age renders a hold's length as people say it: 40s → "<1m", 2h10m → "2h".
func Age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

func Plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func Md(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func OrDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// Truncate cuts s to at most n code points, marking the cut.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func Mention(user string) string { return "<@" + user + ">" }

// MaxSectionText keeps a section's text below Slack's 3,000 characters,
// with room for the cut mark.
const MaxSectionText = 2900

// MaxMessageChars keeps a message below where Slack starts to fail.
const MaxMessageChars = 12000

// Message is an outgoing chat message. Outcome, when set, is the one fixed
// outcome line ("✅ R-1 MS-001 provisioned (org …)": icon, request id,
// subject, what happened), which scripts match: the console prints it;
// Slack transports ignore it.
type Message struct {
	Text    string
	Blocks  []slack.Block
	Outcome string
}

// Messenger sends messages to Slack (or the console). Post returns the new
// message's ref so it can be updated or replied to in a thread.
type Messenger interface {
	Post(ctx context.Context, channel string, m Message) (ts string, err error)
	PostThread(ctx context.Context, channel, threadTS string, m Message) error
	Update(ctx context.Context, channel, ts string, m Message) error
	Ephemeral(ctx context.Context, channel, user string, m Message) error
	DM(ctx context.Context, user string, m Message) error
}

// TrackingSuffix names Webex's trackingId after a message, for support.
func TrackingSuffix(id string) string {
	if id == "" {
		return ""
	}
	return " (trackingId " + id + ")"
}

// NewRef is a correlation reference, 8 hex digits: shown to the person
// whose action failed and logged with the error, so that support finds one
// from the other without the message carrying the error's internals.
func NewRef() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
