/*
 * Shared between the SQLite adapter's files: the connection handle, the
 * cached statement set and the helpers that turn SQLite results into
 * orderly codes. Never installed.
 */
#ifndef ORDERLY_SQLITE_INTERNAL_H
#define ORDERLY_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "orderly/sys/sqlite.h"

/* PRAGMA application_id of every orderly database ("ORDL"), so a foreign
 * SQLite file is told apart from an empty one before anything is written. */
#define ORDERLY__SQLITE_APP_ID 0x4F52444C

/* The schema version the migrations in schema.c end at. */
#define ORDERLY__SQLITE_SCHEMA 3

#define ORDERLY__SQLITE_QUEUES 4 /* indexed by orderly_queue; slot 0 unused */

enum orderly__sqlite_stmt {
    SQ_BEGIN,
    SQ_BEGIN_READ,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_LOAD,
    SQ_INSERT_RECORD,
    SQ_UPDATE_RECORD,
    SQ_RECORD_VERSION,
    SQ_SCAN_RECORDS,
    SQ_SEQ_GET,
    SQ_SEQ_SET,
    SQ_TOKEN,
    SQ_PUSH,
    SQ_CAND_READY,
    SQ_CAND_LEASED,
    SQ_BLOCKED,
    SQ_CLAIM,
    SQ_GET,
    SQ_FINISH,
    SQ_LEASE_OF,
    SQ_RESET,
    SQ_SCAN_ANY,
    SQ_SCAN_STATE,
    SQ_PURGE,
    SQ_COUNT_STATES,
    SQ_COUNT_DUE,
    SQ_COUNT_LEASE_EXPIRED,
    SQ_OLDEST_PENDING,
    SQ_NEXT_DUE,
    SQ_NEXT_DUE_EXCEPT,
    SQ_IDEM_GET,
    SQ_IDEM_PUT,
    SQ_IDEM_PURGE,
    SQ_HISTORY_APPEND,
    SQ_HISTORY_SCAN,
    SQ_COUNT
};

/* One claim candidate, copied out of the candidate query before any row
 * is changed (SQLite leaves a live SELECT undefined across writes). */
struct orderly__sqlite_cand {
    uint64_t id;
    int state;
};

struct orderly__sqlite {
    orderly_storage base;          /* first: the vtable handed to engines */
    sqlite3 *db;
    char *path;                    /* for messages */
    int busy_timeout_ms;
    int read_only;                 /* opened for inspection: BEGIN DEFERRED, no writes */
    int in_txn;
    int host_checkpoint;           /* options' checkpoint policy is HOST */
    int wal_pages;                 /* HOST: WAL pages after this connection's last commit */
    /* Queue id counters: read once per transaction (BEGIN IMMEDIATE holds
     * the write lock, so nobody else can push meanwhile) and written back
     * at commit, instead of one extra UPDATE per push. */
    struct {
        uint64_t last;
        int loaded, dirty;
    } seq[ORDERLY__SQLITE_QUEUES];
    struct orderly__sqlite_cand *cand;
    size_t cand_cap;
    sqlite3_stmt *stmt[SQ_COUNT];
};

/* Records code and a formatted one-line message on ctx; returns code. */
int orderly__sqlite_fail(orderly_ctx *ctx, int code, int64_t native, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Maps an SQLite result to an orderly code and records "what: <sqlite
 * message>" on ctx. */
int orderly__sqlite_db_fail(sqlite3 *db, orderly_ctx *ctx, int rc, const char *what);

/*
 * Checks that db is an orderly database (or an empty file), switches it to
 * WAL and migrates its schema to ORDERLY__SQLITE_SCHEMA. ESTORAGE for a
 * foreign or corrupt file, EVERSION for a newer schema.
 */
int orderly__sqlite_migrate(sqlite3 *db, const char *path, orderly_ctx *ctx);

/*
 * For a read-only open: checks that db is an orderly database at exactly
 * ORDERLY__SQLITE_SCHEMA, writing nothing. ESTORAGE for an empty, foreign
 * or corrupt file, EVERSION for an older or newer schema.
 */
int orderly__sqlite_check_current(sqlite3 *db, const char *path, orderly_ctx *ctx);

/* ECONFIG when a version 3 field of o is out of its range (tuning.c). */
int orderly__sqlite_check_tuning(const orderly_sqlite_options *o, orderly_ctx *ctx);

/* Sets the locking mode o asks for; run before the first read of db. */
int orderly__sqlite_lock_mode(sqlite3 *db, const orderly_sqlite_options *o, orderly_ctx *ctx);

/* Applies o's checkpoint policy, page cache and mmap size to q's
 * connection. */
int orderly__sqlite_tune(struct orderly__sqlite *q, const orderly_sqlite_options *o,
                         orderly_ctx *ctx);

#endif
