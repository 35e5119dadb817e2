/*
 * The SQLite storage adapter. One storage is one connection and at most
 * one open transaction: begin() is BEGIN IMMEDIATE, so writers serialise
 * on the database lock and every read inside a transaction sees the
 * latest committed state. That makes each method a plain statement: the
 * compare-and-swap of save() is an UPDATE guarded by the version, and a
 * queue claim is a few UPDATEs no other connection can interleave with.
 *
 * Because writers serialise, no other transaction can hold an idempotency
 * key uncommitted while this one runs: idem_get and idem_put never return
 * EINFLIGHT here (a second writer waits at begin() instead, and gets
 * ECONFLICT if the wait outlasts the busy timeout).
 *
 * Statements are prepared once, at open, with SQLITE_PREPARE_PERSISTENT,
 * and reset after every use, so no call leaves one holding a read cursor.
 *
 * A storage opened read-only (for inspection) begins BEGIN DEFERRED
 * instead, and so does begin_read (storage version 3) on any storage: in
 * WAL a reader takes a snapshot and never waits for the writer, so a
 * probe answers while a long write transaction runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define SQ(s) ((struct orderly__sqlite *)(void *)(s))

static const char *const sql_text[SQ_COUNT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_BEGIN_READ] = "BEGIN DEFERRED",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_LOAD] = "SELECT data, version FROM records WHERE key = ?1",
    [SQ_INSERT_RECORD] = "INSERT OR IGNORE INTO records (key, version, data) VALUES (?1, 1, ?2)",
    [SQ_UPDATE_RECORD] =
        "UPDATE records SET data = ?2, version = version + 1 WHERE key = ?1 AND version = ?3",
    [SQ_RECORD_VERSION] = "SELECT version FROM records WHERE key = ?1",
    [SQ_SCAN_RECORDS] =
        "SELECT key, data, version FROM records WHERE key > ?1 ORDER BY key LIMIT ?2",
    [SQ_SEQ_GET] = "SELECT last_id FROM queues WHERE queue = ?1",
    [SQ_SEQ_SET] = "UPDATE queues SET last_id = ?2 WHERE queue = ?1",
    [SQ_TOKEN] = "UPDATE queues SET last_id = last_id + 1 WHERE queue = 0 RETURNING last_id",
    [SQ_PUSH] = "INSERT INTO items (queue, id, grp, kind, state, attempts, created, due,"
                " lease_token, lease_until, payload)"
                " VALUES (?1, ?2, ?3, ?4, 0, 0, ?5, ?6, 0, 0, ?7)",
    /* The claim's candidates, read without ORDER BY so SQLite needs no
     * temporary B-tree: each walks a range of items_state (READY rows due
     * by now, in due order; LEASED rows, which are few), and candidates()
     * keeps the smallest ids in C. The cost is the number of claimable
     * rows, never the queue length (future timers are not visited). */
    [SQ_CAND_READY] = "SELECT id FROM items INDEXED BY items_state"
                      " WHERE queue = ?1 AND state = 0 AND due <= ?2 AND id > ?3",
    [SQ_CAND_LEASED] = "SELECT id FROM items INDEXED BY items_state"
                       " WHERE queue = ?1 AND state = 1 AND lease_until <= ?2 AND id > ?3",
    [SQ_BLOCKED] = "SELECT 1 FROM items AS me, items AS g INDEXED BY items_group"
                   " WHERE me.queue = ?1 AND me.id = ?2 AND me.grp <> ''"
                   " AND g.queue = ?1 AND g.grp = me.grp AND g.id < ?2"
                   " AND g.state IN (0, 1) AND NOT (g.state = 1 AND g.lease_token = ?3)"
                   " LIMIT 1",
    [SQ_CLAIM] = "UPDATE items SET state = 1, lease_token = ?3, lease_until = ?4,"
                 " attempts = CASE WHEN attempts < ?5 THEN attempts + 1 ELSE attempts END"
                 " WHERE queue = ?1 AND id = ?2",
    [SQ_GET] = "SELECT id, grp, kind, state, attempts, payload, created, due, lease_token,"
               " lease_until FROM items WHERE queue = ?1 AND id = ?2",
    [SQ_FINISH] = "UPDATE items SET state = ?3, due = ?4, attempts = ?6"
                  " WHERE queue = ?1 AND id = ?2 AND state = 1 AND lease_token = ?5",
    [SQ_LEASE_OF] = "SELECT state FROM items WHERE queue = ?1 AND id = ?2",
    [SQ_RESET] = "UPDATE items SET state = ?3, due = ?4,"
                 " attempts = CASE WHEN ?3 = 0 THEN 0 ELSE attempts END"
                 " WHERE queue = ?1 AND id = ?2",
    [SQ_SCAN_ANY] = "SELECT id, grp, kind, state, attempts, payload, created, due, lease_token,"
                    " lease_until FROM items WHERE queue = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [SQ_SCAN_STATE] = "SELECT id, grp, kind, state, attempts, payload, created, due, lease_token,"
                      " lease_until FROM items INDEXED BY items_state"
                      " WHERE queue = ?1 AND state = ?4 AND id > ?2"
                      " ORDER BY id LIMIT ?3",
    /* Oldest finish first, through items_state; the contract leaves the
     * choice among purgeable rows open, and this order needs no sort. */
    [SQ_PURGE] = "DELETE FROM items WHERE queue = ?1 AND id IN"
                 " (SELECT id FROM items WHERE queue = ?1 AND state = 2 AND due <= ?2"
                 " ORDER BY due LIMIT ?3)",
    [SQ_COUNT_STATES] = "SELECT state, count(*) FROM items WHERE queue = ?1 GROUP BY state",
    [SQ_COUNT_DUE] = "SELECT count(*) FROM items WHERE queue = ?1 AND state = 0 AND due <= ?2",
    [SQ_COUNT_LEASE_EXPIRED] =
        "SELECT count(*) FROM items INDEXED BY items_state"
        " WHERE queue = ?1 AND state = 1 AND lease_until <= ?2",
    [SQ_OLDEST_PENDING] =
        "SELECT min(created) FROM items INDEXED BY items_state"
        " WHERE queue = ?1 AND state IN (0, 1)",
    [SQ_NEXT_DUE] = "SELECT (SELECT min(due) FROM items INDEXED BY items_state"
                    " WHERE queue = ?1 AND state = 0),"
                    " (SELECT min(lease_until) FROM items INDEXED BY items_state"
                    " WHERE queue = ?1 AND state = 1)",
    /* As SQ_NEXT_DUE without one claim's leases: the same two ranges of
     * items_state, the LEASED one filtered row by row (tokens start at 1,
     * so ?2 = 0 filters nothing). */
    [SQ_NEXT_DUE_EXCEPT] = "SELECT (SELECT min(due) FROM items INDEXED BY items_state"
                           " WHERE queue = ?1 AND state = 0),"
                           " (SELECT min(lease_until) FROM items INDEXED BY items_state"
                           " WHERE queue = ?1 AND state = 1 AND lease_token <> ?2)",
    [SQ_IDEM_GET] = "SELECT fingerprint, expires, result FROM idem WHERE key = ?1 AND expires > ?2",
    /* insert-if-absent where an expired mark counts as absent */
    [SQ_IDEM_PUT] = "INSERT INTO idem (key, fingerprint, expires, result) VALUES (?1, ?2, ?3, ?4)"
                    " ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint,"
                    " expires = excluded.expires, result = excluded.result"
                    " WHERE idem.expires <= ?5",
    [SQ_IDEM_PURGE] = "DELETE FROM idem WHERE key IN"
                      " (SELECT key FROM idem WHERE expires <= ?1 ORDER BY expires LIMIT ?2)",
    [SQ_HISTORY_APPEND] = "INSERT OR IGNORE INTO history (grp, seq, kind, created, payload)"
                          " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQ_HISTORY_SCAN] = "SELECT seq, kind, created, payload FROM history"
                        " WHERE grp = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3",
};

/* A zero-length blob must still be bound through a non-NULL pointer, or
 * SQLite stores NULL and the NOT NULL columns reject it. */
static const uint8_t empty[1];

static int bind_blob(sqlite3_stmt *st, int i, const uint8_t *p, size_t len)
{
    return sqlite3_bind_blob64(st, i, len > 0 ? (const void *)p : (const void *)empty,
                               (sqlite3_uint64)len, SQLITE_STATIC);
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* max comes from the core as a size_t; SQLite limits are int64. */
static sqlite3_int64 as_limit(size_t max)
{
    return max > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)max;
}

static sqlite3_stmt *use(struct orderly__sqlite *q, enum orderly__sqlite_stmt which)
{
    return q->stmt[which];
}

/* Steps a statement that returns no rows, then resets it. */
static int run(struct orderly__sqlite *q, sqlite3_stmt *st, orderly_ctx *ctx, const char *what)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE) {
        rc = orderly__sqlite_db_fail(q->db, ctx, rc, what);
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    return ORDERLY_OK;
}

/* Steps a statement expected to yield at most one row: 1 with a row (the
 * caller reads it, then resets), 0 without (already reset), < 0 failed. */
static int row(struct orderly__sqlite *q, sqlite3_stmt *st, orderly_ctx *ctx, const char *what)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc != SQLITE_DONE)
        rc = orderly__sqlite_db_fail(q->db, ctx, rc, what);
    else
        rc = 0;
    sqlite3_reset(st);
    return rc;
}

static int txn_ok(struct orderly__sqlite *q, void *txn, orderly_ctx *ctx)
{
    if (txn != q || !q->in_txn)
        return orderly__sqlite_fail(ctx, ORDERLY_EMISUSE, 0, "no open transaction on this storage");
    return ORDERLY_OK;
}

/* Refuses a write on a storage opened read-only with a permanent code:
 * SQLite's own refusal would surface as ESTORAGE, which hosts retry. */
static int writable(struct orderly__sqlite *q, orderly_ctx *ctx)
{
    if (q->read_only)
        return orderly__sqlite_fail(ctx, ORDERLY_EMISUSE, 0, "'%s' is open read-only", q->path);
    return ORDERLY_OK;
}

static int queue_ok(int queue, orderly_ctx *ctx)
{
    if (queue < ORDERLY_QUEUE_OUTBOX || queue > ORDERLY_QUEUE_OPERATIONS)
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0, "unknown queue %d", queue);
    return ORDERLY_OK;
}

static int enter(struct orderly__sqlite *q, void *txn, int queue, orderly_ctx *ctx)
{
    int rc;

    if ((rc = txn_ok(q, txn, ctx)) < 0)
        return rc;
    return queue_ok(queue, ctx);
}

/* ---- transactions ------------------------------------------------------ */

/* BEGIN IMMEDIATE takes the write lock up front, so a writer never fails
 * halfway on a lock upgrade; BEGIN DEFERRED takes no lock until the first
 * read, and only a shared one: the reads of version 3's begin_read. */
static int open_txn(struct orderly__sqlite *q, orderly_ctx *ctx, int read, void **txn_out)
{
    sqlite3_stmt *st = use(q, read || q->read_only ? SQ_BEGIN_READ : SQ_BEGIN);
    int rc;

    if (q->in_txn)
        return orderly__sqlite_fail(ctx, ORDERLY_EMISUSE, 0,
                                    "a transaction is already open on this connection");
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        sqlite3_reset(st);
        if ((rc & 0xff) == SQLITE_BUSY)
            return orderly__sqlite_fail(ctx, ORDERLY_ECONFLICT, rc,
                                        "another writer held '%s' for more than %d ms", q->path,
                                        q->busy_timeout_ms);
        return orderly__sqlite_db_fail(q->db, ctx, rc, "begin");
    }
    sqlite3_reset(st);
    memset(q->seq, 0, sizeof q->seq);
    q->in_txn = 1;
    *txn_out = q;
    return ORDERLY_OK;
}

static int s_begin(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    return open_txn(SQ(s), ctx, 0, txn_out);
}

static int s_begin_read(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    return open_txn(SQ(s), ctx, 1, txn_out);
}

static void end_txn(struct orderly__sqlite *q)
{
    /* SQLite may already have rolled back after an I/O or memory error;
     * ROLLBACK then fails harmlessly with "no transaction is active". */
    if (!sqlite3_get_autocommit(q->db)) {
        sqlite3_step(use(q, SQ_ROLLBACK));
        sqlite3_reset(use(q, SQ_ROLLBACK));
    }
    q->in_txn = 0;
}

static int flush_seq(struct orderly__sqlite *q, orderly_ctx *ctx)
{
    sqlite3_stmt *st = use(q, SQ_SEQ_SET);
    int i, rc;

    for (i = ORDERLY_QUEUE_OUTBOX; i < ORDERLY__SQLITE_QUEUES; i++) {
        if (!q->seq[i].dirty)
            continue;
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)q->seq[i].last);
        if ((rc = run(q, st, ctx, "recording queue ids")) < 0)
            return rc;
    }
    return ORDERLY_OK;
}

static int s_commit(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    struct orderly__sqlite *q = SQ(s);
    int rc;

    if ((rc = txn_ok(q, txn, ctx)) < 0)
        return rc;
    if (sqlite3_get_autocommit(q->db)) {
        q->in_txn = 0;
        return orderly__sqlite_fail(ctx, ORDERLY_ESTORAGE, 0,
                                    "SQLite rolled the transaction back after an earlier error");
    }
    if ((rc = flush_seq(q, ctx)) < 0 || (rc = run(q, use(q, SQ_COMMIT), ctx, "commit")) < 0) {
        end_txn(q);
        return rc;
    }
    q->in_txn = 0;
    return ORDERLY_OK;
}

static void s_rollback(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    struct orderly__sqlite *q = SQ(s);

    (void)ctx;
    if (txn == q && q->in_txn)
        end_txn(q);
}

/* ---- records ----------------------------------------------------------- */

static int s_load(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  orderly_buf *out, uint64_t *version_out)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_LOAD);
    int rc;

    if ((rc = txn_ok(q, txn, ctx)) < 0)
        return rc;
    bind_text(st, 1, key);
    if ((rc = row(q, st, ctx, "load")) <= 0)
        return rc < 0 ? rc : orderly__sqlite_fail(ctx, ORDERLY_ENOTFOUND, 0, "no record '%s'", key);
    rc = orderly_buf_set(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    *version_out = (uint64_t)sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    if (rc < 0)
        return orderly__sqlite_fail(ctx, rc, 0, "out of memory");
    return ORDERLY_OK;
}

static int version_conflict(struct orderly__sqlite *q, orderly_ctx *ctx, const char *key,
                            uint64_t expected)
{
    sqlite3_stmt *st = use(q, SQ_RECORD_VERSION);
    uint64_t have = 0;
    int rc;

    bind_text(st, 1, key);
    if ((rc = row(q, st, ctx, "save")) < 0)
        return rc;
    if (rc > 0) {
        have = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    return orderly__sqlite_fail(ctx, ORDERLY_ECONFLICT, 0,
                                "record '%s' is at version %llu, expected %llu", key,
                                (unsigned long long)have, (unsigned long long)expected);
}

static int s_save(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  const uint8_t *data, size_t len, uint64_t expected_version)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st;
    int rc;

    if ((rc = txn_ok(q, txn, ctx)) < 0 || (rc = writable(q, ctx)) < 0)
        return rc;
    if (expected_version == 0) {
        st = use(q, SQ_INSERT_RECORD);
        bind_text(st, 1, key);
        bind_blob(st, 2, data, len);
    } else {
        st = use(q, SQ_UPDATE_RECORD);
        bind_text(st, 1, key);
        bind_blob(st, 2, data, len);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)expected_version);
    }
    if ((rc = run(q, st, ctx, "save")) < 0)
        return rc;
    if (sqlite3_changes(q->db) == 0)
        return version_conflict(q, ctx, key, expected_version);
    return ORDERLY_OK;
}

static int s_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *after, size_t max,
                  orderly_record_cb cb, void *user_data)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_SCAN_RECORDS);
    int n = 0, rc;

    if ((rc = txn_ok(q, txn, ctx)) < 0)
        return rc;
    bind_text(st, 1, after != NULL ? after : "");
    sqlite3_bind_int64(st, 2, as_limit(max));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = cb((const char *)sqlite3_column_text(st, 0), sqlite3_column_blob(st, 1),
                (size_t)sqlite3_column_bytes(st, 1), (uint64_t)sqlite3_column_int64(st, 2),
                user_data);
        if (rc < 0) {
            sqlite3_reset(st);
            return rc;
        }
        n++;
    }
    if (rc != SQLITE_DONE)
        n = orderly__sqlite_db_fail(q->db, ctx, rc, "scan");
    sqlite3_reset(st);
    return n;
}

/* ---- queues ------------------------------------------------------------ */

static int next_id(struct orderly__sqlite *q, int queue, orderly_ctx *ctx, uint64_t *id_out)
{
    sqlite3_stmt *st;
    int rc;

    if (!q->seq[queue].loaded) {
        st = use(q, SQ_SEQ_GET);
        sqlite3_bind_int(st, 1, queue);
        if ((rc = row(q, st, ctx, "reading queue ids")) < 0)
            return rc;
        if (rc == 0)
            return orderly__sqlite_fail(ctx, ORDERLY_ESTORAGE, 0,
                                        "queue %d is missing from the queues table", queue);
        q->seq[queue].last = (uint64_t)sqlite3_column_int64(st, 0);
        q->seq[queue].loaded = 1;
        sqlite3_reset(st);
    }
    *id_out = ++q->seq[queue].last;
    q->seq[queue].dirty = 1;
    return ORDERLY_OK;
}

static int s_queue_push(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                        const orderly_queue_item *item, uint64_t *id_out)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_PUSH);
    uint64_t id = 0;
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0 || (rc = writable(q, ctx)) < 0 ||
        (rc = next_id(q, queue, ctx, &id)) < 0)
        return rc;
    sqlite3_bind_int(st, 1, queue);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
    bind_text(st, 3, item->group != NULL ? item->group : "");
    sqlite3_bind_int64(st, 4, item->kind);
    sqlite3_bind_int64(st, 5, item->created);
    sqlite3_bind_int64(st, 6, item->due);
    bind_blob(st, 7, item->payload, item->payload_len);
    if ((rc = run(q, st, ctx, "queue push")) < 0) {
        q->seq[queue].last--;
        return rc;
    }
    if (id_out != NULL)
        *id_out = id;
    return ORDERLY_OK;
}

/* Fills *it from the current row of an item SELECT (SQ_GET, SQ_SCAN_*);
 * pointers stay valid until the statement steps or resets. */
static void read_item(sqlite3_stmt *st, orderly_queue_item *it)
{
    it->id = (uint64_t)sqlite3_column_int64(st, 0);
    it->group = (const char *)sqlite3_column_text(st, 1);
    if (it->group == NULL)
        it->group = "";
    it->kind = (uint32_t)sqlite3_column_int64(st, 2);
    it->state = (uint32_t)sqlite3_column_int64(st, 3);
    it->attempts = (uint32_t)sqlite3_column_int64(st, 4);
    it->payload = sqlite3_column_blob(st, 5);
    it->payload_len = (size_t)sqlite3_column_bytes(st, 5);
    it->created = sqlite3_column_int64(st, 6);
    it->due = sqlite3_column_int64(st, 7);
    it->lease_token = (uint64_t)sqlite3_column_int64(st, 8);
    it->lease_until = sqlite3_column_int64(st, 9);
}

/* Reads item id and passes it to cb with state reported as `state` (the
 * claim's "claimed from" value) or as stored when state < 0. */
static int emit(struct orderly__sqlite *q, orderly_ctx *ctx, int queue, uint64_t id, int state,
                orderly_item_cb cb, void *user_data)
{
    sqlite3_stmt *st = use(q, SQ_GET);
    orderly_queue_item it;
    int rc;

    sqlite3_bind_int(st, 1, queue);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
    if ((rc = row(q, st, ctx, "reading a queue item")) <= 0)
        return rc < 0 ? rc
                      : orderly__sqlite_fail(ctx, ORDERLY_ENOTFOUND, 0, "no item %llu in queue %d",
                                             (unsigned long long)id, queue);
    read_item(st, &it);
    if (state >= 0)
        it.state = (uint32_t)state;
    rc = cb(&it, user_data);
    sqlite3_reset(st);
    return rc < 0 ? rc : ORDERLY_OK;
}

/* Adds (id, state) to q->cand[0 .. *n), kept sorted by id and holding
 * the want smallest ids seen. */
static void keep_smallest(struct orderly__sqlite *q, size_t want, size_t *n, uint64_t id, int state)
{
    size_t i = *n;

    if (i == want) {
        if (id > q->cand[want - 1].id)
            return;
        i--;
    } else {
        (*n)++;
    }
    while (i > 0 && q->cand[i - 1].id > id) {
        q->cand[i] = q->cand[i - 1];
        i--;
    }
    q->cand[i].id = id;
    q->cand[i].state = state;
}

/* Loads the want smallest ids with id > after of the claimable items
 * (READY due by now, LEASED with the lease lapsed) into q->cand, in id
 * order; *more is set when there were more than want. */
static int candidates(struct orderly__sqlite *q, orderly_ctx *ctx, int queue, orderly_time_ms now,
                      uint64_t after, size_t want, size_t *n_out, int *more)
{
    static const enum orderly__sqlite_stmt arms[2] = { SQ_CAND_READY, SQ_CAND_LEASED };
    size_t n = 0, seen = 0;
    int a, rc;

    if (want > q->cand_cap) {
        struct orderly__sqlite_cand *p = realloc(q->cand, want * sizeof *p);
        if (p == NULL)
            return orderly__sqlite_fail(ctx, ORDERLY_ENOMEM, 0, "out of memory");
        q->cand = p;
        q->cand_cap = want;
    }
    for (a = 0; a < 2; a++) {
        sqlite3_stmt *st = use(q, arms[a]);
        sqlite3_bind_int(st, 1, queue);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)after);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            keep_smallest(q, want, &n, (uint64_t)sqlite3_column_int64(st, 0),
                          a == 0 ? ORDERLY_ITEM_READY : ORDERLY_ITEM_LEASED);
            seen++;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return orderly__sqlite_db_fail(q->db, ctx, rc, "queue claim");
    }
    *n_out = n;
    *more = seen > want;
    return ORDERLY_OK;
}

/* 1 when an older pending item of id's group is not yet leased under token. */
static int blocked(struct orderly__sqlite *q, orderly_ctx *ctx, int queue, uint64_t id,
                   uint64_t token)
{
    sqlite3_stmt *st = use(q, SQ_BLOCKED);
    int rc;

    sqlite3_bind_int(st, 1, queue);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)token);
    if ((rc = row(q, st, ctx, "queue claim")) > 0)
        sqlite3_reset(st);
    return rc;
}

/* Candidates per round: enough that one round usually fills the claim,
 * bounded so a huge max does not allocate a huge array up front. */
#define CLAIM_ROUND_MIN 16
#define CLAIM_ROUND_MAX 1024

/* The next fencing token, counted in the database inside the claim's
 * transaction, so every connection in every process draws a new one. */
static int issue_token(struct orderly__sqlite *q, orderly_ctx *ctx, uint64_t *token)
{
    sqlite3_stmt *st = use(q, SQ_TOKEN);
    int rc;

    if ((rc = row(q, st, ctx, "issuing a fencing token")) < 0)
        return rc;
    if (rc == 0)
        return orderly__sqlite_fail(ctx, ORDERLY_ESTORAGE, 0,
                                    "the fencing token counter is missing from the queues table");
    *token = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return ORDERLY_OK;
}

static int s_queue_claim(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms now, size_t max, uint32_t max_attempts,
                         orderly_time_ms lease_until, uint64_t *token_out, orderly_item_cb cb,
                         void *user_data)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *up = use(q, SQ_CLAIM);
    uint64_t after = 0, token = 0;
    size_t claimed = 0, i, n = 0, want;
    int rc, more = 0;

    *token_out = 0;
    if ((rc = enter(q, txn, queue, ctx)) < 0 || (rc = writable(q, ctx)) < 0)
        return rc;
    while (claimed < max) {
        want = (max - claimed) * 2;
        want = want < CLAIM_ROUND_MIN ? CLAIM_ROUND_MIN : want > CLAIM_ROUND_MAX ? CLAIM_ROUND_MAX : want;
        if ((rc = candidates(q, ctx, queue, now, after, want, &n, &more)) < 0)
            return rc;
        for (i = 0; i < n && claimed < max; i++) {
            struct orderly__sqlite_cand *c = &q->cand[i];
            after = c->id;
            /* before the first claim the token is 0, which no lease holds:
             * any older pending item of the group then blocks */
            if ((rc = blocked(q, ctx, queue, c->id, token)) < 0)
                return rc;
            if (rc > 0)
                continue;
            if (token == 0 && (rc = issue_token(q, ctx, &token)) < 0)
                return rc;
            sqlite3_bind_int(up, 1, queue);
            sqlite3_bind_int64(up, 2, (sqlite3_int64)c->id);
            sqlite3_bind_int64(up, 3, (sqlite3_int64)token);
            sqlite3_bind_int64(up, 4, lease_until);
            sqlite3_bind_int64(up, 5, max_attempts);
            if ((rc = run(q, up, ctx, "queue claim")) < 0 ||
                (rc = emit(q, ctx, queue, c->id, c->state, cb, user_data)) < 0)
                return rc;
            *token_out = token;
            claimed++;
        }
        if (!more)
            break;
    }
    return (int)claimed;
}

static int s_queue_finish(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                          uint64_t token, int state, orderly_time_ms due, uint32_t attempts)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_FINISH);
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0 || (rc = writable(q, ctx)) < 0)
        return rc;
    if (state != ORDERLY_ITEM_READY && state != ORDERLY_ITEM_DONE && state != ORDERLY_ITEM_DEAD)
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0,
                                    "finish state %d is not READY, DONE or DEAD", state);
    sqlite3_bind_int(st, 1, queue);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
    sqlite3_bind_int(st, 3, state);
    sqlite3_bind_int64(st, 4, due);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)token);
    sqlite3_bind_int64(st, 6, attempts);
    if ((rc = run(q, st, ctx, "queue finish")) < 0)
        return rc;
    if (sqlite3_changes(q->db) > 0)
        return ORDERLY_OK;
    /* the fenced UPDATE matched nothing: tell a stale token from an unknown id */
    st = use(q, SQ_LEASE_OF);
    sqlite3_bind_int(st, 1, queue);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
    if ((rc = row(q, st, ctx, "queue finish")) < 0)
        return rc;
    if (rc == 0)
        return orderly__sqlite_fail(ctx, ORDERLY_ENOTFOUND, 0, "no item %llu in queue %d",
                                    (unsigned long long)id, queue);
    sqlite3_reset(st);
    return orderly__sqlite_fail(ctx, ORDERLY_ECONFLICT, 0, "item %llu: stale lease token %llu",
                                (unsigned long long)id, (unsigned long long)token);
}

static int s_queue_reset(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                         int state, orderly_time_ms due)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_RESET);
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0 || (rc = writable(q, ctx)) < 0)
        return rc;
    if (state < ORDERLY_ITEM_READY || state > ORDERLY_ITEM_DEAD)
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0, "unknown item state %d", state);
    sqlite3_bind_int(st, 1, queue);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
    sqlite3_bind_int(st, 3, state);
    sqlite3_bind_int64(st, 4, due);
    if ((rc = run(q, st, ctx, "queue reset")) < 0)
        return rc;
    if (sqlite3_changes(q->db) == 0)
        return orderly__sqlite_fail(ctx, ORDERLY_ENOTFOUND, 0, "no item %llu in queue %d",
                                    (unsigned long long)id, queue);
    return ORDERLY_OK;
}

static int s_queue_get(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                       orderly_item_cb cb, void *user_data)
{
    struct orderly__sqlite *q = SQ(s);
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    return emit(q, ctx, queue, id, -1, cb, user_data);
}

static int s_queue_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, int state,
                        uint64_t after_id, size_t max, orderly_item_cb cb, void *user_data)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st;
    orderly_queue_item it;
    int n = 0, rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    st = use(q, state >= 0 ? SQ_SCAN_STATE : SQ_SCAN_ANY);
    sqlite3_bind_int(st, 1, queue);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)after_id);
    sqlite3_bind_int64(st, 3, as_limit(max));
    if (state >= 0)
        sqlite3_bind_int(st, 4, state);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_item(st, &it);
        if ((rc = cb(&it, user_data)) < 0) {
            sqlite3_reset(st);
            return rc;
        }
        n++;
    }
    if (rc != SQLITE_DONE)
        n = orderly__sqlite_db_fail(q->db, ctx, rc, "queue scan");
    sqlite3_reset(st);
    return n;
}

static int s_queue_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms before, size_t max)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_PURGE);
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0 || (rc = writable(q, ctx)) < 0)
        return rc;
    sqlite3_bind_int(st, 1, queue);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, as_limit(max));
    if ((rc = run(q, st, ctx, "queue purge")) < 0)
        return rc;
    return sqlite3_changes(q->db);
}

/* Steps a bound SQ_NEXT_DUE or SQ_NEXT_DUE_EXCEPT: the lesser of its two
 * minima, ENOTFOUND when both are NULL. */
static int earliest(struct orderly__sqlite *q, sqlite3_stmt *st, orderly_ctx *ctx, int queue,
                    orderly_time_ms *due_out)
{
    int rc, i, found = 0;
    orderly_time_ms best = 0;

    if ((rc = row(q, st, ctx, "queue next due")) < 0)
        return rc;
    for (i = 0; rc > 0 && i < 2; i++) {
        orderly_time_ms t;
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
            continue;
        t = sqlite3_column_int64(st, i);
        if (!found || t < best)
            best = t;
        found = 1;
    }
    if (rc > 0)
        sqlite3_reset(st);
    if (!found)
        return orderly__sqlite_fail(ctx, ORDERLY_ENOTFOUND, 0, "queue %d holds nothing pending",
                                    queue);
    *due_out = best;
    return ORDERLY_OK;
}

static int s_queue_next_due(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                            orderly_time_ms *due_out)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_NEXT_DUE);
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    sqlite3_bind_int(st, 1, queue);
    return earliest(q, st, ctx, queue, due_out);
}

static int s_queue_next_due_except(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                                   uint64_t token, orderly_time_ms *due_out)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_NEXT_DUE_EXCEPT);
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    sqlite3_bind_int(st, 1, queue);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)token);
    return earliest(q, st, ctx, queue, due_out);
}

/* Runs a one-row count query bound to (queue, now). */
static int count(struct orderly__sqlite *q, orderly_ctx *ctx, enum orderly__sqlite_stmt which,
                 int queue, orderly_time_ms now, uint64_t *out)
{
    sqlite3_stmt *st = use(q, which);
    int rc;

    sqlite3_bind_int(st, 1, queue);
    if (which != SQ_OLDEST_PENDING)
        sqlite3_bind_int64(st, 2, now);
    if ((rc = row(q, st, ctx, "queue stats")) < 0)
        return rc;
    *out = rc > 0 ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    if (rc > 0)
        sqlite3_reset(st);
    return ORDERLY_OK;
}

static int s_queue_stats(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms now, orderly_queue_stats *out)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_COUNT_STATES);
    uint64_t per_state[4] = { 0, 0, 0, 0 }, oldest;
    int rc;

    if ((rc = enter(q, txn, queue, ctx)) < 0)
        return rc;
    memset(out, 0, sizeof *out);
    sqlite3_bind_int(st, 1, queue);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int state = sqlite3_column_int(st, 0);
        per_state[state >= 0 && state <= 3 ? state : 3] += (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return orderly__sqlite_db_fail(q->db, ctx, rc, "queue stats");
    if ((rc = count(q, ctx, SQ_COUNT_DUE, queue, now, &out->due)) < 0 ||
        (rc = count(q, ctx, SQ_COUNT_LEASE_EXPIRED, queue, now, &out->lease_expired)) < 0 ||
        (rc = count(q, ctx, SQ_OLDEST_PENDING, queue, now, &oldest)) < 0)
        return rc;
    out->ready = per_state[ORDERLY_ITEM_READY];
    out->leased = per_state[ORDERLY_ITEM_LEASED] - out->lease_expired;
    out->done = per_state[ORDERLY_ITEM_DONE];
    out->dead = per_state[ORDERLY_ITEM_DEAD];
    out->oldest_pending = (orderly_time_ms)oldest;
    return ORDERLY_OK;
}

/* ---- idempotency ------------------------------------------------------- */

static int s_idem_get(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, orderly_idem_record *out, orderly_buf *result)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_IDEM_GET);
    size_t flen;
    int rc;

    if ((rc = txn_ok(q, txn, ctx)) < 0)
        return rc;
    bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, now);
    if ((rc = row(q, st, ctx, "idempotency lookup")) < 0)
        return rc;
    if (rc == 0)
        return ORDERLY_ENOTFOUND;
    flen = (size_t)sqlite3_column_bytes(st, 0);
    if (flen != sizeof out->fingerprint) {
        sqlite3_reset(st);
        return orderly__sqlite_fail(ctx, ORDERLY_ESTORAGE, 0,
                                    "idempotency mark '%s' has a %zu-byte fingerprint", key, flen);
    }
    memcpy(out->fingerprint, sqlite3_column_blob(st, 0), sizeof out->fingerprint);
    out->expires = sqlite3_column_int64(st, 1);
    rc = orderly_buf_set(result, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
    sqlite3_reset(st);
    if (rc < 0)
        return orderly__sqlite_fail(ctx, rc, 0, "out of memory");
    out->result = orderly_buf_data(result);
    out->result_len = orderly_buf_len(result);
    return ORDERLY_OK;
}

static int s_idem_put(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, const orderly_idem_record *rec)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_IDEM_PUT);
    int rc;

    if ((rc = txn_ok(q, txn, ctx)) < 0 || (rc = writable(q, ctx)) < 0)
        return rc;
    bind_text(st, 1, key);
    bind_blob(st, 2, rec->fingerprint, sizeof rec->fingerprint);
    sqlite3_bind_int64(st, 3, rec->expires);
    bind_blob(st, 4, rec->result, rec->result_len);
    sqlite3_bind_int64(st, 5, now);
    if ((rc = run(q, st, ctx, "idempotency mark")) < 0)
        return rc;
    if (sqlite3_changes(q->db) == 0)
        return orderly__sqlite_fail(ctx, ORDERLY_EEXISTS, 0, "key '%s' already marked", key);
    return ORDERLY_OK;
}

static int s_idem_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, orderly_time_ms now,
                        size_t max)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_IDEM_PURGE);
    int rc;

    if ((rc = txn_ok(q, txn, ctx)) < 0 || (rc = writable(q, ctx)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, as_limit(max));
    if ((rc = run(q, st, ctx, "idempotency purge")) < 0)
        return rc;
    return sqlite3_changes(q->db);
}

/* ---- order history ----------------------------------------------------- */

static int s_history_append(orderly_storage *s, orderly_ctx *ctx, void *txn,
                            const orderly_history_item *item)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_HISTORY_APPEND);
    int rc;

    if ((rc = txn_ok(q, txn, ctx)) < 0 || (rc = writable(q, ctx)) < 0)
        return rc;
    if (item == NULL || item->group == NULL || item->group[0] == '\0' ||
        (item->payload == NULL && item->payload_len > 0))
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0, "a history item needs a group");
    bind_text(st, 1, item->group);
    sqlite3_bind_int64(st, 2, item->seq);
    sqlite3_bind_int64(st, 3, item->kind);
    sqlite3_bind_int64(st, 4, item->created);
    bind_blob(st, 5, item->payload, item->payload_len);
    if ((rc = run(q, st, ctx, "history append")) < 0)
        return rc;
    if (sqlite3_changes(q->db) == 0)
        return orderly__sqlite_fail(ctx, ORDERLY_EEXISTS, 0, "history entry %u of '%s' exists",
                                    item->seq, item->group);
    return ORDERLY_OK;
}

static int s_history_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *group,
                          uint32_t from_seq, size_t max, orderly_history_cb cb, void *user_data)
{
    struct orderly__sqlite *q = SQ(s);
    sqlite3_stmt *st = use(q, SQ_HISTORY_SCAN);
    orderly_history_item it;
    int n = 0, rc;

    if ((rc = txn_ok(q, txn, ctx)) < 0)
        return rc;
    if (group == NULL || cb == NULL)
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0, "group and callback are required");
    bind_text(st, 1, group);
    sqlite3_bind_int64(st, 2, from_seq);
    sqlite3_bind_int64(st, 3, as_limit(max));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        it.group = group;
        it.seq = (uint32_t)sqlite3_column_int64(st, 0);
        it.kind = (uint32_t)sqlite3_column_int64(st, 1);
        it.created = sqlite3_column_int64(st, 2);
        it.payload = sqlite3_column_blob(st, 3);
        it.payload_len = (size_t)sqlite3_column_bytes(st, 3);
        if ((rc = cb(&it, user_data)) < 0) {
            sqlite3_reset(st);
            return rc;
        }
        n++;
    }
    if (rc != SQLITE_DONE)
        n = orderly__sqlite_db_fail(q->db, ctx, rc, "history scan");
    sqlite3_reset(st);
    return n;
}

/* ---- lifecycle --------------------------------------------------------- */

int orderly_sqlite_schema_version(void)
{
    return ORDERLY__SQLITE_SCHEMA;
}

static int check_options(const orderly_sqlite_options *o, orderly_ctx *ctx)
{
    if (o->version == 0 || o->version > ORDERLY_SQLITE_OPTIONS_VERSION)
        return orderly__sqlite_fail(ctx, ORDERLY_EVERSION, 0,
                                    "SQLite options version %u is not supported (1..%d)",
                                    o->version, ORDERLY_SQLITE_OPTIONS_VERSION);
    if (o->busy_timeout_ms <= 0)
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0, "busy_timeout_ms must be positive");
    if (o->synchronous != ORDERLY_SQLITE_SYNC_FULL && o->synchronous != ORDERLY_SQLITE_SYNC_NORMAL)
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0, "unknown synchronous level %d",
                                    o->synchronous);
    return orderly__sqlite_check_tuning(o, ctx);
}

static int open_db(struct orderly__sqlite *q, const char *path, const orderly_sqlite_options *o,
                   orderly_ctx *ctx)
{
    struct stat sb;
    int create = o->create && !q->read_only, flags = SQLITE_OPEN_NOMUTEX, rc;

    flags |= q->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (create)
        flags |= SQLITE_OPEN_CREATE;
    rc = sqlite3_open_v2(path, &q->db, flags, NULL);
    if (rc == SQLITE_OK)
        return ORDERLY_OK;
    if (!create && (rc & 0xff) == SQLITE_CANTOPEN && stat(path, &sb) != 0 && errno == ENOENT)
        return orderly__sqlite_fail(ctx, ORDERLY_ENOTFOUND, rc, "no database at '%s'", path);
    return orderly__sqlite_db_fail(q->db, ctx, rc, "opening the database");
}

static int prepare_all(struct orderly__sqlite *q, orderly_ctx *ctx)
{
    int i, rc;

    for (i = 0; i < SQ_COUNT; i++) {
        rc = sqlite3_prepare_v3(q->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &q->stmt[i],
                                NULL);
        if (rc != SQLITE_OK)
            return orderly__sqlite_db_fail(q->db, ctx, rc, "preparing statements");
    }
    return ORDERLY_OK;
}

int orderly_sqlite_storage_open(orderly_storage **out, const char *path,
                                const orderly_sqlite_options *opts, orderly_ctx *ctx)
{
    static const orderly_sqlite_options defaults = ORDERLY_SQLITE_OPTIONS_INIT;
    struct orderly__sqlite *q;
    size_t plen;
    int rc;

    if (out == NULL || path == NULL)
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0, "out and path are required");
    *out = NULL;
    if (opts == NULL)
        opts = &defaults;
    if ((rc = check_options(opts, ctx)) < 0)
        return rc;
    plen = strlen(path) + 1;
    if ((q = calloc(1, sizeof *q)) == NULL || (q->path = malloc(plen)) == NULL) {
        free(q);
        return orderly__sqlite_fail(ctx, ORDERLY_ENOMEM, 0, "out of memory");
    }
    memcpy(q->path, path, plen);
    q->busy_timeout_ms = opts->busy_timeout_ms;
    /* read_only came with options version 2; older hosts never set it */
    q->read_only = opts->version >= 2 && opts->read_only;
    if ((rc = open_db(q, path, opts, ctx)) < 0)
        goto fail;
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, opts->busy_timeout_ms);
    if ((rc = orderly__sqlite_lock_mode(q->db, opts, ctx)) < 0)
        goto fail;
    rc = q->read_only ? orderly__sqlite_check_current(q->db, path, ctx)
                      : orderly__sqlite_migrate(q->db, path, ctx);
    if (rc < 0)
        goto fail;
    rc = sqlite3_exec(q->db,
                      opts->synchronous == ORDERLY_SQLITE_SYNC_FULL ? "PRAGMA synchronous=FULL"
                                                                    : "PRAGMA synchronous=NORMAL",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = orderly__sqlite_db_fail(q->db, ctx, rc, "setting the durability level");
        goto fail;
    }
    if ((rc = orderly__sqlite_tune(q, opts, ctx)) < 0 || (rc = prepare_all(q, ctx)) < 0)
        goto fail;
    orderly_storage_init(&q->base, ORDERLY_STORAGE_VERSION);
    q->base.user_data = q;
    q->base.begin = s_begin;
    q->base.commit = s_commit;
    q->base.rollback = s_rollback;
    q->base.load = s_load;
    q->base.save = s_save;
    q->base.scan = s_scan;
    q->base.queue_push = s_queue_push;
    q->base.queue_claim = s_queue_claim;
    q->base.queue_finish = s_queue_finish;
    q->base.queue_reset = s_queue_reset;
    q->base.queue_get = s_queue_get;
    q->base.queue_scan = s_queue_scan;
    q->base.queue_purge = s_queue_purge;
    q->base.queue_stats = s_queue_stats;
    q->base.idem_get = s_idem_get;
    q->base.idem_put = s_idem_put;
    q->base.idem_purge = s_idem_purge;
    q->base.history_append = s_history_append;
    q->base.history_scan = s_history_scan;
    q->base.begin_read = s_begin_read;
    q->base.queue_next_due = s_queue_next_due;
    q->base.queue_next_due_except = s_queue_next_due_except;
    *out = &q->base;
    return ORDERLY_OK;
fail:
    orderly_sqlite_storage_close(&q->base);
    return rc;
}

void orderly_sqlite_storage_close(orderly_storage *s)
{
    struct orderly__sqlite *q = SQ(s);
    int i;

    if (q == NULL)
        return;
    if (q->db != NULL) {
        if (q->in_txn)
            end_txn(q);
        for (i = 0; i < SQ_COUNT; i++)
            sqlite3_finalize(q->stmt[i]);
        sqlite3_close(q->db);
    }
    free(q->cand);
    free(q->path);
    free(q);
}
