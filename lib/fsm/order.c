/*
 * The order machine. An order is shipped only when every fulfillment of it
 * has shipped (multi-warehouse) or, once one has shipped, the rest have
 * shipped or been cancelled; delivered only when every shipment has been
 * delivered; every way into `cancelled` shares one effect list so a
 * cancellation always releases stock, settles the payment, stops the
 * fulfillments and reverts promotion and loyalty. The events marked I are
 * what the order's parts feed it (a payment confirmed, a fulfillment
 * shipped); a host that could send them would confirm an unpaid order.
 */
#include "orderly/order.h"
#include "table.h"

#define S(x) ORDERLY_ORDER_##x
#define E(x) ORDERLY_ORDER_EV_##x

#define STATES(X, F)                                              \
    X(PENDING,            "pending",            1, ABANDONED, 0) \
    X(CONFIRMED,          "confirmed",          2, NONE, 0) \
    X(PROCESSING,         "processing",         3, NONE, 0) \
    X(PARTIALLY_SHIPPED,  "partially_shipped",  4, NONE, 0) \
    X(SHIPPED,            "shipped",            5, AUTO_COMPLETE, 0) \
    X(DELIVERED,          "delivered",          6, AUTO_COMPLETE, ORDERLY__ST_RETURNABLE) \
    F(COMPLETED,          "completed", 0) \
    F(CANCELLED,          "cancelled", ORDERLY__ST_CLOSED_UNDELIVERED) \
    F(FAILED,             "failed", ORDERLY__ST_CLOSED_UNDELIVERED) \
    X(PARTIALLY_REFUNDED, "partially_refunded", 7, AUTO_COMPLETE, ORDERLY__ST_RETURNABLE) \
    F(REFUNDED,           "refunded", 0) \
    F(RETURNED_TO_ORIGIN, "returned_to_origin", 0)

#define EVENTS(X, I)                                     \
    I(PAYMENT_CONFIRMED,     "payment_confirmed")        \
    I(PAYMENT_FAILED,        "payment_failed")           \
    X(CANCEL,                "cancel")                   \
    I(RESERVATION_EXPIRED,   "reservation_expired")      \
    X(ABANDONED,             "abandoned")                \
    I(FULFILLMENT_STARTED,   "fulfillment_started")      \
    I(FULFILLMENT_SHIPPED,   "fulfillment_shipped")      \
    I(FULFILLMENT_CANCELLED, "fulfillment_cancelled")    \
    I(DELIVERED,             "delivered")                \
    X(AUTO_COMPLETE,         "auto_complete")            \
    X(COMPLETE,              "complete")                 \
    I(REFUNDED,              "refunded")                 \
    I(RETURNED_TO_ORIGIN,    "returned_to_origin")

#define CANCEL_FX FX(EMIT_ORDER_CANCELLED, RELEASE_RESERVATIONS, SETTLE_PAYMENT, \
                     CANCEL_FULFILLMENTS, REVERT_PROMOTION, RESTORE_LOYALTY)

/* a refund that gives back everything undoes the order's discounts too */
#define EMPTIED_FX FX(EMIT_STATUS_CHANGED, REVERT_PROMOTION, RESTORE_LOYALTY)

#define ROWS(T, A)                                                                    \
    T(PENDING,    PAYMENT_CONFIRMED,   NONE, CONFIRMED,                               \
      FX(EMIT_STATUS_CHANGED, CONFIRM_RESERVATIONS, REQUEST_CAPTURE,                  \
         RELEASE_FULFILLMENTS))                                                       \
    T(PENDING,    PAYMENT_FAILED,      NONE, FAILED,                                  \
      FX(EMIT_STATUS_CHANGED, RELEASE_RESERVATIONS, REVERT_PROMOTION, RESTORE_LOYALTY)) \
    T(PENDING,    CANCEL,              NONE, CANCELLED, CANCEL_FX)                    \
    T(PENDING,    RESERVATION_EXPIRED, NONE, CANCELLED, CANCEL_FX)                    \
    T(PENDING,    ABANDONED,           PAST_DEADLINE, CANCELLED, CANCEL_FX)           \
    T(CONFIRMED,  CANCEL,              NONE, CANCELLED, CANCEL_FX)                    \
    T(CONFIRMED,  FULFILLMENT_STARTED, NONE, PROCESSING, FX(EMIT_STATUS_CHANGED))     \
    T(CONFIRMED,  FULFILLMENT_CANCELLED, NONE, CANCELLED, CANCEL_FX)                  \
    T(PROCESSING, CANCEL,              NONE, CANCELLED, CANCEL_FX)                    \
    T(PROCESSING, FULFILLMENT_SHIPPED, ALL_PARTS, SHIPPED, FX(EMIT_STATUS_CHANGED))   \
    A(PROCESSING, FULFILLMENT_SHIPPED, SOME_PARTS, PARTIALLY_SHIPPED,                 \
      FX(EMIT_STATUS_CHANGED))                                                        \
    T(PROCESSING, FULFILLMENT_CANCELLED, NONE, CANCELLED, CANCEL_FX)                  \
    T(PARTIALLY_SHIPPED, FULFILLMENT_SHIPPED, ALL_PARTS, SHIPPED,                     \
      FX(EMIT_STATUS_CHANGED))                                                        \
    A(PARTIALLY_SHIPPED, FULFILLMENT_SHIPPED, SOME_PARTS, PARTIALLY_SHIPPED, FX0)     \
    T(PARTIALLY_SHIPPED, FULFILLMENT_CANCELLED, ALL_PARTS, SHIPPED,                   \
      FX(EMIT_STATUS_CHANGED))                                                        \
    A(PARTIALLY_SHIPPED, FULFILLMENT_CANCELLED, SOME_PARTS, PARTIALLY_SHIPPED, FX0)   \
    T(PARTIALLY_SHIPPED, CANCEL,       NONE, SHIPPED,                                 \
      FX(EMIT_STATUS_CHANGED, CANCEL_REMAINDER))                                      \
    T(SHIPPED,    DELIVERED,           ALL_PARTS, DELIVERED, FX(EMIT_STATUS_CHANGED)) \
    A(SHIPPED,    DELIVERED,           SOME_PARTS, SHIPPED, FX0)                      \
    T(SHIPPED,    AUTO_COMPLETE,       PAST_DEADLINE, COMPLETED,                      \
      FX(EMIT_STATUS_CHANGED))                                                        \
    T(SHIPPED,    RETURNED_TO_ORIGIN,  ALL_PARTS, RETURNED_TO_ORIGIN,                 \
      FX(EMIT_STATUS_CHANGED, SETTLE_PAYMENT, REVERT_PROMOTION, RESTORE_LOYALTY))     \
    A(SHIPPED,    RETURNED_TO_ORIGIN,  SOME_PARTS, SHIPPED, FX0)                      \
    T(DELIVERED,  COMPLETE,            NONE, COMPLETED, FX(EMIT_STATUS_CHANGED))      \
    T(DELIVERED,  AUTO_COMPLETE,       PAST_DEADLINE, COMPLETED,                      \
      FX(EMIT_STATUS_CHANGED))                                                        \
    T(DELIVERED,  REFUNDED,            REFUND_PARTIAL, PARTIALLY_REFUNDED,            \
      FX(EMIT_STATUS_CHANGED))                                                        \
    A(DELIVERED,  REFUNDED,            REFUND_FULL, REFUNDED, EMPTIED_FX)             \
    T(PARTIALLY_REFUNDED, REFUNDED,    REFUND_PARTIAL, PARTIALLY_REFUNDED, FX0)       \
    A(PARTIALLY_REFUNDED, REFUNDED,    REFUND_FULL, REFUNDED, EMPTIED_FX)             \
    T(PARTIALLY_REFUNDED, COMPLETE,    NONE, COMPLETED, FX(EMIT_STATUS_CHANGED))      \
    T(PARTIALLY_REFUNDED, AUTO_COMPLETE, PAST_DEADLINE, COMPLETED,                    \
      FX(EMIT_STATUS_CHANGED))

ORDERLY__DEFINE_MACHINE(orderly__order_machine, ORDERLY_MACHINE_ORDER, "order", PENDING,
                        RETURNED_TO_ORIGIN, RETURNED_TO_ORIGIN);
