/* Outbound event types and the topic each goes to; persisted, pinned. */
#include "events.h"
#include "orderly/outbox.h"

static const struct {
    const char *type;
    int topic;
} kinds[ORDERLY__EV_KIND_LIMIT] = {
    [ORDERLY__EV_ORDER_STATUS] = { "order.status_changed", ORDERLY_TOPIC_ORDER },
    [ORDERLY__EV_ORDER_CANCELLED] = { "order.cancelled", ORDERLY_TOPIC_ORDER },
    [ORDERLY__EV_PAYMENT_STATUS] = { "payment.status_changed", ORDERLY_TOPIC_PAYMENT },
    [ORDERLY__EV_PAYMENT_CONFIRMED] = { "payment.confirmed", ORDERLY_TOPIC_PAYMENT },
    [ORDERLY__EV_PAYMENT_FAILED] = { "payment.failed", ORDERLY_TOPIC_PAYMENT },
    [ORDERLY__EV_PAYMENT_CAPTURED] = { "payment.captured", ORDERLY_TOPIC_PAYMENT },
    [ORDERLY__EV_CAPTURE_REQUESTED] = { "orders.payment.capture_requested", ORDERLY_TOPIC_PAYMENT },
    [ORDERLY__EV_STOCK_COMMITTED] = { "inventory.stock.committed", ORDERLY_TOPIC_INVENTORY },
    [ORDERLY__EV_RESERVATION_STATUS] = { "inventory.reservation.status_changed", ORDERLY_TOPIC_INVENTORY },
    [ORDERLY__EV_FULFILLMENT_STATUS] = { "fulfillment.status_changed", ORDERLY_TOPIC_FULFILLMENT },
    [ORDERLY__EV_SLA_BREACHED] = { "fulfillment.sla_breached", ORDERLY_TOPIC_FULFILLMENT },
    [ORDERLY__EV_SHIPMENT_STATUS] = { "shipment.status_changed", ORDERLY_TOPIC_SHIPMENT },
    [ORDERLY__EV_RETURN_STATUS] = { "return.status_changed", ORDERLY_TOPIC_RETURN },
    [ORDERLY__EV_REPLACEMENT_REQUESTED] = { "order.replacement_requested", ORDERLY_TOPIC_ORDER },
    [ORDERLY__EV_COMMAND] = { "orderly.command", ORDERLY_TOPIC_COMMANDS },
};

const char *orderly__event_type(int kind)
{
    return kind > 0 && kind < ORDERLY__EV_KIND_LIMIT ? kinds[kind].type : "orderly.unknown";
}

int orderly__event_topic(int kind)
{
    return kind > 0 && kind < ORDERLY__EV_KIND_LIMIT ? kinds[kind].topic : ORDERLY_TOPIC_COMMANDS;
}
