/*
 * liborderly-redis on a real redis-server: the entry shape, trimming, the
 * consumer group step (round trip, takeover, dead letters, no ack before
 * commit) and a Redis crash in the middle of a run.
 */
#include <hiredis/hiredis.h>

#include "fixture.h"
#include "orderly/sys/fault.h"
#include "orderly/sys/redis.h"
#include "server.h"

#include <signal.h>
#include <unistd.h>

#define GROUP "svc"

/* Stream names of one test: its own, so tests never see each other's. */
typedef struct names {
    char t[ORDERLY_TOPIC_COUNT + 1][64];
    char inbound[64];
} names;

static void names_init(names *n, const char *tag)
{
    int i;

    for (i = 1; i <= ORDERLY_TOPIC_COUNT; i++)
        snprintf(n->t[i], sizeof n->t[i], "%s.%ld.%s", tag, (long)getpid(),
                 orderly_topic_default_name(i));
    snprintf(n->inbound, sizeof n->inbound, "%s.%ld.inbound", tag, (long)getpid());
}

static orderly_transport *transport_on(const char *url, int64_t maxlen)
{
    orderly_redis_options o = ORDERLY_REDIS_OPTIONS_INIT;
    orderly_transport *t = NULL;

    o.url = url;
    o.maxlen = maxlen;
    ck_assert_int_eq(orderly_redis_transport_new(&t, &o), 0);
    return t;
}

static int dead_calls;
static char dead_id[64];

static void on_dead(const orderly_redis_message *m, void *ud)
{
    (void)ud;
    dead_calls++;
    snprintf(dead_id, sizeof dead_id, "%s", m->id);
}

static orderly_redis_consumer *consumer_on(const char *url, const char *name, const char *topic,
                                           int64_t claim_idle_ms, uint32_t max_deliveries)
{
    orderly_redis_consumer_options o = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;
    orderly_redis_consumer *c = NULL;
    const char *topics[1];

    topics[0] = topic;
    o.url = url;
    o.group = GROUP;
    o.consumer = name;
    o.topics = topics;
    o.n_topics = 1;
    o.claim_idle_ms = claim_idle_ms;
    o.max_deliveries = max_deliveries;
    o.on_dead = on_dead;
    ck_assert_int_eq(orderly_redis_consumer_new(&c, &o), 0);
    return c;
}

/* An engine on the in-memory storage publishing to Redis. */
static void service_open(fx *f, const names *n, orderly_transport *t)
{
    int i;

    fx_init(f);
    for (i = 1; i <= ORDERLY_TOPIC_COUNT; i++)
        f->topics[i] = n->t[i];
    f->o.transport = t;
    fx_open(f);
}

static void send_env(orderly_transport *t, const char *topic, const char *id, const char *type,
                     const char *order, const char *data)
{
    char *env = make_env(id, type, order, data);
    orderly_header h = { "ce-id", id };

    ck_assert_int_eq(t->publish(t, NULL, topic, order, (const uint8_t *)env, strlen(env), &h, 1), 0);
    free(env);
}

static orderly_redis_consumer_stats stats(const orderly_redis_consumer *c)
{
    orderly_redis_consumer_stats s = ORDERLY_REDIS_CONSUMER_STATS_INIT;

    ck_assert_int_eq(orderly_redis_consumer_get_stats(c, &s), 0);
    return s;
}

static int refuse(const orderly_redis_message *m, void *ud)
{
    (void)m;
    ++*(int *)ud;
    return -1;
}

START_TEST(options_are_checked)
{
    orderly_redis_options o = ORDERLY_REDIS_OPTIONS_INIT;
    orderly_redis_consumer_options co = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;
    orderly_redis_consumer *c = NULL;
    orderly_transport *t = NULL;
    const char *bad[] = { NULL, "", "http://x:1", "redis://", "redis://h:0", "redis://h:70000",
                          "redis://h:12x", "redis://h:1/db", "unix:" };
    const char *topics[1] = { "t" };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.url = bad[i];
        ck_assert_msg(orderly_redis_transport_new(&t, &o) == ORDERLY_EINVAL, "url %s", bad[i]);
        ck_assert_ptr_null(t);
    }
    o.url = "redis://localhost";
    o.maxlen = -1;
    ck_assert_int_eq(orderly_redis_transport_new(&t, &o), ORDERLY_EINVAL);
    o.maxlen = 0;
    o.timeout_ms = 0;
    ck_assert_int_eq(orderly_redis_transport_new(&t, &o), ORDERLY_EINVAL);
    o.timeout_ms = 100;
    o.version = 99;
    ck_assert_int_eq(orderly_redis_transport_new(&t, &o), ORDERLY_EVERSION);
    ck_assert_int_eq(orderly_redis_transport_new(&t, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_redis_options_init(&o, 0), ORDERLY_EVERSION);
    ck_assert_int_eq(orderly_redis_options_init(NULL, 1), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_redis_options_init(&o, ORDERLY_REDIS_OPTIONS_VERSION), 0);
    ck_assert_int_eq(o.timeout_ms, 2000);
    ck_assert_int_eq(orderly_redis_consumer_options_init(&co, 99), ORDERLY_EVERSION);
    ck_assert_int_eq(orderly_redis_consumer_options_init(&co, ORDERLY_REDIS_CONSUMER_OPTIONS_VERSION), 0);
    ck_assert_uint_eq(co.batch, 64);

    co.url = "unix:/nowhere";
    co.group = "g";
    co.consumer = "c";
    co.topics = topics;
    co.n_topics = 1;
    co.batch = 0;
    ck_assert_int_eq(orderly_redis_consumer_new(&c, &co), ORDERLY_EINVAL);
    co.batch = 10;
    co.group = "";
    ck_assert_int_eq(orderly_redis_consumer_new(&c, &co), ORDERLY_EINVAL);
    co.group = "g";
    co.n_topics = 0;
    ck_assert_int_eq(orderly_redis_consumer_new(&c, &co), ORDERLY_EINVAL);
    co.n_topics = 1;
    co.version = 0;
    ck_assert_int_eq(orderly_redis_consumer_new(&c, &co), ORDERLY_EVERSION);
    co.version = ORDERLY_REDIS_CONSUMER_OPTIONS_VERSION;
    ck_assert_int_eq(orderly_redis_consumer_new(&c, &co), 0);
    ck_assert_int_eq(orderly_redis_consumer_poll(c, -1, NULL, NULL, NULL), ORDERLY_EINVAL);
    orderly_redis_consumer_free(c);
    orderly_redis_consumer_free(NULL);
    orderly_redis_transport_free(NULL);
}
END_TEST

/* The entry Dapr's pubsub.redis reads: `data` and a `metadata` JSON map. */
START_TEST(entries_have_dapr_shape)
{
    const char *url = suite_redis_url();
    names n;
    orderly_transport *t = transport_on(url, 0);
    redisContext *raw = raw_connect(url);
    redisReply *r;
    const redisReply *f;
    orderly_header h[2] = { { "ce-id", "abc" }, { "traceparent", "00-x" } };

    names_init(&n, "shape");
    ck_assert_int_eq(t->publish(t, NULL, n.inbound, "o-1", (const uint8_t *)"{\"a\":1}", 7, h, 2), 0);
    ck_assert_uint_eq(orderly_redis_transport_published(t), 1);
    ck_assert_ptr_nonnull(raw);
    r = redisCommand(raw, "XRANGE %s - +", n.inbound);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->elements, 1);
    f = r->element[0]->element[1];
    ck_assert_uint_eq(f->elements, 4);
    ck_assert_str_eq(f->element[0]->str, "data");
    ck_assert_str_eq(f->element[1]->str, "{\"a\":1}");
    ck_assert_str_eq(f->element[2]->str, "metadata");
    ck_assert_str_eq(f->element[3]->str,
                     "{\"ce-id\":\"abc\",\"partitionKey\":\"o-1\",\"traceparent\":\"00-x\"}");
    freeReplyObject(r);
    redisFree(raw);
    orderly_redis_transport_free(t);
}
END_TEST

START_TEST(maxlen_trims_the_stream)
{
    const char *url = suite_redis_url();
    names n;
    orderly_transport *t = transport_on(url, 10);
    int i;

    names_init(&n, "trim");
    for (i = 0; i < 1000; i++)
        ck_assert_int_eq(t->publish(t, NULL, n.inbound, "k", (const uint8_t *)"x", 1, NULL, 0), 0);
    /* approximate: whole nodes go, so at least 10 stay and far fewer than 1000 */
    ck_assert_int_ge(raw_xlen(url, n.inbound), 10);
    ck_assert_int_lt(raw_xlen(url, n.inbound), 500);
    orderly_redis_transport_free(t);
}
END_TEST

START_TEST(unreachable_redis_is_etransport)
{
    orderly_transport *t = transport_on("unix:/nonexistent/redis.sock", 0);
    orderly_redis_consumer *c = consumer_on("unix:/nonexistent/redis.sock", "c", "t", 0, 0);
    orderly_ctx *ctx = NULL;
    int seen = 0;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(t->publish(t, ctx, "t", "k", (const uint8_t *)"x", 1, NULL, 0),
                     ORDERLY_ETRANSPORT);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "connect"));
    ck_assert_int_eq(orderly_redis_consumer_poll(c, 0, refuse, &seen, ctx), ORDERLY_ETRANSPORT);
    ck_assert_int_eq(seen, 0);
    ck_assert_uint_eq(orderly_redis_transport_published(t), 0);
    orderly_ctx_free(ctx);
    orderly_redis_consumer_free(c);
    orderly_redis_transport_free(t);
}
END_TEST

/* The engine's outbox lands on the topic streams, one entry per event. */
START_TEST(outbox_is_published_to_topic_streams)
{
    const char *url = suite_redis_url();
    names n;
    orderly_transport *t;
    fx f;
    size_t published = 0;

    names_init(&n, "outbox");
    t = transport_on(url, 0);
    service_open(&f, &n, t);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_engine_pump(f.e, T0, 0, &published), 0);
    ck_assert_uint_ge(published, 1);
    ck_assert_int_eq(raw_xlen(url, n.t[ORDERLY_TOPIC_ORDER]) + raw_xlen(url, n.t[ORDERLY_TOPIC_PAYMENT]) +
                         raw_xlen(url, n.t[ORDERLY_TOPIC_INVENTORY]) +
                         raw_xlen(url, n.t[ORDERLY_TOPIC_FULFILLMENT]),
                     (long long)published);
    ck_assert_uint_eq(orderly_redis_transport_published(t), published);
    fx_free(&f);
    orderly_redis_transport_free(t);
}
END_TEST

/* An event on a stream reaches the engine once and is acknowledged. */
START_TEST(consumed_event_is_committed_and_acked)
{
    const char *url = suite_redis_url();
    names n;
    orderly_transport *t;
    orderly_redis_consumer *c;
    orderly_redis_consumer_stats s;
    fx f;

    names_init(&n, "roundtrip");
    t = transport_on(url, 0);
    c = consumer_on(url, "a", n.inbound, -1, 0);
    service_open(&f, &n, t);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0, NULL), 0);
    send_env(t, n.inbound, "evt-1", "order.cancel", "o1", NULL);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 1000, T0 + 1000, NULL), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(raw_pending(url, n.inbound, GROUP), 0);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0 + 2000, NULL), 0);
    s = stats(c);
    ck_assert_uint_eq(s.delivered, 1);
    ck_assert_uint_eq(s.acked, 1);
    ck_assert_uint_eq(s.failed, 0);
    fx_free(&f);
    orderly_redis_consumer_free(c);
    orderly_redis_transport_free(t);
}
END_TEST

/* A consumer that took an entry and vanished before XACK: another one
 * takes it over and the engine applies it once. */
START_TEST(abandoned_entry_is_taken_over)
{
    const char *url = suite_redis_url();
    names n;
    orderly_transport *t;
    orderly_redis_consumer *dead, *live;
    orderly_redis_consumer_stats s;
    int seen = 0;
    fx f;

    names_init(&n, "takeover");
    t = transport_on(url, 0);
    dead = consumer_on(url, "dead", n.inbound, -1, 0);
    live = consumer_on(url, "live", n.inbound, 0, 0);
    service_open(&f, &n, t);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    ck_assert_int_eq(orderly_redis_consumer_poll(dead, 0, refuse, &seen, NULL), 0);
    send_env(t, n.inbound, "evt-1", "order.cancel", "o1", NULL);
    ck_assert_int_eq(orderly_redis_consumer_poll(dead, 0, refuse, &seen, NULL), 1);
    ck_assert_int_eq(seen, 1);
    orderly_redis_consumer_free(dead);
    ck_assert_int_eq(raw_pending(url, n.inbound, GROUP), 1);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(live, f.e, 0, T0 + 1000, NULL), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(raw_pending(url, n.inbound, GROUP), 0);
    s = stats(live);
    ck_assert_uint_eq(s.reclaimed, 1);
    ck_assert_uint_eq(s.acked, 1);
    ck_assert_uint_eq(s.duplicates, 0);
    /* nothing left: another step hands over nothing */
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(live, f.e, 0, T0 + 2000, NULL), 0);
    fx_free(&f);
    orderly_redis_consumer_free(live);
    orderly_redis_transport_free(t);
}
END_TEST

/* An event the engine keeps refusing goes to <topic>.dlq after N. */
START_TEST(poison_entry_goes_to_dlq_after_n_deliveries)
{
    const char *url = suite_redis_url();
    names n;
    char dlq[80];
    orderly_transport *t;
    orderly_redis_consumer *c;
    orderly_redis_consumer_stats s;
    redisContext *raw;
    redisReply *r;
    int i;
    fx f;

    names_init(&n, "dlq");
    snprintf(dlq, sizeof dlq, "%s.dlq", n.inbound);
    t = transport_on(url, 0);
    c = consumer_on(url, "a", n.inbound, 0, 3);
    service_open(&f, &n, t);
    dead_calls = 0;
    /* no such order: ENOTFOUND on every delivery */
    send_env(t, n.inbound, "evt-poison", "order.cancel", "missing", NULL);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0, NULL), 1);
        ck_assert_int_eq(raw_pending(url, n.inbound, GROUP), 1);
        ck_assert_int_eq(dead_calls, 0);
    }
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0, NULL), 1);
    ck_assert_int_eq(dead_calls, 1);
    ck_assert_int_eq(raw_pending(url, n.inbound, GROUP), 0);
    ck_assert_int_eq(raw_xlen(url, dlq), 1);
    raw = raw_connect(url);
    r = redisCommand(raw, "XRANGE %s - +", dlq);
    ck_assert_uint_eq(r->element[0]->element[1]->elements, 8);
    ck_assert_str_eq(r->element[0]->element[1]->element[4]->str, "source-id");
    ck_assert_str_eq(r->element[0]->element[1]->element[5]->str, dead_id);
    ck_assert_str_eq(r->element[0]->element[1]->element[6]->str, "deliveries");
    ck_assert_str_eq(r->element[0]->element[1]->element[7]->str, "4");
    freeReplyObject(r);
    redisFree(raw);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0, NULL), 0);
    s = stats(c);
    ck_assert_uint_eq(s.failed, 3);
    ck_assert_uint_eq(s.dead_lettered, 1);
    ck_assert_uint_eq(s.acked, 0);
    fx_free(&f);
    orderly_redis_consumer_free(c);
    orderly_redis_transport_free(t);
}
END_TEST

/* The storage fails the commit: no XACK, and the retry applies it. */
START_TEST(no_ack_before_the_engine_commits)
{
    const char *url = suite_redis_url();
    orderly_fault_plan p = ORDERLY_FAULT_PLAN_INIT;
    names n;
    orderly_transport *t;
    orderly_redis_consumer *c;
    orderly_redis_consumer_stats s;
    fx f;

    names_init(&n, "commit");
    t = transport_on(url, 0);
    c = consumer_on(url, "a", n.inbound, 0, 0);
    service_open(&f, &n, t);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    send_env(t, n.inbound, "evt-1", "order.cancel", "o1", NULL);
    p.method = ORDERLY_METHOD_COMMIT;
    p.fail_at = 1;
    p.persistent = 1;
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, &p), 0);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0 + 1000, NULL), 1);
    ck_assert_int_eq(raw_pending(url, n.inbound, GROUP), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_PENDING);
    ck_assert_int_eq(orderly_memory_storage_set_faults(f.st, NULL), 0);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0 + 2000, NULL), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(raw_pending(url, n.inbound, GROUP), 0);
    s = stats(c);
    ck_assert_uint_eq(s.failed, 1);
    ck_assert_uint_eq(s.acked, 1);
    fx_free(&f);
    orderly_redis_consumer_free(c);
    orderly_redis_transport_free(t);
}
END_TEST

struct seen {
    char ids[64][40];
    size_t n;
};

/* Collects the distinct ce-id of what the order topic delivered. */
static int collect(const orderly_redis_message *m, void *ud)
{
    struct seen *s = ud;
    const char *p = strstr((const char *)m->data, "\"id\":\"");
    size_t i;

    ck_assert_ptr_nonnull(p);
    p += 6;
    for (i = 0; i < s->n; i++)
        if (strncmp(s->ids[i], p, 32) == 0)
            return 0;
    ck_assert_uint_lt(s->n, 64);
    memcpy(s->ids[s->n], p, 32);
    s->ids[s->n++][32] = '\0';
    return 0;
}

/* Redis is killed mid-run: publishing and consuming fail with ETRANSPORT,
 * then both recover on their own and nothing committed is lost. */
START_TEST(redis_crash_mid_run_loses_nothing)
{
    redis_server srv;
    names n;
    orderly_transport *t;
    orderly_redis_consumer *c;
    orderly_ctx *ctx = NULL;
    struct seen seen;
    size_t published = 0, total = 0;
    char id[16];
    int i, rc;
    fx f;

    ck_assert_int_eq(server_start(&srv, 1), 0);
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    memset(&seen, 0, sizeof seen);
    names_init(&n, "crash");
    t = transport_on(srv.url, 0);
    c = consumer_on(srv.url, "a", n.t[ORDERLY_TOPIC_ORDER], 0, 0);
    service_open(&f, &n, t);
    for (i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "o%d", i);
        create_ok(&f, id, ORDERLY_PAY_CARD, T0);
    }
    ck_assert_int_eq(orderly_engine_pump(f.e, T0, 0, &published), 0);
    total += published;
    ck_assert_int_ge(orderly_redis_consumer_poll(c, 0, collect, &seen, NULL), 1);

    server_crash(&srv);
    for (i = 5; i < 10; i++) {
        snprintf(id, sizeof id, "o%d", i);
        create_ok(&f, id, ORDERLY_PAY_CARD, T0 + 1000);
    }
    ck_assert_int_eq(orderly_engine_pump(f.e, T0 + 1000, 0, &published), 0);
    ck_assert_uint_eq(published, 0);
    rc = orderly_redis_consumer_poll(c, 0, collect, &seen, ctx);
    ck_assert_int_eq(rc, ORDERLY_ETRANSPORT);

    ck_assert_int_eq(server_restart(&srv), 0);
    for (i = 0; i < 20; i++) {
        ck_assert_int_eq(orderly_engine_pump(f.e, T0 + HOUR + i * MIN, 0, &published), 0);
        total += published;
    }
    while ((rc = orderly_redis_consumer_poll(c, 0, collect, &seen, ctx)) > 0)
        ;
    ck_assert_msg(rc == 0, "poll: %d %s", rc, orderly_ctx_errmsg(ctx));
    /* every order's status_changed event arrived exactly once as an id */
    ck_assert_uint_eq(seen.n, 10);
    ck_assert_int_eq(raw_xlen(srv.url, n.t[ORDERLY_TOPIC_ORDER]), 10);
    ck_assert_uint_ge(stats(c).reconnects, 1);
    ck_assert_uint_eq(health(&f, T0 + 2 * HOUR).outbox_pending, 0);
    fx_free(&f);
    orderly_redis_consumer_free(c);
    orderly_redis_transport_free(t);
    orderly_ctx_free(ctx);
    server_stop(&srv);
}
END_TEST

/* What a Dapr publisher writes (only `data`, no metadata) is consumed too. */
START_TEST(dapr_written_entry_is_consumed)
{
    const char *url = suite_redis_url();
    names n;
    orderly_transport *t;
    orderly_redis_consumer *c;
    redisContext *raw;
    redisReply *r;
    char *env;
    fx f;

    names_init(&n, "dapr");
    t = transport_on(url, 0);
    c = consumer_on(url, "a", n.inbound, -1, 0);
    service_open(&f, &n, t);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    env = make_env("dapr-1", "order.cancel", "o1", NULL);
    raw = raw_connect(url);
    r = redisCommand(raw, "XADD %s * data %s", n.inbound, env);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
    redisFree(raw);
    free(env);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0 + 1000, NULL), 1);
    ck_assert_int_eq(view(&f, "o1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_int_eq(raw_pending(url, n.inbound, GROUP), 0);
    fx_free(&f);
    orderly_redis_consumer_free(c);
    orderly_redis_transport_free(t);
}
END_TEST

/* The group vanished (a Redis that restarted without persistence): the
 * step fails, the next one creates it again from the stream's start, and
 * what was handled already comes back as duplicates. */
START_TEST(lost_group_is_recreated)
{
    const char *url = suite_redis_url();
    names n;
    orderly_transport *t;
    orderly_redis_consumer *c;
    orderly_ctx *ctx = NULL;
    redisContext *raw;
    redisReply *r;
    fx f;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    names_init(&n, "nogroup");
    t = transport_on(url, 0);
    c = consumer_on(url, "a", n.inbound, 0, 0);
    service_open(&f, &n, t);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    send_env(t, n.inbound, "evt-1", "order.cancel", "o1", NULL);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0 + 1000, ctx), 1);
    raw = raw_connect(url);
    r = redisCommand(raw, "XGROUP DESTROY %s %s", n.inbound, GROUP);
    freeReplyObject(r);
    redisFree(raw);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0 + 2000, ctx), ORDERLY_ETRANSPORT);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "NOGROUP"));
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(c, f.e, 0, T0 + 3000, ctx), 1);
    ck_assert_uint_eq(stats(c).duplicates, 1);
    ck_assert_uint_eq(stats(c).acked, 2);
    ck_assert_int_eq(raw_pending(url, n.inbound, GROUP), 0);
    fx_free(&f);
    orderly_redis_consumer_free(c);
    orderly_redis_transport_free(t);
    orderly_ctx_free(ctx);
}
END_TEST

/* An error reply (a key of another type) is ETRANSPORT with Redis's words,
 * and the connection keeps working. */
START_TEST(error_reply_is_etransport)
{
    const char *url = suite_redis_url();
    names n;
    orderly_transport *t = transport_on(url, 0);
    orderly_ctx *ctx = NULL;
    redisContext *raw = raw_connect(url);
    redisReply *r;

    names_init(&n, "wrongtype");
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    r = redisCommand(raw, "SET %s x", n.inbound);
    freeReplyObject(r);
    redisFree(raw);
    ck_assert_int_eq(t->publish(t, ctx, n.inbound, "k", (const uint8_t *)"x", 1, NULL, 0),
                     ORDERLY_ETRANSPORT);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "WRONGTYPE"));
    ck_assert_int_eq(t->publish(t, ctx, n.t[1], "k", (const uint8_t *)"x", 1, NULL, 0), 0);
    ck_assert_uint_eq(orderly_redis_transport_published(t), 1);
    orderly_ctx_free(ctx);
    orderly_redis_transport_free(t);
}
END_TEST

struct per_topic {
    char first[64], second[64];
    int n_first, n_second;
};

static int by_topic(const orderly_redis_message *m, void *ud)
{
    struct per_topic *p = ud;

    if (strcmp(m->topic, p->first) == 0)
        p->n_first++;
    else if (strcmp(m->topic, p->second) == 0)
        p->n_second++;
    return 0;
}

/* One consumer over two topics: each entry is handed with its topic and
 * acknowledged in its own stream. */
START_TEST(several_topics_in_one_step)
{
    const char *url = suite_redis_url();
    orderly_redis_consumer_options o = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;
    orderly_redis_consumer *c = NULL;
    orderly_transport *t = transport_on(url, 0);
    struct per_topic p;
    const char *topics[2];
    names n;

    names_init(&n, "topics");
    memset(&p, 0, sizeof p);
    snprintf(p.first, sizeof p.first, "%s", n.t[ORDERLY_TOPIC_ORDER]);
    snprintf(p.second, sizeof p.second, "%s", n.t[ORDERLY_TOPIC_SHIPMENT]);
    topics[0] = p.first;
    topics[1] = p.second;
    o.url = url;
    o.group = GROUP;
    o.consumer = "a";
    o.topics = topics;
    o.n_topics = 2;
    ck_assert_int_eq(orderly_redis_consumer_new(&c, &o), 0);
    ck_assert_int_eq(orderly_redis_consumer_poll(c, 0, by_topic, &p, NULL), 0);
    ck_assert_int_eq(t->publish(t, NULL, p.first, "k", (const uint8_t *)"1", 1, NULL, 0), 0);
    ck_assert_int_eq(t->publish(t, NULL, p.second, "k", (const uint8_t *)"2", 1, NULL, 0), 0);
    ck_assert_int_eq(t->publish(t, NULL, p.second, "k", (const uint8_t *)"3", 1, NULL, 0), 0);
    ck_assert_int_eq(orderly_redis_consumer_poll(c, 0, by_topic, &p, NULL), 3);
    ck_assert_int_eq(p.n_first, 1);
    ck_assert_int_eq(p.n_second, 2);
    ck_assert_int_eq(raw_pending(url, p.first, GROUP), 0);
    ck_assert_int_eq(raw_pending(url, p.second, GROUP), 0);
    orderly_redis_consumer_free(c);
    orderly_redis_transport_free(t);
}
END_TEST

static int count_all(const orderly_redis_message *m, void *ud)
{
    (void)m;
    ++*(int *)ud;
    return 0;
}

/* One consumer over the most topics it accepts, polled without blocking:
 * its XREADGROUP then has more arguments than any other command (it once
 * overran the argument lengths' array past 4 topics). */
START_TEST(the_most_topics_in_one_step)
{
    const char *url = suite_redis_url();
    orderly_redis_consumer_options o = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;
    orderly_redis_consumer *c = NULL;
    orderly_transport *t = transport_on(url, 0);
    char names16[16][64];
    const char *topics[16];
    int i, seen = 0;

    for (i = 0; i < 16; i++) {
        snprintf(names16[i], sizeof names16[i], "most.%ld.%d", (long)getpid(), i);
        topics[i] = names16[i];
    }
    o.url = url;
    o.group = GROUP;
    o.consumer = "a";
    o.topics = topics;
    o.n_topics = 16;
    ck_assert_int_eq(orderly_redis_consumer_new(&c, &o), 0);
    ck_assert_int_eq(orderly_redis_consumer_poll(c, 0, count_all, &seen, NULL), 0);
    for (i = 0; i < 16; i++)
        ck_assert_int_eq(t->publish(t, NULL, topics[i], "k", (const uint8_t *)"1", 1, NULL, 0), 0);
    ck_assert_int_eq(orderly_redis_consumer_poll(c, 0, count_all, &seen, NULL), 16);
    ck_assert_int_eq(seen, 16);
    for (i = 0; i < 16; i++)
        ck_assert_int_eq(raw_pending(url, topics[i], GROUP), 0);
    orderly_redis_consumer_free(c);
    orderly_redis_transport_free(t);
}
END_TEST

/* A Redis that stops answering (SIGSTOP) times the call out; once it runs
 * again the next call reconnects. */
START_TEST(stalled_redis_is_etimeout_then_recovers)
{
    orderly_redis_options o = ORDERLY_REDIS_OPTIONS_INIT;
    orderly_transport *t = NULL;
    orderly_ctx *ctx = NULL;
    redis_server srv;

    ck_assert_int_eq(server_start(&srv, 0), 0);
    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    o.url = srv.url;
    o.timeout_ms = 100;
    ck_assert_int_eq(orderly_redis_transport_new(&t, &o), 0);
    ck_assert_int_eq(t->publish(t, ctx, "s", "k", (const uint8_t *)"x", 1, NULL, 0), 0);
    kill(srv.pid, SIGSTOP);
    ck_assert_int_eq(t->publish(t, ctx, "s", "k", (const uint8_t *)"x", 1, NULL, 0), ORDERLY_ETIMEOUT);
    kill(srv.pid, SIGCONT);
    ck_assert_int_eq(t->publish(t, ctx, "s", "k", (const uint8_t *)"x", 1, NULL, 0), 0);
    /* the timed-out XADD may or may not have landed: at least the two others */
    ck_assert_int_ge(raw_xlen(srv.url, "s"), 2);
    orderly_redis_transport_free(t);
    orderly_ctx_free(ctx);
    server_stop(&srv);
}
END_TEST

/* Replicas in one group split a stream: every entry goes to exactly one. */
static int count_into(const orderly_redis_message *m, void *ud)
{
    int *seen = ud;
    long i = strtol((const char *)m->data, NULL, 10);

    ck_assert(i >= 0 && i < 6);
    seen[i]++;
    return 0;
}

START_TEST(replicas_split_the_stream)
{
    const char *url = suite_redis_url();
    orderly_redis_consumer_options o = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;
    orderly_redis_consumer *a = NULL, *b = NULL;
    orderly_transport *t = transport_on(url, 0);
    const char *topics[1];
    int seen_a[6] = { 0 }, seen_b[6] = { 0 };
    char body[4];
    names n;
    int i;

    names_init(&n, "replicas");
    topics[0] = n.inbound;
    o.url = url;
    o.group = GROUP;
    o.topics = topics;
    o.n_topics = 1;
    o.batch = 2;
    o.consumer = "a";
    ck_assert_int_eq(orderly_redis_consumer_new(&a, &o), 0);
    o.consumer = "b";
    ck_assert_int_eq(orderly_redis_consumer_new(&b, &o), 0);
    ck_assert_int_eq(orderly_redis_consumer_poll(a, 0, count_into, seen_a, NULL), 0);
    for (i = 0; i < 6; i++) {
        snprintf(body, sizeof body, "%d", i);
        ck_assert_int_eq(t->publish(t, NULL, n.inbound, "k", (const uint8_t *)body, strlen(body), NULL, 0), 0);
    }
    ck_assert_int_eq(orderly_redis_consumer_poll(a, 0, count_into, seen_a, NULL), 2);
    ck_assert_int_eq(orderly_redis_consumer_poll(b, 0, count_into, seen_b, NULL), 2);
    ck_assert_int_eq(orderly_redis_consumer_poll(a, 0, count_into, seen_a, NULL), 2);
    ck_assert_int_eq(orderly_redis_consumer_poll(b, 0, count_into, seen_b, NULL), 0);
    for (i = 0; i < 6; i++)
        ck_assert_int_eq(seen_a[i] + seen_b[i], 1);
    ck_assert_int_eq(raw_pending(url, n.inbound, GROUP), 0);
    orderly_redis_consumer_free(a);
    orderly_redis_consumer_free(b);
    orderly_redis_transport_free(t);
}
END_TEST

static Suite *redis_suite(void)
{
    Suite *s = suite_create("redis");

    orderly_test_case(s, options_are_checked, 60);
    orderly_test_case(s, entries_have_dapr_shape, 60);
    orderly_test_case(s, maxlen_trims_the_stream, 60);
    orderly_test_case(s, unreachable_redis_is_etransport, 60);
    orderly_test_case(s, outbox_is_published_to_topic_streams, 60);
    orderly_test_case(s, consumed_event_is_committed_and_acked, 60);
    orderly_test_case(s, abandoned_entry_is_taken_over, 60);
    orderly_test_case(s, poison_entry_goes_to_dlq_after_n_deliveries, 60);
    orderly_test_case(s, no_ack_before_the_engine_commits, 60);
    orderly_test_case(s, redis_crash_mid_run_loses_nothing, 60);
    orderly_test_case(s, dapr_written_entry_is_consumed, 60);
    orderly_test_case(s, lost_group_is_recreated, 60);
    orderly_test_case(s, error_reply_is_etransport, 60);
    orderly_test_case(s, several_topics_in_one_step, 60);
    orderly_test_case(s, the_most_topics_in_one_step, 60);
    orderly_test_case(s, stalled_redis_is_etimeout_then_recovers, 60);
    orderly_test_case(s, replicas_split_the_stream, 60);
    return s;
}

int main(void)
{
    /* a write to a Redis that just died raises SIGPIPE; hosts ignore it */
    signal(SIGPIPE, SIG_IGN);
    (void)suite_redis_url();
    return run_suite(redis_suite());
}
