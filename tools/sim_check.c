/*
 * What a simulation proves: every published event is consumed as a
 * downstream service would (deduplicated by id, order events replayed
 * against the order machine), and at the end the invariants are checked
 * against the engine's state, the outbox, the operation queue and the
 * outside world's ledger.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static int state_named(const orderly_machine *m, const char *name)
{
    int id;

    return name != NULL && orderly_machine_state_id(&id, m, name) == 0 ? id : 0;
}

/* Whether the order machine has a row from -> to on event. */
static int has_row(const orderly_machine *m, int from, int event, int to)
{
    orderly_transition t;
    int i, n = orderly_machine_transition_count(m);

    for (i = 0; i < n; i++)
        if (orderly_machine_transition_at(&t, m, i) == 0 && t.from == from && t.event == event &&
            t.to == to)
            return 1;
    return 0;
}

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static void broken(struct sim *s, struct sim_order *o, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void broken(struct sim *s, struct sim_order *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!o->chain_broken)
        s->chains_broken++;
    o->chain_broken = 1;
    if (s->chain_example[0] != '\0')
        return;
    n = snprintf(s->chain_example, sizeof s->chain_example, "%s: ", o->id);
    if (n < 0 || (size_t)n >= sizeof s->chain_example)
        return;
    va_start(ap, fmt);
    vsnprintf(s->chain_example + n, sizeof s->chain_example - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Replays one order event as a consumer would and checks it follows the
 * last one seen. */
static void follow(struct sim *s, const orderly_envelope *env)
{
    const orderly_machine *m;
    struct sim_order *o;
    json_t *d;
    const char *from_s, *to_s, *ev_s;
    int from, to, event = 0;

    if (env->subject == NULL || (o = sim_order_of(s, env->subject)) == NULL ||
        orderly_machine_by_id(&m, ORDERLY_MACHINE_ORDER) < 0)
        return;
    d = json_loadb(env->data != NULL ? env->data : "", env->data_len, 0, NULL);
    from_s = json_string_value(json_object_get(d, "from"));
    to_s = json_string_value(json_object_get(d, "to"));
    ev_s = json_string_value(json_object_get(d, "event"));
    from = state_named(m, from_s);
    to = state_named(m, to_s);
    if (ev_s != NULL && orderly_machine_event_id(&event, m, ev_s) < 0)
        event = 0;
    o->order_events++;
    if (to == 0) {
        broken(s, o, "event %s names no order state (%s)", env->type, to_s != NULL ? to_s : "none");
    } else if (o->seen_state == 0) {
        if (to != orderly_machine_initial(m) && !has_row(m, orderly_machine_initial(m), event, to))
            broken(s, o, "first event moves to %s from %s", to_s, from_s != NULL ? from_s : "nowhere");
    } else if (from != o->seen_state) {
        broken(s, o, "event from %s follows an event that ended in %s", from_s != NULL ? from_s : "?",
               orderly_machine_state_name(m, o->seen_state));
    } else if (from != to && !has_row(m, from, event, to)) {
        broken(s, o, "no transition %s -> %s in the order machine", from_s, to_s);
    }
    if (to != 0)
        o->seen_state = (uint8_t)to;
    json_decref(d);
}

static int is_dead_letter_topic(const char *topic)
{
    size_t n = strlen(topic);

    return n > 4 && strcmp(topic + n - 4, ".dlq") == 0;
}

/* An event id bound to the topic it travelled on: a 64-bit FNV-1a of the
 * topic folded into the id's second half (the half the set does not hash),
 * so one set answers "was this id seen on that topic". */
static const uint8_t *on_topic(uint8_t out[16], const uint8_t id[16], const char *topic)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    int i;

    for (; *topic != '\0'; topic++)
        h = (h ^ (uint8_t)*topic) * 0x100000001b3ULL;
    memcpy(out, id, 16);
    for (i = 0; i < 8; i++)
        out[8 + i] ^= (uint8_t)(h >> (8 * i));
    return out;
}

/* One published message, as a consumer receives it: decoded, deduplicated
 * by id, order events followed. A negative code only when memory ran out. */
int sim_consume_one(struct sim *s, const char *topic, const uint8_t *data, size_t len)
{
    orderly_envelope env;
    orderly_event *ev;
    uint8_t id[16], pair[16];
    int rc;

    if ((rc = orderly_event_decode(&ev, data, len, NULL, NULL)) < 0) {
        sim_fail(s, "a published event on %s does not decode (%s)", topic, orderly_error_name(rc));
        return ORDERLY_OK;
    }
    (void)orderly_event_fields(ev, &env);
    if (env.id == NULL || sim_hex16(id, env.id) < 0) {
        sim_fail(s, "published event id '%s' is not 32 hex digits", env.id != NULL ? env.id : "");
        orderly_event_free(ev);
        return ORDERLY_OK;
    }
    if ((rc = sim_keyset_add(&s->seen_on, on_topic(pair, id, topic))) < 0) {
        orderly_event_free(ev);
        return rc;
    }
    if (is_dead_letter_topic(topic)) {
        s->c.dlq_msgs++;
    } else {
        s->c.published_msgs++;
        rc = sim_keyset_add(&s->published, id);
        if (rc < 0) {
            orderly_event_free(ev);
            return rc;
        }
        if (rc == 0) {
            s->c.redelivered_copies++;   /* consumers drop it by id */
        } else {
            s->c.published_distinct++;
            if (env.type != NULL && strncmp(env.type, "order.", 6) == 0 &&
                (strcmp(env.type, "order.status_changed") == 0 ||
                 strcmp(env.type, "order.cancelled") == 0))
                follow(s, &env);
        }
    }
    orderly_event_free(ev);
    return ORDERLY_OK;
}

int sim_consume(struct sim *s)
{
    size_t i, n = orderly_memory_transport_count(s->transport);
    orderly_message msg;
    int rc;

    for (i = 0; i < n; i++) {
        if (orderly_memory_transport_get(&msg, s->transport, i) < 0)
            break;
        if ((rc = sim_consume_one(s, msg.topic, msg.data, msg.len)) < 0)
            return rc;
    }
    orderly_memory_transport_clear(s->transport);
    return ORDERLY_OK;
}

/* ---- the end-of-run checks --------------------------------------------------------- */

struct check {
    const char *what;
    uint64_t checked, failed;
    char example[256];
};

static void note(struct check *c, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void note(struct check *c, const char *fmt, ...)
{
    va_list ap;

    c->failed++;
    if (c->example[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(c->example, sizeof c->example, fmt, ap);
    va_end(ap);
}

struct outbox_tally {
    struct sim *s;
    struct check *settled;     /* every row published or dead-lettered */
    struct check *seen;        /* and a consumer saw it where it went */
    uint64_t rows, dead, last_id;
};

static int tally_outbox(const orderly_outbox_view *row, void *user_data)
{
    struct outbox_tally *t = user_data;
    uint8_t id[16], pair[16];
    char dlq[160];
    const char *topic = row->topic;

    t->rows++;
    t->last_id = row->id;
    t->settled->checked++;
    if (row->state != ORDERLY_ITEM_DONE && row->state != ORDERLY_ITEM_DEAD) {
        note(t->settled, "row %llu (%s of %s) is still pending", (unsigned long long)row->id,
             row->type, row->order_id);
        return 0;
    }
    t->seen->checked++;
    if (row->state == ORDERLY_ITEM_DEAD) {
        t->dead++;
        snprintf(dlq, sizeof dlq, "%s.dlq", row->topic);
        topic = dlq;
    }
    if (sim_hex16(id, row->event_id) < 0 || !sim_keyset_has(&t->s->seen_on, on_topic(pair, id, topic)))
        note(t->seen, "row %llu (%s of %s) is %s but no consumer saw it on %s",
             (unsigned long long)row->id, row->type, row->order_id,
             row->state == ORDERLY_ITEM_DONE ? "published" : "dead-lettered", topic);
    return 0;
}

/* One ledger entry, kept for the duplicate checks. */
struct operation_row {
    char order_id[ORDERLY_ID_MAX + 1];
    char key[33];
    uint64_t id;
    int op, state;
    uint32_t index;
};

/* One stock line a release_reservations operation gives back. */
struct released_line {
    char order_id[ORDERLY_ID_MAX + 1];
    uint64_t sku, id;
    uint32_t warehouse;
};

struct operation_tally {
    struct sim *s;
    uint64_t total, done, dead, unalerted, pending, last_id;
    uint64_t by_op[ORDERLY_OP_RESHIP + 1];
    char example[160];
    struct operation_row *rows;
    size_t n_rows, cap_rows;
    struct released_line *lines;
    size_t n_lines, cap_lines;
    struct sim_keyset tallied;      /* ids of the rows counted: each once, purged or not */
};

#define SCAN_PAGE 4096

/* The run's tally of operations, made on first use; NULL for ENOMEM. */
static struct operation_tally *tally_of(struct sim *s)
{
    if (s->op_tally == NULL && (s->op_tally = calloc(1, sizeof *s->op_tally)) != NULL)
        s->op_tally->s = s;
    return s->op_tally;
}

void sim_tally_free(struct sim *s)
{
    if (s->op_tally == NULL)
        return;
    free(s->op_tally->rows);
    free(s->op_tally->lines);
    sim_keyset_free(&s->op_tally->tallied);
    free(s->op_tally);
    s->op_tally = NULL;
}

static int tally_operation(const orderly_operation_view *op, void *user_data);

uint64_t sim_txns_mark(struct sim *s)
{
    orderly_engine_stats st = ORDERLY_ENGINE_STATS_INIT;

    return orderly_engine_get_stats(s->engine, &st) == 0 ? st.txn_begins : 0;
}

void sim_txns_world(struct sim *s, uint64_t mark)
{
    s->c.world_txns += sim_txns_mark(s) - mark;
}

int sim_tally_finished_operations(struct sim *s)
{
    struct operation_tally *t = tally_of(s);
    uint64_t before, mark = sim_txns_mark(s);
    int rc = ORDERLY_OK;

    if (t == NULL)
        return ORDERLY_ENOMEM;
    t->last_id = 0;
    do {
        before = t->last_id;
        if ((rc = orderly_engine_list_operations(s->engine, ORDERLY_ITEM_DONE, t->last_id, SCAN_PAGE,
                                                 tally_operation, t)) < 0)
            break;
    } while (t->last_id != before);
    sim_txns_world(s, mark);
    return rc < 0 ? rc : ORDERLY_OK;
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    void *q;
    size_t c;

    if (n < *cap)
        return ORDERLY_OK;
    c = *cap ? *cap * 2 : 1024;
    if ((q = realloc(*p, c * size)) == NULL)
        return ORDERLY_ENOMEM;
    *p = q;
    *cap = c;
    return ORDERLY_OK;
}

static int tally_operation(const orderly_operation_view *op, void *user_data)
{
    struct operation_tally *t = user_data;
    struct operation_row *r;
    uint8_t id[16];
    uint32_t k;

    t->last_id = op->id;
    memset(id, 0, sizeof id);
    memcpy(id, &op->id, sizeof op->id);
    if ((k = (uint32_t)sim_keyset_add(&t->tallied, id)) != 1)
        return (int)k == 0 ? ORDERLY_OK : ORDERLY_ENOMEM;
    t->total++;
    if (op->op > 0 && op->op <= ORDERLY_OP_RESHIP)
        t->by_op[op->op]++;
    if (op->state == ORDERLY_ITEM_DONE) {
        t->done++;
    } else if (op->state == ORDERLY_ITEM_DEAD) {
        t->dead++;
        if (!sim_keyset_has(&t->s->exhausted, id)) {
            t->unalerted++;
            if (t->example[0] == '\0')
                snprintf(t->example, sizeof t->example, "%s %llu of %s exhausted without an alert",
                         orderly_op_name(op->op), (unsigned long long)op->id, op->order_id);
        }
    } else {
        t->pending++;
        if (t->example[0] == '\0')
            snprintf(t->example, sizeof t->example, "%s %llu of %s is neither done nor exhausted",
                     orderly_op_name(op->op), (unsigned long long)op->id, op->order_id);
    }
    if (grow((void **)&t->rows, &t->cap_rows, t->n_rows, sizeof *t->rows) < 0)
        return ORDERLY_ENOMEM;
    r = &t->rows[t->n_rows++];
    snprintf(r->order_id, sizeof r->order_id, "%s", op->order_id);
    snprintf(r->key, sizeof r->key, "%s", op->key);
    r->id = op->id;
    r->op = op->op;
    r->state = op->state;
    r->index = op->index;
    if (op->op != ORDERLY_OP_RELEASE_RESERVATIONS)
        return 0;
    for (k = 0; k < op->n_lines; k++) {
        struct released_line *l;
        if (grow((void **)&t->lines, &t->cap_lines, t->n_lines, sizeof *t->lines) < 0)
            return ORDERLY_ENOMEM;
        l = &t->lines[t->n_lines++];
        snprintf(l->order_id, sizeof l->order_id, "%s", op->order_id);
        l->sku = op->sku[k];
        l->warehouse = op->warehouse[k];
        l->id = op->id;
    }
    return 0;
}

static int is_live(int state)
{
    return state == ORDERLY_ITEM_READY || state == ORDERLY_ITEM_LEASED;
}

/* Operations one cause records at most once in the whole ledger: an
 * authorization is voided, a promotion reverted, points restored and a
 * COD claim cancelled at most once per order (each comes from a terminal
 * transition), and a carrier is asked to cancel a shipment once
 * (doc/delivery.md). The others
 * may repeat for one order (a capture retried after it failed, a refund
 * per return), but never two of them live at once for one (order, index). */
static int once_per_cause(int op)
{
    return op == ORDERLY_OP_VOID_AUTHORIZATION || op == ORDERLY_OP_REVERT_PROMOTION ||
           op == ORDERLY_OP_RESTORE_LOYALTY || op == ORDERLY_OP_CANCEL_SHIPMENT ||
           op == ORDERLY_OP_CANCEL_COD_CLAIM;
}

/* Same cause together, live ones first within it. */
static int by_cause(const void *pa, const void *pb)
{
    const struct operation_row *a = pa, *b = pb;
    int c = strcmp(a->order_id, b->order_id);

    if (c != 0)
        return c;
    if (a->op != b->op)
        return a->op < b->op ? -1 : 1;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    if (is_live(a->state) != is_live(b->state))
        return is_live(a->state) ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int by_key(const void *pa, const void *pb)
{
    const struct operation_row *a = pa, *b = pb;

    return strcmp(a->key, b->key);
}

static int by_line(const void *pa, const void *pb)
{
    const struct released_line *a = pa, *b = pb;
    int c = strcmp(a->order_id, b->order_id);

    if (c != 0)
        return c;
    if (a->sku != b->sku)
        return a->sku < b->sku ? -1 : 1;
    if (a->warehouse != b->warehouse)
        return a->warehouse < b->warehouse ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static void check_duplicates(struct operation_tally *t, struct check *c)
{
    size_t i;

    c->checked = t->n_rows;
    if (t->n_rows > 1)
        qsort(t->rows, t->n_rows, sizeof *t->rows, by_cause);
    for (i = 1; i < t->n_rows; i++) {
        const struct operation_row *a = &t->rows[i - 1], *b = &t->rows[i];
        if (strcmp(a->order_id, b->order_id) != 0 || a->op != b->op || a->index != b->index)
            continue;
        if (once_per_cause(a->op) || (is_live(a->state) && is_live(b->state)))
            note(c, "%s of %s is recorded twice (operations %llu and %llu)", orderly_op_name(a->op),
                 a->order_id, (unsigned long long)a->id, (unsigned long long)b->id);
    }
    if (t->n_rows > 1)
        qsort(t->rows, t->n_rows, sizeof *t->rows, by_key);
    for (i = 1; i < t->n_rows; i++)
        if (strcmp(t->rows[i - 1].key, t->rows[i].key) == 0)
            note(c, "operations %llu and %llu share the idempotency key %s",
                 (unsigned long long)t->rows[i - 1].id, (unsigned long long)t->rows[i].id,
                 t->rows[i].key);
    /* Stock is given back exactly once per line. Lines are told apart by
     * SKU and warehouse, which simulate never repeats within an order. */
    if (t->n_lines > 1)
        qsort(t->lines, t->n_lines, sizeof *t->lines, by_line);
    for (i = 1; i < t->n_lines; i++) {
        const struct released_line *a = &t->lines[i - 1], *b = &t->lines[i];
        if (strcmp(a->order_id, b->order_id) == 0 && a->sku == b->sku && a->warehouse == b->warehouse)
            note(c, "sku %llu of %s is released twice (operations %llu and %llu)",
                 (unsigned long long)a->sku, a->order_id, (unsigned long long)a->id,
                 (unsigned long long)b->id);
    }
}

/* ---- queue rows, read through the storage vtable ------------------------------------ */

struct queue_scan {
    struct check *c;
    const char *queue;
    uint32_t limit;
    uint64_t last, live;
};

static int scan_item(const orderly_queue_item *it, void *user_data)
{
    struct queue_scan *q = user_data;

    q->last = it->id;
    q->c->checked++;
    if (is_live((int)it->state))
        q->live++;
    if (it->attempts > q->limit)
        note(q->c, "%s row %llu has %u attempts, over its limit of %u", q->queue,
             (unsigned long long)it->id, it->attempts, q->limit);
    return 0;
}

/* Every row of the three queues against its attempt limit: the outbox's
 * policy.outbox_max_attempts, the timers' and operations'
 * policy.operation_max_attempts. *live_timers gets the timers still to fire. */
static int check_attempts(struct sim *s, struct check *c, uint64_t *live_timers)
{
    static const struct {
        int queue;
        const char *name;
    } queues[3] = {
        { ORDERLY_QUEUE_OUTBOX, "outbox" },
        { ORDERLY_QUEUE_TIMERS, "timer" },
        { ORDERLY_QUEUE_OPERATIONS, "operation" },
    };
    orderly_storage *st = s->storage;
    orderly_ctx *ctx = NULL;
    void *txn = NULL;
    size_t i;
    int rc;

    if ((rc = orderly_ctx_new(&ctx, NULL)) < 0)
        return rc;
    if ((rc = st->begin(st, ctx, &txn)) < 0) {
        orderly_ctx_free(ctx);
        return rc;
    }
    for (i = 0; i < 3 && rc >= 0; i++) {
        struct queue_scan q;
        q.c = c;
        q.queue = queues[i].name;
        q.limit = queues[i].queue == ORDERLY_QUEUE_OUTBOX ? s->policy.outbox_max_attempts
                                                          : s->policy.operation_max_attempts;
        q.last = 0;
        q.live = 0;
        do
            rc = st->queue_scan(st, ctx, txn, queues[i].queue, -1, q.last, SCAN_PAGE, scan_item, &q);
        while (rc == SCAN_PAGE);
        if (queues[i].queue == ORDERLY_QUEUE_TIMERS)
            *live_timers = q.live;
    }
    st->rollback(st, ctx, txn);
    orderly_ctx_free(ctx);
    return rc < 0 ? rc : ORDERLY_OK;
}

/* ---- deadlines ------------------------------------------------------------------------ */

enum { PROBE_IDLE, PROBE_WAITING, PROBE_OVERDUE };

/* Would the part's timer move it if it fired now? Timer rows carry their
 * order only in a payload the public API does not decode, so the engine is
 * asked instead: the timer's event is applied inside a batch that is then
 * rolled back, which writes nothing. EGUARD means the deadline is still
 * ahead; a change of state means it has passed. */
static int probe(struct sim *s, const char *order_id, int machine, int event, uint32_t index,
                 int *outcome)
{
    orderly_command c;
    orderly_result res = ORDERLY_RESULT_INIT;
    int rc;

    memset(&c, 0, sizeof c);
    c.order_id = order_id;
    c.machine = machine;
    c.event = event;
    c.index = index;
    c.idem_key = "sim-probe";   /* never committed, so one key serves every probe */
    c.now = s->now;
    if ((rc = orderly_engine_begin_batch(s->engine)) < 0)
        return rc;
    rc = orderly_engine_apply(s->engine, &c, &res);
    orderly_engine_rollback_batch(s->engine);
    if (rc == 0 && !res.late && !res.duplicate && res.from != res.to)
        *outcome = PROBE_OVERDUE;
    else if (rc == ORDERLY_EGUARD)
        *outcome = PROBE_WAITING;
    else if (rc == 0 || rc == ORDERLY_ETRANSITION)
        *outcome = PROBE_IDLE;
    else
        return rc;
    return ORDERLY_OK;
}

struct deadlines {
    struct sim *s;
    struct check *c;
    uint64_t waiting;
    int line_waiting;    /* a line of this order waits: its lines share one timer row */
};

/* One part of an order in state: when the state carries a deadline whose
 * timer moves the part on, the deadline must be ahead (a live timer will
 * fire it) or the part must have left. Timers that only report (a
 * fulfillment's SLA) leave the part where it is, so they are not counted. */
static int check_part(struct deadlines *d, const char *order_id, int machine, uint32_t index, int state)
{
    const orderly_machine *m;
    orderly_transition t;
    orderly_guard_input in;
    int timer, tm, event, outcome = PROBE_IDLE, rc;

    if (orderly_machine_by_id(&m, machine) < 0)
        return ORDERLY_EINVAL;
    if ((timer = orderly_machine_state_timer(m, state)) <= 0 ||
        orderly_timer_target(&tm, &event, timer) < 0 || tm != machine)
        return ORDERLY_OK;
    memset(&in, 0, sizeof in);
    in.now = 1;   /* past a deadline of 0 */
    if (orderly_machine_step(&t, m, state, event, &in, NULL) < 0 || t.to == state)
        return ORDERLY_OK;
    d->c->checked++;
    if ((rc = probe(d->s, order_id, machine, event, index, &outcome)) < 0)
        return rc;
    if (outcome == PROBE_WAITING && !(machine == ORDERLY_MACHINE_RESERVATION && d->line_waiting))
        d->waiting++;
    if (outcome == PROBE_WAITING && machine == ORDERLY_MACHINE_RESERVATION)
        d->line_waiting = 1;
    else if (outcome == PROBE_OVERDUE &&
             (machine == ORDERLY_MACHINE_ORDER || machine == ORDERLY_MACHINE_PAYMENT))
        note(d->c, "%s: its %s is still %s past its %s deadline", order_id, orderly_machine_name(m),
             orderly_machine_state_name(m, state), orderly_timer_name(timer));
    else if (outcome == PROBE_OVERDUE)
        note(d->c, "%s: %s #%u is still %s past its %s deadline", order_id, orderly_machine_name(m),
             index, orderly_machine_state_name(m, state), orderly_timer_name(timer));
    return ORDERLY_OK;
}

static int check_deadlines(struct deadlines *d, const char *order_id, const orderly_order_view *v)
{
    static const int machines[4] = { ORDERLY_MACHINE_RESERVATION, ORDERLY_MACHINE_FULFILLMENT,
                                      ORDERLY_MACHINE_SHIPMENT, ORDERLY_MACHINE_RETURN };
    orderly_part_view p = ORDERLY_PART_VIEW_INIT;
    uint32_t i, n;
    int k, rc;

    d->line_waiting = 0;
    if ((rc = check_part(d, order_id, ORDERLY_MACHINE_ORDER, 0, v->order_state)) < 0 ||
        (rc = check_part(d, order_id, ORDERLY_MACHINE_PAYMENT, 0, v->payment_state)) < 0)
        return rc;
    for (k = 0; k < 4; k++) {
        n = machines[k] == ORDERLY_MACHINE_RESERVATION ? v->n_lines
          : machines[k] == ORDERLY_MACHINE_FULFILLMENT ? v->n_fulfillments
          : machines[k] == ORDERLY_MACHINE_SHIPMENT ? v->n_shipments : v->n_returns;
        for (i = 0; i < n; i++) {
            if ((rc = orderly_engine_get_part(d->s->engine, order_id, machines[k], i, &p)) < 0 ||
                (rc = check_part(d, order_id, machines[k], i, p.state)) < 0)
                return rc;
        }
    }
    return ORDERLY_OK;
}

static void verdict(FILE *out, const struct check *c, int *failures)
{
    fprintf(out, "  %-4s %s (%llu checked", c->failed ? "FAIL" : "ok", c->what,
            (unsigned long long)c->checked);
    if (c->failed)
        fprintf(out, ", %llu failed; e.g. %s", (unsigned long long)c->failed, c->example);
    fputs(")\n", out);
    if (c->failed)
        (*failures)++;
}

static void line(FILE *out, const char *label, uint64_t v)
{
    fprintf(out, "  %-34s %10llu\n", label, (unsigned long long)v);
}

/* The end-of-run checks that need more than one pass over the orders. */
static int check_ledgers(struct sim *s, struct outbox_tally *ot, struct operation_tally *et,
                         struct check *attempts, struct check *once, struct check *comp,
                         uint64_t *live_timers)
{
    uint64_t before;
    int rc;

    do {
        before = ot->rows;
        if ((rc = orderly_engine_list_outbox(s->engine, -1, ot->last_id, SCAN_PAGE, tally_outbox, ot)) < 0)
            return rc;
    } while (ot->rows != before);
    et->last_id = 0;
    do {
        before = et->last_id;
        if ((rc = orderly_engine_list_operations(s->engine, -1, et->last_id, SCAN_PAGE, tally_operation, et)) < 0)
            return rc;
    } while (et->last_id != before);
    comp->checked = et->total;
    comp->failed = et->pending + et->unalerted;
    snprintf(comp->example, sizeof comp->example, "%s", et->example);
    check_duplicates(et, once);
    return check_attempts(s, attempts, live_timers);
}

/* ---- units and money per line ------------------------------------------------------- */

/* One warehouse/SKU balance: every unit ordered there is held, shipped,
 * given back or lapsed, and what the inventory restocked is what the
 * engine recorded and no more than came back. */
struct stock_row {
    uint64_t sku;
    uint32_t warehouse;
    uint64_t ordered, held, shipped, released, lapsed, came_back, restocked, engine_restocked;
};

struct per_line {
    struct check *lines, *money, *stock;
    int64_t refunded, owed;    /* over the orders that were not cancelled or failed */
    struct stock_row *rows;
    size_t n_rows, cap_rows;
};

static int stock_row_cmp(const void *pa, const void *pb)
{
    const struct stock_row *a = pa, *b = pb;

    if (a->warehouse != b->warehouse)
        return a->warehouse < b->warehouse ? -1 : 1;
    return a->sku < b->sku ? -1 : a->sku > b->sku;
}

/* Every line of one order against its reservation part, then the order's
 * money against what the world returned or lost. */
static int check_order_lines(struct sim *s, struct sim_order *o, const orderly_order_view *v,
                             struct per_line *pl)
{
    struct sim_money m;
    char why[200];
    int64_t due = 0;
    uint32_t k;
    int rc;

    memset(&m, 0, sizeof m);
    m.ended_unpaid = v->order_state == ORDERLY_ORDER_CANCELLED ||
                     v->order_state == ORDERLY_ORDER_FAILED;
    if (v->n_lines != o->n_lines)
        note(pl->lines, "%s has %u lines in the engine, %u in the world", o->id, v->n_lines,
             o->n_lines);
    for (k = 0; k < o->n_lines && k < v->n_lines; k++) {
        orderly_part_view p = ORDERLY_PART_VIEW_INIT;
        const struct sim_line *w = &o->lines[k];
        struct stock_row *r;
        if ((rc = orderly_engine_get_part(s->engine, o->id, ORDERLY_MACHINE_RESERVATION, k, &p)) < 0)
            return rc;
        pl->lines->checked++;
        if (sim_line_verdict(w, &p, !m.ended_unpaid && o->fees == 0 && o->psp_captured > 0, why,
                             sizeof why))
            note(pl->lines, "%s line %u: %s", o->id, k, why);
        m.lines_refunded += p.refunded;
        due += w->refund_due - w->uncollected;
        if (grow((void **)&pl->rows, &pl->cap_rows, pl->n_rows, sizeof *pl->rows) < 0)
            return ORDERLY_ENOMEM;
        r = &pl->rows[pl->n_rows++];
        memset(r, 0, sizeof *r);
        r->sku = w->sku;
        r->warehouse = w->warehouse;
        r->ordered = w->quantity;
        r->held = p.reserved;
        r->shipped = w->shipped;
        r->released = w->released;
        r->lapsed = p.state == ORDERLY_RESERVATION_EXPIRED && p.reserved + w->shipped + w->released == 0
                        ? w->quantity : 0;
        r->came_back = w->returned + w->back_at_origin;
        r->restocked = w->restocked;
        r->engine_restocked = p.restocked;
    }
    m.world_captured = o->psp_captured;
    m.world_refunded = o->psp_refunded;
    /* nothing paid, nothing owed: an order sent back before its cash was collected */
    m.world_due = o->psp_captured > 0 ? due + o->fees : 0;
    m.captured = v->captured;
    m.refunded = v->refunded;
    if (!m.ended_unpaid) {
        pl->refunded += m.world_refunded;
        pl->owed += m.world_due;
    }
    pl->money->checked++;
    if (sim_money_verdict(&m, why, sizeof why))
        note(pl->money, "%s: %s", o->id, why);
    return ORDERLY_OK;
}

static void check_stock(struct per_line *pl)
{
    size_t i, j;

    if (pl->n_rows > 1)
        qsort(pl->rows, pl->n_rows, sizeof *pl->rows, stock_row_cmp);
    for (i = 0; i < pl->n_rows; i = j) {
        struct stock_row t = pl->rows[i];
        for (j = i + 1; j < pl->n_rows && stock_row_cmp(&pl->rows[j], &t) == 0; j++) {
            t.ordered += pl->rows[j].ordered;
            t.held += pl->rows[j].held;
            t.shipped += pl->rows[j].shipped;
            t.released += pl->rows[j].released;
            t.lapsed += pl->rows[j].lapsed;
            t.came_back += pl->rows[j].came_back;
            t.restocked += pl->rows[j].restocked;
            t.engine_restocked += pl->rows[j].engine_restocked;
        }
        pl->stock->checked++;
        if (t.held + t.shipped + t.released + t.lapsed != t.ordered)
            note(pl->stock, "warehouse %u sku %llu: %llu ordered, %llu held, %llu shipped, %llu "
                 "released, %llu lapsed", t.warehouse, (unsigned long long)t.sku,
                 (unsigned long long)t.ordered, (unsigned long long)t.held,
                 (unsigned long long)t.shipped, (unsigned long long)t.released,
                 (unsigned long long)t.lapsed);
        else if (t.restocked != t.engine_restocked || t.restocked > t.came_back)
            note(pl->stock, "warehouse %u sku %llu: restocked %llu (the engine: %llu) of %llu "
                 "that came back", t.warehouse, (unsigned long long)t.sku,
                 (unsigned long long)t.restocked, (unsigned long long)t.engine_restocked,
                 (unsigned long long)t.came_back);
    }
}

static int by_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

    return a < b ? -1 : a > b;
}

/* What the run drove beyond the plain lifecycle, from the world's books. */
static void report_scenarios(struct sim *s, FILE *out, const struct per_line *pl,
                             uint64_t violations)
{
    uint64_t i, cod = 0, partial = 0, large = 0;
    uint32_t *sizes = malloc((s->created + 1) * sizeof *sizes);
    uint32_t k;

    for (i = 0; i < s->created; i++) {
        const struct sim_order *o = &s->orders[i];
        int delivered = 0, failed = 0;
        cod += o->method == ORDERLY_PAY_COD;
        for (k = 0; k < o->n_lines; k++) {
            delivered |= o->lines[k].delivered > 0;
            failed |= o->lines[k].lost + o->lines[k].back_at_origin > 0;
        }
        partial += delivered && failed;
        if (o->large && sizes != NULL)
            sizes[large] = o->n_lines;
        large += o->large;
    }
    fputs("\nper order line\n", out);
    line(out, "cash-on-delivery orders", cod);
    line(out, "large orders (50-300 lines drawn)", large);
    if (large > 0 && sizes != NULL) {
        qsort(sizes, large, sizeof *sizes, by_u32);
        fprintf(out, "  %-34s %u / %u / %u (max_lines %u)\n", "  lines min / median / max", sizes[0],
                sizes[large / 2], sizes[large - 1], s->max_lines);
    }
    free(sizes);
    line(out, "partial deliveries", partial);
    line(out, "parcels back at origin", s->c.parcels_back);
    line(out, "parcels lost (claims opened)", s->c.parcels_lost);
    line(out, "  claims refunded", s->c.claims_refunded);
    line(out, "  claims reshipped", s->c.claims_reshipped);
    line(out, "  claims closed", s->c.claims_closed);
    line(out, "reshipments sent", s->c.reships_sent);
    line(out, "returns opened", s->c.returns_opened);
    line(out, "  partial returns", s->c.partial_returns);
    line(out, "  second returns of an order", s->c.second_returns);
    line(out, "  with a restocking fee", s->c.returns_with_fee);
    line(out, "exchanges", s->c.exchanges);
    line(out, "  replacement orders opened", s->c.replacements);
    fprintf(out, "  %-34s %10lld of %lld owed back\n", "refunded for returns and losses",
            (long long)pl->refunded, (long long)pl->owed);
    fprintf(out, "  %-34s %10llu checked, %llu violations\n", "per-line conservation",
            (unsigned long long)pl->lines->checked, (unsigned long long)violations);
}

int sim_report(struct sim *s, double wall, FILE *out)
{
    struct check explained = { "every order's state is explained by its published events", 0, 0, "" };
    struct check released = { "every cancelled order's reservations are released", 0, 0, "" };
    struct check money = { "captured <= authorized and refunded <= captured, in the engine and at the provider", 0, 0, "" };
    struct check outbox = { "every outbox row is delivered or dead-lettered", 0, 0, "" };
    struct check seen = { "every delivered row reached its topic, every dead letter <topic>.dlq", 0, 0, "" };
    struct check comp = { "every operation is done, or exhausted with an alert", 0, 0, "" };
    struct check once = { "no operation is recorded twice for one cause", 0, 0, "" };
    struct check attempts = { "no queue row has more attempts than its limit", 0, 0, "" };
    struct check deadline = { "every part waiting on a deadline has a timer to move it", 0, 0, "" };
    struct check harness = { "duplicates answered once, events decodable", 0, 0, "" };
    struct check lines_c = { "per line, the world's units and refunds are the engine's: shipped <= ordered, restocked <= returned <= delivered", 0, 0, "" };
    struct check money_c = { "per order, a cancelled or failed order keeps nothing; refunded = what came back or was lost", 0, 0, "" };
    struct check stock_c = { "per warehouse and SKU, held + shipped + released = ordered; restocked = what came back", 0, 0, "" };
    struct per_line pl;
    struct outbox_tally ot;
    struct operation_tally *et;
    struct deadlines dl;
    orderly_engine_stats st = ORDERLY_ENGINE_STATS_INIT;
    orderly_health h = ORDERLY_HEALTH_INIT;
    const orderly_machine *om, *rm;
    uint64_t by_state[32], i, live_timers = 0;
    int rc, failures = 0, st_id;

    /* the checks read; nothing may fail under them */
    (void)orderly_fault_storage_set_faults(s->storage, NULL);
    /* taken first: the deadline probes below count as commands */
    orderly_engine_get_stats(s->engine, &st);
    if (orderly_engine_health(s->engine, s->now, 0, 0, &h) < 0)
        memset(&h, 0, sizeof h);
    memset(by_state, 0, sizeof by_state);
    if (orderly_machine_by_id(&om, ORDERLY_MACHINE_ORDER) < 0 ||
        orderly_machine_by_id(&rm, ORDERLY_MACHINE_RESERVATION) < 0)
        return CLI_EXIT_FAIL;
    memset(&ot, 0, sizeof ot);
    ot.s = s;
    ot.settled = &outbox;
    ot.seen = &seen;
    if ((et = tally_of(s)) == NULL)
        rc = ORDERLY_ENOMEM;
    else
        rc = check_ledgers(s, &ot, et, &attempts, &once, &comp, &live_timers);
    if (rc < 0) {
        fprintf(stderr, "orderly simulate: reading the queues failed: %s\n", orderly_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    dl.s = s;
    dl.c = &deadline;
    dl.waiting = 0;
    memset(&pl, 0, sizeof pl);
    pl.lines = &lines_c;
    pl.money = &money_c;
    pl.stock = &stock_c;
    for (i = 0; i < s->created; i++) {
        struct sim_order *o = &s->orders[i];
        orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
        uint32_t k;
        if ((rc = orderly_engine_get_order(s->engine, o->id, &v)) < 0) {
            note(&explained, "%s cannot be read (%s)", o->id, orderly_error_name(rc));
            continue;
        }
        by_state[v.order_state & 31]++;
        explained.checked++;
        if (o->chain_broken || o->seen_state != v.order_state)
            note(&explained, "%s is %s but its events end in %s", o->id,
                 orderly_machine_state_name(om, v.order_state),
                 o->seen_state ? orderly_machine_state_name(om, o->seen_state) : "nothing");
        money.checked++;
        if (v.captured > v.authorized || v.refunded > v.captured)
            note(&money, "%s: authorized %lld, captured %lld, refunded %lld", o->id,
                 (long long)v.authorized, (long long)v.captured, (long long)v.refunded);
        else if (o->psp_refunded > o->psp_captured)
            note(&money, "%s: the provider refunded %lld of %lld captured", o->id,
                 (long long)o->psp_refunded, (long long)o->psp_captured);
        if ((rc = check_deadlines(&dl, o->id, &v)) < 0)
            note(&deadline, "%s cannot be probed (%s)", o->id, orderly_error_name(rc));
        if ((rc = check_order_lines(s, o, &v, &pl)) < 0)
            note(&lines_c, "%s: its lines cannot be read (%s)", o->id, orderly_error_name(rc));
        if (v.order_state != ORDERLY_ORDER_CANCELLED)
            continue;
        released.checked++;
        for (k = 0; k < v.n_lines; k++) {
            orderly_part_view p = ORDERLY_PART_VIEW_INIT;
            if (orderly_engine_get_part(s->engine, o->id, ORDERLY_MACHINE_RESERVATION, k, &p) < 0) {
                note(&released, "%s line %u cannot be read", o->id, k);
                break;
            }
            if (p.state != ORDERLY_RESERVATION_RELEASED && p.state != ORDERLY_RESERVATION_EXPIRED) {
                note(&released, "%s line %u is still held (%s)", o->id, k,
                     orderly_machine_state_name(rm, p.state));
                break;
            }
            if (p.state == ORDERLY_RESERVATION_RELEASED && o->lines[k].released == 0) {
                note(&released, "%s line %u was never released at the warehouse", o->id, k);
                break;
            }
        }
    }
    check_stock(&pl);
    free(pl.rows);
    if (s->chains_broken > explained.failed) {
        explained.failed = s->chains_broken;
        snprintf(explained.example, sizeof explained.example, "%s", s->chain_example);
    }
    /* Timer rows name no order in a field the public API reads, so the parts
     * still waiting on a deadline can only be held against the live timers
     * as a count. */
    if (dl.waiting > live_timers)
        note(&deadline, "%llu parts wait on a deadline but only %llu timers are live",
             (unsigned long long)dl.waiting, (unsigned long long)live_timers);

    harness.checked = s->c.duplicates_sent + s->c.published_msgs;
    if (s->failure[0] != '\0') {
        harness.failed = 1;
        snprintf(harness.example, sizeof harness.example, "%s", s->failure);
    }

    fputs("\norders by final state\n", out);
    for (st_id = 1; st_id < orderly_machine_state_limit(om); st_id++)
        if (by_state[st_id])
            line(out, orderly_machine_state_name(om, st_id), by_state[st_id]);
    fputs("\ntraffic\n", out);
    line(out, "commands and inbound events", s->c.commands);
    line(out, "  applied", s->c.applied);
    line(out, "  rejected by the rules", s->c.rejected);
    line(out, "  retried after a storage fault", s->c.retries);
    line(out, "  given up after retries", s->c.gave_up);
    if (s->workers > 0)
        line(out, "  calls run by the workers", s->c.remote_calls);
    line(out, "signed webhooks handled", s->c.webhooks);
    line(out, "duplicates sent", s->c.duplicates_sent);
    line(out, "duplicates suppressed", st.duplicates);
    line(out, "late events sent", s->c.late_sent);
    line(out, "late events ignored", st.late_ignored);
    line(out, "timers fired", s->c.ticks_fired);
    line(out, "timers still to fire", live_timers);
    fputs("\noutbox\n", out);
    line(out, "events published (distinct ids)", s->c.published_distinct);
    line(out, "redelivered copies (same id)", s->c.redelivered_copies);
    line(out, "dead letters", ot.dead);
    line(out, "dead letters seen on .dlq topics", s->c.dlq_msgs);
    line(out, "rows purged after retention", s->c.purged);
    line(out, "rows still held", ot.rows);
    line(out, "stale completions rejected", h.stale_completions);
    line(out, "expired leases taken over", h.leases_expired_total);
    fputs("\noperations\n", out);
    for (st_id = ORDERLY_OP_RELEASE_RESERVATIONS; st_id <= ORDERLY_OP_RESHIP; st_id++)
        if (et->by_op[st_id])
            line(out, orderly_op_name(st_id), et->by_op[st_id]);
    line(out, "carried out", s->c.operations_run);
    line(out, "exhausted and alerted", s->c.operations_exhausted_alerts);
    line(out, "replayed by the operator", s->c.operations_replayed);
    line(out, "still parked", et->dead);
    fputs("\nfaults injected\n", out);
    line(out, "storage calls failed", orderly_fault_storage_faults(s->storage));
    line(out, "operation calls failed", s->c.executor_faults);
    fputs("\nstorage transactions\n", out);
    fprintf(out, "  %-34s %llu begins (%llu read-only), %llu commits, %llu rollbacks\n",
            "storage transactions", (unsigned long long)st.txn_begins,
            (unsigned long long)st.txn_read_begins, (unsigned long long)st.txn_commits,
            (unsigned long long)st.txn_rollbacks);
    fprintf(out, "  %-34s %10.2f\n", "per command",
            s->c.commands > 0 ? (double)st.txn_begins / (double)s->c.commands : 0.0);
    fprintf(out, "  %-34s %10.2f\n", "write transactions per command",
            s->c.commands > 0 ? (double)(st.txn_begins - st.txn_read_begins) / (double)s->c.commands
                              : 0.0);
    line(out, "the world's own reads", s->c.world_txns);
    fprintf(out, "  %-34s %10.2f\n", "engine transactions per command",
            s->c.commands > 0 && st.txn_begins >= s->c.world_txns
                ? (double)(st.txn_begins - s->c.world_txns) / (double)s->c.commands
                : 0.0);
    line(out, "acknowledgement-only writes", st.txn_ack_writes);
    line(out, "moot deadlines finished by commands", st.deadlines_cancelled);
    fputs("\nthroughput (timing varies run to run)\n", out);
    fprintf(out, "  %-34s %10.2f\n", "wall seconds", wall);
    fprintf(out, "  %-34s %10.0f\n", "commands per second", wall > 0 ? (double)s->c.commands / wall : 0.0);
    fprintf(out, "  %-34s %10.0f\n", "events published per second",
            wall > 0 ? (double)s->c.published_distinct / wall : 0.0);
    report_scenarios(s, out, &pl, lines_c.failed + money_c.failed + stock_c.failed);
    fputs("\ninvariants\n", out);
    verdict(out, &explained, &failures);
    verdict(out, &released, &failures);
    verdict(out, &money, &failures);
    verdict(out, &outbox, &failures);
    verdict(out, &seen, &failures);
    verdict(out, &comp, &failures);
    verdict(out, &once, &failures);
    verdict(out, &attempts, &failures);
    verdict(out, &deadline, &failures);
    verdict(out, &lines_c, &failures);
    verdict(out, &money_c, &failures);
    verdict(out, &stock_c, &failures);
    verdict(out, &harness, &failures);
    if (failures) {
        fprintf(out, "\nresult: %d invariant%s FAILED\n", failures, failures == 1 ? "" : "s");
        return CLI_EXIT_FAIL;
    }
    fputs("\nresult: all invariants hold\n", out);
    return CLI_EXIT_OK;
}
