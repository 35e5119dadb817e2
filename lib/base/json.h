/*
 * jansson's allocations through the orderly allocator of the call that
 * makes them. jansson has one process-wide pair of allocation functions
 * and no context pointer, so orderly installs, once, a pair that reads the
 * allocator of the orderly call running on this thread (set by
 * orderly__json_enter, cleared by orderly__json_leave) and falls back to
 * whatever pair was installed before (malloc and free by default) outside
 * orderly's calls. Every jansson object orderly makes is made and freed
 * inside one such scope, under the same allocator. Internal.
 */
#ifndef ORDERLY_BASE_JSON_H
#define ORDERLY_BASE_JSON_H

#include "orderly/sys/alloc.h"

/* Makes a the allocator of jansson calls on this thread until the matching
 * leave; returns the one it replaces. a may be NULL (the fallback). */
const orderly_allocator *orderly__json_enter(const orderly_allocator *a);
void orderly__json_leave(const orderly_allocator *previous);
/* 1 when an allocation failed since the scope was entered (jansson
 * reports some of those as malformed input). */
int orderly__json_failed(void);
/* Frees memory jansson returned (json_dumps text) inside the same scope. */
void orderly__json_free(void *p);

#endif
