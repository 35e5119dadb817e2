/*
 * The outbox dispatcher and the retention cleaner. Rows are claimed under
 * a lease (attempts counted at claim time), published as CloudEvents
 * envelopes, and acked under the claim's fencing token.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../core/internal.h"
#include "record.h"

static int grow_json(orderly_engine *e, size_t need)
{
    char *p;
    size_t cap = e->json_cap ? e->json_cap : 512;

    while (cap < need)
        cap *= 2;
    if (cap == e->json_cap)
        return ORDERLY_OK;
    if ((p = e->alloc.realloc(e->json, cap, e->alloc.user_data)) == NULL)
        return ORDERLY_ENOMEM;
    e->json = p;
    e->json_cap = cap;
    return ORDERLY_OK;
}

static int collect(const char *buffer, size_t size, void *data)
{
    orderly_engine *e = data;

    if (grow_json(e, e->json_len + size + 1) < 0)
        return -1;
    memcpy(e->json + e->json_len, buffer, size);
    e->json_len += size;
    e->json[e->json_len] = '\0';
    return 0;
}

static void rfc3339(char *out, size_t cap, orderly_time_ms t)
{
    time_t secs = (time_t)(t / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t % 1000));
}

/* The traceparent of an event: the inbound one when there was one, else a
 * trace rooted at the order (so all of an order's events share a trace). */
static void trace_of(char *out, const struct orderly__event_rec *r, const char *order_id)
{
    uint8_t h[16];
    char trace[33], span[17];

    if (r->trace[0] != '\0') {
        memcpy(out, r->trace, ORDERLY__TRACE_LEN + 1);
        return;
    }
    orderly__hash128(h, "orderly.trace", 13, order_id, strlen(order_id));
    orderly__hex(trace, h, 16);
    orderly__hex(span, r->id, 8);
    snprintf(out, ORDERLY__TRACE_LEN + 1, "00-%s-%s-01", trace, span);
}

static int encode_event(orderly_engine *e, const struct orderly__claimed *c,
                        const struct orderly__event_rec *r, char *id_hex, char *trace)
{
    const orderly_machine *m = NULL;
    json_t *o, *d;
    char when[64];
    int bad = 0, rc;

    orderly__hex(id_hex, r->id, 16);
    trace_of(trace, r, c->group);
    rfc3339(when, sizeof when, r->time);
    if (orderly_machine_by_id(&m, r->machine) < 0)
        m = NULL;
    o = json_object();
    d = json_object();
    if (o == NULL || d == NULL) {
        json_decref(o);
        json_decref(d);
        return ORDERLY_ENOMEM;
    }
    bad |= json_object_set_new(d, "order_id", json_string(c->group));
    if (m != NULL) {
        const char *from = orderly_machine_state_name(m, r->from);
        const char *to = orderly_machine_state_name(m, r->to);
        const char *ev = orderly_machine_event_name(m, r->event);
        bad |= json_object_set_new(d, "machine", json_string(orderly_machine_name(m)));
        bad |= json_object_set_new(d, "index", json_integer(r->index));
        if (from != NULL)
            bad |= json_object_set_new(d, "from", json_string(from));
        if (to != NULL)
            bad |= json_object_set_new(d, "to", json_string(to));
        if (ev != NULL)
            bad |= json_object_set_new(d, "event", json_string(ev));
    }
    bad |= json_object_set_new(d, "amount", json_integer(r->amount));
    bad |= json_object_set_new(o, "specversion", json_string("1.0"));
    bad |= json_object_set_new(o, "id", json_string(id_hex));
    bad |= json_object_set_new(o, "source", json_string(e->source));
    bad |= json_object_set_new(o, "type", json_string(orderly__event_type((int)c->kind)));
    bad |= json_object_set_new(o, "subject", json_string(c->group));
    bad |= json_object_set_new(o, "time", json_string(when));
    bad |= json_object_set_new(o, "datacontenttype", json_string("application/json"));
    bad |= json_object_set_new(o, "schemaversion", json_integer(ORDERLY_SCHEMA_VERSION));
    bad |= json_object_set_new(o, "traceparent", json_string(trace));
    bad |= json_object_set_new(o, "data", d);
    e->json_len = 0;
    rc = bad ? -1 : json_dump_callback(o, collect, e, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return rc != 0 ? ORDERLY_ENOMEM : ORDERLY_OK;
}

static int publish_one(orderly_engine *e, struct orderly__claimed *c)
{
    struct orderly__event_rec r;
    orderly_header h[3];
    char id_hex[33], trace[ORDERLY__TRACE_LEN + 1], dlq[160];
    const char *topic;
    int rc;

    if ((rc = orderly__event_rec_decode(&r, c->payload, c->len)) < 0)
        return orderly__fail(&e->ctx, rc, "outbox row %llu is corrupt", (unsigned long long)c->id);
    if ((rc = encode_event(e, c, &r, id_hex, trace)) < 0)
        return orderly__fail(&e->ctx, rc, "out of memory encoding outbox row");
    topic = e->topics[orderly__event_topic((int)c->kind)];
    h[0].name = "ce-id";
    h[0].value = id_hex;
    h[1].name = "ce-type";
    h[1].value = orderly__event_type((int)c->kind);
    h[2].name = "traceparent";
    h[2].value = trace;
    if (c->attempts > e->policy.outbox_max_attempts) {
        /* its leases kept expiring: the attempt budget is spent all the same */
        snprintf(dlq, sizeof dlq, "%s.dlq", topic);
        (void)orderly__vt_publish(e, dlq, c->group, (const uint8_t *)e->json, e->json_len, h, 3);
        c->outcome = ORDERLY_ITEM_DEAD;
        orderly__alert(e, ORDERLY_ALERT_DEAD_LETTER, ORDERLY_QUEUE_OUTBOX, c->id, c->group,
                       "outbox event dead-lettered after the attempt limit");
        return ORDERLY_OK;
    }
    rc = orderly__vt_publish(e, topic, c->group, (const uint8_t *)e->json, e->json_len, h, 3);
    if (rc < 0 && c->attempts >= e->policy.outbox_max_attempts) {
        snprintf(dlq, sizeof dlq, "%s.dlq", topic);
        (void)orderly__vt_publish(e, dlq, c->group, (const uint8_t *)e->json, e->json_len, h, 3);
        c->outcome = ORDERLY_ITEM_DEAD;
        orderly__alert(e, ORDERLY_ALERT_DEAD_LETTER, ORDERLY_QUEUE_OUTBOX, c->id, c->group,
                       "outbox event dead-lettered after the attempt limit");
        return ORDERLY_OK;
    }
    if (rc < 0)
        return rc;
    e->published++;
    if (c->attempts > 1)
        e->redelivered++;
    return ORDERLY_OK;
}

int orderly_engine_pump(orderly_engine *e, orderly_time_ms now, size_t max, size_t *published_out)
{
    uint64_t token;
    size_t i, j, published = 0;
    int n, rc;

    if (published_out != NULL)
        *published_out = 0;
    if (e == NULL)
        return ORDERLY_EINVAL;
    if ((n = orderly__claim(e, ORDERLY_QUEUE_OUTBOX, now, max, &token)) < 0)
        return n;
    for (i = 0; i < (size_t)n; i++) {
        struct orderly__claimed *c = &e->claimed[i];
        if (c->outcome != ORDERLY_ITEM_DONE || c->due != now)
            continue; /* held back behind a failed event of its order */
        rc = publish_one(e, c);
        if (rc == ORDERLY_ENOMEM || rc == ORDERLY_ESTORAGE)
            return rc;
        if (rc < 0) {
            /* retry later; later events of the same order wait behind it */
            c->outcome = ORDERLY_ITEM_READY;
            c->due = now + orderly__backoff(e, c->attempts);
            for (j = i + 1; j < (size_t)n; j++) {
                if (strcmp(e->claimed[j].group, c->group) == 0) {
                    e->claimed[j].outcome = ORDERLY_ITEM_READY;
                    e->claimed[j].due = c->due;
                }
            }
            continue;
        }
        if (c->outcome == ORDERLY_ITEM_DONE)
            published++;
    }
    if ((rc = orderly__finish(e, ORDERLY_QUEUE_OUTBOX, (size_t)n, token)) < 0)
        return rc;
    if (published_out != NULL)
        *published_out = published;
    return ORDERLY_OK;
}

int orderly_engine_purge(orderly_engine *e, orderly_time_ms now, size_t max, size_t *purged_out)
{
    void *txn;
    int rc;

    if (purged_out != NULL)
        *purged_out = 0;
    if (e == NULL)
        return ORDERLY_EINVAL;
    if (max == 0)
        max = e->policy.batch_max;
    if ((rc = orderly__vt_begin(e, &txn)) < 0)
        return rc;
    rc = e->storage->queue_purge(e->storage, &e->ctx, txn, ORDERLY_QUEUE_OUTBOX,
                                 now - e->policy.retention, max);
    if (rc < 0) {
        orderly__vt_rollback(e, txn);
        return rc;
    }
    if (purged_out != NULL)
        *purged_out = (size_t)rc;
    return orderly__vt_commit(e, txn);
}
