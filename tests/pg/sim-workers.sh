#!/usr/bin/env bash
# orderly simulate on PostgreSQL with forked worker processes: the run with
# --workers 2 passes every invariant of its report, and --workers without a
# postgresql:// store, or out of its range, is a usage error (exit 2).
# Runs under scripts/test-pg.sh, which sets ORDERLY_TEST_PG (keyword form).
#
# usage: sim-workers.sh PATH/TO/orderly
set -u

cli=${1:?path to the orderly tool}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
failed=0

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
    [ -f "$work/out" ] && sed 's/^/# /' "$work/out" | tail -n 40
}

# expect CODE DESCRIPTION -- COMMAND...: runs it, output in $work/out.
expect() {
    local want=$1 what=$2 got
    shift 3
    "$@" >"$work/out" 2>&1
    got=$?
    if [ "$got" -eq "$want" ]; then ok "$what"; else not_ok "$what (exit $got, wanted $want)"; fi
}

# has PATTERN DESCRIPTION: the last output matches.
has() {
    if grep -qE -- "$1" "$work/out"; then ok "$2"; else not_ok "$2 (no match for '$1')"; fi
}

# ORDERLY_TEST_PG's key=value words as a libpq URI (--storage takes one).
uri() {
    local word host= port= user= dbname=
    for word in $ORDERLY_TEST_PG; do
        case $word in
            host=*) host=${word#host=} ;;
            port=*) port=${word#port=} ;;
            user=*) user=${word#user=} ;;
            dbname=*) dbname=${word#dbname=} ;;
        esac
    done
    echo "postgresql:///${dbname}?host=${host}&port=${port}&user=${user}"
}

url=$(uri)
small=(--orders 150 --days 3 --quiet)

expect 0 "simulate --workers 2 passes its invariants" -- \
    "$cli" simulate --storage "$url" --workers 2 "${small[@]}" --seed 5 --faults 0.05
has "^result: all invariants hold$" "the report says every invariant holds"
if grep -q "^  FAIL" "$work/out"; then not_ok "no check of the report fails"; else ok "no check of the report fails"; fi
checks=$(grep -cE "^  ok   " "$work/out")
if [ "$checks" -ge 10 ]; then ok "the report lists its checks"; else not_ok "the report lists its checks (found $checks)"; fi
has "every outbox row is delivered or dead-lettered \([1-9][0-9]* checked\)" "the workers delivered the outbox"
has "every operation is done, or exhausted with an alert \([1-9][0-9]* checked\)" "the workers carried out the operations"
has "^    calls run by the workers +[1-9]" "the workers applied the commands"
has "^  write transactions per command +0\.[0-4]" "the driver's engine wrote little: reads, purges and its probes"
has "^  timers fired +[1-9][0-9]*$" "the workers fired timers"
has "^  carried out +[1-9][0-9]*$" "the driver's world ran the workers' operations"

expect 0 "a single worker passes its invariants too" -- \
    "$cli" simulate --storage "$url" --workers 1 --orders 60 --days 2 --quiet --seed 6
has "^result: all invariants hold$" "the single worker's report says every invariant holds"

expect 2 "--workers needs a postgresql:// store" -- \
    "$cli" simulate --storage memory --workers 2 "${small[@]}"
has "--workers needs --storage postgresql://" "the usage error names what --workers needs"
expect 2 "--workers 0 is refused" -- "$cli" simulate --storage "$url" --workers 0 "${small[@]}"
expect 2 "--workers 65 is refused" -- "$cli" simulate --storage "$url" --workers 65 "${small[@]}"

echo "1..$n"
[ "$failed" -eq 0 ]
