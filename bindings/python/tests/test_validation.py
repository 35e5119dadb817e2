"""Bad arguments raise TypeError or ValueError naming the field, before C."""
import pytest

import orderly
from conftest import LINES, T0, create


@pytest.mark.parametrize("kwargs, exc, field", [
    ({"order_id": b"o-1"}, TypeError, "order_id"),
    ({"order_id": ""}, ValueError, "order_id"),
    ({"order_id": "x" * 65}, ValueError, "order_id"),
    ({"order_id": "caf\u00e9"}, ValueError, "order_id"),
    ({"order_id": "a\nb"}, ValueError, "order_id"),
    ({"idem_key": 5}, TypeError, "idem_key"),
    ({"currency": "eur"}, ValueError, "currency"),
    ({"currency": b"EUR"}, TypeError, "currency"),
    ({"payment": "cheque"}, ValueError, "payment"),
    ({"lines": []}, ValueError, "lines"),
    ({"lines": "abc"}, TypeError, "lines"),
    ({"lines": [object()]}, TypeError, r"lines\[0\]"),
    ({"lines": [(1, 1, 0, 5)]}, ValueError, r"lines\[0\].quantity"),
    ({"lines": [(1, 1, 1, -5)]}, ValueError, r"lines\[0\].unit_price"),
    ({"lines": [(1, 1, 1, 5)] * (orderly.lines_max() + 1)}, ValueError, "lines"),
    ({"loyalty_points": -1}, ValueError, "loyalty_points"),
    ({"now": -1}, ValueError, "now"),
    ({"now": "2024-01-01"}, TypeError, "now"),
])
def test_create_order_arguments(engine, kwargs, exc, field):
    args = dict(order_id="o-1", lines=LINES, currency="EUR", now=T0)
    args.update(kwargs)
    with pytest.raises(exc, match=field):
        engine.create_order(args.pop("order_id"), args.pop("lines"), **args)
    assert engine.stats().rejected == 0  # nothing reached the engine


@pytest.mark.parametrize("kwargs, exc, field", [
    ({"index": -1}, ValueError, "index"),
    ({"index": 1.0}, TypeError, "index"),
    ({"amount": -5}, ValueError, "amount"),
    ({"amount": True}, TypeError, "amount"),
    ({"idem_key": "k" * 65}, ValueError, "idem_key"),
])
def test_apply_arguments(engine, kwargs, exc, field):
    create(engine)
    with pytest.raises(exc, match=field):
        engine.apply("o-1", "payment", "authorize", now=T0, **kwargs)


def test_event_and_machine_arguments(engine):
    create(engine)
    with pytest.raises(ValueError, match="event"):
        engine.apply("o-1", "payment", "ship", now=T0)
    with pytest.raises(orderly.NotFound):
        engine.apply("o-1", "basket", "cancel", now=T0)


def test_bytes_where_bytes_are_due(engine):
    with pytest.raises(TypeError, match="envelope"):
        engine.handle_event("{}", now=T0)
    with pytest.raises(TypeError, match="secret"):
        engine.handle_webhook(b"{}", "t=1,v1=00", secret="s", now=T0)
    with pytest.raises(TypeError, match="signature"):
        engine.handle_webhook(b"{}", b"t=1", secret=b"s", now=T0)


def test_durations(engine):
    with pytest.raises(ValueError, match="lease"):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), lease=0)
    with pytest.raises(TypeError, match="cod_window"):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), cod_window="1d")


def test_adapters_are_checked(engine):
    with pytest.raises(TypeError, match="storage"):
        orderly.Engine(object(), orderly.MemoryTransport())
    with pytest.raises(TypeError, match="transport"):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryStorage())


def test_topics(engine):
    with pytest.raises(ValueError, match="topics"):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                       topics={"basket": "x"})
    with pytest.raises(ValueError, match="topic"):
        engine.topic(99)
