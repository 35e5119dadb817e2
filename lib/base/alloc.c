#include <stdlib.h>
#include <string.h>

#include "ctx.h"

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

int orderly_allocator_init(orderly_allocator *alloc, unsigned int version)
{
    if (alloc == NULL)
        return ORDERLY_EINVAL;
    if (version == 0 || version > ORDERLY_ALLOCATOR_VERSION)
        return ORDERLY_EVERSION;
    memset(alloc, 0, sizeof *alloc);
    alloc->version = version;
    return ORDERLY_OK;
}

void orderly__alloc_default(orderly_allocator *out)
{
    memset(out, 0, sizeof *out);
    out->version = ORDERLY_ALLOCATOR_VERSION;
    out->malloc = std_malloc;
    out->realloc = std_realloc;
    out->free = std_free;
}

int orderly__alloc_copy(orderly_allocator *out, const orderly_allocator *in)
{
    if (in == NULL) {
        orderly__alloc_default(out);
        return ORDERLY_OK;
    }
    if (in->version == 0 || in->version > ORDERLY_ALLOCATOR_VERSION)
        return ORDERLY_EVERSION;
    if (in->malloc == NULL || in->realloc == NULL || in->free == NULL)
        return ORDERLY_EINVAL;
    *out = *in;
    return ORDERLY_OK;
}
