/*
 * The in-memory transport: publish records messages in an append-only
 * arena; deliver() replays them to a consumer, optionally duplicated,
 * swapped with a neighbour or held back, from a seeded generator so a test
 * run is repeatable.
 */
#include <string.h>

#include "fault.h"
#include "support.h"
#include "orderly/sys/memory.h"

struct msg {
    char *topic;
    char *key;
    uint8_t *data;
    size_t len;
    uint64_t seq;
};

struct pending {
    size_t msg;          /* index into msgs */
    uint32_t hold;       /* deliver() calls still to wait */
};

struct mtrans {
    orderly_transport base;
    orderly_allocator alloc;
    struct msg *msgs;
    size_t n, cap;
    uint64_t published;
    struct pending *queue;
    size_t qn, qcap;
    int keep;
    struct orderly__faults faults;
    orderly_delivery_plan plan;
    uint64_t rng;
};

#define MT(t) ((struct mtrans *)(void *)(t))

static void *dup_bytes(struct mtrans *t, const void *p, size_t n)
{
    uint8_t *q = t->alloc.malloc(n + 1, t->alloc.user_data);

    if (q != NULL) {
        if (n > 0)
            memcpy(q, p, n);
        q[n] = 0;
    }
    return q;
}

static int grow(struct mtrans *t, void **arr, size_t *cap, size_t need, size_t size)
{
    void *p;
    size_t n;

    if (need <= *cap)
        return ORDERLY_OK;
    n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    if ((p = t->alloc.realloc(*arr, n * size, t->alloc.user_data)) == NULL)
        return ORDERLY_ENOMEM;
    *arr = p;
    *cap = n;
    return ORDERLY_OK;
}

static int enqueue(struct mtrans *t, size_t idx)
{
    struct pending *p;

    if (grow(t, (void **)&t->queue, &t->qcap, t->qn + 1, sizeof *t->queue) < 0)
        return ORDERLY_ENOMEM;
    p = &t->queue[t->qn++];
    p->msg = idx;
    p->hold = t->plan.max_delay > 0
                  ? (uint32_t)(orderly__mem_rand01(&t->rng) * (double)(t->plan.max_delay + 1))
                  : 0;
    return ORDERLY_OK;
}

static int mt_publish(orderly_transport *base, orderly_ctx *ctx, const char *topic,
                      const char *key, const uint8_t *data, size_t len,
                      const orderly_header *headers, size_t n_headers)
{
    struct mtrans *t = MT(base);
    struct msg *m;
    int rc;

    (void)headers;
    (void)n_headers;
    if ((rc = orderly__faults_check(&t->faults, ORDERLY_METHOD_ANY, ORDERLY_ETRANSPORT)) < 0)
        return orderly__mem_fail(ctx, rc, "injected fault in memory transport");
    if (!t->keep) {
        t->published++;
        return ORDERLY_OK;
    }
    if (grow(t, (void **)&t->msgs, &t->cap, t->n + 1, sizeof *t->msgs) < 0)
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    m = &t->msgs[t->n];
    m->topic = dup_bytes(t, topic, strlen(topic));
    m->key = dup_bytes(t, key, strlen(key));
    m->data = dup_bytes(t, data, len);
    if (m->topic == NULL || m->key == NULL || m->data == NULL || enqueue(t, t->n) < 0) {
        t->alloc.free(m->topic, t->alloc.user_data);
        t->alloc.free(m->key, t->alloc.user_data);
        t->alloc.free(m->data, t->alloc.user_data);
        return orderly__mem_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    }
    m->len = len;
    m->seq = t->published++;
    t->n++;
    return ORDERLY_OK;
}

int orderly_memory_transport_new(orderly_transport **out, const orderly_allocator *alloc)
{
    orderly_allocator a;
    struct mtrans *t;
    int rc;

    if (out == NULL)
        return ORDERLY_EINVAL;
    *out = NULL;
    if ((rc = orderly__mem_alloc_copy(&a, alloc)) < 0)
        return rc;
    if ((t = a.malloc(sizeof *t, a.user_data)) == NULL)
        return ORDERLY_ENOMEM;
    memset(t, 0, sizeof *t);
    t->alloc = a;
    t->keep = 1;
    orderly_transport_init(&t->base, ORDERLY_TRANSPORT_VERSION);
    t->base.user_data = t;
    t->base.publish = mt_publish;
    *out = &t->base;
    return ORDERLY_OK;
}

void orderly_memory_transport_clear(orderly_transport *base)
{
    struct mtrans *t = MT(base);
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < t->n; i++) {
        t->alloc.free(t->msgs[i].topic, t->alloc.user_data);
        t->alloc.free(t->msgs[i].key, t->alloc.user_data);
        t->alloc.free(t->msgs[i].data, t->alloc.user_data);
    }
    t->n = 0;
    t->qn = 0;
}

void orderly_memory_transport_free(orderly_transport *base)
{
    struct mtrans *t = MT(base);

    if (t == NULL)
        return;
    orderly_memory_transport_clear(base);
    t->alloc.free(t->msgs, t->alloc.user_data);
    t->alloc.free(t->queue, t->alloc.user_data);
    t->alloc.free(t, t->alloc.user_data);
}

int orderly_memory_transport_set_faults(orderly_transport *base, const orderly_fault_plan *plan)
{
    if (base == NULL)
        return ORDERLY_EINVAL;
    if (plan != NULL && (plan->version == 0 || plan->version > ORDERLY_FAULT_PLAN_VERSION))
        return ORDERLY_EVERSION;
    orderly__faults_set(&MT(base)->faults, plan);
    return ORDERLY_OK;
}

int orderly_memory_transport_set_delivery(orderly_transport *base, const orderly_delivery_plan *plan)
{
    struct mtrans *t = MT(base);

    if (t == NULL)
        return ORDERLY_EINVAL;
    if (plan == NULL) {
        memset(&t->plan, 0, sizeof t->plan);
        return ORDERLY_OK;
    }
    if (plan->version == 0 || plan->version > ORDERLY_DELIVERY_PLAN_VERSION)
        return ORDERLY_EVERSION;
    if (plan->duplicate < 0 || plan->duplicate > 1 || plan->reorder < 0 || plan->reorder > 1)
        return ORDERLY_EINVAL;
    t->plan = *plan;
    t->rng = plan->seed;
    return ORDERLY_OK;
}

size_t orderly_memory_transport_count(const orderly_transport *base)
{
    return base != NULL ? (size_t)MT(base)->published : 0;
}

static void to_public(const struct msg *m, orderly_message *out)
{
    out->topic = m->topic;
    out->key = m->key;
    out->data = m->data;
    out->len = m->len;
    out->seq = m->seq;
}

int orderly_memory_transport_get(orderly_message *out, const orderly_transport *base, size_t i)
{
    const struct mtrans *t = MT(base);

    if (out == NULL || t == NULL)
        return ORDERLY_EINVAL;
    if (i >= t->n)
        return ORDERLY_ENOTFOUND;
    to_public(&t->msgs[i], out);
    return ORDERLY_OK;
}

int orderly_memory_transport_deliver(orderly_transport *base, size_t max, orderly_message_cb cb,
                                     void *user_data)
{
    struct mtrans *t = MT(base);
    orderly_message pub;
    size_t i, j = 0, n = 0, count;
    int rc;

    if (t == NULL || cb == NULL)
        return ORDERLY_EINVAL;
    count = t->qn;
    for (i = 0; i + 1 < count; i++) {
        if (t->plan.reorder > 0 && orderly__mem_rand01(&t->rng) < t->plan.reorder) {
            struct pending tmp = t->queue[i];
            t->queue[i] = t->queue[i + 1];
            t->queue[i + 1] = tmp;
            i++;
        }
    }
    for (i = 0; i < count; i++) {
        struct pending p = t->queue[i];
        if (n >= max || p.hold > 0) {
            if (p.hold > 0)
                p.hold--;
            t->queue[j++] = p;
            continue;
        }
        to_public(&t->msgs[p.msg], &pub);
        n++;
        if ((rc = cb(&pub, user_data)) < 0) {
            memmove(&t->queue[j], &t->queue[i + 1], (count - i - 1) * sizeof *t->queue);
            t->qn = j + count - i - 1;
            return rc;
        }
        if (t->plan.duplicate > 0 && orderly__mem_rand01(&t->rng) < t->plan.duplicate) {
            p.hold = 0;
            t->queue[j++] = p;
        }
    }
    t->qn = j;
    return (int)n;
}

void orderly_memory_transport_keep(orderly_transport *base, int keep)
{
    if (base != NULL)
        MT(base)->keep = keep != 0;
}
