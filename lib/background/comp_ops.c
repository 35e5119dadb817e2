#include <stdint.h>

#include "orderly/compensation.h"
#include "orderly/errors.h"
#include "orderly/machine.h"

static const char *const names[] = {
    [ORDERLY_OP_RELEASE_RESERVATIONS] = "release_reservations",
    [ORDERLY_OP_VOID_AUTHORIZATION] = "void_authorization",
    [ORDERLY_OP_REFUND] = "refund",
    [ORDERLY_OP_CAPTURE] = "capture_retry",
    [ORDERLY_OP_RESTOCK] = "restock",
    [ORDERLY_OP_REVERT_PROMOTION] = "revert_promotion",
    [ORDERLY_OP_RESTORE_LOYALTY] = "restore_loyalty_points",
    [ORDERLY_OP_CANCEL_SHIPMENT] = "cancel_shipment",
    [ORDERLY_OP_CANCEL_COD_CLAIM] = "cancel_cod_claim",
    [ORDERLY_OP_RESHIP] = "reship",
};

/*
 * Declared attempt limits. The policy's operation_max_attempts (default 8) caps
 * them all, so at the default policy only a limit below 8 changes anything;
 * a host that raises the cap lets the ops that owe something keep trying
 * longer than those whose window closes by itself.
 */
static const uint32_t attempts[] = {
    /* stock held for nobody, money owed to the customer: worth a long retry */
    [ORDERLY_OP_RELEASE_RESERVATIONS] = 24,
    [ORDERLY_OP_REFUND] = 24,
    [ORDERLY_OP_RESTOCK] = 24,
    /* bookkeeping the customer sees, but no money or stock */
    [ORDERLY_OP_REVERT_PROMOTION] = 12,
    [ORDERLY_OP_RESTORE_LOYALTY] = 12,
    /* the window closes by itself: an authorization lapses (void, capture),
     * a carrier collects the parcel, a COD claim is settled at the door */
    [ORDERLY_OP_VOID_AUTHORIZATION] = 8,
    [ORDERLY_OP_CAPTURE] = 8,
    [ORDERLY_OP_CANCEL_SHIPMENT] = 8,
    [ORDERLY_OP_CANCEL_COD_CLAIM] = 8,
    /* the customer waits for the goods they paid for */
    [ORDERLY_OP_RESHIP] = 24,
};

_Static_assert(sizeof attempts / sizeof attempts[0] == sizeof names / sizeof names[0],
               "every op declares its attempt limit");

uint32_t orderly_op_default_attempts(int op)
{
    if (op <= 0 || op >= (int)(sizeof attempts / sizeof attempts[0]))
        return 0;
    return attempts[op];
}

const char *orderly_op_name(int op)
{
    if (op >= ORDERLY_OP_HOST)
        return "host";
    if (op <= 0 || op >= (int)(sizeof names / sizeof names[0]))
        return NULL;
    return names[op];
}

/* Who owns each op among replicas: the machine whose service talks to the
 * outside system the op calls (the warehouse, the payment provider, the
 * carrier); bookkeeping on the customer's account is the order's. */
static const unsigned char owners[] = {
    [ORDERLY_OP_RELEASE_RESERVATIONS] = ORDERLY_MACHINE_RESERVATION,
    [ORDERLY_OP_VOID_AUTHORIZATION] = ORDERLY_MACHINE_PAYMENT,
    [ORDERLY_OP_REFUND] = ORDERLY_MACHINE_PAYMENT,
    [ORDERLY_OP_CAPTURE] = ORDERLY_MACHINE_PAYMENT,
    [ORDERLY_OP_RESTOCK] = ORDERLY_MACHINE_RESERVATION,
    [ORDERLY_OP_REVERT_PROMOTION] = ORDERLY_MACHINE_ORDER,
    [ORDERLY_OP_RESTORE_LOYALTY] = ORDERLY_MACHINE_ORDER,
    [ORDERLY_OP_CANCEL_SHIPMENT] = ORDERLY_MACHINE_SHIPMENT,
    [ORDERLY_OP_CANCEL_COD_CLAIM] = ORDERLY_MACHINE_SHIPMENT,
    [ORDERLY_OP_RESHIP] = ORDERLY_MACHINE_SHIPMENT,
};

_Static_assert(sizeof owners / sizeof owners[0] == sizeof names / sizeof names[0],
               "every op declares its owner");

int orderly_op_machine(int op)
{
    if (op >= ORDERLY_OP_HOST)
        return ORDERLY_MACHINE_ORDER;
    if (op <= 0 || op >= (int)(sizeof owners / sizeof owners[0]))
        return ORDERLY_EINVAL;
    return owners[op];
}
