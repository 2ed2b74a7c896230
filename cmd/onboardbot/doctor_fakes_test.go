package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// doctorSlack is an httptest Slack Web API for doctor: the methods it calls,
// with the scopes header Slack sends on every answer, and the errors Slack
// gives for a wrong token, a missing scope, an unknown user or group.
type doctorSlack struct {
	*httptest.Server
	mu       sync.Mutex
	token    string
	scopes   []string
	botID    string
	channels []fakeChannel
	users    map[string]string   // id → "person", "deleted" or "bot"
	groups   map[string][]string // id → members
	// echoToken makes a refused token's error quote the token, as a careless
	// server might: doctor must not print it.
	echoToken bool
}

type fakeChannel struct {
	id, name                  string
	private, member, archived bool
}

func newDoctorSlack(t *testing.T, token string) *doctorSlack {
	f := &doctorSlack{
		token:  token,
		scopes: append([]string(nil), botScopes...),
		botID:  "BBOT",
		channels: []fakeChannel{
			{id: "CGENERAL", name: "general"},
			{id: "CRANDOM", name: "random", member: true},
			{id: "CAPPROVALS", name: "approvals", private: true, member: true},
			{id: "CDIGEST", name: "digest", member: true},
		},
		users:  map[string]string{"UALICE": "person", "UBOB": "person", "UCAROL": "person", "UGONE": "deleted", "UROBOT": "bot"},
		groups: map[string][]string{"SAPPROVERS": {"UALICE", "UBOB"}, "SEMPTY": {}},
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *doctorSlack) has(scope string) bool {
	for _, s := range f.scopes {
		if s == scope {
			return true
		}
	}
	return false
}

func (f *doctorSlack) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	answer := func(v map[string]any) { _ = json.NewEncoder(w).Encode(v) }
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if got != f.token {
		code := "invalid_auth"
		if f.echoToken {
			code += " for " + got
		}
		answer(map[string]any{"ok": false, "error": code})
		return
	}
	w.Header().Set("X-OAuth-Scopes", strings.Join(f.scopes, ","))
	need := func(scope string) bool {
		if f.has(scope) {
			return true
		}
		answer(map[string]any{"ok": false, "error": "missing_scope", "needed": scope})
		return false
	}
	switch strings.TrimPrefix(r.URL.Path, "/") {
	case "auth.test":
		answer(map[string]any{"ok": true, "user_id": "UBOT", "user": "onboardbot", "team": "Acme", "team_id": "T1", "bot_id": f.botID})
	case "conversations.list":
		f.list(r, answer, need)
	case "conversations.info":
		for _, ch := range f.channels {
			if ch.id != r.Form.Get("channel") || (ch.private && !ch.member) {
				continue
			}
			scope := "channels:read"
			if ch.private {
				scope = "groups:read"
			}
			if need(scope) {
				answer(map[string]any{"ok": true, "channel": map[string]any{"id": ch.id, "name": ch.name, "is_member": ch.member, "is_archived": ch.archived}})
			}
			return
		}
		answer(map[string]any{"ok": false, "error": "channel_not_found"})
	case "users.info":
		kind, ok := f.users[r.Form.Get("user")]
		if !need("users:read") {
			return
		}
		if !ok {
			answer(map[string]any{"ok": false, "error": "user_not_found"})
			return
		}
		answer(map[string]any{"ok": true, "user": map[string]any{"id": r.Form.Get("user"), "deleted": kind == "deleted", "is_bot": kind == "bot"}})
	case "usergroups.users.list":
		members, ok := f.groups[r.Form.Get("usergroup")]
		if !need("usergroups:read") {
			return
		}
		if !ok {
			answer(map[string]any{"ok": false, "error": "no_such_subteam"})
			return
		}
		answer(map[string]any{"ok": true, "users": members})
	default:
		answer(map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// list is conversations.list, one channel a page so that doctor must follow
// the cursor; private channels are listed only to their members.
func (f *doctorSlack) list(r *http.Request, answer func(map[string]any), need func(string) bool) {
	if !need("channels:read") || !need("groups:read") {
		return
	}
	var visible []fakeChannel
	for _, ch := range f.channels {
		if (!ch.private || ch.member) && !ch.archived {
			visible = append(visible, ch)
		}
	}
	i, _ := strconv.Atoi(r.Form.Get("cursor"))
	if i >= len(visible) {
		answer(map[string]any{"ok": true, "channels": []any{}})
		return
	}
	ch := visible[i]
	next := ""
	if i+1 < len(visible) {
		next = strconv.Itoa(i + 1)
	}
	answer(map[string]any{"ok": true, "channels": []any{map[string]any{"id": ch.id, "name": ch.name, "is_member": ch.member}},
		"response_metadata": map[string]any{"next_cursor": next}})
}

// infoRedis is a Redis client (miniredis underneath) that answers INFO and
// CONFIG GET save as a configured server would; miniredis knows neither.
type infoRedis struct {
	redis.UniversalClient
	version       string
	aof           bool
	save          string
	configRefused bool
}

func (r *infoRedis) Info(ctx context.Context, sections ...string) *redis.StringCmd {
	switch strings.Join(sections, " ") {
	case "server":
		return redis.NewStringResult("# Server\r\nredis_version:"+r.version+"\r\nredis_mode:standalone\r\n", nil)
	case "persistence":
		aof := "0"
		if r.aof {
			aof = "1"
		}
		return redis.NewStringResult("# Persistence\r\nloading:0\r\naof_enabled:"+aof+"\r\n", nil)
	}
	return r.UniversalClient.Info(ctx, sections...)
}

func (r *infoRedis) ConfigGet(ctx context.Context, param string) *redis.MapStringStringCmd {
	if r.configRefused {
		return redis.NewMapStringStringResult(nil, errors.New("ERR unknown command 'CONFIG'"))
	}
	return redis.NewMapStringStringResult(map[string]string{param: r.save}, nil)
}
