"""What storage version 3 brings through the binding: transaction counts,
the optional Python storage methods, hand-off and wake."""
import pytest

import orderly
from conftest import T0, ListTransport, create, ship_all
from orderly._adapters import StorageBridge
from orderly.examples.dict_storage import DictStorage, DictStore, DictTarget

REQUIRED = ("begin", "commit", "rollback", "load", "save", "scan", "queue_push", "queue_claim",
            "queue_finish", "queue_reset", "queue_get", "queue_scan", "queue_purge",
            "queue_stats", "idem_get", "idem_put", "idem_purge")


class Version2Storage:
    """A Python storage with only the required methods (a DictStorage's)."""

    def __init__(self, inner=None):
        self.inner = inner if inner is not None else DictStorage()

    def __getattr__(self, name):
        if name in REQUIRED:
            return getattr(self.inner, name)
        raise AttributeError(name)


def test_a_storage_without_the_optional_methods_still_works():
    storage = Version2Storage()
    assert StorageBridge(storage).vtable.version == 2
    with orderly.Engine(storage, ListTransport()) as e:
        create(e)
        ship_all(e)
        e.get_order("o-1")
        assert e.get_order("o-1").order_state is orderly.OrderState.DELIVERED
        assert e.pump(now=T0 + 10) > 0
        with pytest.raises(orderly.NotSupported):
            e.order_history("o-1")
        assert e.stats().txn_read_begins == 0


def test_the_optional_methods_declare_the_current_version():
    b = StorageBridge(DictStorage())
    assert b.vtable.version == orderly._native.lib.ORDERLY_STORAGE_VERSION
    # a Python storage answers queue_next_due only: the engine falls back to it
    assert b.vtable.queue_next_due_except == orderly._native.ffi.NULL
    assert b.vtable.history_append != orderly._native.ffi.NULL
    assert b.vtable.begin_read != orderly._native.ffi.NULL
    assert b.vtable.queue_next_due != orderly._native.ffi.NULL


def test_history_needs_both_methods():
    class HalfHistory(Version2Storage):
        def history_append(self, txn, item):
            pass

    with pytest.raises(TypeError, match="history_append and history_scan"):
        orderly.Engine(HalfHistory(), ListTransport())


def test_reads_use_begin_read_and_every_begin_ends():
    with orderly.Engine(DictStorage(), ListTransport()) as e:
        create(e)
        with pytest.raises(orderly.TransitionError):
            e.apply("o-1", "order", "complete", now=T0 + 1)
        before = e.stats()
        e.get_order("o-1")
        s = e.stats()
        assert s.txn_read_begins == before.txn_read_begins + 1
        assert s.txn_begins == before.txn_begins + 1
        assert s.txn_begins == s.txn_commits + s.txn_rollbacks
        assert s.txn_commits >= 1 and s.txn_rollbacks >= 1


def test_a_command_counts_one_write_transaction(any_engine):
    before = any_engine.stats()
    create(any_engine)
    s = any_engine.stats()
    assert s.txn_begins - s.txn_read_begins == before.txn_begins - before.txn_read_begins + 1
    assert s.txn_commits == before.txn_commits + 1


def test_hand_off_publishes_without_a_claim_transaction():
    costs = {}
    for hand_off in (False, True):
        with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                            hand_off=hand_off) as e:
            create(e)
            leased = e.health(now=T0).outbox_leased
            before = e.stats().txn_begins
            assert e.pump(now=T0 + 1) == 1
            costs[hand_off] = (leased, e.stats().txn_begins - before)
    assert costs[True][0] == 1 and costs[False][0] == 0
    assert costs[True][1] < costs[False][1]


def test_hand_off_is_a_bool():
    with pytest.raises(TypeError, match="hand_off"):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), hand_off=1)
    with pytest.raises(TypeError, match="sole"):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), sole=1)


def test_sole_dispatcher_acks_wait_out_a_quiet_hour():
    hour = 3600 * 1000
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                        hand_off=True, sole=True) as e:
        create(e)
        assert e.pump(now=T0 + 1) == 1
        before = e.stats().txn_begins
        assert e.pump(now=T0 + hour) == 0
        assert e.stats().txn_begins == before
        assert e.health(now=T0 + hour).outbox_lease_expired == 1
        before = e.stats().txn_begins  # health read in a transaction of its own
        create(e, order_id="ord-2", now=T0 + hour)
        s = e.stats()
        assert s.txn_begins == before + 1 and s.txn_ack_writes == 0
        assert e.health(now=T0 + hour).outbox_lease_expired == 0


def test_wake_makes_the_engine_see_rows_written_behind_its_back():
    store = DictStore()
    with orderly.Engine(DictStorage(store), ListTransport()) as a, \
            orderly.Engine(DictStorage(store), ListTransport()) as b:
        assert a.pump(now=T0) == 0  # a now knows nothing is due
        create(b)
        assert a.pump(now=T0 + 1) == 0  # b's row is unknown to a
        a.wake()
        assert a.pump(now=T0 + 2) == 1


def test_wake_after_close_raises():
    e = orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport())
    e.close()
    with pytest.raises(orderly.MisuseError):
        e.wake()


def test_the_conformance_suite_holds_the_dict_storage_to_version_3():
    class LateNextDue(DictTarget):
        def open(self):
            s = super().open()
            real = s.queue_next_due
            s.queue_next_due = lambda txn, q: (lambda d: None if d is None else d + 1)(
                real(txn, q))
            return s

    report = orderly.conformance.run(LateNextDue(), parts="contract", filter="next_due")
    assert report.failures == 1 and "earliest claimable instant" in report.tap

    class ForgetfulHistory(DictTarget):
        def open(self):
            s = super().open()
            s.history_append = lambda txn, item: None
            return s

    report = orderly.conformance.run(ForgetfulHistory(), parts="contract", filter="history")
    assert report.failures >= 1 and "not ok" in report.tap
