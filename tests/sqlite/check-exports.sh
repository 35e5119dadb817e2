#!/bin/sh
# liborderly-sqlite exports only orderly_sqlite_ symbols (plus its version
# node) and carries the pre-1.0 soname liborderly-sqlite.so.0.<minor>.
#
# usage: check-exports.sh LIBORDERLY_SQLITE_SO EXPECTED_SONAME
set -u

lib=${1:?path to liborderly-sqlite.so}
want=${2:?expected soname}

for tool in nm readelf; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool not found; skipping"
        exit 77
    fi
done

syms=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 } NF == 2 { print $2 }' |
       sed 's/@.*$//' | sort -u) || exit 1
bad=$(printf '%s\n' "$syms" | grep -v -e '^orderly_sqlite_' -e '^ORDERLY_SQLITE_0$' -e '^$')
fail=0
if [ -n "$bad" ]; then
    echo "FAIL: symbols outside orderly_sqlite_: $bad"
    fail=1
fi
if ! printf '%s\n' "$syms" | grep -q '^orderly_sqlite_storage_open$'; then
    echo "FAIL: orderly_sqlite_storage_open is not exported"
    fail=1
fi
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$soname" != "$want" ]; then
    echo "FAIL: soname is '$soname', expected '$want'"
    fail=1
fi
exit $fail
