"""Storages and transports written in Python, bridged to the C vtables."""
import json

import pytest

import orderly
from conftest import T0, TOTAL, ListTransport, create, ship_all
from orderly.examples.dict_storage import DictStorage


def test_python_storage_and_transport_drive_a_full_lifecycle():
    storage, transport = DictStorage(), ListTransport()
    with orderly.Engine(storage, transport,
                        on_work=lambda e, n: e.pump(now=T0 + 100)) as e:
        create(e)
        ship_all(e)
        r = e.open_return("o-1", [orderly.ReturnLine(line=0, quantity=1)], now=T0 + 8)
        for ev in ("approve", "receive", "inspect", "refund"):
            e.apply("o-1", "return", ev, index=r.index, amount=500, now=T0 + 9)
        v = e.get_order("o-1")
        assert v.refunded == 500
        assert v.order_state is orderly.OrderState.PARTIALLY_REFUNDED
        assert e.health(now=T0 + 200).outbox_pending == 0
    topics = {t for t, _, _, _ in transport.sent}
    assert {"orderly.order", "orderly.payment", "orderly.shipment"} <= topics
    topic, key, data, headers = transport.sent[0]
    assert key == "o-1" and headers["ce-id"] == json.loads(data)["id"]
    assert storage.store.records  # the aggregate lives in the Python dicts


class Exploding(DictStorage):
    def __init__(self, method, exc):
        super().__init__()
        self.method, self.exc = method, exc

    def __getattribute__(self, name):
        if name == object.__getattribute__(self, "method"):
            exc = object.__getattribute__(self, "exc")

            def boom(*args):
                raise exc
            return boom
        return object.__getattribute__(self, name)


@pytest.mark.parametrize("method", ["begin", "load", "save", "queue_push", "idem_get",
                                    "idem_put", "commit"])
def test_a_bug_in_a_python_storage_surfaces_intact(method):
    bug = ZeroDivisionError("adapter bug in %s" % method)
    with orderly.Engine(Exploding(method, bug), ListTransport()) as e:
        with pytest.raises(ZeroDivisionError) as info:
            create(e)
        assert info.value is bug


@pytest.mark.parametrize("method, then", [
    ("history_append", lambda e: None),
    ("history_scan", lambda e: e.order_history("o-1")),
    ("begin_read", lambda e: e.get_order("o-1")),
    ("queue_next_due", lambda e: e.pump(now=T0 + 1)),
])
def test_a_bug_in_an_optional_storage_method_surfaces_intact(method, then):
    bug = ZeroDivisionError("adapter bug in %s" % method)
    with orderly.Engine(Exploding(method, bug), ListTransport()) as e:
        with pytest.raises(ZeroDivisionError) as info:
            create(e)
            then(e)
        assert info.value is bug


def test_an_orderly_error_from_a_storage_is_an_answer():
    with orderly.Engine(Exploding("idem_get", orderly.StorageError("disk gone", native=28)),
                        ListTransport()) as e:
        with pytest.raises(orderly.StorageError) as info:
            create(e)
        assert info.value.transient


def test_a_transport_failure_is_retried_and_a_bug_surfaces():
    class Flaky(ListTransport):
        fail = orderly.TransportError("broker away")

        def publish(self, *args):
            if self.fail is not None:
                raise self.fail
            super().publish(*args)

    t = Flaky()
    with orderly.Engine(orderly.MemoryStorage(), t) as e:
        create(e)
        assert e.pump(now=T0 + 1) == 0  # transient: kept for later
        assert e.health(now=T0 + 1).transport_outage_ms >= 0
        t.fail = None
        assert e.pump(now=T0 + 3_600_000) == 1
        create(e, "o-2")
        bug = KeyError("header")
        t.fail = bug
        with pytest.raises(KeyError) as info:
            e.pump(now=T0 + 7_200_000)
        assert info.value is bug


def test_bare_transient_maps_to_the_adapter_kind():
    class Down(ListTransport):
        def publish(self, *args):
            raise orderly.Transient("try later")

    with orderly.Engine(orderly.MemoryStorage(), Down()) as e:
        create(e)
        assert e.pump(now=T0 + 1) == 0
        assert e.outbox(orderly.ItemState.READY)[0].attempts == 0  # transport outage


def test_callback_exceptions_surface_after_the_call():
    def on_work(engine, n):
        raise RuntimeError("host hook failed")

    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                        on_work=on_work) as e:
        with pytest.raises(RuntimeError, match="host hook"):
            create(e)
        assert e.get_order("o-1").version == 1  # the command itself committed


def test_executor_bug_surfaces():
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport()) as e:
        create(e)
        e.apply("o-1", "payment", "authorize", amount=TOTAL, now=T0 + 1)
        e.cancel_order("o-1", now=T0 + 2)
        bug = AttributeError("no gateway")

        def run(op):
            raise bug
        e.set_executor(orderly.Op.VOID_AUTHORIZATION, run)
        with pytest.raises(AttributeError) as info:
            e.run_operations(now=T0 + 3)
        assert info.value is bug
