package handlers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/slack-go/slack"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/store"
)

// maxOptions is Slack's limit on the options of one external_select answer.
const maxOptions = 100

// Options answers block_suggestion payloads (/slack/options): the forms'
// external selects, found by their block id, which is the command key.
// Every answer is filtered by what the user typed and has at most 100
// options; an unknown menu or a failing store answers no options.
func (h *Handler) Options(ctx context.Context, cb *slack.InteractionCallback) (resp *slack.OptionsResponse) {
	defer func() {
		if p := recover(); p != nil {
			h.log.WithField("panic", fmt.Sprint(p)).Error("options panic")
			resp = &slack.OptionsResponse{}
		}
	}()
	typed := strings.ToLower(strings.TrimSpace(cb.Value))
	var opts []option
	switch cb.BlockID {
	case "template":
		opts = h.templateOptions(ctx, cb.User.ID)
	case customerKey:
		opts = h.customerOptionsList(ctx, cb.User.ID)
	case "country":
		opts = countryOptions(h.set.SupportedCountries)
	case "timezone":
		opts = timezoneOptions()
	case "connection":
		opts = h.pstnOptions(ctx, cb.User.ID, cb.View.PrivateMetadata)
	}
	return &slack.OptionsResponse{Options: optionObjects(filterOptions(opts, typed))}
}

// filterOptions keeps the options whose value or label contains typed, at
// most maxOptions; a prefix match on the value goes first (typing "de"
// should offer DE before countries whose names contain "de").
func filterOptions(opts []option, typed string) []option {
	var first, rest []option
	for _, o := range opts {
		v, l := strings.ToLower(o.value), strings.ToLower(o.label)
		switch {
		case typed == "" || strings.HasPrefix(v, typed):
			first = append(first, o)
		case strings.Contains(v, typed) || strings.Contains(l, typed):
			rest = append(rest, o)
		}
	}
	out := append(first, rest...)
	if len(out) > maxOptions {
		out = out[:maxOptions]
	}
	return out
}

// templateOptions lists the active templates.
func (h *Handler) templateOptions(ctx context.Context, user string) []option {
	names, err := h.templates.Templates(ctx)
	if err != nil {
		h.log.WithError(err).WithField("user", user).Warn("options: list templates")
		return nil
	}
	var out []option
	for _, name := range names {
		active, _, err := h.templates.Template(ctx, name)
		if err != nil || active == nil {
			continue
		}
		out = append(out, option{name, fmt.Sprintf("%s v%d (%s, %s)", name, active.Version, active.Spec.Country, strings.Join(active.Spec.Packages, ", "))})
	}
	return out
}

// customerMenuScan bounds how many customer requests one menu answer reads.
const customerMenuScan = 500

// customerOptionsList lists the customers setup requests can be made for:
// customer and adopt requests that were not rejected, cancelled or expired,
// newest first, valued by external id (what resolveCustomer takes).
func (h *Handler) customerOptionsList(ctx context.Context, user string) []option {
	l := h.ux.lister
	if l == nil {
		return nil // Deps.UX.Lister unset: no lists (said where lists are asked for)
	}
	var out []option
	seen := map[string]bool{}
	for _, kind := range []request.Kind{request.KindCustomer, request.KindAdopt} {
		rs, err := l.List(ctx, store.Query{Kind: kind, Newest: true, Limit: customerMenuScan})
		if err != nil {
			h.log.WithError(err).WithField("user", user).Warn("options: list customers")
			return nil
		}
		for _, r := range rs {
			switch r.State {
			case request.StateRejected, request.StateCancelled, request.StateExpired, request.StateDraft:
				continue
			}
			if r.ExternalID == "" || seen[r.ExternalID] {
				continue
			}
			seen[r.ExternalID] = true
			out = append(out, option{r.ExternalID, fmt.Sprintf("%s · %s (%s)", r.ExternalID, r.Ref(), r.State)})
		}
	}
	return out
}

// allCountryCodes are the ISO 3166 codes the provisioning table knows.
// The table is unexported; asking it about every two-letter code finds them.
var allCountryCodes = sync.OnceValue(func() []string {
	var codes []string
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			if code := string([]rune{a, b}); request.CountryName(code) != "" {
				codes = append(codes, code)
			}
		}
	}
	return codes
})

// countryOptions lists the countries (SUPPORTED_COUNTRIES when set).
func countryOptions(supported []string) []option {
	var out []option
	for _, code := range allCountryCodes() {
		if len(supported) > 0 && !slices.ContainsFunc(supported, func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), code) }) {
			continue
		}
		out = append(out, option{code, code + " · " + request.CountryName(code)})
	}
	return out
}

func timezoneOptions() []option {
	out := make([]option, len(timezoneNames))
	for i, tz := range timezoneNames {
		out[i] = option{tz, tz}
	}
	return out
}
