/*
 * A JSON writer for the fixed-shape documents the core produces (the
 * CloudEvents envelope of an outbox row). It writes exactly the bytes
 * jansson's json_dumpb(JSON_COMPACT | JSON_PRESERVE_ORDER) would for the
 * same members in the same order, at a fraction of the cost: json_dumpb
 * of a prebuilt 440-byte envelope takes ~4 us here, which alone caps
 * dispatch near 250,000 events/s against the SPEC's 1,000,000. Printable
 * ASCII strings are written directly; any other string is handed to
 * jansson, so jansson stays the authority on escaping and UTF-8 validity.
 * Decoding is always jansson's. Internal.
 */
#ifndef ORDERLY_BASE_JSONW_H
#define ORDERLY_BASE_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "orderly/sys/alloc.h"

struct orderly__jw {
    const orderly_allocator *alloc;
    char **buf;            /* the caller's reusable buffer, grown here */
    size_t *cap;
    size_t len;
    int bad;               /* ORDERLY_ENOMEM or ORDERLY_EINVAL (not UTF-8); sticky */
    int first;             /* no member written yet in the open object */
};

/* Starts a document in *buf (capacity *cap, reallocated as needed). */
void orderly__jw_start(struct orderly__jw *w, const orderly_allocator *alloc, char **buf,
                       size_t *cap);
/* Grows the buffer for n more bytes and a NUL; 0 when that failed. */
int orderly__jw_grow(struct orderly__jw *w, size_t n);
/* Writes s quoted and escaped as jansson would. */
void orderly__jw_str(struct orderly__jw *w, const char *s);
void orderly__jw_int(struct orderly__jw *w, int64_t v);
/* Ends the document (NUL-terminated) and returns 0 or w->bad. */
int orderly__jw_finish(struct orderly__jw *w);

static inline int orderly__jw_room(struct orderly__jw *w, size_t n)
{
    if (w->bad)
        return 0;
    return w->len + n < *w->cap ? 1 : orderly__jw_grow(w, n);
}

static inline void orderly__jw_put(struct orderly__jw *w, const char *s, size_t n)
{
    if (orderly__jw_room(w, n)) {
        memcpy(*w->buf + w->len, s, n);
        w->len += n;
    }
}

static inline void orderly__jw_open(struct orderly__jw *w)
{
    orderly__jw_put(w, "{", 1);
    w->first = 1;
}

static inline void orderly__jw_close(struct orderly__jw *w)
{
    orderly__jw_put(w, "}", 1);
    w->first = 0;
}

/* Writes the key of the next member; key must be a string literal of
 * plain ASCII, quoted here at compile time. */
#define orderly__jw_key(w, key) orderly__jw_keyn((w), "\"" key "\":", sizeof(key) + 2)

static inline void orderly__jw_keyn(struct orderly__jw *w, const char *quoted, size_t n)
{
    if (!orderly__jw_room(w, n + 1))
        return;
    if (!w->first)
        (*w->buf)[w->len++] = ',';
    w->first = 0;
    memcpy(*w->buf + w->len, quoted, n);
    w->len += n;
}

/* Writes the n bytes of s quoted, unchecked: only for text that is
 * printable ASCII without '"' or '\\' by construction (hex digits, the
 * timestamps formatted here, the pinned names of the const tables). */
static inline void orderly__jw_plain(struct orderly__jw *w, const char *s, size_t n)
{
    char *o;

    if (!orderly__jw_room(w, n + 2))
        return;
    o = *w->buf + w->len;
    o[0] = '"';
    memcpy(o + 1, s, n);
    o[n + 1] = '"';
    w->len += n + 2;
}

#endif
