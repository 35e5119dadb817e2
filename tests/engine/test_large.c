/* Orders of hundreds and thousands of lines (B2B): created, paid,
 * shipped per warehouse, returned by line and cancelled, with every line
 * counted and every event and operation carrying all of its lines. */
#include "fixture.h"

#define PRICE 100

static orderly_line big_lines[ORDERLY_LINES_MAX];

/* An engine for orders of up to max_lines lines. */
static void open_large(fx *f, uint32_t max_lines)
{
    fx_init(f);
    f->o.max_lines = max_lines;
    fx_open(f);
}

/* n lines of 2 units each, line i in warehouse i % warehouses + 1. */
static int64_t create_large(fx *f, const char *id, uint32_t n, uint32_t warehouses)
{
    orderly_order_spec s;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t i;

    for (i = 0; i < n; i++)
        big_lines[i] = (orderly_line){ 5000 + i, i % warehouses + 1, 2, PRICE };
    memset(&s, 0, sizeof s);
    s.order_id = id;
    s.currency = "EUR";
    s.payment_method = ORDERLY_PAY_CARD;
    s.lines = big_lines;
    s.n_lines = n;
    s.now = T0;
    ck_assert_int_eq(orderly_engine_create_order(f->e, &s, &r), 0);
    return 2 * PRICE * (int64_t)n;
}

static void pay(fx *f, const char *id, int64_t total)
{
    APPLY_OK(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, total, T0 + MIN);
    APPLY_OK(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2 * MIN);
    APPLY_OK(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0, 0, T0 + 2 * MIN);
}

struct lines_seen {
    const char *type;
    uint32_t most;       /* the most lines one event of type carried */
};

static int seen_cb(const orderly_history_entry *h, void *ud)
{
    struct lines_seen *s = ud;

    if (strcmp(h->type, s->type) == 0 && h->n_lines > s->most)
        s->most = h->n_lines;
    return 0;
}

static uint32_t most_lines(fx *f, const char *id, const char *type)
{
    struct lines_seen s = { type, 0 };

    ck_assert_int_ge(orderly_engine_order_history(f->e, id, 0, 0, seen_cb, &s), 0);
    return s.most;
}

/* The biggest order this build allows is cancelled before it ships: every
 * reservation is released, one event carries every line, and the release
 * operation names every line with its quantity. */
START_TEST(order_of_the_most_lines_is_cancelled_whole)
{
    operation_rec op;
    int64_t total;
    fx f;

    open_large(&f, ORDERLY_LINES_MAX);
    total = create_large(&f, "b2b", ORDERLY_LINES_MAX, ORDERLY_PARTS_MAX);
    ck_assert_uint_eq(view(&f, "b2b").n_lines, ORDERLY_LINES_MAX);
    ck_assert_uint_eq(view(&f, "b2b").n_fulfillments, ORDERLY_PARTS_MAX);
    ck_assert_int_eq(view(&f, "b2b").total, total);
    APPLY_OK(&f, "b2b", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, total, T0 + MIN);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "b2b", NULL, T0 + 2 * MIN, NULL), 0);
    ck_assert_int_eq(view(&f, "b2b").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(part_state(&f, "b2b", ORDERLY_MACHINE_RESERVATION, ORDERLY_LINES_MAX - 1),
                     ORDERLY_RESERVATION_RELEASED);
    ck_assert_uint_eq(most_lines(&f, "b2b", "inventory.reservation.status_changed"), ORDERLY_LINES_MAX);
    ck_assert_uint_eq(count_op(&f, "b2b", ORDERLY_OP_RELEASE_RESERVATIONS, &op), 1);
    ck_assert_uint_eq(op.n_lines, ORDERLY_LINES_MAX);
    ck_assert_uint_eq(op.quantity[0], 2);
    ck_assert(op.sku[15] == 5015);
    pump_all(&f, T0 + 3 * MIN);
    fx_free(&f);
}
END_TEST

/* A 300-line order over three warehouses is delivered, then 200 of its
 * lines come back one unit each: the return lists them in line order, its
 * amount is what they cost, and only those units are restocked. */
START_TEST(order_of_300_lines_returns_200_by_line)
{
    static orderly_return_line rl[200], all[200];
    orderly_return_spec rs = ORDERLY_RETURN_SPEC_INIT;
    size_t n = 0;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_return_line got;
    orderly_part_view p = ORDERLY_PART_VIEW_INIT;
    operation_rec op;
    uint32_t idx = 9, i;
    int64_t total;
    fx f;

    open_large(&f, 300);
    total = create_large(&f, "b2b", 300, 3);
    pay(&f, "b2b", total);
    for (i = 0; i < 3; i++)
        ship_ful(&f, "b2b", i, T0 + HOUR);
    for (i = 0; i < 3; i++)
        deliver_ship(&f, "b2b", i, T0 + DAY);
    ck_assert_int_eq(view(&f, "b2b").order_state, ORDERLY_ORDER_DELIVERED);
    ck_assert_uint_eq(line_view(&f, "b2b", 299).delivered, 2);
    ck_assert_uint_eq(most_lines(&f, "b2b", "inventory.stock.committed"), 300);
    /* named backwards: the return keeps them in line order */
    for (i = 0; i < 200; i++)
        rl[i] = (orderly_return_line){ 299 - i, 1 };
    rs.order_id = "b2b";
    rs.lines = rl;
    rs.n_lines = 200;
    rs.now = T0 + 2 * DAY;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), 0);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(orderly_engine_get_part(f.e, "b2b", ORDERLY_MACHINE_RETURN, 0, &p), 0);
    ck_assert_int_eq(p.amount, 200 * PRICE);
    ck_assert_uint_eq(p.quantity, 200);
    ck_assert_int_eq(orderly_engine_get_return_line(f.e, "b2b", 0, 0, &got), 0);
    ck_assert_uint_eq(got.line, 100);
    ck_assert_int_eq(orderly_engine_get_return_line(f.e, "b2b", 0, 199, &got), 0);
    ck_assert_uint_eq(got.line, 299);
    ck_assert_uint_eq(got.quantity, 1);
    ck_assert_int_eq(orderly_engine_get_return_line(f.e, "b2b", 0, 200, &got), ORDERLY_ENOTFOUND);
    /* all of them in one read; a short array gets what fits and the count */
    ck_assert_int_eq(orderly_engine_get_return_lines(f.e, "b2b", 0, NULL, 0, &n), 0);
    ck_assert_uint_eq(n, 200);
    ck_assert_int_eq(orderly_engine_get_return_lines(f.e, "b2b", 0, all, 200, &n), 0);
    ck_assert_uint_eq(all[0].line, 100);
    ck_assert_uint_eq(all[199].line, 299);
    ck_assert_uint_eq(all[199].quantity, 1);
    all[10].line = 0;
    ck_assert_int_eq(orderly_engine_get_return_lines(f.e, "b2b", 0, all, 10, &n), 0);
    ck_assert_uint_eq(n, 200);
    ck_assert_uint_eq(all[10].line, 0);
    ck_assert_int_eq(orderly_engine_get_return_lines(f.e, "b2b", 1, all, 200, &n), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(orderly_engine_get_return_lines(f.e, "none", 0, all, 200, &n), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(orderly_engine_get_return_lines(f.e, "b2b", 0, NULL, 1, &n), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_get_return_lines(f.e, "b2b", 0, all, 200, NULL), ORDERLY_EINVAL);
    /* a line named twice is refused whatever its number */
    rl[199].line = 101;
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), ORDERLY_EINVAL);
    APPLY_OK(&f, "b2b", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, 0, 0, T0 + 3 * DAY);
    APPLY_OK(&f, "b2b", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, 0, 0, T0 + 4 * DAY);
    ck_assert_uint_eq(line_view(&f, "b2b", 299).returned, 1);
    ck_assert_uint_eq(line_view(&f, "b2b", 99).returned, 0);
    APPLY_OK(&f, "b2b", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, 0, 0, T0 + 4 * DAY);
    APPLY_OK(&f, "b2b", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, 0, 200 * PRICE, T0 + 5 * DAY);
    ck_assert_int_eq(view(&f, "b2b").refunded, 200 * PRICE);
    ck_assert_int_eq(line_view(&f, "b2b", 100).refunded, PRICE);
    ck_assert_int_eq(line_view(&f, "b2b", 99).refunded, 0);
    APPLY_OK(&f, "b2b", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, 0, 0, T0 + 5 * DAY);
    ck_assert_uint_eq(count_op(&f, "b2b", ORDERLY_OP_RESTOCK, &op), 1);
    ck_assert_uint_eq(op.n_lines, 200);
    ck_assert_uint_eq(op.quantity[0], 1);
    ck_assert(op.sku[0] == 5100);
    ck_assert_uint_eq(line_view(&f, "b2b", 100).restocked, 1);
    ck_assert_uint_eq(line_view(&f, "b2b", 99).restocked, 0);
    fx_free(&f);
}
END_TEST

/* The returns of an order name at most 2 x max_lines + 4 x
 * ORDERLY_PARTS_MAX lines in all: one past that is refused, writing
 * nothing. */
START_TEST(returns_naming_too_many_lines_refused)
{
    static orderly_return_line rl[40];
    orderly_return_spec rs = ORDERLY_RETURN_SPEC_INIT;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint64_t version;
    uint32_t idx, i, k, named = 0, cap = 2 * 40 + 4 * ORDERLY_PARTS_MAX;
    char key[16];
    int64_t total;
    fx f;

    open_large(&f, 40);
    total = create_large(&f, "b2b", 40, 1);
    pay(&f, "b2b", total);
    ship_ful(&f, "b2b", 0, T0 + HOUR);
    deliver_ship(&f, "b2b", 0, T0 + DAY);
    rs.order_id = "b2b";
    rs.lines = rl;
    rs.now = T0 + 2 * DAY;
    /* returns of one line each, withdrawn at once, until the lines run out */
    for (k = 0; named + 40 <= cap; k++) {
        for (i = 0; i < 40; i++)
            rl[i] = (orderly_return_line){ i, 1 };
        rs.n_lines = 40;
        /* a new command each time, not a redelivery of the same lines */
        snprintf(key, sizeof key, "r%u", k);
        rs.idem_key = key;
        rs.now = T0 + 2 * DAY + k;
        ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), 0);
        APPLY_OK(&f, "b2b", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_CANCEL, idx, 0, rs.now + 1);
        named += 40;
    }
    ck_assert_uint_gt(k, 0);
    version = view(&f, "b2b").version;
    rs.n_lines = cap - named + 1;
    rs.idem_key = "over";
    ck_assert_int_eq(orderly_engine_open_return_lines(f.e, &idx, &rs, &r), ORDERLY_EINVARIANT);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "more than"));
    ck_assert_uint_eq(view(&f, "b2b").version, version);
    fx_free(&f);
}
END_TEST

/* An inbound envelope addresses any line of a big order by data.index:
 * the bound is the machine's, not a part count. */
START_TEST(envelope_addresses_a_line_past_the_parts_maximum)
{
    orderly_result r = ORDERLY_RESULT_INIT;
    char *env;
    fx f;

    open_large(&f, 300);
    create_large(&f, "b2b", 300, 3);
    env = make_env("wh-200", "reservation.expire", "b2b", "{\"index\":200}");
    ck_assert_int_eq(handle(&f, env, T0 + DAY, &r), 0);
    free(env);
    ck_assert_int_eq(part_state(&f, "b2b", ORDERLY_MACHINE_RESERVATION, 200), ORDERLY_RESERVATION_EXPIRED);
    env = make_env("wh-300", "reservation.expire", "b2b", "{\"index\":300}");
    ck_assert_int_eq(handle(&f, env, T0 + DAY, &r), ORDERLY_ENOTFOUND);
    free(env);
    env = make_env("wh-big", "reservation.expire", "b2b", "{\"index\":4096}");
    ck_assert_int_eq(handle(&f, env, T0 + DAY, &r), ORDERLY_EENVELOPE);
    free(env);
    fx_free(&f);
}
END_TEST

/* The lines of an order share one reservation deadline row; when the
 * line it was written for has left (released by its warehouse), it fires
 * on a line still waiting, and the order is cancelled whole. */
START_TEST(lines_share_one_deadline_that_fires_on_a_waiting_line)
{
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_time_ms due;
    size_t fired = 0;
    char *env;
    fx f;

    open_large(&f, 300);
    create_large(&f, "b2b", 300, 3);
    due = T0 + f.policy.reservation_ttl;
    /* the TTL row, the abandoned deadline and nothing per line */
    ck_assert_uint_eq(health(&f, due).timers_due, 1);
    ck_assert_uint_lt(health(&f, T0 + 400 * DAY).timers_due, 10);
    env = make_env("wh-0", "reservation.release", "b2b", "{\"index\":0}");
    ck_assert_int_eq(handle(&f, env, T0 + MIN, &r), 0);
    free(env);
    ck_assert_int_eq(part_state(&f, "b2b", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_RELEASED);
    ck_assert_int_eq(orderly_engine_tick(f.e, due, 0, &fired), 0);
    ck_assert_uint_eq(fired, 1);
    ck_assert_int_eq(part_state(&f, "b2b", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_EXPIRED);
    ck_assert_int_eq(view(&f, "b2b").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(part_state(&f, "b2b", ORDERLY_MACHINE_RESERVATION, 299), ORDERLY_RESERVATION_RELEASED);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-large");

    orderly_test_case(s, order_of_the_most_lines_is_cancelled_whole, 0);
    orderly_test_case(s, order_of_300_lines_returns_200_by_line, 0);
    orderly_test_case(s, returns_naming_too_many_lines_refused, 0);
    orderly_test_case(s, envelope_addresses_a_line_past_the_parts_maximum, 0);
    orderly_test_case(s, lines_share_one_deadline_that_fires_on_a_waiting_line, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
