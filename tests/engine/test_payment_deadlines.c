/*
 * Every live payment state that waits on the outside ends by a deadline
 * (issue 14): a payment never paid fails with its order, an expired
 * authorization the order could not be cancelled for is voided and
 * reported, COD cash never reported collected ends uncollected.
 */
#include "fixture.h"
#include "../../lib/fsm/reactions.h"
#include "../../lib/fsm/table.h"

/* A payment never authorized failed to end: the order was cancelled (by the
 * host, or abandoned) and the payment stayed pending forever. */
START_TEST(a_pending_payment_fails_with_its_cancelled_order)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "o1", NULL, T0 + MIN, &r), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_FAILED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 0);
    fx_free(&f);
}
END_TEST

START_TEST(an_abandoned_order_fails_its_pending_payment)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    tick(&f, T0 + f.policy.abandoned_after);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_FAILED);
    fx_free(&f);
}
END_TEST

/* Shipped on an authorization whose capture never answered: the order can
 * no longer be cancelled, so the expired authorization is voided by its
 * deadline and the payment reported failed, instead of waiting forever. */
START_TEST(an_expired_authorization_of_a_shipped_order_is_voided_and_reported)
{
    fx f;
    orderly_time_ms expiry;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    ship_ful(&f, "o1", 1, T0 + 4000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    expiry = T0 + 1000 + f.policy.auth_window;
    tick(&f, expiry);
    tick(&f, expiry);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_VOIDED);
    ck_assert_int_eq(view(&f, "o1").captured, 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 1);
    pump_all(&f, expiry);
    ck_assert_uint_eq(count_type(&f, "o1", "payment.failed"), 1);
    fx_free(&f);
}
END_TEST

/* A cancelled order's expired authorization is voided at once by the
 * cancellation; its deadline later finds it voided and reports nothing. */
START_TEST(an_expired_authorization_of_a_cancelled_order_reports_nothing)
{
    fx f;
    orderly_time_ms expiry;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2000);
    expiry = T0 + 1000 + f.policy.auth_window;
    tick(&f, expiry);
    tick(&f, expiry);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_VOIDED);
    pump_all(&f, expiry);
    ck_assert_uint_eq(count_type(&f, "o1", "payment.failed"), 0);
    fx_free(&f);
}
END_TEST

static void cod_confirmed(fx *f, orderly_time_ms t)
{
    create_ok(f, "o1", ORDERLY_PAY_COD, T0);
    APPLY_OK(f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0, t);
    ck_assert_int_eq(view(f, "o1").order_state, ORDERLY_ORDER_CONFIRMED);
}

/* COD confirmed, never shipped nor collected: the collection deadline ends
 * the payment uncollected and cancels the order (its stock released, its
 * carrier claim given up). */
START_TEST(uncollected_cod_cancels_an_unshipped_order)
{
    fx f;
    orderly_time_ms due = T0 + MIN;

    fx_setup(&f);
    cod_confirmed(&f, due);
    due += f.policy.cod_collection_window;
    tick(&f, due - 1);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_COD_CONFIRMED);
    tick(&f, due);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_COD_UNCOLLECTED);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_CANCEL_COD_CLAIM, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    pump_all(&f, due);
    ck_assert_uint_eq(count_type(&f, "o1", "payment.failed"), 1);
    fx_free(&f);
}
END_TEST

/* COD delivered but the carrier never reports the cash: the order keeps
 * what it reached (it completed), the payment ends uncollected and is
 * reported failed; a late collection is ignored. */
START_TEST(uncollected_cod_of_a_delivered_order_is_reported)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_time_ms due = T0 + MIN;

    fx_setup(&f);
    cod_confirmed(&f, due);
    ship_ful(&f, "o1", 0, T0 + 2 * MIN);
    ship_ful(&f, "o1", 1, T0 + 2 * MIN);
    deliver_ship(&f, "o1", 0, T0 + 3 * MIN);
    deliver_ship(&f, "o1", 1, T0 + 3 * MIN);
    due += f.policy.cod_collection_window;
    tick(&f, due);
    tick(&f, due);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_COD_UNCOLLECTED);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_COMPLETED);
    ck_assert_int_eq(view(&f, "o1").captured, 0);
    pump_all(&f, due);
    ck_assert_uint_eq(count_type(&f, "o1", "payment.failed"), 1);
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_COLLECTED, 0,
                           TOTAL, due + 1, &r), 0);
    ck_assert_uint_eq(r.late, 1);
    fx_free(&f);
}
END_TEST

/* COD collected in time: the deadline finds it captured and does nothing. */
START_TEST(collected_cod_outlives_its_deadline)
{
    fx f;
    orderly_time_ms due = T0 + MIN;

    fx_setup(&f);
    cod_confirmed(&f, due);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_COLLECTED, 0, TOTAL, T0 + HOUR);
    tick(&f, due + f.policy.cod_collection_window);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_CAPTURED);
    fx_free(&f);
}
END_TEST

/* cod_collection_window is a duration like the others. */
START_TEST(cod_collection_window_is_checked_at_open)
{
    fx f;
    orderly_ctx *ctx = NULL;
    orderly_engine *e = NULL;

    fx_init(&f);
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    f.policy.cod_collection_window = 0;
    ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "cod_collection_window"));
    f.policy.cod_collection_window = INT64_MAX;
    ck_assert_int_eq(orderly_engine_open(&f.e, &f.o, ctx), 0);
    orderly_ctx_free(ctx);
    fx_free(&f);
}
END_TEST

/* The engine refuses a payment table with a live state that neither
 * schedules a deadline nor declares why it needs none. */
START_TEST(a_live_payment_state_without_a_deadline_is_rejected)
{
    struct orderly_machine m = orderly__payment_machine;
    struct orderly__state_def states[32];
    orderly_ctx *ctx = NULL;

    ck_assert_int_le(m.n_states, 32);
    memcpy(states, m.states, (size_t)m.n_states * sizeof states[0]);
    m.states = states;
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(orderly__deadlines_validate(&m, ctx), 0);
    states[ORDERLY_PAYMENT_COD_CONFIRMED].timer = ORDERLY_TIMER_NONE;
    ck_assert_int_eq(orderly__deadlines_validate(&m, ctx), ORDERLY_EINVARIANT);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "'cod_confirmed' waits with no deadline"));
    states[ORDERLY_PAYMENT_COD_CONFIRMED].attrs |= ORDERLY__ST_SETTLED;
    ck_assert_int_eq(orderly__deadlines_validate(&m, ctx), 0);
    states[ORDERLY_PAYMENT_CAPTURED].attrs = 0;
    ck_assert_int_eq(orderly__deadlines_validate(&m, ctx), ORDERLY_EINVARIANT);
    orderly_ctx_free(ctx);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-payment-deadlines");

    orderly_test_case(s, a_pending_payment_fails_with_its_cancelled_order, 0);
    orderly_test_case(s, an_abandoned_order_fails_its_pending_payment, 0);
    orderly_test_case(s, an_expired_authorization_of_a_shipped_order_is_voided_and_reported, 0);
    orderly_test_case(s, an_expired_authorization_of_a_cancelled_order_reports_nothing, 0);
    orderly_test_case(s, uncollected_cod_cancels_an_unshipped_order, 0);
    orderly_test_case(s, uncollected_cod_of_a_delivered_order_is_reported, 0);
    orderly_test_case(s, collected_cod_outlives_its_deadline, 0);
    orderly_test_case(s, cod_collection_window_is_checked_at_open, 0);
    orderly_test_case(s, a_live_payment_state_without_a_deadline_is_rejected, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
