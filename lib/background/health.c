/* The health snapshot and the metrics with stable names. */
#include <string.h>

#include "../engine/internal.h"

static int stats(orderly_engine *e, void *txn, int queue, orderly_time_ms now, orderly_queue_stats *out)
{
    return orderly__vt_stats(e, txn, queue, now, out);
}

int orderly_engine_health(orderly_engine *e, orderly_time_ms now, uint64_t max_backlog,
                          int64_t max_age_ms, orderly_health *out)
{
    orderly_queue_stats ob, tm, cp;
    orderly_health h;
    void *txn;
    int rc;

    if (e == NULL || out == NULL)
        return ORDERLY_EINVAL;
    if ((rc = orderly__out_check(&e->ctx, out, sizeof *out, "orderly_health")) < 0)
        return rc;
    if ((rc = orderly__check_now(e, now)) < 0)
        return rc;
    /* inside an open batch the snapshot is the batch's own transaction,
     * the only one its connection can hold (as for orderly_engine_get_order) */
    if ((txn = e->batch_txn) != NULL && e->batch_failed)
        return orderly__fail(&e->ctx, ORDERLY_EMISUSE, "the open batch failed: roll it back");
    if (txn == NULL && (rc = orderly__vt_begin_read(e, &txn)) < 0)
        return rc;
    rc = stats(e, txn, ORDERLY_QUEUE_OUTBOX, now, &ob);
    if (rc == 0)
        rc = stats(e, txn, ORDERLY_QUEUE_TIMERS, now, &tm);
    if (rc == 0)
        rc = stats(e, txn, ORDERLY_QUEUE_OPERATIONS, now, &cp);
    if (txn != e->batch_txn)
        orderly__vt_rollback(e, txn);
    else if (rc < 0)
        e->batch_failed = 1;
    if (rc < 0)
        return rc;
    memset(&h, 0, sizeof h);
    h.outbox_pending = ob.ready + ob.leased + ob.lease_expired;
    h.outbox_oldest_age_ms = ob.oldest_pending != 0 ? now - ob.oldest_pending : 0;
    h.outbox_leased = ob.leased;
    h.outbox_lease_expired = ob.lease_expired;
    h.outbox_dead = ob.dead;
    h.operations_pending = cp.ready + cp.leased + cp.lease_expired;
    h.operations_exhausted = cp.dead;
    h.timers_due = tm.due;
    h.late_ignored = e->stats.late_ignored;
    h.duplicates_suppressed = e->stats.duplicates;
    h.idem_busy = e->stats.idem_busy;
    h.idem_mismatch = e->stats.idem_mismatch;
    h.stale_completions = e->stale_completions;
    h.leases_expired_total = e->leases_expired;
    h.published_total = e->published;
    h.redelivered_total = e->redelivered;
    h.rows_parked_total = e->rows_parked;
    h.transport_outage_ms = e->outage_since != 0 && now > e->outage_since ? now - e->outage_since : 0;
    if (max_backlog == 0)
        max_backlog = ORDERLY_HEALTH_MAX_BACKLOG;
    if (max_age_ms <= 0)
        max_age_ms = ORDERLY_HEALTH_MAX_AGE_MS;
    h.ready = !(h.outbox_pending > max_backlog && h.outbox_oldest_age_ms > max_age_ms) &&
              h.transport_outage_ms <= max_age_ms;
    orderly__out_put(out, &h, sizeof h);
    return ORDERLY_OK;
}

int orderly_engine_metrics(orderly_engine *e, orderly_time_ms now, orderly_metric_cb cb, void *user_data)
{
    orderly_health h = ORDERLY_HEALTH_INIT;
    int rc;

    if (cb == NULL)
        return ORDERLY_EINVAL;
    if ((rc = orderly_engine_health(e, now, 0, 0, &h)) < 0)
        return rc;
    cb("orderly_outbox_pending", (double)h.outbox_pending, user_data);
    cb("orderly_outbox_oldest_pending_age_seconds", (double)h.outbox_oldest_age_ms / 1000.0, user_data);
    cb("orderly_outbox_leased", (double)h.outbox_leased, user_data);
    cb("orderly_outbox_lease_expired", (double)h.outbox_lease_expired, user_data);
    cb("orderly_outbox_dead_total", (double)h.outbox_dead, user_data);
    cb("orderly_outbox_published_total", (double)h.published_total, user_data);
    cb("orderly_outbox_redelivered_total", (double)h.redelivered_total, user_data);
    cb("orderly_lease_expired_total", (double)h.leases_expired_total, user_data);
    cb("orderly_stale_completions_total", (double)h.stale_completions, user_data);
    cb("orderly_inbox_duplicates_total", (double)h.duplicates_suppressed, user_data);
    cb("orderly_late_events_ignored_total", (double)h.late_ignored, user_data);
    cb("orderly_idempotency_busy_total", (double)h.idem_busy, user_data);
    cb("orderly_idempotency_mismatch_total", (double)h.idem_mismatch, user_data);
    cb("orderly_operations_pending", (double)h.operations_pending, user_data);
    cb("orderly_operations_exhausted_total", (double)h.operations_exhausted, user_data);
    cb("orderly_timers_due", (double)h.timers_due, user_data);
    cb("orderly_rows_parked_total", (double)h.rows_parked_total, user_data);
    cb("orderly_transport_outage_seconds", (double)h.transport_outage_ms / 1000.0, user_data);
    cb("orderly_ready", h.ready ? 1.0 : 0.0, user_data);
    return ORDERLY_OK;
}
