// Package handlers is what onboardbot does: the command grammar, one file per
// flow (customer, approval, ...), the Block Kit built next to each flow, and
// the permission rule. Transports in bot/ decode Slack's payloads and call the
// Router; handlers answer within Slack's 3 seconds and push slow work to the
// job stream or a background goroutine.
package handlers

import (
	"context"

	"github.com/slack-go/slack"
)

// Reply is what a transport sends back on the ack path. For a slash command
// it is an ephemeral message (nil: empty 200). For a view_submission it is a
// response_action (nil: empty body, which closes the view).
type Reply struct {
	Text   string
	Blocks []slack.Block
	// Static marks an answer that is the same on every call (help): a
	// transport may keep its encoding.
	Static bool
	// View is set for view_submission answers (errors, update, push, clear).
	View *slack.ViewSubmissionResponse

	// release lets the reports this answer must precede go (reportgate.go);
	// called once the answer is out.
	release func()
}

// Router is the single entry point of every transport.
type Router interface {
	Command(ctx context.Context, cmd slack.SlashCommand) *Reply
	Interaction(ctx context.Context, cb *slack.InteractionCallback) *Reply
}

// Message is an outgoing chat message. Outcome, when set, is the one fixed
// outcome line of CONTRACT.md §4 ("✅ R-1 MS-001 provisioned (org …)"):
// the console prints it; Slack transports ignore it.
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
