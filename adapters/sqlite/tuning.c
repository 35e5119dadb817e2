/*
 * The host-side settings of options version 3 (checkpoint policy, locking
 * mode, page cache, mmap) and the host's own checkpoint call. Each setting
 * is one PRAGMA on the storage's connection; the value is read back so a
 * setting SQLite quietly ignored or capped is an error at open, not a
 * surprise in production.
 */
#include <limits.h>
#include <stdio.h>

#include "internal.h"

#define SQ(s) ((struct orderly__sqlite *)(void *)(s))

#define CHECKPOINT_PAGES_MAX 1000000

int orderly__sqlite_check_tuning(const orderly_sqlite_options *o, orderly_ctx *ctx)
{
    if (o->version < 3)
        return ORDERLY_OK;
    if (o->checkpoint != ORDERLY_SQLITE_CHECKPOINT_AUTO &&
        o->checkpoint != ORDERLY_SQLITE_CHECKPOINT_HOST)
        return orderly__sqlite_fail(ctx, ORDERLY_ECONFIG, 0,
                                    "checkpoint must be ORDERLY_SQLITE_CHECKPOINT_AUTO or _HOST"
                                    " (got %d)",
                                    o->checkpoint);
    if (o->checkpoint_pages < 0 || o->checkpoint_pages > CHECKPOINT_PAGES_MAX)
        return orderly__sqlite_fail(ctx, ORDERLY_ECONFIG, 0,
                                    "checkpoint_pages must be 0..%d (got %d)",
                                    CHECKPOINT_PAGES_MAX, o->checkpoint_pages);
    if (o->checkpoint == ORDERLY_SQLITE_CHECKPOINT_HOST && o->checkpoint_pages != 0)
        return orderly__sqlite_fail(ctx, ORDERLY_ECONFIG, 0,
                                    "checkpoint_pages applies to the AUTO checkpoint policy only");
    if (o->exclusive != 0 && o->exclusive != 1)
        return orderly__sqlite_fail(ctx, ORDERLY_ECONFIG, 0, "exclusive must be 0 or 1 (got %d)",
                                    o->exclusive);
    if (o->exclusive && o->read_only)
        return orderly__sqlite_fail(ctx, ORDERLY_ECONFIG, 0,
                                    "exclusive and read_only exclude each other: an inspector"
                                    " must not lock the host out");
    if (o->cache_kib < 0)
        return orderly__sqlite_fail(ctx, ORDERLY_ECONFIG, 0, "cache_kib must be >= 0 (got %d)",
                                    o->cache_kib);
    if (o->mmap_bytes < 0)
        return orderly__sqlite_fail(ctx, ORDERLY_ECONFIG, 0,
                                    "mmap_bytes must be >= 0 (got %lld)",
                                    (long long)o->mmap_bytes);
    return ORDERLY_OK;
}

/* Runs "PRAGMA <name>=<value>" and reads back what the connection now
 * holds (these pragmas answer with the setting in effect). */
static int pragma(sqlite3 *db, orderly_ctx *ctx, const char *name, const char *value,
                  sqlite3_stmt **st_out)
{
    char sql[96];
    int rc;

    snprintf(sql, sizeof sql, "PRAGMA %s=%s", name, value);
    if ((rc = sqlite3_prepare_v2(db, sql, -1, st_out, NULL)) != SQLITE_OK ||
        ((rc = sqlite3_step(*st_out)) != SQLITE_ROW && rc != SQLITE_DONE)) {
        sqlite3_finalize(*st_out);
        *st_out = NULL;
        return orderly__sqlite_db_fail(db, ctx, rc, name);
    }
    return rc == SQLITE_ROW ? 1 : 0;
}

static int set_int(sqlite3 *db, orderly_ctx *ctx, const char *name, int64_t value,
                   int64_t *now_out)
{
    sqlite3_stmt *st = NULL;
    char text[24];
    int rc;

    snprintf(text, sizeof text, "%lld", (long long)value);
    if ((rc = pragma(db, ctx, name, text, &st)) < 0)
        return rc;
    *now_out = rc > 0 ? sqlite3_column_int64(st, 0) : value;
    sqlite3_finalize(st);
    return ORDERLY_OK;
}

int orderly__sqlite_lock_mode(sqlite3 *db, const orderly_sqlite_options *o, orderly_ctx *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc, exclusive;

    if (o->version < 3 || !o->exclusive)
        return ORDERLY_OK;
    /* before the first read: in WAL the mode is fixed when the WAL is
     * first opened, and then the wal-index lives in heap memory */
    if ((rc = pragma(db, ctx, "locking_mode", "EXCLUSIVE", &st)) < 0)
        return rc;
    exclusive = rc > 0 && sqlite3_stricmp((const char *)sqlite3_column_text(st, 0),
                                          "exclusive") == 0;
    sqlite3_finalize(st);
    if (!exclusive)
        return orderly__sqlite_fail(ctx, ORDERLY_ECONFIG, 0,
                                    "SQLite refused the exclusive locking mode");
    return ORDERLY_OK;
}

/* Under HOST, SQLite's WAL hook (which AUTO's checkpoint uses) only
 * counts: the size of the WAL after each commit of this connection. */
static int count_wal(void *user_data, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    ((struct orderly__sqlite *)user_data)->wal_pages = pages;
    return SQLITE_OK;
}

int orderly__sqlite_tune(struct orderly__sqlite *q, const orderly_sqlite_options *o,
                         orderly_ctx *ctx)
{
    sqlite3 *db = q->db;
    int64_t pages, now;
    int rc;

    if (o->version < 3)
        return ORDERLY_OK;
    /* 0 turns SQLite's automatic checkpoint off */
    pages = o->checkpoint == ORDERLY_SQLITE_CHECKPOINT_HOST ? 0
            : o->checkpoint_pages > 0                        ? o->checkpoint_pages
                                                             : 1000;
    if ((rc = set_int(db, ctx, "wal_autocheckpoint", pages, &now)) < 0)
        return rc;
    if (o->checkpoint == ORDERLY_SQLITE_CHECKPOINT_HOST) {
        q->host_checkpoint = 1;
        sqlite3_wal_hook(db, count_wal, q);
    }
    /* a negative cache_size counts KiB rather than pages, so the setting
     * means the same whatever the page size */
    if (o->cache_kib > 0 && (rc = set_int(db, ctx, "cache_size", -(int64_t)o->cache_kib, &now)) < 0)
        return rc;
    if (o->mmap_bytes > 0) {
        if ((rc = set_int(db, ctx, "mmap_size", o->mmap_bytes, &now)) < 0)
            return rc;
        if (now != o->mmap_bytes)
            return orderly__sqlite_fail(ctx, ORDERLY_ECONFIG, 0,
                                        "mmap_bytes %lld is above this SQLite's limit of %lld",
                                        (long long)o->mmap_bytes, (long long)now);
    }
    return ORDERLY_OK;
}

int orderly_sqlite_storage_checkpoint(int *wal_pages_out, int *copied_out, orderly_storage *s,
                                      int mode, int min_pages, orderly_ctx *ctx)
{
    struct orderly__sqlite *q = SQ(s);
    int wal = 0, copied = 0, rc;

    if (wal_pages_out != NULL)
        *wal_pages_out = 0;
    if (copied_out != NULL)
        *copied_out = 0;
    if (q == NULL)
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0, "no storage given");
    if (mode != ORDERLY_SQLITE_CHECKPOINT_PASSIVE && mode != ORDERLY_SQLITE_CHECKPOINT_TRUNCATE)
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0, "unknown checkpoint mode %d", mode);
    if (min_pages < 0)
        return orderly__sqlite_fail(ctx, ORDERLY_EINVAL, 0, "min_pages must be >= 0 (got %d)",
                                    min_pages);
    if (min_pages > 0 && !q->host_checkpoint)
        return orderly__sqlite_fail(ctx, ORDERLY_EMISUSE, 0,
                                    "min_pages needs the HOST checkpoint policy");
    if (q->in_txn)
        return orderly__sqlite_fail(ctx, ORDERLY_EMISUSE, 0,
                                    "a transaction is open on this storage");
    if (q->read_only)
        return orderly__sqlite_fail(ctx, ORDERLY_EMISUSE, 0, "'%s' is open read-only", q->path);
    if (q->wal_pages < min_pages) {
        if (wal_pages_out != NULL)
            *wal_pages_out = q->wal_pages;
        return ORDERLY_OK;
    }
    rc = sqlite3_wal_checkpoint_v2(q->db, NULL,
                                   mode == ORDERLY_SQLITE_CHECKPOINT_TRUNCATE
                                       ? SQLITE_CHECKPOINT_TRUNCATE
                                       : SQLITE_CHECKPOINT_PASSIVE,
                                   &wal, &copied);
    if (wal_pages_out != NULL)
        *wal_pages_out = wal > 0 ? wal : 0;
    if (copied_out != NULL)
        *copied_out = copied > 0 ? copied : 0;
    /* a WAL copied whole is rewound by the next commit, which reports
     * its size afresh; a partial copy leaves that many pages to do */
    if (rc == SQLITE_OK)
        q->wal_pages = copied >= wal ? 0 : wal;
    if ((rc & 0xff) == SQLITE_BUSY)
        return orderly__sqlite_fail(ctx, ORDERLY_ECONFLICT, rc,
                                    "the checkpoint of '%s' waited %d ms for other connections",
                                    q->path, q->busy_timeout_ms);
    if (rc != SQLITE_OK)
        return orderly__sqlite_db_fail(q->db, ctx, rc, "checkpoint");
    return ORDERLY_OK;
}
