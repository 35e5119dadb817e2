/*
 * The return machine. A refund is fed to the order, which refunds the
 * payment by the return's amount. Completing a refunded return restocks; an exchange
 * completes without restock and opens the replacement order. A failed
 * restock is an operation like any other: one retry path.
 */
#include "orderly/return.h"
#include "table.h"

#define S(x) ORDERLY_RETURN_##x
#define E(x) ORDERLY_RETURN_EV_##x

#define STATES(X, F)                         \
    X(REQUESTED, "requested", 1, NONE, 0) \
    X(APPROVED,  "approved",  2, NONE, 0) \
    F(REJECTED,  "rejected", ORDERLY__ST_WITHDRAWN) \
    X(RECEIVED,  "received",  3, NONE, ORDERLY__ST_RECEIVED) \
    X(INSPECTED, "inspected", 4, NONE, ORDERLY__ST_RECEIVED) \
    X(REFUNDED,  "refunded",  5, NONE, ORDERLY__ST_GIVEN_BACK | ORDERLY__ST_RECEIVED) \
    F(COMPLETED, "completed", ORDERLY__ST_GIVEN_BACK | ORDERLY__ST_RECEIVED) \
    F(CANCELLED, "cancelled", ORDERLY__ST_WITHDRAWN)

#define EVENTS(X, I)              \
    X(APPROVE,  "approve")        \
    X(REJECT,   "reject")         \
    X(RECEIVE,  "receive")        \
    X(INSPECT,  "inspect")        \
    X(REFUND,   "refund")         \
    X(COMPLETE, "complete")       \
    X(EXCHANGE, "exchange")       \
    X(CANCEL,   "cancel")

#define ROWS(T, A)                                                            \
    T(REQUESTED, APPROVE,  NONE, APPROVED, FX(EMIT_STATUS_CHANGED))           \
    T(REQUESTED, REJECT,   NONE, REJECTED, FX(EMIT_STATUS_CHANGED))           \
    T(REQUESTED, CANCEL,   NONE, CANCELLED, FX(EMIT_STATUS_CHANGED))          \
    T(APPROVED,  RECEIVE,  NONE, RECEIVED, FX(EMIT_STATUS_CHANGED))           \
    T(APPROVED,  CANCEL,   NONE, CANCELLED, FX(EMIT_STATUS_CHANGED))          \
    T(RECEIVED,  INSPECT,  NONE, INSPECTED, FX(EMIT_STATUS_CHANGED))          \
    T(INSPECTED, REFUND,   NONE, REFUNDED, FX(EMIT_STATUS_CHANGED, NOTIFY_ORDER)) \
    T(INSPECTED, REJECT,   NONE, REJECTED, FX(EMIT_STATUS_CHANGED))           \
    T(INSPECTED, EXCHANGE, NONE, COMPLETED,                                   \
      FX(EMIT_STATUS_CHANGED, OPEN_REPLACEMENT))                              \
    T(REFUNDED,  COMPLETE, NONE, COMPLETED, FX(EMIT_STATUS_CHANGED, RESTOCK))

ORDERLY__DEFINE_MACHINE(orderly__return_machine, ORDERLY_MACHINE_RETURN, "return", REQUESTED,
                        CANCELLED, CANCEL);
