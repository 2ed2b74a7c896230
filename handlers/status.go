package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

// requestArg reads the request id that follows a sub-command.
func (h *Handler) requestArg(c Command, usage string) (int64, *Reply) {
	if len(c.Words) < 2 {
		return 0, refusal("⛔ missing request id (usage: " + usage + ")")
	}
	if len(c.Words) > 2 {
		return 0, refusal(chat.Esc(fmt.Sprintf("⛔ unexpected %q (usage: %s)", c.Words[2], usage)))
	}
	id, err := request.ParseID(c.Words[1])
	if err != nil {
		return 0, refusal("⛔ " + chat.Esc(err.Error()))
	}
	return id, nil
}

// lookupFault answers a failed Get: an unknown id is the user's mistake, the
// rest is ours.
func (h *Handler) lookupFault(u caller, id int64, err error) *Reply {
	if errors.Is(err, request.ErrNotFound) {
		return refusal(fmt.Sprintf("⛔ %s: no such request", request.FormatID(id)))
	}
	ref := chat.NewRef()
	h.log.WithError(err).WithFields(logrus.Fields{"ref": ref, "user": u.id}).Error("read request")
	return refusal(fmt.Sprintf("⛔ could not read %s right now (ref %s)", request.FormatID(id), ref))
}

// status shows one request (by request id or external id) with its audit.
func (h *Handler) status(ctx context.Context, u caller, c Command) *Reply {
	if len(c.Words) == 1 && len(c.Args) == 0 {
		// No argument: your own requests, newest first.
		return h.list(ctx, u, Command{Words: []string{"list", "mine"}})
	}
	if len(c.Words) != 2 {
		return refusal("⛔ usage: status [ID|EXTERNAL-ID]")
	}
	arg := c.Words[1]
	id, err := request.ParseID(arg)
	if err != nil {
		id, err = h.store.ByExternalID(ctx, arg)
		if errors.Is(err, request.ErrNotFound) {
			return refusal(chat.Esc(fmt.Sprintf("⛔ %q is neither a request id nor a known external id", arg)))
		}
		if err != nil {
			return h.lookupFault(u, 0, err)
		}
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return h.lookupFault(u, id, err)
	}
	audit, err := h.store.Audit(ctx, id)
	if err != nil {
		return h.lookupFault(u, id, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s: %s", requestIcon(r), r.Ref(), chat.Esc(r.Subject), describeStateAt(r, h.now()))
	b.WriteString(failureLines(r))
	b.WriteString(h.autoNumbers(ctx, r))
	for _, e := range audit {
		fmt.Fprintf(&b, "\n• %s %s by %s", e.At.UTC().Format("2006-01-02 15:04"), e.Action, actorName(e.Actor))
		if e.Note != "" {
			b.WriteString(": " + chat.Esc(e.Note))
		}
	}
	if r.Kind == request.KindCustomer || r.Kind == request.KindAdopt {
		if rep := h.customerRequests(ctx, u, r, &b); rep != nil {
			return rep
		}
	}
	if r.Kind == request.KindImport {
		if rep := h.importRequests(ctx, u, r, &b); rep != nil {
			return rep
		}
	}
	return &Reply{Text: chat.TruncateMd(b.String(), chat.MaxMessageChars)}
}

// importRequests adds the customer requests import r made, in the order of
// its file, with their states (at most statusRequestsShown).
func (h *Handler) importRequests(ctx context.Context, u caller, r *request.Request, b *strings.Builder) *Reply {
	ids := r.Result.Requests
	if len(ids) == 0 {
		return nil
	}
	fmt.Fprintf(b, "\n*Customers of %s* (%d):", r.Ref(), len(ids))
	for i, id := range ids {
		if i == statusRequestsShown {
			fmt.Fprintf(b, "\n… and %d more (`status R-n` of each)", len(ids)-i)
			break
		}
		x, err := h.store.Get(ctx, id)
		if err != nil {
			return h.lookupFault(u, id, err)
		}
		fmt.Fprintf(b, "\n%s %s %s: %s", requestIcon(x), x.Ref(), chat.Esc(x.Subject), describeStateAt(x, h.now()))
	}
	return nil
}

// statusRequestsShown bounds the requests `status CUSTOMER` lists.
const statusRequestsShown = 30

// customerRequests adds the requests on customer r (users, locations, PSTN,
// numbers, corrections), newest first, with their states: following a
// customer is one command.
func (h *Handler) customerRequests(ctx context.Context, u caller, r *request.Request, b *strings.Builder) *Reply {
	rs, total, err := h.store.CustomerRequests(ctx, r.ID, statusRequestsShown)
	if err != nil {
		return h.lookupFault(u, r.ID, err)
	}
	if total == 0 {
		fmt.Fprintf(b, "\n*Requests on %s:* none yet.", chat.Esc(r.Subject))
		return nil
	}
	fmt.Fprintf(b, "\n*Requests on %s* (%d):", chat.Esc(r.Subject), total)
	for _, x := range rs {
		fmt.Fprintf(b, "\n%s %s %s: %s", requestIcon(x), x.Ref(), chat.Esc(x.Subject), describeStateAt(x, h.now()))
	}
	if more := int(total) - len(rs); more > 0 {
		fmt.Fprintf(b, "\n… and %d more (`list mine` lists yours)", more)
	}
	return nil
}

// autoNumbers are the numbers the rows of a users batch given phone=auto
// got, one line each; "" for other requests and before the batch ran.
func (h *Handler) autoNumbers(ctx context.Context, r *request.Request) string {
	if r.Kind != request.KindUsers || h.setup == nil {
		return ""
	}
	spec, err := request.SpecOf[request.UsersSpec](r)
	if err != nil {
		return ""
	}
	outcomes, err := h.setup.RowOutcomes(ctx, r.ID)
	if err != nil || len(outcomes) == 0 {
		return ""
	}
	var b strings.Builder
	for _, row := range spec.Rows {
		if o := outcomes[row.Line]; row.Phone == request.PhoneAuto && o.Phone != "" && o.Status != request.RowFailed {
			b.WriteString("\n" + chat.Esc(fmt.Sprintf("row %d (%s): phone=auto got %s", row.Line, row.Email, o.Phone)))
		}
	}
	return b.String()
}

func actorName(a string) string {
	if request.SystemActor(a) {
		return a
	}
	return chat.Mention(a)
}
