#!/usr/bin/env bash
# Runs the libFuzzer targets for a bounded time each (doc/fuzzing.md).
#
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# BUILD_DIR was configured with clang and -Dfuzz=true; SECONDS bounds each
# target's run (-max_total_time); no TARGET means all of them. Each target
# starts from a scratch copy of fuzz/corpus/<target>/ (the checked-in corpus
# is never written) with -seed=1, under AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer halting on the first report, except what
# fuzz/known-bugs.supp suppresses. Targets run in parallel, one per CPU.
# Exits non-zero when any target crashes, leaks, times out or breaks an
# invariant, after printing the end of its log and where the input is.
#
# Environment: FUZZ_KEEP=DIR keeps the scratch corpora, logs and crashing
# inputs in DIR (made if missing) instead of a temporary directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
all_targets=(envelope webhook handle_event aggregate records commands)

if [ "$#" -lt 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS [TARGET...]   targets: ${all_targets[*]}" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all_targets[@]}")

if [ -n "${FUZZ_KEEP:-}" ]; then
    mkdir -p "$FUZZ_KEEP"
    work=$(cd "$FUZZ_KEEP" && pwd)
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi

# Per-target flags. The engine-driving targets gain from a dictionary of
# envelope fields and machine.event names; commands runs several times
# faster with the plain scheduler (entropic scoring dominates its profile).
flags_for() {
    case $1 in
        envelope|handle_event) echo "-dict=$here/envelope.dict" ;;
        commands) echo "-entropic=0" ;;
        *) echo "" ;;
    esac
}

run_one() {
    local t=$1 exe=$build/fuzz/fuzz_$1 corpus=$work/corpus-$1 log=$work/$1.log
    [ -x "$exe" ] || { echo "fuzz: $exe is missing (ninja -C $build?)" >&2; return 1; }
    [ -d "$here/corpus/$t" ] || { echo "fuzz: no corpus at $here/corpus/$t" >&2; return 1; }
    rm -rf "$corpus"
    mkdir -p "$corpus" "$work/crashes"
    cp "$here/corpus/$t"/* "$corpus/"
    # shellcheck disable=SC2046  # flags_for prints a list of flags
    if ASAN_OPTIONS=detect_leaks=1 \
       UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$here/known-bugs.supp \
       "$exe" -max_total_time="$seconds" -seed=1 -timeout=10 -print_final_stats=1 \
           -artifact_prefix="$work/crashes/$t-" $(flags_for "$t") "$corpus" >"$log" 2>&1; then
        printf 'fuzz: %-12s ok   %s\n' "$t" \
            "$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs, $(find "$corpus" -type f | wc -l) inputs in the corpus"
        return 0
    fi
    echo "fuzz: $t FAILED; the end of $log:" >&2
    grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse)' "$log" | tail -40 >&2
    echo "fuzz: the input is under $work/crashes/ (reproduce: $exe FILE)" >&2
    return 1
}

jobs_max=$(nproc 2>/dev/null || echo 2)
failed=0
running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs_max" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done

if [ "$failed" -ne 0 ]; then
    [ -n "${FUZZ_KEEP:-}" ] || { trap - EXIT; echo "fuzz: kept $work for the crashing inputs" >&2; }
    exit 1
fi
