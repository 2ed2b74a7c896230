#!/usr/bin/env bash
# fuzz.sh: runs every Fuzz* target of every package for $FUZZTIME (60s),
# one at a time (go test -fuzz takes one target per run).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}

found=0
for pkg in $("$GO" list ./...); do
	targets=$("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	for target in $targets; do
		found=$((found + 1))
		echo "fuzz: $pkg $target for $FUZZTIME"
		"$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
	done
done
echo "fuzz: $found targets done"
