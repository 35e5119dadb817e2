/*
 * The cross-service bugs of the reference review, replayed between
 * separate processes over Redis Streams: replicas of one service share a
 * SQLite database and a consumer group; one replica commits an event and
 * is killed before its XACK, another takes the entry over (XAUTOCLAIM) and
 * the engine answers it as a duplicate, so the downstream effect happens
 * once. Each scenario compares what reached the streams with one clean
 * delivery of the same event to another order.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "fixture.h"
#include "orderly/sys/redis.h"
#include "orderly/sys/sqlite.h"
#include "server.h"

#define GROUP "service"

typedef struct replica {
    fx f;
    orderly_storage *db;
    orderly_transport *tr;
    orderly_redis_consumer *in;
    char topics[ORDERLY_TOPIC_COUNT + 1][64];
    char inbound[64];
} replica;

typedef struct world {
    const char *url;
    char dir[64];
    char db[96];
    char tag[32];
} world;

static void world_init(world *w, const char *tag)
{
    const char *tmp = getenv("TMPDIR");

    w->url = suite_redis_url();
    if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 32)
        tmp = "/tmp";
    snprintf(w->dir, sizeof w->dir, "%s/orderly-review-XXXXXX", tmp);
    ck_assert_ptr_nonnull(mkdtemp(w->dir));
    snprintf(w->db, sizeof w->db, "%s/service.db", w->dir);
    snprintf(w->tag, sizeof w->tag, "%s.%ld", tag, (long)getpid());
}

static void world_free(world *w)
{
    char path[128];

    snprintf(path, sizeof path, "%s-wal", w->db);
    unlink(path);
    snprintf(path, sizeof path, "%s-shm", w->db);
    unlink(path);
    unlink(w->db);
    rmdir(w->dir);
}

static void replica_open(replica *r, const world *w, const char *name, int64_t claim_idle_ms)
{
    orderly_redis_options ro = ORDERLY_REDIS_OPTIONS_INIT;
    orderly_redis_consumer_options co = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;
    const char *inbound[1];
    int i;

    memset(r, 0, sizeof *r);
    fx_init(&r->f);
    ck_assert_int_eq(orderly_sqlite_storage_open(&r->db, w->db, NULL, NULL), 0);
    ro.url = w->url;
    ck_assert_int_eq(orderly_redis_transport_new(&r->tr, &ro), 0);
    for (i = 1; i <= ORDERLY_TOPIC_COUNT; i++) {
        snprintf(r->topics[i], sizeof r->topics[i], "%s.%s", w->tag, orderly_topic_default_name(i));
        r->f.topics[i] = r->topics[i];
    }
    snprintf(r->inbound, sizeof r->inbound, "%s.inbound", w->tag);
    r->f.o.storage = r->db;
    r->f.o.transport = r->tr;
    fx_open(&r->f);
    inbound[0] = r->inbound;
    co.url = w->url;
    co.group = GROUP;
    co.consumer = name;
    co.topics = inbound;
    co.n_topics = 1;
    co.claim_idle_ms = claim_idle_ms;
    ck_assert_int_eq(orderly_redis_consumer_new(&r->in, &co), 0);
}

static void replica_close(replica *r)
{
    fx_free(&r->f);
    orderly_sqlite_storage_close(r->db);
    orderly_redis_transport_free(r->tr);
    orderly_redis_consumer_free(r->in);
}

/* The world (a carrier, a warehouse, a customer) sends an event. */
static void world_sends(replica *r, const char *id, const char *type, const char *order,
                        const char *data)
{
    char *env = make_env(id, type, order, data);

    ck_assert_int_eq(r->tr->publish(r->tr, NULL, r->inbound, order, (const uint8_t *)env,
                                    strlen(env), NULL, 0), 0);
    free(env);
}

static orderly_time_ms crash_now;

/* Commits, then the process dies before the XACK. */
static int commit_then_die(const orderly_redis_message *m, void *ud)
{
    orderly_result res = ORDERLY_RESULT_INIT;

    if (orderly_engine_handle_event(ud, m->data, m->len, crash_now, &res) == 0)
        _exit(0);
    return -1;
}

/* Replica "a", in its own process, takes the next entry and is killed
 * between its commit and its XACK. */
static void replica_dies_after_commit(const world *w, orderly_time_ms now)
{
    int status = -1;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        replica a;
        replica_open(&a, w, "a", -1);
        crash_now = now;
        /* returns only when nothing was committed */
        _exit(orderly_redis_consumer_poll(a.in, 1000, commit_then_die, a.f.e, NULL) < 0 ? 4 : 3);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "replica a: status %d", status);
}

/* Publishes everything the service committed. */
static void drain(replica *r, orderly_time_ms now)
{
    size_t n = 1;
    int i;

    for (i = 0; i < 50 && n > 0; i++)
        ck_assert_int_eq(orderly_engine_pump(r->f.e, now, 0, &n), 0);
}

/* Entries on stream for order key with CloudEvents type. */
static size_t entries(const world *w, const char *stream, const char *key, const char *type)
{
    redisContext *c = raw_connect(w->url);
    redisReply *r;
    char want_key[64], want_type[96];
    size_t i, n = 0;

    snprintf(want_key, sizeof want_key, "\"partitionKey\":\"%s\"", key);
    snprintf(want_type, sizeof want_type, "\"ce-type\":\"%s\"", type);
    ck_assert_ptr_nonnull(c);
    r = redisCommand(c, "XRANGE %s - +", stream);
    ck_assert_ptr_nonnull(r);
    for (i = 0; i < r->elements; i++) {
        const redisReply *f = r->element[i]->element[1];
        if (f->elements >= 4 && strstr(f->element[3]->str, want_key) != NULL &&
            strstr(f->element[3]->str, want_type) != NULL)
            n++;
    }
    freeReplyObject(r);
    redisFree(c);
    return n;
}

/* Replica b takes the abandoned entry over: a duplicate, acknowledged. */
static void takeover_is_duplicate(replica *b, orderly_time_ms now)
{
    orderly_redis_consumer_stats s0 = ORDERLY_REDIS_CONSUMER_STATS_INIT;
    orderly_redis_consumer_stats s1 = ORDERLY_REDIS_CONSUMER_STATS_INIT;

    ck_assert_int_eq(raw_pending(suite_redis_url(), b->inbound, GROUP), 1);
    ck_assert_int_eq(orderly_redis_consumer_get_stats(b->in, &s0), 0);
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(b->in, b->f.e, 0, now, NULL), 1);
    ck_assert_int_eq(orderly_redis_consumer_get_stats(b->in, &s1), 0);
    ck_assert_uint_eq(s1.reclaimed - s0.reclaimed, 1);
    ck_assert_uint_eq(s1.duplicates - s0.duplicates, 1);
    ck_assert_uint_eq(s1.acked - s0.acked, 1);
    ck_assert_int_eq(raw_pending(suite_redis_url(), b->inbound, GROUP), 0);
}

/* P1-2024-02: the shipment's cancellation, redelivered to shipping after a
 * crash, asks the carrier once. */
START_TEST(cancellation_redelivered_to_shipping_cancels_once)
{
    world w;
    replica b;

    world_init(&w, "ship");
    replica_open(&b, &w, "b", 0);
    create_ok(&b.f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&b.f, "o1", T0 + 1000);
    ship_ful(&b.f, "o1", 0, T0 + 2000);
    create_ok(&b.f, "o2", ORDERLY_PAY_CARD, T0);
    authorize_ok(&b.f, "o2", T0 + 1000);
    ship_ful(&b.f, "o2", 0, T0 + 2000);
    /* the reference: o2's cancellation delivered once */
    world_sends(&b, "carrier-cancel-o2", "shipment.cancel", "o2", "{\"index\":0}");
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(b.in, b.f.e, 0, T0 + 3000, NULL), 1);

    world_sends(&b, "carrier-cancel-o1", "shipment.cancel", "o1", "{\"index\":0}");
    replica_dies_after_commit(&w, T0 + 3000);
    takeover_is_duplicate(&b, T0 + 4000);

    ck_assert_int_eq(part_state(&b.f, "o1", ORDERLY_MACHINE_SHIPMENT, 0), ORDERLY_SHIPMENT_CANCELLED);
    ck_assert_uint_eq(count_op(&b.f, "o1", ORDERLY_OP_CANCEL_SHIPMENT, NULL), 1);
    drain(&b, T0 + 5000);
    ck_assert_uint_eq(entries(&w, b.topics[ORDERLY_TOPIC_SHIPMENT], "o1", "shipment.status_changed"),
                      entries(&w, b.topics[ORDERLY_TOPIC_SHIPMENT], "o2", "shipment.status_changed"));
    replica_close(&b);
    world_free(&w);
}
END_TEST

/* P1-2024-06: a picklist event redelivered after a crash changes the
 * fulfillment once. */
START_TEST(picklist_event_redelivered_changes_fulfillment_once)
{
    world w;
    replica b;

    world_init(&w, "pick");
    replica_open(&b, &w, "b", 0);
    create_ok(&b.f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&b.f, "o1", T0 + 1000);
    create_ok(&b.f, "o2", ORDERLY_PAY_CARD, T0);
    authorize_ok(&b.f, "o2", T0 + 1000);
    drain(&b, T0 + 1000);
    world_sends(&b, "picklist-o2", "fulfillment.start_picking", "o2", "{\"index\":0}");
    ck_assert_int_eq(orderly_redis_consumer_poll_engine(b.in, b.f.e, 0, T0 + 2000, NULL), 1);

    world_sends(&b, "picklist-o1", "fulfillment.start_picking", "o1", "{\"index\":0}");
    replica_dies_after_commit(&w, T0 + 2000);
    takeover_is_duplicate(&b, T0 + 3000);

    ck_assert_int_eq(part_state(&b.f, "o1", ORDERLY_MACHINE_FULFILLMENT, 0), ORDERLY_FULFILLMENT_PICKING);
    drain(&b, T0 + 4000);
    ck_assert_uint_ge(entries(&w, b.topics[ORDERLY_TOPIC_FULFILLMENT], "o2", "fulfillment.status_changed"), 1);
    ck_assert_uint_eq(entries(&w, b.topics[ORDERLY_TOPIC_FULFILLMENT], "o1", "fulfillment.status_changed"),
                      entries(&w, b.topics[ORDERLY_TOPIC_FULFILLMENT], "o2", "fulfillment.status_changed"));
    replica_close(&b);
    world_free(&w);
}
END_TEST

static int restock_calls;

static int flaky_restock(const orderly_operation_view *op, void *ud)
{
    (void)ud;
    ck_assert_int_eq(op->op, ORDERLY_OP_RESTOCK);
    return ++restock_calls <= 2 ? ORDERLY_EUSER : 0;
}

/* P0-2024-01: the return's completion, redelivered after a crash, leaves
 * one restock, and its failures are retried on that one path only. */
START_TEST(restock_failure_converges_on_one_retry_path)
{
    world w;
    replica b;
    operation_rec op;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_time_ms t = T0 + HOUR;
    uint32_t idx = 0;
    size_t done;
    int i;

    world_init(&w, "restock");
    replica_open(&b, &w, "b", 0);
    restock_calls = 0;
    ck_assert_int_eq(orderly_engine_set_executor(b.f.e, ORDERLY_OP_RESTOCK, flaky_restock, NULL), 0);
    to_delivered(&b.f, "o1", T0);
    ck_assert_int_eq(open_return_units(&b.f, &idx, "o1", 0, 1, 0, "ret-1", t, &r), 0);
    APPLY_OK(&b.f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&b.f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&b.f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&b.f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, t);

    world_sends(&b, "return-complete-o1", "return.complete", "o1", "{\"index\":0}");
    replica_dies_after_commit(&w, t);
    takeover_is_duplicate(&b, t + 1000);

    ck_assert_uint_eq(count_op(&b.f, "o1", ORDERLY_OP_RESTOCK, NULL), 1);
    for (i = 0; i < 10 && restock_calls < 3; i++)
        ck_assert_int_eq(orderly_engine_run_operations(b.f.e, t + (orderly_time_ms)i * 2 * HOUR, 0, &done), 0);
    ck_assert_int_eq(restock_calls, 3);
    ck_assert_uint_eq(count_op(&b.f, "o1", ORDERLY_OP_RESTOCK, &op), 1);
    ck_assert_int_eq(op.state, ORDERLY_ITEM_DONE);
    ck_assert_uint_eq(op.attempts, 3);
    ck_assert_int_eq(orderly_engine_run_operations(b.f.e, t + 30 * DAY, 0, &done), 0);
    ck_assert_int_eq(restock_calls, 3);
    replica_close(&b);
    world_free(&w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis-review");

    signal(SIGPIPE, SIG_IGN);
    (void)suite_redis_url();
    orderly_test_case(s, cancellation_redelivered_to_shipping_cancels_once, 60);
    orderly_test_case(s, picklist_event_redelivered_changes_fulfillment_once, 60);
    orderly_test_case(s, restock_failure_converges_on_one_retry_path, 60);
    return run_suite(s);
}
