package bot

import (
	"context"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/slack-go/slack"
)

// HomeViewer is implemented by a Router that builds App Home tabs.
type HomeViewer interface {
	HomeView(ctx context.Context, user string) (slack.HomeTabViewRequest, error)
}

// home prints the current user's App Home (/home). Buttons that Slack shows
// beside an item become console buttons, so /click works on them.
func (c *Console) home(ctx context.Context) {
	hv, ok := c.Router.(HomeViewer)
	if !ok {
		c.printf("no App Home in this build\n")
		return
	}
	v, err := hv.HomeView(ctx, c.currentUser())
	if err != nil {
		c.printf("⛔ App Home is not available right now\n")
		return
	}
	c.printMessage("App Home", c.nextTS(), chat.Message{Text: "App Home", Blocks: accessoriesAsActions(v.Blocks.BlockSet)})
}

// accessoriesAsActions moves each section's accessory button into an
// actions block after it: the console renders and clicks actions blocks.
func accessoriesAsActions(blocks []slack.Block) []slack.Block {
	out := make([]slack.Block, 0, len(blocks))
	for _, b := range blocks {
		s, ok := b.(*slack.SectionBlock)
		if !ok || s.Accessory == nil || s.Accessory.ButtonElement == nil {
			out = append(out, b)
			continue
		}
		plainSection := *s
		plainSection.Accessory = nil
		out = append(out, &plainSection, slack.NewActionBlock(s.BlockID, s.Accessory.ButtonElement))
	}
	return out
}
