#include <string.h>

#include "marks.h"
#include "orderly/errors.h"

/* Marks young holds before it is merged: its table stays in the caches. */
#define YOUNG_MAX 4096

/* Two bits of one 64-bit word per key, picked by hash bits the slot
 * index does not use. Four bits per slot of old (5 to 11 a key): small
 * enough to stay in the caches at a million marks, and about one miss in
 * ten still probes old. */
static uint64_t *word_of(const struct orderly__marks *k, uint64_t h)
{
    return &k->filter[(size_t)(h >> 32) & (k->words - 1)];
}

static uint64_t bits_of(uint64_t h)
{
    return (1ULL << ((h >> 20) & 63)) | (1ULL << ((h >> 26) & 63));
}

static int maybe_old(const struct orderly__marks *k, uint64_t h)
{
    return k->filter != NULL && (*word_of(k, h) & bits_of(h)) == bits_of(h);
}

void orderly__marks_init(struct orderly__marks *k, const orderly_allocator *alloc,
                         orderly__map_key_fn key_of)
{
    memset(k, 0, sizeof *k);
    orderly__map_init(&k->young, alloc, key_of);
    orderly__map_init(&k->old, alloc, key_of);
}

void orderly__marks_free(struct orderly__marks *k)
{
    const orderly_allocator *a = k->old.alloc;

    if (k->filter != NULL)
        a->free(k->filter, a->user_data);
    k->filter = NULL;
    orderly__map_free(&k->young);
    orderly__map_free(&k->old);
}

void *orderly__marks_find(const struct orderly__marks *k, const char *key, uint64_t h,
                          struct orderly__map_pos *pos)
{
    struct orderly__map_pos in_old;
    void *v = orderly__map_find(&k->young, key, h, pos);

    if (v != NULL || !maybe_old(k, h))
        return v;
    return orderly__map_find(&k->old, key, h, &in_old);
}

void *orderly__marks_find_at(const struct orderly__marks *k, const char *key,
                             struct orderly__map_pos *pos)
{
    struct orderly__map_pos in_old;
    void *v = orderly__map_find_at(&k->young, key, pos);

    if (v != NULL || !maybe_old(k, pos->hash))
        return v;
    return orderly__map_find(&k->old, key, pos->hash, &in_old);
}

int orderly__marks_put_at(struct orderly__marks *k, void *value, const struct orderly__map_pos *pos)
{
    return orderly__map_put_at(&k->young, value, pos, NULL);
}

int orderly__marks_reserve(struct orderly__marks *k, size_t n)
{
    return orderly__map_reserve(&k->young, n);
}

void *orderly__marks_del(struct orderly__marks *k, const char *key)
{
    void *v = orderly__map_del(&k->young, key);

    /* old's filter keeps the key's bits: a later miss may probe old once */
    return v != NULL ? v : orderly__map_del(&k->old, key);
}

int orderly__marks_each(const struct orderly__marks *k,
                        int (*fn)(const char *key, void *value, void *ud), void *ud)
{
    int rc = orderly__map_each(&k->young, fn, ud);

    return rc != 0 ? rc : orderly__map_each(&k->old, fn, ud);
}

/* Sizes the filter for old's table and sets the bits of every key in it
 * (the bits of keys deleted since are dropped). */
static int refilter(struct orderly__marks *k)
{
    const orderly_allocator *a = k->old.alloc;
    size_t words = k->old.cap / 16 > 64 ? k->old.cap / 16 : 64, i;
    uint64_t *f = a->malloc(words * sizeof *f, a->user_data);

    if (f == NULL)
        return ORDERLY_ENOMEM;
    if (k->filter != NULL)
        a->free(k->filter, a->user_data);
    memset(f, 0, words * sizeof *f);
    k->filter = f;
    k->words = words;
    k->filter_cap = k->old.cap;
    for (i = 0; i < k->old.cap; i++)
        if (k->old.slots[i].hash >= 2)
            *word_of(k, k->old.slots[i].hash) |= bits_of(k->old.slots[i].hash);
    return ORDERLY_OK;
}

void orderly__marks_settle(struct orderly__marks *k)
{
    size_t i;

    if (k->young.used < YOUNG_MAX)
        return;
    if (orderly__map_reserve(&k->old, k->young.used) < 0)
        return;
    if (k->old.cap != k->filter_cap && refilter(k) < 0)
        return;
    for (i = 0; i < k->young.cap; i++)
        if (k->young.slots[i].hash >= 2)
            *word_of(k, k->young.slots[i].hash) |= bits_of(k->young.slots[i].hash);
    orderly__map_absorb(&k->old, &k->young);
    orderly__map_clear(&k->young);
}
