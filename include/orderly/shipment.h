/*
 * orderly/shipment.h - the shipment machine: one parcel with a carrier, including delivery failure and return to origin.
 *
 * State and event ids. Values are persisted and pinned forever; new ones
 * are only appended. Query the machine through orderly/machine.h with
 * ORDERLY_MACHINE_SHIPMENT; doc/machines/shipment.md shows its diagram.
 */
#ifndef ORDERLY_SHIPMENT_H
#define ORDERLY_SHIPMENT_H

#include "machine.h"

ORDERLY_BEGIN_DECLS

typedef enum orderly_shipment_state {
    ORDERLY_SHIPMENT_CREATED            = 1,
    ORDERLY_SHIPMENT_IN_TRANSIT         = 2,
    ORDERLY_SHIPMENT_DELIVERED          = 3,
    ORDERLY_SHIPMENT_CANCELLED          = 4,
    ORDERLY_SHIPMENT_LOST               = 5,
    ORDERLY_SHIPMENT_DELIVERY_FAILED    = 6,
    ORDERLY_SHIPMENT_RETURNED_TO_ORIGIN = 7
} orderly_shipment_state;

typedef enum orderly_shipment_event {
    ORDERLY_SHIPMENT_EV_PICK_UP          = 4,
    ORDERLY_SHIPMENT_EV_DELIVER          = 5,
    ORDERLY_SHIPMENT_EV_CANCEL           = 6,
    ORDERLY_SHIPMENT_EV_LOSE             = 7,
    ORDERLY_SHIPMENT_EV_FAIL_DELIVERY    = 8,
    ORDERLY_SHIPMENT_EV_RETRY_DELIVERY   = 9,
    ORDERLY_SHIPMENT_EV_RETURN_TO_ORIGIN = 10
} orderly_shipment_event;

ORDERLY_END_DECLS

#endif
