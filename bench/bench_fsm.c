/*
 * bench_fsm - one transition through the declared order machine, measured
 * against a bare const-table lookup doing the same workload.
 *
 * Workload (SPEC "Targets"): one order lifecycle is create (start in
 * pending), payment_confirmed, fulfillment_started, fulfillment_shipped
 * with some parts shipped (partially_shipped), fulfillment_shipped with all
 * parts shipped (shipped), delivered, complete, plus one rejected event
 * (cancel in completed, ORDERLY_ETRANSITION, counted). Create is the initial
 * state, not a lookup, so a lifecycle is 7 lookups: 6 transitions and 1
 * rejection. Times are per lookup ("transition").
 *
 * Variants: the bare table; orderly_machine_next with no error context (the
 * figure held against the target); and orderly_machine_next with a context,
 * where each rejection also formats its reason ("event 'cancel' is not
 * allowed in state 'completed' ...").
 *
 * Modes: "sequential" feeds one order's events in turn, so every lookup
 * waits for the state the previous one produced, and the next lifecycle
 * starts from the state the last one ended in. That is the lookup latency,
 * and it is what SPEC's baseline (a bare lookup "about 1.4 ns per event")
 * measures. "overlapped" starts every lifecycle afresh, so the CPU runs
 * lifecycles of different orders side by side and a bare lookup costs
 * about a third of that; an out-of-line call alone costs more than twice
 * that here, so this mode shows what inlining buys, and is printed too.
 *
 * Each variant runs LIFECYCLES lifecycles per round; the best of ROUNDS
 * rounds is reported. Heap allocations are counted by wrapping malloc,
 * calloc and realloc at link time (-Wl,--wrap=...), which covers this file
 * and the statically linked library objects.
 *
 * Built twice: bench_fsm links the library's objects statically (and
 * counts allocations), bench_fsm_shared calls through liborderly.so, where
 * every call also crosses the PLT; BENCH_LINKAGE names which.
 *
 * Exit status: 0 when the run completed, both variants agreed and the hot
 * path allocated nothing; 1 otherwise. Timing never fails the run: targets
 * are printed for a human (and CI logs) to read.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "orderly.h"

#define LIFECYCLES 1500000L
#define ROUNDS 15
#define RATIO_TARGET 2.0

/* ---- allocation counting ------------------------------------------------ */

#if defined(BENCH_WRAP_ALLOC)
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *ptr, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *ptr, size_t size);

static unsigned long n_allocs;

void *__wrap_malloc(size_t size)
{
    n_allocs++;
    return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    n_allocs++;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *ptr, size_t size)
{
    n_allocs++;
    return __real_realloc(ptr, size);
}

static unsigned long heap_allocs(void)
{
    return n_allocs;
}
#else
static unsigned long heap_allocs(void)
{
    return 0;
}
#endif

/* ---- the bare baseline -------------------------------------------------- */

/*
 * What a hand-written machine looks like: one byte per (state, event), 0 for
 * "no transition". Partial and full shipment are separate events because a
 * bare table has no guards. States reuse orderly's ids.
 */
enum bare_event {
    BARE_PAY = 1,
    BARE_PROCESS,
    BARE_SHIP_PARTIAL,
    BARE_SHIP,
    BARE_DELIVER,
    BARE_COMPLETE,
    BARE_CANCEL,
    BARE_EVENTS
};

#define BARE_STATES (ORDERLY_ORDER_RETURNED_TO_ORIGIN + 1)

static const uint8_t bare_next[BARE_STATES][BARE_EVENTS] = {
    [ORDERLY_ORDER_PENDING] = {
        [BARE_PAY] = ORDERLY_ORDER_CONFIRMED,
        [BARE_CANCEL] = ORDERLY_ORDER_CANCELLED,
    },
    [ORDERLY_ORDER_CONFIRMED] = {
        [BARE_PROCESS] = ORDERLY_ORDER_PROCESSING,
        [BARE_CANCEL] = ORDERLY_ORDER_CANCELLED,
    },
    [ORDERLY_ORDER_PROCESSING] = {
        [BARE_SHIP_PARTIAL] = ORDERLY_ORDER_PARTIALLY_SHIPPED,
        [BARE_SHIP] = ORDERLY_ORDER_SHIPPED,
        [BARE_CANCEL] = ORDERLY_ORDER_CANCELLED,
    },
    [ORDERLY_ORDER_PARTIALLY_SHIPPED] = {
        [BARE_SHIP_PARTIAL] = ORDERLY_ORDER_PARTIALLY_SHIPPED,
        [BARE_SHIP] = ORDERLY_ORDER_SHIPPED,
    },
    [ORDERLY_ORDER_SHIPPED] = {
        [BARE_DELIVER] = ORDERLY_ORDER_DELIVERED,
    },
    [ORDERLY_ORDER_DELIVERED] = {
        [BARE_COMPLETE] = ORDERLY_ORDER_COMPLETED,
    },
};

/* ---- the workload ------------------------------------------------------- */

struct step {
    int event;                      /* order machine event id */
    const orderly_guard_input *in;  /* guard input; NULL when no guard reads one */
    int bare_event;                 /* column of bare_next */
};

static const orderly_guard_input some_parts = { .parts_total = 2, .parts_done = 1 };
static const orderly_guard_input all_parts = { .parts_total = 2, .parts_done = 2 };

#define STEPS 7

/*
 * Filled at run time so the compiler cannot fold a lifecycle into a
 * constant; the initial state is read through a volatile for the same
 * reason, once per lifecycle in both variants.
 */
static struct step script[STEPS];
static volatile int create_state = ORDERLY_ORDER_PENDING;
static volatile long sink;

static void build_script(void)
{
    const struct step s[STEPS] = {
        { ORDERLY_ORDER_EV_PAYMENT_CONFIRMED, NULL, BARE_PAY },
        { ORDERLY_ORDER_EV_FULFILLMENT_STARTED, NULL, BARE_PROCESS },
        { ORDERLY_ORDER_EV_FULFILLMENT_SHIPPED, &some_parts, BARE_SHIP_PARTIAL },
        { ORDERLY_ORDER_EV_FULFILLMENT_SHIPPED, &all_parts, BARE_SHIP },
        { ORDERLY_ORDER_EV_DELIVERED, &all_parts, BARE_DELIVER },
        { ORDERLY_ORDER_EV_COMPLETE, NULL, BARE_COMPLETE },
        { ORDERLY_ORDER_EV_CANCEL, NULL, BARE_CANCEL },  /* rejected in completed */
    };
    int i;

    for (i = 0; i < STEPS; i++)
        script[i] = s[i];
}

struct tally {
    long rejected;   /* lookups answered "no transition" */
    long failed;     /* any other failure (must stay 0) */
    long state_sum;  /* sum of final states, the work the compiler must keep */
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

static void run_bare(struct tally *t, long lifecycles, int sequential)
{
    long i, rejected = 0, sum = 0;
    /* Sequential: completed + restart is the initial state, and depends on state. */
    int k, restart = create_state - ORDERLY_ORDER_COMPLETED, state = create_state - restart;

    for (i = 0; i < lifecycles; i++) {
        state = sequential ? state + restart : create_state;

        for (k = 0; k < STEPS; k++) {
            int to = bare_next[state][script[k].bare_event];

            if (to == 0)
                rejected++;
            else
                state = to;
        }
        sum += state;
    }
    t->rejected = rejected;
    t->failed = 0;
    t->state_sum = sum;
}

static void run_orderly(struct tally *t, long lifecycles, const orderly_machine *m,
                        orderly_ctx *ctx, int sequential)
{
    long i, rejected = 0, failed = 0, sum = 0;
    /* Sequential: completed + restart is the initial state, and depends on state. */
    int k, restart = create_state - ORDERLY_ORDER_COMPLETED, state = create_state - restart;

    for (i = 0; i < lifecycles; i++) {
        state = sequential ? state + restart : create_state;

        for (k = 0; k < STEPS; k++) {
            int to;
            int rc = orderly_machine_next(&to, m, state, script[k].event, script[k].in, ctx);

            if (rc == ORDERLY_OK)
                state = to;
            else if (rc == ORDERLY_ETRANSITION)
                rejected++;
            else
                failed++;
        }
        sum += state;
    }
    t->rejected = rejected;
    t->failed = failed;
    t->state_sum = sum;
}

enum variant { V_BARE, V_ORDERLY, V_ORDERLY_CTX, N_VARIANTS };

static const char *const variant_names[N_VARIANTS] = {
    "bare const-table lookup",
    "orderly_machine_next",
    "orderly_machine_next + ctx reason",
};

/* Lifecycle by lifecycle, both variants must visit the same states. */
static int check_agreement(const orderly_machine *m)
{
    int bare = create_state, api = create_state, k;

    for (k = 0; k < STEPS; k++) {
        int to = 0, rc = orderly_machine_next(&to, m, api, script[k].event, script[k].in, NULL);
        int bto = bare_next[bare][script[k].bare_event];

        if ((rc == ORDERLY_OK) != (bto != 0) || (rc == ORDERLY_OK && to != bto) ||
            (rc != ORDERLY_OK && rc != ORDERLY_ETRANSITION)) {
            fprintf(stderr, "bench_fsm: step %d (%s): orderly rc %d to %d, bare to %d\n", k,
                    orderly_machine_event_name(m, script[k].event), rc, to, bto);
            return -1;
        }
        if (rc == ORDERLY_OK) {
            api = to;
            bare = bto;
        }
    }
    if (api != ORDERLY_ORDER_COMPLETED) {
        fprintf(stderr, "bench_fsm: lifecycle ended in '%s', expected 'completed'\n",
                orderly_machine_state_name(m, api));
        return -1;
    }
    return 0;
}

enum mode { M_SEQUENTIAL, M_OVERLAPPED, N_MODES };

static const char *const mode_titles[N_MODES] = {
    "sequential: one order's events in turn (each lookup waits for the last)",
    "overlapped: independent orders (the CPU runs their lookups side by side)",
};

/* Best ns per lookup of every variant in one mode; 0 on success. */
static int measure(double best[N_VARIANTS], unsigned long *heap_in_loop, long *rejected_out,
                   const orderly_machine *m, orderly_ctx *ctx, int sequential)
{
    const long lookups = LIFECYCLES * STEPS;
    struct tally tally[N_VARIANTS];
    int round, v, ok = 1;

    for (v = 0; v < N_VARIANTS; v++)
        best[v] = -1.0;
    for (round = 0; round < ROUNDS; round++) {
        for (v = 0; v < N_VARIANTS; v++) {
            unsigned long heap_before = heap_allocs();
            int64_t t0 = now_ns(), t1;
            double ns;

            if (v == V_BARE)
                run_bare(&tally[v], LIFECYCLES, sequential);
            else
                run_orderly(&tally[v], LIFECYCLES, m, v == V_ORDERLY_CTX ? ctx : NULL, sequential);
            t1 = now_ns();
            if (v != V_BARE)
                *heap_in_loop += heap_allocs() - heap_before;
            sink = sink + tally[v].state_sum + tally[v].rejected;
            ns = (double)(t1 - t0) / (double)lookups;
            if (best[v] < 0.0 || ns < best[v])
                best[v] = ns;
        }
    }
    for (v = 0; v < N_VARIANTS; v++) {
        if (tally[v].rejected != LIFECYCLES || tally[v].failed != 0 ||
            tally[v].state_sum != LIFECYCLES * ORDERLY_ORDER_COMPLETED) {
            fprintf(stderr, "bench_fsm: %s: %ld rejected, %ld failed, state sum %ld\n",
                    variant_names[v], tally[v].rejected, tally[v].failed, tally[v].state_sum);
            ok = 0;
        }
    }
    *rejected_out = tally[V_ORDERLY].rejected;
    return ok ? 0 : -1;
}

int main(void)
{
    const orderly_machine *m;
    orderly_ctx *ctx = NULL;
    double best[N_MODES][N_VARIANTS];
    unsigned long heap_in_loop = 0, heap_before_setup;
    long rejected = 0;
    int md, v, ok = 1;

    build_script();
    heap_before_setup = heap_allocs();
    if (orderly_machine_by_name(&m, "order") < 0 || orderly_ctx_new(&ctx, NULL) < 0) {
        fputs("bench_fsm: setup failed\n", stderr);
        return 1;
    }
#if defined(BENCH_WRAP_ALLOC)
    /* orderly_ctx_new allocates once: proof that the counter sees the library. */
    if (heap_allocs() == heap_before_setup) {
        fputs("bench_fsm: allocation counter did not see orderly_ctx_new\n", stderr);
        orderly_ctx_free(ctx);
        return 1;
    }
#else
    (void)heap_before_setup;
#endif
    if (check_agreement(m) < 0) {
        orderly_ctx_free(ctx);
        return 1;
    }
    for (md = 0; md < N_MODES; md++)
        if (measure(best[md], &heap_in_loop, &rejected, m, ctx, md == M_SEQUENTIAL) < 0)
            ok = 0;

    printf("orderly %s bench_fsm (%s): order machine, one lifecycle = 6 transitions + 1 rejected\n",
           orderly_version_string(), BENCH_LINKAGE);
    printf("  %-36s %ld lifecycles x %d = %ld per round, best of %d\n", "lookups", LIFECYCLES,
           STEPS, LIFECYCLES * STEPS, ROUNDS);
    for (md = 0; md < N_MODES; md++) {
        double ratio = best[md][V_BARE] > 0.0 ? best[md][V_ORDERLY] / best[md][V_BARE] : 0.0;

        printf("  %s\n", mode_titles[md]);
        for (v = 0; v < N_VARIANTS; v++)
            printf("    %-34s %6.2f ns/transition\n", variant_names[v], best[md][v]);
        printf("    %-34s %6.2fx (target <= %.0fx) %s\n", "ratio orderly / bare", ratio,
               RATIO_TARGET, ratio <= RATIO_TARGET ? "met" : "MISSED");
    }
    printf("  %-36s %ld per round (ORDERLY_ETRANSITION)\n", "rejected events", rejected);
#if defined(BENCH_WRAP_ALLOC)
    printf("  %-36s %lu (target 0)\n", "heap allocations in hot path", heap_in_loop);
#else
    printf("  %-36s not counted in this build (bench_fsm counts them)\n",
           "heap allocations in hot path");
#endif
    orderly_ctx_free(ctx);
    if (heap_in_loop != 0)
        ok = 0;
    return ok ? 0 : 1;
}
