/*
 * orderly/claim.h - the claim machine: what the merchant does about a parcel the carrier lost.
 *
 * A lost shipment opens a claim of the same index (claim i is shipment i's).
 * The claim is resolved once, by refunding the parcel's units or by asking
 * the host to reship them, never both, and is then closed. Which resolution
 * runs is the engine's policy (orderly_policy.claim_resolution): the engine
 * resolves the claim as it opens, or leaves it opened for the host to send
 * `refund` or `reship`. State and event ids are persisted and pinned
 * forever; new ones are only appended. Query the machine through
 * orderly/machine.h with ORDERLY_MACHINE_CLAIM; doc/machines/claim.md shows
 * its diagram.
 */
#ifndef ORDERLY_CLAIM_H
#define ORDERLY_CLAIM_H

#include "machine.h"

ORDERLY_BEGIN_DECLS

typedef enum orderly_claim_state {
    ORDERLY_CLAIM_OPENED     = 1,
    ORDERLY_CLAIM_REFUNDED   = 2,
    ORDERLY_CLAIM_RESHIPPING = 3,
    ORDERLY_CLAIM_CLOSED     = 4
} orderly_claim_state;

typedef enum orderly_claim_event {
    ORDERLY_CLAIM_EV_REFUND = 4,
    ORDERLY_CLAIM_EV_RESHIP = 5,
    ORDERLY_CLAIM_EV_CLOSE  = 6
} orderly_claim_event;

/* orderly_policy.claim_resolution: how a claim opened by a lost parcel is
 * resolved. */
typedef enum orderly_claim_resolution {
    ORDERLY_CLAIM_BY_REFUND = 1, /* the engine refunds the parcel's units (the default) */
    ORDERLY_CLAIM_BY_RESHIP = 2, /* the engine records a `reship` operation for them */
    ORDERLY_CLAIM_BY_HOST   = 3  /* the claim stays opened until the host sends refund or reship */
} orderly_claim_resolution;

ORDERLY_END_DECLS

#endif
