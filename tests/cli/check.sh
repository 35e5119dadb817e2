#!/usr/bin/env bash
# The orderly tool end to end: simulate's report and invariants (and that
# the same seed gives the same report, on SQLite and in memory alike), the
# inspection commands on the database it leaves, usage errors (exit 2),
# unusable databases (exit 1), drain resuming a simulation killed with
# SIGKILL, and a writer killed with SIGKILL leaving a database `health`
# still reads.
#
# usage: check.sh PATH/TO/orderly
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
    [ -f "$work/out" ] && sed 's/^/# /' "$work/out" | tail -n 30
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

# json_has DESCRIPTION PYTHON: the last output is one JSON document d for
# which the Python statements (asserts) hold.
json_has() {
    if python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
$2" "$work/out" 2>"$work/pyerr"; then
        ok "$1"
    else
        not_ok "$1"
        sed 's/^/# /' "$work/pyerr" | tail -n 5
    fi
}

small=(--orders 120 --days 3 --quiet)

# ---- simulate ---------------------------------------------------------------
expect 0 "simulate with faults passes its invariants" -- \
    "$cli" simulate --db "$work/a.db" "${small[@]}" --seed 8 --faults 0.05
has "result: all invariants hold" "the report ends with the verdict"
has "^  ok   every order's state is explained" "invariant: states explained by events"
has "^  ok   every cancelled order's reservations are released" "invariant: reservations released"
has "^  ok   captured <= authorized and refunded <= captured" "invariant: money"
has "^  ok   every outbox row is delivered or dead-lettered" "invariant: outbox drained"
has "^  ok   every delivered row reached its topic, every dead letter <topic>.dlq" "invariant: consumers saw every row where it went"
has "^  ok   every operation is done, or exhausted with an alert" "invariant: operations settled"
has "^  ok   no operation is recorded twice for one cause" "invariant: no operation twice"
has "^  ok   no queue row has more attempts than its limit" "invariant: attempt limits hold"
has "^  ok   every part waiting on a deadline has a timer to move it" "invariant: deadlines have timers"
has "^  ok   per line, the world's units and refunds are the engine's" "invariant: units per line"
has "^  ok   per order, a cancelled or failed order keeps nothing" "invariant: money per order"
has "^  ok   per warehouse and SKU" "invariant: stock per warehouse and SKU"
has "^  per-line conservation +[1-9][0-9]* checked, 0 violations" "the report counts the lines checked"
has "^  refunded for returns and losses +([1-9][0-9]*) of \\1 owed back" "the run refunded exactly what it owed back"
for what in "partial deliveries" "partial returns" "claims refunded" "cash-on-delivery orders" \
    "large orders" "replacement orders opened"; do
    has "^ +$what( \(.*\))? +[1-9]" "the report counts $what"
done
has "^    lines min / median / max +[0-9]+ / [0-9]+ / [0-9]+ \(max_lines [0-9]+\)" \
    "the report gives the large orders' sizes"
has "storage calls failed +[1-9]" "storage faults were injected"
has "duplicates suppressed +[1-9]" "duplicates were suppressed"
for state in completed cancelled; do
    has "^  $state +[1-9]" "some orders end $state"
done
sed '/^throughput/,/^$/d' "$work/out" >"$work/report1"

rm -f "$work/a.db"*
"$cli" simulate --db "$work/a.db" "${small[@]}" --seed 8 --faults 0.05 >"$work/out" 2>&1
sed '/^throughput/,/^$/d' "$work/out" >"$work/report2"
if cmp -s "$work/report1" "$work/report2"; then
    ok "the same seed gives the same report"
else
    not_ok "the same seed gives the same report"
    diff "$work/report1" "$work/report2" | sed 's/^/# /' | head -20
fi

"$cli" simulate --db "$work/b.db" "${small[@]}" --seed 8 --faults 0.05 >"$work/out" 2>&1
sed '/^throughput/,/^$/d' "$work/out" >"$work/report3"
if cmp -s "$work/report1" "$work/report3"; then
    not_ok "another seed gives another report"
else
    ok "another seed gives another report"
fi

# The progress line, shown on a terminal, counts the days orders arrive
# over and then says it is settling, never "day 12 of 3".
if script -qec true "$work/typescript" >/dev/null 2>&1; then
    script -qec "$cli simulate --db $work/progress.db --orders 40 --days 2" "$work/typescript" \
        >/dev/null 2>&1
    days=$(tr '\r' '\n' <"$work/typescript" | sed -nE 's/.*  day +([0-9]+) of ([0-9]+).*/\1 \2/p')
    if [ -n "$days" ] && echo "$days" | awk '$1 > $2 { bad = 1 } END { exit bad }'; then
        ok "the progress line never counts past the last day"
    else
        not_ok "the progress line never counts past the last day ($(echo "$days" | tail -n 1))"
    fi
    grep -q "day   2 of 2, settling" "$work/typescript" && ok "and says when the run is settling" ||
        not_ok "and says when the run is settling"
else
    ok "the progress line never counts past the last day # SKIP no terminal for script(1)"
fi

# ---- the same run on the in-memory storage -----------------------------------------
expect 0 "simulate --storage memory passes its invariants" -- \
    "$cli" simulate --storage memory "${small[@]}" --seed 8 --faults 0.05
has "storage in memory" "the report says where it ran"
has "storage calls failed +[1-9]" "storage faults were injected in memory too"
sed '1d; /^throughput/,/^$/d' "$work/out" >"$work/report_mem"
if sed '1d' "$work/report1" | cmp -s - "$work/report_mem"; then
    ok "SQLite and memory give the same report for the same seed"
else
    not_ok "SQLite and memory give the same report for the same seed"
    sed '1d' "$work/report1" | diff - "$work/report_mem" | sed 's/^/# /' | head -20
fi

expect 2 "simulate refuses to overwrite an existing database" -- \
    "$cli" simulate --db "$work/a.db" "${small[@]}"
has "already exists" "and says why"
expect 0 "simulate --overwrite replaces it" -- \
    "$cli" simulate --db "$work/a.db" "${small[@]}" --seed 7 --faults 0.05 --overwrite

# --overwrite replaces an orderly database or an empty file, nothing else.
# Every case lives in the scratch directory: a FIFO and a link stand in for
# a device such as /dev/null, which no test may touch.
mkdir "$work/ow"
cp "$work/a.db" "$work/ow/orderly.db"
mkfifo "$work/ow/fifo.db"
mkdir "$work/ow/dir.db"
printf 'not a database\n' >"$work/ow/text.db"
cp "$work/ow/text.db" "$work/ow/text.orig"
ln -s "$work/ow/orderly.db" "$work/ow/link.db"
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE t (x)"); c.commit(); c.close()' \
    "$work/ow/foreign.db"
cp "$work/ow/foreign.db" "$work/ow/foreign.orig"
cp "$work/ow/orderly.db" "$work/ow/orderly.orig"
for f in fifo dir text link foreign; do
    expect 1 "simulate --overwrite refuses $f.db" -- \
        "$cli" simulate --db "$work/ow/$f.db" "${small[@]}" --overwrite
    has "left as it is" "and says it leaves $f.db as it is"
done
[ -p "$work/ow/fifo.db" ] && ok "the FIFO is still a FIFO" || not_ok "the FIFO is still a FIFO"
[ -d "$work/ow/dir.db" ] && ok "the directory is still a directory" || not_ok "the directory is still a directory"
cmp -s "$work/ow/text.db" "$work/ow/text.orig" && ok "the text file is unchanged" ||
    not_ok "the text file is unchanged"
if [ -L "$work/ow/link.db" ] && cmp -s "$work/ow/orderly.db" "$work/ow/orderly.orig"; then
    ok "the link and the database it points to are unchanged"
else
    not_ok "the link and the database it points to are unchanged"
fi
if cmp -s "$work/ow/foreign.db" "$work/ow/foreign.orig" && [ ! -e "$work/ow/foreign.db-wal" ]; then
    ok "the other application's database is unchanged"
else
    not_ok "the other application's database is unchanged"
fi
ln -s "$work/ow/text.db" "$work/ow/orderly.db-wal"
expect 1 "simulate --overwrite refuses a database whose -wal is a link" -- \
    "$cli" simulate --db "$work/ow/orderly.db" "${small[@]}" --overwrite
has "companion" "and names the companion file"
rm "$work/ow/orderly.db-wal"
rm -f "$work/ow/held"
python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.execute("SELECT count(*) FROM records").fetchall()
open(sys.argv[2], "w").write("open\n")
time.sleep(60)
' "$work/ow/orderly.db" "$work/ow/held" &
holder=$!
for _ in $(seq 100); do [ -s "$work/ow/held" ] && break; sleep 0.1; done
expect 1 "simulate --overwrite refuses a database another process has open" -- \
    "$cli" simulate --db "$work/ow/orderly.db" "${small[@]}" --overwrite
has "open in another process" "and says it is in use"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
cmp -s "$work/ow/orderly.db" "$work/ow/orderly.orig" && ok "and leaves it as it was" ||
    not_ok "and leaves it as it was"
: >"$work/ow/empty.db"
expect 0 "simulate --overwrite replaces an empty file" -- \
    "$cli" simulate --db "$work/ow/empty.db" "${small[@]}" --overwrite
expect 0 "simulate --overwrite replaces an orderly database nobody holds" -- \
    "$cli" simulate --db "$work/ow/orderly.db" "${small[@]}" --overwrite

# ---- inspection on the database simulate left -----------------------------------
expect 0 "order show prints an order" -- "$cli" order show sim-000001 --db "$work/a.db"
has "^  state +[a-z_]+" "with its state"
has "^reservation:" "and its reservations"
expect 0 "order show --history lists the order's events" -- \
    "$cli" order show sim-000001 --history --db "$work/a.db"
has "^history:" "under a history heading"
has "^  0 +[0-9T:.Z-]+ +order.status_changed" "from its first event, numbered from 0"
has "inventory.stock.committed .* lines [0-9]+" "with the lines a stock event carried"
expect 2 "order show --history twice is a usage error" -- \
    "$cli" order show sim-000001 --history --history --db "$work/a.db"
expect 1 "order show of an unknown id fails" -- "$cli" order show nope --db "$work/a.db"
has "no order 'nope'" "naming the id"
expect 0 "outbox lists rows" -- "$cli" outbox --db "$work/a.db"
has "order.status_changed" "with their types"
expect 0 "outbox --pending after a drained run" -- "$cli" outbox --pending --db "$work/a.db"
has "^\(0 rows\)" "has nothing pending"
expect 0 "outbox --dead" -- "$cli" outbox --dead --db "$work/a.db"
expect 0 "operations list" -- "$cli" operations list --db "$work/a.db"
has "release_reservations|refund|capture_retry" "lists operations"
first=$(awk 'NR == 2 { print $1 }' "$work/out")
# a drained run leaves every operation done: replaying one would run its
# operation a second time (a completed capture captured again)
expect 1 "operations replay of a done operation is refused" -- \
    "$cli" operations replay "$first" --db "$work/a.db"
has "operation $first is done: only parked operations can be replayed" "and says why"
"$cli" operations list --db "$work/a.db" >"$work/out" 2>&1
has "^$first +[a-z_]+ +done " "and leaves it done"
# park it as an exhausted operation would be, then replay it
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE items SET state = 3 WHERE queue = 3 AND id = ?", (int(sys.argv[2]),)); c.commit(); c.close()' \
    "$work/a.db" "$first"
expect 0 "operations replay of a parked operation" -- \
    "$cli" operations replay "$first" --db "$work/a.db"
has "queued again" "and confirms"
"$cli" operations list --db "$work/a.db" >"$work/out" 2>&1
has "^$first +[a-z_]+ +ready +0 " "it is ready again with a fresh attempt budget"
expect 1 "replaying it again while it waits is refused" -- \
    "$cli" operations replay "$first" --db "$work/a.db"
has "is pending: only parked operations" "and says it is pending"
expect 1 "operations replay an unknown id" -- \
    "$cli" operations replay 99999999 --db "$work/a.db"
expect 0 "health on a drained database is ready" -- "$cli" health --db "$work/a.db"
has "^ready +yes" "says ready"
expect 0 "health --metrics" -- "$cli" health --metrics --db "$work/a.db"
has "^orderly_outbox_pending [0-9]+" "prints stable metric names"

# ---- --json: one documented shape per inspection command (doc/cli.md) ----------------
expect 0 "machines --json" -- "$cli" machines --json
json_has "machines --json lists the seven machines" '
assert [m["name"] for m in d["machines"]] == ["order", "payment", "reservation", "fulfillment", "shipment", "return", "claim"]
for m in d["machines"]:
    assert set(m) == {"name", "states", "events", "transitions", "initial"}, m
    assert all(isinstance(m[k], int) and m[k] > 0 for k in ("states", "events", "transitions"))
    assert isinstance(m["initial"], str) and m["initial"]'
expect 0 "order show --json" -- "$cli" order show sim-000001 --json --db "$work/a.db"
json_has "order show --json has the order, its parts and operations" '
assert set(d) == {"id", "state", "payment_state", "payment_method", "currency", "total", "authorized",
                  "captured", "refunded", "version", "created", "created_ms", "reservations",
                  "fulfillments", "shipments", "returns", "claims", "operations",
                  "replacement_of"}, sorted(d)
assert d["replacement_of"] is None
assert d["id"] == "sim-000001" and d["payment_method"] in ("card", "cod") and len(d["currency"]) == 3
assert 0 <= d["refunded"] <= d["captured"] <= d["authorized"] and d["version"] >= 1
assert d["created"].endswith("Z") and isinstance(d["created_ms"], int)
r = d["reservations"][0]
assert set(r) == {"index", "state", "sku", "quantity", "warehouse", "units", "since", "since_ms"}, r
assert r["index"] == 0 and r["quantity"] > 0
u = r["units"]
assert set(u) == {"reserved", "shipped", "delivered", "lost", "back_at_origin", "returned",
                  "restocked", "refunded"}, u
assert u["restocked"] <= u["returned"] <= u["delivered"] <= u["shipped"] <= r["quantity"]
for f in d["fulfillments"] + d["shipments"] + d["claims"]:
    assert set(f) == {"index", "state", "warehouse", "since", "since_ms"}, f
for x in d["returns"]:
    assert set(x) == {"index", "state", "amount", "replacement", "lines", "since", "since_ms"}, x
for c in d["operations"]:
    assert c["order"] == "sim-000001"'
expect 0 "order show --history --json" -- "$cli" order show sim-000001 --history --json --db "$work/a.db"
json_has "order show --history --json adds the published envelopes in order" '
h = d["history"]
assert len(h) >= 3 and h[0]["type"] == "order.status_changed"
assert all(e["subject"] == "sim-000001" and e["schemaversion"] == 2 for e in h)
assert len({e["id"] for e in h}) == len(h)
s = [e for e in h if e["type"] == "inventory.stock.committed"]
assert s and all({"sku", "warehouse", "quantity", "unit_price", "amount"} <= set(l) for l in s[0]["data"]["lines"])'
# An exchange's replacement order: both orders name each other, and the
# exchange lists the lines it took back.
"$cli" operations list --json --db "$work/a.db" >"$work/ops.json" 2>&1
repl=$(python3 -c "import json, sys
ids = sorted({o['order'] for o in json.load(open(sys.argv[1]))['operations'] if '.x' in o['order']})
print(ids[0] if ids else '')" "$work/ops.json")
if [ -n "$repl" ]; then ok "the simulation opened a replacement order ($repl)"; else not_ok "the simulation opened a replacement order"; fi
orig=${repl%.x*}
expect 0 "order show of a replacement" -- "$cli" order show "$repl" --db "$work/a.db"
has "^  replaces   $orig " "order show names the order a replacement replaces"
expect 0 "order show of an exchanged order" -- "$cli" order show "$orig" --db "$work/a.db"
has "^  #[0-9]+ completed .* of line [0-9]+ x[0-9]+.*  replacement $repl\$" \
    "order show lists an exchange's lines and names its replacement"
expect 0 "order show --json of a replacement" -- "$cli" order show "$repl" --json --db "$work/a.db"
json_has "order show --json names the original of a replacement" "
assert d['replacement_of'] == '$orig', d['replacement_of']"
expect 0 "order show --json of an exchanged order" -- "$cli" order show "$orig" --json --db "$work/a.db"
json_has "order show --json lists an exchange's lines and its replacement" "
x = [r for r in d['returns'] if r['replacement'] == '$repl']
assert len(x) == 1, d['returns']
assert x[0]['lines'] and all(l['quantity'] > 0 for l in x[0]['lines']), x[0]
assert [l['line'] for l in x[0]['lines']] == sorted({l['line'] for l in x[0]['lines']})
for l in x[0]['lines']:
    assert d['reservations'][l['line']]['units']['returned'] >= l['quantity']"
expect 0 "outbox --json" -- "$cli" outbox --json --db "$work/a.db"
json_has "outbox --json lists every row in id order" '
rows = d["rows"]
assert d["count"] == len(rows) > 0
assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
for r in rows:
    assert set(r) == {"id", "state", "attempts", "created", "created_ms", "due_ms", "order", "type",
                      "topic", "event_id"}, r
    assert r["state"] in ("ready", "leased", "done", "dead")'
expect 0 "outbox --pending --json" -- "$cli" outbox --pending --json --db "$work/a.db"
json_has "outbox --pending --json after a drained run is empty" 'assert d == {"rows": [], "count": 0}, d'
expect 0 "operations list --json" -- "$cli" operations list --json --db "$work/a.db"
json_has "operations list --json lists every operation with its lines" '
ops = d["operations"]
assert d["count"] == len(ops) > 0
for o in ops:
    assert set(o) == {"id", "operation", "state", "attempts", "order", "index", "amount", "key",
                      "lines"}, o
    assert len(o["key"]) == 32 and o["state"] in ("ready", "leased", "done", "dead")
    for l in o["lines"]:
        assert set(l) == {"sku", "warehouse", "quantity"}, l
assert any(o["lines"] for o in ops if o["operation"] == "release_reservations")'
expect 0 "operations list --dead --json" -- "$cli" operations list --dead --json --db "$work/a.db"
json_has "operations list --dead --json lists only parked ones" '
assert all(o["state"] == "dead" for o in d["operations"]) and d["count"] == len(d["operations"])'
expect 0 "health --json" -- "$cli" health --json --db "$work/a.db"
json_has "health --json has the figures and the verdict" '
assert set(d) == {"database", "now", "now_ms", "outbox_pending", "outbox_oldest_age_ms", "outbox_leased",
                  "outbox_lease_expired", "outbox_dead", "operations_pending",
                  "operations_exhausted", "timers_due", "ready"}, sorted(d)
assert d["ready"] is True and d["outbox_pending"] == 0 and d["now"].endswith("Z")'
expect 2 "health --json --metrics" -- "$cli" health --json --metrics --db "$work/a.db"
expect 2 "operations replay --json" -- "$cli" operations replay 1 --json --db "$work/a.db"

# ---- inspection is read-only --------------------------------------------------------
# The inspection commands never write: a zero-byte file stays empty, and a
# database whose file is read-only is read with its bytes, mtime and WAL
# untouched (the tests run as root, whom chmod does not stop, so the check
# is that nothing was written at all).
: >"$work/zero.db"
for sub in "order show sim-000001" outbox "operations list" health; do
    # shellcheck disable=SC2086
    expect 1 "$sub on an empty file fails" -- "$cli" $sub --db "$work/zero.db"
    has "is empty, not an orderly database" "$sub says the file is empty"
done
if [ ! -s "$work/zero.db" ] && [ ! -e "$work/zero.db-wal" ]; then
    ok "the empty file is left empty, with no WAL beside it"
else
    not_ok "the empty file is left empty, with no WAL beside it"
fi
cp "$work/a.db" "$work/ro.db"
cp "$work/a.db" "$work/ro.orig"
chmod 0444 "$work/ro.db"
stamp=$(stat -c %Y.%y "$work/ro.db")
for sub in "order show sim-000001" outbox "operations list" health; do
    # shellcheck disable=SC2086
    expect 0 "$sub reads a read-only database" -- "$cli" $sub --db "$work/ro.db"
done
if cmp -s "$work/ro.db" "$work/ro.orig" && [ "$(stat -c %Y.%y "$work/ro.db")" = "$stamp" ] &&
    [ ! -s "$work/ro.db-wal" ]; then
    ok "inspection wrote nothing: same bytes, same mtime, no WAL frame"
else
    not_ok "inspection wrote nothing: same bytes, same mtime, no WAL frame"
fi
chmod 0644 "$work/ro.db"
# an older schema is migrated by a read-write open only, never by a look
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 1"); c.close()' \
    "$work/ro.db"
expect 1 "health on an older schema refuses to migrate it" -- "$cli" health --db "$work/ro.db"
has "open it read-write once" "and says how to migrate it"
v=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$work/ro.db")
[ "$v" = 1 ] && ok "and leaves its schema version as it was" ||
    not_ok "and leaves its schema version as it was (now $v)"

# A service holds a write transaction: health reads the last commit beside
# it instead of queueing for the write lock until the busy timeout.
rm -f "$work/held"
python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("INSERT INTO records (key, version, data) VALUES (?, 1, ?)", ("held", b"x"))
open(sys.argv[2], "w").write("held\n")
time.sleep(60)
' "$work/a.db" "$work/held" &
holder=$!
for _ in $(seq 100); do [ -s "$work/held" ] && break; sleep 0.1; done
expect 0 "health answers while another process holds a write transaction" -- \
    timeout 30 "$cli" health --db "$work/a.db"
has "^ready +yes" "and reports the last commit"
expect 0 "order show answers beside the writer too" -- \
    timeout 30 "$cli" order show sim-000001 --db "$work/a.db"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# ---- usage errors are exit 2 ------------------------------------------------------
expect 2 "no command" -- "$cli"
expect 2 "unknown command" -- "$cli" frobnicate
expect 0 "simulate --claims reship: the engine reships every lost parcel" -- \
    "$cli" simulate --storage memory "${small[@]}" --seed 7 --faults 0.05 --claims reship
has "^    claims reshipped +[1-9]" "lost parcels' claims were reshipped"
has "^    claims refunded +0$" "and none refunded"
has "^  reshipments sent +[1-9]" "the warehouse sent the reshipments"
has "result: all invariants hold" "simulate --claims reship passes its invariants"
expect 2 "simulate --claims something else" -- "$cli" simulate --claims never --storage memory
expect 2 "simulate --orders not a number" -- "$cli" simulate --orders many --db "$work/x.db"
expect 2 "simulate --orders 0" -- "$cli" simulate --orders 0 --db "$work/x.db"
expect 2 "simulate --faults out of range" -- "$cli" simulate --faults 2 --db "$work/x.db"
expect 2 "simulate --days missing value" -- "$cli" simulate --days
expect 2 "simulate unknown option" -- "$cli" simulate --bogus
expect 2 "simulate --storage unknown" -- "$cli" simulate --storage disk --db "$work/x.db"
expect 2 "simulate --storage memory with --db" -- "$cli" simulate --storage memory --db "$work/x.db"
has "keeps none" "says memory keeps no file"
expect 2 "drain unknown option" -- "$cli" drain --bogus --db "$work/a.db"
expect 2 "drain --storage (SQLite only)" -- "$cli" drain --storage memory --db "$work/a.db"
expect 2 "drain --rounds 0" -- "$cli" drain --rounds 0 --db "$work/a.db"
expect 2 "drain --now not a number" -- "$cli" drain --now soon --db "$work/a.db"
expect 2 "drain --db missing value" -- "$cli" drain --db
expect 2 "drain stray argument" -- "$cli" drain now --db "$work/a.db"
expect 2 "order without show" -- "$cli" order --db "$work/a.db"
expect 2 "order show without id" -- "$cli" order show --db "$work/a.db"
expect 2 "outbox unknown flag" -- "$cli" outbox --bogus --db "$work/a.db"
expect 2 "operations without subcommand" -- "$cli" operations --db "$work/a.db"
expect 2 "operations replay not a number" -- "$cli" operations replay abc --db "$work/a.db"
expect 2 "health unknown flag" -- "$cli" health --bogus --db "$work/a.db"
expect 2 "graph without a machine" -- "$cli" graph
expect 2 "graph --format without a value" -- "$cli" graph order --format
has "--format needs a value" "says the option needs a value"
expect 2 "version with an argument" -- "$cli" version extra
has "unexpected argument 'extra'" "names the argument"
expect 2 "order show with an empty id" -- "$cli" order show "" --db "$work/a.db"
has "ID must be 1 to [0-9]+ bytes" "says what an id must be"
[ ! -e "$work/x.db" ] && ok "a rejected simulate creates no file" || not_ok "a rejected simulate creates no file"

# ---- help everywhere ------------------------------------------------------------------
for sub in simulate order outbox operations health drain machines graph version; do
    expect 0 "$sub --help" -- "$cli" "$sub" --help
    has "^usage: orderly $sub" "$sub --help shows its usage"
done

# ---- databases that cannot be used are exit 1 -------------------------------------------
expect 1 "health on a missing database" -- "$cli" health --db "$work/missing.db"
has "no database at" "says it is missing"
head -c 8192 /dev/urandom >"$work/junk.db"
expect 1 "health on a file that is not a database" -- "$cli" health --db "$work/junk.db"
has "cannot open" "says it cannot open it"
expect 1 "drain on a missing database" -- "$cli" drain --db "$work/missing.db"
has "no database at" "says it is missing"
[ ! -e "$work/missing.db" ] && ok "drain creates no database" || not_ok "drain creates no database"
expect 1 "drain on a file that is not a database" -- "$cli" drain --db "$work/junk.db"
has "cannot open" "says it cannot open it"
: >"$work/empty.db"
expect 1 "drain on an empty file" -- "$cli" drain --db "$work/empty.db"
has "is empty, not an orderly database" "says it is empty"
[ ! -s "$work/empty.db" ] && ok "and leaves it empty" || not_ok "and leaves it empty"
if command -v sqlite3 >/dev/null; then
    sqlite3 "$work/other.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1);"
    cp "$work/other.db" "$work/other.orig"
    expect 1 "drain on another application's SQLite database" -- "$cli" drain --db "$work/other.db"
    has "not an orderly one" "says it is not orderly's"
    cmp -s "$work/other.db" "$work/other.orig" && ok "and leaves it as it was" ||
        not_ok "and leaves it as it was"
else
    ok "drain on another application's SQLite database # SKIP no sqlite3 shell"
fi

# ---- drain ----------------------------------------------------------------------------
expect 0 "drain runs the operation replayed above" -- "$cli" drain --db "$work/a.db"
has "simulated clock" "at the database's own clock"
has "^  operations handed over +1$" "handing it over as a command"
has "^result: converged; nothing is due" "and converges"
expect 0 "drain again" -- "$cli" drain --db "$work/a.db"
has "^result: nothing to do" "finds nothing due"

# A simulation killed mid-run leaves rows leased by a dead process and
# timers ahead of its clock; drain resumes from there.
far=1777593600000   # 2026-05-01, past every deadline of a 30-day simulation
rm -f "$work/d.db"*
"$cli" simulate --db "$work/d.db" --orders 300 --faults 0.1 --quiet >/dev/null 2>&1 &
pid=$!
sleep 1
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ $? -eq 137 ] || echo "# simulate finished before the kill"
for f in "$work/d.db"*; do cp "$f" "$work/p.db${f#"$work/d.db"}"; done
expect 0 "drain after a SIGKILL exits 0" -- "$cli" drain --db "$work/d.db"
has "^result: (converged|nothing to do); nothing is due" "and leaves nothing due"
"$cli" health --db "$work/d.db" >"$work/out" 2>&1
has "^timers due +0$" "health after the drain: no timer due"
has "^leases expired +0$" "health after the drain: no expired lease"
expect 0 "a second drain" -- "$cli" drain --db "$work/d.db"
has "^result: nothing to do" "has nothing to do"
expect 0 "drain --now past every deadline and lease converges" -- "$cli" drain --db "$work/d.db" --now "$far"
has "^result: converged; nothing is due" "says it converged"
has "^  timers fired +[1-9]" "fired the timers"
has "^  events published +[1-9]" "published events"
has "^still due: outbox 0, timers 0, operations 0" "leaves nothing due"
"$cli" health --db "$work/d.db" >"$work/out" 2>&1
has "^outbox pending +0$" "health then: no outbox row pending"
has "^operations pending +0$" "health then: no operation pending"
has "^timers due +0$" "health then: no timer due"
expect 0 "drain again at that time" -- "$cli" drain --db "$work/d.db" --now "$far"
has "^result: nothing to do" "has nothing to do"

"$cli" drain --db "$work/p.db" --now "$far" --print >"$work/lines" 2>"$work/out"
code=$?
[ "$code" -eq 0 ] && ok "drain --print exits 0" || not_ok "drain --print exits 0 (exit $code)"
has "^result: converged" "drain --print reports on stderr"
total=$(wc -l <"$work/lines")
json=$(grep -cE '^\{"topic":"[^"]+","key":"[^"]*","envelope":\{"specversion":"1\.0",.*\}\}$' "$work/lines")
delivered=$(sed -nE 's/^  messages delivered to the sink +([0-9]+)$/\1/p' "$work/out")
if [ "$total" -gt 0 ] && [ "$json" -eq "$total" ] && [ "$total" = "$delivered" ]; then
    ok "drain --print writes one JSON line per delivered message"
else
    not_ok "drain --print writes one JSON line per delivered message ($json of $total lines, $delivered delivered)"
fi

# ---- SIGKILL mid-run -------------------------------------------------------------------
for delay in 0.3 0.8 1.5; do
    rm -f "$work/k.db"*
    "$cli" simulate --db "$work/k.db" --orders 20000 --days 30 --quiet >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    "$cli" health --db "$work/k.db" >"$work/out" 2>&1
    code=$?
    if [ "$code" -le 1 ] && grep -q "^outbox pending" "$work/out"; then
        ok "killed after ${delay}s: health opens and reports"
    else
        not_ok "killed after ${delay}s: health opens and reports (exit $code)"
    fi
    expect 0 "killed after ${delay}s: outbox still lists" -- "$cli" outbox --db "$work/k.db"
done

echo "1..$n"
[ "$failed" -eq 0 ]
