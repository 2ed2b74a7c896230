package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeMaxLines keeps the README a page a newcomer reads to the end: the
// pitch, the set-up, the first console run, the command list and links.
// Everything else lives in docs/.
const readmeMaxLines = 250

// TestReadmeShort keeps the README within readmeMaxLines.
func TestReadmeShort(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "\n"); n > readmeMaxLines {
		t.Fatalf("README.md has %d lines, more than %d: move the detail to docs/ and link it", n, readmeMaxLines)
	}
}

// TestReadmeCommandList keeps the README's one-screen command list and the
// command table of docs/commands.md naming the same commands.
func TestReadmeCommandList(t *testing.T) {
	readme := commandsOf(t, "../../README.md")
	reference := commandsOf(t, "../../docs/commands.md")
	if len(reference) < 10 {
		t.Fatalf("docs/commands.md's table names only %q: the parser or the table is broken", reference)
	}
	if !slices.Equal(readme, reference) {
		t.Fatalf("the README's command list and docs/commands.md's table differ:\nREADME.md:        %q\ndocs/commands.md: %q", readme, reference)
	}
}

var (
	// tableCellRE is a table row's first cell ("\|" stays inside it).
	tableCellRE = regexp.MustCompile(`^\|((?:[^|\\]|\\.)*)\|`)
	// commandWordRE is a word of a command's name: new, template, list, …
	commandWordRE = regexp.MustCompile(`^[a-z][a-z-]*$`)
)

// commandsOf lists, sorted, the commands named in the first column of the
// table under the "## Commands" heading of the document at path: the leading
// lower-case words of each code span (`template activate NAME …` names
// "template activate").
func commandsOf(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Commands\n")
	if !ok {
		t.Fatalf("%s has no \"## Commands\" section", path)
	}
	if next := strings.Index(section, "\n## "); next >= 0 {
		section = section[:next]
	}
	var names []string
	for _, line := range strings.Split(section, "\n") {
		cell := tableCellRE.FindStringSubmatch(line)
		if cell == nil {
			continue
		}
		for _, span := range codeSpanRE.FindAllStringSubmatch(cell[1], -1) {
			var words []string
			for _, w := range strings.Fields(span[1]) {
				if !commandWordRE.MatchString(w) {
					break
				}
				words = append(words, w)
			}
			if len(words) > 0 {
				names = append(names, strings.Join(words, " "))
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
