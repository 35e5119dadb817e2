"""Exchanges and their replacement orders (orderly_engine_open_replacement,
orderly_replacement_id), and reading a return's lines back
(orderly_engine_get_return_line)."""
import dataclasses
import os

import pytest

import orderly
from conftest import T0, create, repo_root, ship_all

EXCHANGE_STEPS = ("approve", "receive", "inspect", "exchange")


@pytest.fixture
def delivered(any_engine):
    create(any_engine)
    ship_all(any_engine)
    return any_engine


def exchange(e: orderly.Engine, lines, steps=EXCHANGE_STEPS, key: str = "ex") -> int:
    """Opens an exchange of lines on o-1 and walks it through steps."""
    r = e.open_return("o-1", lines, exchange=True, idem_key=key, now=T0 + 10)
    assert r.index is not None
    for ev in steps:
        e.apply("o-1", "return", ev, index=r.index, now=T0 + 11)
    return r.index


# ---- replacement_id ---------------------------------------------------------------


def test_replacement_id_is_readable_while_it_fits():
    assert orderly.replacement_id("o-1", 0) == "o-1.x0"
    assert orderly.replacement_id("o-1", 7) == "o-1.x7"


def test_replacement_id_of_a_long_id_is_a_fixed_length_hash():
    long_id = "k" * orderly.id_max()
    a = orderly.replacement_id(long_id, 0)
    assert a.startswith("x.") and len(a) == 34
    assert all(c in "0123456789abcdef" for c in a[2:])
    assert orderly.replacement_id(long_id, 0) == a
    assert orderly.replacement_id(long_id, 1) != a


@pytest.mark.parametrize("order_id, index, exc, field", [
    ("", 0, ValueError, "order_id"),
    ("has\nnewline", 0, ValueError, "order_id"),
    ("k" * 65, 0, ValueError, "order_id"),
    (b"o-1", 0, TypeError, "order_id"),
    ("o-1", -1, ValueError, "return_index"),
    ("o-1", 2**32, ValueError, "return_index"),
    ("o-1", "0", TypeError, "return_index"),
])
def test_replacement_id_refuses_bad_arguments(order_id, index, exc, field):
    with pytest.raises(exc, match=field):
        orderly.replacement_id(order_id, index)


# ---- open_replacement ---------------------------------------------------------------


def test_a_completed_exchange_opens_a_linked_replacement(delivered):
    e = delivered
    idx = exchange(e, [(0, 1)])
    assert e.get_part("o-1", "return", idx).replacement == "o-1.x0"
    r = e.open_replacement("o-1", idx, now=T0 + 20)
    assert not r.duplicate
    assert r.order_state is orderly.OrderState.PENDING
    v = e.get_order("o-1.x0")
    assert v.replacement_of == "o-1"
    assert v.order_state is orderly.OrderState.PENDING
    assert v.payment_state is orderly.PaymentState.PENDING
    assert (v.currency, v.payment_method, v.total, v.n_lines) == ("EUR", "card", 500, 1)
    line = e.get_part("o-1.x0", "reservation", 0)
    assert (line.sku, line.quantity, line.reserved) == (101, 1, 1)
    original = e.get_order("o-1")
    assert original.replacement_of == "" and original.refunded == 0


def test_opening_it_again_is_a_duplicate_and_never_a_second_order(delivered):
    e = delivered
    idx = exchange(e, [(0, 2)])
    e.open_replacement("o-1", idx, now=T0 + 20)
    version = e.get_order("o-1.x0").version
    again = e.open_replacement("o-1", idx, now=T0 + 21)
    assert again.duplicate
    v = e.get_order("o-1.x0")
    assert v.version == version and v.total == 1000
    with pytest.raises(orderly.NotFound):
        e.get_order("o-1.x1")


def test_an_exchange_not_yet_completed_has_no_replacement(delivered):
    e = delivered
    idx = exchange(e, [(0, 1)], steps=EXCHANGE_STEPS[:-1])
    with pytest.raises(orderly.TransitionError, match="not a completed exchange"):
        e.open_replacement("o-1", idx, now=T0 + 20)
    assert e.get_part("o-1", "return", idx).replacement == ""


def test_a_refunded_return_is_no_exchange(delivered):
    e = delivered
    r = e.open_return("o-1", [(0, 1)], now=T0 + 10)
    for ev in ("approve", "receive", "inspect", "refund", "complete"):
        e.apply("o-1", "return", ev, index=r.index, amount=500, now=T0 + 11)
    with pytest.raises(orderly.TransitionError):
        e.open_replacement("o-1", r.index, now=T0 + 20)


def test_a_money_only_exchange_has_nothing_to_replace(delivered):
    e = delivered
    with pytest.warns(DeprecationWarning):
        r = e.open_return_amount("o-1", 500, exchange=True, now=T0 + 10)
    for ev in EXCHANGE_STEPS:
        e.apply("o-1", "return", ev, index=r.index, now=T0 + 11)
    with pytest.raises(orderly.TransitionError, match="names no lines"):
        e.open_replacement("o-1", r.index, now=T0 + 20)


def test_an_unknown_order_or_return_is_not_found(delivered):
    with pytest.raises(orderly.NotFound):
        delivered.open_replacement("o-1", 0, now=T0 + 20)
    with pytest.raises(orderly.NotFound):
        delivered.open_replacement("nope", 0, now=T0 + 20)


@pytest.mark.parametrize("args, kwargs, exc, field", [
    (("", 0), {}, ValueError, "order_id"),
    ((b"o-1", 0), {}, TypeError, "order_id"),
    (("o-1", -1), {}, ValueError, "return_index"),
    (("o-1", 0), {"now": -1}, ValueError, "now"),
])
def test_open_replacement_refuses_bad_arguments_before_c(delivered, args, kwargs, exc, field):
    before = delivered.stats()
    with pytest.raises(exc, match=field):
        delivered.open_replacement(*args, **kwargs)
    assert delivered.stats() == before


# ---- return_lines -------------------------------------------------------------------


def test_return_lines_lists_what_the_return_names_in_line_order(delivered):
    e = delivered
    r = e.open_return("o-1", [(1, 1), (0, 2)], now=T0 + 10)
    got = e.return_lines("o-1", r.index)
    assert got == [orderly.ReturnLine(line=0, quantity=2), orderly.ReturnLine(line=1, quantity=1)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        got[0].quantity = 5  # type: ignore[misc]  # frozen


def test_return_lines_of_a_return_opened_by_amount_is_empty(delivered):
    with pytest.warns(DeprecationWarning):
        r = delivered.open_return_amount("o-1", 500, now=T0 + 10)
    assert delivered.return_lines("o-1", r.index) == []


def test_return_lines_of_an_unknown_order_or_return_raise_not_found(delivered):
    with pytest.raises(orderly.NotFound, match="no return"):
        delivered.return_lines("o-1", 0)
    with pytest.raises(orderly.NotFound):
        delivered.return_lines("nope", 0)
    with pytest.raises(ValueError, match="index"):
        delivered.return_lines("o-1", -1)
    with pytest.raises(TypeError, match="order_id"):
        delivered.return_lines(None, 0)  # type: ignore[arg-type]
    delivered.close()
    with pytest.raises(orderly.MisuseError, match="closed"):
        delivered.return_lines("o-1", 0)
    with pytest.raises(orderly.MisuseError, match="closed"):
        delivered.open_replacement("o-1", 0)


def test_return_lines_inside_a_batch_sees_the_batch(delivered):
    e = delivered
    with e.batch():
        r = e.open_return("o-1", [(0, 1)], now=T0 + 10)
        assert e.return_lines("o-1", r.index) == [orderly.ReturnLine(0, 1)]


def test_return_lines_reads_past_the_first_32_lines():
    """PartView.lines holds a bit for the first 32 order lines only;
    return_lines walks every line, so a return of as many lines as the
    library allows (up to 40 here) comes back whole."""
    n = min(orderly.lines_max(), 40)
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), max_lines=n) as e:
        lines = [orderly.Line(sku=1000 + i, warehouse=1, quantity=1, unit_price=10)
                 for i in range(n)]
        e.create_order("big", lines, currency="EUR", now=T0)
        e.apply("big", "payment", "authorize", amount=10 * n, now=T0 + 1)
        e.apply("big", "payment", "request_capture", now=T0 + 2)
        e.apply("big", "payment", "capture_succeeded", now=T0 + 3)
        for ev in ("start_picking", "picked", "start_packing", "packed", "ship"):
            e.apply("big", "fulfillment", ev, now=T0 + 4)
        e.apply("big", "shipment", "pick_up", now=T0 + 5)
        e.apply("big", "shipment", "deliver", now=T0 + 6)
        wanted = [orderly.ReturnLine(line=i, quantity=1) for i in range(n - 1, -1, -1)]
        r = e.open_return("big", wanted, exchange=True, now=T0 + 10)
        assert e.return_lines("big", r.index) == sorted(wanted, key=lambda x: x.line)
        assert e.get_part("big", "return", r.index).lines == tuple(range(min(n, 32)))
        for ev in EXCHANGE_STEPS:
            e.apply("big", "return", ev, index=r.index, now=T0 + 11)
        e.open_replacement("big", r.index, now=T0 + 12)
        assert e.get_order(orderly.replacement_id("big", r.index)).n_lines == n


def test_the_binding_readmes_exchange_example_runs(delivered):
    """bindings/python/README.md's exchange block, run on a delivered o-1:
    each line commented with a Python value gives that value."""
    with open(os.path.join(repo_root(), "bindings", "python", "README.md")) as f:
        text = f.read()
    start = text.index("```python\n", text.index("## Exchanges")) + len("```python\n")
    code = text[start:text.index("```\n", start)]
    scope = {"orderly": orderly, "engine": delivered}
    chunk = []
    checked = 0
    for line in code.splitlines() + [""]:  # the empty line runs the last chunk
        stmt, _, shown = line.partition("  # ")
        if line.startswith(" ") or stmt.startswith(("for ", "r = ")):
            chunk.append(stmt)
            continue
        exec("\n".join(chunk), scope)
        chunk = []
        if not stmt:
            continue
        value = eval(stmt, scope)
        try:
            expected = eval(shown, {"ReturnLine": orderly.ReturnLine})
        except SyntaxError:
            assert isinstance(value, orderly.Result) and shown.startswith("Result"), line
            continue
        assert value == expected, line
        checked += 1
    assert checked == 3
