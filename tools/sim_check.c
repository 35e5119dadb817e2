/*
 * What a simulation proves: every published event is consumed as a
 * downstream service would (deduplicated by id, order events replayed
 * against the order machine), and at the end the invariants are checked
 * against the engine's state, the outbox, the compensation queue and the
 * outside world's ledger.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static int state_named(const orderly_machine *m, const char *name)
{
    int id;

    return name != NULL && orderly_machine_state_id(&id, m, name) == 0 ? id : 0;
}

/* Whether the order machine has a row from -> to on event. */
static int has_row(const orderly_machine *m, int from, int event, int to)
{
    orderly_transition t;
    int i, n = orderly_machine_transition_count(m);

    for (i = 0; i < n; i++)
        if (orderly_machine_transition_at(&t, m, i) == 0 && t.from == from && t.event == event &&
            t.to == to)
            return 1;
    return 0;
}

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static void broken(struct sim *s, struct sim_order *o, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void broken(struct sim *s, struct sim_order *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!o->chain_broken)
        s->chains_broken++;
    o->chain_broken = 1;
    if (s->chain_example[0] != '\0')
        return;
    n = snprintf(s->chain_example, sizeof s->chain_example, "%s: ", o->id);
    if (n < 0 || (size_t)n >= sizeof s->chain_example)
        return;
    va_start(ap, fmt);
    vsnprintf(s->chain_example + n, sizeof s->chain_example - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Replays one order event as a consumer would and checks it follows the
 * last one seen. */
static void follow(struct sim *s, const orderly_envelope *env)
{
    const orderly_machine *m;
    struct sim_order *o;
    json_t *d;
    const char *from_s, *to_s, *ev_s;
    int from, to, event = 0;

    if (env->subject == NULL || (o = sim_order_of(s, env->subject)) == NULL ||
        orderly_machine_by_id(&m, ORDERLY_MACHINE_ORDER) < 0)
        return;
    d = json_loadb(env->data != NULL ? env->data : "", env->data_len, 0, NULL);
    from_s = json_string_value(json_object_get(d, "from"));
    to_s = json_string_value(json_object_get(d, "to"));
    ev_s = json_string_value(json_object_get(d, "event"));
    from = state_named(m, from_s);
    to = state_named(m, to_s);
    if (ev_s != NULL && orderly_machine_event_id(&event, m, ev_s) < 0)
        event = 0;
    o->order_events++;
    if (to == 0) {
        broken(s, o, "event %s names no order state (%s)", env->type, to_s != NULL ? to_s : "none");
    } else if (o->seen_state == 0) {
        if (to != orderly_machine_initial(m) && !has_row(m, orderly_machine_initial(m), event, to))
            broken(s, o, "first event moves to %s from %s", to_s, from_s != NULL ? from_s : "nowhere");
    } else if (from != o->seen_state) {
        broken(s, o, "event from %s follows an event that ended in %s", from_s != NULL ? from_s : "?",
               orderly_machine_state_name(m, o->seen_state));
    } else if (from != to && !has_row(m, from, event, to)) {
        broken(s, o, "no transition %s -> %s in the order machine", from_s, to_s);
    }
    if (to != 0)
        o->seen_state = (uint8_t)to;
    json_decref(d);
}

int sim_consume(struct sim *s)
{
    size_t i, n = orderly_memory_transport_count(s->transport);
    orderly_message msg;
    orderly_envelope env;
    orderly_event *ev;
    uint8_t id[16];
    int rc;

    for (i = 0; i < n; i++) {
        if (orderly_memory_transport_get(&msg, s->transport, i) < 0)
            break;
        if ((rc = orderly_event_decode(&ev, msg.data, msg.len, NULL, NULL)) < 0) {
            sim_fail(s, "a published event on %s does not decode (%s)", msg.topic, orderly_error_name(rc));
            continue;
        }
        (void)orderly_event_fields(ev, &env);
        if (strlen(msg.topic) > 4 && strcmp(msg.topic + strlen(msg.topic) - 4, ".dlq") == 0) {
            s->c.dlq_msgs++;
        } else if (env.id == NULL || sim_hex16(id, env.id) < 0) {
            sim_fail(s, "published event id '%s' is not 32 hex digits", env.id != NULL ? env.id : "");
        } else {
            s->c.published_msgs++;
            rc = sim_keyset_add(&s->published, id);
            if (rc < 0) {
                orderly_event_free(ev);
                return rc;
            }
            if (rc == 0) {
                s->c.redelivered_copies++;   /* consumers drop it by id */
            } else {
                s->c.published_distinct++;
                if (env.type != NULL && strncmp(env.type, "order.", 6) == 0 &&
                    (strcmp(env.type, "order.status_changed") == 0 ||
                     strcmp(env.type, "order.cancelled") == 0))
                    follow(s, &env);
            }
        }
        orderly_event_free(ev);
    }
    orderly_memory_transport_clear(s->transport);
    return ORDERLY_OK;
}

/* ---- the end-of-run checks --------------------------------------------------------- */

struct outbox_tally {
    struct sim *s;
    uint64_t rows, done, dead, pending, undelivered, last_id;
    char example[160];
};

static int tally_outbox(const orderly_outbox_view *row, void *user_data)
{
    struct outbox_tally *t = user_data;
    uint8_t id[16];

    t->rows++;
    t->last_id = row->id;
    if (row->state == ORDERLY_ITEM_DONE) {
        t->done++;
        if (sim_hex16(id, row->event_id) < 0 || !sim_keyset_has(&t->s->published, id)) {
            t->undelivered++;
            if (t->example[0] == '\0')
                snprintf(t->example, sizeof t->example, "row %llu (%s of %s) is marked published but no consumer saw it",
                         (unsigned long long)row->id, row->type, row->order_id);
        }
    } else if (row->state == ORDERLY_ITEM_DEAD) {
        t->dead++;
    } else {
        t->pending++;
        if (t->example[0] == '\0')
            snprintf(t->example, sizeof t->example, "row %llu (%s of %s) is still pending",
                     (unsigned long long)row->id, row->type, row->order_id);
    }
    return 0;
}

struct effect_tally {
    struct sim *s;
    uint64_t total, done, dead, unalerted, pending, last_id;
    uint64_t by_op[ORDERLY_OP_CANCEL_COD_CLAIM + 1];
    char example[160];
};

static int tally_effect(const orderly_effect_view *op, void *user_data)
{
    struct effect_tally *t = user_data;
    uint8_t id[16];

    t->total++;
    t->last_id = op->id;
    if (op->op > 0 && op->op <= ORDERLY_OP_CANCEL_COD_CLAIM)
        t->by_op[op->op]++;
    memset(id, 0, sizeof id);
    memcpy(id, &op->id, sizeof op->id);
    if (op->state == ORDERLY_ITEM_DONE) {
        t->done++;
    } else if (op->state == ORDERLY_ITEM_DEAD) {
        t->dead++;
        if (!sim_keyset_has(&t->s->exhausted, id)) {
            t->unalerted++;
            if (t->example[0] == '\0')
                snprintf(t->example, sizeof t->example, "%s %llu of %s exhausted without an alert",
                         orderly_op_name(op->op), (unsigned long long)op->id, op->order_id);
        }
    } else {
        t->pending++;
        if (t->example[0] == '\0')
            snprintf(t->example, sizeof t->example, "%s %llu of %s is neither done nor exhausted",
                     orderly_op_name(op->op), (unsigned long long)op->id, op->order_id);
    }
    return 0;
}

struct check {
    const char *what;
    uint64_t checked, failed;
    char example[256];
};

static void verdict(FILE *out, const struct check *c, int *failures)
{
    fprintf(out, "  %-4s %s (%llu checked", c->failed ? "FAIL" : "ok", c->what,
            (unsigned long long)c->checked);
    if (c->failed)
        fprintf(out, ", %llu failed; e.g. %s", (unsigned long long)c->failed, c->example);
    fputs(")\n", out);
    if (c->failed)
        (*failures)++;
}

static void note(struct check *c, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void note(struct check *c, const char *fmt, ...)
{
    va_list ap;

    c->failed++;
    if (c->example[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(c->example, sizeof c->example, fmt, ap);
    va_end(ap);
}

static void line(FILE *out, const char *label, uint64_t v)
{
    fprintf(out, "  %-34s %10llu\n", label, (unsigned long long)v);
}

int sim_report(struct sim *s, double wall, FILE *out)
{
    struct check explained = { "every order's state is explained by its published events", 0, 0, "" };
    struct check released = { "every cancelled order's reservations are released", 0, 0, "" };
    struct check money = { "captured <= authorized and refunded <= captured, in the engine and at the provider", 0, 0, "" };
    struct check outbox = { "every outbox row is delivered or dead-lettered", 0, 0, "" };
    struct check comp = { "every compensation is done, or exhausted with an alert", 0, 0, "" };
    struct check harness = { "duplicates answered once, events decodable", 0, 0, "" };
    struct outbox_tally ot;
    struct effect_tally et;
    orderly_engine_stats st;
    orderly_health h;
    const orderly_machine *om, *rm;
    uint64_t by_state[32], i;
    int rc, failures = 0, st_id;

    /* the checks read; nothing may fail under them */
    (void)orderly_fault_storage_set_faults(s->storage, NULL);
    memset(by_state, 0, sizeof by_state);
    if (orderly_machine_by_id(&om, ORDERLY_MACHINE_ORDER) < 0 ||
        orderly_machine_by_id(&rm, ORDERLY_MACHINE_RESERVATION) < 0)
        return CLI_EXIT_FAIL;
    for (i = 0; i < s->created; i++) {
        struct sim_order *o = &s->orders[i];
        orderly_order_view v;
        uint32_t k;
        if ((rc = orderly_engine_get_order(s->engine, o->id, &v)) < 0) {
            note(&explained, "%s cannot be read (%s)", o->id, orderly_error_name(rc));
            continue;
        }
        by_state[v.order_state & 31]++;
        explained.checked++;
        if (o->chain_broken || o->seen_state != v.order_state)
            note(&explained, "%s is %s but its events end in %s", o->id,
                 orderly_machine_state_name(om, v.order_state),
                 o->seen_state ? orderly_machine_state_name(om, o->seen_state) : "nothing");
        money.checked++;
        if (v.captured > v.authorized || v.refunded > v.captured)
            note(&money, "%s: authorized %lld, captured %lld, refunded %lld", o->id,
                 (long long)v.authorized, (long long)v.captured, (long long)v.refunded);
        else if (o->psp_refunded > o->psp_captured)
            note(&money, "%s: the provider refunded %lld of %lld captured", o->id,
                 (long long)o->psp_refunded, (long long)o->psp_captured);
        if (v.order_state != ORDERLY_ORDER_CANCELLED)
            continue;
        released.checked++;
        for (k = 0; k < v.n_lines; k++) {
            orderly_part_view p;
            if (orderly_engine_get_part(s->engine, o->id, ORDERLY_MACHINE_RESERVATION, k, &p) < 0) {
                note(&released, "%s line %u cannot be read", o->id, k);
                break;
            }
            if (p.state != ORDERLY_RESERVATION_RELEASED && p.state != ORDERLY_RESERVATION_EXPIRED) {
                note(&released, "%s line %u is still held (%s)", o->id, k,
                     orderly_machine_state_name(rm, p.state));
                break;
            }
            if (p.state == ORDERLY_RESERVATION_RELEASED && !(o->released_lines >> k & 1u)) {
                note(&released, "%s line %u was never released at the warehouse", o->id, k);
                break;
            }
        }
    }
    if (s->chains_broken > explained.failed) {
        explained.failed = s->chains_broken;
        snprintf(explained.example, sizeof explained.example, "%s", s->chain_example);
    }

    memset(&ot, 0, sizeof ot);
    ot.s = s;
    do {
        uint64_t before = ot.rows;
        if ((rc = orderly_engine_list_outbox(s->engine, -1, ot.last_id, 4096, tally_outbox, &ot)) < 0)
            return CLI_EXIT_FAIL;
        if (ot.rows == before)
            break;
    } while (1);
    outbox.checked = ot.rows;
    outbox.failed = ot.pending + ot.undelivered;
    snprintf(outbox.example, sizeof outbox.example, "%s", ot.example);

    memset(&et, 0, sizeof et);
    et.s = s;
    do {
        uint64_t before = et.total;
        if ((rc = orderly_engine_list_effects(s->engine, -1, et.last_id, 4096, tally_effect, &et)) < 0)
            return CLI_EXIT_FAIL;
        if (et.total == before)
            break;
    } while (1);
    comp.checked = et.total;
    comp.failed = et.pending + et.unalerted;
    snprintf(comp.example, sizeof comp.example, "%s", et.example);

    harness.checked = s->c.duplicates_sent + s->c.published_msgs;
    if (s->failure[0] != '\0') {
        harness.failed = 1;
        snprintf(harness.example, sizeof harness.example, "%s", s->failure);
    }

    orderly_engine_get_stats(s->engine, &st);
    if (orderly_engine_health(s->engine, s->now, 0, 0, &h) < 0)
        memset(&h, 0, sizeof h);

    fputs("\norders by final state\n", out);
    for (st_id = 1; st_id < orderly_machine_state_limit(om); st_id++)
        if (by_state[st_id])
            line(out, orderly_machine_state_name(om, st_id), by_state[st_id]);
    fputs("\ntraffic\n", out);
    line(out, "commands and inbound events", s->c.commands);
    line(out, "  applied", s->c.applied);
    line(out, "  rejected by the rules", s->c.rejected);
    line(out, "  retried after a storage fault", s->c.retries);
    line(out, "  given up after retries", s->c.gave_up);
    line(out, "signed webhooks handled", s->c.webhooks);
    line(out, "duplicates sent", s->c.duplicates_sent);
    line(out, "duplicates suppressed", st.duplicates);
    line(out, "late events sent", s->c.late_sent);
    line(out, "late events ignored", st.late_ignored);
    line(out, "timers fired", s->c.ticks_fired);
    fputs("\noutbox\n", out);
    line(out, "events published (distinct ids)", s->c.published_distinct);
    line(out, "redelivered copies (same id)", s->c.redelivered_copies);
    line(out, "dead letters", ot.dead);
    line(out, "rows purged after retention", s->c.purged);
    line(out, "rows still held", ot.rows);
    line(out, "stale completions rejected", h.stale_completions);
    line(out, "expired leases taken over", h.leases_expired_total);
    fputs("\ncompensations\n", out);
    for (st_id = ORDERLY_OP_RELEASE_RESERVATIONS; st_id <= ORDERLY_OP_CANCEL_COD_CLAIM; st_id++)
        if (et.by_op[st_id])
            line(out, orderly_op_name(st_id), et.by_op[st_id]);
    line(out, "carried out", s->c.effects_run);
    line(out, "exhausted and alerted", s->c.effects_exhausted_alerts);
    line(out, "replayed by the operator", s->c.effects_replayed);
    line(out, "still parked", et.dead);
    fputs("\nfaults injected\n", out);
    line(out, "storage calls failed", orderly_fault_storage_faults(s->storage));
    line(out, "compensation calls failed", s->c.executor_faults);
    fputs("\nthroughput (timing varies run to run)\n", out);
    fprintf(out, "  %-34s %10.2f\n", "wall seconds", wall);
    fprintf(out, "  %-34s %10.0f\n", "commands per second", wall > 0 ? (double)s->c.commands / wall : 0.0);
    fprintf(out, "  %-34s %10.0f\n", "events published per second",
            wall > 0 ? (double)s->c.published_distinct / wall : 0.0);
    fputs("\ninvariants\n", out);
    verdict(out, &explained, &failures);
    verdict(out, &released, &failures);
    verdict(out, &money, &failures);
    verdict(out, &outbox, &failures);
    verdict(out, &comp, &failures);
    verdict(out, &harness, &failures);
    if (failures) {
        fprintf(out, "\nresult: %d invariant%s FAILED\n", failures, failures == 1 ? "" : "s");
        return CLI_EXIT_FAIL;
    }
    fputs("\nresult: all invariants hold\n", out);
    return CLI_EXIT_OK;
}
