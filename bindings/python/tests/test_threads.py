"""Threads: one engine per thread is enforced, and the GIL is released
while C runs."""
import sqlite3
import threading
import time

import pytest

import orderly
from conftest import ListTransport, create
from orderly.examples.dict_storage import DictStorage


class Gate(DictStorage):
    """Blocks the first begin() until released, so a thread sits inside the engine."""

    def __init__(self):
        super().__init__()
        self.inside = threading.Event()
        self.release = threading.Event()

    def begin(self):
        if not self.inside.is_set():
            self.inside.set()
            self.release.wait(30)
        return super().begin()


def test_an_engine_used_from_two_threads_at_once_raises():
    storage = Gate()
    errors = []
    with orderly.Engine(storage, ListTransport()) as e:
        worker = threading.Thread(target=lambda: errors.append(create(e)))
        worker.start()
        assert storage.inside.wait(30)
        with pytest.raises(orderly.MisuseError, match="another thread"):
            e.get_order("o-1")
        with pytest.raises(orderly.MisuseError):
            e.close()
        storage.release.set()
        worker.join(30)
        assert e.get_order("o-1").version == 1  # the first thread's call was not harmed


def test_engines_on_their_own_threads_are_fine():
    results = []

    def work(n):
        with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport()) as e:
            for i in range(50):
                create(e, "o-%d-%d" % (n, i))
            results.append(e.stats().applied)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [50] * 4


def test_the_gil_is_released_while_c_waits(tmp_path):
    """The worker's engine call waits inside SQLite for a lock that only
    Python code on this thread can release: it can only succeed if the C
    call let go of the GIL."""
    path = str(tmp_path / "locked.db")
    storage = orderly.SQLiteStorage(path, busy_timeout=60_000)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    outcome = []
    with orderly.Engine(storage, orderly.MemoryTransport(), max_conflict_retries=0) as e:
        started = threading.Event()

        def work():
            started.set()
            try:
                outcome.append(create(e))
            except orderly.Error as exc:
                outcome.append(exc)

        worker = threading.Thread(target=work)
        worker.start()
        started.wait(30)
        time.sleep(0.5)  # let the worker reach SQLite's busy wait
        blocker.execute("ROLLBACK")
        blocker.close()
        worker.join(120)
    assert len(outcome) == 1 and isinstance(outcome[0], orderly.Result), outcome
