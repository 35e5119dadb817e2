/*
 * The order aggregate: one order with its payment, reservations,
 * fulfillments, shipments and returns, stored as one versioned record in a
 * compact binary form (format byte first, varints after).
 */
#ifndef ORDERLY_ENGINE_AGGREGATE_H
#define ORDERLY_ENGINE_AGGREGATE_H

#include "orderly/engine.h"

/* 3 appended the per-line quantities and a return's lines; 2 appended
 * released_at; both older formats are still read */
#define ORDERLY__AGG_FORMAT 3
#define ORDERLY__AGG_MAX_BYTES 4096   /* an encoded aggregate always fits */

/* The operations an order records at most once, whichever part or path
 * asks for them: bits of orderly__agg.once_ops, persisted and pinned. */
enum {
    ORDERLY__ONCE_VOID_AUTHORIZATION = 1,
    ORDERLY__ONCE_REVERT_PROMOTION = 2,
    ORDERLY__ONCE_RESTORE_LOYALTY = 4,
    ORDERLY__ONCE_CANCEL_COD_CLAIM = 8,
    ORDERLY__ONCE_OPS_ALL = 15
};

struct orderly__line {
    uint64_t sku;
    uint32_t warehouse;
    uint32_t quantity;
    int64_t unit_price;
    uint8_t state;                 /* reservation state */
    orderly_time_ms since;
    /* Where the line's units are, counted as the parts move. Each is
     * bounded by the one before it (orderly__check_invariants):
     * shipped <= quantity; delivered + lost + back <= shipped;
     * returned <= delivered; restocked <= returned + back. */
    uint32_t shipped;              /* left the warehouse, in shipment `shipment` */
    uint32_t delivered;            /* its shipment was delivered */
    uint32_t lost;                 /* its shipment was lost */
    uint32_t back;                 /* its shipment came back to origin undelivered */
    uint32_t returned;             /* received back by returns not rejected */
    uint32_t restocked;            /* put back into stock by a restock operation */
    uint8_t shipment;              /* the shipment that carries it, when shipped */
    int64_t refunded;              /* the share of the order's refunds given for it */
};

struct orderly__part {
    uint8_t state;
    uint8_t fulfillment;           /* shipments: which fulfillment they carry */
    uint8_t exchange;              /* returns */
    uint32_t warehouse;
    int64_t amount;                /* returns */
    orderly_time_ms since;
    uint32_t lines;                /* returns: bit per order line it names */
    uint32_t qty[ORDERLY_LINES_MAX]; /* returns: units of each named line */
    uint8_t claim;                 /* shipments: their claim's state; 0 = none opened */
    orderly_time_ms claim_since;
};

struct orderly__agg {
    char id[ORDERLY_ID_MAX + 1];
    char currency[4];
    uint8_t order_state;
    uint8_t payment_state;
    uint8_t method;
    uint8_t has_promotion;
    uint8_t settle_on_capture;     /* cancelled while a capture was in flight */
    uint8_t once_ops;              /* ORDERLY__ONCE_* already recorded */
    uint8_t n_lines, n_ful, n_ship, n_ret;
    int64_t total, authorized, captured, refunded, loyalty_points;
    orderly_time_ms created, order_since, payment_since, authorized_at;
    orderly_time_ms released_at;   /* fulfillments released (order confirmed): their SLA start */
    uint32_t event_seq;            /* outbox events produced so far */
    uint32_t op_seq;           /* operations recorded so far */
    struct orderly__line lines[ORDERLY_LINES_MAX];
    struct orderly__part ful[ORDERLY_PARTS_MAX];
    struct orderly__part ship[ORDERLY_PARTS_MAX];
    struct orderly__part ret[ORDERLY_PARTS_MAX];
    char replacement_of[ORDERLY_ID_MAX + 1]; /* the order an exchange of it replaces, or "" */
};

/* Gives amount of refund to a's lines: first to the units first[i] names
 * of each line i (first may be NULL), then to every line in order, each
 * up to what it was bought for less what it got. Returns what no line
 * could take (0 unless the order refunds more than it is worth). */
int64_t orderly__agg_spread_refund(struct orderly__agg *a, int64_t amount, const uint32_t *first);

/* Encodes a into buf (cap bytes, at least ORDERLY__AGG_MAX_BYTES); returns
 * the length, or 0 when cap is shorter or a holds more parts than allowed. */
size_t orderly__agg_encode(const struct orderly__agg *a, uint8_t *buf, size_t cap);
/* Decodes; ORDERLY_ESTORAGE for a corrupt or foreign record. */
int orderly__agg_decode(struct orderly__agg *a, const char *id, const uint8_t *p, size_t len);

#endif
