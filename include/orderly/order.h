/*
 * orderly/order.h - the order machine: the order aggregate: one per customer order.
 *
 * State and event ids. Values are persisted and pinned forever; new ones
 * are only appended. Query the machine through orderly/machine.h with
 * ORDERLY_MACHINE_ORDER; doc/machines/order.md shows its diagram.
 */
#ifndef ORDERLY_ORDER_H
#define ORDERLY_ORDER_H

#include "machine.h"

ORDERLY_BEGIN_DECLS

typedef enum orderly_order_state {
    ORDERLY_ORDER_PENDING            = 1,
    ORDERLY_ORDER_CONFIRMED          = 2,
    ORDERLY_ORDER_PROCESSING         = 3,
    ORDERLY_ORDER_PARTIALLY_SHIPPED  = 4,
    ORDERLY_ORDER_SHIPPED            = 5,
    ORDERLY_ORDER_DELIVERED          = 6,
    ORDERLY_ORDER_COMPLETED          = 7,
    ORDERLY_ORDER_CANCELLED          = 8,
    ORDERLY_ORDER_FAILED             = 9,
    ORDERLY_ORDER_PARTIALLY_REFUNDED = 10,
    ORDERLY_ORDER_REFUNDED           = 11,
    ORDERLY_ORDER_RETURNED_TO_ORIGIN = 12
} orderly_order_state;

typedef enum orderly_order_event {
    ORDERLY_ORDER_EV_PAYMENT_CONFIRMED     = 4,
    ORDERLY_ORDER_EV_PAYMENT_FAILED        = 5,
    ORDERLY_ORDER_EV_CANCEL                = 6,
    ORDERLY_ORDER_EV_RESERVATION_EXPIRED   = 7,
    ORDERLY_ORDER_EV_ABANDONED             = 8,
    ORDERLY_ORDER_EV_FULFILLMENT_STARTED   = 9,
    ORDERLY_ORDER_EV_FULFILLMENT_SHIPPED   = 10,
    ORDERLY_ORDER_EV_FULFILLMENT_CANCELLED = 11,
    ORDERLY_ORDER_EV_DELIVERED             = 12,
    ORDERLY_ORDER_EV_AUTO_COMPLETE         = 13,
    ORDERLY_ORDER_EV_COMPLETE              = 14,
    ORDERLY_ORDER_EV_REFUNDED              = 15,
    ORDERLY_ORDER_EV_RETURNED_TO_ORIGIN    = 16
} orderly_order_event;

ORDERLY_END_DECLS

#endif
