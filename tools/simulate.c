/*
 * orderly simulate - the main job: many realistic order lifecycles through
 * the real engine, dispatcher, timers and operations on the SQLite
 * store, with a simulated clock, injected faults, duplicates and late
 * events; then a report and the invariant checks.
 *
 * Everything is driven by one seeded generator and the simulated clock,
 * so the same flags give the same report (apart from the timing lines).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sim.h"

#define MINUTE SIM_MINUTE
#define HOUR SIM_HOUR
#define DAY SIM_DAY
#define TICK (5 * MINUTE)
#define SIM_EPOCH 1767225600000LL   /* 2026-01-01T00:00:00Z */
#define RETRIES SIM_RETRIES

static void usage(FILE *f)
{
    fputs("usage: orderly simulate [--db FILE | --storage memory|postgresql://...]\n"
          "                        [--orders N] [--seed S]\n"
          "                        [--faults RATE] [--days D] [--claims HOW]\n"
          "                        [--overwrite] [--quiet] [--workers N]\n"
          "       orderly simulate --topology services --transport URL --db DIR\n"
          "                        [--kill-service] [--orders N] [--seed S] ...\n"
          "\n"
          "Drives N order lifecycles (card and cash on delivery, 1-3 warehouses,\n"
          "some orders of 50-300 lines, cancellations, declined payments, expiries,\n"
          "partial returns, exchanges and their replacement orders, lost parcels\n"
          "and their claims, parcels sent back, duplicate and late events) through\n"
          "the engine, the outbox\n"
          "dispatcher, the timers and the operation queue on a SQLite database\n"
          "(or the in-memory storage), with a simulated clock. Storage calls,\n"
          "publishes and operations fail at RATE. Prints a report and checks the\n"
          "invariants; exits 1 if one fails.\n"
          "\n"
          "  --db FILE         SQLite database to create (default " CLI_DEFAULT_DB ")\n"
          "  --storage KIND    sqlite (the default, in FILE) or memory (nothing is\n"
          "                    written to disk; the same faults, report and checks),\n"
          "                    or a postgresql:// URI (schema orderly_simulate,\n"
          "                    replaced on every run)\n"
          "  --orders N        orders to simulate, 1..10000000 (default 2000)\n"
          "  --seed S          seed of every random choice (default 1)\n"
          "  --faults RATE     chance, 0..0.5, that a storage call, a publish or a\n"
          "                    operation fails (default 0.02)\n"
          "  --days D          days over which orders arrive, 1..3650 (default 30)\n"
          "  --claims HOW      how a lost parcel's claim is resolved: host (the\n"
          "                    default: the merchant refunds some and reships the\n"
          "                    rest), refund or reship (the engine's policy does)\n"
          "  --overwrite       replace FILE if it exists (otherwise that is an error);\n"
          "                    only an orderly database or an empty file that no\n"
          "                    other process has open is replaced, never a link,\n"
          "                    device, directory or another application's file\n"
          "  --quiet           no progress line, even on a terminal\n"
          "  --workers N       with postgresql://: N engine processes, 1..64, apply\n"
          "                    the commands, pump, tick and run operations on the\n"
          "                    shared database\n"
          "                    while this one drives the world (default 0: it\n"
          "                    does everything itself)\n"
          "  --topology T      single (the default: one engine) or services: the\n"
          "                    review's six services as six processes, each a\n"
          "                    replica engine on DIR/<service>.db, connected only by\n"
          "                    Redis Streams at --transport (redis://HOST:PORT or\n"
          "                    unix:///path); no injected faults\n"
          "  --transport URL   the Redis of --topology services\n"
          "  --kill-service    with services: kill -9 one service once early in the\n"
          "                    run and start it again on its file\n",
          f);
}

static int parse(struct sim *s, int *overwrite, int *quiet, int argc, char **argv)
{
    int i, memory = 0, db_given = 0, services = 0, faults_given = 0;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            usage(stdout);
            return -1;
        }
        if (strcmp(a, "--overwrite") == 0) {
            *overwrite = 1;
            continue;
        }
        if (strcmp(a, "--quiet") == 0) {
            *quiet = 1;
            continue;
        }
        if (strcmp(a, "--kill-service") == 0) {
            s->kill_service = 1;
            continue;
        }
        if (v == NULL && strncmp(a, "--", 2) == 0)
            return cli_usage_error("simulate", "%s needs a value", a);
        if (strcmp(a, "--db") == 0) {
            if (*v == '\0')
                return cli_usage_error("simulate", "--db needs a file name");
            s->db_path = v;
            db_given = 1;
        } else if (strcmp(a, "--storage") == 0) {
            if (strcmp(v, "memory") == 0)
                memory = 1;
            else if (strcmp(v, "sqlite") == 0)
                memory = 0;
            else if (sim_pg_is_url(v)) {
                s->pg_conninfo = v;
                memory = 1; /* no file either */
            } else
                return cli_usage_error("simulate", "--storage wants sqlite or memory, not '%s'", v);
        } else if (strcmp(a, "--orders") == 0) {
            if (cli_parse_u64(v, 1, 10000000, &s->n_orders) < 0)
                return cli_usage_error("simulate", "--orders wants a number from 1 to 10000000, not '%s'", v);
        } else if (strcmp(a, "--seed") == 0) {
            if (cli_parse_u64(v, 0, UINT64_MAX, &s->seed) < 0)
                return cli_usage_error("simulate", "--seed wants a non-negative number, not '%s'", v);
        } else if (strcmp(a, "--faults") == 0) {
            faults_given = 1;
            if (cli_parse_rate(v, &s->faults) < 0 || s->faults > 0.5)
                return cli_usage_error("simulate", "--faults wants a rate from 0 to 0.5, not '%s'", v);
        } else if (strcmp(a, "--topology") == 0) {
            if (strcmp(v, "services") == 0)
                services = 1;
            else if (strcmp(v, "single") != 0)
                return cli_usage_error("simulate", "--topology wants single or services, not '%s'", v);
        } else if (strcmp(a, "--transport") == 0) {
            s->redis_url = v;
        } else if (strcmp(a, "--workers") == 0) {
            if (cli_parse_u64(v, 1, 64, &s->workers) < 0)
                return cli_usage_error("simulate", "--workers wants a number from 1 to 64, not '%s'", v);
        } else if (strcmp(a, "--claims") == 0) {
            if (strcmp(v, "host") == 0)
                s->claim_resolution = ORDERLY_CLAIM_BY_HOST;
            else if (strcmp(v, "refund") == 0)
                s->claim_resolution = ORDERLY_CLAIM_BY_REFUND;
            else if (strcmp(v, "reship") == 0)
                s->claim_resolution = ORDERLY_CLAIM_BY_RESHIP;
            else
                return cli_usage_error("simulate", "--claims wants host, refund or reship, not '%s'", v);
        } else if (strcmp(a, "--days") == 0) {
            if (cli_parse_u64(v, 1, 3650, &s->days) < 0)
                return cli_usage_error("simulate", "--days wants a number from 1 to 3650, not '%s'", v);
        } else {
            return cli_usage_error("simulate", "unknown option '%s'", a);
        }
        i++;
    }
    if (memory && (db_given || *overwrite))
        return cli_usage_error("simulate", "%s names a database file; --storage memory keeps none",
                               db_given ? "--db" : "--overwrite");
    if (s->workers > 0 && s->pg_conninfo == NULL)
        return cli_usage_error("simulate", "--workers needs --storage postgresql://...");
    if (services != (s->redis_url != NULL) || (s->kill_service && !services))
        return cli_usage_error("simulate", "--topology services, --transport and --kill-service go together");
    if (services) {
        if (!db_given || memory || s->workers > 0 || faults_given)
            return cli_usage_error("simulate", "--topology services wants --db DIR, and no --storage, "
                                   "--workers or --faults");
        s->svc_dir = s->db_path;
        s->svc_overwrite = *overwrite;
        s->faults = 0;
        memory = 1;   /* not one file: DIR holds the services' */
    }
    if (memory)
        s->db_path = NULL;
    return 0;
}

/* About the storage calls of a 4-line order's creation, and what a
 * creation makes besides one per line. */
#define SMALL_ORDER_CALLS 16.0
#define CALLS_BESIDE_LINES 12.0

void sim_faults_for(struct sim *s, const struct sim_order *o)
{
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    double calls = o != NULL ? (double)o->n_lines + CALLS_BESIDE_LINES : 0;
    int large = calls > 2 * SMALL_ORDER_CALLS;

    if (s->faults <= 0 || (!large && !s->scaled))
        return;
    plan.probability = large ? s->faults * SMALL_ORDER_CALLS / calls : s->faults;
    /* a fresh seed per plan: reinstalling one would replay its faults */
    plan.seed = s->seed * 3 + 1 + 3 * ++s->fault_plans;
    s->scaled = large;
    (void)orderly_fault_storage_set_faults(s->storage, &plan);
}

int sim_is_transient(int rc)
{
    return rc == ORDERLY_ESTORAGE || rc == ORDERLY_ECONFLICT || rc == ORDERLY_EINFLIGHT;
}

int sim_is_business(int rc)
{
    return rc == ORDERLY_ETRANSITION || rc == ORDERLY_EGUARD || rc == ORDERLY_EINVARIANT ||
           rc == ORDERLY_ENOTFOUND;
}

static void on_work(orderly_engine *e, size_t n, void *user_data)
{
    (void)e;
    (void)n;
    ((struct sim *)user_data)->work = 1;
}

/* ---- background work: what a host runs from its loop -------------------------- */

int sim_pump(struct sim *s)
{
    size_t n;
    int i, rc;

    if (s->wk != NULL)
        return sim_workers_pump(s, 0);
    if (s->sv != NULL)
        return sim_services_round(s, 0);
    s->work = 0;
    for (i = 0; i < 64; i++) {
        rc = orderly_engine_pump(s->engine, s->now, 0, &n);
        if (rc < 0 && !sim_is_transient(rc))
            return rc;
        if (rc == 0 && n == 0)
            break;
    }
    return sim_consume(s);
}

static int background(struct sim *s)
{
    size_t n;
    int i, rc;

    if (s->wk != NULL)
        return sim_workers_pump(s, 1);
    if (s->sv != NULL)
        return sim_services_round(s, 1);
    for (i = 0; i < 32; i++) {
        rc = orderly_engine_tick(s->engine, s->now, 0, &n);
        if (rc < 0 && !sim_is_transient(rc))
            return rc;
        if (rc == 0)
            s->c.ticks_fired += n;
        if (rc == 0 && n == 0)
            break;
    }
    for (i = 0; i < 32; i++) {
        rc = orderly_engine_run_operations(s->engine, s->now, 0, &n);
        if (rc < 0 && !sim_is_transient(rc))
            return rc;
        if (rc == 0 && n == 0)
            break;
    }
    return sim_pump(s);
}

static int purge(struct sim *s)
{
    size_t n;
    int i, rc;

    if (s->sv != NULL)
        return ORDERLY_OK;   /* the world reads the services' files only */
    /* the operations the purge deletes are counted first: a read that
     * fails leaves them (and this purge) for the next one */
    if ((rc = sim_tally_finished_operations(s)) < 0)
        return sim_is_transient(rc) ? ORDERLY_OK : rc;
    for (i = 0; i < 1000; i++) {
        rc = orderly_engine_purge(s->engine, s->now, 0, &n);
        if (rc < 0 && !sim_is_transient(rc))
            return rc;
        if (rc == 0)
            s->c.purged += n;
        if (rc == 0 && n == 0)
            break;
    }
    return ORDERLY_OK;
}

/* ---- commands with the retries a host makes --------------------------------------- */

static int apply_key(struct sim *s, struct sim_order *o, int machine, int event, uint32_t index,
                     int64_t amount, const char *key, orderly_result *res)
{
    orderly_command c;
    int rc = 0, i;

    c.order_id = o->id;
    c.machine = machine;
    c.event = event;
    c.index = index;
    c.amount = amount;
    c.idem_key = key;
    c.now = s->now;
    sim_faults_for(s, o);
    for (i = 0; i < RETRIES; i++) {
        rc = sim_apply(s, &c, res);
        if (!sim_is_transient(rc))
            break;
        s->c.retries++;
    }
    sim_faults_for(s, NULL);
    return rc;
}

/* One command as a service would send it; now and then the sender repeats
 * it (same key) and the engine must answer from its idempotency store. */
int sim_command(struct sim *s, struct sim_order *o, int machine, int event, uint32_t index,
                   int64_t amount, orderly_result *res)
{
    orderly_result dup = ORDERLY_RESULT_INIT;
    char key[48];
    int rc;

    snprintf(key, sizeof key, "%s/%u", o->id, ++o->cmd_seq);
    s->c.commands++;
    rc = apply_key(s, o, machine, event, index, amount, key, res);
    s->applied = rc == 0 && !res->late && !res->duplicate;
    if (rc == 0 && res->duplicate)
        sim_fail(s, "first delivery of %s was answered as a duplicate", key);
    if (rc == 0 && !res->late)
        s->c.applied++;
    else if (sim_is_business(rc))
        s->c.rejected++;
    else if (rc < 0)
        s->c.gave_up++;
    if (rc == 0 && sim_rand(s) < 0.04) {
        s->c.duplicates_sent++;
        int drc = apply_key(s, o, machine, event, index, amount, key, &dup);
        /* a late event writes nothing, so its copy is simply late again */
        if (drc == 0 && (dup.duplicate || (res->late && dup.late)))
            s->c.duplicates_answered++;
        else
            sim_fail(s, "redelivered command %s was not answered as a duplicate (%s)", key,
                     orderly_error_name(drc));
    }
    if (s->work)
        return sim_pump(s);
    return rc < 0 && !sim_is_business(rc) && !sim_is_transient(rc) ? rc : ORDERLY_OK;
}

/* A carrier's status update arrives as a CloudEvents envelope. */
int sim_carrier_event(struct sim *s, struct sim_order *o, const char *type, uint32_t index)
{
    orderly_envelope env;
    orderly_result res = ORDERLY_RESULT_INIT;
    cli_text body;
    char id[48], data[32];
    int rc = 0, i, copy, copies = sim_rand(s) < 0.04 ? 2 : 1;

    memset(&env, 0, sizeof env);
    snprintf(id, sizeof id, "carrier-%s-%u", o->id, ++o->cmd_seq);
    snprintf(data, sizeof data, "{\"index\":%u}", index);
    env.id = id;
    env.source = "sim-carrier";
    env.type = type;
    env.subject = o->id;
    env.datacontenttype = "application/json";
    env.schemaversion = 1;
    env.data = data;
    env.data_len = strlen(data);
    body.len = 0;
    if ((rc = orderly_envelope_encode(&env, cli_text_append, &body, NULL)) < 0)
        return rc;
    sim_faults_for(s, o);
    for (copy = 0; copy < copies; copy++) {
        for (i = 0; i < RETRIES; i++) {
            rc = sim_handle_event(s, o->id, (const uint8_t *)body.data, body.len, s->now, &res);
            if (!sim_is_transient(rc))
                break;
            s->c.retries++;
        }
        s->c.envelopes++;
        if (copy == 0) {
            s->applied = rc == 0 && !res.late && !res.duplicate;
            s->c.commands++;
            if (rc == 0 && !res.late)
                s->c.applied++;
            else if (sim_is_business(rc))
                s->c.rejected++;
            else if (rc < 0)
                s->c.gave_up++;
        } else {
            s->c.duplicates_sent++;
            if (rc == 0 && res.duplicate)
                s->c.duplicates_answered++;
            else
                sim_fail(s, "redelivered envelope %s was not answered as a duplicate", id);
        }
    }
    sim_faults_for(s, NULL);
    if (s->work)
        return sim_pump(s);
    return ORDERLY_OK;
}

/* ---- the population ------------------------------------------------------------------ */

/* The lines of a large order: SIM_LARGE_MIN..SIM_LARGE_MAX, as many as the
 * engine takes. */
static uint32_t large_lines(struct sim *s)
{
    uint32_t n = SIM_LARGE_MIN + sim_below(s, SIM_LARGE_MAX - SIM_LARGE_MIN + 1);

    return n < s->max_lines ? n : s->max_lines;
}

/* Draws an order's payment method, scenario, warehouses and lines. Every
 * draw comes from the run's one generator, so a seed gives the same orders. */
static int make_order(struct sim *s, struct sim_order *o, uint64_t i)
{
    /* happy, cancel unpaid, cancel paid, declined, abandoned, return,
     * exchange, warehouse cancel, return to origin, partial delivery */
    static const uint8_t card_mix[SC_COUNT] = { 44, 5, 7, 6, 5, 14, 5, 5, 4, 5 };
    static const uint8_t cod_mix[SC_COUNT] = { 51, 8, 0, 0, 15, 10, 4, 4, 4, 4 };
    const uint8_t *mix;
    uint32_t r, acc = 0, j, k, ful_max = SIM_FUL_MAX < s->max_parts ? SIM_FUL_MAX : s->max_parts;

    memset(o, 0, sizeof *o);
    snprintf(o->id, sizeof o->id, "sim-%06llu", (unsigned long long)i);
    o->method = sim_rand(s) < 0.25 ? ORDERLY_PAY_COD : ORDERLY_PAY_CARD;
    mix = o->method == ORDERLY_PAY_COD ? cod_mix : card_mix;
    r = sim_below(s, 100);
    for (j = 0; j < SC_COUNT; j++) {
        acc += mix[j];
        if (r < acc)
            break;
    }
    o->scenario = (uint8_t)(j < SC_COUNT ? j : SC_HAPPY);
    /* one order in a hundred is a business's: many lines, more warehouses */
    o->large = sim_rand(s) < 0.01;
    if (o->large) {
        o->n_lines = (uint16_t)large_lines(s);
        o->n_ful = (uint8_t)(1 + sim_below(s, ful_max < o->n_lines ? ful_max : o->n_lines));
    } else {
        o->n_ful = (uint8_t)(1 + sim_below(s, ful_max < 3 ? ful_max : 3));
        o->n_lines = (uint16_t)(o->n_ful + sim_below(s, (uint32_t)(4 - o->n_ful + 1)));
        if (o->n_lines > s->max_lines)
            o->n_lines = (uint16_t)s->max_lines;
    }
    if (o->scenario == SC_RETURN_TO_ORIGIN)
        o->n_ful = 1;
    if (o->scenario == SC_PARTIAL_DELIVERY && o->n_ful < 2 && ful_max >= 2 && s->max_lines >= 2) {
        o->n_ful = 2;
        if (o->n_lines < 2)
            o->n_lines = 2;
    }
    o->victim = (uint8_t)sim_below(s, o->n_ful);
    o->victim_lost = sim_rand(s) < 0.5;
    o->returns_left = (uint8_t)(o->scenario == SC_RETURN ? 1 + (sim_rand(s) < 0.35) : 1);
    if ((o->lines = calloc(o->n_lines, sizeof *o->lines)) == NULL)
        return ORDERLY_ENOMEM;
    for (k = 0; k < o->n_ful; k++)
        o->ful_wh[k] = (uint8_t)(k + 1);
    for (k = 0; k < o->n_lines; k++) {
        struct sim_line *l = &o->lines[k];
        /* distinct SKUs per order; one in a hundred is the discontinued one */
        l->sku = 1000 + (uint64_t)k * 1000 + sim_below(s, 1000);
        l->warehouse = 1 + (k < o->n_ful ? k : sim_below(s, o->n_ful));
        l->quantity = 1 + sim_below(s, 3);
        l->unit_price = 500 + (int64_t)sim_below(s, 20000);
        o->total += l->unit_price * l->quantity;
    }
    if (sim_rand(s) < 0.01)
        o->lines[0].sku = 999;
    return ORDERLY_OK;
}

static int create(struct sim *s, struct sim_order *o)
{
    orderly_order_spec spec;
    orderly_line *lines;
    orderly_result res = ORDERLY_RESULT_INIT;
    int rc = 0, i;

    if ((lines = calloc(o->n_lines, sizeof *lines)) == NULL)
        return ORDERLY_ENOMEM;
    for (i = 0; i < o->n_lines; i++) {
        lines[i].sku = o->lines[i].sku;
        lines[i].warehouse = o->lines[i].warehouse;
        lines[i].quantity = o->lines[i].quantity;
        lines[i].unit_price = o->lines[i].unit_price;
    }
    memset(&spec, 0, sizeof spec);
    spec.order_id = o->id;
    spec.currency = "EUR";
    spec.payment_method = o->method;
    spec.lines = lines;
    spec.n_lines = o->n_lines;
    spec.has_promotion = sim_rand(s) < 0.2;
    spec.loyalty_points = sim_rand(s) < 0.15 ? 100 + (int64_t)sim_below(s, 900) : 0;
    spec.now = s->now;
    s->c.commands++;
    o->placed = 1;
    sim_faults_for(s, o);
    for (i = 0; i < RETRIES; i++) {
        rc = sim_create_order(s, &spec, &res);
        if (!sim_is_transient(rc))
            break;
        s->c.retries++;
    }
    sim_faults_for(s, NULL);
    free(lines);
    if (rc < 0) {
        sim_fail(s, "creating %s failed: %s", o->id, orderly_engine_errmsg(s->engine));
        return rc;
    }
    s->c.applied++;
    if (s->work)
        return sim_pump(s);
    return ORDERLY_OK;
}

/* ---- the scripts -------------------------------------------------------------------- */

static int view(struct sim *s, struct sim_order *o, orderly_order_view *v)
{
    uint64_t mark = sim_txns_mark(s);
    int rc = 0, i;

    for (i = 0; i < RETRIES; i++)
        if (!sim_is_transient(rc = orderly_engine_get_order(s->engine, o->id, v)))
            break;
    sim_txns_world(s, mark);
    return rc;
}

int sim_is_final(int order_state)
{
    switch (order_state) {
    case ORDERLY_ORDER_COMPLETED:
    case ORDERLY_ORDER_CANCELLED:
    case ORDERLY_ORDER_FAILED:
    case ORDERLY_ORDER_REFUNDED:
    case ORDERLY_ORDER_RETURNED_TO_ORIGIN:
        return 1;
    default:
        return 0;
    }
}

static const int ful_events[5] = {
    ORDERLY_FULFILLMENT_EV_START_PICKING, ORDERLY_FULFILLMENT_EV_PICKED,
    ORDERLY_FULFILLMENT_EV_START_PACKING, ORDERLY_FULFILLMENT_EV_PACKED,
    ORDERLY_FULFILLMENT_EV_SHIP,
};

#define FUL_SHIPPED 5
#define FUL_CANCELLED 6

/* Moves one fulfillment or one parcel forward; *delay gets the wait until
 * the next step. Returns 1 when there was nothing left to move. */
static int progress(struct sim *s, struct sim_order *o, orderly_time_ms *delay)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    uint32_t cand[2 * SIM_FUL_MAX], n = 0, pick, i;
    int rc, all_others_shipped = 1;

    for (i = 0; i + 1 < o->n_ful; i++)
        if (o->ful_step[i] != FUL_SHIPPED)
            all_others_shipped = 0;
    for (i = 0; i < o->n_ful; i++)
        if (o->ful_step[i] < FUL_SHIPPED)
            cand[n++] = i;
    for (i = 0; i < o->n_shipped; i++)
        if (o->ship_step[i] < 2)
            cand[n++] = SIM_FUL_MAX + i;
    if (n == 0)
        return 1;
    pick = cand[sim_below(s, n)];
    if (pick < SIM_FUL_MAX) {
        i = pick;
        if (o->scenario == SC_WAREHOUSE_CANCEL && i == (uint32_t)o->n_ful - 1 &&
            o->ful_step[i] == 2 && (o->n_ful == 1 || all_others_shipped)) {
            o->ful_step[i] = FUL_CANCELLED;
            *delay = HOUR;
            rc = sim_command(s, o, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_CANCEL, i, 0, &res);
            if (rc == 0 && s->applied)
                sim_book_parcel(o, i, PARCEL_CANCELLED);
            return rc;
        }
        if (o->scenario == SC_WAREHOUSE_CANCEL && i == (uint32_t)o->n_ful - 1 && o->ful_step[i] == 2) {
            *delay = 2 * HOUR;   /* that warehouse waits to see the others ship */
            return ORDERLY_OK;
        }
        rc = sim_command(s, o, ORDERLY_MACHINE_FULFILLMENT, ful_events[o->ful_step[i]], i, 0, &res);
        if (rc == 0 && s->applied && ful_events[o->ful_step[i]] == ORDERLY_FULFILLMENT_EV_SHIP) {
            /* the warehouse's parcel gets the next shipment number */
            o->ship_ful[o->n_shipped++] = (uint8_t)i;
            sim_book_parcel(o, i, PARCEL_SHIPPED);
        }
        o->ful_step[i]++;
        /* a delayed scanner event arriving after the parcel moved on */
        if (rc == 0 && o->ful_step[i] >= 4 && sim_rand(s) < 0.05) {
            s->c.late_sent++;
            rc = sim_command(s, o, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PICKED, i, 0, &res);
            if (rc == 0 && res.late)
                s->c.late_answered++;
        }
        *delay = 10 * MINUTE + (orderly_time_ms)sim_below(s, (uint32_t)(3 * HOUR));
        return rc;
    }
    i = pick - SIM_FUL_MAX;
    if (o->ship_step[i] == 0) {
        o->ship_step[i] = 1;
        *delay = 6 * HOUR + (orderly_time_ms)sim_below(s, (uint32_t)(2 * DAY));
        return sim_carrier_event(s, o, "shipment.pick_up", i);
    }
    o->ship_step[i] = 2;
    *delay = 30 * MINUTE;
    return sim_end_parcel(s, o, i);
}

static int step(struct sim *s, struct sim_order *o)
{
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_result res = ORDERLY_RESULT_INIT;
    orderly_time_ms delay = MINUTE + (orderly_time_ms)sim_below(s, (uint32_t)(20 * MINUTE));
    int rc;

    if ((rc = view(s, o, &v)) < 0) {
        sim_fail(s, "reading %s failed: %s", o->id, orderly_engine_errmsg(s->engine));
        return rc;
    }
    if ((rc = sim_follow_up(s, o)) != 1) {
        if (rc < 0 || o->done)
            return rc;
        return sim_schedule(s, s->now + 30 * MINUTE, (uint32_t)(o - s->orders), ACT_STEP, 0);
    }
    if (sim_is_final(v.order_state)) {
        o->done = 1;
        return ORDERLY_OK;
    }
    switch (v.order_state) {
    case ORDERLY_ORDER_PENDING:
        if (o->scenario == SC_ABANDONED) {
            o->done = 1;   /* the timers take it from here */
            return ORDERLY_OK;
        }
        if (o->scenario == SC_CANCEL_UNPAID)
            rc = sim_command(s, o, ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, &res);
        else if (o->method == ORDERLY_PAY_COD)
            rc = sim_command(s, o, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0, &res);
        else if (o->scenario == SC_DECLINED)
            rc = sim_command(s, o, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, &res);
        else
            rc = sim_command(s, o, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, o->total, &res);
        break;
    case ORDERLY_ORDER_CONFIRMED:
    case ORDERLY_ORDER_PROCESSING:
    case ORDERLY_ORDER_PARTIALLY_SHIPPED:
    case ORDERLY_ORDER_SHIPPED:
        if (v.payment_state == ORDERLY_PAYMENT_AUTHORIZED) {
            /* the payment service answers orders.payment.capture_requested */
            rc = sim_command(s, o, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, &res);
            break;
        }
        if (v.payment_state == ORDERLY_PAYMENT_CAPTURE_REQUESTED) {
            /* ship only what is paid for: wait for the provider's webhook */
            if (++o->waits > 200) {
                o->done = 1;
                return ORDERLY_OK;
            }
            delay = 10 * MINUTE;
            break;
        }
        if (v.payment_state == ORDERLY_PAYMENT_CAPTURE_FAILED) {
            rc = sim_command(s, o, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_RETRY_CAPTURE, 0, 0, &res);
            break;
        }
        if (o->scenario == SC_CANCEL_PAID && v.order_state == ORDERLY_ORDER_CONFIRMED) {
            rc = sim_command(s, o, ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, &res);
            break;
        }
        if ((rc = progress(s, o, &delay)) == 1) {
            rc = 0;
            delay = 6 * HOUR;   /* every part has moved; wait for the order to catch up */
            if (++o->waits > 200)
                o->done = 1;
        }
        break;
    case ORDERLY_ORDER_DELIVERED:
    case ORDERLY_ORDER_PARTIALLY_REFUNDED:
        rc = sim_after_delivery(s, o, &v, &delay);
        break;
    default:
        o->done = 1;
        break;
    }
    if (rc < 0)
        return rc;
    if (o->done)
        return ORDERLY_OK;
    return sim_schedule(s, s->now + delay, (uint32_t)(o - s->orders), ACT_STEP, 0);
}

static int perform(struct sim *s, const struct sim_action *a)
{
    struct sim_order *o = &s->orders[a->order];
    int rc;

    switch (a->kind) {
    case ACT_STEP:
        if (!o->placed) {
            if ((rc = create(s, o)) < 0)
                return rc;
            return sim_schedule(s, s->now + MINUTE + (orderly_time_ms)sim_below(s, (uint32_t)(30 * MINUTE)),
                                a->order, ACT_STEP, 0);
        }
        return o->done ? ORDERLY_OK : step(s, o);
    case ACT_CAPTURE_RESULT:
        return sim_capture_result(s, o, a->arg);
    default:
        return ORDERLY_EINVAL;
    }
}

/* ---- the run ------------------------------------------------------------------------ */

static void show_progress(struct sim *s, double t0, double *last, int final)
{
    double t = cli_mono_seconds();
    uint64_t day = (uint64_t)((s->now - s->start) / DAY) + 1;

    if (!s->progress || (!final && t - *last < 0.25))
        return;
    *last = t;
    /* orders arrive over the first D days; the run then goes on until every
     * timer has fired, which is settling, not a day past the last */
    fprintf(stderr, "\r  day %3llu of %llu%s   orders %llu   commands %llu   published %llu   %.1f s%s",
            (unsigned long long)(day < s->days ? day : s->days), (unsigned long long)s->days,
            day > s->days ? ", settling" : "", (unsigned long long)s->n_orders,
            (unsigned long long)s->c.commands, (unsigned long long)s->c.published_distinct,
            t - t0, final ? "\n" : "");
    fflush(stderr);
}

/* Keeps the simulated clock in the database, so later commands (health,
 * drain) work on the data's time; the in-memory storage ends with the run. */
static void save_clock(struct sim *s)
{
    if (s->sqlite != NULL && s->sv == NULL)
        (void)cli_db_set_now(s->sqlite, s->now);
}

static int advance(struct sim *s, orderly_time_ms until, orderly_time_ms *next_tick,
                   orderly_time_ms *next_purge, orderly_time_ms *next_clock)
{
    int rc;

    while (*next_tick <= until) {
        s->now = *next_tick;
        *next_tick += TICK;
        if ((rc = background(s)) < 0)
            return rc;
        if (s->now >= *next_purge) {
            *next_purge += DAY;
            if ((rc = purge(s)) < 0)
                return rc;
        }
        if (s->now >= *next_clock) {
            *next_clock += HOUR;
            save_clock(s);
        }
    }
    return ORDERLY_OK;
}

struct dead_list {
    uint64_t ids[256];
    size_t n;
};

static int collect_dead(const orderly_operation_view *op, void *user_data)
{
    struct dead_list *d = user_data;

    if (d->n < sizeof d->ids / sizeof d->ids[0])
        d->ids[d->n++] = op->id;
    return 0;
}

/* The operator's turn: fix what made operations exhaust, replay them. */
static int operator_replay(struct sim *s)
{
    struct dead_list d;
    size_t i;
    int rc;

    s->discontinued_fixed = 1;
    if (s->sv != NULL)
        return ORDERLY_OK;   /* the world retries failed commands itself */
    do {
        d.n = 0;
        if ((rc = orderly_engine_list_operations(s->engine, ORDERLY_ITEM_DEAD, 0, 256, collect_dead, &d)) < 0)
            return sim_is_transient(rc) ? ORDERLY_OK : rc;
        for (i = 0; i < d.n; i++) {
            int tries = 0;
            while (sim_is_transient(rc = orderly_engine_replay_operation(s->engine, d.ids[i], s->now)) &&
                   ++tries < RETRIES)
                ;
            if (rc < 0)
                return rc;
            s->c.operations_replayed++;
        }
    } while (d.n == 256);
    return ORDERLY_OK;
}

/* Nothing left to publish or carry out, and no timer due before the
 * longest retry backoff has passed: a timer waiting out a backoff still
 * has to fire before the deadline checks can judge its part. */
static int quiet_now(struct sim *s, int *quiet)
{
    orderly_health h = ORDERLY_HEALTH_INIT, soon = ORDERLY_HEALTH_INIT;
    uint64_t mark = sim_txns_mark(s);
    int rc;

    *quiet = 0;
    if (s->sv != NULL)
        return sim_services_quiet(s, quiet);
    rc = orderly_engine_health(s->engine, s->now, 0, 0, &h);
    if (rc == 0)
        rc = orderly_engine_health(s->engine, s->now + s->policy.backoff_max, 0, 0, &soon);
    sim_txns_world(s, mark);
    if (rc < 0)
        return sim_is_transient(rc) ? ORDERLY_OK : rc;
    *quiet = h.outbox_pending == 0 && h.operations_pending == 0 && soon.timers_due == 0;
    return ORDERLY_OK;
}

static int run(struct sim *s)
{
    orderly_time_ms next_tick, next_purge, next_clock, end;
    struct sim_action a;
    double t0 = cli_mono_seconds(), last = 0;
    uint64_t i;
    int rc, quiet = 0, round;

    s->start = s->now = SIM_EPOCH;
    next_tick = s->now + TICK;
    next_purge = s->now + DAY;
    next_clock = s->now;
    /* room for the replacements of the exchanges (about one order in twenty) */
    s->capacity = s->n_orders + s->n_orders / 8 + 16;
    s->orders = calloc(s->capacity, sizeof *s->orders);
    if (s->orders == NULL)
        return ORDERLY_ENOMEM;
    for (i = 0; i < s->n_orders; i++) {
        if ((rc = make_order(s, &s->orders[i], i)) < 0)
            return rc;
        s->created = i + 1;
        rc = sim_schedule(s, s->start + (orderly_time_ms)(sim_rand(s) * (double)((int64_t)s->days * DAY)),
                          (uint32_t)i, ACT_STEP, 0);
        if (rc < 0)
            return rc;
    }
    while (sim_pop(s, &a)) {
        if ((rc = advance(s, a.at, &next_tick, &next_purge, &next_clock)) < 0)
            return rc;
        s->now = a.at > s->now ? a.at : s->now;
        if ((rc = perform(s, &a)) < 0)
            return rc;
        show_progress(s, t0, &last, 0);
    }
    /* long enough for every auto-complete and expiry timer to come due */
    end = s->now + 8 * DAY;
    if ((rc = advance(s, end, &next_tick, &next_purge, &next_clock)) < 0)
        return rc;
    /* drain: keep the host loop going until nothing is left to do; an
     * operation that exhausts while draining gets the operator too */
    for (round = 0; round < 2; round++) {
        if ((rc = operator_replay(s)) < 0)
            return rc;
        for (i = 0; i < 2 * 24 * 12 && (rc = quiet_now(s, &quiet)) == 0 && !quiet; i++)
            if ((rc = advance(s, s->now + TICK, &next_tick, &next_purge, &next_clock)) < 0)
                return rc;
        if (rc < 0)
            return rc;
    }
    save_clock(s);
    show_progress(s, t0, &last, 1);
    return s->sv != NULL ? sim_services_round(s, 0) : sim_consume(s);
}

/* The storage under the fault wrapper: a new SQLite file, or memory. */
static int open_base(struct sim *s, orderly_ctx *ctx)
{
    orderly_sqlite_options so = ORDERLY_SQLITE_OPTIONS_INIT;
    int rc;

    if (s->pg_conninfo != NULL)
        return sim_pg_open(s, ctx);
    if (s->db_path == NULL)
        return orderly_memory_storage_new(&s->memory, NULL);
    /* the simulation's durability need is a kill, not a power cut; its
     * one process is the file's only user (workers run on PostgreSQL) */
    so.synchronous = ORDERLY_SQLITE_SYNC_NORMAL;
    so.exclusive = 1;
    so.checkpoint_pages = 10000; /* the threshold that paid most (doc/sqlite.md) */
    if ((rc = orderly_sqlite_storage_open(&s->sqlite, s->db_path, &so, ctx)) < 0)
        fprintf(stderr, "orderly simulate: cannot open '%s': %s\n", s->db_path, orderly_ctx_errmsg(ctx));
    return rc;
}

static int setup(struct sim *s)
{
    orderly_engine_options eo = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_policy pol = ORDERLY_POLICY_INIT;
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    orderly_ctx *ctx = NULL;
    int rc;

    if ((rc = orderly_ctx_new(&ctx, NULL)) < 0)
        return rc;
    if (s->svc_dir != NULL && (rc = sim_services_storage(s, ctx, &eo)) < 0) {
        orderly_ctx_free(ctx);
        return rc;
    }
    if ((s->svc_dir == NULL && (rc = open_base(s, ctx)) < 0) ||
        (rc = orderly_fault_storage_new(&s->storage,
                                        s->sqlite != NULL ? s->sqlite
                                        : s->pg != NULL   ? s->pg
                                                          : s->memory,
                                        NULL)) < 0 ||
        (s->svc_dir == NULL && (rc = orderly_memory_transport_new(&s->transport, NULL)) < 0)) {
        orderly_ctx_free(ctx);
        return rc;
    }
    plan.probability = s->faults;
    plan.seed = s->seed * 3 + 1;
    if ((rc = orderly_fault_storage_set_faults(s->storage, &plan)) < 0) {
        orderly_ctx_free(ctx);
        return rc;
    }
    plan.seed = s->seed * 3 + 2;
    if (s->svc_self < 0 && (rc = orderly_memory_transport_set_faults(s->transport, &plan)) < 0) {
        orderly_ctx_free(ctx);
        return rc;
    }
    eo.storage = s->storage;
    eo.transport = s->transport;
    if (eo.source == NULL)
        eo.source = "orderly-simulate";
    pol.reservation_ttl = 36 * HOUR;
    pol.abandoned_after = 48 * HOUR;
    pol.seed = s->seed;
    pol.claim_resolution = s->claim_resolution;
    eo.policy = &pol;
    /* large orders take as many lines as this build allows, up to 300 */
    s->max_lines = (uint32_t)(orderly_lines_max() < SIM_LARGE_MAX ? orderly_lines_max() : SIM_LARGE_MAX);
    s->max_parts = (uint32_t)orderly_parts_max();
    eo.max_lines = s->max_lines;
    eo.max_parts = s->max_parts;
    eo.on_work = on_work;
    eo.work_user_data = s;
    /* it pumps after every command, the only dispatcher of its store;
     * with workers they publish instead */
    if (s->svc_dir != NULL)
        eo.flags = s->svc_self >= 0 ? eo.flags : 0;   /* the world's engine only reads */
    else
        eo.flags = s->workers > 0 ? 0 : ORDERLY_ENGINE_HAND_OFF | ORDERLY_ENGINE_SOLE;
    eo.on_alert = sim_on_alert;
    eo.alert_user_data = s;
    s->policy = pol;
    if ((rc = orderly_engine_open(&s->engine, &eo, ctx)) < 0) {
        fprintf(stderr, "orderly simulate: cannot open the engine: %s\n", orderly_ctx_errmsg(ctx));
        orderly_ctx_free(ctx);
        return rc;
    }
    orderly_ctx_free(ctx);
    if (s->svc_self >= 0)
        return ORDERLY_OK;   /* a service publishes its operations as commands */
    if (s->sv != NULL && (rc = sim_services_readers(s)) < 0)
        return rc;
    return sim_register_executors(s);
}

static void teardown(struct sim *s)
{
    uint64_t i;

    sim_workers_stop(s);
    sim_services_stop(s);
    orderly_engine_close(s->engine);
    orderly_memory_transport_free(s->transport);
    orderly_fault_storage_free(s->storage);
    orderly_sqlite_storage_close(s->sqlite);
    sim_pg_close(s);
    orderly_memory_storage_free(s->memory);
    sim_keyset_free(&s->executed);
    sim_keyset_free(&s->published);
    sim_keyset_free(&s->seen_on);
    sim_keyset_free(&s->exhausted);
    sim_tally_free(s);
    for (i = 0; s->orders != NULL && i < s->created; i++) {
        free(s->orders[i].lines);
        free(s->orders[i].ret_lines);
    }
    free(s->orders);
    free(s->heap);
}

/* ---- replacing an existing file ----------------------------------------------------- */

/*
 * --overwrite replaces only what simulate itself could have made: a regular
 * file, not a link, device, FIFO or directory, that is empty or an orderly
 * database, which no other process holds open. Anything else is refused
 * and left as it is (run as root, "--db /dev/null --overwrite" once
 * replaced the system's /dev/null with a database).
 */

/* SQLite's lock bytes on Unix (fixed by its file format): every connection
 * to a WAL database holds a shared lock in this range for as long as it is
 * open, so a write lock that would conflict means another process has it. */
#define SQLITE_LOCK_BYTE 0x40000000L
#define SQLITE_LOCK_SPAN 512

static const char *kind_of(mode_t mode)
{
    if (S_ISLNK(mode))
        return "a symbolic link";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

static int refuse(const char *path, const char *why)
{
    fprintf(stderr, "orderly simulate: '%s' %s; --overwrite replaces only an orderly database "
                    "file (or an empty one), so it is left as it is\n", path, why);
    return CLI_EXIT_FAIL;
}

/* 0 when path (a non-empty regular file) is an orderly database of any
 * schema version, else prints why not and returns CLI_EXIT_FAIL. */
static int check_orderly(const char *path, int fd)
{
    static const char magic[16] = "SQLite format 3";
    orderly_sqlite_options so = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *st = NULL;
    orderly_ctx *ctx = NULL;
    char head[sizeof magic], why[ORDERLY_ERRMSG_MAX + 32];
    int rc;

    /* only an SQLite file is handed to SQLite, which could make -wal and
     * -shm files beside it */
    if (pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
        memcmp(head, magic, sizeof magic) != 0)
        return refuse(path, "is not an SQLite database");
    if (orderly_ctx_new(&ctx, NULL) < 0)
        return refuse(path, "could not be checked (out of memory)");
    so.read_only = 1;
    rc = orderly_sqlite_storage_open(&st, path, &so, ctx);
    orderly_sqlite_storage_close(st);
    /* EVERSION: an orderly database of another schema version */
    if (rc == 0 || rc == ORDERLY_EVERSION) {
        orderly_ctx_free(ctx);
        return 0;
    }
    snprintf(why, sizeof why, "is not an orderly database (%s)", orderly_ctx_errmsg(ctx));
    orderly_ctx_free(ctx);
    return refuse(path, why);
}

/* 0 when no other process has the database open; else prints who does. */
static int check_unused(const char *path, int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = SQLITE_LOCK_BYTE;
    fl.l_len = SQLITE_LOCK_SPAN;
    if (fcntl(fd, F_GETLK, &fl) != 0) {
        fprintf(stderr, "orderly simulate: cannot check whether '%s' is in use: %s\n", path,
                strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (fl.l_type != F_UNLCK) {
        fprintf(stderr, "orderly simulate: '%s' is open in another process (pid %ld); not "
                        "replacing a database in use\n", path, (long)fl.l_pid);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* Removes path's -wal, -shm and -journal files, then path itself. */
static int remove_db(const char *path)
{
    static const char *const suffix[] = { "-wal", "-shm", "-journal", "" };
    char name[4096];
    size_t i;

    for (i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffix[i]);
        if (unlink(name) != 0 && errno != ENOENT) {
            fprintf(stderr, "orderly simulate: cannot remove '%s': %s\n", name, strerror(errno));
            return CLI_EXIT_FAIL;
        }
    }
    return 0;
}

/*
 * Makes way for a new database at path: nothing to do when nothing is
 * there; a usage error without --overwrite; with it, the checks above,
 * then the old database and its companion files go.
 */
static int make_way(const char *path, int overwrite)
{
    static const char *const suffix[] = { "-wal", "-shm", "-journal" };
    struct stat sb, fsb;
    char name[4096];
    size_t i;
    int fd, rc;

    if (strlen(path) + sizeof "-journal" > sizeof name)
        return cli_usage_error("simulate", "the --db path is too long");
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "orderly simulate: cannot look at '%s': %s\n", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (!overwrite)
        return cli_usage_error("simulate", "'%s' already exists; pass --overwrite to replace it",
                               path);
    if (!S_ISREG(sb.st_mode)) {
        char why[64];
        snprintf(why, sizeof why, "is %s", kind_of(sb.st_mode));
        return refuse(path, why);
    }
    for (i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffix[i]);
        if (lstat(name, &fsb) == 0 && !S_ISREG(fsb.st_mode)) {
            char why[4200];
            snprintf(why, sizeof why, "has a companion '%s' that is %s", name,
                     kind_of(fsb.st_mode));
            return refuse(path, why);
        }
    }
    /* the checks read the file that was looked at, not one swapped in since */
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
        fprintf(stderr, "orderly simulate: cannot open '%s': %s\n", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (fstat(fd, &fsb) != 0 || fsb.st_dev != sb.st_dev || fsb.st_ino != sb.st_ino) {
        close(fd);
        return refuse(path, "changed while it was being checked");
    }
    rc = fsb.st_size == 0 ? 0 : check_orderly(path, fd);
    if (rc == 0)
        rc = check_unused(path, fd);
    close(fd);
    return rc != 0 ? rc : remove_db(path);
}

int cmd_simulate(int argc, char **argv)
{
    struct sim s;
    double t0;
    int rc, overwrite = 0, quiet = 0;

    memset(&s, 0, sizeof s);
    s.db_path = CLI_DEFAULT_DB;
    s.n_orders = 2000;
    s.seed = 1;
    s.faults = 0.02;
    s.days = 30;
    s.claim_resolution = ORDERLY_CLAIM_BY_HOST;
    s.svc_self = -1;
    if ((rc = parse(&s, &overwrite, &quiet, argc, argv)) != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (s.db_path != NULL && (rc = make_way(s.db_path, overwrite)) != 0)
        return rc;
    s.rng = s.seed;
    s.progress = !quiet && isatty(STDERR_FILENO);
    printf("orderly simulate: %llu orders over %llu days, seed %llu, faults %.3g, %s%s\n",
           (unsigned long long)s.n_orders, (unsigned long long)s.days, (unsigned long long)s.seed,
           s.faults,
           s.svc_dir != NULL ? "services over Redis, databases in " : s.db_path != NULL ? "database "
           : s.pg_conninfo != NULL ? "PostgreSQL" : "storage in memory",
           s.svc_dir != NULL ? s.svc_dir : s.db_path != NULL ? s.db_path : "");
    fflush(stdout);
    t0 = cli_mono_seconds();
    if ((s.workers > 0 && (rc = sim_workers_start(&s, setup)) < 0) ||
        (s.svc_dir != NULL && (rc = sim_services_start(&s, setup)) < 0) || (rc = setup(&s)) < 0 ||
        (rc = run(&s)) < 0) {
        fprintf(stderr, "\norderly simulate: stopped: %s (%s)%s%s\n",
                s.engine != NULL && orderly_engine_errmsg(s.engine)[0] != '\0'
                    ? orderly_engine_errmsg(s.engine) : orderly_strerror(rc),
                orderly_error_name(rc), s.failure[0] != '\0' ? "; " : "", s.failure);
        teardown(&s);
        return CLI_EXIT_FAIL;
    }
    if (s.sv != NULL) {
        int svc_rc = sim_services_report(&s, stdout);
        rc = sim_report(&s, cli_mono_seconds() - t0, stdout);
        rc = rc != CLI_EXIT_OK ? rc : svc_rc;
    } else {
        rc = sim_report(&s, cli_mono_seconds() - t0, stdout);
    }
    teardown(&s);
    return rc;
}
