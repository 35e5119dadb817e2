/* Caller-sized out structs (orderly_result and the views; engine.h) and
 * the size pins of the public structs (abi.c). Internal. */
#ifndef ORDERLY_BASE_ABI_H
#define ORDERLY_BASE_ABI_H

#include <stddef.h>

#include "orderly/engine.h"

/* out_check is ORDERLY_EINVAL (message in ctx, which may be NULL) when the
 * size the caller set is below min, the 0.2 layout; out_put copies the
 * fields of full (full_size bytes, size first) that fit in the caller's
 * size, zeroes the caller's bytes past full_size, and keeps its size. */
int orderly__out_check(orderly_ctx *ctx, const void *out, size_t min, const char *type);
void orderly__out_put(void *out, const void *full, size_t full_size);
/* out_check for an orderly_result, then every field but size zeroed. */
int orderly__result_reset(orderly_ctx *ctx, orderly_result *out);

#endif
