/*
 * The memory store's idempotency marks (internal): a map of every mark,
 * too large for the caches, behind a small one the newest marks go to.
 * Each command looks a fresh key up and marks it; in one large map both
 * steps waited on a cache and TLB miss. Here a miss is answered by the
 * small map and a bit filter over the large one (a word per key, a few
 * bits a mark), and the small map is merged into the large one a batch
 * at a time, its slots fetched ahead so their misses overlap.
 * A key lives in one of the two maps, never both.
 */
#ifndef ORDERLY_MEMORY_MARKS_H
#define ORDERLY_MEMORY_MARKS_H

#include "map.h"

struct orderly__marks {
    struct orderly__map young;   /* the newest marks; positions refer to it */
    struct orderly__map old;
    uint64_t *filter;            /* bits of the keys put into old; NULL while old is empty */
    size_t words;                /* power of two */
    size_t filter_cap;           /* old's cap the filter was sized for */
};

void orderly__marks_init(struct orderly__marks *k, const orderly_allocator *alloc,
                         orderly__map_key_fn key_of);
void orderly__marks_free(struct orderly__marks *k);
/* The value of key (hash h) or NULL; *pos is where young holds it or an
 * insert into young would put it. */
void *orderly__marks_find(const struct orderly__marks *k, const char *key, uint64_t h,
                          struct orderly__map_pos *pos);
/* orderly__marks_find for the key *pos came from, refreshing *pos if stale. */
void *orderly__marks_find_at(const struct orderly__marks *k, const char *key,
                             struct orderly__map_pos *pos);
/* Inserts value (its key in neither map) into young where *pos says. */
int orderly__marks_put_at(struct orderly__marks *k, void *value, const struct orderly__map_pos *pos);
/* Room for n more inserts into young; 0 or ORDERLY_ENOMEM. */
int orderly__marks_reserve(struct orderly__marks *k, size_t n);
/* Removes and returns key's value, or NULL. */
void *orderly__marks_del(struct orderly__marks *k, const char *key);
/* Visits every mark; stops when fn returns non-zero. */
int orderly__marks_each(const struct orderly__marks *k,
                        int (*fn)(const char *key, void *value, void *ud), void *ud);
/* Moves young into old once it holds a batch. Call with no insert into
 * young pending that was reserved beyond young's room: young keeps its
 * size, so reservations still hold. Best effort: without memory for old
 * it leaves young as it is. */
void orderly__marks_settle(struct orderly__marks *k);

#endif
