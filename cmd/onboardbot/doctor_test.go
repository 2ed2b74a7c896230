package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/config"
	"github.com/onboardbot/onboardbot/provisioning/webex"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
	"github.com/onboardbot/onboardbot/store"
	"github.com/onboardbot/onboardbot/store/storetest"
)

// Secrets of the doctor tests: none may appear in doctor's output.
const (
	docSlackToken = "xoxb-doctor-secret-slack"
	docSigning    = "doctor-secret-signing"
	docWebexToken = "doctor-secret-webex"
	docRedisPass  = "doctor-secret-redis"
)

// doctorRig is a configuration that passes every check: a fake Slack, the
// Webex sandbox and a Redis (miniredis answering INFO like Redis 7 with AOF).
type doctorRig struct {
	slack *doctorSlack
	sb    *sandbox.Sandbox
	redis redis.UniversalClient // nil: open REDIS_URL for real
	env   map[string]string
	now   func() time.Time
}

func newDoctorRig(t *testing.T, configure func(*sandbox.Options)) *doctorRig {
	t.Helper()
	opts := sandbox.DefaultOptions()
	opts.Token = docWebexToken
	if configure != nil {
		configure(&opts)
	}
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	r := &doctorRig{
		slack: newDoctorSlack(t, docSlackToken),
		sb:    sb,
		redis: &infoRedis{UniversalClient: storetest.Miniredis(t), version: "7.2.4", aof: true},
		now:   time.Now,
	}
	r.env = map[string]string{
		"SLACK_BOT_TOKEN": docSlackToken, "SLACK_SIGNING_SECRET": docSigning, "SLACK_API_URL": r.slack.URL + "/",
		"APPROVAL_CHANNEL": "#approvals", "APPROVERS": "UALICE,UBOB", "ADMINS": "UALICE", "APPROVER_GROUP": "SAPPROVERS",
		"WEBEX_API_URL": srv.URL + "/v1", "WEBEX_TOKEN": docWebexToken, "WEBEX_SUBPARTNER_ORG_ID": "SUBPARTNER-ORG-1",
		"REDIS_URL": "redis://:" + docRedisPass + "@127.0.0.1:6379/0", "REDIS_PREFIX": "doctor:",
	}
	return r
}

// run runs `onboardbot doctor` on the rig and checks that its output holds
// no secret of the configuration and no token the sandbox issued.
func (r *doctorRig) run(t *testing.T) (int, string) {
	t.Helper()
	deps := doctorDeps{now: r.now, hc: &http.Client{Timeout: 5 * time.Second}, openRedis: store.Open}
	if r.redis != nil {
		deps.openRedis = func(context.Context, string) (redis.UniversalClient, func() error, error) {
			return r.redis, func() error { return nil }, nil
		}
	}
	var out, errOut bytes.Buffer
	code := runDoctorWith(context.Background(), nil, func(k string) string { return r.env[k] }, &out, &errOut, deps)
	all := out.String() + errOut.String()
	for _, v := range config.Vars {
		if s := r.env[v.Name]; v.Secret && s != "" && strings.Contains(all, s) {
			t.Errorf("doctor's output shows the secret %s:\n%s", v.Name, all)
		}
	}
	for _, s := range []string{docRedisPass, "sandbox-access-", "sandbox-refresh-", oauthRefresh} {
		if strings.Contains(all, s) {
			t.Errorf("doctor's output shows %q:\n%s", s, all)
		}
	}
	if errOut.Len() > 0 {
		t.Errorf("doctor wrote to stderr: %s", errOut.String())
	}
	return code, out.String()
}

// checkLine returns the output line of the check name, failing the test
// when there is none.
func checkLine(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		for _, mark := range []string{"✅ ", "❌ ", "– "} {
			if strings.HasPrefix(l, mark+name+": ") {
				return l
			}
		}
	}
	t.Fatalf("no line for %q in:\n%s", name, out)
	return ""
}

// everyCheck is every line doctor prints for the rig's configuration.
var everyCheck = []string{
	slackAuthCheck, slackScopeCheck, "Slack APPROVAL_CHANNEL", "Slack APPROVERS", "Slack ADMINS", slackGroupCheck,
	redisConnCheck, redisVersionCheck, redisPersistCheck, redisKeysCheck,
	webexTokenCheck, webexCustomersCheck, webexSubPartnerCheck, "Clock vs Slack", "Clock vs Webex",
}

func TestDoctorAllGood(t *testing.T) {
	t.Parallel()
	r := newDoctorRig(t, nil)
	code, out := r.run(t)
	if code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, out)
	}
	if strings.Contains(out, "❌") {
		t.Errorf("a check failed:\n%s", out)
	}
	for _, name := range everyCheck {
		if l := checkLine(t, out, name); !strings.HasPrefix(l, "✅ ") {
			t.Errorf("want ✅, got %q", l)
		}
	}
	for _, want := range []string{"member of #approvals (CAPPROVALS)", "UALICE, UBOB resolve to people", "UALICE resolves to a person", "SAPPROVERS resolves (2 members)", "Redis 7.2.4", "AOF", "sub-partner SUBPARTNER-ORG-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "doctor: 15 passed, 0 failed, 0 skipped\n") {
		t.Errorf("summary line wrong:\n%s", out)
	}
}

// TestDoctorFailures: each broken piece gives its ❌ line, with its fix,
// and exit 1.
func TestDoctorFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(t *testing.T, r *doctorRig)
		check string
		want  []string // in the ❌ line
	}{
		{"missing scope", func(_ *testing.T, r *doctorRig) {
			r.slack.scopes = r.slack.scopes[:len(r.slack.scopes)-1] // groups:read
		}, slackScopeCheck, []string{"lacks groups:read", "reinstall"}},
		{"bot not in the approval channel", func(_ *testing.T, r *doctorRig) {
			r.env["APPROVAL_CHANNEL"] = "CGENERAL"
		}, "Slack APPROVAL_CHANNEL", []string{"not a member of CGENERAL (#general)", "/invite @onboardbot"}},
		{"private approval channel without the bot", func(_ *testing.T, r *doctorRig) {
			r.slack.channels[2].member = false
		}, "Slack APPROVAL_CHANNEL", []string{"no channel #approvals that the bot can see", "/invite"}},
		{"archived approval channel", func(_ *testing.T, r *doctorRig) {
			r.env["APPROVAL_CHANNEL"] = "CRANDOM"
			r.slack.channels[1].archived = true
		}, "Slack APPROVAL_CHANNEL", []string{"CRANDOM (#random) is archived", "unarchive"}},
		{"bot not in the digest channel", func(_ *testing.T, r *doctorRig) {
			r.env["DIGEST_CHANNEL"] = "#general"
		}, "Slack DIGEST_CHANNEL", []string{"not a member of #general (CGENERAL)"}},
		{"unknown approver", func(_ *testing.T, r *doctorRig) {
			r.env["APPROVERS"] = "UALICE,UNOBODY"
		}, "Slack APPROVERS", []string{"UNOBODY (no such user)", "Copy member ID"}},
		{"deactivated admin and a bot", func(_ *testing.T, r *doctorRig) {
			r.env["ADMINS"] = "UGONE,UROBOT"
		}, "Slack ADMINS", []string{"UGONE (deactivated)", "UROBOT (a bot"}},
		{"unknown approver group", func(_ *testing.T, r *doctorRig) {
			r.env["APPROVER_GROUP"] = "SNOPE"
		}, slackGroupCheck, []string{"no user group SNOPE", "Copy group ID"}},
		{"empty approver group and no approvers", func(_ *testing.T, r *doctorRig) {
			r.env["APPROVER_GROUP"], r.env["APPROVERS"] = "SEMPTY", ""
		}, slackGroupCheck, []string{"nobody could approve"}},
		{"refused Slack token", func(_ *testing.T, r *doctorRig) {
			r.env["SLACK_BOT_TOKEN"] = "xoxb-doctor-secret-revoked"
		}, slackAuthCheck, []string{"invalid_auth", "Bot User OAuth Token"}},
		{"user token", func(_ *testing.T, r *doctorRig) {
			r.slack.botID = ""
		}, slackAuthCheck, []string{"not to a bot", "xoxb-"}},
		{"refused Webex token", func(_ *testing.T, r *doctorRig) {
			r.env["WEBEX_TOKEN"] = "doctor-secret-webex-expired"
		}, webexTokenCheck, []string{"Webex refused WEBEX_TOKEN: HTTP 401", "trackingId SANDBOX_", "12 hours"}},
		{"Redis without persistence", func(_ *testing.T, r *doctorRig) {
			r.redis.(*infoRedis).aof = false
		}, redisPersistCheck, []string{"off (no AOF, no RDB save points)", "appendonly yes"}},
		{"Redis 6", func(_ *testing.T, r *doctorRig) {
			r.redis.(*infoRedis).version = "6.2.14"
		}, redisVersionCheck, []string{"Redis 6.2.14: the bot needs 7.0", "upgrade"}},
		{"REDIS_URL unset in http mode", func(_ *testing.T, r *doctorRig) {
			delete(r.env, "REDIS_URL")
		}, redisConnCheck, []string{"REDIS_URL is not set", "set REDIS_URL"}},
		{"Redis down", func(t *testing.T, r *doctorRig) {
			r.redis, r.env["REDIS_URL"] = nil, "redis://:"+docRedisPass+"@"+closedAddr(t)+"/0"
		}, redisConnCheck, []string{"Redis does not answer", "host, port, password"}},
		{"clock ahead", func(_ *testing.T, r *doctorRig) {
			r.now = func() time.Time { return time.Now().Add(3 * time.Minute) }
		}, "Clock vs Slack", []string{"3m0s ahead of Slack's", "NTP"}},
		{"clock behind", func(_ *testing.T, r *doctorRig) {
			r.now = func() time.Time { return time.Now().Add(-2 * time.Minute) }
		}, "Clock vs Webex", []string{"2m0s behind Webex's", "NTP"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newDoctorRig(t, nil)
			c.setup(t, r)
			code, out := r.run(t)
			if code != 1 {
				t.Errorf("exit %d, want 1:\n%s", code, out)
			}
			l := checkLine(t, out, c.check)
			if !strings.HasPrefix(l, "❌ ") || !strings.Contains(l, " — fix: ") {
				t.Fatalf("want a ❌ line with a fix, got %q\n%s", l, out)
			}
			for _, w := range c.want {
				if !strings.Contains(l, w) {
					t.Errorf("%q lacks %q", l, w)
				}
			}
		})
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDoctorRedactsEchoedSecret: a server error that quotes the token is
// printed with the token replaced.
func TestDoctorRedactsEchoedSecret(t *testing.T) {
	t.Parallel()
	r := newDoctorRig(t, nil)
	r.slack.echoToken = true
	r.env["SLACK_BOT_TOKEN"] = "xoxb-doctor-secret-echoed"
	code, out := r.run(t)
	if l := checkLine(t, out, slackAuthCheck); code != 1 || !strings.Contains(l, "invalid_auth for [redacted]") {
		t.Errorf("exit %d, line %q; want exit 1 and the echoed token redacted", code, l)
	}
}

// TestDoctorConsoleSandbox: with no Slack token and the embedded sandbox,
// what cannot apply is skipped with why, and doctor passes.
func TestDoctorConsoleSandbox(t *testing.T) {
	t.Parallel()
	r := newDoctorRig(t, nil)
	r.env = map[string]string{}
	code, out := r.run(t)
	if code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, out)
	}
	for _, name := range everyCheck {
		if l := checkLine(t, out, name); !strings.HasPrefix(l, "– ") {
			t.Errorf("want skipped, got %q", l)
		}
	}
	for _, why := range []string{"console mode", "WEBEX_SANDBOX is on", "embedded in-process Redis"} {
		if !strings.Contains(out, why) {
			t.Errorf("no skip says %q:\n%s", why, out)
		}
	}
}

// TestDoctorConfigurationError: a configuration that does not load is one ❌
// line per problem and exit 1.
func TestDoctorConfigurationError(t *testing.T) {
	t.Parallel()
	r := newDoctorRig(t, nil)
	delete(r.env, "APPROVAL_CHANNEL")
	r.env["WORKER_CONCURRENCY"] = "0"
	code, out := r.run(t)
	if code != 1 || !strings.Contains(out, "❌ configuration: APPROVAL_CHANNEL: is required") || !strings.Contains(out, "❌ configuration: WORKER_CONCURRENCY") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestDoctorUsage(t *testing.T) {
	t.Parallel()
	if code, out, _ := runArgs(t, "doctor", "--help"); code != 0 || !strings.Contains(out, "usage: onboardbot doctor") {
		t.Errorf("--help: exit %d, %q", code, out)
	}
	if code, _, errOut := runArgs(t, "doctor", "--fix"); code != 2 || !strings.Contains(errOut, "--fix") {
		t.Errorf("unknown argument: exit %d, %q", code, errOut)
	}
}

// TestDoctorOAuthSharesRefreshToken: doctor refreshes through the bot's
// store, so the rotated refresh token is in Redis for the replicas: a
// replica holding only the (now spent) configured token still refreshes,
// and so does a second doctor run.
func TestDoctorOAuthSharesRefreshToken(t *testing.T) {
	t.Parallel()
	r := newDoctorRig(t, func(o *sandbox.Options) { oauthSandbox(o, time.Hour) })
	delete(r.env, "WEBEX_TOKEN")
	r.env["WEBEX_CLIENT_ID"], r.env["WEBEX_CLIENT_SECRET"], r.env["WEBEX_REFRESH_TOKEN"] = oauthClientID, oauthClientSecret, oauthRefresh
	for run := 1; run <= 2; run++ {
		code, out := r.run(t)
		if l := checkLine(t, out, webexTokenCheck); code != 0 || !strings.Contains(l, "✅ Webex token: the OAuth refresh was accepted") {
			t.Fatalf("run %d: exit %d:\n%s", run, code, out)
		}
		assertNewestStored(t, r.redis, "doctor:", run)
	}
	replica := webex.NewOAuthTokens(webex.OAuthConfig{
		TokenURL: r.env["WEBEX_API_URL"] + "/access_token", ClientID: oauthClientID, ClientSecret: oauthClientSecret,
		Store: store.New(r.redis, "doctor:").RefreshTokens(),
	}, oauthRefresh)
	if _, err := replica.Token(context.Background()); err != nil {
		t.Fatalf("a replica configured like the bot cannot refresh after doctor: %v", err)
	}
	if c := countTokens(r.sb); c.refused != 0 || c.issued != 3 {
		t.Errorf("token endpoint: %+v, want 3 issued and none refused", c)
	}
}

// TestDoctorOAuthWithoutRedis: without a shared Redis doctor does not spend
// the configured refresh token.
func TestDoctorOAuthWithoutRedis(t *testing.T) {
	t.Parallel()
	r := newDoctorRig(t, func(o *sandbox.Options) { oauthSandbox(o, time.Hour) })
	r.env = map[string]string{
		"WEBEX_API_URL": r.env["WEBEX_API_URL"], "WEBEX_CLIENT_ID": oauthClientID,
		"WEBEX_CLIENT_SECRET": oauthClientSecret, "WEBEX_REFRESH_TOKEN": oauthRefresh,
	}
	code, out := r.run(t)
	if l := checkLine(t, out, webexTokenCheck); code != 0 || !strings.Contains(l, "– Webex token: skipped: REDIS_URL is not set") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if c := countTokens(r.sb); c.issued != 0 {
		t.Errorf("doctor refreshed without a shared Redis: %+v", c)
	}
}

// TestDoctorOAuthRefused: a refused refresh token is a ❌ whose fix names
// the stored token's key.
func TestDoctorOAuthRefused(t *testing.T) {
	t.Parallel()
	r := newDoctorRig(t, func(o *sandbox.Options) { oauthSandbox(o, time.Hour) })
	delete(r.env, "WEBEX_TOKEN")
	r.env["WEBEX_CLIENT_ID"], r.env["WEBEX_CLIENT_SECRET"], r.env["WEBEX_REFRESH_TOKEN"] = oauthClientID, oauthClientSecret, "doctor-secret-spent-refresh"
	code, out := r.run(t)
	l := checkLine(t, out, webexTokenCheck)
	if code != 1 || !strings.Contains(l, "invalid_grant") || !strings.Contains(l, "DEL doctor:webex:refresh-token") {
		t.Errorf("exit %d, line %q", code, l)
	}
}

// TestDoctorRefreshTokenKey keeps doctor's idea of the stored refresh
// token's key equal to the store's.
func TestDoctorRefreshTokenKey(t *testing.T) {
	t.Parallel()
	rdb := storetest.Miniredis(t)
	ctx := context.Background()
	if err := store.New(rdb, "p:").RefreshTokens().SaveRefreshToken(ctx, "rt"); err != nil {
		t.Fatal(err)
	}
	if got, err := rdb.Get(ctx, refreshTokenKey("p:")).Result(); err != nil || got != "rt" {
		t.Errorf("GET %s = %q, %v; the store keeps the refresh token elsewhere", refreshTokenKey("p:"), got, err)
	}
}

// TestDoctorRealRedis runs the Redis checks against the servers `make test`
// starts (which persist nothing): doctor must say what the server says.
func TestDoctorRealRedis(t *testing.T) {
	for _, env := range []string{storetest.EnvSingle, storetest.EnvCluster} {
		t.Run(env, func(t *testing.T) {
			raw := os.Getenv(env)
			if raw == "" {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s is not set: run the tests with scripts/with-redis.sh", env)
				}
				t.Skipf("%s is not set: run make test", env)
			}
			rdb, closeRedis, err := store.Open(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			defer closeRedis()
			// Glob characters in the prefix must be taken literally.
			base := storetest.Prefix(t)
			prefix := base + "[x]?:"
			ctx := context.Background()
			for _, k := range []string{"a", "b", "{req:1}:doc", "x*y"} {
				if err := rdb.Set(ctx, prefix+k, "1", time.Minute).Err(); err != nil {
					t.Fatal(err)
				}
			}
			// A key that the prefix as a pattern would match, but not literally.
			if err := rdb.Set(ctx, base+"xZ:a", "1", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			r := newDoctorRig(t, nil)
			r.redis, r.env["REDIS_URL"], r.env["REDIS_PREFIX"] = nil, raw, prefix
			code, out := r.run(t)
			persists := realPersistence(t, rdb)
			if l := checkLine(t, out, redisPersistCheck); strings.HasPrefix(l, "✅ ") != persists || (code == 0) != persists {
				t.Errorf("server persists: %v; doctor exit %d says %q", persists, code, l)
			}
			if l := checkLine(t, out, redisVersionCheck); !strings.HasPrefix(l, "✅ Redis version: Redis 7") || strings.Contains(l, ",") {
				t.Errorf("version: %q", l)
			}
			if l := checkLine(t, out, redisKeysCheck); !strings.Contains(l, "4 keys under") {
				t.Errorf("keys: %q", l)
			}
		})
	}
}

// realPersistence asks a server (every master of a cluster) directly.
func realPersistence(t *testing.T, rdb redis.UniversalClient) bool {
	t.Helper()
	var off atomic.Int32
	err := forEachNode(context.Background(), rdb, func(ctx context.Context, c redis.Cmdable) error {
		info, err := c.Info(ctx, "persistence").Result()
		if err != nil {
			return err
		}
		save, err := c.ConfigGet(ctx, "save").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "aof_enabled:1") && strings.TrimSpace(save["save"]) == "" {
			off.Add(1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return off.Load() == 0
}

// TestDoctorRedisPersistence: AOF or RDB save points pass; a server that
// will not say (CONFIG refused) is skipped with why, not passed.
func TestDoctorRedisPersistence(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		aof           bool
		save          string
		configRefused bool
		want          string
		code          int
	}{
		{"aof", true, "", false, "✅ Redis persistence: AOF is on", 0},
		{"rdb", false, "3600 1 300 100", false, "✅ Redis persistence: RDB snapshots (save 3600 1 300 100)", 0},
		{"unknown", false, "", true, "– Redis persistence: skipped: AOF is off and Redis refuses CONFIG GET save", 0},
		{"off", false, " ", false, "❌ Redis persistence: off", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newDoctorRig(t, nil)
			ir := r.redis.(*infoRedis)
			ir.aof, ir.save, ir.configRefused = c.aof, c.save, c.configRefused
			ctx := context.Background()
			for _, k := range []string{"doctor:a", "doctor:{req:1}:doc", "doctor:jobs", "other:a"} {
				if err := ir.Set(ctx, k, "1", 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			code, out := r.run(t)
			if l := checkLine(t, out, redisPersistCheck); code != c.code || !strings.HasPrefix(l, c.want) {
				t.Errorf("exit %d (want %d), line %q (want %q)", code, c.code, l, c.want)
			}
			if l := checkLine(t, out, redisKeysCheck); l != `✅ Redis keys: 3 keys under "doctor:"` {
				t.Errorf("keys: %q", l)
			}
		})
	}
}

// TestDoctorDocExample keeps the example output in docs/going-live.md in
// doctor's format: known check names, a fix on each ❌, a true summary.
func TestDoctorDocExample(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../docs/going-live.md")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"Slack DIGEST_CHANNEL": true}
	for _, n := range everyCheck {
		known[n] = true
	}
	var counts [3]int
	summaries := 0
	for _, l := range strings.Split(string(raw), "\n") {
		mark, rest, ok := strings.Cut(l, " ")
		idx := map[string]int{"✅": 0, "❌": 1, "–": 2}
		if i, isCheck := idx[mark]; ok && isCheck {
			name, _, _ := strings.Cut(rest, ": ")
			if !known[name] {
				t.Errorf("the example names no check of doctor: %q", l)
			}
			if (mark == "❌") != strings.Contains(l, " — fix: ") || (mark == "–") != strings.Contains(l, ": skipped: ") {
				t.Errorf("not doctor's format: %q", l)
			}
			counts[i]++
			continue
		}
		if strings.HasPrefix(l, "doctor: ") {
			if want := fmt.Sprintf("doctor: %d passed, %d failed, %d skipped", counts[0], counts[1], counts[2]); l != want {
				t.Errorf("summary %q, want %q", l, want)
			}
			counts = [3]int{}
			summaries++
		}
	}
	if summaries != 2 {
		t.Errorf("want two example runs, found %d", summaries)
	}
}
