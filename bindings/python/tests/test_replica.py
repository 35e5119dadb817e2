"""Engine(replica=True): every service a replica of one ordered input log."""
import json

import pytest

import orderly
from conftest import T0, create

MIN = 60 * 1000

OWNERS = {
    "release_reservations": "reservation", "restock": "reservation",
    "void_authorization": "payment", "refund": "payment", "capture_retry": "payment",
    "revert_promotion": "order", "restore_loyalty_points": "order",
    "cancel_shipment": "shipment", "cancel_cod_claim": "shipment", "reship": "shipment",
}


def replica(roles):
    return orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), roles=roles,
                          replica=True)


def test_replicas_apply_the_warehouses_deadline_command_as_the_reference_ticks():
    ref = orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport())
    order, wt = replica(["order"]), orderly.MemoryTransport()
    warehouse = orderly.Engine(orderly.MemoryStorage(), wt, roles=["reservation"], replica=True)
    with ref, order, warehouse:
        for e in (ref, order, warehouse):
            create(e, order_id="o-9")
        # each replica writes only its own machines' events
        assert {r.type for r in order.outbox()} == {"order.status_changed"}
        assert list(warehouse.outbox()) == []
        at = T0 + 16 * MIN
        ref.tick(now=at)
        assert order.tick(now=at) == 0  # the TTL is the warehouse's deadline
        assert warehouse.tick(now=at) == 1
        assert warehouse.get_order("o-9").order_state == orderly.OrderState.PENDING
        warehouse.pump(now=at)
        [msg] = wt.messages()
        assert msg.topic == "orderly.commands"
        env = json.loads(msg.data)
        assert env["type"] == "reservation.expire" and env["subject"] == "o-9"
        assert env["data"] == {"order_id": "o-9", "index": 0}
        for e in (order, warehouse):
            assert not e.handle_event(msg.data, now=at).duplicate
            assert e.handle_event(msg.data, now=at + MIN).duplicate
        want = ref.get_order("o-9")
        assert want.order_state == orderly.OrderState.CANCELLED
        for e in (order, warehouse):
            got = e.get_order("o-9")
            assert (got.order_state, got.payment_state, got.version) == \
                (want.order_state, want.payment_state, want.version)
        assert len(list(warehouse.operations())) == len(list(ref.operations())) > 0
        assert list(order.operations()) == []


def test_without_replica_roles_refuse_other_machines():
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                        roles=["payment"]) as plain, replica(["payment"]) as rep:
        for e in (plain, rep):
            create(e)
        with pytest.raises(orderly.ConfigError):
            plain.cancel_order("o-1", now=T0 + 1)
        assert rep.cancel_order("o-1", now=T0 + 1).order_state == orderly.OrderState.CANCELLED


def test_replica_is_a_bool():
    with pytest.raises(TypeError, match="replica"):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), replica=1)


def test_every_op_has_an_owning_machine():
    assert {op.name.lower() for op in orderly.Op} == set(OWNERS)
    for op in orderly.Op:
        assert orderly.op_machine(op).name.lower() == OWNERS[op.name.lower()]
    assert orderly.op_machine(103) == orderly.MachineId.ORDER  # a host-defined op
    with pytest.raises(ValueError):
        orderly.op_machine(0)
