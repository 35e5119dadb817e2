/* Bad input from hosts: every field is checked before anything computes
 * with it, and a rejected request is answered with EINVAL and a message
 * and writes nothing. */
#include <limits.h>

#include "fixture.c"

/* What a rejected request must leave as it found: the committed records
 * and their bytes, and the storage calls (a request refused on its fields
 * does not even open a transaction). */
typedef struct untouched {
    size_t records, bytes;
    uint64_t calls;
} untouched;

static untouched store_now(fx *f)
{
    untouched u;

    orderly_memory_storage_usage(f->st, &u.records, &u.bytes);
    u.calls = orderly_memory_storage_calls(f->st, ORDERLY_METHOD_ANY);
    return u;
}

static void assert_untouched(fx *f, untouched before)
{
    untouched after = store_now(f);

    ck_assert_uint_eq(after.records, before.records);
    ck_assert_uint_eq(after.bytes, before.bytes);
    ck_assert_uint_eq(after.calls, before.calls);
}

/* Applies (machine, event, index) to o1 under key, expecting EINVAL with a
 * message containing want and nothing written. */
static void expect_einval(fx *f, int machine, int event, uint32_t index, const char *key,
                          const char *want)
{
    untouched before = store_now(f);
    orderly_result r;
    int rc;

    rc = applyk(f, "o1", machine, event, index, 0, T0 + 1000, key, &r);
    ck_assert_msg(rc == ORDERLY_EINVAL, "machine %d event %d index %u: %d %s", machine, event,
                  (unsigned)index, rc, orderly_engine_errmsg(f->e));
    ck_assert_msg(strstr(orderly_engine_errmsg(f->e), want) != NULL, "message '%s' lacks '%s'",
                  orderly_engine_errmsg(f->e), want);
    assert_untouched(f, before);
}

/* The key a rejected command used was not marked: a valid command may
 * still take it. */
static void key_still_free(fx *f, const char *key)
{
    orderly_result r;
    int rc;

    rc = applyk(f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL, T0 + 1000,
                key, &r);
    ck_assert_msg(rc == 0, "authorize: %d %s", rc, orderly_engine_errmsg(f->e));
    ck_assert_uint_eq(r.duplicate, 0);
    ck_assert_int_eq(view(f, "o1").payment_state, ORDERLY_PAYMENT_AUTHORIZED);
}

/* ---- commands ---------------------------------------------------------------------- */

/* The machine id was shifted into the roles mask before it was checked:
 * undefined for -1, 40 or INT_MAX, and a wrong ECONFIG for the rest. */
START_TEST(command_machine_out_of_range)
{
    static const int bad[] = { -1, 0, ORDERLY_MACHINE_COUNT + 1, 40, INT_MAX, INT_MIN };
    fx f;
    size_t i;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_einval(&f, bad[i], ORDERLY_EVENT_FIRST, 0, "bad-machine", "is not a machine id");
    key_still_free(&f, "bad-machine");
    fx_free(&f);
}
END_TEST

/* A machine this engine does not own is still a configuration error. */
START_TEST(command_machine_not_owned)
{
    fx f;
    orderly_result r;

    fx_init(&f);
    f.o.roles = 1u << ORDERLY_MACHINE_ORDER;
    fx_open(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL,
                           T0 + 1000, &r),
                     ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "does not own machine 'payment'"));
    fx_free(&f);
}
END_TEST

START_TEST(command_event_out_of_range)
{
    const orderly_machine *m;
    fx f;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_machine_by_id(&m, ORDERLY_MACHINE_PAYMENT), 0);
    expect_einval(&f, ORDERLY_MACHINE_PAYMENT, 0, 0, "bad-event", "is not an event of machine 'payment'");
    expect_einval(&f, ORDERLY_MACHINE_PAYMENT, -1, 0, "bad-event", "is not an event");
    expect_einval(&f, ORDERLY_MACHINE_PAYMENT, orderly_machine_event_limit(m), 0, "bad-event",
                  "is not an event");
    expect_einval(&f, ORDERLY_MACHINE_PAYMENT, INT_MAX, 0, "bad-event", "is not an event");
    key_still_free(&f, "bad-event");
    fx_free(&f);
}
END_TEST

/* An index no order can have is bad input, not a missing part; one an
 * order could have but this one has not is ENOTFOUND. */
START_TEST(command_index_out_of_range)
{
    fx f;
    orderly_result r;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    expect_einval(&f, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 1, "bad-index",
                  "index 1 is out of range for machine 'payment' (0..0)");
    expect_einval(&f, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_CANCEL, UINT32_MAX,
                  "bad-index", "index 4294967295 is out of range for machine 'fulfillment'");
    expect_einval(&f, ORDERLY_MACHINE_RESERVATION, ORDERLY_RESERVATION_EV_EXPIRE, ORDERLY_LINES_MAX,
                  "bad-index", "out of range for machine 'reservation'");
    expect_einval(&f, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 256, "bad-index",
                  "out of range for machine 'shipment'");
    ck_assert_int_eq(apply(&f, "o1", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_CANCEL, 2, 0,
                           T0 + 1000, &r),
                     ORDERLY_ENOTFOUND);
    key_still_free(&f, "bad-index");
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-input");
    TCase *machine = tcase_create("command-machine-out-of-range");
    TCase *owned = tcase_create("command-machine-not-owned");
    TCase *event = tcase_create("command-event-out-of-range");
    TCase *index = tcase_create("command-index-out-of-range");

    tcase_add_test(machine, command_machine_out_of_range);
    suite_add_tcase(s, machine);
    tcase_add_test(owned, command_machine_not_owned);
    suite_add_tcase(s, owned);
    tcase_add_test(event, command_event_out_of_range);
    suite_add_tcase(s, event);
    tcase_add_test(index, command_index_out_of_range);
    suite_add_tcase(s, index);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
