/*
 * The PostgreSQL adapter's own suite, on the server ORDERLY_TEST_PG names
 * (scripts/test-pg.sh run starts a throwaway one): options, schema
 * identity and migrations, a connection the host owns, failures (a dropped
 * connection, a statement timeout), commit notifications, and processes
 * claiming one queue at once. Each test works in a schema of its own.
 */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check_case.h"
#include "harness.h"
#include "orderly/sys/pg.h"

#define T0 1700000000000LL

static const char *conninfo;
static char schema[64];
static PGconn *control;

static void setup(void)
{
    snprintf(schema, sizeof schema, "pgtest_%ld", (long)getpid());
    control = PQconnectdb(conninfo);
    ck_assert_int_eq(PQstatus(control), CONNECTION_OK);
    ck_assert_int_eq(pgh_drop(control, schema), 0);
}

static void teardown(void)
{
    (void)pgh_drop(control, schema);
    PQfinish(control);
}

static orderly_ctx *new_ctx(void)
{
    orderly_ctx *ctx = NULL;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    return ctx;
}

static orderly_storage *open_store(orderly_ctx *ctx, int timeout_ms)
{
    orderly_pg_options o = ORDERLY_PG_OPTIONS_INIT;
    orderly_storage *s = NULL;
    int rc;

    o.schema = schema;
    o.statement_timeout_ms = timeout_ms;
    rc = orderly_pg_storage_open(&s, conninfo, &o, ctx);
    ck_assert_msg(rc == 0, "open: %s", orderly_ctx_errmsg(ctx));
    return s;
}

static int open_rc(orderly_ctx *ctx)
{
    orderly_pg_options o = ORDERLY_PG_OPTIONS_INIT;
    orderly_storage *s = NULL;
    int rc;

    o.schema = schema;
    rc = orderly_pg_storage_open(&s, conninfo, &o, ctx);
    orderly_pg_storage_close(s);
    return rc;
}

/* Runs sql on the control connection with every '@' replaced by the
 * test's schema. */
static void control_exec(const char *sql)
{
    char out[512];
    size_t n = 0, len = strlen(schema);

    for (; *sql != '\0' && n + len + 1 < sizeof out; sql++) {
        if (*sql == '@') {
            memcpy(out + n, schema, len);
            n += len;
        } else {
            out[n++] = *sql;
        }
    }
    out[n] = '\0';
    ck_assert_int_eq(pgh_exec(control, out), 0);
}

static int push(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, const char *group)
{
    orderly_queue_item it;
    uint64_t id;

    memset(&it, 0, sizeof it);
    it.group = group;
    it.kind = 1;
    it.payload = (const uint8_t *)"x";
    it.payload_len = 1;
    it.created = T0;
    it.due = T0;
    return s->queue_push(s, ctx, txn, queue, &it, &id);
}

/* ---- open and migrations ------------------------------------------------ */

START_TEST(test_open_creates_schema_and_reopen_keeps_data)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s = open_store(ctx, 0);
    orderly_buf *buf = NULL;
    uint64_t version = 0;
    void *txn;
    char sql[256];
    PGresult *r;

    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(s->save(s, ctx, txn, "k", (const uint8_t *)"v", 1, 0), 0);
    ck_assert_int_eq(s->commit(s, ctx, txn), 0);
    orderly_pg_storage_close(s);

    snprintf(sql, sizeof sql, "SELECT value FROM %s.meta WHERE name = 'orderly'", schema);
    r = PQexec(control, sql);
    ck_assert_int_eq(PQntuples(r), 1);
    ck_assert_int_eq(atoi(PQgetvalue(r, 0, 0)), orderly_pg_schema_version());
    PQclear(r);

    s = open_store(ctx, 0);
    ck_assert_int_eq(orderly_buf_new(&buf, NULL), 0);
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(s->load(s, ctx, txn, "k", buf, &version), 0);
    ck_assert_uint_eq(version, 1);
    s->rollback(s, ctx, txn);
    orderly_buf_free(buf);
    orderly_pg_storage_close(s);
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(test_bad_options_and_unreachable_server)
{
    orderly_ctx *ctx = new_ctx();
    orderly_pg_options o = ORDERLY_PG_OPTIONS_INIT;
    orderly_storage *s = NULL;

    o.schema = "Not-Plain";
    ck_assert_int_eq(orderly_pg_storage_open(&s, conninfo, &o, ctx), ORDERLY_EINVAL);
    ck_assert_ptr_null(s);
    o.schema = "9lives";
    ck_assert_int_eq(orderly_pg_storage_open(&s, conninfo, &o, ctx), ORDERLY_EINVAL);
    o.schema = NULL;
    o.statement_timeout_ms = -1;
    ck_assert_int_eq(orderly_pg_storage_open(&s, conninfo, &o, ctx), ORDERLY_EINVAL);
    o.statement_timeout_ms = 0;
    o.version = 99;
    ck_assert_int_eq(orderly_pg_storage_open(&s, conninfo, &o, ctx), ORDERLY_EVERSION);
    ck_assert_int_eq(orderly_pg_storage_open(&s, NULL, NULL, ctx), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_pg_storage_open(&s, "host=/nonexistent/orderly port=1 connect_timeout=2",
                                             NULL, ctx),
                     ORDERLY_ESTORAGE);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "connecting"));
    ck_assert_ptr_null(s);
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(test_foreign_schema_is_estorage)
{
    orderly_ctx *ctx = new_ctx();

    control_exec("CREATE SCHEMA @; CREATE TABLE @.customers (id int)");
    ck_assert_int_eq(open_rc(ctx), ORDERLY_ESTORAGE);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "none is orderly's"));
    /* and one whose meta table is someone else's */
    control_exec("DROP TABLE @.customers; CREATE TABLE @.meta (name text, value bigint)");
    ck_assert_int_eq(open_rc(ctx), ORDERLY_ESTORAGE);
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(test_newer_schema_is_eversion)
{
    orderly_ctx *ctx = new_ctx();

    ck_assert_int_eq(open_rc(ctx), 0);
    control_exec("UPDATE @.meta SET value = 99 WHERE name = 'orderly'");
    ck_assert_int_eq(open_rc(ctx), ORDERLY_EVERSION);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "version 99"));
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(test_parallel_opens_migrate_once)
{
    pid_t kids[4];
    int i, status, ok = 0;

    for (i = 0; i < 4; i++) {
        if ((kids[i] = fork()) == 0) {
            orderly_ctx *ctx = NULL;
            int rc;
            if (orderly_ctx_new(&ctx, NULL) < 0)
                _exit(2);
            rc = open_rc(ctx);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    ck_assert_int_eq(ok, 4);
}
END_TEST

/* ---- a connection the host owns ------------------------------------------ */

START_TEST(test_wrapped_connection_stays_the_hosts)
{
    orderly_ctx *ctx = new_ctx();
    orderly_pg_options o = ORDERLY_PG_OPTIONS_INIT;
    orderly_storage *s = NULL;
    PGconn *conn = PQconnectdb(conninfo);
    PGresult *r;
    void *txn;

    ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
    o.schema = schema;
    ck_assert_int_eq(orderly_pg_storage_wrap(&s, conn, &o, ctx), 0);
    ck_assert_ptr_eq(orderly_pg_storage_conn(s), conn);
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(s->save(s, ctx, txn, "k", (const uint8_t *)"v", 1, 0), 0);
    ck_assert_int_eq(s->commit(s, ctx, txn), 0);
    orderly_pg_storage_close(s);
    /* still open, and none of the storage's statements are left on it */
    ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
    r = PQexec(conn, "SELECT count(*) FROM pg_prepared_statements");
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    PQfinish(conn);
    orderly_ctx_free(ctx);
}
END_TEST

/* ---- failures ----------------------------------------------------------------- */

static void kill_session(orderly_storage *s)
{
    char sql[96];
    int pid = PQbackendPID(orderly_pg_storage_conn(s));

    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
    ck_assert_int_eq(pgh_exec(control, sql), 0);
    ck_assert_int_eq(pgh_wait_gone(control, pid), 0);
}

START_TEST(test_dropped_connection_is_transient_estorage)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s = open_store(ctx, 0);
    orderly_buf *buf = NULL;
    uint64_t version;
    void *txn;

    ck_assert_int_eq(orderly_buf_new(&buf, NULL), 0);
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(s->save(s, ctx, txn, "kept", (const uint8_t *)"1", 1, 0), 0);
    ck_assert_int_eq(s->commit(s, ctx, txn), 0);

    /* mid-transaction: the call fails with the server's word, the
     * transaction is gone, the next begin reconnects */
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(s->save(s, ctx, txn, "lost", (const uint8_t *)"2", 1, 0), 0);
    kill_session(s);
    ck_assert_int_eq(s->save(s, ctx, txn, "lost2", (const uint8_t *)"3", 1, 0), ORDERLY_ESTORAGE);
    ck_assert_msg(strstr(orderly_ctx_errmsg(ctx), "connection lost") != NULL, "%s",
                  orderly_ctx_errmsg(ctx));
    s->rollback(s, ctx, txn);
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(s->load(s, ctx, txn, "kept", buf, &version), 0);
    ck_assert_int_eq(s->load(s, ctx, txn, "lost", buf, &version), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(s->commit(s, ctx, txn), 0);

    /* while idle: begin notices and reconnects on its own */
    kill_session(s);
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(s->save(s, ctx, txn, "after", (const uint8_t *)"4", 1, 0), 0);
    ck_assert_int_eq(s->commit(s, ctx, txn), 0);
    orderly_buf_free(buf);
    orderly_pg_storage_close(s);
    orderly_ctx_free(ctx);
}
END_TEST

/* ---- held pushes ---------------------------------------------------------- */

/* Rows of the outbox whose payload is payload, as the server has them. */
static int outbox_rows(const char *payload)
{
    char sql[256];
    PGresult *r;
    int n;

    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.items WHERE queue = %d AND payload = '%s'",
             schema, ORDERLY_QUEUE_OUTBOX, payload);
    r = PQexec(control, sql);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* A push without id_out from a buffer the caller reuses at once. */
static int push_held(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *group,
                     const char *payload)
{
    orderly_queue_item it;
    char buf[32];
    int rc;

    snprintf(buf, sizeof buf, "%s", payload);
    memset(&it, 0, sizeof it);
    it.group = group;
    it.kind = 1;
    it.payload = (const uint8_t *)buf;
    it.payload_len = strlen(buf);
    it.created = T0;
    it.due = T0;
    rc = s->queue_push(s, ctx, txn, ORDERLY_QUEUE_OUTBOX, &it, NULL);
    memset(buf, 'z', sizeof buf);   /* the adapter kept its own copy */
    return rc;
}

static int count_claim(const orderly_queue_item *it, void *ud)
{
    (void)it;
    (*(int *)ud)++;
    return 0;
}

START_TEST(test_held_pushes_land_with_the_transaction)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s = open_store(ctx, 0);
    uint64_t token = 0;
    char group[16];
    void *txn;
    int i, seen = 0;

    /* only pushes: the commit sends them, with the BEGIN */
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(push_held(s, ctx, txn, "a", "first"), 0);
    ck_assert_int_eq(s->commit(s, ctx, txn), 0);
    ck_assert_int_eq(outbox_rows("first"), 3);

    /* rolled back: never sent */
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(push_held(s, ctx, txn, "b", "dropped"), 0);
    s->rollback(s, ctx, txn);
    ck_assert_int_eq(outbox_rows("dropped"), 0);

    /* more than fit in one round trip, then a claim in the same
     * transaction sees every one of them */
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    for (i = 0; i < 40; i++) {
        snprintf(group, sizeof group, "g%d", i);
        ck_assert_int_eq(push_held(s, ctx, txn, group, "many"), 0);
    }
    ck_assert_int_eq(s->queue_claim(s, ctx, txn, ORDERLY_QUEUE_OUTBOX, T0, 100, 5, T0 + 60000,
                                    &token, count_claim, &seen),
                     43);
    ck_assert_int_eq(seen, 43);   /* the three of "a" and the forty */
    ck_assert_int_eq(s->commit(s, ctx, txn), 0);
    ck_assert_int_eq(outbox_rows("many"), 40);
    orderly_pg_storage_close(s);
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(test_statement_timeout_is_etimeout)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s = open_store(ctx, 100);
    PGconn *holder = PQconnectdb(conninfo);
    char sql[256];
    void *txn;

    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(s->save(s, ctx, txn, "k", (const uint8_t *)"1", 1, 0), 0);
    ck_assert_int_eq(s->commit(s, ctx, txn), 0);
    /* another session holds the row, so the save waits past its timeout */
    snprintf(sql, sizeof sql, "BEGIN; UPDATE %s.records SET data = 'x' WHERE key = 'k'", schema);
    ck_assert_int_eq(pgh_exec(holder, sql), 0);
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(s->save(s, ctx, txn, "k", (const uint8_t *)"2", 1, 1), ORDERLY_ETIMEOUT);
    s->rollback(s, ctx, txn);
    ck_assert_int_eq(pgh_exec(holder, "ROLLBACK"), 0);
    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    ck_assert_int_eq(s->save(s, ctx, txn, "k", (const uint8_t *)"2", 1, 1), 0);
    ck_assert_int_eq(s->commit(s, ctx, txn), 0);
    PQfinish(holder);
    orderly_pg_storage_close(s);
    orderly_ctx_free(ctx);
}
END_TEST

/* ---- notifications ----------------------------------------------------------- */

/* A host's idle loop: drain first (a transaction may already have read
 * notifications off the socket), and poll only when nothing was there. */
static int wait_for_commit(orderly_storage *s, orderly_ctx *ctx)
{
    struct pollfd p;
    int bits;

    while ((bits = orderly_pg_notify_drain(s, ctx)) == 0) {
        p.fd = orderly_pg_notify_fd(s);
        p.events = POLLIN;
        ck_assert_int_ge(p.fd, 0);
        ck_assert_int_eq(poll(&p, 1, -1), 1);
    }
    ck_assert_int_gt(bits, 0);
    return bits;
}

START_TEST(test_commit_wakes_other_instance)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *a = open_store(ctx, 0), *b = open_store(ctx, 0);
    void *txn;
    int bits;

    ck_assert_int_ge(orderly_pg_notify_drain(a, ctx), 0);
    /* a commit with no push sends nothing; the timers push after it does */
    ck_assert_int_eq(b->begin(b, ctx, &txn), 0);
    ck_assert_int_eq(b->save(b, ctx, txn, "k", (const uint8_t *)"1", 1, 0), 0);
    ck_assert_int_eq(b->commit(b, ctx, txn), 0);
    ck_assert_int_eq(b->begin(b, ctx, &txn), 0);
    ck_assert_int_eq(push(b, ctx, txn, ORDERLY_QUEUE_TIMERS, ""), 0);
    ck_assert_int_eq(b->commit(b, ctx, txn), 0);
    bits = wait_for_commit(a, ctx);
    ck_assert_int_eq(bits, 1 << ORDERLY_QUEUE_TIMERS);

    /* the outbox too; and never inside a transaction */
    ck_assert_int_eq(b->begin(b, ctx, &txn), 0);
    ck_assert_int_eq(push(b, ctx, txn, ORDERLY_QUEUE_OUTBOX, "o1"), 0);
    ck_assert_int_eq(b->commit(b, ctx, txn), 0);
    ck_assert_int_eq(a->begin(a, ctx, &txn), 0);
    ck_assert_int_eq(orderly_pg_notify_drain(a, ctx), ORDERLY_EMISUSE);
    a->rollback(a, ctx, txn);
    bits = wait_for_commit(a, ctx);
    ck_assert_int_eq(bits, 1 << ORDERLY_QUEUE_OUTBOX);
    orderly_pg_storage_close(a);
    orderly_pg_storage_close(b);
    orderly_ctx_free(ctx);
}
END_TEST

/* ---- processes claiming at once -------------------------------------------- */

#define ITEMS 120
#define GROUPS 6
#define WORKERS 4

struct seen {
    uint64_t id;
    char group[16];
};

static int note_claim(const orderly_queue_item *it, void *ud)
{
    struct seen *s = ud;
    size_t i;

    for (i = 0; s[i].id != 0; i++)
        ;
    s[i].id = it->id;
    snprintf(s[i].group, sizeof s[i].group, "%s", it->group);
    return 0;
}

/* One worker: claims up to 3 at a time and finishes each; writes "group
 * id" to fd before the finish commits, so a group's lines are in the
 * order its items were released. */
static int worker(int fd)
{
    orderly_ctx *ctx = NULL;
    orderly_pg_options o = ORDERLY_PG_OPTIONS_INIT;
    orderly_storage *s = NULL;
    struct seen got[4];
    uint64_t token;
    void *txn;
    char line[64];
    /* how long an idle worker waits before it looks again */
    struct timespec pause = { 0, 2000000 };
    int n, i, idle = 0;

    o.schema = schema;
    if (orderly_ctx_new(&ctx, NULL) < 0 || orderly_pg_storage_open(&s, conninfo, &o, ctx) < 0)
        return 2;
    while (idle < 50) {
        memset(got, 0, sizeof got);
        if (s->begin(s, ctx, &txn) < 0)
            return 3;
        n = s->queue_claim(s, ctx, txn, ORDERLY_QUEUE_OUTBOX, T0, 3, 10, T0 + 60000, &token,
                           note_claim, got);
        if (n < 0 || s->commit(s, ctx, txn) < 0)
            return 4;
        if (n == 0) {
            idle++;
            nanosleep(&pause, NULL);
            continue;
        }
        idle = 0;
        for (i = 0; i < n; i++) {
            if (s->begin(s, ctx, &txn) < 0)
                return 5;
            snprintf(line, sizeof line, "%s %llu\n", got[i].group, (unsigned long long)got[i].id);
            if (write(fd, line, strlen(line)) < 0)
                return 6;
            if (s->queue_finish(s, ctx, txn, ORDERLY_QUEUE_OUTBOX, got[i].id, token,
                                ORDERLY_ITEM_DONE, T0, 1) < 0 ||
                s->commit(s, ctx, txn) < 0)
                return 7;
        }
    }
    orderly_pg_storage_close(s);
    orderly_ctx_free(ctx);
    return 0;
}

START_TEST(test_processes_claim_each_item_once_in_group_order)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s = open_store(ctx, 0);
    char path[] = "/tmp/orderly-pg-claims-XXXXXX", group[16], line[64];
    uint64_t last[GROUPS] = { 0 }, id;
    unsigned long long idv;
    pid_t kids[WORKERS];
    int fd, i, status, lines = 0;
    FILE *f;
    void *txn;

    ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
    for (i = 0; i < ITEMS; i++) {
        snprintf(group, sizeof group, "g%d", i % GROUPS);
        ck_assert_int_eq(push(s, ctx, txn, ORDERLY_QUEUE_OUTBOX, group), 0);
    }
    ck_assert_int_eq(s->commit(s, ctx, txn), 0);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fcntl(fd, F_SETFL, O_APPEND), 0);
    for (i = 0; i < WORKERS; i++)
        if ((kids[i] = fork()) == 0)
            _exit(worker(fd));
    for (i = 0; i < WORKERS; i++) {
        ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d failed (%d)", i,
                      status);
    }
    close(fd);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f) != NULL) {
        ck_assert_int_eq(sscanf(line, "g%d %llu", &i, &idv), 2);
        id = idv;
        ck_assert_msg(id > last[i], "group g%d released %llu after %llu", i, idv,
                      (unsigned long long)last[i]);
        last[i] = id;
        lines++;
    }
    fclose(f);
    unlink(path);
    /* each item released exactly once, none left */
    ck_assert_int_eq(lines, ITEMS);
    {
        orderly_queue_stats st;
        ck_assert_int_eq(s->begin(s, ctx, &txn), 0);
        ck_assert_int_eq(s->queue_stats(s, ctx, txn, ORDERLY_QUEUE_OUTBOX, T0, &st), 0);
        s->rollback(s, ctx, txn);
        ck_assert_uint_eq(st.done, ITEMS);
        ck_assert_uint_eq(st.ready + st.leased + st.lease_expired, 0);
    }
    orderly_pg_storage_close(s);
    orderly_ctx_free(ctx);
}
END_TEST

/* Each case on a schema of its own (setup/teardown). */
static void add(Suite *s, const TTest *test, double timeout_s)
{
    tcase_add_checked_fixture(orderly_test_case(s, test, timeout_s), setup, teardown);
}

static Suite *pg_suite(void)
{
    Suite *s = suite_create("pg");

    add(s, test_open_creates_schema_and_reopen_keeps_data, 60);
    add(s, test_bad_options_and_unreachable_server, 60);
    add(s, test_foreign_schema_is_estorage, 60);
    add(s, test_newer_schema_is_eversion, 60);
    add(s, test_parallel_opens_migrate_once, 60);
    add(s, test_wrapped_connection_stays_the_hosts, 30);
    add(s, test_dropped_connection_is_transient_estorage, 60);
    add(s, test_held_pushes_land_with_the_transaction, 60);
    add(s, test_statement_timeout_is_etimeout, 60);
    add(s, test_commit_wakes_other_instance, 30);
    add(s, test_processes_claim_each_item_once_in_group_order, 120);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed, must_fail;

    if ((conninfo = pgh_conninfo(&must_fail)) == NULL) {
        printf("1..0 # SKIP ORDERLY_TEST_PG is not set\n");
        return must_fail ? EXIT_FAILURE : 77;
    }
    sr = srunner_create(pg_suite());
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
