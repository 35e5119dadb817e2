/*
 * orderly/sys/storage.h - the storage vtable a host supplies.
 *
 * orderly keeps three kinds of state: versioned records (one per order
 * aggregate), queues (the outbox, timers and operations) and
 * idempotency marks. All writes happen inside a transaction the core opens
 * with begin() and ends with commit() or rollback(); an adapter maps that to
 * its own transaction (SQLite BEGIN IMMEDIATE, PostgreSQL BEGIN, ...).
 *
 * Contract for every method:
 * - Return 0 (or a documented count >= 0) on success, a negative orderly
 *   code on failure; attach detail with orderly_ctx_set_error(ctx, ...).
 *   ORDERLY_EUSER is for the host's own failures that fit no other code.
 * - Inputs (keys, payloads, items) are borrowed for the call: copy what you
 *   keep. Outputs go through orderly_buf_set/append, so the core owns them.
 * - Nothing written inside a transaction may be visible to another
 *   transaction before commit() returns 0, and commit() returning 0 means
 *   durable at the level the host configured. A crash before that loses the
 *   whole transaction and nothing else.
 * - A failed method leaves the transaction usable only for rollback(),
 *   except for the answers the core expects and carries on after, which
 *   must leave it committable: ENOTFOUND from load, idem_get and
 *   queue_get, and ECONFLICT from queue_finish (a fenced, stale
 *   completion). The conformance suite checks this.
 *
 * Layout: version first; fields are only ever appended, and every layout
 * change bumps ORDERLY_STORAGE_VERSION. Attach-time checks reject a missing
 * required method with ORDERLY_EINVAL naming it.
 */
#ifndef ORDERLY_SYS_STORAGE_H
#define ORDERLY_SYS_STORAGE_H

#include "../common.h"
#include "../errors.h"
#include "alloc.h"

ORDERLY_BEGIN_DECLS

/* ---- core-owned output buffer ----------------------------------------- */

typedef struct orderly_buf orderly_buf;

/* A buffer for hosts that call storage methods themselves (tests, tools,
 * the conformance suite); the engine makes its own. The caller owns *out
 * and releases it with orderly_buf_free. alloc may be NULL. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_buf_new(orderly_buf **out,
                                                    const orderly_allocator *alloc);
/* Releases a buffer from orderly_buf_new (only those). NULL is accepted. */
ORDERLY_API void orderly_buf_free(orderly_buf *buf);

/* Replaces the buffer's contents with a copy of data[0..len). ENOMEM on failure. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_buf_set(orderly_buf *buf, const uint8_t *data,
                                                    size_t len);
/* Appends a copy of data[0..len). ENOMEM on failure. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_buf_append(orderly_buf *buf, const uint8_t *data,
                                                       size_t len);
/* Borrowed view of the contents, valid until the buffer next changes. */
ORDERLY_API const uint8_t *orderly_buf_data(const orderly_buf *buf);
ORDERLY_API size_t orderly_buf_len(const orderly_buf *buf);

/* ---- queues ------------------------------------------------------------ */

typedef enum orderly_queue {
    ORDERLY_QUEUE_OUTBOX        = 1, /* events to publish, ordered per group */
    ORDERLY_QUEUE_TIMERS        = 2, /* deadlines to fire */
    ORDERLY_QUEUE_OPERATIONS = 3  /* operations and their retries */
} orderly_queue;

typedef enum orderly_item_state {
    ORDERLY_ITEM_READY  = 0, /* waiting for its due time */
    ORDERLY_ITEM_LEASED = 1, /* claimed by a worker until lease_until */
    ORDERLY_ITEM_DONE   = 2, /* finished; purged after the retention */
    ORDERLY_ITEM_DEAD   = 3  /* exhausted or parked for an operator */
} orderly_item_state;

/* One queue row. Pointers are borrowed for the duration of a call. */
typedef struct orderly_queue_item {
    uint64_t id;               /* assigned by push, increasing within a queue */
    const char *group;         /* ordering group (an order id); "" = unordered */
    uint32_t kind;             /* core-defined type tag, opaque to storage */
    uint32_t state;            /* orderly_item_state */
    uint32_t attempts;         /* counted by claims, up to the queue's limit */
    const uint8_t *payload;
    size_t payload_len;
    orderly_time_ms created;
    orderly_time_ms due;       /* READY: not before; DONE/DEAD: when it finished */
    uint64_t lease_token;      /* fencing token of the current or last claim */
    orderly_time_ms lease_until;
} orderly_queue_item;

/* Receives items from claim/get/scan; return 0 to continue or a negative
 * code to stop (that code is then returned by the method). */
typedef int (*orderly_item_cb)(const orderly_queue_item *item, void *user_data);

typedef struct orderly_queue_stats {
    uint64_t ready;            /* READY items, due or not */
    uint64_t due;              /* READY items with due <= now */
    uint64_t leased;           /* LEASED with lease_until > now */
    uint64_t lease_expired;    /* LEASED with lease_until <= now */
    uint64_t done;
    uint64_t dead;
    orderly_time_ms oldest_pending; /* created of the oldest READY/LEASED item, 0 if none */
} orderly_queue_stats;

/* Receives records from scan; return 0 to continue or a negative code to stop. */
typedef int (*orderly_record_cb)(const char *key, const uint8_t *data, size_t len,
                                 uint64_t version, void *user_data);

/* ---- idempotency ----------------------------------------------------------- */

typedef struct orderly_idem_record {
    uint8_t fingerprint[16];   /* XXH3-128 of the request, canonical byte order */
    orderly_time_ms expires;   /* the mark lapses after this instant */
    const uint8_t *result;     /* stored first result (borrowed) */
    size_t result_len;
} orderly_idem_record;

/* ---- order history (version 3) ------------------------------------------ */

/* One event of an order's history: the outbox row's payload as the
 * command staged it, kept apart from the outbox (whose rows are purged
 * after their retention) for as long as the order. Pointers are borrowed
 * for the duration of a call. */
typedef struct orderly_history_item {
    const char *group;         /* the order id */
    uint32_t seq;              /* the event's number within its order, from 0 */
    uint32_t kind;             /* core-defined type tag, opaque to storage */
    const uint8_t *payload;
    size_t payload_len;
    orderly_time_ms created;   /* when the command that staged it committed */
} orderly_history_item;

/* Receives history items from history_scan; return 0 to continue or a
 * negative code to stop (that code is then returned by the method). */
typedef int (*orderly_history_cb)(const orderly_history_item *item, void *user_data);

/* ---- the vtable ---------------------------------------------------------- */

/* Version 2 (orderly 0.2): queue_claim issues the fencing token and caps
 * attempts; queue_finish sets attempts. Version 1 adapters are refused
 * with ORDERLY_EVERSION: rebuild them against this header.
 * Version 3 appends optional slots; a version 2 adapter, or a version 3
 * one that leaves them NULL, keeps working:
 * - history_append, history_scan (both or neither): the order history;
 *   without them orderly_engine_order_history is ORDERLY_ENOTSUPPORTED;
 * - begin_read: read transactions that take no write lock;
 * - queue_next_due: the engine skips storage while nothing is due.
 * A version 3 adapter also promises that queue_claim sees the items its
 * own transaction pushed (after the committed ones, in id order), as any
 * read sees its transaction's writes: the engine's hand-off claims a
 * command's rows in the command's transaction (a version 2 adapter's claim
 * then simply finds fewer).
 * Version 4 appends one optional slot, queue_next_due_except, which a
 * sole dispatcher (ORDERLY_ENGINE_SOLE) uses so that the rows it has
 * published but not yet acknowledged do not wake it. */
#define ORDERLY_STORAGE_VERSION 4
#define ORDERLY_STORAGE_VERSION_MIN 2  /* the oldest layout the core accepts */

typedef struct orderly_storage orderly_storage;

struct orderly_storage {
    unsigned int version;      /* ORDERLY_STORAGE_VERSION; first, always */
    unsigned int flags;        /* reserved, 0 */
    void *user_data;           /* host context (cgo.Handle, ffi handle, ...) */

    /* ---- version 2 ---- */

    /* Must provide. Opens a transaction; *txn_out is opaque to the core. */
    int ORDERLY_CALLBACK(begin)(orderly_storage *s, orderly_ctx *ctx, void **txn_out);
    /* Must provide. Makes every write of txn durable and visible, or fails
     * and keeps none of them (ECONFLICT when a concurrent commit won).
     * txn is finished either way. */
    int ORDERLY_CALLBACK(commit)(orderly_storage *s, orderly_ctx *ctx, void *txn);
    /* Must provide. Discards txn. Cannot fail. */
    void ORDERLY_CALLBACK(rollback)(orderly_storage *s, orderly_ctx *ctx, void *txn);

    /* Must provide. Reads record key into out and its version into
     * *version_out. ENOTFOUND when absent. */
    int ORDERLY_CALLBACK(load)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                               const char *key, orderly_buf *out, uint64_t *version_out);
    /* Must provide. Compare-and-swap: writes data as version
     * expected_version + 1 if the stored version is expected_version
     * (0 = the record must not exist). ECONFLICT on mismatch. */
    int ORDERLY_CALLBACK(save)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                               const char *key, const uint8_t *data, size_t len,
                               uint64_t expected_version);
    /* Must provide. Calls cb for up to max records with key > after
     * (after "" = from the start) in key order; returns the count. */
    int ORDERLY_CALLBACK(scan)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                               const char *after, size_t max, orderly_record_cb cb,
                               void *user_data);

    /* Must provide. Appends a READY item (group, kind, payload, created,
     * due are read from item) and returns its new id in *id_out. */
    int ORDERLY_CALLBACK(queue_push)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                     int queue, const orderly_queue_item *item,
                                     uint64_t *id_out);
    /* Must provide. Atomically claims up to max items in id order that are
     * READY with due <= now, or LEASED with lease_until <= now. An item of a
     * non-empty group is claimable only when every older READY or LEASED
     * item of its group was claimed by this same call (per-group order).
     *
     * A claim that takes at least one item issues a fencing token and
     * stores it in *token_out: a value greater than every token this store
     * issued before, to any handle in any process (a counter kept in the
     * store and incremented inside this transaction). Never derive it from
     * a clock, a seed or a per-handle counter: two engines on one store
     * must never hold the same token. A claim that takes nothing sets
     * *token_out to 0 and should write nothing.
     *
     * Each claimed item becomes LEASED with lease_token = *token_out,
     * lease_until, and attempts + 1, except that attempts never rises above
     * max_attempts (an item already there keeps it). It is passed to cb with
     * those values and with state set to the state it was claimed from
     * (READY, or LEASED when an expired lease was taken over, which the core
     * counts). Returns the count claimed. */
    int ORDERLY_CALLBACK(queue_claim)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                      int queue, orderly_time_ms now, size_t max,
                                      uint32_t max_attempts, orderly_time_ms lease_until,
                                      uint64_t *token_out, orderly_item_cb cb,
                                      void *user_data);
    /* Must provide. Ends a claim: only when the item is LEASED with
     * lease_token == token (else ECONFLICT: a stale completion; ENOTFOUND
     * for an unknown id). Sets state (READY to retry at due, DONE or DEAD
     * finished at due) and attempts: the core gives back the attempt of an
     * item it never tried (held behind its order, or returned unpublished
     * when the broker was away), so the count stays what failed. */
    int ORDERLY_CALLBACK(queue_finish)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                       int queue, uint64_t id, uint64_t token, int state,
                                       orderly_time_ms due, uint32_t attempts);
    /* Must provide. Operator override: sets state and due regardless of any
     * lease, resetting attempts to 0 when state is READY. ENOTFOUND. */
    int ORDERLY_CALLBACK(queue_reset)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                      int queue, uint64_t id, int state, orderly_time_ms due);
    /* Must provide. Calls cb with item id; ENOTFOUND when absent. */
    int ORDERLY_CALLBACK(queue_get)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                    int queue, uint64_t id, orderly_item_cb cb,
                                    void *user_data);
    /* Must provide. Calls cb for up to max items with id > after_id whose
     * state is state (-1 = any), in id order; returns the count. */
    int ORDERLY_CALLBACK(queue_scan)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                     int queue, int state, uint64_t after_id, size_t max,
                                     orderly_item_cb cb, void *user_data);
    /* Must provide. Deletes up to max DONE items finished at or before
     * before; returns the count. */
    int ORDERLY_CALLBACK(queue_purge)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                      int queue, orderly_time_ms before, size_t max);
    /* Must provide. Fills *out for queue as seen at now. */
    int ORDERLY_CALLBACK(queue_stats)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                      int queue, orderly_time_ms now,
                                      orderly_queue_stats *out);

    /* Must provide. Reads the committed, unexpired mark for key into *out
     * (out->result borrowed until the next call on txn). ENOTFOUND when
     * absent or expired at now; EINFLIGHT when another open transaction
     * has put key but not yet committed. */
    int ORDERLY_CALLBACK(idem_get)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                   const char *key, orderly_time_ms now,
                                   orderly_idem_record *out, orderly_buf *result);
    /* Must provide. Insert-if-absent (an expired mark counts as absent).
     * EEXISTS when a committed unexpired mark exists; EINFLIGHT when
     * another open transaction holds key. */
    int ORDERLY_CALLBACK(idem_put)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                   const char *key, orderly_time_ms now,
                                   const orderly_idem_record *rec);
    /* Must provide. Deletes up to max marks expired at now; returns the count. */
    int ORDERLY_CALLBACK(idem_purge)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                     orderly_time_ms now, size_t max);

    /* May provide; if NULL nothing is called. Runs once when the engine
     * that holds this storage closes (including a failed open). */
    void ORDERLY_CALLBACK(destroy)(orderly_storage *s);

    /* ---- version 3 ---- */

    /* May provide (both or neither); if NULL the core keeps no history
     * and orderly_engine_order_history is ORDERLY_ENOTSUPPORTED. Appends
     * item to the history of item->group inside txn, the transaction of
     * the command that staged it (so it commits or rolls back with the
     * order). (group, seq) is unique: EEXISTS when it is already there.
     * History is never purged with the outbox: it lives as long as its
     * order's record. */
    int ORDERLY_CALLBACK(history_append)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                         const orderly_history_item *item);
    /* Calls cb for up to max items of group with seq >= from_seq, in seq
     * order; returns the count. */
    int ORDERLY_CALLBACK(history_scan)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                       const char *group, uint32_t from_seq, size_t max,
                                       orderly_history_cb cb, void *user_data);
    /* May provide; if NULL the core calls begin instead. Opens a
     * transaction in which the core only reads (load, scan, queue_get,
     * queue_scan, queue_stats, idem_get, queue_next_due), ended with
     * commit or rollback like any other. It must not take the store's
     * write lock (SQLite: BEGIN DEFERRED), so reads never wait for or
     * block a writer; it must see one committed state throughout. */
    int ORDERLY_CALLBACK(begin_read)(orderly_storage *s, orderly_ctx *ctx, void **txn_out);
    /* May provide; if NULL the core claims whenever asked. Stores in
     * *due_out the earliest instant at which queue has a claimable item:
     * the least due of its READY items and lease_until of its LEASED ones,
     * due or not. ENOTFOUND (*due_out untouched) when it has none; the
     * transaction stays usable after that answer. The core uses it to
     * skip storage entirely in pump, tick and run_operations until that
     * instant (see doc/delivery.md for the cross-process caveat). */
    int ORDERLY_CALLBACK(queue_next_due)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                         int queue, orderly_time_ms *due_out);

    /* ---- version 4 ---- */

    /* May provide; if NULL the core uses queue_next_due. As
     * queue_next_due, but leaving out the LEASED items whose lease_token
     * is token (the rows of one claim, which their claimer will finish
     * itself); token 0 leaves out nothing. ENOTFOUND (*due_out untouched)
     * when nothing else is pending. */
    int ORDERLY_CALLBACK(queue_next_due_except)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                                                int queue, uint64_t token,
                                                orderly_time_ms *due_out);
};

/* Zero-fills *s and sets version; ORDERLY_EVERSION outside
 * ORDERLY_STORAGE_VERSION_MIN..ORDERLY_STORAGE_VERSION. */
ORDERLY_API int orderly_storage_init(orderly_storage *s, unsigned int version);

ORDERLY_END_DECLS

#endif
