/* A string-keyed open-addressing hash map (internal). Values are opaque
 * pointers owned by the caller, and each value holds its own key: the map
 * asks key_of for it rather than storing a second pointer per slot, since
 * a slot is touched on every lookup and the map of idempotency marks holds
 * one slot per event ever applied. */
#ifndef ORDERLY_MEMORY_MAP_H
#define ORDERLY_MEMORY_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "orderly/sys/alloc.h"

struct orderly__map_slot {
    uint64_t hash;        /* 0 = empty, 1 = deleted */
    void *value;
};

/* The key a value is stored under; it lives as long as the value. */
typedef const char *(*orderly__map_key_fn)(const void *value);

struct orderly__map {
    const orderly_allocator *alloc;
    orderly__map_key_fn key_of;
    struct orderly__map_slot *slots;
    size_t cap;           /* power of two */
    size_t used;          /* live entries */
    size_t tombs;
    uint64_t gen;         /* changes whenever a slot can lose its key: grow, delete */
};

/* Where a lookup left a key: its slot, or the slot an insert of it would
 * take. It stays true while the map's gen does (inserts of other keys only
 * fill free slots), so a caller that looks a key up and writes it later
 * hashes and probes once; the _at forms check that and probe again if not. */
struct orderly__map_pos {
    uint64_t hash;
    uint64_t gen;
    size_t slot;
    int found;
};

/* The hash a key of len bytes is stored under. */
uint64_t orderly__map_hash(const char *key, size_t len);

void orderly__map_init(struct orderly__map *m, const orderly_allocator *alloc,
                       orderly__map_key_fn key_of);
void orderly__map_free(struct orderly__map *m);
/* Looks key up under hash h and fills *pos. */
void *orderly__map_find(const struct orderly__map *m, const char *key, uint64_t h,
                        struct orderly__map_pos *pos);
/* orderly__map_find for the key *pos came from, refreshing *pos if stale. */
void *orderly__map_find_at(const struct orderly__map *m, const char *key,
                           struct orderly__map_pos *pos);
/* Inserts value under the key *pos came from (its own key), or replaces
 * the value stored there; 0 or ORDERLY_ENOMEM. *old_out gets a replaced
 * value. */
int orderly__map_put_at(struct orderly__map *m, void *value, const struct orderly__map_pos *pos,
                        void **old_out);
/* Makes room for n more inserts without growing; 0 or ORDERLY_ENOMEM. */
int orderly__map_reserve(struct orderly__map *m, size_t n);
/* Removes and returns the value, or NULL. */
void *orderly__map_del(struct orderly__map *m, const char *key);
/* Empties m, keeping its table (room reserved in it stays reserved). */
void orderly__map_clear(struct orderly__map *m);
/* Inserts every entry of src into dst, which must hold none of their keys
 * and have room for them (orderly__map_reserve); each slot is fetched a
 * few entries ahead so the cache misses of a large dst overlap. */
void orderly__map_absorb(struct orderly__map *dst, const struct orderly__map *src);
/* Visits live entries in slot order; stops when fn returns non-zero. */
int orderly__map_each(const struct orderly__map *m, int (*fn)(const char *key, void *value, void *ud),
                      void *ud);

#endif
