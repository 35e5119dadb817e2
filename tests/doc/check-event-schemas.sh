#!/usr/bin/env bash
# Fails when doc/events/ or the event table of doc/events.md no longer
# matches what the event declarations generate: an event type, its topic,
# lines or consumer changed and the schemas were not regenerated.
#
# usage: tests/doc/check-event-schemas.sh EVENT_SCHEMAS_BIN
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "$#" -ne 1 ]; then
    echo "usage: $0 EVENT_SCHEMAS_BIN" >&2
    exit 2
fi
gen=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$root/doc/events.md" "$tmp/"
bash "$root/scripts/gen-event-schemas.sh" "$tmp" "$gen"
if ! diff -r "$root/doc/events" "$tmp/events"; then
    echo "doc/events/ drifted from lib/wire/events.c: run scripts/gen-event-schemas.sh doc" >&2
    exit 1
fi
if ! diff "$root/doc/events.md" "$tmp/events.md"; then
    echo "doc/events.md's table drifted: run scripts/gen-event-schemas.sh doc" >&2
    exit 1
fi
echo "check-event-schemas: doc/events/ and doc/events.md match the declarations"
