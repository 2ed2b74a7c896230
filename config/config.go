package config

import (
	"time"

	"github.com/sirupsen/logrus"
)

// Mode is how the bot talks to people.
type Mode string

// The run modes (ONBOARDBOT_MODE).
const (
	ModeConsole Mode = "console"
	ModeSocket  Mode = "socket"
	ModeHTTP    Mode = "http"
)

// Config is the validated configuration. Secrets are of type Secret, so
// printing a Config (%v, %+v, %#v, JSON) never shows them.
type Config struct {
	Mode Mode

	SlackBotToken, SlackAppToken, SlackSigningSecret Secret
	SlackAPIURL                                      string // always ends in "/" (slack-go appends the method)
	HTTPAddr                                         string
	// RedisURL is empty for the embedded in-process Redis. It may carry a
	// password: Secrets includes it, and errors never print the URL.
	RedisURL    Secret
	RedisPrefix string

	WebexAPIURL          string
	WebexToken           Secret
	WebexClientID        string
	WebexClientSecret    Secret
	WebexRefreshToken    Secret
	WebexTokenURL        string
	WebexSandbox         bool
	WebexSubPartnerOrgID string

	ApprovalChannel string
	Requesters      []string // user ids and/or user-group ids; empty: everyone
	Approvers       []string
	ApproverGroup   string
	Admins          []string
	AutoApprove     []string // subset of "users", "location"
	// SupportedCountries holds upper-case alpha-2 codes; empty means all.
	SupportedCountries []string

	NewRequestsPerMinute int
	WorkerConcurrency    int
	WorkerJobs           int
	WebexRate            int
	ProvisionDeadline    time.Duration
	DraftTTL             time.Duration

	DigestSchedule     string
	DigestTZ           *time.Location
	DigestChannel      string
	StaleApprovalAfter time.Duration
	IdleDraftAfter     time.Duration
	StuckAfter         time.Duration
	ConsentWaitAfter   time.Duration

	LogLevel  logrus.Level
	LogFormat string // "json" or "text"
}

// Secrets returns every non-empty secret value (including a password in
// REDIS_URL), for the log hook that redacts them from any line.
func (c *Config) Secrets() []string {
	var out []string
	for _, s := range []Secret{c.SlackBotToken, c.SlackAppToken, c.SlackSigningSecret, c.WebexToken, c.WebexClientSecret, c.WebexRefreshToken} {
		if s != "" {
			out = append(out, s.Value())
		}
	}
	return append(out, redisPasswords(c.RedisURL.Value())...)
}
