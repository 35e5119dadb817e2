#include <string.h>

#include "buf.h"
#include "ctx.h"

void orderly__buf_init(orderly_buf *b, const orderly_allocator *alloc)
{
    memset(b, 0, sizeof *b);
    b->alloc = alloc;
}

void orderly__buf_free(orderly_buf *b)
{
    if (b->data != NULL)
        b->alloc->free(b->data, b->alloc->user_data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int orderly__buf_reserve(orderly_buf *b, size_t cap)
{
    uint8_t *p;
    size_t n;

    if (cap <= b->cap)
        return ORDERLY_OK;
    n = b->cap ? b->cap : 64;
    while (n < cap)
        n *= 2;
    p = b->alloc->realloc(b->data, n, b->alloc->user_data);
    if (p == NULL)
        return ORDERLY_ENOMEM;
    b->data = p;
    b->cap = n;
    return ORDERLY_OK;
}

int orderly_buf_set(orderly_buf *buf, const uint8_t *data, size_t len)
{
    if (buf == NULL || (data == NULL && len > 0))
        return ORDERLY_EINVAL;
    buf->len = 0;
    return orderly_buf_append(buf, data, len);
}

int orderly_buf_append(orderly_buf *buf, const uint8_t *data, size_t len)
{
    int rc;

    if (buf == NULL || (data == NULL && len > 0))
        return ORDERLY_EINVAL;
    if (len == 0)
        return ORDERLY_OK;
    if ((rc = orderly__buf_reserve(buf, buf->len + len)) < 0)
        return rc;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    return ORDERLY_OK;
}

const uint8_t *orderly_buf_data(const orderly_buf *buf)
{
    return buf != NULL ? buf->data : NULL;
}

size_t orderly_buf_len(const orderly_buf *buf)
{
    return buf != NULL ? buf->len : 0;
}

/* A free-standing buffer keeps its own copy of the allocator beside it. */
struct owned_buf {
    orderly_buf buf;
    orderly_allocator alloc;
};

int orderly_buf_new(orderly_buf **out, const orderly_allocator *alloc)
{
    orderly_allocator a;
    struct owned_buf *ob;
    int rc;

    if (out == NULL)
        return ORDERLY_EINVAL;
    *out = NULL;
    if ((rc = orderly__alloc_copy(&a, alloc)) < 0)
        return rc;
    if ((ob = a.malloc(sizeof *ob, a.user_data)) == NULL)
        return ORDERLY_ENOMEM;
    ob->alloc = a;
    orderly__buf_init(&ob->buf, &ob->alloc);
    *out = &ob->buf;
    return ORDERLY_OK;
}

void orderly_buf_free(orderly_buf *buf)
{
    struct owned_buf *ob;

    if (buf == NULL)
        return;
    /* buf is the first member, so this recovers the allocation */
    ob = (struct owned_buf *)(void *)buf;
    orderly__buf_free(buf);
    ob->alloc.free(ob, ob->alloc.user_data);
}
