"""Figures for Engine.return_lines (prints them; asserts nothing).

return_lines walks orderly_engine_get_return_line from k = 0 until
ENOTFOUND, one C call per line, and each call reads the order again, so
reading a return of n lines costs n order reads: the time per line grows
with the order's size. This prints it for returns of 16 lines up to
orderly.lines_max(), on the in-memory storage, best of 3.

Usage: python bench_return_lines.py
"""
import time

import orderly

T0 = 1_700_000_000_000
DELIVERY = [("payment", "authorize"), ("payment", "request_capture"),
            ("payment", "capture_succeeded"), ("fulfillment", "start_picking"),
            ("fulfillment", "picked"), ("fulfillment", "start_packing"),
            ("fulfillment", "packed"), ("fulfillment", "ship"), ("shipment", "pick_up"),
            ("shipment", "deliver")]


def best_walk(n: int) -> float:
    """Seconds for the best of 3 return_lines over a return of n lines."""
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), max_lines=n) as e:
        lines = [orderly.Line(sku=1000 + i, warehouse=1, quantity=1, unit_price=10)
                 for i in range(n)]
        e.create_order("big", lines, currency="EUR", now=T0)
        for k, (machine, event) in enumerate(DELIVERY):
            e.apply("big", machine, event, amount=10 * n, now=T0 + k + 1)
        r = e.open_return("big", [(i, 1) for i in range(n)], now=T0 + 100)
        assert r.index is not None
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            got = e.return_lines("big", r.index)
            best = min(best, time.perf_counter() - t)
        if len(got) != n:
            raise SystemExit("return_lines gave %d lines, not %d" % (len(got), n))
        return best


def main() -> None:
    n = 16
    while n <= orderly.lines_max():
        s = best_walk(n)
        print("return of %5d lines: return_lines %9.2f ms  (%7.1f us per line)"
              % (n, s * 1e3, s / n * 1e6))
        n *= 4


if __name__ == "__main__":
    main()
