#!/usr/bin/env bash
# Writes the JSON Schema of every outbound event type into DOCDIR/events/
# and rewrites the event table of DOCDIR/events.md (the part between the
# "generated" markers; the prose around it is kept), both generated from
# the declarations the engine publishes from (lib/wire/events.c).
#
# usage: scripts/gen-event-schemas.sh DOCDIR [EVENT_SCHEMAS_BIN]
#   EVENT_SCHEMAS_BIN defaults to build/tests/doc/event_schemas.
# Output is deterministic: the same declarations give byte-identical files.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
    echo "usage: $0 DOCDIR [EVENT_SCHEMAS_BIN]" >&2
    exit 2
fi
docdir=$1
gen=${2:-$root/build/tests/doc/event_schemas}
if [ ! -x "$gen" ]; then
    echo "gen-event-schemas: no generator at $gen (build first: ninja -C build)" >&2
    exit 1
fi

rm -rf "$docdir/events"
mkdir -p "$docdir/events"
"$gen" "$docdir/events"

begin='<!-- generated: event table (scripts/gen-event-schemas.sh) -->'
end='<!-- end of generated event table -->'
page=$docdir/events.md
if ! grep -qF "$begin" "$page" || ! grep -qF "$end" "$page"; then
    echo "gen-event-schemas: $page lacks the generated-table markers" >&2
    exit 1
fi
tbl=$(mktemp)
trap 'rm -f "$tbl"' EXIT
"$gen" --table >"$tbl"
awk -v b="$begin" -v e="$end" -v t="$tbl" '
    $0 == b { print; while ((getline l < t) > 0) print l; skip = 1; next }
    $0 == e { skip = 0 }
    !skip { print }
' "$page" >"$page.tmp"
mv "$page.tmp" "$page"
