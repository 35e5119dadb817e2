/*
 * The reaction table: the choreography between the seven machines, as data.
 * Rows with the same trigger run in table order. A row whose target has no
 * transition for the event from its current state does nothing, so
 * alternatives that depend on the target's state (void an authorization,
 * refund a capture, cancel a COD claim) stand side by side. Rows with
 * target 0 declare that a state needs no reaction, and say why.
 */
#include <string.h>

#include "../base/ctx.h"
#include "orderly/claim.h"
#include "orderly/compensation.h"
#include "orderly/fulfillment.h"
#include "orderly/order.h"
#include "orderly/payment.h"
#include "orderly/reservation.h"
#include "orderly/return.h"
#include "orderly/shipment.h"
#include "reactions.h"
#include "table.h"

#define M(x) ORDERLY_MACHINE_##x
#define FX_(x) ORDERLY_EFFECT_##x

/* ON(source, effect, state, target, select, event, amount, when, op, why) */
#define ON(src, fx, st, tgt, sel, ev, amt, when, op, why)                                  \
    { M(src), FX_(fx), st, M(tgt), ORDERLY__SEL_##sel, ev, ORDERLY__AMT_##amt,             \
      ORDERLY__WHEN_##when, op, why, 0, 0, 0, 0, 0 }
/* ON_IF(..., why, cond, cond_machine, cond_arg, emit, emit_amount): a row
 * with a declared condition and/or a signal. */
#define ON_IF(src, fx, st, tgt, sel, ev, amt, when, op, why, cond, cm, carg, sig, samt)   \
    { M(src), FX_(fx), st, M(tgt), ORDERLY__SEL_##sel, ev, ORDERLY__AMT_##amt,             \
      ORDERLY__WHEN_##when, op, why, ORDERLY__IF_##cond, cm, carg, ORDERLY__SIG_##sig,      \
      ORDERLY__AMT_##samt }
/* NONE(source, state, why): the state needs no reaction. */
#define NONE(src, st, why) { M(src), FX_(NONE), st, 0, ORDERLY__SEL_NONE, 0, 0, 0, 0, why, 0, 0, 0, 0, 0 }

const struct orderly__reaction orderly__reactions[] = {
    /* the payment decides the order */
    ON(PAYMENT, EMIT_PAYMENT_CONFIRMED, 0, ORDER, OWNER, ORDERLY_ORDER_EV_PAYMENT_CONFIRMED, NONE,
       ALWAYS, 0, "an authorized or COD-confirmed payment confirms the order"),
    ON(PAYMENT, EMIT_PAYMENT_FAILED, 0, ORDER, OWNER, ORDERLY_ORDER_EV_PAYMENT_FAILED, NONE, ALWAYS,
       0, "a declined payment or failed capture fails a pending order"),
    ON(PAYMENT, EMIT_PAYMENT_CAPTURED, 0, PAYMENT, OWNER, ORDERLY_PAYMENT_EV_REFUND, OUTSTANDING,
       DEFERRED, 0, "a capture that landed after the order was cancelled is refunded"),
    ON_IF(PAYMENT, EMIT_PAYMENT_CAPTURED, 0, PAYMENT, OWNER, ORDERLY_PAYMENT_EV_REFUND, REMAINDER,
          ALWAYS, 0, "a capture or COD collection after units were cancelled, lost or sent back "
          "refunds what they cost", AMOUNT, 0, 0, NONE, NONE),
    ON(PAYMENT, CANCEL_COD_CLAIM, 0, PAYMENT, ONLY, 0, TOTAL, ALWAYS, ORDERLY_OP_CANCEL_COD_CLAIM,
       "a cancelled COD payment cancels its claim with the carrier"),
    ON(PAYMENT, CANCEL_ORDER, 0, ORDER, OWNER, ORDERLY_ORDER_EV_CANCEL, NONE, ALWAYS, 0,
       "an expired authorization or COD window cancels the order"),
    ON(PAYMENT, REFUND_PAYMENT, 0, ORDER, OWNER, ORDERLY_ORDER_EV_REFUNDED, EVENT, ALWAYS, 0,
       "every refund, a return's or the host's, moves a delivered order: partially or fully refunded"),

    /* the order's confirmation: all its stock or none of it */
    ON_IF(ORDER, CONFIRM_RESERVATIONS, 0, ORDER, OWNER, ORDERLY_ORDER_EV_CANCEL, NONE, ALWAYS, 0,
          "a line that can no longer be confirmed cancels the order", NOT_ALL_CAN,
          M(RESERVATION), ORDERLY_RESERVATION_EV_CONFIRM, NONE, NONE),
    ON_IF(ORDER, CONFIRM_RESERVATIONS, 0, RESERVATION, EVERY, ORDERLY_RESERVATION_EV_CONFIRM, NONE,
          ALWAYS, 0, "every line is confirmed when every line can be; the stock is committed",
          ALL_CAN, M(RESERVATION), ORDERLY_RESERVATION_EV_CONFIRM, STOCK_COMMITTED, TOTAL),
    ON_IF(ORDER, REQUEST_CAPTURE, 0, PAYMENT, ONLY, 0, NONE, STAYED, 0,
          "a confirmed card order asks the host to capture what was authorized", IN, M(PAYMENT),
          ORDERLY__ST_UNCAPTURED, CAPTURE_REQUESTED, AUTHORIZED),

    /* the order settles its parts */
    ON(ORDER, SETTLE_PAYMENT, 0, PAYMENT, OWNER, ORDERLY_PAYMENT_EV_VOID, NONE, ALWAYS, 0,
       "an authorized payment is voided"),
    ON(ORDER, SETTLE_PAYMENT, 0, PAYMENT, OWNER, ORDERLY_PAYMENT_EV_REFUND, OUTSTANDING, ALWAYS, 0,
       "a captured payment is refunded what it still holds"),
    ON(ORDER, SETTLE_PAYMENT, 0, PAYMENT, OWNER, ORDERLY_PAYMENT_EV_COD_CANCEL, NONE, ALWAYS, 0,
       "a cash-on-delivery payment is cancelled"),
    ON(ORDER, SETTLE_PAYMENT, 0, PAYMENT, OWNER, ORDERLY_PAYMENT_EV_ABANDON, NONE, ALWAYS, 0,
       "a payment never authorized fails"),
    ON_IF(ORDER, SETTLE_PAYMENT, 0, PAYMENT, OWNER, ORDERLY_PAYMENT_EV_REFUND, OUTSTANDING, DEFER, 0,
          "a capture in flight is refunded when it lands", IN, M(PAYMENT), ORDERLY__ST_CAPTURING,
          NONE, NONE),
    ON(ORDER, RELEASE_RESERVATIONS, 0, RESERVATION, HELD, ORDERLY_RESERVATION_EV_RELEASE, NONE,
       ALWAYS, ORDERLY_OP_RELEASE_RESERVATIONS, "every held line is released"),
    ON(ORDER, CANCEL_FULFILLMENTS, 0, FULFILLMENT, EVERY, ORDERLY_FULFILLMENT_EV_CANCEL, NONE,
       ALWAYS, 0, "every fulfillment is cancelled"),
    ON(ORDER, CANCEL_FULFILLMENTS, 0, SHIPMENT, EVERY, ORDERLY_SHIPMENT_EV_CANCEL, NONE, ALWAYS, 0,
       "every shipment is cancelled"),
    ON(ORDER, RELEASE_FULFILLMENTS, 0, FULFILLMENT, EVERY, ORDERLY_FULFILLMENT_EV_RELEASE, NONE,
       ALWAYS, 0, "a confirmed order's warehouses may start"),

    /* a partly shipped order cancelled: only what has not left */
    ON(ORDER, CANCEL_REMAINDER, 0, FULFILLMENT, EVERY, ORDERLY_FULFILLMENT_EV_CANCEL, NONE, ALWAYS,
       0, "every fulfillment that has not shipped is cancelled, its stock released"),
    ON(ORDER, CANCEL_REMAINDER, 0, SHIPMENT, BOOKED, ORDERLY_SHIPMENT_EV_CANCEL, NONE, ALWAYS, 0,
       "every parcel not yet picked up is cancelled with its carrier, once, and restocked"),
    ON_IF(ORDER, CANCEL_REMAINDER, 0, PAYMENT, OWNER, ORDERLY_PAYMENT_EV_REFUND, REMAINDER, ALWAYS, 0,
          "a captured payment is refunded what the cancelled units cost", AMOUNT, 0, 0, NONE, NONE),

    /* reservations */
    ON(RESERVATION, NOTIFY_ORDER, ORDERLY_RESERVATION_EXPIRED, ORDER, OWNER,
       ORDERLY_ORDER_EV_RESERVATION_EXPIRED, NONE, ALWAYS, 0,
       "stock held past its TTL cancels a pending order"),
    NONE(RESERVATION, ORDERLY_RESERVATION_FULFILLED, "the fulfillment's shipment deducted it"),
    NONE(RESERVATION, ORDERLY_RESERVATION_RELEASED, "released by the order or its warehouse"),

    /* fulfillments */
    ON(FULFILLMENT, FULFILL_RESERVATIONS, 0, RESERVATION, HELD_HERE,
       ORDERLY_RESERVATION_EV_FULFILL, NONE, ALWAYS, 0,
       "a shipped warehouse deducts its confirmed lines"),
    ON(FULFILLMENT, NOTIFY_ORDER, ORDERLY_FULFILLMENT_PICKING, ORDER, OWNER,
       ORDERLY_ORDER_EV_FULFILLMENT_STARTED, NONE, ALWAYS, 0, "the first picking starts processing"),
    ON(FULFILLMENT, NOTIFY_ORDER, ORDERLY_FULFILLMENT_SHIPPED, SHIPMENT, NEW, ORDERLY_EVENT_INIT,
       NONE, ALWAYS, 0, "a shipped fulfillment opens its shipment"),
    ON(FULFILLMENT, NOTIFY_ORDER, ORDERLY_FULFILLMENT_SHIPPED, ORDER, OWNER,
       ORDERLY_ORDER_EV_FULFILLMENT_SHIPPED, NONE, ALWAYS, 0,
       "the order is shipped when all its live parts are, partially before"),
    ON(FULFILLMENT, NOTIFY_ORDER, ORDERLY_FULFILLMENT_CANCELLED, ORDER, OWNER,
       ORDERLY_ORDER_EV_FULFILLMENT_CANCELLED, NONE, ALWAYS, 0,
       "a cancelled warehouse cancels an unshipped order, or counts out"),
    ON(FULFILLMENT, NOTIFY_ORDER, ORDERLY_FULFILLMENT_CANCELLED, RESERVATION, HELD_HERE,
       ORDERLY_RESERVATION_EV_RELEASE, NONE, ALWAYS, ORDERLY_OP_RELEASE_RESERVATIONS,
       "its warehouse's stock is released"),
    ON_IF(FULFILLMENT, NOTIFY_ORDER, ORDERLY_FULFILLMENT_CANCELLED, PAYMENT, OWNER,
          ORDERLY_PAYMENT_EV_REFUND, REMAINDER, ALWAYS, 0,
          "a captured payment is refunded what the cancelled warehouse's lines cost", AMOUNT, 0,
          0, NONE, NONE),
    ON(FULFILLMENT, NOTIFY_ORDER, ORDERLY_FULFILLMENT_FAILED, ORDER, OWNER,
       ORDERLY_ORDER_EV_FULFILLMENT_CANCELLED, NONE, ALWAYS, 0,
       "a failed warehouse counts as a cancelled one"),
    ON(FULFILLMENT, NOTIFY_ORDER, ORDERLY_FULFILLMENT_FAILED, RESERVATION, HELD_HERE,
       ORDERLY_RESERVATION_EV_RELEASE, NONE, ALWAYS, ORDERLY_OP_RELEASE_RESERVATIONS,
       "its warehouse's stock is released"),
    ON_IF(FULFILLMENT, NOTIFY_ORDER, ORDERLY_FULFILLMENT_FAILED, PAYMENT, OWNER,
          ORDERLY_PAYMENT_EV_REFUND, REMAINDER, ALWAYS, 0,
          "a captured payment is refunded what the failed warehouse's lines cost", AMOUNT, 0, 0,
          NONE, NONE),
    NONE(FULFILLMENT, ORDERLY_FULFILLMENT_COMPLETED, "completed by its shipment's delivery"),

    /* shipments */
    ON(SHIPMENT, NOTIFY_ORDER, ORDERLY_SHIPMENT_DELIVERED, FULFILLMENT, PARENT,
       ORDERLY_FULFILLMENT_EV_COMPLETE, NONE, ALWAYS, 0, "a delivery completes its fulfillment"),
    ON(SHIPMENT, NOTIFY_ORDER, ORDERLY_SHIPMENT_DELIVERED, ORDER, OWNER, ORDERLY_ORDER_EV_DELIVERED,
       NONE, ALWAYS, 0, "the order is delivered when all its live parts are"),
    ON_IF(SHIPMENT, NOTIFY_ORDER, ORDERLY_SHIPMENT_RETURNED_TO_ORIGIN, PAYMENT, OWNER,
          ORDERLY_PAYMENT_EV_REFUND, CARRIED, ALWAYS, 0,
          "a parcel back at origin refunds what its own units cost", AMOUNT, 0, 0, NONE, NONE),
    ON(SHIPMENT, NOTIFY_ORDER, ORDERLY_SHIPMENT_RETURNED_TO_ORIGIN, ORDER, OWNER,
       ORDERLY_ORDER_EV_RETURNED_TO_ORIGIN, NONE, ALWAYS, 0,
       "the order is returned to origin when all its live parcels are"),
    ON(SHIPMENT, NOTIFY_ORDER, ORDERLY_SHIPMENT_RETURNED_TO_ORIGIN, ORDER, OWNER,
       ORDERLY_ORDER_EV_DELIVERED, NONE, ALWAYS, 0,
       "else delivered, once every other parcel has ended"),
    NONE(SHIPMENT, ORDERLY_SHIPMENT_CANCELLED, "cancelled by its order; the carrier is told once"),
    ON(SHIPMENT, NOTIFY_ORDER, ORDERLY_SHIPMENT_LOST, CLAIM, NEW, ORDERLY_EVENT_INIT, NONE, ALWAYS,
       0, "a lost parcel opens its claim"),
    ON_IF(SHIPMENT, NOTIFY_ORDER, ORDERLY_SHIPMENT_LOST, CLAIM, SAME, ORDERLY_CLAIM_EV_REFUND, NONE,
          ALWAYS, 0, "by policy, the claim is resolved by a refund", CLAIM_POLICY, 0,
          ORDERLY_CLAIM_BY_REFUND, NONE, NONE),
    ON_IF(SHIPMENT, NOTIFY_ORDER, ORDERLY_SHIPMENT_LOST, CLAIM, SAME, ORDERLY_CLAIM_EV_RESHIP, NONE,
          ALWAYS, 0, "by policy, the claim is resolved by reshipping", CLAIM_POLICY, 0,
          ORDERLY_CLAIM_BY_RESHIP, NONE, NONE),

    /* claims: a lost parcel refunded or reshipped, never both */
    ON_IF(CLAIM, NOTIFY_ORDER, ORDERLY_CLAIM_REFUNDED, PAYMENT, OWNER, ORDERLY_PAYMENT_EV_REFUND,
          CARRIED, ALWAYS, 0, "a refunded claim refunds what its parcel's own units cost", AMOUNT,
          0, 0, NONE, NONE),
    ON(CLAIM, NOTIFY_ORDER, ORDERLY_CLAIM_REFUNDED, ORDER, OWNER,
       ORDERLY_ORDER_EV_RETURNED_TO_ORIGIN, NONE, ALWAYS, 0,
       "nothing reached the customer when every live parcel is lost or back"),
    ON(CLAIM, NOTIFY_ORDER, ORDERLY_CLAIM_REFUNDED, ORDER, OWNER, ORDERLY_ORDER_EV_DELIVERED, NONE,
       ALWAYS, 0, "else delivered, once every other parcel has ended"),
    NONE(CLAIM, ORDERLY_CLAIM_CLOSED, "refunded or reshipped already; closing ends its life"),

    /* returns */
    ON(RETURN, NOTIFY_ORDER, ORDERLY_RETURN_REFUNDED, PAYMENT, OWNER, ORDERLY_PAYMENT_EV_REFUND,
       PART, ALWAYS, 0, "the payment refunds the return's amount"),
    NONE(RETURN, ORDERLY_RETURN_REJECTED, "nothing was given back"),
    NONE(RETURN, ORDERLY_RETURN_CANCELLED, "nothing was given back"),
    NONE(RETURN, ORDERLY_RETURN_COMPLETED, "restocked, or the exchange's replacement was requested"),
};

const size_t orderly__n_reactions = sizeof orderly__reactions / sizeof orderly__reactions[0];

/* DO(machine, effect) = what the effect does itself; REACT: nothing but
 * its reactions; PUBLISH(event, amount); RECORD(op, amount, lines, if). */
#define DO(m, fx) [M(m)][FX_(fx)]
#define REACT { ORDERLY__DO_REACT, 0, 0, 0, 0 }
#define PUBLISH(out, amt) { ORDERLY__DO_PUBLISH, ORDERLY__OUT_##out, ORDERLY__AMT_##amt, 0, 0 }
#define RECORD(op, amt, lines, cond)                                                       \
    { ORDERLY__DO_RECORD, ORDERLY_OP_##op, ORDERLY__AMT_##amt, ORDERLY__LINES_##lines,     \
      ORDERLY__IF_##cond }

const orderly__effect_decls_of orderly__effect_decls[ORDERLY_MACHINE_COUNT + 1] = {
    DO(ORDER, EMIT_STATUS_CHANGED) = PUBLISH(STATUS_CHANGED, EVENT),
    DO(ORDER, EMIT_ORDER_CANCELLED) = PUBLISH(ORDER_CANCELLED, NONE),
    DO(ORDER, CONFIRM_RESERVATIONS) = REACT,
    DO(ORDER, RELEASE_RESERVATIONS) = REACT,
    DO(ORDER, REQUEST_CAPTURE) = REACT,
    DO(ORDER, SETTLE_PAYMENT) = REACT,
    DO(ORDER, CANCEL_FULFILLMENTS) = REACT,
    DO(ORDER, RELEASE_FULFILLMENTS) = { ORDERLY__DO_START_SLA, 0, 0, 0, 0 },
    DO(ORDER, CANCEL_REMAINDER) = REACT,
    DO(ORDER, REVERT_PROMOTION) = RECORD(REVERT_PROMOTION, NONE, NONE, PROMOTION),
    DO(ORDER, RESTORE_LOYALTY) = RECORD(RESTORE_LOYALTY, LOYALTY, NONE, AMOUNT),

    DO(PAYMENT, EMIT_STATUS_CHANGED) = PUBLISH(STATUS_CHANGED, EVENT),
    DO(PAYMENT, EMIT_PAYMENT_CONFIRMED) = PUBLISH(PAYMENT_CONFIRMED, AUTHORIZED),
    DO(PAYMENT, EMIT_PAYMENT_FAILED) = PUBLISH(PAYMENT_FAILED, NONE),
    DO(PAYMENT, EMIT_PAYMENT_CAPTURED) = PUBLISH(PAYMENT_CAPTURED, CAPTURED),
    DO(PAYMENT, CAPTURE_PAYMENT) = RECORD(CAPTURE, UNCAPTURED, NONE, ALWAYS),
    DO(PAYMENT, VOID_AUTHORIZATION) = RECORD(VOID_AUTHORIZATION, AUTHORIZED, NONE, ALWAYS),
    DO(PAYMENT, REFUND_PAYMENT) = RECORD(REFUND, EVENT, NONE, ALWAYS),
    DO(PAYMENT, CANCEL_COD_CLAIM) = REACT,
    DO(PAYMENT, CANCEL_ORDER) = REACT,

    DO(RESERVATION, EMIT_STATUS_CHANGED) = PUBLISH(STATUS_CHANGED, EVENT),
    DO(RESERVATION, NOTIFY_ORDER) = REACT,

    DO(FULFILLMENT, EMIT_STATUS_CHANGED) = PUBLISH(STATUS_CHANGED, EVENT),
    DO(FULFILLMENT, EMIT_SLA_BREACHED) = PUBLISH(SLA_BREACHED, NONE),
    DO(FULFILLMENT, FULFILL_RESERVATIONS) = REACT,
    DO(FULFILLMENT, NOTIFY_ORDER) = REACT,

    DO(SHIPMENT, EMIT_STATUS_CHANGED) = PUBLISH(STATUS_CHANGED, EVENT),
    DO(SHIPMENT, CANCEL_SHIPMENT) = RECORD(CANCEL_SHIPMENT, NONE, NONE, ALWAYS),
    DO(SHIPMENT, NOTIFY_ORDER) = REACT,
    /* a returned parcel puts back what left its warehouse */
    DO(SHIPMENT, RESTOCK) = RECORD(RESTOCK, NONE, SHIPPED_HERE, ALWAYS),

    DO(RETURN, EMIT_STATUS_CHANGED) = PUBLISH(STATUS_CHANGED, EVENT),
    DO(RETURN, NOTIFY_ORDER) = REACT,
    /* a return restocks the units it names, and only those */
    DO(RETURN, RESTOCK) = RECORD(RESTOCK, PART, RETURNED, ALWAYS),
    DO(RETURN, OPEN_REPLACEMENT) = PUBLISH(REPLACEMENT_REQUESTED, PART),

    DO(CLAIM, NOTIFY_ORDER) = REACT,
    /* the host sends the lost parcel's lines again, once per claim */
    DO(CLAIM, RESHIP) = RECORD(RESHIP, CARRIED, SHIPPED_HERE, ALWAYS),
};

#define OP(x) [ORDERLY_OP_##x]
#define KEY(x) ORDERLY__KEY_##x

/* How each built-in operation's key names its cause. The once bits are
 * persisted in the aggregate: pinned. */
const struct orderly__op_decl orderly__op_decls[ORDERLY__OP_IDS] = {
    OP(RELEASE_RESERVATIONS) = { KEY(LINES), 0 },
    OP(VOID_AUTHORIZATION) = { KEY(ORDER), 1 },
    OP(REFUND) = { KEY(COUNT), 0 },
    OP(CAPTURE) = { KEY(COUNT), 0 },
    OP(RESTOCK) = { KEY(PART), 0, ORDERLY__COUNTS_RESTOCKED },
    OP(REVERT_PROMOTION) = { KEY(ORDER), 2 },
    OP(RESTORE_LOYALTY) = { KEY(ORDER), 4 },
    OP(CANCEL_SHIPMENT) = { KEY(PART), 0 },
    OP(CANCEL_COD_CLAIM) = { KEY(ORDER), 8 },
    OP(RESHIP) = { KEY(PART), 0 },
};

#define IN(m, ev) [M(m)][ORDERLY_##m##_EV_##ev]
#define T_(x) ORDERLY_TIMER_##x
#define ATTR(x) ORDERLY__ST_##x

/* What the guards of an event see, and the money it moves. */
const orderly__machine_inputs orderly__event_inputs[ORDERLY_MACHINE_COUNT + 1] = {
    /* the order counts its parts: live fulfillments, shipped or delivered */
    IN(ORDER, FULFILLMENT_SHIPPED) = { .parts_of = M(FULFILLMENT), .parts_out = ATTR(DROPPED),
                                       .done_of = M(FULFILLMENT), .done_attrs = ATTR(SHIPPED) },
    IN(ORDER, FULFILLMENT_CANCELLED) = { .parts_of = M(FULFILLMENT), .parts_out = ATTR(DROPPED),
                                         .done_of = M(FULFILLMENT), .done_attrs = ATTR(SHIPPED) },
    /* a parcel cancelled before pick-up (a partial cancellation), back at
     * origin or lost has ended too: refunded, it no longer holds the order */
    IN(ORDER, DELIVERED) = { .parts_of = M(FULFILLMENT), .parts_out = ATTR(DROPPED),
                             .done_of = M(SHIPMENT),
                             .done_attrs = ATTR(DELIVERED) | ATTR(BACK) | ATTR(LOST) },
    /* returned to origin only when no live parcel reached the customer */
    IN(ORDER, RETURNED_TO_ORIGIN) = { .parts_of = M(FULFILLMENT), .parts_out = ATTR(DROPPED),
                                      .done_of = M(SHIPMENT), .done_attrs = ATTR(BACK) | ATTR(LOST) },
    /* the payment: an authorization's age bounds its capture */
    IN(PAYMENT, AUTHORIZE) = { .money = ORDERLY__MONEY_AUTHORIZE },
    IN(PAYMENT, REQUEST_CAPTURE) = { .timer = T_(AUTH_EXPIRY), .amount = ORDERLY__IN_UNCAPTURED },
    IN(PAYMENT, RETRY_CAPTURE) = { .timer = T_(AUTH_EXPIRY), .amount = ORDERLY__IN_UNCAPTURED },
    IN(PAYMENT, AUTHORIZATION_EXPIRED) = { .timer = T_(AUTH_EXPIRY) },
    /* COD cash the carrier never reports collected */
    IN(PAYMENT, COLLECTION_OVERDUE) = { .timer = T_(COD_COLLECTION) },
    IN(PAYMENT, CAPTURE_SUCCEEDED) = { .money = ORDERLY__MONEY_CAPTURE },
    IN(PAYMENT, COD_COLLECTED) = { .money = ORDERLY__MONEY_COLLECT },
    IN(PAYMENT, REFUND) = { .money = ORDERLY__MONEY_REFUND },
    /* the order hears of a refund the payment already counted */
    IN(ORDER, REFUNDED) = { .amount = ORDERLY__IN_COUNTED },
    /* a line's TTL, a warehouse's SLA (which runs from its release, in
     * every state it passes through) */
    IN(RESERVATION, CONFIRM) = { .timer = T_(RESERVATION_TTL) },
    IN(RESERVATION, EXPIRE) = { .timer = T_(RESERVATION_TTL) },
    IN(FULFILLMENT, SLA_BREACH) = { .timer = T_(FULFILLMENT_SLA) },
};

/* Rows per machine the cycle check can hold; the largest machine has 30. */
#define ROWS_MAX 64
#define NODE(m, i) ((m) * ROWS_MAX + (i))

static const struct orderly_machine *machine(int id)
{
    return id >= ORDERLY_MACHINE_ORDER && id <= ORDERLY_MACHINE_COUNT ? orderly__machines[id] : NULL;
}

/* Some state of m carries one of attrs. */
static int has_attrs(const struct orderly_machine *m, unsigned attrs)
{
    int st;

    for (st = 1; st < m->n_states; st++)
        if (m->states[st].attrs & attrs)
            return 1;
    return 0;
}

static int user_event(const struct orderly_machine *m, int event)
{
    return event >= orderly_event_first() && event < m->n_events && m->events[event] != NULL;
}

/* The declared condition, the signal, the amounts and the operation. */
static int check_extras(const struct orderly__reaction *r, size_t i,
                        const struct orderly_machine *src, const struct orderly_machine *tgt,
                        orderly_ctx *ctx)
{
    const struct orderly_machine *cm;

    if (r->when > ORDERLY__WHEN_STAYED ||
        (r->amount > ORDERLY__AMT_REMAINDER && r->amount != ORDERLY__AMT_EVENT) ||
        r->emit_amount > ORDERLY__AMT_REMAINDER || r->emit >= ORDERLY__SIG_COUNT ||
        (r->op != 0 && orderly_op_name(r->op) == NULL))
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "reaction %zu (%s to %s): unknown when, amount, signal or operation", i,
                             src->name, tgt->name);
    if ((r->amount == ORDERLY__AMT_CARRIED && src->id != ORDERLY_MACHINE_SHIPMENT &&
         src->id != ORDERLY_MACHINE_CLAIM) ||
        (r->amount == ORDERLY__AMT_PART && src->id != ORDERLY_MACHINE_RETURN))
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "reaction %zu (%s to %s): its amount belongs to another machine's part",
                             i, src->name, tgt->name);
    if (r->cond == ORDERLY__IF_ALWAYS)
        return ORDERLY_OK;
    if (r->cond == ORDERLY__IF_CLAIM_POLICY) {
        if (r->cond_machine != 0 || r->cond_arg < ORDERLY_CLAIM_BY_REFUND ||
            r->cond_arg > ORDERLY_CLAIM_BY_HOST)
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "reaction %zu (%s to %s): a claim policy condition names a "
                                 "resolution and no machine", i, src->name, tgt->name);
        return ORDERLY_OK;
    }
    if (r->cond == ORDERLY__IF_PROMOTION || r->cond == ORDERLY__IF_AMOUNT) {
        if (r->cond_machine != 0 || r->cond_arg != 0)
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "reaction %zu (%s to %s): condition %d looks at no machine", i,
                                 src->name, tgt->name, r->cond);
        return ORDERLY_OK;
    }
    if (r->cond >= ORDERLY__IF_COUNT || (cm = machine(r->cond_machine)) == NULL)
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "reaction %zu (%s to %s): unknown condition %d on machine %d", i,
                             src->name, tgt->name, r->cond, r->cond_machine);
    if (r->cond == ORDERLY__IF_IN && (r->cond_arg == 0 || !has_attrs(cm, r->cond_arg)))
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "reaction %zu (%s to %s): no %s state has the attributes %#x its "
                             "condition asks for", i, src->name, tgt->name, cm->name, r->cond_arg);
    if (r->cond != ORDERLY__IF_IN && !user_event(cm, r->cond_arg))
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "reaction %zu (%s to %s): its condition asks about %s event %d, "
                             "which it lacks", i, src->name, tgt->name, cm->name, r->cond_arg);
    return ORDERLY_OK;
}

static int check_row(const struct orderly__reaction *r, size_t i, orderly_ctx *ctx)
{
    const struct orderly_machine *src = machine(r->source), *tgt;
    int rc;

    if (src == NULL)
        return orderly__fail(ctx, ORDERLY_EINVARIANT, "reaction %zu: no source machine %d", i,
                             r->source);
    if (r->state != 0 && (r->state >= src->n_states || src->states[r->state].name == NULL))
        return orderly__fail(ctx, ORDERLY_EINVARIANT, "reaction %zu: %s has no state %d", i,
                             src->name, r->state);
    if (r->target == 0) {
        if (r->state == 0)
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "reaction %zu: a declared none must name a %s state", i, src->name);
        return ORDERLY_OK;
    }
    if ((tgt = machine(r->target)) == NULL)
        return orderly__fail(ctx, ORDERLY_EINVARIANT, "reaction %zu: no target machine %d", i,
                             r->target);
    if (r->effect == ORDERLY_EFFECT_NONE)
        return orderly__fail(ctx, ORDERLY_EINVARIANT, "reaction %zu (%s to %s): no triggering effect",
                             i, src->name, tgt->name);
    if (r->select == ORDERLY__SEL_NEW) {
        /* the parts the engine opens itself, in their initial state: a
         * fulfillment's shipment, a shipment's claim */
        if (r->event != ORDERLY_EVENT_INIT ||
            !((r->target == ORDERLY_MACHINE_SHIPMENT && r->source == ORDERLY_MACHINE_FULFILLMENT) ||
              (r->target == ORDERLY_MACHINE_CLAIM && r->source == ORDERLY_MACHINE_SHIPMENT)))
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "reaction %zu: only a fulfillment's shipment and a shipment's "
                                 "claim are opened by a reaction, with 'init'", i);
        return ORDERLY_OK;
    }
    if ((rc = check_extras(r, i, src, tgt, ctx)) < 0)
        return rc;
    if (r->select == ORDERLY__SEL_ONLY) {
        if (r->event != 0 || (r->op == 0 && r->emit == ORDERLY__SIG_NONE))
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "reaction %zu (%s to %s): a row with no event must record an "
                                 "operation or emit a signal, and fire nothing", i, src->name,
                                 tgt->name);
        return ORDERLY_OK;
    }
    if (r->event < orderly_event_first() || r->event >= tgt->n_events || tgt->events[r->event] == NULL)
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "reaction %zu (%s to %s): %s has no event %d", i, src->name, tgt->name,
                             tgt->name, r->event);
    if (r->select == ORDERLY__SEL_NONE || r->select > ORDERLY__SEL_SAME ||
        (r->select == ORDERLY__SEL_SAME &&
         !(r->source == ORDERLY_MACHINE_SHIPMENT && r->target == ORDERLY_MACHINE_CLAIM)) ||
        ((r->select == ORDERLY__SEL_HELD || r->select == ORDERLY__SEL_HELD_HERE) &&
         r->target != ORDERLY_MACHINE_RESERVATION) ||
        (r->select == ORDERLY__SEL_BOOKED && r->target != ORDERLY_MACHINE_SHIPMENT))
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "reaction %zu (%s to %s): selector %d does not fit the target", i,
                             src->name, tgt->name, r->select);
    return ORDERLY_OK;
}

/* Every terminal state of a part has a reaction or a declared none: a
 * new terminal state must say what it means to the order. */
static int check_coverage(const struct orderly__reaction *r, size_t n, orderly_ctx *ctx)
{
    int m, st;
    size_t i;

    for (m = ORDERLY_MACHINE_RESERVATION; m <= ORDERLY_MACHINE_COUNT; m++) {
        const struct orderly_machine *pm = orderly__machines[m];
        for (st = 1; st < pm->n_states; st++) {
            if (pm->states[st].name == NULL || !pm->states[st].terminal)
                continue;
            for (i = 0; i < n && !(r[i].source == m && r[i].state == st); i++)
                ;
            if (i == n)
                return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                     "%s state '%s' is terminal but has no reaction and no declared none",
                                     pm->name, pm->states[st].name);
        }
    }
    return ORDERLY_OK;
}

struct walk {
    const struct orderly__reaction *r;
    size_t n;
    uint8_t color[(ORDERLY_MACHINE_COUNT + 1) * ROWS_MAX]; /* 0 new, 1 on the path, 2 done */
    orderly_ctx *ctx;
};

/* A row that takes a part from a live state into a terminal one runs once
 * per part, so a cycle through it ends. */
static int ends(const struct orderly_machine *m, const struct orderly__row *row)
{
    return m->states[row->to].terminal && !m->states[row->from].terminal;
}

static int visit(struct walk *w, int m, int i)
{
    const struct orderly_machine *mm = orderly__machines[m];
    const struct orderly__row *row = &mm->rows[i];
    size_t k, j;
    int rc, t;

    if (ends(mm, row))
        return ORDERLY_OK;
    if (w->color[NODE(m, i)] == 1)
        return orderly__fail(w->ctx, ORDERLY_EINVARIANT,
                             "reactions: a cycle through %s '%s' --%s--> '%s' can run unbounded "
                             "(no step of it enters a terminal state)",
                             mm->name, mm->states[row->from].name, mm->events[row->event],
                             mm->states[row->to].name);
    if (w->color[NODE(m, i)] == 2)
        return ORDERLY_OK;
    w->color[NODE(m, i)] = 1;
    for (k = 0; k < ORDERLY_EFFECT_MAX && row->effects[k] != ORDERLY_EFFECT_NONE; k++)
        for (j = 0; j < w->n; j++) {
            const struct orderly__reaction *r = &w->r[j];
            if (r->source != m || r->effect != row->effects[k] || r->target == 0 ||
                (r->state != 0 && r->state != row->to))
                continue;
            for (t = 0; t < orderly__machines[r->target]->n_rows; t++)
                if (orderly__machines[r->target]->rows[t].event == r->event &&
                    r->select != ORDERLY__SEL_NEW && (rc = visit(w, r->target, t)) < 0)
                    return rc;
        }
    w->color[NODE(m, i)] = 2;
    return ORDERLY_OK;
}

static int check_cycles(const struct orderly__reaction *r, size_t n, orderly_ctx *ctx)
{
    struct walk w;
    int m, i, rc;

    memset(&w, 0, sizeof w);
    w.r = r;
    w.n = n;
    w.ctx = ctx;
    for (m = ORDERLY_MACHINE_ORDER; m <= ORDERLY_MACHINE_COUNT; m++) {
        if (orderly__machines[m]->n_rows > ROWS_MAX)
            return orderly__fail(ctx, ORDERLY_EINVARIANT, "%s has more than %d rows",
                                 orderly__machines[m]->name, ROWS_MAX);
        for (i = 0; i < orderly__machines[m]->n_rows; i++)
            if ((rc = visit(&w, m, i)) < 0)
                return rc;
    }
    return ORDERLY_OK;
}

int orderly__reactions_validate(const struct orderly__reaction *r, size_t n, orderly_ctx *ctx)
{
    size_t i;
    int rc;

    for (i = 0; i < n; i++)
        if ((rc = check_row(&r[i], i, ctx)) < 0)
            return rc;
    if ((rc = check_coverage(r, n, ctx)) < 0)
        return rc;
    return check_cycles(r, n, ctx);
}

static int check_input(const struct orderly_machine *m, int ev, const struct orderly__event_input *x,
                       orderly_ctx *ctx)
{
    static const struct orderly__event_input none;

    if (memcmp(x, &none, sizeof none) == 0)
        return ORDERLY_OK;
    if (!user_event(m, ev))
        return orderly__fail(ctx, ORDERLY_EINVARIANT, "event inputs: %s has no event %d", m->name, ev);
    if (orderly_timer_name(x->timer) == NULL || x->amount > ORDERLY__IN_COUNTED ||
        x->money >= ORDERLY__MONEY_COUNT)
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "event inputs: %s '%s' has an unknown timer, amount or money kind",
                             m->name, m->events[ev]);
    if (x->money != ORDERLY__MONEY_NONE && m->id != ORDERLY_MACHINE_PAYMENT)
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "event inputs: %s '%s' moves money, which only payment events do",
                             m->name, m->events[ev]);
    if ((x->parts_of != 0 || x->done_of != 0) &&
        (m->id != ORDERLY_MACHINE_ORDER || x->parts_of < ORDERLY_MACHINE_RESERVATION ||
         machine(x->parts_of) == NULL || x->done_of < ORDERLY_MACHINE_RESERVATION ||
         machine(x->done_of) == NULL))
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "event inputs: %s '%s' counts parts, which only the order does, of "
                             "its part machines", m->name, m->events[ev]);
    return ORDERLY_OK;
}

/* A guarded row's guard has what it compares. */
static int check_guard_inputs(const struct orderly_machine *m, const orderly__machine_inputs in,
                              orderly_ctx *ctx)
{
    int i;

    for (i = 0; i < m->n_rows; i++) {
        const struct orderly__row *row = &m->rows[i];
        const struct orderly__event_input *x = &in[row->event];
        int g = row->guard;
        if ((g == ORDERLY_GUARD_WITHIN_DEADLINE || g == ORDERLY_GUARD_PAST_DEADLINE ||
             g == ORDERLY_GUARD_CAPTURABLE) &&
            x->timer == ORDERLY_TIMER_NONE && m->states[row->from].timer == ORDERLY_TIMER_NONE)
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "%s '%s' --%s--> is guarded by '%s' but has no deadline: neither "
                                 "the event nor the state declares a timer",
                                 m->name, m->states[row->from].name, m->events[row->event],
                                 orderly_guard_name(g));
        if ((g == ORDERLY_GUARD_ALL_PARTS || g == ORDERLY_GUARD_SOME_PARTS) && x->parts_of == 0)
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "%s '%s' --%s--> is guarded by '%s' but the event counts no parts",
                                 m->name, m->states[row->from].name, m->events[row->event],
                                 orderly_guard_name(g));
    }
    return ORDERLY_OK;
}

int orderly__inputs_validate(const orderly__machine_inputs *in, orderly_ctx *ctx)
{
    int m, ev, rc;

    for (m = ORDERLY_MACHINE_ORDER; m <= ORDERLY_MACHINE_COUNT; m++) {
        const struct orderly_machine *mm = orderly__machines[m];
        if (mm->n_events > ORDERLY__INPUT_EVENTS)
            return orderly__fail(ctx, ORDERLY_EINVARIANT, "%s has more than %d events", mm->name,
                                 ORDERLY__INPUT_EVENTS);
        for (ev = 0; ev < ORDERLY__INPUT_EVENTS; ev++)
            if ((rc = check_input(mm, ev, &in[m][ev], ctx)) < 0)
                return rc;
        if ((rc = check_guard_inputs(mm, in[m], ctx)) < 0)
            return rc;
    }
    return ORDERLY_OK;
}

/* A built-in operation with a declared key. */
static int keyed_op(const struct orderly__op_decl *ops, int op)
{
    return op > 0 && op < ORDERLY__OP_IDS && orderly_op_name(op) != NULL &&
           ops[op].key != ORDERLY__KEY_UNDECLARED;
}

/* One declared (machine, effect) entry. */
static int check_decl(const struct orderly__effect_decl *d, const struct orderly_machine *m, int fx,
                      const struct orderly__op_decl *ops, orderly_ctx *ctx)
{
    const char *fxn = orderly_effect_name(fx) ? orderly_effect_name(fx) : "?";
    int bare = d->what == 0 && d->amount == 0 && d->lines == 0 && d->cond == 0;

    if (d->does >= ORDERLY__DO_COUNT || d->amount >= ORDERLY__AMT_COUNT ||
        d->lines >= ORDERLY__LINES_COUNT ||
        (d->cond != ORDERLY__IF_ALWAYS && d->cond != ORDERLY__IF_PROMOTION &&
         d->cond != ORDERLY__IF_AMOUNT))
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "effect %s of %s: unknown kind, amount, lines or condition", fxn, m->name);
    if ((d->does == ORDERLY__DO_REACT || d->does == ORDERLY__DO_START_SLA) && !bare)
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "effect %s of %s: does nothing itself, so carries nothing", fxn, m->name);
    if (d->does == ORDERLY__DO_PUBLISH &&
        (d->what == ORDERLY__OUT_NONE || d->what >= ORDERLY__OUT_COUNT || d->lines != 0))
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "effect %s of %s: publishes unknown event %d", fxn, m->name, d->what);
    if (d->does == ORDERLY__DO_RECORD && !keyed_op(ops, d->what))
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "effect %s of %s: records operation %d, which is unknown or has no "
                             "declared key", fxn, m->name, d->what);
    if ((d->amount == ORDERLY__AMT_PART && m->id != ORDERLY_MACHINE_RETURN) ||
        (d->amount == ORDERLY__AMT_CARRIED && m->id != ORDERLY_MACHINE_SHIPMENT &&
         m->id != ORDERLY_MACHINE_CLAIM) ||
        (d->lines == ORDERLY__LINES_SHIPPED_HERE && m->id != ORDERLY_MACHINE_SHIPMENT &&
         m->id != ORDERLY_MACHINE_CLAIM) ||
        (d->lines == ORDERLY__LINES_RETURNED && m->id != ORDERLY_MACHINE_RETURN))
        return orderly__fail(ctx, ORDERLY_EINVARIANT,
                             "effect %s of %s: its amount or lines belong to another machine's part",
                             fxn, m->name);
    return ORDERLY_OK;
}

/* The operations' keys: known scopes; distinct single once bits, only for
 * once-per-order operations. */
static int check_ops(const struct orderly__op_decl *ops, orderly_ctx *ctx)
{
    unsigned seen = 0;
    int op;

    for (op = 0; op < ORDERLY__OP_IDS; op++) {
        const struct orderly__op_decl *o = &ops[op];
        const char *name = orderly_op_name(op) ? orderly_op_name(op) : "?";
        if (o->key == ORDERLY__KEY_UNDECLARED && o->once == 0 && o->counts == 0)
            continue;
        if (op == 0 || orderly_op_name(op) == NULL || o->key > ORDERLY__KEY_COUNT ||
            o->counts >= ORDERLY__COUNTS_COUNT)
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "operation %d: unknown operation, key scope %d or count %d", op,
                                 o->key, o->counts);
        if ((o->key == ORDERLY__KEY_ORDER) != (o->once != 0) || (o->once & (o->once - 1u)) != 0 ||
            (seen & o->once) != 0)
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "operation %s: a once-per-order operation needs its own single "
                                 "once bit, and only it has one", name);
        seen |= o->once;
    }
    return ORDERLY_OK;
}

int orderly__effects_validate(const orderly__effect_decls_of *fx, const struct orderly__op_decl *ops,
                              const struct orderly__reaction *r, size_t n, orderly_ctx *ctx)
{
    const struct orderly_machine *m;
    size_t i;
    int id, j, k, e, rc;

    if ((rc = check_ops(ops, ctx)) < 0)
        return rc;
    for (id = ORDERLY_MACHINE_ORDER; id <= ORDERLY_MACHINE_COUNT; id++) {
        m = machine(id);
        for (e = 0; e < ORDERLY__EFFECT_IDS; e++)
            if (fx[id][e].does != ORDERLY__DO_UNDECLARED &&
                (rc = check_decl(&fx[id][e], m, e, ops, ctx)) < 0)
                return rc;
        for (j = 0; j < m->n_rows; j++)
            for (k = 0; k < ORDERLY_EFFECT_MAX && m->rows[j].effects[k] != ORDERLY_EFFECT_NONE; k++) {
                e = m->rows[j].effects[k];
                if (e >= ORDERLY__EFFECT_IDS || fx[id][e].does == ORDERLY__DO_UNDECLARED)
                    return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                         "%s row %d: effect %s is not declared for %s", m->name, j,
                                         orderly_effect_name(e) ? orderly_effect_name(e) : "?",
                                         m->name);
            }
    }
    for (i = 0; i < n; i++)
        if (r[i].op != 0 && !keyed_op(ops, r[i].op))
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "reaction %zu: records operation %d, which has no declared key", i,
                                 r[i].op);
    return ORDERLY_OK;
}

int orderly__deadlines_validate(const struct orderly_machine *m, orderly_ctx *ctx)
{
    int st;

    for (st = 1; st < m->n_states; st++)
        if (m->states[st].name != NULL && !m->states[st].terminal &&
            m->states[st].timer == ORDERLY_TIMER_NONE &&
            !(m->states[st].attrs & (ORDERLY__ST_SETTLED | ORDERLY__ST_ORDER_BOUND)))
            return orderly__fail(ctx, ORDERLY_EINVARIANT,
                                 "%s state '%s' waits with no deadline: declare its timer, that "
                                 "it is settled, or that its order's deadline ends it", m->name,
                                 m->states[st].name);
    return ORDERLY_OK;
}

int orderly__choreography_validate(orderly_ctx *ctx)
{
    int rc = orderly__deadlines_validate(&orderly__payment_machine, ctx);

    if (rc >= 0)
        rc = orderly__reactions_validate(orderly__reactions, orderly__n_reactions, ctx);

    if (rc >= 0)
        rc = orderly__inputs_validate(orderly__event_inputs, ctx);
    return rc < 0 ? rc : orderly__effects_validate(orderly__effect_decls, orderly__op_decls,
                                                   orderly__reactions, orderly__n_reactions, ctx);
}
