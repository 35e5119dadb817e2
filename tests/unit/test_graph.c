/*
 * Graph export: every machine in every format, through the writer callback
 * and through the caller-buffer form, checked against the rows the query
 * API lists (the rows themselves are checked by test_machines.c); and the
 * choreography view, checked against the reaction table it draws.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "fsm/reactions.h"
#include "fsm/table.h"
#include "orderly/compensation.h"
#include "orderly/graph.h"
#include "orderly/machine.h"
#include "unit_main.h"

static const char *const machine_names[] = {
    "order", "payment", "reservation", "fulfillment", "shipment", "return",
};

static const int formats[] = { ORDERLY_GRAPH_DOT, ORDERLY_GRAPH_MERMAID, ORDERLY_GRAPH_JSON };

/* ---- helpers --------------------------------------------------------------- */

typedef struct sink {
    char *data;
    size_t len, cap;
    int calls;
    int fail_at;    /* return fail_code on this call (1-based); 0 never */
    int fail_code;
    int after_fail; /* calls made after a failure was returned */
} sink;

static int sink_write(const char *data, size_t len, void *user_data)
{
    sink *s = user_data;

    if (s->fail_at > 0 && s->calls >= s->fail_at)
        s->after_fail++;
    s->calls++;
    if (s->fail_at > 0 && s->calls == s->fail_at)
        return s->fail_code;
    ck_assert_ptr_nonnull(data);
    if (s->len + len + 1 > s->cap) {
        size_t cap = (s->len + len + 1) * 2;
        char *p = realloc(s->data, cap);
        ck_assert_ptr_nonnull(p);
        s->data = p;
        s->cap = cap;
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    s->data[s->len] = '\0';
    return 0;
}

static const orderly_machine *machine_named(const char *name)
{
    const orderly_machine *m = NULL;

    ck_assert_int_eq(orderly_machine_by_name(&m, name), ORDERLY_OK);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* The whole export through the callback; the caller frees the result. */
static char *export_all(const orderly_machine *m, int format, size_t *len_out)
{
    sink s;

    memset(&s, 0, sizeof s);
    ck_assert_int_eq(orderly_graph_export(m, format, sink_write, &s, NULL), ORDERLY_OK);
    ck_assert_ptr_nonnull(s.data);
    ck_assert_int_gt(s.calls, 0);
    ck_assert_uint_eq(strlen(s.data), s.len);
    *len_out = s.len;
    return s.data;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    const char *p = hay;

    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

/* "event" or "event [guard]", as both text formats label an edge. */
static void row_label(char *buf, size_t cap, const orderly_machine *m, const orderly_transition *t)
{
    if (t->guard == ORDERLY_GUARD_NONE)
        snprintf(buf, cap, "%s", orderly_machine_event_name(m, t->event));
    else
        snprintf(buf, cap, "%s [%s]", orderly_machine_event_name(m, t->event),
                 orderly_guard_name(t->guard));
}

/* ---- both paths agree, and the buffer form sizes exactly -------------------- */

START_TEST(export_buf_sizes)
{
    const orderly_machine *m = machine_named(machine_names[_i]);
    size_t f;

    for (f = 0; f < COUNT_OF(formats); f++) {
        orderly_ctx *ctx = NULL;
        size_t len = 0, need = 0, got = 0;
        char *cb = export_all(m, formats[f], &len);
        char *buf;

        ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), ORDERLY_OK);
        ck_assert_uint_gt(len, 0);
        ck_assert_int_eq(cb[len - 1], '\n');

        /* size query */
        ck_assert_int_eq(orderly_graph_export_buf(NULL, 0, &need, m, formats[f], ctx),
                         ORDERLY_EBUFSIZE);
        ck_assert_uint_eq(need, len);
        ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_EBUFSIZE);

        /* exactly the length plus the NUL */
        buf = malloc(need + 1);
        ck_assert_ptr_nonnull(buf);
        memset(buf, '#', need + 1);
        ck_assert_int_eq(orderly_graph_export_buf(buf, need + 1, &got, m, formats[f], ctx),
                         ORDERLY_OK);
        ck_assert_uint_eq(got, len);
        ck_assert_int_eq(buf[need], '\0');
        ck_assert_int_eq(memcmp(buf, cb, len), 0);

        /* one byte short: the NUL would not fit */
        got = 0;
        ck_assert_int_eq(orderly_graph_export_buf(buf, need, &got, m, formats[f], ctx),
                         ORDERLY_EBUFSIZE);
        ck_assert_uint_eq(got, len);
        got = 0;
        ck_assert_int_eq(orderly_graph_export_buf(buf, 1, &got, m, formats[f], NULL),
                         ORDERLY_EBUFSIZE);
        ck_assert_uint_eq(got, len);

        free(buf);
        free(cb);
        orderly_ctx_free(ctx);
    }
}
END_TEST

START_TEST(export_deterministic)
{
    const orderly_machine *m = machine_named(machine_names[_i]);
    size_t f;

    for (f = 0; f < COUNT_OF(formats); f++) {
        size_t a_len = 0, b_len = 0;
        char *a = export_all(m, formats[f], &a_len);
        char *b = export_all(m, formats[f], &b_len);

        ck_assert_uint_eq(a_len, b_len);
        ck_assert_str_eq(a, b);
        free(a);
        free(b);
    }
}
END_TEST

/* ---- DOT ------------------------------------------------------------------------ */

START_TEST(dot_has_every_row)
{
    const orderly_machine *m = machine_named(machine_names[_i]);
    size_t len = 0;
    char *out = export_all(m, ORDERLY_GRAPH_DOT, &len);
    char head[64], line[256], l[128];
    int i, n = orderly_machine_transition_count(m);

    snprintf(head, sizeof head, "digraph %s {\n", machine_names[_i]);
    ck_assert_int_eq(strncmp(out, head, strlen(head)), 0);
    ck_assert_ptr_nonnull(strstr(out, "}\n"));
    ck_assert_str_eq(out + len - 2, "}\n");
    snprintf(line, sizeof line, "__start -> %s;",
             orderly_machine_state_name(m, orderly_machine_initial(m)));
    ck_assert_ptr_nonnull(strstr(out, line));

    for (i = 0; i < n; i++) {
        orderly_transition t;

        ck_assert_int_eq(orderly_machine_transition_at(&t, m, i), ORDERLY_OK);
        row_label(l, sizeof l, m, &t);
        snprintf(line, sizeof line, "%s -> %s [label=\"%s\"];\n",
                 orderly_machine_state_name(m, t.from), orderly_machine_state_name(m, t.to), l);
        ck_assert_msg(strstr(out, line) != NULL, "DOT for %s lacks: %s", machine_names[_i], line);
    }
    /* one edge per row, plus the start arrow */
    ck_assert_uint_eq(count_of(out, " -> "), (size_t)n + 1);
    ck_assert_uint_eq(count_of(out, "[label=\""), (size_t)n);
    for (i = 1; i < orderly_machine_state_limit(m); i++) {
        snprintf(line, sizeof line, "    %s [peripheries=2];\n", orderly_machine_state_name(m, i));
        ck_assert_int_eq(strstr(out, line) != NULL, orderly_machine_is_terminal(m, i));
    }
    free(out);
}
END_TEST

/* ---- Mermaid -------------------------------------------------------------------- */

START_TEST(mermaid_has_every_row)
{
    const orderly_machine *m = machine_named(machine_names[_i]);
    size_t len = 0, terminals = 0;
    char *out = export_all(m, ORDERLY_GRAPH_MERMAID, &len);
    char line[256], l[128];
    int i, n = orderly_machine_transition_count(m);

    ck_assert_int_eq(strncmp(out, "stateDiagram-v2\n", 16), 0);
    snprintf(line, sizeof line, "[*] --> %s\n",
             orderly_machine_state_name(m, orderly_machine_initial(m)));
    ck_assert_ptr_nonnull(strstr(out, line));
    for (i = 0; i < n; i++) {
        orderly_transition t;

        ck_assert_int_eq(orderly_machine_transition_at(&t, m, i), ORDERLY_OK);
        row_label(l, sizeof l, m, &t);
        snprintf(line, sizeof line, "%s --> %s: %s\n", orderly_machine_state_name(m, t.from),
                 orderly_machine_state_name(m, t.to), l);
        ck_assert_msg(strstr(out, line) != NULL, "Mermaid for %s lacks: %s", machine_names[_i],
                      line);
    }
    for (i = 1; i < orderly_machine_state_limit(m); i++) {
        snprintf(line, sizeof line, "    %s --> [*]\n", orderly_machine_state_name(m, i));
        ck_assert_int_eq(strstr(out, line) != NULL, orderly_machine_is_terminal(m, i));
        terminals += (size_t)orderly_machine_is_terminal(m, i);
    }
    ck_assert_uint_eq(count_of(out, " --> "), (size_t)n + 1 + terminals);
    free(out);
}
END_TEST

/* ---- JSON ----------------------------------------------------------------------- */

static const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    ck_assert_msg(json_is_string(v), "key '%s' is not a string", key);
    return json_string_value(v);
}

START_TEST(json_parses_and_counts)
{
    const orderly_machine *m = machine_named(machine_names[_i]);
    size_t len = 0, k;
    char *out = export_all(m, ORDERLY_GRAPH_JSON, &len);
    json_error_t err;
    json_t *root = json_loads(out, 0, &err), *states, *events, *rows;
    int i, n = orderly_machine_transition_count(m);

    ck_assert_msg(root != NULL, "JSON for %s does not parse: %s (line %d)", machine_names[_i],
                  err.text, err.line);
    ck_assert(json_is_object(root));
    ck_assert_str_eq(jstr(root, "machine"), machine_names[_i]);
    ck_assert(json_is_integer(json_object_get(root, "id")));
    ck_assert_int_eq(json_integer_value(json_object_get(root, "id")), orderly_machine_get_id(m));
    ck_assert_str_eq(jstr(root, "initial"),
                     orderly_machine_state_name(m, orderly_machine_initial(m)));

    states = json_object_get(root, "states");
    events = json_object_get(root, "events");
    rows = json_object_get(root, "transitions");
    ck_assert(json_is_array(states));
    ck_assert(json_is_array(events));
    ck_assert(json_is_array(rows));
    ck_assert_uint_eq(json_array_size(states), (size_t)(orderly_machine_state_limit(m) - 1));
    ck_assert_uint_eq(json_array_size(events),
                      (size_t)(orderly_machine_event_limit(m) - ORDERLY_EVENT_FIRST));
    ck_assert_uint_eq(json_array_size(rows), (size_t)n);

    for (k = 0; k < json_array_size(states); k++) {
        json_t *s = json_array_get(states, k);
        int id = (int)json_integer_value(json_object_get(s, "id"));

        ck_assert_str_eq(jstr(s, "name"), orderly_machine_state_name(m, id));
        ck_assert(json_is_boolean(json_object_get(s, "terminal")));
        ck_assert_int_eq(json_is_true(json_object_get(s, "terminal")),
                         orderly_machine_is_terminal(m, id));
        ck_assert_str_eq(jstr(s, "timer"),
                         orderly_timer_name(orderly_machine_state_timer(m, id)));
    }
    for (k = 0; k < json_array_size(events); k++) {
        json_t *e = json_array_get(events, k);
        int id = (int)json_integer_value(json_object_get(e, "id"));

        ck_assert_int_ge(id, ORDERLY_EVENT_FIRST);
        ck_assert_str_eq(jstr(e, "name"), orderly_machine_event_name(m, id));
    }
    for (i = 0; i < n; i++) {
        json_t *r = json_array_get(rows, (size_t)i), *fx;
        orderly_transition t;
        int j;

        ck_assert_int_eq(orderly_machine_transition_at(&t, m, i), ORDERLY_OK);
        ck_assert_str_eq(jstr(r, "from"), orderly_machine_state_name(m, t.from));
        ck_assert_str_eq(jstr(r, "event"), orderly_machine_event_name(m, t.event));
        ck_assert_str_eq(jstr(r, "guard"), orderly_guard_name(t.guard));
        ck_assert_str_eq(jstr(r, "to"), orderly_machine_state_name(m, t.to));
        fx = json_object_get(r, "effects");
        ck_assert(json_is_array(fx));
        ck_assert_uint_eq(json_array_size(fx), t.n_effects);
        for (j = 0; j < t.n_effects; j++)
            ck_assert_str_eq(json_string_value(json_array_get(fx, (size_t)j)),
                             orderly_effect_name(t.effects[j]));
    }
    json_decref(root);
    free(out);
}
END_TEST

/* ---- writer failures ------------------------------------------------------------- */

START_TEST(writer_failure_stops)
{
    static const int codes[] = { ORDERLY_EUSER, ORDERLY_ESTORAGE, ORDERLY_ENOMEM, -1000 };
    const orderly_machine *m = machine_named(machine_names[_i]);
    size_t f, c;
    int at;

    for (f = 0; f < COUNT_OF(formats); f++) {
        for (c = 0; c < COUNT_OF(codes); c++) {
            for (at = 1; at <= 3; at++) {
                orderly_ctx *ctx = NULL;
                sink s;

                memset(&s, 0, sizeof s);
                s.fail_at = at;
                s.fail_code = codes[c];
                ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), ORDERLY_OK);
                ck_assert_int_eq(orderly_graph_export(m, formats[f], sink_write, &s, ctx),
                                 codes[c]);
                ck_assert_int_eq(s.calls, at);
                ck_assert_int_eq(s.after_fail, 0);
                ck_assert_int_eq(orderly_ctx_errcode(ctx), codes[c]);
                free(s.data);
                orderly_ctx_free(ctx);
            }
        }
    }
}
END_TEST

START_TEST(writer_failure_on_last_chunk)
{
    const orderly_machine *m = machine_named(machine_names[_i]);
    size_t f;

    for (f = 0; f < COUNT_OF(formats); f++) {
        sink s;
        int total;

        memset(&s, 0, sizeof s);
        ck_assert_int_eq(orderly_graph_export(m, formats[f], sink_write, &s, NULL), ORDERLY_OK);
        total = s.calls;
        free(s.data);

        memset(&s, 0, sizeof s);
        s.fail_at = total;
        s.fail_code = ORDERLY_ETRANSPORT;
        ck_assert_int_eq(orderly_graph_export(m, formats[f], sink_write, &s, NULL),
                         ORDERLY_ETRANSPORT);
        ck_assert_int_eq(s.calls, total);
        free(s.data);
    }
}
END_TEST

/* ---- bad arguments ----------------------------------------------------------------- */

START_TEST(bad_format_and_arguments)
{
    const orderly_machine *m = machine_named("order");
    static const int bad[] = { 0, 4, -1, 100 };
    orderly_ctx *ctx = NULL;
    char buf[16];
    size_t i, len = 12345;
    sink s;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), ORDERLY_OK);
    memset(&s, 0, sizeof s);
    for (i = 0; i < COUNT_OF(bad); i++) {
        ck_assert_int_eq(orderly_graph_export(m, bad[i], sink_write, &s, ctx), ORDERLY_EINVAL);
        ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_EINVAL);
        ck_assert_int_eq(orderly_graph_export_buf(buf, sizeof buf, &len, m, bad[i], NULL),
                         ORDERLY_EINVAL);
        ck_assert_int_eq(orderly_graph_export_buf(NULL, 0, &len, m, bad[i], NULL),
                         ORDERLY_EINVAL);
    }
    ck_assert_int_eq(s.calls, 0); /* an error return means no callback */
    ck_assert_uint_eq(len, 12345);
    ck_assert_int_eq(orderly_graph_export(NULL, ORDERLY_GRAPH_DOT, sink_write, &s, NULL),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_graph_export(m, ORDERLY_GRAPH_DOT, NULL, &s, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(s.calls, 0);
    ck_assert_int_eq(orderly_graph_export_buf(buf, sizeof buf, NULL, m, ORDERLY_GRAPH_DOT, NULL),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_graph_export_buf(NULL, 10, &len, m, ORDERLY_GRAPH_DOT, NULL),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_graph_export_buf(buf, sizeof buf, &len, NULL, ORDERLY_GRAPH_DOT,
                                              NULL),
                     ORDERLY_EINVAL);
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(format_by_name)
{
    static const char *const unknown[] = { "", "DOT", "Mermaid", "svg", "json ", "graphviz" };
    int f = -1;
    size_t i;

    ck_assert_int_eq(ORDERLY_GRAPH_DOT, 1);
    ck_assert_int_eq(ORDERLY_GRAPH_MERMAID, 2);
    ck_assert_int_eq(ORDERLY_GRAPH_JSON, 3);
    ck_assert_int_eq(orderly_graph_format_by_name(&f, "dot"), ORDERLY_OK);
    ck_assert_int_eq(f, ORDERLY_GRAPH_DOT);
    ck_assert_int_eq(orderly_graph_format_by_name(&f, "mermaid"), ORDERLY_OK);
    ck_assert_int_eq(f, ORDERLY_GRAPH_MERMAID);
    ck_assert_int_eq(orderly_graph_format_by_name(&f, "json"), ORDERLY_OK);
    ck_assert_int_eq(f, ORDERLY_GRAPH_JSON);
    f = -1;
    for (i = 0; i < COUNT_OF(unknown); i++)
        ck_assert_int_eq(orderly_graph_format_by_name(&f, unknown[i]), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(f, -1);
    ck_assert_int_eq(orderly_graph_format_by_name(&f, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_graph_format_by_name(NULL, "dot"), ORDERLY_EINVAL);
}
END_TEST

/* ---- the choreography view ------------------------------------------------------- */

static char *export_choreography(int format, size_t *len_out)
{
    sink s;

    memset(&s, 0, sizeof s);
    ck_assert_int_eq(orderly_graph_export_choreography(format, sink_write, &s, NULL), ORDERLY_OK);
    ck_assert_ptr_nonnull(s.data);
    ck_assert_int_eq(s.data[s.len - 1], '\n');
    *len_out = s.len;
    return s.data;
}

static size_t edges(void)
{
    size_t i, n = 0;

    for (i = 0; i < orderly__n_reactions; i++)
        n += orderly__reactions[i].target != 0;
    return n;
}

/* Every reaction that reaches another machine is one edge, from its
 * source to its target, and the event it sends is on that edge. */
START_TEST(choreography_text_has_every_reaction)
{
    static const struct { int format; const char *arrow; } views[] = {
        { ORDERLY_GRAPH_DOT, " -> " },
        { ORDERLY_GRAPH_MERMAID, " -->|" },
    };
    size_t v, i, len;

    for (v = 0; v < COUNT_OF(views); v++) {
        char *out = export_choreography(views[v].format, &len);
        ck_assert_uint_eq(count_of(out, views[v].arrow), edges());
        for (i = 0; i < orderly__n_reactions; i++) {
            const struct orderly__reaction *r = &orderly__reactions[i];
            const orderly_machine *src = orderly__machines[r->source], *tgt;
            char head[160], *at;
            if (r->target == 0)
                continue;
            tgt = orderly__machines[r->target];
            if (views[v].format == ORDERLY_GRAPH_DOT)
                snprintf(head, sizeof head, "    %s -> %s [label=\"%s", src->name, tgt->name,
                         orderly_effect_name(r->effect));
            else
                snprintf(head, sizeof head, "    %s -->|\"%s", src->name,
                         orderly_effect_name(r->effect));
            at = strstr(out, head);
            ck_assert_msg(at != NULL, "reaction %zu: no edge starting '%s'", i, head);
            if (r->select == ORDERLY__SEL_ONLY)
                ck_assert_ptr_nonnull(strstr(at, r->op != 0 ? orderly_op_name(r->op) : "_"));
            else
                ck_assert_ptr_nonnull(strstr(at, tgt->events[r->event]));
        }
        free(out);
    }
}
END_TEST

static const char *jstr_or_null(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    ck_assert_msg(v != NULL, "no key '%s'", key);
    return json_is_null(v) ? NULL : json_string_value(v);
}

/* The JSON lists every reaction row in table order, declared nones
 * included, and every machine's states with their declared attributes. */
START_TEST(choreography_json_matches_table)
{
    json_error_t err;
    json_t *root, *rows, *machines, *states;
    size_t i, len;
    char *out = export_choreography(ORDERLY_GRAPH_JSON, &len);
    int m;

    root = json_loads(out, 0, &err);
    ck_assert_msg(root != NULL, "json: %s", err.text);
    ck_assert_str_eq(jstr_or_null(root, "view"), "choreography");
    rows = json_object_get(root, "reactions");
    ck_assert_uint_eq(json_array_size(rows), orderly__n_reactions);
    for (i = 0; i < orderly__n_reactions; i++) {
        const struct orderly__reaction *r = &orderly__reactions[i];
        const orderly_machine *src = orderly__machines[r->source];
        json_t *j = json_array_get(rows, i);
        ck_assert_str_eq(jstr_or_null(j, "source"), src->name);
        ck_assert_str_eq(jstr_or_null(j, "why"), r->why);
        if (r->state != 0)
            ck_assert_str_eq(jstr_or_null(j, "state"), src->states[r->state].name);
        else
            ck_assert_ptr_null(jstr_or_null(j, "state"));
        if (r->target == 0) {
            ck_assert_ptr_null(jstr_or_null(j, "target"));
            continue;
        }
        ck_assert_str_eq(jstr_or_null(j, "target"), orderly__machines[r->target]->name);
        if (r->select == ORDERLY__SEL_ONLY)
            ck_assert_ptr_null(jstr_or_null(j, "event"));
        else
            ck_assert_str_eq(jstr_or_null(j, "event"), orderly__machines[r->target]->events[r->event]);
        ck_assert_str_eq(jstr_or_null(j, "effect"), orderly_effect_name(r->effect));
        if (r->op != 0)
            ck_assert_str_eq(jstr_or_null(j, "op"), orderly_op_name(r->op));
    }
    machines = json_object_get(root, "machines");
    ck_assert_uint_eq(json_array_size(machines), ORDERLY_MACHINE_COUNT);
    for (m = ORDERLY_MACHINE_ORDER; m <= ORDERLY_MACHINE_COUNT; m++) {
        json_t *j = json_array_get(machines, (size_t)m - 1);
        ck_assert_str_eq(jstr_or_null(j, "machine"), orderly__machines[m]->name);
        states = json_object_get(j, "states");
        ck_assert_uint_eq(json_array_size(states), (size_t)orderly__machines[m]->n_states - 1);
    }
    /* a reservation's active stock is held; a delivered shipment counts as delivered */
    states = json_object_get(json_array_get(machines, ORDERLY_MACHINE_RESERVATION - 1), "states");
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(json_array_get(states, 0), "attributes"), 0)),
                     "held");
    ck_assert_ptr_nonnull(strstr(out, "\"delivered\""));
    json_decref(root);
    free(out);
}
END_TEST

/* The buffer form agrees with the stream, sizes exactly, and a writer's
 * failure stops the export with its code. */
START_TEST(choreography_buf_and_failures)
{
    size_t f, len, need = 0, got = 0;

    for (f = 0; f < COUNT_OF(formats); f++) {
        char *cb = export_choreography(formats[f], &len), *buf;
        orderly_ctx *ctx = NULL;
        sink s;

        ck_assert_int_eq(orderly_graph_export_choreography_buf(NULL, 0, &need, formats[f], NULL),
                         ORDERLY_EBUFSIZE);
        ck_assert_uint_eq(need, len);
        buf = malloc(need + 1);
        ck_assert_ptr_nonnull(buf);
        ck_assert_int_eq(orderly_graph_export_choreography_buf(buf, need + 1, &got, formats[f],
                                                               NULL),
                         ORDERLY_OK);
        ck_assert_uint_eq(got, len);
        ck_assert_str_eq(buf, cb);

        memset(&s, 0, sizeof s);
        s.fail_at = 2;
        s.fail_code = ORDERLY_EUSER;
        ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), ORDERLY_OK);
        ck_assert_int_eq(orderly_graph_export_choreography(formats[f], sink_write, &s, ctx),
                         ORDERLY_EUSER);
        ck_assert_int_eq(s.after_fail, 0);
        ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "choreography"));
        orderly_ctx_free(ctx);
        free(s.data);
        free(buf);
        free(cb);
    }
    ck_assert_int_eq(orderly_graph_export_choreography(0, sink_write, NULL, NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_graph_export_choreography(ORDERLY_GRAPH_DOT, NULL, NULL, NULL),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_graph_export_choreography_buf(NULL, 0, NULL, ORDERLY_GRAPH_DOT, NULL),
                     ORDERLY_EINVAL);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------- */

static Suite *graph_suite(void)
{
    Suite *s = suite_create("graph");

    orderly_test_loop(s, export_buf_sizes, 0, (int)COUNT_OF(machine_names), UNIT_TIMEOUT);
    orderly_test_loop(s, export_deterministic, 0, (int)COUNT_OF(machine_names), UNIT_TIMEOUT);
    orderly_test_loop(s, dot_has_every_row, 0, (int)COUNT_OF(machine_names), UNIT_TIMEOUT);
    orderly_test_loop(s, mermaid_has_every_row, 0, (int)COUNT_OF(machine_names), UNIT_TIMEOUT);
    orderly_test_loop(s, json_parses_and_counts, 0, (int)COUNT_OF(machine_names), UNIT_TIMEOUT);
    orderly_test_loop(s, writer_failure_stops, 0, (int)COUNT_OF(machine_names), UNIT_TIMEOUT);
    orderly_test_loop(s, writer_failure_on_last_chunk, 0, (int)COUNT_OF(machine_names), UNIT_TIMEOUT);
    orderly_test_case(s, bad_format_and_arguments, UNIT_TIMEOUT);
    orderly_test_case(s, format_by_name, UNIT_TIMEOUT);
    orderly_test_case(s, choreography_text_has_every_reaction, UNIT_TIMEOUT);
    orderly_test_case(s, choreography_json_matches_table, UNIT_TIMEOUT);
    orderly_test_case(s, choreography_buf_and_failures, UNIT_TIMEOUT);
    return s;
}

int main(void)
{
    Suite *suites[] = { graph_suite(), NULL };

    return unit_run(suites);
}
