/*
 * Timers: each kind fires once, exactly at its deadline (not a millisecond
 * before), through the idempotent path, and does nothing once its state
 * was left. tick() works in bounded batches.
 */
#include "bg.h"

/* One tick call; returns how many timers changed state. */
static size_t tick1(fx *f, orderly_time_ms now, size_t max)
{
    size_t fired = 99;

    ck_assert_int_eq(orderly_engine_tick(f->e, now, max, &fired), 0);
    return fired;
}

static size_t cancelled_events(fx *f, const char *order, orderly_time_ms now)
{
    pump_all(f, now);
    return count_type(f, order, "order.cancelled");
}

START_TEST(reservation_ttl_at_deadline)
{
    fx f;
    orderly_time_ms due;

    fx_setup(&f);
    due = T0 + f.policy.reservation_ttl;
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    create_ok(&f, "paid", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "paid", T0 + MIN);
    ck_assert_uint_eq(health(&f, due - 1).timers_due, 0);
    ck_assert_uint_eq(tick1(&f, due - 1, 0), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_ACTIVE);
    /* o1's lines' TTLs are due, in one row per order; "paid"'s row was
     * finished by its authorization, which confirmed both its lines. The
     * due row expires o1's first line, which cancels the order and
     * releases the other */
    ck_assert_uint_eq(health(&f, due).timers_due, 1);
    ck_assert_uint_eq(tick1(&f, due, 0), 1);
    ck_assert_uint_eq(health(&f, due).timers_due, 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_EXPIRED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_RELEASED);
    ck_assert_int_eq(view(&f, "paid").order_state, ORDERLY_ORDER_CONFIRMED);
    ck_assert_int_eq(part_state(&f, "paid", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_CONFIRMED);
    ck_assert_uint_eq(cancelled_events(&f, "o1", due), 1);
    /* later deadlines of the cancelled order (abandoned, SLA) find it left */
    ck_assert_uint_eq(tick1(&f, T0 + 3 * DAY, 0), 0);
    ck_assert_uint_eq(cancelled_events(&f, "o1", T0 + 3 * DAY), 1);
    fx_free(&f);
}
END_TEST

START_TEST(cod_window_at_deadline)
{
    fx f;
    orderly_time_ms due;

    fx_init(&f);
    f.policy.reservation_ttl = 48 * HOUR;
    f.policy.abandoned_after = 48 * HOUR;
    f.policy.fulfillment_sla = 72 * HOUR;
    fx_open(&f);
    due = T0 + f.policy.cod_window;
    ck_assert_int_eq(f.policy.cod_window, 24 * HOUR);
    create_ok(&f, "c1", ORDERLY_PAY_COD, T0);
    create_ok(&f, "c2", ORDERLY_PAY_COD, T0);
    APPLY_OK(&f, "c2", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0, T0 + HOUR);
    ck_assert_uint_eq(tick1(&f, due - 1, 0), 0);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_PENDING);
    ck_assert_uint_eq(tick1(&f, due, 0), 1);
    ck_assert_int_eq(view(&f, "c1").payment_state, ORDERLY_PAYMENT_COD_CANCELLED);
    ck_assert_int_eq(view(&f, "c1").order_state, ORDERLY_ORDER_CANCELLED);
    /* confirmed inside the window: its timer finds the state left */
    ck_assert_int_eq(view(&f, "c2").payment_state, ORDERLY_PAYMENT_COD_CONFIRMED);
    ck_assert_int_eq(view(&f, "c2").order_state, ORDERLY_ORDER_CONFIRMED);
    ck_assert_uint_eq(tick1(&f, due + DAY, 0), 0);
    ck_assert_uint_eq(cancelled_events(&f, "c1", due + DAY), 1);
    ck_assert_uint_eq(cancelled_events(&f, "c2", due + DAY), 0);
    fx_free(&f);
}
END_TEST

START_TEST(auth_expiry_at_deadline)
{
    fx f;
    orderly_time_ms ta = T0 + MIN, due;
    operation_rec ef;

    fx_setup(&f);
    due = ta + f.policy.auth_window;
    create_ok(&f, "a1", ORDERLY_PAY_CARD, T0);
    create_ok(&f, "a2", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "a1", ta);
    authorize_ok(&f, "a2", ta);
    capture_ok(&f, "a2", ta + HOUR);
    (void)tick1(&f, due - 1, 0);
    ck_assert_int_eq(view(&f, "a1").payment_state, ORDERLY_PAYMENT_AUTHORIZED);
    ck_assert_uint_eq(count_op(&f, "a1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 0);
    ck_assert_uint_eq(health(&f, due - 1).timers_due, 0);
    ck_assert_uint_eq(tick1(&f, due, 0), 1);
    /* expired, then settled by the cancel it cascades to: voided once */
    ck_assert_int_eq(view(&f, "a1").payment_state, ORDERLY_PAYMENT_VOIDED);
    ck_assert_int_eq(view(&f, "a1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_uint_eq(count_op(&f, "a1", ORDERLY_OP_VOID_AUTHORIZATION, &ef), 1);
    ck_assert_int_eq(ef.amount, TOTAL);
    /* captured before its authorization lapsed: untouched */
    ck_assert_int_eq(view(&f, "a2").payment_state, ORDERLY_PAYMENT_CAPTURED);
    ck_assert_int_eq(view(&f, "a2").order_state, ORDERLY_ORDER_CONFIRMED);
    ck_assert_uint_eq(count_op(&f, "a2", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 0);
    ck_assert_uint_eq(tick1(&f, due + 30 * DAY, 0), 0);
    ck_assert_uint_eq(count_op(&f, "a1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 1);
    fx_free(&f);
}
END_TEST

START_TEST(auto_complete_at_deadline)
{
    fx f;
    orderly_time_ms ts = T0 + HOUR, due;

    fx_init(&f);
    f.policy.auto_complete_after = 5 * DAY;
    fx_open(&f);
    due = ts + 5 * DAY;
    create_ok(&f, "s1", ORDERLY_PAY_CARD, T0);
    create_ok(&f, "s2", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "s1", T0 + 1000);
    authorize_ok(&f, "s2", T0 + 1000);
    capture_ok(&f, "s1", T0 + 2000);
    capture_ok(&f, "s2", T0 + 2000);
    ship_ful(&f, "s1", 0, ts - 1000);
    ship_ful(&f, "s1", 1, ts);
    ship_ful(&f, "s2", 0, ts - 1000);
    ship_ful(&f, "s2", 1, ts);
    ck_assert_int_eq(view(&f, "s1").order_state, ORDERLY_ORDER_SHIPPED);
    /* s2 leaves shipped for delivered a day later: a new, later deadline */
    deliver_ship(&f, "s2", 0, ts + DAY);
    deliver_ship(&f, "s2", 1, ts + DAY);
    ck_assert_int_eq(view(&f, "s2").order_state, ORDERLY_ORDER_DELIVERED);
    (void)tick1(&f, due - 1, 0);
    ck_assert_int_eq(view(&f, "s1").order_state, ORDERLY_ORDER_SHIPPED);
    ck_assert_uint_eq(tick1(&f, due, 0), 1);
    ck_assert_int_eq(view(&f, "s1").order_state, ORDERLY_ORDER_COMPLETED);
    ck_assert_int_eq(view(&f, "s2").order_state, ORDERLY_ORDER_DELIVERED);
    ck_assert_uint_eq(tick1(&f, due + DAY - 1, 0), 0);
    ck_assert_int_eq(view(&f, "s2").order_state, ORDERLY_ORDER_DELIVERED);
    ck_assert_uint_eq(tick1(&f, due + DAY, 0), 1);
    ck_assert_int_eq(view(&f, "s2").order_state, ORDERLY_ORDER_COMPLETED);
    ck_assert_uint_eq(tick1(&f, due + 30 * DAY, 0), 0);
    fx_free(&f);
}
END_TEST

START_TEST(fulfillment_sla_at_deadline)
{
    fx f;
    orderly_time_ms due;

    fx_setup(&f);
    /* the SLA runs from the order's confirmation */
    due = T0 + 1000 + f.policy.fulfillment_sla;
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    ship_ful(&f, "o1", 0, T0 + HOUR);
    (void)tick1(&f, due - 1, 0);
    pump_all(&f, due - 1);
    ck_assert_uint_eq(count_type(&f, "o1", "fulfillment.sla_breached"), 0);
    /* only the warehouse that has not shipped breaches; nothing changes state */
    ck_assert_uint_eq(tick1(&f, due, 0), 0);
    pump_all(&f, due);
    ck_assert_uint_eq(count_type(&f, "o1", "fulfillment.sla_breached"), 1);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_SHIPPED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 1), ORDERLY_FULFILLMENT_PENDING);
    ck_assert_uint_eq(health(&f, due).timers_due, 0);
    (void)tick1(&f, due + 30 * DAY, 0);
    pump_all(&f, due + 30 * DAY);
    ck_assert_uint_eq(count_type(&f, "o1", "fulfillment.sla_breached"), 1);
    fx_free(&f);
}
END_TEST

START_TEST(abandoned_at_deadline)
{
    fx f;
    orderly_time_ms due;

    fx_init(&f);
    f.policy.reservation_ttl = 3 * HOUR;
    f.policy.abandoned_after = 2 * HOUR;
    fx_open(&f);
    due = T0 + 2 * HOUR;
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    create_ok(&f, "paid", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "paid", T0 + MIN);
    ck_assert_uint_eq(tick1(&f, due - 1, 0), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_uint_eq(tick1(&f, due, 0), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_RELEASED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_RESERVATION, 1), ORDERLY_RESERVATION_RELEASED);
    ck_assert_int_eq(view(&f, "paid").order_state, ORDERLY_ORDER_CONFIRMED);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    /* the TTLs of the released reservations come due later and do nothing */
    ck_assert_uint_eq(tick1(&f, T0 + 3 * HOUR, 0), 0);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    ck_assert_uint_eq(cancelled_events(&f, "o1", T0 + 3 * HOUR), 1);
    fx_free(&f);
}
END_TEST

/* More due timers than one call may take: each call takes at most max
 * (and never more than policy.batch_max), and the rest wait their turn. */
START_TEST(tick_paginated)
{
    fx f;
    char id[16];
    orderly_time_ms due;
    size_t i, fired;

    fx_init(&f);
    f.policy.reservation_ttl = 3 * HOUR;
    f.policy.abandoned_after = 2 * HOUR;
    f.policy.batch_max = 4;
    fx_open(&f);
    due = T0 + 2 * HOUR;
    for (i = 0; i < 7; i++) {
        snprintf(id, sizeof id, "o%zu", i);
        create_ok(&f, id, ORDERLY_PAY_CARD, T0 + (orderly_time_ms)i);
    }
    ck_assert_uint_eq(health(&f, due + 6).timers_due, 7);
    ck_assert_uint_eq(tick1(&f, due + 6, 3), 3);
    ck_assert_uint_eq(health(&f, due + 6).timers_due, 4);
    /* the oldest go first */
    ck_assert_int_eq(view(&f, "o2").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(view(&f, "o3").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_uint_eq(tick1(&f, due + 6, 0), 4); /* 0 = the policy's batch */
    ck_assert_uint_eq(health(&f, due + 6).timers_due, 0);
    ck_assert_uint_eq(tick1(&f, due + 6, 100), 0);
    for (i = 0; i < 7; i++) {
        snprintf(id, sizeof id, "o%zu", i);
        ck_assert_int_eq(view(&f, id).order_state, ORDERLY_ORDER_CANCELLED);
    }
    /* a max above the policy's batch is capped by it (the earlier orders'
     * other deadlines are drained first: they would fill the batches) */
    for (i = 0; i < 20 && health(&f, T0 + DAY + 2 * HOUR - 1).timers_due > 0; i++)
        (void)tick1(&f, T0 + DAY + 2 * HOUR - 1, 0);
    ck_assert_uint_eq(health(&f, T0 + DAY + 2 * HOUR - 1).timers_due, 0);
    for (i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "n%zu", i);
        create_ok(&f, id, ORDERLY_PAY_CARD, T0 + DAY);
    }
    fired = tick1(&f, T0 + DAY + 2 * HOUR, 100);
    ck_assert_uint_eq(fired, 4);
    ck_assert_uint_eq(tick1(&f, T0 + DAY + 2 * HOUR, 100), 2);
    fx_free(&f);
}
END_TEST

/* A timer's command and its acknowledgement commit together: when the
 * acknowledgement fails, the fire is undone with it and no lease is left,
 * so the next tick fires the timer once, as a first delivery. */
START_TEST(timer_fire_and_ack_commit_together)
{
    fx f;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    orderly_engine_stats s1 = ORDERLY_ENGINE_STATS_INIT, s2 = ORDERLY_ENGINE_STATS_INIT;
    orderly_time_ms due;

    fx_init(&f);
    f.policy.reservation_ttl = 3 * HOUR;
    f.policy.abandoned_after = 2 * HOUR;
    fx_open(&f);
    due = T0 + 2 * HOUR;
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    p.method = ORDERLY_METHOD_QUEUE_FINISH;
    p.fail_at = 1;
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    ck_assert_int_eq(orderly_engine_tick(f.e, due, 0, NULL), ORDERLY_ESTORAGE);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    ck_assert_int_ne(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_uint_eq(health(&f, due).outbox_leased, 0);
    orderly_engine_get_stats(f.e, &s1);
    ck_assert_uint_ge(tick1(&f, due, 0), 1);
    orderly_engine_get_stats(f.e, &s2);
    ck_assert_uint_eq(s2.duplicates, s1.duplicates);
    ck_assert_uint_gt(s2.applied, s1.applied);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_uint_eq(health(&f, due).leases_expired_total, 0);
    ck_assert_uint_eq(cancelled_events(&f, "o1", due + HOUR), 1);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    fx_free(&f);
}
END_TEST

/* A timer whose transaction fails transiently is retried after a backoff,
 * not dropped and not re-run before that. */
START_TEST(timer_transient_failure_retried)
{
    fx f;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    orderly_time_ms due;
    rows rs;
    size_t i, ready = 0, n = 99;

    fx_init(&f);
    f.policy.reservation_ttl = 3 * HOUR;
    f.policy.abandoned_after = 2 * HOUR;
    fx_open(&f);
    due = T0 + 2 * HOUR;
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    p.method = ORDERLY_METHOD_SAVE;
    p.fail_at = 1;
    p.persistent = 1;
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    /* the storage failure stops the step and is reported ... */
    ck_assert_int_eq(orderly_engine_tick(f.e, due, 0, &n), ORDERLY_ESTORAGE);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    /* ... and the deadline is kept, due at once, its attempt given back */
    queue_rows(f.st, ORDERLY_QUEUE_TIMERS, &rs);
    for (i = 0; i < rs.n; i++) {
        if (rs.r[i].kind == ORDERLY_TIMER_ABANDONED) {
            ck_assert_uint_eq(rs.r[i].state, ORDERLY_ITEM_READY);
            ck_assert_uint_eq(rs.r[i].attempts, 0);
            ck_assert_int_eq(rs.r[i].due, due);
            ready++;
        }
    }
    ck_assert_uint_eq(ready, 1);
    ck_assert_uint_eq(tick1(&f, due, 0), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    fx_free(&f);
}
END_TEST

/* A host that pumps from inside on_work, as soon as work is reported:
 * a tick whose timers queue events must not lose its own batch to it. */
static void pump_inside(orderly_engine *e, size_t n, void *ud)
{
    size_t *pumped = ud, published = 0;

    (void)n;
    ck_assert_int_eq(orderly_engine_pump(e, T0 + 2 * HOUR, 0, &published), 0);
    *pumped += published;
}

START_TEST(tick_with_pump_in_on_work)
{
    fx f;
    orderly_health h = ORDERLY_HEALTH_INIT;
    size_t pumped = 0, i;
    char id[16];

    fx_init(&f);
    f.policy.reservation_ttl = 3 * HOUR;
    f.policy.abandoned_after = 2 * HOUR;
    f.o.on_work = pump_inside;
    f.o.work_user_data = &pumped;
    fx_open(&f);
    for (i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "o%zu", i);
        create_ok(&f, id, ORDERLY_PAY_CARD, T0);
    }
    ck_assert_uint_eq(pumped, 3);
    ck_assert_uint_eq(tick1(&f, T0 + 2 * HOUR, 0), 3);
    for (i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "o%zu", i);
        ck_assert_int_eq(view(&f, id).order_state, ORDERLY_ORDER_CANCELLED);
    }
    h = health(&f, T0 + 2 * HOUR);
    ck_assert_uint_eq(h.stale_completions, 0);
    ck_assert_uint_eq(h.timers_due, 0);
    ck_assert_uint_eq(h.outbox_pending, 0);
    ck_assert_uint_gt(pumped, 3);
    /* nothing left leased to be fired again after the lease */
    ck_assert_uint_eq(tick1(&f, T0 + 2 * HOUR + f.policy.lease, 0), 0);
    ck_assert_uint_eq(health(&f, T0 + 2 * HOUR + f.policy.lease).leases_expired_total, 0);
    fx_free(&f);
}
END_TEST

/* More transient failures than operation_max_attempts never lose a deadline:
 * a storage outage only delays the timer. */
START_TEST(timer_outlives_a_long_storage_outage)
{
    fx f;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    orderly_time_ms t;
    size_t n;
    int k;

    fx_init(&f);
    f.policy.reservation_ttl = 3 * HOUR;
    f.policy.abandoned_after = 2 * HOUR;
    f.policy.operation_max_attempts = 2;
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    p.method = ORDERLY_METHOD_SAVE;
    p.fail_at = 1;
    p.persistent = 1;
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    for (k = 0, t = T0 + 2 * HOUR; k < 10; k++, t += MIN)
        ck_assert_int_eq(orderly_engine_tick(f.e, t, 0, &n), ORDERLY_ESTORAGE);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    ck_assert_uint_eq(tick1(&f, t, 0), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("background-timers");

    orderly_test_case(s, reservation_ttl_at_deadline, 30);
    orderly_test_case(s, cod_window_at_deadline, 30);
    orderly_test_case(s, auth_expiry_at_deadline, 30);
    orderly_test_case(s, auto_complete_at_deadline, 30);
    orderly_test_case(s, fulfillment_sla_at_deadline, 30);
    orderly_test_case(s, abandoned_at_deadline, 30);
    orderly_test_case(s, tick_paginated, 30);
    orderly_test_case(s, timer_fire_and_ack_commit_together, 30);
    orderly_test_case(s, timer_transient_failure_retried, 30);
    orderly_test_case(s, timer_outlives_a_long_storage_outage, 30);
    orderly_test_case(s, tick_with_pump_in_on_work, 30);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
