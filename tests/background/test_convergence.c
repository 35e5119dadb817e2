/*
 * Background work converges: whatever fails (a flaky store, a broker that
 * is away or slow, a dead-letter topic that refuses, an undecodable row),
 * the outbox, the timers and the operation queue reach a fixed point
 * with nothing lost, no attempt count above its limit and no row stuck.
 */
#include "bg.h"

/* ---- a broker that is away -------------------------------------------------------- */

static int broker_down(hook_tr *h, const char *topic, const char *key, const uint8_t *data,
                       size_t len)
{
    (void)topic;
    (void)key;
    (void)data;
    (void)len;
    return *(int *)h->user ? ORDERLY_ETRANSPORT : 0;
}

/*
 * Forty minutes without a broker, pumped every ten seconds with the
 * default policy (ten attempts): nothing is dead-lettered, no attempt is
 * spent, health shows the outage and readiness drops; when the broker is
 * back every event goes out once.
 */
START_TEST(broker_outage_dead_letters_nothing)
{
    fx f;
    hook_tr h;
    int down = 1;
    orderly_time_ms t = T0 + 10;
    orderly_health hl = ORDERLY_HEALTH_INIT;
    rows rs;
    size_t i, n;

    fx_init(&f);
    hook_init(&h, f.tr, broker_down, &down);
    f.o.transport = &h.base;
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1);
    create_ok(&f, "o2", ORDERLY_PAY_COD, T0 + 2);
    for (; t < T0 + 40 * MIN; t += 10000)
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    hl = health(&f, t);
    ck_assert_uint_eq(hl.outbox_dead, 0);
    ck_assert_uint_ge(hl.outbox_pending, 3);
    ck_assert_int_ge(hl.transport_outage_ms, 39 * MIN);
    ck_assert_int_eq(hl.ready, 0);
    queue_rows(f.st, ORDERLY_QUEUE_OUTBOX, &rs);
    for (i = 0; i < rs.n; i++)
        ck_assert_uint_eq(rs.r[i].attempts, 0);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), 0);

    down = 0;
    for (i = 0; i < 200 && health(&f, t).outbox_pending > 0; i++, t += MIN)
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    hl = health(&f, t);
    ck_assert_uint_eq(hl.outbox_pending, 0);
    ck_assert_uint_eq(hl.outbox_dead, 0);
    ck_assert_int_eq(hl.transport_outage_ms, 0);
    ck_assert_int_eq(hl.ready, 1);
    ck_assert_uint_eq(hl.redelivered_total, 0);
    ck_assert_uint_eq(count_topic(f.tr, "orderly.order.dlq"), 0);
    fx_free(&f);
}
END_TEST

/* ---- a dead-letter topic that refuses ------------------------------------------- */

typedef struct refusing {
    int dlq_down;            /* the dead-letter topic is away */
    size_t dlq_tries;
} refusing;

/* Order "p"'s events are refused for good; "<topic>.dlq" may be away. */
static int refuse_p(hook_tr *h, const char *topic, const char *key, const uint8_t *data, size_t len)
{
    refusing *r = h->user;

    (void)data;
    (void)len;
    if (strstr(topic, ".dlq") != NULL) {
        r->dlq_tries++;
        return r->dlq_down ? ORDERLY_ETRANSPORT : 0;
    }
    return strcmp(key, "p") == 0 ? ORDERLY_EINVAL : 0;
}

/* A row is dead only once its copy is on the dead-letter topic; until then
 * it stays pending, its order held back, its attempts at the limit. */
START_TEST(dead_only_once_the_copy_is_accepted)
{
    fx f;
    hook_tr h;
    refusing r;
    alerts al;
    orderly_time_ms t = T0 + 10;
    rows rs;
    size_t i, n, tries;

    memset(&r, 0, sizeof r);
    memset(&al, 0, sizeof al);
    r.dlq_down = 1;
    fx_init(&f);
    hook_init(&h, f.tr, refuse_p, &r);
    f.o.transport = &h.base;
    f.o.on_alert = record_alert;
    f.o.alert_user_data = &al;
    f.policy.outbox_max_attempts = 3;
    fx_open(&f);
    create_ok(&f, "p", ORDERLY_PAY_CARD, T0);
    for (i = 0; i < 30; i++, t += 2 * HOUR)
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    tries = r.dlq_tries;
    ck_assert_uint_ge(tries, 2);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_DEAD_LETTER], 0);
    ck_assert_uint_eq(health(&f, t).outbox_dead, 0);
    ck_assert_uint_eq(health(&f, t).outbox_pending, 1);
    queue_rows(f.st, ORDERLY_QUEUE_OUTBOX, &rs);
    ck_assert_uint_eq(rs.n, 1);
    ck_assert_uint_eq(rs.r[0].state, ORDERLY_ITEM_READY);
    ck_assert_uint_eq(rs.r[0].attempts, 3);

    r.dlq_down = 0;
    for (i = 0; i < 30 && health(&f, t).outbox_pending > 0; i++, t += 2 * HOUR)
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_DEAD_LETTER], 1);
    ck_assert_uint_eq(health(&f, t).outbox_dead, 1);
    ck_assert_uint_eq(count_topic(f.tr, "orderly.order.dlq"), 1);
    queue_rows(f.st, ORDERLY_QUEUE_OUTBOX, &rs);
    ck_assert_uint_eq(rs.r[0].attempts, 3);
    fx_free(&f);
}
END_TEST

/* ---- a slow broker ------------------------------------------------------------------- */

typedef struct slow {
    orderly_time_ms clock;
    orderly_time_ms per_publish;
} slow;

static orderly_time_ms read_clock(void *ud)
{
    return ((slow *)ud)->clock;
}

static int slow_publish(hook_tr *h, const char *topic, const char *key, const uint8_t *data,
                        size_t len)
{
    slow *s = h->user;

    (void)topic;
    (void)key;
    (void)data;
    (void)len;
    s->clock += s->per_publish;
    return 0;
}

/*
 * Three dispatchers on one store, a 40 ms lease, 15 ms a publish: each
 * stops publishing before its lease lapses and gives the rest back, so
 * none takes over another's rows and every event goes out exactly once.
 */
START_TEST(slow_broker_multiplies_nothing)
{
    fx f;
    hook_tr h;
    slow s = { T0 + 10, 15 };
    orderly_engine *more[2];
    orderly_health hl = ORDERLY_HEALTH_INIT;
    id_list got, once;
    size_t i, n, round;
    char id[8];

    fx_init(&f);
    hook_init(&h, f.tr, slow_publish, &s);
    f.o.transport = &h.base;
    f.o.clock = read_clock;
    f.o.clock_user_data = &s;
    f.policy.lease = 40;
    fx_open(&f);
    for (i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "o%zu", i);
        create_ok(&f, id, ORDERLY_PAY_CARD, T0);
        authorize_ok(&f, id, T0 + 1);
    }
    for (i = 0; i < 2; i++)
        ck_assert_int_eq(orderly_engine_open(&more[i], &f.o, NULL), 0);
    for (round = 0; round < 200 && health(&f, s.clock).outbox_pending > 0; round++) {
        orderly_engine *e = round % 3 == 0 ? f.e : more[round % 3 - 1];
        ck_assert_int_eq(orderly_engine_pump(e, s.clock, 0, &n), 0);
        ck_assert_uint_le(n, 3);
    }
    hl = health(&f, s.clock);
    ck_assert_uint_eq(hl.outbox_pending, 0);
    ck_assert_uint_eq(hl.outbox_dead, 0);
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(orderly_engine_health(more[i], s.clock, 0, 0, &hl), 0);
        ck_assert_uint_eq(hl.leases_expired_total, 0);
        ck_assert_uint_eq(hl.stale_completions, 0);
        orderly_engine_close(more[i]);
    }
    ck_assert_uint_eq(health(&f, s.clock).leases_expired_total, 0);
    for (i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "o%zu", i);
        ids_of(f.tr, id, &got);
        first_seen(&got, &once);
        ck_assert_uint_ge(got.n, 2);
        ck_assert_uint_eq(once.n, got.n);
    }
    fx_free(&f);
}
END_TEST

/* ---- rows that cannot be decoded ---------------------------------------------------- */

static void push_garbage(orderly_storage *st, int queue, const char *group, uint32_t kind)
{
    orderly_queue_item it;
    uint64_t id;
    void *txn;

    memset(&it, 0, sizeof it);
    it.group = group;
    it.kind = kind;
    it.payload = (const uint8_t *)"\xff\xfe garbage";
    it.payload_len = 10;
    it.created = it.due = T0;
    ck_assert_int_eq(st->begin(st, NULL, &txn), 0);
    ck_assert_int_eq(st->queue_push(st, NULL, txn, queue, &it, &id), 0);
    ck_assert_int_eq(st->commit(st, NULL, txn), 0);
}

static int list_row(const orderly_outbox_view *v, void *ud)
{
    size_t *corrupt = ud;

    if (v->event_id[0] == '\0')
        (*corrupt)++;
    return 0;
}

/* One rule for all three queues: a bad row is parked dead with an alert
 * and counted, the batch goes on, only its own order waits. */
START_TEST(bad_rows_are_parked_and_the_rest_flows)
{
    fx f;
    alerts al;
    orderly_time_ms t = T0 + 10;
    size_t n, corrupt = 0, published;
    rows rs;
    size_t i, dead;

    memset(&al, 0, sizeof al);
    fx_init(&f);
    f.o.on_alert = record_alert;
    f.o.alert_user_data = &al;
    fx_open(&f);
    push_garbage(f.st, ORDERLY_QUEUE_OUTBOX, "bad", 1);
    create_ok(&f, "good", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "good", T0 + 1);
    create_ok(&f, "idle", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_engine_list_outbox(f.e, -1, 0, 100, list_row, &corrupt), 0);
    ck_assert_uint_eq(corrupt, 1);

    ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    published = n;
    ck_assert_uint_ge(published, 3);
    ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), published);

    push_garbage(f.st, ORDERLY_QUEUE_TIMERS, "bad", 1);
    push_garbage(f.st, ORDERLY_QUEUE_OPERATIONS, "bad", 1);
    ck_assert_int_eq(orderly_engine_tick(f.e, t, 0, &n), 0);
    ck_assert_int_eq(orderly_engine_run_operations(f.e, t, 0, &n), 0);
    ck_assert_uint_eq(al.n[ORDERLY_ALERT_ROW_PARKED], 3);
    ck_assert_str_eq(al.last_group[ORDERLY_ALERT_ROW_PARKED], "bad");
    ck_assert_uint_eq(health(&f, t).rows_parked_total, 3);
    for (i = ORDERLY_QUEUE_OUTBOX; i <= ORDERLY_QUEUE_OPERATIONS; i++) {
        queue_rows(f.st, (int)i, &rs);
        for (n = 0, dead = 0; n < rs.n; n++)
            if (strcmp(rs.r[n].group, "bad") == 0 && rs.r[n].state == ORDERLY_ITEM_DEAD)
                dead++;
        ck_assert_uint_eq(dead, 1);
    }
    /* the other orders' deadlines still fire */
    ck_assert_uint_ge(tick(&f, T0 + 2 * HOUR), 1);
    ck_assert_int_eq(view(&f, "idle").order_state, ORDERLY_ORDER_CANCELLED);
    fx_free(&f);
}
END_TEST

/* ---- a flaky store, property-tested ----------------------------------------------- */

static uint64_t prng;

static uint32_t pick(uint32_t n)
{
    prng = prng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((prng >> 33) % n);
}

/* One random host action; failures are what a flaky store gives. */
static void random_action(fx *f, orderly_time_ms now, unsigned n_orders)
{
    char id[16];
    orderly_result res = ORDERLY_RESULT_INIT;
    size_t n;
    uint32_t o = pick(n_orders);
    int rc;

    snprintf(id, sizeof id, "o%u", o);
    switch (pick(9)) {
    case 0:
        rc = create_ex(f, id, pick(2) ? ORDERLY_PAY_CARD : ORDERLY_PAY_COD, pick(2),
                       (int64_t)pick(3) * 100, now, &res);
        break;
    case 1:
        rc = applyk(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL, now,
                    NULL, &res);
        break;
    case 2:
        rc = orderly_engine_request_capture(f->e, id, NULL, now, &res);
        break;
    case 3:
        rc = applyk(f, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING,
                    pick(2), 0, now, NULL, &res);
        break;
    case 4:
        rc = orderly_engine_cancel_order(f->e, id, NULL, now, &res);
        break;
    case 5:
        rc = orderly_engine_pump(f->e, now, 0, &n);
        break;
    case 6:
        rc = orderly_engine_tick(f->e, now, 0, &n);
        break;
    case 7:
        rc = orderly_engine_run_operations(f->e, now, 0, &n);
        break;
    default:
        rc = applyk(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, now, NULL,
                    &res);
        break;
    }
    /* a rejection or a transient failure is the host's to handle; nothing
     * a flaky store does may surface as anything else */
    ck_assert_msg(rc >= 0 || orderly_error_is_transient(rc) || rc == ORDERLY_ETRANSITION ||
                      rc == ORDERLY_EGUARD || rc == ORDERLY_ENOTFOUND || rc == ORDERLY_EEXISTS,
                  "unexpected %s: %s", orderly_error_name(rc), orderly_engine_errmsg(f->e));
}

static int flaky_executor(const orderly_operation_view *op, void *ud)
{
    (void)op;
    return pick(100) < *(uint32_t *)ud ? ORDERLY_ETIMEOUT : 0;
}

/*
 * Random fault plans (each storage call, publish and executor fails with a
 * chance up to 0.5) over random command sequences; once the faults stop,
 * the background steps reach a fixed point within a bounded number of
 * calls: nothing due, no lease left, attempts within their limits.
 */
static int any_leased(fx *f)
{
    rows rs;
    size_t i;
    int q;

    for (q = ORDERLY_QUEUE_OUTBOX; q <= ORDERLY_QUEUE_OPERATIONS; q++) {
        queue_rows(f->st, q, &rs);
        for (i = 0; i < rs.n; i++)
            if (rs.r[i].state == ORDERLY_ITEM_LEASED)
                return 1;
    }
    return 0;
}

START_TEST(flaky_store_reaches_a_fixed_point)
{
    fx f;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    orderly_time_ms now = T0;
    uint32_t exec_fail;
    orderly_health hl = ORDERLY_HEALTH_INIT;
    rows rs;
    size_t i, n, rounds;
    int q, op;

    prng = 0x9e3779b97f4a7c15ULL * (uint64_t)(unsigned)(_i + 1);
    fx_init(&f);
    f.policy.operation_max_attempts = 4;
    fx_open(&f);
    exec_fail = pick(50);
    for (op = 1; op < ORDERLY_OP_HOST; op++)
        if (orderly_op_name(op) != NULL)
            ck_assert_int_eq(orderly_engine_set_executor(f.e, op, flaky_executor, &exec_fail), 0);
    p.probability = (double)pick(51) / 100.0;
    p.seed = prng;
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    p.seed = prng + 1;
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, &p), 0);
    for (i = 0; i < 400; i++) {
        random_action(&f, now, 12);
        now += (orderly_time_ms)pick(20) * MIN;
    }
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, NULL), 0);
    exec_fail = 0;

    /* the host loop, with the faults gone: a bounded number of rounds */
    for (rounds = 0; rounds < 500; rounds++) {
        ck_assert_int_eq(orderly_engine_tick(f.e, now, 0, &n), 0);
        ck_assert_int_eq(orderly_engine_run_operations(f.e, now, 0, &n), 0);
        ck_assert_int_eq(orderly_engine_pump(f.e, now, 0, &n), 0);
        hl = health(&f, now);
        /* health counts no timer leases: a timer whose ack failed under
         * the faults is LEASED until a tick takes it over, which the
         * fixed point must include */
        if (hl.outbox_pending == 0 && hl.operations_pending == 0 && hl.timers_due == 0 &&
            !any_leased(&f))
            break;
        now += 10 * MIN;
    }
    ck_assert_msg(rounds < 500, "no fixed point: outbox %llu, operations %llu, timers due %llu",
                  (unsigned long long)hl.outbox_pending, (unsigned long long)hl.operations_pending,
                  (unsigned long long)hl.timers_due);
    for (q = ORDERLY_QUEUE_OUTBOX; q <= ORDERLY_QUEUE_OPERATIONS; q++) {
        uint32_t limit = q == ORDERLY_QUEUE_OUTBOX ? f.policy.outbox_max_attempts
                                                   : f.policy.operation_max_attempts;
        queue_rows(f.st, q, &rs);
        for (i = 0; i < rs.n; i++) {
            ck_assert_msg(rs.r[i].attempts <= limit, "queue %d row %llu: %u attempts, limit %u", q,
                          (unsigned long long)rs.r[i].id, rs.r[i].attempts, limit);
            ck_assert_uint_ne(rs.r[i].state, ORDERLY_ITEM_LEASED);
        }
    }
    /* transport faults are outages: nothing was dead-lettered for them */
    ck_assert_uint_eq(hl.outbox_dead, 0);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("background-convergence");

    orderly_test_case(s, broker_outage_dead_letters_nothing, 0);
    orderly_test_case(s, dead_only_once_the_copy_is_accepted, 0);
    orderly_test_case(s, slow_broker_multiplies_nothing, 0);
    orderly_test_case(s, bad_rows_are_parked_and_the_rest_flows, 0);
    orderly_test_loop(s, flaky_store_reaches_a_fixed_point, 0, 24, 60);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
