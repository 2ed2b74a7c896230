package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/onboardbot/onboardbot/config"
)

var updateManifests = flag.Bool("update-manifests", false, "rewrite deploy/slack-manifest.*.yaml from `onboardbot manifest`")

const (
	deployDir   = "../../deploy"
	exampleBase = "https://onboardbot.example.com"
)

// manifestFiles are the committed manifests and the command line that
// prints each.
var manifestFiles = []struct {
	mode, file string
	args       []string
}{
	{"socket", "slack-manifest.socket.yaml", []string{"manifest", "--mode", "socket"}},
	{"http", "slack-manifest.http.yaml", []string{"manifest", "--mode", "http", "--url", exampleBase}},
}

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestManifestFilesMatchCommand keeps the committed manifests equal to the
// command's output, so the file people paste is the one the code describes.
func TestManifestFilesMatchCommand(t *testing.T) {
	for _, m := range manifestFiles {
		t.Run(m.mode, func(t *testing.T) {
			code, out, errOut := runArgs(t, m.args...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", m.args, code, errOut)
			}
			path := filepath.Join(deployDir, m.file)
			if *updateManifests {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			committed, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(committed) != out {
				t.Fatalf("%s differs from `onboardbot %s`; run: go test ./cmd/onboardbot -run TestManifestFilesMatchCommand -update-manifests\nwant:\n%s\ngot:\n%s",
					path, strings.Join(m.args, " "), out, committed)
			}
		})
	}
}

// TestManifestContent reads both manifests as Slack would: the command,
// the scopes, App Home and, for HTTP only, the request URLs.
func TestManifestContent(t *testing.T) {
	t.Parallel()
	wantScopes := []string{"commands", "chat:write", "im:write", "users:read", "users:read.email", "usergroups:read", "files:read", "channels:read", "groups:read"}
	for _, m := range manifestFiles {
		t.Run(m.mode, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join(deployDir, m.file))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := yaml.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("%s is not YAML: %v", m.file, err)
			}
			cmds, _ := dig(doc, "features", "slash_commands").([]any)
			if len(cmds) != 1 {
				t.Fatalf("slash_commands = %v, want one", cmds)
			}
			if got := dig(cmds[0], "command"); got != "/onboard-customer" {
				t.Errorf("command = %v", got)
			}
			if got := dig(cmds[0], "should_escape"); got != false {
				t.Errorf("should_escape = %v, want false", got)
			}
			if got := strs(dig(doc, "oauth_config", "scopes", "bot")); !slices.Equal(got, wantScopes) {
				t.Errorf("bot scopes = %v, want %v", got, wantScopes)
			}
			if got := dig(doc, "features", "app_home", "home_tab_enabled"); got != true {
				t.Errorf("home_tab_enabled = %v", got)
			}
			if got := strs(dig(doc, "settings", "event_subscriptions", "bot_events")); !slices.Equal(got, []string{"app_home_opened"}) {
				t.Errorf("bot_events = %v", got)
			}
			if got := dig(doc, "settings", "interactivity", "is_enabled"); got != true {
				t.Errorf("interactivity.is_enabled = %v", got)
			}
			if got := dig(doc, "settings", "socket_mode_enabled"); got != (m.mode == "socket") {
				t.Errorf("socket_mode_enabled = %v", got)
			}
			urls := map[string]any{
				"command":      dig(cmds[0], "url"),
				"interactions": dig(doc, "settings", "interactivity", "request_url"),
				"options":      dig(doc, "settings", "interactivity", "message_menu_options_url"),
				"events":       dig(doc, "settings", "event_subscriptions", "request_url"),
			}
			want := map[string]any{
				"command":      exampleBase + "/slack/commands",
				"interactions": exampleBase + "/slack/interactions",
				"options":      exampleBase + "/slack/options",
				"events":       exampleBase + "/slack/events",
			}
			for k := range want {
				if m.mode == "socket" {
					// Slack refuses request URLs in a Socket Mode app.
					want[k] = nil
				}
				if urls[k] != want[k] {
					t.Errorf("%s URL = %v, want %v", k, urls[k], want[k])
				}
			}
		})
	}
}

// TestManifestUsageErrors: a bad invocation exits 2 and names the flag.
func TestManifestUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no mode", []string{}, "--mode"},
		{"bad mode", []string{"--mode", "webhook"}, "--mode"},
		{"http without url", []string{"--mode", "http"}, "--url"},
		{"plain http url", []string{"--mode", "http", "--url", "http://onboardbot.example.com"}, "--url"},
		// Slack cannot call localhost and takes https request URLs only.
		{"localhost", []string{"--mode", "http", "--url", "http://localhost:3000"}, "--url"},
		{"no host", []string{"--mode", "http", "--url", "https://"}, "--url"},
		{"query", []string{"--mode", "http", "--url", "https://bot.example.com/?x=1"}, "--url"},
		{"credentials", []string{"--mode", "http", "--url", "https://u:p@bot.example.com"}, "--url"},
		{"socket with url", []string{"--mode", "socket", "--url", exampleBase}, "--url"},
		{"unknown flag", []string{"--mode", "socket", "--port", "3"}, "-port"},
		{"stray argument", []string{"--mode", "socket", "extra"}, "extra"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runArgs(t, append([]string{"manifest"}, c.args...)...)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stdout %q)", code, out)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.Contains(errOut, c.want) {
				t.Errorf("stderr %q does not name %s", errOut, c.want)
			}
		})
	}
}

func TestManifestURLForms(t *testing.T) {
	t.Parallel()
	cases := []struct{ url, want string }{
		{"https://bot.example.com/", "https://bot.example.com/slack/commands"},
		{"https://bot.example.com:8443/onboard", "https://bot.example.com:8443/onboard/slack/commands"},
	}
	for _, c := range cases {
		code, out, errOut := runArgs(t, "manifest", "--mode", "http", "--url", c.url)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.url, code, errOut)
		}
		if !strings.Contains(out, "url: "+c.want+"\n") {
			t.Errorf("--url %s: no command URL %s in\n%s", c.url, c.want, out)
		}
	}
}

// TestDeployFiles parses every YAML file under deploy/ (so none is broken),
// and checks what operators rely on: the Deployment's replicas and probes,
// secrets from the Secret, Redis with AOF in compose, and only variables
// the config package knows.
func TestDeployFiles(t *testing.T) {
	t.Parallel()
	docs := map[string][]map[string]any{}
	err := filepath.WalkDir(deployDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		rel, _ := filepath.Rel(deployDir, path)
		docs[filepath.ToSlash(rel)] = yamlDocs(t, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"docker-compose.yml", "kubernetes/deployment.yaml", "kubernetes/service.yaml", "kubernetes/secret.example.yaml"} {
		if len(docs[want]) == 0 {
			t.Errorf("deploy/%s is missing or empty", want)
		}
	}
	for path, ds := range docs {
		if !strings.HasPrefix(path, "kubernetes/") {
			continue
		}
		for _, d := range ds {
			if dig(d, "apiVersion") == nil || dig(d, "kind") == nil || dig(d, "metadata", "name") == nil {
				t.Errorf("deploy/%s: a document without apiVersion, kind or metadata.name", path)
			}
		}
	}

	known := map[string]config.Var{}
	for _, v := range config.Vars {
		known[v.Name] = v
	}
	checkVar := func(where, name string) {
		if _, ok := known[name]; !ok {
			t.Errorf("%s sets %s, which is not a configuration variable", where, name)
		}
	}

	t.Run("deployment", func(t *testing.T) {
		dep := docs["kubernetes/deployment.yaml"][0]
		if got := dig(dep, "spec", "replicas"); got != 3 {
			t.Errorf("replicas = %v, want 3", got)
		}
		c := dig(dep, "spec", "template", "spec", "containers", 0)
		if got := dig(c, "livenessProbe", "httpGet", "path"); got != "/healthz" {
			t.Errorf("liveness path = %v", got)
		}
		if got := dig(c, "readinessProbe", "httpGet", "path"); got != "/readyz" {
			t.Errorf("readiness path = %v", got)
		}
		if got := dig(c, "securityContext", "readOnlyRootFilesystem"); got != true {
			t.Errorf("readOnlyRootFilesystem = %v", got)
		}
		if got := dig(dep, "spec", "template", "spec", "securityContext", "runAsNonRoot"); got != true {
			t.Errorf("runAsNonRoot = %v", got)
		}
		secretKeys := map[string]bool{}
		for k := range asMap(dig(docs["kubernetes/secret.example.yaml"][0], "stringData")) {
			checkVar("secret.example.yaml", k)
			secretKeys[k] = true
		}
		env, _ := dig(c, "env").([]any)
		for _, e := range env {
			name, _ := dig(e, "name").(string)
			checkVar("deployment.yaml", name)
			ref := dig(e, "valueFrom", "secretKeyRef")
			if known[name].Secret && ref == nil {
				t.Errorf("deployment.yaml: secret %s is not read from the Secret", name)
			}
			if ref != nil && !secretKeys[dig(ref, "key").(string)] {
				t.Errorf("deployment.yaml: %s reads key %v, which secret.example.yaml lacks", name, dig(ref, "key"))
			}
		}
	})

	t.Run("compose", func(t *testing.T) {
		compose := docs["docker-compose.yml"][0]
		bot := dig(compose, "services", "onboardbot")
		if got := dig(bot, "environment", "REDIS_URL"); got != "redis://redis:6379/0" {
			t.Errorf("REDIS_URL = %v", got)
		}
		for k := range asMap(dig(bot, "environment")) {
			checkVar("docker-compose.yml", k)
		}
		if dig(bot, "healthcheck", "test") == nil {
			t.Error("the bot has no healthcheck")
		}
		cmd := strings.Join(strs(dig(compose, "services", "redis", "command")), " ")
		if !strings.Contains(cmd, "--appendonly yes") || !strings.Contains(cmd, "--appendfsync everysec") {
			t.Errorf("redis command %q lacks AOF", cmd)
		}
		if dig(compose, "services", "redis", "volumes", 0) == nil {
			t.Error("redis has no volume")
		}
	})

	t.Run("env.example", func(t *testing.T) {
		f, err := os.Open(filepath.Join(deployDir, "env.example"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if name, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				checkVar("env.example", name)
			}
		}
	})
}

// yamlDocs decodes every document of a YAML file.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			out = append(out, d)
		}
	}
}

// dig walks maps by key and lists by index; nil when a step is missing.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
