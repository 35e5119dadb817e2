/* The per-order limits an engine is configured with (max_lines,
 * max_parts): checked at open, enforced on new orders, returns and on
 * orders another engine stored; and a return's lines read one by one,
 * whatever the order's size. */
#include "fixture.h"

static int open_with(fx *f, orderly_ctx *ctx)
{
    orderly_engine *e = NULL;
    int rc = orderly_engine_open(&e, &f->o, ctx);

    orderly_engine_close(e);
    return rc;
}

/* Lines in n warehouses (line i in warehouse i % warehouses + 1). */
static int create_lines(fx *f, const char *id, size_t n, uint32_t warehouses)
{
    static orderly_line lines[ORDERLY_LINES_MAX + 1];
    orderly_order_spec s;
    orderly_result r = ORDERLY_RESULT_INIT;
    size_t i;

    ck_assert_uint_le(n, ORDERLY_LINES_MAX + 1);
    for (i = 0; i < n; i++) {
        lines[i].sku = 1000 + i;
        lines[i].warehouse = (uint32_t)(i % warehouses) + 1;
        lines[i].quantity = 1;
        lines[i].unit_price = 100;
    }
    memset(&s, 0, sizeof s);
    s.order_id = id;
    s.currency = "EUR";
    s.payment_method = ORDERLY_PAY_CARD;
    s.lines = lines;
    s.n_lines = n;
    s.now = T0;
    return orderly_engine_create_order(f->e, &s, &r);
}

START_TEST(limits_over_the_hard_maximum_refused_at_open)
{
    orderly_ctx *ctx = NULL;
    fx f;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    fx_init(&f);
    f.o.max_lines = ORDERLY_LINES_MAX + 1;
    ck_assert_int_eq(open_with(&f, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "max_lines"));
    f.o.max_lines = ORDERLY_LINES_MAX;
    f.o.max_parts = ORDERLY_PARTS_MAX + 1;
    ck_assert_int_eq(open_with(&f, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "max_parts"));
    f.o.max_parts = ORDERLY_PARTS_MAX;
    ck_assert_int_eq(open_with(&f, ctx), 0);
    f.o.max_lines = 1;
    f.o.max_parts = 1;
    ck_assert_int_eq(open_with(&f, ctx), 0);
    orderly_ctx_free(ctx);
    fx_free(&f);
}
END_TEST

START_TEST(limits_default_to_the_default_lines_and_the_parts_maximum)
{
    orderly_engine_options o;
    fx f;

    ck_assert_int_eq(orderly_engine_options_init(&o, ORDERLY_ENGINE_OPTIONS_VERSION), 0);
    ck_assert_uint_eq(o.max_lines, 0);
    ck_assert_uint_eq(o.max_parts, 0);
    fx_setup(&f);
    ck_assert_int_eq(create_lines(&f, "full", ORDERLY_LINES_DEFAULT, ORDERLY_PARTS_MAX), 0);
    ck_assert_int_eq(create_lines(&f, "over", ORDERLY_LINES_DEFAULT + 1, 1), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "max_lines"));
    ck_assert_int_eq(create_lines(&f, "spread", ORDERLY_PARTS_MAX + 1, ORDERLY_PARTS_MAX + 1),
                     ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "max_parts"));
    fx_free(&f);
}
END_TEST

/* Version 2 and 3 options end before max_lines: whatever lies there is
 * not read. */
START_TEST(older_options_get_the_defaults)
{
    unsigned int version;
    fx f;

    for (version = 2; version <= 3; version++) {
        fx_init(&f);
        f.o.version = version;
        f.o.max_lines = ORDERLY_LINES_MAX + 100;
        f.o.max_parts = 1;
        fx_open(&f);
        ck_assert_int_eq(create_lines(&f, "full", ORDERLY_LINES_DEFAULT, ORDERLY_PARTS_MAX), 0);
        ck_assert_int_eq(create_lines(&f, "over", ORDERLY_LINES_DEFAULT + 1, 1), ORDERLY_EINVAL);
        fx_free(&f);
    }
}
END_TEST

START_TEST(order_over_max_lines_refused)
{
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    fx f;

    fx_init(&f);
    f.o.max_lines = 4;
    fx_open(&f);
    ck_assert_int_eq(create_lines(&f, "five", 5, 1), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "1..4 lines"));
    ck_assert_int_eq(orderly_engine_get_order(f.e, "five", &v), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(create_lines(&f, "four", 4, 1), 0);
    ck_assert_uint_eq(view(&f, "four").n_lines, 4);
    fx_free(&f);
}
END_TEST

START_TEST(order_over_max_parts_warehouses_refused)
{
    fx f;

    fx_init(&f);
    f.o.max_parts = 2;
    fx_open(&f);
    ck_assert_int_eq(create_lines(&f, "three", 3, 3), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "more than 2 warehouses"));
    ck_assert_int_eq(create_lines(&f, "two", 3, 2), 0);
    ck_assert_uint_eq(view(&f, "two").n_fulfillments, 2);
    fx_free(&f);
}
END_TEST

START_TEST(return_over_max_parts_refused)
{
    orderly_result r = ORDERLY_RESULT_INIT;
    uint64_t version;
    uint32_t idx;
    fx f;

    fx_init(&f);
    f.o.max_parts = 2;
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    to_delivered(&f, "o1", T0 + MIN);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 0, "r1", T0 + HOUR, &r), 0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 0, "r2", T0 + HOUR, &r), 0);
    ck_assert_uint_eq(idx, 1);
    version = view(&f, "o1").version;
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 1, 1, 0, "r3", T0 + HOUR, &r),
                     ORDERLY_EINVARIANT);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "max_parts"));
    ck_assert_uint_eq(view(&f, "o1").version, version);
    fx_free(&f);
}
END_TEST

/* An engine configured lower than the one that stored an order refuses
 * every command on it, writing nothing; it cannot hold the lines to show
 * them either, and says which limit to raise. */
static void stored_order_refused(size_t which)
{
    orderly_transport *tr2 = NULL;
    orderly_engine *b = NULL;
    orderly_engine_options o2;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_command c;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint64_t version;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    version = view(&f, "o1").version;
    ck_assert_int_eq(orderly_memory_transport_new(&tr2, NULL), 0);
    o2 = f.o;
    o2.transport = tr2;
    if (which == 0)
        o2.max_lines = 1;
    else
        o2.max_parts = 1;
    ck_assert_int_eq(orderly_engine_open(&b, &o2, NULL), 0);
    memset(&c, 0, sizeof c);
    c.order_id = "o1";
    c.machine = ORDERLY_MACHINE_PAYMENT;
    c.event = ORDERLY_PAYMENT_EV_AUTHORIZE;
    c.amount = TOTAL;
    c.now = T0 + MIN;
    ck_assert_int_eq(orderly_engine_apply(b, &c, &r), ORDERLY_ENOTSUPPORTED);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(b), which == 0 ? "max_lines 1" : "max_parts 1"));
    if (which == 0) {
        ck_assert_int_eq(orderly_engine_get_order(b, "o1", &v), ORDERLY_ENOTSUPPORTED);
        ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(b), "max_lines 1"));
    } else {
        ck_assert_int_eq(orderly_engine_get_order(b, "o1", &v), 0);
        ck_assert_uint_eq(v.version, version);
        ck_assert_int_eq(v.order_state, ORDERLY_ORDER_PENDING);
    }
    ck_assert_uint_eq(view(&f, "o1").version, version);
    /* the engine that can hold it goes on */
    authorize_ok(&f, "o1", T0 + MIN);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CONFIRMED);
    orderly_engine_close(b);
    orderly_memory_transport_free(tr2);
    fx_free(&f);
}

START_TEST(stored_order_over_max_lines_refused)
{
    stored_order_refused(0);
}
END_TEST

START_TEST(stored_order_over_max_parts_refused)
{
    stored_order_refused(1);
}
END_TEST

static void count_parked(const orderly_alert *a, void *ud)
{
    if (a->kind == ORDERLY_ALERT_ROW_PARKED && a->queue == ORDERLY_QUEUE_TIMERS &&
        strstr(a->message, "limits") != NULL)
        ++*(int *)ud;
}

/* A deadline of an order over an engine's limits is not that engine's to
 * drop: it waits for an engine configured for the order. */
static void deadline_left(int exhaust)
{
    orderly_transport *tr2 = NULL;
    orderly_engine *b = NULL;
    orderly_engine_options o2;
    orderly_time_ms due;
    size_t fired = 9;
    int parked = 0, k;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    due = T0 + f.policy.reservation_ttl;
    ck_assert_int_eq(orderly_memory_transport_new(&tr2, NULL), 0);
    o2 = f.o;
    o2.transport = tr2;
    o2.max_lines = 1;
    o2.on_alert = count_parked;
    o2.alert_user_data = &parked;
    ck_assert_int_eq(orderly_engine_open(&b, &o2, NULL), 0);
    ck_assert_int_eq(orderly_engine_tick(b, due, 0, &fired), 0);
    ck_assert_uint_eq(fired, 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_int_eq(parked, 0);
    if (exhaust) {
        for (k = 1; k <= (int)f.policy.operation_max_attempts + 1; k++)
            ck_assert_int_eq(orderly_engine_tick(b, due + k * DAY, 0, &fired), 0);
        ck_assert_int_gt(parked, 0);
        ck_assert_uint_eq(health(&f, due + 30 * DAY).timers_due, 0);
        ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    } else {
        /* past the retry delay (at most backoff_max), before any other deadline */
        tick(&f, due + f.policy.backoff_max + MIN);
        ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
        ck_assert(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0) == ORDERLY_RESERVATION_EXPIRED ||
                  part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1) == ORDERLY_RESERVATION_EXPIRED);
    }
    orderly_engine_close(b);
    orderly_memory_transport_free(tr2);
    fx_free(&f);
}

START_TEST(deadline_of_order_over_limits_waits_for_an_engine_that_fits)
{
    deadline_left(0);
}
END_TEST

START_TEST(deadline_of_order_over_limits_parked_once_its_attempts_are_spent)
{
    deadline_left(1);
}
END_TEST

START_TEST(return_lines_read_by_index)
{
    orderly_return_line two[2] = { { 0, 1 }, { 1, 1 } }, got;
    orderly_return_spec rs = ORDERLY_RETURN_SPEC_INIT;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    to_delivered(&f, "o1", T0 + MIN);
    rs.order_id = "o1";
    rs.lines = two;
    rs.n_lines = 2;
    rs.now = T0 + HOUR;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), 0);
    ck_assert_int_eq(orderly_engine_get_return_line(f.e, "o1", idx, 0, &got), 0);
    ck_assert_uint_eq(got.line, 0);
    ck_assert_uint_eq(got.quantity, 1);
    ck_assert_int_eq(orderly_engine_get_return_line(f.e, "o1", idx, 1, &got), 0);
    ck_assert_uint_eq(got.line, 1);
    ck_assert_uint_eq(got.quantity, 1);
    ck_assert_int_eq(orderly_engine_get_return_line(f.e, "o1", idx, 2, &got), ORDERLY_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "names 2 lines"));
    ck_assert_int_eq(orderly_engine_get_return_line(f.e, "o1", idx + 1, 0, &got), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(orderly_engine_get_return_line(f.e, "nope", 0, 0, &got), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(orderly_engine_get_return_line(f.e, "o1", idx, 0, NULL), ORDERLY_EINVAL);
    /* a return by amount names no line */
    ck_assert_int_eq(orderly_engine_open_return(f.e, &idx, "o1", 100, 0, "by-amount", T0 + HOUR, &r), 0);
    ck_assert_int_eq(orderly_engine_get_return_line(f.e, "o1", idx, 0, &got), ORDERLY_ENOTFOUND);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-limits");

    orderly_test_case(s, limits_over_the_hard_maximum_refused_at_open, 0);
    orderly_test_case(s, limits_default_to_the_default_lines_and_the_parts_maximum, 0);
    orderly_test_case(s, older_options_get_the_defaults, 0);
    orderly_test_case(s, order_over_max_lines_refused, 0);
    orderly_test_case(s, order_over_max_parts_warehouses_refused, 0);
    orderly_test_case(s, return_over_max_parts_refused, 0);
    orderly_test_case(s, stored_order_over_max_lines_refused, 0);
    orderly_test_case(s, stored_order_over_max_parts_refused, 0);
    orderly_test_case(s, deadline_of_order_over_limits_waits_for_an_engine_that_fits, 0);
    orderly_test_case(s, deadline_of_order_over_limits_parked_once_its_attempts_are_spent, 0);
    orderly_test_case(s, return_lines_read_by_index, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
