/*
 * The in-memory storage adapter. Records and idempotency marks written in
 * a transaction are buffered in it and applied at commit (so other
 * transactions never see them early, and a crash simply drops them).
 * Queue pushes are buffered the same way; claims, finishes and resets act
 * at once with an undo log, so two workers can never claim one item.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#include "fault.h"
#include "map.h"
#include "marks.h"
#include "support.h"
#include "orderly/sys/memory.h"

struct rec {
    uint64_t version;
    size_t len;
    char *key;           /* points into the same allocation, after data */
    uint8_t data[];
};

/*
 * Every row ever pushed stays until purged, so an item is kept small: its
 * group is the one it was pushed into (the name lives there), and the
 * payload follows the fields in the same allocation.
 */
struct item {
    uint64_t id;
    struct group *grp;       /* NULL for the ungrouped "" */
    struct item *prev, *next; /* the queue's pending list, while READY or LEASED */
    orderly_time_ms created, due, lease_until;
    uint64_t lease_token;
    uint32_t kind, attempts;
    uint32_t payload_len;
    uint8_t state, purged;
    uint8_t payload[];
};

struct group {
    struct item **pending;   /* READY or LEASED items of the group, id order */
    size_t n, cap;
    size_t adding;           /* pushed by open transactions: room reserved in pending */
    size_t held;             /* removed by open transactions, back if they roll back */
    uint64_t claim_token;    /* the claim that took pending[0 .. claimed) */
    size_t claimed;
    const char *name;        /* its owner's */
};

/* One history entry. Committed ones form their history's chain in seq
 * order; the engine appends in seq order, so linking one is O(1). */
struct hent {
    struct hent *next;
    orderly_time_ms created;
    uint32_t seq, kind, len;
    uint8_t payload[];
};

/* An order's history: a chain of entries, never purged. */
struct hist {
    struct hent *head, *tail;
    size_t adding;           /* entries open transactions appended */
    uint32_t adding_max;     /* the highest seq among those */
    const char *name;        /* its owner's */
};

/* What is kept under one group name (an order id): its group in each
 * queue and its history, made when first used. One map holds them, so a
 * new order costs one lookup, not one per queue and one for history. */
struct owner {
    struct group *groups[4];
    struct hist *hist;
    char name[];
};

struct queue {
    struct item **items;     /* committed, id order */
    size_t n, cap;
    size_t adding;           /* pushed by open transactions: room reserved in items */
    size_t live_from;        /* items before this index are DONE or DEAD */
    size_t hint;             /* where find_item last found one: a guess, checked */
    struct item *head, *tail; /* READY and LEASED items in id order: what a claim
                               * walks, however many finished items lie between */
    /* queue_next_due's answer, kept while only pushes happen so a timer
     * queue holding every order's deadlines is not walked on each ask: a
     * push lowers it, anything else that moves a pending item forgets it */
    orderly_time_ms next_due;
    uint8_t next_due_known, next_due_any;
    uint64_t next_id;
    struct group *last_group;     /* the one get_group returned last */
};

struct idem {
    uint8_t fingerprint[16];
    orderly_time_ms expires;
    uint32_t len;            /* of the result; the key follows it */
    uint8_t result[];
};

enum op_kind { OP_SAVE, OP_PUSH, OP_IDEM, OP_PURGE, OP_UNDO, OP_HISTORY };

/* The item fields a claim, finish or reset changes, as an undo restores them. */
struct saved {
    uint32_t state, attempts;
    orderly_time_ms due, lease_until;
    uint64_t lease_token;
};

/* One entry of a transaction's log. add_op sets only the kind: whoever adds
 * an op sets the fields its kind lists, and only those are read. */
struct op {
    enum op_kind kind;
    int queue;               /* OP_PUSH, OP_PURGE, OP_UNDO */
    int left;                /* OP_UNDO: 1 left its group's pending list, -1 joined it */
    uint64_t seen;           /* OP_SAVE, OP_IDEM: m->commits when checked against them */
    struct orderly__map_pos pos; /* OP_SAVE, OP_IDEM: the key's place in records or marks */
    struct rec *rec;         /* OP_SAVE: the key's latest save; ->version = new version */
    uint64_t expected;       /* OP_SAVE: the version its first save expected committed */
    struct item *item;       /* OP_PUSH, OP_PURGE, OP_UNDO */
    struct hist *hist;       /* OP_HISTORY: the history hent goes to */
    struct hent *hent;       /* OP_HISTORY */
    struct saved saved;      /* OP_UNDO: fields before a direct change */
    struct idem *idem;       /* OP_IDEM */
};

/*
 * A transaction's last lookup of a key in one map. The core loads an order
 * then saves it, and reads an idempotency mark then writes it: the second
 * call of each pair reuses the first one's hash and probe. The key is
 * copied, since the caller's buffer may hold another key by then.
 */
#define RECENT_KEY_MAX 64        /* ORDERLY_ID_MAX: every key the core uses fits */

struct recent {
    struct orderly__map_pos pos;
    size_t len;              /* of key; SIZE_MAX when none is kept */
    char key[RECENT_KEY_MAX];
};

struct txn {
    struct mem *store;
    struct txn *next;        /* open-transaction list */
    int dead;
    struct op *ops;
    size_t n, cap;
    unsigned kinds;          /* bit k: ops[0 .. n) hold one of kind k */
    uint64_t first_seen;     /* m->commits at the first save or mark checked; UINT64_MAX: none */
    struct recent record, mark; /* in m->records, in m->marks */
};

/*
 * Items, records, idempotency marks, owners, groups (with their pending
 * lists), histories and their entries come from free lists per 16-byte
 * size class, carved from 64 KiB slabs: the heap's slow path for these
 * small objects was a tenth of a command. Larger ones come from the heap
 * behind a link (struct big), so freeing the store frees slabs and that
 * list and never walks the millions of objects it holds. Freed objects are
 * poisoned under AddressSanitizer, so a use after free in the reference
 * adapter is still caught.
 */
#define SLAB_BYTES 65536
#define SLAB_HEAD 32             /* the slab list link, keeping objects aligned */
#define CLASS_BYTES 16
#define CLASSES 32               /* objects up to 512 bytes; larger ones use the heap */

struct big {
    _Alignas(16) struct big *prev; /* the object after it stays 16-aligned */
    struct big *next;
};

struct pool {
    void *free[CLASSES];
    void *slabs;                 /* each slab's first word links the next */
    char *cur;
    size_t left;
    struct big *bigs;            /* objects above the largest class */
};

struct mem {
    orderly_storage base;    /* first: the vtable handed to engines */
    orderly_allocator alloc;
    struct pool pool;
    struct orderly__map records;
    struct orderly__marks marks;
    struct queue queues[4];
    struct orderly__map owners;   /* struct owner by group name */
    struct owner *last_owner;     /* the one owner_of returned last */
    struct hist *last_history;    /* the one history_of returned last */
    struct txn *open;
    struct txn *spare;       /* a finished transaction kept for the next begin */
    uint64_t commits;        /* successful commits: what committed records and marks last changed with */
    size_t records_adding;   /* saves by open transactions: room reserved in records */
    size_t idems_adding;     /* marks by open transactions: room reserved in marks */
    struct orderly__faults faults;
    uint64_t calls[ORDERLY_METHOD_COUNT];
    size_t record_bytes;
    uint64_t last_token;     /* the last fencing token a claim issued */
};

#define MEM(s) ((struct mem *)(void *)(s))

static void *mem_alloc(struct mem *m, size_t n)
{
    return m->alloc.malloc(n, m->alloc.user_data);
}

static void mem_free(struct mem *m, void *p)
{
    if (p != NULL)
        m->alloc.free(p, m->alloc.user_data);
}

/* Starts a new slab: pool_get's slow path, kept out of it so it inlines. */
static int pool_grow(struct mem *m)
{
    struct pool *pl = &m->pool;
    char *slab = mem_alloc(m, SLAB_BYTES);

    if (slab == NULL)
        return ORDERLY_ENOMEM;
    memcpy(slab, &pl->slabs, sizeof pl->slabs);
    pl->slabs = slab;
    pl->cur = slab + SLAB_HEAD;
    pl->left = SLAB_BYTES - SLAB_HEAD;
    POISON(pl->cur, pl->left);
    return ORDERLY_OK;
}

static void *big_get(struct mem *m, size_t n)
{
    struct big *b = mem_alloc(m, sizeof *b + n);

    if (b == NULL)
        return NULL;
    b->prev = NULL;
    b->next = m->pool.bigs;
    if (b->next != NULL)
        b->next->prev = b;
    m->pool.bigs = b;
    return b + 1;
}

static void big_put(struct mem *m, void *p)
{
    struct big *b = (struct big *)p - 1;

    if (b->prev != NULL)
        b->prev->next = b->next;
    else
        m->pool.bigs = b->next;
    if (b->next != NULL)
        b->next->prev = b->prev;
    mem_free(m, b);
}

static inline void *pool_get(struct mem *m, size_t n)
{
    struct pool *pl = &m->pool;
    size_t c = (n - 1) / CLASS_BYTES, size = (c + 1) * CLASS_BYTES;
    void *p;

    if (c >= CLASSES)
        return big_get(m, n);
    if ((p = pl->free[c]) != NULL) {
        UNPOISON(p, size);
        memcpy(&pl->free[c], p, sizeof p);
        return p;
    }
    if (pl->left < size && pool_grow(m) < 0)
        return NULL;
    p = pl->cur;
    pl->cur += size;
    pl->left -= size;
    UNPOISON(p, size);
    return p;
}

/* Returns p, got from pool_get(m, n), to its size class. */
static void pool_put(struct mem *m, void *p, size_t n)
{
    struct pool *pl = &m->pool;
    size_t c = (n - 1) / CLASS_BYTES;

    if (p == NULL)
        return;
    if (c >= CLASSES) {
        big_put(m, p);
        return;
    }
    memcpy(p, &pl->free[c], sizeof p);
    pl->free[c] = p;
    POISON((char *)p + sizeof p, (c + 1) * CLASS_BYTES - sizeof p);
}

static size_t rec_size(const struct rec *r)
{
    return sizeof *r + r->len + strlen(r->key) + 1;
}

static const char *idem_key(const struct idem *d)
{
    return (const char *)d->result + d->len;
}

static size_t idem_size(const struct idem *d)
{
    return offsetof(struct idem, result) + d->len + strlen(idem_key(d)) + 1;
}

static size_t item_size(size_t payload_len)
{
    return offsetof(struct item, payload) + payload_len;
}

static const char *rec_key_of(const void *value)
{
    return ((const struct rec *)value)->key;
}

static const char *idem_key_of(const void *value)
{
    return idem_key(value);
}

static const char *owner_key_of(const void *value)
{
    return ((const struct owner *)value)->name;
}

static void free_rec(struct mem *m, struct rec *r)
{
    if (r != NULL)
        pool_put(m, r, rec_size(r));
}

static void free_idem(struct mem *m, struct idem *d)
{
    if (d != NULL)
        pool_put(m, d, idem_size(d));
}

static int enter(struct mem *m, orderly_ctx *ctx, int method)
{
    int rc;

    m->calls[method]++;
    m->calls[ORDERLY_METHOD_ANY]++;
    if (m->faults.active && (rc = orderly__faults_check(&m->faults, method, ORDERLY_ESTORAGE)) < 0)
        return orderly__mem_fail(ctx, rc, "injected fault in memory storage (method %d, call %llu)",
                             method, (unsigned long long)m->calls[ORDERLY_METHOD_ANY]);
    return ORDERLY_OK;
}

static int txn_ok(struct txn *t, orderly_ctx *ctx)
{
    if (t == NULL)
        return orderly__mem_fail(ctx, ORDERLY_EMISUSE, "no transaction");
    if (t->dead)
        return orderly__mem_fail(ctx, ORDERLY_ESTORAGE, "transaction lost in a simulated crash");
    return ORDERLY_OK;
}

static struct op *add_op(struct txn *t, enum op_kind kind)
{
    struct mem *m = t->store;
    struct op *o;

    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct op *ops = m->alloc.realloc(t->ops, cap * sizeof *ops, m->alloc.user_data);
        if (ops == NULL)
            return NULL;
        t->ops = ops;
        t->cap = cap;
    }
    o = &t->ops[t->n++];
    o->kind = kind;
    t->kinds |= 1u << kind;
    return o;
}

/* 1 when r holds key (len bytes) from the transaction's last lookup; else
 * r takes it, with its hash in r->pos. */
static int recall(struct recent *r, const char *key, size_t len)
{
    if (r->len == len && memcmp(r->key, key, len) == 0)
        return 1;
    r->pos.hash = orderly__map_hash(key, len);
    r->len = SIZE_MAX;
    if (len <= RECENT_KEY_MAX) {
        memcpy(r->key, key, len);
        r->len = len;
    }
    return 0;
}

/* The record of key (len bytes) and, in *pos, where it is. */
static void *lookup(struct orderly__map *map, struct recent *r, const char *key, size_t len,
                    struct orderly__map_pos *pos)
{
    void *v = recall(r, key, len) ? orderly__map_find_at(map, key, &r->pos)
                                  : orderly__map_find(map, key, r->pos.hash, &r->pos);

    *pos = r->pos;
    return v;
}

/* The mark of key (len bytes) and, in *pos, where it is or would go. */
static struct idem *mark_lookup(struct mem *m, struct recent *r, const char *key, size_t len,
                                struct orderly__map_pos *pos)
{
    struct idem *d = recall(r, key, len) ? orderly__marks_find_at(&m->marks, key, &r->pos)
                                         : orderly__marks_find(&m->marks, key, r->pos.hash, &r->pos);

    *pos = r->pos;
    return d;
}

static void free_item(struct mem *m, struct item *it)
{
    pool_put(m, it, item_size(it->payload_len));
}

static size_t hent_size(size_t payload_len)
{
    return offsetof(struct hent, payload) + payload_len;
}

static void free_hent(struct mem *m, struct hent *e)
{
    pool_put(m, e, hent_size(e->len));
}

/* ---- transactions ------------------------------------------------------ */

static int m_begin(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    struct mem *m = MEM(s);
    struct txn *t;
    int rc;

    if ((rc = enter(m, ctx, ORDERLY_METHOD_BEGIN)) < 0)
        return rc;
    if ((t = m->spare) != NULL) {
        m->spare = NULL;
        t->dead = 0;
        t->n = 0;
        t->kinds = 0;
    } else if ((t = mem_alloc(m, sizeof *t)) == NULL) {
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    } else {
        memset(t, 0, sizeof *t);
    }
    t->record.len = t->mark.len = SIZE_MAX;
    t->first_seen = UINT64_MAX;
    t->store = m;
    t->next = m->open;
    m->open = t;
    *txn_out = t;
    return ORDERLY_OK;
}

static void unlink_txn(struct mem *m, struct txn *t)
{
    struct txn **pp;

    for (pp = &m->open; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            return;
        }
    }
}

static void undo(struct mem *m, const struct op *o);

/* Undo direct changes (newest first) and drop buffered writes. */
static void discard(struct mem *m, struct txn *t)
{
    size_t i;

    for (i = t->n; i-- > 0;) {
        struct op *o = &t->ops[i];
        switch (o->kind) {
        case OP_SAVE:
            free_rec(m, o->rec);
            m->records_adding--;
            break;
        case OP_PUSH:
            m->queues[o->queue].adding--;
            if (o->item->grp != NULL)
                o->item->grp->adding--;
            free_item(m, o->item);
            break;
        case OP_IDEM:
            free_idem(m, o->idem);
            m->idems_adding--;
            break;
        case OP_UNDO:
            undo(m, o);
            break;
        case OP_PURGE:
            o->item->purged = 0;
            break;
        case OP_HISTORY:
            o->hist->adding--;
            free_hent(m, o->hent);
            break;
        }
    }
    t->n = 0;
    t->kinds = 0;
}

static void free_txn(struct mem *m, struct txn *t)
{
    if (m->spare == NULL && !t->dead) {
        m->spare = t;
        return;
    }
    mem_free(m, t->ops);
    mem_free(m, t);
}

/* The transaction's save of key (one op per key, however often saved). */
static struct op *own_save(struct txn *t, const char *key, uint64_t h)
{
    size_t i;

    if (!(t->kinds & 1u << OP_SAVE))
        return NULL;
    for (i = t->n; i-- > 0;)
        if (t->ops[i].kind == OP_SAVE && t->ops[i].pos.hash == h && strcmp(t->ops[i].rec->key, key) == 0)
            return &t->ops[i];
    return NULL;
}

static struct idem *own_idem(struct txn *t, const char *key, uint64_t h)
{
    size_t i;

    if (!(t->kinds & 1u << OP_IDEM))
        return NULL;
    for (i = 0; i < t->n; i++)
        if (t->ops[i].kind == OP_IDEM && t->ops[i].pos.hash == h &&
            strcmp(idem_key(t->ops[i].idem), key) == 0)
            return t->ops[i].idem;
    return NULL;
}

static struct owner *owner_of(struct mem *m, const char *name, int create)
{
    struct orderly__map_pos pos;
    struct owner *o;
    size_t len;

    if (m->last_owner != NULL && strcmp(m->last_owner->name, name) == 0)
        return m->last_owner;
    len = strlen(name);
    if ((o = orderly__map_find(&m->owners, name, orderly__map_hash(name, len), &pos)) != NULL)
        return m->last_owner = o;
    if (!create)
        return NULL;
    if ((o = pool_get(m, sizeof *o + len + 1)) == NULL)
        return NULL;
    memset(o, 0, sizeof *o);
    memcpy(o->name, name, len + 1);
    if (orderly__map_put_at(&m->owners, o, &pos, NULL) < 0) {
        pool_put(m, o, sizeof *o + len + 1);
        return NULL;
    }
    return m->last_owner = o;
}

static struct group *get_group(struct mem *m, int queue, const char *name)
{
    struct queue *q = &m->queues[queue];
    struct owner *o;
    struct group *g;

    /* an order's rows come in runs: its commands' pushes, claims, finishes */
    if (q->last_group != NULL && strcmp(q->last_group->name, name) == 0)
        return q->last_group;
    if ((o = owner_of(m, name, 1)) == NULL)
        return NULL;
    if ((g = o->groups[queue]) == NULL) {
        if ((g = pool_get(m, sizeof *g)) == NULL)
            return NULL;
        memset(g, 0, sizeof *g);
        g->name = o->name;
        o->groups[queue] = g;
    }
    return q->last_group = g;
}

/* Makes room for extra more pending items in g. */
static int group_reserve(struct mem *m, struct group *g, size_t extra)
{
    struct item **p;
    size_t cap;

    if (g->n + extra <= g->cap)
        return ORDERLY_OK;
    cap = g->cap ? g->cap : 4;
    while (cap < g->n + extra)
        cap *= 2;
    if ((p = pool_get(m, cap * sizeof *p)) == NULL)
        return ORDERLY_ENOMEM;
    if (g->n > 0)
        memcpy(p, g->pending, g->n * sizeof *p);
    pool_put(m, g->pending, g->cap * sizeof *p);
    g->pending = p;
    g->cap = cap;
    return ORDERLY_OK;
}

/* Room for one more pending item in g, beside those open transactions
 * may still add (adding) or give back (held). */
static int group_reserve_one(struct mem *m, struct group *g)
{
    return group_reserve(m, g, g->adding + g->held + 1);
}

/* Inserts it into its group's pending list in id order. */
static void group_add(struct group *g, struct item *it)
{
    size_t i = g->n;

    while (i > 0 && g->pending[i - 1]->id > it->id) {
        g->pending[i] = g->pending[i - 1];
        i--;
    }
    g->pending[i] = it;
    g->n++;
}

static void group_remove(struct item *it)
{
    struct group *g = it->grp;
    size_t i;

    if (g == NULL)
        return;
    for (i = 0; i < g->n; i++) {
        if (g->pending[i] == it) {
            memmove(&g->pending[i], &g->pending[i + 1], (g->n - i - 1) * sizeof *g->pending);
            g->n--;
            return;
        }
    }
}

static int is_pending(uint32_t state)
{
    return state == ORDERLY_ITEM_READY || state == ORDERLY_ITEM_LEASED;
}

/*
 * Room for every buffered write was reserved when it was made, so a commit
 * cannot fail half-way; what is left is to see that no save or mark lost
 * a race. Records and marks only change at commit (expired marks are only
 * ever removed), so a check made since the last commit still holds, and
 * when nothing committed since the first check there is nothing to do.
 */
static int prepare_commit(struct mem *m, struct txn *t, orderly_ctx *ctx)
{
    size_t i;
    int rc = ORDERLY_OK;

    if (t->first_seen == UINT64_MAX || t->first_seen == m->commits)
        return ORDERLY_OK;
    for (i = 0; i < t->n && rc == ORDERLY_OK; i++) {
        struct op *o = &t->ops[i];
        if (o->kind == OP_SAVE && o->seen != m->commits) {
            struct rec *cur = orderly__map_find_at(&m->records, o->rec->key, &o->pos);
            uint64_t have = cur != NULL ? cur->version : 0;
            if (have != o->expected)
                rc = orderly__mem_fail(ctx, ORDERLY_ECONFLICT,
                                   "record '%s' changed since it was read", o->rec->key);
        } else if (o->kind == OP_IDEM && o->seen != m->commits) {
            if (orderly__marks_find_at(&m->marks, idem_key(o->idem), &o->pos) != NULL)
                rc = orderly__mem_fail(ctx, ORDERLY_ECONFLICT,
                                   "idempotency key '%s' committed concurrently", idem_key(o->idem));
        }
    }
    return rc;
}

/* Room in the committed state for one more write of this kind by an open
 * transaction; the caller counts it in the matching *_adding once the
 * write is buffered. */
static int reserve_push(struct mem *m, struct queue *q, struct group *g)
{
    if (q->n + q->adding >= q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct item **p = m->alloc.realloc(q->items, cap * sizeof *p, m->alloc.user_data);
        if (p == NULL)
            return ORDERLY_ENOMEM;
        q->items = p;
        q->cap = cap;
    }
    return g != NULL ? group_reserve_one(m, g) : ORDERLY_OK;
}

/* The transaction checks a save or mark now: the first such check dates
 * them all for prepare_commit. */
static void checked(struct mem *m, struct txn *t, struct op *o)
{
    if (t->first_seen == UINT64_MAX)
        t->first_seen = m->commits;
    o->seen = m->commits;
}

static orderly_time_ms claimable_at(const struct item *it)
{
    return it->state == ORDERLY_ITEM_LEASED ? it->lease_until : it->due;
}

/* Leased under token: one claim's row, left out by queue_next_due_except
 * (token 0 matches nothing, as no claim is issued 0). */
static int excepted(const struct item *it, uint64_t token)
{
    return token != 0 && it->state == ORDERLY_ITEM_LEASED && it->lease_token == token;
}

static void next_due_forget(struct queue *q)
{
    q->next_due_known = 0;
}

static void pend_insert(struct queue *q, struct item *it)
{
    struct item *after = q->tail;

    if (q->next_due_known && (!q->next_due_any || claimable_at(it) < q->next_due)) {
        q->next_due = claimable_at(it);
        q->next_due_any = 1;
    }

    while (after != NULL && after->id > it->id)
        after = after->prev;
    it->prev = after;
    it->next = after != NULL ? after->next : q->head;
    if (it->next != NULL)
        it->next->prev = it;
    else
        q->tail = it;
    if (after != NULL)
        after->next = it;
    else
        q->head = it;
}

static void pend_remove(struct queue *q, struct item *it)
{
    next_due_forget(q);
    if (it->prev != NULL)
        it->prev->next = it->next;
    else
        q->head = it->next;
    if (it->next != NULL)
        it->next->prev = it->prev;
    else
        q->tail = it->prev;
    it->prev = it->next = NULL;
}

static void queue_insert(struct queue *q, struct item *it)
{
    size_t i = q->n;

    while (i > q->live_from && q->items[i - 1]->id > it->id) {
        q->items[i] = q->items[i - 1];
        i--;
    }
    q->items[i] = it;
    q->n++;
    pend_insert(q, it);
    if (it->grp != NULL)
        group_add(it->grp, it);
}

static void compact(struct mem *m, struct queue *q)
{
    size_t i, j = 0;

    for (i = 0; i < q->n; i++) {
        if (q->items[i]->purged)
            free_item(m, q->items[i]);
        else
            q->items[j++] = q->items[i];
    }
    q->n = j;
    if (q->live_from > q->n)
        q->live_from = q->n;
    while (q->live_from < q->n && !is_pending(q->items[q->live_from]->state))
        q->live_from++;
}

/* The committed entry of h with seq, or NULL; *before gets the last one
 * below seq (NULL when none). Appends come in seq order, so the tail
 * answers most asks without a walk. */
static struct hent *hist_find(const struct hist *h, uint32_t seq, struct hent **before)
{
    struct hent *e, *prev = NULL;

    if (h->tail != NULL && h->tail->seq < seq) {
        prev = h->tail;
        e = NULL;
    } else {
        for (e = h->head; e != NULL && e->seq < seq; e = e->next)
            prev = e;
    }
    if (before != NULL)
        *before = prev;
    return e != NULL && e->seq == seq ? e : NULL;
}

static void hist_link(struct hist *h, struct hent *e)
{
    struct hent *prev;

    (void)hist_find(h, e->seq, &prev);
    e->next = prev != NULL ? prev->next : h->head;
    if (prev != NULL)
        prev->next = e;
    else
        h->head = e;
    if (e->next == NULL)
        h->tail = e;
}

/* No history entry of t was committed meanwhile by another transaction. */
static int history_unique(struct txn *t, orderly_ctx *ctx)
{
    size_t i;

    if (!(t->kinds & 1u << OP_HISTORY))
        return ORDERLY_OK;
    for (i = 0; i < t->n; i++)
        if (t->ops[i].kind == OP_HISTORY &&
            hist_find(t->ops[i].hist, t->ops[i].hent->seq, NULL) != NULL)
            return orderly__mem_fail(ctx, ORDERLY_ECONFLICT,
                                     "history entry %u of '%s' committed concurrently",
                                     t->ops[i].hent->seq, t->ops[i].hist->name);
    return ORDERLY_OK;
}

static int m_commit(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    struct mem *m = MEM(s);
    struct txn *t = txn;
    size_t i;
    unsigned purged = 0;        /* bit q: queue q had purges */
    int rc;

    if ((rc = txn_ok(t, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_COMMIT)) < 0 ||
        (rc = prepare_commit(m, t, ctx)) < 0 || (rc = history_unique(t, ctx)) < 0) {
        discard(m, t);
        unlink_txn(m, t);
        free_txn(m, t);
        return rc;
    }
    for (i = 0; i < t->n; i++) {
        struct op *o = &t->ops[i];
        void *old = NULL;
        size_t size;
        switch (o->kind) {
        case OP_SAVE:
            m->records_adding--;
            if (orderly__map_put_at(&m->records, o->rec, &o->pos, &old) < 0) {
                free_rec(m, o->rec); /* cannot happen: room was reserved */
                break;
            }
            size = rec_size(o->rec);
            if (old != NULL) {
                /* same key: only the data length can differ */
                m->record_bytes -= size - o->rec->len + ((struct rec *)old)->len;
                pool_put(m, old, size - o->rec->len + ((struct rec *)old)->len);
            }
            m->record_bytes += size;
            break;
        case OP_PUSH:
            m->queues[o->queue].adding--;
            if (o->item->grp != NULL)
                o->item->grp->adding--;
            queue_insert(&m->queues[o->queue], o->item);
            break;
        case OP_IDEM:
            m->idems_adding--;
            if (orderly__marks_put_at(&m->marks, o->idem, &o->pos) < 0)
                free_idem(m, o->idem); /* cannot happen: room was reserved */
            break;
        case OP_PURGE:
            purged |= 1u << o->queue;
            break;
        case OP_UNDO:
            if (o->left > 0 && o->item->grp != NULL)
                o->item->grp->held--;
            break;
        case OP_HISTORY:
            o->hist->adding--;
            hist_link(o->hist, o->hent);
            break;
        }
    }
    for (i = 1; purged != 0 && i < 4; i++)
        if (purged & 1u << i)
            compact(m, &m->queues[i]);
    m->commits++;
    if (t->kinds & 1u << OP_IDEM)
        orderly__marks_settle(&m->marks);
    unlink_txn(m, t);
    free_txn(m, t);
    return ORDERLY_OK;
}

static void m_rollback(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    struct mem *m = MEM(s);
    struct txn *t = txn;

    (void)ctx;
    if (t == NULL)
        return;
    m->calls[ORDERLY_METHOD_ANY]++;
    if (!t->dead) {
        discard(m, t);
        unlink_txn(m, t);
    }
    free_txn(m, t);
}

void orderly_memory_storage_crash(orderly_storage *s)
{
    struct mem *m = MEM(s);
    struct txn *t;

    if (m == NULL)
        return;
    for (t = m->open; t != NULL; t = t->next) {
        discard(m, t);
        t->dead = 1;
    }
    m->open = NULL;
}

/* ---- records ----------------------------------------------------------- */

/* ENOTFOUND for key, the message built without printf: creating an order
 * begins with this miss. */
static int no_record(orderly_ctx *ctx, const char *key)
{
    char msg[ORDERLY_ERRMSG_MAX];
    size_t n = strlen(key), room = sizeof msg - 13;

    if (n > room)
        n = room;
    memcpy(msg, "no record '", 11);
    memcpy(msg + 11, key, n);
    memcpy(msg + 11 + n, "'", 2);
    return orderly_ctx_set_error(ctx, ORDERLY_ENOTFOUND, 0, msg);
}

static int m_load(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  orderly_buf *out, uint64_t *version_out)
{
    struct mem *m = MEM(s);
    struct txn *t = txn;
    struct orderly__map_pos pos;
    struct rec *r;
    struct op *own;
    int rc;

    if ((rc = txn_ok(t, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_LOAD)) < 0)
        return rc;
    r = lookup(&m->records, &t->record, key, strlen(key), &pos);
    if ((own = own_save(t, key, pos.hash)) != NULL)
        r = own->rec;
    if (r == NULL)
        return no_record(ctx, key);
    if ((rc = orderly_buf_set(out, r->data, r->len)) < 0)
        return orderly__mem_fail(ctx, rc, "out of memory");
    *version_out = r->version;
    return ORDERLY_OK;
}

static int m_save(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  const uint8_t *data, size_t len, uint64_t expected_version)
{
    struct mem *m = MEM(s);
    struct txn *t = txn;
    struct orderly__map_pos pos;
    struct rec *cur, *r;
    struct op *o;
    uint64_t have;
    size_t klen = strlen(key) + 1;
    int rc;

    if ((rc = txn_ok(t, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_SAVE)) < 0)
        return rc;
    cur = lookup(&m->records, &t->record, key, klen - 1, &pos);
    if ((o = own_save(t, key, pos.hash)) != NULL)
        cur = o->rec;
    have = cur != NULL ? cur->version : 0;
    if (have != expected_version)
        return orderly__mem_fail(ctx, ORDERLY_ECONFLICT,
                             "record '%s' is at version %llu, expected %llu", key,
                             (unsigned long long)have, (unsigned long long)expected_version);
    if ((o == NULL && orderly__map_reserve(&m->records, m->records_adding + 1) < 0) ||
        (r = pool_get(m, sizeof *r + len + klen)) == NULL)
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    r->version = expected_version + 1;
    r->len = len;
    if (len > 0)
        memcpy(r->data, data, len);
    r->key = (char *)r->data + len;
    memcpy(r->key, key, klen);
    if (o != NULL) {
        /* saved again: only the latest is written, checked as the first was */
        free_rec(m, o->rec);
        o->rec = r;
        return ORDERLY_OK;
    }
    if ((o = add_op(t, OP_SAVE)) == NULL) {
        free_rec(m, r);
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    }
    o->rec = r;
    o->pos = pos;
    o->expected = expected_version;
    checked(m, t, o);
    m->records_adding++;
    return ORDERLY_OK;
}

struct scan_state {
    const char *after;
    const char *best;
    struct rec *best_rec;
};

static int find_next(const char *key, void *value, void *ud)
{
    struct scan_state *st = ud;

    if (strcmp(key, st->after) > 0 && (st->best == NULL || strcmp(key, st->best) < 0)) {
        st->best = key;
        st->best_rec = value;
    }
    return 0;
}

static int m_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *after, size_t max,
                  orderly_record_cb cb, void *user_data)
{
    struct mem *m = MEM(s);
    struct scan_state st;
    size_t n = 0;
    int rc;

    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_SCAN)) < 0)
        return rc;
    st.after = after != NULL ? after : "";
    while (n < max) {
        st.best = NULL;
        orderly__map_each(&m->records, find_next, &st);
        if (st.best == NULL)
            break;
        if ((rc = cb(st.best_rec->key, st.best_rec->data, st.best_rec->len, st.best_rec->version,
                     user_data)) < 0)
            return rc;
        st.after = st.best_rec->key;
        n++;
    }
    return (int)n;
}

/* ---- queues ------------------------------------------------------------ */

static int check_queue(int queue, orderly_ctx *ctx)
{
    if (queue < ORDERLY_QUEUE_OUTBOX || queue > ORDERLY_QUEUE_OPERATIONS)
        return orderly__mem_fail(ctx, ORDERLY_EINVAL, "unknown queue %d", queue);
    return ORDERLY_OK;
}

static void to_public(const struct item *it, orderly_queue_item *out)
{
    out->id = it->id;
    out->group = it->grp != NULL ? it->grp->name : "";
    out->kind = it->kind;
    out->state = it->state;
    out->attempts = it->attempts;
    out->payload = it->payload;
    out->payload_len = it->payload_len;
    out->created = it->created;
    out->due = it->due;
    out->lease_token = it->lease_token;
    out->lease_until = it->lease_until;
}

static int m_queue_push(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                        const orderly_queue_item *item, uint64_t *id_out)
{
    struct mem *m = MEM(s);
    struct group *g = NULL;
    struct item *it;
    struct op *o;
    int rc;

    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_QUEUE_PUSH)) < 0 ||
        (rc = check_queue(queue, ctx)) < 0)
        return rc;
    if (item->payload_len > UINT32_MAX)
        return orderly__mem_fail(ctx, ORDERLY_EINVAL, "payload of %zu bytes is too large",
                             item->payload_len);
    /* a group made for a push that rolls back stays, empty: harmless */
    if ((item->group != NULL && item->group[0] != '\0' &&
         (g = get_group(m, queue, item->group)) == NULL) ||
        reserve_push(m, &m->queues[queue], g) < 0 ||
        (it = pool_get(m, item_size(item->payload_len))) == NULL)
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    if ((o = add_op(txn, OP_PUSH)) == NULL) {
        pool_put(m, it, item_size(item->payload_len));
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    }
    *it = (struct item){
        .id = ++m->queues[queue].next_id,
        .grp = g,
        .kind = item->kind,
        .state = ORDERLY_ITEM_READY,
        .payload_len = (uint32_t)item->payload_len,
        .created = item->created,
        .due = item->due,
    };
    if (item->payload_len > 0)
        memcpy(it->payload, item->payload, item->payload_len);
    m->queues[queue].adding++;
    if (g != NULL)
        g->adding++;
    o->queue = queue;
    o->item = it;
    if (id_out != NULL)
        *id_out = it->id;
    return ORDERLY_OK;
}

/* Index of the first item whose id is not below id. */
static size_t lower_bound(const struct queue *q, uint64_t id)
{
    size_t lo = 0, hi = q->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->items[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Workers finish the items a claim took in id order: the one after the
 * last found is tried first; then the slot the id would have if no id
 * were skipped (ids are dense unless a push rolled back), which finds the
 * random rows the engine reads back (a moot deadline) without a binary
 * search of every item ever pushed. */
static struct item *find_item(struct queue *q, uint64_t id)
{
    size_t i = q->hint + 1;

    if (i >= q->n || q->items[i]->id != id) {
        i = q->hint;
        if (i >= q->n || q->items[i]->id != id) {
            uint64_t first = q->n > 0 ? q->items[0]->id : 0;
            i = q->n > 0 && id >= first && id - first < q->n && q->items[id - first]->id == id
                    ? (size_t)(id - first)
                    : lower_bound(q, id);
        }
    }
    if (i >= q->n || q->items[i]->id != id || q->items[i]->purged)
        return NULL;
    q->hint = i;
    return q->items[i];
}

/* An item pending again may sit before live_from. */
static void revive(struct queue *q, const struct item *it)
{
    size_t i = lower_bound(q, it->id);

    if (i < q->live_from)
        q->live_from = i;
}

static struct op *remember(struct txn *t, int queue, struct item *it)
{
    struct op *o = add_op(t, OP_UNDO);

    if (o == NULL)
        return NULL;
    o->queue = queue;
    o->item = it;
    o->left = 0;
    o->saved.state = it->state;
    o->saved.attempts = it->attempts;
    o->saved.due = it->due;
    o->saved.lease_until = it->lease_until;
    o->saved.lease_token = it->lease_token;
    return o;
}

/* Due (or lease expired), and every older pending item of its group was
 * claimed by this same call, so a group is published strictly in order.
 * Claims go in id order, so those items are a prefix of the group's
 * pending list that this call (its token) has counted. */
static int claimable(const struct item *it, orderly_time_ms now, uint64_t token)
{
    struct group *g = it->grp;

    if (it->state == ORDERLY_ITEM_READY) {
        if (it->due > now)
            return 0;
    } else if (it->state != ORDERLY_ITEM_LEASED || it->lease_until > now) {
        return 0;
    }
    if (g == NULL)
        return 1;
    if (g->claim_token != token) {
        g->claim_token = token;
        g->claimed = 0;
    }
    return g->claimed < g->n && g->pending[g->claimed] == it;
}

/* 1 when an item this transaction pushed before own (index i of its ops)
 * into own's group was left unclaimed: own then waits behind it. */
static int own_blocked(const struct txn *t, size_t i, const struct item *own)
{
    size_t j;

    for (j = 0; j < i; j++) {
        const struct op *o = &t->ops[j];
        if (o->kind == OP_PUSH && o->item->grp == own->grp && o->item->state != ORDERLY_ITEM_LEASED)
            return 1;
    }
    return 0;
}

/*
 * The second pass of a claim: the items this transaction pushed, which it
 * sees as any transaction sees its own writes (after every committed one:
 * their ids are higher). One of a group is claimable only when every
 * committed pending item of the group was claimed by this call and no
 * earlier push of the group here was left. They are not in the queue yet,
 * so nothing needs undoing: a rollback frees them.
 */
static int claim_own(struct mem *m, struct txn *t, int queue, orderly_time_ms now, size_t max,
                     size_t n, uint32_t max_attempts, orderly_time_ms lease_until, uint64_t token,
                     uint64_t *token_out, orderly_item_cb cb, void *user_data)
{
    orderly_queue_item pub;
    size_t i;
    int rc;

    if (!(t->kinds & (1u << OP_PUSH)))
        return (int)n;
    for (i = 0; i < t->n && n < max; i++) {
        struct item *it = t->ops[i].item;
        struct group *g;
        if (t->ops[i].kind != OP_PUSH || t->ops[i].queue != queue)
            continue;
        if (it->state != ORDERLY_ITEM_READY || it->due > now)
            continue;
        g = it->grp;
        if (g != NULL && ((g->n > 0 && (g->claim_token != token || g->claimed < g->n)) ||
                          own_blocked(t, i, it)))
            continue;
        m->last_token = token;
        *token_out = token;
        it->state = ORDERLY_ITEM_LEASED;
        it->lease_token = token;
        it->lease_until = lease_until;
        if (it->attempts < max_attempts)
            it->attempts++;
        n++;
        to_public(it, &pub);
        pub.state = ORDERLY_ITEM_READY;
        if ((rc = cb(&pub, user_data)) < 0)
            return rc;
    }
    return (int)n;
}

#define CLAIM_AHEAD 16           /* items fetched ahead of the one a claim looks at */

static int m_queue_claim(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms now, size_t max, uint32_t max_attempts,
                         orderly_time_ms lease_until, uint64_t *token_out, orderly_item_cb cb,
                         void *user_data)
{
    struct mem *m = MEM(s);
    /* issued only if something is claimed; the store's counter is shared
     * by every engine on it, so no two claims ever hold the same token */
    uint64_t token = m->last_token + 1;
    struct queue *q;
    orderly_queue_item pub;
    struct item *it;
    size_t n = 0, ahead;
    int rc;

    *token_out = 0;
    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_QUEUE_CLAIM)) < 0 ||
        (rc = check_queue(queue, ctx)) < 0)
        return rc;
    q = &m->queues[queue];
    ahead = q->live_from + CLAIM_AHEAD;
    for (it = q->head; it != NULL && n < max; it = it->next, ahead++) {
#if defined(__GNUC__)
        /* Pending items mostly sit together from live_from on (an outbox
         * is claimed in id order), so the items array names the ones the
         * list reaches next: their fetches overlap instead of each waiting
         * on the link before it. A wrong guess costs a wasted fetch. */
        if (ahead < q->n)
            __builtin_prefetch(q->items[ahead]);
#endif
        if (!claimable(it, now, token))
            continue;
        uint32_t from = it->state;
        if (remember(txn, queue, it) == NULL)
            return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
        m->last_token = token;
        *token_out = token;
        it->state = ORDERLY_ITEM_LEASED;
        it->lease_token = token;
        it->lease_until = lease_until;
        next_due_forget(q);
        if (it->attempts < max_attempts)
            it->attempts++;
        if (it->grp != NULL)
            it->grp->claimed++;
        n++;
        to_public(it, &pub);
        pub.state = from;
        if ((rc = cb(&pub, user_data)) < 0)
            return rc;
    }
    return claim_own(m, txn, queue, now, max, n, max_attempts, lease_until, token, token_out, cb,
                     user_data);
}

/* Sets it->state, keeping its group's pending list and q->live_from in
 * step; records on o what an undo must reverse. */
static void set_state(struct queue *q, struct item *it, int state, struct op *o)
{
    int was = is_pending(it->state);

    next_due_forget(q);

    it->state = (uint8_t)state;
    if (was && !is_pending(it->state)) {
        pend_remove(q, it);
        if (it->grp != NULL) {
            group_remove(it);
            it->grp->held++;
            o->left = 1;
        }
    } else if (!was && is_pending(it->state)) {
        pend_insert(q, it);
        if (it->grp != NULL) {
            group_add(it->grp, it);
            o->left = -1;
        }
        revive(q, it);
    }
    while (q->live_from < q->n && !is_pending(q->items[q->live_from]->state))
        q->live_from++;
}

static void undo(struct mem *m, const struct op *o)
{
    struct queue *q = &m->queues[o->queue];
    struct item *it = o->item;
    int was = is_pending(it->state);

    next_due_forget(q);
    it->state = (uint8_t)o->saved.state;
    it->attempts = o->saved.attempts;
    it->due = o->saved.due;
    it->lease_token = o->saved.lease_token;
    it->lease_until = o->saved.lease_until;
    if (o->left > 0) {
        it->grp->held--;
        group_add(it->grp, it);
    } else if (o->left < 0) {
        group_remove(it);
    }
    if (was && !is_pending(it->state)) {
        pend_remove(q, it);
    } else if (!was && is_pending(it->state)) {
        pend_insert(q, it);
        revive(q, it);
    }
}

static int m_queue_finish(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                          uint64_t token, int state, orderly_time_ms due, uint32_t attempts)
{
    struct mem *m = MEM(s);
    struct item *it;
    struct op *o;
    int rc;

    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_QUEUE_FINISH)) < 0 ||
        (rc = check_queue(queue, ctx)) < 0)
        return rc;
    if (state != ORDERLY_ITEM_READY && state != ORDERLY_ITEM_DONE && state != ORDERLY_ITEM_DEAD)
        return orderly__mem_fail(ctx, ORDERLY_EINVAL, "finish state %d is not READY, DONE or DEAD", state);
    if ((it = find_item(&m->queues[queue], id)) == NULL)
        return orderly__mem_fail(ctx, ORDERLY_ENOTFOUND, "no item %llu in queue %d",
                             (unsigned long long)id, queue);
    if (it->state != ORDERLY_ITEM_LEASED || it->lease_token != token)
        return orderly__mem_fail(ctx, ORDERLY_ECONFLICT, "item %llu: stale lease token %llu",
                             (unsigned long long)id, (unsigned long long)token);
    if ((o = remember(txn, queue, it)) == NULL)
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    it->due = due;
    it->attempts = attempts;
    set_state(&m->queues[queue], it, state, o);
    return ORDERLY_OK;
}

static int m_queue_reset(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                         int state, orderly_time_ms due)
{
    struct mem *m = MEM(s);
    struct item *it;
    struct group *g;
    struct op *o;
    int rc;

    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_QUEUE_RESET)) < 0 ||
        (rc = check_queue(queue, ctx)) < 0)
        return rc;
    if (state < ORDERLY_ITEM_READY || state > ORDERLY_ITEM_DEAD)
        return orderly__mem_fail(ctx, ORDERLY_EINVAL, "unknown item state %d", state);
    if ((it = find_item(&m->queues[queue], id)) == NULL)
        return orderly__mem_fail(ctx, ORDERLY_ENOTFOUND, "no item %llu in queue %d",
                             (unsigned long long)id, queue);
    if ((g = it->grp) != NULL && group_reserve_one(m, g) < 0)
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    if ((o = remember(txn, queue, it)) == NULL)
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    it->due = due;
    if (state == ORDERLY_ITEM_READY)
        it->attempts = 0;
    set_state(&m->queues[queue], it, state, o);
    return ORDERLY_OK;
}

static int m_queue_get(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                       orderly_item_cb cb, void *user_data)
{
    struct mem *m = MEM(s);
    orderly_queue_item pub;
    struct item *it;
    int rc;

    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_QUEUE_GET)) < 0 ||
        (rc = check_queue(queue, ctx)) < 0)
        return rc;
    if ((it = find_item(&m->queues[queue], id)) == NULL)
        return orderly__mem_fail(ctx, ORDERLY_ENOTFOUND, "no item %llu in queue %d",
                             (unsigned long long)id, queue);
    to_public(it, &pub);
    return (rc = cb(&pub, user_data)) < 0 ? rc : ORDERLY_OK;
}

static int m_queue_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, int state,
                        uint64_t after_id, size_t max, orderly_item_cb cb, void *user_data)
{
    struct mem *m = MEM(s);
    orderly_queue_item pub;
    struct queue *q;
    size_t i, n = 0;
    int rc;

    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_QUEUE_SCAN)) < 0 ||
        (rc = check_queue(queue, ctx)) < 0)
        return rc;
    q = &m->queues[queue];
    for (i = 0; i < q->n && n < max; i++) {
        struct item *it = q->items[i];
        if (it->purged || it->id <= after_id || (state >= 0 && it->state != (uint32_t)state))
            continue;
        to_public(it, &pub);
        if ((rc = cb(&pub, user_data)) < 0)
            return rc;
        n++;
    }
    return (int)n;
}

static int m_queue_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms before, size_t max)
{
    struct mem *m = MEM(s);
    struct queue *q;
    size_t i, n = 0;
    int rc;

    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_QUEUE_PURGE)) < 0 ||
        (rc = check_queue(queue, ctx)) < 0)
        return rc;
    q = &m->queues[queue];
    for (i = 0; i < q->n && n < max; i++) {
        struct item *it = q->items[i];
        struct op *o;
        if (it->purged || it->state != ORDERLY_ITEM_DONE || it->due > before)
            continue;
        if ((o = add_op(txn, OP_PURGE)) == NULL)
            return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
        o->queue = queue;
        o->item = it;
        it->purged = 1;
        n++;
    }
    return (int)n;
}

/* Walks the pending list only: finished rows are never claimable. */
static int m_queue_next_due(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                            orderly_time_ms *due_out)
{
    struct mem *m = MEM(s);
    const struct txn *t = txn;
    const struct item *it;
    struct queue *q;
    orderly_time_ms best = 0;
    size_t i;
    int rc, found = 0;

    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_QUEUE_NEXT_DUE)) < 0 ||
        (rc = check_queue(queue, ctx)) < 0)
        return rc;
    q = &m->queues[queue];
    if (!q->next_due_known) {
        q->next_due_any = 0;
        for (it = q->head; it != NULL; it = it->next)
            if (!q->next_due_any || claimable_at(it) < q->next_due) {
                q->next_due = claimable_at(it);
                q->next_due_any = 1;
            }
        q->next_due_known = 1;
    }
    found = q->next_due_any;
    best = q->next_due;
    /* and this transaction's own pushes, as SQLite sees them */
    for (i = 0; i < t->n; i++) {
        orderly_time_ms d;
        if (t->ops[i].kind != OP_PUSH || t->ops[i].queue != queue)
            continue;
        it = t->ops[i].item;
        d = claimable_at(it);
        if (!found || d < best)
            best = d;
        found = 1;
    }
    if (!found)
        return orderly__mem_fail(ctx, ORDERLY_ENOTFOUND, "queue %d holds nothing pending", queue);
    *due_out = best;
    return ORDERLY_OK;
}

/* Walks the pending list without the cache, which counts every lease:
 * the engine asks right after a claim, which forgets that cache anyway, so
 * the walk costs what queue_next_due's would there; a second cache per
 * token would be bookkeeping on every claim and finish for nothing. */
static int m_queue_next_due_except(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                                   uint64_t token, orderly_time_ms *due_out)
{
    struct mem *m = MEM(s);
    const struct txn *t = txn;
    const struct item *it;
    orderly_time_ms best = 0;
    size_t i;
    int rc, found = 0;

    if ((rc = txn_ok(txn, ctx)) < 0 ||
        (rc = enter(m, ctx, ORDERLY_METHOD_QUEUE_NEXT_DUE_EXCEPT)) < 0 ||
        (rc = check_queue(queue, ctx)) < 0)
        return rc;
    for (it = m->queues[queue].head; it != NULL; it = it->next)
        if (!excepted(it, token) && (!found || claimable_at(it) < best)) {
            best = claimable_at(it);
            found = 1;
        }
    for (i = 0; i < t->n; i++) {
        if (t->ops[i].kind != OP_PUSH || t->ops[i].queue != queue)
            continue;
        it = t->ops[i].item;
        if (!excepted(it, token) && (!found || claimable_at(it) < best)) {
            best = claimable_at(it);
            found = 1;
        }
    }
    if (!found)
        return orderly__mem_fail(ctx, ORDERLY_ENOTFOUND,
                                 "queue %d holds nothing pending outside lease %llu", queue,
                                 (unsigned long long)token);
    *due_out = best;
    return ORDERLY_OK;
}

static int m_queue_stats(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms now, orderly_queue_stats *out)
{
    struct mem *m = MEM(s);
    struct queue *q;
    size_t i;
    int rc;

    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_QUEUE_STATS)) < 0 ||
        (rc = check_queue(queue, ctx)) < 0)
        return rc;
    memset(out, 0, sizeof *out);
    q = &m->queues[queue];
    for (i = 0; i < q->n; i++) {
        struct item *it = q->items[i];
        if (it->purged)
            continue;
        switch (it->state) {
        case ORDERLY_ITEM_READY:
            out->ready++;
            if (it->due <= now)
                out->due++;
            break;
        case ORDERLY_ITEM_LEASED:
            if (it->lease_until > now)
                out->leased++;
            else
                out->lease_expired++;
            break;
        case ORDERLY_ITEM_DONE:
            out->done++;
            break;
        default:
            out->dead++;
            break;
        }
        if (is_pending(it->state) && (out->oldest_pending == 0 || it->created < out->oldest_pending))
            out->oldest_pending = it->created;
    }
    return ORDERLY_OK;
}

/* ---- idempotency ------------------------------------------------------- */

static int held_elsewhere(struct mem *m, struct txn *self, const char *key, uint64_t h)
{
    struct txn *t;

    for (t = m->open; t != NULL; t = t->next)
        if (t != self && own_idem(t, key, h) != NULL)
            return 1;
    return 0;
}

static int m_idem_get(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, orderly_idem_record *out, orderly_buf *result)
{
    struct mem *m = MEM(s);
    struct txn *t = txn;
    struct orderly__map_pos pos;
    struct idem *d, *own;
    int rc;

    if ((rc = txn_ok(t, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_IDEM_GET)) < 0)
        return rc;
    d = mark_lookup(m, &t->mark, key, strlen(key), &pos);
    if (d != NULL && d->expires <= now)
        d = NULL;
    if ((own = own_idem(t, key, pos.hash)) != NULL)
        d = own;
    if (d == NULL) {
        if (held_elsewhere(m, t, key, pos.hash))
            return orderly__mem_fail(ctx, ORDERLY_EINFLIGHT, "key '%s' is held by an open transaction", key);
        return ORDERLY_ENOTFOUND;
    }
    if ((rc = orderly_buf_set(result, d->result, d->len)) < 0)
        return orderly__mem_fail(ctx, rc, "out of memory");
    memcpy(out->fingerprint, d->fingerprint, sizeof out->fingerprint);
    out->expires = d->expires;
    out->result = orderly_buf_data(result);
    out->result_len = d->len;
    return ORDERLY_OK;
}

static int m_idem_put(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, const orderly_idem_record *rec)
{
    struct mem *m = MEM(s);
    struct txn *t = txn;
    struct orderly__map_pos pos;
    struct idem *d, *old;
    struct op *o;
    size_t klen = strlen(key) + 1;
    int rc;

    if ((rc = txn_ok(t, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_IDEM_PUT)) < 0)
        return rc;
    old = mark_lookup(m, &t->mark, key, klen - 1, &pos);
    if (own_idem(t, key, pos.hash) != NULL || (old != NULL && old->expires > now))
        return orderly__mem_fail(ctx, ORDERLY_EEXISTS, "key '%s' already marked", key);
    if (held_elsewhere(m, t, key, pos.hash))
        return orderly__mem_fail(ctx, ORDERLY_EINFLIGHT, "key '%s' is held by an open transaction", key);
    if (old != NULL) {
        /* expired mark: forget it so the new one can take its place */
        orderly__marks_del(&m->marks, key);
        free_idem(m, old);
    }
    if (rec->result_len > UINT32_MAX)
        return orderly__mem_fail(ctx, ORDERLY_EINVAL, "result of %zu bytes is too large", rec->result_len);
    if (orderly__marks_reserve(&m->marks, m->idems_adding + 1) < 0 ||
        (d = pool_get(m, offsetof(struct idem, result) + rec->result_len + klen)) == NULL)
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    memcpy(d->fingerprint, rec->fingerprint, sizeof d->fingerprint);
    d->expires = rec->expires;
    d->len = (uint32_t)rec->result_len;
    if (rec->result_len > 0)
        memcpy(d->result, rec->result, rec->result_len);
    memcpy(d->result + rec->result_len, key, klen);
    if ((o = add_op(t, OP_IDEM)) == NULL) {
        free_idem(m, d);
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    }
    o->idem = d;
    o->pos = pos;
    checked(m, t, o);
    m->idems_adding++;
    return ORDERLY_OK;
}

struct purge_state {
    struct mem *m;
    orderly_time_ms now;
    const char *victims[64];
    size_t n, max;
};

static int collect_expired(const char *key, void *value, void *ud)
{
    struct purge_state *st = ud;
    struct idem *d = value;

    if (d->expires > st->now)
        return 0;
    st->victims[st->n++] = key;
    return st->n >= st->max;
}

static int m_idem_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, orderly_time_ms now,
                        size_t max)
{
    struct mem *m = MEM(s);
    struct purge_state st;
    size_t i, total = 0;
    int rc;

    if ((rc = txn_ok(txn, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_IDEM_PURGE)) < 0)
        return rc;
    /* Expired marks are invisible already, so deleting them at once (not
     * at commit) changes nothing another transaction can observe. */
    while (total < max) {
        st.m = m;
        st.now = now;
        st.n = 0;
        st.max = max - total < 64 ? max - total : 64;
        orderly__marks_each(&m->marks, collect_expired, &st);
        if (st.n == 0)
            break;
        for (i = 0; i < st.n; i++)
            free_idem(m, orderly__marks_del(&m->marks, st.victims[i]));
        total += st.n;
    }
    return (int)total;
}

/* ---- lifecycle --------------------------------------------------------- */

/* ---- order history ------------------------------------------------------- */

static struct hist *history_of(struct mem *m, const char *name, int create)
{
    struct owner *o;
    struct hist *h;

    /* an order's events come in runs: one command appends several */
    if (m->last_history != NULL && strcmp(m->last_history->name, name) == 0)
        return m->last_history;
    if ((o = owner_of(m, name, create)) == NULL)
        return NULL;
    if ((h = o->hist) == NULL) {
        if (!create || (h = pool_get(m, sizeof *h)) == NULL)
            return NULL;
        memset(h, 0, sizeof *h);
        h->name = o->name;
        o->hist = h;
    }
    return m->last_history = h;
}

static int m_history_append(orderly_storage *s, orderly_ctx *ctx, void *txn,
                            const orderly_history_item *item)
{
    struct mem *m = MEM(s);
    struct txn *t = txn;
    struct hist *h;
    struct hent *e;
    struct op *o;
    size_t i;
    int rc;

    if ((rc = txn_ok(t, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_HISTORY_APPEND)) < 0)
        return rc;
    if (item == NULL || item->group == NULL || item->group[0] == '\0' ||
        (item->payload == NULL && item->payload_len > 0))
        return orderly__mem_fail(ctx, ORDERLY_EINVAL, "a history item needs a group");
    if (item->payload_len > UINT32_MAX - hent_size(0))
        return orderly__mem_fail(ctx, ORDERLY_EINVAL, "payload of %zu bytes is too large",
                                 item->payload_len);
    /* a history made for an append that rolls back stays, empty: harmless */
    if ((h = history_of(m, item->group, 1)) == NULL)
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    if (hist_find(h, item->seq, NULL) != NULL)
        return orderly__mem_fail(ctx, ORDERLY_EEXISTS, "history entry %u of '%s' exists",
                                 item->seq, item->group);
    /* open transactions append in seq order: only a seq at or below the
     * highest one pending can repeat one of theirs */
    for (i = 0; h->adding > 0 && item->seq <= h->adding_max && i < t->n; i++)
        if (t->ops[i].kind == OP_HISTORY && t->ops[i].hist == h && t->ops[i].hent->seq == item->seq)
            return orderly__mem_fail(ctx, ORDERLY_EEXISTS, "history entry %u of '%s' exists",
                                     item->seq, item->group);
    if ((e = pool_get(m, hent_size(item->payload_len))) == NULL)
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    if ((o = add_op(t, OP_HISTORY)) == NULL) {
        pool_put(m, e, hent_size(item->payload_len));
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    }
    e->next = NULL;
    e->created = item->created;
    e->seq = item->seq;
    e->kind = item->kind;
    e->len = (uint32_t)item->payload_len;
    if (item->payload_len > 0)
        memcpy(e->payload, item->payload, item->payload_len);
    if (h->adding++ == 0 || item->seq > h->adding_max)
        h->adding_max = item->seq;
    o->hist = h;
    o->hent = e;
    return ORDERLY_OK;
}

static int history_emit(const struct hist *h, const struct hent *e, orderly_history_cb cb,
                        void *user_data)
{
    orderly_history_item v;

    v.group = h->name;
    v.seq = e->seq;
    v.kind = e->kind;
    v.payload = e->payload;
    v.payload_len = e->len;
    v.created = e->created;
    return cb(&v, user_data);
}

static int m_history_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *group,
                          uint32_t from_seq, size_t max, orderly_history_cb cb, void *user_data)
{
    struct mem *m = MEM(s);
    struct txn *t = txn;
    const struct hent *e;
    struct hist *h;
    size_t i, n = 0;
    int rc;

    if ((rc = txn_ok(t, ctx)) < 0 || (rc = enter(m, ctx, ORDERLY_METHOD_HISTORY_SCAN)) < 0)
        return rc;
    if (group == NULL || cb == NULL)
        return orderly__mem_fail(ctx, ORDERLY_EINVAL, "group and callback are required");
    if ((h = history_of(m, group, 0)) == NULL)
        return 0;
    for (e = h->head; e != NULL && n < max; e = e->next) {
        if (e->seq < from_seq)
            continue;
        if ((rc = history_emit(h, e, cb, user_data)) < 0)
            return rc;
        n++;
    }
    /* the transaction's own appends follow what committed before it */
    for (i = 0; (t->kinds & 1u << OP_HISTORY) && i < t->n && n < max; i++) {
        if (t->ops[i].kind != OP_HISTORY || t->ops[i].hist != h || t->ops[i].hent->seq < from_seq)
            continue;
        if ((rc = history_emit(h, t->ops[i].hent, cb, user_data)) < 0)
            return rc;
        n++;
    }
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int orderly_memory_storage_new(orderly_storage **out, const orderly_allocator *alloc)
{
    orderly_allocator a;
    struct mem *m;
    int rc, i;

    if (out == NULL)
        return ORDERLY_EINVAL;
    *out = NULL;
    if ((rc = orderly__mem_alloc_copy(&a, alloc)) < 0)
        return rc;
    if ((m = a.malloc(sizeof *m, a.user_data)) == NULL)
        return ORDERLY_ENOMEM;
    memset(m, 0, sizeof *m);
    m->alloc = a;
    orderly__map_init(&m->records, &m->alloc, rec_key_of);
    orderly__marks_init(&m->marks, &m->alloc, idem_key_of);
    for (i = 0; i < 4; i++)
        m->queues[i].next_due_known = 1; /* empty: nothing is due */
    orderly__map_init(&m->owners, &m->alloc, owner_key_of);
    orderly_storage_init(&m->base, ORDERLY_STORAGE_VERSION);
    m->base.user_data = m;
    m->base.begin = m_begin;
    m->base.commit = m_commit;
    m->base.rollback = m_rollback;
    m->base.load = m_load;
    m->base.save = m_save;
    m->base.scan = m_scan;
    m->base.queue_push = m_queue_push;
    m->base.queue_claim = m_queue_claim;
    m->base.queue_finish = m_queue_finish;
    m->base.queue_reset = m_queue_reset;
    m->base.queue_get = m_queue_get;
    m->base.queue_scan = m_queue_scan;
    m->base.queue_purge = m_queue_purge;
    m->base.queue_stats = m_queue_stats;
    m->base.queue_next_due = m_queue_next_due;
    m->base.queue_next_due_except = m_queue_next_due_except;
    m->base.idem_get = m_idem_get;
    m->base.idem_put = m_idem_put;
    m->base.idem_purge = m_idem_purge;
    m->base.history_append = m_history_append;
    m->base.history_scan = m_history_scan;
    *out = &m->base;
    return ORDERLY_OK;
}

/* Records, marks, items, groups and histories all come from the pool:
 * freeing its slabs and large objects frees them without a walk. */
void orderly_memory_storage_free(orderly_storage *s)
{
    struct mem *m = MEM(s);
    size_t q;

    if (m == NULL)
        return;
    while (m->open != NULL) {
        struct txn *t = m->open;
        m->open = t->next;
        mem_free(m, t->ops);
        mem_free(m, t);
    }
    if (m->spare != NULL) {
        mem_free(m, m->spare->ops);
        mem_free(m, m->spare);
    }
    orderly__map_free(&m->records);
    orderly__marks_free(&m->marks);
    for (q = 0; q < 4; q++)
        mem_free(m, m->queues[q].items);
    orderly__map_free(&m->owners);
    while (m->pool.bigs != NULL) {
        struct big *b = m->pool.bigs;
        m->pool.bigs = b->next;
        mem_free(m, b);
    }
    while (m->pool.slabs != NULL) {
        void *slab = m->pool.slabs;
        memcpy(&m->pool.slabs, slab, sizeof slab);
        UNPOISON(slab, SLAB_BYTES);
        mem_free(m, slab);
    }
    m->alloc.free(m, m->alloc.user_data);
}

int orderly_memory_storage_set_faults(orderly_storage *s, const orderly_fault_plan *plan)
{
    if (s == NULL)
        return ORDERLY_EINVAL;
    if (plan != NULL && (plan->version == 0 || plan->version > ORDERLY_FAULT_PLAN_VERSION))
        return ORDERLY_EVERSION;
    orderly__faults_set(&MEM(s)->faults, plan);
    return ORDERLY_OK;
}

uint64_t orderly_memory_storage_calls(const orderly_storage *s, int method)
{
    if (s == NULL || method < 0 || method >= ORDERLY_METHOD_COUNT)
        return 0;
    return MEM(s)->calls[method];
}

uint64_t orderly_memory_storage_faults(const orderly_storage *s)
{
    return s != NULL ? MEM(s)->faults.injected : 0;
}

void orderly_memory_storage_usage(const orderly_storage *s, size_t *records_out, size_t *bytes_out)
{
    const struct mem *m = MEM(s);

    if (records_out != NULL)
        *records_out = m != NULL ? m->records.used : 0;
    if (bytes_out != NULL)
        *bytes_out = m != NULL ? m->record_bytes + m->records.cap * sizeof(struct orderly__map_slot) : 0;
}
