/*
 * ORDERLY_ENGINE_REPLICA: one ordered input log, every service a replica.
 * Six replica engines with the roles of the review's six services, each on
 * its own store and transport, and one ordinary engine with every role as
 * the reference, all fed the same inputs with the same keys and times.
 * Every replica must hold the reference's order byte for byte, its history
 * event for event, and between them write exactly the reference's outbox
 * events, operations and timer rows, each in the one service that owns it.
 * Deadlines travel as the owners' deadline commands, fed to every replica.
 */
#include "fixture.h"

#include "../../lib/base/ids.h"
#include "../../lib/wire/record.h"
#include "orderly/claim.h"
#include "../services.h"

#define MAX_ENVS 32

typedef struct topo {
    fx ref;
    fx svc[N_SVC];
    fx *all[N_SVC + 1];       /* the reference first, then the services */
    size_t seen[N_SVC];       /* transport messages of each service looked at */
    char *envs[MAX_ENVS];     /* deadline commands fed so far */
    size_t n_envs;
    unsigned keys;
} topo;

static void topo_open(topo *t)
{
    size_t i;

    memset(t, 0, sizeof *t);
    fx_setup(&t->ref);
    t->all[0] = &t->ref;
    for (i = 0; i < N_SVC; i++) {
        fx_init(&t->svc[i]);
        t->svc[i].o.roles = svc_roles_of(i);
        t->svc[i].o.flags = ORDERLY_ENGINE_REPLICA;
        fx_open(&t->svc[i]);
        t->all[i + 1] = &t->svc[i];
    }
}

static void topo_free(topo *t)
{
    size_t i;

    for (i = 0; i < t->n_envs; i++)
        free(t->envs[i]);
    for (i = 0; i < N_SVC + 1; i++)
        fx_free(t->all[i]);
}

/* ---- inputs: each one to every engine, with one key and one now ---------- */

static void t_create(topo *t, const char *id, int method, uint32_t promo, int64_t points,
                     orderly_time_ms now)
{
    size_t i;
    int rc;

    for (i = 0; i < N_SVC + 1; i++) {
        rc = create_ex(t->all[i], id, method, promo, points, now, NULL);
        ck_assert_msg(rc == 0, "create %s on engine %zu: %d %s", id, i, rc,
                      orderly_engine_errmsg(t->all[i]->e));
    }
}

static void t_apply(topo *t, const char *order, int machine, int event, uint32_t index,
                    int64_t amount, orderly_time_ms now)
{
    char key[32];
    size_t i;
    int rc;

    snprintf(key, sizeof key, "in-%u", ++t->keys);
    for (i = 0; i < N_SVC + 1; i++) {
        rc = applyk(t->all[i], order, machine, event, index, amount, now, key, NULL);
        ck_assert_msg(rc == 0, "%s %d/%d on engine %zu: %d %s", order, machine, event, i, rc,
                      orderly_engine_errmsg(t->all[i]->e));
    }
}

static void t_ship(topo *t, const char *id, uint32_t i, orderly_time_ms now)
{
    t_apply(t, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, i, 0, now);
    t_apply(t, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PICKED, i, 0, now);
    t_apply(t, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PACKING, i, 0, now);
    t_apply(t, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PACKED, i, 0, now);
    t_apply(t, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_SHIP, i, 0, now);
}

static void t_deliver(topo *t, const char *id, uint32_t i, orderly_time_ms now)
{
    t_apply(t, id, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, i, 0, now);
    t_apply(t, id, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_DELIVER, i, 0, now);
}

static void t_pay(topo *t, const char *id, orderly_time_ms now)
{
    t_apply(t, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL, now);
    t_apply(t, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, now + 1000);
    t_apply(t, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0, 0, now + 2000);
}

static void t_to_delivered(topo *t, const char *id, orderly_time_ms now)
{
    t_create(t, id, ORDERLY_PAY_CARD, 0, 0, now);
    t_pay(t, id, now + 1000);
    t_ship(t, id, 0, now + 4000);
    t_ship(t, id, 1, now + 5000);
    t_deliver(t, id, 0, now + 6000);
    t_deliver(t, id, 1, now + 7000);
}

/* The host's part of a tick: the reference fires its timers; each service
 * ticks and pumps, and every deadline command it published is appended to
 * the log and handed to every replica, in the order they came. Returns how
 * many commands were fed. */
static size_t t_tick(topo *t, orderly_time_ms now)
{
    const char *commands = orderly_topic_default_name(ORDERLY_TOPIC_COMMANDS);
    orderly_result res = ORDERLY_RESULT_INIT;
    orderly_message m;
    size_t i, j, k, n, first = t->n_envs, fired;
    int rc;

    (void)tick(&t->ref, now);
    for (i = 0; i < N_SVC; i++) {
        ck_assert_int_eq(orderly_engine_tick(t->svc[i].e, now, 0, &fired), 0);
        pump_all(&t->svc[i], now);
        n = orderly_memory_transport_count(t->svc[i].tr);
        for (k = t->seen[i]; k < n; k++) {
            ck_assert_int_eq(orderly_memory_transport_get(&m, t->svc[i].tr, k), 0);
            if (strcmp(m.topic, commands) != 0)
                continue;
            ck_assert_uint_lt(t->n_envs, MAX_ENVS);
            t->envs[t->n_envs] = malloc(m.len + 1);
            ck_assert_ptr_nonnull(t->envs[t->n_envs]);
            memcpy(t->envs[t->n_envs], m.data, m.len);
            t->envs[t->n_envs++][m.len] = '\0';
        }
        t->seen[i] = n;
    }
    for (k = first; k < t->n_envs; k++)
        for (j = 0; j < N_SVC; j++) {
            rc = handle(&t->svc[j], t->envs[k], now, &res);
            ck_assert_msg(rc == 0, "deadline command on service %zu: %d %s\n%s", j, rc,
                          orderly_engine_errmsg(t->svc[j].e), t->envs[k]);
            ck_assert_uint_eq(res.duplicate, 0);
        }
    return t->n_envs - first;
}

/* ---- what the engines hold ------------------------------------------------- */

#define MAX_ROWS 256

typedef struct rows {
    char r[MAX_ROWS][160];
    size_t n;
} rows;

static int cmp_row(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void sort_rows(rows *l)
{
    qsort(l->r, l->n, sizeof l->r[0], cmp_row);
}

static void assert_same_rows(rows *a, rows *b, const char *what)
{
    size_t i;

    sort_rows(a);
    sort_rows(b);
    ck_assert_msg(a->n == b->n, "%s: %zu rows across the replicas, %zu in the reference", what,
                  a->n, b->n);
    for (i = 0; i < a->n; i++)
        ck_assert_msg(strcmp(a->r[i], b->r[i]) == 0, "%s differ: '%s' and '%s'", what, a->r[i],
                      b->r[i]);
}

struct outbox_walk {
    rows *l;
    unsigned roles;           /* 0: the reference (any owner) */
    int replica;
    size_t deadlines;         /* deadline commands among them */
};

static int outbox_row(const orderly_outbox_view *v, void *ud)
{
    struct outbox_walk *w = ud;

    if (strcmp(v->topic, orderly_topic_default_name(ORDERLY_TOPIC_COMMANDS)) == 0) {
        /* only a replica's tick writes commands into its outbox */
        ck_assert_int_eq(w->replica, 1);
        w->deadlines++;
        return 0;
    }
    if (w->replica)
        ck_assert_msg((w->roles & (1u << event_owner(v->type))) != 0,
                      "event %s published by a service that does not own it", v->type);
    ck_assert_uint_lt(w->l->n, MAX_ROWS);
    snprintf(w->l->r[w->l->n++], sizeof w->l->r[0], "%s|%s|%s", v->type, v->order_id,
             v->event_id);
    return 0;
}

static void outbox_of(fx *f, rows *l, unsigned roles, int replica, size_t *deadlines)
{
    struct outbox_walk w = { l, roles, replica, 0 };

    ck_assert_int_eq(orderly_engine_list_outbox(f->e, -1, 0, MAX_ROWS, outbox_row, &w), 0);
    if (deadlines != NULL)
        *deadlines += w.deadlines;
}

static void operations_of(fx *f, rows *l, unsigned roles, int replica)
{
    operation_list ops;
    size_t i;

    operations(f, &ops);
    ck_assert_uint_lt(ops.n, 64);
    for (i = 0; i < ops.n; i++) {
        const operation_rec *o = &ops.r[i];
        if (replica)
            ck_assert_msg((roles & (1u << orderly_op_machine(o->op))) != 0,
                          "operation %s recorded by a service that does not own it",
                          orderly_op_name(o->op));
        ck_assert_uint_lt(l->n, MAX_ROWS);
        snprintf(l->r[l->n++], sizeof l->r[0], "%d|%s|%u|%lld|%s|%u", o->op, o->order, o->index,
                 (long long)o->amount, o->key, o->n_lines);
    }
}

struct timer_walk {
    rows *l;
    unsigned roles;
    int replica;
};

static int timer_row(const orderly_queue_item *it, void *ud)
{
    struct timer_walk *w = ud;
    struct orderly__timer_rec r;

    ck_assert_int_eq(orderly__timer_rec_decode(&r, it->payload, it->payload_len), 0);
    if (w->replica)
        ck_assert_msg((w->roles & (1u << r.machine)) != 0,
                      "deadline %s of machine %d kept by a service that does not own it",
                      orderly_timer_name(r.timer), r.machine);
    ck_assert_uint_lt(w->l->n, MAX_ROWS);
    snprintf(w->l->r[w->l->n++], sizeof w->l->r[0], "%s|%s|%d|%u|%lld", r.order_id,
             orderly_timer_name(r.timer), r.machine, r.index, (long long)it->created);
    return 0;
}

/* Every timer row the store holds, whatever its state: which deadlines
 * were written, and where. */
static void timers_of(fx *f, rows *l, unsigned roles, int replica)
{
    struct timer_walk w = { l, roles, replica };
    orderly_ctx *ctx = orderly_engine_ctx(f->e);
    void *txn = NULL;

    ck_assert_int_eq(f->st->begin(f->st, ctx, &txn), 0);
    ck_assert_int_ge(f->st->queue_scan(f->st, ctx, txn, ORDERLY_QUEUE_TIMERS, -1, 0, MAX_ROWS,
                                       timer_row, &w), 0);
    f->st->rollback(f->st, ctx, txn);
}

/* The stored aggregate's bytes into out (caller frees). */
static uint8_t *stored(fx *f, const char *order, size_t *len, uint64_t *version)
{
    orderly_ctx *ctx = orderly_engine_ctx(f->e);
    orderly_buf *b = NULL;
    void *txn = NULL;
    uint8_t *out;

    ck_assert_int_eq(orderly_buf_new(&b, NULL), 0);
    ck_assert_int_eq(f->st->begin(f->st, ctx, &txn), 0);
    ck_assert_int_eq(f->st->load(f->st, ctx, txn, order, b, version), 0);
    f->st->rollback(f->st, ctx, txn);
    *len = orderly_buf_len(b);
    out = malloc(*len);
    ck_assert_ptr_nonnull(out);
    memcpy(out, orderly_buf_data(b), *len);
    orderly_buf_free(b);
    return out;
}

static int history_entry(const orderly_history_entry *h, void *ud)
{
    rows *l = ud;
    uint8_t digest[16];
    char hex[33];

    ck_assert_uint_lt(l->n, MAX_ROWS);
    /* seq, type and id name the event; the digest pins its envelope's bytes */
    orderly__hash128(digest, "history", 7, h->json, h->json_len);
    orderly__hex(hex, digest, 16);
    snprintf(l->r[l->n++], sizeof l->r[0], "%u|%s|%s|%s", h->seq, h->type, h->event_id, hex);
    return 0;
}

static void assert_same_order(topo *t, const char *order)
{
    orderly_order_view want = view(&t->ref, order), got;
    size_t want_len, got_len, i, k;
    uint64_t want_v, got_v;
    uint8_t *want_b = stored(&t->ref, order, &want_len, &want_v), *got_b;
    static rows want_h, got_h;

    memset(&want_h, 0, sizeof want_h);
    ck_assert_int_ge(orderly_engine_order_history(t->ref.e, order, 0, 0, history_entry, &want_h), 0);
    for (i = 0; i < N_SVC; i++) {
        got = view(&t->svc[i], order);
        ck_assert_int_eq(got.order_state, want.order_state);
        ck_assert_int_eq(got.payment_state, want.payment_state);
        ck_assert_int_eq(got.authorized, want.authorized);
        ck_assert_int_eq(got.captured, want.captured);
        ck_assert_int_eq(got.refunded, want.refunded);
        ck_assert_uint_eq(got.n_shipments, want.n_shipments);
        ck_assert_uint_eq(got.n_returns, want.n_returns);
        ck_assert_uint_eq(got.version, want.version);
        got_b = stored(&t->svc[i], order, &got_len, &got_v);
        ck_assert_uint_eq(got_v, want_v);
        ck_assert_uint_eq(got_len, want_len);
        ck_assert_msg(memcmp(got_b, want_b, want_len) == 0,
                      "service %zu stores order %s differently", i, order);
        free(got_b);
        memset(&got_h, 0, sizeof got_h);
        ck_assert_int_ge(orderly_engine_order_history(t->svc[i].e, order, 0, 0, history_entry,
                                                      &got_h), 0);
        ck_assert_uint_eq(got_h.n, want_h.n);
        for (k = 0; k < want_h.n; k++)
            ck_assert_str_eq(got_h.r[k], want_h.r[k]);
    }
    free(want_b);
}

/* The replicas together hold what the reference holds: each order the same,
 * the outbox events, operations and timer rows split by owner. Returns the
 * deadline commands the replicas' outboxes hold. */
static size_t assert_same(topo *t, const char *const *orders, size_t n_orders)
{
    static rows want, got;
    size_t i, deadlines = 0;

    for (i = 0; i < n_orders; i++)
        assert_same_order(t, orders[i]);
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    outbox_of(&t->ref, &want, 0, 0, NULL);
    for (i = 0; i < N_SVC; i++)
        outbox_of(&t->svc[i], &got, svc_roles_of(i), 1, &deadlines);
    ck_assert_uint_gt(want.n, 0);
    assert_same_rows(&got, &want, "outbox events");
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    operations_of(&t->ref, &want, 0, 0);
    for (i = 0; i < N_SVC; i++)
        operations_of(&t->svc[i], &got, svc_roles_of(i), 1);
    assert_same_rows(&got, &want, "operations");
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    timers_of(&t->ref, &want, 0, 0);
    for (i = 0; i < N_SVC; i++)
        timers_of(&t->svc[i], &got, svc_roles_of(i), 1);
    ck_assert_uint_gt(want.n, 0);
    assert_same_rows(&got, &want, "timer rows");
    return deadlines;
}

/* ---- the cases ---------------------------------------------------------------- */

/* Paid, shipped, delivered, returned and refunded: the payment authorized by
 * a signed webhook every replica verifies. */
START_TEST(replicas_match_the_reference_through_a_return)
{
    static const uint8_t secret[] = "whsec_replica";
    const char *orders[] = { "r1" };
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_time_ms now = T0 + 1000;
    char hdr[160], *env;
    size_t i;
    uint32_t idx;
    topo t;

    topo_open(&t);
    t_create(&t, "r1", ORDERLY_PAY_CARD, 1, 40, T0);
    env = make_env("psp-evt-1", "payment.authorize", "r1", "{\"amount\":2000}");
    ck_assert_int_eq(orderly_webhook_sign(hdr, sizeof hdr, secret, sizeof secret - 1,
                                          (const uint8_t *)env, strlen(env), now / 1000), 0);
    for (i = 0; i < N_SVC + 1; i++)
        ck_assert_int_eq(orderly_engine_handle_webhook(t.all[i]->e, secret, sizeof secret - 1, hdr,
                                                       (const uint8_t *)env, strlen(env), 300,
                                                       now, &r), 0);
    free(env);
    t_apply(&t, "r1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2000);
    t_apply(&t, "r1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0, 0, T0 + 3000);
    t_ship(&t, "r1", 0, T0 + 4000);
    t_ship(&t, "r1", 1, T0 + 5000);
    t_deliver(&t, "r1", 0, T0 + 6000);
    t_deliver(&t, "r1", 1, T0 + 7000);
    for (i = 0; i < N_SVC + 1; i++) {
        ck_assert_int_eq(open_return_units(t.all[i], &idx, "r1", 0, 1, 0, "ret-1", T0 + 8000, &r), 0);
        ck_assert_uint_eq(idx, 0);
    }
    t_apply(&t, "r1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, 0, 0, T0 + 9000);
    t_apply(&t, "r1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, 0, 0, T0 + 10000);
    t_apply(&t, "r1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, 0, 0, T0 + 11000);
    t_apply(&t, "r1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, 0, 0, T0 + 12000);
    t_apply(&t, "r1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, 0, 0, T0 + 13000);
    ck_assert_int_eq(part_state(&t.ref, "r1", ORDERLY_MACHINE_RETURN, 0), ORDERLY_RETURN_COMPLETED);
    ck_assert_uint_eq(count_op(&t.ref, "r1", ORDERLY_OP_REFUND, NULL), 1);
    ck_assert_uint_eq(count_op(&t.svc[SVC_PAYMENT], "r1", ORDERLY_OP_REFUND, NULL), 1);
    ck_assert_uint_eq(count_op(&t.ref, "r1", ORDERLY_OP_RESTOCK, NULL), 1);
    ck_assert_uint_eq(count_op(&t.svc[SVC_WAREHOUSE], "r1", ORDERLY_OP_RESTOCK, NULL), 1);
    ck_assert_uint_eq(assert_same(&t, orders, 1), 0);
    topo_free(&t);
}
END_TEST

/* Cancelled before payment (a promotion and points to give back), after an
 * authorization (void) and after a capture (refund). */
START_TEST(replicas_match_the_reference_when_orders_are_cancelled)
{
    const char *orders[] = { "c1", "c2", "c3" };
    topo t;

    topo_open(&t);
    t_create(&t, "c1", ORDERLY_PAY_CARD, 1, 250, T0);
    t_apply(&t, "c1", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, T0 + 1000);
    t_create(&t, "c2", ORDERLY_PAY_CARD, 0, 0, T0);
    t_apply(&t, "c2", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL, T0 + 1000);
    t_apply(&t, "c2", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, T0 + 2000);
    t_create(&t, "c3", ORDERLY_PAY_CARD, 0, 0, T0);
    t_pay(&t, "c3", T0 + 1000);
    t_apply(&t, "c3", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, T0 + 5000);
    ck_assert_int_eq(view(&t.ref, "c1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_uint_eq(count_op(&t.svc[SVC_ORDER], "c1", ORDERLY_OP_REVERT_PROMOTION, NULL), 1);
    ck_assert_uint_eq(count_op(&t.svc[SVC_ORDER], "c1", ORDERLY_OP_RESTORE_LOYALTY, NULL), 1);
    ck_assert_uint_eq(count_op(&t.svc[SVC_PAYMENT], "c2", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 1);
    ck_assert_uint_eq(count_op(&t.svc[SVC_PAYMENT], "c3", ORDERLY_OP_REFUND, NULL), 1);
    ck_assert_uint_eq(count_op(&t.svc[SVC_ORDER], "c3", ORDERLY_OP_REFUND, NULL), 0);
    ck_assert_uint_eq(assert_same(&t, orders, 3), 0);
    topo_free(&t);
}
END_TEST

/* A parcel lost in transit: the shipping service's claim, refunded by
 * policy, the refund the payment service's; the other parcel delivered. */
START_TEST(replicas_match_the_reference_when_a_parcel_is_lost)
{
    const char *orders[] = { "l1" };
    topo t;

    topo_open(&t);
    t_create(&t, "l1", ORDERLY_PAY_CARD, 0, 0, T0);
    t_pay(&t, "l1", T0 + 1000);
    t_ship(&t, "l1", 0, T0 + 4000);
    t_ship(&t, "l1", 1, T0 + 5000);
    t_apply(&t, "l1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 0, 0, T0 + 6000);
    t_apply(&t, "l1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_LOSE, 0, 0, T0 + 7000);
    t_deliver(&t, "l1", 1, T0 + 8000);
    ck_assert_int_eq(view(&t.ref, "l1").refunded, 1000);
    ck_assert_int_eq(part_state(&t.svc[SVC_RETURN], "l1", ORDERLY_MACHINE_SHIPMENT, 0),
                     ORDERLY_SHIPMENT_LOST);
    ck_assert_uint_eq(count_op(&t.svc[SVC_PAYMENT], "l1", ORDERLY_OP_REFUND, NULL), 1);
    ck_assert_uint_eq(assert_same(&t, orders, 1), 0);
    topo_free(&t);
}
END_TEST

/* The reservation TTL lapses: the warehouse's tick writes the command,
 * every replica cancels the order as the reference's own tick did. */
START_TEST(reservation_expiry_reaches_every_replica_as_a_deadline_command)
{
    const char *orders[] = { "e1" };
    orderly_time_ms at = T0 + 16 * MIN;
    topo t;

    topo_open(&t);
    t_create(&t, "e1", ORDERLY_PAY_CARD, 0, 0, T0);
    ck_assert_uint_eq(t_tick(&t, at), 1);
    ck_assert_int_eq(view(&t.ref, "e1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_ptr_nonnull(strstr(t.envs[0], "\"type\":\"reservation.expire\""));
    ck_assert_uint_eq(assert_same(&t, orders, 1), 1);
    topo_free(&t);
}
END_TEST

/* An authorization never captured lapses; the fulfillment SLA breaches on
 * the way: two owners, two commands, one state. */
START_TEST(authorization_expiry_reaches_every_replica_as_a_deadline_command)
{
    const char *orders[] = { "a1" };
    topo t;

    topo_open(&t);
    t_create(&t, "a1", ORDERLY_PAY_CARD, 0, 0, T0);
    t_apply(&t, "a1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL, T0 + 1000);
    ck_assert_uint_eq(t_tick(&t, T0 + 25 * HOUR), 2); /* both warehouses' SLA */
    ck_assert_int_eq(view(&t.ref, "a1").payment_state, ORDERLY_PAYMENT_AUTHORIZED);
    ck_assert_uint_eq(t_tick(&t, T0 + 7 * DAY + 2000), 1);
    /* expired, then voided: the authorization is given back */
    ck_assert_int_eq(view(&t.ref, "a1").payment_state, ORDERLY_PAYMENT_VOIDED);
    ck_assert_int_eq(view(&t.svc[SVC_SHIPPING], "a1").payment_state, ORDERLY_PAYMENT_VOIDED);
    ck_assert_uint_eq(assert_same(&t, orders, 1), 3);
    topo_free(&t);
}
END_TEST

/* Delivered and never complained about: the order's own tick completes it
 * on every replica. */
START_TEST(auto_complete_reaches_every_replica_as_a_deadline_command)
{
    const char *orders[] = { "d1" };
    topo t;

    topo_open(&t);
    t_to_delivered(&t, "d1", T0);
    ck_assert_uint_eq(t_tick(&t, T0 + 8 * DAY), 1);
    ck_assert_int_eq(view(&t.ref, "d1").order_state, ORDERLY_ORDER_COMPLETED);
    ck_assert_uint_eq(assert_same(&t, orders, 1), 1);
    topo_free(&t);
}
END_TEST

/* A deadline command delivered again (the log read twice, a consumer that
 * restarted before its ack) is a duplicate on every replica, and a second
 * tick writes no second command. */
START_TEST(a_redelivered_deadline_command_is_a_duplicate)
{
    const char *orders[] = { "e2" };
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_time_ms at = T0 + 16 * MIN;
    size_t i;
    topo t;

    topo_open(&t);
    t_create(&t, "e2", ORDERLY_PAY_CARD, 0, 0, T0);
    ck_assert_uint_eq(t_tick(&t, at), 1);
    for (i = 0; i < N_SVC; i++) {
        ck_assert_int_eq(handle(&t.svc[i], t.envs[0], at + MIN, &r), 0);
        ck_assert_uint_eq(r.duplicate, 1);
        ck_assert_int_eq(r.order_state, ORDERLY_ORDER_CANCELLED);
    }
    ck_assert_uint_eq(t_tick(&t, at + HOUR * 3), 0);
    ck_assert_uint_eq(assert_same(&t, orders, 1), 1);
    topo_free(&t);
}
END_TEST

/* The envelope says what handle_event needs and no more: the command as
 * its type, the order as subject, the part as data.index, the tick's now
 * as time, an id derived from the timer row, no trace of its own. */
START_TEST(a_deadline_command_names_its_command_and_part)
{
    orderly_ctx *ctx = NULL;
    orderly_event *ev = NULL;
    orderly_envelope env;
    orderly_message m;
    orderly_result r = ORDERLY_RESULT_INIT;
    size_t fired = 9;
    char text[512];
    fx f;

    fx_init(&f);
    f.o.roles = BIT(RESERVATION);
    f.o.flags = ORDERLY_ENGINE_REPLICA;
    fx_open(&f);
    create_ok(&f, "w1", ORDERLY_PAY_CARD, T0);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), 0); /* the order's events are not its */
    ck_assert_int_eq(orderly_engine_tick(f.e, T0 + 16 * MIN, 0, &fired), 0);
    ck_assert_uint_eq(fired, 1);
    /* nothing was applied here: the order waits for the command */
    ck_assert_int_eq(view(&f, "w1").order_state, ORDERLY_ORDER_PENDING);
    pump_all(&f, T0 + 16 * MIN);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), 1);
    ck_assert_int_eq(orderly_memory_transport_get(&m, f.tr, 0), 0);
    ck_assert_str_eq(m.topic, "orderly.commands");
    ck_assert_str_eq(m.key, "w1");
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(orderly_event_decode(&ev, m.data, m.len, NULL, ctx), 0);
    ck_assert_int_eq(orderly_event_fields(ev, &env), 0);
    ck_assert_str_eq(env.type, "reservation.expire");
    ck_assert_str_eq(env.subject, "w1");
    ck_assert_uint_eq(strlen(env.id), 32);
    ck_assert_ptr_null(env.traceparent);
    ck_assert_str_eq(env.time, "2023-11-14T22:29:20.000Z");
    ck_assert_uint_lt(m.len, sizeof text);
    memcpy(text, m.data, m.len);
    text[m.len] = '\0';
    ck_assert_ptr_nonnull(strstr(text, "\"data\":{\"order_id\":\"w1\",\"index\":0}"));
    orderly_event_free(ev);
    orderly_ctx_free(ctx);
    /* fed back, it expires the line here too, and counts as applied */
    ck_assert_int_eq(orderly_engine_handle_event(f.e, m.data, m.len, T0 + 16 * MIN, &r), 0);
    ck_assert_uint_eq(r.duplicate, 0);
    ck_assert_int_eq(r.order_state, ORDERLY_ORDER_CANCELLED);
    fx_free(&f);
}
END_TEST

/* Without REPLICA roles still gate the inputs; with it they gate only the
 * outputs. */
static int count_row(const orderly_outbox_view *v, void *ud)
{
    (void)v;
    ++*(size_t *)ud;
    return 0;
}

static size_t outbox_rows(fx *f)
{
    size_t n = 0;

    ck_assert_int_eq(orderly_engine_list_outbox(f->e, -1, 0, MAX_ROWS, count_row, &n), 0);
    return n;
}

START_TEST(roles_gate_inputs_only_without_replica)
{
    orderly_result r = ORDERLY_RESULT_INIT, all = ORDERLY_RESULT_INIT;
    uint32_t idx;
    size_t before;
    fx plain, rep, every;

    fx_init(&plain);
    plain.o.roles = BIT(PAYMENT);
    fx_open(&plain);
    create_ok(&plain, "p1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(apply(&plain, "p1", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0,
                           T0 + 1000, &r), ORDERLY_ECONFIG);
    ck_assert_int_eq(open_return_units(&plain, &idx, "p1", 0, 1, 0, NULL, T0, &r), ORDERLY_ECONFIG);
    ck_assert_int_eq(view(&plain, "p1").order_state, ORDERLY_ORDER_PENDING);
    fx_free(&plain);

    fx_setup(&every);
    create_ok(&every, "p1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&every, "p1", T0 + 500);
    ck_assert_int_eq(apply(&every, "p1", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0,
                           T0 + 1000, &all), 0);
    fx_free(&every);
    fx_init(&rep);
    rep.o.roles = BIT(PAYMENT);
    rep.o.flags = ORDERLY_ENGINE_REPLICA;
    fx_open(&rep);
    create_ok(&rep, "p1", ORDERLY_PAY_CARD, T0);
    ck_assert_uint_eq(outbox_rows(&rep), 0); /* order.status_changed is the order's */
    authorize_ok(&rep, "p1", T0 + 500);
    before = outbox_rows(&rep);
    ck_assert_int_eq(apply(&rep, "p1", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0,
                           T0 + 1000, &r), 0);
    ck_assert_int_eq(r.order_state, ORDERLY_ORDER_CANCELLED);
    /* the result counts what this engine wrote: the payment's events only */
    ck_assert_uint_eq(r.outbox_rows, outbox_rows(&rep) - before);
    ck_assert_uint_gt(r.outbox_rows, 0);
    ck_assert_uint_lt(r.outbox_rows, all.outbox_rows);
    /* the void is the payment's; the release of the stock is the warehouse's */
    ck_assert_uint_eq(r.operations, count_op(&rep, "p1", ORDERLY_OP_VOID_AUTHORIZATION, NULL));
    ck_assert_uint_eq(r.operations, 1);
    ck_assert_uint_lt(r.operations, all.operations);
    fx_free(&rep);
}
END_TEST

START_TEST(every_op_has_one_owning_machine)
{
    static const struct {
        int op, machine;
    } want[] = {
        { ORDERLY_OP_RELEASE_RESERVATIONS, ORDERLY_MACHINE_RESERVATION },
        { ORDERLY_OP_RESTOCK, ORDERLY_MACHINE_RESERVATION },
        { ORDERLY_OP_VOID_AUTHORIZATION, ORDERLY_MACHINE_PAYMENT },
        { ORDERLY_OP_REFUND, ORDERLY_MACHINE_PAYMENT },
        { ORDERLY_OP_CAPTURE, ORDERLY_MACHINE_PAYMENT },
        { ORDERLY_OP_REVERT_PROMOTION, ORDERLY_MACHINE_ORDER },
        { ORDERLY_OP_RESTORE_LOYALTY, ORDERLY_MACHINE_ORDER },
        { ORDERLY_OP_CANCEL_SHIPMENT, ORDERLY_MACHINE_SHIPMENT },
        { ORDERLY_OP_CANCEL_COD_CLAIM, ORDERLY_MACHINE_SHIPMENT },
        { ORDERLY_OP_RESHIP, ORDERLY_MACHINE_SHIPMENT },
        { ORDERLY_OP_HOST, ORDERLY_MACHINE_ORDER },
        { ORDERLY_OP_HOST + 7, ORDERLY_MACHINE_ORDER },
    };
    size_t i;
    int op;

    for (i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_int_eq(orderly_op_machine(want[i].op), want[i].machine);
    /* every op with a name has an owner */
    for (op = 1; orderly_op_name(op) != NULL; op++)
        ck_assert_int_gt(orderly_op_machine(op), 0);
    ck_assert_int_eq(orderly_op_machine(op), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_op_machine(0), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_op_machine(-3), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_op_machine(ORDERLY_OP_HOST - 1), ORDERLY_EINVAL);
}
END_TEST

/* A replica that restarted forgot which timer rows its commands pushed, so
 * a capture leaves the authorization's expiry row behind: its tick must
 * find the state left and command nothing (helper report, session 7). */
START_TEST(a_restarted_replica_commands_no_deadline_its_state_left)
{
    orderly_message m;
    size_t fired = 9, i;
    fx f;

    fx_init(&f);
    f.o.roles = BIT(PAYMENT);
    f.o.flags = ORDERLY_ENGINE_REPLICA;
    fx_open(&f);
    create_ok(&f, "p1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "p1", T0 + 1000);
    orderly_engine_close(f.e);
    fx_open(&f);
    capture_ok(&f, "p1", T0 + 2000);
    ck_assert_int_eq(view(&f, "p1").payment_state, ORDERLY_PAYMENT_CAPTURED);
    ck_assert_int_eq(orderly_engine_tick(f.e, T0 + 8 * DAY, 0, &fired), 0);
    ck_assert_uint_eq(fired, 0);
    pump_all(&f, T0 + 8 * DAY);
    ck_assert_uint_eq(health(&f, T0 + 8 * DAY).timers_due, 0);
    for (i = 0; i < orderly_memory_transport_count(f.tr); i++) {
        ck_assert_int_eq(orderly_memory_transport_get(&m, f.tr, i), 0);
        ck_assert_str_ne(m.topic, orderly_topic_default_name(ORDERLY_TOPIC_COMMANDS));
    }
    fx_free(&f);
}
END_TEST

/* The log may put a deadline command after an input that left its state
 * (the owner ticked before that input reached it): every replica answers
 * it as late, so a host acknowledging only on success does not stall. A
 * plain engine still refuses the same command. */
START_TEST(a_deadline_command_after_its_state_was_left_is_late)
{
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_time_ms later = T0 + 8 * DAY;
    fx rep, plain;

    fx_init(&rep);
    rep.o.roles = BIT(ORDER);
    rep.o.flags = ORDERLY_ENGINE_REPLICA;
    fx_open(&rep);
    fx_setup(&plain);
    create_ok(&rep, "p1", ORDERLY_PAY_CARD, T0);
    create_ok(&plain, "p1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&rep, "p1", T0 + 1000);
    authorize_ok(&plain, "p1", T0 + 1000);
    capture_ok(&rep, "p1", T0 + 2000);
    capture_ok(&plain, "p1", T0 + 2000);
    ck_assert_int_eq(apply(&rep, "p1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZATION_EXPIRED,
                           0, 0, later, &r), 0);
    ck_assert_uint_eq(r.late, 1);
    ck_assert_int_eq(view(&rep, "p1").payment_state, ORDERLY_PAYMENT_CAPTURED);
    ck_assert_int_eq(apply(&plain, "p1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZATION_EXPIRED,
                           0, 0, later, &r), ORDERLY_ETRANSITION);
    /* an event no deadline fires is refused on a replica as anywhere */
    ck_assert_int_eq(apply(&rep, "p1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0,
                           later, &r), ORDERLY_ETRANSITION);
    fx_free(&rep);
    fx_free(&plain);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-replica");

    orderly_test_case(s, replicas_match_the_reference_through_a_return, 0);
    orderly_test_case(s, replicas_match_the_reference_when_orders_are_cancelled, 0);
    orderly_test_case(s, replicas_match_the_reference_when_a_parcel_is_lost, 0);
    orderly_test_case(s, reservation_expiry_reaches_every_replica_as_a_deadline_command, 0);
    orderly_test_case(s, authorization_expiry_reaches_every_replica_as_a_deadline_command, 0);
    orderly_test_case(s, auto_complete_reaches_every_replica_as_a_deadline_command, 0);
    orderly_test_case(s, a_redelivered_deadline_command_is_a_duplicate, 0);
    orderly_test_case(s, a_deadline_command_names_its_command_and_part, 0);
    orderly_test_case(s, roles_gate_inputs_only_without_replica, 0);
    orderly_test_case(s, every_op_has_one_owning_machine, 0);
    orderly_test_case(s, a_restarted_replica_commands_no_deadline_its_state_left, 0);
    orderly_test_case(s, a_deadline_command_after_its_state_was_left_is_late, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
