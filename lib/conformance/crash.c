/*
 * Part B: a real engine runs a realistic workload on the target, and the
 * process "dies" once at every storage call in turn. A fault wrapper sits
 * between the engine and the adapter: at call N it either withholds the
 * call (the crash came before it reached the adapter) or makes it and
 * drops its result (the crash came after the adapter returned), and from
 * then on fails every call, as a dead process would. The harness then
 * crashes the target (open transactions lost), opens a fresh engine on the
 * recovered store and continues where the host was, retrying its command
 * with the same idempotency key, with the clock moved past every lease.
 *
 * The wrapper also watches what the engine commits (outbox rows) and
 * claims, and a recording transport maps each publish back to the outbox
 * row it came from, which is what makes "no committed event lost" and
 * "per-order outbox order" checkable without decoding any payload.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "orderly/compensation.h"
#include "orderly/engine.h"
#include "orderly/fulfillment.h"
#include "orderly/order.h"
#include "orderly/outbox.h"
#include "orderly/payment.h"
#include "orderly/return.h"
#include "orderly/shipment.h"
#include "orderly/sys/memory.h"

#define T0 1700000000000LL
#define SEC 1000LL
#define MIN 60000LL
#define HOUR 3600000LL
#define DAY 86400000LL
#define LEASE (30 * SEC)
#define N_ORDERS 3
#define STEPS_MAX 96
#define LOOP_MAX 40
#define SHOW_MAX 12

/* ---- growable arrays ---------------------------------------------------------- */

/* Grows the array *arrp points to (elements of size) to hold n + 1; 0 or
 * ENOMEM with the array untouched. The pointer is copied in and out with
 * memcpy so one helper serves every element type without aliasing it. */
static int grow(void *arrp, size_t *cap, size_t n, size_t size)
{
    void *items, *p;
    size_t c;

    if (n < *cap)
        return ORDERLY_OK;
    memcpy(&items, arrp, sizeof items);
    c = *cap ? *cap * 2 : 32;
    if ((p = realloc(items, c * size)) == NULL)
        return ORDERLY_ENOMEM;
    memcpy(arrp, &p, sizeof p);
    *cap = c;
    return ORDERLY_OK;
}

#define GROW(arr, n, cap) grow(&(arr), &(cap), (n), sizeof *(arr))

/* ---- the workload ------------------------------------------------------------- */

enum step_kind {
    ST_CREATE, ST_CMD, ST_CANCEL, ST_RETURN, ST_PUMP, ST_TICK, ST_OPERATIONS, ST_REPLAY,
    ST_SETTLE, ST_PURGE
};

struct step {
    int kind;
    orderly_time_ms at;        /* script time, from T0 */
    const char *order;
    int method;                /* ST_CREATE: payment method */
    uint32_t promo;            /* ST_CREATE */
    int machine, event;        /* ST_CMD */
    uint32_t index;
    int64_t amount;
    char key[48];
    char label[64];
};

static const char *const orders[N_ORDERS] = { "card-1", "cod-1", "card-2" };

static const orderly_line lines[2] = {
    { 101, 1, 2, 500 },   /* warehouse 1 */
    { 202, 2, 1, 1000 },  /* warehouse 2 */
};

struct workload {
    struct step s[STEPS_MAX];
    size_t n;
};

static struct step *add(struct workload *w, int kind, orderly_time_ms at, const char *label)
{
    struct step *s = &w->s[w->n];

    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->at = at;
    snprintf(s->label, sizeof s->label, "%s", label);
    snprintf(s->key, sizeof s->key, "step-%zu", w->n);
    w->n++;
    return s;
}

static void add_create(struct workload *w, orderly_time_ms at, const char *order, int method,
                       uint32_t promo)
{
    char label[64];
    struct step *s;

    snprintf(label, sizeof label, "create %s", order);
    s = add(w, ST_CREATE, at, label);
    s->order = order;
    s->method = method;
    s->promo = promo;
}

static void add_cmd(struct workload *w, orderly_time_ms at, const char *order, int machine,
                    int event, uint32_t index, int64_t amount, const char *what)
{
    char label[64];
    struct step *s;

    snprintf(label, sizeof label, "%s %s #%u", order, what, (unsigned)index);
    s = add(w, ST_CMD, at, label);
    s->order = order;
    s->machine = machine;
    s->event = event;
    s->index = index;
    s->amount = amount;
}

static void add_ship(struct workload *w, orderly_time_ms at, const char *order, uint32_t i)
{
    add_cmd(w, at, order, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, i, 0,
            "start picking");
    add_cmd(w, at, order, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PICKED, i, 0, "picked");
    add_cmd(w, at, order, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PACKING, i, 0,
            "start packing");
    add_cmd(w, at, order, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PACKED, i, 0, "packed");
    add_cmd(w, at, order, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_SHIP, i, 0, "ship");
}

static void add_deliver(struct workload *w, orderly_time_ms at, const char *order, uint32_t i)
{
    add_cmd(w, at, order, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, i, 0, "pick up");
    add_cmd(w, at, order, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_DELIVER, i, 0, "deliver");
}

/*
 * Card and COD orders over two warehouses; card-1 is captured, shipped,
 * delivered and partly returned (its restock fails twice), cod-1 is
 * confirmed, shipped and delivered, card-2 carries a promotion and is
 * cancelled (reverting the promotion always fails until an operator fixes
 * it and replays it). Then everything settles and the outbox is purged.
 */
static void build_workload(struct workload *w)
{
    const char *c1 = orders[0], *cod = orders[1], *c2 = orders[2];
    struct step *s;
    uint32_t i;

    memset(w, 0, sizeof *w);
    add_create(w, 0, c1, ORDERLY_PAY_CARD, 0);
    add_create(w, 0, cod, ORDERLY_PAY_COD, 0);
    add_create(w, 0, c2, ORDERLY_PAY_CARD, 1);
    add(w, ST_PUMP, 10 * SEC, "pump");
    add_cmd(w, 1 * MIN, c1, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, 2000, "authorize");
    add_cmd(w, 1 * MIN, c2, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, 2000, "authorize");
    add_cmd(w, 1 * MIN, cod, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0, "COD confirm");
    add(w, ST_PUMP, 1 * MIN, "pump");
    add_cmd(w, 2 * MIN, c1, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0,
            "request capture");
    add_cmd(w, 2 * MIN, c1, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0, 0,
            "capture succeeded");
    for (i = 0; i < 2; i++) {
        add_ship(w, 3 * MIN, c1, i);
        add_ship(w, 3 * MIN, cod, i);
    }
    add(w, ST_PUMP, 3 * MIN, "pump");
    s = add(w, ST_CANCEL, 4 * MIN, "card-2 cancel");
    s->order = c2;
    add(w, ST_OPERATIONS, 4 * MIN, "run operations");
    add(w, ST_PUMP, 4 * MIN, "pump");
    for (i = 0; i < 2; i++) {
        add_deliver(w, 5 * MIN, c1, i);
        add_deliver(w, 5 * MIN, cod, i);
    }
    add(w, ST_PUMP, 5 * MIN, "pump");
    s = add(w, ST_RETURN, 6 * MIN, "card-1 open return");
    s->order = c1;
    s->amount = 500;
    add_cmd(w, 6 * MIN, c1, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, 0, 0, "return approve");
    add_cmd(w, 6 * MIN, c1, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, 0, 0, "return receive");
    add_cmd(w, 6 * MIN, c1, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, 0, 0, "return inspect");
    add_cmd(w, 6 * MIN, c1, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, 0, 500, "return refund");
    add_cmd(w, 6 * MIN, c1, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, 0, 0, "return complete");
    add(w, ST_OPERATIONS, 6 * MIN, "run operations");
    add(w, ST_PUMP, 6 * MIN, "pump");
    add(w, ST_TICK, 7 * MIN, "tick");
    add(w, ST_REPLAY, 8 * MIN, "exhaust, fix and replay the promotion revert");
    add(w, ST_SETTLE, 40 * DAY, "settle: ticks, operations and pumps until idle");
    add(w, ST_PURGE, 80 * DAY, "purge published events after the retention");
}

/* ---- what one run records ------------------------------------------------------ */

struct row {             /* an outbox row whose commit returned 0 */
    uint64_t id;
    char group[ORDERLY_ID_MAX + 1];
};

struct pub {             /* one publish mapped to the outbox row it came from */
    uint64_t row;
    char ce_id[40];
    int dlq;
};

struct alert_rec {
    int kind;
    int queue;
    uint64_t item;
};

struct call_rec {        /* the crash-free run's calls, to name each crash point */
    int method;
    size_t step;
    int in_txn;          /* a transaction was open */
    int after_commit;    /* the call before was a commit that returned 0 */
    int after_publish;   /* events were published since the call before */
};

struct wtxn {            /* the wrapper's view of one transaction */
    struct wtxn *next;
    void *inner;
    struct row *pushed;  /* outbox rows pushed in it */
    size_t n_pushed, cap_pushed;
};

enum { M_BEGIN = 1, M_COMMIT, M_ROLLBACK, M_LOAD, M_SAVE, M_SCAN, M_PUSH, M_CLAIM, M_FINISH,
       M_RESET, M_GET, M_QSCAN, M_PURGE, M_STATS, M_IDEM_GET, M_IDEM_PUT, M_IDEM_PURGE };

static const char *const method_names[] = {
    "?", "begin", "commit", "rollback", "load", "save", "scan", "queue_push", "queue_claim",
    "queue_finish", "queue_reset", "queue_get", "queue_scan", "queue_purge", "queue_stats",
    "idem_get", "idem_put", "idem_purge"
};

enum { CRASH_BEFORE = 0, CRASH_AFTER = 1 };

struct run {
    orderly_storage base;      /* first: the fault wrapper the engine holds */
    orderly_transport tbase;   /* the recording transport the engine holds */
    const orderly_conformance_target *t;
    const struct workload *w;
    orderly_storage *inner;
    orderly_transport *mt;     /* orderly_memory_transport behind tbase */
    orderly_engine *e;
    orderly_ctx *ctx;

    uint64_t calls, crash_at;
    int mode, down, crashes;
    size_t step;               /* the step running */
    int in_pump;
    int last_was_commit;
    size_t published_since_call;
    struct wtxn *txns;

    struct row *batch;         /* the last outbox claim, in order */
    size_t n_batch, cap_batch, batch_pos;

    struct row *rows;
    size_t n_rows, cap_rows;
    struct pub *pubs;
    size_t n_pubs, cap_pubs;
    struct alert_rec *alerts;
    size_t n_alerts, cap_alerts;
    struct call_rec *trace;    /* only in the crash-free run */
    size_t n_trace, cap_trace;
    int tracing;

    orderly_time_ms last, floor;
    uint32_t restock_calls;
    int promo_fixed, promo_replayed;
    uint64_t promo_id;
    int oom;
    char note[ORDERLY__CONF_NOTE_MAX];
};

#define RUN(s) ((struct run *)(s)->user_data)

static void fail(struct run *r, const char *fmt, ...) ORDERLY__CONF_PRINTF(2, 3);

static void fail(struct run *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    orderly__conf_note(r->note, "%s", msg);
}

/* The host's clock: script time, never backwards, and after a crash at
 * least one lease past the last instant used, so every lease the dead
 * process held has expired when the work resumes. */
static orderly_time_ms now_at(struct run *r, orderly_time_ms at)
{
    orderly_time_ms t = T0 + at;

    if (t < r->floor)
        t = r->floor;
    if (t < r->last)
        t = r->last;
    r->last = t;
    return t;
}

/* ---- the fault wrapper --------------------------------------------------------- */

static int dead(orderly_ctx *ctx)
{
    return orderly_ctx_set_error(ctx, ORDERLY_ESTORAGE, 0, "conformance: simulated crash");
}

/* Counts a call and decides its fate: < 0 to fail it unseen by the adapter. */
static int gate(struct run *r, orderly_ctx *ctx, int method)
{
    int after_commit = r->last_was_commit;

    r->calls++;
    r->last_was_commit = 0;
    if (r->tracing && GROW(r->trace, r->n_trace, r->cap_trace) == 0) {
        struct call_rec *c = &r->trace[r->n_trace++];
        c->method = method;
        c->step = r->step;
        c->in_txn = r->txns != NULL && method != M_BEGIN;
        c->after_commit = after_commit;
        c->after_publish = r->published_since_call > 0;
    } else if (r->tracing) {
        r->oom = 1;
    }
    r->published_since_call = 0;
    if (r->down)
        return dead(ctx);
    if (r->calls == r->crash_at && r->mode == CRASH_BEFORE) {
        r->down = 1;
        return dead(ctx);
    }
    return ORDERLY_OK;
}

/* After the adapter answered: the crash may come now, losing the answer. */
static int leave(struct run *r, orderly_ctx *ctx, int rc)
{
    if (r->calls == r->crash_at && r->mode == CRASH_AFTER) {
        r->down = 1;
        return dead(ctx);
    }
    return rc;
}

static void unlink_txn(struct run *r, struct wtxn *t)
{
    struct wtxn **pp;

    for (pp = &r->txns; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    free(t->pushed);
    free(t);
}

static int w_begin(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    struct run *r = RUN(s);
    struct wtxn *t;
    int rc;

    if ((rc = gate(r, ctx, M_BEGIN)) < 0)
        return rc;
    if ((t = calloc(1, sizeof *t)) == NULL)
        return orderly_ctx_set_error(ctx, ORDERLY_ENOMEM, 0, "conformance: out of memory");
    if ((rc = r->inner->begin(r->inner, ctx, &t->inner)) < 0) {
        free(t);
        return rc;
    }
    /* from here the adapter holds it, whatever the engine learns */
    t->next = r->txns;
    r->txns = t;
    if ((rc = leave(r, ctx, rc)) < 0)
        return rc;
    *txn_out = t;
    return rc;
}

static int w_commit(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    struct run *r = RUN(s);
    struct wtxn *t = txn;
    size_t i;
    int rc;

    if ((rc = gate(r, ctx, M_COMMIT)) < 0)
        return rc;
    rc = r->inner->commit(r->inner, ctx, t->inner);
    if (rc == 0) {
        for (i = 0; i < t->n_pushed; i++) {
            if (GROW(r->rows, r->n_rows, r->cap_rows) < 0) {
                r->oom = 1;
                break;
            }
            r->rows[r->n_rows++] = t->pushed[i];
        }
    }
    unlink_txn(r, t);
    rc = leave(r, ctx, rc);
    r->last_was_commit = rc == 0;
    return rc;
}

static void w_rollback(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    struct run *r = RUN(s);
    struct wtxn *t = txn;

    /* a dead process rolls nothing back: the crash will */
    if (gate(r, ctx, M_ROLLBACK) < 0)
        return;
    r->inner->rollback(r->inner, ctx, t->inner);
    unlink_txn(r, t);
    (void)leave(r, ctx, 0);
}

static int w_load(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  orderly_buf *out, uint64_t *version_out)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_LOAD)) < 0)
        return rc;
    rc = r->inner->load(r->inner, ctx, ((struct wtxn *)txn)->inner, key, out, version_out);
    return leave(r, ctx, rc);
}

static int w_save(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  const uint8_t *data, size_t len, uint64_t expected)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_SAVE)) < 0)
        return rc;
    rc = r->inner->save(r->inner, ctx, ((struct wtxn *)txn)->inner, key, data, len, expected);
    return leave(r, ctx, rc);
}

static int w_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *after, size_t max,
                  orderly_record_cb cb, void *user_data)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_SCAN)) < 0)
        return rc;
    rc = r->inner->scan(r->inner, ctx, ((struct wtxn *)txn)->inner, after, max, cb, user_data);
    return leave(r, ctx, rc);
}

static int w_push(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                  const orderly_queue_item *item, uint64_t *id_out)
{
    struct run *r = RUN(s);
    struct wtxn *t = txn;
    uint64_t id = 0;
    int rc;

    if ((rc = gate(r, ctx, M_PUSH)) < 0)
        return rc;
    rc = r->inner->queue_push(r->inner, ctx, t->inner, queue, item, &id);
    if (rc == 0 && queue == ORDERLY_QUEUE_OUTBOX) {
        if (GROW(t->pushed, t->n_pushed, t->cap_pushed) < 0) {
            r->oom = 1;
        } else {
            struct row *w = &t->pushed[t->n_pushed++];
            w->id = id;
            snprintf(w->group, sizeof w->group, "%s", item->group != NULL ? item->group : "");
        }
    }
    if (id_out != NULL)
        *id_out = id;
    return leave(r, ctx, rc);
}

struct claim_tap {
    struct run *r;
    orderly_item_cb cb;
    void *user_data;
};

/* Notes each outbox item the engine is handed, in order, so the publishes
 * that follow can be matched to their rows. */
static int tap_claim(const orderly_queue_item *it, void *ud)
{
    struct claim_tap *c = ud;
    struct run *r = c->r;

    if (GROW(r->batch, r->n_batch, r->cap_batch) < 0) {
        r->oom = 1;
    } else {
        r->batch[r->n_batch].id = it->id;
        snprintf(r->batch[r->n_batch].group, sizeof r->batch[r->n_batch].group, "%s",
                 it->group != NULL ? it->group : "");
        r->n_batch++;
    }
    return c->cb(it, c->user_data);
}

static int w_claim(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, orderly_time_ms now,
                   size_t max, uint32_t max_attempts, orderly_time_ms lease_until,
                   uint64_t *token_out, orderly_item_cb cb, void *user_data)
{
    struct run *r = RUN(s);
    struct claim_tap c = { r, cb, user_data };
    int rc;

    if ((rc = gate(r, ctx, M_CLAIM)) < 0)
        return rc;
    if (queue != ORDERLY_QUEUE_OUTBOX) {
        rc = r->inner->queue_claim(r->inner, ctx, ((struct wtxn *)txn)->inner, queue, now, max,
                                   max_attempts, lease_until, token_out, cb, user_data);
        return leave(r, ctx, rc);
    }
    r->n_batch = 0;
    r->batch_pos = 0;
    rc = r->inner->queue_claim(r->inner, ctx, ((struct wtxn *)txn)->inner, queue, now, max,
                               max_attempts, lease_until, token_out, tap_claim, &c);
    return leave(r, ctx, rc);
}

static int w_finish(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                    uint64_t token, int state, orderly_time_ms due, uint32_t attempts)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_FINISH)) < 0)
        return rc;
    rc = r->inner->queue_finish(r->inner, ctx, ((struct wtxn *)txn)->inner, queue, id, token,
                                state, due, attempts);
    return leave(r, ctx, rc);
}

static int w_reset(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                   int state, orderly_time_ms due)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_RESET)) < 0)
        return rc;
    rc = r->inner->queue_reset(r->inner, ctx, ((struct wtxn *)txn)->inner, queue, id, state, due);
    return leave(r, ctx, rc);
}

static int w_get(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                 orderly_item_cb cb, void *user_data)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_GET)) < 0)
        return rc;
    rc = r->inner->queue_get(r->inner, ctx, ((struct wtxn *)txn)->inner, queue, id, cb, user_data);
    return leave(r, ctx, rc);
}

static int w_qscan(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, int state,
                   uint64_t after_id, size_t max, orderly_item_cb cb, void *user_data)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_QSCAN)) < 0)
        return rc;
    rc = r->inner->queue_scan(r->inner, ctx, ((struct wtxn *)txn)->inner, queue, state, after_id,
                              max, cb, user_data);
    return leave(r, ctx, rc);
}

static int w_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                   orderly_time_ms before, size_t max)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_PURGE)) < 0)
        return rc;
    rc = r->inner->queue_purge(r->inner, ctx, ((struct wtxn *)txn)->inner, queue, before, max);
    return leave(r, ctx, rc);
}

static int w_stats(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, orderly_time_ms now,
                   orderly_queue_stats *out)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_STATS)) < 0)
        return rc;
    rc = r->inner->queue_stats(r->inner, ctx, ((struct wtxn *)txn)->inner, queue, now, out);
    return leave(r, ctx, rc);
}

static int w_idem_get(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, orderly_idem_record *out, orderly_buf *result)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_IDEM_GET)) < 0)
        return rc;
    rc = r->inner->idem_get(r->inner, ctx, ((struct wtxn *)txn)->inner, key, now, out, result);
    return leave(r, ctx, rc);
}

static int w_idem_put(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, const orderly_idem_record *rec)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_IDEM_PUT)) < 0)
        return rc;
    rc = r->inner->idem_put(r->inner, ctx, ((struct wtxn *)txn)->inner, key, now, rec);
    return leave(r, ctx, rc);
}

static int w_idem_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, orderly_time_ms now,
                        size_t max)
{
    struct run *r = RUN(s);
    int rc;

    if ((rc = gate(r, ctx, M_IDEM_PURGE)) < 0)
        return rc;
    rc = r->inner->idem_purge(r->inner, ctx, ((struct wtxn *)txn)->inner, now, max);
    return leave(r, ctx, rc);
}

static void wrapper_init(struct run *r)
{
    orderly_storage *s = &r->base;

    (void)orderly_storage_init(s, ORDERLY_STORAGE_VERSION);
    s->user_data = r;
    s->begin = w_begin;
    s->commit = w_commit;
    s->rollback = w_rollback;
    s->load = w_load;
    s->save = w_save;
    s->scan = w_scan;
    s->queue_push = w_push;
    s->queue_claim = w_claim;
    s->queue_finish = w_finish;
    s->queue_reset = w_reset;
    s->queue_get = w_get;
    s->queue_scan = w_qscan;
    s->queue_purge = w_purge;
    s->queue_stats = w_stats;
    s->idem_get = w_idem_get;
    s->idem_put = w_idem_put;
    s->idem_purge = w_idem_purge;
}

/* ---- the recording transport ----------------------------------------------------- */

static const char *header(const orderly_header *h, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static int t_publish(orderly_transport *t, orderly_ctx *ctx, const char *topic, const char *key,
                     const uint8_t *data, size_t len, const orderly_header *headers,
                     size_t n_headers)
{
    struct run *r = t->user_data;
    const char *id = header(headers, n_headers, "ce-id");
    size_t tl = strlen(topic);
    struct pub *p;
    int rc;

    if (r->down)
        return orderly_ctx_set_error(ctx, ORDERLY_ETRANSPORT, 0, "conformance: process is dead");
    if ((rc = r->mt->publish(r->mt, ctx, topic, key, data, len, headers, n_headers)) < 0)
        return rc;
    r->published_since_call++;
    if (!r->in_pump)
        return rc; /* a command for an operation without an executor */
    if (r->batch_pos >= r->n_batch) {
        fail(r, "step '%s': a publish to %s matches no claimed outbox row",
             r->w->s[r->step].label, topic);
        return rc;
    }
    if (strcmp(r->batch[r->batch_pos].group, key != NULL ? key : "") != 0)
        fail(r, "step '%s': the publish keyed '%s' follows the claim of a row of order '%s'",
             r->w->s[r->step].label, key != NULL ? key : "", r->batch[r->batch_pos].group);
    if (GROW(r->pubs, r->n_pubs, r->cap_pubs) < 0) {
        r->oom = 1;
        return rc;
    }
    p = &r->pubs[r->n_pubs++];
    p->row = r->batch[r->batch_pos++].id;
    snprintf(p->ce_id, sizeof p->ce_id, "%s", id != NULL ? id : "");
    p->dlq = tl > 4 && strcmp(topic + tl - 4, ".dlq") == 0;
    return rc;
}

/* ---- engine, executors, alerts --------------------------------------------------- */

static void on_alert(const orderly_alert *a, void *ud)
{
    struct run *r = ud;

    if (GROW(r->alerts, r->n_alerts, r->cap_alerts) < 0) {
        r->oom = 1;
        return;
    }
    r->alerts[r->n_alerts].kind = a->kind;
    r->alerts[r->n_alerts].queue = a->queue;
    r->alerts[r->n_alerts].item = a->item_id;
    r->n_alerts++;
}

static int exec_ok(const orderly_operation_view *op, void *ud)
{
    (void)op;
    (void)ud;
    return ORDERLY_OK;
}

/* The warehouse is unreachable twice, then takes the stock back. */
static int exec_restock(const orderly_operation_view *op, void *ud)
{
    struct run *r = ud;

    (void)op;
    return ++r->restock_calls <= 2 ? ORDERLY_EUSER : ORDERLY_OK;
}

/* Fails until an operator fixes the promotion service. */
static int exec_promo(const orderly_operation_view *op, void *ud)
{
    struct run *r = ud;

    (void)op;
    return r->promo_fixed ? ORDERLY_OK : ORDERLY_EUSER;
}

static int engine_open(struct run *r)
{
    orderly_engine_options o = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_policy pol = ORDERLY_POLICY_INIT;
    int op, rc;

    o.storage = &r->base;
    o.transport = &r->tbase;
    o.on_alert = on_alert;
    o.alert_user_data = r;
    pol.lease = LEASE;
    pol.backoff_base = SEC;
    pol.backoff_max = MIN;
    pol.operation_max_attempts = 4;
    pol.batch_max = 8;
    o.policy = &pol;
    if ((rc = orderly_engine_open(&r->e, &o, r->ctx)) < 0) {
        fail(r, "orderly_engine_open: %s %s", orderly_error_name(rc), orderly_ctx_errmsg(r->ctx));
        return rc;
    }
    for (op = ORDERLY_OP_RELEASE_RESERVATIONS; op <= ORDERLY_OP_CANCEL_COD_CLAIM; op++) {
        orderly_executor_cb cb = op == ORDERLY_OP_RESTOCK ? exec_restock
                                 : op == ORDERLY_OP_REVERT_PROMOTION ? exec_promo : exec_ok;
        if ((rc = orderly_engine_set_executor(r->e, op, cb, r)) < 0) {
            fail(r, "orderly_engine_set_executor(%d): %s", op, orderly_error_name(rc));
            return rc;
        }
    }
    return ORDERLY_OK;
}

/* The process died: what the adapter kept is all there is. */
static int recover(struct run *r)
{
    orderly_storage *old = r->inner;
    int rc;

    orderly_engine_close(r->e);
    r->e = NULL;
    rc = r->t->crash(&r->inner, r->t->user_data);
    while (r->txns != NULL) {
        struct wtxn *t = r->txns;
        if (r->inner == old && rc == 0)
            old->rollback(old, r->ctx, t->inner);
        unlink_txn(r, t);
    }
    if (rc < 0 || r->inner == NULL) {
        fail(r, "target crash failed: %s", orderly_error_name(rc));
        return rc < 0 ? rc : ORDERLY_ERROR;
    }
    r->down = 0;
    r->crashes++;
    r->floor = r->last + LEASE + SEC;
    return engine_open(r);
}

/* ---- reading the store behind the engine's back -------------------------------- */

static int inner_stats(struct run *r, int queue, orderly_time_ms now, orderly_queue_stats *st)
{
    void *txn = NULL;
    int rc;

    if ((rc = r->inner->begin(r->inner, r->ctx, &txn)) < 0)
        return rc;
    rc = r->inner->queue_stats(r->inner, r->ctx, txn, queue, now, st);
    r->inner->rollback(r->inner, r->ctx, txn);
    return rc;
}

/* 1 when nothing is left to do at now; < 0 on a storage error. why (may
 * be NULL) gets what is still pending. */
static int idle(struct run *r, orderly_time_ms now, char *why, size_t cap)
{
    orderly_queue_stats o, t, c;
    int rc;

    if ((rc = inner_stats(r, ORDERLY_QUEUE_OUTBOX, now, &o)) < 0 ||
        (rc = inner_stats(r, ORDERLY_QUEUE_TIMERS, now, &t)) < 0 ||
        (rc = inner_stats(r, ORDERLY_QUEUE_OPERATIONS, now, &c)) < 0)
        return rc;
    if (why != NULL)
        snprintf(why, cap, "outbox ready %llu leased %llu expired %llu; timers due %llu leased "
                 "%llu expired %llu; operations ready %llu leased %llu expired %llu",
                 (unsigned long long)o.ready, (unsigned long long)o.leased,
                 (unsigned long long)o.lease_expired, (unsigned long long)t.due,
                 (unsigned long long)t.leased, (unsigned long long)t.lease_expired,
                 (unsigned long long)c.ready, (unsigned long long)c.leased,
                 (unsigned long long)c.lease_expired);
    return o.ready + o.leased + o.lease_expired + t.due + t.leased + t.lease_expired + c.ready +
               c.leased + c.lease_expired == 0;
}

struct comp_scan {
    struct run *r;
    int dead_without_alert;
    int not_finished;
    int promo_done;
    int promo_unfinished; /* a revert still there and not DONE */
};

static int alerted(const struct run *r, int kind, uint64_t item)
{
    size_t i;

    for (i = 0; i < r->n_alerts; i++)
        if (r->alerts[i].kind == kind && r->alerts[i].item == item)
            return 1;
    return 0;
}

static int check_comp(const orderly_queue_item *it, void *ud)
{
    struct comp_scan *c = ud;

    if (it->state != ORDERLY_ITEM_DONE && it->state != ORDERLY_ITEM_DEAD) {
        c->not_finished++;
        fail(c->r, "operation %llu (op %u) ends in state %u, neither DONE nor DEAD",
             (unsigned long long)it->id, it->kind, it->state);
    }
    if (it->state == ORDERLY_ITEM_DEAD &&
        !alerted(c->r, ORDERLY_ALERT_OPERATION_EXHAUSTED, it->id)) {
        c->dead_without_alert++;
        fail(c->r, "operation %llu (op %u) is DEAD and no exhaustion alert was raised",
             (unsigned long long)it->id, it->kind);
    }
    if (it->kind == ORDERLY_OP_REVERT_PROMOTION && it->state == ORDERLY_ITEM_DONE)
        c->promo_done = 1;
    else if (it->kind == ORDERLY_OP_REVERT_PROMOTION)
        c->promo_unfinished = 1;
    return 0;
}

/* ---- the steps ---------------------------------------------------------------- */

struct find_promo {
    uint64_t id;
    int state;
};

static int find_dead_promo(const orderly_operation_view *v, void *ud)
{
    struct find_promo *f = ud;

    if (v->op == ORDERLY_OP_REVERT_PROMOTION && f->id == 0)
        f->id = v->id;
    return 0;
}

static int operation_state(const orderly_operation_view *v, void *ud)
{
    ((struct find_promo *)ud)->state = v->state;
    return 0;
}

static int pump_all(struct run *r, orderly_time_ms now)
{
    size_t n = 1;
    int i, rc = 0;

    r->in_pump = 1;
    for (i = 0; i < LOOP_MAX && n > 0 && rc == 0; i++)
        rc = orderly_engine_pump(r->e, now, 0, &n);
    r->in_pump = 0;
    return rc;
}

static int tick_all(struct run *r, orderly_time_ms now)
{
    size_t n = 1;
    int i, rc = 0;

    for (i = 0; i < LOOP_MAX && n > 0 && rc == 0; i++)
        rc = orderly_engine_tick(r->e, now, 0, &n);
    return rc;
}

/* The operator's part: wait for the promotion revert to exhaust, fix the
 * promotion service, replay the parked operation - unless the replay
 * already went through and only its answer was lost. */
static int replay_step(struct run *r, const struct step *s)
{
    struct find_promo f;
    size_t done;
    int i, rc;

    for (i = 0; i < LOOP_MAX && !r->promo_replayed; i++) {
        orderly_time_ms now = now_at(r, s->at + i * 2 * MIN);
        if (r->promo_id == 0) {
            if ((rc = orderly_engine_run_operations(r->e, now, 0, &done)) < 0)
                return rc;
            f.id = 0;
            if ((rc = orderly_engine_list_operations(r->e, ORDERLY_ITEM_DEAD, 0, 64,
                                                  find_dead_promo, &f)) < 0)
                return rc;
            if (f.id == 0)
                continue;
            r->promo_id = f.id;
            r->promo_fixed = 1;
        }
        f.state = -1;
        if ((rc = orderly_engine_inspect_operation(r->e, r->promo_id, operation_state, &f)) < 0)
            return rc;
        if (f.state == ORDERLY_ITEM_DEAD &&
            (rc = orderly_engine_replay_operation(r->e, r->promo_id, now)) < 0)
            return rc;
        r->promo_replayed = 1;
    }
    if (!r->promo_replayed)
        fail(r, "the promotion revert never exhausted its attempts");
    return ORDERLY_OK;
}

static int settle_step(struct run *r, const struct step *s)
{
    char why[400] = "";
    size_t done;
    int i, rc;

    for (i = 0; i < LOOP_MAX; i++) {
        orderly_time_ms now = now_at(r, s->at + i * HOUR);
        if ((rc = tick_all(r, now)) < 0 ||
            (rc = orderly_engine_run_operations(r->e, now, 0, &done)) < 0 ||
            (rc = pump_all(r, now)) < 0)
            return rc;
        if (r->down)
            return ORDERLY_ESTORAGE;
        if ((rc = idle(r, now, why, sizeof why)) != 0)
            return rc < 0 ? rc : ORDERLY_OK;
    }
    fail(r, "the engine never went idle in %d rounds: %s", LOOP_MAX, why);
    return ORDERLY_OK;
}

static int purge_step(struct run *r, const struct step *s)
{
    size_t n = 1;
    int i, rc = 0;

    for (i = 0; i < LOOP_MAX && n > 0 && rc == 0; i++)
        rc = orderly_engine_purge(r->e, now_at(r, s->at), 8, &n);
    return rc;
}

static int run_step(struct run *r, const struct step *s)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    orderly_order_spec spec;
    orderly_command cmd;
    uint32_t idx;
    size_t n;

    switch (s->kind) {
    case ST_CREATE:
        memset(&spec, 0, sizeof spec);
        spec.order_id = s->order;
        spec.currency = "EUR";
        spec.payment_method = s->method;
        spec.lines = lines;
        spec.n_lines = 2;
        spec.has_promotion = s->promo;
        spec.loyalty_points = s->promo ? 300 : 0;
        spec.idem_key = s->key;
        spec.now = now_at(r, s->at);
        return orderly_engine_create_order(r->e, &spec, &res);
    case ST_CMD:
        memset(&cmd, 0, sizeof cmd);
        cmd.order_id = s->order;
        cmd.machine = s->machine;
        cmd.event = s->event;
        cmd.index = s->index;
        cmd.amount = s->amount;
        cmd.idem_key = s->key;
        cmd.now = now_at(r, s->at);
        return orderly_engine_apply(r->e, &cmd, &res);
    case ST_CANCEL:
        return orderly_engine_cancel_order(r->e, s->order, s->key, now_at(r, s->at), &res);
    case ST_RETURN: {
        /* one unit of the first line: worth the step's amount */
        static const orderly_return_line one = { 0, 1 };
        orderly_return_spec rs = ORDERLY_RETURN_SPEC_INIT;
        rs.order_id = s->order;
        rs.lines = &one;
        rs.n_lines = 1;
        rs.adjustment = s->amount - lines[0].unit_price;
        rs.idem_key = s->key;
        rs.now = now_at(r, s->at);
        return orderly_engine_open_return_lines(r->e, &idx, &rs, &res);
    }
    case ST_PUMP:
        return pump_all(r, now_at(r, s->at));
    case ST_TICK:
        return tick_all(r, now_at(r, s->at));
    case ST_OPERATIONS:
        return orderly_engine_run_operations(r->e, now_at(r, s->at), 0, &n);
    case ST_REPLAY:
        return replay_step(r, s);
    case ST_SETTLE:
        return settle_step(r, s);
    default:
        return purge_step(r, s);
    }
}

/* Runs every step, recovering from the one crash and retrying the step it
 * hit. 0 when the workload completed. */
static int run_workload(struct run *r)
{
    int rc, tries;

    if ((rc = engine_open(r)) < 0)
        return rc;
    for (r->step = 0; r->step < r->w->n; r->step++) {
        const struct step *s = &r->w->s[r->step];
        for (tries = 0; tries < 3; tries++) {
            rc = run_step(r, s);
            if (!r->down)
                break;
            if ((rc = recover(r)) < 0)
                return rc;
        }
        if (rc < 0) {
            fail(r, "step '%s' failed: %s (%s)", s->label, orderly_error_name(rc),
                 r->e != NULL ? orderly_engine_errmsg(r->e) : "");
            return rc;
        }
    }
    return ORDERLY_OK;
}

/* ---- the checks ----------------------------------------------------------------- */

/* What a crash-free run ends with, for comparison. */
#define EVENTS_MAX 64

struct expect {
    orderly_order_view view[N_ORDERS];
    char ids[N_ORDERS][EVENTS_MAX][40];  /* each order's event ids, in outbox order */
    size_t n[N_ORDERS];
};

static int cmp_row(const void *a, const void *b)
{
    const struct row *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

static const struct pub *first_pub(const struct run *r, uint64_t row, size_t *seq)
{
    size_t i;

    for (i = 0; i < r->n_pubs; i++) {
        if (r->pubs[i].row == row && !r->pubs[i].dlq) {
            *seq = i;
            return &r->pubs[i];
        }
    }
    return NULL;
}

/* Each order's event ids in outbox order (rows sorted by id first). */
static void events_of(const struct run *r, struct expect *out)
{
    size_t i, j, seq;

    memset(out->n, 0, sizeof out->n);
    for (i = 0; i < r->n_rows; i++) {
        const struct pub *p = first_pub(r, r->rows[i].id, &seq);
        for (j = 0; j < N_ORDERS; j++) {
            if (strcmp(orders[j], r->rows[i].group) != 0 || out->n[j] == EVENTS_MAX)
                continue;
            snprintf(out->ids[j][out->n[j]++], sizeof out->ids[j][0], "%s",
                     p != NULL ? p->ce_id : "(lost)");
        }
    }
}

static void check_outbox(struct run *r, const struct expect *x, struct expect *got)
{
    size_t i, j, seq = 0, prev_seq = 0;

    qsort(r->rows, r->n_rows, sizeof *r->rows, cmp_row);
    for (i = 0; i < r->n_rows; i++) {
        const struct pub *p = first_pub(r, r->rows[i].id, &seq);
        if (i > 0 && r->rows[i].id == r->rows[i - 1].id)
            fail(r, "outbox row %llu was committed twice", (unsigned long long)r->rows[i].id);
        if (p == NULL) {
            fail(r, "event lost: outbox row %llu of %s was committed and never published",
                 (unsigned long long)r->rows[i].id, r->rows[i].group);
            continue;
        }
        /* per-order order: a row's first publish follows its predecessor's */
        for (j = i; j-- > 0;) {
            if (strcmp(r->rows[j].group, r->rows[i].group) != 0)
                continue;
            if (first_pub(r, r->rows[j].id, &prev_seq) != NULL && prev_seq > seq)
                fail(r, "order %s: outbox row %llu was published before row %llu",
                     r->rows[i].group, (unsigned long long)r->rows[i].id,
                     (unsigned long long)r->rows[j].id);
            break;
        }
    }
    for (i = 0; i < r->n_pubs; i++) {
        const struct pub *p = &r->pubs[i];
        struct row key;
        key.id = p->row;
        if (bsearch(&key, r->rows, r->n_rows, sizeof *r->rows, cmp_row) == NULL) {
            fail(r, "outbox row %llu was published but its commit never returned 0",
                 (unsigned long long)p->row);
            continue;
        }
        if (p->dlq && !alerted(r, ORDERLY_ALERT_DEAD_LETTER, p->row))
            fail(r, "outbox row %llu was dead-lettered without an alert",
                 (unsigned long long)p->row);
        for (j = 0; j < i; j++) {
            if (r->pubs[j].row == p->row && strcmp(r->pubs[j].ce_id, p->ce_id) != 0)
                fail(r, "outbox row %llu was published as %s and again as %s",
                     (unsigned long long)p->row, r->pubs[j].ce_id, p->ce_id);
            if (r->pubs[j].row != p->row && strcmp(r->pubs[j].ce_id, p->ce_id) == 0)
                fail(r, "outbox rows %llu and %llu share event id %s: consumers would drop one",
                     (unsigned long long)r->pubs[j].row, (unsigned long long)p->row, p->ce_id);
        }
    }
    events_of(r, got);
    for (j = 0; j < N_ORDERS && x != NULL; j++) {
        for (i = 0; i < got->n[j] && i < x->n[j]; i++) {
            if (strcmp(got->ids[j][i], x->ids[j][i]) != 0) {
                fail(r, "%s: event %zu is %s; in the crash-free run it is %s", orders[j], i,
                     got->ids[j][i], x->ids[j][i]);
                break;
            }
        }
        if (got->n[j] != x->n[j])
            fail(r, "%s: %zu events; the crash-free run has %zu", orders[j], got->n[j], x->n[j]);
    }
}

static void check_queues(struct run *r)
{
    static const char *const qn[] = { "", "outbox", "timers", "operations" };
    struct comp_scan c = { r, 0, 0, 0, 0 };
    orderly_queue_stats st;
    void *txn = NULL;
    int q, rc;

    for (q = ORDERLY_QUEUE_OUTBOX; q <= ORDERLY_QUEUE_OPERATIONS; q++) {
        if ((rc = inner_stats(r, q, r->last, &st)) < 0) {
            fail(r, "queue_stats(%s): %s", qn[q], orderly_error_name(rc));
            return;
        }
        if (st.leased + st.lease_expired > 0)
            fail(r, "%s: %llu rows still leased, %llu of them past their lease", qn[q],
                 (unsigned long long)(st.leased + st.lease_expired),
                 (unsigned long long)st.lease_expired);
        if (q == ORDERLY_QUEUE_OUTBOX && st.ready + st.dead > 0)
            fail(r, "outbox: %llu rows stuck unpublished, %llu dead-lettered",
                 (unsigned long long)st.ready, (unsigned long long)st.dead);
        if (q == ORDERLY_QUEUE_OUTBOX && st.done > 0)
            fail(r, "outbox: %llu published rows survived the purge past the retention",
                 (unsigned long long)st.done);
        if (q == ORDERLY_QUEUE_TIMERS && st.due > 0)
            fail(r, "timers: %llu due timers never fired", (unsigned long long)st.due);
        if (q == ORDERLY_QUEUE_OPERATIONS && st.ready > 0)
            fail(r, "operations: %llu operations never finished", (unsigned long long)st.ready);
    }
    if ((rc = r->inner->begin(r->inner, r->ctx, &txn)) < 0) {
        fail(r, "begin: %s", orderly_error_name(rc));
        return;
    }
    rc = r->inner->queue_scan(r->inner, r->ctx, txn, ORDERLY_QUEUE_OPERATIONS, -1, 0, 4096,
                              check_comp, &c);
    r->inner->rollback(r->inner, r->ctx, txn);
    if (rc < 0)
        fail(r, "queue_scan(operations): %s", orderly_error_name(rc));
    if (!alerted(r, ORDERLY_ALERT_OPERATION_EXHAUSTED, r->promo_id))
        fail(r, "the promotion revert was replayed without an exhaustion alert");
    /* the purge past the retention deletes completed operations (and
     * only those): a revert no longer in the queue completed */
    if (!c.promo_done && c.promo_unfinished)
        fail(r, "the replayed promotion revert never completed");
    if (r->restock_calls < 3)
        fail(r, "the restock ran %u times; it succeeds on the third", r->restock_calls);
}

static void check_orders(struct run *r, const struct expect *x, orderly_order_view *out)
{
    size_t i;
    int rc;

    for (i = 0; i < N_ORDERS; i++) {
        orderly_order_view *v = &out[i];
        v->size = sizeof *v;
        if ((rc = orderly_engine_get_order(r->e, orders[i], v)) < 0) {
            fail(r, "get_order(%s): %s", orders[i], orderly_error_name(rc));
            continue;
        }
        if (v->captured > v->authorized || v->refunded > v->captured)
            fail(r, "%s breaks the money invariants: authorized %lld captured %lld refunded %lld",
                 orders[i], (long long)v->authorized, (long long)v->captured,
                 (long long)v->refunded);
        if (x != NULL && (v->order_state != x->view[i].order_state ||
                          v->payment_state != x->view[i].payment_state ||
                          v->captured != x->view[i].captured ||
                          v->refunded != x->view[i].refunded))
            fail(r, "%s ends in order state %d, payment %d, captured %lld, refunded %lld; the "
                 "crash-free run ends in %d, %d, %lld, %lld", orders[i], v->order_state,
                 v->payment_state, (long long)v->captured, (long long)v->refunded,
                 x->view[i].order_state, x->view[i].payment_state,
                 (long long)x->view[i].captured, (long long)x->view[i].refunded);
    }
}

/* ---- one run -------------------------------------------------------------------- */

static void run_free(struct run *r)
{
    while (r->txns != NULL)
        unlink_txn(r, r->txns);
    free(r->batch);
    free(r->rows);
    free(r->pubs);
    free(r->alerts);
    free(r->trace);
}

/*
 * One run from an empty store, crashing at call crash_at (0 = never, which
 * also records the calls) in mode, checked against x (NULL = the crash-free
 * run); got receives what this run ended with. Returns 1 when the run
 * passed, 0 when it failed (detail in r->note), < 0 on a harness error.
 */
static int one_run(struct run *r, const orderly_conformance_target *t, const struct workload *w,
                   orderly_ctx *ctx, uint64_t crash_at, int mode, const struct expect *x,
                   struct expect *got)
{
    int rc;

    memset(r, 0, sizeof *r);
    r->t = t;
    r->w = w;
    r->ctx = ctx;
    r->crash_at = crash_at;
    r->mode = mode;
    r->tracing = crash_at == 0;
    wrapper_init(r);
    (void)orderly_transport_init(&r->tbase, ORDERLY_TRANSPORT_VERSION);
    r->tbase.user_data = r;
    r->tbase.publish = t_publish;
    if ((rc = t->reset(t->user_data)) < 0) {
        fail(r, "target reset failed: %s", orderly_error_name(rc));
        return 0;
    }
    if ((rc = t->open(&r->inner, t->user_data)) < 0 || r->inner == NULL) {
        fail(r, "target open failed: %s", orderly_error_name(rc));
        return 0;
    }
    if ((rc = orderly_memory_transport_new(&r->mt, NULL)) < 0) {
        t->close(r->inner, t->user_data);
        return rc;
    }
    if (run_workload(r) == 0) {
        uint64_t calls = r->calls;
        if (r->txns != NULL)
            fail(r, "the engine left a transaction open");
        check_outbox(r, x, got);
        check_queues(r);
        check_orders(r, x, got->view);
        r->calls = calls;
    }
    if (crash_at != 0 && r->crashes == 0 && r->note[0] == '\0')
        fail(r, "the crash at call %llu never happened: the workload took another path",
             (unsigned long long)crash_at);
    orderly_engine_close(r->e);
    r->e = NULL;
    while (r->txns != NULL)
        unlink_txn(r, r->txns);
    t->close(r->inner, t->user_data);
    orderly_memory_transport_free(r->mt);
    if (r->oom)
        return ORDERLY_ENOMEM;
    return r->note[0] == '\0';
}

/* ---- the crash points, by class ----------------------------------------------------- */

struct klass {
    const char *name;
    int (*match)(const struct call_rec *c, int mode, const struct workload *w);
    size_t points, failed;
    char note[ORDERLY__CONF_NOTE_MAX];
};

static int is_inside(const struct call_rec *c, int mode, const struct workload *w)
{
    (void)w;
    return mode == CRASH_BEFORE && c->in_txn && c->method != M_COMMIT &&
           c->method != M_ROLLBACK;
}

static int is_commit_lost(const struct call_rec *c, int mode, const struct workload *w)
{
    (void)w;
    return mode == CRASH_BEFORE && c->method == M_COMMIT;
}

static int is_commit_kept(const struct call_rec *c, int mode, const struct workload *w)
{
    (void)w;
    return mode == CRASH_AFTER && c->method == M_COMMIT;
}

static int is_after_commit(const struct call_rec *c, int mode, const struct workload *w)
{
    (void)w;
    return mode == CRASH_BEFORE && c->after_commit;
}

static int is_after_publish(const struct call_rec *c, int mode, const struct workload *w)
{
    (void)w;
    return mode == CRASH_BEFORE && c->after_publish;
}

static int is_cleanup(const struct call_rec *c, int mode, const struct workload *w)
{
    (void)mode;
    return w->s[c->step].kind == ST_PURGE;
}

static void describe(char *out, size_t cap, const struct call_rec *c, uint64_t n, int mode,
                     const struct workload *w)
{
    snprintf(out, cap, "%s call %llu (%s in step '%s')", mode == CRASH_BEFORE ? "before" : "after",
             (unsigned long long)n, method_names[c->method], w->s[c->step].label);
}

/* First line of a run's detail. */
static void first_line(char *out, size_t cap, const char *note)
{
    const char *end = strchr(note, '\n');
    size_t n = end != NULL ? (size_t)(end - note) : strlen(note);

    if (n >= cap)
        n = cap - 1;
    memcpy(out, note, n);
    out[n] = '\0';
}

int orderly__conf_crash(struct orderly__conf_tap *tap, const orderly_conformance_target *t)
{
    static const char *const base_name = "crash: the workload passes every check without a crash";
    static const char *const mode_names[2] = {
        "crash: before each storage call reaches the adapter, then recover",
        "crash: after each storage call returned, losing its answer, then recover"
    };
    struct klass classes[] = {
        { "crash: inside a transaction, before its commit", is_inside, 0, 0, "" },
        { "crash: at commit, the commit lost", is_commit_lost, 0, 0, "" },
        { "crash: at commit, committed but the answer lost", is_commit_kept, 0, 0, "" },
        { "crash: right after a commit", is_after_commit, 0, 0, "" },
        { "crash: after publish, before the ack", is_after_publish, 0, 0, "" },
        { "crash: mid-cleanup (outbox purge)", is_cleanup, 0, 0, "" },
    };
    const size_t n_classes = sizeof classes / sizeof classes[0];
    struct workload *w;
    struct run *r;
    struct expect *x, *got;
    struct call_rec *trace = NULL;
    orderly_ctx *ctx = NULL;
    char *note = NULL, line[600], where[200];
    uint64_t total = 0, n;
    size_t k, failed[2] = { 0, 0 };
    int mode, rc, points = 0;

    for (mode = 0; mode < 2; mode++)
        points |= orderly__conf_wanted(tap, mode_names[mode]);
    for (k = 0; k < n_classes; k++)
        points |= orderly__conf_wanted(tap, classes[k].name);
    if (!points && !orderly__conf_wanted(tap, base_name))
        return ORDERLY_OK;

    w = malloc(sizeof *w);
    r = malloc(sizeof *r);
    x = calloc(1, sizeof *x);
    got = calloc(1, sizeof *got);
    note = calloc(1, ORDERLY__CONF_NOTE_MAX);
    if (w == NULL || r == NULL || x == NULL || got == NULL || note == NULL ||
        orderly_ctx_new(&ctx, NULL) < 0) {
        rc = ORDERLY_ENOMEM;
        goto out;
    }
    build_workload(w);

    if ((rc = one_run(r, t, w, ctx, 0, CRASH_BEFORE, NULL, x)) < 0) {
        run_free(r);
        goto out;
    }
    total = r->calls;
    trace = r->trace;
    r->trace = NULL;
    orderly__conf_note(r->note, "%llu storage calls, %zu outbox events, %zu alerts",
                       (unsigned long long)total, r->n_rows, r->n_alerts);
    if (orderly__conf_wanted(tap, base_name))
        orderly__conf_report(tap, base_name, rc == 1, r->note);
    run_free(r);
    if (rc != 1) {
        for (mode = 0; mode < 2; mode++)
            if (orderly__conf_wanted(tap, mode_names[mode]))
                orderly__conf_report(tap, mode_names[mode], 0, "not run: the crash-free run fails");
        for (k = 0; k < n_classes; k++)
            if (orderly__conf_wanted(tap, classes[k].name))
                orderly__conf_report(tap, classes[k].name, 0, "not run: the crash-free run fails");
        rc = ORDERLY_OK;
        goto out;
    }

    for (mode = 0; mode < 2 && points; mode++) {
        note[0] = '\0';
        for (n = 1; n <= total; n++) {
            const struct call_rec *c = &trace[n - 1];
            rc = one_run(r, t, w, ctx, n, mode, x, got);
            if (rc < 0) {
                run_free(r);
                goto out;
            }
            describe(where, sizeof where, c, n, mode, w);
            first_line(line, sizeof line, r->note);
            if (rc == 0 && ++failed[mode] <= SHOW_MAX)
                orderly__conf_note(note, "%s: %s", where, line);
            for (k = 0; k < n_classes; k++) {
                if (!classes[k].match(c, mode, w))
                    continue;
                classes[k].points++;
                if (rc == 0 && ++classes[k].failed <= 3)
                    orderly__conf_note(classes[k].note, "%s: %s", where, line);
            }
            run_free(r);
        }
        if (failed[mode] > SHOW_MAX)
            orderly__conf_note(note, "... %zu more", failed[mode] - SHOW_MAX);
        orderly__conf_note(note, "%zu of %llu crash points failed", failed[mode],
                           (unsigned long long)total);
        if (orderly__conf_wanted(tap, mode_names[mode]))
            orderly__conf_report(tap, mode_names[mode], failed[mode] == 0, note);
    }
    for (k = 0; k < n_classes && points; k++) {
        if (!orderly__conf_wanted(tap, classes[k].name))
            continue;
        if (classes[k].points == 0)
            orderly__conf_note(classes[k].note, "the workload has no crash point of this kind");
        orderly__conf_note(classes[k].note, "%zu of %zu crash points failed", classes[k].failed,
                           classes[k].points);
        orderly__conf_report(tap, classes[k].name,
                             classes[k].points > 0 && classes[k].failed == 0, classes[k].note);
    }
    rc = ORDERLY_OK;
out:
    free(trace);
    free(x);
    free(got);
    orderly_ctx_free(ctx);
    free(note);
    free(r);
    free(w);
    return rc;
}

/* ---- engine cases: what an engine must find on any adapter ------------------------ */

/*
 * These hold the engine to one behaviour whatever the adapter: an adapter
 * that opens a second transaction freely (memory) and one that cannot
 * (SQLite, one connection) must answer the same. They run a real engine on
 * the target through the same wrapper as the crash runs, never crashing.
 */

static void fail_at(struct run *r, int line, const char *fmt, ...) ORDERLY__CONF_PRINTF(3, 4);

static void fail_at(struct run *r, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail(r, "crash.c:%d: %s", line, msg);
}

#define ECHECK(r, cond, ...)                         \
    do {                                             \
        if (!(cond)) {                               \
            fail_at((r), __LINE__, __VA_ARGS__);     \
            return;                                  \
        }                                            \
    } while (0)

/* expr must return want; names both and the engine's message. */
#define ERC(r, expr, want)                                                                  \
    do {                                                                                    \
        int rc_ = (expr), want_ = (want);                                                   \
        ECHECK((r), rc_ == want_, "%s returned %s (%s), expected %s", #expr,                \
               orderly_error_name(rc_), (r)->e != NULL ? orderly_engine_errmsg((r)->e) : "", \
               orderly_error_name(want_));                                                  \
    } while (0)

static int e_create(struct run *r, const char *order, uint32_t promo, orderly_time_ms now)
{
    orderly_order_spec spec;
    orderly_result res = ORDERLY_RESULT_INIT;

    memset(&spec, 0, sizeof spec);
    spec.order_id = order;
    spec.currency = "EUR";
    spec.payment_method = ORDERLY_PAY_CARD;
    spec.lines = lines;
    spec.n_lines = 2;
    spec.has_promotion = promo;
    spec.loyalty_points = promo ? 300 : 0;
    spec.now = now;
    return orderly_engine_create_order(r->e, &spec, &res);
}

static int e_authorize(struct run *r, const char *order, orderly_time_ms now)
{
    orderly_command cmd;
    orderly_result res = ORDERLY_RESULT_INIT;

    memset(&cmd, 0, sizeof cmd);
    cmd.order_id = order;
    cmd.machine = ORDERLY_MACHINE_PAYMENT;
    cmd.event = ORDERLY_PAYMENT_EV_AUTHORIZE;
    cmd.amount = 2000;
    cmd.now = now;
    return orderly_engine_apply(r->e, &cmd, &res);
}

static int count_row(const orderly_outbox_view *v, void *ud)
{
    (void)v;
    ++*(size_t *)ud;
    return 0;
}

static int count_operation(const orderly_operation_view *v, void *ud)
{
    (void)v;
    ++*(size_t *)ud;
    return 0;
}

/*
 * While a batch is open, order reads and health run inside it and see its
 * commands; every step that needs a transaction of its own is refused with
 * EMISUSE and leaves the batch intact.
 */
static void e_batch(struct run *r)
{
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_part_view p = ORDERLY_PART_VIEW_INIT;
    orderly_health h = ORDERLY_HEALTH_INIT;
    size_t n = 0;
    orderly_time_ms now = T0;

    ERC(r, e_create(r, "batch-0", 0, now), 0);
    ERC(r, orderly_engine_begin_batch(r->e), 0);
    ERC(r, e_create(r, "batch-1", 0, now), 0);
    ERC(r, orderly_engine_get_order(r->e, "batch-1", &v), 0);
    ECHECK(r, v.version == 1 && v.order_state == ORDERLY_ORDER_PENDING,
           "the batch's own order reads as version %llu in state %d",
           (unsigned long long)v.version, v.order_state);
    ERC(r, orderly_engine_get_order(r->e, "batch-0", &v), 0);
    ERC(r, orderly_engine_get_part(r->e, "batch-1", ORDERLY_MACHINE_RESERVATION, 1, &p), 0);
    ECHECK(r, p.quantity == lines[1].quantity, "reservation #1 of batch-1 holds %u, not %u",
           p.quantity, lines[1].quantity);
    /* a miss inside the batch leaves it committable */
    ERC(r, orderly_engine_get_order(r->e, "batch-none", &v), ORDERLY_ENOTFOUND);
    ERC(r, orderly_engine_health(r->e, now, 0, 0, &h), 0);
    ECHECK(r, h.outbox_pending >= 1, "health inside the batch misses batch-0's committed event");
    ERC(r, orderly_engine_pump(r->e, now, 0, &n), ORDERLY_EMISUSE);
    ERC(r, orderly_engine_tick(r->e, now, 0, &n), ORDERLY_EMISUSE);
    ERC(r, orderly_engine_run_operations(r->e, now, 0, &n), ORDERLY_EMISUSE);
    ERC(r, orderly_engine_purge(r->e, now, 0, &n), ORDERLY_EMISUSE);
    ERC(r, orderly_engine_list_outbox(r->e, -1, 0, 16, count_row, &n), ORDERLY_EMISUSE);
    ERC(r, orderly_engine_list_operations(r->e, -1, 0, 16, count_operation, &n), ORDERLY_EMISUSE);
    ERC(r, orderly_engine_replay_operation(r->e, 1, now), ORDERLY_EMISUSE);
    /* none of that spoiled the batch */
    ERC(r, e_authorize(r, "batch-1", now + 1), 0);
    ERC(r, orderly_engine_get_order(r->e, "batch-1", &v), 0);
    ECHECK(r, v.payment_state == ORDERLY_PAYMENT_AUTHORIZED,
           "the batch's own authorization is not visible inside it (payment state %d)",
           v.payment_state);
    ERC(r, orderly_engine_commit_batch(r->e), 0);
    ERC(r, orderly_engine_get_order(r->e, "batch-1", &v), 0);
    ECHECK(r, v.payment_state == ORDERLY_PAYMENT_AUTHORIZED, "the committed batch lost its write");
    ERC(r, orderly_engine_pump(r->e, now + 2, 0, &n), 0);

    /* what a rolled-back batch wrote is gone, including for reads inside it */
    ERC(r, orderly_engine_begin_batch(r->e), 0);
    ERC(r, e_create(r, "batch-2", 0, now + 3), 0);
    ERC(r, orderly_engine_get_order(r->e, "batch-2", &v), 0);
    orderly_engine_rollback_batch(r->e);
    ERC(r, orderly_engine_get_order(r->e, "batch-2", &v), ORDERLY_ENOTFOUND);
}

struct op_find {
    int op;
    uint64_t id;
    int state;
    uint32_t attempts;
};

static int find_op(const orderly_operation_view *v, void *ud)
{
    struct op_find *f = ud;

    if (v->op == f->op && f->id == 0) {
        f->id = v->id;
        f->state = v->state;
        f->attempts = v->attempts;
    }
    return 0;
}

static int operation_view_copy(const orderly_operation_view *v, void *ud)
{
    struct op_find *f = ud;

    f->op = v->op;
    f->state = v->state;
    f->attempts = v->attempts;
    return 0;
}

/* State and attempts of operation f->id, through the engine. */
static int op_state(struct run *r, struct op_find *f)
{
    uint64_t id = f->id;
    int rc;

    f->id = 0;
    f->op = -1;
    rc = orderly_engine_inspect_operation(r->e, id, operation_view_copy, f);
    f->id = id;
    return rc;
}

static int claim_any(const orderly_queue_item *it, void *ud)
{
    *(uint64_t *)ud = it->id;
    return 0;
}

/*
 * An operator replays parked operations only: one still waiting, one
 * leased by a worker or one already done is refused with EMISUSE and left
 * as it was (a replayed capture that had succeeded would run again).
 */
static void e_replay(struct run *r)
{
    struct op_find promo = { ORDERLY_OP_REVERT_PROMOTION, 0, -1, 0 };
    struct op_find release = { ORDERLY_OP_RELEASE_RESERVATIONS, 0, -1, 0 };
    orderly_result res = ORDERLY_RESULT_INIT;
    orderly_time_ms now = T0;
    uint64_t token = 0, claimed = 0;
    void *txn = NULL;
    size_t n;
    int i, rc;

    ERC(r, e_create(r, "replay-1", 1, now), 0);
    ERC(r, orderly_engine_cancel_order(r->e, "replay-1", NULL, now, &res), 0);
    ERC(r, orderly_engine_list_operations(r->e, -1, 0, 64, find_op, &promo), 0);
    ERC(r, orderly_engine_list_operations(r->e, -1, 0, 64, find_op, &release), 0);
    ECHECK(r, promo.id != 0 && release.id != 0,
           "cancelling an order with a promotion recorded no revert or no release");

    /* waiting to run */
    ERC(r, orderly_engine_replay_operation(r->e, promo.id, now), ORDERLY_EMISUSE);
    ECHECK(r, strstr(orderly_engine_errmsg(r->e), "only parked operations can be replayed") != NULL,
           "the refusal says '%s'", orderly_engine_errmsg(r->e));

    /* the release succeeds, the promotion revert exhausts its attempts */
    for (i = 0; i < LOOP_MAX; i++, now += 2 * MIN) {
        ERC(r, orderly_engine_run_operations(r->e, now, 0, &n), 0);
        ERC(r, op_state(r, &promo), 0);
        if (promo.state == ORDERLY_ITEM_DEAD)
            break;
    }
    ECHECK(r, promo.state == ORDERLY_ITEM_DEAD, "the promotion revert never exhausted (state %d)",
           promo.state);
    ERC(r, op_state(r, &release), 0);
    ECHECK(r, release.state == ORDERLY_ITEM_DONE, "the release ends in state %d, not DONE",
           release.state);

    /* done: replaying would run it again */
    ERC(r, orderly_engine_replay_operation(r->e, release.id, now), ORDERLY_EMISUSE);
    ECHECK(r, strstr(orderly_engine_errmsg(r->e), "is done") != NULL,
           "the refusal of a done operation says '%s'", orderly_engine_errmsg(r->e));
    ERC(r, op_state(r, &release), 0);
    ECHECK(r, release.state == ORDERLY_ITEM_DONE, "a refused replay moved the release to state %d",
           release.state);

    /* parked: this is what replay is for */
    ERC(r, orderly_engine_replay_operation(r->e, promo.id, now), 0);
    ERC(r, op_state(r, &promo), 0);
    ECHECK(r, promo.state == ORDERLY_ITEM_READY && promo.attempts == 0,
           "the replayed revert is in state %d with %u attempts, not READY with 0", promo.state,
           promo.attempts);

    /* leased: a worker holds it right now */
    ERC(r, r->inner->begin(r->inner, r->ctx, &txn), 0);
    rc = r->inner->queue_claim(r->inner, r->ctx, txn, ORDERLY_QUEUE_OPERATIONS, now, 1, 10,
                               now + HOUR, &token, claim_any, &claimed);
    if (rc != 1)
        r->inner->rollback(r->inner, r->ctx, txn);
    ECHECK(r, rc == 1, "queue_claim of the replayed revert returned %d, expected 1", rc);
    ERC(r, r->inner->commit(r->inner, r->ctx, txn), 0);
    ECHECK(r, claimed == promo.id, "claimed operation %llu, not the replayed %llu",
           (unsigned long long)claimed, (unsigned long long)promo.id);
    ERC(r, orderly_engine_replay_operation(r->e, promo.id, now), ORDERLY_EMISUSE);
    ECHECK(r, strstr(orderly_engine_errmsg(r->e), "is leased") != NULL,
           "the refusal of a leased operation says '%s'", orderly_engine_errmsg(r->e));
    ERC(r, op_state(r, &promo), 0);
    ECHECK(r, promo.state == ORDERLY_ITEM_LEASED, "a refused replay moved the revert to state %d",
           promo.state);

    ERC(r, orderly_engine_replay_operation(r->e, 999999, now), ORDERLY_ENOTFOUND);
}

static const struct {
    const char *name;
    void (*run)(struct run *r);
} engine_cases[] = {
    { "engine: inside an open batch, reads see it and other steps are EMISUSE", e_batch },
    { "engine: replay puts back parked operations only", e_replay },
};

int orderly__conf_engine(struct orderly__conf_tap *tap, const orderly_conformance_target *t)
{
    struct run *r;
    orderly_ctx *ctx = NULL;
    size_t i;
    int rc = ORDERLY_OK;

    if ((r = malloc(sizeof *r)) == NULL || orderly_ctx_new(&ctx, NULL) < 0) {
        free(r);
        return ORDERLY_ENOMEM;
    }
    for (i = 0; i < sizeof engine_cases / sizeof engine_cases[0] && rc == 0; i++) {
        if (!orderly__conf_wanted(tap, engine_cases[i].name))
            continue;
        memset(r, 0, sizeof *r);
        r->t = t;
        r->ctx = ctx;
        wrapper_init(r);
        (void)orderly_transport_init(&r->tbase, ORDERLY_TRANSPORT_VERSION);
        r->tbase.user_data = r;
        r->tbase.publish = t_publish;
        if ((rc = t->reset(t->user_data)) < 0) {
            fail(r, "target reset failed: %s", orderly_error_name(rc));
        } else if ((rc = t->open(&r->inner, t->user_data)) < 0 || r->inner == NULL) {
            fail(r, "target open failed: %s", orderly_error_name(rc));
        } else if ((rc = orderly_memory_transport_new(&r->mt, NULL)) < 0) {
            t->close(r->inner, t->user_data);
            break;
        } else {
            if (engine_open(r) == 0)
                engine_cases[i].run(r);
            orderly_engine_close(r->e);
            r->e = NULL;
            if (r->txns != NULL)
                fail(r, "the engine left a transaction open");
            t->close(r->inner, t->user_data);
            orderly_memory_transport_free(r->mt);
        }
        rc = r->oom ? ORDERLY_ENOMEM : ORDERLY_OK;
        orderly__conf_report(tap, engine_cases[i].name, r->note[0] == '\0', r->note);
        run_free(r);
    }
    orderly_ctx_free(ctx);
    free(r);
    return rc;
}
