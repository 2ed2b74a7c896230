package handlers

import (
	"context"
	"slices"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// primaryKey is the customer form's "primary package" select. It is not a
// command key: normalize puts its value first in package=.
const primaryKey = "primary"

var customerFlow = &flow{
	kind:      request.KindCustomer,
	title:     "New customer",
	steps:     customerSteps,
	normalize: normalizeCustomer,
	check: func(ctx context.Context, h *Handler, u caller, a map[string]string) ([]string, input.FieldErrors, *Reply) {
		opts, fault := h.customerOptions(ctx, u, a["template"])
		if fault != nil {
			return nil, nil, fault
		}
		_, missing, errs := input.ParseCustomer(a, opts)
		return missing, errs, nil
	},
	review: customerReview,
	submit: func(ctx context.Context, h *Handler, u caller, a map[string]string) *Reply {
		return h.submitCustomer(ctx, u, a).reply
	},
}

// customerSteps: company → packages → quantities → HQ location → review.
// The quantities step asks for each chosen package, so the steps depend on
// the answers; their number does not.
func customerSteps(a map[string]string) []formStep {
	var limits []field
	for _, p := range splitList(a["package"]) {
		limits = append(limits, field{key: input.LimitKeyPrefix + p, label: "Ordered " + p, kind: fieldNumber, optional: true,
			hint: "Seats ordered; user batches above it are refused. Empty: no cap."})
	}
	quantities := "Ordered quantities per package (`limit.&lt;package&gt;`)."
	if len(limits) == 0 {
		quantities = "No packages chosen yet: nothing to cap."
	}
	return []formStep{
		{title: "Company", fields: []field{
			{key: "name", label: "Company name", maxLen: 255, hint: "As Webex shows it; no %."},
			{key: "email", label: "Admin email", hint: "The customer's first full administrator."},
			{key: "external-id", label: "External id", hint: "Your id for this customer, e.g. MS-001 (not all digits, not R-<n>)."},
			{key: "country", label: "Country", kind: fieldExternal, optional: true, hint: "ISO 3166 country; a template may set it."},
			{key: "template", label: "Template", kind: fieldExternal, optional: true, hint: "An active onboarding template, or give a provisioning id below."},
			{key: "provisioning-id", label: "Provisioning id", optional: true, hint: "Partner Hub's Provisioning ID, when no template is chosen."},
			{key: "order", label: "Order reference", optional: true, maxLen: 255},
		}},
		{title: "Packages", intro: "The *primary* package is what the customer's admin gets; it must be one a user can have. " +
			"Add-ons (cisco_calling_plan, attendant_console) need a calling package next to them.",
			fields: []field{
				{key: primaryKey, label: "Primary package", kind: fieldSelect, optional: true, options: packageOptions(request.SubscriberPackages),
					hint: "Empty: the first package below."},
				{key: "package", label: "Packages", kind: fieldMultiSelect, optional: true, options: packageOptions(request.CustomerPackages),
					hint: "Empty: the template's packages."},
			}},
		{title: "Quantities", intro: quantities, fields: limits},
		{title: "HQ location", fields: []field{
			{key: "supported-location", label: "Supported location", kind: fieldYes, options: []option{{"yes", "The HQ address is in a supported location"}}},
			{key: "address", label: "Address", maxLen: 50},
			{key: "address2", label: "Address line 2", optional: true, maxLen: 50},
			{key: "city", label: "City", maxLen: 50},
			{key: "state", label: "State or province", optional: true, maxLen: 50},
			{key: "zip", label: "Postal code", optional: true, maxLen: 50},
			{key: "timezone", label: "Time zone", kind: fieldExternal, optional: true, hint: "Empty: the template's or the country's."},
			{key: "language", label: "Language", optional: true, hint: "de, de_DE or de-DE. Empty: the template's or the country's."},
			{key: "location-name", label: "Calling location name", optional: true, maxLen: 80, hint: "Empty: HQ."},
			{key: "elin", label: "Emergency location id", optional: true, maxLen: 32},
		}},
		{title: "Onboarding plan", intro: "Optional: what to set up once the customer is provisioned, under the same approval. " +
			"A new customer's HQ has no PSTN connection and no numbers: numbers need a PSTN connection, phone=auto needs numbers.",
			fields: []field{
				{key: "pstn", label: "PSTN connection of the HQ", optional: true, maxLen: 255,
					hint: "The name of an option Webex offers, e.g. a Cloud Connected PSTN provider, or Premises-based PSTN."},
				{key: "route-type", label: "Route type (premises-based only)", kind: fieldSelect, optional: true,
					options: []option{{"TRUNK", "Trunk"}, {"ROUTE_GROUP", "Route group"}}},
				{key: "route", label: "Trunk or route group id (premises-based only)", optional: true, maxLen: 255},
				{key: "numbers", label: "Number block for the HQ", optional: true, hint: "+4930555001-+4930555099 (at most 1,000)."},
				{key: "main", label: "Main number", optional: true, hint: "One of the block."},
				{key: "rows", label: "Users (CSV)", kind: fieldMultiline, optional: true,
					hint: "One user per line: first,last,email,package,phone,extension — or Control Hub's user CSV with its header."},
				{key: "rows_file", label: "…or upload a CSV file", kind: fieldFile, optional: true, fileFor: "rows",
					hint: "Control Hub's user CSV, or the columns above; at most 4 MiB."},
			}},
		{title: "Review", review: true},
	}
}

func packageOptions(pkgs []string) []option {
	out := make([]option, len(pkgs))
	for i, p := range pkgs {
		out[i] = option{p, p}
	}
	return out
}

// normalizeCustomer puts the primary package first in package= and drops
// quantities of packages no longer chosen.
func normalizeCustomer(a map[string]string) {
	if p, ok := a[primaryKey]; ok {
		delete(a, primaryKey)
		pkgs := splitList(a["package"])
		if p = strings.TrimSpace(p); p != "" {
			pkgs = append([]string{p}, slices.DeleteFunc(pkgs, func(x string) bool { return x == p })...)
		}
		if len(pkgs) > 0 {
			a["package"] = strings.Join(pkgs, ",")
		}
	}
	pkgs := splitList(a["package"])
	for k := range a {
		if p, ok := strings.CutPrefix(k, input.LimitKeyPrefix); ok && len(pkgs) > 0 && !slices.Contains(pkgs, p) {
			delete(a, k)
		}
	}
}

// customerReview shows the customer exactly as the approval summary will.
func customerReview(ctx context.Context, h *Handler, u caller, a map[string]string) []slack.Block {
	opts, fault := h.customerOptions(ctx, u, a["template"])
	if fault != nil {
		return []slack.Block{slack.NewSectionBlock(chat.Md(fault.Text), nil, nil)}
	}
	spec, missing, errs := input.ParseCustomer(a, opts)
	if spec == nil {
		return []slack.Block{slack.NewSectionBlock(chat.Md(chat.TruncateMd(inputProblems(errs, missing), maxSectionChars)), nil, nil)}
	}
	return reviewBlocks(customerFields(spec))
}

func reviewBlocks(fields []slack.Block) []slack.Block {
	return append([]slack.Block{slack.NewSectionBlock(chat.Md("*Review:* this is what approvers will see. Submit to request approval."), nil, nil)}, fields...)
}
