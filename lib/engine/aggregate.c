#include <stddef.h>
#include <string.h>

#include "../base/codec.h"
#include "../base/ids.h"
#include "../fsm/table.h"
#include "aggregate.h"
#include "orderly/shipment.h"

/*
 * The longest an encoding can be: every varint at its widest for its type
 * (2 bytes for a uint8_t, 5 for a uint32_t, 10 otherwise). The engine's
 * buffer holds it for its max_lines, so the encoder, which runs on every
 * command, writes without bounds checks and refuses a shorter buffer.
 */
#define U8 ORDERLY__VARINT_U8
#define U32 ORDERLY__VARINT_U32
#define V ORDERLY__VARINT_MAX
#define HEAD_MAX (U8 + 3 + 4 * U8 + 5 * V + 5 * V + 2 * U32 + U32)
#define LINE_MAX (V + U32 + U32 + V + U8 + V + U8 + 6 * U32 + U8 + V)
#define PART_MAX (3 * U8 + U32 + V + V)
#define TAIL_MAX (2 * U8 + ORDERLY_PARTS_MAX * (2 * U8 + V) + 2 * U8 + ORDERLY_ID_MAX)

size_t orderly__agg_max_bytes(uint32_t cap_lines)
{
    return HEAD_MAX + (size_t)cap_lines * LINE_MAX + 3 * (U8 + ORDERLY_PARTS_MAX * (PART_MAX + U32)) +
           (size_t)ORDERLY__RET_LINES_CAP(cap_lines) * 2 * U32 + TAIL_MAX;
}

void orderly__agg_attach(struct orderly__agg *a, struct orderly__line *lines, uint32_t cap_lines,
                         struct orderly__ret_line *rlines)
{
    a->lines = lines;
    a->rlines = rlines;
    a->cap_lines = cap_lines;
    a->cap_rlines = ORDERLY__RET_LINES_CAP(cap_lines);
}

void orderly__agg_reset(struct orderly__agg *a)
{
    memset(a, 0, offsetof(struct orderly__agg, ful));
}

struct orderly__part *orderly__agg_add_part(struct orderly__part *parts, uint8_t *n)
{
    struct orderly__part *p;

    if (*n >= ORDERLY_PARTS_MAX)
        return NULL;
    p = &parts[(*n)++];
    memset(p, 0, sizeof *p);
    return p;
}

uint32_t orderly__ret_units(const struct orderly__agg *a, const struct orderly__part *r, uint32_t line)
{
    const struct orderly__ret_line *rl = &a->rlines[r->rl_first];
    uint32_t lo = 0, hi = r->rl_n, mid;

    /* a return's lines are in line order */
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (rl[mid].line < line)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->rl_n && rl[lo].line == line ? rl[lo].qty : 0;
}

static uint8_t *put_part(uint8_t *w, const struct orderly__part *p, orderly_time_ms base)
{
    w = orderly__put_u64(w, p->state);
    w = orderly__put_u64(w, p->fulfillment);
    w = orderly__put_u64(w, p->exchange);
    w = orderly__put_u64(w, p->warehouse);
    w = orderly__put_i64(w, p->amount);
    return orderly__put_i64(w, p->since - base);
}

/* a: set when the parts are returns, which list their lines and units */
static uint8_t *put_parts(uint8_t *w, const struct orderly__part *p, size_t n, orderly_time_ms base,
                          const struct orderly__agg *a)
{
    size_t i, k;

    w = orderly__put_u64(w, n);
    for (i = 0; i < n; i++) {
        w = put_part(w, &p[i], base);
        if (a == NULL)
            continue;
        w = orderly__put_u64(w, p[i].rl_n);
        for (k = 0; k < p[i].rl_n; k++) {
            w = orderly__put_u64(w, a->rlines[p[i].rl_first + k].line);
            w = orderly__put_u64(w, a->rlines[p[i].rl_first + k].qty);
        }
    }
    return w;
}

/* A line's counters after its fixed fields: a bit each for those that are
 * not zero, then those, so a line nothing happened to costs one byte. */
enum {
    HAS_SHIPPED = 1, HAS_DELIVERED = 2, HAS_LOST = 4, HAS_BACK = 8, HAS_RETURNED = 16,
    HAS_RESTOCKED = 32, HAS_REFUNDED = 64, HAS_ALL = 127
};

static uint8_t *put_counters(uint8_t *w, const struct orderly__line *l)
{
    unsigned has = (l->shipped ? HAS_SHIPPED : 0u) | (l->delivered ? HAS_DELIVERED : 0u) |
                   (l->lost ? HAS_LOST : 0u) | (l->back ? HAS_BACK : 0u) |
                   (l->returned ? HAS_RETURNED : 0u) | (l->restocked ? HAS_RESTOCKED : 0u) |
                   (l->refunded ? HAS_REFUNDED : 0u);

    w = orderly__put_u64(w, has);
    if (has & HAS_SHIPPED) {
        w = orderly__put_u64(w, l->shipped);
        w = orderly__put_u64(w, l->shipment);
    }
    if (has & HAS_DELIVERED)
        w = orderly__put_u64(w, l->delivered);
    if (has & HAS_LOST)
        w = orderly__put_u64(w, l->lost);
    if (has & HAS_BACK)
        w = orderly__put_u64(w, l->back);
    if (has & HAS_RETURNED)
        w = orderly__put_u64(w, l->returned);
    if (has & HAS_RESTOCKED)
        w = orderly__put_u64(w, l->restocked);
    if (has & HAS_REFUNDED)
        w = orderly__put_i64(w, l->refunded);
    return w;
}

static void get_counters(struct orderly__rd *r, struct orderly__line *l)
{
    unsigned has = orderly__rd_u32(r, HAS_ALL);

    if (has & HAS_SHIPPED) {
        l->shipped = orderly__rd_u32(r, ORDERLY_QUANTITY_MAX);
        l->shipment = (uint8_t)orderly__rd_u32(r, ORDERLY_PARTS_MAX - 1);
    }
    if (has & HAS_DELIVERED)
        l->delivered = orderly__rd_u32(r, ORDERLY_QUANTITY_MAX);
    if (has & HAS_LOST)
        l->lost = orderly__rd_u32(r, ORDERLY_QUANTITY_MAX);
    if (has & HAS_BACK)
        l->back = orderly__rd_u32(r, ORDERLY_QUANTITY_MAX);
    if (has & HAS_RETURNED)
        l->returned = orderly__rd_u32(r, ORDERLY_QUANTITY_MAX);
    if (has & HAS_RESTOCKED)
        l->restocked = orderly__rd_u32(r, ORDERLY_QUANTITY_MAX);
    if (has & HAS_REFUNDED)
        /* at most what a line can cost, so sums over the lines are bounded */
        l->refunded = orderly__rd_i64_in(r, 0, ORDERLY_UNIT_PRICE_MAX * (int64_t)ORDERLY_QUANTITY_MAX);
}

int64_t orderly__agg_spread_refund(struct orderly__agg *a, int64_t amount, const uint32_t *first)
{
    int64_t room, take;
    uint32_t i;
    int pass;

    for (pass = first != NULL ? 0 : 1; pass < 2 && amount > 0; pass++) {
        for (i = 0; i < a->n_lines && amount > 0; i++) {
            struct orderly__line *l = &a->lines[i];
            room = l->unit_price * (int64_t)l->quantity - l->refunded;
            if (pass == 0 && room > l->unit_price * (int64_t)first[i])
                room = l->unit_price * (int64_t)first[i];
            take = room < amount ? room : amount;
            if (take <= 0)
                continue;
            l->refunded += take;
            amount -= take;
        }
    }
    return amount;
}

/* A record written before format 3 kept no counters: they are derived from
 * the parts' states as that version moved them (a line shipped whole, in
 * its warehouse's shipment; a parcel back at origin was restocked; a
 * return named no line) and the refunds spread over the lines in order. */
static void derive_counters(struct orderly__agg *a)
{
    uint32_t i, j;
    unsigned at;

    for (i = 0; i < a->n_lines; i++) {
        struct orderly__line *l = &a->lines[i];
        if (!(ORDERLY__ATTRS(&orderly__reservation_machine, l->state) & ORDERLY__ST_SHIPPED))
            continue;
        for (j = 0; j < a->n_ship && a->ship[j].warehouse != l->warehouse; j++)
            ;
        if (j == a->n_ship)
            continue;
        l->shipped = l->quantity;
        l->shipment = (uint8_t)j;
        at = ORDERLY__ATTRS(&orderly__shipment_machine, a->ship[j].state);
        if (at & ORDERLY__ST_DELIVERED)
            l->delivered = l->quantity;
        if (at & ORDERLY__ST_LOST)
            l->lost = l->quantity;
        if (at & ORDERLY__ST_BACK) {
            l->back = l->quantity;
            l->restocked = l->quantity;
        }
    }
    orderly__agg_spread_refund(a, a->refunded, NULL);
}

/* Times are stored as deltas from creation; both are bounded so no sum or
 * difference of them overflows, whatever a corrupt record holds. */
static orderly_time_ms read_delta(struct orderly__rd *r)
{
    return orderly__rd_i64_in(r, -ORDERLY_TIME_MAX, ORDERLY_TIME_MAX);
}

static void get_part(struct orderly__rd *r, struct orderly__part *p, orderly_time_ms base)
{
    memset(p, 0, sizeof *p);
    p->state = (uint8_t)orderly__rd_u32(r, 255);
    p->fulfillment = (uint8_t)orderly__rd_u32(r, ORDERLY_PARTS_MAX - 1);
    p->exchange = (uint8_t)orderly__rd_u32(r, 1);
    p->warehouse = orderly__rd_u32(r, UINT32_MAX);
    p->amount = orderly__rd_i64(r);
    p->since = base + read_delta(r);
}

/*
 * An optional tail of a format-3 record, in tagged sections, each at most
 * once and in tag order, written only when there is something to say: a
 * record with neither is byte for byte what it was before the tail
 * existed, and a record that ends after its returns has neither.
 * TAIL_CLAIMS: the number of claims and, for each, its shipment, state
 * (with WRITTEN_OFF added once the claim refunded the units; format 4)
 * and time since. TAIL_REPLACEMENT_OF: the length and bytes of the order an
 * exchange of it replaces.
 */
enum { TAIL_CLAIMS = 1, TAIL_REPLACEMENT_OF = 2 };
enum { WRITTEN_OFF = 128 };

static uint8_t *put_tail(uint8_t *w, const struct orderly__agg *a)
{
    size_t i, n = 0, len = strlen(a->replacement_of);

    for (i = 0; i < a->n_ship; i++)
        n += a->ship[i].claim != 0;
    if (n > 0) {
        w = orderly__put_u64(w, TAIL_CLAIMS);
        w = orderly__put_u64(w, n);
        for (i = 0; i < a->n_ship; i++) {
            if (a->ship[i].claim == 0)
                continue;
            w = orderly__put_u64(w, i);
            w = orderly__put_u64(w, a->ship[i].claim | (a->ship[i].written_off ? WRITTEN_OFF : 0u));
            w = orderly__put_i64(w, a->ship[i].claim_since - a->created);
        }
    }
    if (len > 0) {
        w = orderly__put_u64(w, TAIL_REPLACEMENT_OF);
        w = orderly__put_u64(w, len);
        memcpy(w, a->replacement_of, len);
        w += len;
    }
    return w;
}

static void get_claims(struct orderly__rd *r, struct orderly__agg *a)
{
    uint32_t n, k, i, v;

    n = orderly__rd_u32(r, a->n_ship);
    /* a section that names no claim is not what put_tail writes */
    if (n == 0)
        r->bad = 1;
    for (k = 0; k < n && !r->bad; k++) {
        i = orderly__rd_u32(r, a->n_ship > 0 ? a->n_ship - 1u : 0u);
        if (a->ship[i].claim != 0)
            r->bad = 1;
        v = orderly__rd_u32(r, 255);
        a->ship[i].claim = (uint8_t)(v % WRITTEN_OFF);
        a->ship[i].written_off = (v & WRITTEN_OFF) != 0;
        if (a->ship[i].claim == 0)
            r->bad = 1;
        a->ship[i].claim_since = a->created + read_delta(r);
    }
}

static void get_tail(struct orderly__rd *r, struct orderly__agg *a, size_t len)
{
    uint32_t tag, last = 0, n;

    while (r->pos < len && !r->bad) {
        tag = orderly__rd_u32(r, TAIL_REPLACEMENT_OF);
        if (tag <= last) {
            r->bad = 1;
            return;
        }
        last = tag;
        if (tag == TAIL_CLAIMS) {
            get_claims(r, a);
        } else {
            n = orderly__rd_u32(r, ORDERLY_ID_MAX);
            if (n == 0)
                r->bad = 1;
            orderly__rd_bytes(r, a->replacement_of, n);
            a->replacement_of[r->bad ? 0 : n] = '\0';
            if (!r->bad && !orderly__valid_id(a->replacement_of))
                r->bad = 1;
        }
    }
}

size_t orderly__agg_encode(const struct orderly__agg *a, uint8_t *buf, size_t cap)
{
    uint8_t *w = buf;
    size_t i;

    if (cap < orderly__agg_max_bytes(a->cap_lines) || a->n_lines > a->cap_lines ||
        a->n_rlines > a->cap_rlines || a->n_ful > ORDERLY_PARTS_MAX ||
        a->n_ship > ORDERLY_PARTS_MAX || a->n_ret > ORDERLY_PARTS_MAX)
        return 0;
    w = orderly__put_u64(w, ORDERLY__AGG_FORMAT);
    memcpy(w, a->currency, 3);
    w += 3;
    w = orderly__put_u64(w, a->order_state);
    w = orderly__put_u64(w, a->payment_state);
    w = orderly__put_u64(w, a->method);
    w = orderly__put_u64(w, (uint64_t)a->has_promotion | (uint64_t)a->settle_on_capture << 1 |
                                (uint64_t)a->once_ops << 2);
    w = orderly__put_i64(w, a->total);
    w = orderly__put_i64(w, a->authorized);
    w = orderly__put_i64(w, a->captured);
    w = orderly__put_i64(w, a->refunded);
    w = orderly__put_i64(w, a->loyalty_points);
    w = orderly__put_i64(w, a->created);
    w = orderly__put_i64(w, a->order_since - a->created);
    w = orderly__put_i64(w, a->payment_since - a->created);
    w = orderly__put_i64(w, a->authorized_at - a->created);
    w = orderly__put_i64(w, a->released_at - a->created);
    w = orderly__put_u64(w, a->event_seq);
    w = orderly__put_u64(w, a->op_seq);
    w = orderly__put_u64(w, a->n_lines);
    for (i = 0; i < a->n_lines; i++) {
        const struct orderly__line *l = &a->lines[i];
        w = orderly__put_u64(w, l->sku);
        w = orderly__put_u64(w, l->warehouse);
        w = orderly__put_u64(w, l->quantity);
        w = orderly__put_i64(w, l->unit_price);
        w = orderly__put_u64(w, l->state);
        w = orderly__put_i64(w, l->since - a->created);
        w = put_counters(w, l);
    }
    w = put_parts(w, a->ful, a->n_ful, a->created, NULL);
    w = put_parts(w, a->ship, a->n_ship, a->created, NULL);
    w = put_parts(w, a->ret, a->n_ret, a->created, a);
    return (size_t)(put_tail(w, a) - buf);
}

/* Appends line `line` with qty units to return p's lines, which must come
 * in line order; ENOTSUPPORTED when a's storage is full. */
static int add_ret_line(struct orderly__rd *r, struct orderly__agg *a, struct orderly__part *p,
                        uint32_t line, uint32_t qty)
{
    if (line >= a->n_lines || qty == 0 ||
        (p->rl_n > 0 && a->rlines[p->rl_first + p->rl_n - 1].line >= line)) {
        r->bad = 1;
        return ORDERLY_ESTORAGE;
    }
    if (a->n_rlines >= a->cap_rlines)
        return ORDERLY_ENOTSUPPORTED;
    a->rlines[a->n_rlines++] = (struct orderly__ret_line){ line, qty };
    p->rl_n++;
    return ORDERLY_OK;
}

/* Format 3: a bit per line, then the units of each line named. */
static void get_mask_lines(struct orderly__rd *r, struct orderly__agg *a, struct orderly__part *p)
{
    uint32_t mask = orderly__rd_u32(r, UINT32_MAX), l, q;

    p->rl_first = a->n_rlines;
    for (l = 0; l < 32 && !r->bad; l++) {
        if (!(mask >> l & 1u))
            continue;
        q = orderly__rd_u32(r, ORDERLY_QUANTITY_MAX);
        /* a mask of 32 lines fits any storage: the cap is at least 256 */
        (void)add_ret_line(r, a, p, l, q);
    }
}

static int get_ret_lines(struct orderly__rd *r, struct orderly__agg *a, struct orderly__part *p)
{
    uint32_t n = orderly__rd_u32(r, ORDERLY__RET_LINES_CAP(ORDERLY_LINES_MAX)), k, line, q;
    int rc;

    p->rl_first = a->n_rlines;
    for (k = 0; k < n && !r->bad; k++) {
        line = orderly__rd_u32(r, ORDERLY_LINES_MAX - 1);
        q = orderly__rd_u32(r, ORDERLY_QUANTITY_MAX);
        if (!r->bad && (rc = add_ret_line(r, a, p, line, q)) == ORDERLY_ENOTSUPPORTED)
            return rc;
    }
    return ORDERLY_OK;
}

int orderly__agg_decode(struct orderly__agg *a, const char *id, const uint8_t *p, size_t len)
{
    struct orderly__rd r = { p, len, 0, 0 };
    uint64_t format;
    uint32_t flags;
    int rc;
    size_t i;

    orderly__agg_reset(a);
    if (strlen(id) > ORDERLY_ID_MAX)
        return ORDERLY_ESTORAGE;
    memcpy(a->id, id, strlen(id) + 1);
    format = orderly__rd_u64(&r);
    if (format < 1 || format > ORDERLY__AGG_FORMAT)
        return ORDERLY_ESTORAGE;
    orderly__rd_bytes(&r, a->currency, 3);
    a->order_state = (uint8_t)orderly__rd_u32(&r, 255);
    a->payment_state = (uint8_t)orderly__rd_u32(&r, 255);
    a->method = (uint8_t)orderly__rd_u32(&r, ORDERLY_PAY_COD);
    flags = orderly__rd_u32(&r, (ORDERLY__ONCE_OPS_ALL << 2) | 3);
    a->has_promotion = flags & 1;
    a->settle_on_capture = (flags >> 1) & 1;
    a->once_ops = (uint8_t)(flags >> 2);
    /* money is never negative (create_order and the guards see to it), so
     * differences such as captured - refunded cannot overflow */
    a->total = orderly__rd_i64_in(&r, 0, INT64_MAX);
    a->authorized = orderly__rd_i64_in(&r, 0, INT64_MAX);
    a->captured = orderly__rd_i64_in(&r, 0, INT64_MAX);
    a->refunded = orderly__rd_i64_in(&r, 0, INT64_MAX);
    a->loyalty_points = orderly__rd_i64_in(&r, 0, INT64_MAX);
    a->created = orderly__rd_i64_in(&r, 0, ORDERLY_TIME_MAX);
    a->order_since = a->created + read_delta(&r);
    a->payment_since = a->created + read_delta(&r);
    a->authorized_at = a->created + read_delta(&r);
    /* format 1 released fulfillments at creation, and ran their SLA from it */
    a->released_at = a->created + (format == 1 ? 0 : read_delta(&r));
    a->event_seq = orderly__rd_u32(&r, UINT32_MAX);
    a->op_seq = orderly__rd_u32(&r, UINT32_MAX);
    a->n_lines = orderly__rd_u32(&r, ORDERLY_LINES_MAX);
    if (a->n_lines > a->cap_lines)
        return ORDERLY_ENOTSUPPORTED;
    for (i = 0; i < a->n_lines && !r.bad; i++) {
        struct orderly__line *l = &a->lines[i];
        memset(l, 0, sizeof *l);
        l->sku = orderly__rd_u64(&r);
        l->warehouse = orderly__rd_u32(&r, UINT32_MAX);
        /* bounded as create_order bounds them, so quantity x price fits */
        l->quantity = orderly__rd_u32(&r, ORDERLY_QUANTITY_MAX);
        l->unit_price = orderly__rd_i64_in(&r, 0, ORDERLY_UNIT_PRICE_MAX);
        l->state = (uint8_t)orderly__rd_u32(&r, 255);
        l->since = a->created + read_delta(&r);
        if (format >= 3)
            get_counters(&r, l);
    }
    a->n_ful = (uint8_t)orderly__rd_u32(&r, ORDERLY_PARTS_MAX);
    for (i = 0; i < a->n_ful; i++)
        get_part(&r, &a->ful[i], a->created);
    a->n_ship = (uint8_t)orderly__rd_u32(&r, ORDERLY_PARTS_MAX);
    for (i = 0; i < a->n_ship; i++)
        get_part(&r, &a->ship[i], a->created);
    a->n_ret = (uint8_t)orderly__rd_u32(&r, ORDERLY_PARTS_MAX);
    for (i = 0; i < a->n_ret && !r.bad; i++) {
        get_part(&r, &a->ret[i], a->created);
        if (format == 3)
            get_mask_lines(&r, a, &a->ret[i]);
        else if (format >= 4 && (rc = get_ret_lines(&r, a, &a->ret[i])) < 0)
            return rc;
    }
    if (format >= 3)
        get_tail(&r, a, len);
    if (r.bad || r.pos != len)
        return ORDERLY_ESTORAGE;
    if (format < 3)
        derive_counters(a);
    return ORDERLY_OK;
}
