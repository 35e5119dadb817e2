/*
 * Cancelling a partly shipped order: what has left stays on its way; what
 * has not (fulfillments not shipped, parcels booked but not picked up) is
 * cancelled, its stock released or restocked, and what it cost refunded.
 */
#include "fixture.h"

/* Three warehouses: 2 x 500, 1 x 1000, 1 x 300. */
static const orderly_line three[3] = {
    { 101, 1, 2, 500 },
    { 202, 2, 1, 1000 },
    { 303, 3, 1, 300 },
};

static void create_three(fx *f, const char *id)
{
    orderly_order_spec sp;
    orderly_result r = ORDERLY_RESULT_INIT;

    memset(&sp, 0, sizeof sp);
    sp.order_id = id;
    sp.currency = "EUR";
    sp.payment_method = ORDERLY_PAY_CARD;
    sp.lines = three;
    sp.n_lines = 3;
    sp.now = T0;
    ck_assert_int_eq(orderly_engine_create_order(f->e, &sp, &r), 0);
    APPLY_OK(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, 2300, T0 + 1000);
    capture_ok(f, id, T0 + 2000);
}

/* Issue 14: cancel on a partially shipped order was ETRANSITION. Now the
 * warehouse that has not shipped stops, its stock is released and its
 * line refunded; the parcel in transit goes on and is delivered. */
START_TEST(cancel_stops_the_unshipped_remainder)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    operation_rec ef;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    capture_ok(&f, "o1", T0 + 2000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 0, 0, T0 + 3000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 1, 0,
             T0 + 3000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_SHIPPED);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "o1", "cancel-1", T0 + 4000, &r), 0);
    ck_assert_int_eq(r.to, ORDERLY_ORDER_SHIPPED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 1),
                     ORDERLY_FULFILLMENT_CANCELLED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_SHIPMENT, 0), ORDERLY_SHIPMENT_IN_TRANSIT);
    ck_assert_uint_eq(line_view(&f, "o1", 1).reserved, 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, &ef), 1);
    ck_assert_uint_eq(ef.n_lines, 1);
    ck_assert_uint_eq(ef.sku[0], 202);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, &ef), 1);
    ck_assert_int_eq(ef.amount, 1000);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 1).refunded, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 0).refunded, 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_CANCEL_SHIPMENT, NULL), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_DELIVER, 0, 0, T0 + 5000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    fx_free(&f);
}
END_TEST

/* A parcel booked but not picked up is cancelled with its carrier, once,
 * however often the cancellation comes again, and its units restocked. */
START_TEST(booked_parcel_cancelled_once)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    operation_rec ef;
    int rc;

    fx_setup(&f);
    create_three(&f, "o1");
    ship_ful(&f, "o1", 0, T0 + 3000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 0, 0, T0 + 3000);
    ship_ful(&f, "o1", 1, T0 + 3000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 2, 0,
             T0 + 3000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_SHIPPED);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "o1", "cancel-1", T0 + 4000, &r), 0);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_SHIPMENT, 1), ORDERLY_SHIPMENT_CANCELLED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_SHIPMENT, 0), ORDERLY_SHIPMENT_IN_TRANSIT);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_CANCEL_SHIPMENT, &ef), 1);
    ck_assert_uint_eq(ef.index, 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, &ef), 1);
    ck_assert_uint_eq(ef.n_lines, 1);
    ck_assert_uint_eq(ef.sku[0], 202);
    ck_assert_uint_eq(line_view(&f, "o1", 1).back_at_origin, 1);
    ck_assert_uint_eq(line_view(&f, "o1", 1).restocked, 1);
    ck_assert_int_eq(view(&f, "o1").refunded, 1300);
    /* the same request again: its first answer */
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "o1", "cancel-1", T0 + 5000, &r), 0);
    ck_assert_uint_eq(r.duplicate, 1);
    /* another cancellation: nothing is left to cancel */
    rc = orderly_engine_cancel_order(f.e, "o1", "cancel-2", T0 + 5000, &r);
    ck_assert(rc == ORDERLY_ETRANSITION || (rc == 0 && r.late == 1));
    /* one refund for the stopped warehouse, one for the cancelled parcel */
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_CANCEL_SHIPMENT, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 2);
    ck_assert_int_eq(view(&f, "o1").refunded, 1300);
    /* what did leave arrives, and the order is delivered */
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_DELIVER, 0, 0, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    fx_free(&f);
}
END_TEST

/* Cancelled before the capture: the capture takes the whole
 * authorization, and what the cancelled units cost is refunded as it
 * lands. */
START_TEST(remainder_cancelled_before_capture_refunded_at_capture)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    operation_rec ef;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 0, 0, T0 + 3000);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "o1", "cancel-1", T0 + 4000, &r), 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 0);
    capture_ok(&f, "o1", T0 + 5000);
    ck_assert_int_eq(view(&f, "o1").captured, TOTAL);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, &ef), 1);
    ck_assert_int_eq(ef.amount, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 1).refunded, 1000);
    fx_free(&f);
}
END_TEST

/* A warehouse that fails after another shipped: its lines are refunded. */
START_TEST(failed_warehouse_refunds_its_lines)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    capture_ok(&f, "o1", T0 + 2000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 1, 0,
             T0 + 3000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_FAIL, 1, 0, T0 + 3000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 1).refunded, 1000);
    fx_free(&f);
}
END_TEST

/* A fully shipped order cannot be cancelled: nothing is left to stop. */
START_TEST(shipped_order_cannot_be_cancelled)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    capture_ok(&f, "o1", T0 + 2000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    ship_ful(&f, "o1", 1, T0 + 3000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_int_ne(orderly_engine_cancel_order(f.e, "o1", "cancel-1", T0 + 4000, &r) == 0 &&
                         r.late == 0,
                     1);
    ck_assert_int_eq(view(&f, "o1").refunded, 0);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-partial-cancel");

    orderly_test_case(s, cancel_stops_the_unshipped_remainder, 0);
    orderly_test_case(s, booked_parcel_cancelled_once, 0);
    orderly_test_case(s, shipped_order_cannot_be_cancelled, 0);
    orderly_test_case(s, remainder_cancelled_before_capture_refunded_at_capture, 0);
    orderly_test_case(s, failed_warehouse_refunds_its_lines, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
