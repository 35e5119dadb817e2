/*
 * The PostgreSQL storage adapter: transactions, records, idempotency marks,
 * the connection's life and the commit notifications. One storage is one
 * connection with at most one open transaction, at READ COMMITTED: every
 * statement sees what other instances committed before it, and the rules
 * that need more than that take row locks (a save's compare-and-set, a
 * claim's SKIP LOCKED) or an advisory lock (an idempotency key), each
 * noted where it is used. The queue methods are in queue.c.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PG(s) ((struct orderly__pg *)(void *)(s))

int orderly__pg_txn_ok(struct orderly__pg *q, void *txn, orderly_ctx *ctx)
{
    if (txn != q || !q->in_txn)
        return orderly__pg_fail(ctx, ORDERLY_EMISUSE, "no open transaction on this storage");
    return ORDERLY_OK;
}

/* ---- transactions ------------------------------------------------------ */

/* No round trip of its own: BEGIN goes out with the transaction's first
 * statement (orderly__pg_exec_n), and a transaction that runs none costs
 * nothing. */
static int s_begin(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    struct orderly__pg *q = PG(s);
    int rc;

    if (q->in_txn)
        return orderly__pg_fail(ctx, ORDERLY_EMISUSE,
                                "a transaction is already open on this connection");
    /* a session known lost since the last call is replaced before anything
     * runs; one lost unnoticed while idle is replaced by the first round
     * trip, which finds out */
    if ((PQstatus(q->conn) != CONNECTION_OK || !q->prepared) &&
        (rc = orderly__pg_reconnect(q, ctx)) < 0)
        return rc;
    q->in_txn = 1;
    q->begin_due = 1;
    q->pushed = 0;
    *txn_out = q;
    return ORDERLY_OK;
}

static void end_txn(struct orderly__pg *q)
{
    q->begin_due = 0;
    orderly__pg_drop_held(q);
    if (PQstatus(q->conn) == CONNECTION_OK &&
        PQtransactionStatus(q->conn) != PQTRANS_IDLE)
        PQclear(PQexec(q->conn, "ROLLBACK"));
    q->in_txn = 0;
}

static int s_commit(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    struct orderly__pg *q = PG(s);
    char sql[160];
    PGresult *res;
    int rc = ORDERLY_OK;

    if ((rc = orderly__pg_txn_ok(q, txn, ctx)) < 0)
        return rc;
    /* pushes still held go first (with the BEGIN, if that is due too) */
    if (q->n_held > 0 && (rc = orderly__pg_flush(q, ctx)) < 0) {
        end_txn(q);
        return rc;
    }
    if (q->begin_due) {
        /* nothing ran, so there is nothing to commit */
        q->in_txn = 0;
        q->begin_due = 0;
        return ORDERLY_OK;
    }
    /* the NOTIFY rides in the COMMIT's round trip; PostgreSQL delivers it
     * only if the commit succeeds, and folds duplicates */
    if (q->pushed != 0)
        snprintf(sql, sizeof sql, "NOTIFY %s, '%u'; COMMIT", q->channel, q->pushed);
    else
        snprintf(sql, sizeof sql, "COMMIT");
    q->in_txn = 0;
    if (!PQsendQuery(q->conn, sql)) {
        rc = orderly__pg_result_fail(q, NULL, ctx, "commit");
        end_txn(q);
        return rc;
    }
    while ((res = PQgetResult(q->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (rc < 0) {
            PQclear(res);
        } else if (st != PGRES_COMMAND_OK) {
            rc = orderly__pg_result_fail(q, res, ctx, "commit");
        } else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
            /* COMMIT of a transaction an earlier error aborted */
            PQclear(res);
            rc = orderly__pg_fail(ctx, ORDERLY_ESTORAGE,
                                  "commit: the server rolled the transaction back after an "
                                  "earlier error");
        } else {
            PQclear(res);
        }
    }
    if (rc == ORDERLY_OK && PQstatus(q->conn) != CONNECTION_OK)
        /* the answer to COMMIT never came: it may or may not have landed,
         * as with any lost reply; the engine's idempotency covers a retry */
        rc = orderly__pg_result_fail(q, NULL, ctx, "commit");
    if (rc < 0)
        end_txn(q);
    return rc;
}

static void s_rollback(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    struct orderly__pg *q = PG(s);

    (void)ctx;
    if (txn == q && q->in_txn)
        end_txn(q);
}

/* ---- records ----------------------------------------------------------- */

static int s_load(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  orderly_buf *out, uint64_t *version_out)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    PGresult *res;
    int rc;

    if ((rc = orderly__pg_txn_ok(q, txn, ctx)) < 0)
        return rc;
    orderly__pg_text(&p, key);
    if ((rc = orderly__pg_exec(q, PG_LOAD, &p, ctx, "load", &res)) < 0)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return orderly__pg_fail(ctx, ORDERLY_ENOTFOUND, "no record '%s'", key);
    }
    rc = orderly_buf_set(out, (const uint8_t *)PQgetvalue(res, 0, 0),
                         (size_t)PQgetlength(res, 0, 0));
    *version_out = (uint64_t)orderly__pg_get_int(res, 0, 1);
    PQclear(res);
    if (rc < 0)
        return orderly__pg_fail(ctx, rc, "out of memory");
    return ORDERLY_OK;
}

static int version_conflict(struct orderly__pg *q, orderly_ctx *ctx, const char *key,
                            uint64_t expected)
{
    struct orderly__pg_params p = { 0 };
    uint64_t have = 0;
    PGresult *res;
    int rc;

    orderly__pg_text(&p, key);
    if ((rc = orderly__pg_exec(q, PG_RECORD_VERSION, &p, ctx, "save", &res)) < 0)
        return rc;
    if (PQntuples(res) > 0)
        have = (uint64_t)orderly__pg_get_int(res, 0, 0);
    PQclear(res);
    return orderly__pg_fail(ctx, ORDERLY_ECONFLICT, "record '%s' is at version %llu, expected %llu",
                            key, (unsigned long long)have, (unsigned long long)expected);
}

static int s_save(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  const uint8_t *data, size_t len, uint64_t expected_version)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    int rc;

    if ((rc = orderly__pg_txn_ok(q, txn, ctx)) < 0)
        return rc;
    orderly__pg_text(&p, key);
    orderly__pg_blob(&p, data, len);
    if (expected_version == 0) {
        rc = orderly__pg_change(q, PG_INSERT_RECORD, &p, ctx, "save");
    } else {
        orderly__pg_int(&p, (int64_t)expected_version);
        rc = orderly__pg_change(q, PG_UPDATE_RECORD, &p, ctx, "save");
    }
    if (rc < 0)
        return rc;
    if (rc == 0)
        return version_conflict(q, ctx, key, expected_version);
    return ORDERLY_OK;
}

static int s_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *after, size_t max,
                  orderly_record_cb cb, void *user_data)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    PGresult *res;
    int n, i, rc;

    if ((rc = orderly__pg_txn_ok(q, txn, ctx)) < 0)
        return rc;
    orderly__pg_text(&p, after != NULL ? after : "");
    orderly__pg_int(&p, max > (size_t)INT32_MAX ? INT32_MAX : (int64_t)max);
    if ((rc = orderly__pg_exec(q, PG_SCAN_RECORDS, &p, ctx, "scan", &res)) < 0)
        return rc;
    n = PQntuples(res);
    for (i = 0; i < n; i++) {
        rc = cb(PQgetvalue(res, i, 0), (const uint8_t *)PQgetvalue(res, i, 1),
                (size_t)PQgetlength(res, i, 1), (uint64_t)orderly__pg_get_int(res, i, 2),
                user_data);
        if (rc < 0) {
            PQclear(res);
            return rc;
        }
    }
    PQclear(res);
    return n;
}

/* ---- idempotency ------------------------------------------------------- */

static int s_idem_get(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, orderly_idem_record *out, orderly_buf *result)
{
    static const enum orderly__pg_stmt which[2] = { PG_IDEM_LOCK, PG_IDEM_GET };
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params lp = { 0 }, p = { 0 };
    const struct orderly__pg_params *params[2] = { &lp, &p };
    PGresult *two[2], *res;
    int held, rc;

    if ((rc = orderly__pg_txn_ok(q, txn, ctx)) < 0)
        return rc;
    /* lock first, read after, as two statements in one round trip: once
     * the key's advisory lock is ours any earlier holder has finished, and
     * the read (a statement of its own, so a new snapshot) sees its
     * commit; a lock held elsewhere is EINFLIGHT unless the mark is there */
    orderly__pg_text(&lp, key);
    orderly__pg_text(&p, key);
    orderly__pg_int(&p, now);
    if ((rc = orderly__pg_exec_n(q, 2, which, params, ctx, "idempotency lookup", two)) < 0)
        return rc;
    held = orderly__pg_get_int(two[0], 0, 0) != 0;
    PQclear(two[0]);
    res = two[1];
    if (PQntuples(res) == 0) {
        PQclear(res);
        if (!held)
            return orderly__pg_fail(ctx, ORDERLY_EINFLIGHT,
                                    "key '%s' is held by another open transaction", key);
        return ORDERLY_ENOTFOUND;
    }
    if (PQgetlength(res, 0, 0) != (int)sizeof out->fingerprint) {
        PQclear(res);
        return orderly__pg_fail(ctx, ORDERLY_ESTORAGE,
                                "idempotency mark '%s' has a malformed fingerprint", key);
    }
    memcpy(out->fingerprint, PQgetvalue(res, 0, 0), sizeof out->fingerprint);
    out->expires = orderly__pg_get_int(res, 0, 1);
    rc = orderly_buf_set(result, (const uint8_t *)PQgetvalue(res, 0, 2),
                         (size_t)PQgetlength(res, 0, 2));
    PQclear(res);
    if (rc < 0)
        return orderly__pg_fail(ctx, rc, "out of memory");
    out->result = orderly_buf_data(result);
    out->result_len = orderly_buf_len(result);
    return ORDERLY_OK;
}

static int s_idem_put(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, const orderly_idem_record *rec)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    PGresult *res;
    int held, wrote, rc;

    if ((rc = orderly__pg_txn_ok(q, txn, ctx)) < 0)
        return rc;
    orderly__pg_text(&p, key);
    orderly__pg_blob(&p, rec->fingerprint, sizeof rec->fingerprint);
    orderly__pg_int(&p, rec->expires);
    orderly__pg_blob(&p, rec->result, rec->result_len);
    orderly__pg_int(&p, now);
    if ((rc = orderly__pg_exec(q, PG_IDEM_PUT, &p, ctx, "idempotency mark", &res)) < 0)
        return rc;
    held = orderly__pg_get_int(res, 0, 0) != 0;
    wrote = orderly__pg_get_int(res, 0, 1) > 0;
    PQclear(res);
    if (!held)
        return orderly__pg_fail(ctx, ORDERLY_EINFLIGHT,
                                "key '%s' is held by another open transaction", key);
    if (!wrote)
        return orderly__pg_fail(ctx, ORDERLY_EEXISTS, "key '%s' already marked", key);
    return ORDERLY_OK;
}

static int s_idem_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, orderly_time_ms now,
                        size_t max)
{
    struct orderly__pg *q = PG(s);
    struct orderly__pg_params p = { 0 };
    int rc;

    if ((rc = orderly__pg_txn_ok(q, txn, ctx)) < 0)
        return rc;
    orderly__pg_int(&p, now);
    orderly__pg_int(&p, max > (size_t)INT32_MAX ? INT32_MAX : (int64_t)max);
    return orderly__pg_change(q, PG_IDEM_PURGE, &p, ctx, "idempotency purge");
}

/* ---- lifecycle --------------------------------------------------------- */

int orderly_pg_schema_version(void)
{
    return ORDERLY__PG_SCHEMA;
}

static int check_options(const orderly_pg_options *o, orderly_ctx *ctx)
{
    const char *c;

    if (o->version == 0 || o->version > ORDERLY_PG_OPTIONS_VERSION)
        return orderly__pg_fail(ctx, ORDERLY_EVERSION,
                                "PostgreSQL options version %u is not supported (1..%d)",
                                o->version, ORDERLY_PG_OPTIONS_VERSION);
    if (o->statement_timeout_ms < 0)
        return orderly__pg_fail(ctx, ORDERLY_EINVAL, "statement_timeout_ms must not be negative");
    if (o->schema != NULL) {
        /* a plain identifier, so it needs no quoting anywhere it is spliced */
        if (o->schema[0] == '\0' || strlen(o->schema) > ORDERLY__PG_NAME_MAX ||
            (o->schema[0] >= '0' && o->schema[0] <= '9'))
            return orderly__pg_fail(ctx, ORDERLY_EINVAL,
                                    "schema name must be 1..%d characters, not starting with a "
                                    "digit",
                                    ORDERLY__PG_NAME_MAX);
        for (c = o->schema; *c != '\0'; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
                return orderly__pg_fail(ctx, ORDERLY_EINVAL,
                                        "schema name '%s' may hold only a-z, 0-9 and _",
                                        o->schema);
    }
    return ORDERLY_OK;
}

static int start(orderly_storage **out, PGconn *conn, int owns, const orderly_pg_options *opts,
                 orderly_ctx *ctx)
{
    static const orderly_pg_options defaults = ORDERLY_PG_OPTIONS_INIT;
    struct orderly__pg *q;
    int rc;

    if (opts == NULL)
        opts = &defaults;
    if ((rc = check_options(opts, ctx)) < 0) {
        if (owns)
            PQfinish(conn);
        return rc;
    }
    if ((q = calloc(1, sizeof *q)) == NULL) {
        if (owns)
            PQfinish(conn);
        return orderly__pg_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    }
    q->conn = conn;
    q->owns_conn = owns;
    q->listen = opts->listen;
    q->statement_timeout_ms = opts->statement_timeout_ms;
    strcpy(q->schema, opts->schema != NULL ? opts->schema : "orderly");
    strcpy(q->channel, "orderly_");
    strcat(q->channel, q->schema);
    if (PQstatus(conn) != CONNECTION_OK) {
        rc = orderly__pg_result_fail(q, NULL, ctx, "connecting");
        goto fail;
    }
    orderly__pg_quiet(q);
    if ((rc = orderly__pg_migrate(q, ctx)) < 0 || (rc = orderly__pg_session(q, ctx)) < 0)
        goto fail;
    orderly_storage_init(&q->base, ORDERLY_STORAGE_VERSION);
    q->base.user_data = q;
    q->base.begin = s_begin;
    q->base.commit = s_commit;
    q->base.rollback = s_rollback;
    q->base.load = s_load;
    q->base.save = s_save;
    q->base.scan = s_scan;
    q->base.idem_get = s_idem_get;
    q->base.idem_put = s_idem_put;
    q->base.idem_purge = s_idem_purge;
    orderly__pg_queue_methods(&q->base);
    *out = &q->base;
    return ORDERLY_OK;
fail:
    orderly_pg_storage_close(&q->base);
    return rc;
}

int orderly_pg_storage_open(orderly_storage **out, const char *conninfo,
                            const orderly_pg_options *opts, orderly_ctx *ctx)
{
    PGconn *conn;

    if (out == NULL || conninfo == NULL)
        return orderly__pg_fail(ctx, ORDERLY_EINVAL, "out and conninfo are required");
    *out = NULL;
    if ((conn = PQconnectdb(conninfo)) == NULL)
        return orderly__pg_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    return start(out, conn, 1, opts, ctx);
}

int orderly_pg_storage_wrap(orderly_storage **out, struct pg_conn *conn,
                            const orderly_pg_options *opts, orderly_ctx *ctx)
{
    if (out == NULL || conn == NULL)
        return orderly__pg_fail(ctx, ORDERLY_EINVAL, "out and conn are required");
    *out = NULL;
    return start(out, conn, 0, opts, ctx);
}

void orderly_pg_storage_close(orderly_storage *s)
{
    struct orderly__pg *q = PG(s);
    char sql[96];

    if (q == NULL)
        return;
    if (q->in_txn)
        end_txn(q);
    if (q->owns_conn) {
        PQfinish(q->conn);
    } else if (PQstatus(q->conn) == CONNECTION_OK) {
        /* give the host its connection back as it was */
        snprintf(sql, sizeof sql, "UNLISTEN %s; DEALLOCATE ALL", q->channel);
        PQclear(PQexec(q->conn, sql));
    }
    free(q->held_buf);
    free(q);
}

struct pg_conn *orderly_pg_storage_conn(const orderly_storage *s)
{
    return s != NULL ? PG(s)->conn : NULL;
}

int orderly_pg_notify_fd(orderly_storage *s)
{
    struct orderly__pg *q = PG(s);

    if (q == NULL || PQstatus(q->conn) != CONNECTION_OK)
        return -1;
    return PQsocket(q->conn);
}

int orderly_pg_notify_drain(orderly_storage *s, orderly_ctx *ctx)
{
    struct orderly__pg *q = PG(s);
    PGnotify *n;
    unsigned int bits;

    if (q == NULL)
        return orderly__pg_fail(ctx, ORDERLY_EINVAL, "no storage");
    if (q->in_txn)
        return orderly__pg_fail(ctx, ORDERLY_EMISUSE, "drain notifications between transactions");
    if (PQstatus(q->conn) != CONNECTION_OK || !PQconsumeInput(q->conn))
        return orderly__pg_result_fail(q, NULL, ctx, "reading notifications");
    while ((n = PQnotifies(q->conn)) != NULL) {
        q->woken |= (unsigned int)strtoul(n->extra, NULL, 10);
        PQfreemem(n);
    }
    bits = q->woken & 0xeu;
    q->woken = 0;
    return (int)bits;
}
