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
#include "orderly/compensation.h"
#include "orderly/graph.h"
#include "reactions.h"
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

/* Dumps root (NULL: out of memory while building it) and frees it. */
static int export_json(struct out *o, json_t *root)
{
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

/* ---- the choreography: the machines and the reactions between them ---- */

/* Names of the reaction columns, indexed by their ORDERLY__SEL_, _AMT_ and
 * _WHEN_ values; the JSON export and doc/choreography.md use them. */
static const char *const select_names[] = {
    [ORDERLY__SEL_NONE] = "none",       [ORDERLY__SEL_OWNER] = "owner",
    [ORDERLY__SEL_PARENT] = "parent",   [ORDERLY__SEL_EVERY] = "every",
    [ORDERLY__SEL_NEW] = "new",         [ORDERLY__SEL_HELD] = "held",
    [ORDERLY__SEL_HELD_HERE] = "held_here", [ORDERLY__SEL_ONLY] = "only",
    [ORDERLY__SEL_BOOKED] = "booked",
};
static const char *const amount_names[] = {
    [ORDERLY__AMT_NONE] = "none",
    [ORDERLY__AMT_PART] = "part",
    [ORDERLY__AMT_OUTSTANDING] = "outstanding",
    [ORDERLY__AMT_TOTAL] = "total",
    [ORDERLY__AMT_AUTHORIZED] = "authorized",
    [ORDERLY__AMT_EVENT] = "event",
    [ORDERLY__AMT_REMAINDER] = "remainder",
    [ORDERLY__AMT_CARRIED] = "carried",
};
static const char *const signal_names[] = {
    [ORDERLY__SIG_NONE] = "none",
    [ORDERLY__SIG_STOCK_COMMITTED] = "stock_committed",
    [ORDERLY__SIG_CAPTURE_REQUESTED] = "capture_requested",
};
static const char *const when_names[] = {
    [ORDERLY__WHEN_ALWAYS] = "always",
    [ORDERLY__WHEN_DEFER] = "defer",
    [ORDERLY__WHEN_DEFERRED] = "deferred",
    [ORDERLY__WHEN_STAYED] = "stayed",
};

/* ORDERLY__ST_* bits in bit order. */
static const char *const attr_names[] = {
    "held", "dropped", "shipped", "delivered", "withdrawn", "given_back", "returnable",
    "closed_undelivered", "capturing", "uncaptured", "cod_claim", "lost", "back_at_origin",
    "received", "booked", "written_off", "settled", "order_bound",
};

/* A column value's name; the reaction table is validated at engine open,
 * so "?" only shows a table that an engine would refuse. */
static const char *column(const char *const *names, size_t n, unsigned v)
{
    return v < n && names[v] != NULL ? names[v] : "?";
}
#define COLUMN(names, v) column(names, sizeof names / sizeof names[0], (v))

static const orderly_machine *machine_of(int id)
{
    return id >= ORDERLY_MACHINE_ORDER && id <= ORDERLY_MACHINE_COUNT ? orderly__machines[id] : NULL;
}

/* The target's event; a row that fires none says what it does instead:
 * the operation it records, else the signal it emits. */
static const char *event_of(const struct orderly__reaction *r)
{
    const orderly_machine *t = machine_of(r->target);

    if (r->select == ORDERLY__SEL_ONLY)
        return r->op != 0 ? orderly_op_name(r->op) : COLUMN(signal_names, r->emit);

    return t != NULL && r->event < t->n_events && t->events[r->event] != NULL ? t->events[r->event] : "?";
}

/* The reaction rows that reach another machine; declared nones are not
 * edges (the JSON lists them). */
static int is_edge(const struct orderly__reaction *r)
{
    return r->target != 0 && machine_of(r->source) != NULL && machine_of(r->target) != NULL;
}

/* "trigger: event", the trigger being the effect, with the source's new
 * state when the reaction names one; then the instances reached when not
 * the one owner or parent, and the timing when not at once. */
static void reaction_label(char *buf, size_t cap, const struct orderly__reaction *r)
{
    const orderly_machine *s = machine_of(r->source);
    int one = r->select == ORDERLY__SEL_OWNER || r->select == ORDERLY__SEL_PARENT;
    int now = r->when == ORDERLY__WHEN_ALWAYS;

    if (r->state != 0)
        snprintf(buf, cap, "%s (%s): %s%s%s%s%s", orderly_effect_name(r->effect),
                 s->states[r->state].name, event_of(r), one ? "" : " ",
                 one ? "" : COLUMN(select_names, r->select), now ? "" : ", ",
                 now ? "" : COLUMN(when_names, r->when));
    else
        snprintf(buf, cap, "%s: %s%s%s%s%s", orderly_effect_name(r->effect), event_of(r),
                 one ? "" : " ", one ? "" : COLUMN(select_names, r->select), now ? "" : ", ",
                 now ? "" : COLUMN(when_names, r->when));
}

static void choreography_dot(struct out *o)
{
    char l[160];
    size_t i;
    int m;

    emit(o, "digraph choreography {\n");
    emit(o, "    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    emit(o, "    edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (m = ORDERLY_MACHINE_ORDER; m <= ORDERLY_MACHINE_COUNT; m++)
        emit(o, "    %s;\n", orderly__machines[m]->name);
    for (i = 0; i < orderly__n_reactions; i++) {
        const struct orderly__reaction *r = &orderly__reactions[i];
        if (!is_edge(r))
            continue;
        reaction_label(l, sizeof l, r);
        emit(o, "    %s -> %s [label=\"%s\"];\n", machine_of(r->source)->name,
             machine_of(r->target)->name, l);
    }
    emit(o, "}\n");
}

static void choreography_mermaid(struct out *o)
{
    char l[160];
    size_t i;

    /* labels are quoted: they hold parentheses and colons */
    emit(o, "flowchart LR\n");
    for (i = 0; i < orderly__n_reactions; i++) {
        const struct orderly__reaction *r = &orderly__reactions[i];
        if (!is_edge(r))
            continue;
        reaction_label(l, sizeof l, r);
        emit(o, "    %s -->|\"%s\"| %s\n", machine_of(r->source)->name, l,
             machine_of(r->target)->name);
    }
}

static json_t *attrs_json(unsigned attrs)
{
    json_t *a = json_array();
    size_t b;

    for (b = 0; b < sizeof attr_names / sizeof attr_names[0] && a != NULL; b++)
        if ((attrs & (1u << b)) && json_array_append_new(a, json_string(attr_names[b])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *choreography_json(void)
{
    json_t *root = json_object(), *machines = json_array(), *reactions = json_array();
    size_t i;
    int m, st, bad = root == NULL || machines == NULL || reactions == NULL;

    bad |= json_add(root, "view", json_string("choreography"));
    bad |= json_add(root, "machines", machines);
    bad |= json_add(root, "reactions", reactions);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    for (m = ORDERLY_MACHINE_ORDER; m <= ORDERLY_MACHINE_COUNT && !bad; m++) {
        const orderly_machine *mm = orderly__machines[m];
        json_t *j = json_object(), *states = json_array();
        bad |= j == NULL || states == NULL;
        bad |= json_add(j, "machine", json_string(mm->name));
        bad |= json_add(j, "id", json_integer(mm->id));
        bad |= json_add(j, "states", states);
        for (st = 1; st < mm->n_states && !bad; st++) {
            json_t *s = json_object();
            bad |= s == NULL;
            bad |= json_add(s, "name", json_string(mm->states[st].name));
            bad |= json_add(s, "terminal", json_boolean(mm->states[st].terminal));
            bad |= json_add(s, "attributes", attrs_json(mm->states[st].attrs));
            bad |= json_array_append_new(states, s);
        }
        bad |= json_array_append_new(machines, j);
    }
    for (i = 0; i < orderly__n_reactions && !bad; i++) {
        const struct orderly__reaction *r = &orderly__reactions[i];
        const orderly_machine *src = machine_of(r->source);
        json_t *j = json_object();
        bad |= j == NULL || src == NULL;
        if (bad)
            break;
        bad |= json_add(j, "source", json_string(src->name));
        bad |= json_add(j, "state", r->state != 0 ? json_string(src->states[r->state].name) : json_null());
        if (r->target == 0) {
            bad |= json_add(j, "target", json_null());
        } else {
            bad |= json_add(j, "effect", json_string(orderly_effect_name(r->effect)));
            bad |= json_add(j, "target", json_string(machine_of(r->target) != NULL
                                                         ? machine_of(r->target)->name : "?"));
            bad |= json_add(j, "select", json_string(COLUMN(select_names, r->select)));
            bad |= json_add(j, "event", r->select == ORDERLY__SEL_ONLY ? json_null()
                                                                       : json_string(event_of(r)));
            bad |= json_add(j, "emit", r->emit != 0 ? json_string(COLUMN(signal_names, r->emit))
                                                    : json_null());
            bad |= json_add(j, "amount", json_string(COLUMN(amount_names, r->amount)));
            bad |= json_add(j, "when", json_string(COLUMN(when_names, r->when)));
            bad |= json_add(j, "op", r->op != 0 ? json_string(orderly_op_name(r->op)) : json_null());
        }
        bad |= json_add(j, "why", json_string(r->why));
        bad |= json_array_append_new(reactions, j);
    }
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
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

/* Streams one view: machine m, or the choreography when m is NULL. */
static int export_view(const orderly_machine *m, int format, orderly_writer_cb write,
                       void *user_data, orderly_ctx *ctx)
{
    struct out o = { write, user_data, ORDERLY_OK };
    const orderly_allocator *previous;

    if (write == NULL)
        return orderly__fail(ctx, ORDERLY_EINVAL, "a writer is required");
    switch (format) {
    case ORDERLY_GRAPH_DOT:
        if (m != NULL)
            export_dot(&o, m);
        else
            choreography_dot(&o);
        break;
    case ORDERLY_GRAPH_MERMAID:
        if (m != NULL)
            export_mermaid(&o, m);
        else
            choreography_mermaid(&o);
        break;
    case ORDERLY_GRAPH_JSON:
        previous = orderly__json_enter(ctx != NULL ? &ctx->alloc : NULL);
        o.rc = export_json(&o, m != NULL ? machine_json(m) : choreography_json());
        orderly__json_leave(previous);
        break;
    default:
        return orderly__fail(ctx, ORDERLY_EINVAL, "unknown graph format %d", format);
    }
    if (o.rc < 0)
        return orderly__fail(ctx, o.rc, "export of %s '%s' stopped: %s",
                             m != NULL ? "machine" : "view", m != NULL ? m->name : "choreography",
                             orderly_strerror(o.rc));
    return ORDERLY_OK;
}

int orderly_graph_export(const orderly_machine *m, int format, orderly_writer_cb write,
                         void *user_data, orderly_ctx *ctx)
{
    if (m == NULL)
        return orderly__fail(ctx, ORDERLY_EINVAL, "machine and writer are required");
    return export_view(m, format, write, user_data, ctx);
}

int orderly_graph_export_choreography(int format, orderly_writer_cb write, void *user_data,
                                      orderly_ctx *ctx)
{
    return export_view(NULL, format, write, user_data, ctx);
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

static int view_buf(char *buf, size_t cap, size_t *len_out, const orderly_machine *m,
                    int format, orderly_ctx *ctx)
{
    struct buf b = { buf, cap, 0 };
    int rc;

    if (len_out == NULL || (buf == NULL && cap > 0))
        return orderly__fail(ctx, ORDERLY_EINVAL, "len_out is required, and buf when cap > 0");
    if ((rc = export_view(m, format, buf_write, &b, ctx)) < 0)
        return rc;
    *len_out = b.len;
    if (b.len >= cap)
        return orderly__fail(ctx, ORDERLY_EBUFSIZE, "export needs %zu bytes, buffer has %zu",
                             b.len + 1, cap);
    buf[b.len] = '\0';
    return ORDERLY_OK;
}

int orderly_graph_export_buf(char *buf, size_t cap, size_t *len_out, const orderly_machine *m,
                             int format, orderly_ctx *ctx)
{
    if (m == NULL)
        return orderly__fail(ctx, ORDERLY_EINVAL, "a machine is required");
    return view_buf(buf, cap, len_out, m, format, ctx);
}

int orderly_graph_export_choreography_buf(char *buf, size_t cap, size_t *len_out, int format,
                                          orderly_ctx *ctx)
{
    return view_buf(buf, cap, len_out, NULL, format, ctx);
}
