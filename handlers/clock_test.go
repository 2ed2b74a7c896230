package handlers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// wallClockAllowed are the only places of this package that may read the
// wall clock, each with why. Everything a person reads (ages, states, dates)
// is built from Handler.now, the injected clock, so that a message says the
// same whatever day it is built on (the golden files) and a test can move
// time. Adding a line here needs a reason that is not a message.
var wallClockAllowed = map[string]string{
	"handler.go:New": "the default of Deps.Now",
}

// TestNoWallClockInBuilders fails when a function of this package reads
// the wall clock (time.Now, time.Since, time.Until) outside
// wallClockAllowed. A summary's fallback text once aged a hold by the wall
// clock while its blocks used the injected one: the golden file said 268d,
// the next run 277d.
func TestNoWallClockInBuilders(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	seen := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			owner := name + ":" + declName(decl)
			ast.Inspect(decl, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if !ok || pkg.Name != "time" || !wallClockFunc[sel.Sel.Name] {
					return true
				}
				seen[owner] = true
				if _, ok := wallClockAllowed[owner]; !ok {
					found = append(found, fset.Position(sel.Pos()).String()+" ("+owner+"): time."+sel.Sel.Name)
				}
				return true
			})
		}
	}
	sort.Strings(found)
	for _, f := range found {
		t.Errorf("reads the wall clock; take the time from h.now() (or a now parameter): %s", f)
	}
	for owner := range wallClockAllowed {
		if !seen[owner] {
			t.Errorf("wallClockAllowed lists %s, which no longer reads the clock: remove the line", owner)
		}
	}
}

var wallClockFunc = map[string]bool{"Now": true, "Since": true, "Until": true}

func declName(d ast.Decl) string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		return d.Name.Name
	case *ast.GenDecl:
		for _, s := range d.Specs {
			if v, ok := s.(*ast.ValueSpec); ok && len(v.Names) > 0 {
				return v.Names[0].Name
			}
		}
	}
	return "?"
}
