"""No leak over 100,000 engine calls: Python allocations (tracemalloc) and
the process's resident set stay bounded."""
import gc
import resource
import tracemalloc

import orderly
from conftest import T0, TOTAL, create

CALLS = 100_000


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() // 1024


def run(e, n):
    for i in range(n):
        # reads and rejected commands: the store does not grow, so any
        # growth is the binding's
        e.get_order("o-1")
        try:
            e.apply("o-1", "order", "complete", now=T0 + 1)
        except orderly.TransitionError:
            pass


def test_no_leak_over_100k_engine_calls():
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport()) as e:
        create(e)
        e.apply("o-1", "payment", "authorize", amount=TOTAL, now=T0 + 1)
        run(e, 5_000)  # warm up caches and free lists
        gc.collect()
        tracemalloc.start()
        rss_before = rss_kib()
        before = tracemalloc.take_snapshot()
        run(e, CALLS // 2)
        gc.collect()
        after = tracemalloc.take_snapshot()
        rss_after = rss_kib()
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 64 * 1024, "Python heap grew by %d bytes" % grown
    assert rss_after - rss_before < 4 * 1024, "RSS grew by %d KiB" % (rss_after - rss_before)
