/* Bad requests from hosts (commands, order specs, returns): every field is
 * checked before anything computes with it, and a rejected request is
 * answered with its code and a message and writes nothing. */
#include <limits.h>

#include "fixture.h"
#include "../../lib/base/codec.h"

/* What a rejected request must leave as it found: the committed records
 * and their bytes, and the storage calls (a request refused on its fields
 * does not even open a transaction). */
typedef struct untouched {
    size_t records, bytes;
    uint64_t calls;
} untouched;

static untouched store_now(fx *f)
{
    untouched u;

    orderly_memory_storage_usage(f->st, &u.records, &u.bytes);
    u.calls = orderly_memory_storage_calls(f->st, ORDERLY_METHOD_ANY);
    return u;
}

static void assert_untouched(fx *f, untouched before)
{
    untouched after = store_now(f);

    ck_assert_uint_eq(after.records, before.records);
    ck_assert_uint_eq(after.bytes, before.bytes);
    ck_assert_uint_eq(after.calls, before.calls);
}

/* Applies (machine, event, index) to o1 under key, expecting EINVAL with a
 * message containing want and nothing written. */
static void expect_einval(fx *f, int machine, int event, uint32_t index, const char *key,
                          const char *want)
{
    untouched before = store_now(f);
    orderly_result r = ORDERLY_RESULT_INIT;
    int rc;

    rc = applyk(f, "o1", machine, event, index, 0, T0 + 1000, key, &r);
    ck_assert_msg(rc == ORDERLY_EINVAL, "machine %d event %d index %u: %d %s", machine, event,
                  (unsigned)index, rc, orderly_engine_errmsg(f->e));
    ck_assert_msg(strstr(orderly_engine_errmsg(f->e), want) != NULL, "message '%s' lacks '%s'",
                  orderly_engine_errmsg(f->e), want);
    assert_untouched(f, before);
}

/* The key a rejected command used was not marked: a valid command may
 * still take it. */
static void key_still_free(fx *f, const char *key)
{
    orderly_result r = ORDERLY_RESULT_INIT;
    int rc;

    rc = applyk(f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL, T0 + 1000,
                key, &r);
    ck_assert_msg(rc == 0, "authorize: %d %s", rc, orderly_engine_errmsg(f->e));
    ck_assert_uint_eq(r.duplicate, 0);
    ck_assert_int_eq(view(f, "o1").payment_state, ORDERLY_PAYMENT_AUTHORIZED);
}

/* ---- commands ---------------------------------------------------------------------- */

/* The machine id was shifted into the roles mask before it was checked:
 * undefined for -1, 40 or INT_MAX, and a wrong ECONFIG for the rest. */
START_TEST(command_machine_out_of_range)
{
    static const int bad[] = { -1, 0, ORDERLY_MACHINE_COUNT + 1, 40, INT_MAX, INT_MIN };
    fx f;
    size_t i;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_einval(&f, bad[i], ORDERLY_EVENT_FIRST, 0, "bad-machine", "is not a machine id");
    key_still_free(&f, "bad-machine");
    fx_free(&f);
}
END_TEST

/* A machine this engine does not own is still a configuration error. */
START_TEST(command_machine_not_owned)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_init(&f);
    f.o.roles = 1u << ORDERLY_MACHINE_ORDER;
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL,
                           T0 + 1000, &r),
                     ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "does not own machine 'payment'"));
    fx_free(&f);
}
END_TEST

START_TEST(command_event_out_of_range)
{
    const orderly_machine *m;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_machine_by_id(&m, ORDERLY_MACHINE_PAYMENT), 0);
    expect_einval(&f, ORDERLY_MACHINE_PAYMENT, 0, 0, "bad-event", "is not an event of machine 'payment'");
    expect_einval(&f, ORDERLY_MACHINE_PAYMENT, -1, 0, "bad-event", "is not an event");
    expect_einval(&f, ORDERLY_MACHINE_PAYMENT, orderly_machine_event_limit(m), 0, "bad-event",
                  "is not an event");
    expect_einval(&f, ORDERLY_MACHINE_PAYMENT, INT_MAX, 0, "bad-event", "is not an event");
    key_still_free(&f, "bad-event");
    fx_free(&f);
}
END_TEST

/* An index no order can have is bad input, not a missing part; one an
 * order could have but this one has not is ENOTFOUND. */
START_TEST(command_index_out_of_range)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    expect_einval(&f, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 1, "bad-index",
                  "index 1 is out of range for machine 'payment' (0..0)");
    expect_einval(&f, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_CANCEL, UINT32_MAX,
                  "bad-index", "index 4294967295 is out of range for machine 'fulfillment'");
    expect_einval(&f, ORDERLY_MACHINE_RESERVATION, ORDERLY_RESERVATION_EV_EXPIRE, ORDERLY_LINES_MAX,
                  "bad-index", "out of range for machine 'reservation'");
    expect_einval(&f, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 256, "bad-index",
                  "out of range for machine 'shipment'");
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_CANCEL, 2, 0,
                           T0 + 1000, &r),
                     ORDERLY_ENOTFOUND);
    key_still_free(&f, "bad-index");
    fx_free(&f);
}
END_TEST

/* Times are kept as differences from the order's creation; an instant
 * outside 0..ORDERLY_TIME_MAX could make one overflow (an order created at
 * INT64_MIN stored its authorization time as 0 - INT64_MIN). */
START_TEST(command_time_out_of_range)
{
    static const orderly_time_ms bad[] = { -1, INT64_MIN, ORDERLY_TIME_MAX + 1, INT64_MAX };
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_order_spec sp;
    untouched before;
    uint32_t idx;
    size_t i;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    memset(&sp, 0, sizeof sp);
    sp.order_id = "o2";
    sp.currency = "EUR";
    sp.payment_method = ORDERLY_PAY_CARD;
    sp.lines = std_lines;
    sp.n_lines = 2;
    before = store_now(&f);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(applyk(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0,
                                TOTAL, bad[i], "when", &r),
                         ORDERLY_EINVAL);
        ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "is outside 0.."));
        sp.now = bad[i];
        ck_assert_int_eq(orderly_engine_create_order(f.e, &sp, &r), ORDERLY_EINVAL);
        ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "is outside 0.."));
        ck_assert_int_eq(orderly_engine_open_return(f.e, &idx, "o1", 100, 0, "when", bad[i], &r),
                         ORDERLY_EINVAL);
        ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "is outside 0.."));
    }
    assert_untouched(&f, before);
    key_still_free(&f, "when");
    fx_free(&f);
}
END_TEST

/* ---- order specs ------------------------------------------------------------------- */

static int create_lines(fx *f, const char *id, const orderly_line *lines, size_t n)
{
    orderly_order_spec sp;
    orderly_result r = ORDERLY_RESULT_INIT;

    memset(&sp, 0, sizeof sp);
    sp.order_id = id;
    sp.currency = "EUR";
    sp.payment_method = ORDERLY_PAY_CARD;
    sp.lines = lines;
    sp.n_lines = n;
    sp.now = T0;
    return orderly_engine_create_order(f->e, &sp, &r);
}

/* Expects the spec refused with EINVAL naming want, and nothing written. */
static void expect_spec_refused(fx *f, const orderly_line *lines, size_t n, const char *want)
{
    untouched before = store_now(f);
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    int rc;

    rc = create_lines(f, "big", lines, n);
    ck_assert_msg(rc == ORDERLY_EINVAL, "create: %d %s", rc, orderly_engine_errmsg(f->e));
    ck_assert_msg(strstr(orderly_engine_errmsg(f->e), want) != NULL, "message '%s' lacks '%s'",
                  orderly_engine_errmsg(f->e), want);
    assert_untouched(f, before);
    ck_assert_int_eq(orderly_engine_get_order(f->e, "big", &v), ORDERLY_ENOTFOUND);
}

/* 2^20 x 2^44 is 2^64: the line wrapped to 0 and the order was stored
 * with a total of 100, payable with 100. */
START_TEST(create_total_wrapped_by_a_huge_line)
{
    const orderly_line lines[2] = {
        { 1, 1, 1u << 20, (int64_t)1 << 44 },
        { 2, 1, 1, 100 },
    };
    fx f;

    fx_setup(&f);
    expect_spec_refused(&f, lines, 2, "line 1 (lines[0]): quantity 1048576 is not 1..1000000");
    fx_free(&f);
}
END_TEST

/* Within the bounds of a line, the sum of lines is checked too: ten lines
 * of 10^18 pass INT64_MAX at the tenth. */
START_TEST(create_total_past_int64_max)
{
    orderly_line lines[10];
    fx f;
    size_t i;

    for (i = 0; i < 10; i++) {
        lines[i].sku = i + 1;
        lines[i].warehouse = 1;
        lines[i].quantity = ORDERLY_QUANTITY_MAX;
        lines[i].unit_price = ORDERLY_UNIT_PRICE_MAX;
    }
    fx_setup(&f);
    expect_spec_refused(&f, lines, 10, "line 10 (lines[9]): the order total passes");
    /* nine of them, 9 x 10^18, still fit and are stored as they are */
    ck_assert_int_eq(create_lines(&f, "nine", lines, 9), 0);
    ck_assert_int_eq(view(&f, "nine").total, 9000000000000000000LL);
    fx_free(&f);
}
END_TEST

START_TEST(create_line_bounds)
{
    orderly_line l = { 7, 1, ORDERLY_QUANTITY_MAX, ORDERLY_UNIT_PRICE_MAX };
    const orderly_line ok2[2] = { { 7, 1, 1, 0 }, { 8, 2, 3, 5 } };
    fx f;

    fx_setup(&f);
    ck_assert_uint_eq(ORDERLY_QUANTITY_MAX, 1000000u);
    ck_assert_int_eq(ORDERLY_UNIT_PRICE_MAX, 1000000000000LL);
    ck_assert_int_eq(create_lines(&f, "max", &l, 1), 0);
    ck_assert_int_eq(view(&f, "max").total, 1000000000000000000LL);
    ck_assert_int_eq(create_lines(&f, "small", ok2, 2), 0);
    ck_assert_int_eq(view(&f, "small").total, 15);
    l.quantity = ORDERLY_QUANTITY_MAX + 1;
    expect_spec_refused(&f, &l, 1, "line 1 (lines[0]): quantity 1000001 is not 1..1000000");
    l.quantity = 0;
    expect_spec_refused(&f, &l, 1, "line 1 (lines[0]): quantity 0 is not");
    l.quantity = 1;
    l.unit_price = ORDERLY_UNIT_PRICE_MAX + 1;
    expect_spec_refused(&f, &l, 1,
                        "line 1 (lines[0]): unit_price 1000000000001 is not 0..1000000000000");
    l.unit_price = -1;
    expect_spec_refused(&f, &l, 1, "unit_price -1 is not");
    fx_free(&f);
}
END_TEST

/* ---- reserved and engine-fed events; opening returns ------------------------------- */

/* apply(return, init) opened a return without the amount check. */
START_TEST(reserved_events_refused)
{
    fx f;
    int ev;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    for (ev = ORDERLY_EVENT_ENTRY; ev <= ORDERLY_EVENT_INIT; ev++) {
        expect_einval(&f, ORDERLY_MACHINE_RETURN, ev, 0, "reserved", "of machine 'return' is reserved");
        expect_einval(&f, ORDERLY_MACHINE_ORDER, ev, 0, "reserved", "of machine 'order' is reserved");
    }
    ck_assert_uint_eq(view(&f, "o1").n_returns, 0);
    fx_free(&f);
}
END_TEST

/* What a part feeds its order is not a host's to send: order
 * payment_confirmed confirmed an unpaid order, and its fulfillments could
 * then ship. Through an envelope too. */
START_TEST(fed_events_refused)
{
    static const int fed[] = {
        ORDERLY_ORDER_EV_PAYMENT_CONFIRMED, ORDERLY_ORDER_EV_PAYMENT_FAILED,
        ORDERLY_ORDER_EV_RESERVATION_EXPIRED, ORDERLY_ORDER_EV_FULFILLMENT_STARTED,
        ORDERLY_ORDER_EV_FULFILLMENT_SHIPPED, ORDERLY_ORDER_EV_FULFILLMENT_CANCELLED,
        ORDERLY_ORDER_EV_DELIVERED, ORDERLY_ORDER_EV_REFUNDED, ORDERLY_ORDER_EV_RETURNED_TO_ORIGIN,
    };
    fx f;
    size_t i;
    char *env;
    orderly_result r = ORDERLY_RESULT_INIT;
    untouched before;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    for (i = 0; i < sizeof fed / sizeof fed[0]; i++)
        expect_einval(&f, ORDERLY_MACHINE_ORDER, fed[i], 0, "fed", "is fed by the engine");
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    /* nor may a host release a fulfillment of the unpaid order */
    expect_einval(&f, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_RELEASE, 0, "fed",
                  "event 'release' of machine 'fulfillment' is fed by the engine");
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_ON_HOLD);
    env = make_env("evt-confirm-1", "order.payment_confirmed", "o1", NULL);
    before = store_now(&f);
    ck_assert_int_eq(handle(&f, env, T0 + 1000, &r), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e),
                                 "event 'payment_confirmed' of machine 'order' is fed by the engine"));
    assert_untouched(&f, before);
    free(env);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    /* what a host does send still goes through */
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, T0 + 2000);
    fx_free(&f);
}
END_TEST

static int open_ret(fx *f, uint32_t *idx, int64_t amount, int exchange, const char *key,
                    orderly_result *r)
{
    return orderly_engine_open_return(f->e, idx, "o1", amount, exchange, key, T0 + HOUR, r);
}

/* Refused with code and nothing written. */
static void expect_open_refused(fx *f, int64_t amount, int exchange, int code, const char *want)
{
    orderly_order_view v = view(f, "o1");
    untouched before = store_now(f);
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 99;
    int rc;

    rc = open_ret(f, &idx, amount, exchange, NULL, &r);
    ck_assert_msg(rc == code, "open %lld/%d: %d %s", (long long)amount, exchange, rc,
                  orderly_engine_errmsg(f->e));
    ck_assert_msg(strstr(orderly_engine_errmsg(f->e), want) != NULL, "message '%s' lacks '%s'",
                  orderly_engine_errmsg(f->e), want);
    ck_assert_uint_eq(idx, 99);
    if (code == ORDERLY_EINVAL)
        assert_untouched(f, before);
    ck_assert_uint_eq(view(f, "o1").version, v.version);
    ck_assert_uint_eq(view(f, "o1").n_returns, v.n_returns);
}

/* Exchanges skipped the bound: INT64_MAX was accepted. */
START_TEST(open_return_amount_bounds)
{
    fx f;
    uint32_t idx;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    expect_open_refused(&f, 0, 0, ORDERLY_EINVAL, "return amount 0 is not positive");
    expect_open_refused(&f, -5, 1, ORDERLY_EINVAL, "return amount -5 is not positive");
    expect_open_refused(&f, INT64_MAX, 1, ORDERLY_EINVARIANT,
                        "exchange of 9223372036854775807 exceeds the 2000 delivered");
    expect_open_refused(&f, TOTAL + 1, 0, ORDERLY_EINVARIANT, "return of 2001 exceeds the 2000");
    /* an exchange claims its amount for good: it gives goods, not money */
    ck_assert_int_eq(open_ret(&f, &idx, 1500, 1, "x-1", &r), 0);
    expect_open_refused(&f, 501, 1, ORDERLY_EINVARIANT, "exceeds the 500 delivered");
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, T0 + HOUR);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, T0 + HOUR);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, T0 + HOUR);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_EXCHANGE, idx, 0, T0 + HOUR);
    expect_open_refused(&f, 501, 0, ORDERLY_EINVARIANT, "return of 501 exceeds the 500");
    ck_assert_int_eq(open_ret(&f, &idx, 500, 0, "r-1", &r), 0);
    expect_open_refused(&f, 1, 0, ORDERLY_EINVARIANT, "exceeds the 0 delivered");
    fx_free(&f);
}
END_TEST

/* A refunded return's amount is in refunded; a rejected one claims
 * nothing. */
START_TEST(open_return_counts_refunds_once)
{
    fx f;
    uint32_t idx;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_ret(&f, &idx, 800, 0, "r-1", &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, T0 + HOUR);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, T0 + HOUR);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, T0 + HOUR);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, T0 + HOUR);
    ck_assert_int_eq(view(&f, "o1").refunded, 800);
    ck_assert_int_eq(open_ret(&f, &idx, 700, 0, "r-2", &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REJECT, idx, 0, T0 + HOUR);
    expect_open_refused(&f, 1201, 0, ORDERLY_EINVARIANT, "exceeds the 1200 delivered");
    ck_assert_int_eq(open_ret(&f, &idx, 1200, 0, "r-3", &r), 0);
    fx_free(&f);
}
END_TEST

/* A COD order's cash is collected at the door: what was delivered is its
 * total, whether or not the courier has handed the cash over yet. */
START_TEST(open_return_cod_bounded_by_total)
{
    fx f;
    uint32_t idx;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_COD, T0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0, T0 + 1000);
    ship_ful(&f, "o1", 0, T0 + 2000);
    ship_ful(&f, "o1", 1, T0 + 3000);
    deliver_ship(&f, "o1", 0, T0 + 4000);
    deliver_ship(&f, "o1", 1, T0 + 5000);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    ck_assert_int_eq(view(&f, "o1").captured, 0);
    expect_open_refused(&f, TOTAL + 1, 1, ORDERLY_EINVARIANT, "exchange of 2001 exceeds the 2000");
    ck_assert_int_eq(open_ret(&f, &idx, TOTAL, 1, "x-1", &r), 0);
    fx_free(&f);
}
END_TEST

/* The new return's index comes through index_out, also for a duplicate;
 * result.from is no longer borrowed for it. */
START_TEST(open_return_reports_its_index)
{
    fx f;
    uint32_t idx = 99;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_ret(&f, &idx, 100, 0, "r-1", &r), 0);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(open_ret(&f, &idx, 200, 1, "r-2", &r), 0);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(r.machine, ORDERLY_MACHINE_RETURN);
    ck_assert_int_eq(r.from, 0);
    ck_assert_int_eq(r.to, ORDERLY_RETURN_REQUESTED);
    ck_assert_uint_eq(r.duplicate, 0);
    idx = 99;
    ck_assert_int_eq(open_ret(&f, &idx, 200, 1, "r-2", &r), 0);
    ck_assert_uint_eq(r.duplicate, 1);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(r.from, 0);
    ck_assert_int_eq(r.to, ORDERLY_RETURN_REQUESTED);
    ck_assert_uint_eq(view(&f, "o1").n_returns, 2);
    /* the same key for another return is a different request */
    ck_assert_int_eq(open_ret(&f, &idx, 300, 1, "r-2", &r), ORDERLY_EIDEMMISMATCH);
    fx_free(&f);
}
END_TEST

/* A mark stored before results carried an index (format 1, the index in
 * result.from) still answers a redelivery with the right index. */
START_TEST(open_return_reads_format1_marks)
{
    fx f;
    orderly_storage *st;
    orderly_idem_record rec;
    orderly_buf *rb;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint8_t old[128], *w = old;
    uint32_t idx = 99;
    orderly_time_ms later;
    void *txn;

    fx_setup(&f);
    st = f.st;
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_ret(&f, &idx, 100, 0, "r-1", &r), 0);
    ck_assert_int_eq(open_ret(&f, &idx, 200, 0, "r-2", &r), 0);
    ck_assert_uint_eq(idx, 1);
    /* r-2's mark as the earlier version wrote it, once the current one lapsed */
    ck_assert_int_eq(orderly_buf_new(&rb, NULL), 0);
    ck_assert_int_eq(st->begin(st, NULL, &txn), 0);
    ck_assert_int_eq(st->idem_get(st, NULL, txn, "r-2", T0 + HOUR, &rec, rb), 0);
    st->rollback(st, NULL, txn);
    w = orderly__put_u64(w, 1);
    w = orderly__put_i64(w, 0);
    w = orderly__put_u64(w, ORDERLY_MACHINE_RETURN);
    w = orderly__put_u64(w, ORDERLY_EVENT_INIT);
    w = orderly__put_u64(w, 1); /* from: the index */
    w = orderly__put_u64(w, ORDERLY_RETURN_REQUESTED);
    w = orderly__put_u64(w, ORDERLY_ORDER_DELIVERED);
    w = orderly__put_u64(w, 1);
    w = orderly__put_u64(w, 0);
    w = orderly__put_u64(w, r.version);
    later = rec.expires + 1;
    rec.result = old;
    rec.result_len = (size_t)(w - old);
    rec.expires = later + DAY;
    ck_assert_int_eq(st->begin(st, NULL, &txn), 0);
    ck_assert_int_eq(st->idem_put(st, NULL, txn, "r-2", later, &rec), 0);
    ck_assert_int_eq(st->commit(st, NULL, txn), 0);
    orderly_buf_free(rb);
    idx = 99;
    ck_assert_int_eq(orderly_engine_open_return(f.e, &idx, "o1", 200, 0, "r-2", later, &r), 0);
    ck_assert_uint_eq(r.duplicate, 1);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(r.from, 0);
    ck_assert_int_eq(r.to, ORDERLY_RETURN_REQUESTED);
    ck_assert_uint_eq(view(&f, "o1").n_returns, 2);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-requests");

    orderly_test_case(s, command_machine_out_of_range, 0);
    orderly_test_case(s, command_machine_not_owned, 0);
    orderly_test_case(s, command_event_out_of_range, 0);
    orderly_test_case(s, command_index_out_of_range, 0);
    orderly_test_case(s, command_time_out_of_range, 0);
    orderly_test_case(s, create_total_wrapped_by_a_huge_line, 0);
    orderly_test_case(s, create_total_past_int64_max, 0);
    orderly_test_case(s, create_line_bounds, 0);
    orderly_test_case(s, reserved_events_refused, 0);
    orderly_test_case(s, fed_events_refused, 0);
    orderly_test_case(s, open_return_amount_bounds, 0);
    orderly_test_case(s, open_return_counts_refunds_once, 0);
    orderly_test_case(s, open_return_cod_bounded_by_total, 0);
    orderly_test_case(s, open_return_reports_its_index, 0);
    orderly_test_case(s, open_return_reads_format1_marks, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
