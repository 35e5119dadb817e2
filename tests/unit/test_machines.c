/*
 * The seven declared machines, checked against lists written out by hand from
 * the lib/fsm table files. Nothing here is derived from the tables or the
 * query API: if a row is added, removed or retargeted, a list below must
 * change too, and a reviewer sees the lifecycle change in this file's diff.
 */
#include <stdio.h>
#include <string.h>

#include "orderly/fulfillment.h"
#include "orderly/machine.h"
#include "orderly/order.h"
#include "orderly/payment.h"
#include "orderly/reservation.h"
#include "orderly/return.h"
#include "orderly/claim.h"
#include "orderly/shipment.h"
#include "unit_main.h"

/* ---- the hand-written model -------------------------------------------- */

typedef struct row_spec {
    const char *from;
    const char *event;
    const char *guard;
    const char *to;
} row_spec;

typedef struct name_id {
    const char *name;
    int id;
} name_id;

typedef struct machine_spec {
    const char *name;
    int id;
    const char *initial;
    const name_id *states;
    size_t n_states;
    const name_id *events;
    size_t n_events;
    const char *const *terminals;
    size_t n_terminals;
    const row_spec *rows;
    size_t n_rows;
} machine_spec;

/* order */
static const name_id order_states[] = {
    { "pending", ORDERLY_ORDER_PENDING },
    { "confirmed", ORDERLY_ORDER_CONFIRMED },
    { "processing", ORDERLY_ORDER_PROCESSING },
    { "partially_shipped", ORDERLY_ORDER_PARTIALLY_SHIPPED },
    { "shipped", ORDERLY_ORDER_SHIPPED },
    { "delivered", ORDERLY_ORDER_DELIVERED },
    { "completed", ORDERLY_ORDER_COMPLETED },
    { "cancelled", ORDERLY_ORDER_CANCELLED },
    { "failed", ORDERLY_ORDER_FAILED },
    { "partially_refunded", ORDERLY_ORDER_PARTIALLY_REFUNDED },
    { "refunded", ORDERLY_ORDER_REFUNDED },
    { "returned_to_origin", ORDERLY_ORDER_RETURNED_TO_ORIGIN },
};

static const name_id order_events[] = {
    { "payment_confirmed", ORDERLY_ORDER_EV_PAYMENT_CONFIRMED },
    { "payment_failed", ORDERLY_ORDER_EV_PAYMENT_FAILED },
    { "cancel", ORDERLY_ORDER_EV_CANCEL },
    { "reservation_expired", ORDERLY_ORDER_EV_RESERVATION_EXPIRED },
    { "abandoned", ORDERLY_ORDER_EV_ABANDONED },
    { "fulfillment_started", ORDERLY_ORDER_EV_FULFILLMENT_STARTED },
    { "fulfillment_shipped", ORDERLY_ORDER_EV_FULFILLMENT_SHIPPED },
    { "fulfillment_cancelled", ORDERLY_ORDER_EV_FULFILLMENT_CANCELLED },
    { "delivered", ORDERLY_ORDER_EV_DELIVERED },
    { "auto_complete", ORDERLY_ORDER_EV_AUTO_COMPLETE },
    { "complete", ORDERLY_ORDER_EV_COMPLETE },
    { "refunded", ORDERLY_ORDER_EV_REFUNDED },
    { "returned_to_origin", ORDERLY_ORDER_EV_RETURNED_TO_ORIGIN },
};

static const char *const order_terminals[] = {
    "completed", "cancelled", "failed", "refunded", "returned_to_origin",
};

static const row_spec order_rows[] = {
    { "pending", "payment_confirmed", "none", "confirmed" },
    { "pending", "payment_failed", "none", "failed" },
    { "pending", "cancel", "none", "cancelled" },
    { "pending", "reservation_expired", "none", "cancelled" },
    { "pending", "abandoned", "past_deadline", "cancelled" },
    { "confirmed", "cancel", "none", "cancelled" },
    { "confirmed", "fulfillment_started", "none", "processing" },
    { "confirmed", "fulfillment_cancelled", "none", "cancelled" },
    { "processing", "cancel", "none", "cancelled" },
    { "processing", "fulfillment_shipped", "all_parts", "shipped" },
    { "processing", "fulfillment_shipped", "some_parts", "partially_shipped" },
    { "processing", "fulfillment_cancelled", "none", "cancelled" },
    { "partially_shipped", "fulfillment_shipped", "all_parts", "shipped" },
    { "partially_shipped", "fulfillment_shipped", "some_parts", "partially_shipped" },
    { "partially_shipped", "fulfillment_cancelled", "all_parts", "shipped" },
    { "partially_shipped", "fulfillment_cancelled", "some_parts", "partially_shipped" },
    { "partially_shipped", "cancel", "none", "shipped" },
    { "shipped", "delivered", "all_parts", "delivered" },
    { "shipped", "delivered", "some_parts", "shipped" },
    { "shipped", "auto_complete", "past_deadline", "completed" },
    { "shipped", "returned_to_origin", "all_parts", "returned_to_origin" },
    { "shipped", "returned_to_origin", "some_parts", "shipped" },
    { "delivered", "complete", "none", "completed" },
    { "delivered", "auto_complete", "past_deadline", "completed" },
    { "delivered", "refunded", "refund_partial", "partially_refunded" },
    { "delivered", "refunded", "refund_full", "refunded" },
    { "partially_refunded", "refunded", "refund_partial", "partially_refunded" },
    { "partially_refunded", "refunded", "refund_full", "refunded" },
    { "partially_refunded", "complete", "none", "completed" },
    { "partially_refunded", "auto_complete", "past_deadline", "completed" },
};

/* payment */
static const name_id payment_states[] = {
    { "pending", ORDERLY_PAYMENT_PENDING },
    { "authorized", ORDERLY_PAYMENT_AUTHORIZED },
    { "capture_requested", ORDERLY_PAYMENT_CAPTURE_REQUESTED },
    { "captured", ORDERLY_PAYMENT_CAPTURED },
    { "capture_failed", ORDERLY_PAYMENT_CAPTURE_FAILED },
    { "authorization_expired", ORDERLY_PAYMENT_AUTHORIZATION_EXPIRED },
    { "voided", ORDERLY_PAYMENT_VOIDED },
    { "partially_refunded", ORDERLY_PAYMENT_PARTIALLY_REFUNDED },
    { "refunded", ORDERLY_PAYMENT_REFUNDED },
    { "failed", ORDERLY_PAYMENT_FAILED },
    { "cod_pending", ORDERLY_PAYMENT_COD_PENDING },
    { "cod_confirmed", ORDERLY_PAYMENT_COD_CONFIRMED },
    { "cod_cancelled", ORDERLY_PAYMENT_COD_CANCELLED },
    { "cod_uncollected", ORDERLY_PAYMENT_COD_UNCOLLECTED },
};

static const name_id payment_events[] = {
    { "authorize", ORDERLY_PAYMENT_EV_AUTHORIZE },
    { "decline", ORDERLY_PAYMENT_EV_DECLINE },
    { "request_capture", ORDERLY_PAYMENT_EV_REQUEST_CAPTURE },
    { "capture_succeeded", ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED },
    { "capture_failed", ORDERLY_PAYMENT_EV_CAPTURE_FAILED },
    { "retry_capture", ORDERLY_PAYMENT_EV_RETRY_CAPTURE },
    { "authorization_expired", ORDERLY_PAYMENT_EV_AUTHORIZATION_EXPIRED },
    { "void", ORDERLY_PAYMENT_EV_VOID },
    { "refund", ORDERLY_PAYMENT_EV_REFUND },
    { "select_cod", ORDERLY_PAYMENT_EV_SELECT_COD },
    { "cod_confirm", ORDERLY_PAYMENT_EV_COD_CONFIRM },
    { "cod_window_elapsed", ORDERLY_PAYMENT_EV_COD_WINDOW_ELAPSED },
    { "cod_collected", ORDERLY_PAYMENT_EV_COD_COLLECTED },
    { "cod_cancel", ORDERLY_PAYMENT_EV_COD_CANCEL },
    { "abandon", ORDERLY_PAYMENT_EV_ABANDON },
    { "collection_overdue", ORDERLY_PAYMENT_EV_COLLECTION_OVERDUE },
};

static const char *const payment_terminals[] = {
    "voided", "refunded", "failed", "cod_cancelled", "cod_uncollected",
};

static const row_spec payment_rows[] = {
    { "pending", "authorize", "none", "authorized" },
    { "pending", "decline", "none", "failed" },
    { "pending", "select_cod", "none", "cod_pending" },
    { "authorized", "request_capture", "capturable", "capture_requested" },
    { "authorized", "request_capture", "past_deadline", "authorization_expired" },
    { "authorized", "authorization_expired", "past_deadline", "authorization_expired" },
    { "authorized", "void", "none", "voided" },
    { "capture_requested", "capture_succeeded", "none", "captured" },
    { "capture_requested", "capture_failed", "none", "capture_failed" },
    { "capture_requested", "authorization_expired", "past_deadline", "authorization_expired" },
    { "capture_failed", "retry_capture", "capturable", "capture_requested" },
    { "capture_failed", "retry_capture", "past_deadline", "authorization_expired" },
    { "capture_failed", "authorization_expired", "past_deadline", "authorization_expired" },
    { "capture_failed", "void", "none", "voided" },
    { "authorization_expired", "void", "none", "voided" },
    { "captured", "refund", "refund_partial", "partially_refunded" },
    { "captured", "refund", "refund_full", "refunded" },
    { "partially_refunded", "refund", "refund_partial", "partially_refunded" },
    { "partially_refunded", "refund", "refund_full", "refunded" },
    { "cod_pending", "cod_confirm", "within_deadline", "cod_confirmed" },
    { "cod_pending", "cod_window_elapsed", "past_deadline", "cod_cancelled" },
    { "cod_pending", "cod_cancel", "none", "cod_cancelled" },
    { "cod_confirmed", "cod_collected", "none", "captured" },
    { "cod_confirmed", "cod_cancel", "none", "cod_cancelled" },
    /* every live state that waits on the outside ends by a deadline */
    { "pending", "abandon", "none", "failed" },
    { "authorization_expired", "authorization_expired", "past_deadline", "voided" },
    { "cod_confirmed", "collection_overdue", "past_deadline", "cod_uncollected" },
};

/* reservation */
static const name_id reservation_states[] = {
    { "active", ORDERLY_RESERVATION_ACTIVE },
    { "confirmed", ORDERLY_RESERVATION_CONFIRMED },
    { "fulfilled", ORDERLY_RESERVATION_FULFILLED },
    { "released", ORDERLY_RESERVATION_RELEASED },
    { "expired", ORDERLY_RESERVATION_EXPIRED },
};

static const name_id reservation_events[] = {
    { "confirm", ORDERLY_RESERVATION_EV_CONFIRM },
    { "release", ORDERLY_RESERVATION_EV_RELEASE },
    { "expire", ORDERLY_RESERVATION_EV_EXPIRE },
    { "fulfill", ORDERLY_RESERVATION_EV_FULFILL },
};

static const char *const reservation_terminals[] = { "fulfilled", "released", "expired" };

static const row_spec reservation_rows[] = {
    { "active", "confirm", "within_deadline", "confirmed" },
    { "active", "release", "none", "released" },
    { "active", "expire", "past_deadline", "expired" },
    { "confirmed", "release", "none", "released" },
    { "confirmed", "fulfill", "none", "fulfilled" },
};

/* fulfillment */
static const name_id fulfillment_states[] = {
    { "pending", ORDERLY_FULFILLMENT_PENDING },
    { "picking", ORDERLY_FULFILLMENT_PICKING },
    { "picked", ORDERLY_FULFILLMENT_PICKED },
    { "packing", ORDERLY_FULFILLMENT_PACKING },
    { "packed", ORDERLY_FULFILLMENT_PACKED },
    { "shipped", ORDERLY_FULFILLMENT_SHIPPED },
    { "completed", ORDERLY_FULFILLMENT_COMPLETED },
    { "cancelled", ORDERLY_FULFILLMENT_CANCELLED },
    { "failed", ORDERLY_FULFILLMENT_FAILED },
    { "on_hold", ORDERLY_FULFILLMENT_ON_HOLD },
};

static const name_id fulfillment_events[] = {
    { "start_picking", ORDERLY_FULFILLMENT_EV_START_PICKING },
    { "picked", ORDERLY_FULFILLMENT_EV_PICKED },
    { "start_packing", ORDERLY_FULFILLMENT_EV_START_PACKING },
    { "packed", ORDERLY_FULFILLMENT_EV_PACKED },
    { "ship", ORDERLY_FULFILLMENT_EV_SHIP },
    { "complete", ORDERLY_FULFILLMENT_EV_COMPLETE },
    { "cancel", ORDERLY_FULFILLMENT_EV_CANCEL },
    { "fail", ORDERLY_FULFILLMENT_EV_FAIL },
    { "sla_breach", ORDERLY_FULFILLMENT_EV_SLA_BREACH },
    { "release", ORDERLY_FULFILLMENT_EV_RELEASE },
};

static const char *const fulfillment_terminals[] = { "completed", "cancelled", "failed" };

static const row_spec fulfillment_rows[] = {
    { "on_hold", "release", "none", "pending" },
    { "on_hold", "cancel", "none", "cancelled" },
    { "pending", "start_picking", "none", "picking" },
    { "pending", "cancel", "none", "cancelled" },
    { "pending", "sla_breach", "past_deadline", "pending" },
    { "picking", "picked", "none", "picked" },
    { "picking", "cancel", "none", "cancelled" },
    { "picking", "fail", "none", "failed" },
    { "picking", "sla_breach", "past_deadline", "picking" },
    { "picked", "start_packing", "none", "packing" },
    { "picked", "cancel", "none", "cancelled" },
    { "picked", "fail", "none", "failed" },
    { "picked", "sla_breach", "past_deadline", "picked" },
    { "packing", "packed", "none", "packed" },
    { "packing", "cancel", "none", "cancelled" },
    { "packing", "fail", "none", "failed" },
    { "packing", "sla_breach", "past_deadline", "packing" },
    { "packed", "ship", "none", "shipped" },
    { "packed", "cancel", "none", "cancelled" },
    { "packed", "fail", "none", "failed" },
    { "packed", "sla_breach", "past_deadline", "packed" },
    { "shipped", "complete", "none", "completed" },
};

/* shipment */
static const name_id shipment_states[] = {
    { "created", ORDERLY_SHIPMENT_CREATED },
    { "in_transit", ORDERLY_SHIPMENT_IN_TRANSIT },
    { "delivered", ORDERLY_SHIPMENT_DELIVERED },
    { "cancelled", ORDERLY_SHIPMENT_CANCELLED },
    { "lost", ORDERLY_SHIPMENT_LOST },
    { "delivery_failed", ORDERLY_SHIPMENT_DELIVERY_FAILED },
    { "returned_to_origin", ORDERLY_SHIPMENT_RETURNED_TO_ORIGIN },
};

static const name_id shipment_events[] = {
    { "pick_up", ORDERLY_SHIPMENT_EV_PICK_UP },
    { "deliver", ORDERLY_SHIPMENT_EV_DELIVER },
    { "cancel", ORDERLY_SHIPMENT_EV_CANCEL },
    { "lose", ORDERLY_SHIPMENT_EV_LOSE },
    { "fail_delivery", ORDERLY_SHIPMENT_EV_FAIL_DELIVERY },
    { "retry_delivery", ORDERLY_SHIPMENT_EV_RETRY_DELIVERY },
    { "return_to_origin", ORDERLY_SHIPMENT_EV_RETURN_TO_ORIGIN },
};

static const char *const shipment_terminals[] = {
    "delivered", "cancelled", "lost", "returned_to_origin",
};

static const row_spec shipment_rows[] = {
    { "created", "pick_up", "none", "in_transit" },
    { "created", "cancel", "none", "cancelled" },
    { "in_transit", "deliver", "none", "delivered" },
    { "in_transit", "cancel", "none", "cancelled" },
    { "in_transit", "lose", "none", "lost" },
    { "in_transit", "fail_delivery", "none", "delivery_failed" },
    { "delivery_failed", "retry_delivery", "none", "in_transit" },
    { "delivery_failed", "return_to_origin", "none", "returned_to_origin" },
};

/* return */
static const name_id return_states[] = {
    { "requested", ORDERLY_RETURN_REQUESTED },
    { "approved", ORDERLY_RETURN_APPROVED },
    { "rejected", ORDERLY_RETURN_REJECTED },
    { "received", ORDERLY_RETURN_RECEIVED },
    { "inspected", ORDERLY_RETURN_INSPECTED },
    { "refunded", ORDERLY_RETURN_REFUNDED },
    { "completed", ORDERLY_RETURN_COMPLETED },
    { "cancelled", ORDERLY_RETURN_CANCELLED },
};

static const name_id return_events[] = {
    { "approve", ORDERLY_RETURN_EV_APPROVE },
    { "reject", ORDERLY_RETURN_EV_REJECT },
    { "receive", ORDERLY_RETURN_EV_RECEIVE },
    { "inspect", ORDERLY_RETURN_EV_INSPECT },
    { "refund", ORDERLY_RETURN_EV_REFUND },
    { "complete", ORDERLY_RETURN_EV_COMPLETE },
    { "exchange", ORDERLY_RETURN_EV_EXCHANGE },
    { "cancel", ORDERLY_RETURN_EV_CANCEL },
};

static const char *const return_terminals[] = { "rejected", "completed", "cancelled" };

static const row_spec return_rows[] = {
    { "requested", "approve", "none", "approved" },
    { "requested", "reject", "none", "rejected" },
    { "requested", "cancel", "none", "cancelled" },
    { "approved", "receive", "none", "received" },
    { "approved", "cancel", "none", "cancelled" },
    { "received", "inspect", "none", "inspected" },
    { "inspected", "refund", "none", "refunded" },
    { "inspected", "reject", "none", "rejected" },
    { "inspected", "exchange", "none", "completed" },
    { "refunded", "complete", "none", "completed" },
};

/* claim */
static const name_id claim_states[] = {
    { "opened", ORDERLY_CLAIM_OPENED },
    { "refunded", ORDERLY_CLAIM_REFUNDED },
    { "reshipping", ORDERLY_CLAIM_RESHIPPING },
    { "closed", ORDERLY_CLAIM_CLOSED },
};

static const name_id claim_events[] = {
    { "refund", ORDERLY_CLAIM_EV_REFUND },
    { "reship", ORDERLY_CLAIM_EV_RESHIP },
    { "close", ORDERLY_CLAIM_EV_CLOSE },
};

static const char *const claim_terminals[] = { "closed" };

/* refunded and reshipping have no row to each other: never both */
static const row_spec claim_rows[] = {
    { "opened", "refund", "none", "refunded" },
    { "opened", "reship", "none", "reshipping" },
    { "refunded", "close", "none", "closed" },
    { "reshipping", "close", "none", "closed" },
};

#define SPEC(nm, ID, init, pfx)                                                  \
    { nm, ID, init, pfx##_states, COUNT_OF(pfx##_states), pfx##_events,         \
      COUNT_OF(pfx##_events), pfx##_terminals, COUNT_OF(pfx##_terminals),       \
      pfx##_rows, COUNT_OF(pfx##_rows) }

static const machine_spec specs[] = {
    SPEC("order", ORDERLY_MACHINE_ORDER, "pending", order),
    SPEC("payment", ORDERLY_MACHINE_PAYMENT, "pending", payment),
    SPEC("reservation", ORDERLY_MACHINE_RESERVATION, "active", reservation),
    SPEC("fulfillment", ORDERLY_MACHINE_FULFILLMENT, "on_hold", fulfillment),
    SPEC("shipment", ORDERLY_MACHINE_SHIPMENT, "created", shipment),
    SPEC("return", ORDERLY_MACHINE_RETURN, "requested", return),
    SPEC("claim", ORDERLY_MACHINE_CLAIM, "opened", claim),
};

#define N_SPECS ((int)COUNT_OF(specs))

/* ---- helpers ------------------------------------------------------------ */

#define DEADLINE 1700000000000LL

static const machine_spec *spec_named(const char *machine)
{
    size_t i;

    for (i = 0; i < COUNT_OF(specs); i++)
        if (strcmp(specs[i].name, machine) == 0)
            return &specs[i];
    ck_abort_msg("no hand spec for machine '%s'", machine);
    return NULL;
}

static const orderly_machine *machine_named(const char *name)
{
    const orderly_machine *m = NULL;

    ck_assert_msg(orderly_machine_by_name(&m, name) == ORDERLY_OK, "machine '%s' not found", name);
    ck_assert_ptr_nonnull(m);
    return m;
}

static int state_of(const orderly_machine *m, const char *name)
{
    int id = -1;

    ck_assert_msg(orderly_machine_state_id(&id, m, name) == ORDERLY_OK,
                  "machine '%s' has no state '%s'", orderly_machine_name(m), name);
    return id;
}

static int event_of(const orderly_machine *m, const char *name)
{
    int id = -1;

    ck_assert_msg(orderly_machine_event_id(&id, m, name) == ORDERLY_OK,
                  "machine '%s' has no event '%s'", orderly_machine_name(m), name);
    return id;
}

static orderly_ctx *new_ctx(void)
{
    orderly_ctx *ctx = NULL;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), ORDERLY_OK);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

/* Index of the first hand row for (from, event), or -1. */
static int hand_row(const machine_spec *ms, const char *from, const char *event)
{
    size_t i;

    for (i = 0; i < ms->n_rows; i++)
        if (strcmp(ms->rows[i].from, from) == 0 && strcmp(ms->rows[i].event, event) == 0)
            return (int)i;
    return -1;
}

static int hand_terminal(const machine_spec *ms, const char *state)
{
    size_t i;

    for (i = 0; i < ms->n_terminals; i++)
        if (strcmp(ms->terminals[i], state) == 0)
            return 1;
    return 0;
}

/* 1 when msg contains 'word' (quoted, as orderly's messages name things). */
static int names_quoted(const char *msg, const char *word)
{
    char q[128];

    snprintf(q, sizeof q, "'%s'", word);
    return strstr(msg, q) != NULL;
}

/*
 * A guard input that satisfies (satisfy = 1) or violates (0) the named
 * guard. Satisfying inputs satisfy only that guard among the alternatives a
 * table pairs it with (capturable vs past_deadline, partial vs full refund,
 * all vs some parts), so the expected row is the one that wins. Violating
 * inputs violate every alternative of the group as well, so the whole
 * (state, event) pair must come back ORDERLY_EGUARD.
 */
static orderly_guard_input guard_input(const char *guard, int satisfy)
{
    orderly_guard_input in;

    memset(&in, 0, sizeof in);
    in.deadline = DEADLINE;
    in.now = DEADLINE - 1;
    if (strcmp(guard, "none") == 0) {
        ck_assert_msg(satisfy, "guard 'none' cannot be violated");
    } else if (strcmp(guard, "within_deadline") == 0) {
        in.now = satisfy ? DEADLINE - 1 : DEADLINE;
    } else if (strcmp(guard, "past_deadline") == 0) {
        /* amount stays 0, so a capturable alternative fails too */
        in.now = satisfy ? DEADLINE : DEADLINE - 1;
    } else if (strcmp(guard, "capturable") == 0) {
        in.now = DEADLINE - 1;
        in.authorized = 5000;
        in.captured = 1000;
        in.amount = satisfy ? 4000 : 4001;
    } else if (strcmp(guard, "refund_partial") == 0) {
        in.captured = 5000;
        in.refunded = 1000;
        in.amount = satisfy ? 3999 : 4001;
    } else if (strcmp(guard, "refund_full") == 0) {
        in.captured = 5000;
        in.refunded = 1000;
        in.amount = satisfy ? 4000 : 4001;
    } else if (strcmp(guard, "all_parts") == 0) {
        in.parts_total = satisfy ? 3 : 0;
        in.parts_done = satisfy ? 3 : 0;
    } else if (strcmp(guard, "some_parts") == 0) {
        in.parts_total = satisfy ? 3 : 0;
        in.parts_done = satisfy ? 2 : 0;
    } else {
        ck_abort_msg("no input builder for guard '%s'", guard);
    }
    return in;
}

/* Steps machine from state on event; the target's name, or NULL with *rc. */
static const char *step_named(int *rc, const char *machine, const char *state,
                              const char *event, const orderly_guard_input *in,
                              orderly_ctx *ctx)
{
    const orderly_machine *m = machine_named(machine);
    int next = 0;

    *rc = orderly_machine_next(&next, m, state_of(m, state), event_of(m, event), in, ctx);
    return *rc == ORDERLY_OK ? orderly_machine_state_name(m, next) : NULL;
}

static void expect_to(const char *machine, const char *state, const char *event,
                      const orderly_guard_input *in, const char *want)
{
    int rc = 0;
    const char *got = step_named(&rc, machine, state, event, in, NULL);

    ck_assert_msg(rc == ORDERLY_OK, "%s: %s --%s--> want '%s', got %s", machine, state, event,
                  want, orderly_error_name(rc));
    ck_assert_msg(got != NULL && strcmp(got, want) == 0, "%s: %s --%s--> want '%s', got '%s'",
                  machine, state, event, want, got != NULL ? got : "(null)");
}

static void expect_rc(const char *machine, const char *state, const char *event,
                      const orderly_guard_input *in, int want)
{
    orderly_ctx *ctx = new_ctx();
    int rc = 0;
    const char *got = step_named(&rc, machine, state, event, in, ctx);

    ck_assert_msg(rc == want, "%s: %s --%s--> want %s, got %s (to '%s')", machine, state, event,
                  orderly_error_name(want), orderly_error_name(rc), got != NULL ? got : "-");
    ck_assert_int_eq(orderly_ctx_errcode(ctx), want);
    ck_assert_msg(names_quoted(orderly_ctx_errmsg(ctx), state) &&
                      names_quoted(orderly_ctx_errmsg(ctx), event),
                  "message does not name state and event: %s", orderly_ctx_errmsg(ctx));
    orderly_ctx_free(ctx);
}

/* ---- the hand lists against the tables --------------------------------- */

START_TEST(hand_rows_accepted)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    orderly_ctx *ctx = new_ctx();
    size_t i;
    int k;

    for (i = 0; i < ms->n_rows; i++) {
        const row_spec *r = &ms->rows[i];
        orderly_guard_input in = guard_input(r->guard, 1);
        orderly_transition t;
        int from = state_of(m, r->from), ev = event_of(m, r->event), to = state_of(m, r->to);
        int next = -1, rc;

        rc = orderly_machine_next(&next, m, from, ev, &in, ctx);
        ck_assert_msg(rc == ORDERLY_OK, "%s: %s --%s [%s]--> %s rejected: %s", ms->name, r->from,
                      r->event, r->guard, r->to, orderly_ctx_errmsg(ctx));
        ck_assert_msg(next == to, "%s: %s --%s [%s]--> want '%s', got '%s'", ms->name, r->from,
                      r->event, r->guard, r->to, orderly_machine_state_name(m, next));

        memset(&t, 0xff, sizeof t);
        ck_assert_int_eq(orderly_machine_step(&t, m, from, ev, &in, NULL), ORDERLY_OK);
        ck_assert_int_eq(t.from, from);
        ck_assert_int_eq(t.event, ev);
        ck_assert_int_eq(t.to, to);
        ck_assert_str_eq(orderly_guard_name(t.guard), r->guard);
        ck_assert_uint_le(t.n_effects, ORDERLY_EFFECT_MAX);
        ck_assert(t.n_effects == 0 || t.effects != NULL);
        for (k = 0; k < t.n_effects; k++) {
            ck_assert_int_ne(t.effects[k], ORDERLY_EFFECT_NONE);
            ck_assert_ptr_nonnull(orderly_effect_name(t.effects[k]));
        }
        ck_assert_int_eq(orderly_machine_can(m, from, ev, &in, NULL), ORDERLY_OK);
        ck_assert_int_eq(orderly_machine_is_late(m, from, ev), 0);
    }
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(listed_rows_are_hand_rows)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    unsigned char seen[64];
    orderly_transition t;
    int n, i;
    size_t j;

    memset(seen, 0, sizeof seen);
    ck_assert_uint_le(ms->n_rows, sizeof seen);
    n = orderly_machine_transition_count(m);
    ck_assert_int_eq(n, (int)ms->n_rows);
    for (i = 0; i < n; i++) {
        const char *from, *event, *to, *guard;
        int found = -1;

        ck_assert_int_eq(orderly_machine_transition_at(&t, m, i), ORDERLY_OK);
        from = orderly_machine_state_name(m, t.from);
        event = orderly_machine_event_name(m, t.event);
        to = orderly_machine_state_name(m, t.to);
        guard = orderly_guard_name(t.guard);
        ck_assert_ptr_nonnull(from);
        ck_assert_ptr_nonnull(event);
        ck_assert_ptr_nonnull(to);
        ck_assert_ptr_nonnull(guard);
        for (j = 0; j < ms->n_rows; j++) {
            const row_spec *r = &ms->rows[j];
            if (strcmp(r->from, from) == 0 && strcmp(r->event, event) == 0 &&
                strcmp(r->guard, guard) == 0 && strcmp(r->to, to) == 0)
                found = (int)j;
        }
        ck_assert_msg(found >= 0, "%s row %d (%s --%s [%s]--> %s) is not in the hand list",
                      ms->name, i, from, event, guard, to);
        ck_assert_msg(!seen[found], "%s row %d duplicates another", ms->name, i);
        seen[found] = 1;
    }
    ck_assert_int_eq(orderly_machine_transition_at(&t, m, n), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_transition_at(&t, m, -1), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_transition_at(NULL, m, 0), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_transition_at(&t, NULL, 0), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_transition_count(NULL), ORDERLY_EINVAL);
}
END_TEST

START_TEST(every_other_pair_is_illegal)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    orderly_ctx *ctx = new_ctx();
    orderly_guard_input any;
    int s, e, illegal = 0, legal_pairs = 0;
    size_t i;

    /* a populated input too, so a rejection cannot depend on zeroes */
    memset(&any, 0, sizeof any);
    any.now = DEADLINE;
    any.deadline = DEADLINE;
    any.parts_total = 1;
    any.parts_done = 1;

    for (i = 0; i < ms->n_rows; i++)
        if ((int)i == hand_row(ms, ms->rows[i].from, ms->rows[i].event))
            legal_pairs++;

    for (s = 1; s < orderly_machine_state_limit(m); s++) {
        const char *sname = orderly_machine_state_name(m, s);
        ck_assert_ptr_nonnull(sname);
        for (e = ORDERLY_EVENT_FIRST; e < orderly_machine_event_limit(m); e++) {
            const char *ename = orderly_machine_event_name(m, e);
            orderly_transition t;
            int next = -1;

            ck_assert_ptr_nonnull(ename);
            if (hand_row(ms, sname, ename) >= 0)
                continue;
            illegal++;
            orderly_ctx_clear(ctx);
            ck_assert_msg(orderly_machine_next(&next, m, s, e, NULL, ctx) == ORDERLY_ETRANSITION,
                          "%s: %s --%s--> should be ETRANSITION", ms->name, sname, ename);
            ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_ETRANSITION);
            ck_assert_msg(names_quoted(orderly_ctx_errmsg(ctx), sname),
                          "message does not name state '%s': %s", sname, orderly_ctx_errmsg(ctx));
            ck_assert_msg(names_quoted(orderly_ctx_errmsg(ctx), ename),
                          "message does not name event '%s': %s", ename, orderly_ctx_errmsg(ctx));
            ck_assert_msg(names_quoted(orderly_ctx_errmsg(ctx), ms->name),
                          "message does not name machine '%s': %s", ms->name,
                          orderly_ctx_errmsg(ctx));
            ck_assert_int_eq(orderly_machine_next(&next, m, s, e, &any, NULL),
                             ORDERLY_ETRANSITION);
            ck_assert_int_eq(orderly_machine_step(&t, m, s, e, &any, NULL), ORDERLY_ETRANSITION);
            ck_assert_int_eq(orderly_machine_can(m, s, e, &any, NULL), ORDERLY_ETRANSITION);
        }
    }
    ck_assert_int_eq(illegal, (int)(ms->n_states * ms->n_events) - legal_pairs);
    orderly_ctx_free(ctx);
}
END_TEST

/*
 * orderly_machine_next answers most pairs from its next-state table and
 * without a context takes shortcuts for guarded pairs and refusals; step
 * and can always walk the rows. For every id, valid or not, and inputs that
 * satisfy or violate each guard, all of them must give the same answer.
 */
START_TEST(next_agrees_with_step_everywhere)
{
    static const char *const guards[] = { "within_deadline", "past_deadline", "capturable",
                                          "refund_partial", "refund_full", "all_parts",
                                          "some_parts" };
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    const int slim = orderly_machine_state_limit(m), elim = orderly_machine_event_limit(m);
    orderly_guard_input inputs[2 * 7 + 1];
    orderly_ctx *ctx = new_ctx();
    size_t n_in = 0, g, k;
    int s, e, checked = 0;

    for (g = 0; g < sizeof guards / sizeof guards[0]; g++) {
        inputs[n_in++] = guard_input(guards[g], 1);
        inputs[n_in++] = guard_input(guards[g], 0);
    }
    memset(&inputs[n_in++], 0, sizeof inputs[0]);
    for (s = -1; s <= slim; s++) {
        for (e = -1; e <= elim; e++) {
            for (k = 0; k <= n_in; k++) {
                const orderly_guard_input *in = k < n_in ? &inputs[k] : NULL;
                orderly_transition t;
                int plain = -7, with_ctx = -7;
                int rc_step = orderly_machine_step(&t, m, s, e, in, NULL);
                int rc_plain = orderly_machine_next(&plain, m, s, e, in, NULL);
                int rc_ctx = orderly_machine_next(&with_ctx, m, s, e, in, ctx);

                ck_assert_msg(rc_plain == rc_step && rc_ctx == rc_step,
                              "%s: (%d, %d) input %zu: step %s, next %s, next+ctx %s", ms->name,
                              s, e, k, orderly_error_name(rc_step), orderly_error_name(rc_plain),
                              orderly_error_name(rc_ctx));
                ck_assert_int_eq(orderly_machine_can(m, s, e, in, NULL), rc_step);
                if (rc_step == ORDERLY_OK) {
                    ck_assert_int_eq(plain, t.to);
                    ck_assert_int_eq(with_ctx, t.to);
                } else {
                    ck_assert_int_eq(plain, -7);
                    ck_assert_int_eq(with_ctx, -7);
                    ck_assert_int_eq(orderly_ctx_errcode(ctx), rc_step);
                }
                checked++;
            }
        }
    }
    ck_assert_int_eq(checked, (slim + 2) * (elim + 2) * (int)(n_in + 1));
    orderly_ctx_free(ctx);
}
END_TEST

/* ---- guards ------------------------------------------------------------ */

START_TEST(violated_guards_reject)
{
    const machine_spec *ms = &specs[_i];
    size_t i;
    int guarded = 0, rc = 0;

    for (i = 0; i < ms->n_rows; i++) {
        const row_spec *r = &ms->rows[i];
        orderly_guard_input in;

        if (strcmp(r->guard, "none") == 0)
            continue;
        guarded++;
        in = guard_input(r->guard, 0);
        expect_rc(ms->name, r->from, r->event, &in, ORDERLY_EGUARD);
        ck_assert_int_eq(step_named(&rc, ms->name, r->from, r->event, &in, NULL) == NULL, 1);
        ck_assert_int_eq(rc, ORDERLY_EGUARD);
    }
    /* reservation, order, payment and fulfillment all have guarded rows */
    if (strcmp(ms->name, "shipment") != 0 && strcmp(ms->name, "return") != 0 &&
        strcmp(ms->name, "claim") != 0)
        ck_assert_int_gt(guarded, 0);
}
END_TEST

START_TEST(guard_cod_window)
{
    orderly_guard_input in;

    memset(&in, 0, sizeof in);
    in.deadline = DEADLINE;
    in.now = DEADLINE - 1;
    expect_to("payment", "cod_pending", "cod_confirm", &in, "cod_confirmed");
    in.now = DEADLINE;
    expect_rc("payment", "cod_pending", "cod_confirm", &in, ORDERLY_EGUARD);
    in.now = DEADLINE + 3600000;
    expect_rc("payment", "cod_pending", "cod_confirm", &in, ORDERLY_EGUARD);
    /* the window timer's event is the mirror image */
    expect_to("payment", "cod_pending", "cod_window_elapsed", &in, "cod_cancelled");
    in.now = DEADLINE;
    expect_to("payment", "cod_pending", "cod_window_elapsed", &in, "cod_cancelled");
    in.now = DEADLINE - 1;
    expect_rc("payment", "cod_pending", "cod_window_elapsed", &in, ORDERLY_EGUARD);
    /* cancelling needs no window */
    expect_to("payment", "cod_pending", "cod_cancel", &in, "cod_cancelled");
}
END_TEST

START_TEST(guard_capture)
{
    static const char *const from[] = { "authorized", "capture_failed" };
    static const char *const event[] = { "request_capture", "retry_capture" };
    static const char *const ok_to[] = { "capture_requested", "capture_requested" };
    orderly_guard_input in;
    size_t i;

    for (i = 0; i < COUNT_OF(from); i++) {
        memset(&in, 0, sizeof in);
        in.deadline = DEADLINE;
        in.now = DEADLINE - 1;
        in.authorized = 10000;
        in.captured = 2500;

        in.amount = 7500; /* exactly what is left */
        expect_to("payment", from[i], event[i], &in, ok_to[i]);
        in.amount = 1;
        expect_to("payment", from[i], event[i], &in, ok_to[i]);
        in.amount = 7501;
        expect_rc("payment", from[i], event[i], &in, ORDERLY_EGUARD);
        in.amount = 0;
        expect_rc("payment", from[i], event[i], &in, ORDERLY_EGUARD);
        in.amount = -5;
        expect_rc("payment", from[i], event[i], &in, ORDERLY_EGUARD);
        in.captured = 10000;
        in.amount = 1;
        expect_rc("payment", from[i], event[i], &in, ORDERLY_EGUARD);

        /* after the authorization deadline the capture expires instead,
         * whatever the amount */
        in.captured = 2500;
        in.now = DEADLINE;
        in.amount = 7500;
        expect_to("payment", from[i], event[i], &in, "authorization_expired");
        in.amount = 999999;
        expect_to("payment", from[i], event[i], &in, "authorization_expired");
        in.now = DEADLINE + 1;
        expect_to("payment", from[i], event[i], &in, "authorization_expired");
    }
}
END_TEST

START_TEST(guard_capture_reports_guard)
{
    const orderly_machine *m = machine_named("payment");
    orderly_guard_input in;
    orderly_transition t;

    memset(&in, 0, sizeof in);
    in.deadline = DEADLINE;
    in.now = DEADLINE;
    in.authorized = 100;
    in.amount = 100;
    ck_assert_int_eq(orderly_machine_step(&t, m, ORDERLY_PAYMENT_AUTHORIZED,
                                          ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, &in, NULL),
                     ORDERLY_OK);
    ck_assert_int_eq(t.to, ORDERLY_PAYMENT_AUTHORIZATION_EXPIRED);
    ck_assert_int_eq(t.guard, ORDERLY_GUARD_PAST_DEADLINE);
    in.now = DEADLINE - 1;
    ck_assert_int_eq(orderly_machine_step(&t, m, ORDERLY_PAYMENT_AUTHORIZED,
                                          ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, &in, NULL),
                     ORDERLY_OK);
    ck_assert_int_eq(t.to, ORDERLY_PAYMENT_CAPTURE_REQUESTED);
    ck_assert_int_eq(t.guard, ORDERLY_GUARD_CAPTURABLE);
}
END_TEST

START_TEST(guard_refund_boundaries)
{
    /* (machine, from, event) triples that split partial from full refunds */
    static const char *const cases[][3] = {
        { "payment", "captured", "refund" },
        { "payment", "partially_refunded", "refund" },
        { "order", "delivered", "refunded" },
        { "order", "partially_refunded", "refunded" },
    };
    orderly_guard_input in;
    size_t i;

    for (i = 0; i < COUNT_OF(cases); i++) {
        memset(&in, 0, sizeof in);
        in.captured = 10000;
        in.refunded = 2500;

        in.amount = 7499;
        expect_to(cases[i][0], cases[i][1], cases[i][2], &in, "partially_refunded");
        in.amount = 1;
        expect_to(cases[i][0], cases[i][1], cases[i][2], &in, "partially_refunded");
        in.amount = 7500; /* exactly captured - refunded */
        expect_to(cases[i][0], cases[i][1], cases[i][2], &in, "refunded");
        in.amount = 7501;
        expect_rc(cases[i][0], cases[i][1], cases[i][2], &in, ORDERLY_EGUARD);
        in.amount = 0;
        expect_rc(cases[i][0], cases[i][1], cases[i][2], &in, ORDERLY_EGUARD);
        in.amount = -1;
        expect_rc(cases[i][0], cases[i][1], cases[i][2], &in, ORDERLY_EGUARD);

        /* nothing refunded yet: the full amount is the whole capture */
        in.refunded = 0;
        in.amount = 10000;
        expect_to(cases[i][0], cases[i][1], cases[i][2], &in, "refunded");
        in.amount = 10001;
        expect_rc(cases[i][0], cases[i][1], cases[i][2], &in, ORDERLY_EGUARD);

        /* everything already refunded: any further refund is over */
        in.refunded = 10000;
        in.amount = 1;
        expect_rc(cases[i][0], cases[i][1], cases[i][2], &in, ORDERLY_EGUARD);
    }
}
END_TEST

START_TEST(guard_parts)
{
    orderly_guard_input in;

    memset(&in, 0, sizeof in);
    in.parts_total = 3;
    in.parts_done = 1;
    expect_to("order", "processing", "fulfillment_shipped", &in, "partially_shipped");
    expect_to("order", "partially_shipped", "fulfillment_shipped", &in, "partially_shipped");
    in.parts_done = 2;
    expect_to("order", "processing", "fulfillment_shipped", &in, "partially_shipped");
    expect_to("order", "partially_shipped", "fulfillment_shipped", &in, "partially_shipped");
    expect_to("order", "shipped", "delivered", &in, "shipped");
    in.parts_done = 3;
    expect_to("order", "processing", "fulfillment_shipped", &in, "shipped");
    expect_to("order", "partially_shipped", "fulfillment_shipped", &in, "shipped");
    expect_to("order", "shipped", "delivered", &in, "delivered");
    in.parts_done = 4; /* a redelivered count never undershoots */
    expect_to("order", "processing", "fulfillment_shipped", &in, "shipped");
    expect_to("order", "shipped", "delivered", &in, "delivered");

    /* a single-warehouse order ships at once */
    in.parts_total = 1;
    in.parts_done = 1;
    expect_to("order", "processing", "fulfillment_shipped", &in, "shipped");

    /* no parts at all: neither guard holds */
    in.parts_total = 0;
    in.parts_done = 0;
    expect_rc("order", "processing", "fulfillment_shipped", &in, ORDERLY_EGUARD);
    expect_rc("order", "shipped", "delivered", &in, ORDERLY_EGUARD);
}
END_TEST

START_TEST(guard_reservation_ttl)
{
    orderly_guard_input in;

    memset(&in, 0, sizeof in);
    in.deadline = DEADLINE;
    in.now = DEADLINE - 1;
    expect_to("reservation", "active", "confirm", &in, "confirmed");
    expect_rc("reservation", "active", "expire", &in, ORDERLY_EGUARD);
    in.now = DEADLINE;
    expect_rc("reservation", "active", "confirm", &in, ORDERLY_EGUARD);
    expect_to("reservation", "active", "expire", &in, "expired");
    in.now = DEADLINE + 60000;
    expect_rc("reservation", "active", "confirm", &in, ORDERLY_EGUARD);
    expect_to("reservation", "active", "expire", &in, "expired");
    /* release needs no TTL */
    expect_to("reservation", "active", "release", &in, "released");
}
END_TEST

START_TEST(guard_timers_before_deadline)
{
    orderly_guard_input in;

    memset(&in, 0, sizeof in);
    in.deadline = DEADLINE;
    in.now = DEADLINE - 1;
    expect_rc("order", "pending", "abandoned", &in, ORDERLY_EGUARD);
    expect_rc("order", "shipped", "auto_complete", &in, ORDERLY_EGUARD);
    expect_rc("order", "delivered", "auto_complete", &in, ORDERLY_EGUARD);
    expect_rc("payment", "authorized", "authorization_expired", &in, ORDERLY_EGUARD);
    expect_rc("fulfillment", "packing", "sla_breach", &in, ORDERLY_EGUARD);
    in.now = DEADLINE;
    expect_to("order", "pending", "abandoned", &in, "cancelled");
    expect_to("order", "shipped", "auto_complete", &in, "completed");
    expect_to("fulfillment", "packing", "sla_breach", &in, "packing");
}
END_TEST

START_TEST(guard_null_input_is_zeroes)
{
    const orderly_machine *m;
    int next = -1;

    /* 0 < 0 is false: confirming needs a real deadline */
    m = machine_named("reservation");
    ck_assert_int_eq(orderly_machine_next(&next, m, ORDERLY_RESERVATION_ACTIVE,
                                          ORDERLY_RESERVATION_EV_CONFIRM, NULL, NULL),
                     ORDERLY_EGUARD);
    /* no parts: neither all_parts nor some_parts */
    m = machine_named("order");
    ck_assert_int_eq(orderly_machine_next(&next, m, ORDERLY_ORDER_PROCESSING,
                                          ORDERLY_ORDER_EV_FULFILLMENT_SHIPPED, NULL, NULL),
                     ORDERLY_EGUARD);
    /* amount 0 refunds nothing */
    m = machine_named("payment");
    ck_assert_int_eq(orderly_machine_next(&next, m, ORDERLY_PAYMENT_CAPTURED,
                                          ORDERLY_PAYMENT_EV_REFUND, NULL, NULL),
                     ORDERLY_EGUARD);
    /* unguarded rows need no input */
    ck_assert_int_eq(orderly_machine_next(&next, m, ORDERLY_PAYMENT_PENDING,
                                          ORDERLY_PAYMENT_EV_AUTHORIZE, NULL, NULL),
                     ORDERLY_OK);
    ck_assert_int_eq(next, ORDERLY_PAYMENT_AUTHORIZED);
}
END_TEST

START_TEST(guard_names)
{
    static const char *const names[] = {
        "none", "within_deadline", "past_deadline", "capturable",
        "refund_partial", "refund_full", "all_parts", "some_parts",
    };
    int i;

    for (i = 0; i < (int)COUNT_OF(names); i++)
        ck_assert_str_eq(orderly_guard_name(i), names[i]);
    ck_assert_int_eq(ORDERLY_GUARD_SOME_PARTS, 7);
    ck_assert_ptr_null(orderly_guard_name((int)COUNT_OF(names)));
    ck_assert_ptr_null(orderly_guard_name(-1));
}
END_TEST

/* ---- effects ------------------------------------------------------------ */

static void expect_effects(const char *machine, const char *from, const char *event,
                           const char *guard, const char *const *want, size_t n_want)
{
    const orderly_machine *m = machine_named(machine);
    orderly_guard_input in = guard_input(guard, 1);
    orderly_transition t;
    size_t k;

    ck_assert_int_eq(orderly_machine_step(&t, m, state_of(m, from), event_of(m, event), &in, NULL),
                     ORDERLY_OK);
    ck_assert_msg(t.n_effects == n_want, "%s: %s --%s--> has %u effects, want %u", machine, from,
                  event, (unsigned)t.n_effects, (unsigned)n_want);
    for (k = 0; k < n_want; k++)
        ck_assert_str_eq(orderly_effect_name(t.effects[k]), want[k]);
}

START_TEST(effects_of_key_rows)
{
    static const char *const cancel[] = {
        "emit_order_cancelled", "release_reservations", "settle_payment",
        "cancel_fulfillments", "revert_promotion", "restore_loyalty",
    };
    static const char *const confirm[] = {
        "emit_status_changed", "confirm_reservations", "request_capture", "release_fulfillments",
    };
    static const char *const capture[] = { "capture_payment" };
    static const char *const expired[] = { "void_authorization", "cancel_order" };
    /* a parcel still at the dock goes back into stock */
    static const char *const booked_cancel[] = { "cancel_shipment", "restock" };
    static const char *const carrier_cancel[] = { "cancel_shipment" };
    static const char *const ship[] = {
        "emit_status_changed", "notify_order", "fulfill_reservations",
    };
    static const char *const exchange[] = { "emit_status_changed", "open_replacement" };
    static const char *const rto[] = {
        "emit_status_changed", "restock", "notify_order",
    };

    expect_effects("order", "pending", "cancel", "none", cancel, COUNT_OF(cancel));
    expect_effects("order", "processing", "fulfillment_cancelled", "none", cancel,
                   COUNT_OF(cancel));
    expect_effects("order", "pending", "payment_confirmed", "none", confirm, COUNT_OF(confirm));
    expect_effects("payment", "authorized", "request_capture", "capturable", capture,
                   COUNT_OF(capture));
    expect_effects("payment", "authorized", "request_capture", "past_deadline", expired,
                   COUNT_OF(expired));
    expect_effects("payment", "capture_failed", "authorization_expired", "past_deadline", expired,
                   COUNT_OF(expired));
    expect_effects("shipment", "created", "cancel", "none", booked_cancel,
                   COUNT_OF(booked_cancel));
    expect_effects("shipment", "in_transit", "cancel", "none", carrier_cancel,
                   COUNT_OF(carrier_cancel));
    expect_effects("shipment", "delivery_failed", "return_to_origin", "none", rto,
                   COUNT_OF(rto));
    expect_effects("fulfillment", "packed", "ship", "none", ship, COUNT_OF(ship));
    expect_effects("return", "inspected", "exchange", "none", exchange, COUNT_OF(exchange));
    expect_effects("reservation", "active", "release", "none", NULL, 0);
}
END_TEST

START_TEST(every_cancellation_shares_effects)
{
    const orderly_machine *m = machine_named("order");
    orderly_transition t;
    int i, n = orderly_machine_transition_count(m), into_cancelled = 0;

    for (i = 0; i < n; i++) {
        ck_assert_int_eq(orderly_machine_transition_at(&t, m, i), ORDERLY_OK);
        if (t.to != ORDERLY_ORDER_CANCELLED)
            continue;
        into_cancelled++;
        ck_assert_int_eq(t.n_effects, 6);
        ck_assert_int_eq(t.effects[0], ORDERLY_EFFECT_EMIT_ORDER_CANCELLED);
        ck_assert_int_eq(t.effects[1], ORDERLY_EFFECT_RELEASE_RESERVATIONS);
        ck_assert_int_eq(t.effects[2], ORDERLY_EFFECT_SETTLE_PAYMENT);
        ck_assert_int_eq(t.effects[3], ORDERLY_EFFECT_CANCEL_FULFILLMENTS);
        ck_assert_int_eq(t.effects[4], ORDERLY_EFFECT_REVERT_PROMOTION);
        ck_assert_int_eq(t.effects[5], ORDERLY_EFFECT_RESTORE_LOYALTY);
    }
    /* pending x3 (cancel, reservation_expired, abandoned), confirmed x2,
     * processing x2 in the hand list */
    ck_assert_int_eq(into_cancelled, 7);
}
END_TEST

/* ---- terminal states ---------------------------------------------------- */

START_TEST(terminal_states)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    size_t i, j, count;
    int events[32];

    for (i = 0; i < ms->n_terminals; i++)
        (void)state_of(m, ms->terminals[i]);
    for (i = 0; i < ms->n_states; i++) {
        const char *name = ms->states[i].name;
        int s = state_of(m, name), want = hand_terminal(ms, name), from_rows = 0;

        ck_assert_msg(orderly_machine_is_terminal(m, s) == want, "%s: '%s' terminal should be %d",
                      ms->name, name, want);
        count = 99;
        ck_assert_int_eq(orderly_machine_allowed(events, COUNT_OF(events), &count, m, s),
                         ORDERLY_OK);
        for (j = 0; j < ms->n_rows; j++)
            if (strcmp(ms->rows[j].from, name) == 0)
                from_rows++;
        if (want) {
            ck_assert_msg(count == 0, "%s: terminal '%s' allows %zu events", ms->name, name, count);
            ck_assert_int_eq(from_rows, 0);
        } else {
            ck_assert_msg(count > 0, "%s: live state '%s' allows nothing", ms->name, name);
            ck_assert_int_gt(from_rows, 0);
        }
    }
    ck_assert_int_eq(orderly_machine_is_terminal(m, 0), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_is_terminal(m, orderly_machine_state_limit(m)),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_is_terminal(m, -1), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_is_terminal(NULL, 1), ORDERLY_EINVAL);
}
END_TEST

/* ---- late events and ordering ------------------------------------------ */

typedef struct late_case {
    const char *machine, *state, *event;
    int late;
} late_case;

static const late_case late_cases[] = {
    { "fulfillment", "shipped", "picked", 1 },
    { "fulfillment", "shipped", "sla_breach", 1 },
    { "fulfillment", "packed", "start_picking", 1 },
    { "fulfillment", "cancelled", "ship", 1 },
    { "fulfillment", "pending", "ship", 0 },   /* a forward jump, not a late event */
    { "fulfillment", "on_hold", "start_picking", 0 }, /* before the order is confirmed */
    { "fulfillment", "pending", "complete", 0 },
    { "order", "shipped", "fulfillment_shipped", 1 },
    { "order", "processing", "fulfillment_started", 1 },
    { "order", "confirmed", "payment_confirmed", 1 },
    { "order", "cancelled", "payment_confirmed", 1 },
    { "order", "completed", "cancel", 1 },
    { "order", "delivered", "fulfillment_shipped", 1 },
    { "order", "pending", "fulfillment_shipped", 0 },
    { "order", "processing", "delivered", 0 },
    { "order", "confirmed", "complete", 0 },
    { "payment", "captured", "capture_succeeded", 1 },
    { "payment", "captured", "authorize", 1 },
    { "payment", "voided", "request_capture", 1 },
    { "payment", "pending", "capture_succeeded", 0 },
    { "payment", "authorized", "refund", 0 },
    { "reservation", "released", "confirm", 1 },
    { "reservation", "confirmed", "confirm", 1 },
    { "reservation", "active", "fulfill", 0 },
    { "shipment", "cancelled", "cancel", 1 },
    { "shipment", "delivered", "pick_up", 1 },
    { "shipment", "created", "deliver", 0 },
    { "shipment", "created", "fail_delivery", 0 },
    { "return", "completed", "approve", 1 },
    { "return", "received", "receive", 1 },
    { "return", "requested", "refund", 0 },
    { "return", "approved", "complete", 0 },
};

START_TEST(late_events)
{
    size_t i;

    for (i = 0; i < COUNT_OF(late_cases); i++) {
        const late_case *c = &late_cases[i];
        const orderly_machine *m = machine_named(c->machine);
        int s = state_of(m, c->state), e = event_of(m, c->event), next = -1;

        ck_assert_msg(orderly_machine_is_late(m, s, e) == c->late,
                      "%s: '%s' in '%s' late should be %d", c->machine, c->event, c->state,
                      c->late);
        /* late or not, none of these has a row: applying is an error */
        ck_assert_int_eq(hand_row(spec_named(c->machine), c->state, c->event), -1);
        ck_assert_int_eq(orderly_machine_next(&next, m, s, e, NULL, NULL), ORDERLY_ETRANSITION);
    }
}
END_TEST

START_TEST(late_in_terminal_states)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    size_t i, j;

    /* every event of every machine has a row, so in a terminal state each
     * one is a late event to ignore */
    for (i = 0; i < ms->n_terminals; i++)
        for (j = 0; j < ms->n_events; j++)
            ck_assert_msg(orderly_machine_is_late(m, state_of(m, ms->terminals[i]),
                                                  ms->events[j].id) == 1,
                          "%s: '%s' in terminal '%s' should be late", ms->name,
                          ms->events[j].name, ms->terminals[i]);
}
END_TEST

START_TEST(late_bad_ids)
{
    const orderly_machine *m = machine_named("order");
    int e;

    ck_assert_int_eq(orderly_machine_is_late(m, 0, ORDERLY_ORDER_EV_CANCEL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_is_late(m, orderly_machine_state_limit(m),
                                             ORDERLY_ORDER_EV_CANCEL),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_is_late(m, ORDERLY_ORDER_PENDING, 0), ORDERLY_EINVAL);
    for (e = ORDERLY_EVENT_ENTRY; e <= ORDERLY_EVENT_INIT; e++)
        ck_assert_int_eq(orderly_machine_is_late(m, ORDERLY_ORDER_CANCELLED, e), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_is_late(m, ORDERLY_ORDER_PENDING,
                                             orderly_machine_event_limit(m)),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_is_late(NULL, 1, ORDERLY_EVENT_FIRST), ORDERLY_EINVAL);
}
END_TEST

typedef struct later_case {
    const char *machine, *a, *b;
    int later;
} later_case;

static const later_case later_cases[] = {
    { "order", "confirmed", "pending", 1 },
    { "order", "pending", "confirmed", 0 },
    { "order", "shipped", "partially_shipped", 1 },
    { "order", "partially_shipped", "shipped", 0 },
    { "order", "delivered", "shipped", 1 },
    { "order", "partially_refunded", "delivered", 1 },
    { "order", "completed", "partially_refunded", 1 },
    { "order", "cancelled", "pending", 1 },
    { "order", "pending", "cancelled", 0 },
    { "order", "processing", "processing", 0 },
    { "order", "cancelled", "completed", 0 }, /* terminals tie */
    { "payment", "captured", "capture_requested", 1 },
    { "payment", "capture_requested", "captured", 0 },
    { "payment", "partially_refunded", "captured", 1 },
    { "payment", "refunded", "partially_refunded", 1 },
    { "payment", "cod_confirmed", "cod_pending", 1 },
    { "payment", "authorization_expired", "capture_failed", 1 },
    { "fulfillment", "shipped", "picked", 1 },
    { "fulfillment", "picked", "shipped", 0 },
    { "fulfillment", "packing", "picking", 1 },
    { "fulfillment", "failed", "shipped", 1 },
    { "reservation", "confirmed", "active", 1 },
    { "reservation", "expired", "confirmed", 1 },
    { "shipment", "in_transit", "created", 1 },
    { "shipment", "delivery_failed", "in_transit", 1 },
    { "shipment", "created", "in_transit", 0 },
    { "return", "inspected", "received", 1 },
    { "return", "requested", "approved", 0 },
};

START_TEST(later_ordering)
{
    size_t i;

    for (i = 0; i < COUNT_OF(later_cases); i++) {
        const later_case *c = &later_cases[i];
        const orderly_machine *m = machine_named(c->machine);

        ck_assert_msg(orderly_machine_is_later(m, state_of(m, c->a), state_of(m, c->b)) ==
                          c->later,
                      "%s: '%s' later than '%s' should be %d", c->machine, c->a, c->b, c->later);
    }
}
END_TEST

START_TEST(later_terminals_beat_live_states)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    size_t i, j;

    for (i = 0; i < ms->n_terminals; i++) {
        int t = state_of(m, ms->terminals[i]);
        for (j = 0; j < ms->n_states; j++) {
            if (hand_terminal(ms, ms->states[j].name))
                continue;
            ck_assert_int_eq(orderly_machine_is_later(m, t, ms->states[j].id), 1);
            ck_assert_int_eq(orderly_machine_is_later(m, ms->states[j].id, t), 0);
        }
    }
    ck_assert_int_eq(orderly_machine_is_later(m, 0, 1), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_is_later(m, 1, orderly_machine_state_limit(m)),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_is_later(NULL, 1, 1), ORDERLY_EINVAL);
}
END_TEST

/* ---- names and ids ------------------------------------------------------ */

START_TEST(names_round_trip)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    size_t i;
    int id;

    ck_assert_int_eq(orderly_machine_state_limit(m), (int)ms->n_states + 1);
    ck_assert_int_eq(orderly_machine_event_limit(m), (int)ms->n_events + ORDERLY_EVENT_FIRST);
    for (i = 0; i < ms->n_states; i++) {
        id = -1;
        ck_assert_int_eq(orderly_machine_state_id(&id, m, ms->states[i].name), ORDERLY_OK);
        ck_assert_int_eq(id, ms->states[i].id);
        ck_assert_str_eq(orderly_machine_state_name(m, ms->states[i].id), ms->states[i].name);
    }
    for (i = 0; i < ms->n_events; i++) {
        id = -1;
        ck_assert_int_eq(orderly_machine_event_id(&id, m, ms->events[i].name), ORDERLY_OK);
        ck_assert_int_eq(id, ms->events[i].id);
        ck_assert_str_eq(orderly_machine_event_name(m, ms->events[i].id), ms->events[i].name);
        ck_assert_int_ge(ms->events[i].id, ORDERLY_EVENT_FIRST);
    }
    /* every hand event is used by at least one hand row */
    for (i = 0; i < ms->n_events; i++) {
        size_t j;
        int used = 0;
        for (j = 0; j < ms->n_rows; j++)
            used |= strcmp(ms->rows[j].event, ms->events[i].name) == 0;
        ck_assert_msg(used, "%s: event '%s' has no hand row", ms->name, ms->events[i].name);
    }
}
END_TEST

START_TEST(names_unknown_and_bad)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    static const char *const unknown[] = { "", "nope", "PENDING", "pending ", "entry_" };
    size_t i;
    int id = 12345;

    for (i = 0; i < COUNT_OF(unknown); i++) {
        ck_assert_int_eq(orderly_machine_state_id(&id, m, unknown[i]), ORDERLY_ENOTFOUND);
        ck_assert_int_eq(orderly_machine_event_id(&id, m, unknown[i]), ORDERLY_ENOTFOUND);
    }
    ck_assert_int_eq(id, 12345);
    ck_assert_int_eq(orderly_machine_state_id(NULL, m, ms->states[0].name), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_state_id(&id, NULL, ms->states[0].name), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_state_id(&id, m, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_event_id(NULL, m, ms->events[0].name), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_event_id(&id, NULL, ms->events[0].name), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_event_id(&id, m, NULL), ORDERLY_EINVAL);

    ck_assert_ptr_null(orderly_machine_state_name(m, 0));
    ck_assert_ptr_null(orderly_machine_state_name(m, -1));
    ck_assert_ptr_null(orderly_machine_state_name(m, orderly_machine_state_limit(m)));
    ck_assert_ptr_null(orderly_machine_state_name(NULL, 1));
    ck_assert_ptr_null(orderly_machine_event_name(m, 0));
    ck_assert_ptr_null(orderly_machine_event_name(m, -1));
    ck_assert_ptr_null(orderly_machine_event_name(m, orderly_machine_event_limit(m)));
    ck_assert_ptr_null(orderly_machine_event_name(NULL, ORDERLY_EVENT_FIRST));
}
END_TEST

START_TEST(reserved_events_rejected)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    static const char *const reserved[] = { "entry", "exit", "init" };
    orderly_ctx *ctx = new_ctx();
    orderly_transition t;
    size_t i;
    int e, next = -1, id = 0;

    ck_assert_int_eq(ORDERLY_EVENT_ENTRY, 1);
    ck_assert_int_eq(ORDERLY_EVENT_EXIT, 2);
    ck_assert_int_eq(ORDERLY_EVENT_INIT, 3);
    ck_assert_int_eq(ORDERLY_EVENT_FIRST, 4);
    ck_assert_int_eq(orderly_event_first(), ORDERLY_EVENT_FIRST);
    for (i = 0; i < COUNT_OF(reserved); i++) {
        ck_assert_int_eq(orderly_machine_event_id(&id, m, reserved[i]), ORDERLY_OK);
        ck_assert_int_eq(id, (int)i + ORDERLY_EVENT_ENTRY);
        ck_assert_str_eq(orderly_machine_event_name(m, id), reserved[i]);
    }
    for (i = 0; i < ms->n_states; i++) {
        for (e = ORDERLY_EVENT_ENTRY; e <= ORDERLY_EVENT_INIT; e++) {
            orderly_ctx_clear(ctx);
            ck_assert_int_eq(orderly_machine_step(&t, m, ms->states[i].id, e, NULL, ctx),
                             ORDERLY_EINVAL);
            ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_EINVAL);
            ck_assert_int_eq(orderly_machine_next(&next, m, ms->states[i].id, e, NULL, NULL),
                             ORDERLY_EINVAL);
            ck_assert_int_eq(orderly_machine_can(m, ms->states[i].id, e, NULL, NULL),
                             ORDERLY_EINVAL);
        }
    }
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(bad_ids_rejected)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    const row_spec *r = &ms->rows[0];
    orderly_transition t;
    int from = state_of(m, r->from), ev = event_of(m, r->event), next = -1;
    int slim = orderly_machine_state_limit(m), elim = orderly_machine_event_limit(m);
    orderly_guard_input in = guard_input(r->guard, 1);

    ck_assert_int_eq(orderly_machine_next(&next, m, 0, ev, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_next(&next, m, -1, ev, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_next(&next, m, slim, ev, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_next(&next, m, from, 0, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_next(&next, m, from, -1, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_next(&next, m, from, elim, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_next(&next, m, from, 255, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_next(&next, NULL, from, ev, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_next(NULL, m, from, ev, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_step(NULL, m, from, ev, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_step(&t, m, slim, ev, &in, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_can(m, from, elim, &in, NULL), ORDERLY_EINVAL);
    /* the valid call still works after all that */
    ck_assert_int_eq(orderly_machine_next(&next, m, from, ev, &in, NULL), ORDERLY_OK);
    ck_assert_int_eq(next, state_of(m, r->to));
}
END_TEST

START_TEST(machines_by_id_and_name)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *a = NULL, *b = NULL;

    ck_assert_int_eq(orderly_machine_count(), 7);
    ck_assert_int_eq(ORDERLY_MACHINE_COUNT, 7);
    ck_assert_int_eq(orderly_machine_by_id(&a, ms->id), ORDERLY_OK);
    ck_assert_int_eq(orderly_machine_by_name(&b, ms->name), ORDERLY_OK);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(a, b);
    ck_assert_int_eq(orderly_machine_get_id(a), ms->id);
    ck_assert_str_eq(orderly_machine_name(a), ms->name);
    ck_assert_int_eq(orderly_machine_initial(a), state_of(a, ms->initial));
    ck_assert_int_eq(ms->id, _i + 1);
}
END_TEST

START_TEST(machines_unknown)
{
    static const char *const unknown[] = { "", "orders", "Order", "ORDER", "refund", " order" };
    const orderly_machine *m = NULL;
    size_t i;

    ck_assert_int_eq(orderly_machine_by_id(&m, 0), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(orderly_machine_by_id(&m, 8), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(orderly_machine_by_id(&m, -1), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(orderly_machine_by_id(&m, 1000), ORDERLY_ENOTFOUND);
    for (i = 0; i < COUNT_OF(unknown); i++)
        ck_assert_int_eq(orderly_machine_by_name(&m, unknown[i]), ORDERLY_ENOTFOUND);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(orderly_machine_by_name(&m, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_by_name(NULL, "order"), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_by_id(NULL, 1), ORDERLY_EINVAL);
    ck_assert_ptr_null(orderly_machine_name(NULL));
    ck_assert_int_eq(orderly_machine_get_id(NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_initial(NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_state_limit(NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_event_limit(NULL), ORDERLY_EINVAL);
}
END_TEST

/* ---- validation --------------------------------------------------------- */

START_TEST(validate_all)
{
    const orderly_machine *m = machine_named(specs[_i].name);
    orderly_ctx *ctx = new_ctx();

    ck_assert_msg(orderly_machine_validate(m, ctx) == ORDERLY_OK, "%s: %s", specs[_i].name,
                  orderly_ctx_errmsg(ctx));
    ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_OK);
    ck_assert_int_eq(orderly_machine_validate(m, NULL), ORDERLY_OK);
    ck_assert_int_eq(orderly_machine_validate(NULL, ctx), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_EINVAL);
    orderly_ctx_free(ctx);
}
END_TEST

/* ---- allowed events ------------------------------------------------------ */

static void expect_allowed(const char *machine, const char *state, const char *const *want,
                           size_t n_want)
{
    const orderly_machine *m = machine_named(machine);
    int events[32];
    size_t count = 0, i;

    ck_assert_int_eq(orderly_machine_allowed(events, COUNT_OF(events), &count, m,
                                             state_of(m, state)),
                     ORDERLY_OK);
    ck_assert_msg(count == n_want, "%s: '%s' allows %zu events, want %zu", machine, state, count,
                  n_want);
    for (i = 0; i < n_want; i++)
        ck_assert_str_eq(orderly_machine_event_name(m, events[i]), want[i]);
}

START_TEST(allowed_hand_lists)
{
    static const char *const order_pending[] = {
        "payment_confirmed", "payment_failed", "cancel", "reservation_expired", "abandoned",
    };
    static const char *const order_processing[] = {
        "cancel", "fulfillment_shipped", "fulfillment_cancelled",
    };
    static const char *const order_shipped[] = {
        "delivered", "auto_complete", "returned_to_origin",
    };
    static const char *const payment_authorized[] = {
        "request_capture", "authorization_expired", "void",
    };
    static const char *const payment_cod_pending[] = {
        "cod_confirm", "cod_window_elapsed", "cod_cancel",
    };
    static const char *const fulfillment_packed[] = { "ship", "cancel", "fail", "sla_breach" };
    static const char *const shipment_in_transit[] = {
        "deliver", "cancel", "lose", "fail_delivery",
    };
    static const char *const return_inspected[] = { "reject", "refund", "exchange" };
    static const char *const reservation_confirmed[] = { "release", "fulfill" };

    expect_allowed("order", "pending", order_pending, COUNT_OF(order_pending));
    expect_allowed("order", "processing", order_processing, COUNT_OF(order_processing));
    expect_allowed("order", "shipped", order_shipped, COUNT_OF(order_shipped));
    expect_allowed("order", "cancelled", NULL, 0);
    expect_allowed("payment", "authorized", payment_authorized, COUNT_OF(payment_authorized));
    expect_allowed("payment", "cod_pending", payment_cod_pending, COUNT_OF(payment_cod_pending));
    expect_allowed("fulfillment", "packed", fulfillment_packed, COUNT_OF(fulfillment_packed));
    expect_allowed("shipment", "in_transit", shipment_in_transit, COUNT_OF(shipment_in_transit));
    expect_allowed("return", "inspected", return_inspected, COUNT_OF(return_inspected));
    expect_allowed("reservation", "confirmed", reservation_confirmed,
                   COUNT_OF(reservation_confirmed));
}
END_TEST

START_TEST(allowed_matches_hand_rows)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    size_t i, j, count, want;
    int events[32];

    for (i = 0; i < ms->n_states; i++) {
        const char *state = ms->states[i].name;

        count = 0;
        ck_assert_int_eq(orderly_machine_allowed(events, COUNT_OF(events), &count, m,
                                                 ms->states[i].id),
                         ORDERLY_OK);
        /* distinct hand events from this state */
        want = 0;
        for (j = 0; j < ms->n_rows; j++)
            if (strcmp(ms->rows[j].from, state) == 0 &&
                hand_row(ms, state, ms->rows[j].event) == (int)j)
                want++;
        ck_assert_msg(count == want, "%s: '%s' allows %zu, hand list has %zu", ms->name, state,
                      count, want);
        for (j = 0; j < count; j++) {
            const char *ename = orderly_machine_event_name(m, events[j]);
            ck_assert_ptr_nonnull(ename);
            ck_assert_msg(hand_row(ms, state, ename) >= 0, "%s: '%s' allows '%s'", ms->name,
                          state, ename);
            if (j > 0)
                ck_assert_int_lt(events[j - 1], events[j]);
        }
    }
}
END_TEST

START_TEST(allowed_small_cap)
{
    const orderly_machine *m = machine_named("order");
    int events[3] = { -7, -7, -7 };
    size_t count = 0;

    ck_assert_int_eq(orderly_machine_allowed(events, 2, &count, m, ORDERLY_ORDER_PENDING),
                     ORDERLY_OK);
    ck_assert_uint_eq(count, 5);
    ck_assert_int_eq(events[0], ORDERLY_ORDER_EV_PAYMENT_CONFIRMED);
    ck_assert_int_eq(events[1], ORDERLY_ORDER_EV_PAYMENT_FAILED);
    ck_assert_int_eq(events[2], -7);

    count = 0;
    ck_assert_int_eq(orderly_machine_allowed(NULL, 0, &count, m, ORDERLY_ORDER_PENDING),
                     ORDERLY_OK);
    ck_assert_uint_eq(count, 5);
    count = 0;
    ck_assert_int_eq(orderly_machine_allowed(events, 0, &count, m, ORDERLY_ORDER_DELIVERED),
                     ORDERLY_OK);
    ck_assert_uint_eq(count, 3);
    ck_assert_int_eq(events[0], ORDERLY_ORDER_EV_PAYMENT_CONFIRMED);

    ck_assert_int_eq(orderly_machine_allowed(NULL, 1, &count, m, ORDERLY_ORDER_PENDING),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_allowed(events, 3, NULL, m, ORDERLY_ORDER_PENDING),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_allowed(events, 3, &count, NULL, ORDERLY_ORDER_PENDING),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_allowed(events, 3, &count, m, 0), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_allowed(events, 3, &count, m,
                                             orderly_machine_state_limit(m)),
                     ORDERLY_EINVAL);
}
END_TEST

/* ---- timers --------------------------------------------------------------- */

typedef struct timer_case {
    const char *machine, *state, *timer;
} timer_case;

/* Every state that schedules a timer; all others schedule none. */
static const timer_case timer_cases[] = {
    { "order", "pending", "abandoned" },
    { "order", "shipped", "auto_complete" },
    { "order", "delivered", "auto_complete" },
    { "order", "partially_refunded", "auto_complete" },
    { "payment", "authorized", "auth_expiry" },
    { "payment", "capture_requested", "auth_expiry" },
    { "payment", "capture_failed", "auth_expiry" },
    { "payment", "cod_pending", "cod_window" },
    { "payment", "authorization_expired", "auth_expiry" },
    { "payment", "cod_confirmed", "cod_collection" },
    { "reservation", "active", "reservation_ttl" },
    { "fulfillment", "pending", "fulfillment_sla" },
};

typedef struct timer_target_case {
    int timer;
    const char *name, *machine, *event;
} timer_target_case;

static const timer_target_case timer_targets[] = {
    { ORDERLY_TIMER_RESERVATION_TTL, "reservation_ttl", "reservation", "expire" },
    { ORDERLY_TIMER_COD_WINDOW, "cod_window", "payment", "cod_window_elapsed" },
    { ORDERLY_TIMER_AUTH_EXPIRY, "auth_expiry", "payment", "authorization_expired" },
    { ORDERLY_TIMER_AUTO_COMPLETE, "auto_complete", "order", "auto_complete" },
    { ORDERLY_TIMER_FULFILLMENT_SLA, "fulfillment_sla", "fulfillment", "sla_breach" },
    { ORDERLY_TIMER_ABANDONED, "abandoned", "order", "abandoned" },
    { ORDERLY_TIMER_COD_COLLECTION, "cod_collection", "payment", "collection_overdue" },
};

static const timer_target_case *timer_target_named(const char *name)
{
    size_t i;

    for (i = 0; i < COUNT_OF(timer_targets); i++)
        if (strcmp(timer_targets[i].name, name) == 0)
            return &timer_targets[i];
    ck_abort_msg("no timer named '%s'", name);
    return NULL;
}

START_TEST(timers_per_state)
{
    const machine_spec *ms = &specs[_i];
    const orderly_machine *m = machine_named(ms->name);
    size_t i, j;

    for (i = 0; i < ms->n_states; i++) {
        const char *want = "none";
        int timer;

        for (j = 0; j < COUNT_OF(timer_cases); j++)
            if (strcmp(timer_cases[j].machine, ms->name) == 0 &&
                strcmp(timer_cases[j].state, ms->states[i].name) == 0)
                want = timer_cases[j].timer;
        timer = orderly_machine_state_timer(m, ms->states[i].id);
        ck_assert_int_ge(timer, 0);
        ck_assert_msg(strcmp(orderly_timer_name(timer), want) == 0,
                      "%s: '%s' schedules '%s', want '%s'", ms->name, ms->states[i].name,
                      orderly_timer_name(timer), want);
    }
    ck_assert_int_eq(orderly_machine_state_timer(m, 0), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_state_timer(m, orderly_machine_state_limit(m)),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_machine_state_timer(NULL, 1), ORDERLY_EINVAL);
}
END_TEST

START_TEST(timers_fire_a_row_of_their_state)
{
    size_t i;

    /* a timer scheduled in a state must have a row there once it is due */
    for (i = 0; i < COUNT_OF(timer_cases); i++) {
        const timer_target_case *tt = timer_target_named(timer_cases[i].timer);
        const machine_spec *ms = spec_named(timer_cases[i].machine);
        int row;

        ck_assert_str_eq(tt->machine, timer_cases[i].machine);
        row = hand_row(ms, timer_cases[i].state, tt->event);
        ck_assert_msg(row >= 0, "%s: timer '%s' fires '%s' with no row in '%s'", ms->name,
                      tt->name, tt->event, timer_cases[i].state);
        ck_assert_str_eq(ms->rows[row].guard, "past_deadline");
    }
}
END_TEST

START_TEST(timer_targets_and_names)
{
    size_t i;
    int machine = -1, event = -1;

    ck_assert_str_eq(orderly_timer_name(ORDERLY_TIMER_NONE), "none");
    for (i = 0; i < COUNT_OF(timer_targets); i++) {
        const timer_target_case *tt = &timer_targets[i];
        const orderly_machine *m = machine_named(tt->machine);

        ck_assert_str_eq(orderly_timer_name(tt->timer), tt->name);
        ck_assert_int_eq(orderly_timer_target(&machine, &event, tt->timer), ORDERLY_OK);
        ck_assert_int_eq(machine, orderly_machine_get_id(m));
        ck_assert_int_eq(event, event_of(m, tt->event));
    }
    machine = event = -1;
    ck_assert_int_eq(orderly_timer_target(&machine, &event, ORDERLY_TIMER_NONE),
                     ORDERLY_ENOTFOUND);
    ck_assert_int_eq(orderly_timer_target(&machine, &event, 8), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(orderly_timer_target(&machine, &event, -1), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(machine, -1);
    ck_assert_int_eq(event, -1);
    ck_assert_int_eq(orderly_timer_target(NULL, &event, ORDERLY_TIMER_COD_WINDOW),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_timer_target(&machine, NULL, ORDERLY_TIMER_COD_WINDOW),
                     ORDERLY_EINVAL);
    ck_assert_ptr_null(orderly_timer_name(8));
    ck_assert_ptr_null(orderly_timer_name(-1));
}
END_TEST

START_TEST(effect_names)
{
    ck_assert_str_eq(orderly_effect_name(ORDERLY_EFFECT_NONE), "none");
    ck_assert_str_eq(orderly_effect_name(ORDERLY_EFFECT_RELEASE_RESERVATIONS),
                     "release_reservations");
    ck_assert_str_eq(orderly_effect_name(ORDERLY_EFFECT_NOTIFY_ORDER), "notify_order");
    ck_assert_int_eq(ORDERLY_EFFECT_NOTIFY_ORDER, 23);
    ck_assert_str_eq(orderly_effect_name(ORDERLY_EFFECT_RELEASE_FULFILLMENTS), "release_fulfillments");
    ck_assert_int_eq(ORDERLY_EFFECT_RELEASE_FULFILLMENTS, 24);
    ck_assert_str_eq(orderly_effect_name(ORDERLY_EFFECT_CANCEL_REMAINDER), "cancel_remainder");
    ck_assert_int_eq(ORDERLY_EFFECT_CANCEL_REMAINDER, 25);
    ck_assert_str_eq(orderly_effect_name(ORDERLY_EFFECT_RESHIP), "reship");
    ck_assert_int_eq(ORDERLY_EFFECT_RESHIP, 26);
    ck_assert_ptr_null(orderly_effect_name(27));
    ck_assert_ptr_null(orderly_effect_name(-1));
}
END_TEST

/* ---- suite ------------------------------------------------------------------ */

static Suite *machine_suite(void)
{
    Suite *s = suite_create("machine");

    orderly_test_loop(s, hand_rows_accepted, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_loop(s, listed_rows_are_hand_rows, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_loop(s, every_other_pair_is_illegal, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_loop(s, violated_guards_reject, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_loop(s, next_agrees_with_step_everywhere, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_case(s, guard_cod_window, UNIT_TIMEOUT);
    orderly_test_case(s, guard_capture, UNIT_TIMEOUT);
    orderly_test_case(s, guard_capture_reports_guard, UNIT_TIMEOUT);
    orderly_test_case(s, guard_refund_boundaries, UNIT_TIMEOUT);
    orderly_test_case(s, guard_parts, UNIT_TIMEOUT);
    orderly_test_case(s, guard_reservation_ttl, UNIT_TIMEOUT);
    orderly_test_case(s, guard_timers_before_deadline, UNIT_TIMEOUT);
    orderly_test_case(s, guard_null_input_is_zeroes, UNIT_TIMEOUT);
    orderly_test_case(s, guard_names, UNIT_TIMEOUT);
    orderly_test_case(s, effects_of_key_rows, UNIT_TIMEOUT);
    orderly_test_case(s, every_cancellation_shares_effects, UNIT_TIMEOUT);
    orderly_test_loop(s, terminal_states, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_case(s, late_events, UNIT_TIMEOUT);
    orderly_test_loop(s, late_in_terminal_states, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_case(s, late_bad_ids, UNIT_TIMEOUT);
    orderly_test_case(s, later_ordering, UNIT_TIMEOUT);
    orderly_test_loop(s, later_terminals_beat_live_states, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_loop(s, names_round_trip, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_loop(s, names_unknown_and_bad, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_loop(s, reserved_events_rejected, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_loop(s, bad_ids_rejected, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_loop(s, machines_by_id_and_name, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_case(s, machines_unknown, UNIT_TIMEOUT);
    orderly_test_loop(s, validate_all, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_case(s, allowed_hand_lists, UNIT_TIMEOUT);
    orderly_test_loop(s, allowed_matches_hand_rows, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_case(s, allowed_small_cap, UNIT_TIMEOUT);
    orderly_test_loop(s, timers_per_state, 0, N_SPECS, UNIT_TIMEOUT);
    orderly_test_case(s, timers_fire_a_row_of_their_state, UNIT_TIMEOUT);
    orderly_test_case(s, timer_targets_and_names, UNIT_TIMEOUT);
    orderly_test_case(s, effect_names, UNIT_TIMEOUT);
    return s;
}

int main(void)
{
    Suite *suites[] = { machine_suite(), NULL };

    return unit_run(suites);
}
