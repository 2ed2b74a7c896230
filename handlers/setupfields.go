package handlers

import (
	"strconv"
	"strings"

	"github.com/onboardbot/onboardbot/handlers/chat"
	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// The summary fields of the setup requests (users are in users.go).

func locationFields(spec *request.LocationSpec) []slack.Block {
	a := spec.Address
	addr := strings.Join(nonEmpty(a.Line1, a.Line2, strings.TrimSpace(a.Zip+" "+a.City), a.State, a.Country), ", ")
	return chat.Fields([][2]string{
		{"Customer", customerLabel(spec.Customer)}, {"Location", spec.Name}, {"Address", addr},
		{"Time zone", spec.Timezone}, {"Language", request.DisplayLanguage(spec.Language)}, {"Emergency location id", chat.OrDash(spec.ELIN)},
		{"Steps", "create the location, enable it for Webex Calling"},
	})
}

func numbersFields(spec *request.NumbersSpec) []slack.Block {
	if len(spec.Numbers) == 0 {
		return nil
	}
	block := spec.Numbers[0]
	if n := len(spec.Numbers); n > 1 {
		block += " – " + spec.Numbers[n-1]
	}
	return chat.Fields([][2]string{
		{"Customer", customerLabel(spec.Customer)}, {"Location", spec.Location},
		{"Numbers", block + " (" + itoa(len(spec.Numbers)) + ", added and activated)"}, {"Main number", chat.OrDash(spec.Main)},
	})
}

func pstnFields(spec *request.PSTNSpec) []slack.Block {
	route := "–"
	if spec.RouteID != "" {
		route = spec.RouteType + " " + spec.RouteID
	}
	return chat.Fields([][2]string{
		{"Customer", customerLabel(spec.Customer)}, {"Location", spec.Location},
		{"PSTN connection", spec.Connection}, {"Route", route},
	})
}

func changeFields(spec *request.ChangeSpec) []slack.Block {
	return chat.Fields([][2]string{{"Customer", customerLabel(spec.Customer)}, {"User", spec.Email}, {"New package", spec.Package}})
}

func removeFields(spec *request.RemoveSpec) []slack.Block {
	return chat.Fields([][2]string{{"Customer", customerLabel(spec.Customer)}, {"Remove user", spec.Email}})
}

func deleteFields(spec *request.DeleteSpec) []slack.Block {
	return chat.Fields([][2]string{{"Delete customer", customerLabel(spec.Customer)}, {"Effect", "the customer is unlinked from the partner at Webex"}})
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
