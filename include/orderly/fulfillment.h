/*
 * orderly/fulfillment.h - the fulfillment machine: one per warehouse per order: pick, pack, ship.
 * It starts on hold and is released to its warehouse when the order is
 * confirmed (a card payment authorized, a COD order confirmed).
 *
 * State and event ids. Values are persisted and pinned forever; new ones
 * are only appended. Query the machine through orderly/machine.h with
 * ORDERLY_MACHINE_FULFILLMENT; doc/machines/fulfillment.md shows its diagram.
 */
#ifndef ORDERLY_FULFILLMENT_H
#define ORDERLY_FULFILLMENT_H

#include "machine.h"

ORDERLY_BEGIN_DECLS

typedef enum orderly_fulfillment_state {
    ORDERLY_FULFILLMENT_PENDING   = 1,
    ORDERLY_FULFILLMENT_PICKING   = 2,
    ORDERLY_FULFILLMENT_PICKED    = 3,
    ORDERLY_FULFILLMENT_PACKING   = 4,
    ORDERLY_FULFILLMENT_PACKED    = 5,
    ORDERLY_FULFILLMENT_SHIPPED   = 6,
    ORDERLY_FULFILLMENT_COMPLETED = 7,
    ORDERLY_FULFILLMENT_CANCELLED = 8,
    ORDERLY_FULFILLMENT_FAILED    = 9,
    ORDERLY_FULFILLMENT_ON_HOLD   = 10  /* initial: until the order is confirmed */
} orderly_fulfillment_state;

typedef enum orderly_fulfillment_event {
    ORDERLY_FULFILLMENT_EV_START_PICKING = 4,
    ORDERLY_FULFILLMENT_EV_PICKED        = 5,
    ORDERLY_FULFILLMENT_EV_START_PACKING = 6,
    ORDERLY_FULFILLMENT_EV_PACKED        = 7,
    ORDERLY_FULFILLMENT_EV_SHIP          = 8,
    ORDERLY_FULFILLMENT_EV_COMPLETE      = 9,
    ORDERLY_FULFILLMENT_EV_CANCEL        = 10,
    ORDERLY_FULFILLMENT_EV_FAIL          = 11,
    ORDERLY_FULFILLMENT_EV_SLA_BREACH    = 12,
    ORDERLY_FULFILLMENT_EV_RELEASE       = 13  /* fed by the order's confirmation */
} orderly_fulfillment_event;

ORDERLY_END_DECLS

#endif
