/*
 * End-to-end figures for the engine on the in-memory store:
 *   - events per second through orderly_engine_apply (idempotency check,
 *     load, transition and cascade, save, outbox append, commit);
 *   - bytes the store holds per order aggregate, per order line (an
 *     order of 200 lines against one of a single line), and for the
 *     typical orders of 2 and 5 lines;
 *   - events per second (CPU time) through the lifecycle of 200-line orders;
 *   - outbox dispatch rate to the in-memory transport;
 *   - commit-to-publish latency when the host pumps from on_work.
 * Usage: bench_engine [ORDERS [ROUNDS]] (defaults 100000 and 5).
 * Each figure is the best of ROUNDS rounds, each on a fresh store. Rates
 * are given twice: over wall time, and over the process's CPU time, which
 * is what "on one core" means when other work shares the machine; the time
 * per event is split into user and kernel time, the kernel's being mostly
 * first touches of the memory the store grows into (page faults).
 * The engine gets a counting allocator (the adapters keep the C library's),
 * so the core's own heap allocations in the timed loops are reported.
 * Prints figures; asserts nothing (machines here are shared and noisy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include "orderly.h"
#include "orderly/sys/memory.h"
#include "lifecycle.h"

#define ROUNDS 5

static double clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* The engine's allocator: the C library's, counted. */
static unsigned long core_allocs;

static void *count_malloc(size_t size, void *user_data)
{
    (void)user_data;
    core_allocs++;
    return malloc(size);
}

static void *count_realloc(void *ptr, size_t size, void *user_data)
{
    (void)user_data;
    core_allocs++;
    return realloc(ptr, size);
}

static void count_free(void *ptr, void *user_data)
{
    (void)user_data;
    free(ptr);
}

static const orderly_allocator counting = {
    ORDERLY_ALLOCATOR_VERSION, NULL, count_malloc, count_realloc, count_free
};

static void die(orderly_engine *e, const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, orderly_error_name(rc), e ? orderly_engine_errmsg(e) : "");
    exit(1);
}


struct latency {
    orderly_transport *t;
    double *samples;
    size_t n;
    double committed_at;
};

static void pump_now(orderly_engine *e, size_t n, void *user_data)
{
    struct latency *l = user_data;
    size_t published;
    int rc;

    (void)n;
    if (l == NULL)
        return;
    if ((rc = orderly_engine_pump(e, 3000, 0, &published)) < 0)
        die(e, "pump", rc);
    l->samples[l->n++] = (now_s() - l->committed_at) * 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void open_engine(orderly_engine **e, orderly_storage **s, orderly_transport **t,
                        struct latency *lat, uint32_t max_lines)
{
    orderly_engine_options o = ORDERLY_ENGINE_OPTIONS_INIT;
    int rc;

    if (orderly_memory_storage_new(s, NULL) < 0 || orderly_memory_transport_new(t, NULL) < 0)
        die(NULL, "adapters", ORDERLY_ENOMEM);
    orderly_memory_transport_keep(*t, 0);
    o.storage = *s;
    o.transport = *t;
    o.alloc = &counting;
    o.on_work = lat != NULL ? pump_now : NULL;
    o.work_user_data = lat;
    o.max_lines = max_lines;
    if ((rc = orderly_engine_open(e, &o, NULL)) < 0)
        die(NULL, "open", rc);
}

static void create(orderly_engine *e, const char *id, orderly_time_ms now)
{
    orderly_line line = { 42, 7, 2, 1250 };
    orderly_order_spec sp;
    orderly_result r = ORDERLY_RESULT_INIT;
    int rc;

    memset(&sp, 0, sizeof sp);
    sp.order_id = id;
    sp.currency = "EUR";
    sp.payment_method = ORDERLY_PAY_CARD;
    sp.lines = &line;
    sp.n_lines = 1;
    sp.now = now;
    if ((rc = orderly_engine_create_order(e, &sp, &r)) < 0)
        die(e, "create", rc);
}

static void step(orderly_engine *e, const char *id, size_t k, orderly_time_ms now)
{
    orderly_command c;
    orderly_result r = ORDERLY_RESULT_INIT;
    int rc;

    memset(&c, 0, sizeof c);
    c.order_id = id;
    c.machine = lifecycle[k].machine;
    c.event = lifecycle[k].event;
    c.amount = k == 0 ? 2500 : 0;
    c.now = now;
    if ((rc = orderly_engine_apply(e, &c, &r)) < 0)
        die(e, "apply", rc);
}

/* Bytes the store holds per order for orders of n lines of 2 units each,
 * all in one warehouse, taken through the whole lifecycle; *cpu gets the
 * CPU seconds the lifecycles took (cpu may be NULL). */
static double bytes_per_order(size_t n, size_t orders, double *cpu)
{
    static orderly_line lines[ORDERLY_LINES_MAX];
    clock_t started;
    orderly_storage *s;
    orderly_transport *t;
    orderly_engine *e;
    orderly_order_spec sp;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_command c;
    size_t i, k, records, bytes;
    char id[32];
    int rc;

    open_engine(&e, &s, &t, NULL, (uint32_t)n);
    for (i = 0; i < n; i++) {
        lines[i].sku = 42 + i;
        lines[i].warehouse = 7;
        lines[i].quantity = 2;
        lines[i].unit_price = 1250;
    }
    started = clock();
    for (i = 0; i < orders; i++) {
        snprintf(id, sizeof id, "ord-%zu", i);
        memset(&sp, 0, sizeof sp);
        sp.order_id = id;
        sp.currency = "EUR";
        sp.payment_method = ORDERLY_PAY_CARD;
        sp.lines = lines;
        sp.n_lines = n;
        sp.now = 1000;
        if ((rc = orderly_engine_create_order(e, &sp, &r)) < 0)
            die(e, "create", rc);
        for (k = 0; k < STEPS; k++) {
            memset(&c, 0, sizeof c);
            c.order_id = id;
            c.machine = lifecycle[k].machine;
            c.event = lifecycle[k].event;
            c.amount = k == 0 ? (int64_t)n * 2500 : 0;
            c.now = 2000;
            if ((rc = orderly_engine_apply(e, &c, &r)) < 0)
                die(e, "apply", rc);
        }
    }
    if (cpu != NULL)
        *cpu = (double)(clock() - started) / CLOCKS_PER_SEC;
    orderly_memory_storage_usage(s, &records, &bytes);
    orderly_engine_close(e);
    orderly_memory_storage_free(s);
    orderly_memory_transport_free(t);
    return (double)bytes / (double)records;
}

/* One round: a fresh store, every order's lifecycle applied, then the
 * whole outbox dispatched. */
struct round {
    double t_apply, c_apply, u_apply, s_apply, t_pump, c_pump;
    long faults_apply;
    unsigned long allocs_apply, allocs_pump;
    size_t records, bytes, published;
};

static void usage_now(double *user, double *sys, long *faults)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    *faults = ru.ru_minflt + ru.ru_majflt;
}

static void run_round(struct round *r, size_t orders)
{
    orderly_storage *s;
    orderly_transport *t;
    orderly_engine *e;
    double t0, c0, u0, s0, u1, s1;
    long f0, f1;
    size_t i, k, n;
    char id[32];
    int rc;

    memset(r, 0, sizeof *r);
    open_engine(&e, &s, &t, NULL, 0);
    core_allocs = 0;
    usage_now(&u0, &s0, &f0);
    t0 = now_s();
    c0 = cpu_s();
    for (i = 0; i < orders; i++) {
        snprintf(id, sizeof id, "ord-%zu", i);
        create(e, id, 1000);
        for (k = 0; k < STEPS; k++)
            step(e, id, k, 2000);
    }
    r->t_apply = now_s() - t0;
    r->c_apply = cpu_s() - c0;
    usage_now(&u1, &s1, &f1);
    r->u_apply = u1 - u0;
    r->s_apply = s1 - s0;
    r->faults_apply = f1 - f0;
    r->allocs_apply = core_allocs;
    orderly_memory_storage_usage(s, &r->records, &r->bytes);
    core_allocs = 0;
    t0 = now_s();
    c0 = cpu_s();
    do {
        if ((rc = orderly_engine_pump(e, 3000, 256, &n)) < 0)
            die(e, "pump", rc);
        r->published += n;
    } while (n > 0);
    r->t_pump = now_s() - t0;
    r->c_pump = cpu_s() - c0;
    r->allocs_pump = core_allocs;
    orderly_engine_close(e);
    orderly_memory_storage_free(s);
    orderly_memory_transport_free(t);
}

int main(int argc, char **argv)
{
    size_t orders = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100000, i, k;
    int rounds = argc > 2 ? atoi(argv[2]) : ROUNDS;
    struct round best, pump, r;
    struct latency lat;
    orderly_storage *s;
    orderly_transport *t;
    orderly_engine *e;
    char id[32];
    double events, one, most, cpu_big;
    int round;

    if (orders == 0 || rounds < 1) {
        fputs("usage: bench_engine [ORDERS [ROUNDS]]\n", stderr);
        return 2;
    }
    events = (double)orders * (double)(STEPS + 1);
    /* the apply figures from the fastest apply, dispatch from the fastest dispatch */
    run_round(&best, orders);
    pump = best;
    for (round = 1; round < rounds; round++) {
        run_round(&r, orders);
        if (r.t_apply < best.t_apply)
            best = r;
        if (r.t_pump < pump.t_pump)
            pump = r;
    }

    printf("orderly engine, in-memory store, %zu orders x %zu events, best of %d rounds\n", orders,
           STEPS + 1, rounds);
    printf("  events end to end        %10.0f events/s  (target >= 1,000,000)\n", events / best.t_apply);
    printf("  per event                %10.0f ns: %.0f ns user, %.0f ns kernel (%.2f page faults)\n",
           best.t_apply / events * 1e9, best.u_apply / events * 1e9, best.s_apply / events * 1e9,
           (double)best.faults_apply / events);
    printf("  bytes held per order     %10.1f bytes     (target <= 256; %zu records, %zu bytes)\n",
           (double)best.bytes / (double)best.records, best.records, best.bytes);
    one = bytes_per_order(1, 10000, NULL);
    most = bytes_per_order(200, 2000, &cpu_big);
    printf("  bytes per order line     %10.1f bytes     (200-line order %.1f bytes, 1-line %.1f;"
           " one warehouse, completed)\n", (most - one) / 199.0, most, one);
    printf("  200-line orders          %10.0f events/s  (CPU time; %.0f lines/s; 2000 orders)\n",
           2000.0 * (STEPS + 1) / cpu_big, 2000.0 * (STEPS + 1) * 200 / cpu_big);
    printf("  bytes per typical order  %10.1f bytes     (2 lines; 5 lines %.1f; target <= 256)\n",
           bytes_per_order(2, 10000, NULL), bytes_per_order(5, 10000, NULL));
    printf("  lines per order at most  %10d           (ORDERLY_LINES_MAX; max_lines defaults to %d)\n",
           ORDERLY_LINES_MAX, ORDERLY_LINES_DEFAULT);
    printf("  outbox dispatch          %10.0f events/s  (target >= 1,000,000; %zu published)\n",
           (double)pump.published / pump.t_pump, pump.published);
    printf("  on CPU time: end to end  %10.0f events/s, dispatch %.0f events/s\n",
           events / best.c_apply, (double)pump.published / pump.c_pump);
    printf("  core heap allocations    %10lu in %.0f commands, %lu in dispatch (buffers grow once)\n",
           best.allocs_apply, events, pump.allocs_pump);

    /* latency: the host pumps from on_work right after each commit */
    memset(&lat, 0, sizeof lat);
    lat.samples = malloc(sizeof(double) * 20000);
    open_engine(&e, &s, &t, &lat, 0);
    for (i = 0; i < 20000 / (STEPS + 1); i++) {
        snprintf(id, sizeof id, "lat-%zu", i);
        lat.committed_at = now_s();
        create(e, id, 1000);
        for (k = 0; k < STEPS; k++) {
            lat.committed_at = now_s();
            step(e, id, k, 2000);
        }
    }
    qsort(lat.samples, lat.n, sizeof *lat.samples, cmp);
    printf("  commit -> publish (call to published, on_work pump, %zu samples)\n", lat.n);
    printf("    p50 %8.2f us   p99 %8.2f us   max %8.2f us   (target p99 < 1000 us)\n",
           lat.samples[lat.n / 2], lat.samples[lat.n * 99 / 100], lat.samples[lat.n - 1]);
    free(lat.samples);
    orderly_engine_close(e);
    orderly_memory_storage_free(s);
    orderly_memory_transport_free(t);
    return 0;
}
