#!/usr/bin/env bash
# The Redis stage of scripts/test.sh: starts a redis-server of its own (a
# scratch directory, loopback on a free port plus a Unix socket, no
# persistence), runs the redis suites of build/ and build-asan/ against it
# through $ORDERLY_REDIS_URL, checks the staged install of liborderly-redis
# (header, library, orderly-redis.pc, a program built through pkg-config),
# and stops the server on every exit path. A system Redis is never touched.
# Expects build/ and build-asan/ configured by scripts/test.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scratch=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

if ! command -v redis-server >/dev/null 2>&1; then
    echo "test-redis: redis-server missing (scripts/setup.sh installs it)" >&2
    exit 1
fi
if ! grep -q "redis" build/meson-info/intro-targets.json 2>/dev/null; then
    echo "test-redis: build/ has no liborderly-redis (libhiredis-dev missing?)" >&2
    exit 1
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$port" --unixsocket "$scratch/redis.sock" \
    --unixsocketperm 700 --dir "$scratch" --save '' --appendonly no --daemonize no \
    --logfile "$scratch/redis.log" &
server_pid=$!
for _ in $(seq 1 500); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/redis.log" >&2; exit 1; }
    sleep 0.02
done
redis-cli -p "$port" ping >/dev/null

export ORDERLY_REDIS_URL="redis://127.0.0.1:$port"
# the crash test starts (and kills) a server of its own: keep it in here too
export TMPDIR=$scratch
echo "test-redis: redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on $ORDERLY_REDIS_URL"

meson test -C build --suite redis --print-errorlogs
bash tests/cli/simulate-services.sh build/tools/orderly
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --suite redis --print-errorlogs --timeout-multiplier 3

dest=$scratch/dest
meson install -C build --destdir "$dest" >"$scratch/install.log" ||
    { cat "$scratch/install.log" >&2; exit 1; }
pc=$(find "$dest" -name orderly-redis.pc -print -quit)
[ -n "$pc" ] || { echo "test-redis: orderly-redis.pc not installed" >&2; exit 1; }
[ -n "$(find "$dest" -path '*/include/orderly/sys/redis.h' -print -quit)" ] ||
    { echo "test-redis: orderly/sys/redis.h not installed" >&2; exit 1; }
cat >"$scratch/redis_consumer.c" <<'C'
#include <stdio.h>
#include <string.h>

#include <orderly/sys/redis.h>

int main(int argc, char **argv)
{
    orderly_redis_options o = ORDERLY_REDIS_OPTIONS_INIT;
    orderly_transport *t = NULL;
    orderly_header h = { "ce-id", "pc-check" };

    (void)argc;
    o.url = argv[1];
    if (orderly_redis_transport_new(&t, &o) != 0)
        return 1;
    if (t->publish(t, NULL, "orderly.pc-check", "k", (const unsigned char *)"{}", 2, &h, 1) != 0)
        return 2;
    orderly_redis_transport_free(t);
    puts("published");
    return 0;
}
C
pcdir=$(dirname "$pc")
cflags=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --cflags orderly-redis)
libs=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --libs orderly-redis)
# shellcheck disable=SC2086 # word-split flag lists on purpose
cc -std=c11 $cflags -o "$scratch/redis_consumer" "$scratch/redis_consumer.c" $libs
libdir=$(dirname "$(find "$dest" -name 'liborderly-redis.so.*' -type f -print -quit)")
LD_LIBRARY_PATH=$libdir "$scratch/redis_consumer" "$ORDERLY_REDIS_URL" | grep -q published
[ "$(redis-cli -p "$port" xlen orderly.pc-check)" = 1 ] ||
    { echo "test-redis: the pkg-config program's entry is missing" >&2; exit 1; }
echo "test-redis: all redis tests passed"
