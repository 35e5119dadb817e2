/*
 * The order aggregate: one order with its payment, reservations,
 * fulfillments, shipments and returns, stored as one versioned record in a
 * compact binary form (format byte first, varints after).
 */
#ifndef ORDERLY_ENGINE_AGGREGATE_H
#define ORDERLY_ENGINE_AGGREGATE_H

#include <string.h>

#include "orderly/engine.h"

/* 4 names a return's lines as a list (3 held a bit per line, so at most
 * 32); 3 appended the per-line quantities and a return's lines; 2 appended
 * released_at; every older format is still read */
#define ORDERLY__AGG_FORMAT 4

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

/* One line a return names and its units of it. */
struct orderly__ret_line {
    uint32_t line;
    uint32_t qty;
};

/* Lines the returns of one order may name in all, for an order of at most
 * max_lines lines: each line twice, and four more per return. */
#define ORDERLY__RET_LINES_CAP(max_lines) (2u * (max_lines) + 4u * ORDERLY_PARTS_MAX)

struct orderly__part {
    uint8_t state;
    uint8_t fulfillment;           /* shipments: which fulfillment they carry */
    uint8_t exchange;              /* returns */
    uint32_t warehouse;
    int64_t amount;                /* returns */
    orderly_time_ms since;
    /* returns: the lines it names are rlines[rl_first .. rl_first + rl_n)
     * of the order, in line order */
    uint32_t rl_first, rl_n;
    uint8_t claim;                 /* shipments: their claim's state; 0 = none opened */
    uint8_t written_off;           /* shipments: their claim refunded the units (kept once closed) */
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
    uint32_t n_lines;
    uint8_t n_ful, n_ship, n_ret;
    uint32_t n_rlines;             /* entries of rlines the returns use */
    int64_t total, authorized, captured, refunded, loyalty_points;
    orderly_time_ms created, order_since, payment_since, authorized_at;
    orderly_time_ms released_at;   /* fulfillments released (order confirmed): their SLA start */
    uint32_t event_seq;            /* outbox events produced so far */
    uint32_t op_seq;           /* operations recorded so far */
    char replacement_of[ORDERLY_ID_MAX + 1]; /* the order an exchange of it replaces, or "" */
    /* Everything above is zeroed by orderly__agg_reset; the parts below
     * are zeroed one by one as they are read or opened, so an order of a
     * few parts does not pay for ORDERLY_PARTS_MAX of each. */
    struct orderly__part ful[ORDERLY_PARTS_MAX];
    struct orderly__part ship[ORDERLY_PARTS_MAX];
    struct orderly__part ret[ORDERLY_PARTS_MAX];
    /* Storage for the lines, attached once (orderly__agg_attach) and sized
     * for the engine's max_lines; kept by reset. */
    uint32_t cap_lines, cap_rlines;
    struct orderly__line *lines;
    struct orderly__ret_line *rlines;
};

/* Gives a its line storage: lines holds cap_lines lines, rlines
 * ORDERLY__RET_LINES_CAP(cap_lines) entries. Both are borrowed for a's
 * life. */
void orderly__agg_attach(struct orderly__agg *a, struct orderly__line *lines, uint32_t cap_lines,
                         struct orderly__ret_line *rlines);
/* Line storage for an aggregate outside an engine (tests, fuzzers,
 * tools): up to ORDERLY__ROOM_LINES lines, encoded in ORDERLY__ROOM_BYTES. */
#define ORDERLY__ROOM_LINES 32u
#define ORDERLY__ROOM_BYTES 32768u
struct orderly__agg_room {
    struct orderly__line lines[ORDERLY__ROOM_LINES];
    struct orderly__ret_line rlines[ORDERLY__RET_LINES_CAP(ORDERLY__ROOM_LINES)];
};

/* Zeroes a and gives it room's storage, borrowed for a's life. */
static inline void orderly__agg_in_room(struct orderly__agg *a, struct orderly__agg_room *room)
{
    memset(a, 0, sizeof *a);
    memset(room, 0, sizeof *room);
    orderly__agg_attach(a, room->lines, ORDERLY__ROOM_LINES, room->rlines);
}

/* Zeroes a's order fields, keeping its line storage. */
void orderly__agg_reset(struct orderly__agg *a);
/* The longest encoding of an order of at most cap_lines lines. */
size_t orderly__agg_max_bytes(uint32_t cap_lines);
/* Appends a zeroed part to parts (count *n), or NULL when ORDERLY_PARTS_MAX are there. */
struct orderly__part *orderly__agg_add_part(struct orderly__part *parts, uint8_t *n);
/* The units of line `line` return r names (0 when it names none). */
uint32_t orderly__ret_units(const struct orderly__agg *a, const struct orderly__part *r, uint32_t line);

/* Gives amount of refund to a's lines: first to the units first[i] names
 * of each line i (first may be NULL), then to every line in order, each
 * up to what it was bought for less what it got. Returns what no line
 * could take (0 unless the order refunds more than it is worth). */
int64_t orderly__agg_spread_refund(struct orderly__agg *a, int64_t amount, const uint32_t *first);

/* Encodes a into buf (cap bytes, at least orderly__agg_max_bytes of a's
 * cap_lines); returns the length, or 0 when cap is shorter or a holds more
 * lines or parts than allowed. */
size_t orderly__agg_encode(const struct orderly__agg *a, uint8_t *buf, size_t cap);
/* Decodes into a, which must have its storage attached; ORDERLY_ESTORAGE
 * for a corrupt or foreign record, ORDERLY_ENOTSUPPORTED for an order of
 * more lines (or return lines) than a can hold. */
int orderly__agg_decode(struct orderly__agg *a, const char *id, const uint8_t *p, size_t len);

#endif
