/*
 * How the payment ends an order: a refund sent to the payment moves it, a
 * refund that gives everything back undoes its promotion and loyalty, and
 * a capture that never answers ends at the authorization's expiry instead
 * of leaving the order confirmed forever.
 */
#include "fixture.h"

/* Issue 14: a full refund sent to the payment left the order delivered. */
START_TEST(full_refund_to_payment_refunds_order)
{
    fx f;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REFUND, 0, TOTAL, T0 + HOUR);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_REFUNDED);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_REFUNDED);
    fx_free(&f);
}
END_TEST

START_TEST(partial_refunds_to_payment_move_order_step_by_step)
{
    fx f;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REFUND, 0, 500, T0 + HOUR);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_REFUNDED);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REFUND, 0, 1500, T0 + HOUR);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_REFUNDED);
    ck_assert_int_eq(view(&f, "o1").refunded, TOTAL);
    fx_free(&f);
}
END_TEST

/* A return's refund is counted once by the order, as before. */
START_TEST(return_refund_counted_once)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 9;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 1, 1, 0, "ret-1", t, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, t);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_REFUNDED);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 1);
    fx_free(&f);
}
END_TEST

/* Issue 14: a full refund through returns reverted neither the promotion
 * nor the loyalty points. */
START_TEST(refund_emptying_order_reverts_promotion_and_loyalty)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_return_line both[2] = { { 0, 2 }, { 1, 1 } };
    orderly_return_spec rs = ORDERLY_RETURN_SPEC_INIT;
    operation_rec ef;
    uint32_t idx = 9;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    ck_assert_int_eq(create_ex(&f, "o1", ORDERLY_PAY_CARD, 1, 70, T0, &r), 0);
    authorize_ok(&f, "o1", T0 + 1000);
    capture_ok(&f, "o1", T0 + 2000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    ship_ful(&f, "o1", 1, T0 + 4000);
    deliver_ship(&f, "o1", 0, T0 + 5000);
    deliver_ship(&f, "o1", 1, T0 + 6000);
    rs.order_id = "o1";
    rs.lines = both;
    rs.n_lines = 2;
    rs.now = t;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REVERT_PROMOTION, NULL), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, t);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_REFUNDED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REVERT_PROMOTION, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTORE_LOYALTY, &ef), 1);
    ck_assert_int_eq(ef.amount, 70);
    fx_free(&f);
}
END_TEST

/* A partial refund leaves the promotion and the points where they are. */
START_TEST(partial_refund_keeps_promotion_and_loyalty)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    ck_assert_int_eq(create_ex(&f, "o1", ORDERLY_PAY_CARD, 1, 70, T0, &r), 0);
    authorize_ok(&f, "o1", T0 + 1000);
    capture_ok(&f, "o1", T0 + 2000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    ship_ful(&f, "o1", 1, T0 + 4000);
    deliver_ship(&f, "o1", 0, T0 + 5000);
    deliver_ship(&f, "o1", 1, T0 + 6000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REFUND, 0, 500, T0 + HOUR);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REVERT_PROMOTION, NULL), 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTORE_LOYALTY, NULL), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REFUND, 0, 1500, T0 + HOUR);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REVERT_PROMOTION, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTORE_LOYALTY, NULL), 1);
    fx_free(&f);
}
END_TEST

/* Issue 14: a capture that never answered left the payment
 * capture_requested and the order confirmed forever. Now the
 * authorization's expiry ends it: voided, and the order cancelled with its
 * stock released. */
START_TEST(unanswered_capture_ends_at_authorization_expiry)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2000);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_CAPTURE_REQUESTED);
    tick(&f, T0 + 6 * DAY);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_CAPTURE_REQUESTED);
    tick(&f, T0 + 8 * DAY);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_VOIDED);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 1);
    ck_assert_uint_eq(line_view(&f, "o1", 0).reserved, 0);
    ck_assert_uint_eq(line_view(&f, "o1", 1).reserved, 0);
    fx_free(&f);
}
END_TEST

/* The expiry is guarded: before it, the event is refused and nothing moves. */
START_TEST(capture_expiry_refused_before_deadline)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2000);
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZATION_EXPIRED,
                           0, 0, T0 + DAY, &r),
                     ORDERLY_EGUARD);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_CAPTURE_REQUESTED);
    fx_free(&f);
}
END_TEST

/* A capture answer after the expiry ended the payment is late: ignored. */
START_TEST(capture_answer_after_expiry_is_late)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2000);
    tick(&f, T0 + 8 * DAY);
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0,
                           0, T0 + 8 * DAY, &r),
                     0);
    ck_assert_uint_eq(r.late, 1);
    ck_assert_int_eq(view(&f, "o1").captured, 0);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-settlement");

    orderly_test_case(s, full_refund_to_payment_refunds_order, 0);
    orderly_test_case(s, partial_refunds_to_payment_move_order_step_by_step, 0);
    orderly_test_case(s, return_refund_counted_once, 0);
    orderly_test_case(s, refund_emptying_order_reverts_promotion_and_loyalty, 0);
    orderly_test_case(s, partial_refund_keeps_promotion_and_loyalty, 0);
    orderly_test_case(s, unanswered_capture_ends_at_authorization_expiry, 0);
    orderly_test_case(s, capture_expiry_refused_before_deadline, 0);
    orderly_test_case(s, capture_answer_after_expiry_is_late, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
