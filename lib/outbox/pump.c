/*
 * The outbox dispatcher and the retention cleaner. Rows are claimed under
 * a lease (attempts counted at claim time), published as CloudEvents
 * envelopes, and acked under the claim's fencing token.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/internal.h"
#include "../util/jsonw.h"
#include "record.h"

static void digits(char *p, unsigned v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* RFC 3339 in UTC with milliseconds into out (64 bytes); returns its
 * length. Years 0..9999 are formatted here from the civil calendar (days
 * since the epoch to year, month, day); anything else as gmtime says. */
static size_t rfc3339(char *out, orderly_time_ms t)
{
    int64_t days, rem, era, doe, yoe, doy, mp, y;
    unsigned month, day;
    time_t secs;
    struct tm tm;

    if (t < 0 || t > 253402300799999LL) {
        secs = (time_t)(t / 1000);
        if (gmtime_r(&secs, &tm) == NULL)
            memset(&tm, 0, sizeof tm);
        return (size_t)snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                                (int)(t % 1000));
    }
    days = t / 86400000;
    rem = t % 86400000;
    /* eras of 400 years from 0000-03-01, so leap days fall at a year's end */
    days += 719468;
    era = days / 146097;
    doe = days - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    y = yoe + era * 400 + (month <= 2);
    digits(out, (unsigned)y, 4);
    out[4] = '-';
    digits(out + 5, month, 2);
    out[7] = '-';
    digits(out + 8, day, 2);
    out[10] = 'T';
    digits(out + 11, (unsigned)(rem / 3600000), 2);
    out[13] = ':';
    digits(out + 14, (unsigned)(rem / 60000 % 60), 2);
    out[16] = ':';
    digits(out + 17, (unsigned)(rem / 1000 % 60), 2);
    out[19] = '.';
    digits(out + 20, (unsigned)(rem % 1000), 3);
    out[23] = 'Z';
    out[24] = '\0';
    return 24;
}

/* The traceparent of an event: the inbound one when there was one, else a
 * trace rooted at the order (so all of an order's events share a trace). */
static void trace_of(char *out, const struct orderly__event_rec *r, const char *order_id)
{
    uint8_t h[16];

    if (r->trace[0] != '\0') {
        memcpy(out, r->trace, ORDERLY__TRACE_LEN + 1);
        return;
    }
    orderly__hash128(h, "orderly.trace", 13, order_id, strlen(order_id));
    memcpy(out, "00-", 3);
    orderly__hex(out + 3, h, 16);
    out[35] = '-';
    orderly__hex(out + 36, r->id, 8);
    memcpy(out + 52, "-01", 4);
}

/* Writes name, one of the pinned identifiers of the const tables. */
static void put_name(struct orderly__jw *w, const char *name)
{
    orderly__jw_plain(w, name, strlen(name));
}

static int encode_event(orderly_engine *e, const struct orderly__claimed *c,
                        const struct orderly__event_rec *r, char *id_hex, char *trace)
{
    const orderly_machine *m = NULL;
    struct orderly__jw w;
    char when[64];
    size_t when_len;
    int rc;

    orderly__hex(id_hex, r->id, 16);
    trace_of(trace, r, c->group);
    when_len = rfc3339(when, r->time);
    if (orderly_machine_by_id(&m, r->machine) < 0)
        m = NULL;
    orderly__jw_start(&w, &e->alloc, &e->json, &e->json_cap);
    orderly__jw_open(&w);
    orderly__jw_key(&w, "specversion");
    orderly__jw_plain(&w, "1.0", 3);
    orderly__jw_key(&w, "id");
    orderly__jw_plain(&w, id_hex, 32);
    orderly__jw_key(&w, "source");
    orderly__jw_str(&w, e->source);
    orderly__jw_key(&w, "type");
    put_name(&w, orderly__event_type((int)c->kind));
    orderly__jw_key(&w, "subject");
    orderly__jw_str(&w, c->group);
    orderly__jw_key(&w, "time");
    if (r->time < 0)
        orderly__jw_str(&w, when); /* gmtime's view of the pre-epoch past */
    else
        orderly__jw_plain(&w, when, when_len);
    orderly__jw_key(&w, "datacontenttype");
    orderly__jw_plain(&w, "application/json", 16);
    orderly__jw_key(&w, "schemaversion");
    orderly__jw_int(&w, ORDERLY_SCHEMA_VERSION);
    orderly__jw_key(&w, "traceparent");
    if (r->trace[0] == '\0')
        orderly__jw_plain(&w, trace, ORDERLY__TRACE_LEN);
    else
        orderly__jw_str(&w, trace);
    orderly__jw_key(&w, "data");
    orderly__jw_open(&w);
    orderly__jw_key(&w, "order_id");
    orderly__jw_str(&w, c->group);
    if (m != NULL) {
        const char *from = orderly_machine_state_name(m, r->from);
        const char *to = orderly_machine_state_name(m, r->to);
        const char *ev = orderly_machine_event_name(m, r->event);
        orderly__jw_key(&w, "machine");
        put_name(&w, orderly_machine_name(m));
        orderly__jw_key(&w, "index");
        orderly__jw_int(&w, r->index);
        if (from != NULL) {
            orderly__jw_key(&w, "from");
            put_name(&w, from);
        }
        if (to != NULL) {
            orderly__jw_key(&w, "to");
            put_name(&w, to);
        }
        if (ev != NULL) {
            orderly__jw_key(&w, "event");
            put_name(&w, ev);
        }
    }
    orderly__jw_key(&w, "amount");
    orderly__jw_int(&w, r->amount);
    orderly__jw_close(&w);
    orderly__jw_close(&w);
    rc = orderly__jw_finish(&w);
    e->json_len = w.len;
    /* a string jansson refuses (not UTF-8) has always failed the row this way */
    return rc != 0 ? ORDERLY_ENOMEM : ORDERLY_OK;
}

static int publish_one(orderly_engine *e, struct orderly__claimed *c)
{
    struct orderly__event_rec r;
    orderly_header h[3];
    char id_hex[33], trace[ORDERLY__TRACE_LEN + 1], dlq[160];
    const char *topic;
    int rc;

    if ((rc = orderly__event_rec_decode(&r, c->kind, c->group, c->payload, c->len)) < 0)
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
                    e->claimed[j].held = 1;
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
    rc = orderly__vt_purge(e, txn, ORDERLY_QUEUE_OUTBOX, now - e->policy.retention, max);
    if (rc < 0) {
        orderly__vt_rollback(e, txn);
        return rc;
    }
    if (purged_out != NULL)
        *purged_out = (size_t)rc;
    return orderly__vt_commit(e, txn);
}
