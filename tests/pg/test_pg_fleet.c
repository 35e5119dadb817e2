/*
 * A fleet on one database: N processes (N = 1, 2, 4), each an engine on
 * the same PostgreSQL schema, create orders, authorize and cancel some,
 * and pump, tick and run operations, so each publishes and fires rows the
 * others wrote. Process 0 kills itself (SIGKILL) in the middle of a pump
 * batch, holding leases, and the server is restarted once while the
 * others run: they retry through the reconnect. A cleaner then drains
 * everything with the clock past every lease, and the test checks what a
 * consumer saw against what was committed: every outbox row published, a
 * duplicate only ever repeating an event id, each order's events first
 * seen in outbox order, no lease left, money invariants. The consumer is
 * a log file every process appends "topic order event-id" lines to.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check_case.h"
#include "harness.h"
#include "orderly/engine.h"
#include "orderly/outbox.h"
#include "orderly/payment.h"
#include "orderly/sys/pg.h"

#define T0 1700000000000LL
#define ORDERS 24          /* per process */
#define KILL_AT 9          /* process 0 dies inside its 9th publish */
#define LATE (10LL * 24 * 3600 * 1000)

static const char *conninfo;
static char schema[64];
static char log_path[128];

/* ---- the consumer ------------------------------------------------------- */

struct sink {
    orderly_transport base;
    int fd;
    int kill_at;           /* raise SIGKILL inside this publish (0 = never) */
    int published;
};

static int sink_publish(orderly_transport *t, orderly_ctx *ctx, const char *topic,
                        const char *key, const uint8_t *data, size_t len,
                        const orderly_header *headers, size_t n_headers)
{
    struct sink *s = (struct sink *)(void *)t;
    const char *id = "";
    char line[256];
    size_t i;

    (void)ctx;
    (void)data;
    (void)len;
    for (i = 0; i < n_headers; i++)
        if (strcmp(headers[i].name, "ce-id") == 0)
            id = headers[i].value;
    snprintf(line, sizeof line, "%s %s %s\n", topic, key, id);
    if (write(s->fd, line, strlen(line)) < 0)
        return ORDERLY_ETRANSPORT;
    if (++s->published == s->kill_at)
        raise(SIGKILL);   /* mid-batch: the rows of this claim stay leased */
    return 0;
}

/* ---- one engine ----------------------------------------------------------- */

struct node {
    orderly_storage *storage;
    orderly_engine *engine;
    struct sink sink;
};

static orderly_time_ms wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return T0 + (orderly_time_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* A failure another instance or the server restart can cause: retried. */
static int transient(int rc)
{
    return rc == ORDERLY_ESTORAGE || rc == ORDERLY_ECONFLICT || rc == ORDERLY_EINFLIGHT ||
           rc == ORDERLY_ETIMEOUT;
}

static int node_open(struct node *n, int kill_at)
{
    orderly_engine_options o = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_pg_options po = ORDERLY_PG_OPTIONS_INIT;
    int rc, tries;

    memset(n, 0, sizeof *n);
    n->sink.fd = open(log_path, O_WRONLY | O_APPEND);
    n->sink.kill_at = kill_at;
    if (n->sink.fd < 0 || orderly_transport_init(&n->sink.base, ORDERLY_TRANSPORT_VERSION) < 0)
        return -1;
    n->sink.base.publish = sink_publish;
    po.schema = schema;
    for (tries = 0; tries < 500; tries++) {
        if ((rc = orderly_pg_storage_open(&n->storage, conninfo, &po, NULL)) == 0)
            break;
        pause_ms(20);   /* the server may be restarting */
    }
    if (rc < 0)
        return rc;
    o.storage = n->storage;
    o.transport = &n->sink.base;
    return orderly_engine_open(&n->engine, &o, NULL);
}

static void node_close(struct node *n)
{
    orderly_engine_close(n->engine);
    orderly_pg_storage_close(n->storage);
    close(n->sink.fd);
}

#define RETRY(call)                                                         \
    do {                                                                    \
        int rc_, t_;                                                        \
        for (t_ = 0; t_ < 1000; t_++) {                                     \
            rc_ = (call);                                                   \
            if (!transient(rc_))                                            \
                break;                                                      \
            pause_ms(10);                                                   \
        }                                                                   \
        if (rc_ < 0 && rc_ != ORDERLY_ETRANSITION && rc_ != ORDERLY_EGUARD) \
            return 10 - rc_;                                                \
    } while (0)

/* One step of the background work; *busy gets what it did. */
static int background(struct node *n, orderly_time_ms now, size_t *busy)
{
    size_t a = 0, b = 0, c = 0;

    RETRY(orderly_engine_pump(n->engine, now, 8, &a));
    RETRY(orderly_engine_tick(n->engine, now, 8, &b));
    RETRY(orderly_engine_run_operations(n->engine, now, 8, &c));
    *busy = a + b + c;
    return 0;
}

static const orderly_line lines[2] = {
    { 101, 1, 2, 1500 },
    { 202, 2, 1, 4000 },
};

static int worker(int who, int n_procs)
{
    struct node n;
    orderly_order_spec spec;
    orderly_command cmd;
    orderly_result res = ORDERLY_RESULT_INIT;
    char id[64];
    size_t busy;
    int k, idle, rc;

    if (node_open(&n, who == 0 ? KILL_AT : 0) < 0)
        return 2;
    for (k = 0; k < ORDERS; k++) {
        snprintf(id, sizeof id, "n%d-p%d-o%02d", n_procs, who, k);
        memset(&spec, 0, sizeof spec);
        spec.order_id = id;
        spec.currency = "EUR";
        spec.payment_method = ORDERLY_PAY_CARD;
        spec.lines = lines;
        spec.n_lines = 1 + (size_t)(k % 2);
        spec.now = wall();
        RETRY(orderly_engine_create_order(n.engine, &spec, &res));
        memset(&cmd, 0, sizeof cmd);
        cmd.order_id = id;
        cmd.machine = ORDERLY_MACHINE_PAYMENT;
        cmd.event = ORDERLY_PAYMENT_EV_AUTHORIZE;
        cmd.amount = 3000 + (k % 2) * 4000;
        cmd.now = wall();
        RETRY(orderly_engine_apply(n.engine, &cmd, &res));
        if (k % 3 == 2)
            RETRY(orderly_engine_cancel_order(n.engine, id, NULL, wall(), &res));
        if ((rc = background(&n, wall(), &busy)) != 0)
            return rc;
    }
    for (idle = 0; idle < 3;) {
        if ((rc = background(&n, wall(), &busy)) != 0)
            return rc;
        idle = busy == 0 ? idle + 1 : 0;
    }
    node_close(&n);
    return 0;
}

/* ---- the server restart -------------------------------------------------- */

static void restart_server(void)
{
    const char *data = getenv("ORDERLY_TEST_PG_DATA"), *bindir = getenv("ORDERLY_TEST_PG_BINDIR");
    char cmd[1024];

    if (data == NULL || bindir == NULL) {
        /* a server the test did not start is not the test's to restart */
        printf("# ORDERLY_TEST_PG names an outside server: no restart\n");
        return;
    }
    snprintf(cmd, sizeof cmd, "%s '%s/pg_ctl' -D '%s' -m fast -w restart >/dev/null",
             getuid() == 0 ? "runuser -u nobody --" : "", bindir, data);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- the checks ------------------------------------------------------------ */

#define ROWS_MAX 4096

struct row {
    uint64_t id;
    char order[32];
    char event[40];
    int state;
};

struct rows {
    struct row r[ROWS_MAX];
    size_t n;
};

static int keep_row(const orderly_outbox_view *v, void *ud)
{
    struct rows *rs = ud;
    struct row *r;

    ck_assert_uint_lt(rs->n, ROWS_MAX);
    r = &rs->r[rs->n++];
    r->id = v->id;
    snprintf(r->order, sizeof r->order, "%s", v->order_id);
    snprintf(r->event, sizeof r->event, "%s", v->event_id);
    r->state = v->state;
    return 0;
}

static const struct row *by_event(const struct rows *rs, const char *event)
{
    size_t i;

    for (i = 0; i < rs->n; i++)
        if (strcmp(rs->r[i].event, event) == 0)
            return &rs->r[i];
    return NULL;
}

/* Checks one order's money; the killed process never created its last
 * orders (may_be_missing). */
static void check_order(orderly_engine *e, const char *id, int may_be_missing)
{
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    int rc = orderly_engine_get_order(e, id, &v);

    if (rc == ORDERLY_ENOTFOUND && may_be_missing)
        return;
    ck_assert_msg(rc == 0, "%s: %s", id, orderly_error_name(rc));
    ck_assert_msg(v.captured <= v.authorized && v.refunded <= v.captured,
                  "%s: authorized %lld captured %lld refunded %lld", id, (long long)v.authorized,
                  (long long)v.captured, (long long)v.refunded);
}

static void check_all(int n_procs)
{
    static struct rows rs;
    struct node n;
    orderly_ctx *ctx = NULL;
    char line[256], topic[64], order[64], event[64], id[64];
    uint64_t last_seen[64][ORDERS];
    size_t busy, i, seen = 0, dup = 0;
    int q, p, k;
    void *txn;
    FILE *f;

    /* the cleaner, with the clock past every lease the dead process held */
    ck_assert_int_eq(node_open(&n, 0), 0);
    for (i = 0; i < 5;) {
        ck_assert_int_eq(background(&n, wall() + LATE, &busy), 0);
        i = busy == 0 ? i + 1 : 0;
    }
    rs.n = 0;
    ck_assert_int_ge(orderly_engine_list_outbox(n.engine, -1, 0, ROWS_MAX, keep_row, &rs), 0);
    ck_assert_uint_gt(rs.n, 0);
    for (i = 0; i < rs.n; i++) {
        ck_assert_msg(rs.r[i].state == ORDERLY_ITEM_DONE, "outbox row %llu left in state %d",
                      (unsigned long long)rs.r[i].id, rs.r[i].state);
        ck_assert_ptr_eq(by_event(&rs, rs.r[i].event), &rs.r[i]); /* ids are unique */
    }
    /* no lease in any queue, as seen at the end of time */
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(n.storage->begin(n.storage, ctx, &txn), 0);
    for (q = ORDERLY_QUEUE_OUTBOX; q <= ORDERLY_QUEUE_OPERATIONS; q++) {
        orderly_queue_stats st;
        ck_assert_int_eq(n.storage->queue_stats(n.storage, ctx, txn, q, wall() + 2 * LATE, &st), 0);
        ck_assert_msg(st.leased + st.lease_expired == 0, "queue %d holds %llu leases", q,
                      (unsigned long long)(st.leased + st.lease_expired));
    }
    n.storage->rollback(n.storage, ctx, txn);
    orderly_ctx_free(ctx);

    /* what the consumer saw */
    memset(last_seen, 0, sizeof last_seen);
    f = fopen(log_path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f) != NULL) {
        const struct row *r;
        ck_assert_int_eq(sscanf(line, "%63s %63s %63s", topic, order, event), 3);
        if ((r = by_event(&rs, event)) == NULL) {
            /* an operation sent as a command: not an outbox event */
            ck_assert_msg(strstr(topic, "command") != NULL, "published %s was never committed",
                          event);
            continue;
        }
        ck_assert_str_eq(r->order, order);
        ck_assert_int_eq(sscanf(order, "n%*d-p%d-o%d", &p, &k), 2);
        if (r->id < last_seen[p][k]) {
            /* an older event again: only ever a duplicate of one already seen */
            ck_assert_msg(strchr(line, '\n') != NULL, "truncated line");
            dup++;
            continue;
        }
        if (r->id == last_seen[p][k]) {
            dup++;
            continue;
        }
        last_seen[p][k] = r->id;
        seen++;
    }
    fclose(f);
    /* every row reached the consumer, and each order's first sightings
     * followed its outbox order (a row first seen after a younger one
     * of its order would have been counted as a duplicate, never seen) */
    ck_assert_msg(seen == rs.n, "%zu of %zu outbox rows reached the consumer in order", seen,
                  rs.n);
    printf("# %d processes: %zu outbox rows, %zu duplicate deliveries\n", n_procs, rs.n, dup);
    for (p = 0; p < n_procs; p++)
        for (k = 0; k < ORDERS; k++) {
            snprintf(id, sizeof id, "n%d-p%d-o%02d", n_procs, p, k);
            check_order(n.engine, id, p == 0);
        }
    node_close(&n);
}

/* ---- the test ---------------------------------------------------------------- */

static const int fleet_sizes[] = { 1, 2, 4 };

START_TEST(test_fleet_survives_a_kill_and_a_restart)
{
    int n_procs = fleet_sizes[_i], i, status, fd;
    pid_t kids[4];
    PGconn *control;

    snprintf(schema, sizeof schema, "fleet_%ld", (long)getpid());
    snprintf(log_path, sizeof log_path, "/tmp/orderly-pg-fleet-%ld.log", (long)getpid());
    fd = open(log_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    control = PQconnectdb(conninfo);
    ck_assert_int_eq(PQstatus(control), CONNECTION_OK);
    ck_assert_int_eq(pgh_drop(control, schema), 0);
    PQfinish(control);

    for (i = 0; i < n_procs; i++)
        if ((kids[i] = fork()) == 0)
            _exit(worker(i, n_procs));
    /* process 0 dies by its own SIGKILL; then the server restarts under
     * the others */
    ck_assert_int_eq(waitpid(kids[0], &status, 0), kids[0]);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "process 0 was to die of SIGKILL mid-batch (status %d)", status);
    restart_server();
    for (i = 1; i < n_procs; i++) {
        ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d failed: %d", i,
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    check_all(n_procs);

    control = PQconnectdb(conninfo);
    (void)pgh_drop(control, schema);
    PQfinish(control);
    unlink(log_path);
}
END_TEST

static Suite *fleet_suite(void)
{
    Suite *s = suite_create("pg-fleet");

    orderly_test_loop(s, test_fleet_survives_a_kill_and_a_restart, 0, 3, 300);
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
    sr = srunner_create(fleet_suite());
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
