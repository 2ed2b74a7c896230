package bot

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers"
	"github.com/onboardbot/onboardbot/handlers/chat"
)

// busyRouter posts a message from another goroutine while it answers, the
// way the worker reports while a click or command is being answered.
type busyRouter struct{ c *Console }

func (r busyRouter) Command(ctx context.Context, cmd slack.SlashCommand) *handlers.Reply {
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = r.c.Post(ctx, "#approvals", chat.Message{Text: "✅ R-1 done", Outcome: "✅ R-1 done"})
	})
	wg.Wait()
	return &handlers.Reply{Text: "👍 R-1 approved"}
}

func (busyRouter) Interaction(context.Context, *slack.InteractionCallback) *handlers.Reply {
	return nil
}

// A line's answer is printed before what the bot sent while answering it.
func TestConsoleAnswerBeforeMessagesSentMeanwhile(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	c := &Console{In: strings.NewReader("/onboard-customer approve R-1\n/onboard-customer approve R-1\n"), Out: &out, Piped: true}
	c.Router = busyRouter{c}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if a, o := strings.Index(text, "👍 R-1 approved"), strings.Index(text, "✅ R-1 done"); a < 0 || o < a {
		t.Fatalf("the message sent meanwhile came before the answer:\n%s", text)
	}
	if strings.Count(text, "✅ R-1 done") != 1 || strings.Count(text, "👍 R-1 approved") != 2 {
		t.Fatalf("want the answer twice and the outcome once:\n%s", text)
	}
}

// The context ending (Ctrl-C, SIGTERM) ends a console waiting for a line
// at once, without an error; so it does when ctx ended before.
func TestConsoleEndsWithItsContext(t *testing.T) {
	t.Parallel()
	for _, piped := range []bool{false, true} {
		stdin, typing := io.Pipe()
		defer typing.Close()
		var out bytes.Buffer
		c := &Console{Router: busyRouter{}, In: stdin, Out: &out, Piped: piped}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("piped %v: Run() = %v, want nil", piped, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("piped %v: Run did not end within 30s of its context", piped)
		}
	}
}
