package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The console examples of README.md and docs/*.md are executed: what the
// docs say a script prints, it prints.
//
//   - An example is a fenced block whose lines are all console input
//     (/onboard-customer, /as, /click, /submit, /home, /sandbox, /quit;
//     # comment lines may stand between them). It runs through run with no
//     configuration, as `go run ./cmd/onboardbot < block` would.
//   - Its promises are the inline code spans that start with an outcome icon
//     (✅ ⚠️ ❌ ⏳ 🚫 🗑 ⌛ ⛔ 📋) in the prose after it, up to the next heading
//     or the next example, and the lines of fenced blocks there that hold
//     only such lines. Each must be a whole line of the output; … in a
//     promise stands for anything.
//   - `<!-- console-example: env NAME=VALUE … -->` before an example sets
//     environment variables for it (values without spaces), e.g. the
//     sandbox's SANDBOX_RPL_REVIEW the prose names.
//   - `<!-- console-example: file NAME -->` before a fenced block makes that
//     block the content of file NAME for the examples after it in the same
//     document: @NAME in them (rows=@NAME) reads it.

// docExample is one console example of a document.
type docExample struct {
	where    string // "README.md:22", the fence's line
	script   string
	env      []string // name, value, name, value, …
	files    map[string]string
	promises []string
}

// outcomeIcons start the lines an example may promise.
var outcomeIcons = []string{"✅", "⚠", "❌", "⏳", "🚫", "🗑", "⌛", "⛔", "📋"}

// consoleInput are the console commands an example block consists of.
var consoleInput = []string{"/onboard-customer", "/as", "/click", "/submit", "/home", "/sandbox", "/quit"}

var (
	directiveRE = regexp.MustCompile(`^<!--\s*console-example:\s*(env|file)\s+(.*?)\s*-->$`)
	codeSpanRE  = regexp.MustCompile("`([^`]+)`")
)

func isOutcome(s string) bool {
	for _, icon := range outcomeIcons {
		if strings.HasPrefix(s, icon) {
			return true
		}
	}
	return false
}

func isConsoleInput(line string) bool {
	word, _, _ := strings.Cut(line, " ")
	for _, c := range consoleInput {
		if word == c {
			return true
		}
	}
	return false
}

// allLines reports whether body has a non-empty line and every non-empty
// line satisfies ok (comment, when set, lines are skipped).
func allLines(body string, ok func(string) bool, comments bool) bool {
	n := 0
	for l := range strings.SplitSeq(body, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "", comments && strings.HasPrefix(l, "#"):
		case ok(l):
			n++
		default:
			return false
		}
	}
	return n > 0
}

// parseExamples finds the console examples of a Markdown document.
func parseExamples(doc, text string) ([]docExample, error) {
	var out []docExample
	var cur *docExample // the example whose prose is being read
	var prose strings.Builder
	files := map[string]string{}
	var env []string
	fileNext := ""
	endProse := func() {
		if cur != nil {
			for _, m := range codeSpanRE.FindAllStringSubmatch(prose.String(), -1) {
				if span := strings.Join(strings.Fields(m[1]), " "); isOutcome(span) {
					cur.promises = append(cur.promises, span)
				}
			}
		}
		prose.Reset()
	}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if m := directiveRE.FindStringSubmatch(line); m != nil {
			switch args := strings.Fields(m[2]); {
			case m[1] == "file" && len(args) == 1:
				fileNext = args[0]
			case m[1] == "env" && len(args) > 0:
				for _, a := range args {
					k, v, ok := strings.Cut(a, "=")
					if !ok || k == "" {
						return nil, fmt.Errorf("%s:%d: env %q is not NAME=VALUE", doc, i+1, a)
					}
					env = append(env, k, v)
				}
			default:
				return nil, fmt.Errorf("%s:%d: bad console-example directive %q", doc, i+1, line)
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			endProse()
			cur = nil
			continue
		}
		fence, ok := strings.CutPrefix(line, "```")
		if !ok {
			prose.WriteString(lines[i] + "\n")
			continue
		}
		endProse() // the prose before the block comes first
		start := i
		var body strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body.WriteString(lines[i] + "\n")
		}
		if i == len(lines) {
			return nil, fmt.Errorf("%s:%d: the fenced block %q is not closed", doc, start+1, fence)
		}
		switch {
		case fileNext != "":
			files[fileNext] = body.String()
			fileNext = ""
		case allLines(body.String(), isConsoleInput, true):
			out = append(out, docExample{where: fmt.Sprintf("%s:%d", doc, start+1), script: body.String(), env: env, files: copyFiles(files)})
			cur, env = &out[len(out)-1], nil
		case cur != nil && allLines(body.String(), isOutcome, false):
			for l := range strings.SplitSeq(body.String(), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					cur.promises = append(cur.promises, l)
				}
			}
		}
	}
	endProse()
	if fileNext != "" || env != nil {
		return nil, fmt.Errorf("%s: a console-example directive has no block after it", doc)
	}
	return out, nil
}

func copyFiles(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// missingPromises returns the promises that are not a whole line of out.
func missingPromises(out string, promises []string) []string {
	var missing []string
	for _, p := range promises {
		parts := strings.Split(p, "…")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		if !regexp.MustCompile(`(?m)^` + strings.Join(parts, ".*") + `$`).MatchString(out) {
			missing = append(missing, p)
		}
	}
	return missing
}

func TestDocsExamples(t *testing.T) {
	t.Parallel()
	docs, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	var examples []docExample
	for _, path := range append([]string{"../../README.md"}, docs...) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(path, "../../")
		found, err := parseExamples(name, string(raw))
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, found...)
	}
	if len(examples) == 0 {
		t.Fatal("README.md has no console example: the parser or the README is broken")
	}
	for _, ex := range examples {
		t.Run(ex.where, func(t *testing.T) {
			t.Parallel()
			if problem := runExample(t, ex); problem != "" {
				t.Error(problem)
			}
		})
	}
}

// runExample runs one example and reports the promises its output breaks
// ("" when it keeps them all).
func runExample(t *testing.T, ex docExample) string {
	t.Helper()
	script := ex.script
	dir := t.TempDir()
	for name, content := range ex.files {
		path := filepath.Join(dir, filepath.Base(name))
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		script = strings.ReplaceAll(script, "@"+name, "@"+path)
	}
	t.Logf("%d promises: %q", len(ex.promises), ex.promises)
	out, code := runConsole(t, script, ex.env...)
	missing := missingPromises(out, ex.promises)
	if code == 0 && len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: exit %d; %d of %d promised lines missing:\n  %s\nscript:\n%s\noutput:\n%s",
		ex.where, code, len(missing), len(ex.promises), strings.Join(missing, "\n  "), script, out)
}

// An example runs with the file a directive gives it, and a promise its
// output breaks is reported, the one it keeps is not.
func TestDocsExamplesReportBrokenPromises(t *testing.T) {
	t.Parallel()
	doc := "<!-- console-example: file staff.csv -->\n```csv\n" +
		"First Name,Last Name,User ID/Email (Required)\nAnna,Muster,anna@mueller.example\nBen,Beispiel,ben@mueller.example\n```\n" +
		"```\n/onboard-customer new name=\"Müller & Söhne GmbH\" email=it@mueller.example external-id=MS-001 country=DE package=webex_meetings provisioning-id=PROV-DE-1 supported-location=yes address=\"Hauptstraße 1\" city=Berlin zip=10115\n" +
		"/as bob\n/click Approve\n/as alice\n/onboard-customer users MS-001 rows=@staff.csv\n/as carol\n/click Approve\n```\n" +
		"ends with `✅ R-2 users MS-001: 2/2 provisioned`, not `✅ R-2 users MS-001: 3/3 provisioned`.\n"
	exs, err := parseExamples("test.md", doc)
	if err != nil || len(exs) != 1 {
		t.Fatalf("parse: %v, %d examples", err, len(exs))
	}
	problem := runExample(t, exs[0])
	if !strings.Contains(problem, "1 of 2 promised lines missing:\n  ✅ R-2 users MS-001: 3/3 provisioned\n") {
		t.Fatalf("the broken promise, and only it, should be reported; got:\n%s", problem)
	}
}

// The matcher and the parser can fail: a wrong promise is reported, … is a
// wildcard within one line only, promises end at a heading and at the next
// example, and directives prepare the example after them.
func TestDocsExamplesMatcher(t *testing.T) {
	t.Parallel()
	out := "── #approvals ──\n✅ R-1 MS-001 provisioned (org Y2lz)\n⛔ R-2: you requested this yourself\n"
	got := missingPromises(out, []string{
		"✅ R-1 MS-001 provisioned (org …)", // matches
		"⛔ R-2: you requested this yourself",
		"✅ R-1 MS-001 provisioned",            // only part of a line
		"❌ R-1 MS-001 failed: …",              // wrong
		"✅ R-1 … yourself",                    // … does not cross lines
		"⛔ R-2: you requested this yourself!", // wrong
	})
	want := []string{"✅ R-1 MS-001 provisioned", "❌ R-1 MS-001 failed: …", "✅ R-1 … yourself", "⛔ R-2: you requested this yourself!"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("missing = %q, want %q", got, want)
	}

	doc := strings.Join([]string{
		"# Doc",
		"Before: `✅ R-9 not promised`.",
		"<!-- console-example: file users.csv -->",
		"```csv",
		"Anna,Muster,anna@x.example",
		"```",
		"<!-- console-example: env SANDBOX_RPL_REVIEW=Müller SANDBOX_DELAY=1s -->",
		"```",
		"/onboard-customer users MS-001 rows=@users.csv",
		"# a comment",
		"/as bob",
		"```",
		"prints `⏳ R-1 MS-001: compliance review (<1m)` and",
		"`✅ R-1 spans",
		"two lines` but not `/as bob`:",
		"```",
		"❌ R-1 … (trackingId …)",
		"```",
		"```sh",
		"go run ./cmd/onboardbot",
		"```",
		"```",
		"/click Approve",
		"```",
		"then `🚫 R-2 rejected`.",
		"## Next",
		"`✅ R-3 after a heading`",
	}, "\n")
	exs, err := parseExamples("doc.md", doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 2 {
		t.Fatalf("%d examples, want 2: %+v", len(exs), exs)
	}
	first, second := exs[0], exs[1]
	if first.where != "doc.md:8" || !strings.Contains(first.script, "rows=@users.csv") || first.files["users.csv"] != "Anna,Muster,anna@x.example\n" {
		t.Errorf("first example: %+v", first)
	}
	if strings.Join(first.env, " ") != "SANDBOX_RPL_REVIEW Müller SANDBOX_DELAY 1s" || second.env != nil {
		t.Errorf("env: %q, then %q", first.env, second.env)
	}
	if want := "⏳ R-1 MS-001: compliance review (<1m)|✅ R-1 spans two lines|❌ R-1 … (trackingId …)"; strings.Join(first.promises, "|") != want {
		t.Errorf("first promises %q, want %q", first.promises, want)
	}
	if strings.Join(second.promises, "|") != "🚫 R-2 rejected" {
		t.Errorf("second promises %q", second.promises)
	}
	if _, err := parseExamples("bad.md", "<!-- console-example: env NOVALUE -->\n```\n/as bob\n```\n"); err == nil {
		t.Error("a malformed directive was accepted")
	}
}
