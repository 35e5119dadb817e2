/*
 * The world outside the engine during a simulation: the payment provider
 * and the inventory service, which carry out operations (each exactly
 * once per idempotency key, failing now and then like real services), and
 * the signed webhooks the provider sends back. Also the scheduler.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* The signing secret the simulated payment provider shares with the host. */
static const uint8_t psp_secret[] = "whsec_orderly_simulation";

/* The one SKU whose restock keeps failing until an operator steps in. */
#define SIM_DISCONTINUED_SKU 999

void sim_fail(struct sim *s, const char *fmt, ...)
{
    va_list ap;

    if (s->failure[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(s->failure, sizeof s->failure, fmt, ap);
    va_end(ap);
}

double sim_rand(struct sim *s)
{
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

uint32_t sim_below(struct sim *s, uint32_t n)
{
    return (uint32_t)(sim_rand(s) * (double)n);
}

/* ---- scheduler: a binary min-heap on (at, seq) ------------------------------ */

static int before(const struct sim_action *a, const struct sim_action *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

int sim_schedule(struct sim *s, orderly_time_ms at, uint32_t order, uint32_t kind, int64_t arg)
{
    struct sim_action a, tmp;
    size_t i;

    if (s->heap_n == s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap * 2 : 1024;
        struct sim_action *h = realloc(s->heap, cap * sizeof *h);
        if (h == NULL)
            return ORDERLY_ENOMEM;
        s->heap = h;
        s->heap_cap = cap;
    }
    a.at = at;
    a.seq = s->heap_seq++;
    a.order = order;
    a.kind = kind;
    a.arg = arg;
    i = s->heap_n++;
    s->heap[i] = a;
    while (i > 0 && before(&s->heap[i], &s->heap[(i - 1) / 2])) {
        tmp = s->heap[i];
        s->heap[i] = s->heap[(i - 1) / 2];
        s->heap[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
    return ORDERLY_OK;
}

int sim_pop(struct sim *s, struct sim_action *out)
{
    struct sim_action tmp;
    size_t i = 0;

    if (s->heap_n == 0)
        return 0;
    *out = s->heap[0];
    s->heap[0] = s->heap[--s->heap_n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->heap_n && before(&s->heap[l], &s->heap[m]))
            m = l;
        if (r < s->heap_n && before(&s->heap[r], &s->heap[m]))
            m = r;
        if (m == i)
            break;
        tmp = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = tmp;
        i = m;
    }
    return 1;
}

/* ---- a set of 128-bit ids ------------------------------------------------------ */

static size_t slot_of(const uint8_t id[16], size_t cap)
{
    uint64_t h;

    memcpy(&h, id, sizeof h);
    return (size_t)(h * 0x9E3779B97F4A7C15ULL >> 7) & (cap - 1);
}

static int keyset_grow(struct sim_keyset *k)
{
    struct sim_keyset n;
    size_t i, j;

    n.cap = k->cap ? k->cap * 2 : 4096;
    n.n = k->n;
    n.keys = malloc(n.cap * sizeof *n.keys);
    n.used = calloc(n.cap, 1);
    if (n.keys == NULL || n.used == NULL) {
        free(n.keys);
        free(n.used);
        return ORDERLY_ENOMEM;
    }
    for (i = 0; i < k->cap; i++) {
        if (!k->used[i])
            continue;
        for (j = slot_of(k->keys[i], n.cap); n.used[j]; j = (j + 1) & (n.cap - 1))
            ;
        n.used[j] = 1;
        memcpy(n.keys[j], k->keys[i], 16);
    }
    sim_keyset_free(k);
    *k = n;
    return ORDERLY_OK;
}

int sim_keyset_has(const struct sim_keyset *k, const uint8_t id[16])
{
    size_t j;

    if (k->cap == 0)
        return 0;
    for (j = slot_of(id, k->cap); k->used[j]; j = (j + 1) & (k->cap - 1))
        if (memcmp(k->keys[j], id, 16) == 0)
            return 1;
    return 0;
}

int sim_keyset_add(struct sim_keyset *k, const uint8_t id[16])
{
    size_t j;

    if (sim_keyset_has(k, id))
        return 0;
    if ((k->n + 1) * 4 > k->cap * 3 && keyset_grow(k) < 0)
        return ORDERLY_ENOMEM;
    for (j = slot_of(id, k->cap); k->used[j]; j = (j + 1) & (k->cap - 1))
        ;
    k->used[j] = 1;
    memcpy(k->keys[j], id, 16);
    k->n++;
    return 1;
}

void sim_keyset_free(struct sim_keyset *k)
{
    free(k->keys);
    free(k->used);
    memset(k, 0, sizeof *k);
}

int sim_hex16(uint8_t out[16], const char *hex)
{
    int i;

    for (i = 0; i < 32; i++) {
        char ch = hex[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] = (uint8_t)(out[i / 2] | v);
    }
    return hex[32] == '\0' ? 0 : -1;
}

/* "sim-NNNNNN" is slot NNNNNN; "sim-NNNNNN.x<r>" that order's replacement. */
struct sim_order *sim_order_of(struct sim *s, const char *order_id)
{
    char digits[16];
    const char *dot;
    uint64_t i;
    size_t n;

    if (strncmp(order_id, "sim-", 4) != 0)
        return NULL;
    dot = strchr(order_id + 4, '.');
    n = dot != NULL ? (size_t)(dot - order_id - 4) : strlen(order_id + 4);
    if (n == 0 || n >= sizeof digits)
        return NULL;
    memcpy(digits, order_id + 4, n);
    digits[n] = '\0';
    if (cli_parse_u64(digits, 0, UINT64_MAX, &i) < 0 || i >= s->created)
        return NULL;
    if (dot == NULL)
        return &s->orders[i];
    if (s->orders[i].replacement == 0 ||
        strcmp(s->orders[s->orders[i].replacement - 1].id, order_id) != 0)
        return NULL;
    return &s->orders[s->orders[i].replacement - 1];
}

/* ---- executors ------------------------------------------------------------------ */

/* Lines are told apart by SKU and warehouse, which simulate never repeats
 * within an order. */
struct sim_line *sim_line_of(struct sim_order *o, uint64_t sku, uint32_t warehouse)
{
    uint32_t i;

    for (i = 0; i < o->n_lines; i++)
        if (o->lines[i].sku == sku && o->lines[i].warehouse == warehouse)
            return &o->lines[i];
    return NULL;
}

/* What the inventory does with a stock operation's lines. */
static void move_stock(struct sim *s, struct sim_order *o, const orderly_operation_view *op)
{
    struct sim_line *l;
    uint32_t i;

    for (i = 0; i < op->n_lines; i++) {
        if ((l = sim_line_of(o, op->sku[i], op->warehouse[i])) == NULL) {
            sim_fail(s, "%s %llu of %s names sku %llu in warehouse %u, which it never ordered",
                     orderly_op_name(op->op), (unsigned long long)op->id, o->id,
                     (unsigned long long)op->sku[i], op->warehouse[i]);
            continue;
        }
        if (op->op == ORDERLY_OP_RELEASE_RESERVATIONS)
            l->released += op->quantity[i];
        else if (op->op == ORDERLY_OP_RESTOCK)
            l->restocked += op->quantity[i];
        else
            l->reshipped += op->quantity[i];
    }
}

int sim_execute(const orderly_operation_view *op, void *user_data)
{
    struct sim *s = user_data;
    struct sim_order *o = sim_order_of(s, op->order_id);
    uint8_t key[16];
    uint32_t i;

    if (o == NULL || sim_hex16(key, op->key) < 0) {
        sim_fail(s, "operation %llu names order '%s' the simulation never made",
                 (unsigned long long)op->id, op->order_id);
        return ORDERLY_EINVAL;
    }
    if (op->op == ORDERLY_OP_RESTOCK && !s->discontinued_fixed)
        for (i = 0; i < op->n_lines; i++)
            if (op->sku[i] == SIM_DISCONTINUED_SKU)
                return ORDERLY_EUSER;   /* the warehouse rejects it until fixed */
    if (sim_rand(s) < s->faults) {
        s->c.executor_faults++;
        return ORDERLY_ETRANSPORT;
    }
    /* the outside service dedupes by key, as every real one must */
    if (sim_keyset_has(&s->executed, key))
        return ORDERLY_OK;
    if (sim_keyset_add(&s->executed, key) < 0)
        return ORDERLY_ENOMEM;
    s->c.operations_run++;
    switch (op->op) {
    case ORDERLY_OP_CAPTURE:
        o->psp_captured += op->amount;
        /* the provider answers later through a signed webhook */
        return sim_schedule(s, s->now + 2000 + (orderly_time_ms)sim_below(s, 120000),
                            (uint32_t)(o - s->orders), ACT_CAPTURE_RESULT, op->amount);
    case ORDERLY_OP_REFUND:
        o->psp_refunded += op->amount;
        return ORDERLY_OK;
    case ORDERLY_OP_VOID_AUTHORIZATION:
        o->psp_voided += op->amount;
        return ORDERLY_OK;
    case ORDERLY_OP_RESHIP:
        s->c.reships_sent++;
        move_stock(s, o, op);
        return ORDERLY_OK;
    case ORDERLY_OP_RELEASE_RESERVATIONS:
    case ORDERLY_OP_RESTOCK:
        move_stock(s, o, op);
        return ORDERLY_OK;
    default:
        return ORDERLY_OK;
    }
}

int sim_register_executors(struct sim *s)
{
    int op, rc;

    for (op = ORDERLY_OP_RELEASE_RESERVATIONS; op <= SIM_OP_LAST; op++)
        if ((rc = orderly_engine_set_executor(s->engine, op, sim_execute, s)) < 0)
            return rc;
    return ORDERLY_OK;
}

void sim_on_alert(const orderly_alert *a, void *user_data)
{
    struct sim *s = user_data;
    uint8_t id[16];

    memset(id, 0, sizeof id);
    memcpy(id, &a->item_id, sizeof a->item_id);
    switch (a->kind) {
    case ORDERLY_ALERT_DEAD_LETTER:
        s->c.dead_letter_alerts++;
        break;
    case ORDERLY_ALERT_OPERATION_EXHAUSTED:
        s->c.operations_exhausted_alerts++;
        if (sim_keyset_add(&s->exhausted, id) < 0)
            sim_fail(s, "out of memory recording an alert");
        break;
    case ORDERLY_ALERT_STALE_COMPLETION:
        s->c.stale_alerts++;
        break;
    default:
        break;
    }
}

/* ---- the payment provider's webhook ----------------------------------------------- */


int sim_capture_result(struct sim *s, struct sim_order *o, int64_t amount)
{
    orderly_envelope env;
    orderly_result res = ORDERLY_RESULT_INIT;
    cli_text body;
    char id[48], data[96], when[32], header[160];
    int copies, rc = 0, i, failed = 0;

    /* a few captures are declined by the bank after the fact */
    int ok = sim_rand(s) >= 0.03;

    memset(&env, 0, sizeof env);
    snprintf(id, sizeof id, "psp-%s-%u", o->id, ++o->psp_msgs);
    snprintf(data, sizeof data, "{\"index\":0,\"amount\":%lld}", (long long)amount);
    cli_format_time(when, sizeof when, s->now);
    env.id = id;
    env.source = "sim-psp";
    env.type = ok ? "payment.capture_succeeded" : "payment.capture_failed";
    env.subject = o->id;
    env.time = when;
    env.datacontenttype = "application/json";
    env.schemaversion = 1;
    env.data = data;
    env.data_len = strlen(data);
    body.len = 0;
    if ((rc = orderly_envelope_encode(&env, cli_text_append, &body, NULL)) < 0)
        return rc;
    if ((rc = orderly_webhook_sign(header, sizeof header, psp_secret, sizeof psp_secret - 1,
                                   (const uint8_t *)body.data, body.len, s->now / 1000)) < 0)
        return rc;
    if (!ok)
        o->psp_captured -= amount;
    /* providers redeliver webhooks; the engine must absorb the copy */
    copies = sim_rand(s) < 0.05 ? 2 : 1;
    sim_faults_for(s, o);
    for (i = 0; i < copies && failed == 0; i++) {
        int attempt;
        for (attempt = 0; attempt < 40; attempt++) {
            rc = sim_handle_webhook(s, o->id, psp_secret, sizeof psp_secret - 1, header,
                                    (const uint8_t *)body.data, body.len, 300, s->now, &res);
            if (rc != ORDERLY_ESTORAGE && rc != ORDERLY_ECONFLICT && rc != ORDERLY_EINFLIGHT)
                break;
            s->c.retries++;
        }
        s->c.webhooks++;
        if (rc == 0 && res.duplicate)
            s->c.duplicates_answered++;
        if (i > 0) {
            s->c.duplicates_sent++;
            if (rc == 0 && !res.duplicate)
                sim_fail(s, "webhook %s was processed twice", id);
        }
        if (rc < 0 && rc != ORDERLY_ETRANSITION && rc != ORDERLY_EGUARD)
            failed = rc;
    }
    sim_faults_for(s, NULL);
    if (failed < 0)
        return failed;
    if (ok == 0 && rc == 0)
        return sim_schedule(s, s->now + 600000, (uint32_t)(o - s->orders), ACT_STEP, 0);
    return ORDERLY_OK;
}
