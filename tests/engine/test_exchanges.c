/*
 * Exchanges open a linked replacement (issue 14): a completed exchange's
 * replacement order has an id derived from the return, holds the
 * exchanged units, names its original, and is named by the exchange;
 * opening it again opens no second order; the original restocks nothing.
 */
#include "fixture.h"
#include "../../lib/engine/aggregate.h"
#include "../../lib/engine/internal.h"

/* o1 delivered; return `idx` an exchange of `units` of line 0 (500 each),
 * walked to completed unless `stop` names an earlier event. */
static uint32_t exchanged(fx *f, uint32_t units, int stop)
{
    static const int steps[] = { ORDERLY_RETURN_EV_APPROVE, ORDERLY_RETURN_EV_RECEIVE,
                                 ORDERLY_RETURN_EV_INSPECT, ORDERLY_RETURN_EV_EXCHANGE };
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 9;
    size_t i;

    to_delivered(f, "o1", T0);
    ck_assert_int_eq(open_return_units(f, &idx, "o1", 0, units, 1, NULL, T0 + HOUR, &r), 0);
    for (i = 0; i < sizeof steps / sizeof steps[0] && steps[i] != stop; i++)
        APPLY_OK(f, "o1", ORDERLY_MACHINE_RETURN, steps[i], idx, 0, T0 + HOUR);
    return idx;
}

static int open_repl(fx *f, const char *order, uint32_t idx, orderly_result *r)
{
    return orderly_engine_open_replacement(f->e, order, idx, T0 + 2 * HOUR, r);
}

/* The replacement holds the exchanged unit at its price, pending, and the
 * two orders name each other; the original restocks and refunds nothing. */
START_TEST(exchange_opens_a_linked_replacement)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_part_view p = ORDERLY_PART_VIEW_INIT;
    uint32_t idx;

    fx_setup(&f);
    idx = exchanged(&f, 1, 0);
    ck_assert_int_eq(orderly_engine_get_part(f.e, "o1", ORDERLY_MACHINE_RETURN, idx, &p), 0);
    ck_assert_str_eq(p.replacement, "o1.x0");
    ck_assert_int_eq(open_repl(&f, "o1", idx, &r), 0);
    ck_assert_uint_eq(r.duplicate, 0);
    ck_assert_int_eq(r.order_state, ORDERLY_ORDER_PENDING);
    ck_assert_int_eq(orderly_engine_get_order(f.e, "o1.x0", &v), 0);
    ck_assert_str_eq(v.replacement_of, "o1");
    ck_assert_int_eq(v.order_state, ORDERLY_ORDER_PENDING);
    ck_assert_int_eq(v.payment_state, ORDERLY_PAYMENT_PENDING);
    ck_assert_str_eq(v.currency, "EUR");
    ck_assert_int_eq(v.total, 500);
    ck_assert_uint_eq(v.n_lines, 1);
    ck_assert_uint_eq(line_view(&f, "o1.x0", 0).sku, 101);
    ck_assert_uint_eq(line_view(&f, "o1.x0", 0).quantity, 1);
    ck_assert_uint_eq(line_view(&f, "o1.x0", 0).reserved, 1);
    ck_assert_int_eq(orderly_engine_get_order(f.e, "o1", &v), 0);
    ck_assert_str_eq(v.replacement_of, "");
    ck_assert_int_eq(v.refunded, 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, NULL), 0);
    fx_free(&f);
}
END_TEST

/* Opening it again (a redelivered request) returns the first result and
 * leaves one order. */
START_TEST(redelivery_never_opens_two)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    uint32_t idx;
    uint64_t version;

    fx_setup(&f);
    idx = exchanged(&f, 2, 0);
    ck_assert_int_eq(open_repl(&f, "o1", idx, &r), 0);
    ck_assert_int_eq(orderly_engine_get_order(f.e, "o1.x0", &v), 0);
    version = v.version;
    ck_assert_int_eq(open_repl(&f, "o1", idx, &r), 0);
    ck_assert_uint_eq(r.duplicate, 1);
    ck_assert_int_eq(orderly_engine_get_order(f.e, "o1.x0", &v), 0);
    ck_assert_uint_eq(v.version, version);
    ck_assert_int_eq(v.total, 1000);
    ck_assert_int_eq(orderly_engine_get_order(f.e, "o1.x1", &v), ORDERLY_ENOTFOUND);
    fx_free(&f);
}
END_TEST

/* Only a completed exchange has a replacement. */
START_TEST(only_a_completed_exchange_opens_one)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_part_view p = ORDERLY_PART_VIEW_INIT;
    uint32_t idx;

    fx_setup(&f);
    idx = exchanged(&f, 1, ORDERLY_RETURN_EV_EXCHANGE); /* inspected, not exchanged yet */
    ck_assert_int_eq(open_repl(&f, "o1", idx, &r), ORDERLY_ETRANSITION);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "not a completed exchange"));
    ck_assert_int_eq(orderly_engine_get_part(f.e, "o1", ORDERLY_MACHINE_RETURN, idx, &p), 0);
    ck_assert_str_eq(p.replacement, "");
    ck_assert_int_eq(open_repl(&f, "o1", idx + 1, &r), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(open_repl(&f, "nope", 0, &r), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(open_repl(&f, "", 0, &r), ORDERLY_EINVAL);
    fx_free(&f);
}
END_TEST

/* A refunded return is no exchange. */
START_TEST(a_refunded_return_opens_none)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 9;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 0, NULL, t, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, idx, 0, t);
    ck_assert_int_eq(open_repl(&f, "o1", idx, &r), ORDERLY_ETRANSITION);
    fx_free(&f);
}
END_TEST

/* The derivation: readable while it fits, a fixed-length hash past it;
 * one id per (order, return), different for different returns. */
START_TEST(replacement_ids_are_derived_from_the_return)
{
    char a[ORDERLY_ID_MAX + 1], b[ORDERLY_ID_MAX + 1], long_id[ORDERLY_ID_MAX + 1];

    ck_assert_int_eq(orderly_replacement_id(a, "o1", 0), 0);
    ck_assert_str_eq(a, "o1.x0");
    ck_assert_int_eq(orderly_replacement_id(a, "o1", 7), 0);
    ck_assert_str_eq(a, "o1.x7");
    memset(long_id, 'k', ORDERLY_ID_MAX);
    long_id[ORDERLY_ID_MAX] = '\0';
    ck_assert_int_eq(orderly_replacement_id(a, long_id, 0), 0);
    ck_assert_uint_eq(strlen(a), 34);
    ck_assert_int_eq(strncmp(a, "x.", 2), 0);
    ck_assert_uint_eq(strspn(a + 2, "0123456789abcdef"), 32);
    ck_assert_int_eq(orderly_replacement_id(b, long_id, 0), 0);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(orderly_replacement_id(b, long_id, 1), 0);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(orderly_replacement_id(a, "", 0), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_replacement_id(a, "has space", 0), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_replacement_id(a, NULL, 0), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_replacement_id(NULL, "o1", 0), ORDERLY_EINVAL);
}
END_TEST

/* replacement_of survives the record; a tail out of tag order or with an
 * id that is no id is corrupt. */
START_TEST(replacement_of_round_trips_through_the_record)
{
    static struct orderly__agg a, back;
    static struct orderly__agg_room ra, rb;
    static uint8_t buf[ORDERLY__ROOM_BYTES + 16];
    size_t len, bare;

    orderly__agg_in_room(&a, &ra);
    orderly__agg_in_room(&back, &rb);
    memcpy(a.id, "o1.x0", 6);
    memcpy(a.currency, "EUR", 4);
    a.created = a.order_since = a.payment_since = a.authorized_at = a.released_at = T0;
    bare = orderly__agg_encode(&a, buf, sizeof buf);
    memcpy(a.replacement_of, "o1", 3);
    len = orderly__agg_encode(&a, buf, sizeof buf);
    ck_assert_uint_eq(len, bare + 4);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1.x0", buf, len), 0);
    ck_assert_str_eq(back.replacement_of, "o1");
    buf[bare + 2] = ' ';
    ck_assert_int_eq(orderly__agg_decode(&back, "o1.x0", buf, len), ORDERLY_ESTORAGE);
    buf[bare + 2] = 'o';
    buf[bare] = 3; /* no such section */
    ck_assert_int_eq(orderly__agg_decode(&back, "o1.x0", buf, len), ORDERLY_ESTORAGE);
    buf[bare] = 2;
    /* the same section twice */
    memcpy(buf + len, buf + bare, 4);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1.x0", buf, len + 4), ORDERLY_ESTORAGE);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-exchanges");

    orderly_test_case(s, exchange_opens_a_linked_replacement, 0);
    orderly_test_case(s, redelivery_never_opens_two, 0);
    orderly_test_case(s, only_a_completed_exchange_opens_one, 0);
    orderly_test_case(s, a_refunded_return_opens_none, 0);
    orderly_test_case(s, replacement_ids_are_derived_from_the_return, 0);
    orderly_test_case(s, replacement_of_round_trips_through_the_record, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
