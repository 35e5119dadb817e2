/*
 * The pieces hosts use around the engine rather than through it: the
 * fault wrapper in front of a storage, free-standing buffers, and the
 * operator's view of the outbox.
 */
#include "fixture.h"

#include "orderly/sys/fault.h"

#include <jansson.h>

/* ---- orderly_buf_new ------------------------------------------------------- */

START_TEST(buf_new_set_append_free)
{
    orderly_buf *b = NULL;

    ck_assert_int_eq(orderly_buf_new(&b, NULL), 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(orderly_buf_len(b), 0);
    ck_assert_int_eq(orderly_buf_set(b, (const uint8_t *)"abc", 3), 0);
    ck_assert_int_eq(orderly_buf_append(b, (const uint8_t *)"de", 2), 0);
    ck_assert_uint_eq(orderly_buf_len(b), 5);
    ck_assert_int_eq(memcmp(orderly_buf_data(b), "abcde", 5), 0);
    ck_assert_int_eq(orderly_buf_set(b, (const uint8_t *)"z", 1), 0);
    ck_assert_uint_eq(orderly_buf_len(b), 1);
    orderly_buf_free(b);
    orderly_buf_free(NULL);
    ck_assert_int_eq(orderly_buf_new(NULL, NULL), ORDERLY_EINVAL);
}
END_TEST

/* ---- the fault wrapper ---------------------------------------------------------- */

typedef struct wfx {
    orderly_storage *mem, *w;
    orderly_ctx *ctx;
    orderly_buf *buf;
} wfx;

static void wfx_setup(wfx *x)
{
    ck_assert_int_eq(orderly_memory_storage_new(&x->mem, NULL), 0);
    ck_assert_int_eq(orderly_fault_storage_new(&x->w, x->mem, NULL), 0);
    ck_assert_int_eq(orderly_ctx_new(&x->ctx, NULL), 0);
    ck_assert_int_eq(orderly_buf_new(&x->buf, NULL), 0);
}

static void wfx_free(wfx *x)
{
    orderly_buf_free(x->buf);
    orderly_ctx_free(x->ctx);
    orderly_fault_storage_free(x->w);
    orderly_memory_storage_free(x->mem);
}

/* Saves key=val in its own transaction through s; returns the first failure. */
static int put(wfx *x, orderly_storage *s, const char *key, const char *val)
{
    void *txn;
    int rc;

    if ((rc = s->begin(s, x->ctx, &txn)) < 0)
        return rc;
    if ((rc = s->save(s, x->ctx, txn, key, (const uint8_t *)val, strlen(val), 0)) < 0) {
        s->rollback(s, x->ctx, txn);
        return rc;
    }
    return s->commit(s, x->ctx, txn);
}

static int get(wfx *x, orderly_storage *s, const char *key)
{
    uint64_t version;
    void *txn;
    int rc;

    if ((rc = s->begin(s, x->ctx, &txn)) < 0)
        return rc;
    rc = s->load(s, x->ctx, txn, key, x->buf, &version);
    s->rollback(s, x->ctx, txn);
    return rc;
}

START_TEST(fault_wrapper_passes_through)
{
    wfx x;

    wfx_setup(&x);
    ck_assert_int_eq(put(&x, x.w, "k1", "v1"), 0);
    ck_assert_int_eq(get(&x, x.mem, "k1"), 0);
    ck_assert_int_eq(memcmp(orderly_buf_data(x.buf), "v1", 2), 0);
    ck_assert_uint_eq(orderly_fault_storage_calls(x.w, ORDERLY_METHOD_SAVE), 1);
    ck_assert_uint_eq(orderly_fault_storage_calls(x.w, ORDERLY_METHOD_COMMIT), 1);
    ck_assert_uint_eq(orderly_fault_storage_calls(x.w, ORDERLY_METHOD_ANY), 3);
    ck_assert_uint_eq(orderly_fault_storage_faults(x.w), 0);
    wfx_free(&x);
}
END_TEST

START_TEST(fault_wrapper_fails_the_nth_call)
{
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    wfx x;

    wfx_setup(&x);
    plan.method = ORDERLY_METHOD_SAVE;
    plan.fail_at = 2;
    ck_assert_int_eq(orderly_fault_storage_set_faults(x.w, &plan), 0);
    ck_assert_int_eq(put(&x, x.w, "a", "1"), 0);
    ck_assert_int_eq(put(&x, x.w, "b", "2"), ORDERLY_ESTORAGE);
    ck_assert_str_ne(orderly_ctx_errmsg(x.ctx), "");
    ck_assert_int_eq(put(&x, x.w, "c", "3"), 0);
    ck_assert_int_eq(get(&x, x.mem, "b"), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(get(&x, x.mem, "c"), 0);
    ck_assert_uint_eq(orderly_fault_storage_faults(x.w), 1);
    wfx_free(&x);
}
END_TEST

START_TEST(fault_wrapper_failed_commit_keeps_nothing)
{
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    wfx x;

    wfx_setup(&x);
    plan.method = ORDERLY_METHOD_COMMIT;
    plan.fail_at = 1;
    plan.code = ORDERLY_ECONFLICT;
    ck_assert_int_eq(orderly_fault_storage_set_faults(x.w, &plan), 0);
    ck_assert_int_eq(put(&x, x.w, "a", "1"), ORDERLY_ECONFLICT);
    ck_assert_int_eq(get(&x, x.mem, "a"), ORDERLY_ENOTFOUND);
    /* the inner storage holds no open transaction: a new one commits */
    ck_assert_int_eq(put(&x, x.mem, "a", "2"), 0);
    wfx_free(&x);
}
END_TEST

START_TEST(fault_wrapper_probability_is_seeded)
{
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    int round, i, fails[2] = { 0, 0 };
    char key[16];
    wfx x;

    for (round = 0; round < 2; round++) {
        wfx_setup(&x);
        plan.probability = 0.3;
        plan.seed = 42;
        ck_assert_int_eq(orderly_fault_storage_set_faults(x.w, &plan), 0);
        for (i = 0; i < 200; i++) {
            snprintf(key, sizeof key, "k%d", i);
            if (put(&x, x.w, key, "v") < 0)
                fails[round]++;
        }
        wfx_free(&x);
    }
    ck_assert_int_gt(fails[0], 20);
    ck_assert_int_lt(fails[0], 200);
    ck_assert_int_eq(fails[0], fails[1]);
}
END_TEST

START_TEST(fault_wrapper_rejects_misuse)
{
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    orderly_storage *w = NULL;
    wfx x;

    wfx_setup(&x);
    ck_assert_int_eq(orderly_fault_storage_new(&w, NULL, NULL), ORDERLY_EINVAL);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(orderly_fault_storage_new(NULL, x.mem, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_fault_storage_set_faults(x.mem, &plan), ORDERLY_EINVAL);
    plan.probability = 1.5;
    ck_assert_int_eq(orderly_fault_storage_set_faults(x.w, &plan), ORDERLY_EINVAL);
    plan.probability = 0;
    plan.method = ORDERLY_METHOD_COUNT;
    ck_assert_int_eq(orderly_fault_storage_set_faults(x.w, &plan), ORDERLY_EINVAL);
    plan.method = 0;
    plan.version = 99;
    ck_assert_int_eq(orderly_fault_storage_set_faults(x.w, &plan), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_fault_storage_set_faults(x.w, NULL), 0);
    ck_assert_uint_eq(orderly_fault_storage_calls(x.mem, ORDERLY_METHOD_ANY), 0);
    orderly_fault_storage_free(x.mem);   /* not a wrapper: ignored */
    wfx_free(&x);
}
END_TEST

/* The engine on a faulty storage rolls back whole commands: an order is
 * either there with its outbox row or absent with none. */
START_TEST(fault_wrapper_under_the_engine)
{
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    orderly_storage *w;
    uint64_t call;
    fx f;

    for (call = 1; call <= 12; call++) {
        orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
        int rc;
        fx_init(&f);
        ck_assert_int_eq(orderly_fault_storage_new(&w, f.st, NULL), 0);
        f.o.storage = w;
        fx_open(&f);
        plan.fail_at = call;
        ck_assert_int_eq(orderly_fault_storage_set_faults(w, &plan), 0);
        rc = create_ex(&f, "o1", ORDERLY_PAY_CARD, 0, 0, T0, NULL);
        ck_assert_int_eq(orderly_fault_storage_set_faults(w, NULL), 0);
        if (rc < 0) {
            ck_assert_int_eq(rc, ORDERLY_ESTORAGE);
            ck_assert_int_eq(orderly_engine_get_order(f.e, "o1", &v), ORDERLY_ENOTFOUND);
            ck_assert_uint_eq(health(&f, T0).outbox_pending, 0);
        } else {
            ck_assert_int_eq(orderly_engine_get_order(f.e, "o1", &v), 0);
            ck_assert_uint_ge(health(&f, T0).outbox_pending, 1);
        }
        orderly_engine_close(f.e);
        f.e = NULL;
        orderly_fault_storage_free(w);
        fx_free(&f);
    }
}
END_TEST

/* A purge of finished rows must not hide the pending rows after them. */
static int count_item(const orderly_queue_item *it, void *ud)
{
    (void)it;
    ++*(int *)ud;
    return 0;
}

START_TEST(memory_purge_keeps_pending_claimable)
{
    orderly_queue_item it;
    uint64_t id[2], token;
    void *txn;
    int seen = 0;
    wfx x;

    wfx_setup(&x);
    memset(&it, 0, sizeof it);
    it.group = "";
    it.payload = (const uint8_t *)"p";
    it.payload_len = 1;
    it.created = it.due = T0;
    ck_assert_int_eq(x.mem->begin(x.mem, x.ctx, &txn), 0);
    ck_assert_int_eq(x.mem->queue_push(x.mem, x.ctx, txn, ORDERLY_QUEUE_OUTBOX, &it, &id[0]), 0);
    ck_assert_int_eq(x.mem->queue_push(x.mem, x.ctx, txn, ORDERLY_QUEUE_OUTBOX, &it, &id[1]), 0);
    ck_assert_int_eq(x.mem->commit(x.mem, x.ctx, txn), 0);
    ck_assert_int_eq(x.mem->begin(x.mem, x.ctx, &txn), 0);
    ck_assert_int_eq(x.mem->queue_claim(x.mem, x.ctx, txn, ORDERLY_QUEUE_OUTBOX, T0, 1, 10,
                                        T0 + 100, &token, count_item, &seen), 1);
    ck_assert_int_eq(x.mem->queue_finish(x.mem, x.ctx, txn, ORDERLY_QUEUE_OUTBOX, id[0], token,
                                         ORDERLY_ITEM_DONE, T0, 1), 0);
    ck_assert_int_eq(x.mem->queue_purge(x.mem, x.ctx, txn, ORDERLY_QUEUE_OUTBOX, T0, 10), 1);
    ck_assert_int_eq(x.mem->commit(x.mem, x.ctx, txn), 0);
    ck_assert_int_eq(x.mem->begin(x.mem, x.ctx, &txn), 0);
    ck_assert_int_eq(x.mem->queue_claim(x.mem, x.ctx, txn, ORDERLY_QUEUE_OUTBOX, T0, 10, 10,
                                        T0 + 100, &token, count_item, &seen), 1);
    x.mem->rollback(x.mem, x.ctx, txn);
    ck_assert_int_eq(seen, 2);
    wfx_free(&x);
}
END_TEST

/* ---- orderly_engine_list_outbox ------------------------------------------------ */

typedef struct rows {
    orderly_outbox_view v[64];
    char order[64][32], type[64][48], topic[64][48], id[64][33];
    size_t n;
} rows;

static int collect(const orderly_outbox_view *r, void *ud)
{
    rows *rs = ud;

    if (rs->n == 64)
        return -1;
    rs->v[rs->n] = *r;
    snprintf(rs->order[rs->n], 32, "%s", r->order_id);
    snprintf(rs->type[rs->n], 48, "%s", r->type);
    snprintf(rs->topic[rs->n], 48, "%s", r->topic);
    snprintf(rs->id[rs->n], 33, "%s", r->event_id);
    rs->n++;
    return 0;
}

static int stop_at_first(const orderly_outbox_view *r, void *ud)
{
    (void)r;
    (void)ud;
    return ORDERLY_EUSER;
}

START_TEST(list_outbox_states_and_paging)
{
    rows all, pending, done, page;
    size_t i;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    memset(&pending, 0, sizeof pending);
    ck_assert_int_eq(orderly_engine_list_outbox(f.e, ORDERLY_ITEM_READY, 0, 64, collect, &pending), 0);
    ck_assert_uint_eq(pending.n, 1);
    ck_assert_str_eq(pending.order[0], "o1");
    ck_assert_str_eq(pending.type[0], "order.status_changed");
    ck_assert_str_eq(pending.topic[0], "orderly.order");
    ck_assert_uint_eq(strlen(pending.id[0]), 32);
    ck_assert_uint_eq(pending.v[0].attempts, 0);
    ck_assert_int_eq(pending.v[0].created, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    pump_all(&f, T0 + 2000);
    memset(&all, 0, sizeof all);
    ck_assert_int_eq(orderly_engine_list_outbox(f.e, -1, 0, 64, collect, &all), 0);
    ck_assert_uint_ge(all.n, 3);
    memset(&done, 0, sizeof done);
    ck_assert_int_eq(orderly_engine_list_outbox(f.e, ORDERLY_ITEM_DONE, 0, 64, collect, &done), 0);
    ck_assert_uint_eq(done.n, all.n);
    for (i = 0; i < all.n; i++) {
        ck_assert_int_eq(all.v[i].state, ORDERLY_ITEM_DONE);
        ck_assert_uint_eq(all.v[i].attempts, 1);
        if (i > 0)
            ck_assert_uint_gt(all.v[i].id, all.v[i - 1].id);
    }
    /* the id a row shows is the id consumers received, derived from the
     * row's type and "<order id>/<sequence>" as the envelope API pins it */
    ck_assert_str_eq(all.id[0], pending.id[0]);
    for (i = 0; i < all.n; i++) {
        char natural[32], want[ORDERLY_EVENT_ID_SIZE];
        snprintf(natural, sizeof natural, "o1/%zu", i);
        ck_assert_int_eq(orderly_event_derive_id(want, all.type[i], natural), 0);
        ck_assert_str_eq(all.id[i], want);
    }
    memset(&page, 0, sizeof page);
    ck_assert_int_eq(orderly_engine_list_outbox(f.e, -1, all.v[0].id, 1, collect, &page), 0);
    ck_assert_uint_eq(page.n, 1);
    ck_assert_uint_eq(page.v[0].id, all.v[1].id);
    ck_assert_int_eq(orderly_engine_list_outbox(f.e, -1, 0, 64, stop_at_first, NULL), ORDERLY_EUSER);
    ck_assert_int_eq(orderly_engine_list_outbox(f.e, 7, 0, 64, collect, &page), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_list_outbox(f.e, -1, 0, 64, NULL, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_list_outbox(NULL, -1, 0, 64, collect, &page), ORDERLY_EINVAL);
    fx_free(&f);
}
END_TEST

/* ---- the dispatched envelope is exactly what jansson writes ---------------------------- */

START_TEST(dispatched_envelope_matches_jansson)
{
    static const char *const ids[] = { "plain-1", "q\"uote", "back\\slash", "sl/ash~{}&<>" };
    size_t i, n;
    fx f;

    fx_init(&f);
    f.o.source = "svc/orders \"eu\"";
    fx_open(&f);
    for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        create_ok(&f, ids[i], i % 2 ? ORDERLY_PAY_COD : ORDERLY_PAY_CARD, T0 + (orderly_time_ms)i);
        if (i % 2 == 0)
            authorize_ok(&f, ids[i], T0 + 1000);
    }
    pump_all(&f, T0 + 2000);
    n = orderly_memory_transport_count(f.tr);
    ck_assert_uint_ge(n, 6);
    for (i = 0; i < n; i++) {
        orderly_message m;
        json_error_t err;
        json_t *doc;
        char *again;
        size_t len;
        ck_assert_int_eq(orderly_memory_transport_get(&m, f.tr, i), 0);
        doc = json_loadb((const char *)m.data, m.len, 0, &err);
        ck_assert_msg(doc != NULL, "message %zu is not JSON: %s", i, err.text);
        len = json_dumpb(doc, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
        again = malloc(len + 1);
        ck_assert_ptr_nonnull(again);
        ck_assert_uint_eq(json_dumpb(doc, again, len, JSON_COMPACT | JSON_PRESERVE_ORDER), len);
        ck_assert_msg(len == m.len && memcmp(again, m.data, len) == 0,
                      "message %zu differs from jansson's encoding:\n%.*s\n%.*s", i, (int)m.len,
                      (const char *)m.data, (int)len, again);
        free(again);
        json_decref(doc);
    }
    fx_free(&f);
}
END_TEST

/* Caller-sized structs: a size below the 0.2 layout is EINVAL with nothing
 * filled; a larger one (a newer header) gets the known fields and zeroes. */
START_TEST(out_struct_size_checked_and_grown)
{
    fx f;
    orderly_order_view small = ORDERLY_ORDER_VIEW_INIT;
    orderly_engine_stats st = ORDERLY_ENGINE_STATS_INIT;
    orderly_health h = ORDERLY_HEALTH_INIT;
    orderly_result r;
    struct {
        orderly_order_view v;
        uint64_t later;
    } big;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    small.size = sizeof small - 1;
    small.total = -7;
    ck_assert_int_eq(orderly_engine_get_order(f.e, "o1", &small), ORDERLY_EINVAL);
    ck_assert_int_eq(small.total, -7);
    memset(&big, 0xA5, sizeof big);
    big.v.size = sizeof big;
    ck_assert_int_eq(orderly_engine_get_order(f.e, "o1", &big.v), 0);
    ck_assert_uint_eq(big.v.size, sizeof big);
    ck_assert_int_eq(big.v.total, TOTAL);
    ck_assert_uint_eq(big.later, 0);
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(orderly_engine_cancel_order(f.e, "o1", NULL, T0 + 1, &r), ORDERLY_EINVAL);
    st.size = 0;
    ck_assert_int_eq(orderly_engine_get_stats(f.e, &st), ORDERLY_EINVAL);
    st.size = sizeof st;
    ck_assert_int_eq(orderly_engine_get_stats(f.e, &st), 0);
    ck_assert_uint_eq(st.applied, 1);
    h.size = 4;
    ck_assert_int_eq(orderly_engine_health(f.e, T0, 0, 0, &h), ORDERLY_EINVAL);
    fx_free(&f);
}
END_TEST

/* The policy and the topic names sit behind pointers: a policy with an
 * unknown version is EVERSION, too many topic names ECONFIG. */
START_TEST(options_policy_and_topics_behind_pointers)
{
    orderly_policy p;
    fx f;
    orderly_ctx *ctx = NULL;
    orderly_engine *e = NULL;

    ck_assert_int_eq(orderly_policy_init(&p, ORDERLY_POLICY_VERSION + 1), ORDERLY_EVERSION);
    ck_assert_int_eq(orderly_policy_init(&p, ORDERLY_POLICY_VERSION), 0);
    ck_assert_int_eq(p.lease, 30000);
    fx_init(&f);
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    f.policy.version = ORDERLY_POLICY_VERSION + 1;
    ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), ORDERLY_EVERSION);
    f.policy.version = ORDERLY_POLICY_VERSION;
    f.o.n_topics = ORDERLY_TOPIC_COUNT + 2;
    ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), ORDERLY_ECONFIG);
    f.o.topics = NULL;
    f.o.policy = NULL;
    ck_assert_int_eq(orderly_engine_open(&e, &f.o, ctx), 0);
    ck_assert_str_eq(orderly_engine_topic(e, ORDERLY_TOPIC_ORDER), "orderly.order");
    orderly_engine_close(e);
    orderly_ctx_free(ctx);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hostapi");

    orderly_test_case(s, buf_new_set_append_free, 0);
    orderly_test_case(s, fault_wrapper_passes_through, 0);
    orderly_test_case(s, fault_wrapper_fails_the_nth_call, 0);
    orderly_test_case(s, fault_wrapper_failed_commit_keeps_nothing, 0);
    orderly_test_case(s, fault_wrapper_probability_is_seeded, 0);
    orderly_test_case(s, fault_wrapper_rejects_misuse, 0);
    orderly_test_case(s, fault_wrapper_under_the_engine, 0);
    orderly_test_case(s, memory_purge_keeps_pending_claimable, 0);
    orderly_test_case(s, list_outbox_states_and_paging, 0);
    orderly_test_case(s, dispatched_envelope_matches_jansson, 0);
    orderly_test_case(s, out_struct_size_checked_and_grown, 0);
    orderly_test_case(s, options_policy_and_topics_behind_pointers, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
