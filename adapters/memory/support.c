#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

int orderly__mem_fail(orderly_ctx *ctx, int code, const char *fmt, ...)
{
    char msg[ORDERLY_ERRMSG_MAX];
    va_list ap;

    if (ctx == NULL)
        return code;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return orderly_ctx_set_error(ctx, code, 0, msg);
}

static void *std_malloc(size_t size, void *user_data)
{
    (void)user_data;
    return malloc(size);
}

static void *std_realloc(void *ptr, size_t size, void *user_data)
{
    (void)user_data;
    return realloc(ptr, size);
}

static void std_free(void *ptr, void *user_data)
{
    (void)user_data;
    free(ptr);
}

int orderly__mem_alloc_copy(orderly_allocator *out, const orderly_allocator *in)
{
    if (in == NULL) {
        memset(out, 0, sizeof *out);
        out->version = ORDERLY_ALLOCATOR_VERSION;
        out->malloc = std_malloc;
        out->realloc = std_realloc;
        out->free = std_free;
        return ORDERLY_OK;
    }
    if (in->version == 0 || in->version > ORDERLY_ALLOCATOR_VERSION)
        return ORDERLY_EVERSION;
    if (in->malloc == NULL || in->realloc == NULL || in->free == NULL)
        return ORDERLY_EINVAL;
    *out = *in;
    return ORDERLY_OK;
}
