/*
 * orderly/sys/sqlite.h - the SQLite storage adapter (liborderly-sqlite).
 *
 * A separate library, built when meson finds libsqlite3 (option `sqlite`),
 * with its own pkg-config file, orderly-sqlite.pc. It keeps every record,
 * queue row and idempotency mark of orderly in one SQLite database file:
 * the schema is created and migrated on open (versioned migrations, kept
 * in PRAGMA user_version), the journal is WAL, one engine transaction is
 * one SQLite transaction (BEGIN IMMEDIATE), statements are prepared once
 * and cached, and a queue claim is a single UPDATE inside that transaction
 * so two processes can never claim one row.
 *
 * Durability: with synchronous FULL (the default) a commit that returned 0
 * survives a process kill and a power cut; with NORMAL it survives a kill.
 *
 * Threads: a storage is one connection; use it from one thread at a time
 * (one engine). Open one per thread or process on the same file: writers
 * queue on the busy timeout, and a wait that outlasts it fails with
 * ORDERLY_ECONFLICT so the engine retries.
 *
 * Inspection: with read_only set the file is opened SQLITE_OPEN_READONLY
 * and never created, migrated or written; each transaction is a deferred
 * read snapshot (BEGIN DEFERRED), so it never waits for a writer.
 */
#ifndef ORDERLY_SYS_SQLITE_H
#define ORDERLY_SYS_SQLITE_H

#include "storage.h"

ORDERLY_BEGIN_DECLS

/* Version 2 added read_only. */
#define ORDERLY_SQLITE_OPTIONS_VERSION 2

typedef enum orderly_sqlite_sync {
    ORDERLY_SQLITE_SYNC_FULL   = 0, /* fsync on every commit */
    ORDERLY_SQLITE_SYNC_NORMAL = 1  /* fsync at checkpoints: survives a kill, not a power cut */
} orderly_sqlite_sync;

typedef struct orderly_sqlite_options {
    unsigned int version;    /* ORDERLY_SQLITE_OPTIONS_VERSION; first, always */
    int create;              /* 1: create the file when missing; 0: ENOTFOUND */
    int busy_timeout_ms;     /* how long a writer waits for another; > 0 */
    int synchronous;         /* orderly_sqlite_sync */
    /* ---- version 2 ---- */
    /* 1: open for inspection only (create is then ignored). The file must
     * be an orderly database at this library's schema version: an empty
     * or foreign file is ESTORAGE, an older schema EVERSION (open it
     * read-write once to migrate it). Transactions are read snapshots that
     * never wait for a writer; every write method fails with EMISUSE.
     * SQLite may still create the -wal and -shm files beside a WAL
     * database (its shared read index); the database itself is never
     * written. */
    int read_only;
} orderly_sqlite_options;

#define ORDERLY_SQLITE_OPTIONS_INIT { ORDERLY_SQLITE_OPTIONS_VERSION, 1, 5000, 0, 0 }

/* The schema version this library creates and migrates to. */
ORDERLY_API int orderly_sqlite_schema_version(void);

/*
 * Opens (or, with opts->create, creates) the database at path and migrates
 * its schema (with opts->read_only: opens it as it is; see above). opts may
 * be NULL for the defaults. Errors, with the detail in ctx (may be NULL):
 * ENOTFOUND for a missing file when create is 0 or read_only is 1,
 * ESTORAGE for a file that is not an orderly database or is corrupt,
 * EVERSION for a schema newer than this library (or, read-only, older),
 * EINVAL for bad options.
 * The caller owns *out and frees it with orderly_sqlite_storage_close after
 * every engine using it has closed (its destroy slot is NULL).
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_sqlite_storage_open(orderly_storage **out,
                                                                const char *path,
                                                                const orderly_sqlite_options *opts,
                                                                orderly_ctx *ctx);

/* Rolls back any open transaction and closes the database. NULL is accepted. */
ORDERLY_API void orderly_sqlite_storage_close(orderly_storage *s);

ORDERLY_END_DECLS

#endif
