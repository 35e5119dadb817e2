/*
 * Looking into an existing database: one order with its parts and
 * operations, the outbox, the operation queue, and health. Each
 * inspection prints a table for people or, with --json, one JSON document
 * for scripts (the shapes are documented in doc/cli.md).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

static const char *op_name(int op)
{
    const char *n = orderly_op_name(op);

    return n != NULL ? n : "?";
}

/* Splits "--db FILE" and "--json" out of argv; the remaining arguments
 * land in rest. */
static int common_flags(const char *cmd, int argc, char **argv, const char **db, int *json,
                        char **rest, int *n_rest, int max_rest)
{
    int i;

    *db = CLI_DEFAULT_DB;
    *json = 0;
    *n_rest = 0;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0')
                return cli_usage_error(cmd, "--db needs a file name");
            *db = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            *json = 1;
        } else if (*n_rest < max_rest) {
            rest[(*n_rest)++] = argv[i];
        } else {
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
        }
    }
    return 0;
}

/* ---- JSON output ------------------------------------------------------------------ */

/* Writes v compactly on stdout and releases it. -1 when v is NULL (jansson
 * refused a value, such as text that is not UTF-8) or the write failed. */
static int put_json(json_t *v)
{
    int rc = v != NULL && json_dumpf(v, stdout, JSON_COMPACT) == 0 ? 0 : -1;

    json_decref(v);
    return rc;
}

/* A list written element by element, so a long outbox never sits in memory
 * as one document: open prints the head, each item its separator, close
 * the tail with the count. */
struct json_list {
    uint64_t count;
    int failed;
};

static void list_item(struct json_list *l, json_t *v)
{
    if (l->count > 0)
        putchar(',');
    if (put_json(v) < 0)
        l->failed = 1;
    l->count++;
}

static int list_close(struct json_list *l)
{
    printf("],\"count\":%llu}\n", (unsigned long long)l->count);
    return l->failed ? -1 : 0;
}

/* Reports a list element jansson refused; returns ORDERLY_ERROR. */
static int row_failed(const char *cmd, const char *what)
{
    fprintf(stderr, "orderly %s: %s cannot be written as JSON (text that is not UTF-8)\n", cmd,
            what);
    return ORDERLY_ERROR;
}

static json_t *time_json(json_t *obj, const char *name, orderly_time_ms t)
{
    char when[40], key[40];

    if (obj == NULL)
        return NULL;
    cli_format_time(when, sizeof when, t);
    snprintf(key, sizeof key, "%s_ms", name);
    if (json_object_set_new(obj, name, json_string(when)) < 0 ||
        json_object_set_new(obj, key, json_integer((json_int_t)t)) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *operation_json(const orderly_operation_view *op)
{
    json_t *lines = json_array();
    uint32_t i;

    for (i = 0; lines != NULL && i < op->n_lines; i++) {
        if (json_array_append_new(lines, json_pack("{s:I,s:I,s:I}", "sku", (json_int_t)op->sku[i],
                                                   "warehouse", (json_int_t)op->warehouse[i],
                                                   "quantity", (json_int_t)op->quantity[i])) < 0) {
            json_decref(lines);
            return NULL;
        }
    }
    return json_pack("{s:I,s:s,s:s,s:I,s:s,s:I,s:I,s:s,s:o*}", "id", (json_int_t)op->id,
                     "operation", op_name(op->op), "state", item_state(op->state), "attempts",
                     (json_int_t)op->attempts, "order", op->order_id, "index", (json_int_t)op->index,
                     "amount", (json_int_t)op->amount, "key", op->key, "lines", lines);
}

/* ---- orderly order show ---------------------------------------------------------- */

struct order_operations {
    const char *order_id;
    int n;
    uint64_t last;
    json_t *json;       /* the order's "operations" array, or NULL for text */
    int failed;
};

static int print_operation_of(const orderly_operation_view *op, void *user_data)
{
    struct order_operations *oe = user_data;

    oe->last = op->id;
    if (strcmp(op->order_id, oe->order_id) != 0)
        return 0;
    if (oe->json != NULL) {
        if (json_array_append_new(oe->json, operation_json(op)) < 0)
            oe->failed = 1;
        return 0;
    }
    if (oe->n++ == 0)
        printf("operations:\n");
    printf("  %-6llu %-22s %-6s attempts %u  amount %lld  key %s\n", (unsigned long long)op->id,
           op_name(op->op), item_state(op->state), op->attempts, (long long)op->amount, op->key);
    return 0;
}

struct order_history {
    json_t *json;       /* the order's "history" array, or NULL for text */
    int failed;
};

/* One history entry: a line of text, or its published envelope in JSON. */
static int print_history_entry(const orderly_history_entry *h, void *user_data)
{
    struct order_history *oh = user_data;
    char when[40];

    if (oh->json != NULL) {
        json_t *env = json_loadb(h->json, h->json_len, 0, NULL);
        if (env == NULL || json_array_append_new(oh->json, env) < 0)
            oh->failed = 1;
        return 0;
    }
    cli_format_time(when, sizeof when, h->time);
    printf("  %-4u %s  %-38s %s #%u", h->seq, when, h->type, h->machine, h->index);
    if (h->from != NULL && h->to != NULL)
        printf(" %s -> %s", h->from, h->to);
    if (h->event != NULL)
        printf(" (%s)", h->event);
    printf("  amount %lld%s%s", (long long)h->amount, h->currency[0] != '\0' ? " " : "",
           h->currency);
    if (h->n_lines > 0)
        printf("  lines %u", h->n_lines);
    putchar('\n');
    return 0;
}

/* Lists id's history after its operations, page by page. */
static int show_history(orderly_engine *e, const char *id, json_t *doc, int json, int *failed)
{
    struct order_history oh = { NULL, 0 };
    uint32_t from = 0;
    int rc;

    if (json && json_object_set_new(doc, "history", oh.json = json_array()) < 0) {
        *failed = 1;
        return 0;
    }
    if (!json)
        printf("history:\n");
    do {
        rc = orderly_engine_order_history(e, id, from, 512, print_history_entry, &oh);
        from += rc > 0 ? (uint32_t)rc : 0;
    } while (rc == 512 && !oh.failed);
    *failed |= oh.failed;
    return rc < 0 ? rc : 0;
}

static void order_usage(FILE *f)
{
    fputs("usage: orderly order show ID [--history] [--json] [--db FILE]\n"
          "\n"
          "Prints the order's state, money, every part (reservations, fulfillments,\n"
          "shipments, returns, claims of lost shipments) and the operations recorded for it.\n"
          "  --history   also every event the order produced, in order (see doc/events.md)\n"
          "  --json      one JSON object instead (see doc/cli.md)\n"
          "  --db FILE   database (default " CLI_DEFAULT_DB ")\n",
          f);
}

/* claims last: claim i is shipment i's, listed when its parcel was lost */
static const int part_machines[5] = { ORDERLY_MACHINE_RESERVATION, ORDERLY_MACHINE_FULFILLMENT,
                                      ORDERLY_MACHINE_SHIPMENT, ORDERLY_MACHINE_RETURN,
                                      ORDERLY_MACHINE_CLAIM };
static const char *const part_keys[5] = { "reservations", "fulfillments", "shipments", "returns",
                                          "claims" };

static uint32_t part_count(const orderly_order_view *v, int k)
{
    return k == 0 ? v->n_lines : k == 1 ? v->n_fulfillments : k == 3 ? v->n_returns : v->n_shipments;
}

/* A line's units and money, as the reservation part counts them. */
static int set_units(json_t *o, const orderly_part_view *p)
{
    json_t *u = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "reserved", (json_int_t)p->reserved,
                          "shipped", (json_int_t)p->shipped, "delivered", (json_int_t)p->delivered,
                          "lost", (json_int_t)p->lost, "back_at_origin",
                          (json_int_t)p->back_at_origin, "returned", (json_int_t)p->returned,
                          "restocked", (json_int_t)p->restocked, "refunded",
                          (json_int_t)p->refunded);

    return u == NULL ? -1 : json_object_set_new(o, "units", u);
}

/* A return's lines, each {"line", "quantity"}: every one, however many
 * lines the order has (orderly_engine_get_return_line). */
static json_t *return_lines_json(orderly_engine *e, const char *id, uint32_t index)
{
    orderly_return_line rl;
    json_t *a = json_array();
    uint32_t k;

    for (k = 0; a != NULL && orderly_engine_get_return_line(e, id, index, k, &rl) == 0; k++)
        if (json_array_append_new(a, json_pack("{s:I,s:I}", "line", (json_int_t)rl.line,
                                               "quantity", (json_int_t)rl.quantity)) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *part_json(orderly_engine *e, const char *id, const orderly_part_view *p, int machine)
{
    json_t *o = json_pack("{s:I,s:s}", "index", (json_int_t)p->index, "state",
                          state_name(machine, p->state));

    if (o != NULL && machine == ORDERLY_MACHINE_RESERVATION &&
        (json_object_set_new(o, "sku", json_integer((json_int_t)p->sku)) < 0 ||
         json_object_set_new(o, "quantity", json_integer((json_int_t)p->quantity)) < 0 ||
         set_units(o, p) < 0)) {
        json_decref(o);
        return NULL;
    }
    if (o != NULL && machine != ORDERLY_MACHINE_RETURN &&
        json_object_set_new(o, "warehouse", json_integer((json_int_t)p->warehouse)) < 0) {
        json_decref(o);
        return NULL;
    }
    if (o != NULL && machine == ORDERLY_MACHINE_RETURN &&
        (json_object_set_new(o, "amount", json_integer((json_int_t)p->amount)) < 0 ||
         json_object_set_new(o, "replacement", p->replacement[0] != '\0'
                                                   ? json_string(p->replacement)
                                                   : json_null()) < 0 ||
         json_object_set_new(o, "lines", return_lines_json(e, id, p->index)) < 0)) {
        json_decref(o);
        return NULL;
    }
    return time_json(o, "since", p->since);
}

static void print_units(const orderly_part_view *p)
{
    static const char *const names[8] = { "held", "shipped", "delivered", "lost",
                                          "back at origin", "returned", "restocked", NULL };
    const uint32_t counts[7] = { p->reserved, p->shipped, p->delivered, p->lost,
                                 p->back_at_origin, p->returned, p->restocked };
    int i;

    for (i = 0; names[i] != NULL; i++)
        if (counts[i] > 0)
            printf(", %s %u", names[i], counts[i]);
    if (p->refunded > 0)
        printf(", refunded %lld", (long long)p->refunded);
}

static void print_return_lines(orderly_engine *e, const char *id, uint32_t index)
{
    orderly_return_line rl;
    uint32_t k;

    for (k = 0; orderly_engine_get_return_line(e, id, index, k, &rl) == 0; k++)
        printf("%s line %u x%u", k == 0 ? "  of" : ",", rl.line, rl.quantity);
}

static void print_part(orderly_engine *e, const char *id, const orderly_part_view *p, int machine)
{
    char when[40];

    cli_format_time(when, sizeof when, p->since);
    printf("  #%u %-20s since %s", p->index, state_name(machine, p->state), when);
    if (machine == ORDERLY_MACHINE_RESERVATION) {
        printf("  sku %llu x%u warehouse %u", (unsigned long long)p->sku, p->quantity, p->warehouse);
        print_units(p);
    } else if (machine == ORDERLY_MACHINE_RETURN) {
        printf("  amount %lld", (long long)p->amount);
        print_return_lines(e, id, p->index);
        if (p->replacement[0] != '\0')
            printf("  replacement %s", p->replacement);
    } else {
        printf("  warehouse %u", p->warehouse);
    }
    putchar('\n');
}

static json_t *order_json(const char *id, const orderly_order_view *v)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "id", id, "state",
                          state_name(ORDERLY_MACHINE_ORDER, v->order_state), "payment_state",
                          state_name(ORDERLY_MACHINE_PAYMENT, v->payment_state), "payment_method",
                          v->payment_method == ORDERLY_PAY_COD ? "cod" : "card", "currency",
                          v->currency, "total", (json_int_t)v->total, "authorized",
                          (json_int_t)v->authorized, "captured", (json_int_t)v->captured,
                          "refunded", (json_int_t)v->refunded, "version", (json_int_t)v->version);

    if (o != NULL && json_object_set_new(o, "replacement_of", v->replacement_of[0] != '\0'
                                                                  ? json_string(v->replacement_of)
                                                                  : json_null()) < 0) {
        json_decref(o);
        return NULL;
    }
    return time_json(o, "created", v->created);
}

static void print_order(const char *id, const orderly_order_view *v)
{
    char when[40];

    cli_format_time(when, sizeof when, v->created);
    printf("order %s\n", id);
    printf("  state      %s\n", state_name(ORDERLY_MACHINE_ORDER, v->order_state));
    printf("  payment    %s (%s)\n", state_name(ORDERLY_MACHINE_PAYMENT, v->payment_state),
           v->payment_method == ORDERLY_PAY_COD ? "cash on delivery" : "card");
    printf("  money      total %lld, authorized %lld, captured %lld, refunded %lld %s\n",
           (long long)v->total, (long long)v->authorized, (long long)v->captured,
           (long long)v->refunded, v->currency);
    printf("  created    %s\n  version    %llu\n", when, (unsigned long long)v->version);
    if (v->replacement_of[0] != '\0')
        printf("  replaces   %s (an exchange of it)\n", v->replacement_of);
}

static const char *machine_name(int id)
{
    const orderly_machine *m;

    return orderly_machine_by_id(&m, id) == 0 ? orderly_machine_name(m) : "?";
}

int cmd_order(int argc, char **argv)
{
    const char *db_path, *id;
    char *rest[3];
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    struct order_operations oe;
    json_t *doc = NULL, *parts = NULL;
    uint64_t after;
    cli_db db;
    int n_rest, rc, k, json, failed = 0, history = 0, r;

    if (argc > 1 && cli_is_help(argv[1])) {
        order_usage(stdout);
        return CLI_EXIT_OK;
    }
    if ((rc = common_flags("order", argc, argv, &db_path, &json, rest, &n_rest, 3)) != 0)
        return rc;
    for (r = 0; r < n_rest; r++) {
        if (strcmp(rest[r], "--history") != 0 || history)
            continue;
        history = 1;
        memmove(&rest[r], &rest[r + 1], (size_t)(n_rest - r - 1) * sizeof rest[0]);
        n_rest--;
        break;
    }
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
    if (json)
        failed = (doc = order_json(id, &v)) == NULL;
    else
        print_order(id, &v);
    for (k = 0; k < 5 && !failed; k++) {
        uint32_t n = part_count(&v, k), i, shown = 0;
        /* json_object_set_new takes parts even when it fails */
        if (json && json_object_set_new(doc, part_keys[k], parts = json_array()) < 0)
            failed = 1;
        for (i = 0; i < n && !failed; i++) {
            orderly_part_view p = ORDERLY_PART_VIEW_INIT;
            if (orderly_engine_get_part(db.engine, id, part_machines[k], i, &p) < 0)
                continue;
            if (!json && shown++ == 0)
                printf("%s:\n", machine_name(part_machines[k]));
            if (!json)
                print_part(db.engine, id, &p, part_machines[k]);
            else if (json_array_append_new(parts, part_json(db.engine, id, &p, part_machines[k])) < 0)
                failed = 1;
        }
    }
    memset(&oe, 0, sizeof oe);
    oe.order_id = id;
    if (json && !failed && json_object_set_new(doc, "operations", oe.json = json_array()) < 0)
        failed = 1;
    rc = 0;
    do {
        after = oe.last;
        if (!failed)
            rc = orderly_engine_list_operations(db.engine, -1, after, 4096, print_operation_of, &oe);
    } while (rc == 0 && !failed && oe.last != after);
    if (rc == 0 && history && !failed)
        rc = show_history(db.engine, id, doc, json, &failed);
    if (rc < 0)
        fprintf(stderr, "orderly order: %s\n", orderly_engine_errmsg(db.engine));
    cli_db_close(&db);
    failed |= oe.failed;
    if (json && !failed && rc == 0) {
        failed = put_json(doc) < 0;
        putchar('\n');
    } else {
        json_decref(doc);
    }
    if (failed)
        fprintf(stderr, "orderly order: '%s' cannot be written as JSON\n", id);
    return rc < 0 || failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
/* ---- orderly outbox --------------------------------------------------------------- */

struct outbox_print {
    int want;           /* 0 all, 1 pending, 2 dead */
    uint64_t shown, last;
    struct json_list *json; /* NULL for text */
};

static json_t *row_json(const orderly_outbox_view *r)
{
    json_t *o = json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:I}", "id", (json_int_t)r->id, "state",
                          item_state(r->state), "attempts", (json_int_t)r->attempts, "order",
                          r->order_id, "type", r->type, "topic", r->topic, "event_id",
                          r->event_id, "due_ms", (json_int_t)r->due);

    return time_json(o, "created", r->created);
}

static int print_row(const orderly_outbox_view *r, void *user_data)
{
    struct outbox_print *op = user_data;
    char when[40];

    op->last = r->id;
    if ((op->want == 1 && r->state != ORDERLY_ITEM_READY && r->state != ORDERLY_ITEM_LEASED) ||
        (op->want == 2 && r->state != ORDERLY_ITEM_DEAD))
        return 0;
    op->shown++;
    if (op->json != NULL) {
        list_item(op->json, row_json(r));
        return 0;
    }
    cli_format_time(when, sizeof when, r->created);
    printf("%-8llu %-6s %2u  %-24s %-13s %-34s %s %s\n", (unsigned long long)r->id,
           item_state(r->state), r->attempts, when, r->order_id, r->type, r->topic, r->event_id);
    return 0;
}

static void outbox_usage(FILE *f)
{
    fputs("usage: orderly outbox [--pending | --dead] [--json] [--db FILE]\n"
          "\n"
          "Lists outbox rows: id, state, attempts, created, order, type, topic, event id.\n"
          "  --pending   only rows not yet published (ready or leased)\n"
          "  --dead      only dead letters (publishing gave up after the attempt limit)\n"
          "  --json      one JSON object instead (see doc/cli.md)\n"
          "  --db FILE   database (default " CLI_DEFAULT_DB ")\n",
          f);
}

int cmd_outbox(int argc, char **argv)
{
    struct outbox_print op = { 0, 0, 0, NULL };
    struct json_list jl = { 0, 0 };
    const char *db_path;
    char *rest[2];
    cli_db db;
    int n_rest, rc, i, json;
    uint64_t before;

    if ((rc = common_flags("outbox", argc, argv, &db_path, &json, rest, &n_rest, 2)) != 0)
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
    if (json) {
        op.json = &jl;
        fputs("{\"rows\":[", stdout);
    } else {
        printf("%-8s %-6s %2s  %-24s %-13s %-34s %s\n", "id", "state", "at", "created", "order",
               "type", "topic event-id");
    }
    do {
        before = op.last;
        rc = orderly_engine_list_outbox(db.engine, op.want == 2 ? ORDERLY_ITEM_DEAD : -1, op.last,
                                        4096, print_row, &op);
    } while (rc == 0 && op.last != before);
    if (rc < 0)
        fprintf(stderr, "orderly outbox: %s\n", orderly_engine_errmsg(db.engine));
    else if (json && list_close(&jl) < 0)
        rc = row_failed("outbox", "a row");
    else if (!json)
        printf("(%llu rows)\n", (unsigned long long)op.shown);
    cli_db_close(&db);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* ---- orderly operations ----------------------------------------------------------- */

struct operation_print {
    uint64_t last;
    struct json_list *json; /* NULL for text */
};

static int print_operation(const orderly_operation_view *op, void *user_data)
{
    struct operation_print *ep = user_data;

    ep->last = op->id;
    if (ep->json != NULL) {
        list_item(ep->json, operation_json(op));
        return 0;
    }
    printf("%-8llu %-22s %-6s %3u  %-13s %10lld  %s\n", (unsigned long long)op->id,
           op_name(op->op), item_state(op->state), op->attempts, op->order_id,
           (long long)op->amount, op->key);
    return 0;
}

static void comp_usage(FILE *f)
{
    fputs("usage: orderly operations list [--dead] [--json] [--db FILE]\n"
          "       orderly operations replay ID [--db FILE]\n"
          "\n"
          "list     prints every recorded operation (id, op, state, attempts,\n"
          "         order, amount, idempotency key); --dead only the exhausted ones;\n"
          "         --json one JSON object instead (see doc/cli.md)\n"
          "replay   puts parked (dead) operation ID back in the queue with a fresh\n"
          "         attempt budget; the host's executor runs it on its next pass. An\n"
          "         operation that is pending, leased or done is refused (exit 1)\n"
          "  --db FILE   database (default " CLI_DEFAULT_DB ")\n",
          f);
}

static int comp_list(const char *db_path, int dead, int json)
{
    struct json_list jl = { 0, 0 };
    struct operation_print ep = { 0, NULL };
    uint64_t before;
    cli_db db;
    int rc;

    if ((rc = cli_db_open(&db, "operations", db_path, 1)) != 0)
        return rc;
    if (json) {
        ep.json = &jl;
        fputs("{\"operations\":[", stdout);
    } else {
        printf("%-8s %-22s %-6s %3s  %-13s %10s  %s\n", "id", "operation", "state", "at", "order",
               "amount", "key");
    }
    do {
        before = ep.last;
        rc = orderly_engine_list_operations(db.engine, dead ? ORDERLY_ITEM_DEAD : -1, ep.last, 4096,
                                         print_operation, &ep);
    } while (rc == 0 && ep.last != before);
    if (rc < 0)
        fprintf(stderr, "orderly operations: %s\n", orderly_engine_errmsg(db.engine));
    else if (json && list_close(&jl) < 0)
        rc = row_failed("operations", "an operation");
    cli_db_close(&db);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int comp_replay(const char *db_path, uint64_t id)
{
    cli_db db;
    int rc;

    if ((rc = cli_db_open(&db, "operations", db_path, 0)) != 0)
        return rc;
    rc = orderly_engine_replay_operation(db.engine, id, cli_db_now(&db));
    if (rc == ORDERLY_ENOTFOUND)
        fprintf(stderr, "orderly operations: no operation %llu in %s\n", (unsigned long long)id,
                db_path);
    else if (rc < 0)
        fprintf(stderr, "orderly operations: %s\n", orderly_engine_errmsg(db.engine));
    else
        printf("operation %llu queued again with a fresh attempt budget\n", (unsigned long long)id);
    cli_db_close(&db);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_operations(int argc, char **argv)
{
    const char *db_path;
    char *rest[3];
    uint64_t id;
    int n_rest, rc, i, json, dead = 0;

    if ((rc = common_flags("operations", argc, argv, &db_path, &json, rest, &n_rest, 3)) != 0)
        return rc;
    for (i = 0; i < n_rest; i++)
        if (cli_is_help(rest[i])) {
            comp_usage(stdout);
            return CLI_EXIT_OK;
        }
    if (n_rest == 0)
        return cli_usage_error("operations", "expected 'list' or 'replay ID'");
    if (strcmp(rest[0], "list") == 0) {
        for (i = 1; i < n_rest; i++) {
            if (strcmp(rest[i], "--dead") == 0)
                dead = 1;
            else
                return cli_usage_error("operations", "unexpected argument '%s'", rest[i]);
        }
        return comp_list(db_path, dead, json);
    }
    if (strcmp(rest[0], "replay") == 0) {
        if (json)
            return cli_usage_error("operations", "replay has no --json");
        if (n_rest != 2 || cli_parse_u64(rest[1], 1, UINT64_MAX, &id) < 0)
            return cli_usage_error("operations", "replay wants one operation id (a positive number)");
        return comp_replay(db_path, id);
    }
    return cli_usage_error("operations", "unknown subcommand '%s'", rest[0]);
}

/* ---- orderly health ---------------------------------------------------------------- */

static void print_metric(const char *name, double value, void *user_data)
{
    (void)user_data;
    printf("%s %.0f\n", name, value);
}

static void health_usage(FILE *f)
{
    fputs("usage: orderly health [--db FILE] [--metrics | --json]\n"
          "\n"
          "Prints the outbox backlog and its oldest age, leases, dead letters, the\n"
          "operation backlog, timers due, and the readiness verdict (not ready when\n"
          "more than 100 events wait and the oldest is over 5 minutes old), measured\n"
          "on the database's own clock. Exits 1 when not ready.\n"
          "  --metrics   print the same figures as 'name value' lines instead\n"
          "  --json      print them as one JSON object instead (see doc/cli.md)\n"
          "  --db FILE   database (default " CLI_DEFAULT_DB ")\n",
          f);
}

static json_t *health_json(const char *db_path, orderly_time_ms now, const orderly_health *h)
{
    json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "database", db_path,
                          "outbox_pending", (json_int_t)h->outbox_pending,
                          "outbox_oldest_age_ms", (json_int_t)h->outbox_oldest_age_ms,
                          "outbox_leased", (json_int_t)h->outbox_leased,
                          "outbox_lease_expired", (json_int_t)h->outbox_lease_expired,
                          "outbox_dead", (json_int_t)h->outbox_dead,
                          "operations_pending", (json_int_t)h->operations_pending,
                          "operations_exhausted", (json_int_t)h->operations_exhausted,
                          "timers_due", (json_int_t)h->timers_due, "ready", h->ready != 0);

    return time_json(o, "now", now);
}

int cmd_health(int argc, char **argv)
{
    const char *db_path;
    char *rest[2];
    orderly_health h = ORDERLY_HEALTH_INIT;
    orderly_time_ms now;
    cli_db db;
    int n_rest, rc, i, json, metrics = 0;

    if ((rc = common_flags("health", argc, argv, &db_path, &json, rest, &n_rest, 2)) != 0)
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
    if (metrics && json)
        return cli_usage_error("health", "--metrics and --json exclude each other");
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
    if (json) {
        if (put_json(health_json(db_path, now, &h)) < 0) {
            fprintf(stderr, "orderly health: the snapshot cannot be written as JSON\n");
            return CLI_EXIT_FAIL;
        }
        putchar('\n');
        return h.ready ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    printf("database                 %s\n", db_path);
    printf("outbox pending           %llu\n", (unsigned long long)h.outbox_pending);
    printf("oldest pending age       %.1f s\n", (double)h.outbox_oldest_age_ms / 1000.0);
    printf("leases in flight         %llu\n", (unsigned long long)h.outbox_leased);
    printf("leases expired           %llu\n", (unsigned long long)h.outbox_lease_expired);
    printf("dead letters             %llu\n", (unsigned long long)h.outbox_dead);
    printf("operations pending       %llu\n", (unsigned long long)h.operations_pending);
    printf("operations exhausted     %llu\n", (unsigned long long)h.operations_exhausted);
    printf("timers due               %llu\n", (unsigned long long)h.timers_due);
    printf("ready                    %s\n", h.ready ? "yes" : "no");
    return h.ready ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
