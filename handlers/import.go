package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// importKeys are the keys of `import`.
var importKeys = []string{"rows", "users", "valid-only"}

// importProblemsShown bounds the problems a refusal or a summary lists.
const importProblemsShown = 100

// importCustomers validates `import rows=… [users=…] [valid-only=yes]` and
// saves one request for every customer of the file. Every row is checked as
// `new` checks it; nothing is submitted while a row is bad, unless
// valid-only=yes says to import the good ones. The import is one submission
// against the submission limit.
func (h *Handler) importCustomers(ctx context.Context, u caller, c Command) *Reply {
	if !h.isRequester(u.id) {
		return refusal("⛔ you are not allowed to submit requests")
	}
	if len(c.Words) == 1 && len(c.Args) == 0 && h.canOpenForms() {
		return h.openForm(ctx, u, u.trigger, request.KindImport, map[string]string{}, 0)
	}
	if len(c.Words) != 1 {
		return refusal("⛔ usage: import rows=<customers CSV> [users=<users CSV>] [valid-only=yes]")
	}
	var errs input.FieldErrors
	for _, k := range slices.Sorted(maps.Keys(c.Args)) {
		if !slices.Contains(importKeys, k) {
			errs.Addf(k, "unknown key (import takes rows=, users= and valid-only=yes)")
		}
	}
	validOnly := false
	if v, ok := c.Args["valid-only"]; ok {
		errs.Append("valid-only", input.ValidateYes("valid-only", v))
		validOnly = true
	}
	if strings.TrimSpace(c.Args["rows"]) == "" {
		return refusal(inputProblems(errs, []string{"rows"}))
	}
	if len(errs) > 0 {
		return refusal(inputProblems(errs, nil))
	}
	// One template lookup per template named, one round trip for every
	// external id: the ack path has 3 s for files of hundreds of rows.
	templates := map[string]input.CustomerOptions{}
	var storeErr error // a Redis fault is the bot's, not the file's: said with a ref
	customers, problems, err := input.ParseImport(c.Args["rows"], c.Args["users"], input.ImportOptions{
		Customer: func(args map[string]string) (input.CustomerOptions, error) {
			name := strings.ToLower(strings.TrimSpace(args["template"]))
			if opts, ok := templates[name]; ok {
				return opts, nil
			}
			opts, fault := h.customerOptions(ctx, u, args["template"])
			if fault != nil {
				return opts, errors.New("the template could not be read; try again")
			}
			templates[name] = opts
			return opts, nil
		},
		Taken: func(exts []string) (map[string]int64, error) {
			held, err := h.store.ExternalIDHolders(ctx, exts)
			if err != nil {
				storeErr = err
			}
			return held, err
		},
	})
	if storeErr != nil {
		return h.systemFault(u, "import: check external ids", storeErr)
	}
	if err != nil {
		return refusal("⛔ nothing was submitted:\n• " + chat.Esc(err.Error()))
	}
	byReason := problemsByField(problems)
	if len(problems) > 0 && !validOnly {
		return refusal(chat.TruncateMd(fmt.Sprintf("⛔ nothing was submitted: %s of %s cannot be imported (fix them, or add valid-only=yes to import the others); by reason: %s",
			request.Count(len(problems), "row"), request.Count(len(customers)+len(problems), "row"), chat.Esc(reasonCounts(byReason)))+problemLines(problems, len(problems)), chat.MaxMessageChars))
	}
	if len(customers) == 0 {
		return refusal(chat.TruncateMd("⛔ nothing was submitted: no row can be imported:"+problemLines(problems, len(problems)), chat.MaxMessageChars))
	}
	spec := &request.ImportSpec{Customers: customers, RefusedBy: byReason}
	for _, p := range problems {
		spec.Refused = append(spec.Refused, p.String())
	}
	check := func(*request.Request) precheckFunc { return h.importCheck(spec) }
	said := "import of " + request.Count(len(customers), "customer")
	if users := importUsers(spec); users > 0 {
		said += " with " + request.Count(users, "user")
	}
	rep := h.submitSaying(ctx, u, request.KindImport, "import", said, spec, check)
	if len(problems) > 0 && strings.HasPrefix(rep.Text, "📨") {
		rep.Text += fmt.Sprintf(" %s left out (valid-only=yes).", request.Count(len(problems), "row"))
	}
	return rep
}

// problemLines lists the first problems, one a line, escaped.
func problemLines(problems []input.ImportProblem, total int) string {
	var b strings.Builder
	for i, p := range problems {
		if i == importProblemsShown {
			fmt.Fprintf(&b, "\n• … and %d more", total-i)
			break
		}
		b.WriteString("\n• " + chat.Esc(p.String()))
	}
	return b.String()
}

// importCheck prechecks every customer of an import at Webex: the import
// passes when every customer does; a refusal names each refused customer.
func (h *Handler) importCheck(spec *request.ImportSpec) precheckFunc {
	return func(ctx context.Context) (request.Precheck, error) {
		var refused, unavailable []string
		for _, ic := range spec.Customers {
			pc, err := h.pre.PrecheckCustomer(ctx, &ic.Customer)
			if err != nil {
				return request.Precheck{}, err
			}
			switch pc.Status {
			case request.PrecheckFailed:
				refused = append(refused, fmt.Sprintf("line %d (%s): %s", ic.Line, ic.Customer.ExternalID, pc.Message))
			case request.PrecheckUnavailable:
				unavailable = append(unavailable, ic.Customer.ExternalID)
			}
		}
		switch {
		case len(refused) > 0:
			return request.Precheck{Status: request.PrecheckFailed, Message: fmt.Sprintf("%s refused by Webex: %s",
				request.Count(len(refused), "customer"), strings.Join(refused, "; "))}, nil
		case len(unavailable) > 0:
			return request.Precheck{Status: request.PrecheckUnavailable, Message: "Webex could not precheck " + strings.Join(unavailable, ", ")}, nil
		}
		return request.Precheck{Status: request.PrecheckOK}, nil
	}
}

// importFields are an import's summary: counts, what each customer brings,
// the rows left out, and the first customers.
func importFields(spec *request.ImportSpec) []slack.Block {
	pstn, numbers := 0, 0
	for _, ic := range spec.Customers {
		if st := ic.Customer.Steps; st != nil {
			if st.PSTN != nil {
				pstn++
			}
			if st.Numbers != nil {
				numbers += len(st.Numbers.Numbers)
			}
		}
	}
	users := importUsers(spec)
	blocks := chat.Fields([][2]string{
		{"Customers", fmt.Sprintf("%d", len(spec.Customers))},
		{"Users", fmt.Sprintf("%d", users)},
		{"PSTN connections", fmt.Sprintf("%d", pstn)},
		{"Numbers", fmt.Sprintf("%d", numbers)},
		{"Rows left out", fmt.Sprintf("%d", len(spec.Refused))},
	})
	var lines []string
	for i, ic := range spec.Customers {
		if i == summaryRows {
			lines = append(lines, fmt.Sprintf("… and %d more (View payload)", len(spec.Customers)-summaryRows))
			break
		}
		c := ic.Customer
		lines = append(lines, chat.Esc(fmt.Sprintf("line %d: %s %s · %s · %s%s", ic.Line, c.ExternalID, c.Name, c.Country, strings.Join(c.Packages, ", "), planSaid(c.Steps))))
	}
	blocks = append(blocks, slack.NewSectionBlock(chat.Md(chat.TruncateMd(strings.Join(lines, "\n"), chat.MaxSectionText)), nil, nil))
	if len(spec.Refused) > 0 {
		var b strings.Builder
		b.WriteString("*Left out (valid-only=yes)* by reason: " + chat.Esc(reasonCounts(spec.RefusedBy)))
		for i, r := range spec.Refused {
			if i == importProblemsShown {
				fmt.Fprintf(&b, "\n… and %d more", len(spec.Refused)-i)
				break
			}
			b.WriteString("\n" + chat.Esc(r))
		}
		blocks = append(blocks, slack.NewSectionBlock(chat.Md(chat.TruncateMd(b.String(), chat.MaxSectionText)), nil, nil))
	}
	return blocks
}

// importUsers counts the users of an import's customers.
func importUsers(spec *request.ImportSpec) int {
	n := 0
	for _, ic := range spec.Customers {
		if st := ic.Customer.Steps; st != nil && st.Users != nil {
			n += len(st.Users.Rows)
		}
	}
	return n
}

// problemsByField counts problems by what they are about.
func problemsByField(problems []input.ImportProblem) map[string]int {
	if len(problems) == 0 {
		return nil
	}
	out := map[string]int{}
	for _, p := range problems {
		out[cmp.Or(p.Field, "other")]++
	}
	return out
}

// reasonCounts says counts by reason, the commonest first: "email 3, users: phone 1".
func reasonCounts(by map[string]int) string {
	keys := slices.Collect(maps.Keys(by))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(by[b]-by[a], strings.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, by[k])
	}
	return strings.Join(parts, ", ")
}

// importRetry answers `retry` of an import: the import itself is not run
// again (its customers are requests of their own); it names those to retry.
func (h *Handler) importRetry(ctx context.Context, u caller, r *request.Request) *Reply {
	var failed []string
	for _, id := range r.Result.Requests {
		x, err := h.store.Get(ctx, id)
		if err != nil {
			return h.lookupFault(u, id, err)
		}
		if step := h.stepToRetry(ctx, x); step != nil || x.State == request.StateFailed {
			failed = append(failed, fmt.Sprintf("`retry %s` (%s)", x.Ref(), chat.Esc(x.Subject)))
		}
	}
	if len(failed) == 0 {
		return refusal(fmt.Sprintf("⛔ %s: none of its customers failed; nothing to retry", r.Ref()))
	}
	return refusal(fmt.Sprintf("⛔ %s: an import is not run again; each of its customers is a request of its own. Retry those that failed: %s",
		r.Ref(), strings.Join(failed, ", ")))
}
