/*
 * What the PostgreSQL tests share: the server they run on (the conninfo in
 * ORDERLY_TEST_PG, set by scripts/test-pg.sh), a schema of their own so
 * parallel tests never meet, and a control connection that wipes a schema
 * and waits out a dead session. Header-only: each test is one program.
 */
#ifndef ORDERLY_TESTS_PG_HARNESS_H
#define ORDERLY_TESTS_PG_HARNESS_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The conninfo to test on, or NULL after printing why there is none: a
 * skip outside CI, a failure under CI=true (*must_fail set). */
static inline const char *pgh_conninfo(int *must_fail)
{
    const char *c = getenv("ORDERLY_TEST_PG");
    const char *ci = getenv("CI");

    *must_fail = 0;
    if (c != NULL && c[0] != '\0')
        return c;
    if (ci != NULL && strcmp(ci, "true") == 0) {
        fprintf(stderr, "ORDERLY_TEST_PG is not set and CI=true: run through scripts/test-pg.sh\n");
        *must_fail = 1;
    } else {
        fprintf(stderr, "SKIPPED: ORDERLY_TEST_PG is not set (scripts/test-pg.sh run CMD sets it)\n");
    }
    return NULL;
}

/* Runs sql on the control connection; 0 or -1 (message on stderr). */
static inline int pgh_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = r != NULL && (PQresultStatus(r) == PGRES_COMMAND_OK ||
                           PQresultStatus(r) == PGRES_TUPLES_OK);

    if (!ok)
        fprintf(stderr, "control: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Empties schema's tables when it exists (sequences go on counting: ids
 * and tokens need only increase). */
static inline int pgh_wipe(PGconn *c, const char *schema)
{
    char sql[512];
    PGresult *r;
    int exists;

    snprintf(sql, sizeof sql, "SELECT to_regclass('%s.items') IS NOT NULL", schema);
    r = PQexec(c, sql);
    exists = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!exists)
        return 0;
    snprintf(sql, sizeof sql, "DELETE FROM %s.records; DELETE FROM %s.items; DELETE FROM %s.idem",
             schema, schema, schema);
    return pgh_exec(c, sql);
}

static inline int pgh_drop(PGconn *c, const char *schema)
{
    char sql[256];

    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE",
             schema);
    return pgh_exec(c, sql);
}

/* Waits until server process pid has exited, so the locks of a session
 * closed mid-transaction are gone before the test goes on (the server
 * ends a closed session asynchronously). */
static inline int pgh_wait_gone(PGconn *c, int pid)
{
    char sql[128];
    struct timespec pause = { 0, 2000000 };
    int i, gone = 0;

    snprintf(sql, sizeof sql, "SELECT 1 FROM pg_stat_activity WHERE pid = %d", pid);
    for (i = 0; i < 5000 && !gone; i++) {
        PGresult *r = PQexec(c, sql);
        gone = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 0;
        PQclear(r);
        if (!gone)
            nanosleep(&pause, NULL);
    }
    return gone ? 0 : -1;
}

#endif
