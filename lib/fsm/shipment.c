/*
 * The shipment machine. Cancelling asks the carrier exactly once: the
 * effect sits on the transition into a terminal state, so a redelivered
 * `order.cancelled` finds no row and is ignored as late. A failed delivery
 * is a real path: retry, or return to origin with restock, the COD claim
 * cancelled and the order closed.
 */
#include "orderly/shipment.h"
#include "table.h"

#define S(x) ORDERLY_SHIPMENT_##x
#define E(x) ORDERLY_SHIPMENT_EV_##x

#define STATES(X, F)                                           \
    X(CREATED,            "created",          1, NONE, ORDERLY__ST_BOOKED) \
    X(IN_TRANSIT,         "in_transit",       2, NONE, 0) \
    F(DELIVERED,          "delivered", ORDERLY__ST_DELIVERED) \
    F(CANCELLED,          "cancelled", ORDERLY__ST_BACK) \
    F(LOST,               "lost", ORDERLY__ST_LOST) \
    X(DELIVERY_FAILED,    "delivery_failed",  3, NONE, 0) \
    F(RETURNED_TO_ORIGIN, "returned_to_origin", ORDERLY__ST_BACK)

#define EVENTS(X, I)                             \
    X(PICK_UP,          "pick_up")               \
    X(DELIVER,          "deliver")               \
    X(CANCEL,           "cancel")                \
    X(LOSE,             "lose")                  \
    X(FAIL_DELIVERY,    "fail_delivery")         \
    X(RETRY_DELIVERY,   "retry_delivery")        \
    X(RETURN_TO_ORIGIN, "return_to_origin")

#define ROWS(T, A)                                                              \
    T(CREATED,    PICK_UP,  NONE, IN_TRANSIT, FX(EMIT_STATUS_CHANGED))          \
    T(CREATED,    CANCEL,   NONE, CANCELLED, FX(CANCEL_SHIPMENT, RESTOCK))      \
    T(IN_TRANSIT, DELIVER,  NONE, DELIVERED, FX(EMIT_STATUS_CHANGED, NOTIFY_ORDER)) \
    T(IN_TRANSIT, CANCEL,   NONE, CANCELLED, FX(CANCEL_SHIPMENT))               \
    T(IN_TRANSIT, LOSE,     NONE, LOST, FX(EMIT_STATUS_CHANGED, NOTIFY_ORDER))  \
    T(IN_TRANSIT, FAIL_DELIVERY, NONE, DELIVERY_FAILED, FX(EMIT_STATUS_CHANGED)) \
    T(DELIVERY_FAILED, RETRY_DELIVERY, NONE, IN_TRANSIT, FX(EMIT_STATUS_CHANGED)) \
    T(DELIVERY_FAILED, RETURN_TO_ORIGIN, NONE, RETURNED_TO_ORIGIN,              \
      FX(EMIT_STATUS_CHANGED, RESTOCK, NOTIFY_ORDER))

ORDERLY__DEFINE_MACHINE(orderly__shipment_machine, ORDERLY_MACHINE_SHIPMENT, "shipment",
                        CREATED, RETURNED_TO_ORIGIN, RETURN_TO_ORIGIN);
