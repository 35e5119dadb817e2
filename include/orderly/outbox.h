/*
 * orderly/outbox.h - background work the host drives: the outbox
 * dispatcher, timers, operations, and the health of all three.
 *
 * orderly starts no threads. The host calls these step functions from its
 * own loop: orderly_engine_pump right after the engine reports work (the
 * on_work callback), so the happy path has no polling delay, and all three
 * on a timer as the fallback. Each step does a bounded amount of work.
 *
 * Inside an open batch (orderly_engine_begin_batch) these steps return
 * EMISUSE: the batch's events are not committed yet. Health and metrics
 * read through the batch's transaction instead.
 *
 * Guarantees: delivery is at-least-once with per-order ordering. An event
 * is published again only after a crash between publish and its ack, or
 * when its lease expired before the ack; both are counted
 * (orderly_outbox_redelivered_total, orderly_lease_expired_total) and the
 * copy has the same event id, so consumers dedupe by id.
 */
#ifndef ORDERLY_OUTBOX_H
#define ORDERLY_OUTBOX_H

#include "compensation.h"
#include "engine.h"

ORDERLY_BEGIN_DECLS

/*
 * Claims up to max outbox events (0 = policy.batch_max) under a lease with
 * a fencing token the store issues, publishes each as a CloudEvents
 * envelope, and acks them (in chunks that shrink while commits fail).
 *
 * A transient publish failure (ORDERLY_ETRANSPORT, ORDERLY_ETIMEOUT: the
 * broker is away) costs no attempt: the batch goes back and is retried
 * with exponential backoff and full jitter (seeded by policy.seed), for as
 * long as the outage lasts; health shows the backlog, its age and the
 * outage. Any other failure is the broker refusing this event: it counts,
 * and once policy.outbox_max_attempts are spent the event is copied to
 * "<topic>.dlq" and marked dead only when that copy was accepted, with an
 * alert. A row that cannot be decoded or encoded is parked dead with an
 * ORDERLY_ALERT_ROW_PARKED alert. A retrying or parked event holds back
 * the later events of its own order in the batch only. A completion whose
 * lease was taken over is rejected and counted.
 *
 * *published_out (may be NULL) gets the number published. Returns 0 or
 * the storage error that stopped the step (what was published before it
 * is still acknowledged when the store allows).
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_pump(orderly_engine *engine,
                                                        orderly_time_ms now, size_t max,
                                                        size_t *published_out);

/*
 * Deletes up to max finished queue rows (0 = policy.batch_max) that
 * finished at or before now - policy.retention: published outbox events,
 * fired timers and completed operations, the budget shared among the
 * three queues so none waits behind another's backlog. Dead letters,
 * parked operations and anything pending are never deleted. In the same
 * transaction it deletes up to max idempotency marks expired at now
 * (policy.idem_ttl after they were written), so a long-running store
 * stays bounded. A purged operation is gone from
 * orderly_engine_list_operations and inspect (ENOTFOUND). One call is one
 * bounded transaction; run it from one cleaner. *purged_out (may be NULL)
 * gets the number of queue rows deleted; call again while it is non-zero.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_purge(orderly_engine *engine,
                                                         orderly_time_ms now, size_t max,
                                                         size_t *purged_out);

/*
 * Fires up to max due timers (0 = policy.batch_max), each through the same
 * idempotent transactional path as an event. A timer whose state was left
 * does nothing. *fired_out (may be NULL) gets the number that changed state.
 * An ORDERLY_ENGINE_REPLICA applies none: each due deadline becomes a
 * deadline command on ORDERLY_TOPIC_COMMANDS (see the flag), and
 * *fired_out gets the number written.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_tick(orderly_engine *engine,
                                                        orderly_time_ms now, size_t max,
                                                        size_t *fired_out);

/*
 * Makes the next pump, tick and run_operations look at the store.
 *
 * With a storage that answers queue_next_due (storage version 3: the
 * SQLite and in-memory adapters do), the engine remembers when each queue
 * next has something due: it reads that instant from the store whenever a
 * step ends and lowers it for every row the engine itself writes, so a
 * step that finds nothing due returns 0 without any storage call. Rows
 * written behind this engine's back (another process or engine on the
 * same store, a host pushing queue rows itself) are unknown to it until
 * its own writes or steps read the store again: call this after such a
 * write, or on a timer in a multi-process deployment (doc/delivery.md).
 * Cannot fail; a NULL engine is ignored.
 */
ORDERLY_API void orderly_engine_wake(orderly_engine *engine);

/* ---- inspecting the outbox ---------------------------------------------------- */

/* One outbox row, as an operator sees it. Pointers are borrowed for the
 * duration of the callback. */
typedef struct orderly_outbox_view {
    size_t size;               /* sizeof the library's orderly_outbox_view: fields at or
                                * past it were not filled (see orderly_result) */
    uint64_t id;               /* queue id, increasing in commit order */
    const char *order_id;
    const char *type;          /* CloudEvents type, e.g. "order.status_changed" */
    const char *topic;         /* the configured topic it goes to */
    const char *event_id;      /* 32 hex digits: the id consumers dedupe by; "" for a
                                * row that cannot be decoded (the dispatcher parks it) */
    int state;                 /* orderly_item_state: READY/LEASED pending, DONE published, DEAD */
    uint32_t attempts;         /* publish attempts so far */
    orderly_time_ms created;
    orderly_time_ms due;       /* READY: next attempt; DONE/DEAD: when it finished */
} orderly_outbox_view;

typedef int (*orderly_outbox_cb)(const orderly_outbox_view *row, void *user_data);

/*
 * Calls cb for up to max outbox rows in state (-1 = all) with id > after_id,
 * in id order, from one read-only transaction. A negative return from cb
 * stops the walk and is returned. A row that does not decode is listed
 * with an empty event_id.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_list_outbox(orderly_engine *engine, int state,
                                                               uint64_t after_id, size_t max,
                                                               orderly_outbox_cb cb,
                                                               void *user_data);

/* ---- operations ----------------------------------------------------------- */

/* One recorded operation, as an executor or an operator sees it. Pointers
 * are borrowed for the duration of the callback. */
typedef struct orderly_operation_view {
    size_t size;               /* sizeof the library's orderly_operation_view: fields at or
                                * past it were not filled (see orderly_result) */
    uint64_t id;               /* queue id: what list/replay take */
    int op;                    /* orderly_op */
    const char *order_id;
    const char *key;           /* 32 hex digits: pass to the outside system */
    uint32_t index;            /* shipment or return index when relevant */
    int64_t amount;            /* money or points */
    uint32_t n_lines;          /* reservations / stock touched */
    const uint64_t *sku;
    const uint32_t *warehouse;
    const uint32_t *quantity;
    uint32_t attempts;         /* including this one */
    int state;                 /* orderly_item_state */
    uint32_t max_attempts;     /* attempts after which it is parked (0.2) */
} orderly_operation_view;

/* Runs one operation against the outside world. Return 0 when done, a
 * negative code to retry later (after exhaustion the operation is parked
 * and the alert callback fires). */
typedef int (*orderly_executor_cb)(const orderly_operation_view *op, void *user_data);

/*
 * Registers the executor for op (NULL removes it). Operations without an
 * executor are published to the commands topic as "orderly.command.<op>"
 * events instead, on the same retry path. EINVAL for an op that is neither
 * orderly's nor a host op (>= ORDERLY_OP_HOST); ECONFIG when 32 ops
 * already have an executor.
 */
ORDERLY_API int orderly_engine_set_executor(orderly_engine *engine, int op,
                                            orderly_executor_cb cb, void *user_data);

/*
 * Sets the attempts after which op is parked, over its declared limit
 * (orderly_op_default_attempts); n = 0 goes back to the declared one.
 * EINVAL for an op that is not orderly's (host ops have the policy's
 * cap); ECONFIG when n is above policy.operation_max_attempts, the cap the
 * storage counts attempts to: raise the policy instead.
 */
ORDERLY_API int orderly_engine_set_op_attempts(orderly_engine *engine, int op, uint32_t n);

/* Runs up to max due operations (0 = policy.batch_max). */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_run_operations(orderly_engine *engine,
                                                               orderly_time_ms now, size_t max,
                                                               size_t *done_out);

typedef int (*orderly_operation_cb)(const orderly_operation_view *op, void *user_data);

/* Lists operations in state (-1 = all) with id > after_id, up to max. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_list_operations(orderly_engine *engine,
                                                                int state, uint64_t after_id,
                                                                size_t max, orderly_operation_cb cb,
                                                                void *user_data);

/* Calls cb with operation id; ENOTFOUND when absent. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_inspect_operation(orderly_engine *engine,
                                                                  uint64_t id,
                                                                  orderly_operation_cb cb,
                                                                  void *user_data);

/* Puts a parked (DEAD) operation back to run at now with a fresh attempt
 * budget. ENOTFOUND for an unknown id; EMISUSE for one that is pending,
 * leased or done (replaying a done capture would capture twice). */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_replay_operation(orderly_engine *engine,
                                                                 uint64_t id,
                                                                 orderly_time_ms now);

/* ---- health ------------------------------------------------------------------ */

typedef struct orderly_health {
    size_t size;                      /* sizeof(orderly_health); ORDERLY_HEALTH_INIT sets it */
    uint64_t outbox_pending;          /* ready + leased */
    int64_t outbox_oldest_age_ms;     /* age of the oldest pending event, 0 if none */
    uint64_t outbox_leased;
    uint64_t outbox_lease_expired;
    uint64_t outbox_dead;
    uint64_t operations_pending;
    uint64_t operations_exhausted;  /* parked after the attempt limit */
    uint64_t timers_due;
    uint64_t late_ignored;            /* since the engine opened */
    uint64_t duplicates_suppressed;
    uint64_t idem_busy;
    uint64_t idem_mismatch;
    uint64_t stale_completions;
    uint64_t leases_expired_total;    /* re-claims of expired leases */
    uint64_t published_total;
    uint64_t redelivered_total;
    int ready;                        /* 0 when backlog and age exceed the thresholds, or
                                       * the broker has been away longer than max_age_ms */
    uint64_t rows_parked_total;       /* queue rows parked dead as undecodable, since open */
    int64_t transport_outage_ms;      /* since the first of the current run of transient
                                       * publish failures; 0 after a publish succeeded */
    /* ---- later versions append here ---- */
} orderly_health;

#define ORDERLY_HEALTH_INIT                                                       \
    { sizeof(orderly_health), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Not ready when the pending backlog exceeds max_backlog and the oldest
 * pending event is older than max_age_ms (defaults: 100 and 5 minutes),
 * or when publishing has failed transiently for longer than max_age_ms. */
#define ORDERLY_HEALTH_MAX_BACKLOG 100
#define ORDERLY_HEALTH_MAX_AGE_MS 300000

/* Fills *out as of now with the given thresholds (0 = defaults). Inside an
 * open batch the queue figures are read in the batch's transaction: whether
 * rows the batch itself appended count is the adapter's (SQLite counts
 * them, the in-memory storage counts committed rows only). */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_health(orderly_engine *engine,
                                                          orderly_time_ms now,
                                                          uint64_t max_backlog,
                                                          int64_t max_age_ms,
                                                          orderly_health *out);

/* Receives one metric: a stable name such as "orderly_outbox_pending". */
typedef void (*orderly_metric_cb)(const char *name, double value, void *user_data);

/* Takes a health snapshot and reports each figure through cb. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_metrics(orderly_engine *engine,
                                                           orderly_time_ms now,
                                                           orderly_metric_cb cb,
                                                           void *user_data);

ORDERLY_END_DECLS

#endif
