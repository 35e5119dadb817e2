/*
 * Part A: the contract of orderly/sys/storage.h, one case per rule,
 * called straight on the adapter. Each case starts from an empty store and
 * stops at its first broken rule, naming the call, what it returned and
 * what the contract asks for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T0 1000000LL
#define QO ORDERLY_QUEUE_OUTBOX
#define QT ORDERLY_QUEUE_TIMERS
#define QC ORDERLY_QUEUE_OPERATIONS
#define LIST_MAX 16
#define FIELD_MAX 64

struct kase {
    const orderly_conformance_target *t;
    orderly_storage *s;
    orderly_ctx *ctx;
    orderly_buf *buf;
    void *txn;
    char note[ORDERLY__CONF_NOTE_MAX];
    /* Tokens are the store's to issue: cases name each claim by a label
     * and read the token it was issued here. */
    struct {
        uint64_t label, token;
    } tok[64];
    size_t n_tok;
};

/* A queue item copied out of a callback. */
struct citem {
    uint64_t id;
    char group[FIELD_MAX];
    uint32_t kind, state, attempts;
    uint8_t payload[FIELD_MAX];
    size_t payload_len;
    orderly_time_ms created, due, lease_until;
    uint64_t lease_token;
};

struct clist {
    struct citem it[LIST_MAX];
    size_t n;
    int stop_code;          /* returned from the first callback when < 0 */
    uint64_t token;         /* the claim's: 0 when it took nothing */
};

struct crec {
    char key[FIELD_MAX];
    char data[FIELD_MAX];
    uint64_t version;
};

struct rlist {
    struct crec r[LIST_MAX];
    size_t n;
    int stop_code;
};

static const char *name_of(int rc)
{
    return rc < 0 ? orderly_error_name(rc) : "a count";
}

/* The check that failed, where, and what the adapter said. */
#define fail_at(k, line, ...) \
    orderly__conf_fail_at((k)->note, (k)->ctx, "contract.c", (line), __VA_ARGS__)

#define CHECK(k, cond, ...)                          \
    do {                                             \
        if (!(cond)) {                               \
            fail_at((k), __LINE__, __VA_ARGS__);     \
            return;                                  \
        }                                            \
    } while (0)

/* expr must return want exactly (a code or a count). */
#define RC(k, expr, want)                                                                  \
    do {                                                                                   \
        int rc_ = (expr), want_ = (want);                                                  \
        if (rc_ != want_) {                                                                \
            fail_at((k), __LINE__, "%s returned %d (%s), the contract asks for %d (%s)",    \
                    #expr, rc_, name_of(rc_), want_, name_of(want_));                      \
            return;                                                                        \
        }                                                                                  \
    } while (0)

/* ---- calls, with the case's transaction ------------------------------------ */

static int begin(struct kase *k)
{
    void *txn = NULL;
    int rc = k->s->begin(k->s, k->ctx, &txn);

    if (rc == 0)
        k->txn = txn;
    return rc;
}

/* commit finishes the transaction whatever it returns. */
static int commit(struct kase *k)
{
    void *txn = k->txn;

    k->txn = NULL;
    return k->s->commit(k->s, k->ctx, txn);
}

static void rollback(struct kase *k)
{
    void *txn = k->txn;

    k->txn = NULL;
    if (txn != NULL)
        k->s->rollback(k->s, k->ctx, txn);
}

static int save(struct kase *k, const char *key, const char *data, uint64_t expected)
{
    return k->s->save(k->s, k->ctx, k->txn, key, (const uint8_t *)data,
                      data != NULL ? strlen(data) : 0, expected);
}

static int load(struct kase *k, const char *key, uint64_t *version)
{
    *version = 0;
    return k->s->load(k->s, k->ctx, k->txn, key, k->buf, version);
}

/* 1 when the last load left exactly want in the buffer. */
static int loaded(struct kase *k, const char *want)
{
    size_t n = strlen(want);

    return orderly_buf_len(k->buf) == n &&
           (n == 0 || memcmp(orderly_buf_data(k->buf), want, n) == 0);
}

static int push(struct kase *k, int queue, const char *group, uint32_t kind, const char *payload,
                orderly_time_ms created, orderly_time_ms due, uint64_t *id)
{
    orderly_queue_item it;

    memset(&it, 0, sizeof it);
    it.group = group;
    it.kind = kind;
    it.payload = (const uint8_t *)payload;
    it.payload_len = payload != NULL ? strlen(payload) : 0;
    it.created = created;
    it.due = due;
    *id = 0;
    return k->s->queue_push(k->s, k->ctx, k->txn, queue, &it, id);
}

static int collect(const orderly_queue_item *it, void *ud)
{
    struct clist *l = ud;
    struct citem *c;

    if (l->stop_code < 0)
        return l->stop_code;
    if (l->n == LIST_MAX)
        return 0;
    c = &l->it[l->n++];
    memset(c, 0, sizeof *c);
    c->id = it->id;
    snprintf(c->group, sizeof c->group, "%s", it->group != NULL ? it->group : "");
    c->kind = it->kind;
    c->state = it->state;
    c->attempts = it->attempts;
    c->payload_len = it->payload_len;
    if (it->payload_len > 0 && it->payload_len <= sizeof c->payload)
        memcpy(c->payload, it->payload, it->payload_len);
    c->created = it->created;
    c->due = it->due;
    c->lease_token = it->lease_token;
    c->lease_until = it->lease_until;
    return 0;
}

/* The token the claim labelled label was issued; for a label no claim
 * used, a token no store issues (a stale completion's). */
static uint64_t tok(const struct kase *k, uint64_t label)
{
    size_t i;

    for (i = k->n_tok; i-- > 0;)
        if (k->tok[i].label == label)
            return k->tok[i].token;
    return UINT64_MAX - label;
}

#define CLAIM_MAX_ATTEMPTS 1000  /* the cap, where a case does not test it */

static int claim_capped(struct kase *k, int queue, orderly_time_ms now, size_t max,
                        uint32_t max_attempts, uint64_t label, orderly_time_ms lease_until,
                        struct clist *l)
{
    uint64_t token = 0;
    int rc;

    memset(l, 0, sizeof *l);
    rc = k->s->queue_claim(k->s, k->ctx, k->txn, queue, now, max, max_attempts, lease_until,
                           &token, collect, l);
    if (rc > 0 && k->n_tok < sizeof k->tok / sizeof k->tok[0]) {
        k->tok[k->n_tok].label = label;
        k->tok[k->n_tok].token = token;
        k->n_tok++;
    }
    l->token = token;
    return rc;
}

static int claim(struct kase *k, int queue, orderly_time_ms now, size_t max, uint64_t label,
                 orderly_time_ms lease_until, struct clist *l)
{
    return claim_capped(k, queue, now, max, CLAIM_MAX_ATTEMPTS, label, lease_until, l);
}

static int attempts_of(const orderly_queue_item *it, void *ud)
{
    *(uint32_t *)ud = it->attempts;
    return 0;
}

/* Finishes under the token of the claim labelled label, setting attempts. */
static int finish_n(struct kase *k, int queue, uint64_t id, uint64_t label, int state,
                    orderly_time_ms due, uint32_t attempts)
{
    return k->s->queue_finish(k->s, k->ctx, k->txn, queue, id, tok(k, label), state, due, attempts);
}

/* As finish_n, keeping the attempts the item has. */
static int finish(struct kase *k, int queue, uint64_t id, uint64_t label, int state,
                  orderly_time_ms due)
{
    uint32_t attempts = 0;

    (void)k->s->queue_get(k->s, k->ctx, k->txn, queue, id, attempts_of, &attempts);
    return finish_n(k, queue, id, label, state, due, attempts);
}

static int qreset(struct kase *k, int queue, uint64_t id, int state, orderly_time_ms due)
{
    return k->s->queue_reset(k->s, k->ctx, k->txn, queue, id, state, due);
}

static int get(struct kase *k, int queue, uint64_t id, struct citem *out)
{
    struct clist l;
    int rc;

    memset(&l, 0, sizeof l);
    memset(out, 0, sizeof *out);
    rc = k->s->queue_get(k->s, k->ctx, k->txn, queue, id, collect, &l);
    if (rc == 0 && l.n != 1)
        return ORDERLY_ERROR;
    if (rc == 0)
        *out = l.it[0];
    return rc;
}

static int qscan(struct kase *k, int queue, int state, uint64_t after, size_t max, struct clist *l)
{
    memset(l, 0, sizeof *l);
    return k->s->queue_scan(k->s, k->ctx, k->txn, queue, state, after, max, collect, l);
}

static int purge(struct kase *k, int queue, orderly_time_ms before, size_t max)
{
    return k->s->queue_purge(k->s, k->ctx, k->txn, queue, before, max);
}

static int stats(struct kase *k, int queue, orderly_time_ms now, orderly_queue_stats *out)
{
    memset(out, 0xA5, sizeof *out);
    return k->s->queue_stats(k->s, k->ctx, k->txn, queue, now, out);
}

static int collect_rec(const char *key, const uint8_t *data, size_t len, uint64_t version, void *ud)
{
    struct rlist *l = ud;
    struct crec *r;

    if (l->stop_code < 0)
        return l->stop_code;
    if (l->n == LIST_MAX)
        return 0;
    r = &l->r[l->n++];
    snprintf(r->key, sizeof r->key, "%s", key);
    snprintf(r->data, sizeof r->data, "%.*s", (int)(len < FIELD_MAX ? len : FIELD_MAX - 1),
             len > 0 ? (const char *)data : "");
    r->version = version;
    return 0;
}

static int scan(struct kase *k, const char *after, size_t max, struct rlist *l)
{
    memset(l, 0, sizeof *l);
    return k->s->scan(k->s, k->ctx, k->txn, after, max, collect_rec, l);
}

static void fp_fill(uint8_t fp[16], uint8_t seed)
{
    int i;

    for (i = 0; i < 16; i++)
        fp[i] = (uint8_t)(seed + i);
}

static int idem_put(struct kase *k, const char *key, orderly_time_ms now, uint8_t seed,
                    orderly_time_ms expires, const char *result)
{
    orderly_idem_record rec;

    memset(&rec, 0, sizeof rec);
    fp_fill(rec.fingerprint, seed);
    rec.expires = expires;
    rec.result = (const uint8_t *)result;
    rec.result_len = result != NULL ? strlen(result) : 0;
    return k->s->idem_put(k->s, k->ctx, k->txn, key, now, &rec);
}

static int idem_get(struct kase *k, const char *key, orderly_time_ms now, orderly_idem_record *out)
{
    memset(out, 0, sizeof *out);
    return k->s->idem_get(k->s, k->ctx, k->txn, key, now, out, k->buf);
}

/* 1 when rec holds the mark idem_put wrote with seed, expires and result. */
static int idem_is(const orderly_idem_record *rec, uint8_t seed, orderly_time_ms expires,
                   const char *result)
{
    uint8_t fp[16];
    size_t n = strlen(result);

    fp_fill(fp, seed);
    return memcmp(rec->fingerprint, fp, 16) == 0 && rec->expires == expires &&
           rec->result_len == n && (n == 0 || memcmp(rec->result, result, n) == 0);
}

/* Crashes the store with the case's transaction (if any) open. */
static int crash(struct kase *k)
{
    orderly_storage *old = k->s;
    void *txn = k->txn;
    int rc;

    k->txn = NULL;
    rc = k->t->crash(&k->s, k->t->user_data);
    if (k->s == old && txn != NULL)
        old->rollback(old, k->ctx, txn);
    return rc;
}

/* Commits n READY items of queue with the given group, due at due. */
static void push_n(struct kase *k, int queue, const char *group, size_t n, orderly_time_ms due,
                   uint64_t *ids, int *ok)
{
    size_t i;

    *ok = 0;
    RC(k, begin(k), 0);
    for (i = 0; i < n; i++)
        RC(k, push(k, queue, group, 1, "p", T0, due, &ids[i]), 0);
    RC(k, commit(k), 0);
    *ok = 1;
}

#define PUSH_N(k, q, g, n, due, ids)                 \
    do {                                             \
        int ok_;                                     \
        push_n((k), (q), (g), (n), (due), (ids), &ok_); \
        if (!ok_)                                    \
            return;                                  \
    } while (0)

/* ---- the cases -------------------------------------------------------------- */

static void c_vtable(struct kase *k)
{
    const orderly_storage *s = k->s;

    CHECK(k, s->version >= 1 && s->version <= ORDERLY_STORAGE_VERSION,
          "version %u is outside 1..%d", s->version, ORDERLY_STORAGE_VERSION);
    CHECK(k, s->flags == 0, "flags is %u; it is reserved and must be 0", s->flags);
#define REQUIRED(m) CHECK(k, s->m != NULL, "required method '" #m "' is NULL")
    REQUIRED(begin);
    REQUIRED(commit);
    REQUIRED(rollback);
    REQUIRED(load);
    REQUIRED(save);
    REQUIRED(scan);
    REQUIRED(queue_push);
    REQUIRED(queue_claim);
    REQUIRED(queue_finish);
    REQUIRED(queue_reset);
    REQUIRED(queue_get);
    REQUIRED(queue_scan);
    REQUIRED(queue_purge);
    REQUIRED(queue_stats);
    REQUIRED(idem_get);
    REQUIRED(idem_put);
    REQUIRED(idem_purge);
#undef REQUIRED
}

static void c_commit_durable(struct kase *k)
{
    orderly_idem_record rec;
    struct citem it;
    uint64_t id, v;

    RC(k, begin(k), 0);
    RC(k, save(k, "rec/a", "one", 0), 0);
    RC(k, push(k, QO, "g", 7, "p1", T0, T0 + 5, &id), 0);
    RC(k, idem_put(k, "key/a", T0, 1, T0 + 1000, "r1"), 0);
    RC(k, commit(k), 0);
    RC(k, crash(k), 0);
    CHECK(k, k->s != NULL, "crash left no storage handle");
    RC(k, begin(k), 0);
    RC(k, load(k, "rec/a", &v), 0);
    CHECK(k, v == 1 && loaded(k, "one"), "record after a crash: version %llu, want 1 and \"one\"",
          (unsigned long long)v);
    RC(k, get(k, QO, id, &it), 0);
    CHECK(k, strcmp(it.group, "g") == 0 && it.kind == 7 && it.state == ORDERLY_ITEM_READY &&
                 it.attempts == 0 && it.payload_len == 2 && memcmp(it.payload, "p1", 2) == 0 &&
                 it.created == T0 && it.due == T0 + 5,
          "queue item after a crash lost fields (group '%s' kind %u state %u attempts %u "
          "created %lld due %lld)", it.group, it.kind, it.state, it.attempts,
          (long long)it.created, (long long)it.due);
    RC(k, idem_get(k, "key/a", T0, &rec), 0);
    CHECK(k, idem_is(&rec, 1, T0 + 1000, "r1"), "idempotency mark after a crash lost fields");
    rollback(k);
}

/* Opens a transaction and writes one record, queue row and mark in it. */
static void write_one_of_each(struct kase *k)
{
    uint64_t id;

    RC(k, begin(k), 0);
    RC(k, save(k, "rec/a", "one", 0), 0);
    RC(k, push(k, QO, "g", 1, "p", T0, T0, &id), 0);
    RC(k, idem_put(k, "key/a", T0, 1, T0 + 1000, "r"), 0);
}

/* In a new transaction, left open: none of write_one_of_each is visible. */
static void expect_none_of_them(struct kase *k)
{
    orderly_idem_record rec;
    struct clist l;
    uint64_t v;

    RC(k, begin(k), 0);
    RC(k, load(k, "rec/a", &v), ORDERLY_ENOTFOUND);
    RC(k, qscan(k, QO, -1, 0, 10, &l), 0);
    RC(k, idem_get(k, "key/a", T0, &rec), ORDERLY_ENOTFOUND);
}

static void c_rollback_discards(struct kase *k)
{
    write_one_of_each(k);
    rollback(k);
    expect_none_of_them(k);
    rollback(k);
}

static void c_crash_discards_open(struct kase *k)
{
    write_one_of_each(k);
    RC(k, crash(k), 0);
    CHECK(k, k->s != NULL, "crash left no storage handle");
    expect_none_of_them(k);
    /* nothing of the lost transaction may still hold its key */
    RC(k, save(k, "rec/a", "two", 0), 0);
    RC(k, idem_put(k, "key/a", T0, 2, T0 + 1000, "r2"), 0);
    RC(k, commit(k), 0);
}

static void c_save_cas(struct kase *k)
{
    uint64_t v;

    RC(k, begin(k), 0);
    RC(k, load(k, "k", &v), ORDERLY_ENOTFOUND);
    RC(k, save(k, "k", "v1", 0), 0);
    RC(k, load(k, "k", &v), 0);
    CHECK(k, v == 1 && loaded(k, "v1"), "a transaction must read its own save (version %llu)",
          (unsigned long long)v);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, save(k, "k", "x", 0), ORDERLY_ECONFLICT);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, save(k, "k", "x", 2), ORDERLY_ECONFLICT);
    rollback(k);

    RC(k, begin(k), 0);
    RC(k, save(k, "k", "v2", 1), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, load(k, "k", &v), 0);
    CHECK(k, v == 2 && loaded(k, "v2"), "after save over version 1: version %llu, want 2 and \"v2\"",
          (unsigned long long)v);
    /* two saves of one key in one transaction (a batch) build on each other */
    RC(k, save(k, "k", "v3", 2), 0);
    RC(k, save(k, "k", "v4", 3), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, load(k, "k", &v), 0);
    CHECK(k, v == 4 && loaded(k, "v4"), "after two saves in one transaction: version %llu, want 4",
          (unsigned long long)v);
    rollback(k);
}

static void c_empty_values(struct kase *k)
{
    orderly_idem_record rec;
    struct citem it;
    uint64_t id, v;

    RC(k, begin(k), 0);
    RC(k, save(k, "empty", NULL, 0), 0);
    RC(k, push(k, QO, "", 1, NULL, T0, T0, &id), 0);
    RC(k, idem_put(k, "empty", T0, 3, T0 + 10, NULL), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, load(k, "empty", &v), 0);
    CHECK(k, v == 1 && orderly_buf_len(k->buf) == 0, "an empty record came back with %zu bytes",
          orderly_buf_len(k->buf));
    RC(k, get(k, QO, id, &it), 0);
    CHECK(k, it.payload_len == 0 && it.group[0] == '\0',
          "an empty payload came back with %zu bytes, group '%s'", it.payload_len, it.group);
    RC(k, idem_get(k, "empty", T0, &rec), 0);
    CHECK(k, idem_is(&rec, 3, T0 + 10, ""), "an empty stored result did not round-trip");
    rollback(k);
}

static void c_scan_order(struct kase *k)
{
    static const char *const keys[] = { "b", "a", "c", "ab", "a/1" };
    static const char *const sorted[] = { "a", "a/1", "ab", "b", "c" };
    struct rlist l;
    size_t i;

    RC(k, begin(k), 0);
    for (i = 0; i < 5; i++)
        RC(k, save(k, keys[i], keys[i], 0), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, save(k, "b", "b2", 1), 0);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, scan(k, "", 10, &l), 5);
    CHECK(k, l.n == 5, "scan reported 5 but called back %zu times", l.n);
    for (i = 0; i < 5; i++) {
        const char *want = i == 3 ? "b2" : sorted[i];
        uint64_t wv = i == 3 ? 2 : 1;
        CHECK(k, strcmp(l.r[i].key, sorted[i]) == 0 && strcmp(l.r[i].data, want) == 0 &&
                     l.r[i].version == wv,
              "scan position %zu: key '%s' data '%s' version %llu, want '%s' '%s' %llu", i,
              l.r[i].key, l.r[i].data, (unsigned long long)l.r[i].version, sorted[i], want,
              (unsigned long long)wv);
    }
    RC(k, scan(k, "a/1", 2, &l), 2);
    CHECK(k, strcmp(l.r[0].key, "ab") == 0 && strcmp(l.r[1].key, "b") == 0,
          "scan after 'a/1' max 2 gave '%s', '%s'; want 'ab', 'b'", l.r[0].key, l.r[1].key);
    RC(k, scan(k, "c", 10, &l), 0);
    RC(k, scan(k, "", 0, &l), 0);
    CHECK(k, l.n == 0, "scan with max 0 called back %zu times", l.n);
    rollback(k);
}

static void c_push_ids(struct kase *k)
{
    uint64_t a, b, t, rolled, c;
    struct clist l;
    struct citem it;

    RC(k, begin(k), 0);
    RC(k, push(k, QO, "g", 5, "first", T0 - 1, T0 + 1, &a), 0);
    RC(k, push(k, QT, "", 6, "timer", T0, T0 + 2, &t), 0);
    RC(k, push(k, QO, "g", 5, "second", T0, T0 + 3, &b), 0);
    RC(k, commit(k), 0);
    CHECK(k, b > a, "ids must increase within a queue: %llu then %llu", (unsigned long long)a,
          (unsigned long long)b);
    RC(k, begin(k), 0);
    RC(k, push(k, QO, "g", 5, "rolled", T0, T0, &rolled), 0);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, push(k, QO, "g", 5, "third", T0, T0, &c), 0);
    RC(k, commit(k), 0);
    CHECK(k, c > b, "ids must increase within a queue: %llu then %llu", (unsigned long long)b,
          (unsigned long long)c);

    RC(k, begin(k), 0);
    RC(k, get(k, QO, a, &it), 0);
    CHECK(k, strcmp(it.group, "g") == 0 && it.kind == 5 && it.payload_len == 5 &&
                 memcmp(it.payload, "first", 5) == 0 && it.created == T0 - 1 &&
                 it.due == T0 + 1 && it.state == ORDERLY_ITEM_READY && it.attempts == 0,
          "pushed item %llu came back changed", (unsigned long long)a);
    RC(k, qscan(k, QO, -1, 0, 10, &l), 3);
    CHECK(k, l.it[0].id == a && l.it[1].id == b && l.it[2].id == c,
          "queue_scan must list committed items in id order (got %llu %llu %llu)",
          (unsigned long long)l.it[0].id, (unsigned long long)l.it[1].id,
          (unsigned long long)l.it[2].id);
    RC(k, qscan(k, QT, -1, 0, 10, &l), 1);
    CHECK(k, l.it[0].id == t && l.it[0].kind == 6, "the timers queue holds the wrong item");
    RC(k, qscan(k, QC, -1, 0, 10, &l), 0);
    rollback(k);
}

static void c_ids_never_reused(struct kase *k)
{
    uint64_t ids[3], id, token = 7;
    struct clist l;
    size_t i;

    PUSH_N(k, QT, "", 3, T0, ids);
    RC(k, begin(k), 0);
    RC(k, claim(k, QT, T0, 10, token, T0 + 100, &l), 3);
    for (i = 0; i < 3; i++)
        RC(k, finish(k, QT, ids[i], token, ORDERLY_ITEM_DONE, T0), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, purge(k, QT, T0, 10), 3);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, push(k, QT, "", 1, "p", T0, T0, &id), 0);
    RC(k, commit(k), 0);
    /* the engine keys a timer's idempotency mark by its id: reusing one
     * would make a new timer look like a duplicate of a purged one */
    CHECK(k, id > ids[2], "id %llu reused after purging items up to %llu", (unsigned long long)id,
          (unsigned long long)ids[2]);
}

static void c_claim_due_and_lease(struct kase *k)
{
    uint64_t a, b, c;
    struct clist l;
    struct citem it;

    RC(k, begin(k), 0);
    RC(k, push(k, QO, "", 1, "a", T0, T0 + 100, &a), 0);
    RC(k, push(k, QO, "", 1, "b", T0, T0 + 200, &b), 0);
    RC(k, push(k, QO, "", 1, "c", T0, T0 + 100, &c), 0);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 99, 10, 10, T0 + 1099, &l), 0);
    RC(k, claim(k, QO, T0 + 150, 10, 11, T0 + 1150, &l), 2);
    CHECK(k, l.n == 2 && l.it[0].id == a && l.it[1].id == c,
          "claim at 150 must take the two due items in id order");
    CHECK(k, l.it[0].state == ORDERLY_ITEM_READY && l.it[0].attempts == 1 &&
                 l.it[0].lease_token == tok(k, 11) && l.it[0].lease_until == T0 + 1150,
          "a claimed item is reported with state %u (want READY: where it came from), attempts "
          "%u (want 1), token %llu (want the claim's), lease_until %lld", l.it[0].state, l.it[0].attempts,
          (unsigned long long)l.it[0].lease_token, (long long)(l.it[0].lease_until - T0));
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, get(k, QO, a, &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_LEASED && it.lease_token == tok(k, 11) &&
                 it.lease_until == T0 + 1150 && it.attempts == 1,
          "a claimed item must be LEASED with the claim's token and lease (state %u token %llu)",
          it.state, (unsigned long long)it.lease_token);
    RC(k, claim(k, QO, T0 + 300, 10, 12, T0 + 1300, &l), 1);
    CHECK(k, l.it[0].id == b, "an unexpired lease must not be claimed again");
    RC(k, commit(k), 0);

    /* lease_until <= now: expired, so another worker takes it over */
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 1150, 1, 13, T0 + 2150, &l), 1);
    CHECK(k, l.it[0].id == a && l.it[0].state == ORDERLY_ITEM_LEASED && l.it[0].attempts == 2 &&
                 l.it[0].lease_token == tok(k, 13),
          "taking over an expired lease: got item %llu from state %u attempts %u; want item a "
          "from LEASED with attempts 2", (unsigned long long)l.it[0].id, l.it[0].state,
          l.it[0].attempts);
    RC(k, claim(k, QO, T0 + 1150, 10, 14, T0 + 2150, &l), 1);
    CHECK(k, l.it[0].id == c && l.it[0].state == ORDERLY_ITEM_LEASED,
          "the second expired lease must be taken over by the next claim");
    RC(k, claim(k, QO, T0 + 1150, 0, 15, T0 + 2150, &l), 0);
    RC(k, finish(k, QO, a, 13, ORDERLY_ITEM_DONE, T0 + 1200), 0);
    RC(k, finish(k, QO, c, 14, ORDERLY_ITEM_DEAD, T0 + 1200), 0);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 1000000, 10, 16, T0 + 1000100, &l), 1);
    CHECK(k, l.it[0].id == b, "DONE and DEAD items must never be claimed");
    RC(k, commit(k), 0);
}

static void c_tokens_from_store(struct kase *k)
{
    orderly_storage *other = NULL;
    uint64_t ids[4], first, second, third = 0, mine = 0;
    void *txn = NULL;
    struct clist l;
    int rc;

    PUSH_N(k, QO, "", 4, T0, ids);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 1, 1, T0 + 100, &l), 1);
    first = l.token;
    RC(k, claim(k, QO, T0, 1, 2, T0 + 100, &l), 1);
    second = l.token;
    CHECK(k, first != 0 && second > first,
          "each claim must be issued a token above the last one (got %llu then %llu)",
          (unsigned long long)first, (unsigned long long)second);
    CHECK(k, l.it[0].lease_token == second, "a claimed item must carry the claim's token");
    RC(k, claim(k, QO, T0 - 1, 10, 3, T0 + 100, &l), 0);
    CHECK(k, l.token == 0, "a claim that takes nothing must report token 0 (got %llu)",
          (unsigned long long)l.token);
    RC(k, commit(k), 0);

    /* a second handle on the same store: another engine, maybe another
     * process; its claims must never be issued a token this one holds */
    if ((rc = k->t->open(&other, k->t->user_data)) < 0 || other == NULL) {
        CHECK(k, 0, "a second handle could not be opened (%d)", rc);
        return;
    }
    if (other->begin(other, k->ctx, &txn) == 0) {
        rc = other->queue_claim(other, k->ctx, txn, QO, T0, 1, 10, T0 + 100, &third, collect, &l);
        CHECK(k, rc == 1, "the second handle's claim took %d items, want 1", rc);
        CHECK(k, other->commit(other, k->ctx, txn) == 0, "the second handle's commit failed");
    } else {
        CHECK(k, 0, "the second handle could not begin");
    }
    if (other != k->s)
        k->t->close(other, k->t->user_data);
    CHECK(k, third > second, "a second handle was issued token %llu after this one's %llu",
          (unsigned long long)third, (unsigned long long)second);

    /* and after a crash the counter goes on from where it was */
    RC(k, crash(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 1, 4, T0 + 100, &l), 1);
    mine = l.token;
    RC(k, commit(k), 0);
    CHECK(k, mine > third, "after a crash a claim was issued token %llu, not above %llu",
          (unsigned long long)mine, (unsigned long long)third);
}

static void c_attempts_capped(struct kase *k)
{
    struct citem it;
    struct clist l;
    uint64_t id;
    int round;

    RC(k, begin(k), 0);
    RC(k, push(k, QC, "g", 1, "p", T0, T0, &id), 0);
    RC(k, commit(k), 0);
    /* every lease lapses; claims go on counting, but never past the cap */
    for (round = 0; round < 4; round++) {
        RC(k, begin(k), 0);
        RC(k, claim_capped(k, QC, T0 + 10 * round, 1, 2, (uint64_t)round + 1,
                           T0 + 10 * round + 5, &l), 1);
        CHECK(k, l.it[0].attempts == (round == 0 ? 1u : 2u),
              "claim %d reported attempts %u with a cap of 2", round + 1, l.it[0].attempts);
        RC(k, commit(k), 0);
    }
    /* finish stores the attempts it is given: the core gives back untried ones */
    RC(k, begin(k), 0);
    RC(k, finish_n(k, QC, id, 4, ORDERLY_ITEM_READY, T0 + 100, 1), 0);
    RC(k, get(k, QC, id, &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_READY && it.attempts == 1 && it.due == T0 + 100,
          "finish READY with attempts 1: got state %u attempts %u", it.state, it.attempts);
    RC(k, commit(k), 0);
}

static void c_claim_group_order(struct kase *k)
{
    uint64_t g1, h1, g2, u1, g3, k1, k2, m1, x1, x2;
    struct clist l;

    RC(k, begin(k), 0);
    RC(k, push(k, QO, "g", 1, "g1", T0, T0, &g1), 0);
    RC(k, push(k, QO, "h", 1, "h1", T0, T0, &h1), 0);
    RC(k, push(k, QO, "g", 1, "g2", T0, T0, &g2), 0);
    RC(k, push(k, QO, "", 1, "u1", T0, T0, &u1), 0);
    RC(k, push(k, QO, "g", 1, "g3", T0, T0 + 500, &g3), 0);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 10, 21, T0 + 100, &l), 4);
    CHECK(k, l.it[0].id == g1 && l.it[1].id == h1 && l.it[2].id == g2 && l.it[3].id == u1,
          "one call may claim several items of a group, in id order");
    RC(k, finish(k, QO, g1, 21, ORDERLY_ITEM_DONE, T0), 0);
    RC(k, finish(k, QO, g2, 21, ORDERLY_ITEM_READY, T0 + 50), 0);
    RC(k, finish(k, QO, h1, 21, ORDERLY_ITEM_DONE, T0), 0);
    RC(k, finish(k, QO, u1, 21, ORDERLY_ITEM_DONE, T0), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 600, 10, 22, T0 + 1000000, &l), 2);
    CHECK(k, l.it[0].id == g2 && l.it[1].id == g3, "a retried item comes back before the later "
          "items of its group");
    RC(k, commit(k), 0);

    /* an older item leased by another claim holds its group back */
    RC(k, begin(k), 0);
    RC(k, push(k, QO, "k", 1, "k1", T0, T0, &k1), 0);
    RC(k, push(k, QO, "k", 1, "k2", T0, T0, &k2), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 600, 1, 31, T0 + 5000, &l), 1);
    CHECK(k, l.it[0].id == k1, "max 1 must claim the oldest item");
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 600, 10, 32, T0 + 5000, &l), 0);
    RC(k, commit(k), 0);

    /* a parked (retrying) item holds back only its own group */
    RC(k, begin(k), 0);
    RC(k, finish(k, QO, k1, 31, ORDERLY_ITEM_READY, T0 + 10000), 0);
    RC(k, push(k, QO, "m", 1, "m1", T0, T0, &m1), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 700, 10, 33, T0 + 800, &l), 1);
    CHECK(k, l.it[0].id == m1, "only m1 is claimable while k1 waits for its retry (got %llu)",
          (unsigned long long)l.it[0].id);
    RC(k, finish(k, QO, m1, 33, ORDERLY_ITEM_DONE, T0 + 700), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 10000, 10, 34, T0 + 10100, &l), 2);
    CHECK(k, l.it[0].id == k1 && l.it[1].id == k2, "k1 then k2 once k1 is due again");
    RC(k, commit(k), 0);

    /* an expired lease taken over counts as claimed by this call */
    RC(k, begin(k), 0);
    RC(k, push(k, QO, "x", 1, "x1", T0, T0, &x1), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 10000, 10, 41, T0 + 10001, &l), 1);
    RC(k, push(k, QO, "x", 1, "x2", T0, T0, &x2), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 10001, 10, 42, T0 + 20000, &l), 2);
    CHECK(k, l.it[0].id == x1 && l.it[1].id == x2 && l.it[0].state == ORDERLY_ITEM_LEASED &&
                 l.it[1].state == ORDERLY_ITEM_READY,
          "x1 (taken over from an expired lease) then x2 in the same call");
    RC(k, commit(k), 0);
}

static void c_finish_fencing(struct kase *k)
{
    uint64_t ids[2];
    struct clist l;
    struct citem it;

    PUSH_N(k, QO, "", 2, T0, ids);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 10, 51, T0 + 100, &l), 2);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, finish(k, QO, ids[0], 50, ORDERLY_ITEM_DONE, T0), ORDERLY_ECONFLICT);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, finish(k, QO, ids[1] + 1000, 51, ORDERLY_ITEM_DONE, T0), ORDERLY_ENOTFOUND);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, finish(k, QO, ids[0], 51, ORDERLY_ITEM_DONE, T0 + 5), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, get(k, QO, ids[0], &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_DONE && it.due == T0 + 5,
          "finished DONE: state %u due %lld; want DONE finished at 5", it.state,
          (long long)(it.due - T0));
    RC(k, finish(k, QO, ids[0], 51, ORDERLY_ITEM_DONE, T0 + 6), ORDERLY_ECONFLICT);
    rollback(k);

    /* the lease expired and was taken over: the first worker is fenced off */
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 100, 10, 52, T0 + 200, &l), 1);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, finish(k, QO, ids[1], 51, ORDERLY_ITEM_DONE, T0 + 150), ORDERLY_ECONFLICT);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, finish(k, QO, ids[1], 52, ORDERLY_ITEM_READY, T0 + 77), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, get(k, QO, ids[1], &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_READY && it.due == T0 + 77 && it.attempts == 2,
          "finished READY: state %u due %lld attempts %u; want READY at 77 with attempts kept (2)",
          it.state, (long long)(it.due - T0), it.attempts);
    rollback(k);
}

/* The engine reads before it writes and keeps going after a fenced
 * completion, so these failures must leave the transaction committable. */
static void c_expected_misses(struct kase *k)
{
    orderly_idem_record rec;
    uint64_t ids[2], v;
    struct clist l;
    struct citem it;

    RC(k, begin(k), 0);
    RC(k, load(k, "nope", &v), ORDERLY_ENOTFOUND);
    RC(k, idem_get(k, "nope", T0, &rec), ORDERLY_ENOTFOUND);
    RC(k, get(k, QO, 424242, &it), ORDERLY_ENOTFOUND);
    RC(k, save(k, "nope", "now", 0), 0);
    RC(k, idem_put(k, "nope", T0, 1, T0 + 100, "r"), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, load(k, "nope", &v), 0);
    rollback(k);

    PUSH_N(k, QO, "", 2, T0, ids);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 10, 61, T0 + 100, &l), 2);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, finish(k, QO, ids[0], 60, ORDERLY_ITEM_DONE, T0), ORDERLY_ECONFLICT);
    RC(k, finish(k, QO, ids[1], 61, ORDERLY_ITEM_DONE, T0), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, get(k, QO, ids[1], &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_DONE, "the finish after a fenced one was lost");
    rollback(k);
}

static void c_reset_override(struct kase *k)
{
    uint64_t a, r[2];
    struct clist l;
    struct citem it;

    RC(k, begin(k), 0);
    RC(k, push(k, QC, "", 1, "a", T0, T0, &a), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QC, T0, 10, 71, T0 + 1000, &l), 1);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, qreset(k, QC, a, ORDERLY_ITEM_READY, T0 + 9), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, get(k, QC, a, &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_READY && it.attempts == 0 && it.due == T0 + 9,
          "reset to READY over a live lease: state %u attempts %u due %lld; want READY, 0, 9",
          it.state, it.attempts, (long long)(it.due - T0));
    RC(k, qreset(k, QC, a, ORDERLY_ITEM_DEAD, T0 + 10), 0);
    RC(k, get(k, QC, a, &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_DEAD && it.due == T0 + 10, "reset to DEAD did not stick");
    RC(k, qreset(k, QC, a, ORDERLY_ITEM_READY, T0 + 10), 0);
    RC(k, claim(k, QC, T0 + 10, 10, 72, T0 + 20, &l), 1);
    RC(k, qreset(k, QC, a + 1000, ORDERLY_ITEM_READY, T0), ORDERLY_ENOTFOUND);
    rollback(k);

    /* an item of a group brought back to life is claimable again */
    PUSH_N(k, QO, "r", 2, T0, r);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 10, 73, T0 + 100, &l), 2);
    RC(k, finish(k, QO, r[0], 73, ORDERLY_ITEM_DEAD, T0), 0);
    RC(k, finish(k, QO, r[1], 73, ORDERLY_ITEM_DONE, T0), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, qreset(k, QO, r[0], ORDERLY_ITEM_READY, T0), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 10, 74, T0 + 100, &l), 1);
    CHECK(k, l.it[0].id == r[0] && l.it[0].state == ORDERLY_ITEM_READY && l.it[0].attempts == 1,
          "a replayed item is claimed from READY with a fresh attempt count");
    RC(k, commit(k), 0);
}

static void c_get_and_scan(struct kase *k)
{
    uint64_t ids[5];
    struct clist l;
    struct citem it;

    PUSH_N(k, QO, "", 5, T0, ids);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 2, 81, T0 + 100, &l), 2);
    RC(k, finish(k, QO, ids[0], 81, ORDERLY_ITEM_DONE, T0), 0);
    RC(k, finish(k, QO, ids[1], 81, ORDERLY_ITEM_DEAD, T0), 0);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, get(k, QO, ids[3], &it), 0);
    CHECK(k, it.id == ids[3] && it.state == ORDERLY_ITEM_READY, "queue_get returned another item");
    RC(k, get(k, QO, ids[4] + 1000, &it), ORDERLY_ENOTFOUND);
    RC(k, qscan(k, QO, ORDERLY_ITEM_DONE, 0, 10, &l), 1);
    CHECK(k, l.it[0].id == ids[0], "scan of DONE items");
    RC(k, qscan(k, QO, ORDERLY_ITEM_DEAD, 0, 10, &l), 1);
    CHECK(k, l.it[0].id == ids[1], "scan of DEAD items");
    RC(k, qscan(k, QO, ORDERLY_ITEM_READY, 0, 10, &l), 3);
    CHECK(k, l.it[0].id == ids[2] && l.it[2].id == ids[4], "scan of READY items");
    RC(k, qscan(k, QO, ORDERLY_ITEM_LEASED, 0, 10, &l), 0);
    RC(k, qscan(k, QO, -1, ids[1], 2, &l), 2);
    CHECK(k, l.it[0].id == ids[2] && l.it[1].id == ids[3], "scan after an id, bounded by max");
    RC(k, qscan(k, QO, -1, 0, 0, &l), 0);
    CHECK(k, l.n == 0, "queue_scan with max 0 called back");
    RC(k, qscan(k, QT, -1, 0, 10, &l), 0);
    rollback(k);
}

/* Every callback's negative return stops the method, which returns it. */
static void c_callback_stop(struct kase *k)
{
    uint64_t ids[3];
    struct clist l;
    struct rlist rl;

    PUSH_N(k, QO, "", 3, T0, ids);
    RC(k, begin(k), 0);
    RC(k, save(k, "a", "a", 0), 0);
    RC(k, save(k, "b", "b", 0), 0);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    memset(&l, 0, sizeof l);
    l.stop_code = ORDERLY_ETIMEOUT;
    RC(k, k->s->queue_scan(k->s, k->ctx, k->txn, QO, -1, 0, 10, collect, &l), ORDERLY_ETIMEOUT);
    memset(&l, 0, sizeof l);
    l.stop_code = ORDERLY_ETIMEOUT;
    RC(k, k->s->queue_get(k->s, k->ctx, k->txn, QO, ids[0], collect, &l), ORDERLY_ETIMEOUT);
    memset(&rl, 0, sizeof rl);
    rl.stop_code = ORDERLY_ETIMEOUT;
    RC(k, k->s->scan(k->s, k->ctx, k->txn, "", 10, collect_rec, &rl), ORDERLY_ETIMEOUT);
    memset(&l, 0, sizeof l);
    l.stop_code = ORDERLY_ETIMEOUT;
    RC(k, k->s->queue_claim(k->s, k->ctx, k->txn, QO, T0, 10, 10, T0 + 1, &l.token, collect, &l),
       ORDERLY_ETIMEOUT);
    rollback(k);
}

static void c_purge_bounded(struct kase *k)
{
    uint64_t ids[7];
    struct clist l;
    struct citem it;
    size_t i;

    PUSH_N(k, QO, "", 7, T0, ids);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 10, 91, T0 + 100, &l), 7);
    for (i = 0; i < 5; i++)
        RC(k, finish(k, QO, ids[i], 91, ORDERLY_ITEM_DONE, T0 + 10 * (orderly_time_ms)(i + 1)), 0);
    RC(k, finish(k, QO, ids[5], 91, ORDERLY_ITEM_DEAD, T0 + 5), 0);
    RC(k, finish(k, QO, ids[6], 91, ORDERLY_ITEM_READY, T0 + 5), 0);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, purge(k, QO, T0 + 30, 2), 2);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, purge(k, QO, T0 + 30, 10), 1);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    for (i = 0; i < 3; i++)
        RC(k, get(k, QO, ids[i], &it), ORDERLY_ENOTFOUND);
    RC(k, get(k, QO, ids[3], &it), 0);
    RC(k, purge(k, QO, T0 + 1000, 10), 2);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, get(k, QO, ids[3], &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_DONE, "a rolled-back purge must keep its items");
    RC(k, purge(k, QO, T0 + 1000, 10), 2);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, purge(k, QO, T0 + 1000000, 10), 0);
    RC(k, get(k, QO, ids[5], &it), 0);
    RC(k, get(k, QO, ids[6], &it), 0);
    RC(k, qscan(k, QO, -1, 0, 10, &l), 2);
    rollback(k);
}

static void c_stats(struct kase *k)
{
    uint64_t d, x, l1, l2, r1, r2;
    orderly_queue_stats st;
    struct clist l;

    RC(k, begin(k), 0);
    RC(k, push(k, QO, "", 1, "d", T0 - 100, T0, &d), 0);
    RC(k, push(k, QO, "", 1, "x", T0 - 90, T0, &x), 0);
    RC(k, push(k, QO, "", 1, "l1", T0 - 30, T0, &l1), 0);
    RC(k, push(k, QO, "", 1, "l2", T0 - 40, T0, &l2), 0);
    RC(k, push(k, QO, "", 1, "r1", T0 - 10, T0 + 100, &r1), 0);
    RC(k, push(k, QO, "", 1, "r2", T0 - 20, T0 + 500, &r2), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 2, 1, T0 + 10, &l), 2);
    RC(k, finish(k, QO, d, 1, ORDERLY_ITEM_DONE, T0), 0);
    RC(k, finish(k, QO, x, 1, ORDERLY_ITEM_DEAD, T0), 0);
    RC(k, claim(k, QO, T0, 1, 2, T0 + 1000, &l), 1);
    CHECK(k, l.it[0].id == l1, "claim with max 1 must take the oldest due item");
    RC(k, claim(k, QO, T0, 1, 3, T0 + 50, &l), 1);
    CHECK(k, l.it[0].id == l2, "claim with max 1 must take the oldest due item");
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, stats(k, QO, T0 + 100, &st), 0);
    CHECK(k, st.ready == 2 && st.due == 1 && st.leased == 1 && st.lease_expired == 1 &&
                 st.done == 1 && st.dead == 1 && st.oldest_pending == T0 - 40,
          "stats at 100: ready %llu due %llu leased %llu lease_expired %llu done %llu dead %llu "
          "oldest_pending %lld; want 2 1 1 1 1 1 -40",
          (unsigned long long)st.ready, (unsigned long long)st.due,
          (unsigned long long)st.leased, (unsigned long long)st.lease_expired,
          (unsigned long long)st.done, (unsigned long long)st.dead,
          (long long)(st.oldest_pending - T0));
    RC(k, stats(k, QO, T0 + 1000, &st), 0);
    CHECK(k, st.due == 2 && st.leased == 0 && st.lease_expired == 2,
          "stats at 1000: due %llu leased %llu lease_expired %llu; want 2 0 2",
          (unsigned long long)st.due, (unsigned long long)st.leased,
          (unsigned long long)st.lease_expired);
    RC(k, stats(k, QT, T0, &st), 0);
    CHECK(k, st.ready == 0 && st.due == 0 && st.leased == 0 && st.lease_expired == 0 &&
                 st.done == 0 && st.dead == 0 && st.oldest_pending == 0,
          "an empty queue must report zeros");
    RC(k, qscan(k, QO, ORDERLY_ITEM_READY, 0, 10, &l), 2);
    CHECK(k, l.it[0].id == r1 && l.it[1].id == r2, "the items not yet due must stay READY");
    rollback(k);
}

static void c_idem(struct kase *k)
{
    orderly_idem_record rec;

    RC(k, begin(k), 0);
    RC(k, idem_get(k, "a", T0, &rec), ORDERLY_ENOTFOUND);
    RC(k, idem_put(k, "a", T0, 1, T0 + 1000, "r-a"), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, idem_get(k, "a", T0 + 999, &rec), 0);
    CHECK(k, idem_is(&rec, 1, T0 + 1000, "r-a"), "the mark read back differs from the one put");
    RC(k, idem_put(k, "a", T0 + 999, 2, T0 + 5000, "r-b"), ORDERLY_EEXISTS);
    rollback(k);

    /* a mark lapses at its expiry instant and then counts as absent */
    RC(k, begin(k), 0);
    RC(k, idem_get(k, "a", T0 + 1000, &rec), ORDERLY_ENOTFOUND);
    RC(k, idem_put(k, "a", T0 + 1000, 2, T0 + 5000, "r-b"), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, idem_get(k, "a", T0 + 1001, &rec), 0);
    CHECK(k, idem_is(&rec, 2, T0 + 5000, "r-b"), "a mark put over an expired one must replace it");
    rollback(k);

    RC(k, begin(k), 0);
    RC(k, idem_put(k, "p1", T0, 3, T0 + 10, "1"), 0);
    RC(k, idem_put(k, "p2", T0, 3, T0 + 20, "2"), 0);
    RC(k, idem_put(k, "p3", T0, 3, T0 + 30, "3"), 0);
    RC(k, idem_put(k, "live", T0, 3, T0 + 100000, "4"), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, k->s->idem_purge(k->s, k->ctx, k->txn, T0 + 25, 1), 1);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, k->s->idem_purge(k->s, k->ctx, k->txn, T0 + 25, 10), 1);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, k->s->idem_purge(k->s, k->ctx, k->txn, T0 + 25, 10), 0);
    RC(k, idem_get(k, "p3", T0 + 25, &rec), 0);
    RC(k, idem_get(k, "live", T0 + 25, &rec), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, k->s->idem_purge(k->s, k->ctx, k->txn, T0 + 1000000, 10), 3);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, idem_get(k, "a", T0, &rec), ORDERLY_ENOTFOUND);
    RC(k, idem_get(k, "live", T0, &rec), ORDERLY_ENOTFOUND);
    rollback(k);
}

static void c_rollback_queue_changes(struct kase *k)
{
    uint64_t ids[2];
    struct clist l;
    struct citem it;

    PUSH_N(k, QO, "", 2, T0, ids);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 10, 1, T0 + 100, &l), 2);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, get(k, QO, ids[0], &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_READY && it.attempts == 0,
          "a rolled-back claim must leave the item READY with its attempts (state %u attempts %u)",
          it.state, it.attempts);
    RC(k, claim(k, QO, T0, 10, 2, T0 + 100, &l), 2);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, finish(k, QO, ids[0], 2, ORDERLY_ITEM_DONE, T0), 0);
    RC(k, qreset(k, QO, ids[1], ORDERLY_ITEM_DEAD, T0), 0);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, get(k, QO, ids[0], &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_LEASED && it.lease_token == tok(k, 2) && it.attempts == 1,
          "a rolled-back finish must leave the lease as it was");
    RC(k, get(k, QO, ids[1], &it), 0);
    CHECK(k, it.state == ORDERLY_ITEM_LEASED, "a rolled-back reset must leave the item as it was");
    rollback(k);
}

/* A worker that dies between its finishes and their commit must leave the
 * lease to expire and be taken over, never a row nobody can claim. */
static void c_undone_finish_claimable(struct kase *k)
{
    uint64_t a, b, c;
    struct clist l;

    RC(k, begin(k), 0);
    RC(k, push(k, QO, "", 1, "a", T0, T0, &a), 0);
    RC(k, push(k, QO, "g", 1, "b", T0, T0, &b), 0);
    RC(k, push(k, QO, "g", 1, "c", T0, T0, &c), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 10, 1, T0 + 100, &l), 3);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, finish(k, QO, a, 1, ORDERLY_ITEM_DONE, T0 + 10), 0);
    RC(k, finish(k, QO, b, 1, ORDERLY_ITEM_DEAD, T0 + 10), 0);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 100, 10, 2, T0 + 200, &l), 3);
    CHECK(k, l.it[0].id == a && l.it[1].id == b && l.it[2].id == c,
          "after a rolled-back finish the expired leases must be taken over in id order");
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, finish(k, QO, a, 2, ORDERLY_ITEM_DONE, T0 + 110), 0);
    RC(k, finish(k, QO, b, 2, ORDERLY_ITEM_DONE, T0 + 110), 0);
    RC(k, crash(k), 0);
    CHECK(k, k->s != NULL, "crash left no storage handle");
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 200, 10, 3, T0 + 300, &l), 3);
    CHECK(k, l.it[0].id == a && l.it[1].id == b && l.it[2].id == c,
          "after a crash lost the finishes the expired leases must be taken over in id order");
    RC(k, commit(k), 0);
}

static void c_queues_independent(struct kase *k)
{
    uint64_t o, t, c;
    struct clist l;

    RC(k, begin(k), 0);
    RC(k, push(k, QO, "g", 1, "o", T0, T0, &o), 0);
    RC(k, push(k, QT, "g", 2, "t", T0, T0, &t), 0);
    RC(k, push(k, QC, "g", 3, "c", T0, T0, &c), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0, 10, 1, T0 + 100, &l), 1);
    CHECK(k, l.it[0].id == o && l.it[0].kind == 1, "outbox claim took another queue's item");
    /* group "g" is leased in the outbox; the same name elsewhere is unrelated */
    RC(k, claim(k, QT, T0, 10, 2, T0 + 100, &l), 1);
    CHECK(k, l.it[0].id == t && l.it[0].kind == 2, "timers claim took another queue's item");
    RC(k, claim(k, QC, T0, 10, 3, T0 + 100, &l), 1);
    CHECK(k, l.it[0].id == c && l.it[0].kind == 3, "operations claim took another queue's item");
    RC(k, commit(k), 0);
}

/* ---- version 3: the optional slots ------------------------------------------ */

static int has_v3(const struct kase *k, size_t offset)
{
    void *const *slot;

    if (k->s->version < 3)
        return 0;
    slot = (void *const *)(const void *)((const char *)k->s + offset);
    return *slot != NULL;
}

static int next_due(struct kase *k, int queue, orderly_time_ms *due)
{
    *due = -1;
    return k->s->queue_next_due(k->s, k->ctx, k->txn, queue, due);
}

static void c_next_due(struct kase *k)
{
    orderly_time_ms due;
    uint64_t a, b, c;
    struct clist l;

    if (!has_v3(k, offsetof(orderly_storage, queue_next_due)))
        return; /* optional: nothing to hold it to */
    RC(k, begin(k), 0);
    RC(k, next_due(k, QO, &due), ORDERLY_ENOTFOUND);
    RC(k, push(k, QO, "", 1, "late", T0, T0 + 50, &a), 0);
    RC(k, push(k, QO, "", 1, "early", T0, T0 + 10, &b), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, next_due(k, QO, &due), 0);
    CHECK(k, due == T0 + 10, "next due is %lld, want the least READY due %lld", (long long)due,
          (long long)(T0 + 10));
    RC(k, next_due(k, ORDERLY_QUEUE_TIMERS, &due), ORDERLY_ENOTFOUND);
    /* a LEASED item counts from when its lease lapses */
    RC(k, claim(k, QO, T0 + 10, 1, 1, T0 + 30, &l), 1);
    RC(k, next_due(k, QO, &due), 0);
    CHECK(k, due == T0 + 30, "next due is %lld, want the lease's end %lld", (long long)due,
          (long long)(T0 + 30));
    /* the transaction's own pushes count */
    RC(k, push(k, QO, "", 1, "own", T0, T0 + 20, &c), 0);
    RC(k, next_due(k, QO, &due), 0);
    CHECK(k, due == T0 + 20, "next due is %lld, want the own push's %lld", (long long)due,
          (long long)(T0 + 20));
    RC(k, commit(k), 0);
    /* finished items never come due */
    RC(k, begin(k), 0);
    RC(k, finish(k, QO, b, 1, ORDERLY_ITEM_DONE, T0 + 11), 0);
    RC(k, qreset(k, QO, a, ORDERLY_ITEM_DEAD, T0 + 11), 0);
    RC(k, qreset(k, QO, c, ORDERLY_ITEM_DONE, T0 + 11), 0);
    RC(k, next_due(k, QO, &due), ORDERLY_ENOTFOUND);
    RC(k, commit(k), 0);
}

/* ---- version 4: the optional slot ------------------------------------------- */

static int has_v4(const struct kase *k, size_t offset)
{
    return k->s->version >= 4 && has_v3(k, offset);
}

static int next_due_except(struct kase *k, int queue, uint64_t token, orderly_time_ms *due)
{
    *due = -1;
    return k->s->queue_next_due_except(k->s, k->ctx, k->txn, queue, token, due);
}

/* The outbox's next due leaving out token's leases is want, and with
 * token 0 it is queue_next_due's answer (when the adapter has that slot). */
#define DUE_EXCEPT(k, token, want)                                                          \
    do {                                                                                   \
        orderly_time_ms got_, plain_;                                                      \
        RC(k, next_due_except(k, QO, (token), &got_), 0);                                  \
        CHECK(k, got_ == (want), "queue_next_due_except(token %llu) is %lld, want %lld",   \
              (unsigned long long)(token), (long long)got_, (long long)(want));            \
        if ((token) == 0 && has_v3(k, offsetof(orderly_storage, queue_next_due))) {       \
            RC(k, next_due(k, QO, &plain_), 0);                                            \
            CHECK(k, plain_ == got_,                                                       \
                  "queue_next_due_except(token 0) is %lld, queue_next_due %lld",           \
                  (long long)got_, (long long)plain_);                                     \
        }                                                                                  \
    } while (0)

static void c_next_due_except(struct kase *k)
{
    orderly_time_ms due;
    uint64_t a, b, c, d, e, t, u, v;
    struct clist l;

    if (!has_v4(k, offsetof(orderly_storage, queue_next_due_except)))
        return; /* optional: nothing to hold it to */
    RC(k, begin(k), 0);
    RC(k, next_due_except(k, QO, 0, &due), ORDERLY_ENOTFOUND);
    CHECK(k, due == -1, "ENOTFOUND must leave *due_out untouched");
    RC(k, push(k, QO, "", 1, "a", T0, T0 + 40, &a), 0);
    RC(k, push(k, QO, "", 1, "b", T0, T0 + 10, &b), 0);
    RC(k, push(k, QO, "", 1, "c", T0, T0 + 20, &c), 0);
    RC(k, push(k, QO, "", 1, "d", T0, T0 + 60, &d), 0);
    RC(k, commit(k), 0);

    /* two claims: b under t until T0+30, c under u until T0+35 */
    RC(k, begin(k), 0);
    RC(k, claim(k, QO, T0 + 10, 1, 1, T0 + 30, &l), 1);
    CHECK(k, l.it[0].id == b, "the claim at T0+10 took item %llu, want %llu",
          (unsigned long long)l.it[0].id, (unsigned long long)b);
    RC(k, claim(k, QO, T0 + 20, 1, 2, T0 + 35, &l), 1);
    CHECK(k, l.it[0].id == c, "the claim at T0+20 took item %llu, want %llu",
          (unsigned long long)l.it[0].id, (unsigned long long)c);
    t = tok(k, 1);
    u = tok(k, 2);
    DUE_EXCEPT(k, 0, T0 + 30);
    DUE_EXCEPT(k, t, T0 + 35);        /* t's lease left out, u's counts */
    DUE_EXCEPT(k, u, T0 + 30);
    DUE_EXCEPT(k, tok(k, 99), T0 + 30); /* a token nobody holds leaves out nothing */
    RC(k, commit(k), 0);

    /* committed, and read in a later transaction, it answers the same */
    RC(k, begin(k), 0);
    DUE_EXCEPT(k, t, T0 + 35);
    RC(k, finish(k, QO, c, 2, ORDERLY_ITEM_DONE, T0 + 21), 0);
    DUE_EXCEPT(k, t, T0 + 40);        /* then the READY a */
    RC(k, qreset(k, QO, a, ORDERLY_ITEM_DONE, T0 + 21), 0);
    RC(k, qreset(k, QO, d, ORDERLY_ITEM_DEAD, T0 + 21), 0);
    /* only t's row is pending: nothing else is */
    RC(k, next_due_except(k, QO, t, &due), ORDERLY_ENOTFOUND);
    CHECK(k, due == -1, "ENOTFOUND must leave *due_out untouched");
    RC(k, next_due_except(k, ORDERLY_QUEUE_TIMERS, t, &due), ORDERLY_ENOTFOUND);
    DUE_EXCEPT(k, 0, T0 + 30);
    /* the transaction's own pushes count, and so do their leases */
    RC(k, push(k, QO, "", 1, "e", T0, T0 + 25, &e), 0);
    DUE_EXCEPT(k, t, T0 + 25);
    RC(k, claim(k, QO, T0 + 25, 10, 3, T0 + 90, &l), 1);
    CHECK(k, l.it[0].id == e, "the claim at T0+25 took item %llu, want the own push %llu",
          (unsigned long long)l.it[0].id, (unsigned long long)e);
    v = tok(k, 3);
    DUE_EXCEPT(k, t, T0 + 90);
    DUE_EXCEPT(k, v, T0 + 30);
    DUE_EXCEPT(k, 0, T0 + 30);
    RC(k, commit(k), 0);

    RC(k, begin(k), 0);
    RC(k, finish(k, QO, b, 1, ORDERLY_ITEM_DONE, T0 + 26), 0);
    RC(k, next_due_except(k, QO, v, &due), ORDERLY_ENOTFOUND);
    DUE_EXCEPT(k, t, T0 + 90);
    RC(k, commit(k), 0);
}

static void c_claim_sees_own_pushes(struct kase *k)
{
    uint64_t a, b, c, d;
    struct clist l;

    if (k->s->version < 3)
        return; /* promised from version 3 on, for hand-off */
    RC(k, begin(k), 0);
    RC(k, push(k, QO, "g", 1, "old", T0, T0, &a), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, push(k, QO, "g", 1, "new", T0, T0, &b), 0);
    RC(k, push(k, QO, "h", 1, "later", T0, T0 + 99, &c), 0);
    RC(k, push(k, QO, "h", 1, "behind", T0, T0, &d), 0);
    RC(k, claim(k, QO, T0, 10, 1, T0 + 100, &l), 2);
    CHECK(k, l.it[0].id == a && l.it[1].id == b,
          "a claim must take its own transaction's due pushes after the committed ones, in order");
    CHECK(k, l.it[1].state == ORDERLY_ITEM_READY && l.it[1].attempts == 1,
          "an own push is claimed from READY with its first attempt");
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, get(k, QO, b, &l.it[0]), 0);
    CHECK(k, l.it[0].state == ORDERLY_ITEM_LEASED && l.it[0].lease_until == T0 + 100,
          "the claim of an own push must be committed with it");
    RC(k, commit(k), 0);
}

static void c_begin_read(struct kase *k)
{
    orderly_queue_stats st;
    uint64_t version, a;

    if (!has_v3(k, offsetof(orderly_storage, begin_read)))
        return;
    RC(k, begin(k), 0);
    RC(k, save(k, "r", "one", 0), 0);
    RC(k, push(k, QO, "", 1, "x", T0, T0, &a), 0);
    RC(k, commit(k), 0);
    {
        void *txn = NULL;
        RC(k, k->s->begin_read(k->s, k->ctx, &txn), 0);
        k->txn = txn;
    }
    RC(k, load(k, "r", &version), 0);
    CHECK(k, version == 1 && loaded(k, "one"), "a read transaction must see the last commit");
    RC(k, stats(k, QO, T0, &st), 0);
    CHECK(k, st.due == 1, "a read transaction counts %llu due items, want 1",
          (unsigned long long)st.due);
    RC(k, commit(k), 0);
    {
        void *txn = NULL;
        RC(k, k->s->begin_read(k->s, k->ctx, &txn), 0);
        k->txn = txn;
    }
    RC(k, load(k, "r", &version), 0);
    rollback(k);
}

/* ---- running them ----------------------------------------------------------- */

struct contract_case {
    const char *name;
    void (*run)(struct kase *k);
};

/* ---- order history (storage version 3, optional) ----------------------- */

struct hlist {
    uint32_t seq[LIST_MAX], kind[LIST_MAX];
    char payload[LIST_MAX][FIELD_MAX];
    orderly_time_ms created[LIST_MAX];
    size_t n;
    int stop_code;
};

static int has_history(const struct kase *k)
{
    return k->s->version >= 3 && k->s->history_append != NULL && k->s->history_scan != NULL;
}

static int happend(struct kase *k, const char *group, uint32_t seq, uint32_t kind,
                   const char *payload)
{
    orderly_history_item it;

    it.group = group;
    it.seq = seq;
    it.kind = kind;
    it.payload = (const uint8_t *)payload;
    it.payload_len = strlen(payload);
    it.created = T0 + seq;
    return k->s->history_append(k->s, k->ctx, k->txn, &it);
}

static int hcollect(const orderly_history_item *it, void *ud)
{
    struct hlist *l = ud;

    if (l->stop_code < 0)
        return l->stop_code;
    if (l->n == LIST_MAX)
        return 0;
    l->seq[l->n] = it->seq;
    l->kind[l->n] = it->kind;
    l->created[l->n] = it->created;
    snprintf(l->payload[l->n], FIELD_MAX, "%.*s",
             (int)(it->payload_len < FIELD_MAX ? it->payload_len : FIELD_MAX - 1),
             (const char *)it->payload);
    l->n++;
    return 0;
}

static int hscan(struct kase *k, const char *group, uint32_t from, size_t max, struct hlist *l)
{
    memset(l, 0, sizeof *l);
    return k->s->history_scan(k->s, k->ctx, k->txn, group, from, max, hcollect, l);
}

/* An adapter without history passes: the slots are optional. */
static void c_history_order(struct kase *k)
{
    struct hlist l;

    if (!has_history(k))
        return;
    RC(k, begin(k), 0);
    RC(k, happend(k, "o1", 0, 1, "a"), 0);
    RC(k, happend(k, "o2", 0, 3, "x"), 0);
    RC(k, happend(k, "o1", 1, 2, "b"), 0);
    RC(k, hscan(k, "o1", 0, 10, &l), 2);
    CHECK(k, l.seq[1] == 1, "a transaction must read its own history appends");
    RC(k, happend(k, "o1", 2, 1, "c"), 0);
    RC(k, commit(k), 0);
    RC(k, begin(k), 0);
    RC(k, hscan(k, "o1", 0, 10, &l), 3);
    CHECK(k, l.seq[0] == 0 && l.seq[1] == 1 && l.seq[2] == 2, "history is listed in seq order");
    CHECK(k, l.kind[1] == 2 && strcmp(l.payload[1], "b") == 0 && l.created[1] == T0 + 1,
          "history item 1 came back as kind %u, \"%s\", created %lld", l.kind[1], l.payload[1],
          (long long)l.created[1]);
    RC(k, hscan(k, "o1", 1, 1, &l), 1);
    CHECK(k, l.seq[0] == 1, "scan from seq 1, max 1, gave seq %u", l.seq[0]);
    RC(k, hscan(k, "o1", 3, 10, &l), 0);
    RC(k, hscan(k, "o2", 0, 10, &l), 1);
    RC(k, hscan(k, "o3", 0, 10, &l), 0);
    memset(&l, 0, sizeof l);
    l.stop_code = ORDERLY_EUSER;
    RC(k, k->s->history_scan(k->s, k->ctx, k->txn, "o1", 0, 10, hcollect, &l), ORDERLY_EUSER);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, happend(k, "o1", 1, 2, "again"), ORDERLY_EEXISTS);
    rollback(k);
}

static void c_history_discarded(struct kase *k)
{
    struct hlist l;

    if (!has_history(k))
        return;
    RC(k, begin(k), 0);
    RC(k, happend(k, "o1", 0, 1, "a"), 0);
    rollback(k);
    RC(k, begin(k), 0);
    RC(k, hscan(k, "o1", 0, 10, &l), 0);
    RC(k, happend(k, "o1", 0, 1, "a"), 0);
    RC(k, crash(k), 0);
    CHECK(k, k->s != NULL, "crash left no storage handle");
    RC(k, begin(k), 0);
    RC(k, hscan(k, "o1", 0, 10, &l), 0);
    RC(k, happend(k, "o1", 0, 1, "kept"), 0);
    RC(k, commit(k), 0);
}

static const struct contract_case cases[] = {
    { "contract: vtable version and required methods", c_vtable },
    { "contract: a commit survives a crash", c_commit_durable },
    { "contract: rollback discards records, pushes and marks", c_rollback_discards },
    { "contract: a crash discards the open transaction and frees its keys", c_crash_discards_open },
    { "contract: save is compare-and-swap on the version", c_save_cas },
    { "contract: empty records, payloads and results round-trip", c_empty_values },
    { "contract: scan walks keys in byte order and pages", c_scan_order },
    { "contract: push assigns increasing ids per queue and keeps every field", c_push_ids },
    { "contract: ids are never reused after a purge", c_ids_never_reused },
    { "contract: claim takes due items and expired leases, reports the from-state", c_claim_due_and_lease },
    { "contract: claim keeps per-group order", c_claim_group_order },
    { "contract: the store issues fencing tokens, unique across handles and crashes",
      c_tokens_from_store },
    { "contract: claims count attempts up to the cap; finish sets them", c_attempts_capped },
    { "contract: finish is fenced by the lease token", c_finish_fencing },
    { "contract: expected misses leave the transaction committable", c_expected_misses },
    { "contract: queue_reset overrides leases and restarts attempts", c_reset_override },
    { "contract: queue_get and queue_scan by state, id and max", c_get_and_scan },
    { "contract: a callback's error stops the method and is returned", c_callback_stop },
    { "contract: purge deletes only finished items, bounded", c_purge_bounded },
    { "contract: queue_stats counts every state", c_stats },
    { "contract: idempotency marks: put, get, expiry, purge, EEXISTS", c_idem },
    { "contract: rollback undoes claims, finishes and resets", c_rollback_queue_changes },
    { "contract: a finish undone by rollback or crash leaves the lease to expire",
      c_undone_finish_claimable },
    { "contract: the three queues are independent", c_queues_independent },
    { "contract: history lists an order's items in seq order, once each", c_history_order },
    { "contract: rollback and crash discard history appends", c_history_discarded },
    { "contract (v3, optional): queue_next_due is the earliest claimable instant", c_next_due },
    { "contract (v3): a claim takes its own transaction's pushes", c_claim_sees_own_pushes },
    { "contract (v4, optional): queue_next_due_except leaves out one claim's leases",
      c_next_due_except },
    { "contract (v3, optional): begin_read sees the last commit and ends either way",
      c_begin_read },
};

static void run_case(struct orderly__conf_tap *tap, const orderly_conformance_target *t,
                     orderly_ctx *ctx, orderly_buf *buf, const void *cv)
{
    const struct contract_case *c = cv;
    struct kase k;
    int rc;

    memset(&k, 0, sizeof k);
    k.t = t;
    k.ctx = ctx;
    k.buf = buf;
    orderly_ctx_clear(ctx);
    if ((rc = t->reset(t->user_data)) < 0) {
        orderly__conf_note(k.note, "target reset failed: %s", orderly_error_name(rc));
    } else if ((rc = t->open(&k.s, t->user_data)) < 0 || k.s == NULL) {
        orderly__conf_note(k.note, "target open failed: %s", orderly_error_name(rc));
        k.s = NULL;
    } else {
        c->run(&k);
        rollback(&k);
        t->close(k.s, t->user_data);
    }
    orderly__conf_report(tap, c->name, k.note[0] == '\0', k.note);
}

int orderly__conf_contract(struct orderly__conf_tap *tap, const orderly_conformance_target *t)
{
    return orderly__conf_run_table(tap, t, cases, sizeof cases / sizeof cases[0], sizeof cases[0],
                                   run_case);
}
