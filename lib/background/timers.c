/* Timers: due deadlines fired through the same idempotent path as events. */
#include <stdio.h>
#include <string.h>

#include "../wire/record.h"
#include "../engine/internal.h"

/*
 * A replica's due deadline, as a command every replica applies
 * (ORDERLY_ENGINE_REPLICA): an outbox row on the commands topic, appended
 * in the tick's transaction, so the command and the timer row's finish
 * commit together. Its id comes from the timer row (orderly__deadline_id),
 * so a redelivered envelope is a duplicate on every replica.
 */
static int log_deadline(orderly_engine *e, void *txn, const struct orderly__timer_rec *t,
                        uint64_t row, uint32_t index, orderly_time_ms now)
{
    struct orderly__event_rec r;
    orderly_queue_item it;
    uint8_t buf[ORDERLY__RECORD_MAX];
    size_t len;
    int rc;

    memset(&r, 0, sizeof r);
    r.machine = t->machine;
    r.event = t->event;
    r.index = index;
    r.from = t->timer;
    r.amount = (int64_t)row;
    r.time = now;
    if ((len = orderly__event_rec_encode(&r, buf, sizeof buf)) == 0)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT, "order '%s': a deadline command "
                             "does not encode", t->order_id);
    memset(&it, 0, sizeof it);
    it.group = t->order_id;
    it.kind = ORDERLY__EV_DEADLINE;
    it.payload = buf;
    it.payload_len = len;
    it.created = now;
    it.due = now;
    if ((rc = orderly__vt_push(e, txn, ORDERLY_QUEUE_OUTBOX, &it, NULL)) < 0)
        return rc;
    e->batch_rows++;
    return ORDERLY_OK;
}

/*
 * One transaction per tick: the claim, every timer's command (run as in a
 * batch) and the acknowledgements commit together, or none of them does
 * and the timers stay as they were, due, for the next tick. A deadline is
 * never dropped for a storage hiccup, and a fired timer is never fired
 * again: its command and its acknowledgement are one write.
 */
int orderly_engine_tick(orderly_engine *e, orderly_time_ms now, size_t max, size_t *fired_out)
{
    struct orderly__timer_rec r;
    orderly_command cmd;
    orderly_result res = ORDERLY_RESULT_INIT;
    uint64_t token, version;
    void *txn = NULL;
    char key[48];
    size_t i, fired = 0, rows;
    int n, rc = ORDERLY_OK;

    if (fired_out != NULL)
        *fired_out = 0;
    if (e == NULL)
        return ORDERLY_EINVAL;
    if ((n = orderly__claim_in(e, ORDERLY_QUEUE_TIMERS, now, max, e->policy.operation_max_attempts,
                               &token, &txn)) <= 0)
        return n;
    e->batch_txn = txn;
    e->batch_failed = 0;
    e->batch_rows = 0;
    for (i = 0; i < (size_t)n; i++) {
        struct orderly__claimed *c = &e->claimed[i];
        if (c->held)
            continue;
        if (c->bad || orderly__timer_rec_decode(&r, c->payload, c->len) < 0) {
            orderly__park(e, ORDERLY_QUEUE_TIMERS, c, i, (size_t)n, "the timer cannot be decoded");
            continue;
        }
        memset(&cmd, 0, sizeof cmd);
        snprintf(key, sizeof key, "timer:%llu", (unsigned long long)c->id);
        cmd.order_id = r.order_id;
        cmd.machine = r.machine;
        cmd.event = r.event;
        cmd.index = r.index;
        /* one row stands for every line's deadline: it fires on a line
         * still waiting (none left: it has nothing to do); an order this
         * engine cannot read is left to the command, which says why */
        if (r.machine == ORDERLY_MACHINE_RESERVATION) {
            rc = orderly__read_order(e, r.order_id, &e->agg, &version);
            if (rc == ORDERLY_OK && !orderly__timer_line(e, &e->agg, r.timer, now, &cmd.index))
                continue;
            if (rc < 0 && (orderly_error_is_transient(rc) || e->batch_failed))
                break;
            rc = ORDERLY_OK;
        }
        if (e->replica) {
            /* a deadline every part left (a row this engine's commands did
             * not finish: it restarted, or forgot it) commands nothing */
            if (r.machine != ORDERLY_MACHINE_RESERVATION) {
                rc = orderly__read_order(e, r.order_id, &e->agg, &version);
                if (rc == ORDERLY_OK && !orderly__timer_due(e, &e->agg, r.timer, now))
                    continue;
                if (rc < 0 && (orderly_error_is_transient(rc) || e->batch_failed))
                    break;
                rc = ORDERLY_OK;
            }
            /* a row the engine cannot write fails the tick: it stays due */
            if ((rc = log_deadline(e, txn, &r, c->id, cmd.index, now)) < 0)
                break;
            fired++;
            continue;
        }
        cmd.idem_key = key;
        cmd.now = now;
        rc = orderly_engine_apply(e, &cmd, &res);
        if (rc == 0) {
            if (!res.late && !res.duplicate && res.from != res.to)
                fired++;
            continue;
        }
        if (orderly_error_is_transient(rc) || e->batch_failed)
            break;
        if (rc == ORDERLY_ENOTSUPPORTED) {
            /* the order is over this engine's max_lines or max_parts: the
             * deadline is not this engine's to drop; it waits for one
             * configured for the order, and is parked once its attempts
             * are spent */
            if (c->attempts >= e->policy.operation_max_attempts) {
                orderly__park(e, ORDERLY_QUEUE_TIMERS, c, i, (size_t)n,
                              "its order is over this engine's limits");
            } else {
                c->outcome = ORDERLY_ITEM_READY;
                c->due = now + orderly__backoff(e, c->attempts);
            }
            rc = ORDERLY_OK;
            continue;
        }
        /* a rejection is final: a timer whose state was left does nothing */
        rc = ORDERLY_OK;
    }
    rows = e->batch_rows;
    e->batch_txn = NULL;
    if (rc < 0) {
        e->acks_riding = 0;
        orderly__vt_rollback(e, txn);
        orderly__shrink(e, ORDERLY_QUEUE_TIMERS);
        return rc;
    }
    if ((rc = orderly__end_in(e, ORDERLY_QUEUE_TIMERS, (size_t)n, token, txn)) < 0)
        return rc;
    if (rows > 0 && e->on_work != NULL)
        e->on_work(e, rows, e->work_user_data);
    if (fired_out != NULL)
        *fired_out = fired;
    return ORDERLY_OK;
}
