/*
 * The fault wrapper: any storage behind the fault plans the in-memory
 * adapter understands. Every method counts the call, asks the plan, and
 * either fails before touching the inner storage or forwards unchanged.
 */
#include <string.h>

#include "orderly/sys/fault.h"

#include "../memory/support.h"
#include "../memory/fault.h"

struct wrap {
    orderly_storage base;          /* first: the vtable the engine sees */
    orderly_storage *inner;
    orderly_allocator alloc;
    struct orderly__faults faults;
    uint64_t calls[ORDERLY_METHOD_COUNT];
};

#define WRAP(s) ((struct wrap *)(void *)(s))
#define IN(w) ((w)->inner)

static int enter(struct wrap *w, orderly_ctx *ctx, int method)
{
    int rc;

    w->calls[method]++;
    w->calls[ORDERLY_METHOD_ANY]++;
    if ((rc = orderly__faults_check(&w->faults, method, ORDERLY_ESTORAGE)) < 0)
        return orderly__mem_fail(ctx, rc, "injected fault (method %d, call %llu)", method,
                             (unsigned long long)w->calls[ORDERLY_METHOD_ANY]);
    return ORDERLY_OK;
}

static int f_begin(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_BEGIN);
    return rc < 0 ? rc : IN(w)->begin(IN(w), ctx, txn_out);
}

static int f_commit(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_COMMIT);

    if (rc < 0) {
        /* commit finishes txn either way: a failed one keeps nothing */
        IN(w)->rollback(IN(w), ctx, txn);
        return rc;
    }
    return IN(w)->commit(IN(w), ctx, txn);
}

static void f_rollback(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    struct wrap *w = WRAP(s);
    IN(w)->rollback(IN(w), ctx, txn);
}

static int f_load(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  orderly_buf *out, uint64_t *version_out)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_LOAD);
    return rc < 0 ? rc : IN(w)->load(IN(w), ctx, txn, key, out, version_out);
}

static int f_save(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  const uint8_t *data, size_t len, uint64_t expected_version)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_SAVE);
    return rc < 0 ? rc : IN(w)->save(IN(w), ctx, txn, key, data, len, expected_version);
}

static int f_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *after, size_t max,
                  orderly_record_cb cb, void *user_data)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_SCAN);
    return rc < 0 ? rc : IN(w)->scan(IN(w), ctx, txn, after, max, cb, user_data);
}

static int f_queue_push(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                        const orderly_queue_item *item, uint64_t *id_out)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_QUEUE_PUSH);
    return rc < 0 ? rc : IN(w)->queue_push(IN(w), ctx, txn, queue, item, id_out);
}

static int f_queue_claim(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms now, size_t max, uint32_t max_attempts,
                         orderly_time_ms lease_until, uint64_t *token_out, orderly_item_cb cb,
                         void *user_data)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_QUEUE_CLAIM);
    return rc < 0 ? rc
                  : IN(w)->queue_claim(IN(w), ctx, txn, queue, now, max, max_attempts, lease_until,
                                       token_out, cb, user_data);
}

static int f_queue_finish(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                          uint64_t token, int state, orderly_time_ms due, uint32_t attempts)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_QUEUE_FINISH);
    return rc < 0 ? rc
                  : IN(w)->queue_finish(IN(w), ctx, txn, queue, id, token, state, due, attempts);
}

static int f_queue_reset(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                         int state, orderly_time_ms due)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_QUEUE_RESET);
    return rc < 0 ? rc : IN(w)->queue_reset(IN(w), ctx, txn, queue, id, state, due);
}

static int f_queue_get(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                       orderly_item_cb cb, void *user_data)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_QUEUE_GET);
    return rc < 0 ? rc : IN(w)->queue_get(IN(w), ctx, txn, queue, id, cb, user_data);
}

static int f_queue_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, int state,
                        uint64_t after_id, size_t max, orderly_item_cb cb, void *user_data)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_QUEUE_SCAN);
    return rc < 0 ? rc
                  : IN(w)->queue_scan(IN(w), ctx, txn, queue, state, after_id, max, cb, user_data);
}

static int f_queue_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms before, size_t max)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_QUEUE_PURGE);
    return rc < 0 ? rc : IN(w)->queue_purge(IN(w), ctx, txn, queue, before, max);
}

static int f_queue_stats(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms now, orderly_queue_stats *out)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_QUEUE_STATS);
    return rc < 0 ? rc : IN(w)->queue_stats(IN(w), ctx, txn, queue, now, out);
}

static int f_idem_get(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, orderly_idem_record *out, orderly_buf *result)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_IDEM_GET);
    return rc < 0 ? rc : IN(w)->idem_get(IN(w), ctx, txn, key, now, out, result);
}

static int f_idem_put(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, const orderly_idem_record *rec)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_IDEM_PUT);
    return rc < 0 ? rc : IN(w)->idem_put(IN(w), ctx, txn, key, now, rec);
}

static int f_idem_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, orderly_time_ms now,
                        size_t max)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_IDEM_PURGE);
    return rc < 0 ? rc : IN(w)->idem_purge(IN(w), ctx, txn, now, max);
}

static int f_history_append(orderly_storage *s, orderly_ctx *ctx, void *txn,
                            const orderly_history_item *item)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_HISTORY_APPEND);
    return rc < 0 ? rc : IN(w)->history_append(IN(w), ctx, txn, item);
}

static int f_history_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *group,
                          uint32_t from_seq, size_t max, orderly_history_cb cb, void *user_data)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_HISTORY_SCAN);
    return rc < 0 ? rc : IN(w)->history_scan(IN(w), ctx, txn, group, from_seq, max, cb, user_data);
}

/* The inner storage's version 3 slot, or NULL (its struct may end before it). */
#define INNER_V3(w, slot) (IN(w)->version >= 3 ? IN(w)->slot : NULL)

static int f_begin_read(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_BEGIN_READ);

    if (rc < 0)
        return rc;
    if (INNER_V3(w, begin_read) == NULL)
        return IN(w)->begin(IN(w), ctx, txn_out);
    return IN(w)->begin_read(IN(w), ctx, txn_out);
}

static int f_queue_next_due(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                            orderly_time_ms *due_out)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_QUEUE_NEXT_DUE);
    return rc < 0 ? rc : IN(w)->queue_next_due(IN(w), ctx, txn, queue, due_out);
}

/* The inner storage's version 4 slot, or NULL (its struct may end before it). */
#define INNER_V4(w, slot) (IN(w)->version >= 4 ? IN(w)->slot : NULL)

static int f_queue_next_due_except(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                                   uint64_t token, orderly_time_ms *due_out)
{
    struct wrap *w = WRAP(s);
    int rc = enter(w, ctx, ORDERLY_METHOD_QUEUE_NEXT_DUE_EXCEPT);
    return rc < 0 ? rc : IN(w)->queue_next_due_except(IN(w), ctx, txn, queue, token, due_out);
}

static int is_wrap(const orderly_storage *s)
{
    return s != NULL && s->begin == f_begin;
}

int orderly_fault_storage_new(orderly_storage **out, orderly_storage *inner,
                              const orderly_allocator *alloc)
{
    orderly_allocator a;
    struct wrap *w;
    int rc;

    if (out == NULL)
        return ORDERLY_EINVAL;
    *out = NULL;
    if (inner == NULL)
        return ORDERLY_EINVAL;
    if ((rc = orderly__mem_alloc_copy(&a, alloc)) < 0)
        return rc;
    if ((w = a.malloc(sizeof *w, a.user_data)) == NULL)
        return ORDERLY_ENOMEM;
    memset(w, 0, sizeof *w);
    w->alloc = a;
    w->inner = inner;
    orderly_storage_init(&w->base, ORDERLY_STORAGE_VERSION);
    w->base.begin = f_begin;
    w->base.commit = f_commit;
    w->base.rollback = f_rollback;
    w->base.load = f_load;
    w->base.save = f_save;
    w->base.scan = f_scan;
    w->base.queue_push = f_queue_push;
    w->base.queue_claim = f_queue_claim;
    w->base.queue_finish = f_queue_finish;
    w->base.queue_reset = f_queue_reset;
    w->base.queue_get = f_queue_get;
    w->base.queue_scan = f_queue_scan;
    w->base.queue_purge = f_queue_purge;
    w->base.queue_stats = f_queue_stats;
    w->base.idem_get = f_idem_get;
    w->base.idem_put = f_idem_put;
    w->base.idem_purge = f_idem_purge;
    /* history only when the inner storage keeps it: an engine on a wrapped
     * version 2 adapter sees none, as it would on the adapter itself */
    if (inner->version >= 3 && inner->history_append != NULL && inner->history_scan != NULL) {
        w->base.history_append = f_history_append;
        w->base.history_scan = f_history_scan;
    }
    w->base.begin_read = f_begin_read;
    /* offered only when the inner storage answers it: the engine reads a
     * missing slot as "claim whenever asked" */
    w->base.queue_next_due = INNER_V3(w, queue_next_due) != NULL ? f_queue_next_due : NULL;
    w->base.queue_next_due_except =
        INNER_V4(w, queue_next_due_except) != NULL ? f_queue_next_due_except : NULL;
    *out = &w->base;
    return ORDERLY_OK;
}

void orderly_fault_storage_free(orderly_storage *s)
{
    struct wrap *w;

    if (!is_wrap(s))
        return;
    w = WRAP(s);
    w->alloc.free(w, w->alloc.user_data);
}

int orderly_fault_storage_set_faults(orderly_storage *s, const orderly_fault_plan *plan)
{
    if (!is_wrap(s))
        return ORDERLY_EINVAL;
    if (plan != NULL &&
        (plan->version != ORDERLY_FAULT_PLAN_VERSION || plan->method < 0 ||
         plan->method >= ORDERLY_METHOD_COUNT || !(plan->probability >= 0.0) ||
         plan->probability > 1.0 || plan->code > 0))
        return ORDERLY_EINVAL;
    orderly__faults_set(&WRAP(s)->faults, plan);
    return ORDERLY_OK;
}

uint64_t orderly_fault_storage_calls(const orderly_storage *s, int method)
{
    if (!is_wrap(s) || method < 0 || method >= ORDERLY_METHOD_COUNT)
        return 0;
    return ((const struct wrap *)(const void *)s)->calls[method];
}

uint64_t orderly_fault_storage_faults(const orderly_storage *s)
{
    if (!is_wrap(s))
        return 0;
    return ((const struct wrap *)(const void *)s)->faults.injected;
}
