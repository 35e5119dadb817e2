/*
 * What the in-memory adapters (and the fault wrapper) need besides the
 * public headers: an error with a formatted message, the allocator a
 * caller passed (or the C library's), and the seeded draw of the fault
 * plans. Built only on the public adapter contract (orderly_ctx_set_error,
 * orderly/sys/alloc.h), so an adapter author can copy it.
 */
#ifndef ORDERLY_MEMORY_SUPPORT_H
#define ORDERLY_MEMORY_SUPPORT_H

#include <stdint.h>

#include "orderly/errors.h"
#include "orderly/sys/alloc.h"

#if defined(__GNUC__)
#  define ORDERLY__MEM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define ORDERLY__MEM_PRINTF(f, a)
#endif

/* orderly_ctx_set_error with a printf-style message (native 0); returns code. */
int orderly__mem_fail(orderly_ctx *ctx, int code, const char *fmt, ...) ORDERLY__MEM_PRINTF(3, 4);

/* *in, checked, or the C library's allocator when in is NULL. */
int orderly__mem_alloc_copy(orderly_allocator *out, const orderly_allocator *in);

/* A deterministic uniform double in [0, 1) from *state (splitmix64): the
 * fault plans and the transport's delivery noise replay the same draws
 * from the same seed. */
static inline double orderly__mem_rand01(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

#endif
