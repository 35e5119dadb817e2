/*
 * Exporters. DOT and Mermaid are line-oriented text built in a small stack
 * buffer; JSON goes through jansson so quoting is never hand-rolled.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "../base/ctx.h"
#include "../base/json.h"
#include "orderly/graph.h"
#include "table.h"

struct out {
    orderly_writer_cb write;
    void *user_data;
    int rc;
};

static void emit(struct out *o, const char *fmt, ...) ORDERLY__PRINTF(2, 3);

static void emit(struct out *o, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    if (o->rc < 0)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        o->rc = ORDERLY_ERROR;
        return;
    }
    o->rc = o->write(line, (size_t)n, o->user_data);
    if (o->rc > 0)
        o->rc = ORDERLY_OK;
}

/* "event" or "event [guard]" */
static void label(char *buf, size_t cap, const orderly_machine *m, const struct orderly__row *r)
{
    if (r->guard == ORDERLY_GUARD_NONE)
        snprintf(buf, cap, "%s", m->events[r->event]);
    else
        snprintf(buf, cap, "%s [%s]", m->events[r->event], orderly_guard_name(r->guard));
}

static void export_dot(struct out *o, const orderly_machine *m)
{
    char l[128];
    int i;

    emit(o, "digraph %s {\n", m->name);
    emit(o, "    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    emit(o, "    edge [fontname=\"Helvetica\", fontsize=10];\n");
    emit(o, "    __start [shape=point, label=\"\"];\n");
    emit(o, "    __start -> %s;\n", m->states[m->initial].name);
    for (i = 1; i < m->n_states; i++)
        if (m->states[i].terminal)
            emit(o, "    %s [peripheries=2];\n", m->states[i].name);
    for (i = 0; i < m->n_rows; i++) {
        label(l, sizeof l, m, &m->rows[i]);
        emit(o, "    %s -> %s [label=\"%s\"];\n", m->states[m->rows[i].from].name,
             m->states[m->rows[i].to].name, l);
    }
    emit(o, "}\n");
}

static void export_mermaid(struct out *o, const orderly_machine *m)
{
    char l[128];
    int i;

    emit(o, "stateDiagram-v2\n");
    emit(o, "    [*] --> %s\n", m->states[m->initial].name);
    for (i = 0; i < m->n_rows; i++) {
        label(l, sizeof l, m, &m->rows[i]);
        emit(o, "    %s --> %s: %s\n", m->states[m->rows[i].from].name,
             m->states[m->rows[i].to].name, l);
    }
    for (i = 1; i < m->n_states; i++)
        if (m->states[i].terminal)
            emit(o, "    %s --> [*]\n", m->states[i].name);
}

static int json_add(json_t *obj, const char *key, json_t *value)
{
    return json_object_set_new(obj, key, value);
}

static json_t *machine_json(const orderly_machine *m)
{
    json_t *root = json_object(), *states = json_array(), *events = json_array();
    json_t *rows = json_array();
    int i, k, bad = 0;

    if (root == NULL || states == NULL || events == NULL || rows == NULL) {
        json_decref(root);
        json_decref(states);
        json_decref(events);
        json_decref(rows);
        return NULL;
    }
    bad |= json_add(root, "machine", json_string(m->name));
    bad |= json_add(root, "id", json_integer(m->id));
    bad |= json_add(root, "initial", json_string(m->states[m->initial].name));
    bad |= json_add(root, "states", states);
    bad |= json_add(root, "events", events);
    bad |= json_add(root, "transitions", rows);
    for (i = 1; i < m->n_states && !bad; i++) {
        json_t *s = json_object();
        bad |= s == NULL;
        bad |= json_add(s, "id", json_integer(i));
        bad |= json_add(s, "name", json_string(m->states[i].name));
        bad |= json_add(s, "terminal", json_boolean(m->states[i].terminal));
        bad |= json_add(s, "rank", json_integer(m->states[i].rank));
        bad |= json_add(s, "timer", json_string(orderly_timer_name(m->states[i].timer)));
        bad |= json_array_append_new(states, s);
    }
    for (i = ORDERLY_EVENT_FIRST; i < m->n_events && !bad; i++) {
        json_t *e = json_object();
        bad |= e == NULL;
        bad |= json_add(e, "id", json_integer(i));
        bad |= json_add(e, "name", json_string(m->events[i]));
        bad |= json_array_append_new(events, e);
    }
    for (i = 0; i < m->n_rows && !bad; i++) {
        const struct orderly__row *r = &m->rows[i];
        json_t *t = json_object(), *fx = json_array();
        bad |= t == NULL || fx == NULL;
        bad |= json_add(t, "from", json_string(m->states[r->from].name));
        bad |= json_add(t, "event", json_string(m->events[r->event]));
        bad |= json_add(t, "guard", json_string(orderly_guard_name(r->guard)));
        bad |= json_add(t, "to", json_string(m->states[r->to].name));
        for (k = 0; k < ORDERLY_EFFECT_MAX && r->effects[k] != ORDERLY_EFFECT_NONE; k++)
            bad |= json_array_append_new(fx, json_string(orderly_effect_name(r->effects[k])));
        bad |= json_add(t, "effects", fx);
        bad |= json_array_append_new(rows, t);
    }
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static int json_writer(const char *buffer, size_t size, void *data)
{
    struct out *o = data;

    if (o->rc < 0)
        return -1;
    o->rc = o->write(buffer, size, o->user_data);
    if (o->rc > 0)
        o->rc = ORDERLY_OK;
    return o->rc < 0 ? -1 : 0;
}

static int export_json(struct out *o, const orderly_machine *m)
{
    json_t *root = machine_json(m);
    int rc;

    if (root == NULL)
        return ORDERLY_ENOMEM;
    rc = json_dump_callback(root, json_writer, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (o->rc < 0)
        return o->rc;
    if (rc != 0)
        return ORDERLY_ENOMEM;
    emit(o, "\n");
    return o->rc;
}

int orderly_graph_format_by_name(int *out, const char *name)
{
    if (out == NULL || name == NULL)
        return ORDERLY_EINVAL;
    if (strcmp(name, "dot") == 0)
        *out = ORDERLY_GRAPH_DOT;
    else if (strcmp(name, "mermaid") == 0)
        *out = ORDERLY_GRAPH_MERMAID;
    else if (strcmp(name, "json") == 0)
        *out = ORDERLY_GRAPH_JSON;
    else
        return ORDERLY_ENOTFOUND;
    return ORDERLY_OK;
}

int orderly_graph_export(const orderly_machine *m, int format, orderly_writer_cb write,
                         void *user_data, orderly_ctx *ctx)
{
    struct out o = { write, user_data, ORDERLY_OK };

    if (m == NULL || write == NULL)
        return orderly__fail(ctx, ORDERLY_EINVAL, "machine and writer are required");
    switch (format) {
    case ORDERLY_GRAPH_DOT:
        export_dot(&o, m);
        break;
    case ORDERLY_GRAPH_MERMAID:
        export_mermaid(&o, m);
        break;
    case ORDERLY_GRAPH_JSON: {
        const orderly_allocator *previous = orderly__json_enter(ctx != NULL ? &ctx->alloc : NULL);
        o.rc = export_json(&o, m);
        orderly__json_leave(previous);
        break;
    }
    default:
        return orderly__fail(ctx, ORDERLY_EINVAL, "unknown graph format %d", format);
    }
    if (o.rc < 0)
        return orderly__fail(ctx, o.rc, "export of machine '%s' stopped: %s", m->name,
                             orderly_strerror(o.rc));
    return ORDERLY_OK;
}

struct buf {
    char *data;
    size_t cap;
    size_t len;
};

static int buf_write(const char *data, size_t len, void *user_data)
{
    struct buf *b = user_data;

    if (b->len + len < b->cap)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    return ORDERLY_OK;
}

int orderly_graph_export_buf(char *buf, size_t cap, size_t *len_out, const orderly_machine *m,
                             int format, orderly_ctx *ctx)
{
    struct buf b = { buf, cap, 0 };
    int rc;

    if (len_out == NULL || (buf == NULL && cap > 0))
        return orderly__fail(ctx, ORDERLY_EINVAL, "len_out is required, and buf when cap > 0");
    if ((rc = orderly_graph_export(m, format, buf_write, &b, ctx)) < 0)
        return rc;
    *len_out = b.len;
    if (b.len >= cap)
        return orderly__fail(ctx, ORDERLY_EBUFSIZE, "export needs %zu bytes, buffer has %zu",
                             b.len + 1, cap);
    buf[b.len] = '\0';
    return ORDERLY_OK;
}
