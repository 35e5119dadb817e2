/*
 * See service.h. A service process reads the log through its own consumer
 * group and hands each entry to its engine with the entry's now; the
 * handler returns 0 (and the consumer acknowledges) only when the engine
 * committed or answered duplicate or late. After each accepted entry the
 * service pumps its outbox to the topic streams.
 */
#include <errno.h>
#include <signal.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "fixture.h"
#include "orderly/sys/redis.h"
#include "orderly/sys/sqlite.h"
#include "server.h"
#include "service.h"

int service_of(const char *name)
{
    int i;

    for (i = 0; i < N_SVC; i++)
        if (strcmp(svc_name_of((size_t)(i)), name) == 0)
            return i;
    return -1;
}

void nap(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

static int succeed(const orderly_operation_view *op, void *ud)
{
    (void)op;
    (void)ud;
    return 0;
}

/* Every orderly operation gets an executor: none is published to the
 * commands topic, which then carries deadline commands only. */
int set_executors(orderly_engine *e)
{
    int op;

    for (op = 1; orderly_op_name(op) != NULL; op++)
        if (orderly_engine_set_executor(e, op, succeed, NULL) != 0)
            return -1;
    return 0;
}

typedef struct service {
    int which;
    const char *url;
    const char *prefix;
    orderly_storage *db;
    orderly_transport *tr;
    orderly_engine *e;
    orderly_redis_consumer *in;
    char topics[ORDERLY_TOPIC_COUNT + 1][96];
    const char *topic_ptrs[ORDERLY_TOPIC_COUNT + 1];
    char inputs[96];
    uint64_t duplicates, late, refused;
    int stop;
} service;

void topic_names(char (*names)[96], const char **ptrs, const char *prefix)
{
    int i;

    ptrs[0] = NULL;
    for (i = 1; i <= ORDERLY_TOPIC_COUNT; i++) {
        snprintf(names[i], sizeof names[i], "%s.%s", prefix, orderly_topic_default_name(i));
        ptrs[i] = names[i];
    }
}

static void service_pump(service *s, orderly_time_ms now)
{
    size_t n = 1;
    int i;

    /* a failed publish stays in the outbox and is retried by a later pump */
    for (i = 0; i < 16 && n > 0; i++)
        if (orderly_engine_pump(s->e, now, 0, &n) != 0)
            break;
}

/* A "create" entry's order, keyed by the entry id as every input is;
 * borrows from j and entry_id. */
orderly_order_spec spec_of(json_t *j, const char *entry_id, orderly_time_ms now)
{
    orderly_order_spec spec;

    memset(&spec, 0, sizeof spec);
    spec.order_id = json_string_value(json_object_get(j, "order"));
    spec.currency = "EUR";
    spec.payment_method = (int)json_integer_value(json_object_get(j, "method"));
    spec.lines = std_lines;
    spec.n_lines = 2;
    spec.has_promotion = json_is_true(json_object_get(j, "promotion")) ? 1u : 0u;
    spec.loyalty_points = (int64_t)json_integer_value(json_object_get(j, "points"));
    spec.idem_key = entry_id;
    spec.now = now;
    return spec;
}

static int service_create(service *s, json_t *j, const char *entry_id, orderly_time_ms now,
                          orderly_result *res)
{
    orderly_order_spec spec = spec_of(j, entry_id, now);

    return orderly_engine_create_order(s->e, &spec, res);
}

static int service_event(service *s, json_t *j, const orderly_redis_message *m,
                         orderly_time_ms now, orderly_result *res)
{
    const char *die = json_string_value(json_object_get(j, "die_after_commit"));
    char *env = json_dumps(json_object_get(j, "envelope"), JSON_COMPACT);
    int rc;

    if (env == NULL)
        return ORDERLY_EINVAL;
    rc = orderly_engine_handle_event(s->e, (const uint8_t *)env, strlen(env), now, res);
    free(env);
    /* the crash between the commit and the XACK, on the first delivery */
    if (rc == 0 && die != NULL && strcmp(die, svc_name_of((size_t)(s->which))) == 0 && m->deliveries == 1)
        raise(SIGKILL);
    return rc;
}

static int service_round(service *s, orderly_time_ms now)
{
    size_t n;
    int rc = orderly_engine_tick(s->e, now, 0, &n);

    return rc != 0 ? rc : orderly_engine_run_operations(s->e, now, 0, &n);
}

static int service_entry(const orderly_redis_message *m, void *ud)
{
    service *s = ud;
    orderly_result res = ORDERLY_RESULT_INIT;
    json_t *j = json_loadb((const char *)m->data, m->len, 0, NULL);
    const char *call = json_string_value(json_object_get(j, "call"));
    orderly_time_ms now = (orderly_time_ms)json_integer_value(json_object_get(j, "now"));
    int rc = ORDERLY_EINVAL;

    if (call == NULL)
        call = ""; /* not an entry of this log: refused below */
    if (strcmp(call, "create") == 0)
        rc = service_create(s, j, m->id, now, &res);
    else if (strcmp(call, "event") == 0)
        rc = service_event(s, j, m, now, &res);
    else if (strcmp(call, "round") == 0)
        rc = service_round(s, now);
    else if (strcmp(call, "stop") == 0) {
        s->stop = 1;
        rc = 0;
    }
    if (rc == 0) {
        s->duplicates += res.duplicate;
        s->late += res.late;
        service_pump(s, now);
    } else {
        s->refused++;
        fprintf(stderr, "%s: entry %s refused: %d %s\n", svc_name_of((size_t)(s->which)), m->id, rc,
                s->e != NULL ? orderly_engine_errmsg(s->e) : "");
    }
    json_decref(j);
    return rc == 0 ? 0 : -1;
}

static int service_open(service *s, int which, const char *url, const char *prefix,
                        const char *db_path)
{
    orderly_engine_options o = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_redis_options ro = ORDERLY_REDIS_OPTIONS_INIT;
    orderly_redis_consumer_options co = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;
    const char *inputs[1];

    memset(s, 0, sizeof *s);
    s->which = which;
    s->url = url;
    s->prefix = prefix;
    topic_names(s->topics, s->topic_ptrs, prefix);
    snprintf(s->inputs, sizeof s->inputs, "%s.inputs", prefix);
    ro.url = url;
    if (orderly_sqlite_storage_open(&s->db, db_path, NULL, NULL) != 0 ||
        orderly_redis_transport_new(&s->tr, &ro) != 0)
        return -1;
    o.roles = svc_roles_of((size_t)(which));
    o.flags = ORDERLY_ENGINE_REPLICA | ORDERLY_ENGINE_HAND_OFF;
    o.storage = s->db;
    o.transport = s->tr;
    o.source = svc_name_of((size_t)(which));
    o.topics = s->topic_ptrs;
    o.n_topics = ORDERLY_TOPIC_COUNT + 1;
    if (orderly_engine_open(&s->e, &o, NULL) != 0 || set_executors(s->e) != 0)
        return -1;
    inputs[0] = s->inputs;
    co.url = url;
    co.group = svc_name_of((size_t)(which));
    co.consumer = "c";
    co.topics = inputs;
    co.n_topics = 1;
    /* one consumer per group: whatever is pending is this service's own,
     * left by a previous incarnation that died before its XACK */
    co.claim_idle_ms = 0;
    co.max_deliveries = 50;
    return orderly_redis_consumer_new(&s->in, &co);
}

static void service_close(service *s)
{
    orderly_engine_close(s->e);
    orderly_sqlite_storage_close(s->db);
    orderly_redis_transport_free(s->tr);
    orderly_redis_consumer_free(s->in);
}

/* The service's counters, for the world to check, on <prefix>.results. */
static int service_report(service *s)
{
    orderly_redis_consumer_stats st = ORDERLY_REDIS_CONSUMER_STATS_INIT;
    redisContext *c;
    redisReply *r;
    char stats[256];
    int i, ok = 0;

    if (orderly_redis_consumer_get_stats(s->in, &st) != 0)
        return -1;
    snprintf(stats, sizeof stats,
             "{\"delivered\":%llu,\"acked\":%llu,\"failed\":%llu,\"reclaimed\":%llu,"
             "\"dead\":%llu,\"duplicates\":%llu,\"late\":%llu,\"refused\":%llu,"
             "\"reconnects\":%llu}",
             (unsigned long long)st.delivered, (unsigned long long)st.acked,
             (unsigned long long)st.failed, (unsigned long long)st.reclaimed,
             (unsigned long long)st.dead_lettered, (unsigned long long)s->duplicates,
             (unsigned long long)s->late, (unsigned long long)s->refused,
             (unsigned long long)st.reconnects);
    for (i = 0; i < 100 && !ok; i++) {
        if ((c = raw_connect(s->url)) == NULL) {
            nap(20);
            continue;
        }
        r = redisCommand(c, "XADD %s.results * service %s stats %s", s->prefix,
                         svc_name_of((size_t)(s->which)), stats);
        ok = r != NULL && r->type == REDIS_REPLY_STRING;
        if (r != NULL)
            freeReplyObject(r);
        redisFree(c);
    }
    return ok ? 0 : -1;
}

/* The service process: reads the log until its "stop" entry. */
int service_main(int which, const char *url, const char *prefix, const char *db_path)
{
    service s;
    int rc = 0;

    if (service_open(&s, which, url, prefix, db_path) != 0) {
        fprintf(stderr, "%s: cannot open\n", svc_name_of((size_t)(which)));
        service_close(&s);
        return 2;
    }
    while (!s.stop) {
        /* Redis away: the next poll connects again */
        if (orderly_redis_consumer_poll(s.in, 100, service_entry, &s, NULL) < 0)
            nap(20);
    }
    if (service_report(&s) != 0)
        rc = 3;
    service_close(&s);
    return rc;
}
