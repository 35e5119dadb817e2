/*
 * Out of memory at every allocation: a counting allocator behind the
 * engine's hook fails allocation N, for N = 1, 2, ... until a scenario
 * runs clean. At every N each call returns 0 or ORDERLY_ENOMEM (with a
 * message), a failed command writes nothing, and when the engine closes
 * every allocation it made through the hook (jansson's included) has been
 * given back.
 */
#include "fixture.h"

typedef struct failing {
    orderly_allocator base;
    long calls;              /* allocations attempted */
    long fail_at;            /* the one that fails; 0 = none */
    long live;               /* blocks handed out and not yet freed */
    int hit;                 /* fail_at was reached */
    int paused;              /* the test's own reads: neither counted nor failed */
} failing;

static int fail_now(failing *f)
{
    if (f->paused || ++f->calls != f->fail_at)
        return 0;
    f->hit = 1;
    return 1;
}

static void *f_malloc(size_t n, void *ud)
{
    failing *f = ud;
    void *p;

    if (fail_now(f) || (p = malloc(n)) == NULL)
        return NULL;
    f->live++;
    return p;
}

static void *f_realloc(void *old, size_t n, void *ud)
{
    failing *f = ud;
    void *p;

    if (fail_now(f))
        return NULL;
    if ((p = realloc(old, n)) != NULL && old == NULL)
        f->live++;
    return p;
}

static void f_free(void *p, void *ud)
{
    failing *f = ud;

    if (p != NULL)
        f->live--;
    free(p);
}

static void failing_init(failing *f, long fail_at)
{
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(orderly_allocator_init(&f->base, ORDERLY_ALLOCATOR_VERSION), 0);
    f->base.user_data = f;
    f->base.malloc = f_malloc;
    f->base.realloc = f_realloc;
    f->base.free = f_free;
    f->fail_at = fail_at;
}

/* A call under test: 0, or ENOMEM with a message. */
#define OK_OR_ENOMEM(f, a, rc)                                                              \
    do {                                                                                    \
        int rc_ = (rc);                                                                     \
        ck_assert_msg(rc_ == 0 || rc_ == ORDERLY_ENOMEM, "%s -> %s at fail_at %ld: %s", #rc, \
                      orderly_error_name(rc_), (a)->fail_at, orderly_engine_errmsg((f)->e)); \
        if (rc_ == ORDERLY_ENOMEM)                                                          \
            ck_assert_str_ne(orderly_engine_errmsg((f)->e), "");                            \
    } while (0)

/* The order's version, read with the allocator's failures paused. */
static uint64_t version_of(fx *f, failing *a, const char *id)
{
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    int rc;

    a->paused = 1;
    rc = orderly_engine_get_order(f->e, id, &v);
    a->paused = 0;
    if (rc == ORDERLY_ENOTFOUND)
        return 0;
    ck_assert_msg(rc == 0, "get_order after the failure: %s: %s", orderly_error_name(rc),
                  orderly_engine_errmsg(f->e));
    return v.version;
}

static int count_row(const orderly_outbox_view *v, void *ud)
{
    (void)v;
    (*(size_t *)ud)++;
    return 0;
}

/* The whole public path once, with allocation fail_at failing. Returns 1
 * when the failure was hit (so a larger fail_at must be tried). */
static int scenario(long fail_at)
{
    orderly_order_spec spec;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_health h = ORDERLY_HEALTH_INIT;
    failing a;
    uint64_t before;
    size_t n, rows = 0;
    char *env;
    fx f;
    int rc;

    failing_init(&a, fail_at);
    fx_init(&f);
    f.o.alloc = &a.base;
    rc = orderly_engine_open(&f.e, &f.o, NULL);
    ck_assert_msg(rc == 0 || rc == ORDERLY_ENOMEM, "open -> %s", orderly_error_name(rc));
    if (rc < 0) {
        ck_assert_ptr_null(f.e);
        goto out;
    }
    memset(&spec, 0, sizeof spec);
    spec.order_id = "o1";
    spec.currency = "EUR";
    spec.payment_method = ORDERLY_PAY_CARD;
    spec.lines = std_lines;
    spec.n_lines = 2;
    spec.now = T0;
    rc = orderly_engine_create_order(f.e, &spec, &r);
    OK_OR_ENOMEM(&f, &a, rc);
    if (rc < 0) {
        /* nothing written: the order does not exist */
        ck_assert_uint_eq(version_of(&f, &a, "o1"), 0);
        goto out;
    }
    before = version_of(&f, &a, "o1");
    env = make_env("psp-1", "payment.authorize", "o1", "{\"amount\":2000}");
    rc = orderly_engine_handle_event(f.e, (const uint8_t *)env, strlen(env), T0 + 1, &r);
    free(env);
    OK_OR_ENOMEM(&f, &a, rc);
    if (rc < 0) {
        ck_assert_uint_eq(version_of(&f, &a, "o1"), before);
        goto out;
    }
    /* each later step needs the ones before: the first failure ends the run */
#define STEP(call)                            \
    do {                                      \
        rc = (call);                          \
        OK_OR_ENOMEM(&f, &a, rc);             \
        if (rc < 0)                           \
            goto out;                         \
    } while (0)
    STEP(orderly_engine_pump(f.e, T0 + 2, 0, &n));
    before = version_of(&f, &a, "o1");
    rc = orderly_engine_request_capture(f.e, "o1", NULL, T0 + 3, &r);
    OK_OR_ENOMEM(&f, &a, rc);
    if (rc < 0) {
        ck_assert_uint_eq(version_of(&f, &a, "o1"), before);
        goto out;
    }
    STEP(orderly_engine_run_operations(f.e, T0 + 4, 0, &n));
    STEP(orderly_engine_tick(f.e, T0 + DAY, 0, &n));
    STEP(orderly_engine_pump(f.e, T0 + DAY, 0, &n));
    STEP(orderly_engine_list_outbox(f.e, -1, 0, 100, count_row, &rows));
    STEP(orderly_engine_health(f.e, T0 + DAY, 0, 0, &h));
#undef STEP
out:
    orderly_engine_close(f.e);
    f.e = NULL;
    ck_assert_msg(a.live == 0, "%ld allocation(s) leaked at fail_at %ld", a.live, fail_at);
    orderly_memory_storage_free(f.st);
    orderly_memory_transport_free(f.tr);
    return a.hit;
}

START_TEST(every_allocation_may_fail)
{
    long n;

    /* the run with nothing failing allocates through the hook */
    ck_assert_int_eq(scenario(0), 0);
    for (n = 1; n < 100000 && scenario(n); n++)
        ;
    ck_assert_int_lt(n, 100000);
    /* 91 allocations when this was written: the engine, its buffers, and
     * jansson's trees for the envelope and the command events */
    ck_assert_int_gt(n, 50);
}
END_TEST

/* jansson's allocations go through the hook too: a decoded envelope's
 * tree is made and freed by the allocator the caller gave. */
START_TEST(envelope_decode_allocates_through_the_hook)
{
    const char *env = "{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":\"s\",\"type\":\"a.b\","
                      "\"data\":{\"k\":[1,2,3]}}";
    orderly_event *ev = NULL;
    failing a;
    long n;
    int rc;

    failing_init(&a, 0);
    ck_assert_int_eq(orderly_event_decode(&ev, (const uint8_t *)env, strlen(env), &a.base, NULL), 0);
    ck_assert_int_gt(a.calls, 5);
    orderly_event_free(ev);
    ck_assert_int_eq(a.live, 0);
    for (n = 1; n <= 64; n++) {
        failing_init(&a, n);
        ev = NULL;
        rc = orderly_event_decode(&ev, (const uint8_t *)env, strlen(env), &a.base, NULL);
        ck_assert_msg(rc == 0 || rc == ORDERLY_ENOMEM, "decode -> %s at %ld", orderly_error_name(rc), n);
        orderly_event_free(ev);
        ck_assert_int_eq(a.live, 0);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-oom");

    orderly_test_case(s, every_allocation_may_fail, 120);
    orderly_test_case(s, envelope_decode_allocates_through_the_hook, 120);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
