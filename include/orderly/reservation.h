/*
 * orderly/reservation.h - the reservation machine: stock held for one order line in one warehouse, always with a TTL.
 *
 * State and event ids. Values are persisted and pinned forever; new ones
 * are only appended. Query the machine through orderly/machine.h with
 * ORDERLY_MACHINE_RESERVATION; doc/machines/reservation.md shows its diagram.
 */
#ifndef ORDERLY_RESERVATION_H
#define ORDERLY_RESERVATION_H

#include "machine.h"

ORDERLY_BEGIN_DECLS

typedef enum orderly_reservation_state {
    ORDERLY_RESERVATION_ACTIVE    = 1,
    ORDERLY_RESERVATION_CONFIRMED = 2,
    ORDERLY_RESERVATION_FULFILLED = 3,
    ORDERLY_RESERVATION_RELEASED  = 4,
    ORDERLY_RESERVATION_EXPIRED   = 5
} orderly_reservation_state;

typedef enum orderly_reservation_event {
    ORDERLY_RESERVATION_EV_CONFIRM = 4,
    ORDERLY_RESERVATION_EV_RELEASE = 5,
    ORDERLY_RESERVATION_EV_EXPIRE  = 6,
    ORDERLY_RESERVATION_EV_FULFILL = 7
} orderly_reservation_event;

ORDERLY_END_DECLS

#endif
