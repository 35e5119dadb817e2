/*
 * Two handles on one store: the rules that only show when two engines
 * (two processes, two machines) share a store. The second handle comes
 * from target->open while the first is open; the target decides what a
 * handle is (one shared reference store, a second connection).
 *
 * A store may serialise writers, so that a second handle cannot begin
 * while the first holds a transaction (SQLite: BEGIN IMMEDIATE waits out
 * its busy timeout, then ECONFLICT). Each case accepts that answer and
 * then plays the same race in the only order such a store allows: the
 * first transaction commits before the second begins. Stores that run
 * transactions side by side are held to the concurrent rule.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define T0 1000000LL
#define QO ORDERLY_QUEUE_OUTBOX
#define MAXI 16

struct side {
    orderly_storage *s;
    void *txn;
};

struct duo {
    const orderly_conformance_target *t;
    orderly_ctx *ctx;
    orderly_buf *buf;
    struct side a, b;
    char note[ORDERLY__CONF_NOTE_MAX];
};

struct got {
    uint64_t id[MAXI];
    uint64_t token;
    size_t n;
};

/* The check that failed, where, and what the adapter said. */
#define fail_at(d, line, ...) \
    orderly__conf_fail_at((d)->note, (d)->ctx, "handles.c", (line), __VA_ARGS__)

#define CHECK(d, cond, ...)                        \
    do {                                           \
        if (!(cond)) {                             \
            fail_at((d), __LINE__, __VA_ARGS__);   \
            return;                                \
        }                                          \
    } while (0)

#define RC(d, expr, want)                                                                   \
    do {                                                                                    \
        int rc_ = (expr), want_ = (want);                                                   \
        if (rc_ != want_) {                                                                 \
            fail_at((d), __LINE__, "%s returned %d (%s), the contract asks for %d (%s)",     \
                    #expr, rc_, rc_ < 0 ? orderly_error_name(rc_) : "a count", want_,       \
                    want_ < 0 ? orderly_error_name(want_) : "a count");                    \
            return;                                                                         \
        }                                                                                   \
    } while (0)

static int begin(struct duo *d, struct side *x)
{
    void *txn = NULL;
    int rc = x->s->begin(x->s, d->ctx, &txn);

    if (rc == 0)
        x->txn = txn;
    return rc;
}

static int commit(struct duo *d, struct side *x)
{
    void *txn = x->txn;

    x->txn = NULL;
    return x->s->commit(x->s, d->ctx, txn);
}

static void rollback(struct duo *d, struct side *x)
{
    void *txn = x->txn;

    x->txn = NULL;
    if (txn != NULL)
        x->s->rollback(x->s, d->ctx, txn);
}

/* Begins on b while a holds a transaction: 1 when b runs beside a, 0
 * when the store serialises writers (then a has been committed and b
 * begun after it), < 0 on any other failure. */
static int begin_beside(struct duo *d, int *rc_out)
{
    int rc = begin(d, &d->b);

    *rc_out = rc;
    if (rc == 0)
        return 1;
    if (rc != ORDERLY_ECONFLICT)
        return rc;
    orderly_ctx_clear(d->ctx);
    if ((rc = commit(d, &d->a)) < 0 || (rc = begin(d, &d->b)) < 0) {
        *rc_out = rc;
        return rc;
    }
    return 0;
}

static int collect(const orderly_queue_item *it, void *ud)
{
    struct got *g = ud;

    if (g->n < MAXI)
        g->id[g->n++] = it->id;
    return 0;
}

static int claim(struct duo *d, struct side *x, orderly_time_ms now, size_t max,
                 orderly_time_ms lease_until, struct got *g)
{
    memset(g, 0, sizeof *g);
    return x->s->queue_claim(x->s, d->ctx, x->txn, QO, now, max, 100, lease_until, &g->token,
                             collect, g);
}

static int push(struct duo *d, struct side *x, const char *group, uint64_t *id)
{
    orderly_queue_item it;

    memset(&it, 0, sizeof it);
    it.group = group;
    it.kind = 1;
    it.payload = (const uint8_t *)"p";
    it.payload_len = 1;
    it.created = T0;
    it.due = T0;
    return x->s->queue_push(x->s, d->ctx, x->txn, QO, &it, id);
}

static int has(const struct got *g, uint64_t id)
{
    size_t i;

    for (i = 0; i < g->n; i++)
        if (g->id[i] == id)
            return 1;
    return 0;
}

static void fp(uint8_t out[16], uint8_t seed)
{
    memset(out, seed, 16);
}

/* ---- the cases -------------------------------------------------------------- */

static void h_disjoint_claims(struct duo *d)
{
    uint64_t ids[4];
    struct got ga, gb;
    size_t i;
    int rc, beside;

    RC(d, begin(d, &d->a), 0);
    for (i = 0; i < 4; i++)
        RC(d, push(d, &d->a, "", &ids[i]), 0);
    RC(d, commit(d, &d->a), 0);

    RC(d, begin(d, &d->a), 0);
    RC(d, claim(d, &d->a, T0, 2, T0 + 1000, &ga), 2);
    beside = begin_beside(d, &rc);
    CHECK(d, beside >= 0, "the second handle could not begin: %s", orderly_error_name(rc));
    RC(d, claim(d, &d->b, T0, 4, T0 + 1000, &gb), 2);
    for (i = 0; i < gb.n; i++)
        CHECK(d, !has(&ga, gb.id[i]), "item %llu was claimed by both handles",
              (unsigned long long)gb.id[i]);
    CHECK(d, ga.token != gb.token, "both handles' claims were issued token %llu",
          (unsigned long long)ga.token);
    RC(d, commit(d, &d->b), 0);
    if (beside)
        RC(d, commit(d, &d->a), 0);
}

static void h_inflight_key(struct duo *d)
{
    orderly_idem_record rec, got;
    int rc, beside;

    memset(&rec, 0, sizeof rec);
    fp(rec.fingerprint, 7);
    rec.expires = T0 + 1000;
    rec.result = (const uint8_t *)"r";
    rec.result_len = 1;

    RC(d, begin(d, &d->a), 0);
    RC(d, d->a.s->idem_put(d->a.s, d->ctx, d->a.txn, "key", T0, &rec), 0);
    beside = begin_beside(d, &rc);
    CHECK(d, beside >= 0, "the second handle could not begin: %s", orderly_error_name(rc));
    if (beside) {
        RC(d, d->b.s->idem_get(d->b.s, d->ctx, d->b.txn, "key", T0, &got, d->buf),
           ORDERLY_EINFLIGHT);
        RC(d, d->b.s->idem_put(d->b.s, d->ctx, d->b.txn, "key", T0, &rec), ORDERLY_EINFLIGHT);
        rollback(d, &d->b);
        RC(d, commit(d, &d->a), 0);
        RC(d, begin(d, &d->b), 0);
    }
    /* once committed, the mark is the other handle's to read */
    RC(d, d->b.s->idem_get(d->b.s, d->ctx, d->b.txn, "key", T0, &got, d->buf), 0);
    CHECK(d, got.fingerprint[0] == 7 && got.result_len == 1,
          "the second handle read a different mark");
    RC(d, d->b.s->idem_put(d->b.s, d->ctx, d->b.txn, "key", T0, &rec), ORDERLY_EEXISTS);
    rollback(d, &d->b);

    /* a key held by a transaction that rolls back is free again */
    RC(d, begin(d, &d->a), 0);
    RC(d, d->a.s->idem_put(d->a.s, d->ctx, d->a.txn, "other", T0, &rec), 0);
    rollback(d, &d->a);
    RC(d, begin(d, &d->b), 0);
    RC(d, d->b.s->idem_put(d->b.s, d->ctx, d->b.txn, "other", T0, &rec), 0);
    RC(d, commit(d, &d->b), 0);
}

static void h_version_race(struct duo *d)
{
    uint64_t va = 0, vb = 0;
    int rc, beside;

    RC(d, begin(d, &d->a), 0);
    RC(d, d->a.s->save(d->a.s, d->ctx, d->a.txn, "order", (const uint8_t *)"v1", 2, 0), 0);
    RC(d, commit(d, &d->a), 0);

    RC(d, begin(d, &d->a), 0);
    RC(d, d->a.s->load(d->a.s, d->ctx, d->a.txn, "order", d->buf, &va), 0);
    beside = begin_beside(d, &rc);
    CHECK(d, beside >= 0, "the second handle could not begin: %s", orderly_error_name(rc));
    if (beside) {
        RC(d, d->b.s->load(d->b.s, d->ctx, d->b.txn, "order", d->buf, &vb), 0);
        CHECK(d, vb == va, "the handles read versions %llu and %llu of one record",
              (unsigned long long)va, (unsigned long long)vb);
        RC(d, d->a.s->save(d->a.s, d->ctx, d->a.txn, "order", (const uint8_t *)"A", 1, va), 0);
        RC(d, commit(d, &d->a), 0);
    } else {
        /* a committed first; its save is then the one already stored */
        rollback(d, &d->b);
        RC(d, begin(d, &d->a), 0);
        RC(d, d->a.s->save(d->a.s, d->ctx, d->a.txn, "order", (const uint8_t *)"A", 1, va), 0);
        RC(d, commit(d, &d->a), 0);
        RC(d, begin(d, &d->b), 0);
        vb = va;
    }
    RC(d, d->b.s->save(d->b.s, d->ctx, d->b.txn, "order", (const uint8_t *)"B", 1, vb),
       ORDERLY_ECONFLICT);
    rollback(d, &d->b);
    RC(d, begin(d, &d->b), 0);
    RC(d, d->b.s->load(d->b.s, d->ctx, d->b.txn, "order", d->buf, &vb), 0);
    CHECK(d, vb == va + 1 && orderly_buf_len(d->buf) == 1 && orderly_buf_data(d->buf)[0] == 'A',
          "the winner's save must be the one stored (version %llu)", (unsigned long long)vb);
    rollback(d, &d->b);
}

static void h_stale_token(struct duo *d)
{
    struct got ga, gb;
    uint64_t id;

    RC(d, begin(d, &d->a), 0);
    RC(d, push(d, &d->a, "g", &id), 0);
    RC(d, commit(d, &d->a), 0);
    /* a claims, then stalls past its lease; b takes the item over */
    RC(d, begin(d, &d->a), 0);
    RC(d, claim(d, &d->a, T0, 1, T0 + 100, &ga), 1);
    RC(d, commit(d, &d->a), 0);
    RC(d, begin(d, &d->b), 0);
    RC(d, claim(d, &d->b, T0 + 200, 1, T0 + 1200, &gb), 1);
    RC(d, commit(d, &d->b), 0);
    CHECK(d, gb.token > ga.token, "the takeover was issued token %llu after %llu",
          (unsigned long long)gb.token, (unsigned long long)ga.token);
    /* a wakes up and completes under its old token: refused, harmlessly */
    RC(d, begin(d, &d->a), 0);
    RC(d, d->a.s->queue_finish(d->a.s, d->ctx, d->a.txn, QO, id, ga.token, ORDERLY_ITEM_DONE,
                               T0 + 210, 1),
       ORDERLY_ECONFLICT);
    RC(d, commit(d, &d->a), 0);
    RC(d, begin(d, &d->b), 0);
    RC(d, d->b.s->queue_finish(d->b.s, d->ctx, d->b.txn, QO, id, gb.token, ORDERLY_ITEM_DONE,
                               T0 + 220, 2),
       0);
    RC(d, commit(d, &d->b), 0);
}

static void h_poison_parks_own_group(struct duo *d)
{
    uint64_t a1, a2, b1, b2;
    struct got ga, gb;
    int rc, beside;

    RC(d, begin(d, &d->a), 0);
    RC(d, push(d, &d->a, "order-a", &a1), 0);
    RC(d, push(d, &d->a, "order-b", &b1), 0);
    RC(d, push(d, &d->a, "order-a", &a2), 0);
    RC(d, push(d, &d->a, "order-b", &b2), 0);
    RC(d, commit(d, &d->a), 0);

    /* a holds order-a's head (the poison row its worker chokes on) */
    RC(d, begin(d, &d->a), 0);
    RC(d, claim(d, &d->a, T0, 1, T0 + 1000, &ga), 1);
    CHECK(d, ga.id[0] == a1, "the first claim must take the oldest item");
    beside = begin_beside(d, &rc);
    CHECK(d, beside >= 0, "the second handle could not begin: %s", orderly_error_name(rc));
    RC(d, claim(d, &d->b, T0, 10, T0 + 1000, &gb), 2);
    CHECK(d, has(&gb, b1) && has(&gb, b2) && !has(&gb, a2),
          "the other handle must take order-b's items and not order-a's younger one");
    RC(d, commit(d, &d->b), 0);
    if (!beside)
        RC(d, begin(d, &d->a), 0);
    /* parked: DEAD no longer holds its order back */
    RC(d, d->a.s->queue_finish(d->a.s, d->ctx, d->a.txn, QO, a1, ga.token, ORDERLY_ITEM_DEAD,
                               T0 + 10, 1),
       0);
    RC(d, commit(d, &d->a), 0);
    RC(d, begin(d, &d->b), 0);
    RC(d, claim(d, &d->b, T0 + 20, 10, T0 + 1000, &gb), 1);
    CHECK(d, gb.id[0] == a2, "once the poison row is parked its order's next item is claimable");
    RC(d, commit(d, &d->b), 0);
}

struct handles_case {
    const char *name;
    void (*run)(struct duo *d);
};

static const struct handles_case cases[] = {
    { "handles: concurrent claims take disjoint items", h_disjoint_claims },
    { "handles: a key in flight on one handle is EINFLIGHT on the other", h_inflight_key },
    { "handles: the save that loses a version race gets ECONFLICT", h_version_race },
    { "handles: a completion with a taken-over lease's token is refused", h_stale_token },
    { "handles: a poison row held on one handle parks only its own order",
      h_poison_parks_own_group },
};

static void run_case(struct orderly__conf_tap *tap, const orderly_conformance_target *t,
                     orderly_ctx *ctx, orderly_buf *buf, const void *cv)
{
    const struct handles_case *c = cv;
    struct duo d;
    int rc;

    memset(&d, 0, sizeof d);
    d.t = t;
    d.ctx = ctx;
    d.buf = buf;
    orderly_ctx_clear(ctx);
    if ((rc = t->reset(t->user_data)) < 0) {
        orderly__conf_note(d.note, "target reset failed: %s", orderly_error_name(rc));
    } else if ((rc = t->open(&d.a.s, t->user_data)) < 0 || d.a.s == NULL) {
        orderly__conf_note(d.note, "target open failed: %s", orderly_error_name(rc));
    } else {
        if ((rc = t->open(&d.b.s, t->user_data)) < 0 || d.b.s == NULL) {
            orderly__conf_note(d.note, "a second handle could not be opened: %s",
                               orderly_error_name(rc));
        } else {
            c->run(&d);
            rollback(&d, &d.b);
            rollback(&d, &d.a);
            if (d.b.s != d.a.s)
                t->close(d.b.s, t->user_data);
        }
        rollback(&d, &d.a);
        t->close(d.a.s, t->user_data);
    }
    orderly__conf_report(tap, c->name, d.note[0] == '\0', d.note);
}

int orderly__conf_handles(struct orderly__conf_tap *tap, const orderly_conformance_target *t)
{
    return orderly__conf_run_table(tap, t, cases, sizeof cases / sizeof cases[0], sizeof cases[0],
                                   run_case);
}
