#!/bin/sh
# liborderly-pg exports only orderly_pg_ symbols (plus its version node)
# and carries the pre-1.0 soname liborderly-pg.so.0.<minor>.
#
# usage: check-exports.sh LIBORDERLY_PG_SO EXPECTED_SONAME
set -u

lib=${1:?path to liborderly-pg.so}
want=${2:?expected soname}

for tool in nm readelf; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool not found; skipping"
        exit 77
    fi
done

syms=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 } NF == 2 { print $2 }' |
       sed 's/@.*$//' | sort -u) || exit 1
bad=$(printf '%s\n' "$syms" | grep -v -e '^orderly_pg_' -e '^ORDERLY_PG_0$' -e '^$')
if [ -n "$bad" ]; then
    echo "liborderly-pg exports symbols outside orderly_pg_*:"
    printf '  %s\n' $bad
    exit 1
fi
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" != "$want" ]; then
    echo "soname is '$soname', want '$want'"
    exit 1
fi
echo "liborderly-pg exports $(printf '%s\n' "$syms" | grep -c '^orderly_pg_') orderly_pg_* symbols, soname $soname"
