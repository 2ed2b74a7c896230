package handlers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// summary renders a request's approval message from its stored state: every
// value the approver approves, the precheck, the hash, and the buttons while
// it waits for approval.
func (h *Handler) summary(r *request.Request) chat.Message {
	// The header is plain_text (shown literally); the fallback text is not.
	title := fmt.Sprintf("%s request %s · %s", kindTitle(r.Kind), r.Ref(), r.Subject)
	blocks := []slack.Block{
		slack.NewHeaderBlock(chat.Plain(chat.Truncate(title, 150))),
	}
	blocks = append(blocks, kindFields(r)...)
	ctxText := fmt.Sprintf("Requested by %s · payload hash `%s`", chat.Mention(r.Requester), r.Hash)
	blocks = append(blocks,
		slack.NewContextBlock("", chat.Md(ctxText)),
		// Webex messages and row errors have no length bound: cut them to
		// what a section holds.
		slack.NewSectionBlock(chat.Md(chat.TruncateMd(precheckLine(r.Precheck), chat.MaxSectionText)), nil, nil),
		slack.NewSectionBlock(chat.Md(chat.TruncateMd(stateLine(r, h.now()), chat.MaxSectionText)), nil, nil),
	)
	if f := failureLines(r); f != "" {
		blocks = append(blocks, slack.NewSectionBlock(chat.Md(chat.TruncateMd("*Why rows failed:*"+f, chat.MaxSectionText)), nil, nil))
	}
	blocks = append(blocks, h.progressBlocks(r)...)
	var buttons []slack.BlockElement
	if r.State == request.StatePendingApproval {
		approve := slack.NewButtonBlockElement(actionApprove, r.Ref()+":"+r.Hash, chat.Plain("Approve"))
		approve.Style = slack.StylePrimary
		reject := slack.NewButtonBlockElement(actionReject, r.Ref(), chat.Plain("Reject"))
		reject.Style = slack.StyleDanger
		buttons = append(buttons, approve, reject)
		if r.Precheck.Status.Passing() {
			buttons = append(buttons, slack.NewButtonBlockElement(actionRecheck, r.Ref(), chat.Plain("Run the precheck again")))
		}
	}
	buttons = append(buttons, slack.NewButtonBlockElement(actionViewPayload, r.Ref(), chat.Plain("View payload")))
	buttons = append(buttons, resubmitButtons(r)...)
	if r.Kind == request.KindUsers {
		buttons = append(buttons, slack.NewButtonBlockElement(actionViewRows, r.Ref(), chat.Plain("View rows")))
		if r.State == request.StateWaiting && strings.Contains(r.Result.WaitReason, "consent") {
			buttons = append(buttons, slack.NewButtonBlockElement(chat.ActionResendConsent, r.Ref(), chat.Plain("Resend consent email")))
		}
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("actions:"+r.Ref(), buttons...))
	}
	return chat.Message{Text: chat.TruncateMd(chat.Esc(title)+": "+describeStateAt(r, h.now()), chat.MaxSectionText), Blocks: blocks}
}

func customerFields(c *request.CustomerSpec) []slack.Block {
	source := "provisioning id `" + c.ProvisioningID + "`"
	if c.Template != "" {
		source = fmt.Sprintf("template %s v%d (`%s`)", c.Template, c.TemplateVersion, c.ProvisioningID)
	}
	addr := []string{c.Address.Line1}
	if c.Address.Line2 != "" {
		addr = append(addr, c.Address.Line2)
	}
	addr = append(addr, strings.TrimSpace(c.Address.Zip+" "+c.Address.City))
	if c.Address.State != "" {
		addr = append(addr, c.Address.State)
	}
	addr = append(addr, c.Address.Country)
	pairs := [][2]string{
		{"Company", c.Name},
		{"Admin email", c.Email},
		{"External id", c.ExternalID},
		{"Country", c.Country},
		{"Packages", strings.Join(c.Packages, ", ") + " (primary " + c.PrimaryPackage() + ")"},
		{"Source", source},
		{"HQ address", strings.Join(addr, ", ")},
		{"Time zone · language", chat.OrDash(c.Timezone) + " · " + chat.OrDash(c.Language)},
	}
	if c.HasCalling() {
		loc := c.LocationName
		if c.ELIN != "" {
			loc += " (emergency id " + c.ELIN + ")"
		}
		pairs = append(pairs, [2]string{"Calling location", loc})
	}
	if len(c.Limits) > 0 {
		pairs = append(pairs, [2]string{"Ordered quantities", formatLimits(c.Limits)})
	}
	for _, p := range [][2]string{{"Existing org", c.OrgID}, {"Order", c.Order}, {"Sub-partner org", c.SubPartnerOrgID}} {
		if p[1] != "" {
			pairs = append(pairs, p)
		}
	}
	return append(chat.Fields(pairs), planFields(c.Steps)...)
}

// planFields are the later steps of an onboarding plan, each as its own
// request would show it, numbered in the order they run.
func planFields(p *request.PlanSteps) []slack.Block {
	var blocks []slack.Block
	for i, st := range p.List() {
		title := fmt.Sprintf("*Step %d of the plan, after the customer: %s*", i+2, stepTitle(st.Kind))
		blocks = append(blocks, slack.NewSectionBlock(chat.Md(title), nil, nil))
		switch spec := st.Spec.(type) {
		case *request.PSTNSpec:
			blocks = append(blocks, pstnFields(spec)...)
		case *request.NumbersSpec:
			blocks = append(blocks, numbersFields(spec)...)
		case *request.UsersSpec:
			blocks = append(blocks, usersFields(spec)...)
		}
	}
	return blocks
}

func stepTitle(k request.Kind) string {
	switch k {
	case request.KindPSTN:
		return "PSTN connection"
	case request.KindNumbers:
		return "numbers"
	}
	return string(k)
}

func formatLimits(l map[string]int) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, l[k])
	}
	return strings.Join(parts, ", ")
}

func precheckLine(p request.Precheck) string {
	switch p.Status {
	case request.PrecheckRunning:
		return "*Precheck:* ⏳ running…"
	case request.PrecheckOK:
		if p.Message != "" && p.Message != "success" {
			return "*Precheck:* ✅ passed — " + chat.Esc(p.Message) // e.g. users who must consent
		}
		return "*Precheck:* ✅ passed"
	case request.PrecheckFailed:
		return "*Precheck:* ❌ failed: " + chat.Esc(p.Message+chat.TrackingSuffix(p.TrackingID)) + " — approval is refused until the request is edited"
	case request.PrecheckUnavailable:
		return "*Precheck:* ⚠️ unavailable: " + chat.Esc(p.Message) + " — approval is allowed; the worker prechecks again before it commits"
	case request.PrecheckDeferred:
		return "*Precheck:* ⏸ deferred: " + chat.Esc(p.Message)
	}
	return "*Precheck:* –"
}

func stateLine(r *request.Request, now time.Time) string {
	return "*State:* " + requestIcon(r) + " " + describeStateAt(r, now)
}

func describeStateAt(r *request.Request, now time.Time) string {
	switch r.State {
	case request.StatePendingApproval:
		return "waiting for approval"
	case request.StateApproved:
		return "approved by " + actorName(r.ApprovedBy) + "; queued"
	case request.StateCommitting:
		return "approved by " + actorName(r.ApprovedBy) + "; committing to Webex"
	case request.StateWaiting:
		return waitingText(r, now)
	case request.StateDone:
		return chat.Esc(doneState(r))
	case request.StateFailed:
		return "failed: " + chat.Esc(r.Result.Message+chat.TrackingSuffix(r.Result.TrackingID))
	case request.StateRejected:
		return "rejected by " + chat.Mention(r.RejectedBy) + ": " + chat.Esc(r.Reason)
	}
	return string(r.State)
}

// requestIcon is r's icon wherever it is shown: a batch done with failed
// rows is ⚠️, not ✅.
func requestIcon(r *request.Request) string {
	if r.State == request.StateDone && r.Result.Status == request.ResultPartial {
		return "⚠️"
	}
	return stateIcon(r.State)
}

func stateIcon(s request.State) string {
	switch s {
	case request.StateDone:
		return "✅"
	case request.StateFailed:
		return "❌"
	case request.StateWaiting, request.StatePendingApproval, request.StateApproved, request.StateCommitting:
		return "⏳"
	case request.StateRejected:
		return "🚫"
	case request.StateCancelled:
		return "🗑"
	case request.StateExpired:
		return "⌛"
	}
	return "•"
}

// outcomeLine is the one line that tells a request ended or parked, the
// line scripts match (`✅ R-7 MS-001 provisioned (org …)`), as mrkdwn:
// values escaped, the rejecter mentioned. "" for states that are neither.
// plainText turns it into the console's plain outcome line.
func outcomeLine(r *request.Request, now time.Time) string {
	subject := chat.Esc(r.Subject)
	switch r.State {
	case request.StateDone:
		return fmt.Sprintf("%s %s %s", requestIcon(r), r.PlanRef(), chat.Esc(doneLine(r)))
	case request.StateFailed:
		return fmt.Sprintf("❌ %s %s failed: %s", r.PlanRef(), subject, chat.Esc(r.Result.Message+chat.TrackingSuffix(r.Result.TrackingID)))
	case request.StateWaiting:
		return fmt.Sprintf("⏳ %s %s: %s", r.PlanRef(), subject, waitingText(r, now))
	case request.StateRejected:
		return fmt.Sprintf("🚫 %s %s: rejected by %s: %s", r.Ref(), subject, chat.Mention(r.RejectedBy), chat.Esc(r.Reason))
	case request.StateCancelled:
		return fmt.Sprintf("🗑 %s %s: cancelled", r.Ref(), subject)
	case request.StateExpired:
		return fmt.Sprintf("⌛ %s %s: expired", r.Ref(), subject)
	}
	return ""
}

// waitingText says what a waiting request waits for; holds at Webex carry
// their age ("compliance review (2h)"), a wait for a person does not.
// mrkdwn, values escaped.
func waitingText(r *request.Request, now time.Time) string {
	return chat.Esc(waitingPlain(r, now))
}

func waitingPlain(r *request.Request, now time.Time) string {
	if r.Result.WaitReason == request.ConsentWaitReason && r.Result.Message != "" {
		return r.Result.Message // "2/3 provisioned, 1 waiting for consent"
	}
	if r.Kind != request.KindCustomer {
		return r.Result.WaitReason
	}
	return fmt.Sprintf("%s (%s)", r.Result.WaitReason, chat.Age(now.Sub(r.Result.WaitingSince)))
}

// failureLines are r's Result.Failures as mrkdwn lines, each after a
// newline ("" when nothing failed).
func failureLines(r *request.Request) string {
	var b strings.Builder
	for _, f := range r.Result.Failures {
		b.WriteString("\n" + chat.Esc(f))
	}
	return b.String()
}

func kindTitle(k request.Kind) string {
	s := string(k)
	if s == "" {
		return "Request"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
