#!/bin/sh
# Compiles every public header on its own, twice included, as C99 and as
# C++11, with warnings as errors. Prints TAP.
#
# usage: check.sh SRC_INCLUDE_DIR BUILD_INCLUDE_DIR
# CC and CXX (either may be several words) name the compilers; CXX empty or
# unset skips the C++ half.
set -u

src=${1:?source include dir}
bld=${2:?build include dir}
cc=${CC:-cc}
cxx=${CXX-c++}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

headers=""
for h in "$src"/orderly.h "$src"/orderly/*.h "$src"/orderly/sys/*.h; do
    [ -f "$h" ] && headers="$headers ${h#"$src"/}"
done
# version.h is generated into the build tree
if [ -f "$bld/orderly/version.h" ]; then
    headers="$headers orderly/version.h"
else
    echo "Bail out! $bld/orderly/version.h not found"
    exit 1
fi

set -- $headers
if [ $# -lt 10 ]; then
    echo "Bail out! only $# headers found under $src"
    exit 1
fi

n=0
fail=0
check() {  # check LANG_LABEL HEADER COMPILER_AND_FLAGS...
    label=$1 header=$2
    shift 2
    n=$((n + 1))
    if "$@" >"$tmp/log" 2>&1; then
        echo "ok $n - $label $header"
    else
        echo "not ok $n - $label $header"
        sed 's/^/# /' "$tmp/log"
        fail=1
    fi
}

for h in "$@"; do
    printf '#include "%s"\n#include "%s"\nint orderly_header_check;\n' "$h" "$h" >"$tmp/tu.c"
    printf '#include "%s"\n#include "%s"\nint orderly_header_check;\n' "$h" "$h" >"$tmp/tu.cpp"
    # shellcheck disable=SC2086
    check c99 "$h" $cc -std=c99 -pedantic -Werror -Wall -Wextra -fsyntax-only \
        -I"$bld" -I"$src" "$tmp/tu.c"
    if [ -n "$cxx" ]; then
        # shellcheck disable=SC2086
        check c++11 "$h" $cxx -std=c++11 -pedantic -Werror -Wall -Wextra -fsyntax-only \
            -I"$bld" -I"$src" "$tmp/tu.cpp"
    fi
done
echo "1..$n"
exit $fail
