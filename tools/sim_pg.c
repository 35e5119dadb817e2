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

int sim_pg_open(struct sim *s, orderly_ctx *ctx)
{
    orderly_pg_options po = ORDERLY_PG_OPTIONS_INIT;
    PGconn *c = PQconnectdb(s->pg_conninfo);
    PGresult *r;
    int ok, rc;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "orderly simulate: cannot connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return ORDERLY_ESTORAGE;
    }
    r = PQexec(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " SIM_SCHEMA " CASCADE");
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        fprintf(stderr, "orderly simulate: cannot replace schema " SIM_SCHEMA ": %s",
                PQerrorMessage(c));
        PQfinish(c);
        return ORDERLY_ESTORAGE;
    }
    PQfinish(c);
    po.schema = SIM_SCHEMA;
    po.listen = 0; /* one process: nobody else commits */
    if ((rc = orderly_pg_storage_open(&s->pg, s->pg_conninfo, &po, ctx)) < 0)
        fprintf(stderr, "orderly simulate: cannot open the PostgreSQL storage: %s\n",
                orderly_ctx_errmsg(ctx));
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

#endif
