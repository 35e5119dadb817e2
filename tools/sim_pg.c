/*
 * `orderly simulate --storage postgresql://...`: the main job on the
 * PostgreSQL adapter. The run needs an empty store, so it works in its own
 * schema, orderly_simulate, dropped and created anew each time; nothing
 * else on the server is touched.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"

int sim_pg_is_url(const char *v)
{
    return strncmp(v, "postgresql://", 13) == 0 || strncmp(v, "postgres://", 11) == 0;
}

#ifdef ORDERLY_SIM_PG

#include <libpq-fe.h>

#include "orderly/sys/pg.h"

#define SIM_SCHEMA "orderly_simulate"

/* Drops the run's schema, so the next open creates it anew. */
static int replace_schema(struct sim *s)
{
    PGconn *c = PQconnectdb(s->pg_conninfo);
    PGresult *r;
    int ok;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "orderly simulate: cannot connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return ORDERLY_ESTORAGE;
    }
    r = PQexec(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " SIM_SCHEMA " CASCADE");
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        fprintf(stderr, "orderly simulate: cannot replace schema " SIM_SCHEMA ": %s",
                PQerrorMessage(c));
    PQfinish(c);
    return ok ? ORDERLY_OK : ORDERLY_ESTORAGE;
}

int sim_pg_open(struct sim *s, orderly_ctx *ctx)
{
    orderly_pg_options po = ORDERLY_PG_OPTIONS_INIT;
    int rc;

    if (!s->pg_prepared && (rc = replace_schema(s)) < 0)
        return rc;
    po.schema = SIM_SCHEMA;
    /* the workers pump when the driver tells them to, so nobody waits on
     * a notification */
    po.listen = 0;
    if ((rc = orderly_pg_storage_open(&s->pg, s->pg_conninfo, &po, ctx)) < 0)
        fprintf(stderr, "orderly simulate: cannot open the PostgreSQL storage: %s\n",
                orderly_ctx_errmsg(ctx));
    return rc;
}

/* With workers, N + 1 processes open the store: the schema is replaced
 * and migrated once here, before they fork, rather than raced. */
int sim_pg_prepare(struct sim *s)
{
    orderly_ctx *ctx = NULL;
    int rc;

    if ((rc = orderly_ctx_new(&ctx, NULL)) < 0)
        return rc;
    if ((rc = sim_pg_open(s, ctx)) == 0) {
        sim_pg_close(s);
        s->pg_prepared = 1;
    }
    orderly_ctx_free(ctx);
    return rc;
}

void sim_pg_close(struct sim *s)
{
    orderly_pg_storage_close(s->pg);
    s->pg = NULL;
}

#else

int sim_pg_open(struct sim *s, orderly_ctx *ctx)
{
    (void)s;
    (void)ctx;
    fprintf(stderr, "orderly simulate: this orderly was built without liborderly-pg (libpq)\n");
    return ORDERLY_EINVAL;
}

void sim_pg_close(struct sim *s)
{
    (void)s;
}

int sim_pg_prepare(struct sim *s)
{
    return sim_pg_open(s, NULL);
}

#endif
