#!/usr/bin/env bash
# Installs what orderly needs to build and test on Debian 12 (run as root,
# or with sudo available). Idempotent: packages already present are skipped
# after a fast `dpkg -s` check, and apt runs only when something is missing.
set -euo pipefail

PACKAGES=(
    build-essential
    meson
    ninja-build
    pkg-config
    libsodium-dev
    libxxhash-dev
    libjansson-dev
    check
    graphviz
    libsqlite3-dev
    libpq-dev        # liborderly-pg (adapters/pg)
    postgresql       # throwaway servers for the PostgreSQL tests (scripts/test-pg.sh)
    python3
    python3-venv     # bindings/python: the test venv (scripts/test-python.sh)
    python3-dev      # bindings/python: headers cffi compiles the extension with
    clang            # fuzz/: libFuzzer targets (scripts/test.sh)
    libclang-rt-dev  # libFuzzer and sanitizer runtimes (only recommended by clang)
    libhiredis-dev   # liborderly-redis (adapters/redis)
    redis-server     # scripts/test-redis.sh and the redis suites start their own
)

# Go for bindings/go (scripts/test-go.sh): a toolchain already on PATH or
# in /usr/local/go is used as it is; else Debian 12's golang-go (1.19,
# new enough: the binding needs 1.18 for generics and 1.17 for cgo.Handle).
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
    PACKAGES+=(golang-go)
fi

installed() {
    dpkg -s "$1" 2>/dev/null | grep -q "^Status: install ok installed$"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "setup: all ${#PACKAGES[@]} packages present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: run as root (or install sudo) to install them" >&2
    exit 1
fi

echo "setup: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: done"
