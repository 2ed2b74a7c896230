package handlers

import (
	"context"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// TestMissingTemplateSaysEither: a customer without template and without
// provisioning id is told it needs one of them, not that "template" is
// missing.
func TestMissingTemplateSaysEither(t *testing.T) {
	t.Parallel()
	f := newFormHarness(t, false)
	rep := f.h.Command(context.Background(), slack.SlashCommand{UserID: "alice", ChannelID: "C1",
		Text: `new name=X email=it@x.example external-id=X-1 country=DE package=webex_calling supported-location=yes address=A city=B`})
	if !strings.Contains(rep.Text, "missing: template or provisioning-id") {
		t.Fatalf("reply %q does not name both keys", rep.Text)
	}
}
