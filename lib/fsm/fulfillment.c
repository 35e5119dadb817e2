/*
 * The fulfillment machine: one per warehouse per order. It starts on hold:
 * nothing may be picked for an order that is not confirmed (an unpaid card
 * order), and the order's confirmation releases it to `pending`, where its
 * SLA starts. A COD order is confirmed before its cash is collected at the
 * door, so it ships on its confirmation too. Every change is fed to the
 * order, which aggregates over all fulfillments. The SLA timer applies
 * `sla_breach` from any state before shipment; once shipped the event has
 * no row, so a late timer does nothing.
 */
#include "orderly/fulfillment.h"
#include "table.h"

#define S(x) ORDERLY_FULFILLMENT_##x
#define E(x) ORDERLY_FULFILLMENT_EV_##x

#define STATES(X, F)                                 \
    X(ON_HOLD,   "on_hold",   1, NONE, 0) \
    X(PENDING,   "pending",   2, FULFILLMENT_SLA, 0) \
    X(PICKING,   "picking",   3, NONE, 0) \
    X(PICKED,    "picked",    4, NONE, 0) \
    X(PACKING,   "packing",   5, NONE, 0) \
    X(PACKED,    "packed",    6, NONE, 0) \
    X(SHIPPED,   "shipped",   7, NONE, ORDERLY__ST_SHIPPED) \
    F(COMPLETED, "completed", ORDERLY__ST_SHIPPED) \
    F(CANCELLED, "cancelled", ORDERLY__ST_DROPPED) \
    F(FAILED,    "failed", ORDERLY__ST_DROPPED)

#define EVENTS(X, I)                      \
    X(START_PICKING, "start_picking")     \
    X(PICKED,        "picked")            \
    X(START_PACKING, "start_packing")     \
    X(PACKED,        "packed")            \
    X(SHIP,          "ship")              \
    X(COMPLETE,      "complete")          \
    X(CANCEL,        "cancel")            \
    X(FAIL,          "fail")              \
    X(SLA_BREACH,    "sla_breach")        \
    I(RELEASE,       "release")

#define CHANGED FX(EMIT_STATUS_CHANGED, NOTIFY_ORDER)
#define BREACH FX(EMIT_SLA_BREACHED)

#define ROWS(T, A)                                                          \
    T(ON_HOLD, RELEASE,       NONE, PENDING, FX(EMIT_STATUS_CHANGED))       \
    T(ON_HOLD, CANCEL,        NONE, CANCELLED, CHANGED)                     \
    T(PENDING, START_PICKING, NONE, PICKING, CHANGED)                       \
    T(PENDING, CANCEL,        NONE, CANCELLED, CHANGED)                     \
    T(PENDING, SLA_BREACH,    PAST_DEADLINE, PENDING, BREACH)               \
    T(PICKING, PICKED,        NONE, PICKED, CHANGED)                        \
    T(PICKING, CANCEL,        NONE, CANCELLED, CHANGED)                     \
    T(PICKING, FAIL,          NONE, FAILED, CHANGED)                        \
    T(PICKING, SLA_BREACH,    PAST_DEADLINE, PICKING, BREACH)               \
    T(PICKED,  START_PACKING, NONE, PACKING, CHANGED)                       \
    T(PICKED,  CANCEL,        NONE, CANCELLED, CHANGED)                     \
    T(PICKED,  FAIL,          NONE, FAILED, CHANGED)                        \
    T(PICKED,  SLA_BREACH,    PAST_DEADLINE, PICKED, BREACH)                \
    T(PACKING, PACKED,        NONE, PACKED, CHANGED)                        \
    T(PACKING, CANCEL,        NONE, CANCELLED, CHANGED)                     \
    T(PACKING, FAIL,          NONE, FAILED, CHANGED)                        \
    T(PACKING, SLA_BREACH,    PAST_DEADLINE, PACKING, BREACH)               \
    T(PACKED,  SHIP,          NONE, SHIPPED,                                \
      FX(EMIT_STATUS_CHANGED, NOTIFY_ORDER, FULFILL_RESERVATIONS))          \
    T(PACKED,  CANCEL,        NONE, CANCELLED, CHANGED)                     \
    T(PACKED,  FAIL,          NONE, FAILED, CHANGED)                        \
    T(PACKED,  SLA_BREACH,    PAST_DEADLINE, PACKED, BREACH)                \
    T(SHIPPED, COMPLETE,      NONE, COMPLETED, CHANGED)

ORDERLY__DEFINE_MACHINE(orderly__fulfillment_machine, ORDERLY_MACHINE_FULFILLMENT,
                        "fulfillment", ON_HOLD, ON_HOLD, RELEASE);
