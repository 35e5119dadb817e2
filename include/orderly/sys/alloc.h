/*
 * orderly/sys/alloc.h - the allocator hook.
 *
 * Every allocation orderly makes goes through the allocator given to the
 * object that makes it (a context, an engine); there is no global hook.
 * Tests use this seam to fail allocation N and prove nothing leaks.
 */
#ifndef ORDERLY_SYS_ALLOC_H
#define ORDERLY_SYS_ALLOC_H

#include "../common.h"

ORDERLY_BEGIN_DECLS

#define ORDERLY_ALLOCATOR_VERSION 1

typedef struct orderly_allocator {
    unsigned int version;  /* ORDERLY_ALLOCATOR_VERSION; first, always */
    void *user_data;       /* passed back to every method */
    /* ---- version 1 ---- */
    void *ORDERLY_CALLBACK(malloc)(size_t size, void *user_data);
    void *ORDERLY_CALLBACK(realloc)(void *ptr, size_t size, void *user_data);
    void  ORDERLY_CALLBACK(free)(void *ptr, void *user_data);
} orderly_allocator;

/*
 * Zero-fills *alloc and sets its version (for FFI hosts that cannot use a
 * static initialiser). Returns ORDERLY_EVERSION (-15) for an unknown version.
 */
ORDERLY_API int orderly_allocator_init(orderly_allocator *alloc, unsigned int version);

ORDERLY_END_DECLS

#endif
