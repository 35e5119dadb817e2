"""The engine through the binding: every call of engine.h and outbox.h."""
import datetime
import gc
import json
import weakref

import pytest

import orderly
from conftest import LINES, T0, TOTAL, create, ship_all

UTC = datetime.timezone.utc


def test_create_order_returns_a_result_with_enums(engine):
    r = create(engine)
    assert isinstance(r, orderly.Result)
    assert r.machine is orderly.MachineId.ORDER
    assert r.to_state is orderly.OrderState.PENDING and r.from_state is None
    assert r.order_state is orderly.OrderState.PENDING
    assert r.outbox_rows == 1 and r.version == 1 and not r.duplicate
    with pytest.raises(AttributeError):
        r.version = 2  # frozen


def test_create_order_conflicting_id_raises_exists(engine):
    create(engine)
    with pytest.raises(orderly.Exists):
        engine.create_order("o-1", LINES[:1], currency="EUR", now=T0)


def test_create_order_accepts_tuples_mappings_and_cod(engine):
    r = engine.create_order("o-2", [(1, 1, 1, 100), {"sku": 2, "warehouse": 1, "quantity": 1,
                                                     "unit_price": 5}],
                            currency="USD", payment="cod", has_promotion=True,
                            loyalty_points=10, idem_key="req-2", now=T0)
    assert r.order_state is orderly.OrderState.PENDING
    v = engine.get_order("o-2")
    assert v.payment_state is orderly.PaymentState.COD_PENDING and v.payment_method == "cod"
    assert v.total == 105 and v.currency == "USD" and v.n_lines == 2


def test_apply_and_duplicate(any_engine):
    e = any_engine
    create(e)
    r1 = e.apply("o-1", "payment", "authorize", amount=TOTAL, idem_key="psp-1", now=T0 + 1)
    r2 = e.apply("o-1", orderly.MachineId.PAYMENT, orderly.PaymentEvent.AUTHORIZE,
                 amount=TOTAL, idem_key="psp-1", now=T0 + 2)
    assert r1.event is orderly.PaymentEvent.AUTHORIZE
    assert r1.from_state is orderly.PaymentState.PENDING
    assert r1.to_state is orderly.PaymentState.AUTHORIZED
    assert r1.order_state is orderly.OrderState.CONFIRMED
    assert r2.duplicate and not r1.duplicate
    with pytest.raises(orderly.IdempotencyMismatch):
        e.apply("o-1", "payment", "authorize", amount=1, idem_key="psp-1", now=T0 + 3)


def test_apply_rejections_raise_their_class(engine):
    create(engine)
    with pytest.raises(orderly.TransitionError):
        engine.apply("o-1", "order", "complete", now=T0)
    with pytest.raises(orderly.NotFound):
        engine.apply("o-9", "order", "cancel", now=T0)
    with pytest.raises(orderly.NotFound):
        engine.apply("o-1", "shipment", "deliver", index=5, now=T0)


def test_full_lifecycle_get_part_and_late(engine):
    create(engine)
    ship_all(engine)
    v = engine.get_order("o-1")
    assert v.order_state is orderly.OrderState.DELIVERED
    assert v.captured == TOTAL and v.n_shipments == 2
    assert v.created == datetime.datetime.fromtimestamp(T0 / 1000, UTC)
    p = engine.get_part("o-1", "shipment", 1)
    assert p.machine is orderly.MachineId.SHIPMENT and p.index == 1
    assert p.state is orderly.ShipmentState.DELIVERED
    res = engine.get_part("o-1", orderly.MachineId.RESERVATION, 0)
    assert res.sku == 101 and res.quantity == 2
    late = engine.apply("o-1", "fulfillment", "picked", index=0, idem_key="wms-late-1",
                        now=T0 + 7)
    assert late.late and late.from_state is late.to_state


def test_cancel_order(engine):
    create(engine)
    r = engine.cancel_order("o-1", now=T0 + 1)
    assert r.order_state is orderly.OrderState.CANCELLED
    assert engine.cancel_order("o-1", now=T0 + 2).duplicate


def test_request_capture(engine):
    create(engine)
    engine.apply("o-1", "payment", "authorize", amount=TOTAL, now=T0 + 1)
    r = engine.request_capture("o-1", idem_key="cap-1", now=T0 + 2)
    assert engine.get_order("o-1").payment_state is orderly.PaymentState.CAPTURE_REQUESTED
    assert r.machine is orderly.MachineId.PAYMENT


def envelope(event_id, type_, subject, data):
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "psp", "type": type_,
                       "subject": subject, "data": data}).encode()


def test_handle_event(engine):
    create(engine)
    r = engine.handle_event(envelope("e-1", "payment.authorize", "o-1", {"amount": TOTAL}),
                            now=T0 + 1)
    assert r.to_state is orderly.PaymentState.AUTHORIZED
    assert engine.handle_event(envelope("e-1", "payment.authorize", "o-1", {"amount": TOTAL}),
                               now=T0 + 2).duplicate
    with pytest.raises(orderly.EnvelopeError):
        engine.handle_event(b"{}", now=T0)


def test_handle_webhook(engine):
    create(engine)
    secret = b"whsec-test"
    payload = envelope("wh-1", "payment.authorize", "o-1", {"amount": TOTAL})
    header = orderly.webhook_signature(payload, secret=secret, timestamp=T0 + 10_000)
    with pytest.raises(orderly.SignatureError):
        engine.handle_webhook(payload, header, secret=b"other", now=T0 + 10_000)
    with pytest.raises(orderly.SignatureHeaderError):
        engine.handle_webhook(payload, "nonsense", secret=secret, now=T0 + 10_000)
    with pytest.raises(orderly.StaleError):
        engine.handle_webhook(payload, header, secret=secret, tolerance=1,
                              now=T0 + 3_600_000)
    r = engine.handle_webhook(payload, header, secret=secret,
                              tolerance=datetime.timedelta(minutes=5), now=T0 + 10_000)
    assert r.order_state is orderly.OrderState.CONFIRMED


def test_batch_commits_on_exit(any_engine):
    e = any_engine
    with e.batch():
        create(e, "b-1")
        create(e, "b-2")
        assert e.get_order("b-1").order_state is orderly.OrderState.PENDING
        with pytest.raises(orderly.MisuseError):
            e.pump(now=T0)
    assert e.get_order("b-2").version == 1


def test_batch_rolls_back_when_the_block_raises(any_engine):
    e = any_engine
    with pytest.raises(RuntimeError):
        with e.batch():
            create(e, "b-1")
            raise RuntimeError("host changed its mind")
    with pytest.raises(orderly.NotFound):
        e.get_order("b-1")


def test_explicit_batch_calls(engine):
    engine.begin_batch()
    with pytest.raises(orderly.MisuseError):
        engine.begin_batch()
    create(engine)
    engine.rollback_batch()
    with pytest.raises(orderly.MisuseError):
        engine.commit_batch()
    engine.begin_batch()
    create(engine)
    engine.commit_batch()
    assert engine.get_order("o-1").order_state is orderly.OrderState.PENDING


def test_stats_health_metrics(engine):
    create(engine)
    engine.apply("o-1", "payment", "authorize", amount=TOTAL, idem_key="k", now=T0 + 1)
    engine.apply("o-1", "payment", "authorize", amount=TOTAL, idem_key="k", now=T0 + 1)
    s = engine.stats()
    assert s.applied == 2 and s.duplicates == 1 and s.outbox_appended > 0
    h = engine.health(now=T0 + 2)
    assert h.outbox_pending == s.outbox_appended and h.ready
    h = engine.health(now=T0 + 10 * 60_000, max_backlog=1, max_age=datetime.timedelta(minutes=1))
    assert not h.ready
    m = engine.metrics(now=T0 + 2)
    assert m["orderly_outbox_pending"] == s.outbox_appended


def test_pump_outbox_and_purge():
    transport = orderly.MemoryTransport()
    with orderly.Engine(orderly.MemoryStorage(), transport) as e:
        create(e)
        pending = e.outbox(orderly.ItemState.READY)
        assert len(pending) == 1 and pending[0].type == "order.status_changed"
        assert pending[0].topic == "orderly.order" and len(pending[0].event_id) == 32
        assert e.pump(now=T0 + 1) == 1
        msgs = transport.messages()
        assert len(transport) == 1 and msgs[0].topic == "orderly.order" and msgs[0].key == "o-1"
        assert json.loads(msgs[0].data)["id"] == pending[0].event_id
        assert e.outbox(orderly.ItemState.DONE)[0].state is orderly.ItemState.DONE
        assert e.outbox(after_id=pending[0].id) == []
        assert e.purge(now=T0 + 31 * 86_400_000) == 1
        transport.clear()
        assert transport.messages() == []


def test_tick_fires_due_timers(engine):
    create(engine)
    assert engine.tick(now=T0 + 1) == 0
    assert engine.tick(now=T0 + 3 * 3_600_000) >= 1
    assert engine.get_order("o-1").order_state is orderly.OrderState.CANCELLED


def test_operations_executor_park_and_replay():
    alerts = []
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                        on_alert=alerts.append) as e:
        create(e)
        e.apply("o-1", "payment", "authorize", amount=TOTAL, now=T0 + 1)
        e.cancel_order("o-1", now=T0 + 2)
        ops = e.operations()
        void = [op for op in ops if op.op == orderly.Op.VOID_AUTHORIZATION]
        assert void and void[0].name == "void_authorization" and len(void[0].key) == 32
        assert e.inspect_operation(void[0].id).id == void[0].id
        with pytest.raises(orderly.NotFound):
            e.inspect_operation(10_000)

        def refuse(op):
            raise orderly.StorageError("gateway down")

        e.set_executor(orderly.Op.VOID_AUTHORIZATION, refuse)
        e.set_op_attempts(orderly.Op.VOID_AUTHORIZATION, 1)
        e.run_operations(now=T0 + 3)
        parked = e.inspect_operation(void[0].id)
        assert parked.state is orderly.ItemState.DEAD
        assert any(a.kind is orderly.AlertKind.OPERATION_EXHAUSTED for a in alerts)

        seen = []
        e.set_executor(orderly.Op.VOID_AUTHORIZATION, seen.append)
        e.replay_operation(void[0].id, now=T0 + 4)
        assert e.run_operations(now=T0 + 5) >= 1
        assert seen and seen[0].order_id == "o-1"
        assert e.inspect_operation(void[0].id).state is orderly.ItemState.DONE
        e.set_executor(orderly.Op.VOID_AUTHORIZATION, None)


def test_on_work_may_pump_from_inside_the_call():
    transport = orderly.MemoryTransport()
    pumped = []
    with orderly.Engine(orderly.MemoryStorage(), transport,
                        on_work=lambda e, n: pumped.append(e.pump(now=T0))) as e:
        create(e)
    assert pumped == [1] and len(transport) == 1


def test_options_policy_roles_topics_clock():
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                        roles=["order", orderly.MachineId.PAYMENT, 3, 4, 5, 6],
                        source="shop", topics={"order": "shop.orders"},
                        clock=lambda: datetime.datetime.now(UTC),
                        reservation_ttl=datetime.timedelta(minutes=5), lease=60_000,
                        batch_max=64, seed=7, max_envelope_bytes=4096) as e:
        assert e.topic(orderly.Topic.ORDER) == "shop.orders"
        assert e.topic("payment") == "orderly.payment"
        assert e.topic_id("shop.orders") is orderly.Topic.ORDER
        with pytest.raises(orderly.ConfigError):
            e.topic_id("nope")
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                        roles=["payment"]) as e:
        create(e)  # orders are created whatever the roles
        with pytest.raises(orderly.ConfigError):
            e.apply("o-1", "order", "cancel", now=T0)
    with pytest.raises(orderly.ConfigError):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                       backoff_base=10_000, backoff_max=1_000)
    with pytest.raises(TypeError, match="colour"):
        orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(), colour=1)
    assert orderly.policy_defaults()["reservation_ttl"] == 15 * 60_000
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport(),
                        auto_complete_after=None) as e:  # never
        create(e)


def test_now_accepts_aware_datetimes(engine):
    when = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    engine.create_order("o-1", LINES, currency="EUR", now=when)
    assert engine.get_order("o-1").created == when
    with pytest.raises(ValueError, match="naive"):
        engine.cancel_order("o-1", now=datetime.datetime(2024, 5, 1))


def test_close_is_idempotent_and_use_after_close_raises():
    storage = orderly.MemoryStorage()
    e = orderly.Engine(storage, orderly.MemoryTransport())
    with pytest.raises(orderly.MisuseError):
        storage.close()  # the engine still uses it
    e.close()
    e.close()
    assert e.closed
    with pytest.raises(orderly.MisuseError, match="closed"):
        e.get_order("o-1")
    storage.close()
    assert storage.closed
    with pytest.raises(orderly.MisuseError):
        orderly.Engine(storage, orderly.MemoryTransport())


def test_a_forgotten_engine_is_collected_and_closed():
    storage = orderly.MemoryStorage()
    e = orderly.Engine(storage, orderly.MemoryTransport(), on_work=lambda e, n: None)
    create(e)
    ref = weakref.ref(e)
    del e
    gc.collect()
    assert ref() is None
    storage.close()  # no engine uses it any more


def test_sqlite_storage_persists_across_engines(tmp_path):
    path = str(tmp_path / "orders.db")
    with orderly.Engine(orderly.SQLiteStorage(path), orderly.MemoryTransport()) as e:
        create(e)
    with orderly.Engine(orderly.SQLiteStorage(path, read_only=True),
                        orderly.MemoryTransport()) as e:
        assert e.get_order("o-1").total == TOTAL
    with pytest.raises(orderly.NotFound):
        orderly.SQLiteStorage(str(tmp_path / "missing.db"), create=False)
    with pytest.raises(ValueError, match="durability"):
        orderly.SQLiteStorage(path, durability="sometimes")
    assert orderly.schema_version() >= 1


def test_memory_storage_usage(engine):
    create(engine)
    storage = engine._keep[0]
    records, size = storage.usage()
    assert records >= 1 and size > 0


def test_version():
    assert orderly.version() == "%d.%d.%d" % orderly.version_info()
