// Package config owns onboardbot's environment: the variable table as data
// (Vars, which the documented table is checked against), loading and validating it (Load, every
// problem at once), the run-mode rule, and secrets that print as
// "[redacted]". It imports nothing of ours.
package config

import "strings"

// Var is one configuration variable as documented. Default and Meaning are
// Markdown, exactly as the configuration table of docs/operations.md shows
// them, so that table can be generated from (or checked against) this one.
type Var struct {
	Name    string
	Default string
	Meaning string
	Secret  bool
}

// Vars is the configuration table, in the order the documentation lists it.
var Vars = []Var{
	{Name: "ONBOARDBOT_MODE", Default: "auto: `console` when no Slack variable is set, `socket` with `SLACK_APP_TOKEN` + `SLACK_BOT_TOKEN`, `http` with `SLACK_SIGNING_SECRET` + `SLACK_BOT_TOKEN`; any other combination exits 2", Meaning: "run mode: `console`, `socket` or `http`"},
	{Name: "SLACK_BOT_TOKEN", Default: "–", Meaning: "bot token (`xoxb-…`); secret", Secret: true},
	{Name: "SLACK_APP_TOKEN", Default: "–", Meaning: "app-level token (`xapp-…`, `connections:write`) for Socket Mode; secret", Secret: true},
	{Name: "SLACK_SIGNING_SECRET", Default: "–", Meaning: "verifies that HTTP requests come from Slack; secret", Secret: true},
	{Name: "SLACK_API_URL", Default: "`https://slack.com/api/`", Meaning: "Slack Web API base (tests point it at a fake)"},
	{Name: "HTTP_ADDR", Default: "`:3000`", Meaning: "HTTP listener (Slack endpoints in http mode; `/healthz`, `/readyz`, `/metrics` in socket and http mode)"},
	{Name: "REDIS_URL", Default: "unset → embedded in-process Redis (one replica only; warning)", Meaning: "`redis://`, `rediss://`, `unix://`, Sentinel (`master_name=`), Cluster (several `addr=`)"},
	{Name: "REDIS_PREFIX", Default: "`onboardbot:`", Meaning: "key prefix"},
	{Name: "WEBEX_API_URL", Default: "`https://webexapis.com/v1`", Meaning: "Webex base URL"},
	{Name: "WEBEX_TOKEN", Default: "–", Meaning: "static access token; secret", Secret: true},
	{Name: "WEBEX_CLIENT_ID", Default: "–", Meaning: "OAuth refresh flow: client id (with `WEBEX_CLIENT_SECRET` and `WEBEX_REFRESH_TOKEN`)"},
	{Name: "WEBEX_CLIENT_SECRET", Default: "–", Meaning: "OAuth refresh flow: client secret; secret", Secret: true},
	{Name: "WEBEX_REFRESH_TOKEN", Default: "–", Meaning: "OAuth refresh flow: refresh token; secret", Secret: true},
	{Name: "WEBEX_TOKEN_URL", Default: "`${WEBEX_API_URL}/access_token`", Meaning: "token endpoint"},
	{Name: "WEBEX_SANDBOX", Default: "`1` when no Webex credential at all is set, else `0`", Meaning: "use the embedded sandbox; every Slack message then carries `SANDBOX`"},
	{Name: "WEBEX_SUBPARTNER_ORG_ID", Default: "–", Meaning: "sent as `onBehalfOfSubPartnerOrgId`"},
	{Name: "APPROVAL_CHANNEL", Default: "console: `#approvals`", Meaning: "where summaries go (a channel id or `#name`; required in socket and http mode)"},
	{Name: "REQUESTERS", Default: "– (every workspace member)", Meaning: "Slack user ids and/or a user-group id allowed to submit"},
	{Name: "APPROVERS", Default: "console: `bob,carol`", Meaning: "Slack user ids"},
	{Name: "APPROVER_GROUP", Default: "–", Meaning: "Slack user-group id whose members approve"},
	{Name: "ADMINS", Default: "console: `bob`", Meaning: "Slack user ids: retire templates, dismiss digest items, cancel anyone's request"},
	{Name: "AUTO_APPROVE", Default: "– (none)", Meaning: "comma list of request kinds approved without a second person when their precheck passed and they fit the customer's ordered quantities: only `users` and `location` may be listed; each auto-approval is audited"},
	{Name: "SUPPORTED_COUNTRIES", Default: "all ISO 3166 alpha-2", Meaning: "countries accepted for a customer HQ (comma list of alpha-2 codes)"},
	{Name: "NEW_REQUESTS_PER_MINUTE", Default: "`30`", Meaning: "per user, accepted submissions only, shared across replicas"},
	{Name: "WORKER_CONCURRENCY", Default: "`4`", Meaning: "parallel Webex calls per batch (1–64)"},
	{Name: "WORKER_JOBS", Default: "`4`", Meaning: "requests a replica commits at once that people wait for (1–64); the bulk lane of imports runs four times as many, as its customers mostly wait for Webex to provision them"},
	{Name: "WEBEX_RATE", Default: "`0` (off)", Meaning: "Webex calls per second a replica sends at most; Webex publishes no limit, so by default the bot learns it from 429 and Retry-After; set the token's limit divided by the replicas to spend no calls on refusals (0–100000)"},
	{Name: "PROVISION_DEADLINE", Default: "`30m`", Meaning: "then a provisioning customer moves to the watch list"},
	{Name: "DRAFT_TTL", Default: "`168h`", Meaning: "draft lifetime"},
	{Name: "DIGEST_SCHEDULE", Default: "`0 9 * * 1-5`", Meaning: "when the digests go out (cron, five fields); a `CRON_TZ=` prefix wins over `DIGEST_TZ`"},
	{Name: "DIGEST_TZ", Default: "`UTC`", Meaning: "time zone of `DIGEST_SCHEDULE` (IANA name)"},
	{Name: "DIGEST_CHANNEL", Default: "`APPROVAL_CHANNEL`", Meaning: "channel digest"},
	{Name: "STALE_APPROVAL_AFTER", Default: "`4h`", Meaning: "digest threshold: a request waiting for approval this long"},
	{Name: "IDLE_DRAFT_AFTER", Default: "`24h`", Meaning: "digest threshold: a draft untouched this long"},
	{Name: "STUCK_AFTER", Default: "`1h`", Meaning: "digest threshold: a request committing or waiting on Webex this long"},
	{Name: "CONSENT_WAIT_AFTER", Default: "`72h`", Meaning: "digest threshold: users waiting for consent this long"},
	{Name: "LOG_LEVEL", Default: "`info`", Meaning: "logging level: `trace`, `debug`, `info`, `warn`, `error`"},
	{Name: "LOG_FORMAT", Default: "`json` (console: `text`)", Meaning: "log format: `json` or `text`"},
}

// MarkdownTable renders Vars as the configuration table of docs/operations.md.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, v := range Vars {
		b.WriteString("| `" + v.Name + "` | " + cell(v.Default) + " | " + cell(v.Meaning) + " |\n")
	}
	return b.String()
}

// cell keeps a value inside its table cell: a bare "|" would end it.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
