/*
 * Money and stock per line: the units of each order line move with its
 * shipment and its returns, a return names the units it takes back and
 * restocks only those, refunds are shared out over the lines, and the
 * invariants refuse a commit that would break any of it.
 */
#include "fixture.h"
#include "../../lib/engine/aggregate.h"
#include "../../lib/engine/internal.h"

/* Walks return idx from requested to completed (refunded, then restocked). */
static void return_through(fx *f, uint32_t idx, orderly_time_ms t)
{
    APPLY_OK(f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, t);
    APPLY_OK(f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, idx, 0, t);
}

/* Every shipped line counts shipped and delivered, in its own shipment. */
START_TEST(delivered_lines_count_their_units)
{
    fx f;
    orderly_part_view l0, l1;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    l0 = line_view(&f, "o1", 0);
    l1 = line_view(&f, "o1", 1);
    ck_assert_uint_eq(l0.shipped, 2);
    ck_assert_uint_eq(l0.delivered, 2);
    ck_assert_uint_eq(l0.shipment, 0);
    ck_assert_uint_eq(l0.reserved, 0);
    ck_assert_uint_eq(l1.shipped, 1);
    ck_assert_uint_eq(l1.delivered, 1);
    ck_assert_uint_eq(l1.shipment, 1);
    ck_assert_uint_eq(l0.returned + l0.restocked + l0.lost + l0.back_at_origin, 0);
    fx_free(&f);
}
END_TEST

/* A created order holds every line's units. */
START_TEST(new_order_reserves_every_unit)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_uint_eq(line_view(&f, "o1", 0).reserved, 2);
    ck_assert_uint_eq(line_view(&f, "o1", 1).reserved, 1);
    ck_assert_uint_eq(line_view(&f, "o1", 0).shipped, 0);
    fx_free(&f);
}
END_TEST

/* Issue 14: a return of 1 of line 0's 2 units (500 of 2000) restocked
 * every line at full quantity; now it restocks that one unit. */
START_TEST(partial_return_restocks_only_its_units)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    operation_rec ef;
    uint32_t idx = 9;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 0, "ret-1", t, &r), 0);
    return_through(&f, idx, t);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, &ef), 1);
    ck_assert_uint_eq(ef.n_lines, 1);
    ck_assert_uint_eq(ef.sku[0], 101);
    ck_assert_uint_eq(ef.warehouse[0], 1);
    ck_assert_uint_eq(ef.quantity[0], 1);
    ck_assert_uint_eq(line_view(&f, "o1", 0).returned, 1);
    ck_assert_uint_eq(line_view(&f, "o1", 0).restocked, 1);
    ck_assert_uint_eq(line_view(&f, "o1", 1).restocked, 0);
    ck_assert_int_eq(view(&f, "o1").refunded, 500);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_REFUNDED);
    fx_free(&f);
}
END_TEST

/* Issue 14: two partial returns restocked 6 units of a 3-unit order. Now
 * two returns of one unit each restock the line's 2, and a third unit of
 * it cannot be returned at all. */
START_TEST(two_partial_returns_never_restock_more_than_delivered)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t a = 9, b = 9, c = 9;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &a, "o1", 0, 1, 0, "ret-a", t, &r), 0);
    return_through(&f, a, t);
    ck_assert_int_eq(open_return_units(&f, &b, "o1", 0, 1, 0, "ret-b", t, &r), 0);
    return_through(&f, b, t);
    ck_assert_uint_eq(line_view(&f, "o1", 0).restocked, 2);
    ck_assert_int_eq(open_return_units(&f, &c, "o1", 0, 1, 0, "ret-c", t, &r), ORDERLY_EINVARIANT);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "delivered and not yet returned"));
    ck_assert_uint_eq(view(&f, "o1").n_returns, 2);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, NULL), 2);
    fx_free(&f);
}
END_TEST

/* Units a live return claims cannot be claimed by another one. */
START_TEST(live_return_claims_its_units)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t a = 9, b = 9;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &a, "o1", 1, 1, 0, "ret-a", t, &r), 0);
    ck_assert_int_eq(open_return_units(&f, &b, "o1", 1, 1, 0, "ret-b", t, &r), ORDERLY_EINVARIANT);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_CANCEL, a, 0, t);
    ck_assert_int_eq(open_return_units(&f, &b, "o1", 1, 1, 0, "ret-b", t, &r), 0);
    ck_assert_uint_eq(b, 1);
    fx_free(&f);
}
END_TEST

/* An exchange takes its units back and restocks none of them. */
START_TEST(exchange_restocks_nothing)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 9;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 2, 1, "exch-1", t, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_EXCHANGE, idx, 0, t);
    ck_assert_uint_eq(line_view(&f, "o1", 0).returned, 2);
    ck_assert_uint_eq(line_view(&f, "o1", 0).restocked, 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, NULL), 0);
    fx_free(&f);
}
END_TEST

/* A return rejected after inspection sends its units back out: they no
 * longer count as returned. */
START_TEST(rejected_return_gives_its_units_back)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 9;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 0, "ret-1", t, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    ck_assert_uint_eq(line_view(&f, "o1", 0).returned, 1);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REJECT, idx, 0, t);
    ck_assert_uint_eq(line_view(&f, "o1", 0).returned, 0);
    ck_assert_uint_eq(line_view(&f, "o1", 0).restocked, 0);
    fx_free(&f);
}
END_TEST

/* A return's refund goes to its own lines; the rest of the order keeps
 * what it paid. */
START_TEST(refund_goes_to_the_returned_line)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 9;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 1, 1, 0, "ret-1", t, &r), 0);
    return_through(&f, idx, t);
    ck_assert_int_eq(line_view(&f, "o1", 1).refunded, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 0).refunded, 0);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    fx_free(&f);
}
END_TEST

/* A refund sent to the payment is shared out over the lines in order. */
START_TEST(payment_refund_is_shared_over_lines)
{
    fx f;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REFUND, 0, 1200, T0 + HOUR);
    ck_assert_int_eq(line_view(&f, "o1", 0).refunded, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 1).refunded, 200);
    fx_free(&f);
}
END_TEST

/* A restocking fee lowers the amount; an adjustment past the lines' value
 * is refused. */
START_TEST(adjustment_bounded_by_the_lines_value)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_return_line rl = { 0, 1 };
    orderly_return_spec rs = ORDERLY_RETURN_SPEC_INIT;
    orderly_part_view pv = ORDERLY_PART_VIEW_INIT;
    uint32_t idx = 9;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    rs.order_id = "o1";
    rs.lines = &rl;
    rs.n_lines = 1;
    rs.now = T0 + HOUR;
    rs.adjustment = -501;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), ORDERLY_EINVAL);
    rs.adjustment = 501;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), ORDERLY_EINVAL);
    rs.adjustment = -100;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), 0);
    ck_assert_int_eq(orderly_engine_get_part(f.e, "o1", ORDERLY_MACHINE_RETURN, idx, &pv), 0);
    ck_assert_int_eq(pv.amount, 400);
    ck_assert_uint_eq(pv.lines, 1);
    ck_assert_uint_eq(pv.quantity, 1);
    return_through(&f, idx, T0 + HOUR);
    ck_assert_int_eq(view(&f, "o1").refunded, 400);
    ck_assert_int_eq(line_view(&f, "o1", 0).refunded, 400);
    fx_free(&f);
}
END_TEST

/* A bad spec is refused before anything is read. */
START_TEST(return_spec_checked)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_return_line two[2] = { { 0, 1 }, { 0, 1 } };
    orderly_return_spec rs = ORDERLY_RETURN_SPEC_INIT;
    uint32_t idx = 9;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    rs.order_id = "o1";
    rs.lines = two;
    rs.n_lines = 2;
    rs.now = T0 + HOUR;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "named twice"));
    rs.n_lines = 1;
    two[0].quantity = 0;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), ORDERLY_EINVAL);
    two[0].quantity = 3;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), ORDERLY_EINVARIANT);
    two[0].quantity = 1;
    two[0].line = 2;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "has no line 2"));
    two[0].line = 0;
    rs.n_lines = 0;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), ORDERLY_EINVAL);
    rs.n_lines = 1;
    rs.version = 99;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), ORDERLY_EVERSION);
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, NULL, &r), ORDERLY_EINVAL);
    ck_assert_uint_eq(view(&f, "o1").n_returns, 0);
    fx_free(&f);
}
END_TEST

/* The same request again is its first answer; the key reused for other
 * lines is a mismatch. */
START_TEST(return_lines_idempotent)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 9;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 0, "ret-1", T0 + HOUR, &r), 0);
    idx = 9;
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 0, "ret-1", T0 + HOUR, &r), 0);
    ck_assert_uint_eq(r.duplicate, 1);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 2, 0, "ret-1", T0 + HOUR, &r),
                     ORDERLY_EIDEMMISMATCH);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 1, 1, 0, NULL, T0 + HOUR, &r), 0);
    ck_assert_uint_eq(idx, 1);
    fx_free(&f);
}
END_TEST

/* A money-only return (the amount shorthand) restocks nothing. */
START_TEST(amount_only_return_restocks_nothing)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 9;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(orderly_engine_open_return(f.e, &idx, "o1", 300, 0, "ret-1", T0 + HOUR, &r), 0);
    return_through(&f, idx, T0 + HOUR);
    ck_assert_int_eq(view(&f, "o1").refunded, 300);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, NULL), 0);
    ck_assert_uint_eq(line_view(&f, "o1", 0).restocked, 0);
    fx_free(&f);
}
END_TEST

/* A lost parcel's lines count lost; one back at origin counts back and
 * restocked, for its own lines only. */
START_TEST(lost_and_returned_parcels_count_their_lines)
{
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    capture_ok(&f, "o1", T0 + 2000);
    ship_ful(&f, "o1", 0, T0 + 3000);
    ship_ful(&f, "o1", 1, T0 + 4000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 0, 0, T0 + 5000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_LOSE, 0, 0, T0 + 5000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 1, 0, T0 + 5000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_FAIL_DELIVERY, 1, 0, T0 + 5000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_RETURN_TO_ORIGIN, 1, 0,
             T0 + 5000);
    ck_assert_uint_eq(line_view(&f, "o1", 0).lost, 2);
    ck_assert_uint_eq(line_view(&f, "o1", 0).restocked, 0);
    ck_assert_uint_eq(line_view(&f, "o1", 1).back_at_origin, 1);
    ck_assert_uint_eq(line_view(&f, "o1", 1).restocked, 1);
    ck_assert_uint_eq(line_view(&f, "o1", 1).lost, 0);
    fx_free(&f);
}
END_TEST

static void back_to_origin(fx *f, uint32_t i, orderly_time_ms t)
{
    APPLY_OK(f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, i, 0, t);
    APPLY_OK(f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_FAIL_DELIVERY, i, 0, t);
    APPLY_OK(f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_RETURN_TO_ORIGIN, i, 0, t);
}

static void shipped_both(fx *f)
{
    create_ok(f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(f, "o1", T0 + 1000);
    capture_ok(f, "o1", T0 + 2000);
    ship_ful(f, "o1", 0, T0 + 3000);
    ship_ful(f, "o1", 1, T0 + 4000);
}

/* Issue 14: one parcel delivered and the other back at origin made the
 * order returned_to_origin with the full 2000 refunded. Now only the
 * returned parcel's 1000 is refunded and the order is delivered. */
START_TEST(parcel_back_at_origin_refunds_only_its_lines)
{
    fx f;

    fx_setup(&f);
    shipped_both(&f);
    deliver_ship(&f, "o1", 0, T0 + 5000);
    back_to_origin(&f, 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 1).refunded, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 0).refunded, 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_PARTIALLY_REFUNDED);
    fx_free(&f);
}
END_TEST

/* The same, the other way round: the parcel comes back first, then the
 * other is delivered. */
START_TEST(parcel_back_first_then_delivery)
{
    fx f;

    fx_setup(&f);
    shipped_both(&f);
    back_to_origin(&f, 0, T0 + 5000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 0).refunded, 1000);
    deliver_ship(&f, "o1", 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    fx_free(&f);
}
END_TEST

/* Every parcel back: the order is returned to origin, everything refunded. */
START_TEST(every_parcel_back_returns_the_order)
{
    fx f;

    fx_setup(&f);
    shipped_both(&f);
    back_to_origin(&f, 0, T0 + 5000);
    back_to_origin(&f, 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_RETURNED_TO_ORIGIN);
    ck_assert_int_eq(view(&f, "o1").refunded, TOTAL);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_REFUNDED);
    fx_free(&f);
}
END_TEST

static void lose(fx *f, uint32_t i, orderly_time_ms t)
{
    APPLY_OK(f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, i, 0, t);
    APPLY_OK(f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_LOSE, i, 0, t);
}

/* Issue 14: a lost parcel had no follow-up (no refund; the order
 * auto-completed). Now its units are refunded and the order delivered
 * with the rest. */
START_TEST(lost_parcel_refunds_its_lines)
{
    fx f;

    fx_setup(&f);
    shipped_both(&f);
    lose(&f, 0, T0 + 5000);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 0).refunded, 1000);
    ck_assert_uint_eq(line_view(&f, "o1", 0).lost, 2);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, NULL), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    deliver_ship(&f, "o1", 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    fx_free(&f);
}
END_TEST

/* Nothing reached the customer: the order closes fully refunded. */
START_TEST(every_parcel_lost_closes_the_order_refunded)
{
    fx f;

    fx_setup(&f);
    shipped_both(&f);
    lose(&f, 0, T0 + 5000);
    lose(&f, 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_RETURNED_TO_ORIGIN);
    ck_assert_int_eq(view(&f, "o1").refunded, TOTAL);
    fx_free(&f);
}
END_TEST

/* ---- the invariants, on aggregates no command should ever produce ---- */

static struct orderly__agg agg;
static struct orderly__agg_room agg_room;

/* A delivered, captured two-line order that passes every check. */
static void good(void)
{
    orderly__agg_in_room(&agg, &agg_room);
    memcpy(agg.id, "o1", 3);
    memcpy(agg.currency, "EUR", 4);
    agg.order_state = ORDERLY_ORDER_DELIVERED;
    agg.payment_state = ORDERLY_PAYMENT_CAPTURED;
    agg.total = agg.authorized = agg.captured = 2000;
    agg.n_lines = 2;
    agg.lines[0].quantity = 2;
    agg.lines[0].unit_price = 500;
    agg.lines[0].shipped = agg.lines[0].delivered = 2;
    agg.lines[0].state = ORDERLY_RESERVATION_FULFILLED;
    agg.lines[1].quantity = 1;
    agg.lines[1].unit_price = 1000;
    agg.lines[1].shipped = agg.lines[1].delivered = 1;
    agg.lines[1].shipment = 1;
    agg.lines[1].state = ORDERLY_RESERVATION_FULFILLED;
}

static void refused(fx *f, const char *words)
{
    ck_assert_int_eq(orderly__check_invariants(f->e, &agg, 1), ORDERLY_EINVARIANT);
    ck_assert_msg(strstr(orderly_engine_errmsg(f->e), words) != NULL, "'%s' does not say '%s'",
                  orderly_engine_errmsg(f->e), words);
}

START_TEST(invariants_hold_for_a_good_order)
{
    fx f;

    fx_setup(&f);
    good();
    ck_assert_int_eq(orderly__check_invariants(f.e, &agg, 1), 0);
    fx_free(&f);
}
END_TEST

START_TEST(invariant_shipped_within_ordered)
{
    fx f;

    fx_setup(&f);
    good();
    agg.lines[0].shipped = 3;
    refused(&f, "shipped exceeds ordered");
    fx_free(&f);
}
END_TEST

START_TEST(invariant_landed_within_shipped)
{
    fx f;

    fx_setup(&f);
    good();
    agg.lines[0].lost = 1;
    refused(&f, "delivered, lost and back exceed shipped");
    fx_free(&f);
}
END_TEST

START_TEST(invariant_returned_within_delivered)
{
    fx f;

    fx_setup(&f);
    good();
    agg.lines[1].delivered = 0;
    agg.lines[1].returned = 1;
    refused(&f, "returned exceeds delivered");
    fx_free(&f);
}
END_TEST

START_TEST(invariant_restocked_within_returned)
{
    fx f;

    fx_setup(&f);
    good();
    agg.lines[0].returned = 1;
    agg.lines[0].restocked = 2;
    refused(&f, "restocked exceeds returned");
    fx_free(&f);
}
END_TEST

START_TEST(invariant_line_refund_within_its_cost)
{
    fx f;

    fx_setup(&f);
    good();
    agg.refunded = 1500;
    agg.lines[1].refunded = 1500;
    refused(&f, "refunded exceeds what the line cost");
    fx_free(&f);
}
END_TEST

START_TEST(invariant_lines_share_the_order_refund)
{
    fx f;

    fx_setup(&f);
    good();
    agg.refunded = 500;
    refused(&f, "its lines were refunded 0, the order 500");
    fx_free(&f);
}
END_TEST

START_TEST(invariant_refund_within_captured)
{
    fx f;

    fx_setup(&f);
    good();
    agg.captured = 0;
    agg.refunded = 100;
    agg.lines[0].refunded = 100;
    refused(&f, "refunded 100 exceeds captured 0");
    fx_free(&f);
}
END_TEST

START_TEST(invariant_returns_claim_within_delivered)
{
    fx f;

    fx_setup(&f);
    good();
    agg.n_ret = 2;
    agg.ret[0].state = agg.ret[1].state = ORDERLY_RETURN_REQUESTED;
    agg.n_rlines = 2;
    agg.rlines[0] = agg.rlines[1] = (struct orderly__ret_line){ 1, 1 };
    agg.ret[0].rl_first = 0;
    agg.ret[1].rl_first = 1;
    agg.ret[0].rl_n = agg.ret[1].rl_n = 1;
    refused(&f, "returns claim more than was delivered");
    agg.ret[1].state = ORDERLY_RETURN_CANCELLED;
    ck_assert_int_eq(orderly__check_invariants(f.e, &agg, 1), 0);
    agg.rlines[1].line = 2;
    refused(&f, "names a line the order does not have");
    agg.rlines[1].line = 1;
    agg.ret[1].rl_n = 2;
    refused(&f, "names lines it does not hold");
    fx_free(&f);
}
END_TEST

START_TEST(invariant_closed_order_keeps_no_money)
{
    fx f;

    fx_setup(&f);
    good();
    agg.order_state = ORDERLY_ORDER_CANCELLED;
    agg.lines[0].shipped = agg.lines[0].delivered = 0;
    agg.lines[1].shipped = agg.lines[1].delivered = 0;
    agg.lines[0].state = agg.lines[1].state = ORDERLY_RESERVATION_RELEASED;
    refused(&f, "closed but keeps 2000");
    /* not before the command's compensations ran: only at commit */
    ck_assert_int_eq(orderly__check_invariants(f.e, &agg, 0), 0);
    /* a capture in flight is refunded when it lands */
    agg.settle_on_capture = 1;
    ck_assert_int_eq(orderly__check_invariants(f.e, &agg, 1), 0);
    agg.settle_on_capture = 0;
    agg.refunded = 2000;
    agg.lines[0].refunded = 1000;
    agg.lines[1].refunded = 1000;
    ck_assert_int_eq(orderly__check_invariants(f.e, &agg, 1), 0);
    agg.lines[0].state = ORDERLY_RESERVATION_CONFIRMED;
    refused(&f, "still held");
    fx_free(&f);
}
END_TEST

/* A record from before format 3 reads with its counters derived from its
 * parts' states, so its next command passes the invariants. */
START_TEST(format2_record_derives_its_counters)
{
    fx f;
    static uint8_t b3[ORDERLY__ROOM_BYTES], b2[ORDERLY__ROOM_BYTES], tmp[ORDERLY__ROOM_BYTES];
    static struct orderly__agg back;
    static struct orderly__agg_room rb;
    size_t len, head, line_len[2], n, at, w, i;

    fx_setup(&f);
    orderly__agg_in_room(&back, &rb);
    good();
    agg.refunded = 1200;
    agg.n_ship = 2;
    agg.ship[0].state = ORDERLY_SHIPMENT_DELIVERED;
    agg.ship[1].state = ORDERLY_SHIPMENT_RETURNED_TO_ORIGIN;
    agg.ship[1].warehouse = 1;
    agg.lines[1].warehouse = 1;
    for (i = 0; i < 2; i++) /* format 2 had no counters */
        memset(&agg.lines[i].shipped, 0,
               sizeof agg.lines[i] - offsetof(struct orderly__line, shipped));
    /* the encoding is head (with the line count), lines, parts: measure
     * each line by encoding fewer of them (the parts do not depend on them) */
    len = orderly__agg_encode(&agg, b3, sizeof b3);
    agg.n_lines = 1;
    n = orderly__agg_encode(&agg, tmp, sizeof tmp);
    line_len[1] = len - n;
    agg.n_lines = 0;
    line_len[0] = n - orderly__agg_encode(&agg, tmp, sizeof tmp);
    agg.n_ship = 0;
    head = orderly__agg_encode(&agg, tmp, sizeof tmp) - 3; /* less three empty part lists */
    memcpy(b2, b3, head);
    b2[0] = 2;
    w = head;
    at = head;
    for (i = 0; i < 2; i++) {
        ck_assert_uint_eq(b3[at + line_len[i] - 1], 0);  /* the empty counters */
        memcpy(b2 + w, b3 + at, line_len[i] - 1);
        w += line_len[i] - 1;
        at += line_len[i];
    }
    memcpy(b2 + w, b3 + at, len - at);
    w += len - at;
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", b2, w), 0);
    ck_assert_uint_eq(back.lines[0].shipped, 2);
    ck_assert_uint_eq(back.lines[0].delivered, 2);
    ck_assert_uint_eq(back.lines[1].shipped, 1);
    ck_assert_uint_eq(back.lines[1].shipment, 1);
    ck_assert_uint_eq(back.lines[1].back, 1);
    ck_assert_uint_eq(back.lines[1].restocked, 1);
    ck_assert_int_eq(back.lines[0].refunded, 1000);
    ck_assert_int_eq(back.lines[1].refunded, 200);
    ck_assert_int_eq(orderly__check_invariants(f.e, &back, 1), 0);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-lines");

    orderly_test_case(s, delivered_lines_count_their_units, 0);
    orderly_test_case(s, new_order_reserves_every_unit, 0);
    orderly_test_case(s, lost_and_returned_parcels_count_their_lines, 0);
    orderly_test_case(s, partial_return_restocks_only_its_units, 0);
    orderly_test_case(s, two_partial_returns_never_restock_more_than_delivered, 0);
    orderly_test_case(s, live_return_claims_its_units, 0);
    orderly_test_case(s, exchange_restocks_nothing, 0);
    orderly_test_case(s, rejected_return_gives_its_units_back, 0);
    orderly_test_case(s, adjustment_bounded_by_the_lines_value, 0);
    orderly_test_case(s, return_spec_checked, 0);
    orderly_test_case(s, return_lines_idempotent, 0);
    orderly_test_case(s, amount_only_return_restocks_nothing, 0);
    orderly_test_case(s, refund_goes_to_the_returned_line, 0);
    orderly_test_case(s, payment_refund_is_shared_over_lines, 0);
    orderly_test_case(s, parcel_back_at_origin_refunds_only_its_lines, 0);
    orderly_test_case(s, parcel_back_first_then_delivery, 0);
    orderly_test_case(s, every_parcel_back_returns_the_order, 0);
    orderly_test_case(s, lost_parcel_refunds_its_lines, 0);
    orderly_test_case(s, every_parcel_lost_closes_the_order_refunded, 0);
    orderly_test_case(s, invariants_hold_for_a_good_order, 0);
    orderly_test_case(s, invariant_shipped_within_ordered, 0);
    orderly_test_case(s, invariant_landed_within_shipped, 0);
    orderly_test_case(s, invariant_returned_within_delivered, 0);
    orderly_test_case(s, invariant_restocked_within_returned, 0);
    orderly_test_case(s, invariant_line_refund_within_its_cost, 0);
    orderly_test_case(s, invariant_lines_share_the_order_refund, 0);
    orderly_test_case(s, invariant_refund_within_captured, 0);
    orderly_test_case(s, invariant_returns_claim_within_delivered, 0);
    orderly_test_case(s, invariant_closed_order_keeps_no_money, 0);
    orderly_test_case(s, format2_record_derives_its_counters, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
