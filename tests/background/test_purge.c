/*
 * Retention across the queues: orderly_engine_purge deletes fired timers
 * and completed operations as well as published events, once they are
 * past policy.retention and not before; parked operations, dead letters
 * and pending rows stay; one call's budget is shared by the queues.
 */
#include "bg.h"

/* Rows of queue in state. */
static size_t in_state(fx *f, int queue, uint32_t state)
{
    rows rs;
    size_t i, n = 0;

    queue_rows(f->st, queue, &rs);
    for (i = 0; i < rs.n; i++)
        n += rs.r[i].state == state;
    return n;
}

static size_t purge1(fx *f, orderly_time_ms now, size_t max)
{
    size_t n = 99;

    ck_assert_int_eq(orderly_engine_purge(f->e, now, max, &n), 0);
    return n;
}

static void declined(fx *f, const char *id, orderly_time_ms t)
{
    create_ok(f, id, ORDERLY_PAY_CARD, t);
    APPLY_OK(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, t + 1000);
}

/* Succeeds for every order but "bad". */
static int exec_all_but_bad(const orderly_operation_view *v, void *ud)
{
    (void)ud;
    return strcmp(v->order_id, "bad") == 0 ? ORDERLY_EUSER : 0;
}

START_TEST(fired_timers_purged_after_retention_pending_kept)
{
    fx f;
    orderly_time_ms due;
    size_t fired, done, pending;

    fx_setup(&f);
    due = T0 + f.policy.reservation_ttl;
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_engine_tick(f.e, due, 0, &fired), 0);
    /* the fired TTL, and o1's later deadlines its cancellation made moot */
    done = in_state(&f, ORDERLY_QUEUE_TIMERS, ORDERLY_ITEM_DONE);
    ck_assert_uint_ge(done, 2);
    ck_assert_uint_eq(in_state(&f, ORDERLY_QUEUE_TIMERS, ORDERLY_ITEM_READY), 0);
    create_ok(&f, "o2", ORDERLY_PAY_CARD, due);
    pending = in_state(&f, ORDERLY_QUEUE_TIMERS, ORDERLY_ITEM_READY);
    ck_assert_uint_ge(pending, 1); /* o2's deadlines, not yet due */

    ck_assert_uint_eq(purge1(&f, due + f.policy.retention - 1, 0), 0);
    ck_assert_uint_eq(in_state(&f, ORDERLY_QUEUE_TIMERS, ORDERLY_ITEM_DONE), done);
    ck_assert_uint_eq(purge1(&f, due + f.policy.retention, 0), done);
    ck_assert_uint_eq(in_state(&f, ORDERLY_QUEUE_TIMERS, ORDERLY_ITEM_DONE), 0);
    /* deadlines not yet fired stay, however late the purge */
    ck_assert_uint_eq(purge1(&f, due + 100 * f.policy.retention, 0), 0);
    ck_assert_uint_eq(in_state(&f, ORDERLY_QUEUE_TIMERS, ORDERLY_ITEM_READY), pending);
    /* and still fire: the queue goes on after a purge */
    ck_assert_uint_eq(health(&f, due + 100 * f.policy.retention).timers_due, pending);
    fx_free(&f);
}
END_TEST

START_TEST(done_operations_purged_parked_kept)
{
    fx f;
    operation_list seen;
    orderly_time_ms t = T0 + 2000;
    uint64_t good = 0, bad = 0;
    size_t ran, i, moot;

    fx_init(&f);
    f.policy.operation_max_attempts = 1;
    fx_open(&f);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_RELEASE_RESERVATIONS,
                                                 exec_all_but_bad, NULL),
                     0);
    declined(&f, "good", T0);
    declined(&f, "bad", T0);
    ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &ran), 0);
    memset(&seen, 0, sizeof seen);
    ck_assert_int_eq(orderly_engine_list_operations(f.e, -1, 0, 64, collect_cb, &seen), 0);
    for (i = 0; i < seen.n; i++) {
        if (strcmp(seen.r[i].order, "good") == 0)
            good = seen.r[i].id;
        else if (strcmp(seen.r[i].order, "bad") == 0)
            bad = seen.r[i].id;
    }
    ck_assert_uint_ne(good, 0);
    ck_assert_uint_ne(bad, 0);
    ck_assert_uint_eq(in_state(&f, ORDERLY_QUEUE_OPERATIONS, ORDERLY_ITEM_DONE), 1);
    ck_assert_uint_eq(in_state(&f, ORDERLY_QUEUE_OPERATIONS, ORDERLY_ITEM_DEAD), 1);

    /* the declines made the orders' deadlines moot at T0 + 1000: their
     * rows go first, the finished operation only once it is old enough */
    moot = in_state(&f, ORDERLY_QUEUE_TIMERS, ORDERLY_ITEM_DONE);
    ck_assert_uint_gt(moot, 0);
    ck_assert_uint_eq(purge1(&f, T0 + 1000 + f.policy.retention, 0), moot);
    memset(&seen, 0, sizeof seen);
    ck_assert_uint_eq(purge1(&f, t + f.policy.retention - 1, 0), 0);
    ck_assert_int_eq(orderly_engine_inspect_operation(f.e, good, collect_cb, &seen),
                     0);
    ck_assert_uint_eq(purge1(&f, t + f.policy.retention, 0), 1);
    ck_assert_int_eq(orderly_engine_inspect_operation(f.e, good, collect_cb, &seen),
                     ORDERLY_ENOTFOUND);
    /* the parked one is an operator's record: kept, and still replayable */
    ck_assert_uint_eq(purge1(&f, t + 100 * f.policy.retention, 0), 0);
    ck_assert_uint_eq(in_state(&f, ORDERLY_QUEUE_OPERATIONS, ORDERLY_ITEM_DEAD), 1);
    ck_assert_uint_eq(health(&f, t).operations_exhausted, 1);
    ck_assert_int_eq(orderly_engine_replay_operation(f.e, bad, t + 100 * f.policy.retention), 0);
    fx_free(&f);
}
END_TEST

/* Finished rows in all three queues, purged max at a time: the first
 * call takes from each queue, and repeated calls delete them all. */
START_TEST(one_budget_shared_by_the_queues)
{
    static const int queues[] = { ORDERLY_QUEUE_OUTBOX, ORDERLY_QUEUE_TIMERS,
                                  ORDERLY_QUEUE_OPERATIONS };
    fx f;
    char id[16];
    orderly_time_ms due, late;
    size_t before[3], after[3], n, total = 0, ran, fired;
    int i, k;

    fx_setup(&f);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_RELEASE_RESERVATIONS,
                                                 exec_all_but_bad, NULL),
                     0);
    for (i = 0; i < 4; i++) {
        snprintf(id, sizeof id, "o%d", i);
        declined(&f, id, T0);
    }
    due = T0 + f.policy.reservation_ttl;
    ck_assert_int_eq(orderly_engine_run_operations(f.e, T0 + 2000, 0, &ran), 0);
    ck_assert_int_eq(orderly_engine_tick(f.e, due, 0, &fired), 0);
    pump_all(&f, due);
    late = due + f.policy.retention;
    for (i = 0; i < 3; i++) {
        before[i] = in_state(&f, queues[i], ORDERLY_ITEM_DONE);
        ck_assert_uint_ge(before[i], 2);
    }

    ck_assert_uint_eq(purge1(&f, late, 3), 3);
    for (i = 0; i < 3; i++) {
        after[i] = in_state(&f, queues[i], ORDERLY_ITEM_DONE);
        ck_assert_uint_eq(after[i], before[i] - 1);
    }
    total = 3;
    for (k = 0; k < 100 && (n = purge1(&f, late, 3)) > 0; k++) {
        ck_assert_uint_le(n, 3);
        total += n;
    }
    ck_assert_uint_eq(total, before[0] + before[1] + before[2]);
    for (i = 0; i < 3; i++)
        ck_assert_uint_eq(in_state(&f, queues[i], ORDERLY_ITEM_DONE), 0);
    fx_free(&f);
}
END_TEST

/* The memory store's own purge, and a stand-in that reports one row more
 * than it deleted. */
static int (*real_purge)(orderly_storage *, orderly_ctx *, void *, int, orderly_time_ms, size_t);

static int overcounting_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                              orderly_time_ms before, size_t max)
{
    int rc = real_purge(s, ctx, txn, queue, before, max);

    return rc < 0 ? rc : rc + 1;
}

/* A store that claims to have deleted more than it was allowed fails the
 * call (ESTORAGE) and deletes nothing, instead of wrapping the budget. */
START_TEST(overcounting_store_is_estorage)
{
    fx f;
    size_t n = 99, done;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    pump_all(&f, T0);
    done = in_state(&f, ORDERLY_QUEUE_OUTBOX, ORDERLY_ITEM_DONE);
    ck_assert_uint_ge(done, 1);
    real_purge = f.st->queue_purge;
    f.st->queue_purge = overcounting_purge;
    ck_assert_int_eq(orderly_engine_purge(f.e, T0 + f.policy.retention, 1, &n), ORDERLY_ESTORAGE);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "queue_purge deleted"));
    f.st->queue_purge = real_purge;
    ck_assert_uint_eq(in_state(&f, ORDERLY_QUEUE_OUTBOX, ORDERLY_ITEM_DONE), done);
    ck_assert_uint_eq(purge1(&f, T0 + f.policy.retention, 0), done);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("background-purge");

    orderly_test_case(s, fired_timers_purged_after_retention_pending_kept, 30);
    orderly_test_case(s, done_operations_purged_parked_kept, 30);
    orderly_test_case(s, one_budget_shared_by_the_queues, 30);
    orderly_test_case(s, overcounting_store_is_estorage, 30);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
