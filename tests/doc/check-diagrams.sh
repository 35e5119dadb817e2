#!/usr/bin/env bash
# Fails when doc/machines/ or the generated part of doc/choreography.*
# no longer matches what the declared tables generate: a machine or the
# reaction table changed and its diagrams were not regenerated.
#
# usage: tests/doc/check-diagrams.sh ORDERLY_BIN
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if [ "$#" -ne 1 ]; then
    echo "usage: $0 ORDERLY_BIN" >&2
    exit 2
fi
if ! command -v dot >/dev/null 2>&1; then
    echo "check-diagrams: graphviz 'dot' not installed (bash scripts/setup.sh); skipped"
    exit 77
fi

orderly=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bash "$root/scripts/gen-diagrams.sh" "$tmp/machines" "$orderly" >/dev/null
if ! diff -r "$root/doc/machines" "$tmp/machines"; then
    echo "diagrams drifted from the tables: run scripts/gen-diagrams.sh doc/machines" >&2
    exit 1
fi
# The choreography page keeps its hand-written prose: regenerate a copy.
mkdir -p "$tmp/doc"
cp "$root/doc/choreography.md" "$tmp/doc/"
bash "$root/scripts/gen-diagrams.sh" --choreography "$tmp/doc" "$orderly" >/dev/null
for f in choreography.md choreography.dot choreography.svg; do
    if ! diff "$root/doc/$f" "$tmp/doc/$f"; then
        echo "doc/$f drifted from the reaction table: run scripts/gen-diagrams.sh --choreography doc" >&2
        exit 1
    fi
done
echo "check-diagrams: doc/machines and doc/choreography match the tables"
