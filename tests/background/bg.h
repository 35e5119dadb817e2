/*
 * Helpers the background suites share on top of the engine fixture: a
 * transport that lets a test step in before each publish, event ids read
 * back from published envelopes, and direct reads of queue rows (their due
 * times are not part of the engine API, but "not before its due" is what
 * the backoff tests must check).
 */
#ifndef ORDERLY_TESTS_BG_H
#define ORDERLY_TESTS_BG_H

/* Each suite uses some of these static helpers. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

#include "../engine/fixture.h"

/* ---- a transport with a hook --------------------------------------------- */

typedef struct hook_tr hook_tr;

/* Called before each publish; a negative return fails that publish without
 * passing the message on. */
typedef int (*publish_hook)(hook_tr *h, const char *topic, const char *key, const uint8_t *data,
                            size_t len);

struct hook_tr {
    orderly_transport base;   /* first: the engine only sees this */
    orderly_transport *inner; /* a memory transport that records what passes */
    publish_hook hook;
    void *user;
    size_t calls;
};

static int hook_publish(orderly_transport *t, orderly_ctx *ctx, const char *topic, const char *key,
                        const uint8_t *data, size_t len, const orderly_header *headers,
                        size_t n_headers)
{
    hook_tr *h = (hook_tr *)t;
    int rc;

    h->calls++;
    if (h->hook != NULL && (rc = h->hook(h, topic, key, data, len)) < 0)
        return orderly_ctx_set_error(ctx, rc, 0, "refused by the test hook");
    return h->inner->publish(h->inner, ctx, topic, key, data, len, headers, n_headers);
}

static void hook_init(hook_tr *h, orderly_transport *inner, publish_hook hook, void *user)
{
    memset(h, 0, sizeof *h);
    ck_assert_int_eq(orderly_transport_init(&h->base, ORDERLY_TRANSPORT_VERSION), 0);
    h->base.publish = hook_publish;
    h->inner = inner;
    h->hook = hook;
    h->user = user;
}

/* ---- published envelopes ---------------------------------------------------- */

/* Copies the value of the first "name":"..." string member of m into out. */
static void msg_field(const orderly_message *m, const char *name, char *out, size_t cap)
{
    char *buf = malloc(m->len + 1), pat[64];
    const char *p, *q;

    out[0] = '\0';
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, m->data, m->len);
    buf[m->len] = '\0';
    snprintf(pat, sizeof pat, "\"%s\":\"", name);
    if ((p = strstr(buf, pat)) != NULL && (q = strchr(p + strlen(pat), '"')) != NULL) {
        size_t n = (size_t)(q - p - (ptrdiff_t)strlen(pat));
        if (n >= cap)
            n = cap - 1;
        memcpy(out, p + strlen(pat), n);
        out[n] = '\0';
    }
    free(buf);
}

#define MAX_IDS 256

/* Event ids in publish order, one list per order. */
typedef struct id_list {
    char id[MAX_IDS][33];
    size_t n;
} id_list;

/* Every message published for order on a non-".dlq" topic of t, in order. */
static void ids_of(orderly_transport *t, const char *order, id_list *out)
{
    size_t i, total = orderly_memory_transport_count(t);
    orderly_message m;

    out->n = 0;
    for (i = 0; i < total; i++) {
        ck_assert_int_eq(orderly_memory_transport_get(&m, t, i), 0);
        if (m.key == NULL || strcmp(m.key, order) != 0 || strstr(m.topic, ".dlq") != NULL)
            continue;
        ck_assert_uint_lt(out->n, MAX_IDS);
        msg_field(&m, "id", out->id[out->n], sizeof out->id[0]);
        ck_assert_uint_eq(strlen(out->id[out->n]), 32);
        out->n++;
    }
}

/* The list with every repeat of an id already seen dropped: what a consumer
 * that dedupes by event id processes. */
static void first_seen(const id_list *in, id_list *out)
{
    size_t i, j;

    out->n = 0;
    for (i = 0; i < in->n; i++) {
        for (j = 0; j < out->n && strcmp(out->id[j], in->id[i]) != 0; j++)
            ;
        if (j == out->n)
            memcpy(out->id[out->n++], in->id[i], 33);
    }
}

static void assert_same_ids(const id_list *got, const id_list *want, const char *what)
{
    size_t i;

    ck_assert_msg(got->n == want->n, "%s: %zu events, want %zu", what, got->n, want->n);
    for (i = 0; i < want->n; i++)
        ck_assert_msg(strcmp(got->id[i], want->id[i]) == 0, "%s: event %zu is %s, want %s", what, i,
                      got->id[i], want->id[i]);
}

/* Messages published to topic (exact name). */
static size_t count_topic(orderly_transport *t, const char *topic)
{
    size_t i, n = 0, total = orderly_memory_transport_count(t);
    orderly_message m;

    for (i = 0; i < total; i++) {
        ck_assert_int_eq(orderly_memory_transport_get(&m, t, i), 0);
        if (strcmp(m.topic, topic) == 0)
            n++;
    }
    return n;
}

/* ---- queue rows, read straight from storage ----------------------------------- */

typedef struct row {
    uint64_t id;
    uint32_t state, attempts, kind;
    orderly_time_ms due, lease_until;
    char group[ORDERLY_ID_MAX + 1];
} row;

typedef struct rows {
    row r[256];
    size_t n;
} rows;

static int take_row(const orderly_queue_item *it, void *ud)
{
    rows *rs = ud;
    row *r;

    if (rs->n >= 256)
        return ORDERLY_ERROR;
    r = &rs->r[rs->n++];
    r->id = it->id;
    r->state = it->state;
    r->attempts = it->attempts;
    r->kind = it->kind;
    r->due = it->due;
    r->lease_until = it->lease_until;
    snprintf(r->group, sizeof r->group, "%s", it->group);
    return 0;
}

/* Every row of queue, any state, in id order. */
static void queue_rows(orderly_storage *st, int queue, rows *out)
{
    void *txn = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    ck_assert_int_eq(st->begin(st, NULL, &txn), 0);
    rc = st->queue_scan(st, NULL, txn, queue, -1, 0, 256, take_row, out);
    st->rollback(st, NULL, txn);
    ck_assert_int_ge(rc, 0);
}

/* Finished (DONE) rows of queue: fired or finished as moot, for timers. */
static size_t done_rows(orderly_storage *st, int queue)
{
    rows rs;
    size_t i, n = 0;

    queue_rows(st, queue, &rs);
    for (i = 0; i < rs.n; i++)
        n += rs.r[i].state == ORDERLY_ITEM_DONE;
    return n;
}

/* ---- alerts --------------------------------------------------------------------- */

typedef struct alerts {
    size_t n[5];              /* by orderly_alert_kind */
    uint64_t last_item[5];
    char last_group[5][ORDERLY_ID_MAX + 1];
    char last_message[5][200];
} alerts;

static void record_alert(const orderly_alert *a, void *ud)
{
    alerts *al = ud;

    ck_assert_int_ge(a->kind, 1);
    ck_assert_int_le(a->kind, ORDERLY_ALERT_ROW_PARKED);
    ck_assert_ptr_nonnull(a->message);
    al->n[a->kind]++;
    al->last_item[a->kind] = a->item_id;
    snprintf(al->last_group[a->kind], sizeof al->last_group[0], "%s", a->group != NULL ? a->group : "");
    snprintf(al->last_message[a->kind], sizeof al->last_message[0], "%s", a->message);
}

#endif
