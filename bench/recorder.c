#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder.h"

static void out_of_memory(void)
{
    fputs("bench: the recorder is out of memory\n", stderr);
    exit(1);
}

static void note(struct recorder *r, unsigned char op, int queue, size_t len, const char *key,
                 uint64_t expected)
{
    struct rec_op *o;

    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1 << 16;
        if ((r->ops = realloc(r->ops, r->cap * sizeof *r->ops)) == NULL)
            out_of_memory();
    }
    o = &r->ops[r->n++];
    o->op = op;
    o->queue = (unsigned char)queue;
    o->len = (uint32_t)len;
    o->expected = expected;
    o->key = 0;
    if (key != NULL) {
        size_t kl = strlen(key) + 1;
        while (r->keys_len + kl > r->keys_cap) {
            r->keys_cap = r->keys_cap ? r->keys_cap * 2 : 1 << 20;
            if ((r->keys = realloc(r->keys, r->keys_cap)) == NULL)
                out_of_memory();
        }
        memcpy(r->keys + r->keys_len, key, kl);
        o->key = (uint32_t)r->keys_len;
        r->keys_len += kl;
    }
}

#define REC(s) ((struct recorder *)(void *)(s))

static int w_begin(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    int rc = REC(s)->inner->begin(REC(s)->inner, ctx, txn_out);

    if (rc == 0)
        note(REC(s), OP_BEGIN, 0, 0, NULL, 0);
    return rc;
}

static int w_commit(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    int rc = REC(s)->inner->commit(REC(s)->inner, ctx, txn);

    note(REC(s), rc == 0 ? OP_COMMIT : OP_ROLLBACK, 0, 0, NULL, 0);
    return rc;
}

static void w_rollback(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    REC(s)->inner->rollback(REC(s)->inner, ctx, txn);
    note(REC(s), OP_ROLLBACK, 0, 0, NULL, 0);
}

static int w_load(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  orderly_buf *out, uint64_t *version_out)
{
    return REC(s)->inner->load(REC(s)->inner, ctx, txn, key, out, version_out);
}

static int w_save(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  const uint8_t *data, size_t len, uint64_t expected)
{
    int rc = REC(s)->inner->save(REC(s)->inner, ctx, txn, key, data, len, expected);

    if (rc == 0)
        note(REC(s), expected == 0 ? OP_INSERT : OP_UPDATE, 0, len, key, expected);
    return rc;
}

static int w_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *after, size_t max,
                  orderly_record_cb cb, void *user_data)
{
    return REC(s)->inner->scan(REC(s)->inner, ctx, txn, after, max, cb, user_data);
}

static int w_push(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                  const orderly_queue_item *item, uint64_t *id_out)
{
    int rc = REC(s)->inner->queue_push(REC(s)->inner, ctx, txn, queue, item, id_out);

    if (rc == 0)
        note(REC(s), OP_PUSH, queue, item->payload_len, item->group, 0);
    return rc;
}

static int w_claim(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, orderly_time_ms now,
                   size_t max, uint32_t max_attempts, orderly_time_ms lease_until,
                   uint64_t *token_out, orderly_item_cb cb, void *user_data)
{
    return REC(s)->inner->queue_claim(REC(s)->inner, ctx, txn, queue, now, max, max_attempts,
                                      lease_until, token_out, cb, user_data);
}

static int w_finish(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                    uint64_t token, int state, orderly_time_ms due, uint32_t attempts)
{
    return REC(s)->inner->queue_finish(REC(s)->inner, ctx, txn, queue, id, token, state, due,
                                       attempts);
}

static int w_reset(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                   int state, orderly_time_ms due)
{
    return REC(s)->inner->queue_reset(REC(s)->inner, ctx, txn, queue, id, state, due);
}

static int w_get(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                 orderly_item_cb cb, void *user_data)
{
    return REC(s)->inner->queue_get(REC(s)->inner, ctx, txn, queue, id, cb, user_data);
}

static int w_qscan(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, int state,
                   uint64_t after_id, size_t max, orderly_item_cb cb, void *user_data)
{
    return REC(s)->inner->queue_scan(REC(s)->inner, ctx, txn, queue, state, after_id, max, cb,
                                     user_data);
}

static int w_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                   orderly_time_ms before, size_t max)
{
    return REC(s)->inner->queue_purge(REC(s)->inner, ctx, txn, queue, before, max);
}

static int w_stats(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, orderly_time_ms now,
                   orderly_queue_stats *out)
{
    return REC(s)->inner->queue_stats(REC(s)->inner, ctx, txn, queue, now, out);
}

static int w_idem_get(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, orderly_idem_record *out, orderly_buf *result)
{
    return REC(s)->inner->idem_get(REC(s)->inner, ctx, txn, key, now, out, result);
}

static int w_idem_put(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, const orderly_idem_record *rec)
{
    int rc = REC(s)->inner->idem_put(REC(s)->inner, ctx, txn, key, now, rec);

    if (rc == 0)
        note(REC(s), OP_IDEM, 0, rec->result_len, key, 0);
    return rc;
}

static int w_idem_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, orderly_time_ms now,
                        size_t max)
{
    return REC(s)->inner->idem_purge(REC(s)->inner, ctx, txn, now, max);
}

static int w_begin_read(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    return REC(s)->inner->begin_read(REC(s)->inner, ctx, txn_out);
}

static int w_next_due(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                      orderly_time_ms *due_out)
{
    return REC(s)->inner->queue_next_due(REC(s)->inner, ctx, txn, queue, due_out);
}

static int w_history_append(orderly_storage *s, orderly_ctx *ctx, void *txn,
                            const orderly_history_item *item)
{
    int rc = REC(s)->inner->history_append(REC(s)->inner, ctx, txn, item);

    if (rc == 0)
        note(REC(s), OP_HISTORY, 0, item->payload_len, item->group, item->seq);
    return rc;
}

static int w_history_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *group,
                          uint32_t from_seq, size_t max, orderly_history_cb cb, void *user_data)
{
    return REC(s)->inner->history_scan(REC(s)->inner, ctx, txn, group, from_seq, max, cb,
                                       user_data);
}

void recorder_init(struct recorder *r, orderly_storage *inner)
{
    memset(r, 0, sizeof *r);
    orderly_storage_init(&r->base, ORDERLY_STORAGE_VERSION);
    r->inner = inner;
    r->base.begin = w_begin;
    r->base.commit = w_commit;
    r->base.rollback = w_rollback;
    r->base.load = w_load;
    r->base.save = w_save;
    r->base.scan = w_scan;
    r->base.queue_push = w_push;
    r->base.queue_claim = w_claim;
    r->base.queue_finish = w_finish;
    r->base.queue_reset = w_reset;
    r->base.queue_get = w_get;
    r->base.queue_scan = w_qscan;
    r->base.queue_purge = w_purge;
    r->base.queue_stats = w_stats;
    r->base.idem_get = w_idem_get;
    r->base.idem_put = w_idem_put;
    r->base.idem_purge = w_idem_purge;
    /* the optional slots only where the adapter has them */
    r->base.history_append = inner->history_append != NULL ? w_history_append : NULL;
    r->base.history_scan = inner->history_scan != NULL ? w_history_scan : NULL;
    r->base.begin_read = inner->begin_read != NULL ? w_begin_read : NULL;
    r->base.queue_next_due = inner->queue_next_due != NULL ? w_next_due : NULL;
}

void recorder_free(struct recorder *r)
{
    free(r->ops);
    free(r->keys);
    r->ops = NULL;
    r->keys = NULL;
}

