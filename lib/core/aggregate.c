#include <string.h>

#include "../util/codec.h"
#include "aggregate.h"

static void put_part(struct orderly__wr *w, const struct orderly__part *p, orderly_time_ms base)
{
    orderly__wr_u64(w, p->state);
    orderly__wr_u64(w, p->fulfillment);
    orderly__wr_u64(w, p->exchange);
    orderly__wr_u64(w, p->warehouse);
    orderly__wr_i64(w, p->amount);
    orderly__wr_i64(w, p->since - base);
}

static void get_part(struct orderly__rd *r, struct orderly__part *p, orderly_time_ms base)
{
    p->state = (uint8_t)orderly__rd_u32(r, 255);
    p->fulfillment = (uint8_t)orderly__rd_u32(r, ORDERLY_PARTS_MAX - 1);
    p->exchange = (uint8_t)orderly__rd_u32(r, 1);
    p->warehouse = orderly__rd_u32(r, UINT32_MAX);
    p->amount = orderly__rd_i64(r);
    p->since = base + orderly__rd_i64(r);
}

size_t orderly__agg_encode(const struct orderly__agg *a, uint8_t *buf, size_t cap)
{
    struct orderly__wr w = { buf, cap, 0, 0 };
    size_t i;

    orderly__wr_u64(&w, ORDERLY__AGG_FORMAT);
    orderly__wr_bytes(&w, a->currency, 3);
    orderly__wr_u64(&w, a->order_state);
    orderly__wr_u64(&w, a->payment_state);
    orderly__wr_u64(&w, a->method);
    orderly__wr_u64(&w, (uint64_t)a->has_promotion | (uint64_t)a->settle_on_capture << 1);
    orderly__wr_i64(&w, a->total);
    orderly__wr_i64(&w, a->authorized);
    orderly__wr_i64(&w, a->captured);
    orderly__wr_i64(&w, a->refunded);
    orderly__wr_i64(&w, a->loyalty_points);
    orderly__wr_i64(&w, a->created);
    orderly__wr_i64(&w, a->order_since - a->created);
    orderly__wr_i64(&w, a->payment_since - a->created);
    orderly__wr_i64(&w, a->authorized_at - a->created);
    orderly__wr_u64(&w, a->event_seq);
    orderly__wr_u64(&w, a->effect_seq);
    orderly__wr_u64(&w, a->n_lines);
    for (i = 0; i < a->n_lines; i++) {
        const struct orderly__line *l = &a->lines[i];
        orderly__wr_u64(&w, l->sku);
        orderly__wr_u64(&w, l->warehouse);
        orderly__wr_u64(&w, l->quantity);
        orderly__wr_i64(&w, l->unit_price);
        orderly__wr_u64(&w, l->state);
        orderly__wr_i64(&w, l->since - a->created);
    }
    orderly__wr_u64(&w, a->n_ful);
    for (i = 0; i < a->n_ful; i++)
        put_part(&w, &a->ful[i], a->created);
    orderly__wr_u64(&w, a->n_ship);
    for (i = 0; i < a->n_ship; i++)
        put_part(&w, &a->ship[i], a->created);
    orderly__wr_u64(&w, a->n_ret);
    for (i = 0; i < a->n_ret; i++)
        put_part(&w, &a->ret[i], a->created);
    return w.overflow ? 0 : w.len;
}

int orderly__agg_decode(struct orderly__agg *a, const char *id, const uint8_t *p, size_t len)
{
    struct orderly__rd r = { p, len, 0, 0 };
    uint32_t flags;
    size_t i;

    memset(a, 0, sizeof *a);
    if (strlen(id) > ORDERLY_ID_MAX)
        return ORDERLY_ESTORAGE;
    memcpy(a->id, id, strlen(id) + 1);
    if (orderly__rd_u64(&r) != ORDERLY__AGG_FORMAT)
        return ORDERLY_ESTORAGE;
    orderly__rd_bytes(&r, a->currency, 3);
    a->order_state = (uint8_t)orderly__rd_u32(&r, 255);
    a->payment_state = (uint8_t)orderly__rd_u32(&r, 255);
    a->method = (uint8_t)orderly__rd_u32(&r, ORDERLY_PAY_COD);
    flags = orderly__rd_u32(&r, 3);
    a->has_promotion = flags & 1;
    a->settle_on_capture = (flags >> 1) & 1;
    a->total = orderly__rd_i64(&r);
    a->authorized = orderly__rd_i64(&r);
    a->captured = orderly__rd_i64(&r);
    a->refunded = orderly__rd_i64(&r);
    a->loyalty_points = orderly__rd_i64(&r);
    a->created = orderly__rd_i64(&r);
    a->order_since = a->created + orderly__rd_i64(&r);
    a->payment_since = a->created + orderly__rd_i64(&r);
    a->authorized_at = a->created + orderly__rd_i64(&r);
    a->event_seq = orderly__rd_u32(&r, UINT32_MAX);
    a->effect_seq = orderly__rd_u32(&r, UINT32_MAX);
    a->n_lines = (uint8_t)orderly__rd_u32(&r, ORDERLY_LINES_MAX);
    for (i = 0; i < a->n_lines; i++) {
        struct orderly__line *l = &a->lines[i];
        l->sku = orderly__rd_u64(&r);
        l->warehouse = orderly__rd_u32(&r, UINT32_MAX);
        l->quantity = orderly__rd_u32(&r, UINT32_MAX);
        l->unit_price = orderly__rd_i64(&r);
        l->state = (uint8_t)orderly__rd_u32(&r, 255);
        l->since = a->created + orderly__rd_i64(&r);
    }
    a->n_ful = (uint8_t)orderly__rd_u32(&r, ORDERLY_PARTS_MAX);
    for (i = 0; i < a->n_ful; i++)
        get_part(&r, &a->ful[i], a->created);
    a->n_ship = (uint8_t)orderly__rd_u32(&r, ORDERLY_PARTS_MAX);
    for (i = 0; i < a->n_ship; i++)
        get_part(&r, &a->ship[i], a->created);
    a->n_ret = (uint8_t)orderly__rd_u32(&r, ORDERLY_PARTS_MAX);
    for (i = 0; i < a->n_ret; i++)
        get_part(&r, &a->ret[i], a->created);
    if (r.bad || r.pos != len)
        return ORDERLY_ESTORAGE;
    return ORDERLY_OK;
}
