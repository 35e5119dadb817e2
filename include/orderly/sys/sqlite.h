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

/* Version 2 added read_only; version 3 the tuning fields (checkpoint,
 * checkpoint_pages, exclusive, cache_kib, mmap_bytes). An older version
 * is still accepted and gets SQLite's defaults for the fields it lacks. */
#define ORDERLY_SQLITE_OPTIONS_VERSION 3

typedef enum orderly_sqlite_sync {
    ORDERLY_SQLITE_SYNC_FULL   = 0, /* fsync on every commit */
    ORDERLY_SQLITE_SYNC_NORMAL = 1  /* fsync at checkpoints: survives a kill, not a power cut */
} orderly_sqlite_sync;

/* Who copies the WAL back into the database file (a checkpoint). */
typedef enum orderly_sqlite_checkpoint_policy {
    /* SQLite's own: the commit that brings the WAL to checkpoint_pages
     * runs a checkpoint before it returns, on the command's path */
    ORDERLY_SQLITE_CHECKPOINT_AUTO = 0,
    /* never on a commit: the host calls orderly_sqlite_storage_checkpoint
     * from its idle time or another thread's connection; until it does,
     * the WAL grows with every commit */
    ORDERLY_SQLITE_CHECKPOINT_HOST = 1
} orderly_sqlite_checkpoint_policy;

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
    /* ---- version 3 (every field's 0 is SQLite's default) ---- */
    int checkpoint;          /* orderly_sqlite_checkpoint_policy */
    /* AUTO only: checkpoint once the WAL holds this many pages (0 = 1000,
     * SQLite's default; 1..1000000). Must be 0 under HOST. */
    int checkpoint_pages;
    /* 1: PRAGMA locking_mode=EXCLUSIVE, for a host that is the file's only
     * process: the lock is taken at the first transaction and kept until
     * close, so no other connection can read or write the file meanwhile
     * (not even a read_only one), and WAL needs no -shm file. 0: the
     * normal shared locking. Not with read_only. */
    int exclusive;
    /* page cache of this connection in KiB (0 = SQLite's default of
     * 2000 KiB; 1..INT_MAX) */
    int cache_kib;
    /* bytes of the file read through mmap (0 = none, SQLite's default;
     * up to the limit this SQLite was built with: above it is ECONFIG) */
    int64_t mmap_bytes;
} orderly_sqlite_options;

#define ORDERLY_SQLITE_OPTIONS_INIT { ORDERLY_SQLITE_OPTIONS_VERSION, 1, 5000, 0, 0, 0, 0, 0, 0, 0 }

/* The schema version this library creates and migrates to. */
ORDERLY_API int orderly_sqlite_schema_version(void);

/*
 * Opens (or, with opts->create, creates) the database at path and migrates
 * its schema (with opts->read_only: opens it as it is; see above). opts may
 * be NULL for the defaults. Errors, with the detail in ctx (may be NULL):
 * ENOTFOUND for a missing file when create is 0 or read_only is 1,
 * ESTORAGE for a file that is not an orderly database or is corrupt,
 * EVERSION for a schema newer than this library (or, read-only, older)
 * or an options version it does not know, EINVAL for a bad busy timeout
 * or synchronous level, ECONFIG for a version 3 field out of its range
 * (the message names the field). Each version 3 setting is applied
 * before the call returns and lasts for the connection's life.
 * The caller owns *out and frees it with orderly_sqlite_storage_close after
 * every engine using it has closed (its destroy slot is NULL).
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_sqlite_storage_open(orderly_storage **out,
                                                                const char *path,
                                                                const orderly_sqlite_options *opts,
                                                                orderly_ctx *ctx);

/* How a host checkpoint waits (orderly_sqlite_storage_checkpoint). */
typedef enum orderly_sqlite_checkpoint_mode {
    /* copies what it can without waiting for any reader or writer */
    ORDERLY_SQLITE_CHECKPOINT_PASSIVE = 0,
    /* waits (up to busy_timeout_ms) for writers and readers, copies the
     * whole WAL and truncates it to zero bytes */
    ORDERLY_SQLITE_CHECKPOINT_TRUNCATE = 1
} orderly_sqlite_checkpoint_mode;

/*
 * Copies the WAL back into the database file now, on this storage's
 * connection, and fsyncs the file (under either synchronous level): the
 * work an AUTO checkpoint would do on some command's commit. Call it
 * between engine calls that use s, or on a storage of its own opened on
 * the same file from another thread (not possible with exclusive).
 * min_pages > 0 (HOST policy only) makes it do nothing, and return 0 with
 * *copied_out 0, until the commits of s have put at least min_pages
 * pages in the WAL since its last checkpoint: each checkpoint costs an
 * fsync, so a host that calls this often should pass its threshold here
 * (a storage that never writes sees 0 pages: pass 0 there).
 * *wal_pages_out (may be NULL) gets the pages the WAL holds after the
 * call (0 once TRUNCATE emptied it) and *copied_out (may be NULL) how
 * many of them are in the database file; fewer copied than held means a
 * reader's snapshot still needs the rest (PASSIVE).
 * Errors, with the detail in ctx (may be NULL): EINVAL for a NULL s, an
 * unknown mode or a negative min_pages, EMISUSE inside a transaction of
 * s, on a read_only storage or for min_pages > 0 under AUTO, ECONFLICT when TRUNCATE waited out the busy timeout (some
 * pages may have been copied; retry later), ESTORAGE for an I/O error.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_sqlite_storage_checkpoint(int *wal_pages_out,
                                                                      int *copied_out,
                                                                      orderly_storage *s,
                                                                      int mode,
                                                                      int min_pages,
                                                                      orderly_ctx *ctx);

/* Rolls back any open transaction and closes the database. NULL is accepted. */
ORDERLY_API void orderly_sqlite_storage_close(orderly_storage *s);

ORDERLY_END_DECLS

#endif
