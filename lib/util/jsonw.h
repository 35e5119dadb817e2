/*
 * A JSON writer for the fixed-shape documents the core produces (the
 * CloudEvents envelope of an outbox row). It writes exactly the bytes
 * jansson's json_dumpb(JSON_COMPACT | JSON_PRESERVE_ORDER) would for the
 * same members in the same order, at a fraction of the cost: jansson's
 * dumper takes ~6 us per envelope here, which alone caps dispatch far below
 * the SPEC's 1,000,000 events/s. Printable ASCII strings are written
 * directly; any other string is handed to jansson, so jansson stays the
 * authority on escaping and UTF-8 validity. Decoding is always jansson's.
 * Internal.
 */
#ifndef ORDERLY_UTIL_JSONW_H
#define ORDERLY_UTIL_JSONW_H

#include <stddef.h>
#include <stdint.h>

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
void orderly__jw_open(struct orderly__jw *w);
void orderly__jw_close(struct orderly__jw *w);
/* Writes the key of the next member; key must be a string literal of
 * plain ASCII, quoted here at compile time. */
#define orderly__jw_key(w, key) orderly__jw_keyn((w), "\"" key "\":", sizeof(key) + 2)
void orderly__jw_keyn(struct orderly__jw *w, const char *quoted, size_t n);
void orderly__jw_str(struct orderly__jw *w, const char *s);
void orderly__jw_int(struct orderly__jw *w, int64_t v);
/* Ends the document (NUL-terminated) and returns 0 or w->bad. */
int orderly__jw_finish(struct orderly__jw *w);

#endif
