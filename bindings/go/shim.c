/*
 * The C side of the cgo bridge: vtables whose slots call the exported Go
 * trampolines (exports.go), and small helpers that turn a call with out
 * pointers into one crossing over memory C owns.
 */
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

#define HANDLE(p) ((uintptr_t)(p))

int64_t orderly_go_next(const orderly_machine *m, int state, int event)
{
    int next = 0;
    int rc = orderly_machine_next(&next, m, state, event, NULL, NULL);

    return rc < 0 ? rc : next;
}

/* Grows *arr (of *cap elements of size bytes) to at least n elements. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    void *p;

    if (n <= *cap)
        return 0;
    if (n > SIZE_MAX / size)
        return ORDERLY_ENOMEM;
    p = realloc(*arr, n * size);
    if (p == NULL)
        return ORDERLY_ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

int orderly_go_call_lines(orderly_go_call *c, size_t n)
{
    void *p = c->lines;
    int rc = grow(&p, &c->lines_cap, n, sizeof *c->lines);

    c->lines = p;
    return rc;
}

int orderly_go_call_rlines(orderly_go_call *c, size_t n)
{
    void *p = c->rlines;
    int rc = grow(&p, &c->rlines_cap, n, sizeof *c->rlines);

    c->rlines = p;
    return rc;
}

void orderly_go_call_free(orderly_go_call *c)
{
    if (c == NULL)
        return;
    free(c->lines);
    free(c->rlines);
    free(c);
}

static void point(orderly_go_call *c, int has_idem)
{
    c->cmd.order_id = c->order_id;
    c->cmd.idem_key = has_idem ? c->idem_key : NULL;
    c->res = (orderly_result)ORDERLY_RESULT_INIT;
}

int orderly_go_apply(orderly_engine *e, orderly_go_call *c, int has_idem)
{
    point(c, has_idem);
    return orderly_engine_apply(e, &c->cmd, &c->res);
}

int orderly_go_create(orderly_engine *e, orderly_go_call *c, int has_idem)
{
    point(c, has_idem);
    c->spec.order_id = c->order_id;
    c->spec.currency = c->currency;
    c->spec.lines = c->lines;
    c->spec.idem_key = c->cmd.idem_key;
    return orderly_engine_create_order(e, &c->spec, &c->res);
}

int orderly_go_cancel(orderly_engine *e, orderly_go_call *c, int has_idem)
{
    point(c, has_idem);
    return orderly_engine_cancel_order(e, c->order_id, c->cmd.idem_key, c->cmd.now, &c->res);
}

int orderly_go_request_capture(orderly_engine *e, orderly_go_call *c, int has_idem)
{
    point(c, has_idem);
    return orderly_engine_request_capture(e, c->order_id, c->cmd.idem_key, c->cmd.now, &c->res);
}

int orderly_go_open_return(orderly_engine *e, orderly_go_call *c, int exchange, int has_idem)
{
    point(c, has_idem);
    c->index = 0;
    return orderly_engine_open_return(e, &c->index, c->order_id, c->cmd.amount, exchange,
                                      c->cmd.idem_key, c->cmd.now, &c->res);
}

int orderly_go_open_return_lines(orderly_engine *e, orderly_go_call *c, int has_idem)
{
    point(c, has_idem);
    c->index = 0;
    c->ret.version = ORDERLY_RETURN_SPEC_VERSION;
    c->ret.order_id = c->order_id;
    c->ret.lines = c->rlines;
    c->ret.idem_key = c->cmd.idem_key;
    return orderly_engine_open_return_lines(e, &c->index, &c->ret, &c->res);
}

static int history_entry(const orderly_history_entry *entry, void *ud)
{
    return goHistoryEntry(HANDLE(ud), (orderly_history_entry *)entry);
}

int orderly_go_order_history(orderly_engine *e, const char *order_id, uint32_t from_seq,
                             size_t max, uintptr_t handle)
{
    return orderly_engine_order_history(e, order_id, from_seq, max, history_entry,
                                        (void *)handle);
}

/* ---- engine callbacks ---------------------------------------------------- */

static void on_work(orderly_engine *e, size_t n, void *ud)
{
    (void)e;
    goEngineWork(HANDLE(ud), n);
}

static void on_alert(const orderly_alert *a, void *ud)
{
    goEngineAlert(HANDLE(ud), (orderly_alert *)a);
}

static orderly_time_ms on_clock(void *ud)
{
    return goEngineClock(HANDLE(ud));
}

int orderly_go_open(orderly_engine **out, orderly_engine_options *o, uintptr_t handle, int flags,
                    orderly_ctx *ctx)
{
    if (flags & ORDERLY_GO_ON_WORK) {
        o->on_work = on_work;
        o->work_user_data = (void *)handle;
    }
    if (flags & ORDERLY_GO_ON_ALERT) {
        o->on_alert = on_alert;
        o->alert_user_data = (void *)handle;
    }
    if (flags & ORDERLY_GO_CLOCK) {
        o->clock = on_clock;
        o->clock_user_data = (void *)handle;
    }
    return orderly_engine_open(out, o, ctx);
}

static int executor(const orderly_operation_view *op, void *ud)
{
    return goExecutor(HANDLE(ud), (orderly_operation_view *)op);
}

int orderly_go_set_executor(orderly_engine *e, int op, uintptr_t handle, int on)
{
    return orderly_engine_set_executor(e, op, on ? executor : NULL, (void *)handle);
}

static int outbox_row(const orderly_outbox_view *row, void *ud)
{
    return goOutboxRow(HANDLE(ud), (orderly_outbox_view *)row);
}

int orderly_go_list_outbox(orderly_engine *e, int state, uint64_t after, size_t max,
                           uintptr_t handle)
{
    return orderly_engine_list_outbox(e, state, after, max, outbox_row, (void *)handle);
}

static int operation_row(const orderly_operation_view *op, void *ud)
{
    return goOperationRow(HANDLE(ud), (orderly_operation_view *)op);
}

int orderly_go_list_operations(orderly_engine *e, int state, uint64_t after, size_t max,
                               uintptr_t handle)
{
    return orderly_engine_list_operations(e, state, after, max, operation_row, (void *)handle);
}

int orderly_go_inspect_operation(orderly_engine *e, uint64_t id, uintptr_t handle)
{
    return orderly_engine_inspect_operation(e, id, operation_row, (void *)handle);
}

static void metric(const char *name, double value, void *ud)
{
    goMetric(HANDLE(ud), (char *)name, value);
}

int orderly_go_metrics(orderly_engine *e, orderly_time_ms now, uintptr_t handle)
{
    return orderly_engine_metrics(e, now, metric, (void *)handle);
}

static int write_chunk(const char *data, size_t len, void *ud)
{
    return goWrite(HANDLE(ud), (char *)data, len);
}

int orderly_go_export(const orderly_machine *m, int format, uintptr_t handle)
{
    return orderly_graph_export(m, format, write_chunk, (void *)handle, NULL);
}

int orderly_go_export_choreography(int format, uintptr_t handle)
{
    return orderly_graph_export_choreography(format, write_chunk, (void *)handle, NULL);
}

/* ---- storage vtable ------------------------------------------------------ */

#define SH(s) HANDLE((s)->user_data)

static int s_begin(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    uintptr_t txn = 0;
    int rc = goStorageBegin(SH(s), ctx, &txn);

    *txn_out = (void *)txn;
    return rc;
}

static int s_commit(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    return goStorageCommit(SH(s), ctx, HANDLE(txn));
}

static void s_rollback(orderly_storage *s, orderly_ctx *ctx, void *txn)
{
    goStorageRollback(SH(s), ctx, HANDLE(txn));
}

static int s_load(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  orderly_buf *out, uint64_t *version_out)
{
    return goStorageLoad(SH(s), ctx, HANDLE(txn), (char *)key, out, version_out);
}

static int s_save(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                  const uint8_t *data, size_t len, uint64_t expected)
{
    return goStorageSave(SH(s), ctx, HANDLE(txn), (char *)key, (uint8_t *)data, len, expected);
}

static int s_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *after, size_t max,
                  orderly_record_cb cb, void *ud)
{
    return goStorageScan(SH(s), ctx, HANDLE(txn), (char *)after, max, cb, ud);
}

static int s_queue_push(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                        const orderly_queue_item *item, uint64_t *id_out)
{
    return goStorageQueuePush(SH(s), ctx, HANDLE(txn), queue, (orderly_queue_item *)item, id_out);
}

static int s_queue_claim(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms now, size_t max, uint32_t max_attempts,
                         orderly_time_ms lease_until, uint64_t *token_out, orderly_item_cb cb,
                         void *ud)
{
    return goStorageQueueClaim(SH(s), ctx, HANDLE(txn), queue, now, max, max_attempts, lease_until,
                               token_out, cb, ud);
}

static int s_queue_finish(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                          uint64_t token, int state, orderly_time_ms due, uint32_t attempts)
{
    return goStorageQueueFinish(SH(s), ctx, HANDLE(txn), queue, id, token, state, due, attempts);
}

static int s_queue_reset(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                         int state, orderly_time_ms due)
{
    return goStorageQueueReset(SH(s), ctx, HANDLE(txn), queue, id, state, due);
}

static int s_queue_get(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                       orderly_item_cb cb, void *ud)
{
    return goStorageQueueGet(SH(s), ctx, HANDLE(txn), queue, id, cb, ud);
}

static int s_queue_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, int state,
                        uint64_t after, size_t max, orderly_item_cb cb, void *ud)
{
    return goStorageQueueScan(SH(s), ctx, HANDLE(txn), queue, state, after, max, cb, ud);
}

static int s_queue_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms before, size_t max)
{
    return goStorageQueuePurge(SH(s), ctx, HANDLE(txn), queue, before, max);
}

static int s_queue_stats(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                         orderly_time_ms now, orderly_queue_stats *out)
{
    return goStorageQueueStats(SH(s), ctx, HANDLE(txn), queue, now, out);
}

static int s_idem_get(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, orderly_idem_record *out, orderly_buf *result)
{
    return goStorageIdemGet(SH(s), ctx, HANDLE(txn), (char *)key, now, out, result);
}

static int s_idem_put(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                      orderly_time_ms now, const orderly_idem_record *rec)
{
    return goStorageIdemPut(SH(s), ctx, HANDLE(txn), (char *)key, now,
                            (orderly_idem_record *)rec);
}

static int s_idem_purge(orderly_storage *s, orderly_ctx *ctx, void *txn, orderly_time_ms now,
                        size_t max)
{
    return goStorageIdemPurge(SH(s), ctx, HANDLE(txn), now, max);
}

static int s_history_append(orderly_storage *s, orderly_ctx *ctx, void *txn,
                            const orderly_history_item *item)
{
    return goStorageHistoryAppend(SH(s), ctx, HANDLE(txn), (orderly_history_item *)item);
}

static int s_history_scan(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *group,
                          uint32_t from_seq, size_t max, orderly_history_cb cb, void *ud)
{
    return goStorageHistoryScan(SH(s), ctx, HANDLE(txn), (char *)group, from_seq, max, cb, ud);
}

static int s_begin_read(orderly_storage *s, orderly_ctx *ctx, void **txn_out)
{
    uintptr_t txn = 0;
    int rc = goStorageBeginRead(SH(s), ctx, &txn);

    *txn_out = (void *)txn;
    return rc;
}

static int s_queue_next_due(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                            orderly_time_ms *due_out)
{
    return goStorageQueueNextDue(SH(s), ctx, HANDLE(txn), queue, due_out);
}

void orderly_go_storage_free(orderly_storage *s)
{
    if (s == NULL)
        return;
    goStorageDestroy(SH(s));
    free(s);
}

/* A Go storage with none of the optional methods is a version 2 one: it
 * makes no version 3 promise (a claim that sees its own pushes). */
orderly_storage *orderly_go_storage_new(uintptr_t handle, int optional)
{
    orderly_storage *s = malloc(sizeof *s);
    unsigned int version = optional ? ORDERLY_STORAGE_VERSION : ORDERLY_STORAGE_VERSION_MIN;

    if (s == NULL || orderly_storage_init(s, version) < 0) {
        free(s);
        return NULL;
    }
    s->user_data = (void *)handle;
    s->begin = s_begin;
    s->commit = s_commit;
    s->rollback = s_rollback;
    s->load = s_load;
    s->save = s_save;
    s->scan = s_scan;
    s->queue_push = s_queue_push;
    s->queue_claim = s_queue_claim;
    s->queue_finish = s_queue_finish;
    s->queue_reset = s_queue_reset;
    s->queue_get = s_queue_get;
    s->queue_scan = s_queue_scan;
    s->queue_purge = s_queue_purge;
    s->queue_stats = s_queue_stats;
    s->idem_get = s_idem_get;
    s->idem_put = s_idem_put;
    s->idem_purge = s_idem_purge;
    s->destroy = orderly_go_storage_free;
    if (optional & ORDERLY_GO_HISTORY) {
        s->history_append = s_history_append;
        s->history_scan = s_history_scan;
    }
    if (optional & ORDERLY_GO_BEGIN_READ)
        s->begin_read = s_begin_read;
    if (optional & ORDERLY_GO_NEXT_DUE)
        s->queue_next_due = s_queue_next_due;
    return s;
}

int orderly_go_item_cb(orderly_item_cb cb, const orderly_queue_item *item, void *ud)
{
    return cb(item, ud);
}

int orderly_go_history_cb(orderly_history_cb cb, const orderly_history_item *item, void *ud)
{
    return cb(item, ud);
}

int orderly_go_record_cb(orderly_record_cb cb, const char *key, const uint8_t *data, size_t len,
                         uint64_t version, void *ud)
{
    return cb(key, data, len, version, ud);
}

/* ---- transport vtable ---------------------------------------------------- */

static int t_publish(orderly_transport *t, orderly_ctx *ctx, const char *topic, const char *key,
                     const uint8_t *data, size_t len, const orderly_header *headers,
                     size_t n_headers)
{
    return goTransportPublish(HANDLE(t->user_data), ctx, (char *)topic, (char *)key,
                              (uint8_t *)data, len, (orderly_header *)headers, n_headers);
}

void orderly_go_transport_free(orderly_transport *t)
{
    if (t == NULL)
        return;
    goTransportDestroy(HANDLE(t->user_data));
    free(t);
}

orderly_transport *orderly_go_transport_new(uintptr_t handle)
{
    orderly_transport *t = malloc(sizeof *t);

    if (t == NULL || orderly_transport_init(t, ORDERLY_TRANSPORT_VERSION) < 0) {
        free(t);
        return NULL;
    }
    t->user_data = (void *)handle;
    t->publish = t_publish;
    t->destroy = orderly_go_transport_free;
    return t;
}
