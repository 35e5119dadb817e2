/*
 * The PostgreSQL adapter, measured on the server ORDERLY_TEST_PG names
 * (meson's `pg` benchmark starts a throwaway one through
 * scripts/test-pg.sh run).
 *
 * 1. The engine against raw libpq doing the same row writes. The engine
 *    runs a fixed lifecycle (create, then eleven commands) per order
 *    through liborderly-pg; a recording wrapper around the storage vtable
 *    notes every write the engine asks for (record insert or guarded
 *    update, queue push, idempotency mark) and every transaction boundary.
 *    Raw libpq then replays exactly those writes, with the same payload
 *    sizes, in the same transactions, as prepared statements on a fresh
 *    schema the adapter created (same tables, indexes and sequences), so
 *    the ratio is the adapter's and the engine's overhead. Raw does no
 *    reads: the engine's idempotency check and aggregate load count
 *    against it. Also printed: WAL bytes per order (pg_current_wal_lsn).
 * 2. Claim and dispatch with 1, 2 and 4 processes: a queue of outbox rows
 *    over many orders is drained by P processes, each claiming batches
 *    (one transaction) and finishing every row DONE (a second one), as the
 *    dispatcher does around its publishes; rows per second in total.
 *
 * Usage: bench_pg [orders] [rows]   (defaults 2000 and 40000)
 * Prints figures; asserts nothing (machines here are shared and noisy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "orderly.h"
#include "orderly/sys/memory.h"
#include "orderly/sys/pg.h"
#include "lifecycle.h"
#include "recorder.h"

static const char *conninfo;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_pg: %s: %s\n", what, detail);
    exit(1);
}

static orderly_storage *open_schema(const char *schema)
{
    orderly_pg_options o = ORDERLY_PG_OPTIONS_INIT;
    orderly_storage *s;
    orderly_ctx *ctx;

    o.schema = schema;
    o.listen = 0;
    if (orderly_ctx_new(&ctx, NULL) < 0)
        die("ctx", "out of memory");
    if (orderly_pg_storage_open(&s, conninfo, &o, ctx) < 0)
        die("open", orderly_ctx_errmsg(ctx));
    orderly_ctx_free(ctx);
    return s;
}

static void sql(PGconn *c, const char *text)
{
    PGresult *r = PQexec(c, text);

    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        die(text, PQerrorMessage(c));
    PQclear(r);
}

static void drop(PGconn *c, const char *schema)
{
    char q[128];

    snprintf(q, sizeof q, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE",
             schema);
    sql(c, q);
}

static double wal_bytes(PGconn *c)
{
    PGresult *r = PQexec(c, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn");
    double v;

    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die("wal", PQerrorMessage(c));
    v = atof(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* ---- 1. engine vs raw libpq ---------------------------------------------- */

static void check(orderly_engine *e, const char *what, int rc)
{
    if (rc < 0)
        die(what, orderly_engine_errmsg(e));
}

static void one_order(orderly_engine *e, size_t i)
{
    orderly_line line = { 42, 7, 2, 1250 };
    orderly_order_spec sp;
    orderly_command c;
    orderly_result r = ORDERLY_RESULT_INIT;
    char id[32];
    size_t k;

    snprintf(id, sizeof id, "ord-%zu", i);
    memset(&sp, 0, sizeof sp);
    sp.order_id = id;
    sp.currency = "EUR";
    sp.payment_method = ORDERLY_PAY_CARD;
    sp.lines = &line;
    sp.n_lines = 1;
    sp.now = 1000;
    check(e, "create", orderly_engine_create_order(e, &sp, &r));
    for (k = 0; k < STEPS; k++) {
        memset(&c, 0, sizeof c);
        c.order_id = id;
        c.machine = lifecycle[k].machine;
        c.event = lifecycle[k].event;
        c.amount = k == 0 ? 2500 : 0;
        c.now = 2000;
        check(e, "apply", orderly_engine_apply(e, &c, &r));
    }
}

static double run_engine(size_t orders, struct recorder *rec, PGconn *c, double *wal_per_order)
{
    orderly_engine_options o = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_storage *s = open_schema("bench_engine");
    orderly_transport *t;
    orderly_engine *e;
    orderly_ctx *ctx;
    double t0, dt, w0;
    size_t i;

    if (orderly_ctx_new(&ctx, NULL) < 0 || orderly_memory_transport_new(&t, NULL) < 0)
        die("setup", "out of memory");
    orderly_memory_transport_keep(t, 0);
    recorder_init(rec, s);
    o.storage = &rec->base;
    o.transport = t;
    if (orderly_engine_open(&e, &o, ctx) < 0)
        die("engine", orderly_ctx_errmsg(ctx));
    w0 = wal_bytes(c);
    t0 = now_s();
    for (i = 0; i < orders; i++)
        one_order(e, i);
    dt = now_s() - t0;
    *wal_per_order = (wal_bytes(c) - w0) / (double)orders;
    orderly_engine_close(e);
    orderly_pg_storage_close(s);
    orderly_memory_transport_free(t);
    orderly_ctx_free(ctx);
    return dt;
}

static void prep(PGconn *c, const char *name, const char *text, int n, const Oid *types)
{
    PGresult *r = PQprepare(c, name, text, n, types);

    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die(name, PQerrorMessage(c));
    PQclear(r);
}

static void run_prep(PGconn *c, const char *name, int n, const char *const *v, const int *len)
{
    static const int fmt[4] = { 1, 1, 1, 1 };
    PGresult *r = PQexecPrepared(c, name, n, v, len, fmt, 0);

    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die(name, PQerrorMessage(c));
    PQclear(r);
}

static void be64(unsigned char out[8], uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static double run_raw(const struct recorder *rec, PGconn *c)
{
    static const char blob[4096];
    static const Oid tb[] = { 25, 17 }, tbi[] = { 25, 17, 20 }, itb[] = { 20, 25, 17 },
                     tbb[] = { 25, 17, 17 };
    orderly_storage *s = open_schema("bench_raw");
    unsigned char q8[8], e8[8];
    const char *v[4];
    int len[4];
    double t0, dt;
    size_t i;

    orderly_pg_storage_close(s);
    prep(c, "ins", "INSERT INTO bench_raw.records (key, version, data) VALUES ($1, 1, $2)", 2, tb);
    prep(c, "upd", "UPDATE bench_raw.records SET data = $2, version = version + 1"
                   " WHERE key = $1 AND version = $3", 3, tbi);
    prep(c, "push", "INSERT INTO bench_raw.items (queue, id, grp, kind, state, attempts, created,"
                    " due, lease_token, lease_until, payload) VALUES ($1, CASE $1"
                    " WHEN 1 THEN nextval('bench_raw.ids_1') WHEN 2 THEN nextval('bench_raw.ids_2')"
                    " ELSE nextval('bench_raw.ids_3') END, $2, 1, 0, 0, 1000, 1000, 0, 0, $3)",
         3, itb);
    prep(c, "idem", "INSERT INTO bench_raw.idem (key, fingerprint, expires, result)"
                    " VALUES ($1, $2, 999999999, $3)", 3, tbb);
    t0 = now_s();
    for (i = 0; i < rec->n; i++) {
        const struct rec_op *o = &rec->ops[i];
        const char *key = rec->keys + o->key;
        switch (o->op) {
        case OP_BEGIN:
            sql(c, "BEGIN");
            break;
        case OP_COMMIT:
            sql(c, "COMMIT");
            break;
        case OP_ROLLBACK:
            sql(c, "ROLLBACK");
            break;
        case OP_INSERT:
        case OP_UPDATE:
            v[0] = key;
            len[0] = (int)strlen(key);
            v[1] = blob;
            len[1] = (int)o->len;
            be64(e8, o->expected);
            v[2] = (const char *)e8;
            len[2] = 8;
            run_prep(c, o->op == OP_INSERT ? "ins" : "upd", o->op == OP_INSERT ? 2 : 3, v, len);
            break;
        case OP_PUSH:
            be64(q8, o->queue);
            v[0] = (const char *)q8;
            len[0] = 8;
            v[1] = key;
            len[1] = (int)strlen(key);
            v[2] = blob;
            len[2] = (int)o->len;
            run_prep(c, "push", 3, v, len);
            break;
        case OP_IDEM:
            v[0] = key;
            len[0] = (int)strlen(key);
            v[1] = blob;
            len[1] = 16;
            v[2] = blob;
            len[2] = (int)o->len;
            run_prep(c, "idem", 3, v, len);
            break;
        case OP_HISTORY: /* the adapter keeps no history: never recorded */
            break;
        }
    }
    dt = now_s() - t0;
    sql(c, "DEALLOCATE ALL");
    return dt;
}

/* ---- 2. claim and dispatch ---------------------------------------------- */

#define GROUPS 500
#define BATCH 64

static void fill(size_t rows)
{
    orderly_storage *s = open_schema("bench_claim");
    orderly_queue_item it;
    orderly_ctx *ctx;
    char group[16];
    void *txn;
    size_t i;

    if (orderly_ctx_new(&ctx, NULL) < 0)
        die("ctx", "out of memory");
    memset(&it, 0, sizeof it);
    it.kind = 1;
    it.payload = (const uint8_t *)"an event envelope of a typical size, some two hundred bytes: "
                                  "{\"specversion\":\"1.0\",\"type\":\"order.status_changed\","
                                  "\"source\":\"orderly\",\"id\":\"0123456789abcdef0123456789abcdef\"}";
    it.payload_len = strlen((const char *)it.payload);
    it.created = 1000;
    it.due = 1000;
    for (i = 0; i < rows; i++) {
        if (i % 1000 == 0 && s->begin(s, ctx, &txn) < 0)
            die("fill", orderly_ctx_errmsg(ctx));
        snprintf(group, sizeof group, "ord-%zu", i % GROUPS);
        it.group = group;
        if (s->queue_push(s, ctx, txn, ORDERLY_QUEUE_OUTBOX, &it, NULL) < 0)
            die("fill", orderly_ctx_errmsg(ctx));
        if ((i % 1000 == 999 || i == rows - 1) && s->commit(s, ctx, txn) < 0)
            die("fill", orderly_ctx_errmsg(ctx));
    }
    orderly_pg_storage_close(s);
    orderly_ctx_free(ctx);
}

struct claimed {
    uint64_t id[BATCH];
    size_t n;
};

static int keep(const orderly_queue_item *it, void *ud)
{
    struct claimed *c = ud;

    c->id[c->n++] = it->id;
    return 0;
}

/* One dispatcher until the queue is empty; exits with 0. */
static int dispatcher(void)
{
    orderly_storage *s = open_schema("bench_claim");
    struct claimed c;
    orderly_ctx *ctx;
    uint64_t token;
    void *txn;
    size_t i;
    int n, empty = 0;

    if (orderly_ctx_new(&ctx, NULL) < 0)
        return 1;
    while (empty < 3) {
        c.n = 0;
        if (s->begin(s, ctx, &txn) < 0)
            return 2;
        n = s->queue_claim(s, ctx, txn, ORDERLY_QUEUE_OUTBOX, 2000, BATCH, 10, 1000000, &token,
                           keep, &c);
        if (n < 0 || s->commit(s, ctx, txn) < 0)
            return 3;
        if (n == 0) {
            empty++;
            continue;
        }
        empty = 0;
        if (s->begin(s, ctx, &txn) < 0)
            return 4;
        for (i = 0; i < c.n; i++)
            if (s->queue_finish(s, ctx, txn, ORDERLY_QUEUE_OUTBOX, c.id[i], token,
                                ORDERLY_ITEM_DONE, 2000, 1) < 0)
                return 5;
        if (s->commit(s, ctx, txn) < 0)
            return 6;
    }
    orderly_pg_storage_close(s);
    orderly_ctx_free(ctx);
    return 0;
}

static void dispatch(PGconn *c, size_t rows, int procs)
{
    pid_t kids[8];
    double t0, dt;
    int i, status;

    drop(c, "bench_claim");
    fill(rows);
    t0 = now_s();
    for (i = 0; i < procs; i++)
        if ((kids[i] = fork()) == 0)
            _exit(dispatcher());
    for (i = 0; i < procs; i++)
        if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            die("dispatcher", "failed");
    dt = now_s() - t0;
    printf("  %d process%s   %9.0f rows/s claimed and finished (%zu rows, batches of %d, %d orders)\n",
           procs, procs == 1 ? "  " : "es", (double)rows / dt, rows, BATCH, GROUPS);
}

int main(int argc, char **argv)
{
    size_t orders = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 2000;
    size_t rows = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 40000;
    struct recorder rec;
    double te, tr, wal, events = (double)orders * (double)(STEPS + 1);
    size_t i, writes = 0, txns = 0;
    PGconn *c;

    if ((conninfo = getenv("ORDERLY_TEST_PG")) == NULL || conninfo[0] == '\0')
        die("ORDERLY_TEST_PG", "not set: run through scripts/test-pg.sh run");
    c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        die("connect", PQerrorMessage(c));
    drop(c, "bench_engine");
    drop(c, "bench_raw");
    printf("orderly on PostgreSQL %d vs raw libpq, same row writes and transactions\n",
           PQserverVersion(c) / 10000);
    printf("one order = create + %zu commands = %zu events; target: ratio >= 80%%\n", STEPS,
           STEPS + 1);
    te = run_engine(orders, &rec, c, &wal);
    tr = run_raw(&rec, c);
    for (i = 0; i < rec.n; i++) {
        writes += rec.ops[i].op >= OP_INSERT;
        txns += rec.ops[i].op == OP_COMMIT;
    }
    printf("1 event per transaction            engine %8.0f events/s   raw %8.0f events/s   "
           "ratio %5.1f%%\n",
           events / te, events / tr, 100.0 * tr / te);
    printf("  (%zu events, %zu transactions, %.2f row writes per event, %.0f WAL bytes per order)\n",
           (size_t)events, txns, (double)writes / events, wal);
    recorder_free(&rec);

    printf("claim + finish, outbox rows over many orders:\n");
    dispatch(c, rows, 1);
    dispatch(c, rows, 2);
    dispatch(c, rows, 4);
    drop(c, "bench_engine");
    drop(c, "bench_raw");
    drop(c, "bench_claim");
    PQfinish(c);
    return 0;
}
