package handlers

import (
	"context"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
)

// The template, users, location and numbers forms. Each collects the keys
// of its command, validates them with the command's parser and submits
// through the command's own function.

// customerKey is the setup forms' CUSTOMER select (options.go lists the
// customers); the command takes it as its positional word.
const customerKey = "customer"

var customerField = field{key: customerKey, label: "Customer", kind: fieldExternal,
	hint: "A customer the bot created or adopted: its external id or request id."}

func noNormalize(map[string]string) {}

// withoutKey copies a without key: the command takes it as a word.
func withoutKey(a map[string]string, key string) map[string]string {
	out := make(map[string]string, len(a))
	for k, v := range a {
		if k != key {
			out[k] = v
		}
	}
	return out
}

var templateFlow = &flow{
	kind:  request.KindTemplate,
	title: "New template",
	steps: func(map[string]string) []formStep {
		return []formStep{
			{title: "Settings", fields: []field{
				{key: "name", label: "Template name", maxLen: 40, hint: "Lower-case letters, digits and -, e.g. de-standard."},
				{key: "country", label: "Country", kind: fieldExternal},
				{key: "language", label: "Language", hint: "de, de_DE or de-DE."},
				{key: "package", label: "Packages", kind: fieldMultiSelect, options: packageOptions(request.CustomerPackages),
					hint: "The first is the primary package, which the admin gets."},
				{key: "sp-admin", label: "Service provider admin", hint: "Email of the partner admin."},
				{key: "subscription", label: "Subscription id"},
				{key: "auth", label: "Authentication", kind: fieldSelect, optional: true,
					options: []option{{"webex", "Webex"}, {"saml", "SAML"}, {"oidc", "OIDC"}}, hint: "Empty: webex."},
				{key: "idp-entity-id", label: "IdP entity id", optional: true, hint: "Required for saml and oidc."},
			}},
			{title: "Options", fields: []field{
				{key: "email-language", label: "Email language", optional: true, hint: "Empty: the template's language."},
				{key: "brand", label: "Brand", optional: true, maxLen: 255},
				{key: "admin-invites", label: "Admin-invite emails", kind: fieldSelect, optional: true, options: onOffOptions, hint: "Empty: off."},
				{key: "webex-calls", label: "Webex-to-Webex calls", kind: fieldSelect, optional: true, options: onOffOptions, hint: "Empty: on."},
				{key: "pstn-provider", label: "PSTN provider", optional: true, hint: "Usually left empty."},
				{key: "timezone", label: "Time zone", kind: fieldExternal, optional: true},
				{key: "provisioning-id", label: "Provisioning id", optional: true, hint: "When the template already exists in Partner Hub."},
			}},
		}
	},
	normalize: noNormalize,
	check: func(_ context.Context, h *Handler, _ caller, a map[string]string) ([]string, input.FieldErrors, *Reply) {
		_, missing, errs := input.ParseTemplate(a, input.TemplateOptions{SupportedCountries: h.set.SupportedCountries})
		return missing, errs, nil
	},
	submit: func(ctx context.Context, h *Handler, u caller, a map[string]string) *Reply {
		return h.templateNew(ctx, u, Command{Words: []string{"template", "new"}, Args: a})
	},
}

var onOffOptions = []option{{"on", "on"}, {"off", "off"}}

// setupCheck resolves the customer of a setup form; a refusal becomes the
// customer input's error.
func (h *Handler) setupCheck(ctx context.Context, u caller, a map[string]string) (*request.CustomerRef, input.FieldErrors, *Reply) {
	arg := strings.TrimSpace(a[customerKey])
	if arg == "" {
		return nil, nil, nil
	}
	ref, rep := h.resolveCustomer(ctx, u, arg)
	if rep == nil {
		return ref, nil, nil
	}
	if strings.Contains(rep.Text, "(ref ") {
		return nil, nil, rep // a system fault, not the user's input
	}
	var errs input.FieldErrors
	errs.Add(customerKey, strings.TrimPrefix(strings.TrimPrefix(rep.Text, "⛔ "), "CUSTOMER: "))
	return nil, errs, nil
}

var usersFlow = &flow{
	kind:  request.KindUsers,
	title: "Add users",
	steps: func(map[string]string) []formStep {
		return []formStep{{title: "Users", fields: []field{
			customerField,
			{key: "rows", label: "Users (CSV)", kind: fieldMultiline, optional: true,
				hint: "One user per line: first,last,email,package,phone,extension,location — or paste Control Hub's user CSV with its header. Empty package: the primary package."},
			{key: "rows_file", label: "…or upload a CSV file", kind: fieldFile, optional: true, fileFor: "rows",
				hint: "Control Hub's user CSV, or the columns above; at most 4 MiB."},
		}}}
	},
	normalize: noNormalize,
	check: func(ctx context.Context, h *Handler, u caller, a map[string]string) ([]string, input.FieldErrors, *Reply) {
		ref, errs, fault := h.setupCheck(ctx, u, a)
		missing := missingOf(a, customerKey, "rows")
		if ref != nil && a["rows"] != "" {
			_, rowErrs := input.ParseRows(a["rows"], rowsOptions(ref))
			errs = append(errs, rowErrs...)
		}
		return missing, errs, fault
	},
	submit: func(ctx context.Context, h *Handler, u caller, a map[string]string) *Reply {
		return h.users(ctx, u, Command{Words: []string{"users", a[customerKey]}, Args: withoutKey(a, customerKey)})
	},
}

var locationFlow = &flow{
	kind:  request.KindLocation,
	title: "New location",
	steps: func(map[string]string) []formStep {
		return []formStep{{title: "Location", fields: []field{
			customerField,
			{key: "name", label: "Location name", maxLen: 80},
			{key: "address", label: "Address", maxLen: 50},
			{key: "address2", label: "Address line 2", optional: true, maxLen: 50},
			{key: "city", label: "City", maxLen: 50},
			{key: "state", label: "State or province", maxLen: 50},
			{key: "zip", label: "Postal code", maxLen: 50},
			{key: "country", label: "Country", kind: fieldExternal, optional: true, hint: "Empty: the customer's."},
			{key: "timezone", label: "Time zone", kind: fieldExternal},
			{key: "language", label: "Language", hint: "de, de_DE or de-DE."},
			{key: "elin", label: "Emergency location id", optional: true, maxLen: 32},
		}}}
	},
	normalize: noNormalize,
	check: func(ctx context.Context, h *Handler, u caller, a map[string]string) ([]string, input.FieldErrors, *Reply) {
		ref, errs, fault := h.setupCheck(ctx, u, a)
		missing := missingOf(a, customerKey)
		if ref != nil {
			_, m, e := input.ParseLocation(withoutKey(a, customerKey), *ref, h.set.SupportedCountries)
			missing, errs = append(missing, m...), append(errs, e...)
		}
		return missing, errs, fault
	},
	submit: func(ctx context.Context, h *Handler, u caller, a map[string]string) *Reply {
		return h.location(ctx, u, Command{Words: []string{"location", a[customerKey]}, Args: withoutKey(a, customerKey)})
	},
}

var numbersFlow = &flow{
	kind:  request.KindNumbers,
	title: "Add numbers",
	steps: func(map[string]string) []formStep {
		return []formStep{{title: "Numbers", fields: []field{
			customerField,
			{key: "location", label: "Location", optional: true, maxLen: 80, hint: "Empty: HQ."},
			{key: "add", label: "Number block", hint: "One number or a block: +4930555001-+4930555099 (at most 1,000)."},
			{key: "main", label: "Main number", optional: true, hint: "Set as the location's main number."},
		}}}
	},
	normalize: noNormalize,
	check: func(ctx context.Context, h *Handler, u caller, a map[string]string) ([]string, input.FieldErrors, *Reply) {
		ref, errs, fault := h.setupCheck(ctx, u, a)
		missing := missingOf(a, customerKey, "add")
		if ref != nil {
			if v := a["add"]; v != "" {
				_, err := input.ParseNumberBlock("add", v, ref.Country)
				errs.Append("add", err)
			}
			if v := a["main"]; v != "" {
				_, err := input.NormalizePhone("main", v, ref.Country)
				errs.Append("main", err)
			}
		}
		return missing, errs, fault
	},
	submit: func(ctx context.Context, h *Handler, u caller, a map[string]string) *Reply {
		return h.numbers(ctx, u, Command{Words: []string{"numbers", a[customerKey]}, Args: withoutKey(a, customerKey)})
	},
}

// missingOf lists the keys of a that are empty.
func missingOf(a map[string]string, keys ...string) []string {
	var out []string
	for _, k := range keys {
		if strings.TrimSpace(a[k]) == "" {
			out = append(out, k)
		}
	}
	return out
}
