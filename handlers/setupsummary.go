package handlers

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// setupFields renders the step-3 requests' fields on their summary.
func setupFields(r *request.Request) []slack.Block {
	switch r.Kind {
	case request.KindUsers:
		var spec request.UsersSpec
		if json.Unmarshal(r.Spec, &spec) == nil {
			return usersFields(&spec)
		}
	case request.KindLocation:
		var spec request.LocationSpec
		if json.Unmarshal(r.Spec, &spec) == nil {
			a := spec.Address
			addr := strings.Join(nonEmpty(a.Line1, a.Line2, strings.TrimSpace(a.Zip+" "+a.City), a.State, a.Country), ", ")
			return chat.Fields([][2]string{
				{"Customer", customerLabel(spec.Customer)}, {"Location", spec.Name}, {"Address", addr},
				{"Time zone", spec.Timezone}, {"Language", request.DisplayLanguage(spec.Language)}, {"Emergency location id", chat.OrDash(spec.ELIN)},
				{"Steps", "create the location, enable it for Webex Calling"},
			})
		}
	case request.KindNumbers:
		var spec request.NumbersSpec
		if json.Unmarshal(r.Spec, &spec) == nil && len(spec.Numbers) > 0 {
			block := spec.Numbers[0]
			if n := len(spec.Numbers); n > 1 {
				block += " – " + spec.Numbers[n-1]
			}
			return chat.Fields([][2]string{
				{"Customer", customerLabel(spec.Customer)}, {"Location", spec.Location},
				{"Numbers", block + " (" + itoa(len(spec.Numbers)) + ", added and activated)"}, {"Main number", chat.OrDash(spec.Main)},
			})
		}
	case request.KindPSTN:
		var spec request.PSTNSpec
		if json.Unmarshal(r.Spec, &spec) == nil {
			route := "–"
			if spec.RouteID != "" {
				route = spec.RouteType + " " + spec.RouteID
			}
			return chat.Fields([][2]string{
				{"Customer", customerLabel(spec.Customer)}, {"Location", spec.Location},
				{"PSTN connection", spec.Connection}, {"Route", route},
			})
		}
	case request.KindChange:
		var spec request.ChangeSpec
		if json.Unmarshal(r.Spec, &spec) == nil {
			return chat.Fields([][2]string{{"Customer", customerLabel(spec.Customer)}, {"User", spec.Email}, {"New package", spec.Package}})
		}
	case request.KindRemove:
		var spec request.RemoveSpec
		if json.Unmarshal(r.Spec, &spec) == nil {
			return chat.Fields([][2]string{{"Customer", customerLabel(spec.Customer)}, {"Remove user", spec.Email}})
		}
	case request.KindDelete:
		var spec request.DeleteSpec
		if json.Unmarshal(r.Spec, &spec) == nil {
			return chat.Fields([][2]string{{"Delete customer", customerLabel(spec.Customer)}, {"Effect", "the customer is unlinked from the partner at Webex"}})
		}
	}
	return nil
}

func nonEmpty(parts ...string) []string {
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
