/*
 * Schema identity and migrations. orderly's tables live in one schema; its
 * meta table holds the row ('orderly', version). Migration i takes the
 * schema from version i to i + 1; all of them run with the version bump in
 * one transaction under an advisory lock on the schema's name, so a crash
 * mid-migration leaves the previous version intact and two processes
 * opening at once migrate exactly once (DDL is transactional here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * Queue items are keyed (queue, id), ids drawn from one sequence per queue
 * so they are never reused, even after a purge or a rollback (timer ids
 * become idempotency keys). Fencing tokens come from their own sequence,
 * shared by every connection. Keys sort as bytes (COLLATE "C"), as the
 * contract's scan order asks. items_pending, partial on the pending
 * states, lets a claim walk pending rows in id order without passing over
 * the finished ones; items_state serves purges and stats; items_group,
 * partial too, serves the per-group order check; idem_expires serves the
 * idempotency purge.
 */
static const char *const migrations[ORDERLY__PG_SCHEMA] = {
    /* 0 -> 1 */
    "CREATE TABLE @.records ("
    "  key text COLLATE \"C\" PRIMARY KEY,"
    "  version bigint NOT NULL,"
    "  data bytea NOT NULL);"
    "CREATE TABLE @.items ("
    "  queue bigint NOT NULL,"
    "  id bigint NOT NULL,"
    "  grp text COLLATE \"C\" NOT NULL,"
    "  kind bigint NOT NULL,"
    "  state bigint NOT NULL,"
    "  attempts bigint NOT NULL,"
    "  created bigint NOT NULL,"
    "  due bigint NOT NULL,"
    "  lease_token bigint NOT NULL,"
    "  lease_until bigint NOT NULL,"
    "  payload bytea NOT NULL,"
    "  PRIMARY KEY (queue, id));"
    "CREATE INDEX items_state ON @.items (queue, state, due);"
    "CREATE INDEX items_pending ON @.items (queue, id) WHERE state IN (0, 1);"
    "CREATE INDEX items_group ON @.items (queue, grp, id) WHERE state IN (0, 1);"
    "CREATE TABLE @.idem ("
    "  key text COLLATE \"C\" PRIMARY KEY,"
    "  fingerprint bytea NOT NULL,"
    "  expires bigint NOT NULL,"
    "  result bytea NOT NULL);"
    "CREATE INDEX idem_expires ON @.idem (expires);"
    "CREATE SEQUENCE @.ids_1; CREATE SEQUENCE @.ids_2; CREATE SEQUENCE @.ids_3;"
    "CREATE SEQUENCE @.tokens;",
};

/* Runs a one-row, one-column text query; 1 with *out set, 0 for no row. */
static int query_one(struct orderly__pg *q, const char *tmpl, orderly_ctx *ctx, long long *out)
{
    char sql[512];
    PGresult *res;
    int rc;

    if (orderly__pg_expand(q, tmpl, sql, sizeof sql) < 0)
        return orderly__pg_fail(ctx, ORDERLY_EINVAL, "schema name too long");
    res = PQexec(q->conn, sql);
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
        return orderly__pg_result_fail(q, res, ctx, "reading the schema version");
    rc = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0);
    if (rc)
        *out = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* 1 when the schema is already at this library's version: one read and
 * no lock, the path of every open but the first. */
static int current(struct orderly__pg *q)
{
    char sql[160];
    PGresult *res;
    int yes;

    if (orderly__pg_expand(q, "SELECT value FROM @.meta WHERE name = 'orderly'", sql,
                           sizeof sql) < 0)
        return 0;
    res = PQexec(q->conn, sql);
    yes = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
          atoi(PQgetvalue(res, 0, 0)) == ORDERLY__PG_SCHEMA;
    PQclear(res);
    return yes;
}

int orderly__pg_migrate(struct orderly__pg *q, orderly_ctx *ctx)
{
    char sql[4096];
    long long meta = 0, version = 0;
    int rc, v;

    if (current(q))
        return ORDERLY_OK;

    if ((rc = orderly__pg_expand(q,
                                 "BEGIN; SELECT pg_advisory_xact_lock(hashtextextended("
                                 "'orderly-migrate:@', 0));"
                                 "CREATE SCHEMA IF NOT EXISTS @",
                                 sql, sizeof sql)) < 0)
        return orderly__pg_fail(ctx, ORDERLY_EINVAL, "schema name too long");
    if ((rc = orderly__pg_simple(q, sql, ctx, "starting the schema migration")) < 0)
        goto fail;
    if ((rc = query_one(q, "SELECT (to_regclass('@.meta') IS NOT NULL)::int", ctx, &meta)) < 0)
        goto fail;
    if (meta) {
        rc = query_one(q, "SELECT value FROM @.meta WHERE name = 'orderly'", ctx, &version);
        if (rc < 0)
            goto fail;
        if (rc == 0) {
            rc = orderly__pg_fail(ctx, ORDERLY_ESTORAGE,
                                  "schema '%s' has a meta table that is not orderly's", q->schema);
            goto fail;
        }
    } else {
        long long relations = 0;
        if ((rc = query_one(q,
                            "SELECT count(*) FROM pg_class c JOIN pg_namespace n"
                            " ON n.oid = c.relnamespace WHERE n.nspname = '@'",
                            ctx, &relations)) < 0)
            goto fail;
        if (relations > 0) {
            rc = orderly__pg_fail(ctx, ORDERLY_ESTORAGE,
                                  "schema '%s' holds %lld tables or sequences and none is "
                                  "orderly's: pick another schema",
                                  q->schema, relations);
            goto fail;
        }
    }
    if (version > ORDERLY__PG_SCHEMA) {
        rc = orderly__pg_fail(ctx, ORDERLY_EVERSION,
                              "schema '%s' is at version %lld; this library knows up to %d",
                              q->schema, version, ORDERLY__PG_SCHEMA);
        goto fail;
    }
    if (!meta) {
        if (orderly__pg_expand(q,
                               "CREATE TABLE @.meta (name text PRIMARY KEY, value bigint NOT NULL);"
                               "INSERT INTO @.meta VALUES ('orderly', 0)",
                               sql, sizeof sql) < 0 ||
            (rc = orderly__pg_simple(q, sql, ctx, "creating the schema")) < 0)
            goto fail;
    }
    for (v = (int)version; v < ORDERLY__PG_SCHEMA; v++) {
        if (orderly__pg_expand(q, migrations[v], sql, sizeof sql) < 0) {
            rc = orderly__pg_fail(ctx, ORDERLY_EINVAL, "schema name too long");
            goto fail;
        }
        if ((rc = orderly__pg_simple(q, sql, ctx, "migrating the schema")) < 0)
            goto fail;
    }
    snprintf(sql, sizeof sql, "UPDATE %s.meta SET value = %d WHERE name = 'orderly'; COMMIT",
             q->schema, ORDERLY__PG_SCHEMA);
    if ((rc = orderly__pg_simple(q, sql, ctx, "recording the schema version")) < 0)
        goto fail;
    return ORDERLY_OK;
fail:
    if (PQstatus(q->conn) == CONNECTION_OK)
        PQclear(PQexec(q->conn, "ROLLBACK"));
    return rc;
}
