/*
 * orderly/sys/pg.h - the PostgreSQL storage adapter (liborderly-pg).
 *
 * A separate library, built when meson finds libpq (option `pg`), with its
 * own pkg-config file, orderly-pg.pc. It keeps every record, queue row and
 * idempotency mark of orderly in the tables of one schema of a PostgreSQL
 * database (15 or newer), so any number of engines in any number of
 * processes and machines can share it:
 *
 * - a save is a compare-and-set on the record's version: the instance that
 *   loses the race gets ORDERLY_ECONFLICT;
 * - a queue claim locks its rows with FOR UPDATE SKIP LOCKED in id order,
 *   keeps each group's (order's) items in order across instances and
 *   draws its fencing token from a sequence;
 * - an idempotency key being written by an open transaction anywhere is
 *   held by a transaction-scoped advisory lock, so a second instance gets
 *   ORDERLY_EINFLIGHT at once instead of waiting;
 * - a transaction that pushed queue items sends a NOTIFY at commit, and
 *   every storage LISTENs: orderly_pg_notify_fd() and
 *   orderly_pg_notify_drain() let a host wake its pump on another
 *   instance's commit instead of polling.
 *
 * doc/postgresql.md has the schema, the technique behind each rule, the
 * failure behaviour and tuning.
 *
 * Failures: a dropped connection or a restarted server fails the call
 * with ORDERLY_ESTORAGE and the server's message in ctx; the transaction
 * is lost (nothing it wrote was committed) and the next begin() reconnects.
 * A statement cancelled by statement_timeout is ORDERLY_ETIMEOUT; a
 * deadlock, serialization failure or lock timeout is ORDERLY_ECONFLICT, so
 * the engine retries.
 *
 * Threads: a storage is one connection; use it from one thread at a time
 * (one engine). Open one per engine.
 */
#ifndef ORDERLY_SYS_PG_H
#define ORDERLY_SYS_PG_H

#include "storage.h"

ORDERLY_BEGIN_DECLS

/* libpq's connection, declared here so this header does not need
 * libpq-fe.h (where it is typedef'd PGconn). */
struct pg_conn;

#define ORDERLY_PG_OPTIONS_VERSION 1

typedef struct orderly_pg_options {
    unsigned int version;       /* ORDERLY_PG_OPTIONS_VERSION; first, always */
    /* The schema that holds orderly's tables, created when missing; NULL
     * = "orderly". Services sharing one server each take their own. A
     * schema that holds other tables but not orderly's is refused. */
    const char *schema;
    /* statement_timeout for this connection's statements, in ms; a
     * statement cancelled by it fails with ORDERLY_ETIMEOUT. 0 = the
     * server's setting. */
    int statement_timeout_ms;
    /* 1: LISTEN for other instances' commits (see orderly_pg_notify_fd);
     * 0: no notifications are received (commits still send them). */
    int listen;
} orderly_pg_options;

#define ORDERLY_PG_OPTIONS_INIT { ORDERLY_PG_OPTIONS_VERSION, NULL, 0, 1 }

/* The schema version this library creates and migrates to. */
ORDERLY_API int orderly_pg_schema_version(void);

/*
 * Connects with conninfo (a libpq connection string or URI, e.g.
 * "host=/run/postgresql dbname=shop" or "postgresql://u@h/shop"), creates
 * the schema when missing and migrates it to this library's version. opts
 * may be NULL for the defaults. Errors, with the detail in ctx (may be
 * NULL): ESTORAGE when the server cannot be reached or the schema holds
 * tables that are not orderly's, EVERSION for a schema newer than this
 * library, EINVAL for bad options.
 * The caller owns *out and frees it with orderly_pg_storage_close after
 * every engine using it has closed (its destroy slot is NULL); the
 * connection is the storage's and closes with it.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_pg_storage_open(orderly_storage **out,
                                                            const char *conninfo,
                                                            const orderly_pg_options *opts,
                                                            orderly_ctx *ctx);

/*
 * As orderly_pg_storage_open, on a connection the host opened. The host
 * keeps owning conn: orderly_pg_storage_close leaves it open, and the host
 * must not use it while the storage exists (the storage prepares
 * statements, runs transactions, LISTENs and, after a failure, calls
 * PQreset on it). Close the storage before PQfinish(conn).
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_pg_storage_wrap(orderly_storage **out,
                                                            struct pg_conn *conn,
                                                            const orderly_pg_options *opts,
                                                            orderly_ctx *ctx);

/* Rolls back any open transaction, stops listening and closes the
 * connection unless the host owns it. NULL is accepted. */
ORDERLY_API void orderly_pg_storage_close(orderly_storage *s);

/* The storage's connection, borrowed (for PQbackendPID, PQstatus and
 * the like; running statements on it breaks the storage). */
ORDERLY_API struct pg_conn *orderly_pg_storage_conn(const orderly_storage *s);

/*
 * The socket to poll for readability while the storage is idle: it turns
 * readable when another instance (or this one) commits queue items. -1
 * when the connection is down. The descriptor changes after a reconnect:
 * ask again after every wakeup. A transaction may read notifications off
 * the socket while it runs, so call orderly_pg_notify_drain first and
 * poll only when it returned 0:
 *
 *     while (orderly_pg_notify_drain(s, ctx) == 0)
 *         poll(&(struct pollfd){ orderly_pg_notify_fd(s), POLLIN, 0 }, 1, period_ms);
 */
ORDERLY_API int orderly_pg_notify_fd(orderly_storage *s);

/*
 * Reads what arrived on the socket without blocking and consumes the
 * queued notifications. Returns a bit set of the queues that were pushed
 * to since the last drain (1u << ORDERLY_QUEUE_OUTBOX, ...; 0 = none), or
 * ESTORAGE when the connection is down, or EMISUSE inside a transaction.
 */
ORDERLY_API int orderly_pg_notify_drain(orderly_storage *s, orderly_ctx *ctx);

ORDERLY_END_DECLS

#endif
