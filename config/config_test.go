package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// Distinctive values, so a leak is easy to spot in any output.
const (
	botToken   = "xoxb-BOTSECRET-1111"
	appToken   = "xapp-APPSECRET-2222"
	signSecret = "SIGNSECRET3333"
	webexTok   = "WEBEXTOKEN4444"
	clientSec  = "CLIENTSECRET5555"
	refreshTok = "REFRESHTOKEN6666"
	redisPass  = "REDISPASS7777"
)

var allSecrets = []string{botToken, appToken, signSecret, webexTok, clientSec, refreshTok, redisPass}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// with returns base plus overrides; "" deletes a key.
func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

var httpBase = map[string]string{
	"SLACK_BOT_TOKEN": botToken, "SLACK_SIGNING_SECRET": signSecret,
	"APPROVAL_CHANNEL": "C0APPROVALS", "APPROVERS": "U0BOB,U0CAROL",
}

func TestModeRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		want     Mode
		modeErr  string // substring of the ModeError; "" = none
		fieldErr string // substring of another problem
	}{
		{name: "nothing set is console", env: map[string]string{}, want: ModeConsole},
		{name: "app and bot is socket", env: map[string]string{"SLACK_APP_TOKEN": appToken, "SLACK_BOT_TOKEN": botToken, "APPROVAL_CHANNEL": "#approvals", "APPROVER_GROUP": "S0APPROVERS"}, want: ModeSocket},
		{name: "signing and bot is http", env: httpBase, want: ModeHTTP},
		{name: "app without bot", env: map[string]string{"SLACK_APP_TOKEN": appToken}, modeErr: "SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is missing: socket mode needs both"},
		{name: "signing without bot", env: map[string]string{"SLACK_SIGNING_SECRET": signSecret}, modeErr: "SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is missing: http mode needs both"},
		{name: "bot alone", env: map[string]string{"SLACK_BOT_TOKEN": botToken}, modeErr: "neither SLACK_APP_TOKEN (socket mode) nor SLACK_SIGNING_SECRET (http mode)"},
		{name: "app and signing", env: map[string]string{"SLACK_APP_TOKEN": appToken, "SLACK_SIGNING_SECRET": signSecret}, modeErr: "both SLACK_APP_TOKEN and SLACK_SIGNING_SECRET are set: choose socket or http (or set ONBOARDBOT_MODE)"},
		{name: "all three", env: with(httpBase, "SLACK_APP_TOKEN", appToken), modeErr: "both SLACK_APP_TOKEN and SLACK_SIGNING_SECRET are set"},
		{name: "explicit http resolves ambiguity", env: with(httpBase, "SLACK_APP_TOKEN", appToken, "ONBOARDBOT_MODE", "http"), want: ModeHTTP},
		{name: "explicit socket resolves ambiguity", env: with(httpBase, "SLACK_APP_TOKEN", appToken, "ONBOARDBOT_MODE", "socket"), want: ModeSocket},
		{name: "explicit console ignores Slack", env: map[string]string{"ONBOARDBOT_MODE": "console", "SLACK_APP_TOKEN": appToken}, want: ModeConsole},
		{name: "explicit http without secret", env: map[string]string{"ONBOARDBOT_MODE": "http", "SLACK_BOT_TOKEN": botToken}, modeErr: "ONBOARDBOT_MODE is http but SLACK_SIGNING_SECRET missing"},
		{name: "explicit socket without anything", env: map[string]string{"ONBOARDBOT_MODE": "socket"}, modeErr: "SLACK_APP_TOKEN and SLACK_BOT_TOKEN missing"},
		{name: "explicit mode is case-insensitive", env: with(httpBase, "ONBOARDBOT_MODE", "HTTP"), want: ModeHTTP},
		{name: "unknown mode", env: map[string]string{"ONBOARDBOT_MODE": "slack"}, fieldErr: `ONBOARDBOT_MODE: "slack" is not a run mode`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(env(tt.env))
			var me *ModeError
			switch {
			case tt.modeErr != "":
				if !errors.As(err, &me) {
					t.Fatalf("want a ModeError, got %v", err)
				}
				if !strings.Contains(me.Error(), tt.modeErr) {
					t.Errorf("ModeError = %q, want it to contain %q", me, tt.modeErr)
				}
			case tt.fieldErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.fieldErr) {
					t.Fatalf("err = %v, want %q", err, tt.fieldErr)
				}
				if errors.As(err, &me) {
					t.Errorf("unexpected ModeError %v", me)
				}
			default:
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if cfg.Mode != tt.want {
					t.Errorf("Mode = %q, want %q", cfg.Mode, tt.want)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	console, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"SlackAPIURL", console.SlackAPIURL, "https://slack.com/api/"},
		{"HTTPAddr", console.HTTPAddr, ":3000"},
		{"RedisURL", console.RedisURL.Value(), ""},
		{"RedisPrefix", console.RedisPrefix, "onboardbot:"},
		{"WebexAPIURL", console.WebexAPIURL, "https://webexapis.com/v1"},
		{"WebexTokenURL", console.WebexTokenURL, "https://webexapis.com/v1/access_token"},
		{"WebexSandbox", console.WebexSandbox, true},
		{"ApprovalChannel", console.ApprovalChannel, "#approvals"},
		{"Approvers", fmt.Sprint(console.Approvers), "[bob carol]"},
		{"Admins", fmt.Sprint(console.Admins), "[bob]"},
		{"Requesters", len(console.Requesters), 0},
		{"AutoApprove", len(console.AutoApprove), 0},
		{"SupportedCountries", len(console.SupportedCountries), 0},
		{"NewRequestsPerMinute", console.NewRequestsPerMinute, 30},
		{"WorkerConcurrency", console.WorkerConcurrency, 4},
		{"ProvisionDeadline", console.ProvisionDeadline, 30 * time.Minute},
		{"DraftTTL", console.DraftTTL, 168 * time.Hour},
		{"DigestSchedule", console.DigestSchedule, "0 9 * * 1-5"},
		{"DigestTZ", console.DigestTZ.String(), "UTC"},
		{"DigestChannel", console.DigestChannel, "#approvals"},
		{"StaleApprovalAfter", console.StaleApprovalAfter, 4 * time.Hour},
		{"IdleDraftAfter", console.IdleDraftAfter, 24 * time.Hour},
		{"StuckAfter", console.StuckAfter, time.Hour},
		{"ConsentWaitAfter", console.ConsentWaitAfter, 72 * time.Hour},
		{"LogLevel", console.LogLevel, logrus.InfoLevel},
		{"LogFormat console", console.LogFormat, "text"},
	}
	httpCfg, err := Load(env(with(httpBase, "WEBEX_TOKEN", webexTok)))
	if err != nil {
		t.Fatal(err)
	}
	checks = append(checks, []struct {
		name      string
		got, want any
	}{
		{"LogFormat http", httpCfg.LogFormat, "json"},
		{"WebexSandbox with a credential", httpCfg.WebexSandbox, false},
		{"Admins outside console", len(httpCfg.Admins), 0},
		{"DigestChannel follows APPROVAL_CHANNEL", httpCfg.DigestChannel, "C0APPROVALS"},
	}...)
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		check func(*Config) bool
	}{
		{"api url gets its slash", map[string]string{"SLACK_API_URL": "http://127.0.0.1:9/api"}, func(c *Config) bool { return c.SlackAPIURL == "http://127.0.0.1:9/api/" }},
		{"token url follows api url", map[string]string{"WEBEX_API_URL": "http://127.0.0.1:9/v1/"}, func(c *Config) bool { return c.WebexTokenURL == "http://127.0.0.1:9/v1/access_token" }},
		{"oauth trio", map[string]string{"WEBEX_CLIENT_ID": "id", "WEBEX_CLIENT_SECRET": clientSec, "WEBEX_REFRESH_TOKEN": refreshTok}, func(c *Config) bool { return !c.WebexSandbox && c.WebexClientSecret.Value() == clientSec }},
		{"sandbox forced with a token", map[string]string{"WEBEX_TOKEN": webexTok, "WEBEX_SANDBOX": "1"}, func(c *Config) bool { return c.WebexSandbox }},
		{"auto approve", map[string]string{"AUTO_APPROVE": "users, Location"}, func(c *Config) bool { return fmt.Sprint(c.AutoApprove) == "[users location]" }},
		{"countries upper-cased", map[string]string{"SUPPORTED_COUNTRIES": "de,AT, ch"}, func(c *Config) bool { return fmt.Sprint(c.SupportedCountries) == "[DE AT CH]" }},
		{"CRON_TZ prefix", map[string]string{"DIGEST_SCHEDULE": "CRON_TZ=Europe/Berlin 30 8 * * *"}, func(c *Config) bool { return c.DigestSchedule == "CRON_TZ=Europe/Berlin 30 8 * * *" }},
		{"digest tz", map[string]string{"DIGEST_TZ": "Europe/Berlin"}, func(c *Config) bool { return c.DigestTZ.String() == "Europe/Berlin" }},
		{"requesters mix users and a group", with(httpBase, "REQUESTERS", "U0ALICE,S0TEAM"), func(c *Config) bool { return len(c.Requesters) == 2 }},
		{"approver group alone suffices", with(httpBase, "APPROVERS", "", "APPROVER_GROUP", "S0APPROVERS"), func(c *Config) bool { return c.ApproverGroup == "S0APPROVERS" }},
		{"redis sentinel url", map[string]string{"REDIS_URL": "redis://:" + redisPass + "@h:26379?master_name=m&addr=h2:26379"}, func(c *Config) bool { return c.RedisURL != "" }},
		{"redis unix", map[string]string{"REDIS_URL": "unix:///run/redis.sock"}, func(c *Config) bool { return c.RedisURL == "unix:///run/redis.sock" }},
		{"log level and format", map[string]string{"LOG_LEVEL": "debug", "LOG_FORMAT": "JSON"}, func(c *Config) bool { return c.LogLevel == logrus.DebugLevel && c.LogFormat == "json" }},
		{"durations", map[string]string{"STUCK_AFTER": "90m", "DRAFT_TTL": "1h30m"}, func(c *Config) bool { return c.StuckAfter == 90*time.Minute && c.DraftTTL == 90*time.Minute }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(cfg) {
				t.Errorf("unexpected config %+v", cfg)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"concurrency not a number", map[string]string{"WORKER_CONCURRENCY": "zero"}, `WORKER_CONCURRENCY: "zero" is not a whole number (expected 1–64)`},
		{"concurrency out of range", map[string]string{"WORKER_CONCURRENCY": "65"}, `WORKER_CONCURRENCY: 65 is out of range (expected 1–64)`},
		{"rate zero", map[string]string{"NEW_REQUESTS_PER_MINUTE": "0"}, `NEW_REQUESTS_PER_MINUTE: 0 is out of range`},
		{"bad duration", map[string]string{"PROVISION_DEADLINE": "soon"}, `PROVISION_DEADLINE: "soon" is not a duration`},
		{"zero duration", map[string]string{"DRAFT_TTL": "0s"}, `DRAFT_TTL: "0s" is not positive`},
		{"negative duration", map[string]string{"STUCK_AFTER": "-1h"}, `STUCK_AFTER: "-1h" is not positive`},
		{"bad cron", map[string]string{"DIGEST_SCHEDULE": "0 9 * *"}, `DIGEST_SCHEDULE: "0 9 * *" is not a cron schedule`},
		{"bad cron tz", map[string]string{"DIGEST_SCHEDULE": "CRON_TZ=Mars/Base 0 9 * * *"}, `DIGEST_SCHEDULE:`},
		{"bad tz", map[string]string{"DIGEST_TZ": "Europe/Atlantis"}, `DIGEST_TZ: "Europe/Atlantis" is not an IANA time zone`},
		{"auto approve customer", map[string]string{"AUTO_APPROVE": "users,customer"}, `AUTO_APPROVE: "customer" cannot be auto-approved (expected users and/or location)`},
		{"bad country", map[string]string{"SUPPORTED_COUNTRIES": "DE,GER"}, `SUPPORTED_COUNTRIES: "GER" is not an ISO 3166 alpha-2 code`},
		{"plain names outside console", with(httpBase, "APPROVERS", "bob"), `APPROVERS: "bob" is not a Slack user id: plain names are for the console only`},
		{"display name", with(httpBase, "APPROVERS", "@bob"), `APPROVERS: "@bob" is not a Slack user id: that is a display name, not an id`},
		{"email", with(httpBase, "APPROVERS", "bob@x.example"), `APPROVERS: "bob@x.example" is not a Slack user id: that is an email address, not an id`},
		{"lower case", with(httpBase, "APPROVERS", "u0bob"), `APPROVERS: "u0bob" is not a Slack user id: Slack ids are upper case`},
		{"channel id", with(httpBase, "APPROVERS", "C0APPROVALS"), `APPROVERS: "C0APPROVALS" is not a Slack user id: that looks like a channel id`},
		{"where to find it", with(httpBase, "APPROVERS", "bob"), `Copy member ID`},
		{"group in approvers", with(httpBase, "ADMINS", "S0TEAM"), `ADMINS: "S0TEAM" is not a Slack user id: that is a user-group id, which belongs in APPROVER_GROUP or REQUESTERS`},
		{"bad requester", with(httpBase, "REQUESTERS", "alice"), `REQUESTERS: "alice" is not a Slack user or user-group id`},
		{"bad group", with(httpBase, "APPROVER_GROUP", "U0BOB"), `APPROVER_GROUP: "U0BOB" is not a Slack user-group id`},
		{"no approval channel in http", with(httpBase, "APPROVAL_CHANNEL", ""), `APPROVAL_CHANNEL: is required in http mode`},
		{"nobody approves in http", with(httpBase, "APPROVERS", ""), `APPROVERS: APPROVERS or APPROVER_GROUP is required in http mode`},
		{"bad channel", map[string]string{"DIGEST_CHANNEL": "approvals"}, `DIGEST_CHANNEL: "approvals" is not a channel`},
		{"bad addr", map[string]string{"HTTP_ADDR": "3000"}, `HTTP_ADDR: "3000" is not a listen address`},
		{"bad port", map[string]string{"HTTP_ADDR": ":http-ish"}, `HTTP_ADDR: ":http-ish" is not a listen address`},
		{"bad slack url", map[string]string{"SLACK_API_URL": "slack.com/api"}, `SLACK_API_URL: is not an absolute http(s) URL`},
		{"bad redis scheme", map[string]string{"REDIS_URL": "http://h:6379"}, `REDIS_URL: scheme "http" is not supported`},
		{"redis without host", map[string]string{"REDIS_URL": "redis://"}, `REDIS_URL: has no host`},
		{"oauth incomplete", map[string]string{"WEBEX_CLIENT_ID": "id"}, `WEBEX_CLIENT_SECRET: the OAuth refresh flow needs WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET and WEBEX_REFRESH_TOKEN; WEBEX_CLIENT_ID set but WEBEX_CLIENT_SECRET, WEBEX_REFRESH_TOKEN missing`},
		{"no sandbox no credential", map[string]string{"WEBEX_SANDBOX": "0"}, `WEBEX_SANDBOX: is 0 but no Webex credential is set`},
		{"bad sandbox flag", map[string]string{"WEBEX_SANDBOX": "maybe"}, `WEBEX_SANDBOX: "maybe" is not a boolean`},
		{"bad log level", map[string]string{"LOG_LEVEL": "loud"}, `LOG_LEVEL: "loud" is not a log level`},
		{"bad log format", map[string]string{"LOG_FORMAT": "xml"}, `LOG_FORMAT: "xml" is not allowed (expected json or text)`},
		{"token with newline", map[string]string{"WEBEX_TOKEN": webexTok + "\n"}, `WEBEX_TOKEN: contains whitespace`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(env(tt.env))
			if err == nil {
				t.Fatalf("Load accepted it: %+v", cfg)
			}
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err is %T, want *Errors", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.want)
			}
			var me *ModeError
			if errors.As(err, &me) {
				t.Errorf("a value problem is not a ModeError: %v", me)
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{
		"SLACK_APP_TOKEN":    appToken,
		"WORKER_CONCURRENCY": "zero",
		"DRAFT_TTL":          "forever",
		"DIGEST_TZ":          "Nowhere/Else",
		"AUTO_APPROVE":       "delete",
		"LOG_FORMAT":         "xml",
	}))
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want *Errors", err)
	}
	want := []string{"SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is missing", "WORKER_CONCURRENCY:", "DRAFT_TTL:", "DIGEST_TZ:", "AUTO_APPROVE:", "LOG_FORMAT:"}
	if len(errs.Problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(errs.Problems), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	var me *ModeError
	if !errors.As(err, &me) {
		t.Error("the ModeError is not found inside Errors")
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	full := map[string]string{
		"SLACK_BOT_TOKEN": botToken, "SLACK_SIGNING_SECRET": signSecret,
		"APPROVAL_CHANNEL": "C0APPROVALS", "APPROVERS": "U0BOB",
		"WEBEX_TOKEN": webexTok, "WEBEX_CLIENT_ID": "id", "WEBEX_CLIENT_SECRET": clientSec, "WEBEX_REFRESH_TOKEN": refreshTok,
		"REDIS_URL": "rediss://user:" + redisPass + "@redis.example:6380/0",
	}
	cfg, err := Load(env(full))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	printed := fmt.Sprintf("%v %+v %#v %s %q %x", cfg, cfg, cfg, cfg.SlackBotToken, cfg.WebexToken, cfg.SlackSigningSecret) + string(js)
	for _, s := range allSecrets[:6] {
		if strings.Contains(printed, s) {
			t.Errorf("secret %q printed:\n%s", s, printed)
		}
	}
	if !strings.Contains(printed, "[redacted]") {
		t.Error("secrets are not shown as [redacted]")
	}
	if cfg.SlackBotToken.Value() != botToken {
		t.Error("Value does not return the secret")
	}
	got := strings.Join(cfg.Secrets(), " ")
	for _, s := range allSecrets {
		if s == appToken {
			continue // not set here
		}
		if !strings.Contains(got, s) {
			t.Errorf("Secrets() lacks %q", s)
		}
	}

	// Broken configurations must not echo secrets either.
	broken := []map[string]string{
		with(full, "SLACK_APP_TOKEN", appToken),
		with(full, "ONBOARDBOT_MODE", "socket", "SLACK_APP_TOKEN", appToken+" "),
		with(full, "SLACK_SIGNING_SECRET", signSecret+"\n", "WEBEX_REFRESH_TOKEN", ""),
		with(full, "REDIS_URL", "ftp://u:"+redisPass+"@h", "SLACK_API_URL", "https://u:"+redisPass+"@slack.example/api/"),
		{"SLACK_BOT_TOKEN": botToken, "WEBEX_CLIENT_SECRET": clientSec, "REDIS_URL": "redis://:" + redisPass + "@"},
	}
	for i, m := range broken {
		_, err := Load(env(m))
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		for _, s := range allSecrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("case %d: error shows secret %q: %v", i, s, err)
			}
		}
	}
}

func TestEveryVariableIsDocumented(t *testing.T) {
	t.Parallel()
	// Each variable Load reads must be a row of Vars, and every row must be read.
	read := map[string]bool{}
	_, _ = Load(func(k string) string { read[k] = true; return "" })
	rows := map[string]bool{}
	for _, v := range Vars {
		if rows[v.Name] {
			t.Errorf("%s appears twice", v.Name)
		}
		rows[v.Name] = true
		if !read[v.Name] {
			t.Errorf("%s is documented but never read", v.Name)
		}
	}
	for k := range read {
		if !rows[k] {
			t.Errorf("%s is read but not documented", k)
		}
	}
	secret := map[string]bool{"SLACK_BOT_TOKEN": true, "SLACK_APP_TOKEN": true, "SLACK_SIGNING_SECRET": true, "WEBEX_TOKEN": true, "WEBEX_CLIENT_SECRET": true, "WEBEX_REFRESH_TOKEN": true}
	for _, v := range Vars {
		if v.Secret != secret[v.Name] {
			t.Errorf("%s: Secret = %v", v.Name, v.Secret)
		}
	}
}

func TestMarkdownTable(t *testing.T) {
	t.Parallel()
	md := MarkdownTable()
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if lines[0] != "| variable | default | meaning |" || lines[1] != "|---|---|---|" {
		t.Errorf("header = %q", lines[:2])
	}
	if len(lines) != len(Vars)+2 {
		t.Fatalf("%d lines for %d variables", len(lines), len(Vars))
	}
	for i, v := range Vars {
		line := lines[i+2]
		if !strings.HasPrefix(line, "| `"+v.Name+"` | ") {
			t.Errorf("row %d = %q, want %s", i, line, v.Name)
		}
		if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != 4 {
			t.Errorf("row %s has %d cell separators, want 4", v.Name, n)
		}
	}
	if want := "| `WORKER_CONCURRENCY` | `4` | parallel Webex calls per batch (1–64) |"; !strings.Contains(md, want) {
		t.Errorf("table lacks %q", want)
	}
}

// TestRedisPasswordNeverPrinted: REDIS_URL may carry a password, so the whole
// Config printed in any form must not show it.
func TestRedisPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	const pass = "s3cret-redis-password"
	cfg, err := Load(env(map[string]string{"REDIS_URL": "redis://:" + pass + "@redis.internal:6379/0"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RedisURL.Value() == "" {
		t.Fatal("REDIS_URL was not loaded")
	}
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, pass) {
			t.Fatalf("the Redis password is printed: %s", s)
		}
	}
}
