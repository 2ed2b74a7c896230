package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v4"
)

// The Slack app manifest is built from these structs and nothing else: the
// committed deploy/slack-manifest.*.yaml files are this code's output, and a
// test keeps them equal. Field order is the order Slack's own examples use.
type slackManifest struct {
	DisplayInformation manifestDisplay  `yaml:"display_information"`
	Features           manifestFeatures `yaml:"features"`
	OAuthConfig        manifestOAuth    `yaml:"oauth_config"`
	Settings           manifestSettings `yaml:"settings"`
}

type manifestDisplay struct {
	Name            string `yaml:"name"`
	Description     string `yaml:"description"`
	LongDescription string `yaml:"long_description,omitempty"`
	BackgroundColor string `yaml:"background_color"`
}

type manifestFeatures struct {
	AppHome       manifestAppHome        `yaml:"app_home"`
	BotUser       manifestBotUser        `yaml:"bot_user"`
	SlashCommands []manifestSlashCommand `yaml:"slash_commands"`
}

type manifestAppHome struct {
	HomeTabEnabled     bool `yaml:"home_tab_enabled"`
	MessagesTabEnabled bool `yaml:"messages_tab_enabled"`
	// The bot answers no direct messages (it subscribes to no message
	// events), so the tab shows its DMs without offering a text box.
	MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
}

type manifestBotUser struct {
	DisplayName  string `yaml:"display_name"`
	AlwaysOnline bool   `yaml:"always_online"`
}

type manifestSlashCommand struct {
	Command      string `yaml:"command"`
	URL          string `yaml:"url,omitempty"`
	Description  string `yaml:"description"`
	UsageHint    string `yaml:"usage_hint"`
	ShouldEscape bool   `yaml:"should_escape"`
}

type manifestOAuth struct {
	Scopes manifestScopes `yaml:"scopes"`
}

type manifestScopes struct {
	Bot []string `yaml:"bot"`
}

type manifestSettings struct {
	EventSubscriptions   manifestEvents        `yaml:"event_subscriptions"`
	Interactivity        manifestInteractivity `yaml:"interactivity"`
	OrgDeployEnabled     bool                  `yaml:"org_deploy_enabled"`
	SocketModeEnabled    bool                  `yaml:"socket_mode_enabled"`
	TokenRotationEnabled bool                  `yaml:"token_rotation_enabled"`
}

type manifestEvents struct {
	RequestURL string   `yaml:"request_url,omitempty"`
	BotEvents  []string `yaml:"bot_events"`
}

type manifestInteractivity struct {
	IsEnabled             bool   `yaml:"is_enabled"`
	RequestURL            string `yaml:"request_url,omitempty"`
	MessageMenuOptionsURL string `yaml:"message_menu_options_url,omitempty"`
}

// slashCommand is the one command the bot registers.
const slashCommand = "/onboard-customer"

// botScopes are the bot token scopes the code calls Slack with:
// commands (the slash command), chat:write (summaries, threads, ephemerals,
// updates), im:write (conversations.open for DMs), users:read and
// users:read.email (names and e-mail lookups), usergroups:read
// (APPROVER_GROUP and REQUESTERS groups), files:read (the CSV file input),
// channels:read and groups:read (`onboardbot doctor` resolves a #name
// APPROVAL_CHANNEL and checks that the bot is a member of it, public or
// private). `onboardbot doctor` checks a token's scopes against this list.
// Slack grants an installed app new scopes only when it is reinstalled.
var botScopes = []string{"commands", "chat:write", "im:write", "users:read", "users:read.email", "usergroups:read", "files:read", "channels:read", "groups:read"}

// Manifest modes: Socket Mode for development (no public URL), HTTP for
// production behind a load balancer.
const (
	manifestSocket = "socket"
	manifestHTTP   = "http"
)

// buildManifest returns the manifest for mode; base is the public HTTPS
// root of the bot (HTTP mode only) without a trailing slash.
func buildManifest(mode, base string) slackManifest {
	m := slackManifest{
		DisplayInformation: manifestDisplay{
			Name:            "onboardbot",
			Description:     "Webex Wholesale customer onboarding with four-eyes approval",
			LongDescription: "Request Webex Wholesale customers, users, locations and numbers with /onboard-customer. A second person approves every request before anything reaches Webex; the bot then provisions it, reports progress in the approval thread and sends a direct message with the outcome.",
			BackgroundColor: "#1d4f91",
		},
		Features: manifestFeatures{
			AppHome: manifestAppHome{HomeTabEnabled: true, MessagesTabEnabled: true, MessagesTabReadOnlyEnabled: true},
			BotUser: manifestBotUser{DisplayName: "onboardbot", AlwaysOnline: true},
			SlashCommands: []manifestSlashCommand{{
				Command:     slashCommand,
				Description: "Onboard a Webex Wholesale customer (approved by a second person)",
				UsageHint:   "new key=value … | status ID | help",
				// The bot unescapes &amp; &lt; &gt; itself and wants user
				// and channel mentions as Slack sends them by default.
				ShouldEscape: false,
			}},
		},
		OAuthConfig: manifestOAuth{Scopes: manifestScopes{Bot: append([]string(nil), botScopes...)}},
		Settings: manifestSettings{
			EventSubscriptions: manifestEvents{BotEvents: []string{"app_home_opened"}},
			Interactivity:      manifestInteractivity{IsEnabled: true},
			SocketModeEnabled:  mode == manifestSocket,
		},
	}
	if mode == manifestHTTP {
		// Slack refuses request URLs in a Socket Mode app, so only the HTTP
		// manifest carries them.
		m.Features.SlashCommands[0].URL = base + "/slack/commands"
		m.Settings.EventSubscriptions.RequestURL = base + "/slack/events"
		m.Settings.Interactivity.RequestURL = base + "/slack/interactions"
		m.Settings.Interactivity.MessageMenuOptionsURL = base + "/slack/options"
	}
	return m
}

// renderManifest is the YAML the manifest command prints.
func renderManifest(mode, base string) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	// Two spaces, as in Slack's manifest editor, so a pasted file reads the same.
	enc.SetIndent(2)
	if err := enc.Encode(buildManifest(mode, base)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

const manifestUsage = "usage: onboardbot manifest --mode socket|http [--url https://BASE]"

// manifestArgs parses the manifest command's flags. Every error it returns
// is the caller's (exit 2) and names the flag at fault.
func manifestArgs(args []string) (mode, base string, err error) {
	fs := flag.NewFlagSet("manifest", flag.ContinueOnError)
	// runManifest prints errors and usage itself, once.
	fs.SetOutput(io.Discard)
	fs.StringVar(&mode, "mode", "", "")
	fs.StringVar(&base, "url", "", "")
	if err := fs.Parse(args); err != nil {
		return "", "", err
	}
	if fs.NArg() > 0 {
		return "", "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch mode {
	case manifestSocket:
		if base != "" {
			return "", "", errors.New("--url: a Socket Mode app has no request URLs; use --mode http for a public URL")
		}
		return mode, "", nil
	case manifestHTTP:
		base, err = manifestBase(base)
		return mode, base, err
	case "":
		return "", "", errors.New("--mode is required: socket or http")
	default:
		return "", "", fmt.Errorf("--mode %q: want socket or http", mode)
	}
}

// manifestBase checks --url. Slack only calls request URLs over HTTPS, so
// a plain-HTTP URL (localhost included: Slack cannot reach it anyway) is
// refused; for local work use Socket Mode or a tunnel with an https address.
func manifestBase(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("--url is required with --mode http: the bot's public https address")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("--url %q is not a URL", raw)
	case u.Scheme != "https":
		return "", fmt.Errorf("--url %q: Slack needs an https URL", raw)
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("--url %q: want https://HOST[/PATH] without credentials, query or fragment", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// runManifest is `onboardbot manifest`: it prints the Slack app manifest.
func runManifest(args []string, stdout, stderr io.Writer) int {
	mode, base, err := manifestArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, manifestUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "onboardbot manifest: %v\n%s\n", err, manifestUsage)
		return 2
	}
	out, err := renderManifest(mode, base)
	if err != nil {
		fmt.Fprintln(stderr, "onboardbot manifest:", err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		return 1
	}
	return 0
}
