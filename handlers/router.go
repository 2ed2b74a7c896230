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

// answered releases what r's sender holds back until r is out (nil-safe).
func (r *Reply) answered() {
	if r != nil && r.release != nil {
		r.release()
	}
}
