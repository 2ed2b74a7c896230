package main

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The rules the repository keeps over its own code and documents.

const (
	repoRoot   = "../.."
	modulePath = "github.com/onboardbot/onboardbot/"
	maxFile    = 500 // lines of a non-test Go file
	maxFunc    = 80  // lines of a function body, tables aside
)

// walkRepo calls fn for every file of the repository outside .git and
// testdata, with its path relative to the root.
func walkRepo(t *testing.T, fn func(rel string, d fs.DirEntry)) {
	t.Helper()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, path)
		if d.IsDir() && rel != "." && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			fn(filepath.ToSlash(rel), d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// goFiles are the repository's Go files, parsed; tests selects test files
// or the others.
func goFiles(t *testing.T, tests bool) (map[string]*ast.File, *token.FileSet) {
	t.Helper()
	fset := token.NewFileSet()
	out := map[string]*ast.File{}
	walkRepo(t, func(rel string, _ fs.DirEntry) {
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") != tests {
			return
		}
		f, err := parser.ParseFile(fset, filepath.Join(repoRoot, rel), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = f
	})
	return out, fset
}

// Files and functions stay small enough to read: no non-test Go file over
// 500 lines, no function over 80 unless its body is one composite literal.
func TestFileAndFunctionSizes(t *testing.T) {
	t.Parallel()
	files, fset := goFiles(t, false)
	if len(files) < 50 {
		t.Fatalf("found %d Go files: is the walk rooted at the repository?", len(files))
	}
	for rel, f := range files {
		if n := fset.File(f.Pos()).LineCount(); n > maxFile {
			t.Errorf("%s: %d lines (at most %d)", rel, n, maxFile)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var body *ast.BlockStmt
			name := "a function literal"
			switch fn := n.(type) {
			case *ast.FuncDecl:
				body, name = fn.Body, fn.Name.Name
			case *ast.FuncLit:
				body = fn.Body
			}
			if body == nil || isTable(body) {
				return true
			}
			if lines := fset.Position(body.Rbrace).Line - fset.Position(body.Lbrace).Line - 1; lines > maxFunc {
				t.Errorf("%s:%d: %s has %d lines (at most %d unless its body is one composite literal)",
					rel, fset.Position(n.Pos()).Line, name, lines, maxFunc)
			}
			return true
		})
	}
}

// isTable reports whether body is one composite literal: returned, or
// assigned.
func isTable(body *ast.BlockStmt) bool {
	if len(body.List) != 1 {
		return false
	}
	var exprs []ast.Expr
	switch s := body.List[0].(type) {
	case *ast.ReturnStmt:
		exprs = s.Results
	case *ast.AssignStmt:
		exprs = s.Rhs
	}
	if len(exprs) != 1 {
		return false
	}
	e := exprs[0]
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = u.X
	}
	_, ok := e.(*ast.CompositeLit)
	return ok
}

// The repository documents itself: no file cites design notes kept outside
// it. Cisco's specs, read as test data from beside the repository, are not
// notes.
func TestNoCitationsOfOutsideNotes(t *testing.T) {
	t.Parallel()
	// Spelled in pieces, so that this file does not cite them either.
	cited := regexp.MustCompile(`\b(` + strings.Join([]string{"CONTRACT", "DESIGN", "WEBEX", "SLACK", "STYLE"}, "|") + `)\.md\b|` +
		regexp.QuoteMeta("\u00a7") + `|\.\./shared/(?:[^r]|r[^e])`)
	checked := 0
	walkRepo(t, func(rel string, _ fs.DirEntry) {
		b, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(b, 0) >= 0 {
			return // binary
		}
		checked++
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			if m := cited.FindString(sc.Text()); m != "" {
				t.Errorf("%s:%d cites %q, a note outside the repository: state the rule here or in docs/", rel, line, m)
			}
		}
	})
	if checked < 100 {
		t.Fatalf("checked %d files: is the walk rooted at the repository?", checked)
	}
}

// docs/architecture.md's package table is the import graph: every package
// has its row, and imports nothing of ours its row does not name.
func TestArchitectureDoc(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs/architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([a-z/]+)` \\| [^|]+ \\| (.+) \\|$")
	_, section, _ := strings.Cut(string(doc), "\n## Packages\n")
	section, _, _ = strings.Cut(section, "\n## ")
	may := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var allowed []string
		for _, p := range regexp.MustCompile("`([a-z/]+)`").FindAllStringSubmatch(m[2], -1) {
			allowed = append(allowed, p[1])
		}
		may[m[1]] = allowed
	}
	if len(may) < 10 {
		t.Fatalf("read %d rows from the Packages section of docs/architecture.md", len(may))
	}
	files, _ := goFiles(t, false)
	imports := map[string]map[string]bool{}
	for rel, f := range files {
		pkg := filepath.ToSlash(filepath.Dir(rel))
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if ours, ok := strings.CutPrefix(path, modulePath); ok {
				imports[pkg][ours] = true
			}
		}
	}
	for pkg, imps := range imports {
		allowed, ok := may[pkg]
		if !ok {
			t.Errorf("docs/architecture.md has no row for package %s", pkg)
			continue
		}
		for imp := range imps {
			if !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s, which its row in docs/architecture.md does not name", pkg, imp)
			}
		}
	}
	for pkg := range may {
		if imports[pkg] == nil {
			t.Errorf("docs/architecture.md has a row for %s, which is no package", pkg)
		}
	}
}
