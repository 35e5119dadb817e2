/*
 * orderly drain: the background steps a host runs from its loop (fire due
 * timers, run due operations, publish due outbox events), run against
 * an existing database round after round until nothing is due. It is how
 * an operator resumes after a crash.
 *
 * The tool has no broker: events go to the in-memory transport, a sink
 * drain counts (and prints with --print), and operations, with no
 * executor registered here, go out as command events on the commands
 * topic, as they would from any host without executors.
 */
#include <jansson.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_ROUNDS 1000
/* Rounds in a row that get nothing done but transient failures (another
 * process holding the database, say) before drain stops trying. */
#define STALLED_ROUNDS 10

static void usage(FILE *f)
{
    fputs("usage: orderly drain [--db FILE] [--now MS] [--rounds N] [--print]\n"
          "\n"
          "Resumes the background work of an existing SQLite database (it never\n"
          "creates one): fires due timers, runs due operations and publishes due\n"
          "outbox events, round after round, until nothing is due or N rounds have\n"
          "run. Prints what it did; exits 0 when nothing is left due, 1 otherwise.\n"
          "\n"
          "There is no broker here: events are delivered to an in-memory sink and\n"
          "counted, and operations, with no executor in this tool, are handed\n"
          "over as command events on the commands topic; both are then marked done.\n"
          "A host with a real broker and executors runs the same loop itself (or\n"
          "forwards what --print writes).\n"
          "\n"
          "  --db FILE    database (default " CLI_DEFAULT_DB ")\n"
          "  --now MS     the time to drain at, in milliseconds since the epoch\n"
          "               (default: the database's simulated clock when simulate\n"
          "               made it, else the wall clock)\n"
          "  --rounds N   give up after N rounds, 1..1000000 (default 1000)\n"
          "  --print      write each delivered envelope to stdout as one JSON line\n"
          "               {\"topic\":...,\"key\":...,\"envelope\":{...}}; the report\n"
          "               then goes to stderr\n",
          f);
}

/* Queue rows a step could take at now (READY and due, or LEASED with an
 * expired lease), and the ones that wait for a later now, of which some
 * are held under a lease. */
struct due {
    uint64_t outbox, timers, operations, later[3], leased;
};

static uint64_t due_total(const struct due *d)
{
    return d->outbox + d->timers + d->operations;
}

static int due_at(orderly_storage *s, orderly_ctx *ctx, orderly_time_ms now, struct due *d)
{
    static const int queues[3] = { ORDERLY_QUEUE_OUTBOX, ORDERLY_QUEUE_TIMERS,
                                   ORDERLY_QUEUE_OPERATIONS };
    orderly_queue_stats qs[3];
    void *txn = NULL;
    int i, rc;

    if ((rc = s->begin(s, ctx, &txn)) < 0)
        return rc;
    for (i = 0; i < 3; i++) {
        if ((rc = s->queue_stats(s, ctx, txn, queues[i], now, &qs[i])) < 0) {
            s->rollback(s, ctx, txn);
            return rc;
        }
        d->later[i] = qs[i].ready - qs[i].due + qs[i].leased;
    }
    d->leased = qs[0].leased + qs[1].leased + qs[2].leased;
    s->rollback(s, ctx, txn);
    d->outbox = qs[0].due + qs[0].lease_expired;
    d->timers = qs[1].due + qs[1].lease_expired;
    d->operations = qs[2].due + qs[2].lease_expired;
    return ORDERLY_OK;
}

struct lease_scan {
    uint64_t last;
    orderly_time_ms until;
};

static int lease_end(const orderly_queue_item *it, void *user_data)
{
    struct lease_scan *l = user_data;

    l->last = it->id;
    if (it->lease_until > l->until)
        l->until = it->lease_until;
    return 0;
}

/* When the last lease held on any queue runs out. A crashed process's
 * leases block its rows until then; after that a step takes them over. */
static int leases_until(orderly_storage *s, orderly_ctx *ctx, orderly_time_ms *until)
{
    static const int queues[3] = { ORDERLY_QUEUE_OUTBOX, ORDERLY_QUEUE_TIMERS,
                                   ORDERLY_QUEUE_OPERATIONS };
    struct lease_scan l;
    void *txn = NULL;
    int i, rc = 0;

    if ((rc = s->begin(s, ctx, &txn)) < 0)
        return rc;
    *until = 0;
    for (i = 0; i < 3 && rc >= 0; i++) {
        l.last = 0;
        l.until = *until;
        do
            rc = s->queue_scan(s, ctx, txn, queues[i], ORDERLY_ITEM_LEASED, l.last, 1024, lease_end, &l);
        while (rc == 1024);
        *until = l.until;
    }
    s->rollback(s, ctx, txn);
    return rc < 0 ? rc : ORDERLY_OK;
}

struct drained {
    uint64_t rounds, fired, operations, published, messages, retried;
};

/* Empties the sink: each message printed as one JSON line with --print. */
static int deliver(cli_db *db, int print, struct drained *t)
{
    size_t i;
    orderly_message msg;
    json_t *env, *line;
    int rc = ORDERLY_OK;

    /* the sink is emptied every round, while its count runs on: walk what
     * it holds until it says there is no more */
    for (i = 0; rc == ORDERLY_OK; i++) {
        if ((rc = orderly_memory_transport_get(&msg, db->transport, i)) < 0) {
            if (rc == ORDERLY_ENOTFOUND)
                rc = ORDERLY_OK;
            break;
        }
        t->messages++;
        if (!print)
            continue;
        if ((env = json_loadb((const char *)msg.data, msg.len, 0, NULL)) == NULL) {
            fprintf(stderr, "orderly drain: an event on %s is not JSON\n", msg.topic);
            rc = ORDERLY_ERROR;
            break;
        }
        line = json_pack("{s:s, s:s, s:O}", "topic", msg.topic, "key", msg.key != NULL ? msg.key : "",
                         "envelope", env);
        json_decref(env);
        if (line == NULL || json_dumpf(line, stdout, JSON_COMPACT) != 0 || putchar('\n') == EOF)
            rc = ORDERLY_ERROR;
        json_decref(line);
    }
    orderly_memory_transport_clear(db->transport);
    return rc;
}

/* One step's outcome: a transient failure is retried next round. */
static int step_failed(cli_db *db, const char *step, int rc, struct drained *t)
{
    if (rc >= 0)
        return 0;
    if (orderly_error_is_transient(rc)) {
        t->retried++;
        return 0;
    }
    fprintf(stderr, "orderly drain: %s failed: %s\n", step,
            orderly_engine_errmsg(db->engine)[0] != '\0' ? orderly_engine_errmsg(db->engine)
                                                         : orderly_strerror(rc));
    return 1;
}

/* The loop. Returns 1 when nothing is left due; 0 when the rounds ran
 * out, a round changed nothing without a failure (the due rows cannot be
 * worked at now), or STALLED_ROUNDS rounds in a row changed nothing but
 * failed transiently; or a negative code. */
static int drain(cli_db *db, orderly_ctx *ctx, orderly_time_ms now, uint64_t max_rounds, int print,
                 struct drained *t, struct due *d)
{
    struct due before;
    size_t fired, done, published;
    uint64_t retried;
    int rc, failed, stalled = 0;

    while (due_total(d) > 0) {
        if (t->rounds == max_rounds)
            return 0;
        t->rounds++;
        before = *d;
        retried = t->retried;
        fired = done = published = 0;
        failed = step_failed(db, "tick", orderly_engine_tick(db->engine, now, 0, &fired), t) ||
                 step_failed(db, "run_operations", orderly_engine_run_operations(db->engine, now, 0, &done), t) ||
                 step_failed(db, "pump", orderly_engine_pump(db->engine, now, 0, &published), t);
        t->fired += fired;
        t->operations += done;
        t->published += published;
        if ((rc = deliver(db, print, t)) < 0)
            return rc;
        if (failed)
            return ORDERLY_ERROR;
        if ((rc = due_at(db->sqlite, ctx, now, d)) < 0)
            return rc;
        if (fired + done + published > 0 || memcmp(&before, d, sizeof before) != 0)
            stalled = 0;
        else if (t->retried == retried || ++stalled == STALLED_ROUNDS)
            return 0;
    }
    return 1;
}

static void row(FILE *out, const char *label, uint64_t v)
{
    fprintf(out, "  %-30s %10llu\n", label, (unsigned long long)v);
}

static int parse(int argc, char **argv, const char **db_path, int *now_given, orderly_time_ms *now,
                 uint64_t *rounds, int *print)
{
    uint64_t v;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            usage(stdout);
            return -1;
        }
        if (strcmp(a, "--print") == 0) {
            *print = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return cli_usage_error("drain", "unexpected argument '%s'", a);
        if (strcmp(a, "--db") != 0 && strcmp(a, "--now") != 0 && strcmp(a, "--rounds") != 0)
            return cli_usage_error("drain", "unknown option '%s'", a);
        if (val == NULL)
            return cli_usage_error("drain", "%s needs a value", a);
        if (strcmp(a, "--db") == 0) {
            if (*val == '\0')
                return cli_usage_error("drain", "--db needs a file name");
            *db_path = val;
        } else if (strcmp(a, "--now") == 0) {
            if (cli_parse_u64(val, 0, INT64_MAX, &v) < 0)
                return cli_usage_error("drain", "--now wants milliseconds since the epoch, not '%s'", val);
            *now = (orderly_time_ms)v;
            *now_given = 1;
        } else if (cli_parse_u64(val, 1, 1000000, rounds) < 0) {
            return cli_usage_error("drain", "--rounds wants a number from 1 to 1000000, not '%s'", val);
        }
        i++;
    }
    return 0;
}

int cmd_drain(int argc, char **argv)
{
    const char *db_path = CLI_DEFAULT_DB, *clock = "--now";
    orderly_time_ms now = 0, lease_end_at = 0;
    uint64_t max_rounds = DEFAULT_ROUNDS, dead_before, exhausted_before;
    struct drained t;
    struct due d;
    orderly_health h = ORDERLY_HEALTH_INIT;
    orderly_ctx *ctx = NULL;
    cli_db db;
    FILE *out;
    char when[40];
    int rc, now_given = 0, print = 0, converged;

    if ((rc = parse(argc, argv, &db_path, &now_given, &now, &max_rounds, &print)) != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    out = print ? stderr : stdout;
    if ((rc = cli_db_open(&db, "drain", db_path, 0)) != 0)
        return rc;
    if (!now_given && cli_db_clock(&db, &now) == 0) {
        clock = "the database's simulated clock";
    } else if (!now_given) {
        now = cli_wall_ms();
        clock = "the wall clock; the database keeps no simulated one";
    }
    memset(&t, 0, sizeof t);
    if ((rc = orderly_ctx_new(&ctx, NULL)) < 0 || (rc = due_at(db.sqlite, ctx, now, &d)) < 0 ||
        (rc = orderly_engine_health(db.engine, now, 0, 0, &h)) < 0) {
        fprintf(stderr, "orderly drain: cannot read the queues of '%s': %s\n", db_path, orderly_strerror(rc));
        orderly_ctx_free(ctx);
        cli_db_close(&db);
        return CLI_EXIT_FAIL;
    }
    dead_before = h.outbox_dead;
    exhausted_before = h.operations_exhausted;
    cli_format_time(when, sizeof when, now);
    fprintf(out, "orderly drain: %s at %s (%s)\n", db_path, when, clock);
    fprintf(out, "due: outbox %llu, timers %llu, operations %llu\n", (unsigned long long)d.outbox,
            (unsigned long long)d.timers, (unsigned long long)d.operations);
    converged = drain(&db, ctx, now, max_rounds, print, &t, &d);
    if (converged >= 0 && (orderly_engine_health(db.engine, now, 0, 0, &h) < 0 ||
                           (d.leased > 0 && leases_until(db.sqlite, ctx, &lease_end_at) < 0)))
        converged = ORDERLY_ERROR;
    orderly_ctx_free(ctx);
    cli_db_close(&db);
    if (converged < 0) {
        fputs("result: stopped by a failure; run drain again once it is fixed\n", out);
        return CLI_EXIT_FAIL;
    }
    if (t.rounds > 0) {
        row(out, "rounds", t.rounds);
        row(out, "timers fired", t.fired);
        row(out, "operations handed over", t.operations);
        row(out, "events published", t.published);
        row(out, "dead letters", h.outbox_dead - dead_before);
        row(out, "operations exhausted", h.operations_exhausted - exhausted_before);
        row(out, "messages delivered to the sink", t.messages);
        row(out, "transient failures retried", t.retried);
        fprintf(out, "still due: outbox %llu, timers %llu, operations %llu\n",
                (unsigned long long)d.outbox, (unsigned long long)d.timers, (unsigned long long)d.operations);
    }
    fprintf(out, "not due yet: outbox %llu, timers %llu, operations %llu\n",
            (unsigned long long)d.later[0], (unsigned long long)d.later[1], (unsigned long long)d.later[2]);
    if (d.leased > 0) {
        cli_format_time(when, sizeof when, lease_end_at);
        fprintf(out, "held under a lease: %llu rows, until %s at the latest; if their holder\n"
                     "  died, 'orderly drain --now %lld' takes them over\n",
                (unsigned long long)d.leased, when, (long long)lease_end_at);
    }
    if (t.rounds == 0)
        fputs("result: nothing to do; nothing is due\n", out);
    else if (converged)
        fputs("result: converged; nothing is due\n", out);
    else if (t.rounds == max_rounds)
        fprintf(out, "result: NOT converged after %llu rounds\n", (unsigned long long)t.rounds);
    else
        fputs("result: NOT converged; the last rounds made no progress with rows still due\n", out);
    return converged ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
