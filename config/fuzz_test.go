package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// FuzzLoad gives Load random values for the secrets, REDIS_URL and two more
// variables of the table: it never panics, and neither its error nor a
// printed or JSON-encoded Config ever contains a secret's value (unless the
// same text was also given to a variable that is not secret, whose value
// may be echoed).
func FuzzLoad(f *testing.F) {
	f.Add("", "xoxb-1234567890", "", "signing-secret-1", "", "", "", "redis://:hunter2hunter2@localhost:6379/0", uint8(20), "C0123ABCD", uint8(18), "U0BOB")
	f.Add("http", "xoxb-1", "xapp-1", "s", "tok", "cs", "rt", "", uint8(24), "abc", uint8(36), "loud")
	f.Add("socket", "xoxb-1 ", "xapp-1", "", "", "cs", "", "redis://h?addr=a&password=pw123456", uint8(8), "rediss://", uint8(29), "Mars/Base")
	f.Add("", "", "", "", "webex-token-abcdef", "", "", "unix://", uint8(13), "ftp://x", uint8(27), "0 9 * * 8")
	names := nonSecretNames()
	f.Fuzz(func(t *testing.T, mode, bot, app, signing, webexTok, clientSecret, refresh, redisURL string, i uint8, v string, j uint8, w string) {
		// The markers keep a secret from matching fixed error text by
		// chance ("is", "expected"): what is checked is echoing.
		secret := func(s string) string {
			if s == "" {
				return ""
			}
			return "sEcReT" + s + "tErCeS"
		}
		env := map[string]string{
			"ONBOARDBOT_MODE": mode, "SLACK_BOT_TOKEN": secret(bot), "SLACK_APP_TOKEN": secret(app),
			"SLACK_SIGNING_SECRET": secret(signing), "WEBEX_TOKEN": secret(webexTok),
			"WEBEX_CLIENT_SECRET": secret(clientSecret), "WEBEX_REFRESH_TOKEN": secret(refresh),
			"REDIS_URL": redisURL,
		}
		plain := map[string]string{names[int(i)%len(names)]: v, names[int(j)%len(names)]: w, "ONBOARDBOT_MODE": mode}
		for k, val := range plain {
			env[k] = val
		}
		secrets := []string{env["SLACK_BOT_TOKEN"], env["SLACK_APP_TOKEN"], env["SLACK_SIGNING_SECRET"],
			env["WEBEX_TOKEN"], env["WEBEX_CLIENT_SECRET"], env["WEBEX_REFRESH_TOKEN"]}
		var redisSecrets []string
		for _, p := range redisPasswords(redisURL) {
			if len(p) >= 6 {
				redisSecrets = append(redisSecrets, p)
			}
		}
		cfg, err := Load(func(k string) string { return env[k] })
		if err != nil {
			assertNoSecret(t, "error", err.Error(), append(secrets, redisSecrets...), plain)
			return
		}
		// REDIS_URL is a plain string field: printing a Config shows it,
		// password included, so only Secret fields are checked here.
		for _, out := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
			assertNoSecret(t, "printed Config", out, secrets, plain)
		}
		b, jerr := json.Marshal(cfg)
		if jerr != nil {
			t.Fatalf("a loaded Config cannot be encoded: %v", jerr)
		}
		assertNoSecret(t, "JSON Config", string(b), secrets, plain)
	})
}

func assertNoSecret(t *testing.T, what, text string, secrets []string, plain map[string]string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" || len(s) < 6 || echoedByPlain(s, plain) {
			continue
		}
		if strings.Contains(text, s) {
			t.Fatalf("%s contains a secret value %q:\n%s", what, s, text)
		}
	}
}

// echoedByPlain reports whether a variable that is not secret carries s: its
// value may legitimately be quoted in an error.
func echoedByPlain(s string, plain map[string]string) bool {
	for _, v := range plain {
		if strings.Contains(v, s) || strings.Contains(fmt.Sprintf("%q", v), s) {
			return true
		}
	}
	return false
}

func nonSecretNames() []string {
	var out []string
	for _, v := range Vars {
		if !v.Secret {
			out = append(out, v.Name)
		}
	}
	return out
}
