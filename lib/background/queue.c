/*
 * Claiming and finishing queue rows, shared by the outbox dispatcher, the
 * timers and the operation runner. A claim is its own short
 * transaction, so the lease and the attempt count survive a crash of the
 * worker; finishing is another, fenced by the token the store issued.
 *
 * Progress under a flaky store: each storage call may fail on its own, so
 * a transaction of many calls fails more often than a short one. Claims
 * take e->batch[queue] rows, halved after any storage failure of the step
 * and doubled again after a clean one; acknowledgements commit in chunks
 * that halve down to one row before the step gives up. Every chunk that
 * commits is progress that no later failure takes back.
 */
#include <stdio.h>
#include <string.h>

#include "../engine/internal.h"
#include "../base/rand.h"

struct claim_ctx {
    orderly_engine *e;
    struct orderly__claimed *rows; /* e->claimed, or e->handed for a hand-off */
    orderly_buf *arena;            /* where their payloads are copied */
    size_t n;
    size_t taken_over;     /* claimed from an expired lease */
    orderly_time_ms now;
};

static int take(const orderly_queue_item *it, void *ud)
{
    struct claim_ctx *c = ud;
    struct orderly__claimed *dst = &c->rows[c->n];
    size_t glen = strlen(it->group);

    /* a row this large was never pushed by the core: park it, unread */
    dst->bad = it->payload_len > orderly__record_max_any() || glen > ORDERLY_ID_MAX;
    dst->id = it->id;
    dst->kind = it->kind;
    dst->attempts = it->attempts;
    dst->outcome = ORDERLY_ITEM_DONE;
    dst->held = 0;
    dst->due = c->now;
    if (it->state == ORDERLY_ITEM_LEASED)
        c->taken_over++;
    if (glen > ORDERLY_ID_MAX)
        glen = ORDERLY_ID_MAX;
    memcpy(dst->group, it->group, glen);
    dst->group[glen] = '\0';
    dst->len = dst->bad ? 0 : it->payload_len;
    dst->off = c->arena->len;
    dst->payload = NULL;
    if (orderly__buf_reserve(c->arena, c->arena->len + dst->len) < 0)
        return orderly__fail(&c->e->ctx, ORDERLY_ENOMEM, "out of memory for a claimed row of %zu bytes",
                             dst->len);
    if (dst->len > 0)
        memcpy(c->arena->data + dst->off, it->payload, dst->len);
    c->arena->len += dst->len;
    c->n++;
    return ORDERLY_OK;
}

/* Once the claim is over its arena stays put: the rows can point into it. */
static void settle(struct claim_ctx *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        c->rows[i].payload = c->arena->data + c->rows[i].off;
}

static void shrink(orderly_engine *e, int queue)
{
    if (e->batch[queue] > 1)
        e->batch[queue] /= 2;
}

void orderly__shrink(orderly_engine *e, int queue)
{
    shrink(e, queue);
}

/* Reads the queue's earliest claimable instant in a read transaction.
 * Called only when the floor is unknown and the adapter can tell. */
static int look(orderly_engine *e, int queue)
{
    orderly_time_ms due;
    void *txn;
    int rc;

    if ((rc = orderly__vt_begin_read(e, &txn)) < 0)
        return rc;
    if ((rc = orderly__vt_next_due(e, txn, queue, &due)) < 0) {
        orderly__vt_rollback(e, txn);
        return rc;
    }
    orderly__vt_rollback(e, txn);
    e->due_floor[queue] = due;
    return ORDERLY_OK;
}

/* The acknowledgements that rode on a transaction are written once it
 * commits; any deferred since (a pump inside a tick's commands) stay. */
static void acks_written(orderly_engine *e)
{
    size_t n = e->acks_riding;

    e->acks_riding = 0;
    if (n == 0 || n > e->n_acks)
        return;
    memmove(e->acks, e->acks + n, (e->n_acks - n) * sizeof *e->acks);
    e->n_acks -= n;
}

int orderly__claim_in(orderly_engine *e, int queue, orderly_time_ms now, size_t max,
                      uint32_t max_attempts, uint64_t *token, void **txn_out)
{
    struct claim_ctx c = { e, e->claimed, &e->claim_arena, 0, 0, now };
    orderly_time_ms due = ORDERLY__DUE_UNKNOWN;
    void *txn;
    int rc;

    if ((rc = orderly__check_now(e, now)) < 0)
        return rc;
    if (e->batch_txn != NULL)
        return orderly__fail(&e->ctx, ORDERLY_EMISUSE, "a batch is open: commit or roll it back first");
    /* nothing this engine knows of is due: no storage call at all */
    if (e->due_floor[queue] > now)
        return 0;
    if (e->due_floor[queue] == ORDERLY__DUE_UNKNOWN && orderly__vt_can_tell_due(e)) {
        if ((rc = look(e, queue)) < 0)
            goto fail;
        if (e->due_floor[queue] > now)
            return 0;
    }
    if (max == 0 || max > e->batch[queue])
        max = e->batch[queue];
    if ((rc = orderly__vt_begin(e, &txn)) < 0)
        goto fail;
    /* pending acknowledgements ride on this transaction, ahead of the
     * claim (which then cannot take their rows over) */
    e->acks_riding = e->n_acks;
    if (e->acks_riding > 0 && (rc = orderly__write_acks(e, txn)) < 0) {
        orderly__vt_rollback(e, txn);
        goto fail;
    }
    e->claim_arena.len = 0;
    rc = orderly__vt_claim(e, txn, queue, now, max, max_attempts, now + e->policy.lease, token,
                           take, &c);
    settle(&c);
    /* a claim that took nothing learns when to come back instead */
    if (rc == 0 && orderly__vt_can_tell_due(e))
        rc = orderly__vt_next_due(e, txn, queue, &due);
    if (rc < 0) {
        orderly__vt_rollback(e, txn);
        goto fail;
    }
    /* a full claim leaves more due: the step's end need not ask when */
    e->short_claim = c.n < max;
    if (c.n > 0 && txn_out != NULL) {
        *txn_out = txn;
        return (int)c.n;
    }
    if ((rc = orderly__vt_commit(e, txn)) < 0)
        goto fail;
    acks_written(e);
    if (c.n == 0 && due != ORDERLY__DUE_UNKNOWN)
        e->due_floor[queue] = due;
    e->leases_expired += c.taken_over;
    return (int)c.n;
fail:
    e->acks_riding = 0;
    shrink(e, queue);
    return rc;
}

int orderly__claim(orderly_engine *e, int queue, orderly_time_ms now, size_t max,
                   uint32_t max_attempts, uint64_t *token)
{
    return orderly__claim_in(e, queue, now, max, max_attempts, token, NULL);
}

/* Regrows the queue's claim size after a step that failed nowhere. */
static void regrow(orderly_engine *e, int queue)
{
    if (e->batch[queue] < e->policy.batch_max)
        e->batch[queue] = e->batch[queue] * 2 < e->policy.batch_max ? e->batch[queue] * 2
                                                                      : e->policy.batch_max;
}

int orderly__end_in(orderly_engine *e, int queue, size_t n, uint64_t token, void *txn)
{
    orderly_time_ms due = ORDERLY__DUE_UNKNOWN;
    size_t i;
    int rc = ORDERLY_OK;

    for (i = 0; i < n && rc >= 0; i++) {
        const struct orderly__claimed *c = &e->claimed[i];
        /* the lease is this transaction's own: no completion can be stale */
        rc = orderly__vt_finish(e, txn, queue, c->id, token, c->outcome, c->due, c->attempts);
    }
    if (rc >= 0 && e->short_claim && orderly__vt_can_tell_due(e))
        rc = orderly__vt_next_due(e, txn, queue, &due);
    if (rc < 0) {
        e->acks_riding = 0;
        orderly__vt_rollback(e, txn);
        shrink(e, queue);
        return rc;
    }
    if ((rc = orderly__vt_commit(e, txn)) < 0) {
        e->acks_riding = 0;
        shrink(e, queue);
        return rc;
    }
    acks_written(e);
    if (due != ORDERLY__DUE_UNKNOWN)
        e->due_floor[queue] = due;
    regrow(e, queue);
    return ORDERLY_OK;
}

int orderly__hand_off(orderly_engine *e, void *txn, orderly_time_ms now, orderly_time_ms *next_due)
{
    struct claim_ctx c = { e, e->handed, &e->handed_arena, 0, 0, now };
    uint64_t token;
    int rc;

    if (e->handed == NULL || e->n_handed > 0)
        return 0;
    e->handed_arena.len = 0;
    rc = orderly__vt_claim(e, txn, ORDERLY_QUEUE_OUTBOX, now, e->batch[ORDERLY_QUEUE_OUTBOX],
                           e->policy.outbox_max_attempts, now + e->policy.lease, &token, take, &c);
    settle(&c);
    if (rc <= 0)
        return rc;
    /* what is left due after the handed rows, so the pumps after the one
     * that publishes them need not look (a full claim leaves more due); a
     * sole dispatcher leaves its handed rows out, since only it will ever
     * finish them, so their lease running out later wakes nothing */
    if (c.n < e->batch[ORDERLY_QUEUE_OUTBOX] && orderly__vt_can_tell_due(e) &&
        (rc = e->sole ? orderly__vt_next_due_except(e, txn, ORDERLY_QUEUE_OUTBOX, token, next_due)
                      : orderly__vt_next_due(e, txn, ORDERLY_QUEUE_OUTBOX, next_due)) < 0)
        return rc;
    e->handed_token = token;
    e->handed_taken_over = c.taken_over;
    return (int)c.n;
}

int orderly__write_acks(orderly_engine *e, void *txn)
{
    size_t i;
    int rc;

    for (i = 0; i < e->n_acks; i++) {
        const struct orderly__ack *a = &e->acks[i];
        rc = orderly__vt_finish(e, txn, ORDERLY_QUEUE_OUTBOX, a->id, a->token, a->outcome, a->due,
                                a->attempts);
        if (rc == ORDERLY_ECONFLICT) {
            e->stale_completions++;
            orderly__alert(e, ORDERLY_ALERT_STALE_COMPLETION, ORDERLY_QUEUE_OUTBOX, a->id, "",
                           "completion rejected: the lease was taken over");
            continue;
        }
        if (rc < 0)
            return rc;
    }
    return ORDERLY_OK;
}

int orderly__flush_acks(orderly_engine *e)
{
    orderly_time_ms due = ORDERLY__DUE_UNKNOWN;
    void *txn;
    int rc;

    if (e->n_acks == 0)
        return ORDERLY_OK;
    if ((rc = orderly__vt_begin(e, &txn)) < 0)
        return rc;
    e->stats.txn_ack_writes++;
    if ((rc = orderly__write_acks(e, txn)) < 0 ||
        (orderly__vt_can_tell_due(e) &&
         (rc = orderly__vt_next_due(e, txn, ORDERLY_QUEUE_OUTBOX, &due)) < 0)) {
        orderly__vt_rollback(e, txn);
        return rc;
    }
    if ((rc = orderly__vt_commit(e, txn)) < 0)
        return rc;
    e->n_acks = 0;
    if (due != ORDERLY__DUE_UNKNOWN)
        e->due_floor[ORDERLY_QUEUE_OUTBOX] = due;
    return ORDERLY_OK;
}

void orderly__release_handed(orderly_engine *e)
{
    size_t i, n = e->n_handed;

    if (n == 0)
        return;
    memcpy(e->claimed, e->handed, n * sizeof *e->claimed);
    e->n_handed = 0;
    for (i = 0; i < n; i++)
        orderly__give_back(&e->claimed[i], e->claimed[i].due);
    /* best effort: rows it cannot give back come back when the lease lapses */
    (void)orderly__end_step(e, ORDERLY_QUEUE_OUTBOX, n, e->handed_token, ORDERLY_OK);
}

void orderly_engine_wake(orderly_engine *e)
{
    int q;

    if (e == NULL)
        return;
    for (q = 0; q < 4; q++)
        e->due_floor[q] = ORDERLY__DUE_UNKNOWN;
}

void orderly__give_back(struct orderly__claimed *c, orderly_time_ms due)
{
    c->outcome = ORDERLY_ITEM_READY;
    c->due = due;
    c->held = 1;
    if (c->attempts > 0)
        c->attempts--;
}

void orderly__hold_group(orderly_engine *e, size_t i, size_t n)
{
    const struct orderly__claimed *c = &e->claimed[i];
    size_t j;

    for (j = i + 1; j < n; j++)
        if (!e->claimed[j].held && strcmp(e->claimed[j].group, c->group) == 0)
            orderly__give_back(&e->claimed[j], c->due);
}

void orderly__park(orderly_engine *e, int queue, struct orderly__claimed *c, size_t i, size_t n,
                   const char *why)
{
    char msg[160];

    c->outcome = ORDERLY_ITEM_DEAD;
    e->rows_parked++;
    orderly__hold_group(e, i, n);
    snprintf(msg, sizeof msg, "queue row %llu parked dead: %s", (unsigned long long)c->id, why);
    orderly__alert(e, ORDERLY_ALERT_ROW_PARKED, queue, c->id, c->group, msg);
}

/* Finishes rows [from, from + k) in one transaction; the last chunk of a
 * step also reads when the queue is next due, so the following steps
 * skip storage until then. */
static int finish_chunk(orderly_engine *e, int queue, size_t from, size_t k, uint64_t token,
                        int last)
{
    orderly_time_ms due = ORDERLY__DUE_UNKNOWN;
    void *txn;
    size_t i;
    int rc;

    if ((rc = orderly__vt_begin(e, &txn)) < 0)
        return rc;
    for (i = from; i < from + k; i++) {
        struct orderly__claimed *c = &e->claimed[i];
        rc = orderly__vt_finish(e, txn, queue, c->id, token, c->outcome, c->due, c->attempts);
        if (rc == ORDERLY_ECONFLICT) {
            /* our lease was taken over: the other worker owns the row now */
            e->stale_completions++;
            orderly__alert(e, ORDERLY_ALERT_STALE_COMPLETION, queue, c->id, c->group,
                           "completion rejected: the lease was taken over");
            continue;
        }
        if (rc < 0) {
            orderly__vt_rollback(e, txn);
            return rc;
        }
    }
    if (last && e->short_claim && orderly__vt_can_tell_due(e) &&
        (rc = orderly__vt_next_due(e, txn, queue, &due)) < 0) {
        orderly__vt_rollback(e, txn);
        return rc;
    }
    if ((rc = orderly__vt_commit(e, txn)) < 0)
        return rc;
    if (due != ORDERLY__DUE_UNKNOWN)
        e->due_floor[queue] = due;
    return ORDERLY_OK;
}

static int finish(orderly_engine *e, int queue, size_t n, uint64_t token)
{
    size_t done = 0, chunk = e->batch[queue];
    int rc, clean = 1;

    while (done < n) {
        size_t k = n - done < chunk ? n - done : chunk;
        if ((rc = finish_chunk(e, queue, done, k, token, done + k == n)) == ORDERLY_OK) {
            done += k;
            continue;
        }
        clean = 0;
        shrink(e, queue);
        if (k == 1)
            return rc; /* the rest stay leased and come back when the lease lapses */
        chunk = k / 2;
    }
    if (clean)
        regrow(e, queue);
    return ORDERLY_OK;
}

int orderly__end_step(orderly_engine *e, int queue, size_t n, uint64_t token, int rc)
{
    orderly_ctx saved;

    if (rc == ORDERLY_OK)
        return finish(e, queue, n, token);
    /* the step's own failure is what the host hears about */
    saved = e->ctx;
    if (finish(e, queue, n, token) == ORDERLY_OK)
        e->ctx = saved;
    return rc;
}

orderly_time_ms orderly__backoff(orderly_engine *e, uint32_t attempts)
{
    int64_t cap = e->policy.backoff_base;
    uint32_t i;

    for (i = 1; i < attempts && cap < e->policy.backoff_max; i++)
        cap *= 2;
    if (cap > e->policy.backoff_max)
        cap = e->policy.backoff_max;
    /* full jitter: uniform in [0, cap], deterministic from the seed */
    return (orderly_time_ms)(orderly__rand01(&e->rng) * (double)(cap + 1));
}

void orderly__alert(orderly_engine *e, int kind, int queue, uint64_t id, const char *group,
                    const char *message)
{
    orderly_alert a;

    if (e->on_alert == NULL)
        return;
    a.kind = kind;
    a.queue = queue;
    a.item_id = id;
    a.group = group;
    a.message = message;
    e->on_alert(&a, e->alert_user_data);
}
