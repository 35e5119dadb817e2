"""The per-build maxima read at run time (orderly_lines_max,
orderly_parts_max, orderly_id_max) and an engine's max_lines and
max_parts options."""
import pytest

import orderly
from conftest import LINES, T0, create, ship_all


def one_line(i: int, warehouse: int = 1) -> orderly.Line:
    return orderly.Line(sku=500 + i, warehouse=warehouse, quantity=1, unit_price=10)


def test_the_maxima_come_from_the_library():
    assert orderly.id_max() == 64
    assert orderly.lines_max() >= 1 and orderly.parts_max() >= 1


def test_an_engine_at_the_hard_maximum_takes_an_order_that_big_and_no_bigger():
    n = orderly.lines_max()
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), max_lines=n) as e:
        e.create_order("full", [one_line(i) for i in range(n)], currency="EUR", now=T0)
        assert e.get_order("full").n_lines == n
        with pytest.raises(ValueError, match=r"lines_max\(\)"):
            e.create_order("over", [one_line(i) for i in range(n + 1)], currency="EUR", now=T0)
        with pytest.raises(orderly.NotFound):
            e.get_order("over")


def test_max_lines_sets_an_engine_lower():
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), max_lines=1) as e:
        with pytest.raises(orderly.InvalidArgument, match="max_lines"):
            e.create_order("o-2", [one_line(0), one_line(1)], currency="EUR", now=T0)
        with pytest.raises(orderly.NotFound):
            e.get_order("o-2")
        e.create_order("o-1", [one_line(0)], currency="EUR", now=T0)


def test_max_parts_caps_warehouses_and_returns():
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), max_parts=1) as e:
        with pytest.raises(orderly.InvalidArgument):
            e.create_order("o-2", LINES, currency="EUR", now=T0)  # two warehouses
        e.create_order("o-1", [orderly.Line(101, 1, 2, 500)], currency="EUR", now=T0)
        e.apply("o-1", "payment", "authorize", amount=1000, now=T0 + 1)
        e.apply("o-1", "payment", "request_capture", now=T0 + 2)
        e.apply("o-1", "payment", "capture_succeeded", now=T0 + 3)
        for ev in ("start_picking", "picked", "start_packing", "packed", "ship"):
            e.apply("o-1", "fulfillment", ev, now=T0 + 4)
        e.apply("o-1", "shipment", "pick_up", now=T0 + 5)
        e.apply("o-1", "shipment", "deliver", now=T0 + 6)
        e.open_return("o-1", [(0, 1)], idem_key="r-1", now=T0 + 10)
        with pytest.raises(orderly.InvariantError):
            e.open_return("o-1", [(0, 1)], idem_key="r-2", now=T0 + 11)


def test_an_order_over_an_engines_max_lines_is_not_supported_there(tmp_path):
    """An order written by an engine configured higher is refused, with
    nothing written, by one configured lower on the same store."""
    path = str(tmp_path / "o.db")
    with orderly.Engine(orderly.SQLiteStorage(path), orderly.MemoryTransport()) as wide:
        create(wide)
    with orderly.Engine(orderly.SQLiteStorage(path), orderly.MemoryTransport(),
                        max_lines=1) as narrow:
        with pytest.raises(orderly.NotSupported, match="max_lines"):
            narrow.apply("o-1", "payment", "authorize", amount=2000, now=T0 + 1)
    with orderly.Engine(orderly.SQLiteStorage(path), orderly.MemoryTransport()) as wide:
        v = wide.get_order("o-1")
        assert v.payment_state is orderly.PaymentState.PENDING and v.version == 1


@pytest.mark.parametrize("kwargs, exc, field", [
    ({"max_lines": -1}, ValueError, "max_lines"),
    ({"max_lines": "16"}, TypeError, "max_lines"),
    ({"max_lines": True}, TypeError, "max_lines"),
    ({"max_parts": -1}, ValueError, "max_parts"),
    ({"max_parts": 1.0}, TypeError, "max_parts"),
])
def test_bad_maxima_are_refused_before_c(kwargs, exc, field):
    with pytest.raises(exc, match=field):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), **kwargs)


def test_maxima_over_the_hard_ones_are_refused():
    with pytest.raises(ValueError, match="max_lines"):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                       max_lines=orderly.lines_max() + 1)
    with pytest.raises(ValueError, match="max_parts"):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                       max_parts=orderly.parts_max() + 1)


def test_last_error_is_the_engines_last_failure(engine):
    assert engine.last_error() is None
    with pytest.raises(orderly.NotFound):
        engine.get_order("nope")
    err = engine.last_error()
    assert isinstance(err, orderly.NotFound) and "nope" in err.message
    create(engine)
    ship_all(engine)
    assert engine.last_error() is None
    engine.close()
    with pytest.raises(orderly.MisuseError, match="closed"):
        engine.last_error()
