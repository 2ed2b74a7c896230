package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/config"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's configuration table from config.Vars")

const (
	tableBegin = "<!-- config-table:begin -->\n"
	tableEnd   = "<!-- config-table:end -->"
)

// TestReadmeConfigTable keeps the README's configuration table equal to the
// config package's variable table: none missing, none stale.
func TestReadmeConfigTable(t *testing.T) {
	const path = "../../README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start := strings.Index(readme, tableBegin)
	end := strings.Index(readme, tableEnd)
	if start < 0 || end < start {
		t.Fatalf("README.md lacks the %q … %q markers", strings.TrimSpace(tableBegin), tableEnd)
	}
	want := config.MarkdownTable()
	if !strings.HasSuffix(want, "\n") {
		want += "\n"
	}
	got := readme[start+len(tableBegin) : end]
	if got == want {
		return
	}
	if *updateReadme {
		if err := os.WriteFile(path, []byte(readme[:start+len(tableBegin)]+want+readme[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("README.md's configuration table differs from config.Vars; run: go test ./cmd/onboardbot -run TestReadmeConfigTable -update-readme\nwant:\n%s\ngot:\n%s", want, got)
}
