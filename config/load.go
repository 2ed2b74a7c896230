package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"

	// DIGEST_TZ must resolve on a distroless image without /usr/share/zoneinfo.
	_ "time/tzdata"
)

var (
	userIDRe      = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	groupIDRe     = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	consoleNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]*$`)
	channelIDRe   = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	channelNameRe = regexp.MustCompile(`^#[a-z0-9][a-z0-9._-]{0,79}$`)
	countryRe     = regexp.MustCompile(`^[A-Z]{2}$`)
)

// autoApprovable are the request kinds AUTO_APPROVE may name.
var autoApprovable = map[string]bool{"users": true, "location": true}

// Load reads the variables through getenv (os.Getenv in production, a map
// in tests), chooses the run mode, applies defaults and validates every
// value. It returns *Errors listing all problems at once; a *ModeError inside
// it is the exit-2 case. No error text contains a secret's value.
func Load(getenv func(string) string) (*Config, error) {
	l := loader{getenv: getenv, errs: &Errors{}}
	c := &Config{
		SlackBotToken:      l.secret("SLACK_BOT_TOKEN"),
		SlackAppToken:      l.secret("SLACK_APP_TOKEN"),
		SlackSigningSecret: l.secret("SLACK_SIGNING_SECRET"),
		WebexToken:         l.secret("WEBEX_TOKEN"),
		WebexClientSecret:  l.secret("WEBEX_CLIENT_SECRET"),
		WebexRefreshToken:  l.secret("WEBEX_REFRESH_TOKEN"),
	}
	c.Mode = l.mode(c)
	console := c.Mode == ModeConsole
	slackMode := c.Mode == ModeSocket || c.Mode == ModeHTTP

	c.SlackAPIURL = l.url("SLACK_API_URL", "https://slack.com/api/")
	if c.SlackAPIURL != "" && !strings.HasSuffix(c.SlackAPIURL, "/") {
		c.SlackAPIURL += "/"
	}
	c.HTTPAddr = l.addr("HTTP_ADDR", ":3000")
	c.RedisURL = Secret(l.redisURL("REDIS_URL"))
	c.RedisPrefix = l.str("REDIS_PREFIX", "onboardbot:")

	l.webex(c)

	c.ApprovalChannel = l.channel("APPROVAL_CHANNEL", consoleDefault(console, "#approvals"))
	if slackMode && c.ApprovalChannel == "" && l.get("APPROVAL_CHANNEL") == "" {
		l.errs.add("APPROVAL_CHANNEL", "is required in %s mode (a channel id like C0123ABCD or #name)", c.Mode)
	}
	c.Requesters = l.users("REQUESTERS", "", console, true)
	c.Approvers = l.users("APPROVERS", consoleDefault(console, "bob,carol"), console, false)
	c.ApproverGroup = l.group("APPROVER_GROUP", console)
	if slackMode && len(c.Approvers) == 0 && c.ApproverGroup == "" && l.get("APPROVERS") == "" {
		l.errs.add("APPROVERS", "APPROVERS or APPROVER_GROUP is required in %s mode: nobody could approve", c.Mode)
	}
	c.Admins = l.users("ADMINS", consoleDefault(console, "bob"), console, false)
	c.AutoApprove = l.autoApprove("AUTO_APPROVE")
	c.SupportedCountries = l.countries("SUPPORTED_COUNTRIES")

	c.NewRequestsPerMinute = l.intRange("NEW_REQUESTS_PER_MINUTE", 30, 1, 10000)
	c.WorkerConcurrency = l.intRange("WORKER_CONCURRENCY", 4, 1, 64)
	c.WorkerJobs = l.intRange("WORKER_JOBS", 4, 1, 64)
	c.WebexRate = l.intRange("WEBEX_RATE", 0, 0, 100000)
	c.ProvisionDeadline = l.duration("PROVISION_DEADLINE", "30m")
	c.DraftTTL = l.duration("DRAFT_TTL", "168h")

	c.DigestSchedule = l.schedule("DIGEST_SCHEDULE", "0 9 * * 1-5")
	c.DigestTZ = l.location("DIGEST_TZ", "UTC")
	c.DigestChannel = l.channel("DIGEST_CHANNEL", c.ApprovalChannel)
	c.StaleApprovalAfter = l.duration("STALE_APPROVAL_AFTER", "4h")
	c.IdleDraftAfter = l.duration("IDLE_DRAFT_AFTER", "24h")
	c.StuckAfter = l.duration("STUCK_AFTER", "1h")
	c.ConsentWaitAfter = l.duration("CONSENT_WAIT_AFTER", "72h")

	c.LogLevel = l.logLevel("LOG_LEVEL", "info")
	logFormat := "json"
	if console {
		logFormat = "text"
	}
	c.LogFormat = l.oneOf("LOG_FORMAT", logFormat, "json", "text")

	if len(l.errs.Problems) > 0 {
		return nil, l.errs
	}
	return c, nil
}

func consoleDefault(console bool, v string) string {
	if console {
		return v
	}
	return ""
}

type loader struct {
	getenv func(string) string
	errs   *Errors
}

// get treats an empty variable as unset, like most shells' ${X:-default}.
func (l *loader) get(name string) string { return strings.TrimSpace(l.getenv(name)) }

func (l *loader) str(name, def string) string {
	if v := l.get(name); v != "" {
		return v
	}
	return def
}

// secret is not trimmed: a secret with stray whitespace (a token pasted with
// its newline) is reported, without its value, rather than silently changed.
func (l *loader) secret(name string) Secret {
	v := l.getenv(name)
	if strings.ContainsAny(v, " \t\r\n") {
		l.errs.add(name, "contains whitespace (check for a trailing newline)")
	}
	return Secret(v)
}

// mode applies the run-mode rule: ONBOARDBOT_MODE when set; else console
// with no Slack variable, socket with SLACK_APP_TOKEN and SLACK_BOT_TOKEN,
// http with SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN. It returns "" when no
// mode can be chosen (any other combination); the problem is then a
// ModeError.
func (l *loader) mode(c *Config) Mode {
	bot, app, sign := c.SlackBotToken != "", c.SlackAppToken != "", c.SlackSigningSecret != ""
	switch m := Mode(strings.ToLower(l.get("ONBOARDBOT_MODE"))); m {
	case ModeConsole:
		return m
	case ModeSocket:
		if missing := missingOf(map[string]bool{"SLACK_BOT_TOKEN": bot, "SLACK_APP_TOKEN": app}); missing != "" {
			l.errs.mode("ONBOARDBOT_MODE is socket but %s: socket mode needs SLACK_APP_TOKEN and SLACK_BOT_TOKEN", missing)
			return ""
		}
		return m
	case ModeHTTP:
		if missing := missingOf(map[string]bool{"SLACK_BOT_TOKEN": bot, "SLACK_SIGNING_SECRET": sign}); missing != "" {
			l.errs.mode("ONBOARDBOT_MODE is http but %s: http mode needs SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN", missing)
			return ""
		}
		return m
	case "":
	default:
		l.errs.add("ONBOARDBOT_MODE", "%q is not a run mode (expected console, socket or http)", l.get("ONBOARDBOT_MODE"))
		return ""
	}
	switch {
	case !bot && !app && !sign:
		return ModeConsole
	case app && sign:
		l.errs.mode("both SLACK_APP_TOKEN and SLACK_SIGNING_SECRET are set: choose socket or http (or set ONBOARDBOT_MODE)")
	case app && !bot:
		l.errs.mode("SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is missing: socket mode needs both")
	case sign && !bot:
		l.errs.mode("SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is missing: http mode needs both")
	case app:
		return ModeSocket
	case sign:
		return ModeHTTP
	default:
		l.errs.mode("SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (socket mode) nor SLACK_SIGNING_SECRET (http mode) is")
	}
	return ""
}

// missingOf names the unset variables, in a stable order.
func missingOf(set map[string]bool) string {
	var missing []string
	for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"} {
		if ok, known := set[name]; known && !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return strings.Join(missing, " and ") + " missing"
}

// webex checks the credentials: sandbox by default when none is given, and
// a complete OAuth trio when any part of it is.
func (l *loader) webex(c *Config) {
	c.WebexAPIURL = l.url("WEBEX_API_URL", "https://webexapis.com/v1")
	c.WebexClientID = l.get("WEBEX_CLIENT_ID")
	if c.WebexAPIURL != "" || l.get("WEBEX_TOKEN_URL") != "" {
		// Without a valid base URL the derived default would only repeat its error.
		c.WebexTokenURL = l.url("WEBEX_TOKEN_URL", strings.TrimRight(c.WebexAPIURL, "/")+"/access_token")
	}
	c.WebexSubPartnerOrgID = l.get("WEBEX_SUBPARTNER_ORG_ID")

	oauth := map[string]bool{
		"WEBEX_CLIENT_ID":     c.WebexClientID != "",
		"WEBEX_CLIENT_SECRET": c.WebexClientSecret != "",
		"WEBEX_REFRESH_TOKEN": c.WebexRefreshToken != "",
	}
	var set, unset []string
	for _, name := range []string{"WEBEX_CLIENT_ID", "WEBEX_CLIENT_SECRET", "WEBEX_REFRESH_TOKEN"} {
		if oauth[name] {
			set = append(set, name)
		} else {
			unset = append(unset, name)
		}
	}
	anyCredential := c.WebexToken != "" || len(set) > 0
	if len(set) > 0 && len(unset) > 0 {
		l.errs.add(unset[0], "the OAuth refresh flow needs WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET and WEBEX_REFRESH_TOKEN; %s set but %s missing",
			strings.Join(set, ", "), strings.Join(unset, ", "))
	}

	def := "0"
	if !anyCredential {
		def = "1"
	}
	c.WebexSandbox = l.boolean("WEBEX_SANDBOX", def)
	if !c.WebexSandbox && !anyCredential && l.get("WEBEX_SANDBOX") != "" {
		l.errs.add("WEBEX_SANDBOX", "is 0 but no Webex credential is set (expected WEBEX_TOKEN or WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET and WEBEX_REFRESH_TOKEN)")
	}
}

func (l *loader) boolean(name, def string) bool {
	switch v := strings.ToLower(l.str(name, def)); v {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	default:
		l.errs.add(name, "%q is not a boolean (expected 1 or 0)", l.get(name))
		return false
	}
}

func (l *loader) url(name, def string) string {
	v := l.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL is not printed: it might carry credentials.
		l.errs.add(name, "is not an absolute http(s) URL (expected e.g. %s)", strings.Trim(def, "`"))
		return ""
	}
	if u.User != nil {
		l.errs.add(name, "must not contain credentials")
		return ""
	}
	return v
}

func (l *loader) addr(name, def string) string {
	v := l.str(name, def)
	_, port, err := net.SplitHostPort(v)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 0 || n > 65535 {
			err = fmt.Errorf("bad port")
		}
	}
	if err != nil {
		l.errs.add(name, "%q is not a listen address (expected host:port or :port, e.g. :3000)", v)
		return ""
	}
	return v
}

// redisURL checks the scheme only; go-redis parses the rest (Sentinel and
// Cluster options) when the store connects. The URL is never printed.
func (l *loader) redisURL(name string) string {
	v := l.get(name)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		l.errs.add(name, "is not a URL (expected redis://, rediss:// or unix://)")
	case u.Scheme == "redis" || u.Scheme == "rediss":
		if u.Host == "" {
			l.errs.add(name, "has no host (expected redis://host:6379)")
		}
	case u.Scheme == "unix":
		if u.Path == "" {
			l.errs.add(name, "has no socket path (expected unix:///path/to/redis.sock)")
		}
	default:
		l.errs.add(name, "scheme %q is not supported (expected redis://, rediss:// or unix://)", u.Scheme)
	}
	return v
}

// redisPasswords finds every password a Redis URL can carry.
func redisPasswords(raw string) []string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p)
	}
	q := u.Query()
	for _, k := range []string{"password", "sentinel_password"} {
		if p := q.Get(k); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (l *loader) channel(name, def string) string {
	v := l.str(name, def)
	if v == "" || channelIDRe.MatchString(v) || channelNameRe.MatchString(v) {
		return v
	}
	l.errs.add(name, "%q is not a channel (expected a channel id like C0123ABCD or #name)", v)
	return ""
}

// list splits a comma-separated value, dropping empty items.
func list(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// users accepts Slack user ids (and group ids where allowed); the console's
// users have plain names, so console mode accepts those too.
func (l *loader) users(name, def string, console, groups bool) []string {
	var out []string
	for _, id := range list(l.str(name, def)) {
		switch {
		case userIDRe.MatchString(id), groups && groupIDRe.MatchString(id), console && consoleNameRe.MatchString(id):
			out = append(out, id)
		case groups:
			l.errs.add(name, "%q is not a Slack user or user-group id: %s (expected U…, W… or S…, upper-case letters and digits; %s)", id, whatIsWrong(id, true), findID)
		default:
			l.errs.add(name, "%q is not a Slack user id: %s (expected U… or W…, upper-case letters and digits; %s)", id, whatIsWrong(id, false), findID)
		}
	}
	return out
}

// findID says where a Slack member's id is found.
const findID = "a member's id is in their Slack profile: ⋮ More → Copy member ID"

// whatIsWrong says what an id that is not a Slack user id looks like.
func whatIsWrong(id string, groups bool) string {
	switch {
	case strings.HasPrefix(id, "@"):
		return "that is a display name, not an id"
	case strings.Contains(id, "@"):
		return "that is an email address, not an id"
	case id != strings.ToUpper(id) && userIDRe.MatchString(strings.ToUpper(id)):
		return "Slack ids are upper case"
	case !groups && groupIDRe.MatchString(id):
		return "that is a user-group id, which belongs in APPROVER_GROUP or REQUESTERS"
	case strings.HasPrefix(id, "C") || strings.HasPrefix(id, "G") || strings.HasPrefix(id, "D"):
		return "that looks like a channel id"
	case consoleNameRe.MatchString(id):
		return "plain names are for the console only"
	}
	return "it does not start with U or W"
}

func (l *loader) group(name string, console bool) string {
	v := l.get(name)
	if v == "" || groupIDRe.MatchString(v) || console && consoleNameRe.MatchString(v) {
		return v
	}
	l.errs.add(name, "%q is not a Slack user-group id (expected S… in upper-case letters and digits: People → User groups → the group → ⋮ → Copy group ID)", v)
	return ""
}

func (l *loader) autoApprove(name string) []string {
	var out []string
	for _, kind := range list(strings.ToLower(l.get(name))) {
		if !autoApprovable[kind] {
			l.errs.add(name, "%q cannot be auto-approved (expected users and/or location)", kind)
			continue
		}
		out = append(out, kind)
	}
	return out
}

// countries checks the format only; provisioning knows which codes exist.
func (l *loader) countries(name string) []string {
	var out []string
	for _, cc := range list(l.get(name)) {
		up := strings.ToUpper(cc)
		if !countryRe.MatchString(up) {
			l.errs.add(name, "%q is not an ISO 3166 alpha-2 code (expected two letters, e.g. DE)", cc)
			continue
		}
		out = append(out, up)
	}
	return out
}

func (l *loader) intRange(name string, def, lo, hi int) int {
	v := l.get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		l.errs.add(name, "%q is not a whole number (expected %d–%d)", v, lo, hi)
		return 0
	}
	if n < lo || n > hi {
		l.errs.add(name, "%d is out of range (expected %d–%d)", n, lo, hi)
		return 0
	}
	return n
}

func (l *loader) duration(name, def string) time.Duration {
	v := l.str(name, def)
	d, err := time.ParseDuration(v)
	if err != nil {
		l.errs.add(name, "%q is not a duration (expected e.g. %s)", v, def)
		return 0
	}
	if d <= 0 {
		l.errs.add(name, "%q is not positive (expected e.g. %s)", v, def)
		return 0
	}
	return d
}

func (l *loader) schedule(name, def string) string {
	v := l.str(name, def)
	if _, err := cron.ParseStandard(v); err != nil {
		l.errs.add(name, "%q is not a cron schedule: %v (expected five fields like %q, optionally after CRON_TZ=Europe/Berlin)", v, err, def)
		return ""
	}
	return v
}

func (l *loader) location(name, def string) *time.Location {
	v := l.str(name, def)
	loc, err := time.LoadLocation(v)
	if err != nil {
		l.errs.add(name, "%q is not an IANA time zone (expected e.g. Europe/Berlin or UTC)", v)
		return nil
	}
	return loc
}

func (l *loader) logLevel(name, def string) logrus.Level {
	v := l.str(name, def)
	lvl, err := logrus.ParseLevel(v)
	if err != nil {
		l.errs.add(name, "%q is not a log level (expected trace, debug, info, warn or error)", v)
		return logrus.InfoLevel
	}
	return lvl
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.errs.add(name, "%q is not allowed (expected %s)", l.get(name), strings.Join(allowed, " or "))
	return ""
}
