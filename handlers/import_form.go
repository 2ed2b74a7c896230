package handlers

import (
	"context"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/request"
)

// importFlow is the import form: the customers CSV and the users CSV,
// each pasted or uploaded, and whether to import the valid rows only.
// A bare `import` opens it.
var importFlow = &flow{
	kind:  request.KindImport,
	title: "Import customers",
	steps: func(map[string]string) []formStep {
		return []formStep{{title: "Files", intro: "One customer a row, with a header row naming the keys of `new` " +
			"(setup keys too: pstn, numbers, main); users in the second file, with an external-id column saying whose each is.",
			fields: []field{
				{key: "rows", label: "Customers (CSV)", kind: fieldMultiline, optional: true, hint: "Paste the CSV, or upload it below."},
				{key: "rows_file", label: "…or upload the customers CSV", kind: fieldFile, optional: true, fileFor: "rows", hint: "At most 4 MiB."},
				{key: "users", label: "Users (CSV)", kind: fieldMultiline, optional: true, hint: "external-id,first,last,email,package,phone,extension"},
				{key: "users_file", label: "…or upload the users CSV", kind: fieldFile, optional: true, fileFor: "users", hint: "At most 4 MiB."},
				{key: "valid-only", label: "Bad rows", kind: fieldYes, optional: true, options: []option{{"yes", "Import the valid rows and leave the bad ones out"}}},
			}}}
	},
	normalize: noNormalize,
	check: func(ctx context.Context, h *Handler, u caller, a map[string]string) ([]string, input.FieldErrors, *Reply) {
		if strings.TrimSpace(a["rows"]) == "" {
			return []string{"rows"}, nil, nil
		}
		var errs input.FieldErrors
		_, problems, err := input.ParseImport(a["rows"], a["users"], input.ImportOptions{})
		switch {
		case err != nil:
			key := "rows"
			if strings.HasPrefix(err.Error(), "users:") {
				key = "users"
			}
			errs.Append(key, err)
		case len(problems) > 0 && a["valid-only"] != "yes":
			var lines []string
			for i, p := range problems {
				if i == 5 {
					lines = append(lines, "…")
					break
				}
				lines = append(lines, p.String())
			}
			errs.Addf("rows", "%s cannot be imported (or tick \"import the valid rows\"): %s", request.Count(len(problems), "row"), strings.Join(lines, "; "))
		}
		return nil, errs, nil
	},
	submit: func(ctx context.Context, h *Handler, u caller, a map[string]string) *Reply {
		args := map[string]string{"rows": a["rows"]}
		if v := a["users"]; strings.TrimSpace(v) != "" {
			args["users"] = v
		}
		if a["valid-only"] == "yes" {
			args["valid-only"] = "yes"
		}
		return h.importCustomers(ctx, u, Command{Words: []string{"import"}, Args: args})
	},
}
