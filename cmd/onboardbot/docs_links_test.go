package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// linkRE is a Markdown link or image: [text](target).
var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinks checks every relative link of the README and the docs: the
// file or folder it names exists, and so does the heading its #anchor names
// (GitHub's anchors: lower case, punctuation dropped, spaces as -).
func TestDocsLinks(t *testing.T) {
	docs, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	paths := append([]string{"../../README.md", "../../deploy/kubernetes/README.md"}, docs...)
	checked := 0
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range relativeLinks(string(raw)) {
			checked++
			if problem := brokenLink(path, target); problem != "" {
				t.Errorf("%s: link %s: %s", strings.TrimPrefix(path, "../../"), target, problem)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d relative links found: the parser is broken", checked)
	}
}

// relativeLinks lists the targets of the links outside fenced blocks that
// point into the repository.
func relativeLinks(doc string) []string {
	var targets []string
	for _, line := range proseLines(doc) {
		for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
			if target := m[1]; !strings.Contains(target, "://") && !strings.HasPrefix(target, "mailto:") {
				targets = append(targets, target)
			}
		}
	}
	return targets
}

// brokenLink says what is wrong with a link from the document at from, or "".
func brokenLink(from, target string) string {
	file, anchor, _ := strings.Cut(target, "#")
	path := from
	if file != "" {
		path = filepath.Join(filepath.Dir(from), filepath.FromSlash(file))
		if _, err := os.Stat(path); err != nil {
			return "no such file or folder"
		}
	}
	if anchor == "" {
		return ""
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	anchors := headingAnchors(string(raw))
	if !anchors[anchor] {
		return fmt.Sprintf("no heading with the anchor #%s", anchor)
	}
	return ""
}

// headingAnchors are the anchors GitHub gives the headings of doc.
func headingAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, line := range proseLines(doc) {
		text, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !strings.HasPrefix(line, "#") || !ok {
			continue
		}
		slug := slugOf(text)
		if n := seen[slug]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors
}

// slugOf is GitHub's anchor of a heading's text.
func slugOf(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(text)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// proseLines are the lines of doc outside fenced code blocks.
func proseLines(doc string) []string {
	var lines []string
	fenced := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			lines = append(lines, line)
		}
	}
	return lines
}

// Anchors follow GitHub's rule, fenced lines are no headings, and a link to a
// missing file or heading is reported.
func TestDocsLinksRules(t *testing.T) {
	doc := "# Title\n## First run: the console\n## Metrics, logs and probes\n## Commands\n### Commands\n```\n# not a heading\n```\n"
	anchors := headingAnchors(doc)
	for _, want := range []string{"title", "first-run-the-console", "metrics-logs-and-probes", "commands", "commands-1"} {
		if !anchors[want] {
			t.Errorf("anchor %q missing from %v", want, anchors)
		}
	}
	if anchors["not-a-heading"] {
		t.Error("a fenced line was taken for a heading")
	}
	if got := relativeLinks("see [a](a.md#x), [b](https://x.example/b)\n```\n[c](c.md)\n```\n"); len(got) != 1 || got[0] != "a.md#x" {
		t.Errorf("relative links: %q", got)
	}
	if brokenLink("../../README.md", "docs/nothing.md") == "" || brokenLink("../../README.md", "#no-such-heading") == "" {
		t.Error("a broken link passed")
	}
}
