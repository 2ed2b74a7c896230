package bot

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers"
)

// ConsoleUsers are the people of the console workspace.
var ConsoleUsers = []string{"alice", "bob", "carol", "dave"}

// Console drives the real router from a terminal or a pipe and prints every
// message the bot sends (CONTRACT.md §4). It is the bot's Messenger in
// console mode.
type Console struct {
	Router handlers.Router
	In     io.Reader
	Out    io.Writer
	// Piped: after each line wait until the work it started has settled.
	Piped bool
	// Busy reports unsettled work (handlers.Handler.Busy).
	Busy func() bool
	// SandboxStats returns the embedded sandbox's one-line counters.
	SandboxStats func() string
	Sandbox      bool
	// SettleTimeout bounds the wait after a piped line (default 60 s).
	SettleTimeout time.Duration

	mu       sync.Mutex
	user     string
	seq      int
	buttons  []consoleButton
	outcomes map[string]bool

	// form is the open modal, shown as a form (console_modal.go).
	form consoleForm
}

type consoleButton struct {
	text, actionID, blockID, value string
	channel, ts                    string
}

var _ handlers.Messenger = (*Console)(nil)

const consoleChannel = "console"

// Run reads lines until end of input, /quit or ctx ends.
func (c *Console) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.user == "" {
		c.user = "alice"
	}
	if c.outcomes == nil {
		c.outcomes = map[string]bool{}
	}
	c.mu.Unlock()
	if !c.Piped {
		c.printf("onboardbot console — you are @alice. Type /onboard-customer help, /as NAME, /click TEXT, /submit k=v … (fills the open form), /sandbox, /quit.\n")
	}
	sc := bufio.NewScanner(c.In)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if c.Piped {
			c.printf("> %s\n", line)
		}
		if quit := c.handleLine(ctx, line); quit {
			return nil
		}
		if c.Piped {
			c.settle(ctx)
		}
	}
	return sc.Err()
}

// settle waits until the line's work has settled, at most SettleTimeout.
func (c *Console) settle(ctx context.Context) {
	if c.Busy == nil {
		return
	}
	limit := c.SettleTimeout
	if limit <= 0 {
		limit = 60 * time.Second
	}
	deadline := time.Now().Add(limit)
	for c.Busy() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *Console) handleLine(ctx context.Context, line string) (quit bool) {
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch cmd {
	case "/quit", "/exit":
		return true
	case "/as":
		if !slices.Contains(ConsoleUsers, rest) {
			c.printf("console users are %s\n", strings.Join(ConsoleUsers, ", "))
			return false
		}
		c.mu.Lock()
		c.user = rest
		c.mu.Unlock()
		if !c.Piped {
			c.printf("you are @%s\n", rest)
		}
	case "/click":
		c.click(ctx, rest)
	case "/home":
		c.home(ctx)
	case "/submit":
		c.submit(ctx, rest)
	case "/sandbox":
		if c.SandboxStats == nil {
			c.printf("no embedded sandbox: Webex is real\n")
			return false
		}
		c.printf("%s\n", c.SandboxStats())
	case "/onboard-customer":
		rest, err := expandFileArgs(rest)
		if err != nil {
			c.printf("⛔ %s\n", err)
			return false
		}
		reply := c.Router.Command(ctx, slack.SlashCommand{
			Command: "/onboard-customer", Text: rest, UserID: c.currentUser(), UserName: c.currentUser(),
			ChannelID: consoleChannel, TriggerID: "console-trigger",
		})
		c.printReply(reply)
	default:
		c.printf("unknown console command %q: use /onboard-customer …, /as NAME, /click TEXT, /submit k=v …, /sandbox, /quit\n", cmd)
	}
	return false
}

// fileArgRE finds rows=@FILE: in the console a CSV file stands in for
// Slack's file upload.
var fileArgRE = regexp.MustCompile(`(^|\s)rows=@(\S+)`)

// maxRowsFile bounds a rows file like Slack bounds an upload we accept.
const maxRowsFile = 4 << 20

// expandFileArgs replaces rows=@FILE with the file's content as a quoted
// value of the command grammar.
func expandFileArgs(text string) (string, error) {
	var readErr error
	out := fileArgRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := fileArgRE.FindStringSubmatch(m)
		b, err := readLimited(sub[2], maxRowsFile)
		if err != nil {
			readErr = fmt.Errorf("rows: %w", err)
			return m
		}
		quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(string(b))
		return sub[1] + `rows="` + quoted + `"`
	})
	return out, readErr
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, limit>>20)
	}
	return b, nil
}

func (c *Console) currentUser() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

// click presses the most recent button whose text contains text.
func (c *Console) click(ctx context.Context, text string) {
	c.mu.Lock()
	var found *consoleButton
	for _, match := range []func(string) bool{
		func(s string) bool { return strings.Contains(s, text) },
		func(s string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(text)) },
	} {
		for i := len(c.buttons) - 1; i >= 0 && found == nil; i-- {
			if match(c.buttons[i].text) {
				b := c.buttons[i]
				found = &b
			}
		}
		if found != nil {
			break
		}
	}
	user := c.user
	c.mu.Unlock()
	if found == nil || text == "" {
		c.printf("no button matches %q\n", text)
		return
	}
	cb := &slack.InteractionCallback{
		Type:    slack.InteractionTypeBlockActions,
		User:    slack.User{ID: user, Name: user},
		Channel: slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: found.channel}}},
		Message: slack.Message{Msg: slack.Msg{Timestamp: found.ts}},
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{
			ActionID: found.actionID, BlockID: found.blockID, Value: found.value, Text: *plainText(found.text),
		}}},
	}
	c.printReply(c.Router.Interaction(ctx, cb))
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func (c *Console) printReply(r *handlers.Reply) {
	if r == nil || (r.Text == "" && len(r.Blocks) == 0) {
		return
	}
	c.printMessage("(only you)", "", handlers.Message{Text: r.Text, Blocks: r.Blocks})
}

// Post prints a channel message and returns its console timestamp.
func (c *Console) Post(_ context.Context, channel string, m handlers.Message) (string, error) {
	ts := c.nextTS()
	c.printMessage(channel, ts, m)
	return ts, nil
}

// PostThread prints a thread reply; an outcome line is printed once, alone.
func (c *Console) PostThread(_ context.Context, channel, threadTS string, m handlers.Message) error {
	c.printMessage(channel, c.nextTS(), m)
	return nil
}

// Update prints the new version of a message; its old buttons are gone.
func (c *Console) Update(_ context.Context, channel, ts string, m handlers.Message) error {
	c.mu.Lock()
	c.buttons = slices.DeleteFunc(c.buttons, func(b consoleButton) bool { return b.channel == channel && b.ts == ts })
	c.mu.Unlock()
	c.printMessage(channel+" (updated)", ts, m)
	return nil
}

// Ephemeral prints a message only one user sees.
func (c *Console) Ephemeral(_ context.Context, _ string, user string, m handlers.Message) error {
	audience := "(only @" + user + ")"
	if user == c.currentUser() {
		audience = "(only you)"
	}
	c.printMessage(audience, "", m)
	return nil
}

// DM prints a direct message.
func (c *Console) DM(_ context.Context, user string, m handlers.Message) error {
	c.printMessage("@"+user, c.nextTS(), m)
	return nil
}

func (c *Console) nextTS() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return "1700000000." + strconv.Itoa(100000+c.seq)
}

// printMessage prints one message block headed by its audience. Buttons are
// remembered for /click under the message's channel and ts.
func (c *Console) printMessage(audience, ts string, m handlers.Message) {
	channel := strings.TrimSuffix(audience, " (updated)")
	header := audience
	if c.Sandbox {
		header += " · SANDBOX"
	}
	var body string
	if m.Outcome != "" {
		c.mu.Lock()
		seen := c.outcomes[m.Outcome]
		if c.outcomes == nil {
			c.outcomes = map[string]bool{}
		}
		c.outcomes[m.Outcome] = true
		c.mu.Unlock()
		if seen {
			return
		}
		body = m.Outcome
	} else {
		var buttons []consoleButton
		body, buttons = renderBlocks(m)
		c.mu.Lock()
		for _, b := range buttons {
			b.channel, b.ts = channel, ts
			c.buttons = append(c.buttons, b)
		}
		c.mu.Unlock()
	}
	c.printf("── %s ──\n%s\n", header, strings.TrimRight(body, "\n"))
}

func (c *Console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.Out, format, args...)
}

var mentionRE = regexp.MustCompile(`<@([^>|]+)(\|[^>]*)?>`)

// renderBlocks turns Block Kit into terminal text.
func renderBlocks(m handlers.Message) (string, []consoleButton) {
	if len(m.Blocks) == 0 {
		return decodeMrkdwn(m.Text), nil
	}
	var b strings.Builder
	var buttons []consoleButton
	for _, blk := range m.Blocks {
		switch v := blk.(type) {
		case *slack.HeaderBlock:
			b.WriteString(textOf(v.Text) + "\n")
		case *slack.SectionBlock:
			if v.Text != nil {
				b.WriteString(textOf(v.Text) + "\n")
			}
			for _, f := range v.Fields {
				label, value, _ := strings.Cut(textOf(f), "\n")
				b.WriteString("  " + strings.Trim(label, "*") + ": " + value + "\n")
			}
		case *slack.ContextBlock:
			var parts []string
			for _, e := range v.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					parts = append(parts, textOf(t))
				}
			}
			b.WriteString(strings.Join(parts, " ") + "\n")
		case *slack.ActionBlock:
			var labels []string
			for _, e := range v.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					labels = append(labels, "["+textOf(btn.Text)+"]")
					buttons = append(buttons, consoleButton{text: textOf(btn.Text), actionID: btn.ActionID, blockID: v.BlockID, value: btn.Value})
				}
			}
			b.WriteString(strings.Join(labels, " ") + "\n")
		case *slack.DividerBlock:
			b.WriteString("────\n")
		}
	}
	return b.String(), buttons
}

// decodeMrkdwn prints mrkdwn as a person reads it in Slack: mentions as
// @user, bold as plain text, and the entities the bot escapes values with
// (&amp; &lt; &gt;) decoded, so a value prints as it was typed.
func decodeMrkdwn(s string) string {
	s = boldRE.ReplaceAllString(mentionRE.ReplaceAllString(s, "@$1"), "$1")
	return entityDecoder.Replace(s)
}

var entityDecoder = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// boldRE matches mrkdwn bold (*text*), which a terminal shows as plain text.
var boldRE = regexp.MustCompile(`\*([^*\n]+)\*`)

// textOf is a text object as Slack shows it: plain_text literally, mrkdwn
// decoded.
func textOf(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	if t.Type == slack.MarkdownType {
		return decodeMrkdwn(t.Text)
	}
	return t.Text
}
