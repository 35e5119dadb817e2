/*
 * The outbox dispatcher's guarantees: at-least-once delivery in order per
 * order, duplicates only as the same event id, leases that expire after a
 * crash, fenced completions, dead letters that park only their own order,
 * and the retention cleaner.
 */
#include "bg.h"

#define N_ORDERS 5

static const char *const order_ids[N_ORDERS] = { "d0", "d1", "d2", "d3", "d4" };

/* Interleaves the lifecycles of N_ORDERS orders so that one pump batch
 * holds events of several orders. */
static void busy_script(fx *f, orderly_time_ms t)
{
    size_t i;

    for (i = 0; i < N_ORDERS; i++)
        create_ok(f, order_ids[i], ORDERLY_PAY_CARD, t);
    for (i = 0; i < N_ORDERS; i++)
        authorize_ok(f, order_ids[i], t + 1);
    for (i = 0; i < N_ORDERS; i += 2)
        capture_ok(f, order_ids[i], t + 2);
    APPLY_OK(f, "d1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_VOID, 0, 0, t + 3);
    for (i = 0; i < N_ORDERS; i += 2)
        ship_ful(f, order_ids[i], 0, t + 4);
}

/* What a fault-free dispatcher publishes for each order. */
static void reference_ids(id_list want[N_ORDERS])
{
    fx ref;
    size_t i;

    fx_setup(&ref);
    busy_script(&ref, T0);
    pump_all(&ref, T0 + 10);
    ck_assert_uint_eq(health(&ref, T0 + 10).outbox_pending, 0);
    for (i = 0; i < N_ORDERS; i++) {
        ids_of(ref.tr, order_ids[i], &want[i]);
        ck_assert_uint_ge(want[i].n, 3);
    }
    fx_free(&ref);
}

/*
 * The transport fails a third of publishes and the ack (finish) fails a
 * fifth of the time, for ten simulated minutes; then both recover. The
 * faulty phase pumps one event at a time so that a failed ack never rolls
 * back another row's completion (see the report on the memory adapter). Every
 * event arrives, each order's events arrive in commit order once a consumer
 * drops repeated ids, and every extra copy is an exact repeat of an id.
 */
START_TEST(transport_down_then_back_by_event_id)
{
    static id_list want[N_ORDERS], got[N_ORDERS], seen[N_ORDERS];
    fx f;
    orderly_fault_plan tp = ORDERLY_FAULT_PLAN_INIT, sp = ORDERLY_FAULT_PLAN_INIT;
    orderly_time_ms t = T0 + 10;
    size_t i, copies = 0, n;
    int k, rc, acks_failed = 0;

    reference_ids(want);
    fx_setup(&f);
    busy_script(&f, T0);
    tp.probability = 0.33;
    tp.seed = 7;
    sp.method = ORDERLY_METHOD_QUEUE_FINISH;
    sp.probability = 0.2;
    sp.seed = 11;
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, &tp), 0);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &sp), 0);
    for (k = 0; k < 60; k++, t += 10000) {
        rc = orderly_engine_pump(f.e, t, 1, &n);
        ck_assert_msg(rc == 0 || rc == ORDERLY_ESTORAGE, "pump: %d", rc);
        acks_failed += rc == ORDERLY_ESTORAGE;
    }
    ck_assert_int_gt(acks_failed, 0);
    ck_assert_uint_gt(orderly_memory_storage_faults(f.st), 0);
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, NULL), 0);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    for (k = 0; k < 500 && health(&f, t).outbox_pending > 0; k++, t += MIN)
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    ck_assert_uint_eq(health(&f, t).outbox_pending, 0);
    ck_assert_uint_eq(health(&f, t).outbox_dead, 0);
    for (i = 0; i < N_ORDERS; i++) {
        ids_of(f.tr, order_ids[i], &got[i]);
        first_seen(&got[i], &seen[i]);
        assert_same_ids(&seen[i], &want[i], order_ids[i]);
        copies += got[i].n - seen[i].n;
    }
    /* a failed ack after a good publish is the documented duplicate window */
    ck_assert_uint_gt(copies, 0);
    ck_assert_uint_gt(health(&f, t).redelivered_total, 0);
    fx_free(&f);
}
END_TEST

/* ---- a dispatcher that dies in the middle of a batch ------------------------- */

typedef struct crash_plan {
    orderly_storage *st;
    size_t accept;  /* publishes that get out before the process dies */
    int dead;
} crash_plan;

static int die_after(hook_tr *h, const char *topic, const char *key, const uint8_t *data, size_t len)
{
    crash_plan *p = h->user;
    orderly_fault_plan down = ORDERLY_FAULT_PLAN_INIT;

    (void)topic;
    (void)key;
    (void)data;
    (void)len;
    if (!p->dead && h->calls <= p->accept)
        return 0;
    if (!p->dead) {
        /* the process is gone: its storage connection with it */
        p->dead = 1;
        down.fail_at = 1;
        down.persistent = 1;
        ck_assert_int_eq(orderly_memory_storage_set_faults(p->st, &down), 0);
        orderly_memory_storage_crash(p->st);
    }
    return ORDERLY_ETRANSPORT;
}

START_TEST(crash_mid_batch_lease_expiry)
{
    static id_list want[N_ORDERS], got[N_ORDERS], seen[N_ORDERS];
    fx f;
    hook_tr h;
    crash_plan plan;
    orderly_engine *b = NULL;
    orderly_health hb = ORDERLY_HEALTH_INIT;
    orderly_time_ms t = T0 + 10, lease;
    size_t i, batch, n, before, copies = 0;
    rows rs;

    reference_ids(want);
    fx_init(&f);
    memset(&plan, 0, sizeof plan);
    plan.st = f.st;
    plan.accept = 3;
    hook_init(&h, f.tr, die_after, &plan);
    f.o.transport = &h.base;
    fx_open(&f);
    lease = f.policy.lease;
    busy_script(&f, T0);
    batch = (size_t)health(&f, t).outbox_pending;
    ck_assert_uint_gt(batch, plan.accept + 2);

    ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), ORDERLY_ESTORAGE);
    ck_assert_int_eq(plan.dead, 1);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), plan.accept);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    /* the claim committed before the crash: every row is held under its lease */
    queue_rows(f.st, ORDERLY_QUEUE_OUTBOX, &rs);
    ck_assert_uint_eq(rs.n, batch);
    for (i = 0; i < rs.n; i++) {
        ck_assert_uint_eq(rs.r[i].state, ORDERLY_ITEM_LEASED);
        ck_assert_uint_eq(rs.r[i].attempts, 1);
        ck_assert_int_eq(rs.r[i].lease_until, t + lease);
    }
    orderly_engine_close(f.e);
    f.e = NULL;

    /* a fresh dispatcher on the same storage */
    f.o.transport = f.tr;
    ck_assert_int_eq(orderly_engine_open(&b, &f.o, NULL), 0);
    ck_assert_int_eq(orderly_engine_health(b, t + lease - 1, 0, 0, &hb), 0);
    ck_assert_uint_eq(hb.outbox_leased, batch);
    ck_assert_uint_eq(hb.outbox_lease_expired, 0);
    ck_assert_int_eq(orderly_engine_pump(b, t + lease - 1, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), plan.accept);
    ck_assert_int_eq(orderly_engine_health(b, t + lease, 0, 0, &hb), 0);
    ck_assert_uint_eq(hb.outbox_leased, 0);
    ck_assert_uint_eq(hb.outbox_lease_expired, batch);
    ck_assert_uint_eq(hb.outbox_pending, batch);
    ck_assert_uint_eq(hb.leases_expired_total, 0);

    before = orderly_memory_transport_count(f.tr);
    ck_assert_int_eq(orderly_engine_pump(b, t + lease, 0, &n), 0);
    ck_assert_uint_eq(n, batch);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), before + batch);
    ck_assert_int_eq(orderly_engine_health(b, t + lease, 0, 0, &hb), 0);
    ck_assert_uint_eq(hb.outbox_pending, 0);
    ck_assert_uint_eq(hb.leases_expired_total, batch);
    ck_assert_uint_eq(hb.redelivered_total, batch);
    ck_assert_uint_eq(hb.published_total, batch);
    ck_assert_uint_eq(hb.stale_completions, 0);
    for (i = 0; i < N_ORDERS; i++) {
        ids_of(f.tr, order_ids[i], &got[i]);
        first_seen(&got[i], &seen[i]);
        assert_same_ids(&seen[i], &want[i], order_ids[i]);
        copies += got[i].n - seen[i].n;
    }
    /* exactly the events that got out before the crash went out twice */
    ck_assert_uint_eq(copies, plan.accept);
    orderly_engine_close(b);
    fx_free(&f);
}
END_TEST

/* ---- fencing ------------------------------------------------------------------ */

typedef struct takeover {
    orderly_engine *b;
    orderly_time_ms at;
    size_t published;
    int done;
} takeover;

/* The first dispatcher stalls in its first publish long enough for its
 * lease to run out; a second one claims and finishes the rows meanwhile. */
static int stall(hook_tr *h, const char *topic, const char *key, const uint8_t *data, size_t len)
{
    takeover *tk = h->user;

    (void)topic;
    (void)key;
    (void)data;
    (void)len;
    if (!tk->done) {
        tk->done = 1;
        ck_assert_int_eq(orderly_engine_pump(tk->b, tk->at, 0, &tk->published), 0);
    }
    return 0;
}

START_TEST(stale_completion_fenced)
{
    fx f;
    hook_tr h;
    takeover tk;
    alerts al;
    orderly_transport *tb = NULL;
    orderly_engine_options ob;
    orderly_health ha = ORDERLY_HEALTH_INIT, hb = ORDERLY_HEALTH_INIT;
    orderly_time_ms t = T0 + 10;
    size_t i, batch, n;
    rows before, after;

    memset(&tk, 0, sizeof tk);
    memset(&al, 0, sizeof al);
    fx_init(&f);
    hook_init(&h, f.tr, stall, &tk);
    f.o.transport = &h.base;
    f.o.on_alert = record_alert;
    f.o.alert_user_data = &al;
    fx_open(&f);
    ck_assert_int_eq(orderly_memory_transport_new(&tb, NULL), 0);
    ob = f.o;
    ob.transport = tb;
    ob.on_alert = NULL;
    ck_assert_int_eq(orderly_engine_open(&tk.b, &ob, NULL), 0);
    tk.at = t + f.policy.lease;
    busy_script(&f, T0);
    batch = (size_t)health(&f, t).outbox_pending;

    ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    ck_assert_int_eq(tk.done, 1);
    ck_assert_uint_eq(tk.published, batch);
    queue_rows(f.st, ORDERLY_QUEUE_OUTBOX, &before);
    ck_assert_int_eq(orderly_engine_health(f.e, tk.at, 0, 0, &ha), 0);
    ck_assert_int_eq(orderly_engine_health(tk.b, tk.at, 0, 0, &hb), 0);
    /* every late ack of the first dispatcher was refused, counted and alerted */
    ck_assert_uint_eq(ha.stale_completions, batch);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_STALE_COMPLETION], batch);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_DEAD_LETTER], 0);
    ck_assert_str_ne(al.last_group[ORDERLY_ALERT_STALE_COMPLETION], "");
    ck_assert_uint_eq(hb.stale_completions, 0);
    ck_assert_uint_eq(hb.leases_expired_total, batch);
    ck_assert_uint_eq(ha.outbox_pending, 0);
    ck_assert_uint_eq(ha.outbox_dead, 0);
    /* the rows are as the owner of the lease left them: done once, at its time */
    for (i = 0; i < before.n; i++) {
        ck_assert_uint_eq(before.r[i].state, ORDERLY_ITEM_DONE);
        ck_assert_uint_eq(before.r[i].attempts, 2);
        ck_assert_int_eq(before.r[i].due, tk.at);
    }
    /* nothing is left for anyone to send again */
    ck_assert_int_eq(orderly_engine_pump(f.e, tk.at + DAY, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    queue_rows(f.st, ORDERLY_QUEUE_OUTBOX, &after);
    ck_assert_uint_eq(after.n, before.n);
    ck_assert_uint_eq(orderly_memory_transport_count(tb), batch);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), batch);
    orderly_engine_close(tk.b);
    orderly_memory_transport_free(tb);
    fx_free(&f);
}
END_TEST

/* ---- poison events ---------------------------------------------------------------- */

typedef struct poison {
    char id[33];     /* the event that never goes through */
    size_t refused;
    char once[33];   /* an event refused once, then accepted ("" = none) */
    size_t once_refused;
} poison;

static int refuse_one(hook_tr *h, const char *topic, const char *key, const uint8_t *data, size_t len)
{
    poison *p = h->user;
    orderly_message m;
    char id[33];

    (void)key;
    if (strstr(topic, ".dlq") != NULL)
        return 0;
    m.data = data;
    m.len = len;
    msg_field(&m, "id", id, sizeof id);
    if (strcmp(id, p->id) == 0) {
        p->refused++;
        return ORDERLY_EINVAL; /* the broker refuses this event: not an outage */
    }
    if (p->once[0] != '\0' && strcmp(id, p->once) == 0 && p->once_refused++ == 0)
        return ORDERLY_ETRANSPORT;
    return 0;
}

/*
 * The first event of order "p" is poison. It holds back p's later events
 * and nothing else; after the attempt limit it goes to "<topic>.dlq" with an
 * alert, and p's later events then flow, in order, each delivered once.
 */
START_TEST(poison_parks_only_its_order)
{
    static id_list want_p, got_p, got_q;
    fx f;
    hook_tr h;
    poison ps;
    alerts al;
    orderly_time_ms t = T0 + 10;
    orderly_message m;
    size_t n, q_before;
    int k;

    memset(&ps, 0, sizeof ps);
    memset(&al, 0, sizeof al);
    fx_init(&f);
    hook_init(&h, f.tr, refuse_one, &ps);
    f.o.transport = &h.base;
    f.o.on_alert = record_alert;
    f.o.alert_user_data = &al;
    f.policy.outbox_max_attempts = 4;
    fx_open(&f);

    create_ok(&f, "p", ORDERLY_PAY_CARD, T0);
    create_ok(&f, "q", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "p", T0 + 1);
    authorize_ok(&f, "q", T0 + 1);
    {
        /* which id p's first event has: a twin engine without the poison */
        fx ref;
        fx_setup(&ref);
        create_ok(&ref, "p", ORDERLY_PAY_CARD, T0);
        create_ok(&ref, "q", ORDERLY_PAY_CARD, T0);
        authorize_ok(&ref, "p", T0 + 1);
        authorize_ok(&ref, "q", T0 + 1);
        pump_all(&ref, T0 + 10);
        ids_of(ref.tr, "p", &want_p);
        fx_free(&ref);
    }
    ck_assert_uint_ge(want_p.n, 3);
    memcpy(ps.id, want_p.id[0], 33);

    ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    ids_of(f.tr, "q", &got_q);
    ids_of(f.tr, "p", &got_p);
    ck_assert_uint_ge(got_q.n, 3);
    ck_assert_uint_eq(n, got_q.n);
    ck_assert_uint_eq(got_p.n, 0);
    ck_assert_uint_eq(ps.refused, 1);

    /* q keeps flowing while p is parked */
    q_before = got_q.n;
    ship_ful(&f, "q", 0, t);
    APPLY_OK(&f, "p", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 0, 0, t);
    for (k = 0; k < 40 && al.n[ORDERLY_ALERT_DEAD_LETTER] == 0; k++, t += 2 * HOUR) {
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
        ids_of(f.tr, "p", &got_p);
        if (al.n[ORDERLY_ALERT_DEAD_LETTER] == 0)
            ck_assert_uint_eq(got_p.n, 0);
    }
    ids_of(f.tr, "q", &got_q);
    ck_assert_uint_gt(got_q.n, q_before);
    ck_assert_uint_eq(ps.refused, f.policy.outbox_max_attempts);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_DEAD_LETTER], 1);
    ck_assert_str_eq(al.last_group[ORDERLY_ALERT_DEAD_LETTER], "p");
    ck_assert_uint_eq(count_topic(f.tr, "orderly.order.dlq"), 1);
    {
        size_t i, total = orderly_memory_transport_count(f.tr);
        char id[33];
        for (i = 0; i < total; i++) {
            ck_assert_int_eq(orderly_memory_transport_get(&m, f.tr, i), 0);
            if (strcmp(m.topic, "orderly.order.dlq") == 0)
                break;
        }
        ck_assert_uint_lt(i, total);
        ck_assert_str_eq(m.key, "p");
        msg_field(&m, "id", id, sizeof id);
        ck_assert_str_eq(id, ps.id);
    }

    /* parked until dead-lettered: now p's later events go, in order, once */
    pump_all(&f, t);
    ids_of(f.tr, "p", &got_p);
    /* what p committed after the poison, then its picking */
    ck_assert_uint_gt(got_p.n, want_p.n - 1);
    {
        static id_list once;
        size_t i;
        for (i = 1; i < want_p.n; i++)
            ck_assert_str_eq(got_p.id[i - 1], want_p.id[i]);
        first_seen(&got_p, &once);
        ck_assert_uint_eq(once.n, got_p.n);
    }
    ck_assert_uint_eq(health(&f, t).outbox_dead, 1);
    ck_assert_uint_eq(health(&f, t).outbox_pending, 0);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_DEAD_LETTER], 1);
    fx_free(&f);
}
END_TEST

/*
 * An event held back behind a poison one was never tried: once the poison
 * is dead-lettered it has its whole attempt budget, so one transient failure
 * of it is retried, not dead-lettered.
 */
START_TEST(held_back_event_keeps_its_attempts)
{
    static id_list want_p, got_p;
    fx f;
    hook_tr h;
    poison ps;
    alerts al;
    orderly_time_ms t = T0 + 10;
    size_t n;
    int k;

    memset(&ps, 0, sizeof ps);
    memset(&al, 0, sizeof al);
    {
        fx ref;
        fx_setup(&ref);
        create_ok(&ref, "p", ORDERLY_PAY_CARD, T0);
        authorize_ok(&ref, "p", T0 + 1);
        pump_all(&ref, T0 + 10);
        ids_of(ref.tr, "p", &want_p);
        fx_free(&ref);
    }
    ck_assert_uint_ge(want_p.n, 3);
    memcpy(ps.id, want_p.id[0], 33);
    memcpy(ps.once, want_p.id[1], 33);
    fx_init(&f);
    hook_init(&h, f.tr, refuse_one, &ps);
    f.o.transport = &h.base;
    f.o.on_alert = record_alert;
    f.o.alert_user_data = &al;
    f.policy.outbox_max_attempts = 4;
    fx_open(&f);
    create_ok(&f, "p", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "p", T0 + 1);
    for (k = 0; k < 40 && health(&f, t).outbox_pending > 0; k++, t += 2 * HOUR)
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    ck_assert_uint_eq(ps.refused, 4);
    ck_assert_uint_eq(ps.once_refused, 2);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_DEAD_LETTER], 1);
    ck_assert_uint_eq(health(&f, t).outbox_dead, 1);
    ids_of(f.tr, "p", &got_p);
    ck_assert_uint_eq(got_p.n, want_p.n - 1);
    fx_free(&f);
}
END_TEST

/* An ack transaction that fails after acking some rows rolls them all
 * back; the dispatcher acks again in smaller chunks within the same step,
 * so a passing failure neither fails the step nor redelivers anything. */
START_TEST(failed_ack_chunk_is_retried_smaller)
{
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    orderly_time_ms t = T0 + 10;
    size_t n, published;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1);
    p.method = ORDERLY_METHOD_QUEUE_FINISH;
    p.fail_at = 2;
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    ck_assert_uint_ge(n, 2);
    published = orderly_memory_transport_count(f.tr);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    ck_assert_uint_eq(health(&f, t).outbox_pending, 0);
    ck_assert_int_eq(orderly_engine_pump(f.e, t + DAY, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), published);
    ck_assert_uint_eq(health(&f, t).leases_expired_total, 0);
    fx_free(&f);
}
END_TEST

/* When every ack fails, the step reports the storage error; the rows stay
 * leased and are delivered again once the lease lapses. */
START_TEST(failed_ack_batch_is_redelivered)
{
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    orderly_time_ms t = T0 + 10;
    size_t n;
    int k;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1);
    p.method = ORDERLY_METHOD_QUEUE_FINISH;
    p.fail_at = 1;
    p.persistent = 1;
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), ORDERLY_ESTORAGE);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    ck_assert_uint_ge(health(&f, t).outbox_pending, 1);
    for (k = 0; k < 100 && health(&f, t).outbox_pending > 0; k++, t += MIN)
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    ck_assert_uint_eq(health(&f, t).outbox_pending, 0);
    ck_assert_uint_ge(health(&f, t).leases_expired_total, 1);
    fx_free(&f);
}
END_TEST

/* ---- retention ----------------------------------------------------------------------- */

START_TEST(purge_after_retention_bounded)
{
    fx f;
    orderly_fault_plan down = ORDERLY_FAULT_PLAN_INIT;
    orderly_time_ms t1 = T0 + 10, ret;
    size_t n, purged, total, batch, left, moot;
    rows rs;
    int k;

    fx_setup(&f);
    ret = f.policy.retention;
    ck_assert_int_eq(ret, 30 * DAY);
    busy_script(&f, T0);
    batch = (size_t)health(&f, t1).outbox_pending;
    pump_all(&f, t1);
    ck_assert_uint_eq(health(&f, t1).published_total, batch);
    /* one more event that cannot be published: never purged, whatever its age */
    create_ok(&f, "stuck", ORDERLY_PAY_CARD, t1);
    down.fail_at = 1;
    down.persistent = 1;
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, &down), 0);
    ck_assert_int_eq(orderly_engine_pump(f.e, t1, 0, &n), 0);
    ck_assert_uint_eq(n, 0);

    /* the script's captures and shipments made deadlines moot: their
     * commands finished those timer rows before t1, so only they go now */
    ck_assert_uint_gt(done_rows(f.st, ORDERLY_QUEUE_TIMERS), 0);
    moot = done_rows(f.st, ORDERLY_QUEUE_TIMERS);
    ck_assert_int_eq(orderly_engine_purge(f.e, t1 + ret - 1, 0, &purged), 0);
    ck_assert_uint_eq(purged, moot);
    ck_assert_uint_eq(done_rows(f.st, ORDERLY_QUEUE_TIMERS), 0);
    total = 0;
    for (k = 0; k < 100; k++) {
        left = batch - total;
        ck_assert_int_eq(orderly_engine_purge(f.e, t1 + ret, 3, &purged), 0);
        ck_assert_uint_eq(purged, left < 3 ? left : 3);
        if (purged == 0)
            break;
        total += purged;
    }
    ck_assert_uint_eq(total, batch);
    queue_rows(f.st, ORDERLY_QUEUE_OUTBOX, &rs);
    ck_assert_uint_eq(rs.n, 1);
    ck_assert_str_eq(rs.r[0].group, "stuck");
    ck_assert_uint_ne(rs.r[0].state, ORDERLY_ITEM_DONE);
    ck_assert_int_eq(orderly_engine_purge(f.e, t1 + 10 * ret, 0, &purged), 0);
    ck_assert_uint_eq(purged, 0);
    ck_assert_uint_eq(health(&f, t1 + ret).outbox_pending, 1);
    fx_free(&f);
}
END_TEST

/* A purge that fails part-way deletes nothing (one transaction per call). */
START_TEST(purge_storage_fault_all_or_nothing)
{
    fx f;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    size_t purged, batch, moot;
    rows rs;

    fx_setup(&f);
    busy_script(&f, T0);
    moot = done_rows(f.st, ORDERLY_QUEUE_TIMERS);
    batch = (size_t)health(&f, T0 + 10).outbox_pending;
    pump_all(&f, T0 + 10);
    p.method = ORDERLY_METHOD_COMMIT;
    p.fail_at = 1;
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    ck_assert_int_eq(orderly_engine_purge(f.e, T0 + 10 + 31 * DAY, 0, &purged), ORDERLY_ESTORAGE);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    queue_rows(f.st, ORDERLY_QUEUE_OUTBOX, &rs);
    ck_assert_uint_eq(rs.n, batch);
    ck_assert_uint_eq(done_rows(f.st, ORDERLY_QUEUE_TIMERS), moot);
    ck_assert_int_eq(orderly_engine_purge(f.e, T0 + 10 + 31 * DAY, 0, &purged), 0);
    ck_assert_uint_eq(purged, batch + moot);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("background-delivery");

    orderly_test_case(s, transport_down_then_back_by_event_id, 60);
    orderly_test_case(s, crash_mid_batch_lease_expiry, 30);
    orderly_test_case(s, stale_completion_fenced, 30);
    orderly_test_case(s, poison_parks_only_its_order, 30);
    orderly_test_case(s, held_back_event_keeps_its_attempts, 30);
    orderly_test_case(s, failed_ack_chunk_is_retried_smaller, 30);
    orderly_test_case(s, failed_ack_batch_is_redelivered, 30);
    orderly_test_case(s, purge_after_retention_bounded, 30);
    orderly_test_case(s, purge_storage_fault_all_or_nothing, 30);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
