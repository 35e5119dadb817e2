/*
 * The reaction table (lib/fsm/reactions.c): the engine's own table passes
 * its validation, and deliberately broken copies of it are rejected with
 * a message that names the fault.
 */
#include <string.h>

#include "base/ctx.h"
#include "fsm/reactions.h"
#include "fsm/table.h"
#include "orderly/compensation.h"
#include "orderly/fulfillment.h"
#include "orderly/order.h"
#include "orderly/payment.h"
#include "orderly/reservation.h"
#include "orderly/shipment.h"
#include "unit_main.h"

#define CAP 128

static struct orderly__reaction table[CAP];
static size_t n;
static orderly_ctx ctx;

static void copy_table(void)
{
    ck_assert_uint_le(orderly__n_reactions, CAP - 1);
    memcpy(table, orderly__reactions, orderly__n_reactions * sizeof table[0]);
    n = orderly__n_reactions;
    memset(&ctx, 0, sizeof ctx);
}

static void assert_rejected(const char *needle)
{
    ck_assert_int_eq(orderly__reactions_validate(table, n, &ctx), ORDERLY_EINVARIANT);
    ck_assert_msg(strstr(ctx.msg, needle) != NULL, "message '%s' lacks '%s'", ctx.msg, needle);
}

/* index of the first row from source into state, or fails */
static size_t find(int source, int state)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (table[i].source == source && table[i].state == state)
            return i;
    ck_abort_msg("no reaction from machine %d state %d", source, state);
    return 0;
}

START_TEST(the_engines_table_is_valid)
{
    copy_table();
    ck_assert_int_eq(orderly__choreography_validate(&ctx), ORDERLY_OK);
    ck_assert_int_eq(orderly__reactions_validate(table, n, &ctx), ORDERLY_OK);
}
END_TEST

START_TEST(a_target_event_the_target_machine_lacks_is_rejected)
{
    size_t i;

    copy_table();
    i = find(ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_DELIVERED);
    table[i].target = ORDERLY_MACHINE_ORDER;
    table[i].select = ORDERLY__SEL_OWNER;
    table[i].event = 31; /* the order has no event 31 */
    assert_rejected("order has no event 31");
}
END_TEST

START_TEST(a_reaction_cycle_that_never_ends_a_part_is_rejected)
{
    copy_table();
    /* a shipment's every status change fails its delivery again: in
     * transit <-> delivery failed, neither terminal */
    table[n++] = (struct orderly__reaction){
        ORDERLY_MACHINE_SHIPMENT, ORDERLY_EFFECT_EMIT_STATUS_CHANGED, 0, ORDERLY_MACHINE_SHIPMENT,
        ORDERLY__SEL_EVERY, ORDERLY_SHIPMENT_EV_FAIL_DELIVERY, ORDERLY__AMT_NONE,
        ORDERLY__WHEN_ALWAYS, 0, "broken on purpose", 0, 0, 0, 0, 0};
    assert_rejected("can run unbounded");
}
END_TEST

START_TEST(a_cycle_through_a_terminal_state_is_accepted)
{
    copy_table();
    /* the order's cancel cancels fulfillments, whose cancellation feeds
     * the order again: bounded, since each enters a terminal state once.
     * The engine's table has this cycle; it must validate. */
    find(ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_CANCELLED);
    ck_assert_int_eq(orderly__reactions_validate(table, n, &ctx), ORDERLY_OK);
}
END_TEST

START_TEST(a_terminal_part_state_without_a_reaction_is_rejected)
{
    size_t i;

    copy_table();
    i = find(ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_CANCELLED); /* a declared none */
    memmove(&table[i], &table[i + 1], (n - i - 1) * sizeof table[0]);
    n--;
    assert_rejected("shipment state 'cancelled' is terminal but has no reaction");
}
END_TEST

START_TEST(a_declared_none_without_a_state_is_rejected)
{
    copy_table();
    table[n++] = (struct orderly__reaction){ ORDERLY_MACHINE_RETURN, ORDERLY_EFFECT_NONE, 0, 0,
                                             ORDERLY__SEL_NONE, 0, 0, 0, 0, "broken",
                                             0, 0, 0, 0, 0 };
    assert_rejected("a declared none must name a return state");
}
END_TEST

START_TEST(a_reservation_selector_on_another_machine_is_rejected)
{
    size_t i;

    copy_table();
    i = find(ORDERLY_MACHINE_RESERVATION, ORDERLY_RESERVATION_EXPIRED);
    table[i].select = ORDERLY__SEL_HELD;
    assert_rejected("does not fit the target");
}
END_TEST

/* the first row whose trigger is effect from source, or fails */
static size_t find_fx(int source, int effect)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (table[i].source == source && table[i].effect == effect)
            return i;
    ck_abort_msg("no reaction from machine %d on effect %d", source, effect);
    return 0;
}

START_TEST(a_condition_on_an_event_its_machine_lacks_is_rejected)
{
    size_t i;

    copy_table();
    i = find_fx(ORDERLY_MACHINE_ORDER, ORDERLY_EFFECT_CONFIRM_RESERVATIONS);
    ck_assert_int_eq(table[i].cond, ORDERLY__IF_NOT_ALL_CAN);
    table[i].cond_arg = 30; /* the reservation has no event 30 */
    assert_rejected("asks about reservation event 30");
}
END_TEST

START_TEST(a_condition_on_attributes_no_state_has_is_rejected)
{
    size_t i;

    copy_table();
    i = find_fx(ORDERLY_MACHINE_ORDER, ORDERLY_EFFECT_REQUEST_CAPTURE);
    table[i].cond_arg = ORDERLY__ST_HELD; /* a reservation's attribute, no payment state's */
    assert_rejected("no payment state has the attributes");
}
END_TEST

START_TEST(an_unknown_condition_or_signal_is_rejected)
{
    size_t i;

    copy_table();
    i = find_fx(ORDERLY_MACHINE_ORDER, ORDERLY_EFFECT_REQUEST_CAPTURE);
    table[i].cond = ORDERLY__IF_COUNT;
    assert_rejected("unknown condition");
    copy_table();
    table[i].emit = ORDERLY__SIG_COUNT;
    assert_rejected("unknown when, amount, signal or operation");
}
END_TEST

START_TEST(a_row_with_no_event_that_does_nothing_is_rejected)
{
    size_t i;

    copy_table();
    i = find_fx(ORDERLY_MACHINE_ORDER, ORDERLY_EFFECT_REQUEST_CAPTURE);
    table[i].emit = ORDERLY__SIG_NONE; /* neither records nor emits */
    assert_rejected("must record an operation or emit a signal");
    copy_table();
    table[i].event = ORDERLY_PAYMENT_EV_VOID; /* and would fire nothing */
    assert_rejected("must record an operation or emit a signal");
}
END_TEST

START_TEST(the_hidden_confirmation_cascade_is_seen_by_the_cycle_check)
{
    size_t i;

    copy_table();
    /* the confirmation's cancel is a row now: make it re-confirm the order
     * instead (pending -> confirmed is not terminal, so the cascade can
     * loop through confirm_reservations forever) */
    i = find_fx(ORDERLY_MACHINE_ORDER, ORDERLY_EFFECT_CONFIRM_RESERVATIONS);
    table[i].event = ORDERLY_ORDER_EV_PAYMENT_CONFIRMED;
    assert_rejected("can run unbounded");
}
END_TEST

static orderly__effect_decls_of fx[ORDERLY_MACHINE_COUNT + 1];
static struct orderly__op_decl ops[ORDERLY__OP_IDS];

static void copy_effects(void)
{
    copy_table();
    memcpy(fx, orderly__effect_decls, sizeof fx);
    memcpy(ops, orderly__op_decls, sizeof ops);
}

static void assert_effects_rejected(const char *needle)
{
    ck_assert_int_eq(orderly__effects_validate((const orderly__effect_decls_of *)fx, ops, table, n, &ctx),
                     ORDERLY_EINVARIANT);
    ck_assert_msg(strstr(ctx.msg, needle) != NULL, "message '%s' lacks '%s'", ctx.msg, needle);
}

START_TEST(the_engines_effect_declarations_are_valid)
{
    copy_effects();
    ck_assert_int_eq(orderly__effects_validate((const orderly__effect_decls_of *)fx, ops, table, n, &ctx),
                     ORDERLY_OK);
}
END_TEST
START_TEST(an_effect_a_row_names_but_nobody_declared_is_rejected)
{
    copy_effects();
    /* the return's rows restock; the declaration is gone */
    memset(&fx[ORDERLY_MACHINE_RETURN][ORDERLY_EFFECT_RESTOCK], 0, sizeof fx[0][0]);
    assert_effects_rejected("effect restock is not declared for return");
}
END_TEST
START_TEST(an_unknown_event_operation_or_condition_is_rejected)
{
    copy_effects();
    fx[ORDERLY_MACHINE_ORDER][ORDERLY_EFFECT_EMIT_ORDER_CANCELLED].what = ORDERLY__OUT_COUNT;
    assert_effects_rejected("publishes unknown event");
    copy_effects();
    fx[ORDERLY_MACHINE_PAYMENT][ORDERLY_EFFECT_CAPTURE_PAYMENT].what = 99;
    assert_effects_rejected("unknown or has no declared key");
    copy_effects();
    fx[ORDERLY_MACHINE_ORDER][ORDERLY_EFFECT_REVERT_PROMOTION].cond = ORDERLY__IF_ALL_CAN;
    assert_effects_rejected("unknown kind, amount, lines or condition");
    copy_effects();
    fx[ORDERLY_MACHINE_ORDER][ORDERLY_EFFECT_RESTORE_LOYALTY].amount = ORDERLY__AMT_COUNT;
    assert_effects_rejected("unknown kind, amount, lines or condition");
}
END_TEST
START_TEST(an_amount_or_lines_of_another_machines_part_are_rejected)
{
    copy_effects();
    /* a shipment has no return amount */
    fx[ORDERLY_MACHINE_SHIPMENT][ORDERLY_EFFECT_RESTOCK].amount = ORDERLY__AMT_PART;
    assert_effects_rejected("belong to another machine's part");
    copy_effects();
    fx[ORDERLY_MACHINE_RETURN][ORDERLY_EFFECT_RESTOCK].lines = ORDERLY__LINES_SHIPPED_HERE;
    assert_effects_rejected("belong to another machine's part");
}
END_TEST
START_TEST(an_effect_that_reacts_only_carries_nothing)
{
    copy_effects();
    fx[ORDERLY_MACHINE_ORDER][ORDERLY_EFFECT_SETTLE_PAYMENT].amount = ORDERLY__AMT_TOTAL;
    assert_effects_rejected("carries nothing");
}
END_TEST
START_TEST(an_operation_without_a_key_scope_is_rejected)
{
    copy_effects();
    /* recorded by a reaction row, not by an effect */
    ops[ORDERLY_OP_RELEASE_RESERVATIONS].key = ORDERLY__KEY_UNDECLARED;
    assert_effects_rejected("has no declared key");
    copy_effects();
    ops[ORDERLY_OP_CANCEL_SHIPMENT].key = ORDERLY__KEY_UNDECLARED;
    assert_effects_rejected("has no declared key");
}
END_TEST
START_TEST(once_bits_must_be_single_distinct_and_only_once_per_order)
{
    copy_effects();
    ops[ORDERLY_OP_RESTORE_LOYALTY].once = ops[ORDERLY_OP_REVERT_PROMOTION].once;
    assert_effects_rejected("its own single once bit");
    copy_effects();
    ops[ORDERLY_OP_CANCEL_COD_CLAIM].once = 3;
    assert_effects_rejected("its own single once bit");
    copy_effects();
    ops[ORDERLY_OP_REFUND].once = 16; /* a refund may repeat */
    assert_effects_rejected("its own single once bit");
    copy_effects();
    ops[ORDERLY_OP_VOID_AUTHORIZATION].once = 0;
    assert_effects_rejected("its own single once bit");
}
END_TEST
START_TEST(the_persisted_once_bits_are_pinned)
{
    ck_assert_uint_eq(orderly__op_decls[ORDERLY_OP_VOID_AUTHORIZATION].once, 1);
    ck_assert_uint_eq(orderly__op_decls[ORDERLY_OP_REVERT_PROMOTION].once, 2);
    ck_assert_uint_eq(orderly__op_decls[ORDERLY_OP_RESTORE_LOYALTY].once, 4);
    ck_assert_uint_eq(orderly__op_decls[ORDERLY_OP_CANCEL_COD_CLAIM].once, 8);
}
END_TEST
/* The promotion and amount conditions look at the order itself, not at
 * a machine: one that names a machine is a mistake. */
START_TEST(a_machine_less_condition_naming_a_machine_is_rejected)
{
    size_t i;

    copy_table();
    i = find(ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_DELIVERED);
    table[i].cond = ORDERLY__IF_AMOUNT;
    ck_assert_int_eq(orderly__reactions_validate(table, n, &ctx), ORDERLY_OK);
    table[i].cond_machine = ORDERLY_MACHINE_PAYMENT;
    assert_rejected("looks at no machine");
}
END_TEST

static orderly__machine_inputs inputs[ORDERLY_MACHINE_COUNT + 1];

static void copy_inputs(void)
{
    memcpy(inputs, orderly__event_inputs, sizeof inputs);
    memset(&ctx, 0, sizeof ctx);
}

static void assert_inputs_rejected(const char *needle)
{
    ck_assert_int_eq(orderly__inputs_validate((const orderly__machine_inputs *)inputs, &ctx), ORDERLY_EINVARIANT);
    ck_assert_msg(strstr(ctx.msg, needle) != NULL, "message '%s' lacks '%s'", ctx.msg, needle);
}

START_TEST(the_engines_event_inputs_are_valid)
{
    copy_inputs();
    ck_assert_int_eq(orderly__inputs_validate((const orderly__machine_inputs *)inputs, &ctx), ORDERLY_OK);
}
END_TEST

START_TEST(a_deadline_guard_without_a_deadline_is_rejected)
{
    copy_inputs();
    /* picking has no timer of its own: the SLA is the event's */
    memset(&inputs[ORDERLY_MACHINE_FULFILLMENT][ORDERLY_FULFILLMENT_EV_SLA_BREACH], 0,
           sizeof inputs[0][0]);
    assert_inputs_rejected("is guarded by 'past_deadline' but has no deadline");
}
END_TEST

START_TEST(a_parts_guard_without_parts_is_rejected)
{
    copy_inputs();
    memset(&inputs[ORDERLY_MACHINE_ORDER][ORDERLY_ORDER_EV_DELIVERED], 0, sizeof inputs[0][0]);
    assert_inputs_rejected("the event counts no parts");
}
END_TEST

START_TEST(money_outside_the_payment_is_rejected)
{
    copy_inputs();
    inputs[ORDERLY_MACHINE_ORDER][ORDERLY_ORDER_EV_CANCEL].money = ORDERLY__MONEY_REFUND;
    assert_inputs_rejected("moves money, which only payment events do");
}
END_TEST

START_TEST(parts_outside_the_order_or_an_unknown_event_are_rejected)
{
    copy_inputs();
    inputs[ORDERLY_MACHINE_PAYMENT][ORDERLY_PAYMENT_EV_VOID].parts_of = ORDERLY_MACHINE_SHIPMENT;
    inputs[ORDERLY_MACHINE_PAYMENT][ORDERLY_PAYMENT_EV_VOID].done_of = ORDERLY_MACHINE_SHIPMENT;
    assert_inputs_rejected("counts parts, which only the order does");
    copy_inputs();
    inputs[ORDERLY_MACHINE_SHIPMENT][31].timer = ORDERLY_TIMER_ABANDONED;
    assert_inputs_rejected("shipment has no event 31");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reactions");

    orderly_test_case(s, the_engines_table_is_valid, UNIT_TIMEOUT);
    orderly_test_case(s, a_target_event_the_target_machine_lacks_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, a_reaction_cycle_that_never_ends_a_part_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, a_cycle_through_a_terminal_state_is_accepted, UNIT_TIMEOUT);
    orderly_test_case(s, a_terminal_part_state_without_a_reaction_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, a_declared_none_without_a_state_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, a_reservation_selector_on_another_machine_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, a_condition_on_an_event_its_machine_lacks_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, a_condition_on_attributes_no_state_has_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, an_unknown_condition_or_signal_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, a_row_with_no_event_that_does_nothing_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, the_hidden_confirmation_cascade_is_seen_by_the_cycle_check, UNIT_TIMEOUT);
    orderly_test_case(s, the_engines_event_inputs_are_valid, UNIT_TIMEOUT);
    orderly_test_case(s, a_deadline_guard_without_a_deadline_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, a_parts_guard_without_parts_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, money_outside_the_payment_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, parts_outside_the_order_or_an_unknown_event_are_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, the_engines_effect_declarations_are_valid, UNIT_TIMEOUT);
    orderly_test_case(s, an_effect_a_row_names_but_nobody_declared_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, an_unknown_event_operation_or_condition_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, an_amount_or_lines_of_another_machines_part_are_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, an_effect_that_reacts_only_carries_nothing, UNIT_TIMEOUT);
    orderly_test_case(s, an_operation_without_a_key_scope_is_rejected, UNIT_TIMEOUT);
    orderly_test_case(s, once_bits_must_be_single_distinct_and_only_once_per_order, UNIT_TIMEOUT);
    orderly_test_case(s, the_persisted_once_bits_are_pinned, UNIT_TIMEOUT);
    orderly_test_case(s, a_machine_less_condition_naming_a_machine_is_rejected, UNIT_TIMEOUT);
    return unit_run((Suite *[]){ s, NULL });
}
