/*
 * The operation queue: every operation runs from here, first attempt
 * and retries alike, through the host's executor or, without one, as a
 * command event on the commands topic. Exhaustion parks the operation and
 * raises an alert; operators list, inspect and replay.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "../engine/internal.h"
#include "../base/json.h"
#include "../wire/record.h"

int orderly_engine_set_executor(orderly_engine *e, int op, orderly_executor_cb cb, void *user_data)
{
    size_t i, free_slot = ORDERLY__EXECUTORS;

    if (e == NULL)
        return ORDERLY_EINVAL;
    if (op <= 0 || (op < ORDERLY_OP_HOST && orderly_op_name(op) == NULL))
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "op %d is neither an orderly op nor a host op (>= %d)",
                             op, ORDERLY_OP_HOST);
    for (i = 0; i < ORDERLY__EXECUTORS; i++) {
        if (e->executors[i].op == op) {
            free_slot = i;
            break;
        }
        if (e->executors[i].op == 0 && free_slot == ORDERLY__EXECUTORS)
            free_slot = i;
    }
    if (free_slot == ORDERLY__EXECUTORS)
        return orderly__fail(&e->ctx, ORDERLY_ECONFIG, "no room for another executor (at most %d ops)",
                             ORDERLY__EXECUTORS);
    e->executors[free_slot].op = cb != NULL ? op : 0;
    e->executors[free_slot].cb = cb;
    e->executors[free_slot].user_data = user_data;
    return ORDERLY_OK;
}

static const struct orderly__executor *executor(const orderly_engine *e, int op)
{
    size_t i;

    for (i = 0; i < ORDERLY__EXECUTORS; i++)
        if (e->executors[i].op == op)
            return &e->executors[i];
    return NULL;
}

/* The attempts after which op is parked: the host's limit for it, else
 * its declared one, under the policy's cap (orderly_op_default_attempts). */
static uint32_t attempt_limit(const orderly_engine *e, int op)
{
    uint32_t limit = orderly_op_default_attempts(op), cap = e->policy.operation_max_attempts;

    if (op > 0 && op < (int)(sizeof e->op_attempts / sizeof e->op_attempts[0]) &&
        e->op_attempts[op] != 0)
        limit = e->op_attempts[op];
    return limit != 0 && limit < cap ? limit : cap;
}

int orderly_engine_set_op_attempts(orderly_engine *e, int op, uint32_t n)
{
    if (e == NULL)
        return ORDERLY_EINVAL;
    if (op <= 0 || op >= (int)(sizeof e->op_attempts / sizeof e->op_attempts[0]) ||
        orderly_op_name(op) == NULL)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                             "op %d is not an orderly op: host ops are limited by the policy", op);
    if (n > e->policy.operation_max_attempts)
        return orderly__fail(&e->ctx, ORDERLY_ECONFIG,
                             "%u attempts for %s is above policy.operation_max_attempts (%u)", n,
                             orderly_op_name(op), e->policy.operation_max_attempts);
    e->op_attempts[op] = n;
    return ORDERLY_OK;
}

static void view_of(const orderly_engine *e, orderly_operation_view *v,
                    const struct orderly__operation_rec *r, char *key, uint64_t id, uint32_t attempts,
                    int state)
{
    memset(v, 0, sizeof *v);
    v->size = sizeof *v;
    orderly__hex(key, r->key, 16);
    v->id = id;
    v->op = r->op;
    v->order_id = r->order_id;
    v->key = key;
    v->index = r->index;
    v->amount = r->amount;
    v->n_lines = r->n_lines;
    v->sku = r->sku;
    v->warehouse = r->warehouse;
    v->quantity = r->quantity;
    v->attempts = attempts;
    v->state = state;
    v->max_attempts = attempt_limit(e, r->op);
}

/* The command event's JSON text, allocated by jansson: call inside a
 * scope of the engine's allocator. NULL when memory ran out. */
static char *command_text(const orderly_engine *e, const orderly_operation_view *v, const char *type)
{
    json_t *o = json_object(), *lines = json_array();
    char *text = NULL;
    uint32_t i;
    int bad = o == NULL || lines == NULL;

    for (i = 0; i < v->n_lines && !bad; i++) {
        json_t *l = json_object();
        bad |= l == NULL;
        bad |= json_object_set_new(l, "sku", json_integer((json_int_t)v->sku[i]));
        bad |= json_object_set_new(l, "warehouse", json_integer(v->warehouse[i]));
        bad |= json_object_set_new(l, "quantity", json_integer(v->quantity[i]));
        bad |= json_array_append_new(lines, l);
    }
    bad |= json_object_set_new(o, "specversion", json_string("1.0"));
    bad |= json_object_set_new(o, "id", json_string(v->key));
    bad |= json_object_set_new(o, "source", json_string(e->source));
    bad |= json_object_set_new(o, "type", json_string(type));
    bad |= json_object_set_new(o, "subject", json_string(v->order_id));
    bad |= json_object_set_new(o, "schemaversion", json_integer(ORDERLY_SCHEMA_VERSION));
    bad |= json_object_set_new(o, "datacontenttype", json_string("application/json"));
    bad |= json_object_set_new(o, "data", json_pack("{s:s, s:i, s:i, s:I, s:O}", "op", orderly_op_name(v->op),
                                                     "code", v->op, "index", (int)v->index, "amount",
                                                     (json_int_t)v->amount, "lines", lines));
    json_decref(lines);
    if (!bad)
        text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text != NULL && orderly__json_failed()) {
        orderly__json_free(text);
        text = NULL;
    }
    return text;
}

/* Publishes an operation nobody executes in-process as a command event. */
static int publish_command(orderly_engine *e, const orderly_operation_view *v)
{
    const orderly_allocator *previous;
    orderly_header h[2];
    char type[64], *text;
    int rc;

    /* host ops all share the name "host": the code tells the consumer which */
    if (v->op >= ORDERLY_OP_HOST)
        snprintf(type, sizeof type, "orderly.command.host.%d", v->op);
    else
        snprintf(type, sizeof type, "orderly.command.%s", orderly_op_name(v->op));
    previous = orderly__json_enter(&e->alloc);
    text = command_text(e, v, type);
    orderly__json_leave(previous);
    if (text == NULL)
        return orderly__fail(&e->ctx, ORDERLY_ENOMEM, "out of memory encoding operation %llu",
                             (unsigned long long)v->id);
    h[0].name = "ce-id";
    h[0].value = v->key;
    h[1].name = "ce-type";
    h[1].value = type;
    /* the transport is the host's: it runs outside the allocator scope */
    rc = orderly__vt_publish(e, e->topics[ORDERLY_TOPIC_COMMANDS], v->order_id,
                             (const uint8_t *)text, strlen(text), h, 2);
    e->alloc.free(text, e->alloc.user_data);
    return rc;
}

int orderly_engine_run_operations(orderly_engine *e, orderly_time_ms now, size_t max, size_t *done_out)
{
    struct orderly__operation_rec r;
    orderly_operation_view v;
    char key[33], msg[160];
    orderly_work_cb on_work;
    uint64_t token, appended;
    size_t i, done = 0;
    int n, rc;

    if (done_out != NULL)
        *done_out = 0;
    if (e == NULL)
        return ORDERLY_EINVAL;
    if ((n = orderly__claim(e, ORDERLY_QUEUE_OPERATIONS, now, max, e->policy.operation_max_attempts,
                            &token)) <= 0)
        return n;
    /* An executor may feed its answer back through the engine, whose commit
     * calls on_work, where a host may pump, which claims into the e->claimed
     * this loop walks: hold the notices until the batch is finished. */
    on_work = e->on_work;
    e->on_work = NULL;
    appended = e->stats.outbox_appended;
    orderly__operation_rec_at(e, &r, ORDERLY__SITE_RUN);
    for (i = 0; i < (size_t)n; i++) {
        struct orderly__claimed *c = &e->claimed[i];
        const struct orderly__executor *x;
        if (c->held)
            continue;
        if (c->bad || orderly__operation_rec_decode(&r, c->payload, c->len) < 0) {
            orderly__park(e, ORDERLY_QUEUE_OPERATIONS, c, i, (size_t)n,
                          "the operation cannot be decoded");
            continue;
        }
        view_of(e, &v, &r, key, c->id, c->attempts, ORDERLY_ITEM_LEASED);
        x = executor(e, r.op);
        if (x != NULL) {
            rc = x->cb(&v, x->user_data);
        } else if ((rc = publish_command(e, &v)) < 0 && orderly_error_is_transient(rc)) {
            /* the broker is away, not the operation at fault: it waits
             * with its attempts untouched */
            orderly__give_back(c, now + orderly__backoff(e, c->attempts));
            continue;
        }
        if (rc >= 0) {
            done++;
            continue;
        }
        if (c->attempts >= attempt_limit(e, r.op)) {
            c->outcome = ORDERLY_ITEM_DEAD;
            snprintf(msg, sizeof msg, "%s for order %s exhausted %u attempts (last: %s)",
                     orderly_op_name(r.op), r.order_id, c->attempts, orderly_strerror(rc));
            orderly__alert(e, ORDERLY_ALERT_OPERATION_EXHAUSTED, ORDERLY_QUEUE_OPERATIONS, c->id,
                           r.order_id, msg);
        } else {
            c->outcome = ORDERLY_ITEM_READY;
            c->due = now + orderly__backoff(e, c->attempts);
        }
    }
    e->on_work = on_work;
    rc = orderly__end_step(e, ORDERLY_QUEUE_OPERATIONS, (size_t)n, token, ORDERLY_OK);
    if (e->stats.outbox_appended > appended && on_work != NULL)
        on_work(e, (size_t)(e->stats.outbox_appended - appended), e->work_user_data);
    if (rc < 0)
        return rc;
    if (done_out != NULL)
        *done_out = done;
    return ORDERLY_OK;
}

struct relay {
    orderly_engine *e;
    orderly_operation_cb cb;
    void *user_data;
};

static int relay(const orderly_queue_item *it, void *ud)
{
    struct relay *rl = ud;
    struct orderly__operation_rec r;
    orderly_operation_view v;
    char key[33];

    orderly__operation_rec_at(rl->e, &r, ORDERLY__SITE_LIST);
    if (orderly__operation_rec_decode(&r, it->payload, it->payload_len) < 0)
        return orderly__fail(&rl->e->ctx, ORDERLY_ESTORAGE, "operation %llu is corrupt",
                             (unsigned long long)it->id);
    view_of(rl->e, &v, &r, key, it->id, it->attempts, (int)it->state);
    return rl->cb(&v, rl->user_data);
}

static int read_queue(orderly_engine *e, int get, uint64_t id, int state, size_t max,
                      orderly_operation_cb cb, void *user_data)
{
    struct relay rl = { e, cb, user_data };
    void *txn;
    int rc;

    if (e == NULL || cb == NULL)
        return ORDERLY_EINVAL;
    if ((rc = orderly__vt_begin_read(e, &txn)) < 0)
        return rc;
    rc = get ? orderly__vt_get(e, txn, ORDERLY_QUEUE_OPERATIONS, id, relay, &rl)
             : orderly__vt_scan(e, txn, ORDERLY_QUEUE_OPERATIONS, state, id, max, relay, &rl);
    orderly__vt_rollback(e, txn);
    return rc < 0 ? rc : ORDERLY_OK;
}

int orderly_engine_list_operations(orderly_engine *e, int state, uint64_t after_id, size_t max,
                                orderly_operation_cb cb, void *user_data)
{
    return read_queue(e, 0, after_id, state, max, cb, user_data);
}

int orderly_engine_inspect_operation(orderly_engine *e, uint64_t id, orderly_operation_cb cb, void *user_data)
{
    return read_queue(e, 1, id, -1, 1, cb, user_data);
}

static int state_of(const orderly_queue_item *it, void *ud)
{
    *(uint32_t *)ud = it->state;
    return 0;
}

/*
 * Only a parked (DEAD) operation goes back: a done one would run it
 * again (a capture that succeeded, captured twice), a leased one
 * would run beside the worker holding it, and a pending one is already
 * queued. The state is read in the same transaction as the reset.
 */
int orderly_engine_replay_operation(orderly_engine *e, uint64_t id, orderly_time_ms now)
{
    static const char *const state_names[] = { "pending", "leased", "done" };
    uint32_t state = ORDERLY_ITEM_DEAD;
    void *txn;
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    if ((rc = orderly__vt_begin(e, &txn)) < 0)
        return rc;
    rc = orderly__vt_get(e, txn, ORDERLY_QUEUE_OPERATIONS, id, state_of, &state);
    if (rc == ORDERLY_ENOTFOUND)
        rc = orderly__fail(&e->ctx, rc, "no operation %llu", (unsigned long long)id);
    else if (rc == 0 && state != ORDERLY_ITEM_DEAD)
        rc = orderly__fail(&e->ctx, ORDERLY_EMISUSE,
                           "operation %llu is %s: only parked operations can be replayed",
                           (unsigned long long)id,
                           state < sizeof state_names / sizeof state_names[0] ? state_names[state]
                                                                              : "in an unknown state");
    if (rc == 0)
        rc = orderly__vt_reset(e, txn, ORDERLY_QUEUE_OPERATIONS, id, ORDERLY_ITEM_READY, now);
    if (rc < 0) {
        orderly__vt_rollback(e, txn);
        return rc;
    }
    return orderly__vt_commit(e, txn);
}
