#include "orderly/compensation.h"

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
};

const char *orderly_op_name(int op)
{
    if (op >= ORDERLY_OP_HOST)
        return "host";
    if (op <= 0 || op >= (int)(sizeof names / sizeof names[0]))
        return NULL;
    return names[op];
}
