/* Choreography rows and the seed bugs of the lifecycle review. */
#include "fixture.h"
#include "orderly/claim.h"

/* ---- choreography ------------------------------------------------------ */

START_TEST(choreo_order_created)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_health h = ORDERLY_HEALTH_INIT;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;

    fx_setup(&f);
    ck_assert_int_eq(create_ex(&f, "o1", ORDERLY_PAY_CARD, 0, 0, T0, &r), 0);
    ck_assert_uint_eq(r.outbox_rows, 1);
    h = health(&f, T0);
    ck_assert_uint_eq(h.outbox_pending, 1);
    ck_assert_uint_eq(h.timers_due, 0);
    v = view(&f, "o1");
    ck_assert_int_eq(v.order_state, ORDERLY_ORDER_PENDING);
    ck_assert_int_eq(v.payment_state, ORDERLY_PAYMENT_PENDING);
    ck_assert_int_eq(v.total, TOTAL);
    ck_assert_uint_eq(v.n_lines, 2);
    ck_assert_uint_eq(v.n_fulfillments, 2); /* one per warehouse */
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_ACTIVE);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_ACTIVE);
    /* on hold until the order is confirmed */
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_ON_HOLD);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 1), ORDERLY_FULFILLMENT_ON_HOLD);
    /* the deadlines exist: due once the TTL has passed */
    h = health(&f, T0 + f.policy.reservation_ttl + 1);
    ck_assert_uint_ge(h.timers_due, 1);
    pump_all(&f, T0);
    ck_assert_uint_eq(count_type(&f, "o1", "order.status_changed"), 1);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_payment_confirmed)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CONFIRMED);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_AUTHORIZED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_CONFIRMED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_CONFIRMED);
    /* released to their warehouses, which are told */
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_PENDING);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 1), ORDERLY_FULFILLMENT_PENDING);
    pump_all(&f, T0 + 1000);
    ck_assert_uint_eq(count_type(&f, "o1", "inventory.stock.committed"), 1);
    ck_assert_uint_eq(count_type(&f, "o1", "payment.confirmed"), 1);
    ck_assert_uint_eq(count_type(&f, "o1", "orders.payment.capture_requested"), 1);
    ck_assert_uint_eq(count_type(&f, "o1", "fulfillment.status_changed"), 2);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_payment_after_ttl_all_or_nothing)
{
    fx f;
    operation_rec ef;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + f.policy.reservation_ttl + 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_VOIDED);
    ck_assert_int_ne(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_CONFIRMED);
    ck_assert_int_ne(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_CONFIRMED);
    ck_assert_int_ne(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_ACTIVE);
    ck_assert_int_ne(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_ACTIVE);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, &ef), 1);
    ck_assert_int_eq(ef.amount, TOTAL);
    pump_all(&f, T0 + f.policy.reservation_ttl + 1);
    ck_assert_uint_eq(count_type(&f, "o1", "inventory.stock.committed"), 0);
    /* a cancelled order must not ask the provider to capture */
    ck_assert_uint_eq(count_type(&f, "o1", "orders.payment.capture_requested"), 0);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_payment_declined)
{
    fx f;
    operation_rec ef;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, T0 + 1000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_FAILED);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_FAILED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_RELEASED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_RELEASED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, &ef), 1);
    ck_assert_uint_eq(ef.n_lines, 2);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_capture_stored_amount)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    operation_rec ef;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    ck_assert_int_eq(orderly_engine_request_capture(f.e, "o1", "cap-1", T0 + 2000, &r), 0);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_CAPTURE_REQUESTED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_CAPTURE, &ef), 1);
    ck_assert_int_eq(ef.amount, TOTAL);
    /* the amount a capture event carries is ignored */
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0, 5, T0 + 3000);
    ck_assert_int_eq(view(&f, "o1").captured, TOTAL);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_capture_after_auth_window)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_time_ms t;

    fx_setup(&f);
    t = T0 + 1000 + f.policy.auth_window + 1;
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    ck_assert_int_eq(orderly_engine_request_capture(f.e, "o1", "cap-late", t, &r), 0);
    v = view(&f, "o1");
    ck_assert_msg(v.payment_state == ORDERLY_PAYMENT_AUTHORIZATION_EXPIRED ||
                      v.payment_state == ORDERLY_PAYMENT_VOIDED,
                  "payment state %d", v.payment_state);
    ck_assert_int_eq(v.order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(v.captured, 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_CAPTURE, NULL), 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_reservation_expired)
{
    fx f;
    int s0, s1;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_uint_eq(tick(&f, T0 + f.policy.reservation_ttl - 1), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_uint_ge(tick(&f, T0 + f.policy.reservation_ttl + 1), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    s0 = part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0);
    s1 = part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1);
    ck_assert(s0 == ORDERLY_RESERVATION_RELEASED || s0 == ORDERLY_RESERVATION_EXPIRED);
    ck_assert(s1 == ORDERLY_RESERVATION_RELEASED || s1 == ORDERLY_RESERVATION_EXPIRED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_CANCELLED);
    fx_free(&f);
}
END_TEST

/* FUL-P0-01: the order aggregates over every fulfillment. */
START_TEST(order_shipped_only_when_every_fulfillment_shipped)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 1, 0, T0 + 1500);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PROCESSING);
    ship_ful(&f, "o1", 0, T0 + 2000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_SHIPPED);
    ck_assert_uint_eq(view(&f, "o1").n_shipments, 1);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PICKED, 1, 0, T0 + 3000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PACKING, 1, 0, T0 + 3000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PACKED, 1, 0, T0 + 3000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_SHIPPED);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_SHIP, 1, 0, T0 + 4000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_uint_eq(view(&f, "o1").n_shipments, 2);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_FULFILLED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_FULFILLED);
    fx_free(&f);
}
END_TEST

/* One warehouse shipped, the other cancelled: the order is shipped, and the
 * cancelled warehouse's stock is released instead of held forever. */
START_TEST(choreo_partial_ship_then_cancel)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    ship_ful(&f, "o1", 0, T0 + 2000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_SHIPPED);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_CANCEL, 1, 0, T0 + 3000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_FULFILLED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_RELEASED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 0);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_fulfillment_cancelled)
{
    fx f;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_CANCEL, 0, 0, T0 + 2000);
    v = view(&f, "o1");
    ck_assert_int_eq(v.order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(v.payment_state, ORDERLY_PAYMENT_VOIDED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_RELEASED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_RELEASED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 1), ORDERLY_FULFILLMENT_CANCELLED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    pump_all(&f, T0 + 2000);
    ck_assert_uint_eq(count_type(&f, "o1", "order.cancelled"), 1);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_shipment_delivered)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    ship_ful(&f, "o1", 0, T0 + 2000);
    ship_ful(&f, "o1", 1, T0 + 2000);
    deliver_ship(&f, "o1", 0, T0 + 3000);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_COMPLETED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 1), ORDERLY_FULFILLMENT_SHIPPED);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    deliver_ship(&f, "o1", 1, T0 + 4000);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 1), ORDERLY_FULFILLMENT_COMPLETED);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    fx_free(&f);
}
END_TEST

/* P1-2024-02: a cancellation delivered twice cancels the shipment once. */
START_TEST(shipment_cancel_asked_once)
{
    fx f;
    orderly_result r1 = ORDERLY_RESULT_INIT, r2 = ORDERLY_RESULT_INIT;
    char *env;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    ship_ful(&f, "o1", 0, T0 + 2000);
    env = make_env("evt-ship-cancel-1", "shipment.cancel", "o1", "{\"index\":0}");
    ck_assert_int_eq(handle(&f, env, T0 + 3000, &r1), 0);
    ck_assert_uint_eq(r1.duplicate, 0);
    ck_assert_int_eq(r1.to, ORDERLY_SHIPMENT_CANCELLED);
    ck_assert_int_eq(handle(&f, env, T0 + 4000, &r2), 0);
    ck_assert_uint_eq(r2.duplicate, 1);
    ck_assert_uint_eq(r2.version, r1.version);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_CANCEL_SHIPMENT, NULL), 1);
    free(env);
    fx_free(&f);
}
END_TEST

/* P1-2024-02: order.cancelled redelivered asks the carrier once. */
START_TEST(order_cancelled_redelivered_cancels_shipments_once)
{
    fx f;
    orderly_result r1 = ORDERLY_RESULT_INIT, r2 = ORDERLY_RESULT_INIT;
    orderly_health h1 = ORDERLY_HEALTH_INIT, h2 = ORDERLY_HEALTH_INIT;
    char *env;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    env = make_env("evt-order-cancel-1", "order.cancel", "o1", NULL);
    ck_assert_int_eq(handle(&f, env, T0 + 2000, &r1), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    h1 = health(&f, T0 + 2000);
    ck_assert_int_eq(handle(&f, env, T0 + 5 * DAY, &r2), 0);
    ck_assert_uint_eq(r2.duplicate, 1);
    ck_assert_int_eq(r2.order_state, ORDERLY_ORDER_CANCELLED);
    h2 = health(&f, T0 + 2000);
    ck_assert_uint_eq(h1.outbox_pending, h2.outbox_pending);
    ck_assert_uint_eq(h1.operations_pending, h2.operations_pending);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    free(env);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_promotion_loyalty_reversal)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    operation_rec ef;

    fx_setup(&f);
    ck_assert_int_eq(create_ex(&f, "o1", ORDERLY_PAY_CARD, 1, 500, T0, NULL), 0);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "o1", "cancel-1", T0 + 1000, &r), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REVERT_PROMOTION, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTORE_LOYALTY, &ef), 1);
    ck_assert_int_eq(ef.amount, 500);
    /* no promotion, no points: nothing to revert */
    create_ok(&f, "o2", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "o2", "cancel-2", T0 + 1000, &r), 0);
    ck_assert_uint_eq(count_op(&f, "o2", ORDERLY_OP_REVERT_PROMOTION, NULL), 0);
    ck_assert_uint_eq(count_op(&f, "o2", ORDERLY_OP_RESTORE_LOYALTY, NULL), 0);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_payment_failed_reverts_promotion)
{
    fx f;

    fx_setup(&f);
    ck_assert_int_eq(create_ex(&f, "o1", ORDERLY_PAY_CARD, 1, 300, T0, NULL), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, T0 + 1000);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REVERT_PROMOTION, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTORE_LOYALTY, NULL), 1);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_return_refund_restock)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 99;
    operation_rec ef;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 0, "ret-1", t, &r), 0);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(r.to, ORDERLY_RETURN_REQUESTED);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, t);
    v = view(&f, "o1");
    ck_assert_int_eq(v.refunded, 500);
    ck_assert_int_eq(v.order_state, ORDERLY_ORDER_PARTIALLY_REFUNDED);
    ck_assert_int_eq(v.payment_state, ORDERLY_PAYMENT_PARTIALLY_REFUNDED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, &ef), 1);
    ck_assert_int_eq(ef.amount, 500);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, NULL), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, idx, 0, t);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RETURN, idx), ORDERLY_RETURN_COMPLETED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, &ef), 1);
    /* the one unit that came back, not the order */
    ck_assert_uint_eq(ef.n_lines, 1);
    ck_assert_uint_eq(ef.sku[0], 101);
    ck_assert_uint_eq(ef.quantity[0], 1);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_return_exchange)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 99;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(orderly_engine_open_return(f.e, &idx, "o1", 500, 1, "exch-1", t, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_EXCHANGE, idx, 0, t);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RETURN, idx), ORDERLY_RETURN_COMPLETED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, NULL), 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 0);
    ck_assert_int_eq(view(&f, "o1").refunded, 0);
    pump_all(&f, t);
    ck_assert_uint_eq(count_type(&f, "o1", "order.replacement_requested"), 1);
    fx_free(&f);
}
END_TEST

/* P1-2024-03: shipped and never delivered -> completed after N days. */
START_TEST(shipped_order_auto_completes_after_n_days)
{
    fx f;
    orderly_time_ms ts = T0 + 4000;

    fx_init(&f);
    f.policy.auto_complete_after = 5 * DAY;
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    capture_ok(&f, "o1", T0 + 2000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    ship_ful(&f, "o1", 1, ts);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    (void)tick(&f, ts + 5 * DAY - 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_uint_ge(tick(&f, ts + 5 * DAY + 1), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_COMPLETED);
    fx_free(&f);
}
END_TEST

static void cod_policy(fx *f)
{
    fx_init(f);
    f->policy.reservation_ttl = 48 * HOUR;
    f->policy.abandoned_after = 48 * HOUR;
    fx_open(f);
}

START_TEST(choreo_cod_window_elapsed)
{
    fx f;

    cod_policy(&f);
    create_ok(&f, "c1", ORDERLY_PAY_COD, T0);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_PENDING);
    (void)tick(&f, T0 + 24 * HOUR - 1);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_uint_ge(tick(&f, T0 + 24 * HOUR + 1), 1);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_CANCELLED);
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_RELEASED);
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_RELEASED);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_cod_confirmed_in_window)
{
    fx f;

    cod_policy(&f);
    create_ok(&f, "c1", ORDERLY_PAY_COD, T0);
    APPLY_OK(&f, "c1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0, T0 + HOUR);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_CONFIRMED);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_CONFIRMED);
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_CONFIRMED);
    (void)tick(&f, T0 + 25 * HOUR);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_CONFIRMED);
    pump_all(&f, T0 + 25 * HOUR);
    ck_assert_uint_eq(count_type(&f, "c1", "orders.payment.capture_requested"), 0);
    ck_assert_uint_eq(count_type(&f, "c1", "inventory.stock.committed"), 1);
    ck_assert_uint_eq(count_op(&f, "c1", ORDERLY_OP_CAPTURE, NULL), 0);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_cod_confirm_after_window_rejected)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;

    cod_policy(&f);
    create_ok(&f, "c1", ORDERLY_PAY_COD, T0);
    ck_assert_int_lt(apply(&f, "c1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0,
                           T0 + 25 * HOUR, &r), 0);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_PENDING);
    fx_free(&f);
}
END_TEST

/* The SLA runs from the order's confirmation (here at +1 s). */
START_TEST(choreo_fulfillment_sla_breached)
{
    fx f;
    orderly_time_ms due;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    due = T0 + 1000 + f.policy.fulfillment_sla;
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 0, 0, T0 + 2000);
    pump_all(&f, T0 + 2000);
    ck_assert_uint_eq(count_type(&f, "o1", "fulfillment.sla_breached"), 0);
    (void)tick(&f, due - 1);
    pump_all(&f, due - 1);
    ck_assert_uint_eq(count_type(&f, "o1", "fulfillment.sla_breached"), 0);
    (void)tick(&f, due);
    pump_all(&f, due);
    /* one per late fulfillment, states untouched */
    ck_assert_uint_eq(count_type(&f, "o1", "fulfillment.sla_breached"), 2);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_PICKING);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 1), ORDERLY_FULFILLMENT_PENDING);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PROCESSING);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_abandoned_cleanup)
{
    fx f;

    fx_init(&f);
    f.policy.reservation_ttl = 3 * HOUR;
    f.policy.abandoned_after = 2 * HOUR;
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    (void)tick(&f, T0 + 2 * HOUR - 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_uint_ge(tick(&f, T0 + 2 * HOUR + 1), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_RELEASED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_RELEASED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    /* the TTL timer later finds nothing to do */
    (void)tick(&f, T0 + 3 * HOUR + 1);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_RELEASED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    fx_free(&f);
}
END_TEST

START_TEST(choreo_timer_state_left_noop)
{
    fx f;
    orderly_order_view before = ORDERLY_ORDER_VIEW_INIT, after = ORDERLY_ORDER_VIEW_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    before = view(&f, "o1");
    (void)tick(&f, T0 + f.policy.reservation_ttl + 1);
    (void)tick(&f, T0 + f.policy.abandoned_after + 1);
    after = view(&f, "o1");
    ck_assert_int_eq(after.order_state, ORDERLY_ORDER_CONFIRMED);
    ck_assert_uint_eq(after.version, before.version);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_CONFIRMED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_CONFIRMED);
    fx_free(&f);
}
END_TEST

/* ---- a COD order keeps its window under the default policy ------------------ */

/* The default reservation TTL (15 min) and abandonment (2 h) are far
 * shorter than the COD window (24 h): a COD order's stock stays held and
 * the order stays open until the window closes. */
START_TEST(cod_confirmed_late_in_window_default_policy)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "c1", ORDERLY_PAY_COD, T0);
    (void)tick(&f, T0 + 23 * HOUR);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_ACTIVE);
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_ACTIVE);
    APPLY_OK(&f, "c1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0, T0 + 23 * HOUR);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_CONFIRMED);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_CONFIRMED);
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_CONFIRMED);
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_CONFIRMED);
    pump_all(&f, T0 + 23 * HOUR);
    ck_assert_uint_eq(count_type(&f, "c1", "inventory.stock.committed"), 1);
    fx_free(&f);
}
END_TEST

/* ... and no longer: when the window closes unconfirmed, the order is
 * cancelled and its stock released, while a card order still loses its
 * stock after the reservation TTL. */
START_TEST(cod_released_when_window_closes_default_policy)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "c1", ORDERLY_PAY_COD, T0);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    (void)tick(&f, T0 + f.policy.cod_window - 1);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_uint_ge(tick(&f, T0 + f.policy.cod_window), 1);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_CANCELLED);
    ck_assert_int_ne(part_state(&f, "c1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_ACTIVE);
    ck_assert_int_ne(part_state(&f, "c1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_ACTIVE);
    fx_free(&f);
}
END_TEST

/* ---- operation keys follow their cause ----------------------------------- */

static void return_to_origin(fx *f, const char *id, uint32_t i, orderly_time_ms now)
{
    APPLY_OK(f, id, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, i, 0, now);
    APPLY_OK(f, id, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_FAIL_DELIVERY, i, 0, now + 1);
    APPLY_OK(f, id, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_RETURN_TO_ORIGIN, i, 0, now + 2);
}

/* A confirmed COD order shipped from both warehouses. */
static void cod_shipped(fx *f, const char *id)
{
    create_ok(f, id, ORDERLY_PAY_COD, T0);
    APPLY_OK(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0, T0 + 1000);
    ship_ful(f, id, 0, T0 + 2000);
    ship_ful(f, id, 1, T0 + 3000);
    ck_assert_int_eq(view(f, id).order_state, ORDERLY_ORDER_SHIPPED);
}

/* The key of the one cancel_cod_claim of order id (into key[33]). */
static void cod_claim_key(fx *f, const char *id, char *key)
{
    operation_rec ef;

    ck_assert_uint_eq(count_op(f, id, ORDERLY_OP_CANCEL_COD_CLAIM, &ef), 1);
    ck_assert_uint_eq(strlen(ef.key), 32);
    memcpy(key, ef.key, 33);
}

/* The returned shipment and the order it closes both ask to cancel the COD
 * claim, and so does the second parcel coming back: one operation. */
START_TEST(cod_claim_cancelled_once_on_return_to_origin)
{
    fx f;
    operation_rec ef;

    fx_setup(&f);
    cod_shipped(&f, "c1");
    return_to_origin(&f, "c1", 0, T0 + 4000);
    /* the other parcel is still out: the order, and its claim, wait for it */
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_CONFIRMED);
    ck_assert_uint_eq(count_op(&f, "c1", ORDERLY_OP_CANCEL_COD_CLAIM, NULL), 0);
    return_to_origin(&f, "c1", 1, T0 + 5000);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_RETURNED_TO_ORIGIN);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_CANCELLED);
    ck_assert_uint_eq(count_op(&f, "c1", ORDERLY_OP_CANCEL_COD_CLAIM, &ef), 1);
    ck_assert_int_eq(ef.amount, TOTAL);
    /* each parcel is its own cause: two restocks */
    ck_assert_uint_eq(count_op(&f, "c1", ORDERLY_OP_RESTOCK, NULL), 2);
    fx_free(&f);
}
END_TEST

/* A COD parcel that came back before the cash was collected is never paid
 * for: the carrier collects what was delivered, and nothing is refunded of
 * cash that was never taken. */
START_TEST(cod_collects_only_what_was_delivered)
{
    orderly_part_view line = ORDERLY_PART_VIEW_INIT;
    int64_t back_value;
    fx f;

    fx_setup(&f);
    cod_shipped(&f, "c1");
    return_to_origin(&f, "c1", 0, T0 + 4000);
    deliver_ship(&f, "c1", 1, T0 + 5000);
    line = line_view(&f, "c1", 0);
    back_value = line.amount;
    ck_assert_uint_eq(line.back_at_origin, line.quantity);
    APPLY_OK(&f, "c1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_COLLECTED, 0, 0, T0 + 6000);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_CAPTURED);
    ck_assert_int_eq(view(&f, "c1").captured, TOTAL - back_value);
    ck_assert_int_eq(view(&f, "c1").refunded, 0);
    ck_assert_uint_eq(count_op(&f, "c1", ORDERLY_OP_REFUND, NULL), 0);
    ck_assert_int_eq(line_view(&f, "c1", 0).refunded, 0);
    fx_free(&f);
}
END_TEST

/* A lost COD parcel whose claim was refunded and then closed before the
 * cash was collected stays unpaid: closing the claim does not make its
 * units owed again. */
START_TEST(cod_closed_refunded_claim_is_not_collected)
{
    int64_t lost_value;
    fx f;

    fx_setup(&f);
    cod_shipped(&f, "c1");
    APPLY_OK(&f, "c1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 0, 0, T0 + 4000);
    APPLY_OK(&f, "c1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_LOSE, 0, 0, T0 + 4001);
    lost_value = line_view(&f, "c1", 0).amount;
    ck_assert_uint_eq(line_view(&f, "c1", 0).lost, line_view(&f, "c1", 0).quantity);
    /* the default policy refunds the claim as it opens */
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_CLAIM, 0), ORDERLY_CLAIM_REFUNDED);
    APPLY_OK(&f, "c1", ORDERLY_MACHINE_CLAIM, ORDERLY_CLAIM_EV_CLOSE, 0, 0, T0 + 4003);
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_CLAIM, 0), ORDERLY_CLAIM_CLOSED);
    deliver_ship(&f, "c1", 1, T0 + 5000);
    APPLY_OK(&f, "c1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_COLLECTED, 0, 0, T0 + 6000);
    ck_assert_int_eq(view(&f, "c1").captured, TOTAL - lost_value);
    ck_assert_int_eq(view(&f, "c1").refunded, 0);
    ck_assert_uint_eq(count_op(&f, "c1", ORDERLY_OP_REFUND, NULL), 0);
    fx_free(&f);
}
END_TEST

/* The key names the cause (the order's COD claim), not the position of the
 * operation in the order's history: the same on two fresh stores, the same
 * whether a return to origin or a cancellation gave it up, and another
 * order's claim has another key. */
START_TEST(operation_key_is_derived_from_its_cause)
{
    char rto[33], rto_again[33], cancelled[33], other[33];
    fx f;

    fx_setup(&f);
    cod_shipped(&f, "c1");
    return_to_origin(&f, "c1", 0, T0 + 4000);
    return_to_origin(&f, "c1", 1, T0 + 4000);
    cod_claim_key(&f, "c1", rto);
    fx_free(&f);

    fx_setup(&f);
    cod_shipped(&f, "c1");
    return_to_origin(&f, "c1", 0, T0 + 4000);
    return_to_origin(&f, "c1", 1, T0 + 4000);
    cod_claim_key(&f, "c1", rto_again);
    cod_shipped(&f, "c2");
    return_to_origin(&f, "c2", 0, T0 + 4000);
    return_to_origin(&f, "c2", 1, T0 + 4000);
    cod_claim_key(&f, "c2", other);
    fx_free(&f);

    fx_setup(&f);
    create_ok(&f, "c1", ORDERLY_PAY_COD, T0);
    APPLY_OK(&f, "c1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0, T0 + 1000);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "c1", NULL, T0 + 2000, NULL), 0);
    cod_claim_key(&f, "c1", cancelled);
    fx_free(&f);

    ck_assert_str_eq(rto, rto_again);
    ck_assert_str_eq(rto, cancelled);
    ck_assert_str_ne(rto, other);
}
END_TEST

/* A card order has no COD claim to cancel when its parcel comes back. */
START_TEST(card_return_to_origin_has_no_cod_claim)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    capture_ok(&f, "o1", T0 + 2000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    ship_ful(&f, "o1", 1, T0 + 4000);
    return_to_origin(&f, "o1", 0, T0 + 5000);
    /* the parcel's own units are refunded; the order waits for the other */
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 1);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    return_to_origin(&f, "o1", 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_RETURNED_TO_ORIGIN);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_CANCEL_COD_CLAIM, NULL), 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 2);
    ck_assert_int_eq(view(&f, "o1").refunded, TOTAL);
    fx_free(&f);
}
END_TEST

/* ---- seed bugs ------------------------------------------------------------ */

static int restock_calls;

static int flaky_restock(const orderly_operation_view *op, void *ud)
{
    (void)ud;
    ck_assert_int_eq(op->op, ORDERLY_OP_RESTOCK);
    return ++restock_calls <= 2 ? ORDERLY_EUSER : 0;
}

/* P0-2024-01: a failed restock is retried on one path until it converges. */
START_TEST(failed_restock_converges_on_one_retry_path)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 0;
    operation_rec ef;
    orderly_time_ms t = T0 + HOUR;
    size_t done;
    int i;

    fx_setup(&f);
    restock_calls = 0;
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_RESTOCK, flaky_restock, NULL), 0);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 0, "ret-1", t, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, idx, 0, t);
    for (i = 0; i < 10 && restock_calls < 3; i++) {
        ck_assert_int_eq(orderly_engine_run_operations(f.e, t + (orderly_time_ms)i * 2 * HOUR, 0, &done), 0);
    }
    ck_assert_int_eq(restock_calls, 3);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, &ef), 1);
    ck_assert_int_eq(ef.state, ORDERLY_ITEM_DONE);
    ck_assert_uint_eq(ef.attempts, 3);
    /* converged: more runs never call it again */
    ck_assert_int_eq(orderly_engine_run_operations(f.e, t + 30 * DAY, 0, &done), 0);
    ck_assert_int_eq(restock_calls, 3);
    ck_assert_uint_eq(health(&f, t + 30 * DAY).operations_exhausted, 0);
    fx_free(&f);
}
END_TEST

/* P1-2024-04: a misconfigured topic fails at setup, not silently. */
START_TEST(misconfigured_topic_fails_at_setup)
{
    fx f;
    orderly_ctx *ctx = NULL;
    orderly_engine *e = NULL;
    int id = -1;

    fx_init(&f);
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    f.topics[ORDERLY_TOPIC_INVENTORY] = "";
    ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_null(e);
    ck_assert_msg(strstr(orderly_ctx_errmsg(ctx), "inventory") != NULL, "message: %s",
                  orderly_ctx_errmsg(ctx));
    /* duplicate names are rejected too */
    f.topics[ORDERLY_TOPIC_INVENTORY] = "orderly.order";
    ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), ORDERLY_ECONFIG);
    f.topics[ORDERLY_TOPIC_INVENTORY] = NULL;
    orderly_ctx_free(ctx);
    fx_open(&f);
    ck_assert_int_eq(orderly_engine_topic_id(&id, f.e, ""), ORDERLY_ECONFIG);
    ck_assert_int_eq(orderly_engine_topic_id(&id, f.e, "nope"), ORDERLY_ECONFIG);
    ck_assert_int_eq(orderly_engine_topic_id(&id, f.e, orderly_engine_topic(f.e, ORDERLY_TOPIC_INVENTORY)), 0);
    ck_assert_int_eq(id, ORDERLY_TOPIC_INVENTORY);
    fx_free(&f);
}
END_TEST

/* P1-2024-06: the same picklist event twice is processed once. */
START_TEST(picklist_redelivery_changes_fulfillment_once)
{
    fx f;
    orderly_result r1 = ORDERLY_RESULT_INIT, r2 = ORDERLY_RESULT_INIT;
    orderly_order_view v1 = ORDERLY_ORDER_VIEW_INIT;
    orderly_health h1 = ORDERLY_HEALTH_INIT;
    char *env;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 0, 0, T0 + 2000);
    env = make_env("evt-picked-1", "fulfillment.picked", "o1", "{\"index\":0}");
    ck_assert_int_eq(handle(&f, env, T0 + 3000, &r1), 0);
    ck_assert_uint_eq(r1.duplicate, 0);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_PICKED);
    v1 = view(&f, "o1");
    h1 = health(&f, T0 + 3000);
    ck_assert_int_eq(handle(&f, env, T0 + 4000, &r2), 0);
    ck_assert_uint_eq(r2.duplicate, 1);
    ck_assert_uint_eq(view(&f, "o1").version, v1.version);
    ck_assert_uint_eq(health(&f, T0 + 3000).outbox_pending, h1.outbox_pending);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_PICKED);
    free(env);
    fx_free(&f);
}
END_TEST

/* OR-P0-03: the order, its reservations and its outbox row commit together. */
START_TEST(order_reservations_and_outbox_commit_together)
{
    fx f;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_health h = ORDERLY_HEALTH_INIT;

    fx_setup(&f);
    p.method = ORDERLY_METHOD_COMMIT;
    p.fail_at = 1;
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    ck_assert_int_lt(create_ex(&f, "o1", ORDERLY_PAY_CARD, 0, 0, T0, NULL), 0);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    ck_assert_int_eq(orderly_engine_get_order(f.e, "o1", &v), ORDERLY_ENOTFOUND);
    h = health(&f, T0 + 30 * DAY);
    ck_assert_uint_eq(h.outbox_pending, 0);
    ck_assert_uint_eq(h.timers_due, 0);
    ck_assert_uint_eq(h.operations_pending, 0);
    /* the retry succeeds in full */
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0 + 10);
    ck_assert_uint_eq(health(&f, T0 + 10).outbox_pending, 1);
    /* and never paid, its stock comes back */
    (void)tick(&f, T0 + 10 + f.policy.reservation_ttl + 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_ne(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_ACTIVE);
    ck_assert_int_ne(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_ACTIVE);
    fx_free(&f);
}
END_TEST

/* ---- fulfillment starts once the order is confirmed ------------------------- */

/* Expects every warehouse step on fulfillment i of id refused with
 * ETRANSITION naming on_hold, and the order unchanged. */
static void expect_on_hold(fx *f, const char *id, uint32_t i)
{
    static const int steps[] = {
        ORDERLY_FULFILLMENT_EV_START_PICKING, ORDERLY_FULFILLMENT_EV_PICKED,
        ORDERLY_FULFILLMENT_EV_START_PACKING, ORDERLY_FULFILLMENT_EV_PACKED,
        ORDERLY_FULFILLMENT_EV_SHIP,
    };
    uint64_t version = view(f, id).version;
    orderly_result r = ORDERLY_RESULT_INIT;
    size_t k;
    int rc;

    for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        rc = apply(f, id, ORDERLY_MACHINE_FULFILLMENT, steps[k], i, 0, T0 + 1000, &r);
        ck_assert_msg(rc == ORDERLY_ETRANSITION, "step %d: %d %s", steps[k], rc,
                      orderly_engine_errmsg(f->e));
        ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f->e), "in state 'on_hold'"));
    }
    ck_assert_int_eq(part_state(f, id, ORDERLY_MACHINE_FULFILLMENT, i), ORDERLY_FULFILLMENT_ON_HOLD);
    ck_assert_uint_eq(view(f, id).version, version);
}

/* A pending (unpaid) card order's fulfillments could be picked, packed and
 * shipped. */
START_TEST(unpaid_card_order_is_not_picked)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    expect_on_hold(&f, "o1", 0);
    expect_on_hold(&f, "o1", 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    /* paid: released, and picked as before */
    authorize_ok(&f, "o1", T0 + 2000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_SHIPPED);
    fx_free(&f);
}
END_TEST

/* A declined order never releases its fulfillments; a cancelled one
 * cancels them where they wait. */
START_TEST(unconfirmed_order_keeps_fulfillments_on_hold)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "d1", ORDERLY_PAY_CARD, T0);
    APPLY_OK(&f, "d1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, T0 + 1000);
    ck_assert_int_eq(view(&f, "d1").order_state, ORDERLY_ORDER_FAILED);
    ck_assert_int_eq(part_state(&f, "d1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_ON_HOLD);
    create_ok(&f, "c1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "c1", NULL, T0 + 1000, NULL), 0);
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_CANCELLED);
    ck_assert_int_eq(part_state(&f, "c1", ORDERLY_MACHINE_FULFILLMENT, 1), ORDERLY_FULFILLMENT_CANCELLED);
    fx_free(&f);
}
END_TEST

/* Cash is collected at the door: a COD order ships on its confirmation,
 * not on its payment. */
START_TEST(cod_order_ships_once_confirmed)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "c1", ORDERLY_PAY_COD, T0);
    expect_on_hold(&f, "c1", 0);
    APPLY_OK(&f, "c1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0, T0 + 2000);
    ship_ful(&f, "c1", 0, T0 + 3000);
    ship_ful(&f, "c1", 1, T0 + 4000);
    deliver_ship(&f, "c1", 0, T0 + 5000);
    deliver_ship(&f, "c1", 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_DELIVERED);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_CONFIRMED);
    APPLY_OK(&f, "c1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_COLLECTED, 0, 0, T0 + 7000);
    ck_assert_int_eq(view(&f, "c1").captured, TOTAL);
    fx_free(&f);
}
END_TEST

/* The SLA ran from the order's creation: an order paid at +23 h breached
 * at +24 h, an hour after its warehouses could start. */
START_TEST(fulfillment_sla_from_confirmation)
{
    fx f;
    orderly_time_ms paid = T0 + 23 * HOUR, due;

    cod_policy(&f); /* stock held and the order kept open for 48 h */
    due = paid + f.policy.fulfillment_sla;
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", paid);
    (void)tick(&f, T0 + 24 * HOUR);
    pump_all(&f, T0 + 24 * HOUR);
    ck_assert_uint_eq(count_type(&f, "o1", "fulfillment.sla_breached"), 0);
    (void)tick(&f, due - 1);
    pump_all(&f, due - 1);
    ck_assert_uint_eq(count_type(&f, "o1", "fulfillment.sla_breached"), 0);
    (void)tick(&f, due);
    pump_all(&f, due);
    ck_assert_uint_eq(count_type(&f, "o1", "fulfillment.sla_breached"), 2);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_PENDING);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-scenarios");

    orderly_test_case(s, choreo_order_created, 0);
    orderly_test_case(s, choreo_payment_confirmed, 0);
    orderly_test_case(s, choreo_payment_after_ttl_all_or_nothing, 0);
    orderly_test_case(s, choreo_payment_declined, 0);
    orderly_test_case(s, choreo_capture_stored_amount, 0);
    orderly_test_case(s, choreo_capture_after_auth_window, 0);
    orderly_test_case(s, choreo_reservation_expired, 0);
    orderly_test_case(s, order_shipped_only_when_every_fulfillment_shipped, 0);
    orderly_test_case(s, choreo_fulfillment_cancelled, 0);
    orderly_test_case(s, choreo_partial_ship_then_cancel, 0);
    orderly_test_case(s, choreo_shipment_delivered, 0);
    orderly_test_case(s, shipment_cancel_asked_once, 0);
    orderly_test_case(s, order_cancelled_redelivered_cancels_shipments_once, 0);
    orderly_test_case(s, choreo_promotion_loyalty_reversal, 0);
    orderly_test_case(s, choreo_payment_failed_reverts_promotion, 0);
    orderly_test_case(s, choreo_return_refund_restock, 0);
    orderly_test_case(s, choreo_return_exchange, 0);
    orderly_test_case(s, shipped_order_auto_completes_after_n_days, 0);
    orderly_test_case(s, choreo_cod_window_elapsed, 0);
    orderly_test_case(s, choreo_cod_confirmed_in_window, 0);
    orderly_test_case(s, choreo_cod_confirm_after_window_rejected, 0);
    orderly_test_case(s, choreo_fulfillment_sla_breached, 0);
    orderly_test_case(s, choreo_abandoned_cleanup, 0);
    orderly_test_case(s, choreo_timer_state_left_noop, 0);
    orderly_test_case(s, failed_restock_converges_on_one_retry_path, 0);
    orderly_test_case(s, misconfigured_topic_fails_at_setup, 0);
    orderly_test_case(s, picklist_redelivery_changes_fulfillment_once, 0);
    orderly_test_case(s, order_reservations_and_outbox_commit_together, 0);
    orderly_test_case(s, cod_claim_cancelled_once_on_return_to_origin, 0);
    orderly_test_case(s, cod_collects_only_what_was_delivered, 0);
    orderly_test_case(s, cod_closed_refunded_claim_is_not_collected, 0);
    orderly_test_case(s, operation_key_is_derived_from_its_cause, 0);
    orderly_test_case(s, card_return_to_origin_has_no_cod_claim, 0);
    orderly_test_case(s, cod_confirmed_late_in_window_default_policy, 0);
    orderly_test_case(s, cod_released_when_window_closes_default_policy, 0);
    orderly_test_case(s, unpaid_card_order_is_not_picked, 0);
    orderly_test_case(s, unconfirmed_order_keeps_fulfillments_on_hold, 0);
    orderly_test_case(s, cod_order_ships_once_confirmed, 0);
    orderly_test_case(s, fulfillment_sla_from_confirmation, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
