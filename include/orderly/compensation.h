/*
 * orderly/compensation.h - operations and their one retry path.
 *
 * Every call to the outside a transition asks for (capture, void, refund,
 * release stock, restock, revert a promotion, restore loyalty points,
 * cancel a shipment or a COD claim) is recorded as a typed operation in the
 * operation queue, in the same transaction as the state change. Each
 * records exactly what it touches (which reservations, quantities,
 * amounts), so running it twice or late can never resurrect unrelated
 * state, and each carries a deterministic idempotency key for the
 * executor to pass on to the outside system. The key is derived from the
 * operation's cause (the order, and the part or count that caused it; see
 * doc/delivery.md), so a retried or replayed command records the same
 * key, and one cause never has two operations.
 */
#ifndef ORDERLY_COMPENSATION_H
#define ORDERLY_COMPENSATION_H

#include "common.h"

ORDERLY_BEGIN_DECLS

/* Operation types; values are persisted and pinned. Hosts define their own
 * from ORDERLY_OP_HOST upwards. */
typedef enum orderly_op {
    ORDERLY_OP_RELEASE_RESERVATIONS = 1,
    ORDERLY_OP_VOID_AUTHORIZATION   = 2,
    ORDERLY_OP_REFUND               = 3,
    ORDERLY_OP_CAPTURE              = 4,
    ORDERLY_OP_RESTOCK              = 5,
    ORDERLY_OP_REVERT_PROMOTION     = 6,
    ORDERLY_OP_RESTORE_LOYALTY      = 7,
    ORDERLY_OP_CANCEL_SHIPMENT      = 8,
    ORDERLY_OP_CANCEL_COD_CLAIM     = 9,
    ORDERLY_OP_RESHIP               = 10, /* send a lost parcel's lines again */
    ORDERLY_OP_HOST                 = 100
} orderly_op;

/* Static name of an op ("release_reservations"), "host" for host-defined
 * ones, NULL for unknown values below ORDERLY_OP_HOST. */
ORDERLY_API const char *orderly_op_name(int op);

/*
 * The attempt limit op declares (lib/background/comp_ops.c): 24 for the ops that owe
 * stock or money (release_reservations, refund, restock), 12 for
 * revert_promotion and restore_loyalty_points, 8 for those whose window
 * closes by itself (void_authorization, capture_retry, cancel_shipment,
 * cancel_cod_claim); 0 for host ops and unknown values, which have none.
 * An operation is parked once it has been tried min(declared limit,
 * policy.operation_max_attempts) times, or policy.operation_max_attempts times
 * when it declares none: the policy is the cap over every op.
 */
ORDERLY_API uint32_t orderly_op_default_attempts(int op);

/*
 * The machine (ORDERLY_MACHINE_*) that owns op: the one service whose
 * engine records it when engines are ORDERLY_ENGINE_REPLICA (each replica
 * records only the operations of the machines in its roles, so each runs
 * once). release_reservations and restock: reservation (the warehouse);
 * void_authorization, refund, capture_retry: payment; revert_promotion,
 * restore_loyalty_points: order; cancel_shipment, cancel_cod_claim,
 * reship: shipment (the carrier). Host-defined ops (ORDERLY_OP_HOST and
 * up) belong to the order: one owner, never every replica. ORDERLY_EINVAL
 * (negative) for an unknown op below ORDERLY_OP_HOST.
 */
ORDERLY_API int orderly_op_machine(int op);

ORDERLY_END_DECLS

#endif
