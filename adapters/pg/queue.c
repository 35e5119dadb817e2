/*
 * The queue methods. Ids come from one sequence per queue and fencing
 * tokens from a shared sequence, so every connection of every process
 * draws fresh ones; a claim locks its rows with FOR UPDATE SKIP LOCKED,
 * so two instances claiming at once take disjoint rows without waiting
 * for each other (see PG_CLAIM in sql.c for the per-group rule).
 */
#include <string.h>

#include "internal.h"

#define PG(s) ((struct orderly__pg *)(void *)(s))

static int enter(struct orderly__pg *q, void *txn, int queue, orderly_ctx *ctx)
{
    int rc;

    if ((rc = orderly__pg_txn_ok(q, txn, ctx)) < 0)
        return rc;
    if (queue < ORDERLY_QUEUE_OUTBOX || queue > ORDERLY_QUEUE_OPERATIONS)
        return orderly__pg_fail(ctx, ORDERLY_EINVAL, "unknown queue %d", queue);
    return ORDERLY_OK;
}

static int64_t as_limit(size_t max)
{
    return max > (size_t)INT32_MAX ? INT32_MAX : (int64_t)max;
}

/* Fills *it from row r of an item result whose columns start at c:
 * id, grp, kind, state, attempts, payload, created, due, lease_token,
 * lease_until. Pointers live as long as res. */
static void read_item(const PGresult *res, int r, int c, orderly_queue_item *it)
{
    it->id = (uint64_t)orderly__pg_get_int(res, r, c);
    it->group = PQgetvalue(res, r, c + 1);
    it->kind = (uint32_t)orderly__pg_get_int(res, r, c + 2);
    it->state = (uint32_t)orderly__pg_get_int(res, r, c + 3);
    it->attempts = (uint32_t)orderly__pg_get_int(res, r, c + 4);
    it->payload = (const uint8_t *)PQgetvalue(res, r, c + 5);
    it->payload_len = (size_t)PQgetlength(res, r, c + 5);
    it->created = orderly__pg_get_int(res, r, c + 6);
    it->due = orderly__pg_get_int(res, r, c + 7);
    it->lease_token = (uint64_t)orderly__pg_get_int(res, r, c + 8);
    it->lease_until = orderly__pg_get_int(res, r, c + 9);
}

/* Passes rows [0, n) of an item result to cb; the count, or cb's code. */
static int emit_rows(PGresult *res, int n, orderly_item_cb cb, void *user_data)
{
    orderly_queue_item it;
    int i, rc;

    for (i = 0; i < n; i++) {
        read_item(res, i, 0, &it);
        if ((rc = cb(&it, user_data)) < 0) {
            PQclear(res);
            return rc;
        }
    }
    PQclear(res);
    return n;
}

static int s_queue_push(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                        const orderly_queue_item *item, uint64_t *id_out)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    PGresult *res;
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    if (id_out == NULL) {
        /* nobody waits for the id: the push rides with the next round trip */
        if ((rc = orderly__pg_hold_push(q, queue, item, ctx)) < 0)
            return rc;
        q->pushed |= 1u << queue;
        return ORDERLY_OK;
    }
    orderly__pg_int(&p, queue);
    orderly__pg_text(&p, item->group != NULL ? item->group : "");
    orderly__pg_int(&p, item->kind);
    orderly__pg_int(&p, item->created);
    orderly__pg_int(&p, item->due);
    orderly__pg_blob(&p, item->payload, item->payload_len);
    if ((rc = orderly__pg_exec(q, PG_PUSH, &p, ctx, "queue push", &res)) < 0)
        return rc;
    if (id_out != NULL)
        *id_out = (uint64_t)orderly__pg_get_int(res, 0, 0);
    PQclear(res);
    q->pushed |= 1u << queue;
    return ORDERLY_OK;
}

/* Rows per round: enough that one round usually fills the claim, bounded
 * so a huge max does not lock a huge window at once. */
#define CLAIM_ROUND_MIN 16
#define CLAIM_ROUND_MAX 1024

static int s_queue_claim(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms now, size_t max, uint32_t max_attempts,
                         orderly_time_ms lease_until, uint64_t *token_out, orderly_item_cb cb,
                         void *user_data)
{
    struct orderly__pg *q = PG(s);
    orderly_queue_item it;
    uint64_t after = 0, token = 0;
    size_t claimed = 0, want;
    PGresult *res;
    int64_t window, picked;
    int n, i, rc;

    *token_out = 0;
    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    while (claimed < max) {
        struct orderly__pg_params p = { 0 };
        want = (max - claimed) * 2;
        want = want < CLAIM_ROUND_MIN ? CLAIM_ROUND_MIN
               : want > CLAIM_ROUND_MAX ? CLAIM_ROUND_MAX : want;
        orderly__pg_int(&p, queue);
        orderly__pg_int(&p, now);
        orderly__pg_int(&p, (int64_t)want);
        orderly__pg_int(&p, as_limit(max - claimed));
        orderly__pg_int(&p, lease_until);
        orderly__pg_int(&p, max_attempts);
        orderly__pg_int(&p, (int64_t)token);
        orderly__pg_int(&p, (int64_t)after);
        if ((rc = orderly__pg_exec(q, PG_CLAIM, &p, ctx, "queue claim", &res)) < 0)
            return rc;
        /* claimed rows (mark 0) in id order, then the round's summary */
        n = PQntuples(res) - 1;
        after = (uint64_t)orderly__pg_get_int(res, n, 1);
        window = orderly__pg_get_int(res, n, 5);
        picked = orderly__pg_get_int(res, n, 10);
        for (i = 0; i < n; i++) {
            read_item(res, i, 1, &it);
            token = it.lease_token;
            *token_out = token;
            claimed++;
            if ((rc = cb(&it, user_data)) < 0) {
                PQclear(res);
                return rc;
            }
        }
        PQclear(res);
        /* more can be found only past a full window, or past a full pick
         * some of whose rows were held elsewhere */
        if (window == 0 ||
            (window < (int64_t)want && picked < as_limit(max - (claimed - (size_t)n))))
            break;
    }
    return (int)claimed;
}

static int s_queue_finish(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                          uint64_t token, int state, orderly_time_ms due, uint32_t attempts)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    if (state != ORDERLY_ITEM_READY && state != ORDERLY_ITEM_DONE && state != ORDERLY_ITEM_DEAD)
        return orderly__pg_fail(ctx, ORDERLY_EINVAL, "finish state %d is not READY, DONE or DEAD",
                                state);
    orderly__pg_int(&p, queue);
    orderly__pg_int(&p, (int64_t)id);
    orderly__pg_int(&p, state);
    orderly__pg_int(&p, due);
    orderly__pg_int(&p, (int64_t)token);
    orderly__pg_int(&p, attempts);
    if ((rc = orderly__pg_change(q, PG_FINISH, &p, ctx, "queue finish")) != 0)
        return rc < 0 ? rc : ORDERLY_OK;
    /* the fenced UPDATE matched nothing: tell a stale token from an unknown id */
    p.n = 2;
    if ((rc = orderly__pg_change(q, PG_EXISTS, &p, ctx, "queue finish")) < 0)
        return rc;
    if (rc == 0)
        return orderly__pg_fail(ctx, ORDERLY_ENOTFOUND, "no item %llu in queue %d",
                                (unsigned long long)id, queue);
    return orderly__pg_fail(ctx, ORDERLY_ECONFLICT, "item %llu: stale lease token %llu",
                            (unsigned long long)id, (unsigned long long)token);
}

static int s_queue_reset(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                         int state, orderly_time_ms due)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    if (state < ORDERLY_ITEM_READY || state > ORDERLY_ITEM_DEAD)
        return orderly__pg_fail(ctx, ORDERLY_EINVAL, "unknown item state %d", state);
    orderly__pg_int(&p, queue);
    orderly__pg_int(&p, (int64_t)id);
    orderly__pg_int(&p, state);
    orderly__pg_int(&p, due);
    if ((rc = orderly__pg_change(q, PG_RESET, &p, ctx, "queue reset")) < 0)
        return rc;
    if (rc == 0)
        return orderly__pg_fail(ctx, ORDERLY_ENOTFOUND, "no item %llu in queue %d",
                                (unsigned long long)id, queue);
    return ORDERLY_OK;
}

static int s_queue_get(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                       orderly_item_cb cb, void *user_data)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    PGresult *res;
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    orderly__pg_int(&p, queue);
    orderly__pg_int(&p, (int64_t)id);
    if ((rc = orderly__pg_exec(q, PG_GET, &p, ctx, "reading a queue item", &res)) < 0)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return orderly__pg_fail(ctx, ORDERLY_ENOTFOUND, "no item %llu in queue %d",
                                (unsigned long long)id, queue);
    }
    rc = emit_rows(res, 1, cb, user_data);
    return rc < 0 ? rc : ORDERLY_OK;
}

static int s_queue_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, int state,
                        uint64_t after_id, size_t max, orderly_item_cb cb, void *user_data)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    PGresult *res;
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    orderly__pg_int(&p, queue);
    orderly__pg_int(&p, (int64_t)after_id);
    orderly__pg_int(&p, as_limit(max));
    if (state >= 0)
        orderly__pg_int(&p, state);
    rc = orderly__pg_exec(q, state >= 0 ? PG_SCAN_STATE : PG_SCAN_ANY, &p, ctx, "queue scan", &res);
    if (rc < 0)
        return rc;
    return emit_rows(res, PQntuples(res), cb, user_data);
}

static int s_queue_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms before, size_t max)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    orderly__pg_int(&p, queue);
    orderly__pg_int(&p, before);
    orderly__pg_int(&p, as_limit(max));
    return orderly__pg_change(q, PG_PURGE, &p, ctx, "queue purge");
}

static int s_queue_stats(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms now, orderly_queue_stats *out)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    PGresult *res;
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    orderly__pg_int(&p, queue);
    orderly__pg_int(&p, now);
    if ((rc = orderly__pg_exec(q, PG_STATS, &p, ctx, "queue stats", &res)) < 0)
        return rc;
    memset(out, 0, sizeof *out);
    out->ready = (uint64_t)orderly__pg_get_int(res, 0, 0);
    out->due = (uint64_t)orderly__pg_get_int(res, 0, 1);
    out->leased = (uint64_t)orderly__pg_get_int(res, 0, 2);
    out->lease_expired = (uint64_t)orderly__pg_get_int(res, 0, 3);
    out->done = (uint64_t)orderly__pg_get_int(res, 0, 4);
    out->dead = (uint64_t)orderly__pg_get_int(res, 0, 5);
    out->oldest_pending = orderly__pg_get_int(res, 0, 6);
    PQclear(res);
    return ORDERLY_OK;
}

static int s_queue_next_due_except(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                                   uint64_t token, orderly_time_ms *due_out)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    PGresult *res;
    int rc, i, found = 0;
    orderly_time_ms best = 0;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    orderly__pg_int(&p, queue);
    orderly__pg_int(&p, (int64_t)token);
    if ((rc = orderly__pg_exec(q, PG_NEXT_DUE_EXCEPT, &p, ctx, "queue next due", &res)) < 0)
        return rc;
    for (i = 0; i < 2; i++) {
        orderly_time_ms t;
        if (PQgetisnull(res, 0, i))
            continue;
        t = orderly__pg_get_int(res, 0, i);
        if (!found || t < best)
            best = t;
        found = 1;
    }
    PQclear(res);
    if (!found)
        return orderly__pg_fail(ctx, ORDERLY_ENOTFOUND,
                                "queue %d holds nothing pending outside lease %llu", queue,
                                (unsigned long long)token);
    *due_out = best;
    return ORDERLY_OK;
}

void orderly__pg_queue_methods(orderly_storage *s)
{
    s->queue_push = s_queue_push;
    s->queue_claim = s_queue_claim;
    s->queue_finish = s_queue_finish;
    s->queue_reset = s_queue_reset;
    s->queue_get = s_queue_get;
    s->queue_scan = s_queue_scan;
    s->queue_purge = s_queue_purge;
    s->queue_stats = s_queue_stats;
    s->queue_next_due_except = s_queue_next_due_except;
}
