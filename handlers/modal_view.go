package handlers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// Rendering of the forms' views: pure functions of a flow and a draft, so
// golden tests pin them and the limits test can run them on maximal input.

// formView renders step d.Step of f with d's answers pre-filled.
func formView(f *flow, d *store.Draft, steps []formStep, review []slack.Block) slack.ModalViewRequest {
	st := steps[d.Step]
	title := fmt.Sprintf("%s (%d/%d)", f.title, d.Step+1, len(steps))
	ctxText := fmt.Sprintf("Step %d of %d: *%s* · draft %s", d.Step+1, len(steps), st.title, d.Ref())
	if len(steps) == 1 {
		title, ctxText = f.title, "Draft "+d.Ref()
	}
	if d.LinkedFrom != 0 {
		ctxText += " · edit of " + request.FormatID(d.LinkedFrom)
	}
	blocks := []slack.Block{slack.NewContextBlock("", chat.Md(ctxText))}
	if st.intro != "" {
		blocks = append(blocks, slack.NewSectionBlock(chat.Md(chat.TruncateMd(st.intro, maxSectionChars)), nil, nil))
	}
	for _, fl := range st.fields {
		blocks = append(blocks, inputBlock(fl, d.Answers[fl.key]))
	}
	blocks = append(blocks, review...)
	submit := "Next"
	switch {
	case st.review:
		submit = "Submit"
	case d.Step == len(steps)-1:
		submit = "Submit"
	case steps[len(steps)-1].review && d.Step == len(steps)-2:
		submit = "Review"
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      fmt.Sprintf("%s%s:%d", callbackPrefix, f.kind, d.Step),
		Title:           chat.Plain(chat.Truncate(title, maxViewTitle)),
		Submit:          chat.Plain(submit),
		Close:           chat.Plain("Cancel"),
		PrivateMetadata: d.Ref(),
		Blocks:          slack.Blocks{BlockSet: capBlocks(blocks)},
	}
}

// messageView ends a flow with a message and no submit button. d, when set,
// keeps the draft id in the view for a later look.
func messageView(f *flow, d *store.Draft, text string) *slack.ModalViewRequest {
	v := &slack.ModalViewRequest{
		Type:       slack.VTModal,
		CallbackID: callbackPrefix + string(f.kind) + ":" + stepDone,
		Title:      chat.Plain(chat.Truncate(f.title, maxViewTitle)),
		Close:      chat.Plain("Close"),
		Blocks:     slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(chat.Md(chat.TruncateMd(text, maxSectionChars)), nil, nil)}},
	}
	if d != nil {
		v.PrivateMetadata = d.Ref()
	}
	return v
}

// capBlocks keeps a view within Slack's 100 blocks, saying what was cut.
func capBlocks(blocks []slack.Block) []slack.Block {
	if len(blocks) <= maxModalBlocks {
		return blocks
	}
	cut := len(blocks) - (maxModalBlocks - 1)
	return append(blocks[:maxModalBlocks-1:maxModalBlocks-1],
		slack.NewContextBlock("", chat.Md(fmt.Sprintf("… and %d more", cut))))
}

// maxInitialValue is Slack's limit on a text input's value.
const maxInitialValue = 3000

// inputBlock renders one field with its current answer.
func inputBlock(fl field, value string) *slack.InputBlock {
	var hint *slack.TextBlockObject
	if fl.hint != "" {
		hint = chat.Plain(chat.Truncate(fl.hint, 2000))
	}
	var el slack.BlockElement
	switch fl.kind {
	case fieldSelect, fieldExternal:
		typ := slack.OptTypeStatic
		if fl.kind == fieldExternal {
			typ = slack.OptTypeExternal
		}
		s := slack.NewOptionsSelectBlockElement(typ, chat.Plain("Choose…"), actionValue, optionObjects(fl.options)...)
		if fl.kind == fieldExternal {
			zero := 0
			s.MinQueryLength = &zero
		}
		if fl.key == "country" {
			value = strings.ToUpper(value) // as the menu lists it; the parser takes any case
		}
		if value != "" {
			s.InitialOption = slack.NewOptionBlockObject(value, chat.Plain(chat.Truncate(optionLabel(fl, value), 75)), nil)
		}
		el = s
	case fieldMultiSelect:
		s := slack.NewOptionsMultiSelectBlockElement(slack.MultiOptTypeStatic, chat.Plain("Choose…"), actionValue, optionObjects(fl.options)...)
		for _, v := range splitList(value) {
			if slices.ContainsFunc(fl.options, func(o option) bool { return o.value == v }) {
				s.InitialOptions = append(s.InitialOptions, slack.NewOptionBlockObject(v, chat.Plain(optionLabel(fl, v)), nil))
			}
		}
		el = s
	case fieldYes:
		c := slack.NewCheckboxGroupsBlockElement(actionValue, optionObjects(fl.options)...)
		if value != "" && len(fl.options) > 0 {
			c.InitialOptions = optionObjects(fl.options[:1])
		}
		el = c
	case fieldFile:
		el = slack.NewFileInputBlockElement(actionValue).WithFileTypes("csv", "txt").WithMaxFiles(1)
	case fieldNumber:
		n := slack.NewNumberInputBlockElement(chat.Plain("e.g. 50"), actionValue, false).WithMinValue("1").WithMaxValue(strconv.Itoa(input.MaxLimit))
		if value != "" {
			n.InitialValue = value
		}
		el = n
	default:
		t := slack.NewPlainTextInputBlockElement(nil, actionValue)
		if utf8.RuneCountInString(value) > maxInitialValue {
			// Cutting it would submit a silently shortened value: ask for
			// it again instead (a large batch from an Edit & resubmit).
			hint = chat.Plain(chat.Truncate(fl.hint+" The previous value is too long to show here: paste it again.", 2000))
		} else if value != "" {
			t.InitialValue = value
		}
		t.Multiline = fl.kind == fieldMultiline
		if fl.maxLen > 0 {
			t.MaxLength = fl.maxLen
		}
		el = t
	}
	b := slack.NewInputBlock(fl.key, chat.Plain(fl.label), hint, el)
	b.Optional = fl.optional
	return b
}

func optionObjects(opts []option) []*slack.OptionBlockObject {
	out := make([]*slack.OptionBlockObject, 0, len(opts))
	for _, o := range opts {
		out = append(out, slack.NewOptionBlockObject(o.value, chat.Plain(chat.Truncate(o.label, 75)), nil))
	}
	return out
}

// optionLabel is the text shown for value: its static option's label, or a
// label for external options, which the view cannot list.
func optionLabel(fl field, value string) string {
	for _, o := range fl.options {
		if o.value == value {
			return o.label
		}
	}
	if fl.key == "country" {
		if name := request.CountryName(value); name != "" {
			return value + " · " + name
		}
	}
	return value
}

// splitList reads a comma list, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkView reports what breaks Slack's modal limits; nil when none.
func checkView(v slack.ModalViewRequest) []string {
	var probs []string
	if v.Title != nil && utf8.RuneCountInString(v.Title.Text) > maxViewTitle {
		probs = append(probs, fmt.Sprintf("title %q longer than %d", v.Title.Text, maxViewTitle))
	}
	for _, t := range []*slack.TextBlockObject{v.Submit, v.Close} {
		if t != nil && utf8.RuneCountInString(t.Text) > maxViewTitle {
			probs = append(probs, fmt.Sprintf("button %q longer than %d", t.Text, maxViewTitle))
		}
	}
	if n := len(v.Blocks.BlockSet); n > maxModalBlocks {
		probs = append(probs, fmt.Sprintf("%d blocks, at most %d", n, maxModalBlocks))
	}
	if n := len(v.PrivateMetadata); n > maxMetadata {
		probs = append(probs, fmt.Sprintf("private_metadata of %d chars, at most %d", n, maxMetadata))
	}
	for _, b := range v.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if !ok {
			continue
		}
		// Slack refuses a view whose initial value breaks its input's limit.
		if t, ok := in.Element.(*slack.PlainTextInputBlockElement); ok {
			n := utf8.RuneCountInString(t.InitialValue)
			if n > maxInitialValue || (t.MaxLength > 0 && n > t.MaxLength) {
				probs = append(probs, fmt.Sprintf("%s: initial value of %d characters, at most %d", in.BlockID, n, t.MaxLength))
			}
		}
	}
	if n := len(v.CallbackID); n > 255 {
		probs = append(probs, fmt.Sprintf("callback_id of %d chars, at most 255", n))
	}
	return probs
}
