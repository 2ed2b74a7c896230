// Package spectest checks HTTP traffic against the Webex reference OpenAPI specs in
// ../shared/reference (outside the module: they are not ours to ship). It is test support:
// only _test.go files import it. Tests skip when the reference folder is absent.
package spectest

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// BasePath is the path of Webex's server base URL https://webexapis.com/v1. Requests may
// carry it or not; routes are matched on the rest.
const BasePath = "/v1"

// ReferenceDir is the folder, relative to some ancestor of the working directory, that
// holds the specs.
const ReferenceDir = "shared/reference"

// Spec is the set of reference documents plus the operations one test has seen. Load
// returns a fresh Spec per call (its own coverage) over documents parsed once per process.
type Spec struct {
	lib *library

	mu      sync.Mutex
	covered map[string]bool
	exempt  map[string]bool
}

// library is the parsed, immutable part shared by every Spec of the process.
type library struct {
	dir    string
	routes []*route
}

type route struct {
	key      string   // "METHOD /path/template"
	segments []string // template split on "/", without the leading empty one
	literals int      // number of non-parameter segments: more literal wins on ties
	r        *routers.Route
	file     string
}

var (
	loadOnce sync.Once
	loaded   *library
	loadErr  error
	missing  string // non-empty: why the folder was not found
)

// Load returns the reference specs, skipping the test when the reference folder cannot be
// found by walking up from the working directory. A folder that exists but does not parse
// fails the test: that is a real problem, not an absent fixture.
func Load(t testing.TB) *Spec {
	t.Helper()
	loadOnce.Do(func() {
		dir, why := findReference()
		if dir == "" {
			missing = why
			return
		}
		loaded, loadErr = loadLibrary(dir)
	})
	if missing != "" {
		t.Skipf("spectest: Webex reference specs not available (%s); they live in ../%s next to the module root", missing, ReferenceDir)
	}
	if loadErr != nil {
		t.Fatalf("spectest: %v", loadErr)
	}
	return &Spec{lib: loaded, covered: map[string]bool{}}
}

func findReference() (string, string) {
	wd, err := os.Getwd()
	if err != nil {
		return "", "working directory unknown: " + err.Error()
	}
	for dir := wd; ; {
		cand := filepath.Join(dir, filepath.FromSlash(ReferenceDir))
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand, ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "no " + ReferenceDir + " in " + wd + " or any parent"
		}
		dir = parent
	}
}

// specFiles lists the documents to load: Cisco's wholesale spec and the Cloud Calling splits.
func specFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir {
				return filepath.SkipDir // examples/ holds payloads, not specs
			}
			return nil
		}
		name := d.Name()
		if name == "webex-wholesale.openapi.json" || strings.HasSuffix(name, ".openapi.yml") {
			files = append(files, path)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func loadLibrary(dir string) (*library, error) {
	files, err := specFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.openapi.* files in %s", dir)
	}
	lib := &library{dir: dir}
	seen := map[string]string{}
	for _, f := range files {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(f)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", filepath.Base(f), err)
		}
		// The documents' own examples are not valid against their schemas (stray quotes,
		// strings for integers: see NOTICE.md), so examples are not checked; every schema is.
		if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
			return nil, fmt.Errorf("validate %s: %w", filepath.Base(f), err)
		}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				key := method + " " + path
				if prev, dup := seen[key]; dup {
					// Two documents describing one operation would make the result depend
					// on file order; say so instead of guessing.
					return nil, fmt.Errorf("%s is described by both %s and %s", key, prev, filepath.Base(f))
				}
				seen[key] = filepath.Base(f)
				segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
				lit := 0
				for _, s := range segs {
					if !isParam(s) {
						lit++
					}
				}
				lib.routes = append(lib.routes, &route{
					key: key, segments: segs, literals: lit, file: filepath.Base(f),
					r: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
				})
			}
		}
	}
	return lib, nil
}

func isParam(seg string) bool {
	return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}")
}

// errNoRoute and errMethod distinguish "unknown path" from "known path, wrong method".
var (
	errNoRoute = errors.New("no operation in the reference specs has this path")
	errMethod  = errors.New("the path exists in the reference specs but not with this method")
)

// find matches method and path (with or without the /v1 base path) to one operation.
// Literal segments win over parameters (POST /wholesale/customers/validate is not
// POST /wholesale/customers/{customerId}).
func (l *library) find(method string, u *url.URL) (*route, map[string]string, error) {
	p := u.EscapedPath()
	if p == BasePath || strings.HasPrefix(p, BasePath+"/") {
		p = strings.TrimPrefix(p, BasePath)
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	var best *route
	var bestParams map[string]string
	pathKnown := false
	for _, rt := range l.routes {
		params, ok := match(rt.segments, segs)
		if !ok {
			continue
		}
		pathKnown = true
		if rt.r.Method != method {
			continue
		}
		if best == nil || rt.literals > best.literals {
			best, bestParams = rt, params
		}
	}
	switch {
	case best != nil:
		return best, bestParams, nil
	case pathKnown:
		return nil, nil, errMethod
	default:
		return nil, nil, errNoRoute
	}
}

func match(tmpl, segs []string) (map[string]string, bool) {
	if len(tmpl) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, t := range tmpl {
		if isParam(t) {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			params[t[1:len(t)-1]] = v
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// Operations lists every operation the reference specs describe, sorted.
func (s *Spec) Operations() []string {
	keys := make([]string, 0, len(s.lib.routes))
	for _, rt := range s.lib.routes {
		keys = append(keys, rt.key)
	}
	slices.Sort(keys)
	return keys
}

// Dir is the reference folder the specs were read from.
func (s *Spec) Dir() string { return s.lib.dir }

func (s *Spec) cover(key string) {
	s.mu.Lock()
	s.covered[key] = true
	s.mu.Unlock()
}

// Covered returns the operations validated through this Spec so far, sorted.
func (s *Spec) Covered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.covered))
	for k := range s.covered {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
