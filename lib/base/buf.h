/* The core-owned growable buffer behind orderly_buf (internal layout). */
#ifndef ORDERLY_BASE_BUF_H
#define ORDERLY_BASE_BUF_H

#include "orderly/sys/storage.h"

struct orderly_buf {
    const orderly_allocator *alloc;
    uint8_t *data;
    size_t len;
    size_t cap;
};

void orderly__buf_init(orderly_buf *b, const orderly_allocator *alloc);
void orderly__buf_free(orderly_buf *b);
int orderly__buf_reserve(orderly_buf *b, size_t cap);

#endif
