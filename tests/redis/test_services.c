/*
 * The review's services topology, run for real: six service processes,
 * each an ORDERLY_ENGINE_REPLICA with one service's roles on its own
 * SQLite file, connected only by Redis. The test process is the world and
 * the sequencer of the one ordered input log (the stream <prefix>.inputs):
 * every service reads every entry through its own consumer group, applies
 * it with the entry's now, and acknowledges it only after the engine
 * committed (or answered duplicate or late). Deadlines travel as the
 * owners' deadline commands, which the world appends to the log.
 *
 * After each scenario every store holds the same order byte for byte, the
 * services between them published exactly what one ordinary engine with
 * every role publishes for the same inputs (each event by the service that
 * owns it), and each operation sits in its owner's store only. Faults: a
 * service killed with SIGKILL between its commit and its XACK, another
 * killed wherever it was, and a Redis server crashed and restarted on its
 * append-only file.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "fixture.h"
#include "orderly/sys/redis.h"
#include "orderly/sys/sqlite.h"
#include "server.h"
#include "service.h"

/* ---- the world --------------------------------------------------------------- */

typedef struct world {
    const char *url;
    redis_server own;          /* a persisted server of the test's own, when pid > 0 */
    char dir[64];
    char db[N_SVC][96];
    char prefix[64];
    char inputs[96];
    char last[48];             /* the log's last entry id */
    char commands_seen[48];    /* the commands stream read up to here */
    char last_command[64];     /* the type of the last deadline command relayed */
    char topics[ORDERLY_TOPIC_COUNT + 1][96];
    const char *topic_ptrs[ORDERLY_TOPIC_COUNT + 1];
    pid_t pid[N_SVC];
    fx ref;                    /* one ordinary engine with every role, on memory */
    unsigned ids;
} world;

/*
 * Clean-up that holds when an assertion ends the test process half-way:
 * the scratch directory is made and removed by Check's unchecked fixture,
 * in the runner process, which is a child subreaper, so the services and
 * the test's own redis-server (each killed by PR_SET_PDEATHSIG when the
 * test process dies) are reparented to it and reaped there. The test
 * process notes each pid and directory it starts in <scratch>/cleanup.
 */
static char scratch[64];

static void note(const char *what, const char *value)
{
    char path[96];
    FILE *f;

    snprintf(path, sizeof path, "%s/cleanup", scratch);
    f = fopen(path, "a");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s %s\n", what, value);
    ck_assert_int_eq(fclose(f), 0);
}

static void note_pid(pid_t pid)
{
    char text[24];

    snprintf(text, sizeof text, "%ld", (long)pid);
    note("pid", text);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void scratch_setup(void)
{
    const char *tmp = getenv("TMPDIR");

    if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 32)
        tmp = "/tmp";
    snprintf(scratch, sizeof scratch, "%s/orderly-svc-XXXXXX", tmp);
    if (mkdtemp(scratch) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
}

/* Kills and reaps what the test started and did not stop (only processes
 * that are this runner's children: a pid the test reaped itself is
 * skipped), removes the directories it noted, then the scratch one. */
static void scratch_teardown(void)
{
    char path[96], what[8], value[128];
    FILE *f;
    pid_t pid;

    snprintf(path, sizeof path, "%s/cleanup", scratch);
    if ((f = fopen(path, "r")) != NULL) {
        while (fscanf(f, "%7s %127s", what, value) == 2) {
            if (strcmp(what, "pid") == 0) {
                pid = (pid_t)atol(value);
                if (pid > 0 && waitpid(pid, NULL, WNOHANG) == 0) {
                    kill(pid, SIGKILL);
                    waitpid(pid, NULL, 0);
                }
            } else if (strcmp(what, "dir") == 0) {
                (void)nftw(value, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
            }
        }
        fclose(f);
    }
    (void)nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void kill_services(world *w)
{
    int i;

    for (i = 0; i < N_SVC; i++)
        if (w->pid[i] > 0) {
            kill(w->pid[i], SIGKILL);
            waitpid(w->pid[i], NULL, 0);
            w->pid[i] = 0;
        }
}

static void world_open(world *w, const char *tag, int own_server)
{
    int i;

    memset(w, 0, sizeof *w);
    if (own_server) {
        /* append-only, fsynced on every write: the streams and the groups
         * survive the crash */
        ck_assert_int_eq(server_start(&w->own, 1), 0);
        note("dir", w->own.dir);
        note_pid(w->own.pid);
        w->url = w->own.url;
    } else {
        w->url = suite_redis_url();
    }
    snprintf(w->dir, sizeof w->dir, "%s", scratch);
    for (i = 0; i < N_SVC; i++)
        snprintf(w->db[i], sizeof w->db[i], "%s/%s.db", w->dir, svc_name_of((size_t)(i)));
    snprintf(w->prefix, sizeof w->prefix, "svc.%s.%ld", tag, (long)getpid());
    snprintf(w->inputs, sizeof w->inputs, "%s.inputs", w->prefix);
    snprintf(w->commands_seen, sizeof w->commands_seen, "-");
    topic_names(w->topics, w->topic_ptrs, w->prefix);
    fx_setup(&w->ref);
    ck_assert_int_eq(set_executors(w->ref.e), 0);
}

/* The services have stopped (or are killed here); the files go with the
 * fixture's teardown. */
static void world_close(world *w)
{
    kill_services(w);
    fx_free(&w->ref);
    if (w->own.pid > 0)
        server_stop(&w->own);
}

static void spawn(world *w, int i)
{
    pid_t pid;

    /* nothing buffered in the world is written a second time by the
     * service's exit */
    fflush(NULL);
    pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* a test process that dies takes its services along */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* exit, not _exit, so that LeakSanitizer looks at the service too */
        exit(service_main(i, w->url, w->prefix, w->db[i]));
    }
    w->pid[i] = pid;
    note_pid(pid);
}

static void spawn_all(world *w)
{
    int i;

    for (i = 0; i < N_SVC; i++)
        spawn(w, i);
}

/* One command to the world's Redis, connecting each time: the server may
 * have restarted since the last one. */
static redisReply *world_cmd(world *w, const char *fmt, ...)
{
    redisContext *c = NULL;
    redisReply *r = NULL;
    va_list ap;
    int i;

    for (i = 0; i < 500 && r == NULL; i++) {
        if ((c = raw_connect(w->url)) != NULL) {
            va_start(ap, fmt);
            r = redisvCommand(c, fmt, ap);
            va_end(ap);
            redisFree(c);
        }
        if (r == NULL)
            nap(10);
    }
    ck_assert_msg(r != NULL, "redis at %s does not answer", w->url);
    return r;
}

/* The reference engine takes the same input at the same place. */
static void reference_applies(world *w, json_t *j, const char *entry_id)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    const char *call = json_string_value(json_object_get(j, "call"));
    orderly_time_ms now = (orderly_time_ms)json_integer_value(json_object_get(j, "now"));
    orderly_order_spec spec;
    size_t n;
    char *env;
    int rc = 0;

    if (strcmp(call, "create") == 0) {
        spec = spec_of(j, entry_id, now);
        rc = orderly_engine_create_order(w->ref.e, &spec, &res);
    } else if (strcmp(call, "event") == 0) {
        env = json_dumps(json_object_get(j, "envelope"), JSON_COMPACT);
        ck_assert_ptr_nonnull(env);
        rc = handle(&w->ref, env, now, &res);
        free(env);
    } else if (strcmp(call, "round") == 0) {
        (void)tick(&w->ref, now);
        rc = orderly_engine_run_operations(w->ref.e, now, 0, &n);
    }
    ck_assert_msg(rc == 0, "reference refused %s: %d %s", call, rc,
                  orderly_engine_errmsg(w->ref.e));
    pump_all(&w->ref, now);
}

/* XADDs one entry to the log (steals j); the reference applies it too
 * unless it is a deadline command (the reference fires its own timers). */
static void append(world *w, json_t *j, int to_reference)
{
    char *text = json_dumps(j, JSON_COMPACT);
    redisReply *r;

    ck_assert_ptr_nonnull(text);
    r = world_cmd(w, "XADD %s * data %s", w->inputs, text);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    snprintf(w->last, sizeof w->last, "%s", r->str);
    freeReplyObject(r);
    if (to_reference)
        reference_applies(w, j, w->last);
    free(text);
    json_decref(j);
}

static void create_order(world *w, const char *order, int method, orderly_time_ms now)
{
    append(w, json_pack("{s:I, s:s, s:s, s:i}", "now", (json_int_t)now, "call", "create",
                        "order", order, "method", method), 1);
}

/* A card order with a promotion applied and loyalty points redeemed. */
static void create_promoted_order(world *w, const char *order, int64_t points,
                                  orderly_time_ms now)
{
    append(w, json_pack("{s:I, s:s, s:s, s:i, s:b, s:I}", "now", (json_int_t)now, "call",
                        "create", "order", order, "method", ORDERLY_PAY_CARD, "promotion", 1,
                        "points", (json_int_t)points), 1);
}

/* A command from the world (customer, payment provider, warehouse,
 * carrier) as a CloudEvents envelope; die names a service that crashes
 * right after committing it. */
static void send_event(world *w, const char *type, const char *order, const char *data,
                       orderly_time_ms now, const char *die)
{
    char id[32], *env;
    json_t *j, *e;

    snprintf(id, sizeof id, "world-%u", ++w->ids);
    env = make_env(id, type, order, data);
    e = json_loads(env, 0, NULL);
    free(env);
    ck_assert_ptr_nonnull(e);
    j = json_pack("{s:I, s:s, s:o}", "now", (json_int_t)now, "call", "event", "envelope", e);
    if (die != NULL)
        json_object_set_new(j, "die_after_commit", json_string(die));
    append(w, j, 1);
}

static int group_caught_up(const redisReply *g, const char *last)
{
    const char *name = NULL, *delivered = NULL;
    long long pending = -1;
    size_t k;

    for (k = 0; k + 1 < g->elements; k += 2) {
        const char *field = g->element[k]->str;
        const redisReply *v = g->element[k + 1];
        if (strcmp(field, "name") == 0)
            name = v->str;
        else if (strcmp(field, "pending") == 0)
            pending = v->integer;
        else if (strcmp(field, "last-delivered-id") == 0)
            delivered = v->str;
    }
    return name != NULL && service_of(name) >= 0 && pending == 0 && delivered != NULL &&
           strcmp(delivered, last) == 0;
}

static void assert_services_alive(world *w)
{
    int i, status;

    for (i = 0; i < N_SVC; i++)
        ck_assert_msg(waitpid(w->pid[i], &status, WNOHANG) == 0,
                      "service %s ended early (status %d)", svc_name_of((size_t)(i)), status);
}

/* Waits until every service's group has read and acknowledged the whole
 * log (bounded: a service that refuses an entry fails the test here). */
static void barrier(world *w)
{
    redisReply *r;
    size_t k;
    int i, done = 0;

    for (i = 0; i < 3000 && !done; i++) {
        int caught_up = 0;
        r = world_cmd(w, "XINFO GROUPS %s", w->inputs);
        if (r->type == REDIS_REPLY_ARRAY)
            for (k = 0; k < r->elements; k++)
                caught_up += group_caught_up(r->element[k], w->last);
        freeReplyObject(r);
        done = caught_up == N_SVC;
        if (!done) {
            assert_services_alive(w);
            nap(10);
        }
    }
    ck_assert_msg(done, "the services did not catch up with %s", w->last);
}

/* The deadline commands the services published since the last look, each
 * appended to the log as an event at now. Returns how many. */
static size_t forward_commands(world *w, orderly_time_ms now)
{
    redisReply *r = world_cmd(w, "XRANGE %s %s +", w->topics[ORDERLY_TOPIC_COMMANDS],
                              w->commands_seen);
    size_t k, n = 0;

    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    for (k = 0; k < r->elements; k++) {
        const redisReply *f = r->element[k]->element[1];
        json_t *env;
        snprintf(w->commands_seen, sizeof w->commands_seen, "(%s", r->element[k]->element[0]->str);
        ck_assert_uint_ge(f->elements, 2);
        ck_assert_str_eq(f->element[0]->str, "data");
        env = json_loads(f->element[1]->str, 0, NULL);
        ck_assert_ptr_nonnull(env);
        ck_assert_ptr_nonnull(json_string_value(json_object_get(env, "type")));
        snprintf(w->last_command, sizeof w->last_command, "%s",
                 json_string_value(json_object_get(env, "type")));
        ck_assert_msg(strncmp(w->last_command, "orderly.command.", 16) != 0,
                      "an operation reached the commands topic");
        append(w, json_pack("{s:I, s:s, s:o}", "now", (json_int_t)now, "call", "event",
                            "envelope", env), 0);
        n++;
    }
    freeReplyObject(r);
    return n;
}

/* A round of the clock at now: every service ticks and runs its
 * operations; the deadline commands that wrote go through the log.
 * Returns the commands forwarded. */
static size_t round_at(world *w, orderly_time_ms now)
{
    size_t n;

    append(w, json_pack("{s:I, s:s}", "now", (json_int_t)now, "call", "round"), 1);
    barrier(w);
    n = forward_commands(w, now);
    barrier(w);
    return n;
}

typedef struct stats {
    long long delivered, acked, failed, reclaimed, dead, duplicates, late, refused, reconnects;
} stats;

static long long stat_of(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);

    ck_assert_msg(json_is_integer(v), "no %s in the report", key);
    return (long long)json_integer_value(v);
}

/* Appends "stop", waits for every service to end well, reads their
 * reports. */
static void stop_all(world *w, stats *out)
{
    redisReply *r;
    size_t k;
    int i, status, seen = 0;

    append(w, json_pack("{s:I, s:s}", "now", (json_int_t)0, "call", "stop"), 0);
    for (i = 0; i < N_SVC; i++) {
        ck_assert_int_eq(waitpid(w->pid[i], &status, 0), w->pid[i]);
        w->pid[i] = 0;
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "service %s: status %d",
                      svc_name_of((size_t)(i)), status);
    }
    memset(out, 0, sizeof *out * N_SVC);
    r = world_cmd(w, "XRANGE %s.results - +", w->prefix);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    for (k = 0; k < r->elements; k++) {
        const redisReply *f = r->element[k]->element[1];
        json_t *j;
        int s;
        ck_assert_uint_eq(f->elements, 4);
        s = service_of(f->element[1]->str);
        ck_assert_int_ge(s, 0);
        j = json_loads(f->element[3]->str, 0, NULL);
        ck_assert_ptr_nonnull(j);
        out[s].delivered = stat_of(j, "delivered");
        out[s].acked = stat_of(j, "acked");
        out[s].failed = stat_of(j, "failed");
        out[s].reclaimed = stat_of(j, "reclaimed");
        out[s].dead = stat_of(j, "dead");
        out[s].duplicates = stat_of(j, "duplicates");
        out[s].late = stat_of(j, "late");
        out[s].refused = stat_of(j, "refused");
        out[s].reconnects = stat_of(j, "reconnects");
        json_decref(j);
        seen |= 1 << s;
    }
    freeReplyObject(r);
    ck_assert_int_eq(seen, (1 << N_SVC) - 1);
    for (i = 0; i < N_SVC; i++) {
        ck_assert_msg(out[i].failed == 0 && out[i].dead == 0 && out[i].refused == 0,
                      "service %s: %lld failed, %lld dead, %lld refused", svc_name_of((size_t)(i)),
                      out[i].failed, out[i].dead, out[i].refused);
        ck_assert_int_gt(out[i].acked, 0);
    }
}

/* ---- what the services hold and published ------------------------------------ */

#define MAX_ROWS 256

typedef struct rows {
    char r[MAX_ROWS][200];
    size_t n;
} rows;

static int cmp_row(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void assert_same_rows(rows *got, rows *want, const char *what)
{
    size_t i;

    qsort(got->r, got->n, sizeof got->r[0], cmp_row);
    qsort(want->r, want->n, sizeof want->r[0], cmp_row);
    ck_assert_msg(got->n == want->n, "%s: %zu across the services, %zu in the reference", what,
                  got->n, want->n);
    for (i = 0; i < got->n; i++)
        ck_assert_msg(strcmp(got->r[i], want->r[i]) == 0, "%s differ: '%s' and '%s'", what,
                      got->r[i], want->r[i]);
}

static void field_text(char *out, size_t cap, json_t *v)
{
    if (json_is_integer(v))
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        snprintf(out, cap, "%s", json_string_value(v));
    else
        snprintf(out, cap, "-");
}

/* An event as the comparison sees it: type, subject and what the data
 * says moved (never its id or time). */
static void event_row(rows *l, json_t *env)
{
    json_t *data = json_object_get(env, "data");
    char f[4][40];

    field_text(f[0], sizeof f[0], json_object_get(data, "machine"));
    field_text(f[1], sizeof f[1], json_object_get(data, "index"));
    field_text(f[2], sizeof f[2], json_object_get(data, "from"));
    field_text(f[3], sizeof f[3], json_object_get(data, "to"));
    ck_assert_uint_lt(l->n, MAX_ROWS);
    snprintf(l->r[l->n++], sizeof l->r[0], "%s|%s|%s|%s|%s|%s",
             json_string_value(json_object_get(env, "type")),
             json_string_value(json_object_get(env, "subject")), f[0], f[1], f[2], f[3]);
}

/* What the reference published, the commands topic aside. */
static void reference_events(world *w, rows *l)
{
    size_t i, n = orderly_memory_transport_count(w->ref.tr);
    orderly_message m;

    for (i = 0; i < n; i++) {
        json_t *env;
        ck_assert_int_eq(orderly_memory_transport_get(&m, w->ref.tr, i), 0);
        if (strcmp(m.topic, orderly_topic_default_name(ORDERLY_TOPIC_COMMANDS)) == 0)
            continue;
        env = json_loadb((const char *)m.data, m.len, 0, NULL);
        ck_assert_ptr_nonnull(env);
        event_row(l, env);
        json_decref(env);
    }
}

/* What the services published on the topic streams, each event once (a
 * redelivered publish carries the same id, which consumers dedupe by),
 * each by the service that owns its machine. */
static void service_events(world *w, rows *l)
{
    static char ids[MAX_ROWS * 2][40];
    size_t n_ids = 0, k, d;
    int t;

    for (t = 1; t < ORDERLY_TOPIC_COMMANDS; t++) {
        redisReply *r = world_cmd(w, "XRANGE %s - +", w->topics[t]);
        ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
        for (k = 0; k < r->elements; k++) {
            const redisReply *f = r->element[k]->element[1];
            json_t *env = json_loads(f->element[1]->str, 0, NULL);
            const char *id, *type, *source;
            int seen = 0, s;
            ck_assert_ptr_nonnull(env);
            id = json_string_value(json_object_get(env, "id"));
            type = json_string_value(json_object_get(env, "type"));
            source = json_string_value(json_object_get(env, "source"));
            ck_assert_ptr_nonnull(id);
            s = service_of(source);
            ck_assert_msg(s >= 0, "event %s from unknown source %s", type, source);
            ck_assert_msg((svc_roles_of((size_t)(s)) & (1u << event_owner(type))) != 0,
                          "%s published by %s, which does not own it", type, source);
            for (d = 0; d < n_ids && !seen; d++)
                seen = strcmp(ids[d], id) == 0;
            if (!seen) {
                ck_assert_uint_lt(n_ids, MAX_ROWS * 2);
                snprintf(ids[n_ids++], sizeof ids[0], "%s", id);
                event_row(l, env);
            }
            json_decref(env);
        }
        freeReplyObject(r);
    }
}

static uint8_t *load_order(orderly_storage *st, const char *order, size_t *len,
                           uint64_t *version)
{
    orderly_ctx *ctx = NULL;
    orderly_buf *b = NULL;
    void *txn = NULL;
    uint8_t *out;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(orderly_buf_new(&b, NULL), 0);
    ck_assert_int_eq(st->begin(st, ctx, &txn), 0);
    ck_assert_int_eq(st->load(st, ctx, txn, order, b, version), 0);
    st->rollback(st, ctx, txn);
    *len = orderly_buf_len(b);
    out = malloc(*len);
    ck_assert_ptr_nonnull(out);
    memcpy(out, orderly_buf_data(b), *len);
    orderly_buf_free(b);
    orderly_ctx_free(ctx);
    return out;
}

struct op_walk {
    rows *l;
    unsigned roles;    /* 0: the reference, any owner */
};

static int op_row(const orderly_operation_view *op, void *ud)
{
    struct op_walk *w = ud;

    if (w->roles != 0)
        ck_assert_msg((w->roles & (1u << orderly_op_machine(op->op))) != 0,
                      "operation %s stored by a service that does not own it",
                      orderly_op_name(op->op));
    ck_assert_uint_lt(w->l->n, MAX_ROWS);
    snprintf(w->l->r[w->l->n++], sizeof w->l->r[0], "%s|%s|%u|%lld|%s|%d",
             orderly_op_name(op->op), op->order_id, op->index, (long long)op->amount, op->key,
             op->state);
    return 0;
}

static int history_row(const orderly_history_entry *h, void *ud)
{
    rows *l = ud;

    ck_assert_uint_lt(l->n, MAX_ROWS);
    /* the envelope's bytes name its publisher (source), so not those */
    snprintf(l->r[l->n++], sizeof l->r[0], "%u|%s|%s|%lld|%s|%u|%s|%s|%s|%lld", h->seq, h->type,
             h->event_id, (long long)h->time, h->machine, h->index,
             h->from != NULL ? h->from : "-", h->to != NULL ? h->to : "-",
             h->event != NULL ? h->event : "-", (long long)h->amount);
    return 0;
}

static void assert_same_history(orderly_engine *e, const char *name, const char *order,
                                const rows *want)
{
    static rows got;
    size_t k;

    memset(&got, 0, sizeof got);
    ck_assert_int_ge(orderly_engine_order_history(e, order, 0, 0, history_row, &got), 0);
    ck_assert_msg(got.n == want->n, "%s: %zu history entries of %s, the reference %zu", name,
                  got.n, order, want->n);
    for (k = 0; k < got.n; k++)
        ck_assert_msg(strcmp(got.r[k], want->r[k]) == 0, "%s: history of %s differs: '%s', '%s'",
                      name, order, got.r[k], want->r[k]);
}

/* Every store holds the reference's order byte for byte and its history
 * event for event; the services' operations, each in its owner's store,
 * are the reference's; their published events are the reference's. */
static void assert_converged(world *w, const char *const *orders, size_t n_orders)
{
    static rows want, got;
    struct op_walk ow;
    size_t i, o, want_len, got_len;
    uint64_t want_v, got_v;
    uint8_t *want_b, *got_b;

    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    ow.l = &want;
    ow.roles = 0;
    ck_assert_int_eq(orderly_engine_list_operations(w->ref.e, -1, 0, MAX_ROWS, op_row, &ow), 0);
    for (i = 0; i < N_SVC; i++) {
        orderly_engine_options opts = ORDERLY_ENGINE_OPTIONS_INIT;
        orderly_storage *db = NULL;
        orderly_transport *tr = NULL;
        orderly_engine *e = NULL;

        ck_assert_int_eq(orderly_sqlite_storage_open(&db, w->db[i], NULL, NULL), 0);
        for (o = 0; o < n_orders; o++) {
            want_b = load_order(w->ref.st, orders[o], &want_len, &want_v);
            got_b = load_order(db, orders[o], &got_len, &got_v);
            ck_assert_uint_eq(got_v, want_v);
            ck_assert_msg(got_len == want_len && memcmp(got_b, want_b, want_len) == 0,
                          "%s stores order %s differently", svc_name_of(i), orders[o]);
            free(got_b);
            free(want_b);
        }
        ck_assert_int_eq(orderly_memory_transport_new(&tr, NULL), 0);
        opts.roles = svc_roles_of(i);
        opts.flags = ORDERLY_ENGINE_REPLICA;
        opts.storage = db;
        opts.transport = tr;
        ck_assert_int_eq(orderly_engine_open(&e, &opts, NULL), 0);
        for (o = 0; o < n_orders; o++) {
            static rows want_h;
            memset(&want_h, 0, sizeof want_h);
            ck_assert_int_ge(orderly_engine_order_history(w->ref.e, orders[o], 0, 0, history_row,
                                                          &want_h), 0);
            ck_assert_uint_gt(want_h.n, 0);
            assert_same_history(e, svc_name_of(i), orders[o], &want_h);
        }
        ow.l = &got;
        ow.roles = svc_roles_of(i);
        ck_assert_int_eq(orderly_engine_list_operations(e, -1, 0, MAX_ROWS, op_row, &ow), 0);
        orderly_engine_close(e);
        orderly_memory_transport_free(tr);
        orderly_sqlite_storage_close(db);
    }
    assert_same_rows(&got, &want, "operations");
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    reference_events(w, &want);
    service_events(w, &got);
    ck_assert_uint_gt(want.n, 0);
    assert_same_rows(&got, &want, "published events");
}

/* ---- the scenarios -------------------------------------------------------- */

static void ev(world *w, const char *type, const char *order, uint32_t index,
               orderly_time_ms now, const char *die)
{
    char data[32];

    snprintf(data, sizeof data, "{\"index\":%u}", index);
    send_event(w, type, order, data, now, die);
}

static void pay(world *w, const char *order, orderly_time_ms now)
{
    char data[32];

    snprintf(data, sizeof data, "{\"amount\":%d}", TOTAL);
    send_event(w, "payment.authorize", order, data, now, NULL);
    send_event(w, "payment.request_capture", order, NULL, now + 1000, NULL);
    send_event(w, "payment.capture_succeeded", order, NULL, now + 2000, NULL);
}

static void ship(world *w, const char *order, uint32_t i, orderly_time_ms now)
{
    ev(w, "fulfillment.start_picking", order, i, now, NULL);
    ev(w, "fulfillment.picked", order, i, now, NULL);
    ev(w, "fulfillment.start_packing", order, i, now, NULL);
    ev(w, "fulfillment.packed", order, i, now, NULL);
    ev(w, "fulfillment.ship", order, i, now, NULL);
}

static void deliver(world *w, const char *order, uint32_t i, orderly_time_ms now,
                    const char *die)
{
    ev(w, "shipment.pick_up", order, i, now, die);
    ev(w, "shipment.deliver", order, i, now, NULL);
}

/* Delivered and left alone: the order service's auto-complete deadline
 * goes through the log and completes the order on every service. */
START_TEST(a_paid_order_completes_across_six_service_processes)
{
    const char *orders[] = { "o1" };
    stats st[N_SVC];
    world w;

    world_open(&w, "happy", 0);
    spawn_all(&w);
    create_order(&w, "o1", ORDERLY_PAY_CARD, T0);
    pay(&w, "o1", T0 + 1000);
    ship(&w, "o1", 0, T0 + 4000);
    ship(&w, "o1", 1, T0 + 5000);
    deliver(&w, "o1", 0, T0 + 6000, NULL);
    deliver(&w, "o1", 1, T0 + 7000, NULL);
    ck_assert_uint_eq(round_at(&w, T0 + 8000), 0);
    ck_assert_int_eq(view(&w.ref, "o1").order_state, ORDERLY_ORDER_DELIVERED);
    ck_assert_uint_eq(round_at(&w, T0 + 8 * DAY), 1);
    ck_assert_str_eq(w.last_command, "order.auto_complete");
    stop_all(&w, st);
    ck_assert_int_eq(view(&w.ref, "o1").order_state, ORDERLY_ORDER_COMPLETED);
    ck_assert_int_eq(view(&w.ref, "o1").payment_state, ORDERLY_PAYMENT_CAPTURED);
    assert_converged(&w, orders, 1);
    world_close(&w);
}
END_TEST

/* Never paid: past the reservation TTL the warehouse's deadline command
 * cancels the order on every service. */
START_TEST(an_unpaid_order_is_cancelled_by_the_warehouse_deadline_on_every_service)
{
    const char *orders[] = { "u1" };
    stats st[N_SVC];
    world w;

    world_open(&w, "unpaid", 0);
    spawn_all(&w);
    create_order(&w, "u1", ORDERLY_PAY_CARD, T0);
    ck_assert_uint_eq(round_at(&w, T0 + 10 * MIN), 0);
    ck_assert_uint_eq(round_at(&w, T0 + 16 * MIN), 1);
    ck_assert_str_eq(w.last_command, "reservation.expire");
    ck_assert_int_eq(view(&w.ref, "u1").order_state, ORDERLY_ORDER_CANCELLED);
    /* the release the cancellation recorded runs in the warehouse */
    ck_assert_uint_eq(round_at(&w, T0 + 17 * MIN), 0);
    stop_all(&w, st);
    assert_converged(&w, orders, 1);
    world_close(&w);
}
END_TEST

/* Cancelled by the customer once authorized: four compensations, each
 * recorded and run by the service that owns it (the void by payment, the
 * release by the warehouse, the promotion and the points by order). */
START_TEST(a_cancellation_compensates_in_each_owning_service)
{
    const char *orders[] = { "c1" };
    char data[32];
    stats st[N_SVC];
    world w;

    world_open(&w, "cancel", 0);
    spawn_all(&w);
    create_promoted_order(&w, "c1", 250, T0);
    snprintf(data, sizeof data, "{\"amount\":%d}", TOTAL);
    send_event(&w, "payment.authorize", "c1", data, T0 + 1000, NULL);
    send_event(&w, "order.cancel", "c1", NULL, T0 + 2000, NULL);
    ck_assert_uint_eq(round_at(&w, T0 + 3000), 0);
    stop_all(&w, st);
    ck_assert_int_eq(view(&w.ref, "c1").order_state, ORDERLY_ORDER_CANCELLED);
    ck_assert_uint_eq(count_op(&w.ref, "c1", ORDERLY_OP_VOID_AUTHORIZATION, NULL), 1);
    ck_assert_uint_eq(count_op(&w.ref, "c1", ORDERLY_OP_RELEASE_RESERVATIONS, NULL), 1);
    ck_assert_uint_eq(count_op(&w.ref, "c1", ORDERLY_OP_REVERT_PROMOTION, NULL), 1);
    ck_assert_uint_eq(count_op(&w.ref, "c1", ORDERLY_OP_RESTORE_LOYALTY, NULL), 1);
    assert_converged(&w, orders, 1);
    world_close(&w);
}
END_TEST

/* Shipping dies (SIGKILL) between committing a carrier event and its
 * XACK; payment is killed wherever it was in the payment's entries. Both
 * restart on their own SQLite file and consumer name, take their pending
 * entries back, answer the committed one as a duplicate, and the run
 * converges. */
START_TEST(services_killed_mid_run_resume_from_their_own_store_and_group)
{
    const char *orders[] = { "k1" };
    stats st[N_SVC];
    int status;
    world w;

    world_open(&w, "kill", 0);
    spawn_all(&w);
    create_order(&w, "k1", ORDERLY_PAY_CARD, T0);
    pay(&w, "k1", T0 + 1000);
    /* payment dies wherever it is in the authorization and capture: a
     * replica restarted while its authorization's deadline waits has
     * forgotten that timer row, and its tick must find the state left
     * (tests/engine/test_replica.c has the case on its own) */
    kill(w.pid[SVC_PAYMENT], SIGKILL);
    ck_assert_int_eq(waitpid(w.pid[SVC_PAYMENT], &status, 0), w.pid[SVC_PAYMENT]);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    spawn(&w, SVC_PAYMENT);
    ship(&w, "k1", 0, T0 + 4000);
    ship(&w, "k1", 1, T0 + 5000);
    deliver(&w, "k1", 0, T0 + 6000, svc_name_of(SVC_SHIPPING));
    deliver(&w, "k1", 1, T0 + 7000, NULL);
    ck_assert_int_eq(waitpid(w.pid[SVC_SHIPPING], &status, 0), w.pid[SVC_SHIPPING]);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    spawn(&w, SVC_SHIPPING);
    barrier(&w);
    ck_assert_uint_eq(round_at(&w, T0 + 8 * DAY), 1);
    ck_assert_str_eq(w.last_command, "order.auto_complete");
    stop_all(&w, st);
    ck_assert_int_ge(st[SVC_SHIPPING].reclaimed, 1);
    ck_assert_int_ge(st[SVC_SHIPPING].duplicates, 1);
    ck_assert_int_eq(view(&w.ref, "k1").order_state, ORDERLY_ORDER_COMPLETED);
    assert_converged(&w, orders, 1);
    world_close(&w);
}
END_TEST

/* Redis crashes once mid-run and comes back from its append-only file:
 * the services reconnect, publishes that failed are retried from the
 * outboxes, and the run converges. */
START_TEST(a_redis_restart_mid_run_converges)
{
    const char *orders[] = { "r1" };
    stats st[N_SVC];
    world w;
    int i;

    world_open(&w, "restart", 1);
    spawn_all(&w);
    create_order(&w, "r1", ORDERLY_PAY_CARD, T0);
    pay(&w, "r1", T0 + 1000);
    /* every service connected, then the crash with entries in flight */
    barrier(&w);
    ship(&w, "r1", 0, T0 + 4000);
    server_crash(&w.own);
    ck_assert_int_eq(server_restart(&w.own), 0);
    note_pid(w.own.pid);
    ship(&w, "r1", 1, T0 + 5000);
    deliver(&w, "r1", 0, T0 + 6000, NULL);
    deliver(&w, "r1", 1, T0 + 7000, NULL);
    barrier(&w);
    /* an hour on, every outbox row a failed publish sent back is due again */
    ck_assert_uint_eq(round_at(&w, T0 + HOUR), 0);
    ck_assert_uint_eq(round_at(&w, T0 + 8 * DAY), 1);
    ck_assert_str_eq(w.last_command, "order.auto_complete");
    stop_all(&w, st);
    for (i = 0; i < N_SVC; i++)
        ck_assert_msg(st[i].reconnects >= 1, "%s never reconnected", svc_name_of((size_t)(i)));
    ck_assert_int_eq(view(&w.ref, "r1").order_state, ORDERLY_ORDER_COMPLETED);
    assert_converged(&w, orders, 1);
    world_close(&w);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        a_paid_order_completes_across_six_service_processes,
        an_unpaid_order_is_cancelled_by_the_warehouse_deadline_on_every_service,
        a_cancellation_compensates_in_each_owning_service,
        services_killed_mid_run_resume_from_their_own_store_and_group,
        a_redis_restart_mid_run_converges,
    };
    Suite *s = suite_create("redis-services");
    size_t i;

    signal(SIGPIPE, SIG_IGN);
    (void)suite_redis_url();
    /* the services of a test that died half-way are reaped here */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++)
        tcase_add_unchecked_fixture(orderly_test_case(s, tests[i], 120), scratch_setup,
                                    scratch_teardown);
    return run_suite(s);
}
