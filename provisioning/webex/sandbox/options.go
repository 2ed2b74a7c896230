package sandbox

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strings"
	"time"
)

// Options configure a Sandbox. Each is a flag of `onboardbot sandbox`; the embedded
// sandbox reads the same settings from SANDBOX_<FLAG> variables (OptionsFromEnv).
type Options struct {
	Addr            string        // --addr
	Token           string        // --token: accepted Bearer token; "" = any non-empty
	TokenTTL        time.Duration // --token-ttl: lifetime of tokens issued by /access_token
	ProvisioningIDs []string      // --provisioning-ids: glob list; others → 400 from precheck and create
	Delay           time.Duration // --delay: provisioning time
	Latency         time.Duration // --latency: added to every call
	Rate            float64       // --rate: requests/s, token bucket with burst = rate; 0 = off
	// --p5xx, --p-timeout: shares of calls answered 503 (without effect, Retry-After: 1) or
	// held for HoldTimeout. A held call does its work first and only its answer is late,
	// like a response lost in transit: the client must look before it retries a create.
	P5xx, PTimeout float64
	Seed           int64 // --seed: one draw per call from rand.NewSource(Seed) decides its fault
	RPLReview      *regexp.Regexp
	RPLDelay       time.Duration
	Migration      *regexp.Regexp // on subscriber email → 202 pending_user_migration
	RejectAddress  *regexp.Regexp // on addressLine1 → precheck and create answer 400
	PSTNIntegrated *regexp.Regexp // on location name → INTEGRATED_CCP with provider numbers; else no PSTN
	// ProvisionErrors (on customer name): the first provisioning ends
	// provisioned_with_errors with warning 2560 on a package; a PUT of the
	// customer then provisions it.
	ProvisionErrors *regexp.Regexp
	// ProvisionFail (on customer name): provisioning ends in status error,
	// with the cause in a package's errors and no orgId.
	ProvisionFail *regexp.Regexp
	// SubscriberErrors (on subscriber email): create and update answer with
	// an errors array, and the subscriber keeps it.
	SubscriberErrors *regexp.Regexp
	// PageSize bounds every list answer; more items are announced with a
	// Link rel="next" header that keeps only max and offset/start.
	PageSize     int
	HoldTimeout  time.Duration // how long a p-timeout call is held
	ClientID     string        // OAuth client accepted by /access_token ("" = any)
	ClientSecret string
	RefreshToken string // the refresh token valid at start
}

// DefaultOptions are the settings of `onboardbot sandbox` without flags.
func DefaultOptions() Options {
	return Options{
		Addr:            "127.0.0.1:8089",
		TokenTTL:        time.Hour,
		ProvisioningIDs: []string{"PROV-*"},
		Delay:           2 * time.Second,
		RPLDelay:        10 * time.Second,
		HoldTimeout:     35 * time.Second,
		RefreshToken:    "sandbox-refresh-0",
		PageSize:        100,
	}
}

// flagSet binds every option to a flag. OptionsFromEnv walks the same set, so a flag and
// its variable can never disagree on name or parsing.
func flagSet(o *Options) *flag.FlagSet {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.StringVar(&o.Addr, "addr", o.Addr, "listen address")
	fs.StringVar(&o.Token, "token", o.Token, `accepted Bearer token ("" = any non-empty)`)
	fs.DurationVar(&o.TokenTTL, "token-ttl", o.TokenTTL, "lifetime of access tokens issued by /v1/access_token")
	fs.Var((*globList)(&o.ProvisioningIDs), "provisioning-ids", "comma-separated glob list of valid provisioning ids")
	fs.DurationVar(&o.Delay, "delay", o.Delay, "time a customer takes to provision")
	fs.DurationVar(&o.Latency, "latency", o.Latency, "latency added to every call")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "requests per second before 429 (burst = rate; 0 = off)")
	fs.Float64Var(&o.P5xx, "p5xx", o.P5xx, "share of calls answered 503")
	fs.Float64Var(&o.PTimeout, "p-timeout", o.PTimeout, "share of calls held past the client's timeout")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed of the fault injection sequence")
	fs.Var(regexpValue{&o.RPLReview}, "rpl-review", "regexp on customer name → pending_rpl_review")
	fs.DurationVar(&o.RPLDelay, "rpl-delay", o.RPLDelay, "time a customer stays in pending_rpl_review")
	fs.Var(regexpValue{&o.Migration}, "migration", "regexp on subscriber email → 202 pending_user_migration")
	fs.Var(regexpValue{&o.RejectAddress}, "reject-address", "regexp on addressLine1 → precheck and create answer 400")
	fs.Var(regexpValue{&o.PSTNIntegrated}, "pstn-integrated", "regexp on location name → INTEGRATED_CCP PSTN set by the provider, with provider numbers (other calling locations start without PSTN and numbers)")
	fs.Var(regexpValue{&o.ProvisionErrors}, "provision-errors", "regexp on customer name → the first provisioning ends provisioned_with_errors (package warning 2560); a PUT of the customer then provisions it")
	fs.Var(regexpValue{&o.ProvisionFail}, "provision-fail", "regexp on customer name → provisioning ends in status error (cause in a package's errors, no orgId)")
	fs.Var(regexpValue{&o.SubscriberErrors}, "subscriber-errors", "regexp on subscriber email → create and update answer with an errors array (the subscriber is not entitled)")
	fs.IntVar(&o.PageSize, "page-size", o.PageSize, `items per list answer; further pages are announced by Link rel="next" keeping only max and offset/start`)
	fs.DurationVar(&o.HoldTimeout, "hold-timeout", o.HoldTimeout, "how long a p-timeout call is held")
	fs.StringVar(&o.ClientID, "client-id", o.ClientID, `OAuth client id accepted by /v1/access_token ("" = any)`)
	fs.StringVar(&o.ClientSecret, "client-secret", o.ClientSecret, `OAuth client secret ("" = any)`)
	fs.StringVar(&o.RefreshToken, "refresh-token", o.RefreshToken, "refresh token valid at start")
	return fs
}

// ParseFlags parses the `onboardbot sandbox` arguments on top of DefaultOptions. -h returns
// flag.ErrHelp after printing the usage to stderr.
func ParseFlags(args []string) (Options, error) {
	o := DefaultOptions()
	fs := flagSet(&o)
	// Errors are returned, not printed with the whole usage; -h still prints it.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fmt.Fprintln(os.Stderr, "Usage: onboardbot sandbox [flags]")
			fs.PrintDefaults()
		}
		return Options{}, err
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if name, err := o.validate(); err != nil {
		return Options{}, fmt.Errorf("flag -%s: %w", name, err)
	}
	return o, nil
}

// OptionsFromEnv reads SANDBOX_<FLAG> (upper case, "-" as "_") on top of DefaultOptions;
// an unset or empty variable keeps the default.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	o := DefaultOptions()
	fs := flagSet(&o)
	fs.SetOutput(io.Discard)
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := EnvName(f.Name)
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	})
	if len(errs) > 0 {
		return Options{}, errors.Join(errs...)
	}
	if name, err := o.validate(); err != nil {
		return Options{}, fmt.Errorf("%s: %w", EnvName(name), err)
	}
	return o, nil
}

// EnvName is the variable that carries a flag for the embedded sandbox.
func EnvName(flagName string) string {
	return "SANDBOX_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// validate returns the name of the first bad flag and what is wrong with it.
func (o Options) validate() (string, error) {
	share := func(p float64) error {
		if p < 0 || p > 1 || p != p {
			return fmt.Errorf("%v is not a share between 0 and 1", p)
		}
		return nil
	}
	nonNeg := func(d time.Duration) error {
		if d < 0 {
			return fmt.Errorf("%v is negative", d)
		}
		return nil
	}
	checks := []struct {
		name string
		err  error
	}{
		{"token-ttl", nonNeg(o.TokenTTL)},
		{"delay", nonNeg(o.Delay)},
		{"latency", nonNeg(o.Latency)},
		{"rpl-delay", nonNeg(o.RPLDelay)},
		{"hold-timeout", nonNeg(o.HoldTimeout)},
		{"p5xx", share(o.P5xx)},
		{"p-timeout", share(o.PTimeout)},
	}
	for _, c := range checks {
		if c.err != nil {
			return c.name, c.err
		}
	}
	if o.Rate < 0 || o.Rate != o.Rate {
		return "rate", fmt.Errorf("%v is negative", o.Rate)
	}
	if o.P5xx+o.PTimeout > 1 {
		return "p-timeout", fmt.Errorf("p5xx + p-timeout = %v exceeds 1", o.P5xx+o.PTimeout)
	}
	if o.TokenTTL == 0 {
		return "token-ttl", errors.New("must be positive")
	}
	if o.PageSize < 1 {
		return "page-size", fmt.Errorf("%d is not a whole number ≥ 1", o.PageSize)
	}
	return "", nil
}

// globList is a comma-separated list of path.Match patterns.
type globList []string

func (g *globList) String() string {
	if g == nil {
		return ""
	}
	return strings.Join(*g, ",")
}

func (g *globList) Set(v string) error {
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("bad glob %q: %w", p, err)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return errors.New("empty list")
	}
	*g = out
	return nil
}

type regexpValue struct{ re **regexp.Regexp }

func (v regexpValue) String() string {
	if v.re == nil || *v.re == nil {
		return ""
	}
	return (*v.re).String()
}

func (v regexpValue) Set(s string) error {
	re, err := regexp.Compile(s)
	if err != nil {
		return err
	}
	*v.re = re
	return nil
}
