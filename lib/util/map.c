#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "map.h"
#include "orderly/errors.h"

uint64_t orderly__map_hash(const char *key)
{
    uint64_t h = XXH3_64bits(key, strlen(key));
    return h < 2 ? h + 2 : h;
}

void orderly__map_init(struct orderly__map *m, const orderly_allocator *alloc)
{
    memset(m, 0, sizeof *m);
    m->alloc = alloc;
}

void orderly__map_free(struct orderly__map *m)
{
    if (m->slots != NULL)
        m->alloc->free(m->slots, m->alloc->user_data);
    m->slots = NULL;
    m->cap = m->used = m->tombs = 0;
}

static struct orderly__map_slot *find(const struct orderly__map *m, const char *key, uint64_t h)
{
    size_t i, mask;

    if (m->cap == 0)
        return NULL;
    mask = m->cap - 1;
    for (i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct orderly__map_slot *s = &m->slots[i];
        if (s->hash == 0)
            return NULL;
        if (s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

static int grow(struct orderly__map *m)
{
    struct orderly__map_slot *old = m->slots, *slots;
    size_t old_cap = m->cap, cap = m->cap ? m->cap * 2 : 16, i, j;

    if (m->used * 2 < m->cap)
        cap = m->cap; /* mostly tombstones: rehash in place size */
    slots = m->alloc->malloc(cap * sizeof *slots, m->alloc->user_data);
    if (slots == NULL)
        return ORDERLY_ENOMEM;
    memset(slots, 0, cap * sizeof *slots);
    for (i = 0; i < old_cap; i++) {
        if (old[i].hash < 2)
            continue;
        for (j = (size_t)old[i].hash & (cap - 1); slots[j].hash != 0; j = (j + 1) & (cap - 1))
            ;
        slots[j] = old[i];
    }
    if (old != NULL)
        m->alloc->free(old, m->alloc->user_data);
    m->slots = slots;
    m->cap = cap;
    m->tombs = 0;
    return ORDERLY_OK;
}

void *orderly__map_get(const struct orderly__map *m, const char *key)
{
    return orderly__map_get_h(m, key, orderly__map_hash(key));
}

void *orderly__map_get_h(const struct orderly__map *m, const char *key, uint64_t h)
{
    struct orderly__map_slot *s = find(m, key, h);
    return s != NULL ? s->value : NULL;
}

int orderly__map_put(struct orderly__map *m, const char *key, void *value, void **old_out)
{
    return orderly__map_put_h(m, key, orderly__map_hash(key), value, old_out);
}

int orderly__map_put_h(struct orderly__map *m, const char *key, uint64_t h, void *value,
                       void **old_out)
{
    struct orderly__map_slot *s = find(m, key, h);
    size_t i;
    int rc;

    if (old_out != NULL)
        *old_out = NULL;
    if (s != NULL) {
        if (old_out != NULL)
            *old_out = s->value;
        s->key = key;
        s->value = value;
        return ORDERLY_OK;
    }
    if ((m->used + m->tombs + 1) * 4 >= m->cap * 3 && (rc = grow(m)) < 0)
        return rc;
    for (i = (size_t)h & (m->cap - 1); m->slots[i].hash >= 2; i = (i + 1) & (m->cap - 1))
        ;
    if (m->slots[i].hash == 1)
        m->tombs--;
    m->slots[i].hash = h;
    m->slots[i].key = key;
    m->slots[i].value = value;
    m->used++;
    return ORDERLY_OK;
}

void *orderly__map_del(struct orderly__map *m, const char *key)
{
    struct orderly__map_slot *s = find(m, key, orderly__map_hash(key));
    void *v;

    if (s == NULL)
        return NULL;
    v = s->value;
    s->hash = 1;
    s->key = NULL;
    s->value = NULL;
    m->used--;
    m->tombs++;
    return v;
}

int orderly__map_each(const struct orderly__map *m, int (*fn)(const char *key, void *value, void *ud),
                      void *ud)
{
    size_t i;
    int rc;

    for (i = 0; i < m->cap; i++)
        if (m->slots[i].hash >= 2 && (rc = fn(m->slots[i].key, m->slots[i].value, ud)) != 0)
            return rc;
    return 0;
}
