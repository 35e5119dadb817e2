/*
 * orderly_engine_order_history: an order's events in order, written in
 * the command's own transaction, kept when the outbox is purged, and
 * ENOTSUPPORTED on a storage that keeps none.
 */
#include "fixture.h"
#include "orderly/sys/fault.h"
#include "../../lib/engine/internal.h"

#define MAX_SEEN 256

typedef struct seen {
    size_t n;
    uint32_t seq[MAX_SEEN];
    char type[MAX_SEEN][48];
    char json[MAX_SEEN][1024];
    int64_t amount[MAX_SEEN];
    uint32_t n_lines[MAX_SEEN];
    int stop_at;              /* return ORDERLY_EUSER at this entry; -1 never */
} seen;

static int collect(const orderly_history_entry *h, void *ud)
{
    seen *s = ud;

    ck_assert_uint_eq(h->size, sizeof *h);
    if (s->stop_at >= 0 && s->n == (size_t)s->stop_at)
        return ORDERLY_EUSER;
    if (s->n < MAX_SEEN) {
        s->seq[s->n] = h->seq;
        snprintf(s->type[s->n], sizeof s->type[0], "%s", h->type);
        ck_assert_uint_lt(h->json_len, sizeof s->json[0]);
        memcpy(s->json[s->n], h->json, h->json_len);
        s->json[s->n][h->json_len] = '\0';
        s->amount[s->n] = h->amount;
        s->n_lines[s->n] = h->n_lines;
    }
    s->n++;
    return 0;
}

static int history(fx *f, const char *order, uint32_t from, size_t max, seen *s)
{
    memset(s, 0, sizeof *s);
    s->stop_at = -1;
    return orderly_engine_order_history(f->e, order, from, max, collect, s);
}

/* Messages published for order, in publish order, as JSON text. */
static size_t published_of(fx *f, const char *order, seen *out)
{
    size_t i, total = orderly_memory_transport_count(f->tr);
    orderly_message m;

    memset(out, 0, sizeof *out);
    for (i = 0; i < total && out->n < MAX_SEEN; i++) {
        ck_assert_int_eq(orderly_memory_transport_get(&m, f->tr, i), 0);
        if (strcmp(m.key, order) != 0)
            continue;
        ck_assert_uint_lt(m.len, sizeof out->json[0]);
        memcpy(out->json[out->n], m.data, m.len);
        out->json[out->n][m.len] = '\0';
        msg_type(&m, out->type[out->n], sizeof out->type[0]);
        out->n++;
    }
    return out->n;
}

START_TEST(history_lists_every_event_in_order_as_published)
{
    fx f;
    seen h, p;
    size_t i;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    create_ok(&f, "o2", ORDERLY_PAY_CARD, T0);
    pump_all(&f, T0 + DAY);
    ck_assert_int_eq(history(&f, "o1", 0, 0, &h), (int)h.n);
    ck_assert_uint_eq(published_of(&f, "o1", &p), h.n);
    ck_assert_uint_ge(h.n, 10);
    for (i = 0; i < h.n; i++) {
        ck_assert_uint_eq(h.seq[i], i);
        ck_assert_str_eq(h.type[i], p.type[i]);
        ck_assert_str_eq(h.json[i], p.json[i]);
    }
    ck_assert_str_eq(h.type[0], "order.status_changed");
    ck_assert_uint_eq(h.n_lines[0], 2);
    fx_free(&f);
}
END_TEST

START_TEST(history_outlives_the_outbox_retention)
{
    fx f;
    seen before, after;
    size_t purged = 0;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    pump_all(&f, T0 + DAY);
    ck_assert_int_ge(history(&f, "o1", 0, 0, &before), 1);
    ck_assert_int_eq(orderly_engine_purge(f.e, T0 + 400 * DAY, 1000, &purged), 0);
    ck_assert_uint_ge(purged, before.n);
    ck_assert_int_eq(history(&f, "o1", 0, 0, &after), (int)before.n);
    ck_assert_str_eq(after.json[before.n - 1], before.json[before.n - 1]);
    fx_free(&f);
}
END_TEST

START_TEST(history_pages_from_a_seq_up_to_max)
{
    fx f;
    seen all, page;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_ge(history(&f, "o1", 0, 0, &all), 6);
    ck_assert_int_eq(history(&f, "o1", 2, 3, &page), 3);
    ck_assert_uint_eq(page.seq[0], 2);
    ck_assert_uint_eq(page.seq[2], 4);
    ck_assert_str_eq(page.json[0], all.json[2]);
    ck_assert_int_eq(history(&f, "o1", (uint32_t)all.n, 0, &page), 0);
    fx_free(&f);
}
END_TEST

START_TEST(rejected_command_adds_no_history)
{
    fx f;
    seen before, after;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_ge(history(&f, "o1", 0, 0, &before), 1);
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_DELIVER, 0, 0,
                           T0 + 1000, &r),
                     ORDERLY_ENOTFOUND);
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0,
                           0, T0 + 1000, &r),
                     ORDERLY_ETRANSITION);
    ck_assert_int_eq(history(&f, "o1", 0, 0, &after), (int)before.n);
    fx_free(&f);
}
END_TEST

START_TEST(failed_commit_leaves_no_history)
{
    fx f;
    seen h;
    orderly_storage *inner;
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_init(&f);
    inner = f.st;
    ck_assert_int_eq(orderly_fault_storage_new(&f.o.storage, inner, NULL), 0);
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_ge(history(&f, "o1", 0, 0, &h), 1);
    plan.method = ORDERLY_METHOD_COMMIT;
    plan.fail_at = 1;
    ck_assert_int_eq(orderly_fault_storage_set_faults(f.o.storage, &plan), 0);
    ck_assert_int_lt(apply(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL,
                           T0 + 1000, &r),
                     0);
    ck_assert_int_eq(orderly_fault_storage_set_faults(f.o.storage, NULL), 0);
    ck_assert_int_eq(history(&f, "o1", 0, 0, &h), 1);
    ck_assert_uint_ge(orderly_fault_storage_calls(f.o.storage, ORDERLY_METHOD_HISTORY_APPEND), 1);
    ck_assert_uint_ge(orderly_fault_storage_calls(f.o.storage, ORDERLY_METHOD_HISTORY_SCAN), 2);
    orderly_engine_close(f.e);
    f.e = NULL;
    orderly_fault_storage_free(f.o.storage);
    fx_free(&f);
}
END_TEST

START_TEST(history_fault_fails_the_command)
{
    fx f;
    seen h;
    orderly_storage *inner;
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    orderly_result r = ORDERLY_RESULT_INIT;

    fx_init(&f);
    inner = f.st;
    ck_assert_int_eq(orderly_fault_storage_new(&f.o.storage, inner, NULL), 0);
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    plan.method = ORDERLY_METHOD_HISTORY_APPEND;
    plan.fail_at = 1;
    ck_assert_int_eq(orderly_fault_storage_set_faults(f.o.storage, &plan), 0);
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL,
                           T0 + 1000, &r),
                     ORDERLY_ESTORAGE);
    ck_assert_int_eq(orderly_fault_storage_set_faults(f.o.storage, NULL), 0);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_PENDING);
    ck_assert_int_eq(history(&f, "o1", 0, 0, &h), 1);
    orderly_engine_close(f.e);
    f.e = NULL;
    orderly_fault_storage_free(f.o.storage);
    fx_free(&f);
}
END_TEST

START_TEST(batch_sees_its_own_history)
{
    fx f;
    seen h;

    fx_setup(&f);
    ck_assert_int_eq(orderly_engine_begin_batch(f.e), 0);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    ck_assert_int_ge(history(&f, "o1", 0, 0, &h), 3);
    ck_assert_uint_eq(h.seq[h.n - 1], h.n - 1);
    ck_assert_int_eq(orderly_engine_commit_batch(f.e), 0);
    ck_assert_int_eq(history(&f, "o1", 0, 0, &h), (int)h.n);
    fx_free(&f);
}
END_TEST

START_TEST(callback_stop_is_returned)
{
    fx f;
    seen h;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    memset(&h, 0, sizeof h);
    h.stop_at = 2;
    ck_assert_int_eq(orderly_engine_order_history(f.e, "o1", 0, 0, collect, &h), ORDERLY_EUSER);
    ck_assert_uint_eq(h.n, 2);
    fx_free(&f);
}
END_TEST

START_TEST(unknown_order_and_bad_arguments_are_refused)
{
    fx f;
    seen h;
    char long_id[ORDERLY_ID_MAX + 2];

    fx_setup(&f);
    ck_assert_int_eq(history(&f, "nope", 0, 0, &h), ORDERLY_ENOTFOUND);
    ck_assert_uint_eq(h.n, 0);
    ck_assert_int_eq(orderly_engine_order_history(f.e, NULL, 0, 0, collect, &h), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_order_history(f.e, "o1", 0, 0, NULL, &h), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_engine_order_history(NULL, "o1", 0, 0, collect, &h), ORDERLY_EINVAL);
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    ck_assert_int_eq(history(&f, long_id, 0, 0, &h), ORDERLY_EINVAL);
    fx_free(&f);
}
END_TEST

START_TEST(version_2_storage_attaches_and_has_no_history)
{
    fx f;
    seen h;

    fx_init(&f);
    /* the memory adapter declared as version 2: the core must not read the
     * slots that version does not cover (they stay set here) */
    f.st->version = 2;
    fx_open(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(history(&f, "o1", 0, 0, &h), ORDERLY_ENOTSUPPORTED);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "history"));
    ck_assert_uint_eq(orderly_memory_storage_calls(f.st, ORDERLY_METHOD_HISTORY_APPEND), 0);
    fx_free(&f);
}
END_TEST

START_TEST(half_a_history_pair_is_refused_at_open)
{
    fx f;
    orderly_ctx *ctx = NULL;

    fx_init(&f);
    f.st->history_scan = NULL;
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(orderly_engine_open(&f.e, &f.o, ctx), ORDERLY_EINVAL);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "history_scan"));
    orderly_ctx_free(ctx);
    fx_free(&f);
}
END_TEST

/* An order keeps its first ORDERLY_HISTORY_MAX events: later ones are
 * published but not kept, so a never-closing order's history is bounded. */
START_TEST(history_stops_at_its_cap)
{
    fx f;
    seen h;
    void *txn = NULL;
    uint64_t calls;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(f.st->begin(f.st, orderly_engine_ctx(f.e), &txn), 0);
    calls = orderly_memory_storage_calls(f.st, ORDERLY_METHOD_HISTORY_APPEND);
    ck_assert_int_eq(orderly__history_append(f.e, txn, "o1", ORDERLY_HISTORY_MAX - 1,
                                             ORDERLY__EV_ORDER_STATUS, NULL, 0, T0),
                     0);
    ck_assert_uint_eq(orderly_memory_storage_calls(f.st, ORDERLY_METHOD_HISTORY_APPEND), calls + 1);
    ck_assert_int_eq(orderly__history_append(f.e, txn, "o1", ORDERLY_HISTORY_MAX,
                                             ORDERLY__EV_ORDER_STATUS, NULL, 0, T0),
                     0);
    ck_assert_uint_eq(orderly_memory_storage_calls(f.st, ORDERLY_METHOD_HISTORY_APPEND), calls + 1);
    f.st->rollback(f.st, orderly_engine_ctx(f.e), txn);
    ck_assert_int_eq(history(&f, "o1", 0, 0, &h), 1);
    fx_free(&f);
}
END_TEST

START_TEST(corrupt_entry_is_estorage)
{
    fx f;
    seen h;
    void *txn = NULL;
    orderly_history_item it = { "o1", 1, ORDERLY__EV_ORDER_STATUS, (const uint8_t *)"junk", 4, T0 };

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(f.st->begin(f.st, orderly_engine_ctx(f.e), &txn), 0);
    ck_assert_int_eq(f.st->history_append(f.st, orderly_engine_ctx(f.e), txn, &it), 0);
    ck_assert_int_eq(f.st->commit(f.st, orderly_engine_ctx(f.e), txn), 0);
    ck_assert_int_eq(history(&f, "o1", 0, 0, &h), ORDERLY_ESTORAGE);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "corrupt"));
    fx_free(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("history");

    orderly_test_case(s, history_lists_every_event_in_order_as_published, 0);
    orderly_test_case(s, history_pages_from_a_seq_up_to_max, 0);
    orderly_test_case(s, callback_stop_is_returned, 0);
    orderly_test_case(s, history_outlives_the_outbox_retention, 0);
    orderly_test_case(s, history_stops_at_its_cap, 0);
    orderly_test_case(s, rejected_command_adds_no_history, 0);
    orderly_test_case(s, failed_commit_leaves_no_history, 0);
    orderly_test_case(s, history_fault_fails_the_command, 0);
    orderly_test_case(s, batch_sees_its_own_history, 0);
    orderly_test_case(s, unknown_order_and_bad_arguments_are_refused, 0);
    orderly_test_case(s, corrupt_entry_is_estorage, 0);
    orderly_test_case(s, version_2_storage_attaches_and_has_no_history, 0);
    orderly_test_case(s, half_a_history_pair_is_refused_at_open, 0);
    return run_suite(s);
}
