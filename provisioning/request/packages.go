package request

import (
	"slices"
)

// CustomerPackages are the Webex Wholesale packages a customer can order
// (WholesalePackagesCustomer in Cisco's spec).
var CustomerPackages = []string{
	"common_area_calling", "webex_calling", "webex_meetings", "webex_suite", "webex_voice",
	"cx_essentials", "webex_calling_standard", "cisco_calling_plan", "attendant_console",
	"cx_premium_agent", "cx_standard_agent", "cx_voice_ports", "cx_ai_assistant", "webex_ai_agent",
}

// SubscriberPackages are the packages a user can get
// (WholesalePackagesSubscriber); one per user.
var SubscriberPackages = []string{
	"webex_calling", "webex_meetings", "webex_suite", "webex_voice", "cx_essentials",
	"webex_calling_standard", "attendant_console", "cx_premium_agent", "cx_standard_agent",
}

// AddOnRule says which base packages an add-on package needs next to it.
type AddOnRule struct {
	AddOn  string
	NeedsA []string
}

// AddOnRules are Webex's add-on rules (checked by input.CheckAddOns).
var AddOnRules = []AddOnRule{
	{"cisco_calling_plan", []string{"common_area_calling", "webex_calling", "webex_suite", "webex_voice", "cx_essentials", "webex_calling_standard"}},
	{"attendant_console", []string{"webex_calling", "webex_suite", "cx_essentials"}},
}

// IsCustomerPackage reports whether p is a customer package.
func IsCustomerPackage(p string) bool { return slices.Contains(CustomerPackages, p) }

// IsSubscriberPackage reports whether p can be given to a user.
func IsSubscriberPackage(p string) bool { return slices.Contains(SubscriberPackages, p) }

// CallingSubscriberPackage reports whether a user with package p needs a
// phone number or extension: every subscriber package except meetings-only.
func CallingSubscriberPackage(p string) bool {
	return IsSubscriberPackage(p) && p != "webex_meetings"
}
