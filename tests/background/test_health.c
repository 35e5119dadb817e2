/*
 * The health snapshot and the metrics callback: the readiness verdict
 * follows its thresholds, and every stable metric name is reported once
 * per call with the snapshot's value.
 */
#include "bg.h"

static void create_n(fx *f, size_t n, orderly_time_ms t)
{
    char id[16];
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof id, "o%zu", i);
        create_ok(f, id, ORDERLY_PAY_CARD, t);
    }
}

static int ready(fx *f, orderly_time_ms now, uint64_t max_backlog, int64_t max_age)
{
    orderly_health h = ORDERLY_HEALTH_INIT;

    ck_assert_int_eq(orderly_engine_health(f->e, now, max_backlog, max_age, &h), 0);
    return h.ready;
}

/* Default: not ready only when the backlog exceeds 100 AND the oldest
 * pending event is older than five minutes. */
START_TEST(readiness_default_thresholds)
{
    fx f;
    orderly_health h = ORDERLY_HEALTH_INIT;
    orderly_time_ms old = T0 + ORDERLY_HEALTH_MAX_AGE_MS;
    size_t n;

    fx_setup(&f);
    create_n(&f, 101, T0);
    h = health(&f, T0);
    ck_assert_uint_eq(h.outbox_pending, 101);
    ck_assert_int_eq(h.outbox_oldest_age_ms, 0);
    ck_assert_int_eq(h.ready, 1);              /* big but fresh */
    h = health(&f, old);
    ck_assert_int_eq(h.outbox_oldest_age_ms, ORDERLY_HEALTH_MAX_AGE_MS);
    ck_assert_int_eq(h.ready, 1);              /* exactly five minutes is not older */
    h = health(&f, old + 1);
    ck_assert_int_eq(h.outbox_oldest_age_ms, ORDERLY_HEALTH_MAX_AGE_MS + 1);
    ck_assert_int_eq(h.ready, 0);
    /* one event out: 100 is not above the backlog threshold */
    ck_assert_int_eq(orderly_engine_pump(f.e, old + 1, 1, &n), 0);
    ck_assert_uint_eq(n, 1);
    h = health(&f, old + 1);
    ck_assert_uint_eq(h.outbox_pending, 100);
    ck_assert_int_eq(h.ready, 1);
    ck_assert_int_eq(ready(&f, T0 + DAY, 0, 0), 1);
    pump_all(&f, old + 1);
    h = health(&f, old + 1);
    ck_assert_uint_eq(h.outbox_pending, 0);
    ck_assert_int_eq(h.outbox_oldest_age_ms, 0);
    ck_assert_int_eq(h.ready, 1);
    fx_free(&f);
}
END_TEST

START_TEST(readiness_custom_thresholds)
{
    fx f;
    size_t n;

    fx_setup(&f);
    create_n(&f, 11, T0);
    ck_assert_int_eq(ready(&f, T0 + 1000, 10, 1000), 1);
    ck_assert_int_eq(ready(&f, T0 + 1001, 10, 1000), 0);
    ck_assert_int_eq(ready(&f, T0 + 1001, 11, 1000), 1);
    ck_assert_int_eq(ready(&f, T0 + 1001, 10, 2000), 1);
    /* 0 for either threshold means its default */
    ck_assert_int_eq(ready(&f, T0 + DAY, 0, 1000), 1);
    ck_assert_int_eq(ready(&f, T0 + 1001, 10, 0), 1);
    ck_assert_int_eq(ready(&f, T0 + ORDERLY_HEALTH_MAX_AGE_MS + 1, 10, 0), 0);
    /* recovers as the backlog drains */
    ck_assert_int_eq(orderly_engine_pump(f.e, T0 + 2000, 1, &n), 0);
    ck_assert_int_eq(ready(&f, T0 + 2000, 10, 1000), 1);
    fx_free(&f);
}
END_TEST

/* The figures the snapshot takes from the queues follow them. */
START_TEST(health_queue_figures)
{
    fx f;
    orderly_health h = ORDERLY_HEALTH_INIT;
    orderly_fault_plan down = ORDERLY_FAULT_PLAN_INIT;
    size_t n;

    fx_init(&f);
    f.policy.outbox_max_attempts = 1;
    fx_open(&f);
    create_n(&f, 3, T0);
    h = health(&f, T0);
    ck_assert_uint_eq(h.outbox_pending, 3);
    ck_assert_uint_eq(h.outbox_leased, 0);
    ck_assert_uint_eq(h.outbox_dead, 0);
    /* a reservation TTL row per order (its two lines share it) and three
     * abandoned timers; no fulfillment SLA runs before its order is
     * confirmed */
    ck_assert_uint_eq(health(&f, T0 + f.policy.reservation_ttl).timers_due, 3);
    ck_assert_uint_eq(health(&f, T0 + f.policy.abandoned_after).timers_due, 6);
    ck_assert_uint_eq(health(&f, T0 + f.policy.fulfillment_sla).timers_due, 6);
    /* a refused publish at the one allowed attempt: dead-lettered */
    down.fail_at = 1;
    down.code = ORDERLY_EINVAL;
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, &down), 0);
    ck_assert_int_eq(orderly_engine_pump(f.e, T0, 0, &n), 0);
    ck_assert_uint_eq(n, 2);
    h = health(&f, T0);
    ck_assert_uint_eq(h.outbox_pending, 0);
    ck_assert_uint_eq(h.outbox_dead, 1);
    ck_assert_uint_eq(h.published_total, 2);
    /* operations: a decline records a release */
    APPLY_OK(&f, "o0", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, T0 + 1);
    h = health(&f, T0 + 1);
    ck_assert_uint_ge(h.operations_pending, 1);
    ck_assert_uint_eq(h.operations_exhausted, 0);
    fx_free(&f);
}
END_TEST

/* ---- metrics ---- */

static const char *const stable_names[] = {
    "orderly_outbox_pending",
    "orderly_outbox_oldest_pending_age_seconds",
    "orderly_outbox_leased",
    "orderly_outbox_lease_expired",
    "orderly_outbox_dead_total",
    "orderly_outbox_published_total",
    "orderly_outbox_redelivered_total",
    "orderly_lease_expired_total",
    "orderly_stale_completions_total",
    "orderly_inbox_duplicates_total",
    "orderly_late_events_ignored_total",
    "orderly_idempotency_busy_total",
    "orderly_idempotency_mismatch_total",
    "orderly_operations_pending",
    "orderly_operations_exhausted_total",
    "orderly_timers_due",
    "orderly_rows_parked_total",
    "orderly_transport_outage_seconds",
    "orderly_ready",
};
#define N_NAMES (sizeof stable_names / sizeof stable_names[0])

typedef struct metric_seen {
    int count[N_NAMES];
    double value[N_NAMES];
    int unknown;
} metric_seen;

static void on_metric(const char *name, double value, void *ud)
{
    metric_seen *m = ud;
    size_t i;

    for (i = 0; i < N_NAMES; i++) {
        if (strcmp(name, stable_names[i]) == 0) {
            m->count[i]++;
            m->value[i] = value;
            return;
        }
    }
    m->unknown++;
}

static double metric(const metric_seen *m, const char *name)
{
    size_t i;

    for (i = 0; i < N_NAMES; i++)
        if (strcmp(name, stable_names[i]) == 0)
            return m->value[i];
    ck_abort_msg("no metric %s", name);
    return 0;
}

START_TEST(metrics_every_name_once)
{
    fx f;
    metric_seen m;
    orderly_health h = ORDERLY_HEALTH_INIT;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_time_ms now = T0 + 10 * MIN;
    size_t i;

    fx_setup(&f);
    create_n(&f, 120, T0);
    ck_assert_int_eq(create_ex(&f, "o1", ORDERLY_PAY_CARD, 0, 0, T0, &r), 0); /* a duplicate */
    ck_assert_uint_eq(r.duplicate, 1);
    APPLY_OK(&f, "o7", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, T0 + 1);
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(orderly_engine_metrics(f.e, now, on_metric, &m), 0);
    ck_assert_int_eq(m.unknown, 0);
    for (i = 0; i < N_NAMES; i++)
        ck_assert_msg(m.count[i] == 1, "%s reported %d times", stable_names[i], m.count[i]);
    h = health(&f, now);
    ck_assert_int_eq(h.ready, 0);
    ck_assert_double_eq(metric(&m, "orderly_ready"), 0.0);
    ck_assert_double_eq(metric(&m, "orderly_outbox_pending"), (double)h.outbox_pending);
    ck_assert_double_eq(metric(&m, "orderly_outbox_oldest_pending_age_seconds"), 600.0);
    ck_assert_double_eq(metric(&m, "orderly_inbox_duplicates_total"), (double)h.duplicates_suppressed);
    ck_assert_double_ge(metric(&m, "orderly_inbox_duplicates_total"), 1.0);
    ck_assert_double_eq(metric(&m, "orderly_operations_pending"), (double)h.operations_pending);
    ck_assert_double_ge(metric(&m, "orderly_operations_pending"), 1.0);
    ck_assert_double_eq(metric(&m, "orderly_timers_due"), (double)h.timers_due);
    ck_assert_double_eq(metric(&m, "orderly_outbox_dead_total"), 0.0);

    /* a second call reports every name once again, with fresh values */
    pump_all(&f, now);
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(orderly_engine_metrics(f.e, now, on_metric, &m), 0);
    for (i = 0; i < N_NAMES; i++)
        ck_assert_int_eq(m.count[i], 1);
    ck_assert_double_eq(metric(&m, "orderly_ready"), 1.0);
    ck_assert_double_eq(metric(&m, "orderly_outbox_pending"), 0.0);
    ck_assert_double_eq(metric(&m, "orderly_outbox_published_total"), (double)health(&f, now).published_total);
    ck_assert_double_gt(metric(&m, "orderly_outbox_published_total"), 120.0);
    ck_assert_int_eq(orderly_engine_metrics(f.e, now, NULL, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_metrics(NULL, now, on_metric, &m), ORDERLY_EINVAL);
    fx_free(&f);
}
END_TEST

/* A storage failure while taking the snapshot is returned, and the metrics
 * callback is not called at all (no half snapshot). */
START_TEST(metrics_storage_failure)
{
    fx f;
    metric_seen m;
    orderly_health h = ORDERLY_HEALTH_INIT;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;

    fx_setup(&f);
    create_n(&f, 2, T0);
    p.method = ORDERLY_METHOD_QUEUE_STATS;
    p.fail_at = 2;
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(orderly_engine_metrics(f.e, T0, on_metric, &m), ORDERLY_ESTORAGE);
    for (size_t i = 0; i < N_NAMES; i++)
        ck_assert_int_eq(m.count[i], 0);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    ck_assert_int_eq(orderly_engine_health(f.e, T0, 0, 0, &h), ORDERLY_ESTORAGE);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    ck_assert_int_eq(orderly_engine_health(f.e, T0, 0, 0, &h), 0);
    ck_assert_uint_eq(h.outbox_pending, 2);
    ck_assert_int_eq(orderly_engine_health(f.e, T0, 0, 0, NULL), ORDERLY_EINVAL);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("background-health");

    orderly_test_case(s, readiness_default_thresholds, 30);
    orderly_test_case(s, readiness_custom_thresholds, 30);
    orderly_test_case(s, health_queue_figures, 30);
    orderly_test_case(s, metrics_every_name_once, 30);
    orderly_test_case(s, metrics_storage_failure, 30);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
