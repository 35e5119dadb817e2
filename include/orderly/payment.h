/*
 * orderly/payment.h - the payment machine: one payment per order: card authorize-then-capture or cash on delivery.
 *
 * State and event ids. Values are persisted and pinned forever; new ones
 * are only appended. Query the machine through orderly/machine.h with
 * ORDERLY_MACHINE_PAYMENT; doc/machines/payment.md shows its diagram.
 */
#ifndef ORDERLY_PAYMENT_H
#define ORDERLY_PAYMENT_H

#include "machine.h"

ORDERLY_BEGIN_DECLS

typedef enum orderly_payment_state {
    ORDERLY_PAYMENT_PENDING               = 1,
    ORDERLY_PAYMENT_AUTHORIZED            = 2,
    ORDERLY_PAYMENT_CAPTURE_REQUESTED     = 3,
    ORDERLY_PAYMENT_CAPTURED              = 4,
    ORDERLY_PAYMENT_CAPTURE_FAILED        = 5,
    ORDERLY_PAYMENT_AUTHORIZATION_EXPIRED = 6,
    ORDERLY_PAYMENT_VOIDED                = 7,
    ORDERLY_PAYMENT_PARTIALLY_REFUNDED    = 8,
    ORDERLY_PAYMENT_REFUNDED              = 9,
    ORDERLY_PAYMENT_FAILED                = 10,
    ORDERLY_PAYMENT_COD_PENDING           = 11,
    ORDERLY_PAYMENT_COD_CONFIRMED         = 12,
    ORDERLY_PAYMENT_COD_CANCELLED         = 13,
    ORDERLY_PAYMENT_COD_UNCOLLECTED       = 14  /* the carrier never reported the cash collected */
} orderly_payment_state;

typedef enum orderly_payment_event {
    ORDERLY_PAYMENT_EV_AUTHORIZE             = 4,
    ORDERLY_PAYMENT_EV_DECLINE               = 5,
    ORDERLY_PAYMENT_EV_REQUEST_CAPTURE       = 6,
    ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED     = 7,
    ORDERLY_PAYMENT_EV_CAPTURE_FAILED        = 8,
    ORDERLY_PAYMENT_EV_RETRY_CAPTURE         = 9,
    ORDERLY_PAYMENT_EV_AUTHORIZATION_EXPIRED = 10,
    ORDERLY_PAYMENT_EV_VOID                  = 11,
    ORDERLY_PAYMENT_EV_REFUND                = 12,
    ORDERLY_PAYMENT_EV_SELECT_COD            = 13,
    ORDERLY_PAYMENT_EV_COD_CONFIRM           = 14,
    ORDERLY_PAYMENT_EV_COD_WINDOW_ELAPSED    = 15,
    ORDERLY_PAYMENT_EV_COD_COLLECTED         = 16,
    ORDERLY_PAYMENT_EV_COD_CANCEL            = 17,
    ORDERLY_PAYMENT_EV_ABANDON               = 18, /* engine: the order ended before it was paid */
    ORDERLY_PAYMENT_EV_COLLECTION_OVERDUE    = 19  /* timer: COD cash not collected in time */
} orderly_payment_event;

ORDERLY_END_DECLS

#endif
