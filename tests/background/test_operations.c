/*
 * The operation queue: one retry path with backoff for every
 * operation, exhaustion parked with an alert, list / inspect / replay for
 * operators, and the commands topic for operations nobody executes.
 */
#include "bg.h"

#include "wire/record.h"

/* An executor that fails while fails_left > 0, recording each call. */
typedef struct flaky {
    int fails_left;
    int calls;
    int op;
    uint32_t attempts[16];
    char order[ORDERLY_ID_MAX + 1];
} flaky;

static int flaky_exec(const orderly_operation_view *v, void *ud)
{
    flaky *fl = ud;

    ck_assert_int_eq(v->state, ORDERLY_ITEM_LEASED);
    if (fl->calls < 16)
        fl->attempts[fl->calls] = v->attempts;
    fl->calls++;
    fl->op = v->op;
    snprintf(fl->order, sizeof fl->order, "%s", v->order_id);
    if (fl->fails_left > 0) {
        fl->fails_left--;
        return ORDERLY_EUSER;
    }
    return 0;
}

/* The operation row of op (the last one when several). */
static row operation_row(fx *f, int op)
{
    rows rs;
    row r;
    size_t i, n = 0;

    memset(&r, 0, sizeof r);
    queue_rows(f->st, ORDERLY_QUEUE_OPERATIONS, &rs);
    for (i = 0; i < rs.n; i++)
        if (rs.r[i].kind == (uint32_t)op) {
            r = rs.r[i];
            n++;
        }
    ck_assert_uint_ge(n, 1);
    return r;
}

static void declined(fx *f, const char *id, orderly_time_ms t)
{
    create_ok(f, id, ORDERLY_PAY_CARD, t);
    APPLY_OK(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, t + 1000);
}

/* Fails twice, then succeeds; never runs before its backoff is due, and the
 * backoff grows within the exponential cap. */
START_TEST(executor_retry_respects_backoff)
{
    fx f;
    flaky fl;
    row r;
    orderly_time_ms t = T0 + 2000, cap = 0;
    size_t done;
    int k;

    memset(&fl, 0, sizeof fl);
    fl.fails_left = 2;
    fx_setup(&f);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_RELEASE_RESERVATIONS, flaky_exec, &fl), 0);
    declined(&f, "o1", T0);
    for (k = 1; k <= 2; k++) {
        ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &done), 0);
        ck_assert_int_eq(fl.calls, k);
        ck_assert_uint_eq(done, 0);
        r = operation_row(&f, ORDERLY_OP_RELEASE_RESERVATIONS);
        ck_assert_uint_eq(r.state, ORDERLY_ITEM_READY);
        ck_assert_uint_eq(r.attempts, (uint32_t)k);
        cap = f.policy.backoff_base << (k - 1);
        ck_assert_int_ge(r.due, t);
        ck_assert_int_le(r.due, t + cap);
        if (r.due > t) {
            ck_assert_int_eq(orderly_engine_run_operations(f.e, r.due - 1, 0, &done), 0);
            ck_assert_int_eq(fl.calls, k);
        }
        t = r.due;
    }
    ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &done), 0);
    ck_assert_uint_eq(done, 1);
    ck_assert_int_eq(fl.calls, 3);
    ck_assert_uint_eq(fl.attempts[0], 1);
    ck_assert_uint_eq(fl.attempts[2], 3);
    ck_assert_str_eq(fl.order, "o1");
    r = operation_row(&f, ORDERLY_OP_RELEASE_RESERVATIONS);
    ck_assert_uint_eq(r.state, ORDERLY_ITEM_DONE);
    ck_assert_uint_eq(r.attempts, 3);
    ck_assert_int_eq(orderly_engine_run_operations(f.e, t + 30 * DAY, 0, &done), 0);
    ck_assert_int_eq(fl.calls, 3);
    ck_assert_uint_eq(health(&f, t).operations_exhausted, 0);
    fx_free(&f);
}
END_TEST

/* The backoff is capped by policy.backoff_max however many attempts. */
START_TEST(backoff_capped)
{
    fx f;
    flaky fl;
    row r;
    orderly_time_ms t = T0 + 2000;
    size_t done;
    int k;

    memset(&fl, 0, sizeof fl);
    fl.fails_left = 1000;
    fx_init(&f);
    f.policy.backoff_base = 1000;
    f.policy.backoff_max = 4000;
    f.policy.operation_max_attempts = 12;
    fx_open(&f);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_RELEASE_RESERVATIONS, flaky_exec, &fl), 0);
    declined(&f, "o1", T0);
    for (k = 1; k < 12; k++) {
        ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &done), 0);
        ck_assert_int_eq(fl.calls, k);
        r = operation_row(&f, ORDERLY_OP_RELEASE_RESERVATIONS);
        ck_assert_int_le(r.due - t, 4000);
        t = r.due;
    }
    fx_free(&f);
}
END_TEST

typedef struct seen_op {
    uint64_t id;
    int op, state;
    uint32_t attempts, index, n_lines;
    int64_t amount;
    char order[ORDERLY_ID_MAX + 1];
    char key[40];
    uint64_t sku[ORDERLY_LINES_MAX];
    uint32_t warehouse[ORDERLY_LINES_MAX], quantity[ORDERLY_LINES_MAX];
} seen_op;

static int copy_op(const orderly_operation_view *v, void *ud)
{
    seen_op *s = ud;
    uint32_t i;

    memset(s, 0, sizeof *s);
    s->id = v->id;
    s->op = v->op;
    s->state = v->state;
    s->attempts = v->attempts;
    s->index = v->index;
    s->amount = v->amount;
    s->n_lines = v->n_lines;
    snprintf(s->order, sizeof s->order, "%s", v->order_id);
    snprintf(s->key, sizeof s->key, "%s", v->key);
    for (i = 0; i < v->n_lines && i < ORDERLY_LINES_MAX; i++) {
        s->sku[i] = v->sku[i];
        s->warehouse[i] = v->warehouse[i];
        s->quantity[i] = v->quantity[i];
    }
    return 0;
}

START_TEST(exhaustion_parks_alerts_and_replays)
{
    fx f;
    flaky fl;
    alerts al;
    operation_list dead;
    seen_op s;
    orderly_health h = ORDERLY_HEALTH_INIT;
    orderly_time_ms t = T0 + 2000;
    size_t done, i;
    int k;

    memset(&fl, 0, sizeof fl);
    memset(&al, 0, sizeof al);
    fl.fails_left = 1000;
    fx_init(&f);
    f.policy.operation_max_attempts = 3;
    f.o.on_alert = record_alert;
    f.o.alert_user_data = &al;
    fx_open(&f);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_RELEASE_RESERVATIONS, flaky_exec, &fl), 0);
    declined(&f, "o1", T0);
    declined(&f, "o2", T0);
    for (k = 0; k < 10 && al.n[ORDERLY_ALERT_OPERATION_EXHAUSTED] < 2; k++, t += HOUR)
        ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &done), 0);
    ck_assert_int_eq(k, 3);
    ck_assert_int_eq(fl.calls, 6);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_OPERATION_EXHAUSTED], 2);
    ck_assert_str_eq(al.last_group[ORDERLY_ALERT_OPERATION_EXHAUSTED], "o2");
    ck_assert_ptr_nonnull(strstr(al.last_message[ORDERLY_ALERT_OPERATION_EXHAUSTED], "release_reservations"));
    h = health(&f, t);
    ck_assert_uint_eq(h.operations_exhausted, 2);
    ck_assert_uint_eq(h.operations_pending, 0);
    /* parked: no more attempts, however long we wait */
    ck_assert_int_eq(orderly_engine_run_operations(f.e, t + 30 * DAY, 0, &done), 0);
    ck_assert_int_eq(fl.calls, 6);

    /* the operator's view */
    memset(&dead, 0, sizeof dead);
    ck_assert_int_eq(orderly_engine_list_operations(f.e, ORDERLY_ITEM_DEAD, 0, 64, collect_cb, &dead), 0);
    ck_assert_uint_eq(dead.n, 2);
    for (i = 0; i < dead.n; i++) {
        ck_assert_int_eq(dead.r[i].op, ORDERLY_OP_RELEASE_RESERVATIONS);
        ck_assert_int_eq(dead.r[i].state, ORDERLY_ITEM_DEAD);
        ck_assert_uint_eq(dead.r[i].attempts, 3);
    }
    ck_assert_str_eq(dead.r[0].order, "o1");
    ck_assert_int_eq(orderly_engine_inspect_operation(f.e, dead.r[0].id, copy_op, &s), 0);
    ck_assert_uint_eq(s.id, dead.r[0].id);
    ck_assert_int_eq(s.op, ORDERLY_OP_RELEASE_RESERVATIONS);
    ck_assert_str_eq(s.order, "o1");
    ck_assert_uint_eq(strlen(s.key), 32);
    ck_assert_uint_eq(strspn(s.key, "0123456789abcdef"), 32);
    ck_assert_uint_eq(s.n_lines, 2);
    ck_assert_uint_eq(s.sku[0], 101);
    ck_assert_uint_eq(s.warehouse[0], 1);
    ck_assert_uint_eq(s.quantity[0], 2);
    ck_assert_uint_eq(s.sku[1], 202);
    ck_assert_uint_eq(s.warehouse[1], 2);
    ck_assert_uint_eq(s.quantity[1], 1);
    ck_assert_int_eq(s.state, ORDERLY_ITEM_DEAD);
    ck_assert_uint_eq(s.attempts, 3);
    {
        /* each operation has its own key */
        seen_op s2;
        ck_assert_int_eq(orderly_engine_inspect_operation(f.e, dead.r[1].id, copy_op, &s2), 0);
        ck_assert_str_ne(s2.key, s.key);
        ck_assert_str_eq(s2.order, "o2");
    }
    ck_assert_int_eq(orderly_engine_inspect_operation(f.e, 999999, copy_op, &s), ORDERLY_ENOTFOUND);

    /* replay one: it runs again with a fresh budget, with the same record */
    fl.fails_left = 0;
    ck_assert_int_eq(orderly_engine_replay_operation(f.e, dead.r[0].id, t + DAY), 0);
    ck_assert_uint_eq(health(&f, t + DAY).operations_exhausted, 1);
    ck_assert_uint_eq(health(&f, t + DAY).operations_pending, 1);
    ck_assert_int_eq(orderly_engine_run_operations(f.e, t + DAY, 0, &done), 0);
    ck_assert_uint_eq(done, 1);
    ck_assert_int_eq(fl.calls, 7);
    ck_assert_uint_eq(fl.attempts[6], 1);
    ck_assert_str_eq(fl.order, "o1");
    ck_assert_int_eq(orderly_engine_inspect_operation(f.e, dead.r[0].id, copy_op, &s), 0);
    ck_assert_int_eq(s.state, ORDERLY_ITEM_DONE);
    h = health(&f, t + DAY);
    ck_assert_uint_eq(h.operations_exhausted, 1);
    ck_assert_uint_eq(h.operations_pending, 0);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_OPERATION_EXHAUSTED], 2);
    ck_assert_int_eq(orderly_engine_replay_operation(f.e, 999999, t + DAY), ORDERLY_ENOTFOUND);
    fx_free(&f);
}
END_TEST

START_TEST(list_by_state_and_pages)
{
    fx f;
    flaky fl;
    operation_list all, page, ready, done_l;
    uint64_t after = 0;
    size_t i, total = 0, done;
    char id[16];
    int pages = 0;

    memset(&fl, 0, sizeof fl);
    fx_setup(&f);
    for (i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "o%zu", i);
        declined(&f, id, T0);
    }
    operations(&f, &all);
    ck_assert_uint_ge(all.n, 5);
    for (i = 1; i < all.n; i++)
        ck_assert_uint_gt(all.r[i].id, all.r[i - 1].id);
    /* pages of two, resumed from the last id seen, cover the list once */
    for (;;) {
        memset(&page, 0, sizeof page);
        ck_assert_int_eq(orderly_engine_list_operations(f.e, -1, after, 2, collect_cb, &page), 0);
        ck_assert_uint_le(page.n, 2);
        if (page.n == 0)
            break;
        for (i = 0; i < page.n; i++)
            ck_assert_uint_eq(page.r[i].id, all.r[total + i].id);
        total += page.n;
        after = page.r[page.n - 1].id;
        pages++;
    }
    ck_assert_uint_eq(total, all.n);
    ck_assert_int_eq(pages, (int)((all.n + 1) / 2));

    /* run the releases only: the list splits by state */
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_RELEASE_RESERVATIONS, flaky_exec, &fl), 0);
    ck_assert_int_eq(orderly_engine_run_operations(f.e, T0 + HOUR, 3, &done), 0);
    memset(&ready, 0, sizeof ready);
    memset(&done_l, 0, sizeof done_l);
    ck_assert_int_eq(orderly_engine_list_operations(f.e, ORDERLY_ITEM_READY, 0, 64, collect_cb, &ready), 0);
    ck_assert_int_eq(orderly_engine_list_operations(f.e, ORDERLY_ITEM_DONE, 0, 64, collect_cb, &done_l), 0);
    ck_assert_uint_eq(done_l.n, 3);
    ck_assert_uint_eq(ready.n + done_l.n, all.n);
    for (i = 0; i < done_l.n; i++)
        ck_assert_int_eq(done_l.r[i].state, ORDERLY_ITEM_DONE);
    for (i = 0; i < ready.n; i++)
        ck_assert_int_eq(ready.r[i].state, ORDERLY_ITEM_READY);
    ck_assert_int_eq(orderly_engine_list_operations(f.e, -1, 0, 10, NULL, NULL), ORDERLY_EINVAL);
    fx_free(&f);
}
END_TEST

/* P0-2024-01: a return's failed restock takes the one path: retried,
 * parked with an alert when exhausted, replayed by an operator. */
START_TEST(restock_exhausted_then_replayed)
{
    fx f;
    flaky fl;
    alerts al;
    orderly_result r = ORDERLY_RESULT_INIT;
    operation_rec ef;
    uint32_t idx = 0;
    orderly_time_ms t = T0 + HOUR;
    size_t done;
    int k;

    memset(&fl, 0, sizeof fl);
    memset(&al, 0, sizeof al);
    fl.fails_left = 1000;
    fx_init(&f);
    f.policy.operation_max_attempts = 2;
    f.o.on_alert = record_alert;
    f.o.alert_user_data = &al;
    fx_open(&f);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_RESTOCK, flaky_exec, &fl), 0);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 0, "ret-1", t, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, idx, 0, t);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RETURN, idx), ORDERLY_RETURN_COMPLETED);
    for (k = 0; k < 10 && al.n[ORDERLY_ALERT_OPERATION_EXHAUSTED] == 0; k++, t += HOUR)
        ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &done), 0);
    ck_assert_int_eq(fl.calls, 2);
    ck_assert_int_eq(fl.op, ORDERLY_OP_RESTOCK);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_OPERATION_EXHAUSTED], 1);
    ck_assert_str_eq(al.last_group[ORDERLY_ALERT_OPERATION_EXHAUSTED], "o1");
    ck_assert_uint_eq(health(&f, t).operations_exhausted, 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, &ef), 1);
    ck_assert_int_eq(ef.state, ORDERLY_ITEM_DEAD);
    ck_assert_uint_eq(al.last_item[ORDERLY_ALERT_OPERATION_EXHAUSTED], ef.id);
    /* the restock records what goes back: the returned unit */
    ck_assert_uint_eq(ef.n_lines, 1);
    ck_assert_uint_eq(ef.quantity[0], 1);
    fl.fails_left = 0;
    ck_assert_int_eq(orderly_engine_replay_operation(f.e, ef.id, t), 0);
    ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &done), 0);
    ck_assert_int_eq(fl.calls, 3);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RESTOCK, &ef), 1);
    ck_assert_int_eq(ef.state, ORDERLY_ITEM_DONE);
    ck_assert_uint_eq(health(&f, t).operations_exhausted, 0);
    fx_free(&f);
}
END_TEST

/* Each op is parked at its declared limit under the policy's cap: with
 * the cap raised to 20, a cancelled card order's void_authorization
 * (declared 8, its authorization lapses by itself) parks after 8 attempts
 * while its release_reservations (declared 24) keeps going up to the cap. */
START_TEST(declared_limit_per_op_under_the_cap)
{
    fx f;
    flaky voids, releases;
    alerts al;
    operation_rec ef;
    orderly_time_ms t = T0 + HOUR;
    size_t done;
    int k;

    ck_assert_uint_eq(orderly_op_default_attempts(ORDERLY_OP_VOID_AUTHORIZATION), 8);
    ck_assert_uint_eq(orderly_op_default_attempts(ORDERLY_OP_RELEASE_RESERVATIONS), 24);
    ck_assert_uint_eq(orderly_op_default_attempts(ORDERLY_OP_HOST), 0);
    ck_assert_uint_eq(orderly_op_default_attempts(0), 0);
    memset(&voids, 0, sizeof voids);
    memset(&releases, 0, sizeof releases);
    memset(&al, 0, sizeof al);
    voids.fails_left = releases.fails_left = 1000;
    fx_init(&f);
    f.policy.operation_max_attempts = 20;
    f.policy.backoff_base = 1000;
    f.policy.backoff_max = 4000;
    f.o.on_alert = record_alert;
    f.o.alert_user_data = &al;
    fx_open(&f);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_VOID_AUTHORIZATION, flaky_exec, &voids), 0);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_RELEASE_RESERVATIONS, flaky_exec, &releases), 0);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, T0 + 2000);
    for (k = 0; k < 40 && al.n[ORDERLY_ALERT_OPERATION_EXHAUSTED] == 0; k++, t += MIN)
        ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &done), 0);
    ck_assert_int_eq(voids.calls, 8);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_OPERATION_EXHAUSTED], 1);
    ck_assert_ptr_nonnull(strstr(al.last_message[ORDERLY_ALERT_OPERATION_EXHAUSTED], "void_authorization"));
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, &ef), 1);
    ck_assert_int_eq(ef.state, ORDERLY_ITEM_DEAD);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, &ef), 1);
    ck_assert_int_eq(ef.state, ORDERLY_ITEM_READY);
    /* the release goes on to the policy's cap, not its own 24 */
    for (k = 0; k < 40 && al.n[ORDERLY_ALERT_OPERATION_EXHAUSTED] == 1; k++, t += MIN)
        ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &done), 0);
    ck_assert_int_eq(releases.calls, 20);
    ck_assert_int_eq(voids.calls, 8);
    ck_assert_ptr_nonnull(strstr(al.last_message[ORDERLY_ALERT_OPERATION_EXHAUSTED], "release_reservations"));
    fx_free(&f);
}
END_TEST

/* A host sets one op's limit: release_reservations parks after 2 attempts
 * while the void of the same cancelled order keeps going; bad calls are
 * refused with a message, and 0 goes back to the declared limit. */
START_TEST(host_sets_one_ops_limit)
{
    fx f;
    flaky voids, releases;
    alerts al;
    operation_rec ef;
    orderly_time_ms t = T0 + HOUR;
    size_t done;
    int k;

    memset(&voids, 0, sizeof voids);
    memset(&releases, 0, sizeof releases);
    memset(&al, 0, sizeof al);
    voids.fails_left = releases.fails_left = 1000;
    fx_init(&f);
    f.policy.backoff_base = 1000;
    f.policy.backoff_max = 4000;
    f.o.on_alert = record_alert;
    f.o.alert_user_data = &al;
    fx_open(&f);
    ck_assert_int_eq(orderly_engine_set_op_attempts(f.e, 0, 2), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "not an orderly op"));
    ck_assert_int_eq(orderly_engine_set_op_attempts(f.e, 42, 2), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_set_op_attempts(f.e, ORDERLY_OP_HOST, 2), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_set_op_attempts(f.e, ORDERLY_OP_REFUND, 9), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "operation_max_attempts"));
    ck_assert_int_eq(orderly_engine_set_op_attempts(NULL, ORDERLY_OP_REFUND, 2), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_set_op_attempts(f.e, ORDERLY_OP_VOID_AUTHORIZATION, 3), 0);
    ck_assert_int_eq(orderly_engine_set_op_attempts(f.e, ORDERLY_OP_VOID_AUTHORIZATION, 0), 0);
    ck_assert_int_eq(orderly_engine_set_op_attempts(f.e, ORDERLY_OP_RELEASE_RESERVATIONS, 2), 0);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_VOID_AUTHORIZATION, flaky_exec, &voids), 0);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_RELEASE_RESERVATIONS, flaky_exec, &releases), 0);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, T0 + 2000);
    for (k = 0; k < 40 && al.n[ORDERLY_ALERT_OPERATION_EXHAUSTED] == 0; k++, t += MIN)
        ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &done), 0);
    ck_assert_int_eq(releases.calls, 2);
    ck_assert_ptr_nonnull(strstr(al.last_message[ORDERLY_ALERT_OPERATION_EXHAUSTED], "release_reservations"));
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_VOID_AUTHORIZATION, &ef), 1);
    ck_assert_int_eq(ef.state, ORDERLY_ITEM_READY);
    /* the void keeps its declared 8 (the default cap): the reset to 0 held */
    for (k = 0; k < 40 && al.n[ORDERLY_ALERT_OPERATION_EXHAUSTED] == 1; k++, t += MIN)
        ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &done), 0);
    ck_assert_int_eq(voids.calls, 8);
    ck_assert_int_eq(releases.calls, 2);
    fx_free(&f);
}
END_TEST

/* Without an executor an operation travels as a command event on the
 * commands topic, on the same retry path. */
START_TEST(no_executor_publishes_command)
{
    fx f;
    orderly_fault_plan down = ORDERLY_FAULT_PLAN_INIT;
    orderly_message m;
    operation_rec ef;
    seen_op s;
    char type[96], id[40], subject[40];
    size_t done, before;

    fx_setup(&f);
    declined(&f, "o1", T0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, &ef), 1);
    ck_assert_int_eq(orderly_engine_inspect_operation(f.e, ef.id, copy_op, &s), 0);
    pump_all(&f, T0 + 2000);
    before = orderly_memory_transport_count(f.tr);
    down.fail_at = 1;
    down.persistent = 1;
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, &down), 0);
    ck_assert_int_eq(orderly_engine_run_operations(f.e, T0 + 2000, 0, &done), 0);
    ck_assert_uint_eq(done, 0);
    ck_assert_uint_eq(operation_row(&f, ORDERLY_OP_RELEASE_RESERVATIONS).state, ORDERLY_ITEM_READY);
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, NULL), 0);
    ck_assert_int_eq(orderly_engine_run_operations(f.e, T0 + HOUR, 0, &done), 0);
    ck_assert_uint_ge(done, 1);
    ck_assert_uint_eq(operation_row(&f, ORDERLY_OP_RELEASE_RESERVATIONS).state, ORDERLY_ITEM_DONE);
    ck_assert_uint_eq(count_topic(f.tr, orderly_topic_default_name(ORDERLY_TOPIC_COMMANDS)),
                      orderly_memory_transport_count(f.tr) - before);
    ck_assert_int_eq(orderly_memory_transport_get(&m, f.tr, before), 0);
    ck_assert_str_eq(m.topic, "orderly.commands");
    ck_assert_str_eq(m.key, "o1");
    msg_field(&m, "type", type, sizeof type);
    msg_field(&m, "id", id, sizeof id);
    msg_field(&m, "subject", subject, sizeof subject);
    ck_assert_str_eq(type, "orderly.command.release_reservations");
    ck_assert_str_eq(id, s.key);
    ck_assert_str_eq(subject, "o1");
    {
        /* the lines it touches travel with it */
        char *body = malloc(m.len + 1);
        ck_assert_ptr_nonnull(body);
        memcpy(body, m.data, m.len);
        body[m.len] = '\0';
        ck_assert_ptr_nonnull(strstr(body, "\"sku\":101"));
        ck_assert_ptr_nonnull(strstr(body, "\"sku\":202"));
        free(body);
    }
    fx_free(&f);
}
END_TEST

/* A host-defined operation, recorded straight into the queue (the engine
 * has no public way to record one yet): its executor runs it; without
 * one it is published as a command that names its code. */
static void push_host_op(fx *f, int op, const char *order)
{
    struct orderly__operation_rec r;
    orderly_queue_item it;
    uint8_t buf[ORDERLY__RECORD_MAX];
    uint64_t id = 0;
    void *txn = NULL;

    memset(&r, 0, sizeof r);
    snprintf(r.order_id, sizeof r.order_id, "%s", order);
    memset(r.key, 0xab, sizeof r.key);
    r.op = (uint8_t)op;
    r.amount = 42;
    memset(&it, 0, sizeof it);
    it.group = "";
    it.kind = (uint32_t)op;
    it.payload = buf;
    it.payload_len = orderly__operation_rec_encode(&r, buf, sizeof buf);
    it.created = T0;
    it.due = T0;
    ck_assert_uint_gt(it.payload_len, 0);
    ck_assert_int_eq(f->st->begin(f->st, NULL, &txn), 0);
    ck_assert_int_eq(f->st->queue_push(f->st, NULL, txn, ORDERLY_QUEUE_OPERATIONS, &it, &id), 0);
    ck_assert_int_eq(f->st->commit(f->st, NULL, txn), 0);
}

START_TEST(host_defined_op)
{
    fx f;
    flaky fl;
    orderly_message m;
    char type[96];
    size_t done, before;

    memset(&fl, 0, sizeof fl);
    fx_setup(&f);
    ck_assert_str_eq(orderly_op_name(ORDERLY_OP_HOST + 5), "host");
    ck_assert_ptr_null(orderly_op_name(50));
    ck_assert_ptr_null(orderly_op_name(0));
    ck_assert_int_eq(orderly_engine_set_executor(f.e, 50, flaky_exec, &fl), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, 0, flaky_exec, &fl), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_HOST + 5, flaky_exec, &fl), 0);
    push_host_op(&f, ORDERLY_OP_HOST + 5, "h1");
    orderly_engine_wake(f.e); /* the row was pushed behind the engine's back */
    ck_assert_int_eq(orderly_engine_run_operations(f.e, T0, 0, &done), 0);
    ck_assert_uint_eq(done, 1);
    ck_assert_int_eq(fl.calls, 1);
    ck_assert_int_eq(fl.op, ORDERLY_OP_HOST + 5);
    ck_assert_str_eq(fl.order, "h1");

    /* executor removed: the next one is published as a command */
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_HOST + 5, NULL, NULL), 0);
    push_host_op(&f, ORDERLY_OP_HOST + 5, "h2");
    orderly_engine_wake(f.e);
    before = orderly_memory_transport_count(f.tr);
    ck_assert_int_eq(orderly_engine_run_operations(f.e, T0, 0, &done), 0);
    ck_assert_uint_eq(done, 1);
    ck_assert_int_eq(fl.calls, 1);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), before + 1);
    ck_assert_int_eq(orderly_memory_transport_get(&m, f.tr, before), 0);
    ck_assert_str_eq(m.topic, "orderly.commands");
    ck_assert_str_eq(m.key, "h2");
    msg_field(&m, "type", type, sizeof type);
    ck_assert_str_eq(type, "orderly.command.host.105");
    {
        char *body = malloc(m.len + 1);
        ck_assert_ptr_nonnull(body);
        memcpy(body, m.data, m.len);
        body[m.len] = '\0';
        ck_assert_ptr_nonnull(strstr(body, "\"code\":105"));
        ck_assert_ptr_nonnull(strstr(body, "\"amount\":42"));
        free(body);
    }
    fx_free(&f);
}
END_TEST

/* An executor that reports the gateway's answer straight back to the
 * engine, with a host that pumps from inside on_work. */
typedef struct loopback {
    orderly_engine *e;
    int calls;
    size_t pumped;
} loopback;

static loopback lb;

static void pump_inside(orderly_engine *e, size_t n, void *ud)
{
    size_t published = 0;

    (void)n;
    (void)ud;
    ck_assert_int_eq(orderly_engine_pump(e, T0 + HOUR, 0, &published), 0);
    lb.pumped += published;
}

static int capture_and_report(const orderly_operation_view *v, void *ud)
{
    orderly_command c;
    orderly_result r = ORDERLY_RESULT_INIT;
    char key[64];

    (void)ud;
    lb.calls++;
    memset(&c, 0, sizeof c);
    snprintf(key, sizeof key, "gw-%s", v->key);
    c.order_id = v->order_id;
    c.machine = ORDERLY_MACHINE_PAYMENT;
    c.event = ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED;
    c.idem_key = key;
    c.now = T0 + HOUR;
    return orderly_engine_apply(lb.e, &c, &r);
}

START_TEST(executor_applies_with_pump_in_on_work)
{
    fx f;
    orderly_health h = ORDERLY_HEALTH_INIT;
    operation_list done_l;
    size_t done, before;

    memset(&lb, 0, sizeof lb);
    fx_init(&f);
    f.o.on_work = pump_inside;
    fx_open(&f);
    lb.e = f.e;
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_CAPTURE, capture_and_report, NULL), 0);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    create_ok(&f, "o2", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1);
    authorize_ok(&f, "o2", T0 + 1);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2);
    APPLY_OK(&f, "o2", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2);
    before = lb.pumped;
    ck_assert_int_eq(orderly_engine_run_operations(f.e, T0 + HOUR, 0, &done), 0);
    ck_assert_int_eq(lb.calls, 2);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_CAPTURED);
    ck_assert_int_eq(view(&f, "o2").payment_state, ORDERLY_PAYMENT_CAPTURED);
    memset(&done_l, 0, sizeof done_l);
    ck_assert_int_eq(orderly_engine_list_operations(f.e, ORDERLY_ITEM_DONE, 0, 64, collect_cb, &done_l), 0);
    ck_assert_uint_eq(count_op(&f, NULL, ORDERLY_OP_CAPTURE, NULL), 2);
    h = health(&f, T0 + HOUR);
    ck_assert_uint_eq(h.stale_completions, 0);
    ck_assert_uint_eq(h.outbox_pending, 0);
    ck_assert_uint_gt(lb.pumped, before);
    {
        size_t i, caps = 0;
        for (i = 0; i < done_l.n; i++)
            caps += done_l.r[i].op == ORDERLY_OP_CAPTURE;
        ck_assert_uint_eq(caps, 2);
    }
    ck_assert_int_eq(orderly_engine_run_operations(f.e, T0 + DAY, 0, &done), 0);
    ck_assert_int_eq(lb.calls, 2);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("background-operations");

    orderly_test_case(s, executor_retry_respects_backoff, 30);
    orderly_test_case(s, backoff_capped, 30);
    orderly_test_case(s, executor_applies_with_pump_in_on_work, 30);
    orderly_test_case(s, exhaustion_parks_alerts_and_replays, 30);
    orderly_test_case(s, declared_limit_per_op_under_the_cap, 30);
    orderly_test_case(s, host_sets_one_ops_limit, 30);
    orderly_test_case(s, list_by_state_and_pages, 30);
    orderly_test_case(s, restock_exhausted_then_replayed, 30);
    orderly_test_case(s, no_executor_publishes_command, 30);
    orderly_test_case(s, host_defined_op, 30);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
