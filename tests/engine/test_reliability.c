/* Idempotency, faults, ordering, money, envelopes, webhooks, outbox. */
#include "fixture.h"
#include "../../lib/engine/aggregate.h"

/* Every command of a lifecycle, redelivered with its key, is a duplicate. */
START_TEST(redelivery_every_event_once)
{
    fx f;
    orderly_engine_stats s1 = ORDERLY_ENGINE_STATS_INIT, s2 = ORDERLY_ENGINE_STATS_INIT;
    orderly_health h1 = ORDERLY_HEALTH_INIT, h2 = ORDERLY_HEALTH_INIT;
    orderly_order_view v1 = ORDERLY_ORDER_VIEW_INIT;
    size_t i, n, msgs;
    uint32_t idx = 0;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(orderly_engine_open_return(f.e, &idx, "o1", 500, 0, "ret-1", T0 + HOUR, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, T0 + HOUR);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, T0 + HOUR);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, T0 + HOUR);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, T0 + HOUR);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, idx, 0, T0 + HOUR);
    pump_all(&f, T0 + HOUR);
    msgs = orderly_memory_transport_count(f.tr);
    orderly_engine_get_stats(f.e, &s1);
    h1 = health(&f, T0 + HOUR);
    v1 = view(&f, "o1");
    n = f.n_log;
    ck_assert_uint_ge(n, 20);
    for (i = 0; i < n; i++) {
        orderly_command c;
        logged_cmd *l = &f.log[i];
        int rc;
        memset(&c, 0, sizeof c);
        c.order_id = l->order;
        c.machine = l->machine;
        c.event = l->event;
        c.index = l->index;
        c.amount = l->amount;
        c.idem_key = l->key;
        c.now = l->now + 2 * DAY; /* days later */
        rc = orderly_engine_apply(f.e, &c, &r);
        ck_assert_msg(rc == 0, "replay %zu: %d %s", i, rc, orderly_engine_errmsg(f.e));
        ck_assert_msg(r.duplicate == 1, "replay %zu (%d/%d) not a duplicate", i, l->machine, l->event);
    }
    pump_all(&f, T0 + 3 * DAY);
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), msgs);
    orderly_engine_get_stats(f.e, &s2);
    ck_assert_uint_eq(s2.outbox_appended, s1.outbox_appended);
    ck_assert_uint_eq(s2.operations_recorded, s1.operations_recorded);
    ck_assert_uint_eq(s2.duplicates, s1.duplicates + n);
    h2 = health(&f, T0 + HOUR);
    ck_assert_uint_eq(h2.operations_pending, h1.operations_pending);
    ck_assert_uint_eq(view(&f, "o1").version, v1.version);
    /* the create request itself too */
    ck_assert_int_eq(create_ex(&f, "o1", ORDERLY_PAY_CARD, 0, 0, T0, &r), 0);
    ck_assert_uint_eq(r.duplicate, 1);
    fx_free(&f);
}
END_TEST

START_TEST(idem_mismatch)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(applyk(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL,
                            T0 + 1000, "k1", &r), 0);
    v = view(&f, "o1");
    ck_assert_int_eq(applyk(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0,
                            T0 + 2000, "k1", &r), ORDERLY_EIDEMMISMATCH);
    ck_assert_int_eq(applyk(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL + 1,
                            T0 + 2000, "k1", &r), ORDERLY_EIDEMMISMATCH);
    ck_assert_uint_eq(view(&f, "o1").version, v.version);
    /* same key, same command: the stored first result */
    ck_assert_int_eq(applyk(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL,
                            T0 + 3000, "k1", &r), 0);
    ck_assert_uint_eq(r.duplicate, 1);
    ck_assert_int_eq(r.to, ORDERLY_PAYMENT_AUTHORIZED);
    fx_free(&f);
}
END_TEST

START_TEST(idem_concurrent_inflight)
{
    fx f;
    orderly_transport *tr2 = NULL;
    orderly_engine *b = NULL;
    orderly_engine_options o2;
    orderly_command c;
    orderly_result ra = ORDERLY_RESULT_INIT, rb = ORDERLY_RESULT_INIT;
    orderly_engine_stats s = ORDERLY_ENGINE_STATS_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_memory_transport_new(&tr2, NULL), 0);
    o2 = f.o;
    o2.transport = tr2;
    ck_assert_int_eq(orderly_engine_open(&b, &o2, NULL), 0);
    memset(&c, 0, sizeof c);
    c.order_id = "o1";
    c.machine = ORDERLY_MACHINE_PAYMENT;
    c.event = ORDERLY_PAYMENT_EV_AUTHORIZE;
    c.amount = TOTAL;
    c.idem_key = "pay-evt-1";
    c.now = T0 + 1000;
    ck_assert_int_eq(orderly_engine_begin_batch(f.e), 0);
    ck_assert_int_eq(orderly_engine_apply(f.e, &c, &ra), 0);
    ck_assert_uint_eq(ra.duplicate, 0);
    ck_assert_int_eq(orderly_engine_apply(b, &c, &rb), ORDERLY_EINFLIGHT);
    orderly_engine_get_stats(b, &s);
    ck_assert_uint_eq(s.idem_busy, 1);
    ck_assert_int_eq(orderly_engine_commit_batch(f.e), 0);
    ck_assert_int_eq(orderly_engine_apply(b, &c, &rb), 0);
    ck_assert_uint_eq(rb.duplicate, 1);
    ck_assert_int_eq(rb.to, ORDERLY_PAYMENT_AUTHORIZED);
    ck_assert_uint_eq(rb.version, ra.version);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CONFIRMED);
    orderly_engine_close(b);
    orderly_memory_transport_free(tr2);
    fx_free(&f);
}
END_TEST

START_TEST(idem_ttl_below_retry_horizon)
{
    fx f;
    orderly_engine *e = NULL;
    orderly_ctx *ctx = NULL;

    fx_init(&f);
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    f.policy.idem_ttl = 1000;
    ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_null(e);
    f.policy.idem_ttl = 0;
    ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), ORDERLY_ECONFIG);
    f.policy.idem_ttl = 7 * DAY;
    f.policy.reservation_ttl = 0;
    ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), ORDERLY_ECONFIG);
    orderly_ctx_free(ctx);
    f.policy.reservation_ttl = 15 * MIN;
    fx_open(&f);
    fx_free(&f);
}
END_TEST

/* A storage failure at any call leaves everything as it was. */
START_TEST(storage_fault_every_call_create)
{
    fx f;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    uint64_t n, faults;
    char id[32];
    int rc, done = 0;

    fx_setup(&f);
    for (n = 1; n < 200 && !done; n++) {
        orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
        orderly_health h = ORDERLY_HEALTH_INIT;
        snprintf(id, sizeof id, "o%llu", (unsigned long long)n);
        p.method = ORDERLY_METHOD_ANY;
        p.fail_at = n;
        faults = orderly_memory_storage_faults(f.st);
        ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
        rc = create_ex(&f, id, ORDERLY_PAY_CARD, 0, 0, T0, NULL);
        ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
        if (rc < 0) {
            ck_assert_msg(rc == ORDERLY_ESTORAGE, "n=%llu rc=%d", (unsigned long long)n, rc);
            ck_assert_int_eq(orderly_engine_get_order(f.e, id, &v), ORDERLY_ENOTFOUND);
            h = health(&f, T0);
            ck_assert_uint_eq(h.outbox_pending, 0);
            ck_assert_uint_eq(h.operations_pending, 0);
        } else {
            ck_assert_int_eq(view(&f, id).order_state, ORDERLY_ORDER_PENDING);
            ck_assert_uint_eq(health(&f, T0).outbox_pending, 1);
            done = orderly_memory_storage_faults(f.st) == faults;
        }
        /* reset: start each attempt from an empty store */
        fx_free(&f);
        fx_setup(&f);
    }
    ck_assert_msg(done, "create never succeeded without a fault");
    fx_free(&f);
}
END_TEST

START_TEST(storage_fault_every_call_authorize)
{
    fx f;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    uint64_t n, faults;
    char id[32];
    int rc, done = 0;

    fx_setup(&f);
    for (n = 1; n < 300 && !done; n++) {
        orderly_order_view before = ORDERLY_ORDER_VIEW_INIT, after = ORDERLY_ORDER_VIEW_INIT;
        orderly_health h0 = ORDERLY_HEALTH_INIT, h1 = ORDERLY_HEALTH_INIT;
        orderly_result r = ORDERLY_RESULT_INIT;
        snprintf(id, sizeof id, "o%llu", (unsigned long long)n);
        create_ok(&f, id, ORDERLY_PAY_CARD, T0);
        before = view(&f, id);
        h0 = health(&f, T0);
        p.method = ORDERLY_METHOD_ANY;
        p.fail_at = n;
        faults = orderly_memory_storage_faults(f.st);
        ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
        rc = apply(&f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL, T0 + 1000, &r);
        ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
        after = view(&f, id);
        h1 = health(&f, T0);
        if (rc < 0) {
            ck_assert_msg(rc == ORDERLY_ESTORAGE, "n=%llu rc=%d", (unsigned long long)n, rc);
            ck_assert_int_eq(after.order_state, before.order_state);
            ck_assert_int_eq(after.payment_state, before.payment_state);
            ck_assert_uint_eq(after.version, before.version);
            ck_assert_int_eq(after.authorized, 0);
            ck_assert_uint_eq(h1.outbox_pending, h0.outbox_pending);
            ck_assert_uint_eq(h1.operations_pending, h0.operations_pending);
            ck_assert_int_eq(part_state(&f, id, ORDERLY_MACHINE_RESERVATION, 0), ORDERLY_RESERVATION_ACTIVE);
        } else {
            ck_assert_int_eq(after.order_state, ORDERLY_ORDER_CONFIRMED);
            ck_assert_uint_gt(h1.outbox_pending, h0.outbox_pending);
            done = orderly_memory_storage_faults(f.st) == faults;
        }
    }
    ck_assert_msg(done, "authorize never succeeded without a fault");
    fx_free(&f);
}
END_TEST

START_TEST(late_event_counted)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_engine_stats s1 = ORDERLY_ENGINE_STATS_INIT, s2 = ORDERLY_ENGINE_STATS_INIT;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    ship_ful(&f, "o1", 0, T0 + 2000);
    orderly_engine_get_stats(f.e, &s1);
    v = view(&f, "o1");
    ck_assert_int_eq(applyk(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PICKED, 0, 0,
                            T0 + 3000, "late-picked-1", &r), 0);
    ck_assert_uint_eq(r.late, 1);
    ck_assert_uint_eq(r.duplicate, 0);
    ck_assert_int_eq(r.from, ORDERLY_FULFILLMENT_SHIPPED);
    ck_assert_int_eq(r.to, ORDERLY_FULFILLMENT_SHIPPED);
    ck_assert_int_eq(part_state(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_SHIPPED);
    ck_assert_int_eq(view(&f, "o1").order_state, v.order_state);
    orderly_engine_get_stats(f.e, &s2);
    ck_assert_uint_eq(s2.late_ignored, s1.late_ignored + 1);
    ck_assert_uint_eq(s2.outbox_appended, s1.outbox_appended);
    ck_assert_uint_ge(health(&f, T0 + 3000).late_ignored, 1);
    fx_free(&f);
}
END_TEST

START_TEST(money_invariants)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_engine_stats s1 = ORDERLY_ENGINE_STATS_INIT, s2 = ORDERLY_ENGINE_STATS_INIT;
    int rc;

    fx_setup(&f);
    create_ok(&f, "o2", ORDERLY_PAY_CARD, T0);
    rc = apply(&f, "o2", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL - 1, T0 + 1, &r);
    ck_assert_int_eq(rc, ORDERLY_EINVARIANT);
    ck_assert_int_eq(view(&f, "o2").payment_state, ORDERLY_PAYMENT_PENDING);
    ck_assert_int_eq(view(&f, "o2").authorized, 0);

    to_delivered(&f, "o1", T0);
    v = view(&f, "o1");
    orderly_engine_get_stats(f.e, &s1);
    rc = apply(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REFUND, 0, TOTAL + 1, T0 + HOUR, &r);
    ck_assert_msg(rc == ORDERLY_EGUARD || rc == ORDERLY_EINVARIANT, "rc %d", rc);
    orderly_engine_get_stats(f.e, &s2);
    ck_assert_uint_eq(view(&f, "o1").version, v.version);
    ck_assert_int_eq(view(&f, "o1").refunded, 0);
    ck_assert_uint_eq(s2.outbox_appended, s1.outbox_appended);
    ck_assert_uint_eq(s2.operations_recorded, s1.operations_recorded);
    ck_assert_uint_eq(count_op(&f, "o1", ORDERLY_OP_REFUND, NULL), 0);
    /* a return larger than what was paid is refused too */
    {
        uint32_t idx;
        rc = orderly_engine_open_return(f.e, &idx, "o1", TOTAL + 1, 0, "ret-big", T0 + HOUR, &r);
        ck_assert_int_lt(rc, 0);
    }
    fx_free(&f);
}
END_TEST

/* ---- envelopes ---- */

START_TEST(envelope_decode)
{
    const char *good = "{\"specversion\":\"1.0\",\"id\":\"e1\",\"source\":\"s\",\"type\":\"payment.authorize\","
                       "\"subject\":\"o1\",\"schemaversion\":1,\"x-extra\":{\"a\":[1,2]},\"data\":{\"amount\":5}}";
    const char *v2 = "{\"specversion\":\"1.0\",\"id\":\"e1\",\"source\":\"s\",\"type\":\"a.b\",\"schemaversion\":3}";
    const char *notype = "{\"specversion\":\"1.0\",\"id\":\"e1\",\"source\":\"s\"}";
    const char *noid = "{\"specversion\":\"1.0\",\"source\":\"s\",\"type\":\"order.cancel\",\"subject\":\"o9\"}";
    orderly_event *ev = NULL;
    orderly_envelope env;
    orderly_ctx *ctx = NULL;
    char want[ORDERLY_EVENT_ID_SIZE];

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(orderly_event_decode(&ev, (const uint8_t *)good, strlen(good), NULL, ctx), 0);
    ck_assert_int_eq(orderly_event_fields(ev, &env), 0);
    ck_assert_str_eq(env.id, "e1");
    ck_assert_str_eq(env.type, "payment.authorize");
    ck_assert_str_eq(env.subject, "o1");
    ck_assert_int_eq(env.schemaversion, 1);
    ck_assert_ptr_nonnull(env.data);
    orderly_event_free(ev);
    ev = NULL;
    ck_assert_int_eq(orderly_event_decode(&ev, (const uint8_t *)v2, strlen(v2), NULL, ctx), ORDERLY_EVERSION);
    ck_assert_ptr_null(ev);
    ck_assert_int_eq(orderly_event_decode(&ev, (const uint8_t *)notype, strlen(notype), NULL, ctx),
                     ORDERLY_EENVELOPE);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "type"));
    /* CloudEvents makes id required: none is made up from (type, subject),
     * which would merge two different events of one order */
    ck_assert_int_eq(orderly_event_decode(&ev, (const uint8_t *)noid, strlen(noid), NULL, ctx),
                     ORDERLY_EENVELOPE);
    ck_assert_ptr_null(ev);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "'id'"));
    ck_assert_int_eq(orderly_event_derive_id(want, "order.cancel", "o9"), 0);
    ck_assert_uint_eq(strlen(want), 32);
    ck_assert_int_eq(orderly_event_decode(&ev, (const uint8_t *)"nope", 4, NULL, ctx), ORDERLY_EENVELOPE);
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(envelope_round_trip)
{
    char *s = make_env("id-42", "shipment.deliver", "ord-7", "{\"index\":1}");
    orderly_event *ev = NULL;
    orderly_envelope env;

    ck_assert_int_eq(orderly_event_decode(&ev, (const uint8_t *)s, strlen(s), NULL, NULL), 0);
    ck_assert_int_eq(orderly_event_fields(ev, &env), 0);
    ck_assert_str_eq(env.id, "id-42");
    ck_assert_str_eq(env.source, "test");
    ck_assert_str_eq(env.type, "shipment.deliver");
    ck_assert_str_eq(env.subject, "ord-7");
    ck_assert_int_eq(env.schemaversion, 1);
    ck_assert_ptr_nonnull(env.data);
    ck_assert_ptr_nonnull(strstr(env.data, "\"index\""));
    orderly_event_free(ev);
    free(s);
}
END_TEST

/* ---- webhooks ---- */

static const uint8_t secret[] = "whsec_test";
#define SLEN (sizeof secret - 1)

START_TEST(webhook_verify)
{
    const char *payload = "{\"hello\":1}";
    size_t len = strlen(payload);
    int64_t ts = 1700000000;
    orderly_time_ms now = ts * 1000 + 5000;
    char hdr[256], two[512], bad[256];
    const char *v1;

    ck_assert_int_eq(orderly_webhook_sign(hdr, sizeof hdr, secret, SLEN, (const uint8_t *)payload, len, ts), 0);
    ck_assert_int_eq(orderly_webhook_verify(secret, SLEN, hdr, (const uint8_t *)payload, len, 300, now, NULL), 0);
    ck_assert_int_eq(orderly_webhook_verify(secret, SLEN, hdr, (const uint8_t *)"{\"hello\":2}", len, 300, now, NULL),
                     ORDERLY_ESIGNATURE);
    ck_assert_int_eq(orderly_webhook_verify((const uint8_t *)"other", 5, hdr, (const uint8_t *)payload, len, 300,
                                            now, NULL),
                     ORDERLY_ESIGNATURE);
    v1 = strstr(hdr, "v1=");
    ck_assert_ptr_nonnull(v1);
    {
        char zeros[128];
        size_t hl = strlen(v1 + 3), i;
        for (i = 0; i < hl && i < sizeof zeros - 1; i++)
            zeros[i] = '0';
        zeros[i] = '\0';
        snprintf(two, sizeof two, "t=%lld,v1=%s,%s", (long long)ts, zeros, v1);
    }
    ck_assert_int_eq(orderly_webhook_verify(secret, SLEN, two, (const uint8_t *)payload, len, 300, now, NULL), 0);
    ck_assert_int_eq(orderly_webhook_verify(secret, SLEN, hdr, (const uint8_t *)payload, len, 300,
                                            now + 3600 * 1000, NULL),
                     ORDERLY_ESTALE);
    ck_assert_int_eq(orderly_webhook_verify(secret, SLEN, hdr, (const uint8_t *)payload, len, 300,
                                            now - 3600 * 1000, NULL),
                     ORDERLY_ESTALE);
    ck_assert_int_eq(orderly_webhook_verify(secret, SLEN, "garbage", (const uint8_t *)payload, len, 300, now, NULL),
                     ORDERLY_ESIGHEADER);
    snprintf(bad, sizeof bad, "t=abc,%s", v1);
    ck_assert_int_eq(orderly_webhook_verify(secret, SLEN, bad, (const uint8_t *)payload, len, 300, now, NULL),
                     ORDERLY_ESIGHEADER);
    snprintf(bad, sizeof bad, "t=%lld", (long long)ts);
    ck_assert_int_eq(orderly_webhook_verify(secret, SLEN, bad, (const uint8_t *)payload, len, 300, now, NULL),
                     ORDERLY_ESIGHEADER);
    ck_assert_int_eq(orderly_webhook_verify(secret, SLEN, "", (const uint8_t *)payload, len, 300, now, NULL),
                     ORDERLY_ESIGHEADER);
}
END_TEST

START_TEST(webhook_handle_once)
{
    fx f;
    char *env;
    char hdr[256];
    int64_t ts = T0 / 1000 + 10;
    orderly_time_ms now = ts * 1000;
    orderly_result r1 = ORDERLY_RESULT_INIT, r2 = ORDERLY_RESULT_INIT;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    env = make_env("wh-evt-1", "payment.authorize", "o1", "{\"amount\":2000}");
    ck_assert_int_eq(orderly_webhook_sign(hdr, sizeof hdr, secret, SLEN, (const uint8_t *)env, strlen(env), ts), 0);
    /* a bad signature touches nothing */
    ck_assert_int_eq(orderly_engine_handle_webhook(f.e, (const uint8_t *)"x", 1, hdr, (const uint8_t *)env,
                                                   strlen(env), 300, now, &r1),
                     ORDERLY_ESIGNATURE);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_PENDING);
    ck_assert_int_eq(orderly_engine_handle_webhook(f.e, secret, SLEN, hdr, (const uint8_t *)env, strlen(env), 300,
                                                   now, &r1),
                     0);
    ck_assert_uint_eq(r1.duplicate, 0);
    v = view(&f, "o1");
    ck_assert_int_eq(v.payment_state, ORDERLY_PAYMENT_AUTHORIZED);
    ck_assert_int_eq(v.order_state, ORDERLY_ORDER_CONFIRMED);
    ck_assert_int_eq(orderly_engine_handle_webhook(f.e, secret, SLEN, hdr, (const uint8_t *)env, strlen(env), 300,
                                                   now + 1000, &r2),
                     0);
    ck_assert_uint_eq(r2.duplicate, 1);
    ck_assert_uint_eq(view(&f, "o1").version, v.version);
    free(env);
    fx_free(&f);
}
END_TEST

/* ---- outbox ---- */

static void run_script(fx *f)
{
    create_ok(f, "a", ORDERLY_PAY_CARD, T0);
    create_ok(f, "b", ORDERLY_PAY_CARD, T0 + 1);
    authorize_ok(f, "a", T0 + 2);
    APPLY_OK(f, "b", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, T0 + 3);
    APPLY_OK(f, "a", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 4);
    APPLY_OK(f, "a", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0, 0, T0 + 5);
    ship_ful(f, "a", 0, T0 + 6);
}

/* "type|type|..." of order's messages on non-dlq topics, publish order. */
static void sequence(fx *f, const char *order, char *out, size_t cap)
{
    size_t i, total = orderly_memory_transport_count(f->tr);
    orderly_message m;
    char t[96];

    out[0] = '\0';
    for (i = 0; i < total; i++) {
        ck_assert_int_eq(orderly_memory_transport_get(&m, f->tr, i), 0);
        if (m.key == NULL || strcmp(m.key, order) != 0 || strstr(m.topic, ".dlq") != NULL)
            continue;
        msg_type(&m, t, sizeof t);
        strncat(out, t, cap - strlen(out) - 1);
        strncat(out, "|", cap - strlen(out) - 1);
    }
}

START_TEST(outbox_transport_faults_then_recover)
{
    fx ref, f;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    char want_a[2048], got_a[2048], want_b[1024], got_b[1024];
    orderly_time_ms t = T0 + 10;
    size_t n;
    int i;

    fx_setup(&ref);
    run_script(&ref);
    pump_all(&ref, T0 + 10);
    ck_assert_uint_eq(health(&ref, T0 + 10).outbox_pending, 0);
    sequence(&ref, "a", want_a, sizeof want_a);
    sequence(&ref, "b", want_b, sizeof want_b);
    ck_assert_uint_gt(strlen(want_a), 0);

    fx_setup(&f);
    run_script(&f);
    p.fail_at = 1;
    p.persistent = 1;
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, &p), 0);
    for (i = 0; i < 4; i++, t += 2000) {
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
        ck_assert_uint_eq(n, 0);
    }
    ck_assert_uint_eq(orderly_memory_transport_count(f.tr), 0);
    ck_assert_uint_eq(health(&f, t).outbox_dead, 0);
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, NULL), 0);
    for (i = 0; i < 200 && health(&f, t).outbox_pending > 0; i++, t += MIN)
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    ck_assert_uint_eq(health(&f, t).outbox_pending, 0);
    ck_assert_uint_eq(health(&f, t).outbox_dead, 0);
    sequence(&f, "a", got_a, sizeof got_a);
    sequence(&f, "b", got_b, sizeof got_b);
    ck_assert_str_eq(got_a, want_a);
    ck_assert_str_eq(got_b, want_b);
    fx_free(&ref);
    fx_free(&f);
}
END_TEST

static int alerts_dead;

static void on_alert(const orderly_alert *a, void *ud)
{
    (void)ud;
    if (a->kind == ORDERLY_ALERT_DEAD_LETTER) {
        alerts_dead++;
        ck_assert_str_eq(a->group, "o1");
    }
}

START_TEST(outbox_dead_letter)
{
    fx f;
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    orderly_time_ms t = T0 + 10;
    size_t i, n, dlq = 0;
    int k;

    fx_init(&f);
    f.policy.outbox_max_attempts = 3;
    f.o.on_alert = on_alert;
    alerts_dead = 0;
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    /* the broker refuses each attempt (a permanent code, not an outage);
     * the dead-letter copy after the last one goes through */
    for (k = 0; k < 40 && alerts_dead == 0; k++, t += 2 * HOUR) {
        p.fail_at = 1;
        p.persistent = 0;
        p.code = ORDERLY_EINVAL;
        ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, &p), 0);
        ck_assert_int_eq(orderly_engine_pump(f.e, t, 0, &n), 0);
    }
    ck_assert_int_eq(alerts_dead, 1);
    ck_assert_int_le(k, 3);
    ck_assert_uint_eq(health(&f, t).outbox_dead, 1);
    ck_assert_uint_eq(health(&f, t).outbox_pending, 0);
    for (i = 0; i < orderly_memory_transport_count(f.tr); i++) {
        orderly_message m;
        ck_assert_int_eq(orderly_memory_transport_get(&m, f.tr, i), 0);
        if (strcmp(m.topic, "orderly.order.dlq") == 0)
            dlq++;
    }
    ck_assert_uint_eq(dlq, 1);
    /* dead stays dead: no further attempts */
    ck_assert_int_eq(orderly_memory_transport_set_faults(f.tr, NULL), 0);
    ck_assert_int_eq(orderly_engine_pump(f.e, t + DAY, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(alerts_dead, 1);
    fx_free(&f);
}
END_TEST

/* A retry horizon past INT64_MAX saturates instead of wrapping to a small
 * number that any idem_ttl would satisfy. */
START_TEST(policy_retry_horizon_overflow_rejected)
{
    fx f;
    orderly_engine *e = NULL;
    orderly_ctx *ctx = NULL;

    fx_init(&f);
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    f.policy.backoff_base = f.policy.backoff_max = INT64_MAX / 2 + 1;
    f.policy.lease = INT64_MAX / 2 + 1;
    f.policy.outbox_max_attempts = f.policy.operation_max_attempts = 4;
    ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_null(e);
    /* durations past 100 years are refused by name, before any sum */
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "backoff_base"));
    orderly_ctx_free(ctx);
    fx_free(&f);
}
END_TEST

/* Durations a host sets to "never" never come due: the deadlines and the
 * idempotency expiry saturate instead of wrapping into the past. */
START_TEST(policy_never_durations_never_fire)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_init(&f);
    f.policy.reservation_ttl = INT64_MAX;
    f.policy.abandoned_after = INT64_MAX;
    f.policy.idem_ttl = INT64_MAX;
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    (void)tick(&f, T0 + 365 * DAY);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_int_eq(applyk(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL,
                            T0 + 365 * DAY, "pay-1", &r), 0);
    ck_assert_uint_eq(r.duplicate, 0);
    ck_assert_int_eq(applyk(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL,
                            T0 + 366 * DAY, "pay-1", &r), 0);
    ck_assert_uint_eq(r.duplicate, 1);
    fx_free(&f);
}
END_TEST

/* ---- a concurrent duplicate that lands between check and load ------------- */

/* A storage forwarding to another that, once armed, runs a hook the next
 * time the engine loads a record: a second engine's delivery of the same
 * request commits between this one's idempotency check and its load. */
typedef struct racer {
    orderly_storage base;          /* first: what the engine sees */
    orderly_storage *in;
    void (*hook)(void *);
    void *hook_data;
} racer;

#define IN(s) (((racer *)(void *)(s))->in)

static int r_begin(orderly_storage *s, orderly_ctx *c, void **t)
{
    return IN(s)->begin(IN(s), c, t);
}
static int r_commit(orderly_storage *s, orderly_ctx *c, void *t)
{
    return IN(s)->commit(IN(s), c, t);
}
static void r_rollback(orderly_storage *s, orderly_ctx *c, void *t)
{
    IN(s)->rollback(IN(s), c, t);
}
static int r_load(orderly_storage *s, orderly_ctx *c, void *t, const char *k, orderly_buf *o,
                  uint64_t *v)
{
    racer *r = (racer *)(void *)s;
    void (*hook)(void *) = r->hook;

    r->hook = NULL;
    if (hook != NULL)
        hook(r->hook_data);
    return IN(s)->load(IN(s), c, t, k, o, v);
}
static int r_save(orderly_storage *s, orderly_ctx *c, void *t, const char *k, const uint8_t *d,
                  size_t n, uint64_t v)
{
    return IN(s)->save(IN(s), c, t, k, d, n, v);
}
static int r_scan(orderly_storage *s, orderly_ctx *c, void *t, const char *a, size_t m,
                  orderly_record_cb cb, void *ud)
{
    return IN(s)->scan(IN(s), c, t, a, m, cb, ud);
}
static int r_push(orderly_storage *s, orderly_ctx *c, void *t, int q, const orderly_queue_item *it,
                  uint64_t *id)
{
    return IN(s)->queue_push(IN(s), c, t, q, it, id);
}
static int r_claim(orderly_storage *s, orderly_ctx *c, void *t, int q, orderly_time_ms now, size_t m,
                   uint32_t cap, orderly_time_ms until, uint64_t *tok, orderly_item_cb cb, void *ud)
{
    return IN(s)->queue_claim(IN(s), c, t, q, now, m, cap, until, tok, cb, ud);
}
static int r_finish(orderly_storage *s, orderly_ctx *c, void *t, int q, uint64_t id, uint64_t tok,
                    int st, orderly_time_ms due, uint32_t attempts)
{
    return IN(s)->queue_finish(IN(s), c, t, q, id, tok, st, due, attempts);
}
static int r_reset(orderly_storage *s, orderly_ctx *c, void *t, int q, uint64_t id, int st,
                   orderly_time_ms due)
{
    return IN(s)->queue_reset(IN(s), c, t, q, id, st, due);
}
static int r_get(orderly_storage *s, orderly_ctx *c, void *t, int q, uint64_t id, orderly_item_cb cb,
                 void *ud)
{
    return IN(s)->queue_get(IN(s), c, t, q, id, cb, ud);
}
static int r_qscan(orderly_storage *s, orderly_ctx *c, void *t, int q, int st, uint64_t after,
                   size_t m, orderly_item_cb cb, void *ud)
{
    return IN(s)->queue_scan(IN(s), c, t, q, st, after, m, cb, ud);
}
static int r_purge(orderly_storage *s, orderly_ctx *c, void *t, int q, orderly_time_ms b, size_t m)
{
    return IN(s)->queue_purge(IN(s), c, t, q, b, m);
}
static int r_stats(orderly_storage *s, orderly_ctx *c, void *t, int q, orderly_time_ms now,
                   orderly_queue_stats *o)
{
    return IN(s)->queue_stats(IN(s), c, t, q, now, o);
}
static int r_idem_get(orderly_storage *s, orderly_ctx *c, void *t, const char *k, orderly_time_ms now,
                      orderly_idem_record *o, orderly_buf *b)
{
    return IN(s)->idem_get(IN(s), c, t, k, now, o, b);
}
static int r_idem_put(orderly_storage *s, orderly_ctx *c, void *t, const char *k, orderly_time_ms now,
                      const orderly_idem_record *rec)
{
    return IN(s)->idem_put(IN(s), c, t, k, now, rec);
}
static int r_idem_purge(orderly_storage *s, orderly_ctx *c, void *t, orderly_time_ms now, size_t m)
{
    return IN(s)->idem_purge(IN(s), c, t, now, m);
}

static void racer_init(racer *r, orderly_storage *in)
{
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(orderly_storage_init(&r->base, ORDERLY_STORAGE_VERSION), 0);
    r->in = in;
    r->base.begin = r_begin;
    r->base.commit = r_commit;
    r->base.rollback = r_rollback;
    r->base.load = r_load;
    r->base.save = r_save;
    r->base.scan = r_scan;
    r->base.queue_push = r_push;
    r->base.queue_claim = r_claim;
    r->base.queue_finish = r_finish;
    r->base.queue_reset = r_reset;
    r->base.queue_get = r_get;
    r->base.queue_scan = r_qscan;
    r->base.queue_purge = r_purge;
    r->base.queue_stats = r_stats;
    r->base.idem_get = r_idem_get;
    r->base.idem_put = r_idem_put;
    r->base.idem_purge = r_idem_purge;
}

/* Engine b on a racer over f's storage. */
static orderly_engine *racing_engine(fx *f, racer *r, orderly_transport **tr)
{
    orderly_engine_options o = f->o;
    orderly_engine *b = NULL;

    racer_init(r, f->st);
    ck_assert_int_eq(orderly_memory_transport_new(tr, NULL), 0);
    o.storage = &r->base;
    o.transport = *tr;
    ck_assert_int_eq(orderly_engine_open(&b, &o, NULL), 0);
    return b;
}

typedef struct winner {
    fx *f;
    const orderly_command *cmd;
    const orderly_order_spec *spec;
    orderly_result res;
    int rc;
} winner;

static void win(void *ud)
{
    winner *w = ud;

    w->rc = w->cmd != NULL ? orderly_engine_apply(w->f->e, w->cmd, &w->res)
                           : orderly_engine_create_order(w->f->e, w->spec, &w->res);
}

/* The payment provider's authorization, delivered to engine b while the
 * winner (hook, run by the racing storage) delivers the same event first. */
static void race_authorization(fx *f, racer *r, orderly_command *c, winner *w, void (*hook)(void *))
{
    memset(c, 0, sizeof *c);
    c->order_id = "o1";
    c->machine = ORDERLY_MACHINE_PAYMENT;
    c->event = ORDERLY_PAYMENT_EV_AUTHORIZE;
    c->amount = TOTAL;
    c->idem_key = "pay-evt-1";
    c->now = T0 + 1000;
    memset(w, 0, sizeof *w);
    w->res.size = sizeof w->res;
    w->f = f;
    w->cmd = c;
    r->hook = hook;
    r->hook_data = w;
}

/* The winner commits the authorization after the loser found no mark: the
 * loser then loads an authorized payment, which alone would make its copy
 * late. It is the same event, so it is a duplicate with the first result. */
START_TEST(concurrent_duplicate_is_not_late)
{
    fx f;
    racer r;
    orderly_transport *tr = NULL;
    orderly_engine *b;
    orderly_command c;
    orderly_result rb = ORDERLY_RESULT_INIT;
    orderly_engine_stats st = ORDERLY_ENGINE_STATS_INIT;
    winner w;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    b = racing_engine(&f, &r, &tr);
    race_authorization(&f, &r, &c, &w, win);
    ck_assert_int_eq(orderly_engine_apply(b, &c, &rb), 0);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_uint_eq(w.res.duplicate, 0);
    ck_assert_uint_eq(rb.late, 0);
    ck_assert_uint_eq(rb.duplicate, 1);
    ck_assert_int_eq(rb.from, w.res.from);
    ck_assert_int_eq(rb.to, ORDERLY_PAYMENT_AUTHORIZED);
    ck_assert_uint_eq(rb.version, w.res.version);
    ck_assert_uint_eq(rb.outbox_rows, w.res.outbox_rows);
    orderly_engine_get_stats(b, &st);
    ck_assert_uint_eq(st.late_ignored, 0);
    ck_assert_uint_eq(st.duplicates, 1);
    orderly_engine_close(b);
    orderly_memory_transport_free(tr);
    fx_free(&f);
}
END_TEST

static void win_uncommitted(void *ud)
{
    winner *w = ud;

    ck_assert_int_eq(orderly_engine_begin_batch(w->f->e), 0);
    w->rc = orderly_engine_apply(w->f->e, w->cmd, &w->res);
}

/* The winner has written but not committed when the loser gets there: the
 * loser is told the key is in flight, then gets the first result. */
START_TEST(concurrent_duplicate_in_flight_then_duplicate)
{
    fx f;
    racer r;
    orderly_transport *tr = NULL;
    orderly_engine *b;
    orderly_command c;
    orderly_result rb = ORDERLY_RESULT_INIT;
    winner w;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    b = racing_engine(&f, &r, &tr);
    race_authorization(&f, &r, &c, &w, win_uncommitted);
    ck_assert_int_eq(orderly_engine_apply(b, &c, &rb), ORDERLY_EINFLIGHT);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_uint_eq(rb.late, 0);
    ck_assert_int_eq(orderly_engine_commit_batch(f.e), 0);
    ck_assert_int_eq(orderly_engine_apply(b, &c, &rb), 0);
    ck_assert_uint_eq(rb.duplicate, 1);
    ck_assert_uint_eq(rb.late, 0);
    ck_assert_uint_eq(rb.version, w.res.version);
    orderly_engine_close(b);
    orderly_memory_transport_free(tr);
    fx_free(&f);
}
END_TEST

/* The same for a create: the loser finds the order the winner made from
 * its very request, which is a duplicate, not EEXISTS. */
START_TEST(concurrent_duplicate_create_is_not_eexists)
{
    fx f;
    racer r;
    orderly_transport *tr = NULL;
    orderly_engine *b;
    orderly_order_spec sp;
    orderly_result rb = ORDERLY_RESULT_INIT;
    winner w;

    fx_setup(&f);
    b = racing_engine(&f, &r, &tr);
    memset(&sp, 0, sizeof sp);
    sp.order_id = "o1";
    sp.currency = "EUR";
    sp.payment_method = ORDERLY_PAY_CARD;
    sp.lines = std_lines;
    sp.n_lines = 2;
    sp.idem_key = "checkout-1";
    sp.now = T0;
    memset(&w, 0, sizeof w);
    w.res.size = sizeof w.res;
    w.f = &f;
    w.spec = &sp;
    r.hook = win;
    r.hook_data = &w;
    ck_assert_int_eq(orderly_engine_create_order(b, &sp, &rb), 0);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_uint_eq(rb.duplicate, 1);
    ck_assert_uint_eq(rb.version, w.res.version);
    ck_assert_int_eq(rb.to, ORDERLY_ORDER_PENDING);
    /* another request for the same id is still refused */
    sp.idem_key = "checkout-2";
    ck_assert_int_eq(orderly_engine_create_order(b, &sp, &rb), ORDERLY_EEXISTS);
    orderly_engine_close(b);
    orderly_memory_transport_free(tr);
    fx_free(&f);
}
END_TEST

/* Aggregates keep when their fulfillments were released (format 2); one
 * stored before (format 1) reads as released at its creation, the SLA
 * start it had then. */
START_TEST(aggregate_format1_still_read)
{
    static struct orderly__agg a, back;
    static struct orderly__agg_room ra, rb;
    static uint8_t b2[ORDERLY__ROOM_BYTES], other[ORDERLY__ROOM_BYTES], b1[ORDERLY__ROOM_BYTES];
    size_t len, len_other, k;

    orderly__agg_in_room(&a, &ra);
    orderly__agg_in_room(&back, &rb);
    memcpy(a.currency, "EUR", 4);
    a.order_state = ORDERLY_ORDER_CONFIRMED;
    a.payment_state = ORDERLY_PAYMENT_AUTHORIZED;
    a.created = a.order_since = a.payment_since = a.authorized_at = T0;
    a.released_at = T0 + 23 * HOUR;
    a.n_lines = 1;
    a.lines[0].quantity = 2;
    a.lines[0].since = T0;
    len = orderly__agg_encode(&a, b2, sizeof b2);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", b2, len), 0);
    ck_assert_int_eq(back.released_at, T0 + 23 * HOUR);
    /* format 1 is format 2 without released_at: find its byte, the one
     * that differs when only released_at does */
    /* format 2 is format 3 without the line's counters (one byte, 0,
     * before the three empty part lists); format 3 is format 4 when no
     * return names lines */
    a.released_at = T0;
    len = orderly__agg_encode(&a, b2, sizeof b2);
    ck_assert_uint_eq(b2[0], 4);
    ck_assert_uint_eq(b2[len - 4], 0);
    memmove(b2 + len - 4, b2 + len - 3, 3);
    b2[0] = 2;
    len--;
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", b2, len), 0);
    ck_assert_uint_eq(back.lines[0].quantity, 2);
    a.released_at = T0 + 1;
    len_other = orderly__agg_encode(&a, other, sizeof other);
    memmove(other + len_other - 4, other + len_other - 3, 3);
    other[0] = 2;
    len_other--;
    ck_assert_uint_eq(len, len_other);
    for (k = 0; k < len && b2[k] == other[k]; k++)
        ;
    ck_assert_uint_lt(k, len);
    ck_assert_uint_eq(b2[0], 2);
    b1[0] = 1;
    memcpy(b1 + 1, b2 + 1, k - 1);
    memcpy(b1 + k, b2 + k + 1, len - k - 1);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", b1, len - 1), 0);
    ck_assert_int_eq(back.released_at, T0);
    ck_assert_int_eq(back.authorized_at, T0);
    ck_assert_uint_eq(back.lines[0].quantity, 2);
    b1[0] = 5;
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", b1, len - 1), ORDERLY_ESTORAGE);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-reliability");

    orderly_test_case(s, redelivery_every_event_once, 0);
    orderly_test_case(s, idem_mismatch, 0);
    orderly_test_case(s, idem_concurrent_inflight, 0);
    orderly_test_case(s, idem_ttl_below_retry_horizon, 0);
    orderly_test_case(s, storage_fault_every_call_create, 60);
    orderly_test_case(s, storage_fault_every_call_authorize, 60);
    orderly_test_case(s, late_event_counted, 0);
    orderly_test_case(s, money_invariants, 0);
    orderly_test_case(s, envelope_decode, 0);
    orderly_test_case(s, envelope_round_trip, 0);
    orderly_test_case(s, webhook_verify, 0);
    orderly_test_case(s, webhook_handle_once, 0);
    orderly_test_case(s, outbox_transport_faults_then_recover, 0);
    orderly_test_case(s, outbox_dead_letter, 0);
    orderly_test_case(s, policy_retry_horizon_overflow_rejected, 0);
    orderly_test_case(s, policy_never_durations_never_fire, 0);
    orderly_test_case(s, concurrent_duplicate_is_not_late, 0);
    orderly_test_case(s, concurrent_duplicate_in_flight_then_duplicate, 0);
    orderly_test_case(s, concurrent_duplicate_create_is_not_eexists, 0);
    orderly_test_case(s, aggregate_format1_still_read, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
