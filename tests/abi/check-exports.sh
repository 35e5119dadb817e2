#!/bin/sh
# The shared library exports only orderly_ symbols and carries the
# pre-1.0 soname liborderly.so.0.<minor> (STYLE 8.6).
#
# usage: check-exports.sh LIBORDERLY_SO EXPECTED_SONAME
set -u

lib=${1:?path to liborderly.so}
want=${2:?expected soname}

for tool in nm readelf; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool not found; skipping"
        exit 77
    fi
done
if [ ! -f "$lib" ]; then
    echo "FAIL: $lib does not exist"
    exit 1
fi

fail=0
syms=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 } NF == 2 { print $2 }' |
       sed 's/@.*$//' | sort -u) || exit 1
total=$(printf '%s\n' "$syms" | grep -c '^orderly_')
if [ "$total" -lt 1 ]; then
    echo "FAIL: no orderly_ symbols exported at all"
    fail=1
fi
bad=$(printf '%s\n' "$syms" | grep -v -e '^orderly_' -e '^ORDERLY_0$' -e '^$')
if [ -n "$bad" ]; then
    echo "FAIL: symbols without the orderly_ prefix are exported:"
    printf '    %s\n' $bad
    fail=1
fi
internal=$(printf '%s\n' "$syms" | grep '^orderly__')
if [ -n "$internal" ]; then
    echo "FAIL: internal orderly__ symbols are exported:"
    printf '    %s\n' $internal
    fail=1
fi

soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
case $soname in
    liborderly.so.0.*) ;;
    *) echo "FAIL: soname '$soname' is not liborderly.so.0.<minor>"; fail=1 ;;
esac
if ! printf '%s\n' "$soname" | grep -q '^liborderly\.so\.0\.[0-9][0-9]*$'; then
    echo "FAIL: soname '$soname' has a malformed minor"
    fail=1
fi
if [ "$soname" != "$want" ]; then
    echo "FAIL: soname '$soname', expected '$want'"
    fail=1
fi

[ $fail -eq 0 ] && echo "ok: $total orderly_ symbols exported, soname $soname"
exit $fail
