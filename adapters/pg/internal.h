/*
 * Shared between the PostgreSQL adapter's files: the handle, the prepared
 * statement set, parameter packing and the mapping of libpq results to
 * orderly codes. Never installed.
 */
#ifndef ORDERLY_PG_INTERNAL_H
#define ORDERLY_PG_INTERNAL_H

#include <libpq-fe.h>

#include "orderly/sys/pg.h"

/* The schema version the migrations in schema.c end at. */
#define ORDERLY__PG_SCHEMA 1

/* Longest schema name accepted (PostgreSQL's identifier limit is 63). */
#define ORDERLY__PG_NAME_MAX 48

enum orderly__pg_stmt {
    PG_LOAD,
    PG_INSERT_RECORD,
    PG_UPDATE_RECORD,
    PG_RECORD_VERSION,
    PG_SCAN_RECORDS,
    PG_PUSH,
    PG_CLAIM,
    PG_GET,
    PG_FINISH,
    PG_EXISTS,
    PG_RESET,
    PG_SCAN_ANY,
    PG_SCAN_STATE,
    PG_PURGE,
    PG_STATS,
    PG_NEXT_DUE_EXCEPT,
    PG_IDEM_LOCK,
    PG_IDEM_GET,
    PG_IDEM_PUT,
    PG_IDEM_PURGE,
    PG_COUNT
};

/* A push whose id nobody asked for, held until the transaction's next
 * round trip: its text and payload are copied into the handle's buffer
 * (offsets, since the buffer may move as it grows). */
struct orderly__pg_held {
    int64_t queue, kind, created, due;
    size_t group_at, group_len, payload_at, payload_len;
};

#define ORDERLY__PG_HELD_MAX 16

struct orderly__pg {
    orderly_storage base;          /* first: the vtable handed to engines */
    PGconn *conn;
    int owns_conn;                 /* 0: the host's (orderly_pg_storage_wrap) */
    int listen;
    int statement_timeout_ms;
    int in_txn;
    int begin_due;                 /* BEGIN not sent yet: it rides with the first statement */
    int prepared;                  /* statements exist on the current session */
    unsigned int pushed;           /* queues pushed to in this transaction (bits) */
    struct orderly__pg_held held[ORDERLY__PG_HELD_MAX];
    int n_held;                    /* pushes waiting for the next round trip */
    uint8_t *held_buf;             /* their copied bytes (owned) */
    size_t held_len, held_cap;
    unsigned int woken;            /* queues notified since the last drain (bits) */
    char schema[ORDERLY__PG_NAME_MAX + 1];
    char channel[ORDERLY__PG_NAME_MAX + 16];
};

/* Up to this many parameters per statement. */
#define ORDERLY__PG_PARAMS_MAX 10

/* Parameters of one statement, all sent in binary. Integers are kept
 * big-endian in ints[]; text and blobs are borrowed from the caller. */
struct orderly__pg_params {
    int n;
    const char *value[ORDERLY__PG_PARAMS_MAX];
    int length[ORDERLY__PG_PARAMS_MAX];
    int format[ORDERLY__PG_PARAMS_MAX];
    unsigned char ints[ORDERLY__PG_PARAMS_MAX][8];
};

void orderly__pg_int(struct orderly__pg_params *p, int64_t v);
void orderly__pg_text(struct orderly__pg_params *p, const char *s);
void orderly__pg_blob(struct orderly__pg_params *p, const uint8_t *data, size_t len);

/* A binary int8 (or bool, as 0/1) column of row r. */
int64_t orderly__pg_get_int(const PGresult *res, int r, int c);

/* Records code and a formatted one-line message on ctx; returns code. */
int orderly__pg_fail(orderly_ctx *ctx, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Maps a failed result (or a NULL one) to an orderly code: ETIMEOUT for
 * a cancelled statement, ECONFLICT for deadlocks, serialization failures
 * and lock timeouts, ENOMEM, else ESTORAGE; records "what: <server
 * message>" on ctx. Clears res. */
int orderly__pg_result_fail(struct orderly__pg *q, PGresult *res, orderly_ctx *ctx,
                            const char *what);

/* Runs prepared statement which; on success *out holds its result (the
 * caller clears it) and 0 is returned. */
int orderly__pg_exec(struct orderly__pg *q, enum orderly__pg_stmt which,
                     const struct orderly__pg_params *p, orderly_ctx *ctx, const char *what,
                     PGresult **out);

/* Runs n prepared statements (n <= ORDERLY__PG_PIPELINE_MAX) in one round
 * trip, in pipeline mode, each seeing what the ones before it did (each
 * takes its own snapshot); out[i] gets statement i's result on success
 * (the caller clears them all), nothing on failure. The transaction's
 * BEGIN, when still due, goes first in the same round trip. */
#define ORDERLY__PG_PIPELINE_MAX 4
int orderly__pg_exec_n(struct orderly__pg *q, int n, const enum orderly__pg_stmt *which,
                       const struct orderly__pg_params *const *p, orderly_ctx *ctx,
                       const char *what, PGresult **out);

/* Holds a push (copies what it needs) for the transaction's next round
 * trip; the held pushes go first in it, and a failure of theirs is that
 * round trip's. Full, it sends them at once. */
int orderly__pg_hold_push(struct orderly__pg *q, int queue, const orderly_queue_item *item,
                          orderly_ctx *ctx);

/* Sends what is held (and a due BEGIN) now; 0 when nothing was held. */
int orderly__pg_flush(struct orderly__pg *q, orderly_ctx *ctx);

/* Forgets what is held: the transaction ended without it. */
void orderly__pg_drop_held(struct orderly__pg *q);

/* Runs a statement that returns no rows and reports the rows it changed
 * (>= 0) or a negative code. */
int orderly__pg_change(struct orderly__pg *q, enum orderly__pg_stmt which,
                       const struct orderly__pg_params *p, orderly_ctx *ctx, const char *what);

/* Runs sql (no parameters, text protocol, possibly several statements);
 * 0 when every statement succeeded. */
int orderly__pg_simple(struct orderly__pg *q, const char *sql, orderly_ctx *ctx,
                       const char *what);

/* Copies template into out (cap bytes) with every '@' replaced by the
 * schema name; EINVAL when it does not fit. */
int orderly__pg_expand(const struct orderly__pg *q, const char *tmpl, char *out, size_t cap);

/* Keeps the server's notices (such as "schema already exists") off the
 * host's stderr. */
void orderly__pg_quiet(struct orderly__pg *q);

/* Sets up the session (settings, prepared statements, LISTEN). */
int orderly__pg_session(struct orderly__pg *q, orderly_ctx *ctx);

/* Reconnects a dropped connection and sets the session up again. */
int orderly__pg_reconnect(struct orderly__pg *q, orderly_ctx *ctx);

/* Creates or migrates the schema to ORDERLY__PG_SCHEMA, once across every
 * process (under an advisory lock). ESTORAGE for a foreign schema,
 * EVERSION for a newer one. */
int orderly__pg_migrate(struct orderly__pg *q, orderly_ctx *ctx);

/* The queue methods (queue.c), installed into the vtable by open. */
void orderly__pg_queue_methods(orderly_storage *s);

/* Checks that txn is the storage's open transaction. */
int orderly__pg_txn_ok(struct orderly__pg *q, void *txn, orderly_ctx *ctx);

#endif
