/*
 * Writes the JSON Schema (draft 2020-12) of every outbound event type,
 * generated from the declarations the engine publishes from
 * (lib/wire/events.c: type, topic, lines, currency, machine, consumer,
 * and the machine tables' state and event names).
 *
 * usage: event_schemas OUTDIR    writes OUTDIR/<type>.schema.json
 *        event_schemas --table   prints the Markdown table of doc/events.md
 * Output is deterministic: the same declarations give the same bytes.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "../../lib/wire/events.h"
#include "orderly/engine.h"
#include "orderly/envelope.h"
#include "orderly/machine.h"
#include "orderly/outbox.h"

static json_t *str_type(void)
{
    return json_pack("{s:s}", "type", "string");
}

static json_t *int_min(long long min)
{
    return json_pack("{s:s,s:I}", "type", "integer", "minimum", (json_int_t)min);
}

/* {"enum": [names of the machine's states or events]} */
static json_t *names(const orderly_machine *m, int states)
{
    json_t *list = json_array();
    int i, limit = states ? orderly_machine_state_limit(m) : orderly_machine_event_limit(m);

    for (i = 1; i < limit; i++) {
        const char *n = states ? orderly_machine_state_name(m, i) : orderly_machine_event_name(m, i);
        if (n != NULL)
            json_array_append_new(list, json_string(n));
    }
    return json_pack("{s:s,s:o}", "type", "string", "enum", list);
}

static json_t *line_schema(void)
{
    json_t *p = json_object();

    json_object_set_new(p, "line", json_pack("{s:s,s:i,s:s}", "type", "integer", "minimum", 0,
                                             "description", "the line's position in the order"));
    json_object_set_new(p, "sku", int_min(0));
    json_object_set_new(p, "warehouse", int_min(0));
    json_object_set_new(p, "quantity", int_min(1));
    json_object_set_new(p, "unit_price", json_pack("{s:s,s:i,s:s}", "type", "integer", "minimum", 0,
                                                   "description", "minor units of data.currency"));
    json_object_set_new(p, "amount", json_pack("{s:s,s:i,s:s}", "type", "integer", "minimum", 0,
                                               "description", "quantity x unit_price"));
    return json_pack("{s:s,s:[s,s,s,s,s,s],s:o}", "type", "object", "required", "line", "sku",
                     "warehouse", "quantity", "unit_price", "amount", "properties", p);
}

/* orderly.command.<op>: an operation no in-process executor runs, published
 * for the host to carry out (lib/background/comp_run.c). */
static json_t *command_schema(void)
{
    json_t *line = json_pack("{s:s,s:[s,s,s],s:{s:o,s:o,s:o}}", "type", "object", "required",
                             "sku", "warehouse", "quantity", "properties", "sku", int_min(0),
                             "warehouse", int_min(0), "quantity", int_min(1));
    json_t *data = json_pack(
        "{s:s,s:[s,s,s,s,s],s:{s:o,s:o,s:o,s:o,s:{s:s,s:o}}}", "type", "object", "required", "op",
        "code", "index", "amount", "lines", "properties", "op", str_type(), "code", int_min(1),
        "index", int_min(0), "amount", json_pack("{s:s,s:s}", "type", "integer", "description",
                                                 "minor units, or points"),
        "lines", "type", "array", "items", line);
    json_t *props = json_object(), *s = json_object();
    char id[96];

    snprintf(id, sizeof id, "urn:orderly:event:orderly.command:%d", ORDERLY_SCHEMA_VERSION);
    json_object_set_new(props, "specversion", json_pack("{s:s}", "const", "1.0"));
    json_object_set_new(props, "id", json_pack("{s:s,s:s,s:s}", "type", "string", "pattern",
                                               "^[0-9a-f]{32}$", "description",
                                               "the operation's idempotency key"));
    json_object_set_new(props, "source", str_type());
    json_object_set_new(props, "type", json_pack("{s:s,s:s}", "type", "string", "pattern",
                                                 "^orderly[.]command[.]"));
    json_object_set_new(props, "subject", str_type());
    json_object_set_new(props, "schemaversion", json_pack("{s:i}", "const", ORDERLY_SCHEMA_VERSION));
    json_object_set_new(props, "datacontenttype", json_pack("{s:s}", "const", "application/json"));
    json_object_set_new(props, "data", data);
    json_object_set_new(s, "$schema", json_string("https://json-schema.org/draft/2020-12/schema"));
    json_object_set_new(s, "$id", json_string(id));
    json_object_set_new(s, "title", json_string("orderly.command.<operation>"));
    json_object_set_new(s, "description", json_string(orderly__event_consumer(ORDERLY__EV_COMMAND)));
    json_object_set_new(s, "x-orderly-topic",
                        json_string(orderly_topic_default_name(ORDERLY_TOPIC_COMMANDS)));
    json_object_set_new(s, "type", json_string("object"));
    json_object_set_new(s, "required", json_pack("[s,s,s,s,s,s,s,s]", "specversion", "id", "source",
                                                 "type", "subject", "schemaversion",
                                                 "datacontenttype", "data"));
    json_object_set_new(s, "properties", props);
    return s;
}

/* "reservation.expire|payment.cod_window_elapsed|...": the types a
 * deadline command takes, one per timer kind (orderly_timer_target). */
static json_t *deadline_types(void)
{
    json_t *list = json_array();
    const orderly_machine *m;
    char type[64];
    int t, machine, event;

    for (t = 1; orderly_timer_name(t) != NULL; t++) {
        if (orderly_timer_target(&machine, &event, t) < 0 || orderly_machine_by_id(&m, machine) < 0)
            continue;
        snprintf(type, sizeof type, "%s.%s", orderly_machine_name(m),
                 orderly_machine_event_name(m, event));
        json_array_append_new(list, json_string(type));
    }
    return json_pack("{s:s,s:o,s:s}", "type", "string", "enum", list, "description",
                     "<machine>.<event>: the command the due deadline fires");
}

/* orderly.deadline: a replica's due deadline, published for the host to
 * append to the shared input log (lib/background/timers.c). */
static json_t *deadline_schema(void)
{
    json_t *data = json_pack("{s:s,s:[s,s],s:{s:o,s:o}}", "type", "object", "required",
                             "order_id", "index", "properties", "order_id", str_type(), "index",
                             int_min(0));
    json_t *props = json_object(), *s = json_object();
    char id[96];

    snprintf(id, sizeof id, "urn:orderly:event:orderly.deadline:%d", ORDERLY_SCHEMA_VERSION);
    json_object_set_new(props, "specversion", json_pack("{s:s}", "const", "1.0"));
    json_object_set_new(props, "id", json_pack("{s:s,s:s,s:s}", "type", "string", "pattern",
                                               "^[0-9a-f]{32}$", "description",
                                               "derived from the timer row: the idempotency key "
                                               "on every replica"));
    json_object_set_new(props, "source", str_type());
    json_object_set_new(props, "type", deadline_types());
    json_object_set_new(props, "subject", str_type());
    json_object_set_new(props, "time", json_pack("{s:s,s:s,s:s}", "type", "string", "format",
                                                 "date-time", "description",
                                                 "the tick's now: every replica applies it then"));
    json_object_set_new(props, "schemaversion", json_pack("{s:i}", "const", ORDERLY_SCHEMA_VERSION));
    json_object_set_new(props, "datacontenttype", json_pack("{s:s}", "const", "application/json"));
    json_object_set_new(props, "data", data);
    json_object_set_new(s, "$schema", json_string("https://json-schema.org/draft/2020-12/schema"));
    json_object_set_new(s, "$id", json_string(id));
    json_object_set_new(s, "title", json_string("orderly.deadline (<machine>.<event>)"));
    json_object_set_new(s, "description", json_string(orderly__event_consumer(ORDERLY__EV_DEADLINE)));
    json_object_set_new(s, "x-orderly-topic",
                        json_string(orderly_topic_default_name(ORDERLY_TOPIC_COMMANDS)));
    json_object_set_new(s, "type", json_string("object"));
    json_object_set_new(s, "required", json_pack("[s,s,s,s,s,s,s,s,s]", "specversion", "id",
                                                 "source", "type", "subject", "time",
                                                 "schemaversion", "datacontenttype", "data"));
    json_object_set_new(s, "properties", props);
    return s;
}

static json_t *schema(int kind)
{
    const char *type = orderly__event_type(kind);
    const orderly_machine *m = NULL;
    json_t *s, *props, *data, *dprops, *req;
    char id[160];

    if (kind == ORDERLY__EV_COMMAND)
        return command_schema();
    if (kind == ORDERLY__EV_DEADLINE)
        return deadline_schema();
    if (orderly_machine_by_id(&m, orderly__event_machine(kind)) < 0)
        return NULL;
    snprintf(id, sizeof id, "urn:orderly:event:%s:%d", type, ORDERLY_SCHEMA_VERSION);
    dprops = json_object();
    json_object_set_new(dprops, "order_id", str_type());
    json_object_set_new(dprops, "machine", json_pack("{s:s}", "const", orderly_machine_name(m)));
    json_object_set_new(dprops, "index", int_min(0));
    json_object_set_new(dprops, "from", names(m, 1));
    json_object_set_new(dprops, "to", names(m, 1));
    json_object_set_new(dprops, "event", names(m, 0));
    json_object_set_new(dprops, "amount", json_pack("{s:s,s:s}", "type", "integer", "description",
                                                    "minor units"));
    req = json_pack("[s,s,s,s]", "order_id", "machine", "index", "amount");
    if (orderly__event_has_currency(kind)) {
        json_object_set_new(dprops, "currency", json_pack("{s:s,s:s}", "type", "string", "pattern",
                                                          "^[A-Z]{3}$"));
        json_array_append_new(req, json_string("currency"));
    }
    if (orderly__event_names_replacement(kind)) {
        json_object_set_new(dprops, "replacement_id",
                            json_pack("{s:s,s:s}", "type", "string", "description",
                                      "the replacement order's id (orderly_replacement_id)"));
        json_array_append_new(req, json_string("replacement_id"));
    }
    if (orderly__event_lines_of(kind) != ORDERLY__EVL_NONE) {
        json_object_set_new(dprops, "lines", json_pack("{s:s,s:o}", "type", "array", "items",
                                                       line_schema()));
        json_array_append_new(req, json_string("lines"));
    }
    data = json_pack("{s:s,s:o,s:o}", "type", "object", "required", req, "properties", dprops);
    props = json_object();
    json_object_set_new(props, "specversion", json_pack("{s:s}", "const", "1.0"));
    json_object_set_new(props, "id", json_pack("{s:s,s:s}", "type", "string", "pattern",
                                               "^[0-9a-f]{32}$"));
    json_object_set_new(props, "source", str_type());
    json_object_set_new(props, "type", json_pack("{s:s}", "const", type));
    json_object_set_new(props, "subject", str_type());
    json_object_set_new(props, "time", json_pack("{s:s,s:s}", "type", "string", "format", "date-time"));
    json_object_set_new(props, "datacontenttype", json_pack("{s:s}", "const", "application/json"));
    json_object_set_new(props, "schemaversion", json_pack("{s:i}", "const", ORDERLY_SCHEMA_VERSION));
    json_object_set_new(props, "traceparent",
                        json_pack("{s:s,s:s}", "type", "string", "pattern",
                                  "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"));
    json_object_set_new(props, "data", data);
    s = json_object();
    json_object_set_new(s, "$schema", json_string("https://json-schema.org/draft/2020-12/schema"));
    json_object_set_new(s, "$id", json_string(id));
    json_object_set_new(s, "title", json_string(type));
    json_object_set_new(s, "description", json_string(orderly__event_consumer(kind)));
    json_object_set_new(s, "x-orderly-topic",
                        json_string(orderly_topic_default_name(orderly__event_topic(kind))));
    json_object_set_new(s, "type", json_string("object"));
    json_object_set_new(s, "required",
                        json_pack("[s,s,s,s,s,s,s,s,s,s]", "specversion", "id", "source", "type",
                                  "subject", "time", "datacontenttype", "schemaversion",
                                  "traceparent", "data"));
    json_object_set_new(s, "properties", props);
    return s;
}

static const char *lines_words(int kind)
{
    switch (orderly__event_lines_of(kind)) {
    case ORDERLY__EVL_ALL:
        return "every line";
    case ORDERLY__EVL_WAREHOUSE:
        return "the warehouse's lines";
    case ORDERLY__EVL_STAGED:
        return "the lines that moved";
    case ORDERLY__EVL_RETURNED:
        return "the return's lines, its units";
    default:
        return "none";
    }
}

static int table(void)
{
    int k;

    printf("| type | topic | machine | lines | currency | consumed by |\n");
    printf("|---|---|---|---|---|---|\n");
    for (k = 1; k < ORDERLY__EV_KIND_LIMIT; k++) {
        const orderly_machine *m = NULL;
        if (orderly_machine_by_id(&m, orderly__event_machine(k)) < 0)
            return 1;
        if (k == ORDERLY__EV_COMMAND) {
            printf("| [`orderly.command.<op>`](events/orderly.command.schema.json) | `%s` | "
                   "(operation) | the operation's | no | %s |\n",
                   orderly_topic_default_name(orderly__event_topic(k)), orderly__event_consumer(k));
            continue;
        }
        if (k == ORDERLY__EV_DEADLINE) {
            printf("| [`<machine>.<event>`](events/orderly.deadline.schema.json) | `%s` | "
                   "(the timer's) | none | no | %s |\n",
                   orderly_topic_default_name(orderly__event_topic(k)), orderly__event_consumer(k));
            continue;
        }
        printf("| [`%s`](events/%s.schema.json) | `%s` | %s | %s | %s | %s |\n",
               orderly__event_type(k), orderly__event_type(k),
               orderly_topic_default_name(orderly__event_topic(k)), orderly_machine_name(m),
               lines_words(k), orderly__event_has_currency(k) ? "yes" : "no",
               orderly__event_consumer(k));
    }
    return 0;
}

int main(int argc, char **argv)
{
    char path[1024];
    int k;

    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR | --table\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "--table") == 0)
        return table();
    for (k = 1; k < ORDERLY__EV_KIND_LIMIT; k++) {
        json_t *s = schema(k);
        int rc;
        if (s == NULL) {
            fprintf(stderr, "event kind %d names no machine\n", k);
            return 1;
        }
        snprintf(path, sizeof path, "%s/%s.schema.json", argv[1], orderly__event_type(k));
        rc = json_dump_file(s, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(s);
        if (rc != 0) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
    }
    return 0;
}
