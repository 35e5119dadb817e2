/*
 * Bad input at the engine's edges: every one refused with its own code and
 * a message naming what is wrong, nothing written, nothing overflowing.
 */
#include "fixture.h"

/* Handles a made envelope and frees it. */
static int handle_made(fx *f, const char *id, const char *type, const char *subject,
                       orderly_time_ms now, orderly_result *r)
{
    char *env = make_env(id, type, subject, NULL);
    int rc = handle(f, env, now, r);

    free(env);
    return rc;
}

/* ---- time and durations --------------------------------------------------------- */

START_TEST(now_outside_the_range_is_einval)
{
    static const orderly_time_ms bad[] = { -1, INT64_MIN, ORDERLY_TIME_MAX + 1, INT64_MAX };
    orderly_health h = ORDERLY_HEALTH_INIT;
    orderly_result r = ORDERLY_RESULT_INIT;
    size_t i, n;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(orderly_engine_pump(f.e, bad[i], 0, &n), ORDERLY_EINVAL);
        ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "now"));
        ck_assert_int_eq(orderly_engine_tick(f.e, bad[i], 0, &n), ORDERLY_EINVAL);
        ck_assert_int_eq(orderly_engine_run_operations(f.e, bad[i], 0, &n), ORDERLY_EINVAL);
        ck_assert_int_eq(orderly_engine_purge(f.e, bad[i], 0, &n), ORDERLY_EINVAL);
        ck_assert_int_eq(orderly_engine_health(f.e, bad[i], 0, 0, &h), ORDERLY_EINVAL);
        ck_assert_int_eq(handle_made(&f, "e1", "order.cancel", "o1", bad[i], &r), ORDERLY_EINVAL);
    }
    /* the edges themselves are instants */
    ck_assert_int_eq(orderly_engine_health(f.e, 0, 0, 0, &h), 0);
    ck_assert_int_eq(orderly_engine_health(f.e, ORDERLY_TIME_MAX, 0, 0, &h), 0);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    fx_free(&f);
}
END_TEST

static int open_with(fx *f, orderly_ctx *ctx)
{
    orderly_engine *e = NULL;
    int rc = orderly_engine_open(&e, &f->o, ctx);

    orderly_engine_close(e);
    return rc;
}

START_TEST(durations_and_batch_bounded_at_open)
{
    orderly_ctx *ctx = NULL;
    fx f;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    fx_init(&f);
    f.policy.lease = ORDERLY_DURATION_MAX + 1;
    ck_assert_int_eq(open_with(&f, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "policy.lease"));
    /* a huge idem_ttl used to pass the horizon check and wrap expiry into the past */
    f.policy.lease = 30000;
    f.policy.idem_ttl = INT64_MAX - 1;
    ck_assert_int_eq(open_with(&f, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "idem_ttl"));
    f.policy.idem_ttl = INT64_MAX; /* never */
    ck_assert_int_eq(open_with(&f, ctx), 0);
    f.policy.retention = INT64_MAX; /* only deadlines and idem_ttl may say never */
    ck_assert_int_eq(open_with(&f, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "retention"));
    f.policy.retention = DAY;
    f.policy.batch_max = UINT32_MAX;
    ck_assert_int_eq(open_with(&f, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "batch_max"));
    f.policy.batch_max = ORDERLY_BATCH_MAX_LIMIT;
    ck_assert_int_eq(open_with(&f, ctx), 0);
    f.o.max_envelope_bytes = ORDERLY_ENVELOPE_MAX_LIMIT + 1;
    ck_assert_int_eq(open_with(&f, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "max_envelope_bytes"));
    orderly_ctx_free(ctx);
    fx_free(&f);
}
END_TEST

/* ---- the source ------------------------------------------------------------------- */

START_TEST(source_that_cannot_be_encoded_is_econfig)
{
    orderly_ctx *ctx = NULL;
    fx f;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    fx_init(&f);
    f.o.source = "svc/\xff\xfe";
    ck_assert_int_eq(open_with(&f, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "UTF-8"));
    f.o.source = "svc/\x01";
    ck_assert_int_eq(open_with(&f, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "control"));
    f.o.source = "svc/caf\xc3\xa9";
    ck_assert_int_eq(open_with(&f, ctx), 0);
    orderly_ctx_free(ctx);
    fx_free(&f);
}
END_TEST

/* ---- envelopes ---------------------------------------------------------------- */

START_TEST(envelope_over_the_limit_refused_unparsed)
{
    orderly_result r = ORDERLY_RESULT_INIT;
    char *big;
    size_t len = 200000, i;
    fx f;

    fx_init(&f);
    f.o.max_envelope_bytes = 100000;
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    /* not even JSON: refused by its size, before any parser sees it */
    big = malloc(len);
    ck_assert_ptr_nonnull(big);
    for (i = 0; i < len; i++)
        big[i] = '[';
    ck_assert_int_eq(orderly_engine_handle_event(f.e, (const uint8_t *)big, len, T0 + 1, &r),
                     ORDERLY_EENVELOPE);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "over the limit of 100000"));
    free(big);
    fx_free(&f);
}
END_TEST

START_TEST(envelope_without_id_is_eenvelope)
{
    const char *noid = "{\"specversion\":\"1.0\",\"source\":\"s\",\"type\":\"order.cancel\","
                       "\"subject\":\"o1\"}";
    orderly_result r = ORDERLY_RESULT_INIT;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_engine_handle_event(f.e, (const uint8_t *)noid, strlen(noid), T0 + 1, &r),
                     ORDERLY_EENVELOPE);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "'id'"));
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    fx_free(&f);
}
END_TEST

/* Any CloudEvents id works as the key: blanks and UTF-8 are hashed. */
START_TEST(envelope_ids_with_blanks_and_utf8_dedupe)
{
    static const char *const ids[] = { "evt 42", "\xc3\xa9v\xc3\xa9nement-1" };
    orderly_result r = ORDERLY_RESULT_INIT;
    size_t i;
    fx f;

    fx_setup(&f);
    for (i = 0; i < 2; i++) {
        char order[8];
        snprintf(order, sizeof order, "o%zu", i);
        create_ok(&f, order, ORDERLY_PAY_CARD, T0);
        ck_assert_int_eq(handle_made(&f, ids[i], "order.cancel", order, T0 + 1, &r), 0);
        ck_assert_uint_eq(r.duplicate, 0);
        ck_assert_int_eq(handle_made(&f, ids[i], "order.cancel", order, T0 + 2, &r), 0);
        ck_assert_uint_eq(r.duplicate, 1);
        ck_assert_int_eq(view(&f, order).order_state, ORDERLY_ORDER_CANCELLED);
    }
    fx_free(&f);
}
END_TEST

START_TEST(envelope_bad_subject_names_the_field)
{
    static const char *const subjects[] = { "has space", "\xc3\xa9t\xc3\xa9",
        "0123456789012345678901234567890123456789012345678901234567890123456789" };
    orderly_result r = ORDERLY_RESULT_INIT;
    size_t i;
    fx f;

    fx_setup(&f);
    for (i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        ck_assert_int_eq(handle_made(&f, "e1", "order.cancel", subjects[i], T0, &r),
                         ORDERLY_EENVELOPE);
        ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "'subject'"));
    }
    fx_free(&f);
}
END_TEST

START_TEST(schemaversion_must_be_all_digits)
{
    static const char *const bad = "{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":\"s\","
                                   "\"type\":\"a.b\",\"schemaversion\":\"1abc\"}";
    static const char *const good = "{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":\"s\","
                                    "\"type\":\"a.b\",\"schemaversion\":\"1\"}";
    orderly_event *ev = NULL;
    orderly_ctx *ctx = NULL;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(orderly_event_decode(&ev, (const uint8_t *)bad, strlen(bad), NULL, ctx),
                     ORDERLY_EENVELOPE);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "schemaversion"));
    ck_assert_int_eq(orderly_event_decode(&ev, (const uint8_t *)good, strlen(good), NULL, ctx), 0);
    orderly_event_free(ev);
    orderly_ctx_free(ctx);
}
END_TEST

/* ---- webhooks ------------------------------------------------------------------------ */

START_TEST(webhook_arguments_each_named)
{
    static const uint8_t secret[] = "whsec";
    const uint8_t *payload = (const uint8_t *)"{}";
    orderly_ctx *ctx = NULL;
    char hdr[160];

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(orderly_webhook_sign(hdr, sizeof hdr, secret, 5, payload, 2, -1), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_webhook_sign(hdr, sizeof hdr, secret, 5, payload, 2, INT64_MAX),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_webhook_sign(hdr, sizeof hdr, secret, 5, payload, 2, 1700000000), 0);
    ck_assert_int_eq(orderly_webhook_verify(secret, 5, hdr, payload, 2, -1, T0, ctx), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "tolerance"));
    ck_assert_int_eq(orderly_webhook_verify(NULL, 0, hdr, payload, 2, 300, T0, ctx), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "secret"));
    ck_assert_int_eq(orderly_webhook_verify(secret, 5, NULL, payload, 2, 300, T0, ctx), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "header"));
    ck_assert_int_eq(orderly_webhook_verify(secret, 5, hdr, NULL, 2, 300, T0, ctx), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "payload"));
    /* a negative now once overflowed the staleness check */
    ck_assert_int_eq(orderly_webhook_verify(secret, 5, hdr, payload, 2, 300, INT64_MIN, ctx),
                     ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "now"));
    ck_assert_int_eq(orderly_webhook_verify(secret, 5, hdr, payload, 2, 300, 1700000000000LL, ctx), 0);
    ck_assert_int_eq(orderly_webhook_verify(secret, 5, hdr, payload, 2, INT64_MAX, 0, ctx), 0);
    orderly_ctx_free(ctx);
}
END_TEST

/* ---- executors ------------------------------------------------------------------------ */

static int noop_executor(const orderly_operation_view *op, void *ud)
{
    (void)op;
    (void)ud;
    return 0;
}

START_TEST(executor_table_full_is_econfig)
{
    int op, rc = 0;
    fx f;

    fx_setup(&f);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, 0, noop_executor, NULL), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "op 0"));
    for (op = ORDERLY_OP_HOST; op < ORDERLY_OP_HOST + 64 && rc == 0; op++)
        rc = orderly_engine_set_executor(f.e, op, noop_executor, NULL);
    ck_assert_int_eq(rc, ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "no room"));
    /* removing one makes room again */
    ck_assert_int_eq(orderly_engine_set_executor(f.e, ORDERLY_OP_HOST, NULL, NULL), 0);
    ck_assert_int_eq(orderly_engine_set_executor(f.e, op, noop_executor, NULL), 0);
    fx_free(&f);
}
END_TEST

/* A refusal inside the choreography says why (it used to be a bare code). */
START_TEST(choreography_refusals_carry_a_message)
{
    orderly_result r = ORDERLY_RESULT_INIT;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0,
                           TOTAL - 1, T0 + 1, &r),
                     ORDERLY_EINVARIANT);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "1999"));
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-inputs");

    orderly_test_case(s, now_outside_the_range_is_einval, 0);
    orderly_test_case(s, durations_and_batch_bounded_at_open, 0);
    orderly_test_case(s, source_that_cannot_be_encoded_is_econfig, 0);
    orderly_test_case(s, executor_table_full_is_econfig, 0);
    orderly_test_case(s, choreography_refusals_carry_a_message, 0);
    orderly_test_case(s, envelope_over_the_limit_refused_unparsed, 0);
    orderly_test_case(s, envelope_without_id_is_eenvelope, 0);
    orderly_test_case(s, envelope_ids_with_blanks_and_utf8_dedupe, 0);
    orderly_test_case(s, envelope_bad_subject_names_the_field, 0);
    orderly_test_case(s, schemaversion_must_be_all_digits, 0);
    orderly_test_case(s, webhook_arguments_each_named, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
