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
	"github.com/onboardbot/onboardbot/handlers/chat"
)

// ConsoleUsers are the people of the console workspace.
var ConsoleUsers = []string{"alice", "bob", "carol", "dave"}

// Console drives the real router from a terminal or a pipe and prints every
// message the bot sends, headed by its audience (#approvals, @alice, (only
// you)); an outcome line is printed once in the whole output. It is the
// bot's Messenger in console mode.
type Console struct {
	Router handlers.Router
	In     io.Reader
	Out    io.Writer
	// Piped: after each line wait until the work it started has settled.
	Piped bool
	// Busy reports unsettled work (handlers.Handler.Busy).
	Busy func() bool
	// Moving reports requests that rest now but move on by themselves
	// (handlers.Handler.Moving): the piped console waits for them at end
	// of input, so a script's last outcome is printed before it exits.
	Moving func(ctx context.Context) bool
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
	// replying counts Router calls being answered; held are the messages
	// sent meanwhile, printed after the answer (answer).
	replying int
	held     []string

	// form is the open modal, shown as a form (console_modal.go).
	form consoleForm
}

type consoleButton struct {
	text, actionID, blockID, value string
	channel, ts                    string
}

var _ chat.Messenger = (*Console)(nil)

const consoleChannel = "console"

// consoleCommands is what the console understands besides its help.
const consoleCommands = "/onboard-customer … (the slash command), /as NAME, /click TEXT, /submit k=v … (fills the open form), /home, /sandbox, /quit"

// Run reads lines until end of input or /quit. ctx ending (Ctrl-C or
// SIGTERM) ends it at once, like /quit: that is how a console is left, not
// an error. A line being read when ctx ends is dropped.
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
		c.printf("onboardbot console — you are @alice. Type help (what you may run), %s.\n", consoleCommands)
	}
	lines, readErr := c.readLines(ctx)
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			if c.Piped {
				c.settleAll(ctx)
			}
			return <-readErr
		}
		if ctx.Err() != nil {
			return nil
		}
		line = strings.TrimSpace(line)
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
}

// readLines reads In on a goroutine of its own, so that Run can end while
// a read blocks (a terminal waiting for Enter): that goroutine then ends
// with the process, or when In is closed. lines is closed at end of input;
// readErr then holds the read error (nil at end of input).
func (c *Console) readLines(ctx context.Context) (lines <-chan string, readErr <-chan error) {
	out := make(chan string)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(c.In)
		sc.Buffer(make([]byte, 64*1024), 4<<20)
		for sc.Scan() {
			select {
			case out <- sc.Text():
			case <-ctx.Done():
				errc <- nil
				return
			}
		}
		errc <- sc.Err()
	}()
	return out, errc
}

// settleAll waits at end of input until nothing is busy and no request
// moves on by itself any more (a compliance hold that ends, a request
// queued behind another one), at most SettleTimeout.
func (c *Console) settleAll(ctx context.Context) {
	if c.Busy == nil || c.Moving == nil {
		return
	}
	deadline := time.Now().Add(c.settleTimeout())
	// Quiet twice in a row: a request between two states (its document
	// written, its state index not yet) is seen in neither for a moment.
	for quiet := 0; quiet < 2 && time.Now().Before(deadline) && ctx.Err() == nil; {
		if c.Busy() || c.Moving(ctx) {
			quiet = 0
		} else {
			quiet++
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settle waits until the line's work has settled, at most SettleTimeout.
func (c *Console) settle(ctx context.Context) {
	if c.Busy == nil {
		return
	}
	deadline := time.Now().Add(c.settleTimeout())
	for c.Busy() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *Console) settleTimeout() time.Duration {
	if c.SettleTimeout > 0 {
		return c.SettleTimeout
	}
	return 60 * time.Second
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
	case "help", "/help", "?":
		// What `/onboard-customer help` answers: the commands the current
		// user may run.
		c.command(ctx, "help")
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
		c.command(ctx, rest)
	default:
		c.printf("unknown console command %q: use help, %s\n", cmd, consoleCommands)
	}
	return false
}

// command runs `/onboard-customer text` as the current user.
func (c *Console) command(ctx context.Context, text string) {
	c.answer(func() {
		c.printReply(c.Router.Command(ctx, slack.SlashCommand{
			Command: "/onboard-customer", Text: text, UserID: c.currentUser(), UserName: c.currentUser(),
			ChannelID: consoleChannel, TriggerID: "console-trigger",
		}))
	})
}

// answer runs one Router call and prints its answer (f does both). Messages
// the bot sends meanwhile, from its background work or the worker, are
// printed after the answer: it answers the line, and what the line set off
// follows it.
func (c *Console) answer(f func()) {
	c.mu.Lock()
	c.replying++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.replying--; c.replying > 0 {
			return
		}
		for _, block := range c.held {
			io.WriteString(c.Out, block)
		}
		c.held = nil
	}()
	f()
}

// fileArgRE finds rows=@FILE and users=@FILE: in the console a CSV file
// stands in for Slack's file upload.
var fileArgRE = regexp.MustCompile(`(^|\s)(rows|users)=@(\S+)`)

// maxRowsFile bounds a rows file like Slack bounds an upload we accept.
const maxRowsFile = 4 << 20

// expandFileArgs replaces rows=@FILE (users=@FILE) with the file's content
// as a quoted value of the command grammar.
func expandFileArgs(text string) (string, error) {
	var readErr error
	out := fileArgRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := fileArgRE.FindStringSubmatch(m)
		b, err := readLimited(sub[3], maxRowsFile)
		if err != nil {
			readErr = fmt.Errorf("%s: %w", sub[2], err)
			return m
		}
		quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(string(b))
		return sub[1] + sub[2] + `="` + quoted + `"`
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
	c.answer(func() { c.printReply(c.Router.Interaction(ctx, cb)) })
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func (c *Console) printReply(r *handlers.Reply) {
	if r == nil || (r.Text == "" && len(r.Blocks) == 0) {
		return
	}
	c.show(true, "(only you)", "", chat.Message{Text: r.Text, Blocks: r.Blocks})
}

// Post prints a channel message and returns its console timestamp.
func (c *Console) Post(_ context.Context, channel string, m chat.Message) (string, error) {
	ts := c.nextTS()
	c.printMessage(channel, ts, m)
	return ts, nil
}

// PostThread prints a thread reply; an outcome line is printed once, alone.
func (c *Console) PostThread(_ context.Context, channel, threadTS string, m chat.Message) error {
	c.printMessage(channel, c.nextTS(), m)
	return nil
}

// Update prints the new version of a message; its old buttons are gone.
func (c *Console) Update(_ context.Context, channel, ts string, m chat.Message) error {
	c.mu.Lock()
	c.buttons = slices.DeleteFunc(c.buttons, func(b consoleButton) bool { return b.channel == channel && b.ts == ts })
	c.mu.Unlock()
	c.printMessage(channel+" (updated)", ts, m)
	return nil
}

// Ephemeral prints a message only one user sees.
func (c *Console) Ephemeral(_ context.Context, _ string, user string, m chat.Message) error {
	audience := "(only @" + user + ")"
	if user == c.currentUser() {
		audience = "(only you)"
	}
	c.printMessage(audience, "", m)
	return nil
}

// DM prints a direct message.
func (c *Console) DM(_ context.Context, user string, m chat.Message) error {
	c.printMessage("@"+user, c.nextTS(), m)
	return nil
}

func (c *Console) nextTS() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return "1700000000." + strconv.Itoa(100000+c.seq)
}

// printMessage prints one message the bot sends, headed by its audience;
// while a Router call is being answered it waits for the answer.
func (c *Console) printMessage(audience, ts string, m chat.Message) {
	c.show(false, audience, ts, m)
}

// show prints one message block headed by its audience, at once when it is
// the reply to a Router call. Buttons are remembered for /click under the
// message's channel and ts.
func (c *Console) show(reply bool, audience, ts string, m chat.Message) {
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
	block := fmt.Sprintf("── %s ──\n%s\n", header, strings.TrimRight(body, "\n"))
	c.mu.Lock()
	defer c.mu.Unlock()
	if !reply && c.replying > 0 {
		c.held = append(c.held, block)
		return
	}
	io.WriteString(c.Out, block)
}

func (c *Console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.Out, format, args...)
}
