"""Figures for the Python binding (prints them; asserts nothing).

1. One machine transition: orderly's Machine.next against the `transitions`
   package on the same order lifecycle (pending -> confirmed -> processing
   -> shipped -> delivered -> completed, the guarded rows with their guard
   inputs in both), side by side in this process.
2. Engine commands through the binding: the lifecycle of
   bench/lifecycle.h (create plus 11 events per order) on the in-memory
   storage and on SQLite, one transaction per command, then inside batches
   (what a batch saves is the commit: an fsync on SQLite).
3. What one crossing into C costs: a trivial C call, the raw cffi call of
   orderly_machine_next, and the binding's wrapper around it.

Usage: python bench_python.py [ORDERS] (default 20000); needs `transitions`
installed (pip install transitions) for figure 1. Each figure is the best of
5 rounds.
"""
import os
import sys
import tempfile
import time

import orderly
from orderly._native import ffi, lib

ROUNDS = 5
LIFECYCLE = [("payment_confirmed", {}), ("fulfillment_started", {}),
             ("fulfillment_shipped", {"parts_total": 1, "parts_done": 1}),
             ("delivered", {"parts_total": 1, "parts_done": 1}), ("complete", {})]
ENGINE_STEPS = [("payment", "authorize"), ("payment", "request_capture"),
                ("payment", "capture_succeeded"), ("fulfillment", "start_picking"),
                ("fulfillment", "picked"), ("fulfillment", "start_packing"),
                ("fulfillment", "packed"), ("fulfillment", "ship"),
                ("shipment", "pick_up"), ("shipment", "deliver"), ("order", "complete")]
T0 = 1_700_000_000_000


def best(fn, n, clock=time.perf_counter):
    """Best seconds per unit over ROUNDS runs of fn(), which does n units."""
    times = []
    for _ in range(ROUNDS):
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times) / n


def bench_orderly_machine_run(lifecycles):
    order = orderly.machine("order")
    pending = orderly.OrderState.PENDING
    steps = [(order.event(e), kw) for e, kw in LIFECYCLE]

    def run():
        nxt = order.next
        for _ in range(lifecycles):
            s = pending
            for e, kw in steps:
                s = nxt(s, e, **kw)
        assert s is orderly.OrderState.COMPLETED
    return run, lifecycles * len(steps)


def bench_transitions_run(lifecycles):
    from transitions import Machine

    order = orderly.machine("order")
    guards = {orderly.Guard.ALL_PARTS: "all_parts", orderly.Guard.SOME_PARTS: "some_parts",
              orderly.Guard.PAST_DEADLINE: "past_deadline"}
    rows = []
    for r in order.transitions():
        row = {"trigger": r.event.name.lower(), "source": r.from_state.name.lower(),
               "dest": r.to_state.name.lower()}
        if r.guard in guards:
            row["conditions"] = guards[r.guard]
        elif r.guard:
            continue  # refund guards: not on this path
        rows.append(row)

    class Order:
        def all_parts(self, event):
            k = event.kwargs
            return k.get("parts_total", 0) > 0 and k["parts_done"] >= k["parts_total"]

        def some_parts(self, event):
            return event.kwargs.get("parts_done", 0) < event.kwargs.get("parts_total", 0)

        def past_deadline(self, event):
            return event.kwargs.get("now", 0) >= event.kwargs.get("deadline", 0)

    model = Order()
    machine = Machine(model, states=[s.name.lower() for s in order.State], transitions=rows,
                      initial="pending", auto_transitions=False, send_event=True)
    names = [(e, kw) for e, kw in LIFECYCLE]

    def run():
        for _ in range(lifecycles):
            machine.set_state("pending")
            for e, kw in names:
                model.trigger(e, **kw)
        assert model.state == "completed"
    return run, lifecycles * len(names)


def side_by_side(a, b):
    """Best seconds per unit of each, their rounds interleaved so that load
    on a shared machine falls on both alike."""
    ta, tb = [], []
    for _ in range(ROUNDS):
        for (fn, n), out in ((a, ta), (b, tb)):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) / n)
    return min(ta), min(tb)


def bench_engine(orders, batch, storage=orderly.MemoryStorage, clock=time.perf_counter):
    def run():
        with orderly.Engine(storage(), orderly.MemoryTransport(keep=False)) as e:
            line = [orderly.Line(101, 1, 1, 1000)]
            ids = ["o-%d" % i for i in range(orders)]
            steps = [(orderly.machine(m), orderly.machine(m).event(ev)) for m, ev in ENGINE_STEPS]
            amounts = {("payment", "authorize"): 1000}
            per_step = [amounts.get(s, 0) for s in ENGINE_STEPS]
            create, apply = e.create_order, e.apply
            for start in range(0, orders, batch or orders):
                chunk = ids[start:start + (batch or orders)]
                if batch:
                    e.begin_batch()
                for oid in chunk:
                    create(oid, line, currency="EUR", now=T0)
                    for (m, ev), amount in zip(steps, per_step):
                        apply(oid, m, ev, amount=amount, now=T0)
                if batch:
                    e.commit_batch()
    return best(run, orders * (1 + len(ENGINE_STEPS)), clock)


def bench_crossing(n):
    order = orderly.machine("order")
    m = order._m
    out = ffi.new("int *")
    trivial = best(lambda: [lib.orderly_version_number() for _ in range(n)], n)
    raw = best(lambda: [lib.orderly_machine_next(out, m, 1, 4, ffi.NULL, ffi.NULL)
                        for _ in range(n)], n)
    ev = orderly.OrderEvent.PAYMENT_CONFIRMED
    st = orderly.OrderState.PENDING
    wrapped = best(lambda: [order.next(st, ev) for _ in range(n)], n)
    empty = best(lambda: [None for _ in range(n)], n)
    return trivial - empty, raw - empty, wrapped - empty


def main():
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    print("orderly %s, Python %s" % (orderly.version(), sys.version.split()[0]))

    try:
        theirs_run = bench_transitions_run(orders)
    except ImportError:
        theirs_run = None
    ours_run = bench_orderly_machine_run(orders)
    if theirs_run is None:
        ours = best(ours_run[0], ours_run[1])
    else:
        ours, theirs = side_by_side(ours_run, theirs_run)
    print("transition, orderly Machine.next:       %8.0f ns  (%.2f M/s)" % (ours * 1e9, 1e-6 / ours))
    if theirs_run is None:
        print("transition, transitions package:        not installed (pip install transitions)")
    else:
        print("transition, transitions %s trigger:  %8.0f ns  (%.2f M/s)"
              % (__import__("transitions").__version__, theirs * 1e9, 1e-6 / theirs))
        print("orderly is %.1fx faster per transition" % (theirs / ours))

    trivial, raw, wrapped = bench_crossing(200_000)
    print("crossing, trivial C call (version_number): %6.0f ns" % (trivial * 1e9))
    print("crossing, raw cffi orderly_machine_next:  %6.0f ns" % (raw * 1e9))
    print("crossing, Machine.next wrapper:           %6.0f ns" % (wrapped * 1e9))

    # CPU time as well as wall time: on a shared machine the wall clock
    # also counts the other processes' turns
    n = max(orders // 4, 500)
    for name, clock in (("wall", time.perf_counter), ("CPU", time.process_time)):
        single = bench_engine(n, 0, clock=clock)
        print("engine, memory, one transaction per command (%s): %6.0f ns/event  "
              "(%.0f events/s)" % (name, single * 1e9, 1 / single))
    b = bench_engine(n, 10, clock=time.process_time)
    print("engine, memory, batches of 10 orders (CPU):            %6.0f ns/event  "
          "(%.0f events/s)" % (b * 1e9, 1 / b))

    with tempfile.TemporaryDirectory() as tmp:
        count = [0]

        def sqlite():
            count[0] += 1
            return orderly.SQLiteStorage(os.path.join(tmp, "b%d.db" % count[0]),
                                         durability="full")
        n = max(orders // 100, 50)
        single = bench_engine(n, 0, sqlite)
        print("engine, SQLite full sync, one transaction per command: %8.0f ns/event  "
              "(%.0f events/s)" % (single * 1e9, 1 / single))
        b = bench_engine(n, 10, sqlite)
        print("engine, SQLite full sync, batches of 10 orders:        %8.0f ns/event  "
              "(%.0f events/s)" % (b * 1e9, 1 / b))


if __name__ == "__main__":
    main()
