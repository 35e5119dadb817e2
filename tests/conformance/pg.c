/*
 * Runs the storage conformance suite against the PostgreSQL adapter, in a
 * schema of its own on the server named by ORDERLY_TEST_PG.
 * usage: conformance_pg [FILTER]
 *
 * A crash closes the connection with its transaction open (the server
 * rolls it back, as it does for a killed client) and waits until that
 * session has ended before reopening, so no lock of the dead "process"
 * outlives it; a reset empties the tables.
 */
#include <stdio.h>
#include <unistd.h>

#include "../pg/harness.h"
#include "orderly/sys/conformance.h"
#include "orderly/sys/pg.h"

struct db {
    const char *conninfo;
    char schema[64];
    PGconn *control;
};

static int p_open(orderly_storage **out, void *ud)
{
    struct db *d = ud;
    orderly_pg_options o = ORDERLY_PG_OPTIONS_INIT;
    orderly_ctx *ctx = NULL;
    int rc;

    o.schema = d->schema;
    if ((rc = orderly_ctx_new(&ctx, NULL)) < 0)
        return rc;
    if ((rc = orderly_pg_storage_open(out, d->conninfo, &o, ctx)) < 0)
        fprintf(stderr, "open: %s\n", orderly_ctx_errmsg(ctx));
    orderly_ctx_free(ctx);
    return rc;
}

static int p_crash(orderly_storage **s, void *ud)
{
    struct db *d = ud;
    int pid = PQbackendPID(orderly_pg_storage_conn(*s));

    orderly_pg_storage_close(*s);
    *s = NULL;
    if (pgh_wait_gone(d->control, pid) < 0)
        return ORDERLY_ESTORAGE;
    return p_open(s, ud);
}

static void p_close(orderly_storage *s, void *ud)
{
    (void)ud;
    orderly_pg_storage_close(s);
}

static int p_reset(void *ud)
{
    struct db *d = ud;

    return pgh_wipe(d->control, d->schema) < 0 ? ORDERLY_ESTORAGE : 0;
}

int main(int argc, char **argv)
{
    orderly_conformance_target t = ORDERLY_CONFORMANCE_TARGET_INIT;
    orderly_conformance_options o = ORDERLY_CONFORMANCE_OPTIONS_INIT;
    struct db d;
    int failed, must_fail;

    if ((d.conninfo = pgh_conninfo(&must_fail)) == NULL) {
        printf("1..0 # SKIP ORDERLY_TEST_PG is not set\n");
        return must_fail ? 1 : 77;
    }
    snprintf(d.schema, sizeof d.schema, "conformance_%ld", (long)getpid());
    d.control = PQconnectdb(d.conninfo);
    if (PQstatus(d.control) != CONNECTION_OK) {
        fprintf(stderr, "control connection: %s", PQerrorMessage(d.control));
        PQfinish(d.control);
        return 1;
    }
    t.name = "postgresql";
    t.user_data = &d;
    t.open = p_open;
    t.crash = p_crash;
    t.close = p_close;
    t.reset = p_reset;
    o.filter = argc > 1 ? argv[1] : NULL;
    failed = orderly_conformance_run(&t, &o, stdout);
    (void)pgh_drop(d.control, d.schema);
    PQfinish(d.control);
    return failed == 0 ? 0 : 1;
}
