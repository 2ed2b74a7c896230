package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/redis/go-redis/v9"
)

// Each template is one hash "<prefix>template:<name>": field "next" counts
// versions, "active" names the active one, "v<n>" holds each version as JSON.
// One key per template keeps every update a single-key, cluster-safe script.
func (s *Store) templateKey(name string) string { return s.prefix + "template:" + name }
func (s *Store) templatesKey() string           { return s.prefix + "templates" }

// addTemplateVersionScript assigns the next version number and stores the
// version under it atomically. It is idempotent per request: a retried
// commit of the same `template new` request gets the same version.
// ARGV: JSON with "version" as 0, request id.
var addTemplateVersionScript = redis.NewScript(`
local done = redis.call('HGET', KEYS[1], 'req:' .. ARGV[2])
if done then return tonumber(done) end
local n = redis.call('HINCRBY', KEYS[1], 'next', 1)
redis.call('HSET', KEYS[1], 'req:' .. ARGV[2], n)
local doc = cjson.decode(ARGV[1])
doc['version'] = n
if doc['status'] == 'active' then redis.call('HSET', KEYS[1], 'active', n) end
redis.call('HSET', KEYS[1], 'v' .. n, cjson.encode(doc))
return n
`)

// AddTemplateVersion stores an approved template as the next version of its
// name and returns the version number.
func (s *Store) AddTemplateVersion(ctx context.Context, tv request.TemplateVersion) (int, error) {
	tv.Version = 0
	raw, err := json.Marshal(tv)
	if err != nil {
		return 0, fmt.Errorf("encode template %q: %w", tv.Name, err)
	}
	n, err := addTemplateVersionScript.Run(ctx, s.rdb, []string{s.templateKey(tv.Name)}, raw, tv.RequestID).Int()
	if err != nil {
		return 0, fmt.Errorf("add template %q: %w", tv.Name, err)
	}
	if err := s.rdb.SAdd(ctx, s.templatesKey(), tv.Name).Err(); err != nil {
		return 0, fmt.Errorf("index template %q: %w", tv.Name, err)
	}
	return n, nil
}

// setTemplateStatusScript changes one version's status (and provisioning id)
// and moves the "active" pointer. ARGV: version, status, provisioning id,
// actor, time (RFC 3339), expected current status ("" = any).
var setTemplateStatusScript = redis.NewScript(`
local field = 'v' .. ARGV[1]
local raw = redis.call('HGET', KEYS[1], field)
if not raw then return redis.error_reply('NOTFOUND') end
local doc = cjson.decode(raw)
if ARGV[6] ~= '' and doc['status'] ~= ARGV[6] then return redis.error_reply('STATUS ' .. doc['status']) end
doc['status'] = ARGV[2]
if ARGV[3] ~= '' then doc['provisioningId'] = ARGV[3] end
if ARGV[2] == 'active' then
  doc['activatedBy'] = ARGV[4]
  doc['activatedAt'] = ARGV[5]
  redis.call('HSET', KEYS[1], 'active', ARGV[1])
elseif redis.call('HGET', KEYS[1], 'active') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'active')
end
redis.call('HSET', KEYS[1], field, cjson.encode(doc))
return 1
`)

// ErrTemplateStatus is returned when a version is not in the expected status.
var ErrTemplateStatus = errors.New("template version is not in the expected status")

// ActivateTemplate makes a pending version active with its provisioning id.
func (s *Store) ActivateTemplate(ctx context.Context, name string, version int, provisioningID, actor string) error {
	return s.setTemplateStatus(ctx, name, version, request.TemplateActive, provisioningID, actor, request.TemplatePending)
}

// RetireTemplate retires the active version of name; customers can no longer
// use the template until a new version is activated.
func (s *Store) RetireTemplate(ctx context.Context, name, actor string) (int, error) {
	active, _, err := s.Template(ctx, name)
	if err != nil {
		return 0, err
	}
	if active == nil {
		return 0, fmt.Errorf("template %q has no active version: %w", name, request.ErrNotFound)
	}
	return active.Version, s.setTemplateStatus(ctx, name, active.Version, request.TemplateRetired, "", actor, request.TemplateActive)
}

func (s *Store) setTemplateStatus(ctx context.Context, name string, version int, status, provisioningID, actor, expect string) error {
	err := setTemplateStatusScript.Run(ctx, s.rdb, []string{s.templateKey(name)},
		version, status, provisioningID, actor, s.clock().Format(time.RFC3339Nano), expect).Err()
	switch {
	case err == nil:
		return nil
	case err.Error() == "NOTFOUND":
		return fmt.Errorf("template %s v%d: %w", name, version, request.ErrNotFound)
	case len(err.Error()) > 7 && err.Error()[:7] == "STATUS ":
		return fmt.Errorf("template %s v%d is %s: %w", name, version, err.Error()[7:], ErrTemplateStatus)
	}
	return fmt.Errorf("template %s v%d: %w", name, version, err)
}

// Template returns the active version of name (nil when none) and every
// version, oldest first. ErrNotFound when the name was never approved.
func (s *Store) Template(ctx context.Context, name string) (*request.TemplateVersion, []request.TemplateVersion, error) {
	fields, err := s.rdb.HGetAll(ctx, s.templateKey(name)).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("read template %q: %w", name, err)
	}
	if len(fields) == 0 {
		return nil, nil, fmt.Errorf("template %q: %w", name, request.ErrNotFound)
	}
	activeN, _ := strconv.Atoi(fields["active"])
	var versions []request.TemplateVersion
	var active *request.TemplateVersion
	for k, v := range fields {
		if _, err := strconv.Atoi(strings.TrimPrefix(k, "v")); err != nil || k[0] != 'v' {
			continue
		}
		var tv request.TemplateVersion
		if err := json.Unmarshal([]byte(v), &tv); err != nil {
			return nil, nil, fmt.Errorf("decode template %q %s: %w", name, k, err)
		}
		versions = append(versions, tv)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i].Version < versions[j].Version })
	for i := range versions {
		if versions[i].Version == activeN && versions[i].Status == request.TemplateActive {
			active = &versions[i]
		}
	}
	return active, versions, nil
}

// Templates lists every template name, sorted.
func (s *Store) Templates(ctx context.Context) ([]string, error) {
	names, err := s.rdb.SMembers(ctx, s.templatesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	sort.Strings(names)
	return names, nil
}
