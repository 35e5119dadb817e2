/*
 * Batches on the in-memory storage: an open batch reserves room for every
 * record and idempotency mark it adds, however many that is.
 */
#include "fixture.h"

/* Room for a batch's marks used to be reserved by rehashing a small table
 * in place forever once the batch held more than half its slots. */
START_TEST(batch_of_many_new_orders_commits)
{
    fx f;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    char id[16];
    int i;

    fx_setup(&f);
    ck_assert_int_eq(orderly_engine_begin_batch(f.e), 0);
    for (i = 0; i < 64; i++) {
        snprintf(id, sizeof id, "b-%d", i);
        create_ok(&f, id, ORDERLY_PAY_CARD, T0);
    }
    ck_assert_int_eq(orderly_engine_commit_batch(f.e), 0);
    ck_assert_int_eq(orderly_engine_get_order(f.e, "b-63", &v), 0);
    ck_assert_int_eq(v.order_state, ORDERLY_ORDER_PENDING);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("engine-batch");

    orderly_test_case(s, batch_of_many_new_orders_commits, 0);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
