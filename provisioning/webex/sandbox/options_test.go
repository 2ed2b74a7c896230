package sandbox

import (
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
	"time"
)

func mustRe(t testing.TB, s string) *regexp.Regexp {
	t.Helper()
	return regexp.MustCompile(s)
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		check   func(Options) bool
		wantErr string
	}{
		{"defaults", nil, func(o Options) bool {
			d := DefaultOptions()
			return o.Addr == "127.0.0.1:8089" && o.Delay == 2*time.Second && o.TokenTTL == time.Hour &&
				o.ProvisioningIDs[0] == "PROV-*" && o.HoldTimeout == 35*time.Second && o.RPLDelay == d.RPLDelay &&
				o.PageSize == 100 && o.ProvisionErrors == nil && o.ProvisionFail == nil && o.SubscriberErrors == nil
		}, ""},
		{"all flags", []string{"--addr", ":9", "--token", "t", "--token-ttl", "5m", "--provisioning-ids", "A-*, B-?",
			"--delay", "1s", "--latency", "10ms", "--rate", "2.5", "--p5xx", "0.1", "--p-timeout", "0.2", "--seed", "7",
			"--rpl-review", "^Review", "--rpl-delay", "3s", "--migration", "@free", "--reject-address", "Nowhere",
			"--pstn-integrated", "CCP", "--provision-errors", "^Warn", "--provision-fail", "^Broken",
			"--subscriber-errors", "^broken@", "--page-size", "2"}, func(o Options) bool {
			return o.Addr == ":9" && o.Token == "t" && o.TokenTTL == 5*time.Minute && len(o.ProvisioningIDs) == 2 &&
				o.ProvisioningIDs[1] == "B-?" && o.Rate == 2.5 && o.P5xx == 0.1 && o.PTimeout == 0.2 && o.Seed == 7 &&
				o.RPLReview.String() == "^Review" && o.RPLDelay == 3*time.Second && o.Migration != nil &&
				o.RejectAddress != nil && o.PSTNIntegrated != nil && o.Latency == 10*time.Millisecond &&
				o.ProvisionErrors.String() == "^Warn" && o.ProvisionFail.String() == "^Broken" &&
				o.SubscriberErrors.String() == "^broken@" && o.PageSize == 2
		}, ""},
		{"bad duration", []string{"--delay", "soon"}, nil, "-delay"},
		{"bad regexp", []string{"--migration", "("}, nil, "-migration"},
		{"bad glob", []string{"--provisioning-ids", "["}, nil, "-provisioning-ids"},
		{"share above 1", []string{"--p5xx", "1.5"}, nil, "-p5xx"},
		{"shares sum above 1", []string{"--p5xx", "0.6", "--p-timeout", "0.6"}, nil, "-p-timeout"},
		{"negative rate", []string{"--rate", "-1"}, nil, "-rate"},
		{"zero page size", []string{"--page-size", "0"}, nil, "-page-size"},
		{"stray argument", []string{"extra"}, nil, "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := ParseFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to name %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o) {
				t.Errorf("options not as parsed: %+v", o)
			}
		})
	}
}

func TestParseFlagsHelp(t *testing.T) {
	t.Parallel()
	if _, err := ParseFlags([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("err = %v, want flag.ErrHelp", err)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	o, err := OptionsFromEnv(env(map[string]string{"SANDBOX_RPL_REVIEW": "Review", "SANDBOX_DELAY": "1s", "SANDBOX_P_TIMEOUT": "0.5",
		"SANDBOX_PAGE_SIZE": "2", "SANDBOX_PROVISION_ERRORS": "^Warn", "SANDBOX_PROVISION_FAIL": "^Broken", "SANDBOX_SUBSCRIBER_ERRORS": "^broken@"}))
	if err != nil {
		t.Fatal(err)
	}
	if o.RPLReview == nil || o.Delay != time.Second || o.PTimeout != 0.5 || o.Addr != DefaultOptions().Addr ||
		o.PageSize != 2 || o.ProvisionErrors == nil || o.ProvisionFail == nil || o.SubscriberErrors == nil {
		t.Errorf("options = %+v", o)
	}
	for _, tt := range []struct{ name, value, want string }{
		{"SANDBOX_DELAY", "soon", "SANDBOX_DELAY"},
		{"SANDBOX_RPL_REVIEW", "(", "SANDBOX_RPL_REVIEW"},
		{"SANDBOX_P5XX", "2", "SANDBOX_P5XX"},
		{"SANDBOX_PAGE_SIZE", "0", "SANDBOX_PAGE_SIZE"},
		{"SANDBOX_PROVISION_FAIL", "(", "SANDBOX_PROVISION_FAIL"},
	} {
		if _, err := OptionsFromEnv(env(map[string]string{tt.name: tt.value})); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%s: err = %v, want it to name %s", tt.name, tt.value, err, tt.want)
		}
	}
}
