// Package storetest gives tests of every package the Redis servers to run
// against: an in-process miniredis always, and the real single server and
// cluster that `make test` starts (TEST_REDIS_URL, TEST_REDIS_CLUSTER_URL).
// With CI=true a missing real server fails the test; elsewhere it is skipped
// with a message that names `make test`.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onboardbot/onboardbot/store"
)

// Environment variables that `make test` (scripts/with-redis.sh) exports.
const (
	EnvSingle  = "TEST_REDIS_URL"
	EnvCluster = "TEST_REDIS_CLUSTER_URL"
)

// Backend is one Redis deployment a test runs on.
type Backend struct {
	Name   string // "miniredis", "single", "cluster"
	Client redis.UniversalClient
}

// Backends returns miniredis plus each real deployment whose URL is set.
// Real clients are shared by the whole test binary; give every test its own
// key space with Prefix.
func Backends(t testing.TB) []Backend {
	t.Helper()
	out := []Backend{{Name: "miniredis", Client: Miniredis(t)}}
	if c := real(t, EnvSingle); c != nil {
		out = append(out, Backend{Name: "single", Client: c})
	}
	if c := real(t, EnvCluster); c != nil {
		out = append(out, Backend{Name: "cluster", Client: c})
	}
	return out
}

// Client returns the real single server when TEST_REDIS_URL is set, else a
// fresh miniredis: for end-to-end tests of other packages.
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	if c := real(t, EnvSingle); c != nil {
		return c
	}
	return Miniredis(t)
}

// Miniredis returns a client of a fresh in-process miniredis (the embedded
// Redis of store.Open, whose TTLs run down with the wall clock), stopped when
// the test ends.
func Miniredis(t testing.TB) redis.UniversalClient {
	t.Helper()
	c, closer, err := store.Open(context.Background(), "")
	if err != nil {
		t.Fatalf("embedded redis: %v", err)
	}
	t.Cleanup(func() { _ = closer() })
	return c
}

// Prefix returns a key prefix unique to this test run, so tests sharing a
// real server neither collide nor need to flush it, and may run in parallel.
// It contains no braces, so the store's {req:<n>} hash tags stay in force.
func Prefix(t testing.TB) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '/':
			return r
		}
		return '_'
	}, t.Name())
	return "test:" + name + ":" + hex.EncodeToString(b[:]) + ":"
}

var (
	mu      sync.Mutex
	clients = map[string]redis.UniversalClient{}
	warned  = map[string]bool{}
)

// real returns the shared client for the URL in env, or nil when it is not
// set (failing the test under CI=true).
func real(t testing.TB, env string) redis.UniversalClient {
	t.Helper()
	url := os.Getenv(env)
	if url == "" {
		msg := fmt.Sprintf("%s not set: run make test (it starts a single Redis and a 3-node cluster); "+
			"only miniredis was used", env)
		if os.Getenv("CI") == "true" {
			t.Errorf("%s", msg)
			return nil
		}
		t.Logf("WARNING: %s", msg)
		mu.Lock()
		if !warned[env] {
			warned[env] = true
			fmt.Fprintln(os.Stderr, "storetest: WARNING:", msg)
		}
		mu.Unlock()
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	if c, ok := clients[env]; ok {
		return c
	}
	c, _, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("%s: redis does not answer (is `make test` running it?): %v", env, err)
	}
	clients[env] = c
	return c
}
