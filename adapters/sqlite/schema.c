/*
 * Schema identity and migrations. A database is recognised by its
 * application_id; its schema version lives in user_version. Migration i
 * takes a database from version i to i + 1 and runs, with the version
 * bump, inside one BEGIN IMMEDIATE transaction, so a crash mid-migration
 * leaves the previous version intact and two processes opening the same
 * file at once migrate it exactly once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/*
 * Every table is WITHOUT ROWID: the keys are the natural ones, and the
 * rows are small. Queue items are keyed (queue, id) with ids from the
 * queues table, so ids start at 1 in each queue and are never reused,
 * even after a purge (timer ids become idempotency keys). Row 0 of that
 * table is the last fencing token a claim issued.
 *
 * items_state serves claims (READY rows due by now, LEASED rows), purges
 * (DONE rows finished by a date) and stats; items_group serves the
 * per-group order check; idem_expires serves the idempotency purge.
 */
static const char *const migrations[ORDERLY__SQLITE_SCHEMA] = {
    /* 0 -> 1 */
    "CREATE TABLE records ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  data BLOB NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE queues ("
    "  queue INTEGER PRIMARY KEY NOT NULL,"
    "  last_id INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO queues (queue, last_id) VALUES (1, 0), (2, 0), (3, 0);"
    "CREATE TABLE items ("
    "  queue INTEGER NOT NULL,"
    "  id INTEGER NOT NULL,"
    "  grp TEXT NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  due INTEGER NOT NULL,"
    "  lease_token INTEGER NOT NULL,"
    "  lease_until INTEGER NOT NULL,"
    "  payload BLOB NOT NULL,"
    "  PRIMARY KEY (queue, id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX items_state ON items (queue, state, due);"
    "CREATE INDEX items_group ON items (queue, grp, id);"
    "CREATE TABLE idem ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  fingerprint BLOB NOT NULL,"
    "  expires INTEGER NOT NULL,"
    "  result BLOB NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX idem_expires ON idem (expires);",
    /* 1 -> 2: fencing tokens come from the store. Row 0 of queues counts
     * them, starting above every positive token the engines of 0.1 drew,
     * so no new claim can match a lease taken before the upgrade. */
    "INSERT INTO queues (queue, last_id)"
    " SELECT 0, coalesce(max(lease_token), 0) FROM items WHERE lease_token > 0;",
    /* 2 -> 3: order history (storage version 3), keyed by order and seq so
     * a history reads as one range; never purged with the items. Orders
     * already stored start their history with their next event. */
    "CREATE TABLE history ("
    "  grp TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  payload BLOB NOT NULL,"
    "  PRIMARY KEY (grp, seq)"
    ") WITHOUT ROWID;",
};

int orderly__sqlite_fail(orderly_ctx *ctx, int code, int64_t native, const char *fmt, ...)
{
    char msg[ORDERLY_ERRMSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return orderly_ctx_set_error(ctx, code, native, msg);
}

int orderly__sqlite_db_fail(sqlite3 *db, orderly_ctx *ctx, int rc, const char *what)
{
    int code;

    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        /* another writer held the database past the busy timeout: the
         * caller's retry (the engine's conflict loop) is the remedy */
        code = ORDERLY_ECONFLICT;
        break;
    case SQLITE_NOMEM:
        code = ORDERLY_ENOMEM;
        break;
    default:
        code = ORDERLY_ESTORAGE;
        break;
    }
    return orderly__sqlite_fail(ctx, code, rc, "%s: %s", what,
                                db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* Runs a single-integer query such as a PRAGMA read. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int rc;

    if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

struct identity {
    int64_t app_id, version, objects;
};

static int read_identity(sqlite3 *db, const char *path, struct identity *id, orderly_ctx *ctx)
{
    int rc;

    if ((rc = query_int(db, "PRAGMA application_id", &id->app_id)) != SQLITE_OK ||
        (rc = query_int(db, "PRAGMA user_version", &id->version)) != SQLITE_OK ||
        (rc = query_int(db, "SELECT count(*) FROM sqlite_master", &id->objects)) != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_NOMEM)
            return orderly__sqlite_db_fail(db, ctx, rc, "reading the schema version");
        return orderly__sqlite_fail(ctx, ORDERLY_ESTORAGE, rc,
                                    "'%s' is not an SQLite database or is corrupt: %s", path,
                                    sqlite3_errmsg(db));
    }
    if (id->app_id != ORDERLY__SQLITE_APP_ID &&
        (id->app_id != 0 || id->version != 0 || id->objects != 0))
        return orderly__sqlite_fail(ctx, ORDERLY_ESTORAGE, 0,
                                    "'%s' is an SQLite database but not an orderly one", path);
    if (id->version > ORDERLY__SQLITE_SCHEMA)
        return orderly__sqlite_fail(ctx, ORDERLY_EVERSION, 0,
                                    "'%s' has schema version %lld; this library knows up to %d",
                                    path, (long long)id->version, ORDERLY__SQLITE_SCHEMA);
    return ORDERLY_OK;
}

static int use_wal(sqlite3 *db, orderly_ctx *ctx)
{
    sqlite3_stmt *st;
    char mode[16] = "";
    int rc;

    if ((rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL)) != SQLITE_OK)
        return orderly__sqlite_db_fail(db, ctx, rc, "enabling WAL");
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *m = sqlite3_column_text(st, 0);
        if (m != NULL)
            snprintf(mode, sizeof mode, "%s", (const char *)m);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return orderly__sqlite_db_fail(db, ctx, rc, "enabling WAL");
    /* an in-memory database reports "memory": it has no file to journal */
    if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
        return orderly__sqlite_fail(ctx, ORDERLY_ESTORAGE, 0,
                                    "the database refused WAL journaling (mode is '%s')", mode);
    return ORDERLY_OK;
}

int orderly__sqlite_check_current(sqlite3 *db, const char *path, orderly_ctx *ctx)
{
    struct identity id;
    int rc;

    if ((rc = read_identity(db, path, &id, ctx)) < 0)
        return rc;
    /* read_identity lets an empty file through, for migrate to fill */
    if (id.app_id != ORDERLY__SQLITE_APP_ID)
        return orderly__sqlite_fail(ctx, ORDERLY_ESTORAGE, 0,
                                    "'%s' is empty, not an orderly database", path);
    if (id.version < ORDERLY__SQLITE_SCHEMA)
        return orderly__sqlite_fail(ctx, ORDERLY_EVERSION, 0,
                                    "'%s' has schema version %lld, this library reads %d: open it "
                                    "read-write once to migrate it",
                                    path, (long long)id.version, ORDERLY__SQLITE_SCHEMA);
    return ORDERLY_OK;
}

int orderly__sqlite_migrate(sqlite3 *db, const char *path, orderly_ctx *ctx)
{
    struct identity id;
    char sql[96];
    int64_t v;
    int rc;

    if ((rc = read_identity(db, path, &id, ctx)) < 0 || (rc = use_wal(db, ctx)) < 0)
        return rc;
    if (id.version == ORDERLY__SQLITE_SCHEMA)
        return ORDERLY_OK;
    if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
        return orderly__sqlite_db_fail(db, ctx, rc, "starting the schema migration");
    /* another process may have migrated while we waited for the lock */
    if ((rc = read_identity(db, path, &id, ctx)) < 0)
        goto fail;
    for (v = id.version; v < ORDERLY__SQLITE_SCHEMA; v++) {
        if ((rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL)) != SQLITE_OK) {
            rc = orderly__sqlite_db_fail(db, ctx, rc, "migrating the schema");
            goto fail;
        }
    }
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d",
             ORDERLY__SQLITE_APP_ID, ORDERLY__SQLITE_SCHEMA);
    if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
        rc = orderly__sqlite_db_fail(db, ctx, rc, "recording the schema version");
        goto fail;
    }
    return ORDERLY_OK;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
