"""Machines: every query of orderly.Machine, and the generated enums
checked against the C tables they were generated from."""
import json

import pytest

import orderly
from orderly import _gen, _tables
from orderly._native import ffi, lib


def test_generated_tables_match_the_library():
    """_tables.py is what the build rendered; rendering again from the
    library loaded now must give the same text (drift fails here)."""
    with open(_tables.__file__) as f:
        assert f.read() == _gen.render(ffi, lib)


@pytest.mark.parametrize("m", orderly.machines(), ids=lambda m: m.name)
def test_every_member_names_its_c_id(m):
    for s in m.State:
        out = ffi.new("int *")
        assert lib.orderly_machine_state_id(out, m._m, s.name.lower().encode()) == 0
        assert out[0] == s
    for e in m.Event:
        out = ffi.new("int *")
        assert lib.orderly_machine_event_id(out, m._m, e.name.lower().encode()) == 0
        assert out[0] == e
    assert len(m.State) == lib.orderly_machine_state_limit(m._m) - 1


def test_machine_by_name_and_id():
    order = orderly.machine("order")
    assert orderly.machine(orderly.MachineId.ORDER) is order
    assert orderly.machine(1) is order
    assert order.name == "order" and order.id == 1
    assert order.initial is orderly.OrderState.PENDING
    assert [m.name for m in orderly.machines()] == [
        "order", "payment", "reservation", "fulfillment", "shipment", "return", "claim"]
    with pytest.raises(orderly.NotFound):
        orderly.machine("basket")
    with pytest.raises(TypeError):
        orderly.machine(1.5)


def test_next_takes_members_ids_and_names():
    order = orderly.machine("order")
    want = orderly.OrderState.CONFIRMED
    assert order.next(orderly.OrderState.PENDING, orderly.OrderEvent.PAYMENT_CONFIRMED) is want
    assert order.next(1, 4) is want
    assert order.next("pending", "payment_confirmed") is want
    assert order.state("confirmed") is want and order.event(4) is orderly.OrderEvent(4)


def test_next_refuses_with_the_reason():
    order = orderly.machine("order")
    with pytest.raises(orderly.TransitionError) as info:
        order.next("completed", "cancel")
    assert "not allowed in state 'completed'" in info.value.message
    with pytest.raises(ValueError, match="state"):
        order.next("nowhere", "cancel")
    with pytest.raises(ValueError, match="event"):
        order.next("pending", "teleport")
    with pytest.raises(TypeError, match="state"):
        order.next(None, "cancel")


def test_guards_take_keyword_inputs():
    payment = orderly.machine("payment")
    assert payment.can("cod_pending", "cod_confirm", now=1, deadline=10)
    assert not payment.can("cod_pending", "cod_confirm", now=10, deadline=10)
    with pytest.raises(orderly.GuardError):
        payment.next("cod_pending", "cod_confirm", now=10, deadline=10)
    row = payment.step("cod_pending", "cod_confirm", now=1, deadline=10)
    assert row.guard is orderly.Guard.WITHIN_DEADLINE
    with pytest.raises(TypeError, match="unknown guard input"):
        payment.next("cod_pending", "cod_confirm", when=1)


def test_step_allowed_terminal_late_timer():
    order = orderly.machine("order")
    row = order.step("pending", "payment_confirmed")
    assert row.from_state is orderly.OrderState.PENDING
    assert row.to_state is orderly.OrderState.CONFIRMED
    assert isinstance(row.guard, orderly.Guard)
    assert all(isinstance(e, orderly.Effect) for e in row.effects)
    assert orderly.OrderEvent.CANCEL in order.allowed("pending")
    assert order.allowed("completed") == ()
    assert order.is_terminal("completed") and not order.is_terminal("pending")
    assert order.is_later("shipped", "confirmed") and not order.is_later("pending", "shipped")
    ful = orderly.machine("fulfillment")
    assert ful.is_late("shipped", "picked")
    assert order.timer("pending") is orderly.Timer.ABANDONED
    assert order.timer("completed") is orderly.Timer.NONE


def test_transitions_list_every_row():
    order = orderly.machine("order")
    rows = order.transitions()
    assert len(rows) == lib.orderly_machine_transition_count(order._m)
    assert any(r.event is orderly.OrderEvent.CANCEL for r in rows)
    order.validate()


def test_exports():
    order = orderly.machine("order")
    assert order.export("dot").startswith("digraph")
    assert order.export("mermaid").startswith("stateDiagram-v2")
    doc = json.loads(order.export("json"))
    assert doc
    assert "payment" in orderly.choreography("mermaid")
    json.loads(orderly.choreography("json"))
    with pytest.raises(ValueError, match="format"):
        order.export("svg")


def test_other_enums_come_from_the_library():
    assert orderly.Topic.ORDER == 1 and orderly.Topic.COMMANDS == 7
    assert orderly.Op.REFUND == 3
    assert orderly.Guard.NONE == 0 and orderly.Effect.NONE == 0
