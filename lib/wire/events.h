/* The outbox event kinds: persisted ids, their CloudEvents types and topics
 * (internal). */
#ifndef ORDERLY_WIRE_EVENTS_H
#define ORDERLY_WIRE_EVENTS_H

#define ORDERLY__TRACE_LEN 55     /* W3C traceparent: 00-<32>-<16>-<2> */

/* Outbox event kinds; values are persisted and pinned. */
enum orderly__event_kind {
    ORDERLY__EV_ORDER_STATUS = 1,
    ORDERLY__EV_ORDER_CANCELLED = 2,
    ORDERLY__EV_PAYMENT_STATUS = 3,
    ORDERLY__EV_PAYMENT_CONFIRMED = 4,
    ORDERLY__EV_PAYMENT_FAILED = 5,
    ORDERLY__EV_PAYMENT_CAPTURED = 6,
    ORDERLY__EV_CAPTURE_REQUESTED = 7,
    ORDERLY__EV_STOCK_COMMITTED = 8,
    ORDERLY__EV_RESERVATION_STATUS = 9,
    ORDERLY__EV_FULFILLMENT_STATUS = 10,
    ORDERLY__EV_SLA_BREACHED = 11,
    ORDERLY__EV_SHIPMENT_STATUS = 12,
    ORDERLY__EV_RETURN_STATUS = 13,
    ORDERLY__EV_REPLACEMENT_REQUESTED = 14,
    ORDERLY__EV_COMMAND = 15,
    ORDERLY__EV_KIND_LIMIT
};

/* Type string and topic of an event kind. */
const char *orderly__event_type(int kind);
int orderly__event_topic(int kind);

#endif
