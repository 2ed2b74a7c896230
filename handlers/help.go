package handlers

import (
	"strings"
)

// help lists what the caller may run, and touches neither Redis nor Slack:
// roles come from the configuration and the cached user groups.
func (h *Handler) help(u caller) *Reply {
	return &Reply{Text: helpTexts[helpIndex(h.isRequester(u.id), h.isApprover(u.id), h.isAdmin(u.id))], Static: true}
}

// helpTexts holds helpText for each of the eight combinations of roles,
// built once: help is the command answered most often.
var helpTexts = func() (t [8]string) {
	for i := range t {
		t[i] = helpText(i&1 != 0, i&2 != 0, i&4 != 0)
	}
	return t
}()

func helpIndex(requester, approver, admin bool) int {
	i := 0
	if requester {
		i |= 1
	}
	if approver {
		i |= 2
	}
	if admin {
		i |= 4
	}
	return i
}

// helpCommand is one line of help and who sees it. A command that
// several roles may run is listed once, in the words of the widest role the
// caller has (an approver's retry runs any request, a requester's only
// their own).
type helpCommand struct {
	requester, approver, admin, everyone string // the line for each role; "" = not for it
}

// helpCommands is the command list in the order help shows it.
var helpCommands = []helpCommand{
	{requester: "`new name=… email=… external-id=… country=… package=… provisioning-id=…|template=… supported-location=yes address=… city=… [zip=… timezone=… language=… location-name=… elin=… limit.&lt;package&gt;=N org-id=… order=…]` — request a customer; add `pstn=… numbers=+…-+… rows=…` for the whole onboarding as one plan"},
	{requester: "`import rows=&lt;customers CSV&gt; [users=&lt;users CSV&gt;] [valid-only=yes]` — many customers at once, one approval"},
	{requester: "`template new name=… country=… language=… package=… sp-admin=… subscription=… […]` — record a template"},
	{requester: "`template activate NAME provisioning-id=…` — activate your template", approver: "`template activate NAME provisioning-id=…` — activate an approved template"},
	{requester: "`adopt CUSTOMER` — bring in a customer created in Partner Hub"},
	{requester: "`users CUSTOMER rows=…` — add users (CSV rows)"},
	{requester: "`location CUSTOMER name=… address=… city=… state=… zip=… timezone=… language=…` — add a calling location"},
	{requester: "`pstn CUSTOMER [location=NAME] [connection=\"…\" [route-type=TRUNK|ROUTE_GROUP route=ID]]` — a location's PSTN connection and Webex's options; with connection=, set one up",
		everyone: "`pstn CUSTOMER [location=NAME]` — a location's PSTN connection and the options Webex offers"},
	{requester: "`numbers CUSTOMER [location=NAME] [page=N]` · `numbers CUSTOMER add=+…-+… [location=NAME] [main=+…]` — available numbers · add and activate a block",
		everyone: "`numbers CUSTOMER [location=NAME] [page=N]` — available numbers"},
	{requester: "`change CUSTOMER user=EMAIL package=P [phone=+…|auto] [extension=N] [location=NAME]` · `remove CUSTOMER user=EMAIL` · `delete CUSTOMER` — corrections"},
	{requester: "`resume [D-n]` — your drafts; reopen one where you left it"},
	{requester: "`cancel ID` — withdraw your request", admin: "`cancel ID` — cancel anyone's request"},
	{requester: "`retry ID` — run your failed request again", approver: "`retry ID` — run any failed request again"},
	{approver: "`approve ID` — approve someone else's request (or press Approve)"},
	{approver: "`reject ID reason=\"…\"` — reject a request"},
	{admin: "`template retire NAME` — retire a template"},
	{everyone: "`status ID|CUSTOMER` — a request's state and audit trail"},
	{everyone: "`list [mine|pending|incomplete|failed]` — requests at a glance"},
	{everyone: "`template list` · `template show NAME` — templates"},
	{everyone: "`digest` — your reminder digest now", admin: "`digest` — your reminder digest now, and the channel digest posted"},
	{everyone: "`help` — this list"},
}

// helpText is the command list for a caller's roles, each command once.
func helpText(requester, approver, admin bool) string {
	lines := []string{"*/onboard-customer* — what you can run:"}
	for _, c := range helpCommands {
		line := ""
		for _, role := range []struct {
			has  bool
			line string
		}{{admin, c.admin}, {approver, c.approver}, {requester, c.requester}, {true, c.everyone}} {
			if role.has && role.line != "" {
				line = role.line
				break
			}
		}
		if line != "" {
			lines = append(lines, "• "+line)
		}
	}
	return strings.Join(lines, "\n")
}
