import orderly

# The machines: ask what an event does, by name or by enum member.
order = orderly.machine("order")
print("pending + payment_confirmed ->", order.next("pending", "payment_confirmed").name)

# The engine on the in-memory adapters; time comes in as an argument.
now = 1700000000000
with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport()) as engine:
    engine.create_order("order-1", [orderly.Line(sku=101, warehouse=1, quantity=2, unit_price=500)],
                        currency="EUR", now=now)
    paid = engine.apply("order-1", "payment", "authorize", amount=1000,
                        idem_key="psp-event-42", now=now + 1000)
    again = engine.apply("order-1", "payment", "authorize", amount=1000,
                         idem_key="psp-event-42", now=now + 2000)
    print("order is", paid.order_state.name, "- redelivery is a duplicate:", again.duplicate)
    try:
        engine.apply("order-1", orderly.MachineId.ORDER, orderly.OrderEvent.COMPLETE, now=now + 3000)
    except orderly.TransitionError as exc:
        print("rejected:", exc.name, exc)
    print("published", engine.pump(now=now + 3000), "events")
