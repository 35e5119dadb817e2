/*
 * liborderly-redis on loopback: how fast the transport publishes, and how
 * long an event takes from the engine's commit to a consumer group reader
 * in another process.
 *
 * 1. publish: XADD of a 600-byte envelope through the transport, by 1 and
 *    by 4 publisher processes at once (each its own connection).
 * 2. commit-to-consume: 1 and 4 publisher processes each create orders on
 *    an engine (in-memory storage, so the figure is the transport's),
 *    pumping from on_work, i.e. in the same call as the commit, and start
 *    the next order once the last one arrived (a closed loop: 1 or 4
 *    orders in flight). One consumer process reads the order topic through
 *    XREADGROUP (BLOCK) and notes when each order's first event arrives.
 *    Latency = arrival minus the moment create_order was called, on the
 *    shared monotonic clock: commit, XADD, wake-up and read. Then again
 *    with a SQLite file per publisher (synchronous FULL, so the commit's
 *    fsync is in the figure), when the SQLite adapter is built.
 *
 * Usage: bench_redis [orders]  (default 20000). Redis: $ORDERLY_REDIS_URL,
 * else a redis-server of its own on a free 127.0.0.1 port.
 * Prints figures; asserts nothing (machines here are shared and noisy).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "orderly.h"
#include "orderly/sys/memory.h"
#include "orderly/sys/redis.h"
#ifdef BENCH_SQLITE
#include "orderly/sys/sqlite.h"
#endif
#include "server.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_redis: %s: %d %s\n", what, rc, orderly_strerror(rc));
    exit(1);
}

static orderly_transport *transport(const char *url)
{
    orderly_redis_options o = ORDERLY_REDIS_OPTIONS_INIT;
    orderly_transport *t;
    int rc;

    o.url = url;
    if ((rc = orderly_redis_transport_new(&t, &o)) < 0)
        die("transport", rc);
    return t;
}

/* ---- 1. publish throughput ------------------------------------------- */

static void publish_n(const char *url, const char *stream, long n)
{
    orderly_transport *t = transport(url);
    uint8_t env[600];
    orderly_header h[3] = { { "ce-id", "0123456789abcdef0123456789abcdef" },
                            { "ce-type", "order.status_changed" },
                            { "traceparent", "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01" } };
    long i;
    int rc;

    memset(env, 'x', sizeof env);
    for (i = 0; i < n; i++)
        if ((rc = t->publish(t, NULL, stream, "order-1", env, sizeof env, h, 3)) < 0)
            die("publish", rc);
    orderly_redis_transport_free(t);
}

static void bench_publish(const char *url, long n, int procs)
{
    char stream[64];
    double t0, dt;
    pid_t pubs[8];
    int p;

    snprintf(stream, sizeof stream, "bench.publish.%d.%ld", procs, (long)getpid());
    t0 = now_s();
    for (p = 0; p < procs; p++) {
        if ((pubs[p] = fork()) < 0)
            die("fork", ORDERLY_ERROR);
        if (pubs[p] == 0) {
            publish_n(url, stream, n / procs);
            _exit(0);
        }
    }
    for (p = 0; p < procs; p++)
        waitpid(pubs[p], NULL, 0);
    dt = now_s() - t0;
    printf("publish   %d publisher%s  %7ld XADDs  %6.3f s  %9.0f msgs/s\n", procs,
           procs > 1 ? "s" : " ", n / procs * procs, dt, (double)(n / procs * procs) / dt);
}

/* ---- 2. commit-to-consume latency ------------------------------------- */

/* In memory shared by every process of a run (MAP_SHARED). */

static double *commit_at, *arrive_at;

static void on_work(orderly_engine *e, size_t n, void *ud)
{
    size_t done;

    (void)n;
    (void)ud;
    if (orderly_engine_pump(e, 1, 0, &done) < 0)
        die("pump", orderly_engine_errcode(e));
}

/* In-memory storage, or with sqlite_dir a SQLite file per publisher
 * (synchronous FULL: one fsync per commit, the adapter's default). */
static const char *sqlite_dir;

static orderly_storage *storage_for(int procs, long first)
{
    orderly_storage *st = NULL;
    int rc;

#ifdef BENCH_SQLITE
    if (sqlite_dir != NULL) {
        char path[256];
        /* a file per run and publisher: a reused one would answer the
         * same order ids as duplicates, publishing nothing */
        snprintf(path, sizeof path, "%s/run%d-publisher-%ld.db", sqlite_dir, procs, first);
        if ((rc = orderly_sqlite_storage_open(&st, path, NULL, NULL)) < 0)
            die("sqlite", rc);
        return st;
    }
#else
    (void)procs;
    (void)first;
#endif
    if ((rc = orderly_memory_storage_new(&st, NULL)) < 0)
        die("storage", rc);
    return st;
}

static void storage_free(orderly_storage *st)
{
#ifdef BENCH_SQLITE
    if (sqlite_dir != NULL) {
        orderly_sqlite_storage_close(st);
        return;
    }
#endif
    orderly_memory_storage_free(st);
}

static void create_orders(const char *url, const char *const *topics, int procs, long from,
                          long to)
{
    static const orderly_line lines[1] = { { 101, 1, 1, 500 } };
    orderly_engine_options o = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_storage *st;
    orderly_transport *t = transport(url);
    orderly_engine *e;
    orderly_order_spec s;
    orderly_result r = ORDERLY_RESULT_INIT;
    char id[32];
    long i;
    int rc;

    st = storage_for(procs, from);
    o.storage = st;
    o.transport = t;
    o.topics = topics;
    o.n_topics = ORDERLY_TOPIC_COUNT + 1;
    o.on_work = on_work;
    if ((rc = orderly_engine_open(&e, &o, NULL)) < 0)
        die("engine", rc);
    memset(&s, 0, sizeof s);
    s.currency = "EUR";
    s.payment_method = ORDERLY_PAY_CARD;
    s.lines = lines;
    s.n_lines = 1;
    s.now = 1;
    for (i = from; i < to; i++) {
        snprintf(id, sizeof id, "b%ld", i);
        s.order_id = id;
        commit_at[i] = now_s();
        if ((rc = orderly_engine_create_order(e, &s, &r)) < 0)
            die("create", rc);
        /* closed loop: the next order once this one arrived, so the figure
         * is latency at this many publishers, not a queue's length */
        while (((volatile double *)arrive_at)[i] == 0)
            sched_yield();
    }
    orderly_engine_close(e);
    storage_free(st);
    orderly_redis_transport_free(t);
}

struct counter {
    long seen, n;
};

static int arrived(const orderly_redis_message *m, void *ud)
{
    struct counter *c = ud;
    const char *p = strstr((const char *)m->data, "\"subject\":\"b");
    long i;

    if (p == NULL)
        return 0;
    i = strtol(p + 12, NULL, 10);
    if (i >= 0 && i < c->n && arrive_at[i] == 0) {
        arrive_at[i] = now_s();
        c->seen++;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void bench_latency(const char *url, long n, int procs)
{
    char names[ORDERLY_TOPIC_COUNT + 1][64];
    const char *topics[ORDERLY_TOPIC_COUNT + 1] = { NULL };
    orderly_redis_consumer_options co = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;
    orderly_redis_consumer *c;
    struct counter cnt = { 0, n };
    double *lat, t0, dt;
    pid_t consumer, pubs[8];
    int p, i, rc, status;

    for (i = 1; i <= ORDERLY_TOPIC_COUNT; i++) {
        snprintf(names[i], sizeof names[i], "bench.%d.%ld.%s", procs, (long)getpid(),
                 orderly_topic_default_name(i));
        topics[i] = names[i];
    }
    memset(commit_at, 0, (size_t)n * sizeof *commit_at);
    memset(arrive_at, 0, (size_t)n * sizeof *arrive_at);
    co.url = url;
    co.group = "bench";
    co.consumer = "reader";
    co.topics = &topics[ORDERLY_TOPIC_ORDER];
    co.n_topics = 1;
    co.claim_idle_ms = -1;
    co.batch = 256;
    if ((rc = orderly_redis_consumer_new(&c, &co)) < 0)
        die("consumer", rc);
    /* the group exists before the first XADD, so the reader misses nothing */
    if ((rc = orderly_redis_consumer_poll(c, 0, arrived, &cnt, NULL)) < 0)
        die("consumer poll", rc);
    if ((consumer = fork()) == 0) {
        while (cnt.seen < n)
            if ((rc = orderly_redis_consumer_poll(c, 1000, arrived, &cnt, NULL)) < 0)
                die("consumer poll", rc);
        _exit(0);
    }
    t0 = now_s();
    for (p = 0; p < procs; p++) {
        if ((pubs[p] = fork()) == 0) {
            create_orders(url, topics, procs, n * p / procs, n * (p + 1) / procs);
            _exit(0);
        }
    }
    /* these children only: wait() could reap the consumer instead */
    for (p = 0; p < procs; p++)
        waitpid(pubs[p], NULL, 0);
    dt = now_s() - t0;
    waitpid(consumer, &status, 0);
    orderly_redis_consumer_free(c);
    if ((lat = malloc((size_t)n * sizeof *lat)) == NULL)
        die("malloc", ORDERLY_ENOMEM);
    for (i = 0; i < n; i++)
        lat[i] = (arrive_at[i] - commit_at[i]) * 1e3;
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    printf("latency   %d publisher%s  %7ld orders  %-6s %9.0f orders/s  commit-to-consume "
           "p50 %.3f ms  p99 %.3f ms  max %.3f ms\n",
           procs, procs > 1 ? "s" : " ", n, sqlite_dir != NULL ? "sqlite" : "memory",
           (double)n / dt, lat[n / 2],
           lat[(size_t)((double)n * 0.99)], lat[n - 1]);
    free(lat);
}

int main(int argc, char **argv)
{
    const char *url = getenv("ORDERLY_REDIS_URL");
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    redis_server srv;
    int own = 0;
    void *mem;

    signal(SIGPIPE, SIG_IGN);
    if (n < 100)
        n = 100;
    if (url == NULL || url[0] == '\0') {
        if (server_start_tcp(&srv) != 0) {
            fprintf(stderr, "bench_redis: cannot start redis-server\n");
            return 1;
        }
        url = srv.url;
        own = 1;
    }
    mem = mmap(NULL, 2 * (size_t)n * sizeof(double), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap", ORDERLY_ENOMEM);
    commit_at = mem;
    arrive_at = commit_at + n;
    printf("bench_redis: %s, %ld per run\n", url, n);
    bench_publish(url, n, 1);
    bench_publish(url, n, 4);
    bench_latency(url, n / 4, 1);
    bench_latency(url, n / 4, 4);
#ifdef BENCH_SQLITE
    {
        char dir[] = "/tmp/orderly-bench-XXXXXX";
        char cmd[64];
        if (mkdtemp(dir) == NULL)
            die("mkdtemp", ORDERLY_ERROR);
        sqlite_dir = dir;
        bench_latency(url, n / 20, 1);
        bench_latency(url, n / 20, 4);
        sqlite_dir = NULL;
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_redis: could not remove %s\n", dir);
    }
#endif
    munmap(mem, 2 * (size_t)n * sizeof(double));
    if (own)
        server_stop(&srv);
    return 0;
}
