package bot

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers"
	"github.com/onboardbot/onboardbot/handlers/chat"
)

// The console shows modals as forms: title, then each input with its label,
// block id, current value and hint. `/submit k=v …` fills the open form by
// block id (keys of later steps: console_submit.go) and submits it as a
// view_submission through the same Router Slack's payloads reach; the answer
// is printed as Slack would show it: inline errors under their fields, the
// next step, or the form closing. One form is open at a time, like the one
// modal window of a Slack client.

// consoleForm is the open form and what was typed into it so far: after
// inline errors Slack keeps the typed values, so the console does too.
type consoleForm struct {
	mu    sync.Mutex
	seq   int
	id    string
	view  *slack.ModalViewRequest
	typed map[string]string
	// later are keys of a /submit that belong to a later step of the form
	// (console_submit.go), in the order they were typed.
	later []formKey
}

var _ handlers.Views = (*Console)(nil)

// OpenView opens v as the console's form and prints it. The console has no
// triggers to expire, so triggerID is ignored.
func (c *Console) OpenView(_ context.Context, _ string, v slack.ModalViewRequest) (string, error) {
	c.form.mu.Lock()
	c.form.seq++
	id := "V" + strconv.Itoa(c.form.seq)
	c.form.id, c.form.view, c.form.typed, c.form.later = id, &v, map[string]string{}, nil
	c.form.mu.Unlock()
	c.printForm(&v, nil)
	return id, nil
}

// UpdateView replaces the open form when it is viewID.
func (c *Console) UpdateView(_ context.Context, viewID, _ string, v slack.ModalViewRequest) error {
	c.form.mu.Lock()
	if c.form.view == nil || c.form.id != viewID {
		c.form.mu.Unlock()
		return errors.New("console: view " + viewID + " is not open")
	}
	c.form.view, c.form.typed = &v, map[string]string{}
	c.form.mu.Unlock()
	c.printForm(&v, nil)
	return nil
}

func (c *Console) closeForm(id string) {
	c.form.mu.Lock()
	defer c.form.mu.Unlock()
	if c.form.id == id {
		c.form.view, c.form.typed, c.form.later = nil, nil, nil
	}
}

// formState builds view.state.values as Slack sends them: per block id, per
// action id, shaped by the element (text value, selected option(s)).
func formState(inputs []*slack.InputBlock, typed map[string]string) map[string]map[string]slack.BlockAction {
	values := map[string]map[string]slack.BlockAction{}
	for _, in := range inputs {
		v, ok := typed[in.BlockID]
		if !ok {
			v = initialValue(in)
		}
		actionID, a := "", slack.BlockAction{BlockID: in.BlockID}
		switch el := in.Element.(type) {
		case *slack.PlainTextInputBlockElement:
			actionID, a.Type, a.Value = el.ActionID, slack.ActionType(el.Type), v
		case *slack.NumberInputBlockElement:
			actionID, a.Type, a.Value = el.ActionID, slack.ActionType(el.Type), v
		case *slack.SelectBlockElement:
			actionID, a.Type = el.ActionID, slack.ActionType(el.Type)
			if v != "" {
				a.SelectedOption = slack.OptionBlockObject{Value: v}
			}
		case *slack.MultiSelectBlockElement:
			actionID, a.Type = el.ActionID, slack.ActionType(el.Type)
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					a.SelectedOptions = append(a.SelectedOptions, slack.OptionBlockObject{Value: p})
				}
			}
		case *slack.CheckboxGroupsBlockElement:
			actionID, a.Type = el.ActionID, slack.ActionType(el.Type)
			if v != "" && !strings.EqualFold(v, "no") {
				a.SelectedOptions = []slack.OptionBlockObject{{Value: v}}
			}
		case *slack.FileInputBlockElement:
			// `/submit rows_file=@users.csv`: the console's stand-in for an
			// upload is a local path, which its DownloadFile reads.
			actionID, a.Type = el.ActionID, slack.ActionType(el.Type)
			if path := strings.TrimPrefix(v, "@"); path != "" {
				a.Files = []slack.File{{Name: filepath.Base(path), URLPrivateDownload: path}}
			}
		default:
			continue
		}
		a.ActionID = actionID
		values[in.BlockID] = map[string]slack.BlockAction{actionID: a}
	}
	return values
}

// initialValue is what an input shows before anything is typed.
func initialValue(in *slack.InputBlock) string {
	switch el := in.Element.(type) {
	case *slack.PlainTextInputBlockElement:
		return el.InitialValue
	case *slack.NumberInputBlockElement:
		return el.InitialValue
	case *slack.SelectBlockElement:
		if el.InitialOption != nil {
			return el.InitialOption.Value
		}
	case *slack.MultiSelectBlockElement:
		vals := make([]string, 0, len(el.InitialOptions))
		for _, o := range el.InitialOptions {
			vals = append(vals, o.Value)
		}
		return strings.Join(vals, ",")
	case *slack.CheckboxGroupsBlockElement:
		if len(el.InitialOptions) > 0 {
			return el.InitialOptions[0].Value
		}
	}
	return ""
}

func formInputs(v *slack.ModalViewRequest) []*slack.InputBlock {
	var out []*slack.InputBlock
	for _, b := range v.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			out = append(out, in)
		}
	}
	return out
}

func blockIDs(inputs []*slack.InputBlock) []string {
	out := make([]string, len(inputs))
	for i, in := range inputs {
		out[i] = in.BlockID
	}
	return out
}

// printForm prints a view as a form, with what was typed into it.
func (c *Console) printForm(v *slack.ModalViewRequest, typed map[string]string) {
	var b strings.Builder
	for _, blk := range v.Blocks.BlockSet {
		in, ok := blk.(*slack.InputBlock)
		if !ok {
			text, _ := renderBlocks(chat.Message{Blocks: []slack.Block{blk}})
			b.WriteString(text)
			continue
		}
		value, ok := typed[in.BlockID]
		if !ok {
			value = initialValue(in)
		}
		if value == "" {
			value = "–"
		}
		opt := ""
		if in.Optional {
			opt = " (optional)"
		}
		fmt.Fprintf(&b, "  %s [%s]%s: %s\n", textOf(in.Label), in.BlockID, opt, value)
		if in.Hint != nil {
			fmt.Fprintf(&b, "      %s\n", textOf(in.Hint))
		}
		if choices := staticChoices(in); choices != "" {
			fmt.Fprintf(&b, "      one of: %s\n", choices)
		}
	}
	if v.Submit != nil {
		fmt.Fprintf(&b, "[%s] with /submit key=value …\n", textOf(v.Submit))
	}
	c.printf("── form: %s ──\n%s", textOf(v.Title), b.String())
}

// staticChoices lists a static menu's values (short menus only).
func staticChoices(in *slack.InputBlock) string {
	var opts []*slack.OptionBlockObject
	switch el := in.Element.(type) {
	case *slack.SelectBlockElement:
		opts = el.Options
	case *slack.MultiSelectBlockElement:
		opts = el.Options
	case *slack.CheckboxGroupsBlockElement:
		opts = el.Options
	}
	if len(opts) == 0 || len(opts) > 20 {
		return ""
	}
	vals := make([]string, len(opts))
	for i, o := range opts {
		vals[i] = o.Value
	}
	return strings.Join(vals, ", ")
}

// printErrors prints response_action errors under their fields.
func (c *Console) printErrors(inputs []*slack.InputBlock, errs map[string]string) {
	var b strings.Builder
	b.WriteString("⛔ the form has errors:\n")
	for _, in := range inputs {
		if msg, ok := errs[in.BlockID]; ok {
			fmt.Fprintf(&b, "  %s [%s]: %s\n", textOf(in.Label), in.BlockID, msg)
		}
	}
	for k, msg := range errs {
		if !slices.ContainsFunc(inputs, func(in *slack.InputBlock) bool { return in.BlockID == k }) {
			fmt.Fprintf(&b, "  [%s]: %s\n", k, msg) // Slack would refuse it: not an input block
		}
	}
	c.printf("%s", b.String())
}

// DownloadFile reads a "file" of the console's form: a local path.
func (c *Console) DownloadFile(_ context.Context, f slack.File, limit int64) ([]byte, error) {
	return readLimited(f.URLPrivateDownload, limit)
}
