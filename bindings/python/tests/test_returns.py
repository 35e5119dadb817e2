"""Returns naming order lines (orderly_engine_open_return_lines) and the
per-line unit counts of PartView."""
import pytest

import orderly
from conftest import T0, create, ship_all


@pytest.fixture
def delivered(engine):
    create(engine)
    ship_all(engine)
    return engine


def test_a_return_names_lines_and_its_amount_is_their_value(delivered):
    e = delivered
    r = e.open_return("o-1", [orderly.ReturnLine(line=0, quantity=1)], now=T0 + 10)
    assert r.index == 0 and r.machine is orderly.MachineId.RETURN
    assert r.to_state is orderly.ReturnState.REQUESTED and r.from_state is None
    p = e.get_part("o-1", "return", 0)
    assert p.amount == 500 and p.quantity == 1 and p.lines == (0,)
    again = e.open_return("o-1", [orderly.ReturnLine(line=0, quantity=1)], now=T0 + 11)
    assert again.index == 0 and again.duplicate  # the same request


def test_lines_as_tuples_or_mappings_with_an_adjustment(delivered):
    e = delivered
    fee = e.open_return("o-1", [(1, 1)], adjustment=-100, idem_key="r-1", now=T0 + 10)
    assert e.get_part("o-1", "return", fee.index).amount == 900
    extra = e.open_return("o-1", [{"line": 0, "quantity": 2}], adjustment=50,
                          idem_key="r-2", now=T0 + 11)
    p = e.get_part("o-1", "return", extra.index)
    assert p.amount == 1050 and p.quantity == 2 and p.lines == (0,)


def test_an_exchange_is_a_return_part_too(delivered):
    ex = delivered.open_return("o-1", [(0, 1)], exchange=True, idem_key="ex-1", now=T0 + 10)
    assert ex.index == 0
    assert delivered.get_part("o-1", "return", 0).state is orderly.ReturnState.REQUESTED


def test_units_past_what_was_delivered_raise_invariant_error(delivered):
    e = delivered
    with pytest.raises(orderly.InvariantError, match="exceed"):
        e.open_return("o-1", [(0, 3)], now=T0 + 10)
    e.open_return("o-1", [(0, 2)], idem_key="all", now=T0 + 10)
    with pytest.raises(orderly.InvariantError):
        e.open_return("o-1", [(0, 1)], idem_key="one-more", now=T0 + 11)


def test_a_bad_spec_is_refused_by_the_engine(delivered):
    e = delivered
    with pytest.raises(orderly.InvalidArgument, match="no line 5"):
        e.open_return("o-1", [(5, 1)], now=T0 + 10)
    with pytest.raises(orderly.InvalidArgument, match="named twice"):
        e.open_return("o-1", [(0, 1), (0, 1)], now=T0 + 10)
    with pytest.raises(orderly.InvalidArgument, match="adjustment"):
        e.open_return("o-1", [(1, 1)], adjustment=-1001, now=T0 + 10)


@pytest.mark.parametrize("lines, exc, field", [
    ([], ValueError, "lines"),
    ("0:1", TypeError, "lines"),
    ([(0,)], TypeError, r"lines\[0\]"),
    ([{"line": 0}], TypeError, r"lines\[0\]"),
    ([(0, 0)], ValueError, r"lines\[0\].quantity"),
    ([(-1, 1)], ValueError, r"lines\[0\].line"),
    ([("0", 1)], TypeError, r"lines\[0\].line"),
])
def test_bad_lines_are_refused_before_reaching_c(delivered, lines, exc, field):
    with pytest.raises(exc, match=field):
        delivered.open_return("o-1", lines, now=T0 + 10)
    assert delivered.stats().rejected == 0


def test_a_return_before_delivery_is_a_transition_error(engine):
    create(engine)
    with pytest.raises(orderly.TransitionError):
        engine.open_return("o-1", [(0, 1)], now=T0 + 1)


def test_the_amount_only_return_is_deprecated(delivered):
    with pytest.warns(DeprecationWarning, match="open_return"):
        r = delivered.open_return_amount("o-1", 500, now=T0 + 10)
    p = delivered.get_part("o-1", "return", r.index)
    assert p.amount == 500 and p.lines == () and p.quantity == 0


def test_part_view_counts_where_a_lines_units_are(delivered):
    e = delivered
    line = e.get_part("o-1", "reservation", 0)
    assert (line.quantity, line.shipped, line.delivered) == (2, 2, 2)
    assert (line.reserved, line.lost, line.back_at_origin) == (0, 0, 0)
    assert (line.returned, line.restocked, line.refunded, line.shipment) == (0, 0, 0, 0)
    assert e.get_part("o-1", "reservation", 1).shipment == 1
    r = e.open_return("o-1", [(0, 2)], now=T0 + 10)
    for ev in ("approve", "receive", "inspect", "refund"):
        e.apply("o-1", "return", ev, index=r.index, amount=1000, now=T0 + 11)
    line = e.get_part("o-1", "reservation", 0)
    assert line.returned == 2 and line.refunded == 1000
    assert e.get_part("o-1", "reservation", 1).refunded == 0
