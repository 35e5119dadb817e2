/* The outbox event kinds: persisted ids, their CloudEvents types and topics
 * (internal). */
#ifndef ORDERLY_WIRE_EVENTS_H
#define ORDERLY_WIRE_EVENTS_H

#include <stddef.h>

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
    ORDERLY__EV_CAPTURE_FAILED = 16,
    ORDERLY__EV_PAYMENT_VOIDED = 17,
    ORDERLY__EV_PAYMENT_REFUNDED = 18,
    /* A due deadline as a command for every replica (ORDERLY_ENGINE_REPLICA):
     * written by the owner's tick, typed "<machine>.<event>" when published */
    ORDERLY__EV_DEADLINE = 19,
    ORDERLY__EV_KIND_LIMIT
};

/* Which of the order's lines an event of a kind carries, so its consumer
 * acts without calling back (doc/events.md). */
enum orderly__event_lines {
    ORDERLY__EVL_NONE = 0,     /* money events: amount and currency only */
    ORDERLY__EVL_ALL,          /* every line of the order */
    ORDERLY__EVL_WAREHOUSE,    /* the lines of the part's warehouse (fulfillment, shipment) */
    ORDERLY__EVL_STAGED,       /* the lines the command touched (reservations) */
    ORDERLY__EVL_RETURNED      /* the lines the return names, with its units of each */
};

/* Type string and topic of an event kind. */
const char *orderly__event_type(int kind);
int orderly__event_topic(int kind);
/* ORDERLY__EVL_* of a kind. */
int orderly__event_lines_of(int kind);
/* Whether events of kind carry the order's currency (money events). */
int orderly__event_has_currency(int kind);
/* Whether events of kind name the replacement order of their exchange
 * (data.replacement_id, orderly_replacement_id of the order and index). */
int orderly__event_names_replacement(int kind);
/* The machine an event of kind reports on (its data.machine). */
int orderly__event_machine(int kind);
/* The machine whose service appends events of kind to its outbox when
 * engines are replicas (ORDERLY_ENGINE_REPLICA): the machine column, so
 * each event is published once, by the service that owns what it reports. */
int orderly__event_owner(int kind);
/* The CloudEvents type of an event of kind about (machine, event): the
 * kind's type, or for ORDERLY__EV_DEADLINE "<machine>.<event>" written into
 * buf (cap bytes; "orderly.unknown" when they name nothing). */
const char *orderly__event_type_of(int kind, int machine, int event, char *buf, size_t cap);
/* One line on who consumes events of kind and what they act on. */
const char *orderly__event_consumer(int kind);
/* The kind a published event takes when its part enters state to of
 * machine: a capture failure is not a decline. */
int orderly__event_refine(int kind, int machine, int to);
/* The kind published beside operation op when it is recorded, or 0. */
int orderly__event_of_op(int op);

#endif
