#!/usr/bin/env bash
# `orderly simulate --topology services` over the Redis of
# scripts/test-redis.sh ($ORDERLY_REDIS_URL): six service processes, one
# log, 40 orders over 3 days. Every invariant must hold, every service must
# have consumed the log, the six answers to every entry must agree and the
# six databases must hold the same orders. Usage: simulate-services.sh ORDERLY
set -euo pipefail
orderly=$1
: "${ORDERLY_REDIS_URL:?simulate-services.sh needs ORDERLY_REDIS_URL}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "simulate-services: $1" >&2; cat "$out" >&2; exit 1; }
# once as it is, once with a service killed by SIGKILL and started again
for kill in "" --kill-service; do
out=$dir/report$kill.txt
"$orderly" simulate --topology services --transport "$ORDERLY_REDIS_URL" --db "$dir/db$kill" \
    --orders 40 --days 3 --quiet $kill >"$out" 2>&1 || { cat "$out"; exit 1; }
grep -q '^result: all invariants hold$' "$out" || fail "an invariant failed"
for svc in order payment warehouse fulfillment shipping return; do
    line=$(grep -E "^  $svc +consumed " "$out") || fail "no counters for $svc"
    consumed=$(sed -E 's/.* consumed ([0-9]+) .*/\1/' <<<"$line")
    [ "$consumed" -gt 0 ] || fail "$svc consumed nothing"
done
grep -q 'every service consumed the log: ok' "$out" || fail "a service did not consume"
grep -q 'the six answers to every entry agree: ok (0 disagreements)' "$out" || fail "answers disagree"
grep -q 'every service holds the same orders: ok' "$out" || fail "the databases differ"
grep -q 'every outbox row in every service is delivered: ok' "$out" || fail "undelivered rows"
if [ -n "$kill" ]; then
    grep -qE 'killed by SIGKILL and restarted: [a-z]+ \(1 restart\)' "$out" || fail "no restart"
fi
done
echo "simulate-services: ok"
