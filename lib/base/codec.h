/* Bounded varint writer and reader for the compact binary formats
 * (aggregates, outbox and operation payloads). Internal; inline because
 * every field of every record goes through them. */
#ifndef ORDERLY_BASE_CODEC_H
#define ORDERLY_BASE_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct orderly__wr {
    uint8_t *p;
    size_t cap;
    size_t len;
    int overflow;   /* set when a write did not fit */
};

struct orderly__rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int bad;        /* set when a read ran past the end or was malformed */
};

static inline void orderly__wr_u64(struct orderly__wr *w, uint64_t v)
{
    if (v < 0x80 && w->len < w->cap) {
        w->p[w->len++] = (uint8_t)v; /* most fields: states, counts, flags */
        return;
    }
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v != 0)
            b |= 0x80;
        if (w->len < w->cap)
            w->p[w->len] = b;
        else
            w->overflow = 1;
        w->len++;
    } while (v != 0);
}

/*
 * Unchecked writes, for an encoder whose worst case is proven to fit its
 * buffer (orderly__agg_encode): the same bytes as orderly__wr_u64 and
 * orderly__wr_i64, without a bounds check per byte. Each returns the
 * position after what it wrote; a varint takes at most 10 bytes.
 */
#define ORDERLY__VARINT_MAX 10
#define ORDERLY__VARINT_U8 2         /* the widest varint of a uint8_t */
#define ORDERLY__VARINT_U32 5        /* and of a uint32_t */

static inline uint8_t *orderly__put_u64(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline uint8_t *orderly__put_i64(uint8_t *p, int64_t v)
{
    return orderly__put_u64(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static inline void orderly__wr_i64(struct orderly__wr *w, int64_t v)
{
    orderly__wr_u64(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static inline void orderly__wr_bytes(struct orderly__wr *w, const void *p, size_t n)
{
    if (w->len + n <= w->cap)
        memcpy(w->p + w->len, p, n);
    else
        w->overflow = 1;
    w->len += n;
}

static inline void orderly__wr_str(struct orderly__wr *w, const char *s)
{
    size_t n = strlen(s);

    orderly__wr_u64(w, n);
    orderly__wr_bytes(w, s, n);
}

static inline uint64_t orderly__rd_u64(struct orderly__rd *r)
{
    uint64_t v = 0;
    unsigned shift = 0;

    if (r->pos <= r->len && r->len - r->pos >= 10) {
        /* a whole varint's worth is there: no check per byte */
        const uint8_t *p = r->p + r->pos;
        size_t i;
        for (i = 0; i < 10; i++, shift += 7) {
            v |= (uint64_t)(p[i] & 0x7f) << shift;
            if ((p[i] & 0x80) == 0) {
                r->pos += i + 1;
                return v;
            }
        }
        r->pos += 10;
        r->bad = 1;
        return 0;
    }
    for (;;) {
        uint8_t b;
        if (r->pos >= r->len || shift > 63) {
            r->bad = 1;
            return 0;
        }
        b = r->p[r->pos++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0)
            return v;
        shift += 7;
    }
}

static inline int64_t orderly__rd_i64(struct orderly__rd *r)
{
    uint64_t u = orderly__rd_u64(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* A signed field that must lie in min..max (a time, a delta, a price):
 * anything else marks the record malformed and reads as 0. */
static inline int64_t orderly__rd_i64_in(struct orderly__rd *r, int64_t min, int64_t max)
{
    int64_t v = orderly__rd_i64(r);

    if (v < min || v > max) {
        r->bad = 1;
        return 0;
    }
    return v;
}

static inline uint32_t orderly__rd_u32(struct orderly__rd *r, uint32_t max)
{
    uint64_t v = orderly__rd_u64(r);

    if (v > max) {
        r->bad = 1;
        return 0;
    }
    return (uint32_t)v;
}

static inline void orderly__rd_bytes(struct orderly__rd *r, void *p, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = 1;
        memset(p, 0, n);
        return;
    }
    memcpy(p, r->p + r->pos, n);
    r->pos += n;
}

/* Reads a length-prefixed string into out (cap bytes incl. NUL). */
static inline void orderly__rd_str(struct orderly__rd *r, char *out, size_t cap)
{
    uint64_t n = orderly__rd_u64(r);

    if (r->bad || n >= cap || r->len - r->pos < n) {
        r->bad = 1;
        out[0] = '\0';
        return;
    }
    memcpy(out, r->p + r->pos, (size_t)n);
    out[n] = '\0';
    r->pos += (size_t)n;
}

#endif
