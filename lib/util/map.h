/* A string-keyed open-addressing hash map (internal). Values are opaque
 * pointers owned by the caller; keys are borrowed from the values, so a
 * value must keep its key alive while it is in the map. */
#ifndef ORDERLY_UTIL_MAP_H
#define ORDERLY_UTIL_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "orderly/sys/alloc.h"

struct orderly__map_slot {
    uint64_t hash;        /* 0 = empty, 1 = deleted */
    const char *key;
    void *value;
};

struct orderly__map {
    const orderly_allocator *alloc;
    struct orderly__map_slot *slots;
    size_t cap;           /* power of two */
    size_t used;          /* live entries */
    size_t tombs;
};

/* The hash a key is stored under, for the _h forms: a caller that looks
 * one key up several times hashes it once. */
uint64_t orderly__map_hash(const char *key);

void orderly__map_init(struct orderly__map *m, const orderly_allocator *alloc);
void orderly__map_free(struct orderly__map *m);
void *orderly__map_get(const struct orderly__map *m, const char *key);
void *orderly__map_get_h(const struct orderly__map *m, const char *key, uint64_t h);
/* Inserts or replaces; returns 0 or ORDERLY_ENOMEM. *old_out gets a replaced value. */
int orderly__map_put(struct orderly__map *m, const char *key, void *value, void **old_out);
int orderly__map_put_h(struct orderly__map *m, const char *key, uint64_t h, void *value,
                       void **old_out);
/* Removes and returns the value, or NULL. */
void *orderly__map_del(struct orderly__map *m, const char *key);
/* Visits live entries in slot order; stops when fn returns non-zero. */
int orderly__map_each(const struct orderly__map *m, int (*fn)(const char *key, void *value, void *ud),
                      void *ud);

#endif
