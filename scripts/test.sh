#!/usr/bin/env bash
# Runs every test orderly has, and fails on the first failure:
#   1. installs missing packages (scripts/setup.sh);
#   2. build/      : the whole suite with the pinned warnings as errors;
#   3. build-asan/ : the suite again under AddressSanitizer (leaks included)
#                    and UndefinedBehaviorSanitizer (halting on the first report);
#   4. installs build/ into a scratch directory, checks headers, library and
#      orderly.pc landed (and the conformance suite's header, archive and .pc), and compiles and runs a program against that tree
#      through pkg-config;
#   then the Go binding (scripts/test-go.sh: gofmt, go vet, go test and -race
#      against its own staged install of build/);
#   5. build-fuzz/ : builds the libFuzzer targets (fuzz/) with clang and runs
#                    each for 10 s under ASan and UBSan (fuzz/run.sh). Without
#                    clang the step is skipped, except under CI=true, where it
#                    fails.
# This is the README's test command and what CI runs (.ci/run).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

step() {
    echo
    echo "==> $*"
}

setup() {
    step "setup"
    bash scripts/setup.sh
}

test_default() {
    step "build/: build and test with -Werror"
    configure build -Dwerror=true -Db_sanitize=none -Db_lundef=true
    ninja -C build
    meson test -C build --print-errorlogs
}

test_sanitizers() {
    step "build-asan/: build and test under ASan and UBSan"
    configure build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
    ninja -C build-asan
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs --timeout-multiplier 3
}

test_install() {
    step "install: headers, library and pkg-config from a staged install"
    local dest=$scratch/dest pc pcdir lib
    meson install -C build --destdir "$dest" >"$scratch/install.log" ||
        { cat "$scratch/install.log" >&2; return 1; }

    pc=$(find "$dest" -name orderly.pc -print -quit)
    [ -n "$pc" ] || { echo "install: no orderly.pc under $dest" >&2; return 1; }
    pcdir=$(dirname "$pc")
    for header in orderly.h orderly/version.h orderly/errors.h orderly/machine.h \
                  orderly/graph.h orderly/sys/alloc.h; do
        [ -n "$(find "$dest" -path "*/include/$header" -print -quit)" ] ||
            { echo "install: header $header missing" >&2; return 1; }
    done
    lib=$(find "$dest" -name 'liborderly.so.0.*' -type f -print -quit)
    [ -n "$lib" ] || { echo "install: liborderly.so.0.* missing" >&2; return 1; }
    [ -L "$(dirname "$lib")/liborderly.so" ] ||
        { echo "install: development symlink liborderly.so missing" >&2; return 1; }

    cat >"$scratch/consumer.c" <<'C'
#include <stdio.h>
#include <string.h>

#include <orderly.h>

int main(void)
{
    const orderly_machine *m;
    int next;

    if (orderly_version_number() != ORDERLY_VERSION_NUMBER ||
        strcmp(orderly_version_string(), ORDERLY_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", ORDERLY_VERSION_STRING,
                orderly_version_string());
        return 1;
    }
    if (orderly_machine_by_name(&m, "order") < 0 ||
        orderly_machine_next(&next, m, ORDERLY_ORDER_PENDING,
                             ORDERLY_ORDER_EV_PAYMENT_CONFIRMED, NULL, NULL) < 0 ||
        next != ORDERLY_ORDER_CONFIRMED)
        return 1;
    printf("consumer: liborderly %s from the staged install\n", orderly_version_string());
    return 0;
}
C
    # The .pc names the final prefix; the sysroot maps it into the staging tree.
    local cflags libs libdir
    cflags=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --cflags orderly)
    libs=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --libs orderly)
    libdir=$(dirname "$lib")
    # shellcheck disable=SC2086  # pkg-config output is a list of flags
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags "$scratch/consumer.c" \
        -o "$scratch/consumer" $libs
    LD_LIBRARY_PATH=$libdir "$scratch/consumer"
    # It must have run against the staged library, not one installed elsewhere.
    # (ldd's output is kept first: grep -q stops reading at its match, and
    # with pipefail the SIGPIPE that ldd may then get would fail the check.)
    local deps
    deps=$(LD_LIBRARY_PATH=$libdir ldd "$scratch/consumer")
    grep -qF "$libdir/liborderly.so.0" <<<"$deps" ||
        { echo "install: consumer did not resolve liborderly from $libdir" >&2; return 1; }

    # The static archive links the same program with no liborderly.so at run time.
    [ -f "$libdir/liborderly.a" ] || { echo "install: liborderly.a missing" >&2; return 1; }
    libs=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --static --libs orderly)
    # shellcheck disable=SC2086  # pkg-config output is a list of flags
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags "$scratch/consumer.c" \
        -o "$scratch/consumer-static" "$libdir/liborderly.a" $libs
    deps=$(ldd "$scratch/consumer-static")
    if grep -qF liborderly.so <<<"$deps"; then
        echo "install: the static consumer still needs liborderly.so" >&2
        return 1
    fi
    "$scratch/consumer-static" | sed 's/^consumer:/consumer (static):/'

    # The conformance suite for adapter authors: header, archive and .pc, and
    # a program linked through orderly-conformance.pc.
    [ -n "$(find "$dest" -path '*/include/orderly/sys/conformance.h' -print -quit)" ] ||
        { echo "install: header orderly/sys/conformance.h missing" >&2; return 1; }
    [ -f "$libdir/liborderly-conformance.a" ] ||
        { echo "install: liborderly-conformance.a missing" >&2; return 1; }
    [ -f "$pcdir/orderly-conformance.pc" ] ||
        { echo "install: orderly-conformance.pc missing" >&2; return 1; }
    cat >"$scratch/conformance.c" <<'C'
#include <stdio.h>

#include <orderly/sys/conformance.h>

int main(void)
{
    /* volatile: the reference must survive to the link */
    int (*volatile run)(const orderly_conformance_target *, const orderly_conformance_options *,
                        FILE *) = orderly_conformance_run;

    printf("conformance: liborderly-conformance links from the staged install\n");
    return run == NULL;
}
C
    cflags=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --cflags orderly-conformance)
    libs=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --libs orderly-conformance)
    # shellcheck disable=SC2086  # pkg-config output is a list of flags
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags "$scratch/conformance.c" \
        -o "$scratch/conformance" $libs
    LD_LIBRARY_PATH=$libdir "$scratch/conformance"
}

test_fuzz() {
    step "build-fuzz/: each libFuzzer target for 10 s under ASan and UBSan"
    # clang with its libFuzzer and sanitizer runtimes (clang, libclang-rt-dev)
    local probe=$scratch/fuzz-probe
    if ! command -v clang >/dev/null 2>&1 ||
        ! printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' |
            clang -x c -fsanitize=fuzzer,address,undefined - -o "$probe" >/dev/null 2>&1; then
        if [ "${CI:-}" = true ]; then
            echo "fuzz: clang with libFuzzer is missing (scripts/setup.sh installs clang and libclang-rt-dev)" >&2
            return 1
        fi
        echo "fuzz: skipped: clang with libFuzzer is not installed (scripts/setup.sh installs it)"
        return 0
    fi
    CC=clang configure build-fuzz -Dfuzz=true -Dtests=false -Dbench=false -Dtools=false \
        -Dsqlite=disabled -Db_sanitize=none
    ninja -C build-fuzz
    bash fuzz/run.sh build-fuzz 10
}

main() {
    setup
    test_default
    test_sanitizers
    bash scripts/test-pg.sh
    test_install
    bash scripts/test-go.sh
    bash scripts/test-python.sh
    bash scripts/test-redis.sh
    test_fuzz
    echo
    echo "test.sh: all tests passed"
}

main "$@"
