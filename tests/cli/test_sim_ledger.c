/*
 * simulate's per-line and per-order verdicts (tools/sim_ledger.c): a world
 * and an engine that agree pass, and each kind of disagreement is caught
 * and named, so a run whose books do not balance cannot report that they
 * do.
 */
#include <string.h>

#include "sim.h"
#include "../unit/unit_main.h"

/* A delivered line of 3 units at 1000: 2 returned and restocked, 1 kept. */
static void agreeing(struct sim_line *w, orderly_part_view *p)
{
    memset(w, 0, sizeof *w);
    w->sku = 4242;
    w->warehouse = 2;
    w->quantity = 3;
    w->unit_price = 1000;
    w->shipped = 3;
    w->delivered = 3;
    w->claimed = 2;
    w->returned = 2;
    w->to_restock = 2;
    w->restocked = 2;
    w->refund_due = 2000;
    memset(p, 0, sizeof *p);
    p->size = sizeof *p;
    p->machine = ORDERLY_MACHINE_RESERVATION;
    p->state = ORDERLY_RESERVATION_FULFILLED;
    p->sku = 4242;
    p->warehouse = 2;
    p->quantity = 3;
    p->shipped = 3;
    p->delivered = 3;
    p->returned = 2;
    p->restocked = 2;
    p->refunded = 2000;
}

/* The verdict on w and p: 1 and a reason mentioning `word`, or 0. */
static int line_fails(const struct sim_line *w, const orderly_part_view *p, int exact,
                      const char *word)
{
    char why[200] = "";
    int r = sim_line_verdict(w, p, exact, why, sizeof why);

    if (r != 0)
        ck_assert_msg(strstr(why, word) != NULL, "reason '%s' does not mention '%s'", why, word);
    return r;
}

START_TEST(a_line_the_engine_agrees_with_passes)
{
    struct sim_line w;
    orderly_part_view p;

    agreeing(&w, &p);
    ck_assert_int_eq(line_fails(&w, &p, 1, ""), 0);
}
END_TEST

START_TEST(a_line_shipped_beyond_its_order_fails)
{
    struct sim_line w;
    orderly_part_view p;

    agreeing(&w, &p);
    w.shipped = 4;
    ck_assert_int_eq(line_fails(&w, &p, 1, "shipped 4 of 3"), 1);
}
END_TEST

START_TEST(a_line_returned_beyond_delivery_fails)
{
    struct sim_line w;
    orderly_part_view p;

    agreeing(&w, &p);
    w.delivered = 1;
    ck_assert_int_eq(line_fails(&w, &p, 1, "returned 2 of 1 delivered"), 1);
}
END_TEST

START_TEST(a_line_restocked_beyond_what_came_back_fails)
{
    struct sim_line w;
    orderly_part_view p;

    agreeing(&w, &p);
    w.restocked = 3;
    w.to_restock = 3;
    ck_assert_int_eq(line_fails(&w, &p, 1, "restocked 3 of 2 returned"), 1);
}
END_TEST

START_TEST(an_inventory_that_restocked_other_than_what_came_back_fails)
{
    struct sim_line w;
    orderly_part_view p;

    agreeing(&w, &p);
    w.restocked = 1;
    ck_assert_int_eq(line_fails(&w, &p, 1, "the inventory restocked 1"), 1);
}
END_TEST

START_TEST(an_engine_count_other_than_the_worlds_fails)
{
    struct sim_line w;
    orderly_part_view p;

    agreeing(&w, &p);
    p.delivered = 2;
    p.returned = 1;
    p.restocked = 1;
    ck_assert_int_eq(line_fails(&w, &p, 1, "delivered 3 in the world, 2 in the engine"), 1);
    agreeing(&w, &p);
    p.lost = 1;
    p.delivered = 2;
    p.returned = 2;
    ck_assert_int_eq(line_fails(&w, &p, 1, "in the engine"), 1);
}
END_TEST

START_TEST(an_engine_whose_own_chain_breaks_fails)
{
    struct sim_line w;
    orderly_part_view p;

    agreeing(&w, &p);
    p.restocked = 3;
    ck_assert_int_eq(line_fails(&w, &p, 1, "break the chain"), 1);
}
END_TEST

START_TEST(a_line_of_another_sku_or_warehouse_fails)
{
    struct sim_line w;
    orderly_part_view p;

    agreeing(&w, &p);
    p.warehouse = 3;
    ck_assert_int_eq(line_fails(&w, &p, 1, "the engine holds"), 1);
}
END_TEST

START_TEST(units_neither_held_shipped_nor_released_fail)
{
    struct sim_line w;
    orderly_part_view p;

    memset(&w, 0, sizeof w);
    w.sku = 7;
    w.warehouse = 1;
    w.quantity = 2;
    w.unit_price = 500;
    memset(&p, 0, sizeof p);
    p.sku = 7;
    p.warehouse = 1;
    p.quantity = 2;
    p.state = ORDERLY_RESERVATION_RELEASED;
    ck_assert_int_eq(line_fails(&w, &p, 1, "2 ordered but 0 held"), 1);
    w.released = 2;   /* the inventory gave them back */
    ck_assert_int_eq(line_fails(&w, &p, 1, ""), 0);
    w.released = 0;
    p.state = ORDERLY_RESERVATION_EXPIRED;   /* a hold that lapsed needs no release */
    ck_assert_int_eq(line_fails(&w, &p, 1, ""), 0);
    p.state = ORDERLY_RESERVATION_ACTIVE;
    p.reserved = 2;
    ck_assert_int_eq(line_fails(&w, &p, 1, ""), 0);
}
END_TEST

START_TEST(a_line_refunded_beyond_its_value_fails)
{
    struct sim_line w;
    orderly_part_view p;

    agreeing(&w, &p);
    p.refunded = 3001;
    ck_assert_int_eq(line_fails(&w, &p, 0, "of a line worth 3000"), 1);
}
END_TEST

START_TEST(a_line_refunded_other_than_owed_fails_only_when_exact)
{
    struct sim_line w;
    orderly_part_view p;

    agreeing(&w, &p);
    p.refunded = 1800;   /* a restocking fee kept: the order's total decides */
    ck_assert_int_eq(line_fails(&w, &p, 0, ""), 0);
    ck_assert_int_eq(line_fails(&w, &p, 1, "the world is owed 2000"), 1);
}
END_TEST

/* An order that captured 5000 and refunded the 2000 its returns are owed. */
static struct sim_money balanced(void)
{
    struct sim_money m;

    memset(&m, 0, sizeof m);
    m.world_captured = m.captured = 5000;
    m.world_refunded = m.refunded = m.lines_refunded = 2000;
    m.world_due = 2000;
    return m;
}

static int money_fails(const struct sim_money *m, const char *word)
{
    char why[200] = "";
    int r = sim_money_verdict(m, why, sizeof why);

    if (r != 0)
        ck_assert_msg(strstr(why, word) != NULL, "reason '%s' does not mention '%s'", why, word);
    return r;
}

START_TEST(an_order_refunded_what_it_owes_passes)
{
    struct sim_money m = balanced();

    ck_assert_int_eq(money_fails(&m, ""), 0);
}
END_TEST

START_TEST(an_order_refunded_other_than_what_came_back_fails)
{
    struct sim_money m = balanced();

    m.world_due = 2500;
    ck_assert_int_eq(money_fails(&m, "worth 2500"), 1);
}
END_TEST

START_TEST(a_cancelled_order_that_keeps_money_fails)
{
    struct sim_money m = balanced();

    m.ended_unpaid = 1;
    ck_assert_int_eq(money_fails(&m, "keeps 3000"), 1);
    m.world_refunded = m.refunded = m.lines_refunded = 5000;
    ck_assert_int_eq(money_fails(&m, ""), 0);
}
END_TEST

START_TEST(lines_whose_refunds_miss_the_orders_fail)
{
    struct sim_money m = balanced();

    m.lines_refunded = 1999;
    ck_assert_int_eq(money_fails(&m, "add up to 1999"), 1);
}
END_TEST

START_TEST(an_engine_and_a_provider_that_disagree_fail)
{
    struct sim_money m = balanced();

    m.world_captured = 4000;
    ck_assert_int_eq(money_fails(&m, "the provider holds 4000"), 1);
    m = balanced();
    m.world_refunded = 1000;
    ck_assert_int_eq(money_fails(&m, "paid back 1000"), 1);
    m = balanced();
    m.refunded = m.world_refunded = m.lines_refunded = m.world_due = 6000;
    ck_assert_int_eq(money_fails(&m, "refunded 6000 of 5000"), 1);
}
END_TEST

static Suite *ledger_suite(void)
{
    Suite *s = suite_create("sim_ledger");

    orderly_test_case(s, a_line_the_engine_agrees_with_passes, UNIT_TIMEOUT);
    orderly_test_case(s, a_line_shipped_beyond_its_order_fails, UNIT_TIMEOUT);
    orderly_test_case(s, a_line_returned_beyond_delivery_fails, UNIT_TIMEOUT);
    orderly_test_case(s, a_line_restocked_beyond_what_came_back_fails, UNIT_TIMEOUT);
    orderly_test_case(s, an_inventory_that_restocked_other_than_what_came_back_fails, UNIT_TIMEOUT);
    orderly_test_case(s, an_engine_count_other_than_the_worlds_fails, UNIT_TIMEOUT);
    orderly_test_case(s, an_engine_whose_own_chain_breaks_fails, UNIT_TIMEOUT);
    orderly_test_case(s, a_line_of_another_sku_or_warehouse_fails, UNIT_TIMEOUT);
    orderly_test_case(s, units_neither_held_shipped_nor_released_fail, UNIT_TIMEOUT);
    orderly_test_case(s, a_line_refunded_beyond_its_value_fails, UNIT_TIMEOUT);
    orderly_test_case(s, a_line_refunded_other_than_owed_fails_only_when_exact, UNIT_TIMEOUT);
    orderly_test_case(s, an_order_refunded_what_it_owes_passes, UNIT_TIMEOUT);
    orderly_test_case(s, an_order_refunded_other_than_what_came_back_fails, UNIT_TIMEOUT);
    orderly_test_case(s, a_cancelled_order_that_keeps_money_fails, UNIT_TIMEOUT);
    orderly_test_case(s, lines_whose_refunds_miss_the_orders_fail, UNIT_TIMEOUT);
    orderly_test_case(s, an_engine_and_a_provider_that_disagree_fail, UNIT_TIMEOUT);
    return s;
}

int main(void)
{
    Suite *suites[] = { ledger_suite(), NULL };

    return unit_run(suites);
}
