#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "map.h"
#include "orderly/errors.h"

uint64_t orderly__map_hash(const char *key, size_t len)
{
    uint64_t h = XXH3_64bits(key, len);
    return h < 2 ? h + 2 : h;
}

void orderly__map_init(struct orderly__map *m, const orderly_allocator *alloc,
                       orderly__map_key_fn key_of)
{
    memset(m, 0, sizeof *m);
    m->alloc = alloc;
    m->key_of = key_of;
}

void orderly__map_free(struct orderly__map *m)
{
    if (m->slots != NULL)
        m->alloc->free(m->slots, m->alloc->user_data);
    m->slots = NULL;
    m->cap = m->used = m->tombs = 0;
    m->gen++;
}

/* The first free slot on h's probe path once there are no tombstones. */
static size_t first_empty(const struct orderly__map *m, uint64_t h)
{
    size_t i;

    for (i = (size_t)h & (m->cap - 1); m->slots[i].hash != 0; i = (i + 1) & (m->cap - 1))
        ;
    return i;
}

/* Puts s into m on its probe path; its key is not in m. */
static void place(struct orderly__map *m, const struct orderly__map_slot *s)
{
    size_t i, mask = m->cap - 1;

    for (i = (size_t)s->hash & mask; m->slots[i].hash >= 2; i = (i + 1) & mask)
        ;
    if (m->slots[i].hash == 1)
        m->tombs--;
    m->slots[i] = *s;
    m->used++;
}

/* Slots fetched ahead of the one placed: enough to cover a miss of a
 * table far larger than the caches (32 measured faster than 8). */
#define AHEAD 32

void orderly__map_absorb(struct orderly__map *dst, const struct orderly__map *src)
{
    struct orderly__map_slot ring[AHEAD];
    size_t i, head = 0, n = 0;

    for (i = 0; i < src->cap; i++) {
        const struct orderly__map_slot *s = &src->slots[i];
        if (s->hash < 2)
            continue;
#if defined(__GNUC__)
        __builtin_prefetch(&dst->slots[(size_t)s->hash & (dst->cap - 1)], 1);
#endif
        if (n < AHEAD) {
            ring[(head + n++) % AHEAD] = *s;
            continue;
        }
        place(dst, &ring[head]);
        ring[head] = *s;
        head = (head + 1) % AHEAD;
    }
    for (; n > 0; n--, head = (head + 1) % AHEAD)
        place(dst, &ring[head]);
}

/* Rehashes into a table with room for n more keys: the same size when
 * dropping the tombstones makes that room, else doubled until it does (n,
 * the writes an open batch has buffered, can outgrow one doubling). */
static int grow(struct orderly__map *m, size_t n)
{
    struct orderly__map_slot *old = m->slots, *slots;
    size_t old_cap = m->cap, cap = m->cap ? m->cap * 2 : 16;

    if ((m->used + n) * 4 < m->cap * 3)
        cap = m->cap; /* mostly tombstones: rehash in place size */
    while ((m->used + n) * 4 >= cap * 3)
        cap *= 2;
    slots = m->alloc->malloc(cap * sizeof *slots, m->alloc->user_data);
    if (slots == NULL)
        return ORDERLY_ENOMEM;
    memset(slots, 0, cap * sizeof *slots);
    m->slots = slots;
    m->cap = cap;
    m->tombs = 0;
    m->used = 0;
    m->gen++;
    if (old != NULL) {
        struct orderly__map from = *m;
        from.slots = old;
        from.cap = old_cap;
        orderly__map_absorb(m, &from);
        m->alloc->free(old, m->alloc->user_data);
    }
    return ORDERLY_OK;
}

int orderly__map_reserve(struct orderly__map *m, size_t n)
{
    int rc;

    /* the condition under which orderly__map_put_at inserts without growing */
    while ((m->used + m->tombs + n) * 4 >= m->cap * 3)
        if ((rc = grow(m, n)) < 0)
            return rc;
    return ORDERLY_OK;
}

void *orderly__map_find(const struct orderly__map *m, const char *key, uint64_t h,
                        struct orderly__map_pos *pos)
{
    size_t i, mask, free_slot = SIZE_MAX;

    pos->hash = h;
    pos->gen = m->gen;
    pos->slot = 0;
    pos->found = 0;
    if (m->cap == 0)
        return NULL;
    mask = m->cap - 1;
    for (i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct orderly__map_slot *s = &m->slots[i];
        if (s->hash == 0) {
            pos->slot = free_slot != SIZE_MAX ? free_slot : i;
            return NULL;
        }
        if (s->hash == h && strcmp(m->key_of(s->value), key) == 0) {
            pos->slot = i;
            pos->found = 1;
            return s->value;
        }
        if (s->hash == 1 && free_slot == SIZE_MAX)
            free_slot = i;
    }
}

void *orderly__map_find_at(const struct orderly__map *m, const char *key,
                           struct orderly__map_pos *pos)
{
    if (pos->gen == m->gen && m->cap != 0) {
        if (pos->found)
            return m->slots[pos->slot].value;
        /* no slot lost its key since, so one still free means key was not
         * inserted: it would have gone there */
        if (m->slots[pos->slot].hash < 2)
            return NULL;
    }
    return orderly__map_find(m, key, pos->hash, pos);
}

int orderly__map_put_at(struct orderly__map *m, void *value, const struct orderly__map_pos *pos,
                        void **old_out)
{
    struct orderly__map_pos fresh;
    struct orderly__map_slot *s;
    int rc;

    if (old_out != NULL)
        *old_out = NULL;
    if (pos->gen != m->gen || m->cap == 0 || (!pos->found && m->slots[pos->slot].hash >= 2)) {
        orderly__map_find(m, m->key_of(value), pos->hash, &fresh);
        pos = &fresh;
    }
    if (pos->found) {
        s = &m->slots[pos->slot];
        if (old_out != NULL)
            *old_out = s->value;
        s->value = value;
        return ORDERLY_OK;
    }
    if ((m->used + m->tombs + 1) * 4 >= m->cap * 3) {
        if ((rc = grow(m, 1)) < 0)
            return rc;
        s = &m->slots[first_empty(m, pos->hash)];
    } else {
        s = &m->slots[pos->slot];
    }
    if (s->hash == 1)
        m->tombs--;
    s->hash = pos->hash;
    s->value = value;
    m->used++;
    return ORDERLY_OK;
}

void *orderly__map_del(struct orderly__map *m, const char *key)
{
    struct orderly__map_pos pos;
    struct orderly__map_slot *s;
    void *v = orderly__map_find(m, key, orderly__map_hash(key, strlen(key)), &pos);

    if (!pos.found)
        return NULL;
    s = &m->slots[pos.slot];
    s->hash = 1;
    s->value = NULL;
    m->used--;
    m->tombs++;
    m->gen++;
    return v;
}

int orderly__map_each(const struct orderly__map *m, int (*fn)(const char *key, void *value, void *ud),
                      void *ud)
{
    size_t i;
    int rc;

    for (i = 0; i < m->cap; i++)
        if (m->slots[i].hash >= 2 &&
            (rc = fn(m->key_of(m->slots[i].value), m->slots[i].value, ud)) != 0)
            return rc;
    return 0;
}

void orderly__map_clear(struct orderly__map *m)
{
    if (m->slots != NULL)
        memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->used = m->tombs = 0;
    m->gen++;
}
