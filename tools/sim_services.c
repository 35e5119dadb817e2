/*
 * `orderly simulate --topology services --transport redis://... --db DIR`:
 * the review's six services as six processes, connected only by Redis
 * Streams (doc/topology.md, "one ordered input log, every service a
 * replica"). Each service is an ORDERLY_ENGINE_REPLICA engine with its own
 * roles on its own SQLite file DIR/<service>.db, reading the one log
 * "<prefix>.inputs" through the consumer group named after it and
 * acknowledging an entry only once it answered it. The world (this
 * process: the scripts, the clock, the payment provider and inventory
 * ledgers, the consumer's checks) never calls an engine that writes:
 *   - every engine call that writes (those sim_workers.c relays) becomes
 *     one log entry: 'C', the entry's number, the world's now, then the
 *     call as sim_workers.c encodes it;
 *   - every background round one entry 'R' (tick, run operations, pump);
 *   - 'H' (hello) at the start and 'S' (stop, with the service's
 *     counters) at the end.
 * Each service answers every entry on "<prefix>.results" (the entry's
 * number, the service, its reply) after it pumped its outbox; the world
 * waits for all six answers (the barrier), checks they agree and takes
 * the order service's. The services run no operation themselves: each is
 * published as an "orderly.command.<op>" event on "<prefix>.commands",
 * where the world reads it and carries it out against its ledgers with
 * sim_execute; deadline commands on that stream go back into the log as
 * event entries at the world's now. The world reads state through
 * read-only engines on the six files and the published events from the
 * topic streams.
 */
#define _DEFAULT_SOURCE /* kill */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "sim.h"

#ifdef ORDERLY_SIM_REDIS
#include <jansson.h>

#include "orderly/sys/redis.h"

enum { SVC_ORDER, SVC_PAYMENT, SVC_WAREHOUSE, SVC_FULFILLMENT, SVC_SHIPPING, SVC_RETURN, N_SVC };

#define BIT(m) (1u << ORDERLY_MACHINE_##m)

static const char *const svc_name[N_SVC] = { "order", "payment", "warehouse",
                                             "fulfillment", "shipping", "return" };

static const unsigned svc_roles[N_SVC] = {
    [SVC_ORDER] = BIT(ORDER),
    [SVC_PAYMENT] = BIT(PAYMENT),
    [SVC_WAREHOUSE] = BIT(RESERVATION),
    [SVC_FULFILLMENT] = BIT(FULFILLMENT),
    [SVC_SHIPPING] = BIT(SHIPMENT) | BIT(CLAIM),
    [SVC_RETURN] = BIT(RETURN),
};

enum { E_HELLO = 'H', E_CALL = 'C', E_ROUND = 'R', E_STOP = 'S' };

#define HEAD_LEN 17            /* kind, number, now */
#define WAIT_SECONDS 60.0      /* a service silent this long is broken */

/* A service's counters, as its 'S' answer gives them. */
enum { ST_DELIVERED, ST_ACKED, ST_RECLAIMED, ST_DEAD, ST_DUPLICATES, ST_LATE, ST_REFUSED,
       ST_PUBLISHED, ST_RECONNECTS, N_ST };

static const char *const st_name[N_ST] = { "consumed", "acked", "reclaimed", "dead",
                                           "duplicates", "late", "refused", "published",
                                           "reconnects" };

struct held {                  /* a command read from the commands stream */
    char *topic;
    uint8_t *data;
    size_t len;
};

struct sim_services {
    pid_t pid[N_SVC];
    char prefix[64];
    char inputs[96], results[96];
    char topics[ORDERLY_TOPIC_COUNT + 1][96];
    const char *topic_ptrs[ORDERLY_TOPIC_COUNT + 1];
    int (*setup)(struct sim *s);
    orderly_transport *log;    /* the world's writer of the log */
    orderly_redis_consumer *results_in, *commands_in;
    /* one consumer per topic stream: the adapter's XREADGROUP of more than
     * four streams overflows its argument lengths (adapters/redis/consumer.c
     * cmd(): lens[16] for up to 10 + 2 * 16 arguments) */
    orderly_redis_consumer *events_in[ORDERLY_TOPIC_COUNT];
    size_t n_events;
    orderly_storage *db[N_SVC];     /* read-only; [SVC_ORDER] is s->sqlite */
    orderly_engine *ro[N_SVC];      /* read-only; [SVC_ORDER] is s->engine */
    uint64_t seq;              /* the last entry appended */
    uint8_t *reply[N_SVC];     /* the answers to entry seq */
    size_t reply_len[N_SVC];
    int got[N_SVC];
    uint64_t disagreements, calls, rounds, restarts, commands_run, deadlines_relayed;
    char disagreement[200];
    uint64_t kill_at;          /* --kill-service: after this many calls ... */
    int victim, killed;        /* ... this service, once */
    int stopping;              /* services end after the stop entry */
    uint64_t st[N_SVC][N_ST];
    struct held *cmds;         /* read, not carried out yet */
    size_t n_cmds, cap_cmds;
    struct held *retry;        /* carried out and failed: again next round */
    size_t n_retry, cap_retry;
};

/* ---- bytes ------------------------------------------------------------------------ */

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, sizeof v);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static void nap(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

/* ---- a service process ------------------------------------------------------------- */

struct svc_proc {
    struct sim *s;
    struct sim_services *sv;   /* the world's, copied at the fork: names only */
    int which, stop;
    uint64_t duplicates, late, refused, answers;
    orderly_redis_consumer *in;
};

static void svc_pump(struct sim *s)
{
    size_t n;
    int i, rc;

    /* what fails to publish stays in the outbox for the next entry's pump */
    for (i = 0; i < 64; i++)
        if ((rc = orderly_engine_pump(s->engine, s->now, 0, &n)) < 0 || n == 0)
            break;
}

static int svc_repeat(int (*call)(orderly_engine *, orderly_time_ms, size_t, size_t *),
                      struct sim *s, uint64_t *total)
{
    size_t n;
    int i, rc;

    for (i = 0; i < 32; i++) {
        rc = call(s->engine, s->now, 0, &n);
        if (rc < 0 && !sim_is_transient(rc))
            return rc;
        if (rc == 0 && total != NULL)
            *total += n;
        if (rc == 0 && n == 0)
            break;
    }
    return ORDERLY_OK;
}

static int svc_answer(struct svc_proc *p, uint64_t seq, const uint8_t *reply, size_t len)
{
    orderly_transport *t = p->s->transport;
    uint8_t *b = malloc(16 + len);
    int rc;

    if (b == NULL)
        return ORDERLY_ENOMEM;
    put64(b, seq);
    put64(b + 8, (uint64_t)p->which);
    if (len > 0)
        memcpy(b + 16, reply, len);
    rc = t->publish(t, NULL, p->sv->results, svc_name[p->which], b, 16 + len, NULL, 0);
    p->answers += rc == 0;
    free(b);
    return rc;
}

static int svc_stats(struct svc_proc *p, uint8_t out[N_ST * 8])
{
    orderly_redis_consumer_stats st = ORDERLY_REDIS_CONSUMER_STATS_INIT;

    if (orderly_redis_consumer_get_stats(p->in, &st) != 0)
        return -1;
    put64(out + 8 * ST_DELIVERED, st.delivered);
    put64(out + 8 * ST_ACKED, st.acked + 1);   /* the stop entry, acknowledged right after */
    put64(out + 8 * ST_RECLAIMED, st.reclaimed);
    put64(out + 8 * ST_DEAD, st.dead_lettered);
    put64(out + 8 * ST_DUPLICATES, p->duplicates);
    put64(out + 8 * ST_LATE, p->late);
    put64(out + 8 * ST_REFUSED, p->refused);
    /* its events only, not its answers on the results stream */
    put64(out + 8 * ST_PUBLISHED, orderly_redis_transport_published(p->s->transport) - p->answers);
    put64(out + 8 * ST_RECONNECTS, st.reconnects);
    return 0;
}

/* One log entry: 0 acknowledges it, -1 leaves it pending (delivered again). */
static int svc_entry(const orderly_redis_message *m, void *ud)
{
    struct svc_proc *p = ud;
    struct sim *s = p->s;
    orderly_result res = ORDERLY_RESULT_INIT;
    uint8_t *reply = NULL, small[N_ST * 8];
    size_t len = 0;
    uint64_t seq, ticks = 0;
    int rc = ORDERLY_OK;

    if (m->len < HEAD_LEN) {
        p->refused++;
        return 0;   /* not an entry of this log */
    }
    seq = get64(m->data + 1);
    s->now = (orderly_time_ms)get64(m->data + 9);
    switch (m->data[0]) {
    case E_CALL:
        rc = sim_call_run(s->engine, m->data + HEAD_LEN, m->len - HEAD_LEN, &reply, &len);
        if (reply == NULL || sim_is_transient(rc)) {
            free(reply);
            return -1;   /* this replica tries again; the others answered */
        }
        (void)sim_call_decode(reply, len, &res, NULL);
        p->duplicates += res.duplicate;
        p->late += res.late;
        break;
    case E_ROUND:
        if ((rc = svc_repeat(orderly_engine_tick, s, &ticks)) == 0)
            rc = svc_repeat(orderly_engine_run_operations, s, NULL);
        put64(small, (uint64_t)(int64_t)rc);
        put64(small + 8, ticks);
        len = 16;
        break;
    case E_STOP:
        p->stop = 1;
        if (svc_stats(p, small) != 0)
            return -1;
        len = sizeof small;
        break;
    case E_HELLO:
        break;
    default:
        p->refused++;
        return 0;
    }
    svc_pump(s);
    rc = svc_answer(p, seq, reply != NULL ? reply : small, len);
    free(reply);
    if (rc != 0)
        p->stop = 0;
    return rc == 0 ? 0 : -1;
}

static int svc_setup_consumer(struct svc_proc *p)
{
    orderly_redis_consumer_options co = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;
    const char *topics[1];

    topics[0] = p->sv->inputs;
    co.url = p->s->redis_url;
    co.group = svc_name[p->which];
    co.consumer = "c";
    co.topics = topics;
    co.n_topics = 1;
    /* one consumer per group: whatever is pending is this service's own,
     * left by an incarnation killed before its XACK */
    co.claim_idle_ms = 0;
    co.max_deliveries = 0;
    co.batch = 16;
    return orderly_redis_consumer_new(&p->in, &co);
}

/* The service process; never returns. */
static void svc_main(struct sim *s, struct sim_services *sv, int which, pid_t world)
{
    struct svc_proc p;

    memset(&p, 0, sizeof p);
    p.s = s;
    p.sv = sv;
    p.which = which;
    s->svc_self = which;
    if (sv->setup(s) < 0 || svc_setup_consumer(&p) != 0) {
        fprintf(stderr, "orderly simulate: service %s cannot start\n", svc_name[which]);
        _exit(CLI_EXIT_FAIL);
    }
    s->sv = NULL;   /* this process runs the calls itself */
    while (!p.stop) {
        if (getppid() != world)
            _exit(CLI_EXIT_FAIL);   /* the world is gone: nobody will stop this service */
        if (orderly_redis_consumer_poll(p.in, 100, svc_entry, &p, NULL) < 0)
            nap(20);   /* Redis away: the next poll connects again */
    }
    orderly_redis_consumer_free(p.in);
    orderly_engine_close(s->engine);
    orderly_redis_transport_free(s->transport);
    orderly_fault_storage_free(s->storage);
    orderly_sqlite_storage_close(s->sqlite);
    _exit(CLI_EXIT_OK);
}

static int svc_fork(struct sim *s, int which)
{
    struct sim_services *sv = s->sv;
    pid_t pid, world = getpid();

    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) < 0)
        return -1;
    if (pid == 0)
        svc_main(s, sv, which, world);
    sv->pid[which] = pid;
    return 0;
}

/* ---- the world: the log and the answers ------------------------------------------- */

static int on_result(const orderly_redis_message *m, void *ud)
{
    struct sim_services *sv = ud;
    uint64_t seq, which;

    if (m->len < 16)
        return 0;
    seq = get64(m->data);
    which = get64(m->data + 8);
    /* an answer to an older entry is a killed service's second answer */
    if (seq != sv->seq || which >= N_SVC || sv->got[which])
        return 0;
    if ((sv->reply[which] = malloc(m->len - 16 + 1)) == NULL)
        return -1;
    memcpy(sv->reply[which], m->data + 16, m->len - 16);
    sv->reply_len[which] = m->len - 16;
    sv->got[which] = 1;
    return 0;
}

/* A service that died: the one --kill-service killed is started again on
 * its file and its consumer name; any other death ends the run. */
static int check_children(struct sim *s)
{
    struct sim_services *sv = s->sv;
    int i, status;

    for (i = 0; i < N_SVC; i++) {
        if (sv->pid[i] <= 0 || waitpid(sv->pid[i], &status, WNOHANG) != sv->pid[i])
            continue;
        sv->pid[i] = 0;
        if (sv->stopping)
            continue;
        if (!(sv->killed && i == sv->victim && sv->restarts == 0)) {
            sim_fail(s, "service %s ended unexpectedly (status %d)", svc_name[i], status);
            return -1;
        }
        sv->restarts++;
        if (svc_fork(s, i) < 0) {
            sim_fail(s, "cannot start service %s again", svc_name[i]);
            return -1;
        }
    }
    return 0;
}

static void drop_replies(struct sim_services *sv)
{
    int i;

    for (i = 0; i < N_SVC; i++) {
        free(sv->reply[i]);
        sv->reply[i] = NULL;
        sv->reply_len[i] = 0;
        sv->got[i] = 0;
    }
}

/* Appends one entry to the log and waits until every service answered it. */
static int append_and_wait(struct sim *s, int kind, const uint8_t *body, size_t len)
{
    struct sim_services *sv = s->sv;
    uint8_t *e = malloc(HEAD_LEN + len);
    double until;
    int i, all, rc, tries;

    if (e == NULL)
        return -1;
    drop_replies(sv);
    sv->seq++;
    e[0] = (uint8_t)kind;
    put64(e + 1, sv->seq);
    put64(e + 9, (uint64_t)s->now);
    if (len > 0)
        memcpy(e + HEAD_LEN, body, len);
    for (tries = 0; (rc = sv->log->publish(sv->log, NULL, sv->inputs, NULL, e, HEAD_LEN + len,
                                          NULL, 0)) != 0 && tries < 100; tries++)
        nap(50);
    free(e);
    if (rc != 0) {
        sim_fail(s, "cannot append to the log %s (%s)", sv->inputs, orderly_error_name(rc));
        return -1;
    }
    if (s->kill_service && !sv->killed && kind == E_CALL && sv->calls >= sv->kill_at) {
        sv->killed = 1;
        (void)kill(sv->pid[sv->victim], SIGKILL);
    }
    until = cli_mono_seconds() + WAIT_SECONDS;
    for (;;) {
        for (all = 1, i = 0; i < N_SVC; i++)
            all &= sv->got[i];
        if (all)
            return 0;
        if (orderly_redis_consumer_poll(sv->results_in, 50, on_result, sv, NULL) < 0)
            nap(20);
        if (check_children(s) < 0)
            return -1;
        if (cli_mono_seconds() > until) {
            for (i = 0; i < N_SVC && sv->got[i]; i++)
                continue;
            sim_fail(s, "service %s did not answer log entry %llu", svc_name[i],
                     (unsigned long long)sv->seq);
            return -1;
        }
    }
}

int sim_services_call(struct sim *s, const uint8_t *call, size_t len, uint8_t **reply,
                      size_t *reply_len)
{
    struct sim_services *sv = s->sv;
    orderly_result want = ORDERLY_RESULT_INIT, got;
    int i, want_rc, got_rc;

    sv->calls++;
    if (append_and_wait(s, E_CALL, call, len) < 0)
        return -1;
    want_rc = sim_call_decode(sv->reply[SVC_ORDER], sv->reply_len[SVC_ORDER], &want, NULL);
    for (i = 0; i < N_SVC; i++) {
        memset(&got, 0, sizeof got);
        got_rc = sim_call_decode(sv->reply[i], sv->reply_len[i], &got, NULL);
        /* what they decided; outbox rows and operations are each the owner's */
        if (got_rc != want_rc || got.code != want.code || got.order_state != want.order_state ||
            got.version != want.version || (got.duplicate != want.duplicate && sv->restarts == 0)) {
            if (sv->disagreements++ == 0)
                snprintf(sv->disagreement, sizeof sv->disagreement,
                         "entry %llu: %s answered %d (state %d, version %llu), order %d (state %d, "
                         "version %llu)", (unsigned long long)sv->seq, svc_name[i], got_rc,
                         got.order_state, (unsigned long long)got.version, want_rc,
                         want.order_state, (unsigned long long)want.version);
        }
    }
    *reply = sv->reply[SVC_ORDER];
    *reply_len = sv->reply_len[SVC_ORDER];
    sv->reply[SVC_ORDER] = NULL;
    return 0;
}

/* ---- the world: what the services published --------------------------------------- */

/* The topic as the outbox row names it: the stream without the run's prefix. */
static const char *row_topic(const struct sim *s, const char *stream)
{
    size_t n = strlen(s->sv->prefix);

    return strncmp(stream, s->sv->prefix, n) == 0 && stream[n] == '.' ? stream + n + 1 : stream;
}

static int on_event(const orderly_redis_message *m, void *ud)
{
    return sim_consume_one(ud, row_topic(ud, m->topic), m->data, m->len) < 0 ? -1 : 0;
}

static int hold(struct held **list, size_t *n, size_t *cap, const char *topic,
                const uint8_t *data, size_t len)
{
    struct held *h;

    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        if ((h = realloc(*list, c * sizeof *h)) == NULL)
            return -1;
        *list = h;
        *cap = c;
    }
    h = &(*list)[*n];
    h->topic = strdup(topic);
    h->data = malloc(len + 1);
    if (h->topic == NULL || h->data == NULL) {
        free(h->topic);
        free(h->data);
        return -1;
    }
    memcpy(h->data, data, len);
    h->data[len] = '\0';
    h->len = len;
    (*n)++;
    return 0;
}

static int on_command(const orderly_redis_message *m, void *ud)
{
    struct sim *s = ud;
    struct sim_services *sv = s->sv;

    if (sim_consume_one(s, row_topic(s, m->topic), m->data, m->len) < 0)
        return -1;
    return hold(&sv->cmds, &sv->n_cmds, &sv->cap_cmds, m->topic, m->data, m->len);
}

static int drain(orderly_redis_consumer *c, orderly_redis_message_cb cb, void *ud)
{
    int rc, i;

    for (i = 0; i < 100000; i++)
        if ((rc = orderly_redis_consumer_poll(c, 0, cb, ud, NULL)) <= 0)
            return rc;
    return 0;
}

/* An "orderly.command.<op>" event carried out as the executor would. */
static int run_op(struct sim *s, json_t *env)
{
    json_t *d = json_object_get(env, "data"), *lines = json_object_get(d, "lines"), *l;
    orderly_operation_view v;
    uint64_t *sku = NULL;
    uint32_t *wh = NULL, *qty = NULL;
    size_t i, n = json_array_size(lines);
    int rc;

    memset(&v, 0, sizeof v);
    v.size = sizeof v;
    v.op = (int)json_integer_value(json_object_get(d, "code"));
    v.order_id = json_string_value(json_object_get(env, "subject"));
    v.key = json_string_value(json_object_get(env, "id"));
    v.index = (uint32_t)json_integer_value(json_object_get(d, "index"));
    v.amount = (int64_t)json_integer_value(json_object_get(d, "amount"));
    v.attempts = 1;
    if (v.order_id == NULL || v.key == NULL)
        return ORDERLY_EINVAL;
    if (n > 0 && ((sku = calloc(n, sizeof *sku)) == NULL || (wh = calloc(n, sizeof *wh)) == NULL ||
                  (qty = calloc(n, sizeof *qty)) == NULL)) {
        free(sku);
        free(wh);
        return ORDERLY_ENOMEM;
    }
    json_array_foreach(lines, i, l) {
        sku[i] = (uint64_t)json_integer_value(json_object_get(l, "sku"));
        wh[i] = (uint32_t)json_integer_value(json_object_get(l, "warehouse"));
        qty[i] = (uint32_t)json_integer_value(json_object_get(l, "quantity"));
    }
    v.n_lines = (uint32_t)n;
    v.sku = sku;
    v.warehouse = wh;
    v.quantity = qty;
    rc = sim_execute(&v, s);
    free(sku);
    free(wh);
    free(qty);
    return rc;
}

/* One command read from the commands stream: an operation to carry out
 * (1 when it must be tried again), or a deadline command for the log. */
static int act_on(struct sim *s, const struct held *h)
{
    json_t *env = json_loadb((const char *)h->data, h->len, 0, NULL);
    const char *type = json_string_value(json_object_get(env, "type"));
    const char *order = json_string_value(json_object_get(env, "subject"));
    orderly_result res = ORDERLY_RESULT_INIT;
    int rc = 0;

    if (type == NULL || order == NULL) {
        sim_fail(s, "a command on %s is not a CloudEvents envelope", h->topic);
    } else if (strncmp(type, "orderly.command.", 16) == 0) {
        s->sv->commands_run++;
        rc = run_op(s, env) < 0 ? 1 : 0;
    } else {
        s->sv->deadlines_relayed++;
        rc = sim_handle_event(s, order, h->data, h->len, s->now, &res);
        rc = rc < 0 && !sim_is_business(rc) ? rc : 0;
    }
    json_decref(env);
    return rc;
}

static void free_held(struct held *h)
{
    free(h->topic);
    free(h->data);
}

/* The commands of the round, then those that failed before; what fails
 * again waits for the next round. */
static int run_commands(struct sim *s)
{
    struct sim_services *sv = s->sv;
    struct held *list;
    size_t n, i;
    int rc;

    if (drain(sv->commands_in, on_command, s) < 0)
        return -1;
    list = sv->retry;
    n = sv->n_retry;
    sv->retry = NULL;
    sv->n_retry = sv->cap_retry = 0;
    for (i = 0; i < sv->n_cmds; i++) {
        rc = act_on(s, &sv->cmds[i]);
        if (rc == 1 && hold(&sv->retry, &sv->n_retry, &sv->cap_retry, sv->cmds[i].topic,
                            sv->cmds[i].data, sv->cmds[i].len) < 0)
            rc = -1;
        free_held(&sv->cmds[i]);
        if (rc < 0) {
            for (i++; i < sv->n_cmds; i++)
                free_held(&sv->cmds[i]);
            sv->n_cmds = 0;
            for (i = 0; i < n; i++)
                free_held(&list[i]);
            free(list);
            return -1;
        }
    }
    sv->n_cmds = 0;
    for (i = 0; i < n; i++) {
        rc = act_on(s, &list[i]);
        if (rc == 1)
            rc = hold(&sv->retry, &sv->n_retry, &sv->cap_retry, list[i].topic, list[i].data,
                      list[i].len);
        free_held(&list[i]);
        if (rc < 0) {
            for (i++; i < n; i++)
                free_held(&list[i]);
            break;
        }
    }
    free(list);
    return rc < 0 ? -1 : 0;
}

int sim_services_round(struct sim *s, int background)
{
    struct sim_services *sv = s->sv;
    size_t k;
    int i;

    s->work = 0;
    if (background) {
        sv->rounds++;
        if (append_and_wait(s, E_ROUND, NULL, 0) < 0)
            return ORDERLY_EUSER;
        for (i = 0; i < N_SVC; i++)
            if (sv->reply_len[i] >= 16)
                s->c.ticks_fired += get64(sv->reply[i] + 8);
        if (run_commands(s) < 0)
            return ORDERLY_EUSER;
    }
    for (k = 0; k < sv->n_events; k++)
        if (drain(sv->events_in[k], on_event, s) < 0)
            return ORDERLY_EUSER;
    return ORDERLY_OK;
}

int sim_services_quiet(struct sim *s, int *quiet)
{
    struct sim_services *sv = s->sv;
    orderly_health h = ORDERLY_HEALTH_INIT, soon = ORDERLY_HEALTH_INIT;
    int i, rc;

    *quiet = sv->n_retry == 0;
    for (i = 0; i < N_SVC && *quiet; i++) {
        if ((rc = orderly_engine_health(sv->ro[i], s->now, 0, 0, &h)) < 0 ||
            (rc = orderly_engine_health(sv->ro[i], s->now + s->policy.backoff_max, 0, 0, &soon)) < 0)
            return sim_is_transient(rc) ? ORDERLY_OK : rc;
        *quiet = h.outbox_pending == 0 && h.operations_pending == 0 && soon.timers_due == 0;
    }
    return ORDERLY_OK;
}

/* ---- start and stop --------------------------------------------------------------- */

static int open_reader(struct sim *s, int i)
{
    struct sim_services *sv = s->sv;
    orderly_sqlite_options so = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_engine_options eo = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_ctx *ctx = NULL;
    char path[1024];
    int rc;

    snprintf(path, sizeof path, "%s/%s.db", s->svc_dir, svc_name[i]);
    so.read_only = 1;
    so.create = 0;
    eo.policy = &s->policy;
    eo.max_lines = s->max_lines;
    eo.max_parts = s->max_parts;
    eo.source = "orderly-simulate";
    if ((rc = orderly_ctx_new(&ctx, NULL)) < 0)
        return rc;
    if ((rc = orderly_sqlite_storage_open(&sv->db[i], path, &so, ctx)) == 0) {
        eo.storage = sv->db[i];
        eo.transport = s->transport;   /* never used: these engines only read */
        rc = orderly_engine_open(&sv->ro[i], &eo, ctx);
    }
    if (rc < 0)
        sim_fail(s, "%s", orderly_ctx_errmsg(ctx));
    orderly_ctx_free(ctx);
    return rc;
}

static int make_consumer(struct sim *s, orderly_redis_consumer **out, const char *const *topics,
                         size_t n)
{
    orderly_redis_consumer_options co = ORDERLY_REDIS_CONSUMER_OPTIONS_INIT;

    co.url = s->redis_url;
    co.group = "world";
    co.consumer = "world";
    co.topics = topics;
    co.n_topics = n;
    co.claim_idle_ms = -1;
    co.max_deliveries = 0;
    co.batch = 1000;
    return orderly_redis_consumer_new(out, &co);
}

static int make_events(struct sim *s, const char *const *topics, size_t n)
{
    struct sim_services *sv = s->sv;

    for (sv->n_events = 0; sv->n_events < n; sv->n_events++)
        if (make_consumer(s, &sv->events_in[sv->n_events], &topics[sv->n_events], 1) != 0)
            return -1;
    return 0;
}

/* Refuses to replace a file simulate did not make, unless --overwrite. */
static int clear_dir(struct sim *s)
{
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
    char path[1024];
    struct stat st;
    size_t k;
    int i;

    if (mkdir(s->svc_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "orderly simulate: cannot make '%s': %s\n", s->svc_dir, strerror(errno));
        return -1;
    }
    for (i = 0; i < N_SVC; i++)
        for (k = 0; k < sizeof suffix / sizeof suffix[0]; k++) {
            snprintf(path, sizeof path, "%s/%s.db%s", s->svc_dir, svc_name[i], suffix[k]);
            if (lstat(path, &st) != 0)
                continue;
            if (!s->svc_overwrite || !S_ISREG(st.st_mode)) {
                fprintf(stderr, "orderly simulate: '%s' exists (--overwrite replaces it)\n", path);
                return -1;
            }
            if (unlink(path) != 0)
                return -1;
        }
    return 0;
}

int sim_services_start(struct sim *s, int (*setup)(struct sim *s))
{
    struct sim_services *sv;
    orderly_redis_options ro = ORDERLY_REDIS_OPTIONS_INIT;
    const char *one[1], *events[ORDERLY_TOPIC_COUNT];
    size_t n_events = 0;
    int i;

    if (clear_dir(s) < 0 || (sv = calloc(1, sizeof *sv)) == NULL) {
        sim_fail(s, "cannot prepare %s", s->svc_dir);
        return ORDERLY_EUSER;
    }
    s->sv = sv;
    sv->setup = setup;
    snprintf(sv->prefix, sizeof sv->prefix, "orderly-sim.%ld.%llu", (long)getpid(),
             (unsigned long long)s->seed);
    snprintf(sv->inputs, sizeof sv->inputs, "%s.inputs", sv->prefix);
    snprintf(sv->results, sizeof sv->results, "%s.results", sv->prefix);
    sv->topic_ptrs[0] = NULL;
    for (i = 1; i <= ORDERLY_TOPIC_COUNT; i++) {
        snprintf(sv->topics[i], sizeof sv->topics[i], "%s.%s", sv->prefix,
                 orderly_topic_default_name(i));
        sv->topic_ptrs[i] = sv->topics[i];
        if (i != ORDERLY_TOPIC_COMMANDS)
            events[n_events++] = sv->topics[i];
    }
    sv->victim = (int)(s->seed % N_SVC);
    sv->kill_at = 3 * s->n_orders;   /* early in the run, orders still being made */
    for (i = 0; i < N_SVC; i++)
        if (svc_fork(s, i) < 0)
            return ORDERLY_EUSER;
    ro.url = s->redis_url;
    one[0] = sv->results;
    if (orderly_redis_transport_new(&sv->log, &ro) != 0 ||
        make_consumer(s, &sv->results_in, one, 1) != 0 ||
        make_events(s, events, n_events) != 0) {
        sim_fail(s, "cannot make the world's Redis clients for %s", s->redis_url);
        return ORDERLY_EUSER;
    }
    one[0] = sv->topics[ORDERLY_TOPIC_COMMANDS];
    if (make_consumer(s, &sv->commands_in, one, 1) != 0) {
        sim_fail(s, "cannot make the world's Redis clients for %s", s->redis_url);
        return ORDERLY_EUSER;
    }
    /* every service has made its file once all answered */
    if (append_and_wait(s, E_HELLO, NULL, 0) < 0)
        return ORDERLY_EUSER;
    return ORDERLY_OK;
}

/* Called from setup in the world: the order service's file, read-only,
 * becomes s->sqlite (s->engine reads it); the others are opened after. */
int sim_services_readers(struct sim *s)
{
    struct sim_services *sv = s->sv;
    int i;

    sv->db[SVC_ORDER] = s->sqlite;
    sv->ro[SVC_ORDER] = s->engine;
    for (i = 1; i < N_SVC; i++)
        if (open_reader(s, i) < 0)
            return ORDERLY_EUSER;
    return ORDERLY_OK;
}

int sim_services_storage(struct sim *s, orderly_ctx *ctx, orderly_engine_options *eo)
{
    orderly_sqlite_options so = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_redis_options ro = ORDERLY_REDIS_OPTIONS_INIT;
    int which = s->svc_self < 0 ? SVC_ORDER : s->svc_self;
    char path[1024];
    int rc;

    snprintf(path, sizeof path, "%s/%s.db", s->svc_dir, svc_name[which]);
    if (s->svc_self < 0) {
        so.read_only = 1;
        so.create = 0;
    } else {
        /* a kill, not a power cut: the log gives back what was not synced */
        so.synchronous = ORDERLY_SQLITE_SYNC_NORMAL;
    }
    if ((rc = orderly_sqlite_storage_open(&s->sqlite, path, &so, ctx)) < 0) {
        fprintf(stderr, "orderly simulate: cannot open '%s': %s\n", path, orderly_ctx_errmsg(ctx));
        return rc;
    }
    if (s->svc_self < 0)
        return orderly_memory_transport_new(&s->transport, NULL);
    ro.url = s->redis_url;
    if ((rc = orderly_redis_transport_new(&s->transport, &ro)) < 0)
        return rc;
    eo->roles = svc_roles[which];
    eo->flags = ORDERLY_ENGINE_REPLICA | ORDERLY_ENGINE_HAND_OFF;
    eo->source = svc_name[which];
    eo->topics = s->sv->topic_ptrs;
    eo->n_topics = ORDERLY_TOPIC_COUNT + 1;
    return ORDERLY_OK;
}

/* Every record of one store, folded into one FNV-1a hash, and the count. */
struct fold {
    uint64_t h, n;
    char last[ORDERLY_ID_MAX + 64];
};

static void fold_in(struct fold *f, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n-- > 0)
        f->h = (f->h ^ *b++) * 0x100000001b3ULL;
}

static int fold_record(const char *key, const uint8_t *data, size_t len, uint64_t version,
                       void *ud)
{
    struct fold *f = ud;

    fold_in(f, key, strlen(key) + 1);
    fold_in(f, &version, sizeof version);
    fold_in(f, &len, sizeof len);
    fold_in(f, data, len);
    f->n++;
    snprintf(f->last, sizeof f->last, "%s", key);
    return 0;
}

static int fold_store(orderly_storage *st, struct fold *f)
{
    orderly_ctx *ctx = NULL;
    char after[sizeof f->last];
    void *txn = NULL;
    int rc;

    f->h = 0xcbf29ce484222325ULL;
    f->n = 0;
    f->last[0] = '\0';
    if ((rc = orderly_ctx_new(&ctx, NULL)) < 0)
        return rc;
    if ((rc = st->begin_read != NULL ? st->begin_read(st, ctx, &txn) : st->begin(st, ctx, &txn)) < 0) {
        orderly_ctx_free(ctx);
        return rc;
    }
    /* in key order, page by page, in one read transaction */
    do {
        snprintf(after, sizeof after, "%s", f->last);
        rc = st->scan(st, ctx, txn, after, 1024, fold_record, f);
    } while (rc > 0 && strcmp(after, f->last) != 0);
    st->rollback(st, ctx, txn);
    orderly_ctx_free(ctx);
    return rc < 0 ? rc : 0;
}

int sim_services_report(struct sim *s, FILE *out)
{
    struct sim_services *sv = s->sv;
    orderly_health h = ORDERLY_HEALTH_INIT;
    struct fold f[N_SVC];
    int i, k, failed = 0, same = 1, consumed = 1;
    uint64_t undelivered = 0;

    sv->stopping = 1;
    if (append_and_wait(s, E_STOP, NULL, 0) < 0)
        return CLI_EXIT_FAIL;
    for (i = 0; i < N_SVC; i++)
        for (k = 0; k < N_ST; k++)
            sv->st[i][k] = sv->reply_len[i] >= (size_t)N_ST * 8 ? get64(sv->reply[i] + 8 * k) : 0;
    fprintf(out, "services (Redis Streams, log %s, %llu entries: %llu calls, %llu rounds):\n",
            sv->inputs, (unsigned long long)sv->seq, (unsigned long long)sv->calls,
            (unsigned long long)sv->rounds);
    for (i = 0; i < N_SVC; i++) {
        fprintf(out, "  %-12s", svc_name[i]);
        for (k = 0; k < N_ST; k++)
            fprintf(out, " %s %llu", st_name[k], (unsigned long long)sv->st[i][k]);
        fputc('\n', out);
        consumed &= sv->st[i][ST_DELIVERED] > 0;
        if (fold_store(sv->db[i], &f[i]) < 0) {
            f[i].n = 0;
            f[i].h = (uint64_t)i;   /* unreadable: unlike every other */
        }
        if (orderly_engine_health(sv->ro[i], s->now, 0, 0, &h) < 0)
            h.outbox_pending = 1;
        undelivered += h.outbox_pending + h.outbox_dead;
        if (i > 0 && (f[i].h != f[0].h || f[i].n != f[0].n))
            same = 0;
    }
    fprintf(out, "  operations carried out from the commands stream %llu, deadline commands "
                 "relayed %llu, waiting %zu\n",
            (unsigned long long)sv->commands_run, (unsigned long long)sv->deadlines_relayed,
            sv->n_retry);
    if (s->kill_service)
        fprintf(out, "  killed by SIGKILL and restarted: %s (%llu restart%s)\n",
                svc_name[sv->victim], (unsigned long long)sv->restarts,
                sv->restarts == 1 ? "" : "s");
    fprintf(out, "  every service consumed the log: %s\n", consumed ? "ok" : "FAILED");
    fprintf(out, "  the six answers to every entry agree: %s (%llu disagreements)%s%s\n",
            sv->disagreements == 0 ? "ok" : "FAILED", (unsigned long long)sv->disagreements,
            sv->disagreements > 0 ? ": " : "", sv->disagreement);
    fprintf(out, "  every service holds the same orders: %s (%llu records each, by bytes)\n",
            same ? "ok" : "FAILED", (unsigned long long)f[0].n);
    fprintf(out, "  every outbox row in every service is delivered: %s (%llu not)\n",
            undelivered == 0 ? "ok" : "FAILED", (unsigned long long)undelivered);
    failed = !consumed || sv->disagreements > 0 || !same || undelivered > 0 ||
             (s->kill_service && sv->restarts != 1);
    return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

void sim_services_stop(struct sim *s)
{
    struct sim_services *sv = s->sv;
    size_t k;
    int i, status;

    if (sv == NULL)
        return;
    for (i = 0; i < N_SVC; i++)
        if (sv->pid[i] > 0) {
            if (waitpid(sv->pid[i], &status, WNOHANG) == 0) {
                (void)kill(sv->pid[i], SIGTERM);
                (void)waitpid(sv->pid[i], &status, 0);
            }
        }
    drop_replies(sv);
    for (i = 1; i < N_SVC; i++) {
        orderly_engine_close(sv->ro[i]);
        orderly_sqlite_storage_close(sv->db[i]);
    }
    for (k = 0; k < sv->n_cmds; k++)
        free_held(&sv->cmds[k]);
    for (k = 0; k < sv->n_retry; k++)
        free_held(&sv->retry[k]);
    free(sv->cmds);
    free(sv->retry);
    orderly_redis_transport_free(sv->log);
    orderly_redis_consumer_free(sv->results_in);
    for (k = 0; k < sv->n_events; k++)
        orderly_redis_consumer_free(sv->events_in[k]);
    orderly_redis_consumer_free(sv->commands_in);
    free(sv);
    s->sv = NULL;
}

#else /* without liborderly-redis */

int sim_services_start(struct sim *s, int (*setup)(struct sim *s))
{
    (void)s;
    (void)setup;
    fprintf(stderr, "orderly simulate: --topology services needs liborderly-redis "
                    "(build with libhiredis-dev)\n");
    return ORDERLY_EUSER;
}

int sim_services_call(struct sim *s, const uint8_t *call, size_t len, uint8_t **reply,
                      size_t *reply_len)
{
    (void)s;
    (void)call;
    (void)len;
    *reply = NULL;
    *reply_len = 0;
    return -1;
}

int sim_services_round(struct sim *s, int background)
{
    (void)s;
    (void)background;
    return ORDERLY_EUSER;
}

int sim_services_quiet(struct sim *s, int *quiet)
{
    (void)s;
    *quiet = 1;
    return ORDERLY_OK;
}

int sim_services_report(struct sim *s, FILE *out)
{
    (void)s;
    (void)out;
    return CLI_EXIT_FAIL;
}

int sim_services_readers(struct sim *s)
{
    (void)s;
    return ORDERLY_EUSER;
}

int sim_services_storage(struct sim *s, orderly_ctx *ctx, orderly_engine_options *eo)
{
    (void)s;
    (void)ctx;
    (void)eo;
    return ORDERLY_EUSER;
}

void sim_services_stop(struct sim *s)
{
    (void)s;
}

#endif
