package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/config"
)

var updateConfigTable = flag.Bool("update-config-table", false, "rewrite the configuration table of docs/operations.md from config.Vars")

const (
	tableBegin = "<!-- config-table:begin -->\n"
	tableEnd   = "<!-- config-table:end -->"
)

// TestConfigTable keeps the configuration table of docs/operations.md equal to the
// config package's variable table: none missing, none stale.
func TestConfigTable(t *testing.T) {
	const path = "../../docs/operations.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start := strings.Index(readme, tableBegin)
	end := strings.Index(readme, tableEnd)
	if start < 0 || end < start {
		t.Fatalf("docs/operations.md lacks the %q … %q markers", strings.TrimSpace(tableBegin), tableEnd)
	}
	want := config.MarkdownTable()
	if !strings.HasSuffix(want, "\n") {
		want += "\n"
	}
	got := readme[start+len(tableBegin) : end]
	if got == want {
		return
	}
	if *updateConfigTable {
		if err := os.WriteFile(path, []byte(readme[:start+len(tableBegin)]+want+readme[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("the configuration table of docs/operations.md differs from config.Vars; run: go test ./cmd/onboardbot -run TestConfigTable -update-config-table\nwant:\n%s\ngot:\n%s", want, got)
}
