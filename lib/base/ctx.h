/* The error context's layout and the internal helpers that fill it. */
#ifndef ORDERLY_BASE_CTX_H
#define ORDERLY_BASE_CTX_H

#include "orderly/errors.h"

struct orderly_ctx {
    orderly_allocator alloc;
    int code;
    int64_t native;
    char msg[ORDERLY_ERRMSG_MAX];
};

#if defined(__GNUC__)
#  define ORDERLY__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define ORDERLY__PRINTF(f, a)
#endif

/*
 * Records code and a formatted message on ctx (which may be NULL) and
 * returns code, so failures read `return orderly__fail(ctx, CODE, ...)`.
 */
int orderly__fail(orderly_ctx *ctx, int code, const char *fmt, ...) ORDERLY__PRINTF(3, 4);

/* The default allocator (the C library's), and a filled copy of a hook. */
void orderly__alloc_default(orderly_allocator *out);
int orderly__alloc_copy(orderly_allocator *out, const orderly_allocator *in);

#endif
