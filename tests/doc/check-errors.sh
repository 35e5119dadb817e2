#!/usr/bin/env bash
# Fails when doc/errors.md misses a code the library knows, or states the
# wrong value or class for it.
#
# usage: tests/doc/check-errors.sh ERRORS_TABLE_BIN doc/errors.md
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 ERRORS_TABLE_BIN doc/errors.md" >&2
    exit 2
fi

rows=$("$1")
missing=0
while IFS= read -r row; do
    if ! grep -qF -- "$row" "$2"; then
        echo "check-errors: $2 lacks the row starting: $row" >&2
        missing=1
    fi
done <<<"$rows"
if [ "$missing" -ne 0 ]; then
    echo "doc/errors.md drifted from include/orderly/errors.h: update the table" >&2
    exit 1
fi
echo "check-errors: $(wc -l <<<"$rows") codes documented"
