/*
 * The outbox dispatcher and the retention cleaner. Rows are claimed under
 * a lease (attempts counted at claim time), published as CloudEvents
 * envelopes, and acked under the claim's fencing token.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../engine/internal.h"
#include "../base/jsonw.h"
#include "../wire/record.h"

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

/* data.lines: each line the event concerns, as the row's snapshot holds
 * it (doc/events.md). */
static void put_lines(struct orderly__jw *w, const struct orderly__event_rec *r)
{
    char num[24], *d;
    uint64_t u;
    size_t i;

    orderly__jw_key(w, "lines");
    orderly__jw_put(w, "[", 1);
    for (i = 0; i < r->n_lines; i++) {
        const struct orderly__event_line *l = &r->lines[i];
        if (i > 0)
            orderly__jw_put(w, ",", 1);
        orderly__jw_open(w);
        orderly__jw_key(w, "line");
        orderly__jw_int(w, l->line);
        orderly__jw_key(w, "sku");
        /* a SKU is unsigned 64-bit: written whole, beyond int64 */
        d = num + sizeof num;
        u = l->sku;
        do {
            *--d = (char)('0' + u % 10);
            u /= 10;
        } while (u != 0);
        orderly__jw_put(w, d, (size_t)(num + sizeof num - d));
        orderly__jw_key(w, "warehouse");
        orderly__jw_int(w, l->warehouse);
        orderly__jw_key(w, "quantity");
        orderly__jw_int(w, l->quantity);
        orderly__jw_key(w, "unit_price");
        orderly__jw_int(w, l->unit_price);
        orderly__jw_key(w, "amount");
        orderly__jw_int(w, l->unit_price * (int64_t)l->quantity);
        orderly__jw_close(w);
    }
    orderly__jw_put(w, "]", 1);
}

/* A deadline command's data: what handle_event reads, nothing of the
 * order (every replica holds it). No traceparent: each replica's events
 * then carry the trace they would have had, had the deadline fired in
 * one engine. */
static int encode_deadline(orderly_engine *e, struct orderly__jw *w, const char *group,
                           const struct orderly__event_rec *r)
{
    orderly__jw_key(w, "data");
    orderly__jw_open(w);
    orderly__jw_key(w, "order_id");
    orderly__jw_str(w, group);
    orderly__jw_key(w, "index");
    orderly__jw_int(w, r->index);
    orderly__jw_close(w);
    orderly__jw_close(w);
    e->json_len = w->len;
    return orderly__jw_finish(w);
}

int orderly__encode_event(orderly_engine *e, uint32_t kind, const char *group,
                          const struct orderly__event_rec *r, char *id_hex, char *trace)
{
    const orderly_machine *m = NULL;
    struct orderly__jw w;
    char when[64], replacement[ORDERLY_ID_MAX + 1], type[64];
    size_t when_len;
    int rc;

    orderly__hex(id_hex, r->id, 16);
    trace_of(trace, r, group);
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
    put_name(&w, orderly__event_type_of((int)kind, r->machine, r->event, type, sizeof type));
    orderly__jw_key(&w, "subject");
    orderly__jw_str(&w, group);
    orderly__jw_key(&w, "time");
    if (r->time < 0)
        orderly__jw_str(&w, when); /* gmtime's view of the pre-epoch past */
    else
        orderly__jw_plain(&w, when, when_len);
    orderly__jw_key(&w, "datacontenttype");
    orderly__jw_plain(&w, "application/json", 16);
    orderly__jw_key(&w, "schemaversion");
    orderly__jw_int(&w, r->schema); /* a row staged before lines were carried stays 1 */
    if (kind == ORDERLY__EV_DEADLINE)
        return encode_deadline(e, &w, group, r);
    orderly__jw_key(&w, "traceparent");
    if (r->trace[0] == '\0')
        orderly__jw_plain(&w, trace, ORDERLY__TRACE_LEN);
    else
        orderly__jw_str(&w, trace);
    orderly__jw_key(&w, "data");
    orderly__jw_open(&w);
    orderly__jw_key(&w, "order_id");
    orderly__jw_str(&w, group);
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
    if (r->currency[0] != '\0') {
        orderly__jw_key(&w, "currency");
        orderly__jw_str(&w, r->currency);
    }
    if (orderly__event_names_replacement((int)kind) &&
        orderly_replacement_id(replacement, group, r->index) == ORDERLY_OK) {
        orderly__jw_key(&w, "replacement_id");
        orderly__jw_str(&w, replacement);
    }
    if (orderly__event_lines_of((int)kind) != ORDERLY__EVL_NONE)
        put_lines(&w, r);
    orderly__jw_close(&w);
    orderly__jw_close(&w);
    rc = orderly__jw_finish(&w);
    e->json_len = w.len;
    return rc; /* ENOMEM, or EINVAL for a string that is not UTF-8 */
}

/* What became of one claimed row. */
enum sent {
    SENT,        /* on its topic */
    DEAD_LETTER, /* refused for good, and its copy is on <topic>.dlq */
    RETRY,       /* refused for now: due again after its backoff */
    AWAY,        /* the broker is away: this row and the rest of the batch wait */
    PARKED       /* cannot be decoded or encoded */
};

static int publish_one(orderly_engine *e, struct orderly__claimed *c, enum sent *out)
{
    struct orderly__event_rec r;
    orderly_header h[3];
    char id_hex[33], trace[ORDERLY__TRACE_LEN + 1], dlq[160], type[64];
    size_t n_h;
    const char *topic;
    int rc;

    orderly__event_rec_at(e, &r, ORDERLY__SITE_PUMP);
    if (c->bad || orderly__event_rec_decode(&r, c->kind, c->group, c->payload, c->len) < 0) {
        *out = PARKED;
        return ORDERLY_OK;
    }
    if ((rc = orderly__encode_event(e, c->kind, c->group, &r, id_hex, trace)) == ORDERLY_ENOMEM)
        return orderly__fail(&e->ctx, rc, "out of memory encoding outbox row %llu",
                             (unsigned long long)c->id);
    if (rc < 0) {
        *out = PARKED;
        return ORDERLY_OK;
    }
    topic = e->topics[orderly__event_topic((int)c->kind)];
    h[0].name = "ce-id";
    h[0].value = id_hex;
    h[1].name = "ce-type";
    h[1].value = orderly__event_type_of((int)c->kind, r.machine, r.event, type, sizeof type);
    h[2].name = "traceparent";
    h[2].value = trace;
    /* a deadline command carries no trace (encode_deadline) */
    n_h = c->kind == ORDERLY__EV_DEADLINE ? 2 : 3;
    rc = orderly__vt_publish(e, topic, c->group, (const uint8_t *)e->json, e->json_len, h, n_h);
    if (rc == 0) {
        *out = SENT;
        return ORDERLY_OK;
    }
    if (orderly_error_is_transient(rc)) {
        /* not this event's fault: it keeps its attempts and waits */
        *out = AWAY;
        return ORDERLY_OK;
    }
    *out = RETRY;
    if (c->attempts < e->policy.outbox_max_attempts)
        return ORDERLY_OK;
    /* dead only once the copy is accepted: until then it stays pending */
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    if (orderly__vt_publish(e, dlq, c->group, (const uint8_t *)e->json, e->json_len, h, n_h) == 0)
        *out = DEAD_LETTER;
    return ORDERLY_OK;
}

/* With a host clock: less than a quarter of the lease is left. */
static int lease_lapsing(orderly_engine *e, orderly_time_ms now)
{
    return e->clock != NULL &&
           e->clock(e->clock_user_data) >= now + e->policy.lease - e->policy.lease / 4;
}

/* Gives back every row from i on that was not tried, due at due. */
static void give_back_rest(orderly_engine *e, size_t i, size_t n, orderly_time_ms due)
{
    for (; i < n; i++)
        if (!e->claimed[i].held)
            orderly__give_back(&e->claimed[i], due);
}

/* Pending acknowledgements are written on their own once a quarter of
 * their lease is gone (so no other engine takes their rows over; a sole
 * dispatcher has none to fear), or when they would not fit; else they
 * ride on the next write: a command's, or a claim's, which writes them
 * ahead of the claim so it cannot take their rows over. */
static int settle_acks(orderly_engine *e, orderly_time_ms now)
{
    if (e->n_acks == 0)
        return ORDERLY_OK;
    if ((!e->sole && now >= e->acks_since + e->policy.lease / 4) ||
        e->n_acks + e->n_handed > e->policy.batch_max)
        return orderly__flush_acks(e);
    return ORDERLY_OK;
}

/* Keeps the outcome of n handed rows, published under token, to ride on
 * the next command's transaction. 0 when they do not fit: the caller
 * writes them now. */
static int defer_acks(orderly_engine *e, size_t n, uint64_t token, orderly_time_ms now)
{
    size_t i;

    if (e->n_acks + n > e->policy.batch_max)
        return 0;
    if (e->n_acks == 0)
        e->acks_since = now;
    for (i = 0; i < n; i++) {
        const struct orderly__claimed *c = &e->claimed[i];
        struct orderly__ack *a = &e->acks[e->n_acks++];
        a->id = c->id;
        a->token = token;
        a->outcome = c->outcome;
        a->due = c->due;
        a->attempts = c->attempts;
        if (c->outcome == ORDERLY_ITEM_READY)
            orderly__due_lower(e, ORDERLY_QUEUE_OUTBOX, c->due);
    }
    return 1;
}

/* The rows a command's transaction claimed for this pump (hand-off),
 * moved into e->claimed as if claimed now. Returns their count. */
static int take_handed(orderly_engine *e, orderly_time_ms now, uint64_t *token)
{
    size_t i, n = e->n_handed;

    if (n == 0 || orderly__check_now(e, now) < 0 || e->batch_txn != NULL)
        return 0;
    memcpy(e->claimed, e->handed, n * sizeof *e->claimed);
    for (i = 0; i < n; i++)
        e->claimed[i].due = now;
    *token = e->handed_token;
    e->short_claim = 1;
    e->leases_expired += e->handed_taken_over;
    e->n_handed = 0;
    return (int)n;
}

int orderly_engine_pump(orderly_engine *e, orderly_time_ms now, size_t max, size_t *published_out)
{
    uint64_t token;
    size_t i, published = 0;
    enum sent sent;
    int n, rc = ORDERLY_OK, handed;

    if (published_out != NULL)
        *published_out = 0;
    if (e == NULL)
        return ORDERLY_EINVAL;
    if ((rc = settle_acks(e, now)) < 0)
        return rc;
    handed = (n = take_handed(e, now, &token)) > 0;
    if (!handed &&
        (n = orderly__claim(e, ORDERLY_QUEUE_OUTBOX, now, max, e->policy.outbox_max_attempts,
                            &token)) <= 0)
        return n;
    for (i = 0; i < (size_t)n; i++) {
        struct orderly__claimed *c = &e->claimed[i];
        if (c->held)
            continue; /* behind a failed event of its order */
        if (lease_lapsing(e, now)) {
            give_back_rest(e, i, (size_t)n, now);
            break;
        }
        if ((rc = publish_one(e, c, &sent)) < 0) {
            give_back_rest(e, i, (size_t)n, now);
            break;
        }
        switch (sent) {
        case SENT:
            published++;
            e->published++;
            if (c->attempts > 1)
                e->redelivered++;
            e->outage_streak = 0;
            e->outage_since = 0;
            break;
        case DEAD_LETTER:
            c->outcome = ORDERLY_ITEM_DEAD;
            orderly__alert(e, ORDERLY_ALERT_DEAD_LETTER, ORDERLY_QUEUE_OUTBOX, c->id, c->group,
                           "outbox event dead-lettered after the attempt limit");
            break;
        case RETRY:
            /* later events of the same order wait behind it */
            c->outcome = ORDERLY_ITEM_READY;
            c->due = now + orderly__backoff(e, c->attempts);
            orderly__hold_group(e, i, (size_t)n);
            break;
        case AWAY:
            if (e->outage_streak++ == 0)
                e->outage_since = now;
            give_back_rest(e, i, (size_t)n, now + orderly__backoff(e, e->outage_streak));
            i = (size_t)n;
            break;
        case PARKED:
            orderly__park(e, ORDERLY_QUEUE_OUTBOX, c, i, (size_t)n,
                          "the outbox event cannot be decoded or encoded");
            break;
        }
    }
    /* what was published is acknowledged even when the step stopped early */
    if (!(handed && rc == ORDERLY_OK && defer_acks(e, (size_t)n, token, now)))
        rc = orderly__end_step(e, ORDERLY_QUEUE_OUTBOX, (size_t)n, token, rc);
    if (published_out != NULL)
        *published_out = published;
    return rc;
}

/* The queues whose finished rows the retention deletes. */
static const int purged_queues[] = { ORDERLY_QUEUE_OUTBOX, ORDERLY_QUEUE_TIMERS,
                                     ORDERLY_QUEUE_OPERATIONS };
#define N_PURGED (sizeof purged_queues / sizeof purged_queues[0])

/* A purge's count, or ESTORAGE when the store claims more than it was
 * allowed to delete (the budget arithmetic would wrap). */
static int purged(orderly_engine *e, int rc, size_t max)
{
    if (rc >= 0 && (size_t)rc > max)
        return orderly__fail(&e->ctx, ORDERLY_ESTORAGE, "queue_purge deleted %d rows of at most %zu",
                             rc, max);
    return rc;
}

/*
 * Deletes up to max DONE rows finished at or before `before` from the
 * three queues in txn; returns the count. A first pass gives each queue
 * an even share of what is left, so a busy outbox cannot starve the
 * timers and operations of a host that purges rarely; a second pass
 * hands what the quiet queues left unused to those that filled their
 * share. Parked (DEAD) and pending rows are never purgeable.
 */
static int purge_queues(orderly_engine *e, void *txn, orderly_time_ms before, size_t max)
{
    size_t left = max, share, i;
    int filled[N_PURGED], rc;

    for (i = 0; i < N_PURGED; i++) {
        share = (left + (N_PURGED - i) - 1) / (N_PURGED - i);
        filled[i] = 0;
        if (share == 0)
            continue;
        if ((rc = purged(e, orderly__vt_purge(e, txn, purged_queues[i], before, share), share)) < 0)
            return rc;
        filled[i] = (size_t)rc == share;
        left -= (size_t)rc;
    }
    for (i = 0; i < N_PURGED && left > 0; i++) {
        if (!filled[i])
            continue;
        if ((rc = purged(e, orderly__vt_purge(e, txn, purged_queues[i], before, left), left)) < 0)
            return rc;
        left -= (size_t)rc;
    }
    return (int)(max - left);
}

int orderly_engine_purge(orderly_engine *e, orderly_time_ms now, size_t max, size_t *purged_out)
{
    void *txn;
    int rc, marks;

    if (purged_out != NULL)
        *purged_out = 0;
    if (e == NULL)
        return ORDERLY_EINVAL;
    if ((rc = orderly__check_now(e, now)) < 0)
        return rc;
    if (max == 0 || max > e->policy.batch_max)
        max = e->policy.batch_max;
    if ((rc = orderly__vt_begin(e, &txn)) < 0)
        return rc;
    rc = purge_queues(e, txn, now - e->policy.retention, max);
    /* expired idempotency marks are invisible already; without this they
     * would only ever be replaced, never deleted, and a store would grow
     * with every key it has seen */
    if (rc >= 0 && (marks = orderly__vt_idem_purge(e, txn, now, max)) < 0)
        rc = marks;
    if (rc < 0) {
        orderly__vt_rollback(e, txn);
        return rc;
    }
    if (purged_out != NULL)
        *purged_out = (size_t)rc;
    return orderly__vt_commit(e, txn);
}
