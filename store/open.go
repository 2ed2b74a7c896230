package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Open returns one client for a REDIS_URL:
//
//	redis://[user:pass@]host:port/db, rediss://… (TLS), unix:///path/to.sock
//	redis://sentinel1:26379?master_name=mymaster&addr=sentinel2:26379   Sentinel
//	redis://h1:7000?addr=h2:7001&addr=h3:7002                           Cluster
//
// An empty url starts an embedded in-process Redis (miniredis) for a single
// replica; the returned closer stops it. Errors say what is wrong with the URL
// and never contain its password. Open does not connect: Redis may come up
// later, and the client reconnects on its own.
func Open(ctx context.Context, rawURL string) (redis.UniversalClient, func() error, error) {
	if strings.TrimSpace(rawURL) == "" {
		return openEmbedded()
	}
	rdb, err := parseURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	return rdb, rdb.Close, nil
}

// expiryTick is how often the embedded Redis lets TTLs run down.
const expiryTick = 100 * time.Millisecond

// openEmbedded starts miniredis. miniredis does not expire keys by itself
// (its clock only moves when told), so a goroutine moves it with the wall
// clock: locks, dedupe keys and provisional reservations expire as on a real
// server.
func openEmbedded() (redis.UniversalClient, func() error, error) {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, nil, fmt.Errorf("start embedded redis: %w", err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(expiryTick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	var once sync.Once
	return rdb, func() error {
		var err error
		once.Do(func() {
			err = rdb.Close()
			close(stop)
			<-done
			mr.Close()
		})
		return err
	}, nil
}

func parseURL(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only
		// the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, urlError(rawURL, nil, "%s", err.Error())
	}
	q := u.Query()
	switch {
	case u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix":
		return nil, urlError(rawURL, u, "scheme %q is not redis, rediss or unix", u.Scheme)
	case u.Scheme != "unix" && u.Host == "":
		return nil, urlError(rawURL, u, "no host")
	case q.Has("master_name"):
		if q.Get("master_name") == "" {
			return nil, urlError(rawURL, u, "master_name is empty")
		}
		opt, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, urlError(rawURL, u, "sentinel: %s", err.Error())
		}
		failFast(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout)
		opt.ContextTimeoutEnabled = true
		return redis.NewFailoverClient(opt), nil
	case q.Has("addr"):
		if u.Scheme == "unix" {
			return nil, urlError(rawURL, u, "a cluster (addr=) needs redis:// or rediss://")
		}
		if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
			return nil, urlError(rawURL, u, "a cluster has only database 0, not %q", db)
		}
		// ParseClusterURL ignores the path but would reject nothing else we
		// allow; strip it so "/0" is accepted.
		cu := *u
		cu.Path = ""
		opt, err := redis.ParseClusterURL(cu.String())
		if err != nil {
			return nil, urlError(rawURL, u, "cluster: %s", err.Error())
		}
		failFast(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout)
		opt.ContextTimeoutEnabled = true
		return redis.NewClusterClient(opt), nil
	default:
		opt, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, urlError(rawURL, u, "%s", err.Error())
		}
		failFast(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout)
		opt.ContextTimeoutEnabled = true
		return redis.NewClient(opt), nil
	}
}

// Client timeouts unless the URL sets its own (dial_timeout=, read_timeout=,
// write_timeout=, pool_timeout=). go-redis waits 5 s per read by default and
// retries: behind a stalled server (paused, swapping, a network partition
// that drops packets) a slash command would miss Slack's 3 s. With these, and
// with the context's deadline honoured (ContextTimeoutEnabled), a command
// fails within about a second and the user is told nothing was saved.
const (
	dialTimeout = time.Second
	ioTimeout   = time.Second
	poolTimeout = 1500 * time.Millisecond
)

func failFast(dial, read, write, pool *time.Duration) {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{dial, dialTimeout}, {read, ioTimeout}, {write, ioTimeout}, {pool, poolTimeout}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
}

// urlError names the problem and the URL with every secret replaced: the
// user-info password and a password= query parameter (Sentinel's).
func urlError(rawURL string, u *url.URL, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	shown := "REDIS_URL"
	if u != nil {
		r := *u
		q := r.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			r.RawQuery = q.Encode()
		}
		shown = fmt.Sprintf("REDIS_URL %s", r.Redacted())
	}
	for _, secret := range secretsOf(rawURL, u) {
		msg = strings.ReplaceAll(msg, secret, "xxxxx")
		shown = strings.ReplaceAll(shown, secret, "xxxxx")
	}
	return fmt.Errorf("%s: %s", shown, msg)
}

// secretsOf returns the passwords a URL carries, for scrubbing messages that
// a parser built from parts of it.
func secretsOf(rawURL string, u *url.URL) []string {
	var out []string
	if u != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p, url.PathEscape(p), url.QueryEscape(p))
		}
		for _, p := range u.Query()["password"] {
			if p != "" {
				out = append(out, p, url.QueryEscape(p))
			}
		}
		return out
	}
	// Unparsable: take what sits between "user:" and the last "@".
	rest := rawURL
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if c := strings.Index(rest[:at], ":"); c >= 0 && c+1 < at {
			out = append(out, rest[c+1:at])
		}
	}
	return out
}
