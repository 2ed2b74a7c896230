#!/usr/bin/env bash
# fuzz.sh: runs every Fuzz* target of every package for $FUZZTIME (60s),
# one at a time (go test -fuzz takes one target per run). A failing target
# does not stop the others; the script fails at the end naming them all.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}

found=0
failed=()
for pkg in $("$GO" list ./...); do
	targets=$("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	for target in $targets; do
		found=$((found + 1))
		echo "fuzz: $pkg $target for $FUZZTIME"
		"$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" || failed+=("$pkg $target")
	done
done
echo "fuzz: $found targets run, ${#failed[@]} failed"
if ((${#failed[@]} > 0)); then
	printf 'fuzz: FAILED %s\n' "${failed[@]}" >&2
	exit 1
fi
