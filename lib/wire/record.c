#include <string.h>

#include "../base/codec.h"
#include "orderly/envelope.h"
#include "orderly/machine.h"
#include "record.h"

#define FORMAT 1
#define EVENT_FORMAT 3               /* 3 appended currency and lines */
#define EVENT_FORMAT_NO_LINES 2      /* still read; 1 held the id itself */

/* A line's widest encoding: quantity and unit price are bounded by the
 * engine (ORDERLY_QUANTITY_MAX < 2^21, ORDERLY_UNIT_PRICE_MAX < 2^41). */
#define EVENT_LINE_MAX (ORDERLY__VARINT_U32 + ORDERLY__VARINT_MAX + ORDERLY__VARINT_U32 + 3 + 7)

/* The widest an event record can be (see orderly__agg_encode): an event
 * is written on every command, without bounds checks. */
#define EVENT_HEAD_MAX (ORDERLY__VARINT_U8 + 2 * ORDERLY__VARINT_U32 + 4 * ORDERLY__VARINT_U8 + \
                        2 * ORDERLY__VARINT_MAX + ORDERLY__VARINT_U8 + ORDERLY__TRACE_LEN + \
                        1 + 3 + ORDERLY__VARINT_U32)
#define OP_LINE_MAX (ORDERLY__VARINT_MAX + 2 * ORDERLY__VARINT_U32)
#define OP_HEAD_MAX (ORDERLY__VARINT_U8 + ORDERLY__VARINT_U8 + ORDERLY_ID_MAX + 16 + \
                     ORDERLY__VARINT_U8 + 2 * ORDERLY__VARINT_U32 + ORDERLY__VARINT_MAX + \
                     ORDERLY__VARINT_U32)
_Static_assert(EVENT_HEAD_MAX <= ORDERLY__RECORD_MAX, "an event record may not fit");

size_t orderly__event_rec_max(uint32_t n_lines)
{
    return EVENT_HEAD_MAX + (size_t)n_lines * EVENT_LINE_MAX;
}

size_t orderly__operation_rec_max(uint32_t n_lines)
{
    return OP_HEAD_MAX + (size_t)n_lines * OP_LINE_MAX;
}

size_t orderly__record_max_any(void)
{
    size_t ev = orderly__event_rec_max(ORDERLY_LINES_MAX), op = orderly__operation_rec_max(ORDERLY_LINES_MAX);

    return ev > op ? ev : op;
}
_Static_assert(ORDERLY_SCHEMA_VERSION == 2, "a new schemaversion needs its own event row format");
_Static_assert(ORDERLY_QUANTITY_MAX < (1u << 21), "a quantity outgrew its three varint bytes");
_Static_assert(ORDERLY_UNIT_PRICE_MAX < (1LL << 48), "a unit price outgrew its seven varint bytes");

size_t orderly__event_rec_encode(const struct orderly__event_rec *r, uint8_t *buf, size_t cap)
{
    size_t trace_len = strlen(r->trace), cur_len = strlen(r->currency), i;
    uint8_t *w = buf;

    if (r->n_lines > ORDERLY_LINES_MAX || cap < orderly__event_rec_max(r->n_lines) ||
        trace_len > ORDERLY__TRACE_LEN || cur_len > 3)
        return 0;
    for (i = 0; i < r->n_lines; i++)
        if (r->lines[i].quantity > ORDERLY_QUANTITY_MAX || r->lines[i].unit_price < 0 ||
            r->lines[i].unit_price > ORDERLY_UNIT_PRICE_MAX)
            return 0;
    w = orderly__put_u64(w, EVENT_FORMAT);
    w = orderly__put_u64(w, r->seq);
    w = orderly__put_u64(w, r->machine);
    w = orderly__put_u64(w, r->index);
    w = orderly__put_u64(w, r->from);
    w = orderly__put_u64(w, r->to);
    w = orderly__put_u64(w, r->event);
    w = orderly__put_i64(w, r->amount);
    w = orderly__put_i64(w, r->time);
    w = orderly__put_u64(w, trace_len);
    memcpy(w, r->trace, trace_len);
    w += trace_len;
    w = orderly__put_u64(w, cur_len);
    memcpy(w, r->currency, cur_len);
    w += cur_len;
    w = orderly__put_u64(w, r->n_lines);
    for (i = 0; i < r->n_lines; i++) {
        w = orderly__put_u64(w, r->lines[i].line);
        w = orderly__put_u64(w, r->lines[i].sku);
        w = orderly__put_u64(w, r->lines[i].warehouse);
        w = orderly__put_u64(w, r->lines[i].quantity);
        w = orderly__put_u64(w, (uint64_t)r->lines[i].unit_price);
    }
    return (size_t)(w - buf);
}

int orderly__event_rec_decode(struct orderly__event_rec *r, uint32_t kind, const char *order_id,
                              const uint8_t *p, size_t len)
{
    struct orderly__rd rd = { p, len, 0, 0 };
    struct orderly__event_line *lines = r->lines;
    uint32_t cap = r->cap_lines;
    uint64_t format;
    size_t i;

    memset(r, 0, sizeof *r);
    r->lines = lines;
    r->cap_lines = cap;
    format = orderly__rd_u64(&rd);
    if (format != EVENT_FORMAT && format != EVENT_FORMAT_NO_LINES)
        return ORDERLY_ESTORAGE;
    r->seq = orderly__rd_u32(&rd, UINT32_MAX);
    r->machine = (uint8_t)orderly__rd_u32(&rd, 255);
    r->index = orderly__rd_u32(&rd, ORDERLY_LINES_MAX - 1);
    r->from = (uint8_t)orderly__rd_u32(&rd, 255);
    r->to = (uint8_t)orderly__rd_u32(&rd, 255);
    r->event = (uint8_t)orderly__rd_u32(&rd, 255);
    r->amount = orderly__rd_i64(&rd);
    r->time = orderly__rd_i64(&rd);
    orderly__rd_str(&rd, r->trace, sizeof r->trace);
    r->schema = format == EVENT_FORMAT ? 2 : 1;
    if (format == EVENT_FORMAT) {
        orderly__rd_str(&rd, r->currency, sizeof r->currency);
        r->n_lines = orderly__rd_u32(&rd, ORDERLY_LINES_MAX);
        if (r->n_lines > cap)
            return ORDERLY_ENOTSUPPORTED;
        for (i = 0; i < r->n_lines && !rd.bad; i++) {
            r->lines[i].line = orderly__rd_u32(&rd, ORDERLY_LINES_MAX - 1);
            r->lines[i].sku = orderly__rd_u64(&rd);
            r->lines[i].warehouse = orderly__rd_u32(&rd, UINT32_MAX);
            r->lines[i].quantity = orderly__rd_u32(&rd, ORDERLY_QUANTITY_MAX);
            r->lines[i].unit_price = (int64_t)orderly__rd_u64(&rd);
            if (r->lines[i].unit_price < 0 || r->lines[i].unit_price > ORDERLY_UNIT_PRICE_MAX)
                rd.bad = 1;
        }
    }
    if (rd.bad || rd.pos != len)
        return ORDERLY_ESTORAGE;
    if (kind == ORDERLY__EV_DEADLINE) {
        const char *timer = orderly_timer_name(r->from);
        if (timer == NULL || r->amount <= 0)
            return ORDERLY_ESTORAGE;
        orderly__deadline_id(r->id, order_id, timer, (uint64_t)r->amount);
    } else {
        orderly__natural_id(r->id, orderly__event_type((int)kind), order_id, r->seq);
    }
    return ORDERLY_OK;
}

size_t orderly__timer_rec_encode(const struct orderly__timer_rec *r, uint8_t *buf, size_t cap)
{
    struct orderly__wr w = { buf, cap, 0, 0 };

    orderly__wr_u64(&w, FORMAT);
    orderly__wr_str(&w, r->order_id);
    orderly__wr_u64(&w, r->timer);
    orderly__wr_u64(&w, r->machine);
    orderly__wr_u64(&w, r->index);
    orderly__wr_u64(&w, r->event);
    return w.overflow ? 0 : w.len;
}

int orderly__timer_rec_decode(struct orderly__timer_rec *r, const uint8_t *p, size_t len)
{
    struct orderly__rd rd = { p, len, 0, 0 };

    memset(r, 0, sizeof *r);
    if (orderly__rd_u64(&rd) != FORMAT)
        return ORDERLY_ESTORAGE;
    orderly__rd_str(&rd, r->order_id, sizeof r->order_id);
    r->timer = (uint8_t)orderly__rd_u32(&rd, 255);
    r->machine = (uint8_t)orderly__rd_u32(&rd, 255);
    r->index = orderly__rd_u32(&rd, ORDERLY_LINES_MAX - 1);
    r->event = (uint8_t)orderly__rd_u32(&rd, 255);
    return rd.bad || rd.pos != len ? ORDERLY_ESTORAGE : ORDERLY_OK;
}

size_t orderly__operation_rec_encode(const struct orderly__operation_rec *r, uint8_t *buf, size_t cap)
{
    struct orderly__wr w = { buf, cap, 0, 0 };
    size_t i;

    if (r->n_lines > ORDERLY_LINES_MAX)
        return 0;
    orderly__wr_u64(&w, FORMAT);
    orderly__wr_str(&w, r->order_id);
    orderly__wr_bytes(&w, r->key, 16);
    orderly__wr_u64(&w, r->op);
    orderly__wr_u64(&w, r->index);
    orderly__wr_u64(&w, r->lines);
    orderly__wr_i64(&w, r->amount);
    orderly__wr_u64(&w, r->n_lines);
    for (i = 0; i < r->n_lines; i++) {
        orderly__wr_u64(&w, r->sku[i]);
        orderly__wr_u64(&w, r->warehouse[i]);
        orderly__wr_u64(&w, r->quantity[i]);
    }
    return w.overflow ? 0 : w.len;
}

int orderly__operation_rec_decode(struct orderly__operation_rec *r, const uint8_t *p, size_t len)
{
    struct orderly__rd rd = { p, len, 0, 0 };
    uint64_t *sku = r->sku;
    uint32_t *warehouse = r->warehouse, *quantity = r->quantity, cap = r->cap_lines;
    size_t i;

    memset(r, 0, sizeof *r);
    r->sku = sku;
    r->warehouse = warehouse;
    r->quantity = quantity;
    r->cap_lines = cap;
    if (orderly__rd_u64(&rd) != FORMAT)
        return ORDERLY_ESTORAGE;
    orderly__rd_str(&rd, r->order_id, sizeof r->order_id);
    orderly__rd_bytes(&rd, r->key, 16);
    r->op = (uint8_t)orderly__rd_u32(&rd, 255);
    r->index = orderly__rd_u32(&rd, ORDERLY_LINES_MAX - 1);
    r->lines = orderly__rd_u32(&rd, UINT32_MAX);
    r->amount = orderly__rd_i64(&rd);
    r->n_lines = orderly__rd_u32(&rd, ORDERLY_LINES_MAX);
    if (r->n_lines > cap)
        return ORDERLY_ENOTSUPPORTED;
    for (i = 0; i < r->n_lines && !rd.bad; i++) {
        r->sku[i] = orderly__rd_u64(&rd);
        r->warehouse[i] = orderly__rd_u32(&rd, UINT32_MAX);
        r->quantity[i] = orderly__rd_u32(&rd, UINT32_MAX);
    }
    return rd.bad || rd.pos != len ? ORDERLY_ESTORAGE : ORDERLY_OK;
}
