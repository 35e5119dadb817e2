/* Outbound event types, the topic each goes to and what each carries;
 * persisted, pinned. doc/events/ holds the JSON Schema of each. */
#include <stdio.h>

#include "events.h"
#include "orderly/compensation.h"
#include "orderly/machine.h"
#include "orderly/outbox.h"
#include "orderly/payment.h"

#define L(x) ORDERLY__EVL_##x

#define M(x) ORDERLY_MACHINE_##x

static const struct {
    const char *type;
    int topic;
    unsigned char lines;      /* ORDERLY__EVL_* */
    unsigned char currency;   /* carries the order's currency beside its amount */
    unsigned char machine;    /* the machine whose part data.machine names */
    const char *consumer;     /* who acts on it, and what it gives them (doc/events.md) */
} kinds[ORDERLY__EV_KIND_LIMIT] = {
    [ORDERLY__EV_ORDER_STATUS] = { "order.status_changed", ORDERLY_TOPIC_ORDER, L(ALL), 1, M(ORDER),
        "storefront, notifications, analytics: the order's new state with its lines" },
    [ORDERLY__EV_ORDER_CANCELLED] = { "order.cancelled", ORDERLY_TOPIC_ORDER, L(ALL), 1, M(ORDER),
        "carrier, promotions, loyalty, warehouse: stop everything for these lines" },
    [ORDERLY__EV_PAYMENT_STATUS] = { "payment.status_changed", ORDERLY_TOPIC_PAYMENT, L(NONE), 1,
        M(PAYMENT), "finance, analytics: the payment's new state and amount" },
    [ORDERLY__EV_PAYMENT_CONFIRMED] = { "payment.confirmed", ORDERLY_TOPIC_PAYMENT, L(NONE), 1,
        M(PAYMENT), "finance, storefront: the authorized amount" },
    [ORDERLY__EV_PAYMENT_FAILED] = { "payment.failed", ORDERLY_TOPIC_PAYMENT, L(NONE), 1, M(PAYMENT),
        "storefront, notifications, finance: the payment was declined, a COD order lapsed or its "
        "cash was never collected, or an authorization expired after the order shipped" },
    [ORDERLY__EV_PAYMENT_CAPTURED] = { "payment.captured", ORDERLY_TOPIC_PAYMENT, L(NONE), 1,
        M(PAYMENT), "finance, ledger: the captured amount" },
    [ORDERLY__EV_CAPTURE_REQUESTED] = { "orders.payment.capture_requested", ORDERLY_TOPIC_PAYMENT,
        L(NONE), 1, M(PAYMENT), "payment service: capture this amount (the stored one)" },
    [ORDERLY__EV_STOCK_COMMITTED] = { "inventory.stock.committed", ORDERLY_TOPIC_INVENTORY, L(ALL), 0,
        M(ORDER), "warehouse, inventory: place the hold for each line, SKU and quantity" },
    [ORDERLY__EV_RESERVATION_STATUS] = { "inventory.reservation.status_changed",
        ORDERLY_TOPIC_INVENTORY, L(STAGED), 0, M(RESERVATION),
        "inventory: the lines whose reservation moved together (confirmed, released, expired, fulfilled)" },
    [ORDERLY__EV_FULFILLMENT_STATUS] = { "fulfillment.status_changed", ORDERLY_TOPIC_FULFILLMENT,
        L(WAREHOUSE), 0, M(FULFILLMENT), "warehouse, storefront: the lines of this warehouse" },
    [ORDERLY__EV_SLA_BREACHED] = { "fulfillment.sla_breached", ORDERLY_TOPIC_FULFILLMENT,
        L(WAREHOUSE), 0, M(FULFILLMENT), "operations: the late warehouse and its lines" },
    [ORDERLY__EV_SHIPMENT_STATUS] = { "shipment.status_changed", ORDERLY_TOPIC_SHIPMENT,
        L(WAREHOUSE), 0, M(SHIPMENT), "carrier, notifications: the lines in this parcel" },
    [ORDERLY__EV_RETURN_STATUS] = { "return.status_changed", ORDERLY_TOPIC_RETURN, L(ALL), 1,
        M(RETURN), "returns desk, finance: the return's amount and the order's lines" },
    [ORDERLY__EV_REPLACEMENT_REQUESTED] = { "order.replacement_requested", ORDERLY_TOPIC_ORDER,
        L(RETURNED), 1, M(RETURN),
        "storefront: open replacement_id, the exchange's replacement order, for these lines" },
    [ORDERLY__EV_COMMAND] = { "orderly.command", ORDERLY_TOPIC_COMMANDS, L(NONE), 0, M(ORDER),
        "the host: orderly.command.<op>, an operation no in-process executor runs" },
    [ORDERLY__EV_CAPTURE_FAILED] = { "payment.capture_failed", ORDERLY_TOPIC_PAYMENT, L(NONE), 1,
        M(PAYMENT), "payment service, operations: the capture failed and will be retried or voided" },
    [ORDERLY__EV_PAYMENT_VOIDED] = { "payment.voided", ORDERLY_TOPIC_PAYMENT, L(NONE), 1, M(PAYMENT),
        "payment service, finance: void this authorized amount" },
    [ORDERLY__EV_PAYMENT_REFUNDED] = { "payment.refunded", ORDERLY_TOPIC_PAYMENT, L(NONE), 1,
        M(PAYMENT), "payment service, finance, ledger: refund this amount" },
    [ORDERLY__EV_DEADLINE] = { "orderly.deadline", ORDERLY_TOPIC_COMMANDS, L(NONE), 0, M(ORDER),
        "the host: a replica's due deadline, typed as the command it fires, to append to the "
        "shared input log for every replica's handle_event" },
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

int orderly__event_names_replacement(int kind)
{
    return kind == ORDERLY__EV_REPLACEMENT_REQUESTED;
}

int orderly__event_machine(int kind)
{
    return known(kind) ? kinds[kind].machine : 0;
}

int orderly__event_owner(int kind)
{
    return known(kind) ? kinds[kind].machine : 0;
}

const char *orderly__event_type_of(int kind, int machine, int event, char *buf, size_t cap)
{
    const orderly_machine *m;
    const char *name;

    if (kind != ORDERLY__EV_DEADLINE)
        return orderly__event_type(kind);
    if (orderly_machine_by_id(&m, machine) < 0 ||
        (name = orderly_machine_event_name(m, event)) == NULL)
        return "orderly.unknown";
    snprintf(buf, cap, "%s.%s", orderly_machine_name(m), name);
    return buf;
}

const char *orderly__event_consumer(int kind)
{
    return known(kind) ? kinds[kind].consumer : "";
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
