package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// Edit & resubmit: a rejected or failed request offers a button that opens
// its form pre-filled from the old spec, as a new draft linked to it. The
// request it submits names the old one in its audit trail, and the old one
// names the new one.

// canResubmit reports whether r ended in a way a corrected copy can fix, or
// still waits for approval (its edit replaces it), and has a form.
func canResubmit(r *request.Request) bool {
	switch r.State {
	case request.StateRejected, request.StateFailed, request.StatePendingApproval:
	default:
		return false
	}
	return hasForm(r.Kind)
}

// resubmitButtons is the summary's Edit & resubmit button (none when r
// cannot be resubmitted).
func resubmitButtons(r *request.Request) []slack.BlockElement {
	if !canResubmit(r) {
		return nil
	}
	return []slack.BlockElement{slack.NewButtonBlockElement(chat.ActionEditResubmit, r.Ref(), chat.Plain("Edit & resubmit"))}
}

// resubmitDMBlocks renders an outcome DM with the Edit & resubmit button
// when r offers one; nil keeps the DM plain text.
func resubmitDMBlocks(r *request.Request, text string) []slack.Block {
	buttons := resubmitButtons(r)
	if len(buttons) == 0 {
		return nil
	}
	return []slack.Block{
		slack.NewSectionBlock(chat.Md(chat.TruncateMd(text, maxSectionChars)), nil, nil),
		slack.NewActionBlock("resubmit:"+r.Ref(), buttons...),
	}
}

// editResubmit opens the old request's form pre-filled. Only its requester
// may: the new request is theirs.
func (h *Handler) editResubmit(ctx context.Context, u caller, trigger, value string) *Reply {
	id, err := request.ParseID(value)
	if err != nil {
		return refusal("⛔ this button is not valid any more")
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return h.lookupFault(u, id, err)
	}
	switch {
	case u.id != r.Requester:
		return refusal(fmt.Sprintf("⛔ %s: only its requester can edit and resubmit it", r.Ref()))
	case !canResubmit(r):
		return refusal(fmt.Sprintf("⛔ %s is %s: only requests waiting for approval, rejected or failed can be edited and resubmitted", r.Ref(), r.State))
	}
	answers, err := answersFromRequest(r)
	if err != nil {
		return h.systemFault(u, "read request for resubmit", err)
	}
	return h.openForm(ctx, u, trigger, r.Kind, answers, r.ID)
}

// pendingEdit is oldID when it is u's request still waiting for approval:
// its edit takes over its external id (0 otherwise).
func (h *Handler) pendingEdit(ctx context.Context, u caller, oldID int64) int64 {
	old, err := h.store.Get(ctx, oldID)
	if err != nil || old.State != request.StatePendingApproval || old.Requester != u.id {
		return 0
	}
	return oldID
}

// linkResubmission records in both audit trails that newID replaces oldID.
// An old request still waiting for approval is cancelled, pointing to the
// new one (which holds its external id now). Best effort: the new request
// stands either way.
func (h *Handler) linkResubmission(ctx context.Context, u caller, newID, oldID int64) {
	if u.replaces == oldID && h.cancelReplaced(ctx, u, newID, oldID) {
		return
	}
	stay := func(from ...request.State) []request.State { return from }
	if _, err := h.store.Transition(ctx, newID, request.Transition{
		From: stay(request.StatePendingApproval, request.StateApproved), Actor: u.id,
		Action: request.ActionResubmitted, Note: "edit of " + request.FormatID(oldID),
	}); err != nil {
		h.log.WithError(err).WithField("request", request.FormatID(newID)).Warn("audit resubmission")
	}
	if _, err := h.store.Transition(ctx, oldID, request.Transition{
		From: stay(request.StateRejected, request.StateFailed), Actor: u.id,
		Action: request.ActionEdited, Note: "resubmitted as " + request.FormatID(newID),
	}); err != nil {
		h.log.WithError(err).WithField("request", request.FormatID(oldID)).Warn("audit resubmission")
	}
}

// answersFromRequest turns a stored spec back into command keys.
func answersFromRequest(r *request.Request) (map[string]string, error) {
	fill := kinds[r.Kind].answers
	if fill == nil {
		return nil, fmt.Errorf("%s: %s requests have no form", r.Ref(), r.Kind)
	}
	a := map[string]string{}
	err := fill(r, func(k, v string) {
		if v != "" {
			a[k] = v
		}
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func customerAnswers(c *request.CustomerSpec, set func(k, v string)) {
	set("name", c.Name)
	set("email", c.Email)
	set("external-id", c.ExternalID)
	set("country", c.Country)
	set("package", strings.Join(c.Packages, ","))
	if c.Template != "" {
		set("template", c.Template)
	} else {
		set("provisioning-id", c.ProvisioningID)
	}
	set("supported-location", "yes")
	setAddress(set, c.Address)
	set("timezone", c.Timezone)
	set("language", c.Language)
	if c.LocationName != request.DefaultLocationName {
		set("location-name", c.LocationName)
	}
	set("elin", c.ELIN)
	for p, n := range c.Limits {
		set(input.LimitKeyPrefix+p, strconv.Itoa(n))
	}
	set("org-id", c.OrgID)
	set("order", c.Order)
	planAnswers(c.Steps, set)
}

// planAnswers are the setup keys of a plan's steps, so an edit keeps them.
func planAnswers(p *request.PlanSteps, set func(k, v string)) {
	if p == nil {
		return
	}
	if p.PSTN != nil {
		set("pstn", p.PSTN.Connection)
		set("route-type", p.PSTN.RouteType)
		set("route", p.PSTN.RouteID)
	}
	if n := p.Numbers; n != nil && len(n.Numbers) > 0 {
		block := n.Numbers[0]
		if len(n.Numbers) > 1 {
			block += "-" + n.Numbers[len(n.Numbers)-1]
		}
		set("numbers", block)
		set("main", n.Main)
	}
	if p.Users != nil {
		set("rows", rowsCSV(p.Users.Rows))
	}
}

func templateAnswers(t *request.TemplateSpec, set func(k, v string)) {
	onOff := map[bool]string{true: "on", false: "off"}
	set("name", t.Name)
	set("country", t.Country)
	set("language", t.Language)
	set("package", strings.Join(t.Packages, ","))
	set("auth", t.Auth)
	set("idp-entity-id", t.IdPEntityID)
	set("sp-admin", t.SPAdmin)
	set("subscription", t.Subscription)
	set("email-language", t.EmailLanguage)
	set("brand", t.Brand)
	set("admin-invites", onOff[t.AdminInvites])
	set("webex-calls", onOff[t.WebexCalls])
	set("pstn-provider", t.PSTNProvider)
	set("timezone", t.Timezone)
	set("provisioning-id", t.ProvisioningID)
}

func usersAnswers(s *request.UsersSpec, set func(k, v string)) {
	set(customerKey, s.Customer.ExternalID)
	set("rows", rowsCSV(s.Rows))
}

func locationAnswers(l *request.LocationSpec, set func(k, v string)) {
	set(customerKey, l.Customer.ExternalID)
	set("name", l.Name)
	setAddress(set, l.Address)
	set("country", l.Address.Country)
	set("timezone", l.Timezone)
	set("language", l.Language)
	set("elin", l.ELIN)
}

func numbersAnswers(n *request.NumbersSpec, set func(k, v string)) {
	set(customerKey, n.Customer.ExternalID)
	set("location", n.Location)
	if len(n.Numbers) == 1 {
		set("add", n.Numbers[0])
	} else if len(n.Numbers) > 1 {
		set("add", n.Numbers[0]+"-"+n.Numbers[len(n.Numbers)-1])
	}
	set("main", n.Main)
}

// setAddress sets the address keys the customer and location commands share.
func setAddress(set func(k, v string), a request.Address) {
	set("address", a.Line1)
	set("address2", a.Line2)
	set("city", a.City)
	set("state", a.State)
	set("zip", a.Zip)
}

// rowsCSV writes rows back in the header-less column order of the grammar.
func rowsCSV(rows []request.UserRow) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, r := range rows {
		_ = w.Write([]string{r.First, r.Last, r.Email, r.Package, r.Phone, r.Extension, r.Location})
	}
	w.Flush()
	return strings.TrimRight(b.String(), "\n")
}

// cancelReplaced cancels oldID when it still waits for approval, now that
// newID replaces it, and reports whether it did. An old request approved
// in the meantime is left to commit; the new one then holds its external id
// — it is cancelled too, so that nothing is committed twice, and the
// requester is told.
func (h *Handler) cancelReplaced(ctx context.Context, u caller, newID, oldID int64) bool {
	newRef, oldRef := request.FormatID(newID), request.FormatID(oldID)
	cancelled, err := h.store.Transition(ctx, oldID, request.Transition{
		From: []request.State{request.StatePendingApproval}, To: request.StateCancelled,
		Actor: u.id, Action: request.ActionCancelled, Note: "replaced by its edit " + newRef,
	})
	var sc *request.StateConflict
	switch {
	case err == nil:
		h.expectOutcome(oldID)
		h.Settled(ctx, cancelled)
		if _, err := h.store.Transition(ctx, newID, request.Transition{
			From: []request.State{request.StatePendingApproval, request.StateApproved}, Actor: u.id,
			Action: request.ActionResubmitted, Note: "edit of " + oldRef + ", which it replaces",
		}); err != nil {
			h.log.WithError(err).WithField("request", newRef).Warn("audit resubmission")
		}
		return true
	case errors.As(err, &sc) && !sc.Current.State.Final():
		// Approved meanwhile: the old one commits; the edit must not. (Its
		// cancellation frees the external id the edit took over; the sweep
		// gives it back to the old one, which needs it for nothing but
		// refusing duplicates.)
		if _, err := h.store.Transition(ctx, newID, request.Transition{
			From: []request.State{request.StatePendingApproval}, To: request.StateCancelled,
			Actor: request.ActorBot, Action: request.ActionCancelled, Note: oldRef + " was approved before its edit replaced it",
		}); err != nil {
			h.log.WithError(err).WithField("request", newRef).Warn("cancel an edit of an approved request")
		}
		h.queue.Go(ctx, "tell edit refused", func(ctx context.Context) error {
			return h.tell(ctx, u, fmt.Sprintf("⛔ %s was approved before its edit %s could replace it: %s commits as approved, %s is cancelled.", oldRef, newRef, oldRef, newRef))
		})
		return true
	case err != nil && sc == nil:
		h.log.WithError(err).WithField("request", oldRef).Warn("cancel a replaced request")
	}
	return false
}
