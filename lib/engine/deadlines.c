/*
 * Deadlines a command made moot. A part that leaves the state a deadline
 * timed (a payment captured before its authorization lapses, a line
 * shipped before its reservation's TTL) leaves that deadline's row behind;
 * left alone, a tick would claim it in a write transaction of its own only
 * to find nothing to fire. The engine remembers the rows its own commands
 * pushed, in a small fixed table, and the next command on the order that
 * makes one moot finishes it inside its own transaction.
 *
 * Forgetting is always safe: a row the table lost (evicted, pushed by
 * another engine or inside a batch) is fired by a tick as before and does
 * nothing. So the table never grows, never allocates, and a row is
 * finished only after its payload was read back and found to be the very
 * deadline remembered, still waiting.
 */
#include <string.h>

#include <xxhash.h>

#include "../wire/record.h"
#include "internal.h"

static uint64_t order_hash(const char *order_id)
{
    uint64_t h = XXH3_64bits(order_id, strlen(order_id));

    return h != 0 ? h : 1; /* 0 marks an empty slot */
}

static struct orderly__deadline_slot *set_of(orderly_engine *e, uint64_t h)
{
    return &e->deadlines[(size_t)(h % ORDERLY__DEADLINE_SETS) * ORDERLY__DEADLINE_WAYS];
}

void orderly__deadlines_remember(orderly_engine *e, const char *order_id,
                                 const struct orderly__stage *s)
{
    uint64_t h;
    size_t i, w;

    if (s->n_timers == 0)
        return;
    h = order_hash(order_id);
    for (i = 0; i < s->n_timers; i++) {
        struct orderly__deadline_slot *set = set_of(e, h), *victim = set;
        if (s->timers[i].row == 0)
            continue;
        /* an empty way, else the oldest row (the likeliest to have fired) */
        for (w = 0; w < ORDERLY__DEADLINE_WAYS; w++) {
            if (set[w].order == 0) {
                victim = &set[w];
                break;
            }
            if (set[w].row < victim->row)
                victim = &set[w];
        }
        victim->order = h;
        victim->row = s->timers[i].row;
        victim->due = s->timers[i].due;
        victim->timer = s->timers[i].timer;
    }
}

struct probe {
    const char *order_id;
    const struct orderly__deadline_slot *slot;
    int waiting;
};

static int probe_row(const orderly_queue_item *it, void *user_data)
{
    struct probe *p = user_data;
    struct orderly__timer_rec r;

    p->waiting = it->state == ORDERLY_ITEM_READY && it->due == p->slot->due &&
                 orderly__timer_rec_decode(&r, it->payload, it->payload_len) == 0 &&
                 r.timer == p->slot->timer && strcmp(r.order_id, p->order_id) == 0;
    return 0;
}

int orderly__deadlines_cancel(orderly_engine *e, void *txn, struct orderly__agg *a,
                              orderly_time_ms now)
{
    struct orderly__deadline_slot *set;
    struct probe p;
    uint64_t h;
    size_t w;
    int rc;

    h = order_hash(a->id);
    set = set_of(e, h);
    for (w = 0; w < ORDERLY__DEADLINE_WAYS; w++) {
        struct orderly__deadline_slot *d = &set[w];
        if (d->order != h || orderly__timer_live(e, a, d->timer, d->due))
            continue;
        p.order_id = a->id;
        p.slot = d;
        p.waiting = 0;
        rc = orderly__vt_get(e, txn, ORDERLY_QUEUE_TIMERS, d->row, probe_row, &p);
        if (rc < 0 && rc != ORDERLY_ENOTFOUND)
            return rc;
        if (rc == 0 && p.waiting) {
            if ((rc = orderly__vt_reset(e, txn, ORDERLY_QUEUE_TIMERS, d->row, ORDERLY_ITEM_DONE,
                                        now)) < 0 && rc != ORDERLY_ENOTFOUND)
                return rc;
            e->stats.deadlines_cancelled++;
            /* it may have been the earliest: the next tick looks (a read)
             * rather than claiming (a write) to find nothing */
            if (d->due <= e->due_floor[ORDERLY_QUEUE_TIMERS])
                e->due_floor[ORDERLY_QUEUE_TIMERS] = ORDERLY__DUE_UNKNOWN;
        }
        /* finished, fired or gone: nothing of it is left to remember (a
         * rollback of txn leaves the row to fire, harmlessly) */
        memset(d, 0, sizeof *d);
    }
    return ORDERLY_OK;
}
