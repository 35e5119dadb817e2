/* Outbound event types, the topic each goes to and what each carries;
 * persisted, pinned. doc/events/ holds the JSON Schema of each. */
#include "events.h"
#include "orderly/compensation.h"
#include "orderly/machine.h"
#include "orderly/outbox.h"
#include "orderly/payment.h"

#define L(x) ORDERLY__EVL_##x

static const struct {
    const char *type;
    int topic;
    unsigned char lines;      /* ORDERLY__EVL_* */
    unsigned char currency;   /* carries the order's currency beside its amount */
} kinds[ORDERLY__EV_KIND_LIMIT] = {
    [ORDERLY__EV_ORDER_STATUS] = { "order.status_changed", ORDERLY_TOPIC_ORDER, L(ALL), 1 },
    [ORDERLY__EV_ORDER_CANCELLED] = { "order.cancelled", ORDERLY_TOPIC_ORDER, L(ALL), 1 },
    [ORDERLY__EV_PAYMENT_STATUS] = { "payment.status_changed", ORDERLY_TOPIC_PAYMENT, L(NONE), 1 },
    [ORDERLY__EV_PAYMENT_CONFIRMED] = { "payment.confirmed", ORDERLY_TOPIC_PAYMENT, L(NONE), 1 },
    [ORDERLY__EV_PAYMENT_FAILED] = { "payment.failed", ORDERLY_TOPIC_PAYMENT, L(NONE), 1 },
    [ORDERLY__EV_PAYMENT_CAPTURED] = { "payment.captured", ORDERLY_TOPIC_PAYMENT, L(NONE), 1 },
    [ORDERLY__EV_CAPTURE_REQUESTED] = { "orders.payment.capture_requested", ORDERLY_TOPIC_PAYMENT,
                                        L(NONE), 1 },
    [ORDERLY__EV_STOCK_COMMITTED] = { "inventory.stock.committed", ORDERLY_TOPIC_INVENTORY, L(ALL), 0 },
    [ORDERLY__EV_RESERVATION_STATUS] = { "inventory.reservation.status_changed",
                                         ORDERLY_TOPIC_INVENTORY, L(STAGED), 0 },
    [ORDERLY__EV_FULFILLMENT_STATUS] = { "fulfillment.status_changed", ORDERLY_TOPIC_FULFILLMENT,
                                         L(WAREHOUSE), 0 },
    [ORDERLY__EV_SLA_BREACHED] = { "fulfillment.sla_breached", ORDERLY_TOPIC_FULFILLMENT,
                                   L(WAREHOUSE), 0 },
    [ORDERLY__EV_SHIPMENT_STATUS] = { "shipment.status_changed", ORDERLY_TOPIC_SHIPMENT,
                                      L(WAREHOUSE), 0 },
    [ORDERLY__EV_RETURN_STATUS] = { "return.status_changed", ORDERLY_TOPIC_RETURN, L(ALL), 1 },
    [ORDERLY__EV_REPLACEMENT_REQUESTED] = { "order.replacement_requested", ORDERLY_TOPIC_ORDER,
                                            L(ALL), 1 },
    [ORDERLY__EV_COMMAND] = { "orderly.command", ORDERLY_TOPIC_COMMANDS, L(NONE), 0 },
    [ORDERLY__EV_CAPTURE_FAILED] = { "payment.capture_failed", ORDERLY_TOPIC_PAYMENT, L(NONE), 1 },
    [ORDERLY__EV_PAYMENT_VOIDED] = { "payment.voided", ORDERLY_TOPIC_PAYMENT, L(NONE), 1 },
    [ORDERLY__EV_PAYMENT_REFUNDED] = { "payment.refunded", ORDERLY_TOPIC_PAYMENT, L(NONE), 1 },
};

static int known(int kind)
{
    return kind > 0 && kind < ORDERLY__EV_KIND_LIMIT && kinds[kind].type != NULL;
}

const char *orderly__event_type(int kind)
{
    return known(kind) ? kinds[kind].type : "orderly.unknown";
}

int orderly__event_topic(int kind)
{
    return known(kind) ? kinds[kind].topic : ORDERLY_TOPIC_COMMANDS;
}

int orderly__event_lines_of(int kind)
{
    return known(kind) ? kinds[kind].lines : ORDERLY__EVL_NONE;
}

int orderly__event_has_currency(int kind)
{
    return known(kind) ? kinds[kind].currency : 0;
}

int orderly__event_refine(int kind, int machine, int to)
{
    if (kind == ORDERLY__EV_PAYMENT_FAILED && machine == ORDERLY_MACHINE_PAYMENT &&
        to == ORDERLY_PAYMENT_CAPTURE_FAILED)
        return ORDERLY__EV_CAPTURE_FAILED;
    return kind;
}

int orderly__event_of_op(int op)
{
    switch (op) {
    case ORDERLY_OP_VOID_AUTHORIZATION:
        return ORDERLY__EV_PAYMENT_VOIDED;
    case ORDERLY_OP_REFUND:
        return ORDERLY__EV_PAYMENT_REFUNDED;
    default:
        return 0;
    }
}
