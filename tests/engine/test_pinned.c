/* Behaviours mutation testing showed no test held in place: each case here
 * fails when the behaviour it names is broken. */
#include "fixture.h"

/* Four lines over three warehouses: two in warehouse 1, one in 2, one in 3. */
#define N_LINES 4
static const orderly_line lines4[N_LINES] = {
    { 101, 1, 2, 500 },
    { 102, 1, 1, 300 },
    { 202, 2, 1, 1000 },
    { 303, 3, 1, 200 },
};
#define LINES4_TOTAL 2500

static void create4(fx *f, const char *id)
{
    orderly_order_spec sp;
    orderly_result r = ORDERLY_RESULT_INIT;
    int rc;

    memset(&sp, 0, sizeof sp);
    sp.order_id = id;
    sp.currency = "EUR";
    sp.payment_method = ORDERLY_PAY_CARD;
    sp.lines = lines4;
    sp.n_lines = N_LINES;
    sp.now = T0;
    rc = orderly_engine_create_order(f->e, &sp, &r);
    ck_assert_msg(rc == 0, "create %s: %d %s", id, rc, orderly_engine_errmsg(f->e));
}

/* The lines an operation lists are exactly want (skus, in line order),
 * each with its warehouse and quantity. */
static void expect_lines(const operation_rec *ef, const uint64_t *want, uint32_t n)
{
    uint32_t i, k;

    ck_assert_uint_eq(ef->n_lines, n);
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(ef->sku[i], want[i]);
        for (k = 0; k < N_LINES && lines4[k].sku != want[i]; k++)
            ;
        ck_assert_uint_lt(k, N_LINES);
        ck_assert_uint_eq(ef->warehouse[i], lines4[k].warehouse);
        ck_assert_uint_eq(ef->quantity[i], lines4[k].quantity);
    }
}

/* ---- an envelope's id is its idempotency key --------------------------------------- */

/* Two envelopes with the same body but different ids are two refunds; the
 * same id twice is one. */
START_TEST(envelope_id_is_the_idempotency_key)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    char *a, *a_again, *b;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    a = make_env("evt-refund-a", "payment.refund", "o1", "{\"amount\":100}");
    a_again = make_env("evt-refund-a", "payment.refund", "o1", "{\"amount\":100}");
    b = make_env("evt-refund-b", "payment.refund", "o1", "{\"amount\":100}");
    ck_assert_int_eq(handle(&f, a, T0 + DAY, &r), 0);
    ck_assert_uint_eq(r.duplicate, 0);
    ck_assert_int_eq(handle(&f, a_again, T0 + DAY + 1, &r), 0);
    ck_assert_uint_eq(r.duplicate, 1);
    ck_assert_int_eq(view(&f, "o1").refunded, 100);
    ck_assert_int_eq(handle(&f, b, T0 + DAY + 2, &r), 0);
    ck_assert_uint_eq(r.duplicate, 0);
    ck_assert_int_eq(view(&f, "o1").refunded, 200);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 2);
    free(a);
    free(a_again);
    free(b);
    fx_free(&f);
}
END_TEST

/* ---- a release touches only the lines still held ----------------------------------- */

/* A warehouse that cancels after another shipped releases its own line,
 * not the shipped ones nor that of a warehouse still working. */
START_TEST(release_after_partial_ship_lists_held_lines)
{
    static const uint64_t wh3[] = { 303 };
    fx f;
    operation_rec ef;

    fx_setup(&f);
    create4(&f, "o1");
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, LINES4_TOTAL, T0 + 1000);
    ship_ful(&f, "o1", 0, T0 + 2000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_CANCEL, 2, 0, T0 + 3000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_SHIPPED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, &ef), 1);
    expect_lines(&ef, wh3, 1);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_FULFILLED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_FULFILLED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 2), ORDERLY_RESERVATION_CONFIRMED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 3), ORDERLY_RESERVATION_RELEASED);
    fx_free(&f);
}
END_TEST

/* The first line to expire cancels the order; its release lists the lines
 * still active, not the expired one. */
START_TEST(release_after_expiry_skips_the_expired_line)
{
    fx f;
    operation_rec ef;
    uint64_t held[N_LINES];
    uint32_t i, n = 0, expired = 0;
    int st;

    fx_setup(&f);
    create4(&f, "o1");
    ck_assert_uint_ge(tick(&f, T0 + f.policy.reservation_ttl), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    for (i = 0; i < N_LINES; i++) {
        st = part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, i);
        if (st == ORDERLY_RESERVATION_EXPIRED)
            expired++;
        else if (st == ORDERLY_RESERVATION_RELEASED)
            held[n++] = lines4[i].sku;
    }
    ck_assert_uint_eq(expired, 1);
    ck_assert_uint_eq(n, N_LINES - 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, &ef), 1);
    expect_lines(&ef, held, n);
    fx_free(&f);
}
END_TEST

/* ---- money: what a cancel gives back ------------------------------------------------ */

START_TEST(cancel_after_partial_refund_refunds_the_rest)
{
    fx f;
    operation_rec ef;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    capture_ok(&f, "o1", T0 + 2000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REFUND, 0, 500, T0 + 3000);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_PARTIALLY_REFUNDED);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "o1", NULL, T0 + 4000, NULL), 0);
    v = view(&f, "o1");
    ck_assert_int_eq(v.order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(v.payment_state, ORDERLY_PAYMENT_REFUNDED);
    ck_assert_int_eq(v.refunded, TOTAL);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, &ef), 2);
    ck_assert_int_eq(ef.amount, TOTAL - 500);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 0);
    fx_free(&f);
}
END_TEST

/* Cancelled while the capture was in flight: nothing to refund yet, and
 * the whole capture refunded the moment it lands. */
START_TEST(capture_landing_after_cancel_is_refunded)
{
    fx f;
    operation_rec ef;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2000);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "o1", NULL, T0 + 3000, NULL), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_CAPTURE_REQUESTED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0, 0, T0 + 4000);
    v = view(&f, "o1");
    ck_assert_int_eq(v.captured, TOTAL);
    ck_assert_int_eq(v.refunded, TOTAL);
    ck_assert_int_eq(v.payment_state, ORDERLY_PAYMENT_REFUNDED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, &ef), 1);
    ck_assert_int_eq(ef.amount, TOTAL);
    fx_free(&f);
}
END_TEST

/* ---- return to origin restocks that parcel's lines ---------------------------------- */

START_TEST(return_to_origin_restocks_its_warehouse_lines)
{
    static const uint64_t wh1[] = { 101, 102 };
    static const uint64_t wh2[] = { 202 };
    fx f;
    operation_rec ef;

    fx_setup(&f);
    create4(&f, "o1");
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, LINES4_TOTAL, T0 + 1000);
    ship_ful(&f, "o1", 0, T0 + 2000);
    ship_ful(&f, "o1", 1, T0 + 3000);
    ship_ful(&f, "o1", 2, T0 + 3500);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 0, 0, T0 + 4000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_FAIL_DELIVERY, 0, 0, T0 + 5000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_RETURN_TO_ORIGIN, 0, 0, T0 + 6000);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, &ef), 1);
    ck_assert_uint_eq(ef.index, 0);
    expect_lines(&ef, wh1, 2);
    /* the other parcel, coming back too, restocks its own */
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 1, 0, T0 + 7000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_FAIL_DELIVERY, 1, 0, T0 + 8000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_RETURN_TO_ORIGIN, 1, 0, T0 + 9000);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, &ef), 2);
    ck_assert_uint_eq(ef.index, 1);
    expect_lines(&ef, wh2, 1);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-pinned");

    orderly_test_case(s, envelope_id_is_the_idempotency_key, 0);
    orderly_test_case(s, release_after_partial_ship_lists_held_lines, 0);
    orderly_test_case(s, release_after_expiry_skips_the_expired_line, 0);
    orderly_test_case(s, cancel_after_partial_refund_refunds_the_rest, 0);
    orderly_test_case(s, capture_landing_after_cancel_is_refunded, 0);
    orderly_test_case(s, return_to_origin_restocks_its_warehouse_lines, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
