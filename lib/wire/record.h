/*
 * The binary payloads of queue rows: an outbox event (encoded to a
 * CloudEvents envelope only when published), a timer and an operation
 * operation. Format byte first; persisted, so changes append fields.
 */
#ifndef ORDERLY_WIRE_RECORD_H
#define ORDERLY_WIRE_RECORD_H

#include "../base/ids.h"
#include "events.h"
#include "orderly/engine.h"

/* A record without lines (a timer) always fits this; one with lines
 * needs orderly__event_rec_max / orderly__operation_rec_max bytes. */
#define ORDERLY__RECORD_MAX 768

/*
 * An outbox event stores its sequence number within the order, not its id:
 * the id is XXH3-128 of (type, "<order id>/<seq>"), a function of what the
 * row holds, so it is derived where it is read (16 bytes less per row, and
 * no hash on the command path). Decoding fills id.
 */
/* A line as an event carries it: what it is, where it is, how much. */
struct orderly__event_line {
    uint32_t line;               /* its position in the order */
    uint64_t sku;
    uint32_t warehouse;
    uint32_t quantity;
    int64_t unit_price;
};

/*
 * The payload is a snapshot taken when the command commits (format 3):
 * the lines and currency are copied from the aggregate into the row, so
 * publishing reads only the row and a later change to the order never
 * changes an event already staged. Format 2 rows (before lines) still
 * decode, with no lines and no currency.
 *
 * A deadline command (ORDERLY__EV_DEADLINE) is no event of the order: seq
 * is 0, machine/event/index name the command, from holds the timer kind
 * and amount the id of the timer row it stands for, from which its id is
 * derived (orderly__deadline_id).
 */
struct orderly__event_rec {
    uint32_t seq;                /* the order's event_seq when it was staged */
    uint8_t id[16];              /* derived on decode */
    uint8_t machine, from, to, event;
    uint32_t index;              /* the part; a reservation's is its line */
    int64_t amount;
    orderly_time_ms time;
    char trace[ORDERLY__TRACE_LEN + 1]; /* traceparent, "" when none came in */
    char currency[4];            /* ISO 4217, "" for events that carry no money */
    uint8_t schema;              /* set on decode: the schemaversion its payload follows */
    uint32_t n_lines;
    /* caller memory for cap_lines lines: decoding a record of more is
     * ORDERLY_ENOTSUPPORTED (an order over this engine's max_lines) */
    uint32_t cap_lines;
    struct orderly__event_line *lines;
};

struct orderly__timer_rec {
    char order_id[ORDERLY_ID_MAX + 1];
    uint8_t timer, machine, event;
    uint32_t index;
};

struct orderly__operation_rec {
    char order_id[ORDERLY_ID_MAX + 1];
    uint8_t key[16];             /* the operation's idempotency key */
    uint8_t op;
    uint32_t index;
    uint32_t lines;              /* a bit for each of the first 32 lines it touches (kept
                                  * for rows written before lines were listed; unused) */
    int64_t amount;
    /* what the operation touches, copied so replay never re-reads state;
     * caller memory for cap_lines lines, as in orderly__event_rec */
    uint32_t n_lines, cap_lines;
    uint64_t *sku;
    uint32_t *warehouse;
    uint32_t *quantity;
};

/* The longest encodings of records of n_lines lines */
size_t orderly__event_rec_max(uint32_t n_lines);
size_t orderly__operation_rec_max(uint32_t n_lines);
/* The longest payload the core writes to any queue */
size_t orderly__record_max_any(void);

/* Encoders write into buf and return the length, or 0 for a buffer
 * shorter than the record's *_max (ORDERLY__RECORD_MAX for a timer) or a
 * field out of range. id is not written: decoding derives it. Decoders
 * keep the caller's line memory (lines, cap_lines) and zero the rest. */
size_t orderly__event_rec_encode(const struct orderly__event_rec *r, uint8_t *buf, size_t cap);
/* Decodes the payload of an outbox row of kind whose group is order_id. */
int orderly__event_rec_decode(struct orderly__event_rec *r, uint32_t kind, const char *order_id,
                              const uint8_t *p, size_t len);
size_t orderly__timer_rec_encode(const struct orderly__timer_rec *r, uint8_t *buf, size_t cap);
int orderly__timer_rec_decode(struct orderly__timer_rec *r, const uint8_t *p, size_t len);
size_t orderly__operation_rec_encode(const struct orderly__operation_rec *r, uint8_t *buf, size_t cap);
int orderly__operation_rec_decode(struct orderly__operation_rec *r, const uint8_t *p, size_t len);

#endif
