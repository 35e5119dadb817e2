/*
 * The consuming half: a consumer group read step the host drives, with
 * takeover of abandoned entries and a dead-letter stream per topic. See
 * orderly/sys/redis.h for the contract; the order of one step is
 * take-over first (old work before new), then read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define TOPICS_MAX 16
/* the most arguments one command takes: XREADGROUP over every topic */
#define ARGS_MAX (10 + 2 * TOPICS_MAX)
#define BATCH_MAX 1000

struct orderly_redis_consumer {
    struct orderly__redis_conn conn;
    char *group;
    char *consumer;
    char **topics;
    char **dlqs;                 /* "<topic>.dlq", same index */
    size_t n;
    int64_t claim_idle_ms;
    uint32_t max_deliveries;
    uint32_t batch;
    orderly_redis_dead_cb on_dead;
    void *dead_user_data;
    int groups_ready;            /* 0: (re)create the groups before the next read */
    orderly_redis_consumer_stats st;
};

struct entry {
    const char *id;
    const char *data;
    size_t len;
    const char *meta;            /* NULL when the entry has none */
    size_t meta_len;
};

static void consumer_free(orderly_redis_consumer *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        if (c->topics != NULL)
            free(c->topics[i]);
        if (c->dlqs != NULL)
            free(c->dlqs[i]);
    }
    free(c->topics);
    free(c->dlqs);
    free(c->group);
    free(c->consumer);
    orderly__redis_conn_fini(&c->conn);
    free(c);
}

static int check_options(const orderly_redis_consumer_options *o)
{
    size_t i;

    if (o == NULL)
        return ORDERLY_EINVAL;
    if (o->version == 0 || o->version > ORDERLY_REDIS_CONSUMER_OPTIONS_VERSION)
        return ORDERLY_EVERSION;
    if (o->group == NULL || o->group[0] == '\0' || o->consumer == NULL ||
        o->consumer[0] == '\0' || o->topics == NULL || o->n_topics == 0 ||
        o->n_topics > TOPICS_MAX || o->batch == 0 || o->batch > BATCH_MAX)
        return ORDERLY_EINVAL;
    for (i = 0; i < o->n_topics; i++)
        if (o->topics[i] == NULL || o->topics[i][0] == '\0')
            return ORDERLY_EINVAL;
    return ORDERLY_OK;
}

int orderly_redis_consumer_options_init(orderly_redis_consumer_options *opts,
                                        unsigned int version)
{
    orderly_redis_consumer_options init = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;

    if (opts == NULL)
        return ORDERLY_EINVAL;
    if (version == 0 || version > ORDERLY_REDIS_CONSUMER_OPTIONS_VERSION)
        return ORDERLY_EVERSION;
    *opts = init;
    opts->version = version;
    return ORDERLY_OK;
}

int orderly_redis_consumer_new(orderly_redis_consumer **out,
                               const orderly_redis_consumer_options *o)
{
    orderly_redis_consumer *c;
    size_t i;
    int rc;

    if (out == NULL)
        return ORDERLY_EINVAL;
    *out = NULL;
    if ((rc = check_options(o)) < 0)
        return rc;
    if ((c = calloc(1, sizeof *c)) == NULL)
        return ORDERLY_ENOMEM;
    if ((rc = orderly__redis_conn_init(&c->conn, o->url, o->timeout_ms)) < 0) {
        consumer_free(c);
        return rc;
    }
    c->group = orderly__redis_strdup(o->group);
    c->consumer = orderly__redis_strdup(o->consumer);
    c->topics = calloc(o->n_topics, sizeof *c->topics);
    c->dlqs = calloc(o->n_topics, sizeof *c->dlqs);
    c->n = o->n_topics;
    if (c->group == NULL || c->consumer == NULL || c->topics == NULL || c->dlqs == NULL) {
        consumer_free(c);
        return ORDERLY_ENOMEM;
    }
    for (i = 0; i < c->n; i++) {
        size_t len = strlen(o->topics[i]);
        c->topics[i] = orderly__redis_strdup(o->topics[i]);
        if ((c->dlqs[i] = malloc(len + 5)) != NULL)
            snprintf(c->dlqs[i], len + 5, "%s.dlq", o->topics[i]);
        if (c->topics[i] == NULL || c->dlqs[i] == NULL) {
            consumer_free(c);
            return ORDERLY_ENOMEM;
        }
    }
    c->claim_idle_ms = o->claim_idle_ms;
    c->max_deliveries = o->max_deliveries;
    c->batch = o->batch;
    c->on_dead = o->on_dead;
    c->dead_user_data = o->dead_user_data;
    c->st.size = sizeof c->st;
    *out = c;
    return ORDERLY_OK;
}

void orderly_redis_consumer_free(orderly_redis_consumer *c)
{
    if (c != NULL)
        consumer_free(c);
}

int orderly_redis_consumer_get_stats(const orderly_redis_consumer *c,
                                     orderly_redis_consumer_stats *out)
{
    orderly_redis_consumer_stats st;
    size_t size;

    if (c == NULL || out == NULL || out->size < sizeof st)
        return ORDERLY_EINVAL;
    st = c->st;
    st.reconnects = c->conn.connects > 0 ? c->conn.connects - 1 : 0;
    size = out->size;
    memcpy(out, &st, sizeof st);
    out->size = size;
    return ORDERLY_OK;
}

/* Connects when needed and makes sure the group exists on every topic: a
 * Redis that restarted without persistence has forgotten it. */
static int ensure_groups(orderly_redis_consumer *c, orderly_ctx *ctx)
{
    const char *argv[6];
    size_t lens[6];
    redisReply *r;
    size_t i;
    int fresh, err, kind, rc;

    if ((rc = orderly__redis_conn_ensure(&c->conn, &fresh, ctx)) < 0)
        return rc;
    if (!fresh && c->groups_ready)
        return ORDERLY_OK;
    for (i = 0; i < c->n; i++) {
        argv[0] = "XGROUP", argv[1] = "CREATE", argv[2] = c->topics[i];
        argv[3] = c->group, argv[4] = "0", argv[5] = "MKSTREAM";
        for (int k = 0; k < 6; k++)
            lens[k] = strlen(argv[k]);
        r = orderly__redis_cmd(&c->conn, 6, argv, lens, 0, &err, &kind, ctx);
        if (r == NULL && kind != ORDERLY__REDIS_BUSYGROUP)
            return err;
        if (r != NULL)
            freeReplyObject(r);
    }
    if (ctx != NULL)
        orderly_ctx_clear(ctx);
    c->groups_ready = 1;
    return ORDERLY_OK;
}

/* A command whose arguments are all C strings. */
static redisReply *cmd(orderly_redis_consumer *c, int argc, const char **argv, int extra_ms,
                       int *err, orderly_ctx *ctx)
{
    size_t lens[ARGS_MAX];
    redisReply *r;
    int kind;

    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    r = orderly__redis_cmd(&c->conn, argc, argv, lens, extra_ms, err, &kind, ctx);
    if (r == NULL && kind == ORDERLY__REDIS_NOGROUP)
        c->groups_ready = 0;
    return r;
}

/* Reads one entry [id, [field, value, ...]]; 0 for a deleted one (nil). */
static int read_entry(const redisReply *e, struct entry *out)
{
    const redisReply *f;
    size_t i;

    memset(out, 0, sizeof *out);
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
        e->element[0]->type != REDIS_REPLY_STRING)
        return 0;
    out->id = e->element[0]->str;
    out->data = "";
    f = e->element[1];
    if (f->type != REDIS_REPLY_ARRAY)
        return 0;
    for (i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(k->str, "data") == 0) {
            out->data = v->str;
            out->len = v->len;
        } else if (strcmp(k->str, "metadata") == 0) {
            out->meta = v->str;
            out->meta_len = v->len;
        }
    }
    return 1;
}

static int ack(orderly_redis_consumer *c, size_t t, const char *id, orderly_ctx *ctx)
{
    const char *argv[4] = { "XACK", c->topics[t], c->group, id };
    redisReply *r;
    int err;

    if ((r = cmd(c, 4, argv, 0, &err, ctx)) == NULL)
        return err;
    freeReplyObject(r);
    return ORDERLY_OK;
}

/* Hands one entry to the handler and acknowledges it when accepted. */
static int deliver(orderly_redis_consumer *c, size_t t, const struct entry *e,
                   uint32_t deliveries, orderly_redis_message_cb handler, void *user_data,
                   orderly_ctx *ctx)
{
    orderly_redis_message m;

    m.topic = c->topics[t];
    m.id = e->id;
    m.data = (const uint8_t *)e->data;
    m.len = e->len;
    m.deliveries = deliveries;
    c->st.delivered++;
    if (handler(&m, user_data) != 0) {
        c->st.failed++;
        return ORDERLY_OK;
    }
    c->st.acked++;
    return ack(c, t, e->id, ctx);
}

/* Moves an entry to the topic's DLQ and acknowledges it, atomically. */
static int dead_letter(orderly_redis_consumer *c, size_t t, const struct entry *e,
                       uint32_t deliveries, orderly_ctx *ctx)
{
    const char *argv[11];
    size_t lens[11];
    char count[16];
    const char *multi = "MULTI", *exec = "EXEC", *discard = "DISCARD";
    size_t one_len[1];
    redisReply *r;
    int argc = 0, err;
    orderly_redis_message m;

    snprintf(count, sizeof count, "%u", deliveries);
#define ARG(s, n) (argv[argc] = (s), lens[argc] = (n), argc++)
    ARG("XADD", 4);
    ARG(c->dlqs[t], strlen(c->dlqs[t]));
    ARG("*", 1);
    ARG("data", 4);
    ARG(e->data, e->len);
    if (e->meta != NULL) {
        ARG("metadata", 8);
        ARG(e->meta, e->meta_len);
    }
    ARG("source-id", 9);
    ARG(e->id, strlen(e->id));
    ARG("deliveries", 10);
    ARG(count, strlen(count));
#undef ARG
    one_len[0] = 5;
    if ((r = orderly__redis_cmd(&c->conn, 1, &multi, one_len, 0, &err, NULL, ctx)) == NULL)
        return err;
    freeReplyObject(r);
    r = orderly__redis_cmd(&c->conn, argc, argv, lens, 0, &err, NULL, ctx);
    if (r != NULL) {
        const char *xack[4] = { "XACK", c->topics[t], c->group, e->id };
        freeReplyObject(r);
        r = cmd(c, 4, xack, 0, &err, ctx);
    }
    if (r != NULL) {
        freeReplyObject(r);
        one_len[0] = 4;
        r = orderly__redis_cmd(&c->conn, 1, &exec, one_len, 0, &err, NULL, ctx);
    }
    if (r == NULL) {
        if (c->conn.rc != NULL) {
            one_len[0] = 7;
            redisReply *d = orderly__redis_cmd(&c->conn, 1, &discard, one_len, 0, &(int){ 0 },
                                               NULL, NULL);
            if (d != NULL)
                freeReplyObject(d);
        }
        return err;
    }
    /* EXEC answers nil when the transaction was aborted */
    if (r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return orderly__redis_fail(ctx, ORDERLY_ETRANSPORT, "redis: dead-letter transaction aborted");
    }
    freeReplyObject(r);
    c->st.dead_lettered++;
    if (c->on_dead != NULL) {
        m.topic = c->topics[t];
        m.id = e->id;
        m.data = (const uint8_t *)e->data;
        m.len = e->len;
        m.deliveries = deliveries;
        c->on_dead(&m, c->dead_user_data);
    }
    return ORDERLY_OK;
}

/* How often Redis has delivered the entry (XAUTOCLAIM counted this take). */
static int deliveries_of(orderly_redis_consumer *c, size_t t, const char *id, uint32_t *out,
                         orderly_ctx *ctx)
{
    const char *argv[6] = { "XPENDING", c->topics[t], c->group, id, id, "1" };
    redisReply *r;
    int err;

    if ((r = cmd(c, 6, argv, 0, &err, ctx)) == NULL)
        return err;
    *out = 1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 4 &&
        r->element[0]->element[3]->type == REDIS_REPLY_INTEGER)
        *out = (uint32_t)r->element[0]->element[3]->integer;
    freeReplyObject(r);
    return ORDERLY_OK;
}

/* Takes over entries idle past the threshold on topic t; *n counts them. */
static int reclaim(orderly_redis_consumer *c, size_t t, orderly_redis_message_cb handler,
                   void *user_data, size_t *n, orderly_ctx *ctx)
{
    char idle[24], count[16];
    const char *argv[8] = { "XAUTOCLAIM", c->topics[t], c->group, c->consumer, idle, "0-0",
                            "COUNT", count };
    redisReply *r, *list;
    struct entry e;
    uint32_t deliveries = 1;
    size_t i;
    int err, rc = ORDERLY_OK;

    snprintf(idle, sizeof idle, "%lld", (long long)c->claim_idle_ms);
    snprintf(count, sizeof count, "%u", c->batch);
    if ((r = cmd(c, 8, argv, 0, &err, ctx)) == NULL)
        return err;
    list = r->type == REDIS_REPLY_ARRAY && r->elements >= 2 ? r->element[1] : NULL;
    for (i = 0; list != NULL && list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
        if (!read_entry(list->element[i], &e))
            continue;
        c->st.reclaimed++;
        (*n)++;
        if ((rc = deliveries_of(c, t, e.id, &deliveries, ctx)) < 0)
            break;
        if (c->max_deliveries > 0 && deliveries > c->max_deliveries)
            rc = dead_letter(c, t, &e, deliveries, ctx);
        else
            rc = deliver(c, t, &e, deliveries, handler, user_data, ctx);
        if (rc < 0)
            break;
    }
    freeReplyObject(r);
    return rc;
}

static int read_new(orderly_redis_consumer *c, int block_ms, orderly_redis_message_cb handler,
                    void *user_data, size_t *n, orderly_ctx *ctx)
{
    const char *argv[ARGS_MAX];
    char count[16], block[16];
    redisReply *r;
    size_t i, j, k;
    struct entry e;
    int argc = 0, err, rc = ORDERLY_OK;

    snprintf(count, sizeof count, "%u", c->batch);
    snprintf(block, sizeof block, "%d", block_ms);
    argv[argc++] = "XREADGROUP";
    argv[argc++] = "GROUP";
    argv[argc++] = c->group;
    argv[argc++] = c->consumer;
    argv[argc++] = "COUNT";
    argv[argc++] = count;
    if (block_ms > 0) {
        argv[argc++] = "BLOCK";
        argv[argc++] = block;
    }
    argv[argc++] = "STREAMS";
    for (i = 0; i < c->n; i++)
        argv[argc++] = c->topics[i];
    for (i = 0; i < c->n; i++)
        argv[argc++] = ">";
    if ((r = cmd(c, argc, argv, block_ms, &err, ctx)) == NULL)
        return err;
    /* nil: the block time passed with nothing new */
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && rc == ORDERLY_OK; i++) {
        const redisReply *s = r->element[i], *list;
        size_t t = c->n;
        if (s->type != REDIS_REPLY_ARRAY || s->elements < 2 ||
            s->element[0]->type != REDIS_REPLY_STRING)
            continue;
        for (k = 0; k < c->n; k++)
            if (strcmp(c->topics[k], s->element[0]->str) == 0)
                t = k;
        list = s->element[1];
        for (j = 0; t < c->n && list->type == REDIS_REPLY_ARRAY && j < list->elements; j++) {
            if (!read_entry(list->element[j], &e))
                continue;
            (*n)++;
            if ((rc = deliver(c, t, &e, 1, handler, user_data, ctx)) < 0)
                break;
        }
    }
    freeReplyObject(r);
    return rc;
}

int orderly_redis_consumer_poll(orderly_redis_consumer *c, int block_ms,
                                orderly_redis_message_cb handler, void *user_data,
                                orderly_ctx *ctx)
{
    size_t i, n = 0;
    int rc;

    if (c == NULL || handler == NULL || block_ms < 0)
        return ORDERLY_EINVAL;
    if ((rc = ensure_groups(c, ctx)) < 0)
        return rc;
    for (i = 0; c->claim_idle_ms >= 0 && i < c->n; i++)
        if ((rc = reclaim(c, i, handler, user_data, &n, ctx)) < 0)
            return rc;
    if ((rc = read_new(c, n > 0 ? 0 : block_ms, handler, user_data, &n, ctx)) < 0)
        return rc;
    return n > (size_t)INT32_MAX ? INT32_MAX : (int)n;
}

struct engine_call {
    orderly_redis_consumer *c;
    orderly_engine *engine;
    orderly_time_ms now;
};

static int engine_handler(const orderly_redis_message *m, void *user_data)
{
    struct engine_call *call = user_data;
    orderly_result res = ORDERLY_RESULT_INIT;
    int rc = orderly_engine_handle_event(call->engine, m->data, m->len, call->now, &res);

    if (rc == ORDERLY_OK) {
        call->c->st.duplicates += res.duplicate;
        call->c->st.late += res.late;
    }
    return rc;
}

int orderly_redis_consumer_poll_engine(orderly_redis_consumer *c, orderly_engine *engine,
                                       int block_ms, orderly_time_ms now, orderly_ctx *ctx)
{
    struct engine_call call;

    if (c == NULL || engine == NULL)
        return ORDERLY_EINVAL;
    call.c = c;
    call.engine = engine;
    call.now = now;
    return orderly_redis_consumer_poll(c, block_ms, engine_handler, &call, ctx);
}
