/* Bounded varint writer and reader for the compact binary formats
 * (aggregates, outbox and compensation payloads). Internal. */
#ifndef ORDERLY_UTIL_CODEC_H
#define ORDERLY_UTIL_CODEC_H

#include <stddef.h>
#include <stdint.h>

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

void orderly__wr_u64(struct orderly__wr *w, uint64_t v);
void orderly__wr_i64(struct orderly__wr *w, int64_t v);
void orderly__wr_bytes(struct orderly__wr *w, const void *p, size_t n);
void orderly__wr_str(struct orderly__wr *w, const char *s);

uint64_t orderly__rd_u64(struct orderly__rd *r);
int64_t orderly__rd_i64(struct orderly__rd *r);
uint32_t orderly__rd_u32(struct orderly__rd *r, uint32_t max);
void orderly__rd_bytes(struct orderly__rd *r, void *p, size_t n);
/* Reads a length-prefixed string into out (cap bytes incl. NUL). */
void orderly__rd_str(struct orderly__rd *r, char *out, size_t cap);

#endif
