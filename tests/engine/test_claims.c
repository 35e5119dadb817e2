/*
 * Claims (issue 14): a lost parcel opens a claim of its shipment's index,
 * resolved by a refund of the parcel's units or by a reship operation for
 * them, as policy.claim_resolution says, or by the host's own choice; never
 * both; then closed.
 */
#include "fixture.h"
#include "orderly/claim.h"
#include "../../lib/engine/aggregate.h"
#include "../../lib/engine/internal.h"

static void setup_with(fx *f, uint32_t resolution)
{
    fx_init(f);
    f->policy.claim_resolution = resolution;
    fx_open(f);
}

/* Card order o1 captured, both warehouses shipped (parcel 0: line 0, 2 x
 * 500 from warehouse 1; parcel 1: line 1, 1 x 1000 from warehouse 2). */
static void shipped_both(fx *f)
{
    create_ok(f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(f, "o1", T0 + 1000);
    capture_ok(f, "o1", T0 + 2000);
    ship_ful(f, "o1", 0, T0 + 3000);
    ship_ful(f, "o1", 1, T0 + 4000);
}

static void lose(fx *f, uint32_t i, orderly_time_ms t)
{
    APPLY_OK(f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, i, 0, t);
    APPLY_OK(f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_LOSE, i, 0, t);
}

#define LATE 1 /* the claim is past the event: ignored, as a redelivery is */

/* A claim command: 0 applied, LATE ignored, or the error. */
static int claim_cmd(fx *f, int event, uint32_t i)
{
    orderly_result r = ORDERLY_RESULT_INIT;
    int rc = apply(f, "o1", ORDERLY_MACHINE_CLAIM, event, i, 0, T0 + 9000, &r);

    return rc < 0 ? rc : r.late ? LATE : 0;
}

/* The default policy refunds: the claim opens and is refunded in the same
 * command, the parcel's 1000 goes back, nothing is reshipped. */
START_TEST(default_policy_refunds_the_lost_parcel)
{
    fx f;
    orderly_part_view p = ORDERLY_PART_VIEW_INIT;

    fx_setup(&f);
    ck_assert_uint_eq(f.policy.claim_resolution, ORDERLY_CLAIM_BY_REFUND);
    shipped_both(&f);
    lose(&f, 0, T0 + 5000);
    ck_assert_int_eq(orderly_engine_get_part(f.e, "o1", ORDERLY_MACHINE_CLAIM, 0, &p), 0);
    ck_assert_int_eq(p.state, ORDERLY_CLAIM_REFUNDED);
    ck_assert_uint_eq(p.warehouse, 1);
    ck_assert_int_eq(p.since, T0 + 5000);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    ck_assert_int_eq(line_view(&f, "o1", 0).refunded, 1000);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESHIP, NULL), 0);
    deliver_ship(&f, "o1", 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    fx_free(&f);
}
END_TEST

/* Reship policy: one reship operation naming the parcel's line and units,
 * no refund; the order is delivered with its other parcel. */
START_TEST(reship_policy_reships_and_never_refunds)
{
    fx f;
    operation_rec op;

    setup_with(&f, ORDERLY_CLAIM_BY_RESHIP);
    shipped_both(&f);
    lose(&f, 0, T0 + 5000);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_CLAIM, 0), ORDERLY_CLAIM_RESHIPPING);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESHIP, &op), 1);
    ck_assert_uint_eq(op.n_lines, 1);
    ck_assert_uint_eq(op.sku[0], 101);
    ck_assert_uint_eq(op.warehouse[0], 1);
    ck_assert_uint_eq(op.quantity[0], 2);
    ck_assert_int_eq(op.amount, 1000);
    ck_assert_int_eq(view(&f, "o1").refunded, 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 0);
    ck_assert_uint_eq(line_view(&f, "o1", 0).lost, 2);
    ck_assert_int_eq(line_view(&f, "o1", 0).refunded, 0);
    /* the claim can no longer be refunded: a refund is ignored as late */
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_REFUND, 0), LATE);
    ck_assert_int_eq(view(&f, "o1").refunded, 0);
    deliver_ship(&f, "o1", 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    ck_assert_int_eq(view(&f, "o1").refunded, 0);
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_CLOSE, 0), 0);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_CLAIM, 0), ORDERLY_CLAIM_CLOSED);
    fx_free(&f);
}
END_TEST

/* Reship policy, every parcel lost: nothing is refunded and the order is
 * not closed as returned to origin; it waits for the reshipments. */
START_TEST(reship_policy_every_parcel_lost_keeps_the_order_open)
{
    fx f;

    setup_with(&f, ORDERLY_CLAIM_BY_RESHIP);
    shipped_both(&f);
    lose(&f, 0, T0 + 5000);
    lose(&f, 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_int_eq(view(&f, "o1").refunded, 0);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_CAPTURED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESHIP, NULL), 2);
    fx_free(&f);
}
END_TEST

/* Host policy: the claim waits opened; the order does not move until the
 * host decides. Refunding then does what the refund policy does. */
START_TEST(host_policy_waits_for_the_hosts_refund)
{
    fx f;

    setup_with(&f, ORDERLY_CLAIM_BY_HOST);
    shipped_both(&f);
    lose(&f, 0, T0 + 5000);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_CLAIM, 0), ORDERLY_CLAIM_OPENED);
    ck_assert_int_eq(view(&f, "o1").refunded, 0);
    deliver_ship(&f, "o1", 1, T0 + 6000);
    /* the lost parcel has ended: the order is delivered with the other */
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_REFUND, 0), 0);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_CLAIM, 0), ORDERLY_CLAIM_REFUNDED);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PARTIALLY_REFUNDED);
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_RESHIP, 0), LATE);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESHIP, NULL), 0);
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_CLOSE, 0), 0);
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_CLOSE, 0), LATE);
    fx_free(&f);
}
END_TEST

/* Host policy, every parcel lost: the host's refunds close the order
 * returned to origin, fully refunded, as lost parcels did before. */
START_TEST(host_policy_refunds_of_every_parcel_close_the_order)
{
    fx f;

    setup_with(&f, ORDERLY_CLAIM_BY_HOST);
    shipped_both(&f);
    lose(&f, 0, T0 + 5000);
    lose(&f, 1, T0 + 6000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_REFUND, 0), 0);
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_REFUND, 1), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_RETURNED_TO_ORIGIN);
    ck_assert_int_eq(view(&f, "o1").refunded, TOTAL);
    fx_free(&f);
}
END_TEST

/* Host policy: reshipping records the operation once, whatever redelivers
 * the command. */
START_TEST(host_reship_is_recorded_once)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;

    setup_with(&f, ORDERLY_CLAIM_BY_HOST);
    shipped_both(&f);
    lose(&f, 1, T0 + 5000);
    ck_assert_int_eq(applyk(&f, "o1", ORDERLY_MACHINE_CLAIM, ORDERLY_CLAIM_EV_RESHIP, 1, 0,
                            T0 + 7000, "reship-1", &r), 0);
    ck_assert_int_eq(applyk(&f, "o1", ORDERLY_MACHINE_CLAIM, ORDERLY_CLAIM_EV_RESHIP, 1, 0,
                            T0 + 7000, "reship-1", &r), 0);
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_RESHIP, 1), LATE);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESHIP, NULL), 1);
    ck_assert_int_eq(view(&f, "o1").refunded, 0);
    fx_free(&f);
}
END_TEST

/* A parcel that was not lost has no claim; a lost parcel's loss cannot be
 * redelivered into a second claim. */
START_TEST(only_a_lost_parcel_has_a_claim)
{
    fx f;
    orderly_part_view p = ORDERLY_PART_VIEW_INIT;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    shipped_both(&f);
    ck_assert_int_eq(orderly_engine_get_part(f.e, "o1", ORDERLY_MACHINE_CLAIM, 0, &p),
                     ORDERLY_ENOTFOUND);
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_REFUND, 0), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(claim_cmd(&f, ORDERLY_CLAIM_EV_REFUND, 5), ORDERLY_ENOTFOUND);
    lose(&f, 0, T0 + 5000);
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_LOSE, 0, 0,
                           T0 + 6000, &r), 0);
    ck_assert_uint_eq(r.late, 1);
    ck_assert_int_eq(view(&f, "o1").refunded, 1000);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 1);
    ck_assert_int_eq(orderly_engine_get_part(f.e, "o1", ORDERLY_MACHINE_CLAIM, 1, &p),
                     ORDERLY_ENOTFOUND);
    fx_free(&f);
}
END_TEST

/* claim_resolution outside 1..3 is refused at open; a version-1 policy
 * (which has no such field) gets the refund default. */
START_TEST(claim_resolution_is_checked_at_open)
{
    fx f;
    orderly_ctx *ctx = NULL;
    orderly_engine *e = NULL;
    static const uint32_t bad[] = { 0, 4, 1000 };
    size_t i;

    fx_init(&f);
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f.policy.claim_resolution = bad[i];
        ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), ORDERLY_ECONFIG);
        ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "claim_resolution"));
    }
    f.policy.version = 1;
    f.policy.claim_resolution = 0;
    ck_assert_int_eq(orderly_engine_open(&f.e, &f.o, ctx), 0);
    orderly_ctx_free(ctx);
    shipped_both(&f);
    lose(&f, 0, T0 + 5000);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_CLAIM, 0), ORDERLY_CLAIM_REFUNDED);
    fx_free(&f);
}
END_TEST

/* A record's claims survive encoding; a record without one encodes as
 * before (no tail); a tail naming no claim or a shipment twice is corrupt. */
START_TEST(claims_round_trip_through_the_record)
{
    static struct orderly__agg a, back;
    static struct orderly__agg_room ra, rb;
    static uint8_t buf[ORDERLY__ROOM_BYTES + 16];
    size_t len, bare;

    orderly__agg_in_room(&a, &ra);
    orderly__agg_in_room(&back, &rb);
    memcpy(a.id, "o1", 3);
    memcpy(a.currency, "EUR", 4);
    a.created = T0;
    a.order_since = a.payment_since = a.authorized_at = a.released_at = T0;
    a.n_ship = 2;
    a.ship[0].state = ORDERLY_SHIPMENT_LOST;
    a.ship[0].since = a.ship[1].since = T0;
    a.ship[1].state = ORDERLY_SHIPMENT_DELIVERED;
    bare = orderly__agg_encode(&a, buf, sizeof buf);
    ck_assert_uint_gt(bare, 0);
    a.ship[0].claim = ORDERLY_CLAIM_RESHIPPING;
    a.ship[0].claim_since = T0 + 5;
    len = orderly__agg_encode(&a, buf, sizeof buf);
    ck_assert_uint_gt(len, bare);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, len), 0);
    ck_assert_uint_eq(back.ship[0].claim, ORDERLY_CLAIM_RESHIPPING);
    ck_assert_int_eq(back.ship[0].claim_since, T0 + 5);
    ck_assert_uint_eq(back.ship[1].claim, 0);
    ck_assert_uint_eq(back.ship[0].written_off, 0);
    /* a claim closed after its refund keeps saying so */
    a.ship[0].claim = ORDERLY_CLAIM_CLOSED;
    a.ship[0].written_off = 1;
    len = orderly__agg_encode(&a, buf, sizeof buf);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, len), 0);
    ck_assert_uint_eq(back.ship[0].claim, ORDERLY_CLAIM_CLOSED);
    ck_assert_uint_eq(back.ship[0].written_off, 1);
    a.ship[0].claim = ORDERLY_CLAIM_RESHIPPING;
    a.ship[0].written_off = 0;
    /* the claims section cut to "0 claims" */
    buf[bare + 1] = 0;
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, bare + 2), ORDERLY_ESTORAGE);
    /* two claims for shipment 0 */
    len = orderly__agg_encode(&a, buf, sizeof buf);
    buf[bare + 1] = 2;
    buf[len] = 0;
    buf[len + 1] = ORDERLY_CLAIM_OPENED;
    buf[len + 2] = 0;
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, len + 3), ORDERLY_ESTORAGE);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-claims");

    orderly_test_case(s, default_policy_refunds_the_lost_parcel, 0);
    orderly_test_case(s, reship_policy_reships_and_never_refunds, 0);
    orderly_test_case(s, reship_policy_every_parcel_lost_keeps_the_order_open, 0);
    orderly_test_case(s, host_policy_waits_for_the_hosts_refund, 0);
    orderly_test_case(s, host_policy_refunds_of_every_parcel_close_the_order, 0);
    orderly_test_case(s, host_reship_is_recorded_once, 0);
    orderly_test_case(s, only_a_lost_parcel_has_a_claim, 0);
    orderly_test_case(s, claim_resolution_is_checked_at_open, 0);
    orderly_test_case(s, claims_round_trip_through_the_record, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
