#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"

int orderly_ctx_new(orderly_ctx **out, const orderly_allocator *alloc)
{
    orderly_allocator a;
    orderly_ctx *ctx;
    int rc;

    if (out == NULL)
        return ORDERLY_EINVAL;
    *out = NULL;
    if ((rc = orderly__alloc_copy(&a, alloc)) < 0)
        return rc;
    ctx = a.malloc(sizeof *ctx, a.user_data);
    if (ctx == NULL)
        return ORDERLY_ENOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->alloc = a;
    *out = ctx;
    return ORDERLY_OK;
}

void orderly_ctx_free(orderly_ctx *ctx)
{
    if (ctx != NULL)
        ctx->alloc.free(ctx, ctx->alloc.user_data);
}

int orderly_ctx_errcode(const orderly_ctx *ctx)
{
    return ctx != NULL ? ctx->code : ORDERLY_EINVAL;
}

const char *orderly_ctx_errmsg(const orderly_ctx *ctx)
{
    return ctx != NULL ? ctx->msg : "";
}

int64_t orderly_ctx_native(const orderly_ctx *ctx)
{
    return ctx != NULL ? ctx->native : 0;
}

void orderly_ctx_clear(orderly_ctx *ctx)
{
    if (ctx == NULL)
        return;
    ctx->code = ORDERLY_OK;
    ctx->native = 0;
    ctx->msg[0] = '\0';
}

int orderly_ctx_set_error(orderly_ctx *ctx, int code, int64_t native, const char *msg)
{
    size_t n;

    if (ctx == NULL)
        return code;
    ctx->code = code;
    ctx->native = native;
    if (msg == NULL)
        msg = orderly_strerror(code);
    n = strlen(msg);
    if (n >= sizeof ctx->msg)
        n = sizeof ctx->msg - 1;
    memmove(ctx->msg, msg, n); /* msg may point into ctx->msg */
    ctx->msg[n] = '\0';
    return code;
}

int orderly__fail(orderly_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;

    if (ctx == NULL)
        return code;
    ctx->code = code;
    ctx->native = 0;
    va_start(ap, fmt);
    vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
    va_end(ap);
    return code;
}

size_t orderly_errmsg_max(void)
{
    return ORDERLY_ERRMSG_MAX;
}
