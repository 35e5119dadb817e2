"""Order history (orderly_engine_order_history) through the binding."""
import dataclasses
import datetime
import json

import pytest

import orderly
from conftest import T0, TOTAL, ListTransport, create, ship_all
from orderly.examples.dict_storage import DictStorage


@pytest.fixture(params=["memory", "sqlite", "python"])
def keeping_engine(request, tmp_path):
    """An engine on each kind of storage that keeps history."""
    if request.param == "memory":
        storage = orderly.MemoryStorage()
    elif request.param == "sqlite":
        storage = orderly.SQLiteStorage(str(tmp_path / "h.db"), durability="normal")
    else:
        storage = DictStorage()
    with orderly.Engine(storage, ListTransport()) as e:
        yield e


def test_history_lists_the_orders_events_in_order(keeping_engine):
    e = keeping_engine
    create(e)
    e.apply("o-1", "payment", "authorize", amount=TOTAL, now=T0 + 1)
    h = e.order_history("o-1")
    assert [x.seq for x in h] == list(range(len(h))) and len(h) >= 3
    first = h[0]
    assert isinstance(first, orderly.HistoryEntry)
    assert first.type == "order.status_changed" and first.order_id == "o-1"
    assert first.machine is orderly.MachineId.ORDER and first.from_state is None
    assert first.to_state is orderly.OrderState.PENDING and first.event is None
    assert first.amount == TOTAL and first.currency == "EUR" and first.n_lines == 2
    assert first.time == datetime.datetime.fromtimestamp(T0 / 1000, datetime.timezone.utc)
    envelope = json.loads(first.json)
    assert envelope["id"] == first.event_id and envelope["type"] == first.type
    paid = h[1]
    assert paid.machine is orderly.MachineId.PAYMENT
    assert paid.from_state is orderly.PaymentState.PENDING
    assert paid.to_state is orderly.PaymentState.AUTHORIZED
    assert paid.event is orderly.PaymentEvent.AUTHORIZE
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.seq = 9  # type: ignore[misc]


def test_history_pages_with_from_seq_and_max(keeping_engine):
    e = keeping_engine
    create(e)
    ship_all(e)
    everything = e.order_history("o-1")
    assert e.order_history("o-1", from_seq=3, max=2) == everything[3:5]
    assert e.order_history("o-1", from_seq=len(everything)) == []
    assert orderly.HISTORY_MAX == 4096


def test_history_of_an_unknown_order_is_not_found(keeping_engine):
    with pytest.raises(orderly.NotFound):
        keeping_engine.order_history("nobody")


def test_history_outlives_the_outbox(engine):
    create(engine)
    engine.pump(now=T0 + 1)
    assert engine.purge(now=T0 + 400 * 86_400_000) >= 1
    assert not engine.outbox()
    assert [x.seq for x in engine.order_history("o-1")] == [0]


def test_history_arguments_are_checked(engine):
    create(engine)
    with pytest.raises(ValueError, match="from_seq"):
        engine.order_history("o-1", from_seq=-1)
    with pytest.raises(TypeError, match="max"):
        engine.order_history("o-1", max="all")
