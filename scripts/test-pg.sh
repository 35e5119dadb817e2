#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for orderly's PostgreSQL tests.
#
#   scripts/test-pg.sh run CMD [ARG...]
#       initdb into a fresh scratch folder, start the server on a Unix
#       socket inside it (no TCP), run CMD with ORDERLY_TEST_PG set to the
#       conninfo, then stop the server and delete the folder, whether CMD
#       passed or not (and on a signal). Exits with CMD's status. When
#       ORDERLY_TEST_PG is already set, CMD runs against that server instead.
#   scripts/test-pg.sh            (no arguments: the stage scripts/test.sh runs)
#       runs the adapter's suite of build/ against one shared cluster given
#       through ORDERLY_TEST_PG (the build/ and build-asan/ runs already
#       started a cluster per test), then checks that nothing of the
#       cluster was left behind.
#
# The server runs as an unprivileged user: as root, as `nobody` (PostgreSQL
# refuses to run as root); otherwise as the caller. It never touches the
# system's clusters (/var/lib/postgresql, the packaged service). Binaries
# come from PG_BINDIR, else pg_config --bindir, else the newest
# /usr/lib/postgresql/*/bin (Debian's `postgresql` package, which
# scripts/setup.sh installs). Without them: exit 77 (skipped), except under
# CI=true, where a missing server is a failure.
set -euo pipefail

find_bindir() {
    local d
    for d in "${PG_BINDIR:-}" "$(pg_config --bindir 2>/dev/null || true)" \
             $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

# as_server CMD...: runs CMD as the cluster's owner.
as_server() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

cluster_dir=
bindir=

stop_cluster() {
    if [ -n "$cluster_dir" ] && [ -d "$cluster_dir" ]; then
        if [ -f "$cluster_dir/data/postmaster.pid" ]; then
            as_server "$bindir/pg_ctl" -D "$cluster_dir/data" -m immediate -w stop \
                >/dev/null 2>&1 || true
        fi
        rm -rf "$cluster_dir"
    fi
    cluster_dir=
}

start_cluster() {
    local port tries
    if ! bindir=$(find_bindir); then
        if [ "${CI:-}" = true ]; then
            echo "test-pg: PostgreSQL server binaries not found (scripts/setup.sh installs postgresql)" >&2
            exit 1
        fi
        echo "test-pg: SKIPPED: no PostgreSQL server binaries (install postgresql or set PG_BINDIR)" >&2
        exit 77
    fi
    cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/orderly-pg.XXXXXX")
    chmod 755 "$cluster_dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown nobody "$cluster_dir"
    fi
    as_server "$bindir/initdb" -D "$cluster_dir/data" -U orderly --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$cluster_dir/initdb.log" 2>&1 ||
        { cat "$cluster_dir/initdb.log" >&2; return 1; }
    # With no TCP listener the port only names the socket file inside the
    # private folder; a random one keeps logs of parallel clusters apart.
    # fsync is off: a throwaway cluster never outlives the machine, and
    # the tests kill processes, not the power.
    for tries in 1 2 3; do
        port=$((20000 + RANDOM % 40000))
        if as_server "$bindir/pg_ctl" -D "$cluster_dir/data" -l "$cluster_dir/server.log" -w \
            -o "-c listen_addresses= -c unix_socket_directories=$cluster_dir -p $port \
                -c fsync=off -c full_page_writes=off -c max_connections=100 \
                -c shared_buffers=64MB" start >/dev/null; then
            export ORDERLY_TEST_PG="host=$cluster_dir port=$port user=orderly dbname=postgres"
            export ORDERLY_TEST_PG_DATA="$cluster_dir/data"
            export ORDERLY_TEST_PG_BINDIR="$bindir"
            return 0
        fi
    done
    cat "$cluster_dir/server.log" >&2
    return 1
}

run_with_cluster() {
    local rc=0
    if [ -n "${ORDERLY_TEST_PG:-}" ]; then
        exec "$@"
    fi
    trap stop_cluster EXIT
    trap 'stop_cluster; exit 130' INT TERM
    start_cluster
    "$@" || rc=$?
    stop_cluster
    return "$rc"
}

stage() {
    local root before after
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    before=$(ls -d "${TMPDIR:-/tmp}"/orderly-pg.* 2>/dev/null | sort || true)
    echo "test-pg: the adapter's suite of build/ on one shared throwaway cluster"
    ORDERLY_TEST_PG= bash "$0" run meson test -C "$root/build" --print-errorlogs pg
    after=$(ls -d "${TMPDIR:-/tmp}"/orderly-pg.* 2>/dev/null | sort || true)
    if [ "$before" != "$after" ]; then
        echo "test-pg: a cluster folder was left behind: $after" >&2
        return 1
    fi
}

case "${1:-}" in
    run)
        shift
        [ "$#" -gt 0 ] || { echo "usage: $0 run CMD [ARG...]" >&2; exit 2; }
        run_with_cluster "$@"
        ;;
    "")
        stage
        ;;
    *)
        echo "usage: $0 [run CMD [ARG...]]" >&2
        exit 2
        ;;
esac
