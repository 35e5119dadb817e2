#!/usr/bin/env bash
# Tests the Go binding (bindings/go) against the C library built in build/:
#   1. installs build/ into a scratch directory and points pkg-config and
#      the dynamic loader at it (so cgo links what this tree built, never a
#      liborderly installed elsewhere);
#   2. gofmt (no file may need it), go vet, and the generated machine
#      constants regenerated and compared (go generate must be a no-op);
#   3. go test ./... (examples, the README example, the storage
#      conformance suite on a Go-written storage) and again under -race;
#   4. the bench module (bindings/go/bench, peers as test-only
#      dependencies) vetted and each benchmark run once, so it keeps
#      building; figures come from `go test -bench .` there.
# Needs Go 1.19 or later: the one on PATH, else /usr/local/go/bin/go
# (scripts/setup.sh installs Debian's golang-go when neither exists).
# Called by scripts/test.sh after build/ is built.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo
echo "==> bindings/go: gofmt, vet, go test and -race against a staged install of build/"

if command -v go >/dev/null 2>&1; then
    go=$(command -v go)
elif [ -x /usr/local/go/bin/go ]; then
    go=/usr/local/go/bin/go
else
    echo "test-go: no Go toolchain (scripts/setup.sh installs golang-go)" >&2
    exit 1
fi
echo "test-go: $("$go" version)"

dest=$scratch/dest
meson install -C build --destdir "$dest" >"$scratch/install.log" ||
    { cat "$scratch/install.log" >&2; exit 1; }
pc=$(find "$dest" -name orderly.pc -print -quit)
lib=$(find "$dest" -name 'liborderly.so.0.*' -type f -print -quit)
[ -n "$pc" ] && [ -n "$lib" ] || { echo "test-go: the staged install lacks orderly.pc or liborderly" >&2; exit 1; }
# The .pc files name the final prefix; the sysroot maps them into the stage.
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$dest
LD_LIBRARY_PATH=$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR LD_LIBRARY_PATH
# Go's build cache keys a cgo package on CGO_LDFLAGS but not on what
# pkg-config printed, so a package cached by an earlier run would link
# against that run's deleted stage: naming this stage here keys it.
export CGO_LDFLAGS="${CGO_LDFLAGS:--g -O2} -L$(dirname "$lib")"
export CGO_ENABLED=1
# No VCS stamping: a CI checkout owned by another user makes git refuse.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false"

cd bindings/go
gofmt=$("$go" env GOROOT)/bin/gofmt
unformatted=$("$gofmt" -l .)
if [ -n "$unformatted" ]; then
    echo "test-go: gofmt would change: $unformatted" >&2
    exit 1
fi
"$go" vet ./...
"$go" run ./internal/gen -o "$scratch/machines_gen.go"
cmp -s "$scratch/machines_gen.go" machines_gen.go ||
    { echo "test-go: machines_gen.go is stale: run go generate in bindings/go" >&2; exit 1; }
"$go" test -count=1 ./...
"$go" test -count=1 -race ./...

cd bench
"$go" vet ./...
"$go" test -count=1 -run '^$' -bench . -benchtime 1x ./... >"$scratch/bench.log" ||
    { cat "$scratch/bench.log" >&2; exit 1; }
echo "test-go: all Go tests passed"
