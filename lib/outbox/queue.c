/*
 * Claiming and finishing queue rows, shared by the outbox dispatcher, the
 * timers and the compensation runner. A claim is its own short
 * transaction, so the lease and the attempt count survive a crash of the
 * worker; finishing is another, fenced by the claim's token.
 */
#include <string.h>

#include "../../adapters/memory/fault.h"
#include "../core/internal.h"

struct claim_ctx {
    orderly_engine *e;
    size_t n;
    size_t taken_over;     /* claimed from an expired lease */
    orderly_time_ms now;
};

static int take(const orderly_queue_item *it, void *ud)
{
    struct claim_ctx *c = ud;
    struct orderly__claimed *dst = &c->e->claimed[c->n];

    if (it->payload_len > sizeof dst->payload || strlen(it->group) > ORDERLY_ID_MAX)
        return orderly__fail(&c->e->ctx, ORDERLY_ESTORAGE, "queue row %llu is malformed",
                             (unsigned long long)it->id);
    dst->id = it->id;
    dst->kind = it->kind;
    dst->attempts = it->attempts;
    dst->outcome = ORDERLY_ITEM_DONE;
    dst->held = 0;
    dst->finished = 0;
    dst->due = c->now;
    if (it->state == ORDERLY_ITEM_LEASED)
        c->taken_over++;
    memcpy(dst->group, it->group, strlen(it->group) + 1);
    memcpy(dst->payload, it->payload, it->payload_len);
    dst->len = it->payload_len;
    c->n++;
    return ORDERLY_OK;
}

int orderly__claim(orderly_engine *e, int queue, orderly_time_ms now, size_t max, uint64_t *token)
{
    struct claim_ctx c = { e, 0, 0, now };
    void *txn;
    int rc;

    if (max == 0 || max > e->policy.batch_max)
        max = e->policy.batch_max;
    /* tokens are unique per engine and spread by the seed across engines */
    *token = (e->policy.seed << 32) ^ ++e->lease_seq ^ (uint64_t)now * 0x9E3779B97F4A7C15ULL;
    if ((rc = orderly__vt_begin(e, &txn)) < 0)
        return rc;
    rc = orderly__vt_claim(e, txn, queue, now, max, *token, now + e->policy.lease, take, &c);
    if (rc < 0) {
        orderly__vt_rollback(e, txn);
        return rc;
    }
    if ((rc = orderly__vt_commit(e, txn)) < 0)
        return rc;
    e->leases_expired += c.taken_over;
    return (int)c.n;
}

/*
 * A row held back behind a failing event of its order was claimed only
 * because claims take a group's prefix; it was never tried, so the claim
 * must not spend its attempt budget, or one poison event would dead-letter
 * the events queued behind it on their first real failure. Resetting it
 * gives the attempt back. Only when the blocker's fenced finish went
 * through in this transaction: then the group's lease is still ours.
 */
static int give_back(orderly_engine *e, void *txn, int queue, size_t i)
{
    struct orderly__claimed *c = &e->claimed[i];
    size_t j = i;

    while (j-- > 0) {
        struct orderly__claimed *b = &e->claimed[j];
        if (!b->held && strcmp(b->group, c->group) == 0)
            return b->finished ? orderly__vt_reset(e, txn, queue, c->id, ORDERLY_ITEM_READY, c->due)
                               : ORDERLY_OK;
    }
    return ORDERLY_OK;
}

int orderly__finish(orderly_engine *e, int queue, size_t n, uint64_t token)
{
    void *txn;
    size_t i;
    int rc;

    if (n == 0)
        return ORDERLY_OK;
    if ((rc = orderly__vt_begin(e, &txn)) < 0)
        return rc;
    for (i = 0; i < n; i++) {
        struct orderly__claimed *c = &e->claimed[i];
        if (c->held) {
            if ((rc = give_back(e, txn, queue, i)) < 0) {
                orderly__vt_rollback(e, txn);
                return rc;
            }
            continue;
        }
        rc = orderly__vt_finish(e, txn, queue, c->id, token, c->outcome, c->due);
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
        c->finished = 1;
    }
    return orderly__vt_commit(e, txn);
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
