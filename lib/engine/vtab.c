/*
 * The only callers of host vtable methods. Each call clears the error
 * slot first and, when the host fails without saying why, leaves a generic
 * message naming the method, so a stale message is never reported.
 */
#include <string.h>

#include "internal.h"

#define REQUIRE(obj, field, what)                                                     \
    do {                                                                              \
        if ((obj)->field == NULL)                                                     \
            return orderly__fail(ctx, ORDERLY_EINVAL, what " method '" #field "' is missing"); \
    } while (0)

int orderly__vt_check_storage(const orderly_storage *s, orderly_ctx *ctx)
{
    if (s == NULL)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "no storage adapter given");
    /* version 1 claims took the token from the core: its adapters cannot
     * issue the store-wide tokens the fencing now relies on */
    if (s->version < ORDERLY_STORAGE_VERSION_MIN || s->version > ORDERLY_STORAGE_VERSION)
        return orderly__fail(ctx, ORDERLY_EVERSION, "storage version %u is not supported (%d..%d)",
                             s->version, ORDERLY_STORAGE_VERSION_MIN, ORDERLY_STORAGE_VERSION);
    REQUIRE(s, begin, "storage");
    REQUIRE(s, commit, "storage");
    REQUIRE(s, rollback, "storage");
    REQUIRE(s, load, "storage");
    REQUIRE(s, save, "storage");
    REQUIRE(s, scan, "storage");
    REQUIRE(s, queue_push, "storage");
    REQUIRE(s, queue_claim, "storage");
    REQUIRE(s, queue_finish, "storage");
    REQUIRE(s, queue_reset, "storage");
    REQUIRE(s, queue_get, "storage");
    REQUIRE(s, queue_scan, "storage");
    REQUIRE(s, queue_purge, "storage");
    REQUIRE(s, queue_stats, "storage");
    REQUIRE(s, idem_get, "storage");
    REQUIRE(s, idem_put, "storage");
    REQUIRE(s, idem_purge, "storage");
    if (s->version >= 3 && (s->history_append == NULL) != (s->history_scan == NULL))
        return orderly__fail(ctx, ORDERLY_EINVAL, "storage method '%s' is missing: the history "
                             "methods come as a pair", s->history_append == NULL ? "history_append"
                                                                                : "history_scan");
    return ORDERLY_OK;
}

int orderly__vt_has_history(const orderly_engine *e)
{
    return e->storage->version >= 3 && e->storage->history_append != NULL;
}

int orderly__vt_check_transport(const orderly_transport *t, orderly_ctx *ctx)
{
    if (t == NULL)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "no transport adapter given");
    if (t->version == 0 || t->version > ORDERLY_TRANSPORT_VERSION)
        return orderly__fail(ctx, ORDERLY_EVERSION, "transport version %u is not supported (1..%d)",
                             t->version, ORDERLY_TRANSPORT_VERSION);
    REQUIRE(t, publish, "transport");
    return ORDERLY_OK;
}

int orderly_storage_init(orderly_storage *s, unsigned int version)
{
    if (s == NULL)
        return ORDERLY_EINVAL;
    if (version < ORDERLY_STORAGE_VERSION_MIN || version > ORDERLY_STORAGE_VERSION)
        return ORDERLY_EVERSION;
    memset(s, 0, sizeof *s);
    s->version = version;
    return ORDERLY_OK;
}

int orderly_transport_init(orderly_transport *t, unsigned int version)
{
    if (t == NULL)
        return ORDERLY_EINVAL;
    if (version == 0 || version > ORDERLY_TRANSPORT_VERSION)
        return ORDERLY_EVERSION;
    memset(t, 0, sizeof *t);
    t->version = version;
    return ORDERLY_OK;
}

/* Normalises a host result: positive values only where documented, and a
 * message whenever the host failed without one. */
static int after(orderly_engine *e, int rc, const char *method)
{
    if (rc < 0 && e->ctx.code == ORDERLY_OK)
        orderly__fail(&e->ctx, rc, "storage %s failed: %s", method, orderly_strerror(rc));
    else if (rc < 0)
        e->ctx.code = rc;
    return rc;
}

/* orderly_ctx_clear, inline: it runs before every host call */
static void before(orderly_engine *e)
{
    e->ctx.code = ORDERLY_OK;
    e->ctx.native = 0;
    e->ctx.msg[0] = '\0';
}

int orderly__vt_begin(orderly_engine *e, void **txn)
{
    int rc;

    before(e);
    /* One engine holds one transaction at a time on every adapter, as one
     * SQLite connection must: while a batch is open only the calls that
     * run inside it (commands, order reads, health) may touch storage. */
    if (e->batch_txn != NULL)
        return orderly__fail(&e->ctx, ORDERLY_EMISUSE,
                             "a batch is open: commit or roll it back first");
    *txn = NULL;
    rc = e->storage->begin(e->storage, &e->ctx, txn);
    if (rc >= 0)
        e->stats.txn_begins++;
    return after(e, rc, "begin");
}

/* The version 3 slots exist only in a struct built at version 3: a
 * version 2 adapter's struct ends before them. */
static int has_v3(const orderly_storage *s)
{
    return s->version >= 3;
}

int orderly__vt_begin_read(orderly_engine *e, void **txn)
{
    int rc;

    if (!has_v3(e->storage) || e->storage->begin_read == NULL)
        return orderly__vt_begin(e, txn);
    before(e);
    if (e->batch_txn != NULL)
        return orderly__fail(&e->ctx, ORDERLY_EMISUSE,
                             "a batch is open: commit or roll it back first");
    *txn = NULL;
    rc = e->storage->begin_read(e->storage, &e->ctx, txn);
    if (rc >= 0) {
        e->stats.txn_begins++;
        e->stats.txn_read_begins++;
    }
    return after(e, rc, "begin_read");
}

int orderly__vt_can_tell_due(const orderly_engine *e)
{
    return has_v3(e->storage) && e->storage->queue_next_due != NULL;
}

int orderly__vt_next_due(orderly_engine *e, void *txn, int queue, orderly_time_ms *due)
{
    int rc;

    before(e);
    rc = e->storage->queue_next_due(e->storage, &e->ctx, txn, queue, due);
    if (rc == ORDERLY_ENOTFOUND) {
        orderly_ctx_clear(&e->ctx);
        *due = ORDERLY__DUE_NONE;
        return ORDERLY_OK;
    }
    return after(e, rc > 0 ? 0 : rc, "queue_next_due");
}

int orderly__vt_next_due_except(orderly_engine *e, void *txn, int queue, uint64_t token,
                                orderly_time_ms *due)
{
    int rc;

    if (e->storage->version < 4 || e->storage->queue_next_due_except == NULL)
        return orderly__vt_next_due(e, txn, queue, due);
    before(e);
    rc = e->storage->queue_next_due_except(e->storage, &e->ctx, txn, queue, token, due);
    if (rc == ORDERLY_ENOTFOUND) {
        orderly_ctx_clear(&e->ctx);
        *due = ORDERLY__DUE_NONE;
        return ORDERLY_OK;
    }
    return after(e, rc > 0 ? 0 : rc, "queue_next_due_except");
}

int orderly__vt_commit(orderly_engine *e, void *txn)
{
    before(e);
    e->stats.txn_commits++;
    return after(e, e->storage->commit(e->storage, &e->ctx, txn), "commit");
}

void orderly__vt_rollback(orderly_engine *e, void *txn)
{
    e->stats.txn_rollbacks++;
    e->storage->rollback(e->storage, &e->ctx, txn);
}

int orderly__vt_load(orderly_engine *e, void *txn, const char *key, orderly_buf *out,
                     uint64_t *version)
{
    int rc;

    before(e);
    rc = e->storage->load(e->storage, &e->ctx, txn, key, out, version);
    if (rc == ORDERLY_ENOTFOUND) {
        orderly_ctx_clear(&e->ctx);
        return rc;
    }
    return after(e, rc > 0 ? 0 : rc, "load");
}

int orderly__vt_save(orderly_engine *e, void *txn, const char *key, const uint8_t *data,
                     size_t len, uint64_t expected)
{
    before(e);
    return after(e, e->storage->save(e->storage, &e->ctx, txn, key, data, len, expected), "save");
}

int orderly__vt_push(orderly_engine *e, void *txn, int queue, const orderly_queue_item *item,
                     uint64_t *id_out)
{
    before(e);
    orderly__due_lower(e, queue, item->due);
    return after(e, e->storage->queue_push(e->storage, &e->ctx, txn, queue, item, id_out),
                 "queue_push");
}

int orderly__vt_idem_get(orderly_engine *e, void *txn, const char *key, orderly_time_ms now,
                         orderly_idem_record *out)
{
    int rc;

    before(e);
    rc = e->storage->idem_get(e->storage, &e->ctx, txn, key, now, out, &e->idem_buf);
    if (rc == ORDERLY_ENOTFOUND) {
        orderly_ctx_clear(&e->ctx);
        return rc;
    }
    return after(e, rc, "idem_get");
}

int orderly__vt_idem_put(orderly_engine *e, void *txn, const char *key, orderly_time_ms now,
                         const orderly_idem_record *rec)
{
    before(e);
    return after(e, e->storage->idem_put(e->storage, &e->ctx, txn, key, now, rec), "idem_put");
}

int orderly__vt_idem_purge(orderly_engine *e, void *txn, orderly_time_ms now, size_t max)
{
    before(e);
    return after(e, e->storage->idem_purge(e->storage, &e->ctx, txn, now, max), "idem_purge");
}

int orderly__vt_publish(orderly_engine *e, const char *topic, const char *key,
                        const uint8_t *data, size_t len, const orderly_header *headers,
                        size_t n_headers)
{
    int rc;

    before(e);
    rc = e->transport->publish(e->transport, &e->ctx, topic, key, data, len, headers, n_headers);
    if (rc < 0 && e->ctx.code == ORDERLY_OK)
        orderly__fail(&e->ctx, rc, "transport publish failed: %s", orderly_strerror(rc));
    return rc < 0 ? rc : ORDERLY_OK;
}

int orderly__vt_claim(orderly_engine *e, void *txn, int queue, orderly_time_ms now, size_t max,
                      uint32_t max_attempts, orderly_time_ms lease_until, uint64_t *token,
                      orderly_item_cb cb, void *user_data)
{
    int rc;

    before(e);
    *token = 0;
    rc = e->storage->queue_claim(e->storage, &e->ctx, txn, queue, now, max, max_attempts,
                                 lease_until, token, cb, user_data);
    if (rc > 0 && *token == 0)
        return orderly__fail(&e->ctx, ORDERLY_ESTORAGE,
                             "queue_claim took %d item(s) without issuing a fencing token", rc);
    return after(e, rc, "queue_claim");
}

int orderly__vt_finish(orderly_engine *e, void *txn, int queue, uint64_t id, uint64_t token,
                       int state, orderly_time_ms due, uint32_t attempts)
{
    int rc;

    before(e);
    if (state == ORDERLY_ITEM_READY)
        orderly__due_lower(e, queue, due);
    rc = e->storage->queue_finish(e->storage, &e->ctx, txn, queue, id, token, state, due, attempts);
    if (rc == ORDERLY_ECONFLICT) {
        /* a fenced, stale completion: expected, and the transaction goes on */
        before(e);
        return rc;
    }
    return after(e, rc, "queue_finish");
}

int orderly__vt_reset(orderly_engine *e, void *txn, int queue, uint64_t id, int state,
                      orderly_time_ms due)
{
    before(e);
    if (state == ORDERLY_ITEM_READY)
        orderly__due_lower(e, queue, due);
    return after(e, e->storage->queue_reset(e->storage, &e->ctx, txn, queue, id, state, due),
                 "queue_reset");
}

int orderly__vt_get(orderly_engine *e, void *txn, int queue, uint64_t id, orderly_item_cb cb,
                    void *user_data)
{
    before(e);
    return after(e, e->storage->queue_get(e->storage, &e->ctx, txn, queue, id, cb, user_data),
                 "queue_get");
}

int orderly__vt_scan(orderly_engine *e, void *txn, int queue, int state, uint64_t after_id,
                     size_t max, orderly_item_cb cb, void *user_data)
{
    before(e);
    return after(e, e->storage->queue_scan(e->storage, &e->ctx, txn, queue, state, after_id, max,
                                           cb, user_data),
                 "queue_scan");
}

int orderly__vt_purge(orderly_engine *e, void *txn, int queue, orderly_time_ms before_time,
                      size_t max)
{
    before(e);
    return after(e, e->storage->queue_purge(e->storage, &e->ctx, txn, queue, before_time, max),
                 "queue_purge");
}

int orderly__vt_stats(orderly_engine *e, void *txn, int queue, orderly_time_ms now,
                      orderly_queue_stats *out)
{
    before(e);
    return after(e, e->storage->queue_stats(e->storage, &e->ctx, txn, queue, now, out),
                 "queue_stats");
}

int orderly__vt_history_append(orderly_engine *e, void *txn, const orderly_history_item *item)
{
    before(e);
    return after(e, e->storage->history_append(e->storage, &e->ctx, txn, item), "history_append");
}

int orderly__vt_history_scan(orderly_engine *e, void *txn, const char *group, uint32_t from_seq,
                             size_t max, orderly_history_cb cb, void *user_data)
{
    before(e);
    return after(e, e->storage->history_scan(e->storage, &e->ctx, txn, group, from_seq, max, cb,
                                             user_data),
                 "history_scan");
}
