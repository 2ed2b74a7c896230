package request

import (
	"fmt"
	"slices"
	"strings"
)

// TemplateSpec is a validated `template new`: every setting of a Partner Hub
// onboarding template plus the defaults the bot pre-fills for customers. Webex has no template API, so this is what
// the approver approves and what the checklist tells the admin to click.
type TemplateSpec struct {
	Name           string   `json:"name"`
	Country        string   `json:"country"`
	Language       string   `json:"language"`
	Packages       []string `json:"packages"`
	Auth           string   `json:"auth"` // webex | saml | oidc
	IdPEntityID    string   `json:"idpEntityId,omitempty"`
	SPAdmin        string   `json:"spAdmin"`
	Subscription   string   `json:"subscription"`
	EmailLanguage  string   `json:"emailLanguage,omitempty"`
	Brand          string   `json:"brand,omitempty"`
	AdminInvites   bool     `json:"adminInvites"`
	WebexCalls     bool     `json:"webexCalls"`
	PSTNProvider   string   `json:"pstnProvider,omitempty"`
	Timezone       string   `json:"timezone,omitempty"`
	ProvisioningID string   `json:"provisioningId,omitempty"`
	Version        int      `json:"version"`
}

// AuthModes are the template's authentication choices; webex is the default.
var AuthModes = []string{"webex", "saml", "oidc"}

// Warnings are advisories the summary shows; they do not block approval.
func (t *TemplateSpec) Warnings() []string {
	var w []string
	if t.PSTNProvider != "" {
		w = append(w, fmt.Sprintf("A Cloud Connected PSTN provider (%s) is set: the onboarding guide advises against choosing one in the template; "+
			"set up PSTN per customer location instead.", t.PSTNProvider))
	}
	if t.AdminInvites {
		w = append(w, "Admin-invite emails are on: customers may be attached to existing Webex orgs, whose admins get an invitation email.")
	}
	if !t.WebexCalls {
		w = append(w, "Webex-to-Webex calls are off: users of this template's customers cannot call other Webex users directly.")
	}
	return w
}

// Checklist is the clicks a partner admin makes in Partner Hub to create
// this template, in Partner Hub's order, each step with this template's
// exact values in backticks; one step per string. The caller escapes each
// step for mrkdwn.
func (t *TemplateSpec) Checklist() []string {
	steps := []string{
		"In Partner Hub, open Customers → Onboarding templates and click Create template.",
		"Choose Webex for Wholesale and click Next.",
	}
	steps = append(steps, t.primarySteps()...)
	steps = append(steps, t.pstnStep(), t.authStep())
	steps = append(steps, t.settingsSteps()...)
	steps = append(steps,
		"Click Next, compare the summary with this checklist (Edit goes back to a section), then click Submit.",
		"Open the new template under Customers → Onboarding templates and copy its Provisioning ID.",
		t.activateStep())
	return steps
}

// primarySteps are the Primary settings, top to bottom.
func (t *TemplateSpec) primarySteps() []string {
	lang := "leave Partner Hub's default (this template sets no email language)"
	if t.EmailLanguage != "" {
		lang = named(LanguageName(t.EmailLanguage), t.EmailLanguage)
	}
	return []string{
		fmt.Sprintf("Primary settings → Template name: `%s`.", t.Name),
		fmt.Sprintf("Primary settings → Service provider admin: `%s`.", t.SPAdmin),
		fmt.Sprintf("Primary settings → Country or region: %s.", named(CountryName(t.Country), t.Country)),
		fmt.Sprintf("Primary settings → Default email language: %s.", lang),
		fmt.Sprintf("Primary settings → Wholesale subscription: `%s`.", t.Subscription),
	}
}

// ccpCaveat is why a Cloud Connected PSTN provider in the template is
// advised against.
const ccpCaveat = "customers created with one get integrated PSTN, whose numbers come from the provider and cannot be managed from the bot"

func (t *TemplateSpec) pstnStep() string {
	if t.PSTNProvider == "" {
		return "Wholesale calling → Cloud Connected PSTN provider: leave it empty, then click Next. (A provider is advised against here: " + ccpCaveat + ".)"
	}
	return fmt.Sprintf("Wholesale calling → Cloud Connected PSTN provider: choose `%s`, then click Next. "+
		"(Approved, though advised against: %s.)", t.PSTNProvider, ccpCaveat)
}

func (t *TemplateSpec) authStep() string {
	var s string
	switch t.Auth {
	case "saml", "oidc":
		s = fmt.Sprintf("Authentication → Partner authentication (%s)", strings.ToUpper(t.Auth))
		if t.IdPEntityID != "" {
			s += fmt.Sprintf(", IdP entity ID `%s`", t.IdPEntityID)
		}
	default:
		s = "Authentication → Webex authentication (the default)"
	}
	return s + ", then click Next."
}

// settingsSteps are the email and calling settings: Common settings, then
// Call settings.
func (t *TemplateSpec) settingsSteps() []string {
	brand := "leave it empty (Partner Hub's default)"
	if t.Brand != "" {
		brand = "`" + t.Brand + "`"
	}
	calls := fmt.Sprintf("Call settings → Webex-to-Webex calls: `%s`. Partner Hub shows this toggle only to partners "+
		"that have both Wholesale and BroadWorks onboarding templates, so you may not see it; ", onOffWord(t.WebexCalls))
	if t.WebexCalls {
		calls += "if it is not there, go on: there is nothing to set."
	} else {
		calls += "if it is not there, this template's `off` cannot be set: tell the approvers before you submit."
	}
	return []string{
		fmt.Sprintf("Common settings → Brand name for emails: %s.", brand),
		fmt.Sprintf("Common settings → Allow admin-invite emails when attaching to existing orgs: `%s`.", onOffWord(t.AdminInvites)),
		calls,
	}
}

func (t *TemplateSpec) activateStep() string {
	if t.ProvisioningID != "" {
		return fmt.Sprintf("Check that it is `%s`, the Provisioning ID this template was approved with; if not, tell the approvers.", t.ProvisioningID)
	}
	return fmt.Sprintf("Run `/onboard-customer template activate %s provisioning-id=<the Provisioning ID>` with the ID you copied.", t.Name)
}

// named is "Germany (`DE`)", or just "`DE`" for a code without a name.
func named(name, code string) string {
	if name == "" {
		return "`" + code + "`"
	}
	return fmt.Sprintf("%s (`%s`)", name, code)
}

func onOffWord(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// Defaults is what customers created with this template inherit.
func (t *TemplateSpec) Defaults() TemplateDefaults {
	return TemplateDefaults{
		Name:           t.Name,
		Version:        t.Version,
		ProvisioningID: t.ProvisioningID,
		Country:        t.Country,
		Language:       t.Language,
		Timezone:       t.Timezone,
		Packages:       slices.Clone(t.Packages),
		AdminInvites:   t.AdminInvites,
	}
}

// TemplateDefaults is what an active template contributes to a customer:
// its provisioning id and the values the bot pre-fills.
type TemplateDefaults struct {
	Name           string
	Version        int
	ProvisioningID string
	Country        string
	Language       string
	Timezone       string
	Packages       []string
	AdminInvites   bool // "allow admin-invite emails": needed to attach an existing org
}
