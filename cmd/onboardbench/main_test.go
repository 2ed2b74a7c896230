package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// The bench itself is a command (it starts processes and takes minutes);
// these tests cover only its flag parsing and its table.

func TestParseFlags(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		want    []string // scenarios
		clients []int
		err     string
	}{
		{"defaults", nil, defaultScenarios, []int{4, 32}, ""},
		{"imports", []string{"-scenarios", "g,G-kill"}, []string{"g", "g-kill"}, []int{4, 32}, ""},
		{"import too big", []string{"-import-customers", "200", "-import-users", "40"}, nil, nil, "-import-users"},
		{"some", []string{"-scenarios", "B, a,b", "-duration", "2s", "-clients", "8"}, []string{"b", "a"}, []int{8}, ""},
		{"unknown scenario", []string{"-scenarios", "a,z"}, nil, nil, `unknown scenario "z"`},
		{"none", []string{"-scenarios", ","}, nil, nil, "none given"},
		{"bad clients", []string{"-clients", "4,x"}, nil, nil, `-clients: "x"`},
		{"long duration", []string{"-duration", "2m"}, nil, nil, "-duration"},
		{"stray argument", []string{"extra"}, nil, nil, "unexpected argument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(c.args, io.Discard)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.scenarios, c.want) || !slices.Equal(o.clients, c.clients) {
				t.Fatalf("scenarios %v clients %v, want %v %v", o.scenarios, o.clients, c.want, c.clients)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	res := result{ok: 5000, elapsed: 5 * time.Second, lat: lat}
	var b strings.Builder
	writeTable(&b, []row{
		{scenario: "(a) help", clients: 32, res: &res, floor: 2000, target: "≥ 0.7× floor", verdict: met},
		{scenario: "(b) new", clients: 32, res: &res, floor: 2000, durable: 1250, target: "≥ 0.5× durable floor", verdict: met},
		{scenario: "(f) RSS idle", figure: "20.0 MB", target: "≤ 40 MB", verdict: missed},
	})
	want := "| scenario | clients | rps | × floor | × durable floor | p50 | p90 | p99 | max | figure | target | verdict |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n" +
		"| (a) help | 32 | 1000 | 0.50 |  | 50.0 ms | 90.0 ms | 99.0 ms | 100 ms |  | ≥ 0.7× floor | met |\n" +
		"| (b) new | 32 | 1000 | 0.50 | 0.80 | 50.0 ms | 90.0 ms | 99.0 ms | 100 ms |  | ≥ 0.5× durable floor | met |\n" +
		"| (f) RSS idle |  |  |  |  |  |  |  |  | 20.0 MB | ≤ 40 MB | MISSED |\n"
	if b.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestSlackSign(t *testing.T) {
	t.Parallel()
	// Slack's documented example (docs.slack.dev, "Verifying requests").
	body := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	got := slackSign("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body)
	if want := "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}
