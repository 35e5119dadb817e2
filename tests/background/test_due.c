/*
 * What the background steps cost the store: a step with nothing due makes
 * no storage call, reads never open a write transaction, a command hands
 * its rows to the next pump (ORDERLY_ENGINE_HAND_OFF) and the acks of
 * those rows ride on the next command (however long the host is quiet,
 * for a sole dispatcher), and the engine counts every transaction it
 * opens.
 */
#include "bg.h"
#include "orderly/sys/fault.h"

/* The engine over a fault wrapper (which offers begin_read and counts
 * calls per method) over the fixture's memory storage. */
typedef struct wfx {
    fx f;
    orderly_storage *w;
} wfx;

static void wfx_open(wfx *x, unsigned int flags)
{
    fx_init(&x->f);
    ck_assert_int_eq(orderly_fault_storage_new(&x->w, x->f.st, NULL), 0);
    x->f.o.storage = x->w;
    x->f.o.flags = flags;
    fx_open(&x->f);
}

static void wfx_free(wfx *x)
{
    orderly_engine_close(x->f.e);
    x->f.e = NULL;
    orderly_fault_storage_free(x->w);
    orderly_memory_storage_free(x->f.st);
    orderly_memory_transport_free(x->f.tr);
}

static uint64_t calls(const wfx *x, int method)
{
    return orderly_fault_storage_calls(x->w, method);
}

/* Runs pump, tick and run_operations at now until the outbox is empty. */
static void settle(wfx *x, orderly_time_ms now)
{
    size_t n;
    int i;

    for (i = 0; i < 8; i++) {
        ck_assert_int_eq(orderly_engine_tick(x->f.e, now, 0, &n), 0);
        ck_assert_int_eq(orderly_engine_run_operations(x->f.e, now, 0, &n), 0);
        ck_assert_int_eq(orderly_engine_pump(x->f.e, now, 0, &n), 0);
    }
}

START_TEST(step_with_nothing_due_calls_no_storage)
{
    wfx x;
    size_t n = 99;
    uint64_t before;

    wfx_open(&x, 0);
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    settle(&x, T0);
    before = calls(&x, ORDERLY_METHOD_ANY);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0 + 1, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(orderly_engine_tick(x.f.e, T0 + 1, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(orderly_engine_run_operations(x.f.e, T0 + 1, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_ANY), before);
    wfx_free(&x);
}
END_TEST

START_TEST(due_timer_is_claimed_when_its_time_comes)
{
    wfx x;
    size_t n = 0;
    uint64_t before;

    wfx_open(&x, 0);
    x.f.policy.reservation_ttl = 3 * HOUR;
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    settle(&x, T0);
    /* before the reservation's deadline: nothing due, no call */
    before = calls(&x, ORDERLY_METHOD_QUEUE_CLAIM);
    ck_assert_int_eq(orderly_engine_tick(x.f.e, T0 + MIN, 0, &n), 0);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_QUEUE_CLAIM), before);
    /* at a deadline the tick claims and fires */
    ck_assert_int_eq(orderly_engine_tick(x.f.e, T0 + 3 * DAY, 0, &n), 0);
    ck_assert_uint_gt(calls(&x, ORDERLY_METHOD_QUEUE_CLAIM), before);
    ck_assert_uint_ge(n, 1);
    wfx_free(&x);
}
END_TEST

START_TEST(rows_written_behind_the_engine_need_a_wake)
{
    wfx x;
    orderly_queue_item it;
    orderly_ctx *ctx = NULL;
    size_t n = 0;
    uint64_t id;
    void *txn;

    wfx_open(&x, 0);
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    settle(&x, T0);
    /* another writer on the same store: the engine cannot know */
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(x.f.st->begin(x.f.st, ctx, &txn), 0);
    memset(&it, 0, sizeof it);
    it.group = "";
    it.kind = ORDERLY_OP_HOST + 1;
    it.created = it.due = T0;
    ck_assert_int_eq(x.f.st->queue_push(x.f.st, ctx, txn, ORDERLY_QUEUE_OPERATIONS, &it, &id), 0);
    ck_assert_int_eq(x.f.st->commit(x.f.st, ctx, txn), 0);
    ck_assert_int_eq(orderly_engine_run_operations(x.f.e, T0 + 1, 0, &n), 0);
    ck_assert_uint_eq(health(&x.f, T0 + 1).operations_pending, 1);
    orderly_engine_wake(x.f.e);
    ck_assert_int_eq(orderly_engine_run_operations(x.f.e, T0 + 1, 0, &n), 0);
    /* the row was looked at: claimed and parked (it decodes as no operation) */
    ck_assert_uint_eq(health(&x.f, T0 + 1).operations_pending, 0);
    orderly_engine_wake(NULL);
    orderly_ctx_free(ctx);
    wfx_free(&x);
}
END_TEST

static int count_rows(const orderly_outbox_view *v, void *user_data)
{
    (void)v;
    (*(size_t *)user_data)++;
    return 0;
}

static int count_history(const orderly_history_entry *entry, void *user_data)
{
    (void)entry;
    ++*(size_t *)user_data;
    return 0;
}

START_TEST(reads_open_read_transactions)
{
    wfx x;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    uint64_t begins, reads;
    size_t n = 0;
    int got;

    wfx_open(&x, 0);
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    begins = calls(&x, ORDERLY_METHOD_BEGIN);
    reads = calls(&x, ORDERLY_METHOD_BEGIN_READ);
    ck_assert_int_eq(orderly_engine_get_order(x.f.e, "o1", &v), 0);
    (void)health(&x.f, T0);
    ck_assert_int_eq(orderly_engine_list_outbox(x.f.e, -1, 0, 100, count_rows, &n), 0);
    ck_assert_uint_gt(n, 0);
    n = 0;
    got = orderly_engine_order_history(x.f.e, "o1", 0, 0, count_history, &n);
    ck_assert_int_eq(got, (int)n);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_BEGIN), begins);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_BEGIN_READ), reads + 4);
    wfx_free(&x);
}
END_TEST

START_TEST(stats_count_every_transaction)
{
    wfx x;
    orderly_engine_stats st = ORDERLY_ENGINE_STATS_INIT;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;

    wfx_open(&x, 0);
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    settle(&x, T0);
    ck_assert_int_eq(orderly_engine_get_order(x.f.e, "o1", &v), 0);
    ck_assert_int_eq(orderly_engine_get_stats(x.f.e, &st), 0);
    ck_assert_uint_eq(st.txn_begins, calls(&x, ORDERLY_METHOD_BEGIN) +
                                         calls(&x, ORDERLY_METHOD_BEGIN_READ));
    ck_assert_uint_eq(st.txn_read_begins, calls(&x, ORDERLY_METHOD_BEGIN_READ));
    ck_assert_uint_eq(st.txn_commits, calls(&x, ORDERLY_METHOD_COMMIT));
    ck_assert_uint_eq(st.txn_begins, st.txn_commits + st.txn_rollbacks);
    wfx_free(&x);
}
END_TEST

START_TEST(command_hands_its_rows_to_the_pump)
{
    wfx x;
    size_t n = 0;
    uint64_t claims;
    orderly_health h;

    wfx_open(&x, ORDERLY_ENGINE_HAND_OFF);
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    /* claimed in the command's own transaction */
    h = health(&x.f, T0);
    ck_assert_uint_ge(h.outbox_leased, 1);
    claims = calls(&x, ORDERLY_METHOD_QUEUE_CLAIM);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0, 0, &n), 0);
    ck_assert_uint_eq(n, h.outbox_leased);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_QUEUE_CLAIM), claims);
    ck_assert_uint_eq(orderly_memory_transport_count(x.f.tr), n);
    wfx_free(&x);
}
END_TEST

START_TEST(acks_ride_on_the_next_command)
{
    wfx x;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_health h;
    size_t n = 0, again = 1;
    uint64_t begins, finishes;

    wfx_open(&x, ORDERLY_ENGINE_HAND_OFF);
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    begins = calls(&x, ORDERLY_METHOD_BEGIN);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0, 0, &n), 0);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0, 0, &again), 0);
    ck_assert_uint_eq(again, 0);
    /* published, acks pending: no transaction yet */
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_BEGIN), begins);
    ck_assert_uint_eq(health(&x.f, T0).outbox_pending, n);
    finishes = calls(&x, ORDERLY_METHOD_QUEUE_FINISH);
    ck_assert_int_eq(create_ex(&x.f, "o2", ORDERLY_PAY_CARD, 0, 0, T0 + 1, &r), 0);
    /* one transaction: o2 written, o1's rows acked, o2's rows handed */
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_BEGIN), begins + 1);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_QUEUE_FINISH), finishes + n);
    h = health(&x.f, T0 + 1);
    ck_assert_uint_eq(h.outbox_pending, r.outbox_rows);
    ck_assert_uint_eq(h.outbox_leased, r.outbox_rows);
    wfx_free(&x);
}
END_TEST

/* Acks pending when another queue is claimed ride on that claim's
 * transaction, ahead of the claim: no transaction of their own. */
START_TEST(acks_ride_on_the_next_claim)
{
    wfx x;
    size_t n = 0, ran = 0;
    uint64_t begins, finishes;
    orderly_health h;

    wfx_open(&x, ORDERLY_ENGINE_HAND_OFF);
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&x.f, "o1", T0 + 1);
    ck_assert_int_eq(orderly_engine_cancel_order(x.f.e, "o1", NULL, T0 + 2, NULL), 0);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0 + 2, 0, &n), 0);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_eq(health(&x.f, T0 + 2).outbox_leased, n);
    begins = calls(&x, ORDERLY_METHOD_BEGIN);
    finishes = calls(&x, ORDERLY_METHOD_QUEUE_FINISH);
    ck_assert_int_eq(orderly_engine_run_operations(x.f.e, T0 + 2, 0, &ran), 0);
    ck_assert_uint_gt(ran, 0);
    /* the claim's transaction and the chunk that finishes the operations */
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_BEGIN), begins + 2);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_QUEUE_FINISH), finishes + n + ran);
    h = health(&x.f, T0 + 2);
    ck_assert_uint_eq(h.outbox_leased, 0);
    ck_assert_uint_eq(h.published_total, n);
    wfx_free(&x);
}
END_TEST

START_TEST(pending_acks_are_written_before_the_lease_lapses)
{
    wfx x;
    size_t n = 0;
    orderly_health h;

    wfx_open(&x, ORDERLY_ENGINE_HAND_OFF);
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0, 0, &n), 0);
    ck_assert_uint_gt(n, 0);
    h = health(&x.f, T0);
    ck_assert_uint_eq(h.outbox_leased, n);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0 + x.f.policy.lease / 4, 0, NULL), 0);
    h = health(&x.f, T0 + x.f.policy.lease / 4);
    ck_assert_uint_eq(h.outbox_leased, 0);
    ck_assert_uint_eq(h.outbox_pending, 0);
    ck_assert_uint_eq(h.published_total, n);
    wfx_free(&x);
}
END_TEST

/* A command that leaves a timed state finishes that deadline's row, so
 * the tick at its due time finds nothing to claim: one read, no write. */
START_TEST(moot_deadlines_cost_the_tick_no_write)
{
    wfx x;
    orderly_engine_stats st = ORDERLY_ENGINE_STATS_INIT, after = ORDERLY_ENGINE_STATS_INIT;
    orderly_time_ms ttl;
    size_t fired = 9;

    wfx_open(&x, 0);
    ttl = T0 + x.f.policy.reservation_ttl;
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_uint_eq(health(&x.f, ttl).timers_due, 1);
    authorize_ok(&x.f, "o1", T0 + MIN);
    ck_assert_int_eq(orderly_engine_get_stats(x.f.e, &st), 0);
    /* the lines' TTL and the order's abandonment: both left behind */
    ck_assert_uint_eq(st.deadlines_cancelled, 2);
    ck_assert_uint_eq(health(&x.f, ttl).timers_due, 0);
    ck_assert_int_eq(orderly_engine_get_stats(x.f.e, &st), 0);
    ck_assert_int_eq(orderly_engine_tick(x.f.e, ttl, 0, &fired), 0);
    ck_assert_uint_eq(fired, 0);
    ck_assert_int_eq(orderly_engine_get_stats(x.f.e, &after), 0);
    ck_assert_uint_eq(after.txn_begins - after.txn_read_begins, st.txn_begins - st.txn_read_begins);
    ck_assert_uint_le(after.txn_read_begins - st.txn_read_begins, 1);
    /* the deadlines still live fire as before */
    ck_assert_int_eq(view(&x.f, "o1").order_state, ORDERLY_ORDER_CONFIRMED);
    wfx_free(&x);
}
END_TEST

/* A sole dispatcher's acks wait out a quiet spell longer than the lease:
 * no pump after it touches the store, and the next command writes them. */
START_TEST(sole_acks_wait_for_the_next_write)
{
    wfx x;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_time_ms later;
    size_t n = 0, none = 9;
    uint64_t begins, claims, finishes;
    orderly_health h;

    wfx_open(&x, ORDERLY_ENGINE_HAND_OFF | ORDERLY_ENGINE_SOLE);
    later = T0 + 3 * x.f.policy.lease;
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0, 0, &n), 0);
    ck_assert_uint_gt(n, 0);
    begins = calls(&x, ORDERLY_METHOD_BEGIN);
    claims = calls(&x, ORDERLY_METHOD_QUEUE_CLAIM);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, later, 0, &none), 0);
    ck_assert_uint_eq(none, 0);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_BEGIN), begins);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_QUEUE_CLAIM), claims);
    /* in the store they are still leased, their lease lapsed */
    h = health(&x.f, later);
    ck_assert_uint_eq(h.outbox_lease_expired, n);
    finishes = calls(&x, ORDERLY_METHOD_QUEUE_FINISH);
    ck_assert_int_eq(create_ex(&x.f, "o2", ORDERLY_PAY_CARD, 0, 0, later, &r), 0);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_BEGIN), begins + 1);
    ck_assert_uint_eq(calls(&x, ORDERLY_METHOD_QUEUE_FINISH), finishes + n);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, later, 0, &none), 0);
    ck_assert_uint_eq(none, r.outbox_rows);
    h = health(&x.f, later);
    ck_assert_uint_eq(h.outbox_lease_expired, 0);
    ck_assert_uint_eq(h.leases_expired_total, 0);
    ck_assert_uint_eq(h.published_total, n + r.outbox_rows);
    ck_assert_uint_eq(orderly_memory_transport_count(x.f.tr), n + r.outbox_rows);
    wfx_free(&x);
}
END_TEST

/* The promise broken: another engine on the store republishes the rows
 * whose lease lapsed before their acks were written (duplicates, never a
 * loss), and the sole engine's late acks are refused as stale. */
START_TEST(sole_promise_broken_costs_duplicates_only)
{
    wfx x;
    fx other;
    orderly_time_ms later;
    size_t n = 0, again = 0;
    orderly_engine_stats st = ORDERLY_ENGINE_STATS_INIT;

    wfx_open(&x, ORDERLY_ENGINE_HAND_OFF | ORDERLY_ENGINE_SOLE);
    later = T0 + 3 * x.f.policy.lease;
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0, 0, &n), 0);
    ck_assert_uint_gt(n, 0);
    fx_init(&other);
    orderly_memory_storage_free(other.st);
    orderly_memory_transport_free(other.tr);
    other.st = x.f.st;
    other.tr = x.f.tr;
    other.o.storage = x.f.st;
    other.o.transport = x.f.tr;
    fx_open(&other);
    ck_assert_int_eq(orderly_engine_pump(other.e, later, 0, &again), 0);
    ck_assert_uint_eq(again, n);
    ck_assert_uint_eq(health(&other, later).leases_expired_total, n);
    ck_assert_uint_eq(orderly_memory_transport_count(x.f.tr), 2 * n);
    create_ok(&x.f, "o2", ORDERLY_PAY_CARD, later);
    ck_assert_uint_eq(health(&x.f, later).stale_completions, n);
    ck_assert_int_eq(orderly_engine_get_stats(x.f.e, &st), 0);
    ck_assert_uint_eq(st.txn_ack_writes, 0);
    orderly_engine_close(other.e);
    wfx_free(&x);
}
END_TEST

START_TEST(close_gives_back_unpublished_handed_rows)
{
    wfx x;
    orderly_health h;
    size_t n = 0;

    wfx_open(&x, ORDERLY_ENGINE_HAND_OFF);
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_uint_ge(health(&x.f, T0).outbox_leased, 1);
    orderly_engine_close(x.f.e);
    /* a new engine on the same store publishes them at once, first try */
    x.f.o.flags = 0;
    fx_open(&x.f);
    h = health(&x.f, T0);
    ck_assert_uint_eq(h.outbox_leased, 0);
    ck_assert_uint_ge(h.outbox_pending, 1);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0, 0, &n), 0);
    ck_assert_uint_eq(n, h.outbox_pending);
    ck_assert_uint_eq(health(&x.f, T0).leases_expired_total, 0);
    wfx_free(&x);
}
END_TEST

START_TEST(unknown_engine_flags_are_econfig)
{
    fx f;
    orderly_ctx *ctx = NULL;

    fx_init(&f);
    f.o.flags = 0x80u;
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(orderly_engine_open(&f.e, &f.o, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "flags"));
    orderly_ctx_free(ctx);
    f.e = NULL;
    fx_free(&f);
}
END_TEST

START_TEST(batch_steps_stay_emisuse)
{
    wfx x;
    size_t n = 0;

    wfx_open(&x, 0);
    create_ok(&x.f, "o1", ORDERLY_PAY_CARD, T0);
    settle(&x, T0);
    ck_assert_int_eq(orderly_engine_begin_batch(x.f.e), 0);
    ck_assert_int_eq(orderly_engine_pump(x.f.e, T0 + 1, 0, &n), ORDERLY_EMISUSE);
    ck_assert_int_eq(orderly_engine_tick(x.f.e, T0 + 1, 0, &n), ORDERLY_EMISUSE);
    orderly_engine_rollback_batch(x.f.e);
    wfx_free(&x);
}
END_TEST

/* Expired marks left in f's store, deleted by a direct idem_purge. */
static int expired_marks(fx *f, orderly_time_ms now)
{
    orderly_ctx *ctx = NULL;
    void *txn;
    int n;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(f->st->begin(f->st, ctx, &txn), 0);
    n = f->st->idem_purge(f->st, ctx, txn, now, 1000);
    ck_assert_int_eq(f->st->commit(f->st, ctx, txn), 0);
    orderly_ctx_free(ctx);
    return n;
}

START_TEST(purge_deletes_expired_marks)
{
    fx a, b;
    orderly_time_ms later;
    size_t n = 0;

    fx_setup(&a);
    fx_setup(&b);
    create_ok(&a, "o1", ORDERLY_PAY_CARD, T0);
    create_ok(&b, "o1", ORDERLY_PAY_CARD, T0);
    later = T0 + a.policy.idem_ttl + 1;
    ck_assert_int_eq(orderly_engine_purge(a.e, later, 0, &n), 0);
    ck_assert_int_eq(expired_marks(&a, later), 0);
    /* the same store without the purge still holds them */
    ck_assert_int_gt(expired_marks(&b, later), 0);
    fx_free(&a);
    fx_free(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("background-due");

    orderly_test_case(s, step_with_nothing_due_calls_no_storage, 0);
    orderly_test_case(s, due_timer_is_claimed_when_its_time_comes, 0);
    orderly_test_case(s, rows_written_behind_the_engine_need_a_wake, 0);
    orderly_test_case(s, batch_steps_stay_emisuse, 0);
    orderly_test_case(s, purge_deletes_expired_marks, 0);
    orderly_test_case(s, reads_open_read_transactions, 0);
    orderly_test_case(s, stats_count_every_transaction, 0);
    orderly_test_case(s, command_hands_its_rows_to_the_pump, 0);
    orderly_test_case(s, acks_ride_on_the_next_command, 0);
    orderly_test_case(s, acks_ride_on_the_next_claim, 0);
    orderly_test_case(s, pending_acks_are_written_before_the_lease_lapses, 0);
    orderly_test_case(s, close_gives_back_unpublished_handed_rows, 0);
    orderly_test_case(s, moot_deadlines_cost_the_tick_no_write, 0);
    orderly_test_case(s, sole_acks_wait_for_the_next_write, 0);
    orderly_test_case(s, sole_promise_broken_costs_duplicates_only, 0);
    orderly_test_case(s, unknown_engine_flags_are_econfig, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
