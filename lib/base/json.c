#include <stddef.h>
#include <threads.h>

#include <jansson.h>

#include "json.h"

static once_flag installed = ONCE_FLAG_INIT;
static json_malloc_t before_malloc;
static json_free_t before_free;
/* The allocator of the orderly call on this thread, if any: the one piece
 * of state outside an object, scoped to a call and never shared. */
static _Thread_local const orderly_allocator *current;
/* An allocation failed in the current scope: jansson reports some of
 * those as syntax errors, so callers ask here. */
static _Thread_local int failed;

static void *json_alloc(size_t size)
{
    void *p = current != NULL ? current->malloc(size, current->user_data) : before_malloc(size);

    if (p == NULL)
        failed = 1;
    return p;
}

static void json_release(void *p)
{
    if (current != NULL)
        current->free(p, current->user_data);
    else
        before_free(p);
}

static void install(void)
{
    json_get_alloc_funcs(&before_malloc, &before_free);
    json_set_alloc_funcs(json_alloc, json_release);
}

const orderly_allocator *orderly__json_enter(const orderly_allocator *a)
{
    const orderly_allocator *previous = current;

    call_once(&installed, install);
    current = a;
    failed = 0;
    return previous;
}

void orderly__json_leave(const orderly_allocator *previous)
{
    current = previous;
}

int orderly__json_failed(void)
{
    return failed;
}

void orderly__json_free(void *p)
{
    json_release(p);
}
