/*
 * Looking into an existing database: one order with its parts and
 * compensations, the outbox, the compensation queue, and health.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *item_state(int state)
{
    switch (state) {
    case ORDERLY_ITEM_READY: return "ready";
    case ORDERLY_ITEM_LEASED: return "leased";
    case ORDERLY_ITEM_DONE: return "done";
    case ORDERLY_ITEM_DEAD: return "dead";
    default: return "?";
    }
}

static const char *state_name(int machine, int state)
{
    const orderly_machine *m;
    const char *n;

    if (orderly_machine_by_id(&m, machine) < 0 || (n = orderly_machine_state_name(m, state)) == NULL)
        return "?";
    return n;
}

/* Splits "--db FILE" out of argv; the remaining arguments land in rest. */
static int common_flags(const char *cmd, int argc, char **argv, const char **db, char **rest,
                        int *n_rest, int max_rest)
{
    int i;

    *db = CLI_DEFAULT_DB;
    *n_rest = 0;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0')
                return cli_usage_error(cmd, "--db needs a file name");
            *db = argv[++i];
        } else if (*n_rest < max_rest) {
            rest[(*n_rest)++] = argv[i];
        } else {
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
        }
    }
    return 0;
}

/* ---- orderly order show ---------------------------------------------------------- */

struct order_effects {
    const char *order_id;
    int n;
    uint64_t last;
};

static int print_effect_of(const orderly_effect_view *op, void *user_data)
{
    struct order_effects *oe = user_data;

    oe->last = op->id;
    if (strcmp(op->order_id, oe->order_id) != 0)
        return 0;
    if (oe->n++ == 0)
        printf("compensations:\n");
    printf("  %-6llu %-22s %-6s attempts %u  amount %lld  key %s\n", (unsigned long long)op->id,
           orderly_op_name(op->op), item_state(op->state), op->attempts, (long long)op->amount, op->key);
    return 0;
}

static void order_usage(FILE *f)
{
    fputs("usage: orderly order show ID [--db FILE]\n"
          "\n"
          "Prints the order's state, money, every part (reservations, fulfillments,\n"
          "shipments, returns) and the compensations recorded for it.\n"
          "  --db FILE   database (default " CLI_DEFAULT_DB ")\n",
          f);
}

int cmd_order(int argc, char **argv)
{
    static const int machines[4] = { ORDERLY_MACHINE_RESERVATION, ORDERLY_MACHINE_FULFILLMENT,
                                      ORDERLY_MACHINE_SHIPMENT, ORDERLY_MACHINE_RETURN };
    const char *db_path, *id;
    char *rest[2];
    char when[40];
    orderly_order_view v;
    struct order_effects oe;
    uint64_t after;
    cli_db db;
    int n_rest, rc, k;

    if (argc > 1 && cli_is_help(argv[1])) {
        order_usage(stdout);
        return CLI_EXIT_OK;
    }
    if ((rc = common_flags("order", argc, argv, &db_path, rest, &n_rest, 2)) != 0)
        return rc;
    if (n_rest >= 1 && cli_is_help(rest[n_rest - 1])) {
        order_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (n_rest != 2 || strcmp(rest[0], "show") != 0)
        return cli_usage_error("order", "expected 'show ID'");
    id = rest[1];
    if (id[0] == '\0' || strlen(id) > orderly_id_max())
        return cli_usage_error("order", "ID must be 1 to %zu bytes", orderly_id_max());
    if ((rc = cli_db_open(&db, "order", db_path, 1)) != 0)
        return rc;
    rc = orderly_engine_get_order(db.engine, id, &v);
    if (rc == ORDERLY_ENOTFOUND) {
        fprintf(stderr, "orderly order: no order '%s' in %s\n", id, db_path);
        cli_db_close(&db);
        return CLI_EXIT_FAIL;
    }
    if (rc < 0) {
        fprintf(stderr, "orderly order: %s\n", orderly_engine_errmsg(db.engine));
        cli_db_close(&db);
        return CLI_EXIT_FAIL;
    }
    cli_format_time(when, sizeof when, v.created);
    printf("order %s\n", id);
    printf("  state      %s\n", state_name(ORDERLY_MACHINE_ORDER, v.order_state));
    printf("  payment    %s (%s)\n", state_name(ORDERLY_MACHINE_PAYMENT, v.payment_state),
           v.payment_method == ORDERLY_PAY_COD ? "cash on delivery" : "card");
    printf("  money      total %lld, authorized %lld, captured %lld, refunded %lld %s\n",
           (long long)v.total, (long long)v.authorized, (long long)v.captured, (long long)v.refunded,
           v.currency);
    printf("  created    %s\n  version    %llu\n", when, (unsigned long long)v.version);
    for (k = 0; k < 4; k++) {
        uint32_t n = machines[k] == ORDERLY_MACHINE_RESERVATION ? v.n_lines
                   : machines[k] == ORDERLY_MACHINE_FULFILLMENT ? v.n_fulfillments
                   : machines[k] == ORDERLY_MACHINE_SHIPMENT ? v.n_shipments : v.n_returns;
        const orderly_machine *m;
        uint32_t i;
        if (n == 0 || orderly_machine_by_id(&m, machines[k]) < 0)
            continue;
        printf("%s:\n", orderly_machine_name(m));
        for (i = 0; i < n; i++) {
            orderly_part_view p;
            if (orderly_engine_get_part(db.engine, id, machines[k], i, &p) < 0)
                continue;
            cli_format_time(when, sizeof when, p.since);
            printf("  #%u %-20s since %s", i, state_name(machines[k], p.state), when);
            if (machines[k] == ORDERLY_MACHINE_RESERVATION)
                printf("  sku %llu x%u warehouse %u", (unsigned long long)p.sku, p.quantity, p.warehouse);
            else if (machines[k] == ORDERLY_MACHINE_RETURN)
                printf("  amount %lld", (long long)p.amount);
            else
                printf("  warehouse %u", p.warehouse);
            putchar('\n');
        }
    }
    oe.order_id = id;
    oe.n = 0;
    oe.last = 0;
    do {
        after = oe.last;
        rc = orderly_engine_list_effects(db.engine, -1, after, 4096, print_effect_of, &oe);
    } while (rc == 0 && oe.last != after);
    cli_db_close(&db);
    return CLI_EXIT_OK;
}

/* ---- orderly outbox --------------------------------------------------------------- */

struct outbox_print {
    int want;           /* 0 all, 1 pending, 2 dead */
    uint64_t shown, last;
};

static int print_row(const orderly_outbox_view *r, void *user_data)
{
    struct outbox_print *op = user_data;
    char when[40];

    op->last = r->id;
    if ((op->want == 1 && r->state != ORDERLY_ITEM_READY && r->state != ORDERLY_ITEM_LEASED) ||
        (op->want == 2 && r->state != ORDERLY_ITEM_DEAD))
        return 0;
    cli_format_time(when, sizeof when, r->created);
    printf("%-8llu %-6s %2u  %-24s %-13s %-34s %s %s\n", (unsigned long long)r->id,
           item_state(r->state), r->attempts, when, r->order_id, r->type, r->topic, r->event_id);
    op->shown++;
    return 0;
}

static void outbox_usage(FILE *f)
{
    fputs("usage: orderly outbox [--pending | --dead] [--db FILE]\n"
          "\n"
          "Lists outbox rows: id, state, attempts, created, order, type, topic, event id.\n"
          "  --pending   only rows not yet published (ready or leased)\n"
          "  --dead      only dead letters (publishing gave up after the attempt limit)\n"
          "  --db FILE   database (default " CLI_DEFAULT_DB ")\n",
          f);
}

int cmd_outbox(int argc, char **argv)
{
    struct outbox_print op = { 0, 0, 0 };
    const char *db_path;
    char *rest[2];
    cli_db db;
    int n_rest, rc, i;
    uint64_t before;

    if ((rc = common_flags("outbox", argc, argv, &db_path, rest, &n_rest, 2)) != 0)
        return rc;
    for (i = 0; i < n_rest; i++) {
        if (cli_is_help(rest[i])) {
            outbox_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(rest[i], "--pending") == 0 && op.want != 2)
            op.want = 1;
        else if (strcmp(rest[i], "--dead") == 0 && op.want != 1)
            op.want = 2;
        else
            return cli_usage_error("outbox", "unexpected argument '%s'", rest[i]);
    }
    if ((rc = cli_db_open(&db, "outbox", db_path, 1)) != 0)
        return rc;
    printf("%-8s %-6s %2s  %-24s %-13s %-34s %s\n", "id", "state", "at", "created", "order", "type",
           "topic event-id");
    do {
        before = op.last;
        rc = orderly_engine_list_outbox(db.engine, op.want == 2 ? ORDERLY_ITEM_DEAD : -1, op.last,
                                        4096, print_row, &op);
    } while (rc == 0 && op.last != before);
    if (rc < 0)
        fprintf(stderr, "orderly outbox: %s\n", orderly_engine_errmsg(db.engine));
    else
        printf("(%llu rows)\n", (unsigned long long)op.shown);
    cli_db_close(&db);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* ---- orderly compensations ----------------------------------------------------------- */

static int print_effect(const orderly_effect_view *op, void *user_data)
{
    uint64_t *last = user_data;

    *last = op->id;
    printf("%-8llu %-22s %-6s %3u  %-13s %10lld  %s\n", (unsigned long long)op->id,
           orderly_op_name(op->op), item_state(op->state), op->attempts, op->order_id,
           (long long)op->amount, op->key);
    return 0;
}

static void comp_usage(FILE *f)
{
    fputs("usage: orderly compensations list [--dead] [--db FILE]\n"
          "       orderly compensations replay ID [--db FILE]\n"
          "\n"
          "list     prints every recorded side effect (id, operation, state, attempts,\n"
          "         order, amount, idempotency key); --dead only the exhausted ones\n"
          "replay   puts parked (dead) operation ID back in the queue with a fresh\n"
          "         attempt budget; the host's executor runs it on its next pass. An\n"
          "         operation that is pending, leased or done is refused (exit 1)\n"
          "  --db FILE   database (default " CLI_DEFAULT_DB ")\n",
          f);
}

int cmd_compensations(int argc, char **argv)
{
    const char *db_path;
    char *rest[3];
    cli_db db;
    int n_rest, rc, i, dead = 0;

    if ((rc = common_flags("compensations", argc, argv, &db_path, rest, &n_rest, 3)) != 0)
        return rc;
    for (i = 0; i < n_rest; i++)
        if (cli_is_help(rest[i])) {
            comp_usage(stdout);
            return CLI_EXIT_OK;
        }
    if (n_rest == 0)
        return cli_usage_error("compensations", "expected 'list' or 'replay ID'");
    if (strcmp(rest[0], "list") == 0) {
        uint64_t last = 0, before;
        for (i = 1; i < n_rest; i++) {
            if (strcmp(rest[i], "--dead") == 0)
                dead = 1;
            else
                return cli_usage_error("compensations", "unexpected argument '%s'", rest[i]);
        }
        if ((rc = cli_db_open(&db, "compensations", db_path, 1)) != 0)
            return rc;
        printf("%-8s %-22s %-6s %3s  %-13s %10s  %s\n", "id", "operation", "state", "at", "order",
               "amount", "key");
        do {
            before = last;
            rc = orderly_engine_list_effects(db.engine, dead ? ORDERLY_ITEM_DEAD : -1, last, 4096,
                                             print_effect, &last);
        } while (rc == 0 && last != before);
        if (rc < 0)
            fprintf(stderr, "orderly compensations: %s\n", orderly_engine_errmsg(db.engine));
        cli_db_close(&db);
        return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    if (strcmp(rest[0], "replay") == 0) {
        uint64_t id;
        if (n_rest != 2 || cli_parse_u64(rest[1], 1, UINT64_MAX, &id) < 0)
            return cli_usage_error("compensations", "replay wants one operation id (a positive number)");
        if ((rc = cli_db_open(&db, "compensations", db_path, 0)) != 0)
            return rc;
        rc = orderly_engine_replay_effect(db.engine, id, cli_db_now(&db));
        if (rc == ORDERLY_ENOTFOUND)
            fprintf(stderr, "orderly compensations: no operation %llu in %s\n", (unsigned long long)id,
                    db_path);
        else if (rc < 0)
            fprintf(stderr, "orderly compensations: %s\n", orderly_engine_errmsg(db.engine));
        else
            printf("operation %llu queued again with a fresh attempt budget\n", (unsigned long long)id);
        cli_db_close(&db);
        return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    return cli_usage_error("compensations", "unknown subcommand '%s'", rest[0]);
}

/* ---- orderly health ---------------------------------------------------------------- */

static void print_metric(const char *name, double value, void *user_data)
{
    (void)user_data;
    printf("%s %.0f\n", name, value);
}

static void health_usage(FILE *f)
{
    fputs("usage: orderly health [--db FILE] [--metrics]\n"
          "\n"
          "Prints the outbox backlog and its oldest age, leases, dead letters, the\n"
          "compensation backlog, timers due, and the readiness verdict (not ready when\n"
          "more than 100 events wait and the oldest is over 5 minutes old), measured\n"
          "on the database's own clock. Exits 1 when not ready.\n"
          "  --metrics   print the same figures as 'name value' lines instead\n"
          "  --db FILE   database (default " CLI_DEFAULT_DB ")\n",
          f);
}

int cmd_health(int argc, char **argv)
{
    const char *db_path;
    char *rest[2];
    orderly_health h;
    orderly_time_ms now;
    cli_db db;
    int n_rest, rc, i, metrics = 0;

    if ((rc = common_flags("health", argc, argv, &db_path, rest, &n_rest, 2)) != 0)
        return rc;
    for (i = 0; i < n_rest; i++) {
        if (cli_is_help(rest[i])) {
            health_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(rest[i], "--metrics") == 0)
            metrics = 1;
        else
            return cli_usage_error("health", "unexpected argument '%s'", rest[i]);
    }
    if ((rc = cli_db_open(&db, "health", db_path, 1)) != 0)
        return rc;
    now = cli_db_now(&db);
    if (metrics)
        rc = orderly_engine_metrics(db.engine, now, print_metric, NULL);
    else
        rc = orderly_engine_health(db.engine, now, 0, 0, &h);
    if (rc < 0) {
        fprintf(stderr, "orderly health: %s\n", orderly_engine_errmsg(db.engine));
        cli_db_close(&db);
        return CLI_EXIT_FAIL;
    }
    cli_db_close(&db);
    if (metrics)
        return CLI_EXIT_OK;
    printf("database                 %s\n", db_path);
    printf("outbox pending           %llu\n", (unsigned long long)h.outbox_pending);
    printf("oldest pending age       %.1f s\n", (double)h.outbox_oldest_age_ms / 1000.0);
    printf("leases in flight         %llu\n", (unsigned long long)h.outbox_leased);
    printf("leases expired           %llu\n", (unsigned long long)h.outbox_lease_expired);
    printf("dead letters             %llu\n", (unsigned long long)h.outbox_dead);
    printf("compensations pending    %llu\n", (unsigned long long)h.compensation_pending);
    printf("compensations exhausted  %llu\n", (unsigned long long)h.compensation_exhausted);
    printf("timers due               %llu\n", (unsigned long long)h.timers_due);
    printf("ready                    %s\n", h.ready ? "yes" : "no");
    return h.ready ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
