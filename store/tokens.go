package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RefreshTokens keeps Webex's rotating OAuth refresh token where every
// replica sees it; it implements webex.RefreshTokenStore.
type RefreshTokens struct {
	s     *Store
	owner string
}

// refreshTokenTTL outlives Webex's refresh-token lifetime (90 days); every
// rotation renews it.
const refreshTokenTTL = 120 * 24 * time.Hour

// RefreshTokens returns the shared refresh-token store.
func (s *Store) RefreshTokens() *RefreshTokens {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &RefreshTokens{s: s, owner: "oauth-" + hex.EncodeToString(b[:])}
}

func (t *RefreshTokens) key() string { return t.s.prefix + "webex:refresh-token" }

// LoadRefreshToken returns the stored token, "" when none is stored.
func (t *RefreshTokens) LoadRefreshToken(ctx context.Context) (string, error) {
	tok, err := t.s.rdb.Get(ctx, t.key()).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load refresh token: %w", err)
	}
	return tok, nil
}

// SaveRefreshToken stores the newest token.
func (t *RefreshTokens) SaveRefreshToken(ctx context.Context, tok string) error {
	if err := t.s.rdb.Set(ctx, t.key(), tok, refreshTokenTTL).Err(); err != nil {
		return fmt.Errorf("save refresh token: %w", err)
	}
	return nil
}

// Lock serialises refreshes across replicas: it waits (bounded by ctx and
// 30 s) for the refresh lock. The lock expires by itself if its holder dies.
func (t *RefreshTokens) Lock(ctx context.Context) (func(), error) {
	const name, ttl = "webex-refresh", 30 * time.Second
	deadline := time.Now().Add(ttl)
	for {
		ok, err := t.s.TryLock(ctx, name, t.owner, ttl)
		if err != nil {
			return nil, err
		}
		if ok {
			return func() { _ = t.s.Unlock(context.WithoutCancel(ctx), name, t.owner) }, nil
		}
		if time.Now().After(deadline) {
			return nil, errors.New("refresh lock: another replica has held it for 30s")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
