/*
 * orderly/return.h - the return machine: a customer return or exchange.
 *
 * State and event ids. Values are persisted and pinned forever; new ones
 * are only appended. Query the machine through orderly/machine.h with
 * ORDERLY_MACHINE_RETURN; doc/machines/return.md shows its diagram.
 */
#ifndef ORDERLY_RETURN_H
#define ORDERLY_RETURN_H

#include "machine.h"

ORDERLY_BEGIN_DECLS

typedef enum orderly_return_state {
    ORDERLY_RETURN_REQUESTED = 1,
    ORDERLY_RETURN_APPROVED  = 2,
    ORDERLY_RETURN_REJECTED  = 3,
    ORDERLY_RETURN_RECEIVED  = 4,
    ORDERLY_RETURN_INSPECTED = 5,
    ORDERLY_RETURN_REFUNDED  = 6,
    ORDERLY_RETURN_COMPLETED = 7,
    ORDERLY_RETURN_CANCELLED = 8
} orderly_return_state;

typedef enum orderly_return_event {
    ORDERLY_RETURN_EV_APPROVE  = 4,
    ORDERLY_RETURN_EV_REJECT   = 5,
    ORDERLY_RETURN_EV_RECEIVE  = 6,
    ORDERLY_RETURN_EV_INSPECT  = 7,
    ORDERLY_RETURN_EV_REFUND   = 8,
    ORDERLY_RETURN_EV_COMPLETE = 9,
    ORDERLY_RETURN_EV_EXCHANGE = 10,
    ORDERLY_RETURN_EV_CANCEL   = 11
} orderly_return_event;

ORDERLY_END_DECLS

#endif
