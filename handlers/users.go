package handlers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

const (
	actionViewRows = "view_rows"
	// summaryRows is how many rows a channel summary shows: personal data
	// stays out of channels; approvers see the rest on request.
	summaryRows = 5
)

// users requests a batch: `users CUSTOMER rows=…` (CSV, rows separated by
// newlines or ';').
func (h *Handler) users(ctx context.Context, u caller, c Command) *Reply {
	if rep, ok := h.setupForm(ctx, u, request.KindUsers, c, "rows"); ok {
		return rep
	}
	ref, rep := h.setupTarget(ctx, u, c, "users CUSTOMER rows=…")
	if rep != nil {
		return rep
	}
	for k := range c.Args {
		if k != "rows" {
			return refusal(fmt.Sprintf("⛔ nothing was submitted:\n• %s: unknown key (users takes rows=…)", chat.Esc(k)))
		}
	}
	text := c.Args["rows"]
	if strings.TrimSpace(text) == "" {
		return refusal("⛔ nothing was submitted:\n• missing: rows")
	}
	opts := rowsOptions(ref)
	rows, errs := input.ParseRows(text, opts)
	if len(errs) > 0 {
		return refusal(inputProblems(errs, nil))
	}
	spec := &request.UsersSpec{Customer: *ref, Rows: rows}
	check := func(*request.Request) precheckFunc { return h.usersCheck(spec) }
	return h.submitSetup(ctx, u, request.KindUsers, "users "+ref.ExternalID, spec, check)
}

// usersCheck is a batch's precheck. Until its customer is provisioned it
// is deferred (the worker prechecks just before it commits); once it is, it
// asks Webex with the customer's ids, which the request's own spec lacks
// when it was submitted earlier, so it can be run again later.
func (h *Handler) usersCheck(spec *request.UsersSpec) precheckFunc {
	return func(ctx context.Context) (request.Precheck, error) {
		ref, pc, err := h.provisionedRef(ctx, spec.Customer)
		if err != nil || pc != nil {
			return request.Precheck{Status: pc.Status, Message: pc.Message}, err
		}
		resolved := *spec
		resolved.Customer = ref
		opts := rowsOptions(&ref)
		return h.precheckUsers(ctx, &resolved, rowsCSV(spec.Rows), opts)
	}
}

// provisionedRef is ref with the Webex ids of its customer. pc is the
// deferred precheck to record instead while the customer is not
// provisioned.
func (h *Handler) provisionedRef(ctx context.Context, ref request.CustomerRef) (request.CustomerRef, *request.Precheck, error) {
	if ref.CustomerID != "" || ref.RequestID == 0 {
		return ref, nil, nil
	}
	cr, err := h.store.Get(ctx, ref.RequestID)
	if err != nil {
		return ref, &request.Precheck{}, fmt.Errorf("read customer request %s: %w", request.FormatID(ref.RequestID), err)
	}
	if cr.State != request.StateDone || cr.Result.CustomerID == "" {
		return ref, &request.Precheck{Status: request.PrecheckDeferred,
			Message: fmt.Sprintf("runs when %s (%s) is provisioned; approval is allowed", cr.Ref(), cr.Subject)}, nil
	}
	ref.CustomerID, ref.OrgID = cr.Result.CustomerID, cr.Result.OrgID
	return ref, nil, nil
}

func rowsOptions(ref *request.CustomerRef) input.RowsOptions {
	return input.RowsOptions{Packages: ref.Packages, AdminEmail: ref.AdminEmail, Limits: ref.Limits, DefaultCountry: ref.Country}
}

// precheckUsers asks Webex about every row, then checks the batch again with
// the seats in use and the users that already exist.
func (h *Handler) precheckUsers(ctx context.Context, spec *request.UsersSpec, text string, opts input.RowsOptions) (request.Precheck, error) {
	up, err := h.setup.PrecheckUsers(ctx, spec)
	if err != nil {
		return request.Precheck{}, err
	}
	waitFor, missing, err := h.locationWaits(ctx, spec.Customer, up.UnknownLocations)
	if err != nil {
		return request.Precheck{}, err
	}
	up.RowErrors = append(up.RowErrors, missing...)
	pc := up.Precheck
	pc.WaitFor = waitFor
	existing := emailSet(up.Existing)
	pc.Seats, pc.NewUsers = up.Provisioned, newUsers(spec, existing)
	if pc.Status == request.PrecheckOK || pc.Status == request.PrecheckNone {
		opts.Provisioned = up.Provisioned
		opts.Existing = existing
		if _, errs := input.ParseRows(text, opts); len(errs) > 0 {
			return request.Precheck{Status: request.PrecheckFailed, Message: errs.Error()}, nil
		}
	}
	var notes []string
	if pc.Message != "" {
		notes = append(notes, pc.Message)
	}
	if n := len(up.Existing); n > 0 {
		notes = append(notes, request.Count(n, "user")+" already "+chat.Pick(n, "exists and counts", "exist and count")+" as provisioned")
	}
	if n := len(up.Consent); n > 0 {
		notes = append(notes, request.Count(n, "user")+" already "+chat.Pick(n, "has a Webex account", "have a Webex account")+": consent needed")
	}
	if len(up.RowErrors) > 0 {
		pc.Status = request.PrecheckFailed
		notes = append(notes, strings.Join(up.RowErrors, "; "))
	}
	pc.Message = strings.Join(notes, "; ")
	if pc.Status == "" {
		pc.Status = request.PrecheckOK
	}
	return pc, nil
}

// locationWaits decides about the locations rows name that the customer
// does not have: one an approved location request of the customer is
// creating is waited for (the batch commits after it); any other is a
// refused row that says how to get the location.
func (h *Handler) locationWaits(ctx context.Context, ref request.CustomerRef, unknown map[string][]request.UserRow) (waitFor []int64, refused []string, err error) {
	if len(unknown) == 0 {
		return nil, nil, nil
	}
	var requests []*request.Request
	if ref.RequestID != 0 {
		if requests, _, err = h.store.CustomerRequests(ctx, ref.RequestID, customerRequestsFetch); err != nil {
			return nil, nil, err
		}
	}
	names := make([]string, 0, len(unknown))
	for name := range unknown {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		lr := locationRequest(requests, name)
		if lr != nil && lr.State != request.StatePendingApproval {
			waitFor = append(waitFor, lr.ID)
			continue
		}
		why := fmt.Sprintf("location %q does not exist at %s (request it with `location %s name=%s …` first)", name, ref.ExternalID, ref.ExternalID, name)
		if lr != nil {
			why = fmt.Sprintf("location %q does not exist at %s yet; approve %s, which creates it, first", name, ref.ExternalID, lr.Ref())
		}
		for _, row := range unknown[name] {
			refused = append(refused, fmt.Sprintf("row %d (%s): %s", row.Line, row.Email, why))
		}
	}
	return waitFor, refused, nil
}

// customerRequestsFetch bounds how many of a customer's requests one look
// reads (newest first).
const customerRequestsFetch = 500

// locationRequest is the newest location request among requests that
// creates a location called name and may still do so (not failed or
// ended); nil when there is none.
func locationRequest(requests []*request.Request, name string) *request.Request {
	for _, r := range requests {
		if r.Kind != request.KindLocation || (r.State.Final() && r.State != request.StateDone) {
			continue
		}
		spec, err := request.SpecOf[request.LocationSpec](r)
		if err == nil && strings.EqualFold(spec.Name, name) {
			return r
		}
	}
	return nil
}

// usersFields summarises a batch for the channel: counts by package and
// location and at most summaryRows rows.
func usersFields(spec *request.UsersSpec) []slack.Block {
	byPackage, byLocation := map[string]int{}, map[string]int{}
	for _, r := range spec.Rows {
		byPackage[r.Package]++
		byLocation[r.Location]++
	}
	pairs := [][2]string{
		{"Customer", customerLabel(spec.Customer)},
		{"Users", fmt.Sprintf("%d", len(spec.Rows))},
		{"By package", countList(byPackage)},
		{"By location", countList(byLocation)},
	}
	blocks := chat.Fields(pairs)
	lines := make([]string, 0, summaryRows+1)
	for i, r := range spec.Rows {
		if i == summaryRows {
			lines = append(lines, fmt.Sprintf("… and %d more (View rows)", len(spec.Rows)-summaryRows))
			break
		}
		lines = append(lines, chat.Esc(rowLine(r)))
	}
	return append(blocks, slack.NewSectionBlock(chat.Md(strings.Join(lines, "\n")), nil, nil))
}

func rowLine(r request.UserRow) string {
	number := r.Phone
	if r.Extension != "" {
		number = strings.TrimSpace(number + " ext " + r.Extension)
	}
	return fmt.Sprintf("%d. %s %s <%s> · %s · %s · %s", r.Line, r.First, r.Last, r.Email, r.Package, chat.OrDash(number), r.Location)
}

// rowOutcome says what happened to a row, after its line: " → provisioned
// (+4930555001)", " → failed: <why>"; "" before the batch ran.
func rowOutcome(outcomes map[int]request.RowOutcome, line int) string {
	o, ok := outcomes[line]
	if !ok {
		return ""
	}
	var s string
	switch o.Status {
	case request.RowDone:
		s = "provisioned"
	case request.RowExisted:
		s = "already existed"
	case request.RowConsent:
		s = "waiting for consent"
	case request.RowFailed:
		s = "failed: " + o.Message
	case request.RowRetrying:
		s = "to be tried again: " + o.Message
	default:
		return ""
	}
	if o.Phone != "" && o.Status != request.RowFailed {
		s += " (" + o.Phone + ")"
	}
	return " → " + s
}

func customerLabel(ref request.CustomerRef) string {
	s := ref.ExternalID
	if ref.RequestID != 0 {
		s += " (" + request.FormatID(ref.RequestID) + ")"
	}
	if ref.OrgID == "" {
		s += " · Webex ids resolved at commit"
	}
	return s
}

func countList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k]) // data: the caller escapes
	}
	return strings.Join(parts, ", ")
}

// viewRows shows an approver every row of a batch, only to them.
func (h *Handler) viewRows(ctx context.Context, u caller, value string) *Reply {
	id, err := request.ParseID(value)
	if err != nil {
		return refusal("⛔ this button is not valid any more")
	}
	if !h.isApprover(u.id) {
		return refusal(fmt.Sprintf("⛔ %s: only approvers can see every row (personal data)", request.FormatID(id)))
	}
	r, err := h.store.Get(ctx, id)
	if err != nil {
		return h.lookupFault(u, id, err)
	}
	spec, err := request.SpecOf[request.UsersSpec](r)
	if err != nil {
		return h.systemFault(u, "decode users", err)
	}
	// What happened to each row, once the batch has run; a batch not run
	// yet (or a store that cannot say) lists the rows alone.
	var outcomes map[int]request.RowOutcome
	if h.setup != nil {
		if outcomes, err = h.setup.RowOutcomes(ctx, r.ID); err != nil {
			h.log.WithError(err).WithField("request", r.Ref()).Warn("read row outcomes")
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", r.Ref(), request.Count(len(spec.Rows), "row"))
	for i, row := range spec.Rows {
		line := chat.Esc(rowLine(row)+rowOutcome(outcomes, row.Line)) + "\n"
		if b.Len()+len(line) > chat.MaxMessageChars-100 {
			fmt.Fprintf(&b, "… and %d more", len(spec.Rows)-i)
			break
		}
		b.WriteString(line)
	}
	return &Reply{Text: b.String()}
}

// resendConsent sends the consent email again to every user of a batch who
// has not consented yet.
func (h *Handler) resendConsent(ctx context.Context, u caller, value string) *Reply {
	id, err := request.ParseID(value)
	if err != nil {
		return refusal("⛔ this button is not valid any more")
	}
	h.queue.Go(ctx, "resend consent", func(ctx context.Context) error {
		n, err := h.setup.ResendConsent(ctx, id)
		text := fmt.Sprintf("📧 %s: consent email sent again to %s.", request.FormatID(id), request.Count(n, "user"))
		if err != nil {
			ref := chat.NewRef()
			h.log.WithError(err).WithField("ref", ref).Warn("resend consent")
			text = fmt.Sprintf("⛔ %s: could not resend the consent emails (ref %s)", request.FormatID(id), ref)
		}
		return h.msg.Ephemeral(ctx, u.channel, u.id, chat.Message{Text: text})
	})
	return nil
}
