/* Opening and closing an engine, its options, topics and read-side calls. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "../fsm/reactions.h"
#include "../fsm/table.h"
#include "internal.h"
#include "orderly/claim.h"
#include "orderly/return.h"

static const char *const default_topics[ORDERLY_TOPIC_COUNT + 1] = {
    NULL,
    "orderly.order",
    "orderly.payment",
    "orderly.inventory",
    "orderly.fulfillment",
    "orderly.shipment",
    "orderly.return",
    "orderly.commands",
};

static const orderly_engine_options defaults = ORDERLY_ENGINE_OPTIONS_INIT;
static const orderly_policy default_policy = ORDERLY_POLICY_INIT;

int orderly_topic_count(void)
{
    return ORDERLY_TOPIC_COUNT;
}

const char *orderly_topic_default_name(int topic)
{
    return topic >= 1 && topic <= ORDERLY_TOPIC_COUNT ? default_topics[topic] : NULL;
}

size_t orderly_id_max(void)
{
    return ORDERLY_ID_MAX;
}

size_t orderly_lines_max(void)
{
    return ORDERLY_LINES_MAX;
}

size_t orderly_parts_max(void)
{
    return ORDERLY_PARTS_MAX;
}

int orderly_engine_options_init(orderly_engine_options *opts, unsigned int version)
{
    if (opts == NULL)
        return ORDERLY_EINVAL;
    if (version == 0 || version > ORDERLY_ENGINE_OPTIONS_VERSION)
        return ORDERLY_EVERSION;
    *opts = defaults;
    opts->version = version;
    return ORDERLY_OK;
}

int orderly_policy_init(orderly_policy *policy, unsigned int version)
{
    if (policy == NULL)
        return ORDERLY_EINVAL;
    if (version == 0 || version > ORDERLY_POLICY_VERSION)
        return ORDERLY_EVERSION;
    *policy = default_policy;
    policy->version = version;
    return ORDERLY_OK;
}

/* The per-order limits: what options version 4 configures, or the
 * defaults for 0 and for older options. */
static int set_limits(orderly_engine *e, const orderly_engine_options *o, orderly_ctx *ctx)
{
    uint32_t lines = o->version >= 4 ? o->max_lines : 0, parts = o->version >= 4 ? o->max_parts : 0;

    if (lines > ORDERLY_LINES_MAX)
        return orderly__fail(ctx, ORDERLY_ECONFIG,
                             "max_lines %lu is over the limit of %d (ORDERLY_LINES_MAX)",
                             (unsigned long)lines, ORDERLY_LINES_MAX);
    if (parts > ORDERLY_PARTS_MAX)
        return orderly__fail(ctx, ORDERLY_ECONFIG,
                             "max_parts %lu is over the limit of %d (ORDERLY_PARTS_MAX)",
                             (unsigned long)parts, ORDERLY_PARTS_MAX);
    e->max_lines = lines != 0 ? lines : ORDERLY_LINES_DEFAULT;
    e->max_parts = parts != 0 ? parts : ORDERLY_PARTS_MAX;
    return ORDERLY_OK;
}

/* a + b for a, b >= 0, saturating at INT64_MAX. */
static int64_t sat_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* n * d for d >= 0, saturating at INT64_MAX. */
static int64_t sat_mul(uint32_t n, int64_t d)
{
    return n != 0 && d > INT64_MAX / n ? INT64_MAX : (int64_t)n * d;
}

/* The longest a retried item can stay in flight: every backoff delay at its
 * cap, plus a lease per attempt. Idempotency marks must outlive it. The
 * sum saturates, so durations a host set near INT64_MAX still compare. */
static int64_t retry_horizon(const orderly_policy *p, uint32_t attempts)
{
    int64_t total = 0, delay = p->backoff_base;
    uint32_t i;

    /* the delay doubles until it reaches the cap: at most 63 rounds */
    for (i = 0; i < attempts && delay < p->backoff_max; i++) {
        total = sat_add(total, sat_add(delay, p->lease));
        delay = delay > INT64_MAX / 2 ? INT64_MAX : delay * 2;
    }
    return sat_add(total, sat_mul(attempts - i, sat_add(p->backoff_max, p->lease)));
}

static int check_policy(const orderly_policy *p, orderly_ctx *ctx)
{
    static const struct {
        const char *name;
        size_t offset;
    } durations[] = {
        { "reservation_ttl", offsetof(orderly_policy, reservation_ttl) },
        { "cod_window", offsetof(orderly_policy, cod_window) },
        { "auth_window", offsetof(orderly_policy, auth_window) },
        { "auto_complete_after", offsetof(orderly_policy, auto_complete_after) },
        { "fulfillment_sla", offsetof(orderly_policy, fulfillment_sla) },
        { "abandoned_after", offsetof(orderly_policy, abandoned_after) },
        { "idem_ttl", offsetof(orderly_policy, idem_ttl) },
        { "backoff_base", offsetof(orderly_policy, backoff_base) },
        { "backoff_max", offsetof(orderly_policy, backoff_max) },
        { "lease", offsetof(orderly_policy, lease) },
        { "retention", offsetof(orderly_policy, retention) },
    };
    enum { MAY_BE_NEVER = 7 }; /* the deadlines and idem_ttl come first */
    int64_t horizon, h2;
    size_t i;

    for (i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        int64_t v;
        memcpy(&v, (const char *)p + durations[i].offset, sizeof v);
        if (v == INT64_MAX && i < MAY_BE_NEVER)
            continue;
        if (v <= 0 || v > ORDERLY_DURATION_MAX)
            return orderly__fail(ctx, ORDERLY_ECONFIG, "policy.%s must be 1..%lld ms%s (got %lld)",
                                 durations[i].name, ORDERLY_DURATION_MAX,
                                 i < MAY_BE_NEVER ? " or INT64_MAX for never" : "", (long long)v);
    }
    if (p->outbox_max_attempts == 0 || p->operation_max_attempts == 0)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "policy attempt limits must be positive");
    if (p->batch_max == 0 || p->batch_max > ORDERLY_BATCH_MAX_LIMIT)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "policy.batch_max must be 1..%d (got %u)",
                             ORDERLY_BATCH_MAX_LIMIT, p->batch_max);
    if (p->backoff_max < p->backoff_base)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "policy.backoff_max is below backoff_base");
    if (p->version >= 2 &&
        (p->cod_collection_window <= 0 || p->cod_collection_window > ORDERLY_DURATION_MAX) &&
        p->cod_collection_window != INT64_MAX)
        return orderly__fail(ctx, ORDERLY_ECONFIG,
                             "policy.cod_collection_window must be 1..%lld ms or INT64_MAX for never "
                             "(got %lld)", ORDERLY_DURATION_MAX, (long long)p->cod_collection_window);
    if (p->version >= 2 && (p->claim_resolution < ORDERLY_CLAIM_BY_REFUND ||
                            p->claim_resolution > ORDERLY_CLAIM_BY_HOST))
        return orderly__fail(ctx, ORDERLY_ECONFIG,
                             "policy.claim_resolution must be 1..3 (refund, reship, host; got %u)",
                             p->claim_resolution);
    horizon = retry_horizon(p, p->outbox_max_attempts);
    h2 = retry_horizon(p, p->operation_max_attempts);
    if (h2 > horizon)
        horizon = h2;
    if (p->idem_ttl < horizon)
        return orderly__fail(ctx, ORDERLY_ECONFIG,
                             "policy.idem_ttl %lld ms is shorter than the longest retry horizon "
                             "%lld ms: duplicates could slip through after the mark lapses",
                             (long long)p->idem_ttl, (long long)horizon);
    return ORDERLY_OK;
}

static int check_topics(orderly_engine *e, const orderly_engine_options *o, orderly_ctx *ctx)
{
    size_t n_topics = o->topics != NULL ? o->n_topics : 0;
    int i, j;

    if (n_topics > ORDERLY_TOPIC_COUNT + 1)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "n_topics %zu is over %d", n_topics,
                             ORDERLY_TOPIC_COUNT + 1);
    for (i = 1; i <= ORDERLY_TOPIC_COUNT; i++) {
        const char *t = (size_t)i < n_topics && o->topics[i] != NULL ? o->topics[i]
                                                                      : default_topics[i];
        size_t n = strlen(t), k;
        if (n == 0)
            return orderly__fail(ctx, ORDERLY_ECONFIG, "topic '%s' is empty", default_topics[i]);
        if (n >= sizeof e->topics[i])
            return orderly__fail(ctx, ORDERLY_ECONFIG, "topic '%s' is longer than %zu bytes",
                                 default_topics[i], sizeof e->topics[i] - 1);
        for (k = 0; k < n; k++)
            if (t[k] <= ' ' || t[k] > '~')
                return orderly__fail(ctx, ORDERLY_ECONFIG, "topic '%s' has a blank or non-ASCII byte",
                                     default_topics[i]);
        memcpy(e->topics[i], t, n + 1);
        for (j = 1; j < i; j++)
            if (strcmp(e->topics[i], e->topics[j]) == 0)
                return orderly__fail(ctx, ORDERLY_ECONFIG, "topics '%s' and '%s' share the name '%s'",
                                     default_topics[j], default_topics[i], t);
    }
    return ORDERLY_OK;
}

/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), as JSON strings must be. */
static int utf8(const unsigned char *s, size_t n)
{
    size_t i = 0, k, len;
    uint32_t c;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        len = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc0 ? 2 : 0;
        if (len == 0 || s[i] > 0xf4 || i + len > n)
            return 0;
        c = s[i] & (0x7fu >> len);
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            c = c << 6 | (s[i + k] & 0x3fu);
        }
        if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
            c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

/* Every envelope carries the source, so one that cannot be encoded would
 * fail every publish: it is refused here. */
static int check_source(orderly_engine *e, const char *source, orderly_ctx *ctx)
{
    size_t i, n = strlen(source);

    if (n == 0)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "source is empty");
    if (n >= sizeof e->source)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "source is longer than %zu bytes",
                             sizeof e->source - 1);
    for (i = 0; i < n; i++)
        if ((unsigned char)source[i] < ' ' || source[i] == 0x7f)
            return orderly__fail(ctx, ORDERLY_ECONFIG, "source has a control byte at %zu", i);
    if (!utf8((const unsigned char *)source, n))
        return orderly__fail(ctx, ORDERLY_ECONFIG, "source is not valid UTF-8");
    memcpy(e->source, source, n + 1);
    return ORDERLY_OK;
}

int orderly__check_now(orderly_engine *e, orderly_time_ms now)
{
    if (now < 0 || now > ORDERLY_TIME_MAX)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "now %lld is outside 0..%lld",
                             (long long)now, ORDERLY_TIME_MAX);
    return ORDERLY_OK;
}

static void destroy_adapters(const orderly_engine_options *o)
{
    if (o->storage != NULL && o->storage->destroy != NULL)
        o->storage->destroy(o->storage);
    if (o->transport != NULL && o->transport->destroy != NULL)
        o->transport->destroy(o->transport);
}

int orderly_engine_open(orderly_engine **out, const orderly_engine_options *o, orderly_ctx *ctx)
{
    orderly_allocator a;
    orderly_engine *e;
    int rc, i;

    if (out == NULL || o == NULL)
        return orderly__fail(ctx, ORDERLY_EINVAL, "out and options are required");
    *out = NULL;
    if (o->version == 0 || o->version > ORDERLY_ENGINE_OPTIONS_VERSION)
        return orderly__fail(ctx, ORDERLY_EVERSION, "engine options version %u is not supported",
                             o->version);
    if (sodium_init() < 0)
        return orderly__fail(ctx, ORDERLY_ERROR, "libsodium failed to initialise");
    if ((rc = orderly__vt_check_storage(o->storage, ctx)) < 0 ||
        (rc = orderly__vt_check_transport(o->transport, ctx)) < 0)
        goto fail;
    if (o->roles == 0 || (o->roles & ~ORDERLY_ROLES_ALL) != 0) {
        rc = orderly__fail(ctx, ORDERLY_ECONFIG, "roles 0x%x name no machine or an unknown one",
                           o->roles);
        goto fail;
    }
    if (o->policy != NULL &&
        (o->policy->version == 0 || o->policy->version > ORDERLY_POLICY_VERSION)) {
        rc = orderly__fail(ctx, ORDERLY_EVERSION, "policy version %u is not supported",
                           o->policy->version);
        goto fail;
    }
    if ((rc = check_policy(o->policy != NULL ? o->policy : &default_policy, ctx)) < 0)
        goto fail;
    if ((rc = orderly__alloc_copy(&a, o->alloc)) < 0) {
        orderly__fail(ctx, rc, "allocator rejected");
        goto fail;
    }
    if ((e = a.malloc(sizeof *e, a.user_data)) == NULL) {
        rc = orderly__fail(ctx, ORDERLY_ENOMEM, "out of memory");
        goto fail;
    }
    memset(e, 0, sizeof *e);
    e->alloc = a;
    e->ctx.alloc = a;
    if ((rc = check_topics(e, o, ctx)) < 0) {
        a.free(e, a.user_data);
        goto fail;
    }
    for (i = 1; i <= ORDERLY_MACHINE_COUNT; i++) {
        const orderly_machine *m;
        if (orderly_machine_by_id(&m, i) < 0 || (rc = orderly_machine_validate(m, ctx)) < 0) {
            a.free(e, a.user_data);
            goto fail;
        }
    }
    if ((rc = orderly__choreography_validate(ctx)) < 0) {
        a.free(e, a.user_data);
        goto fail;
    }
    e->storage = o->storage;
    e->transport = o->transport;
    e->roles = o->roles;
    if ((rc = check_source(e, o->source != NULL ? o->source : "orderly", ctx)) < 0) {
        a.free(e, a.user_data);
        goto fail;
    }
    e->max_envelope = o->version >= 2 && o->max_envelope_bytes != 0 ? o->max_envelope_bytes
                                                                     : ORDERLY_ENVELOPE_MAX_DEFAULT;
    if (e->max_envelope > ORDERLY_ENVELOPE_MAX_LIMIT) {
        a.free(e, a.user_data);
        rc = orderly__fail(ctx, ORDERLY_ECONFIG, "max_envelope_bytes %zu is over the limit of %u",
                           o->max_envelope_bytes, ORDERLY_ENVELOPE_MAX_LIMIT);
        goto fail;
    }
    if ((rc = set_limits(e, o, ctx)) < 0) {
        a.free(e, a.user_data);
        goto fail;
    }
    e->policy = default_policy;
    if (o->policy != NULL)
        /* a version-1 host's struct ends before claim_resolution: read what
         * its version covers, keep the defaults for the rest */
        memcpy(&e->policy, o->policy, o->policy->version >= 2 ? sizeof e->policy
                                                            : offsetof(orderly_policy, claim_resolution));
    e->on_work = o->on_work;
    e->work_user_data = o->work_user_data;
    e->on_alert = o->on_alert;
    e->alert_user_data = o->alert_user_data;
    orderly__buf_init(&e->load_buf, &e->alloc);
    orderly__buf_init(&e->idem_buf, &e->alloc);
    e->rng = e->policy.seed;
    for (i = 0; i < 4; i++)
        e->batch[i] = e->policy.batch_max;
    if ((rc = orderly__index_reactions(e, ctx)) < 0) {
        a.free(e, a.user_data);
        goto fail;
    }
    if (o->version >= 2) {
        e->clock = o->clock;
        e->clock_user_data = o->clock_user_data;
    }
    for (i = 0; i < 4; i++)
        e->due_floor[i] = ORDERLY__DUE_UNKNOWN;
    if (o->version >= 3 &&
        (o->flags & ~(ORDERLY_ENGINE_HAND_OFF | ORDERLY_ENGINE_SOLE | ORDERLY_ENGINE_REPLICA)) != 0) {
        a.free(e, a.user_data);
        rc = orderly__fail(ctx, ORDERLY_ECONFIG, "unknown engine flags 0x%x", o->flags);
        goto fail;
    }
    e->sole = o->version >= 3 && (o->flags & ORDERLY_ENGINE_SOLE) != 0;
    e->replica = o->version >= 3 && (o->flags & ORDERLY_ENGINE_REPLICA) != 0;
    e->claimed = a.malloc(e->policy.batch_max * sizeof *e->claimed, a.user_data);
    if (o->version >= 3 && (o->flags & ORDERLY_ENGINE_HAND_OFF) != 0 && e->claimed != NULL &&
        ((e->handed = a.malloc(e->policy.batch_max * sizeof *e->handed, a.user_data)) == NULL ||
         (e->acks = a.malloc(e->policy.batch_max * sizeof *e->acks, a.user_data)) == NULL)) {
        if (e->handed != NULL)
            a.free(e->handed, a.user_data);
        a.free(e->claimed, a.user_data);
        e->claimed = NULL;
    }
    if (e->claimed == NULL) {
        a.free(e, a.user_data);
        rc = orderly__fail(ctx, ORDERLY_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = orderly__scratch_open(e, ctx)) < 0) {
        if (e->handed != NULL) {
            a.free(e->handed, a.user_data);
            a.free(e->acks, a.user_data);
        }
        a.free(e->claimed, a.user_data);
        a.free(e, a.user_data);
        goto fail;
    }
    *out = e;
    return ORDERLY_OK;
fail:
    destroy_adapters(o);
    return rc;
}

void orderly_engine_close(orderly_engine *e)
{
    orderly_engine_options o;

    if (e == NULL)
        return;
    orderly_engine_rollback_batch(e);
    /* best effort: what is not written comes back when its lease lapses */
    (void)orderly__flush_acks(e);
    orderly__release_handed(e);
    memset(&o, 0, sizeof o);
    o.storage = e->storage;
    o.transport = e->transport;
    orderly__buf_free(&e->load_buf);
    orderly__buf_free(&e->idem_buf);
    e->alloc.free(e->claimed, e->alloc.user_data);
    if (e->handed != NULL) {
        e->alloc.free(e->handed, e->alloc.user_data);
        e->alloc.free(e->acks, e->alloc.user_data);
    }
    if (e->json != NULL)
        e->alloc.free(e->json, e->alloc.user_data);
    orderly__scratch_close(e);
    e->alloc.free(e, e->alloc.user_data);
    destroy_adapters(&o);
}

int orderly_engine_errcode(const orderly_engine *e)
{
    return e != NULL ? e->ctx.code : ORDERLY_EINVAL;
}

const char *orderly_engine_errmsg(const orderly_engine *e)
{
    return e != NULL ? e->ctx.msg : "";
}

orderly_ctx *orderly_engine_ctx(orderly_engine *e)
{
    return e != NULL ? &e->ctx : NULL;
}

const char *orderly_engine_topic(const orderly_engine *e, int topic)
{
    if (e == NULL || topic < 1 || topic > ORDERLY_TOPIC_COUNT)
        return NULL;
    return e->topics[topic];
}

int orderly_engine_topic_id(int *out, const orderly_engine *e, const char *name)
{
    int i;

    if (out == NULL || e == NULL)
        return ORDERLY_EINVAL;
    if (name == NULL || name[0] == '\0')
        return ORDERLY_ECONFIG;
    for (i = 1; i <= ORDERLY_TOPIC_COUNT; i++) {
        if (strcmp(e->topics[i], name) == 0) {
            *out = i;
            return ORDERLY_OK;
        }
    }
    return ORDERLY_ECONFIG;
}

int orderly_engine_get_stats(const orderly_engine *e, orderly_engine_stats *out)
{
    int rc;

    if (e == NULL || out == NULL)
        return ORDERLY_EINVAL;
    /* the 0.2 layout ends where the transaction counts begin */
    if ((rc = orderly__out_check(NULL, out, offsetof(orderly_engine_stats, txn_begins),
                                 "orderly_engine_stats")) < 0)
        return rc;
    orderly__out_put(out, &e->stats, sizeof e->stats);
    return ORDERLY_OK;
}

static void line_units(orderly_part_view *out, const struct orderly__line *l)
{
    out->reserved = ORDERLY__ATTRS(&orderly__reservation_machine, l->state) & ORDERLY__ST_HELD
                        ? l->quantity
                        : 0;
    out->shipped = l->shipped;
    out->delivered = l->delivered;
    out->lost = l->lost;
    out->back_at_origin = l->back;
    out->returned = l->returned;
    out->restocked = l->restocked;
    out->shipment = l->shipment;
    out->refunded = l->refunded;
}

int orderly__part_state(orderly_part_view *out, const struct orderly__agg *a, int m, uint32_t index)
{
    const struct orderly__part *p = NULL;
    uint32_t i;

    memset(out, 0, sizeof *out);
    out->machine = m;
    out->index = index;
    switch (m) {
    case ORDERLY_MACHINE_ORDER:
    case ORDERLY_MACHINE_PAYMENT:
        if (index != 0)
            return ORDERLY_ENOTFOUND;
        out->state = m == ORDERLY_MACHINE_ORDER ? a->order_state : a->payment_state;
        out->since = m == ORDERLY_MACHINE_ORDER ? a->order_since : a->payment_since;
        out->amount = m == ORDERLY_MACHINE_ORDER ? a->total : a->captured;
        return ORDERLY_OK;
    case ORDERLY_MACHINE_RESERVATION:
        if (index >= a->n_lines)
            return ORDERLY_ENOTFOUND;
        out->state = a->lines[index].state;
        out->sku = a->lines[index].sku;
        out->warehouse = a->lines[index].warehouse;
        out->quantity = a->lines[index].quantity;
        out->amount = a->lines[index].unit_price * (int64_t)a->lines[index].quantity;
        out->since = a->lines[index].since;
        line_units(out, &a->lines[index]);
        return ORDERLY_OK;
    case ORDERLY_MACHINE_FULFILLMENT:
        p = index < a->n_ful ? &a->ful[index] : NULL;
        break;
    case ORDERLY_MACHINE_SHIPMENT:
        p = index < a->n_ship ? &a->ship[index] : NULL;
        break;
    case ORDERLY_MACHINE_RETURN:
        p = index < a->n_ret ? &a->ret[index] : NULL;
        break;
    case ORDERLY_MACHINE_CLAIM:
        /* claim i is shipment i's, there once the parcel was lost */
        if (index >= a->n_ship || a->ship[index].claim == 0)
            return ORDERLY_ENOTFOUND;
        out->state = a->ship[index].claim;
        out->warehouse = a->ship[index].warehouse;
        out->since = a->ship[index].claim_since;
        return ORDERLY_OK;
    default:
        break;
    }
    if (p == NULL)
        return ORDERLY_ENOTFOUND;
    out->state = p->state;
    out->warehouse = p->warehouse;
    out->amount = p->amount;
    out->since = p->since;
    if (m == ORDERLY_MACHINE_RETURN) {
        if (p->exchange && p->state == ORDERLY_RETURN_COMPLETED &&
            orderly_replacement_id(out->replacement, a->id, index) < 0)
            return ORDERLY_EINVARIANT;
        for (i = 0; i < p->rl_n; i++) {
            const struct orderly__ret_line *rl = &a->rlines[p->rl_first + i];
            out->quantity += rl->qty;
            if (rl->line < 32)
                out->lines |= 1u << rl->line;
        }
    }
    return ORDERLY_OK;
}

/*
 * Reads an order in a transaction of its own or, while a batch is open,
 * in the batch's: a connection holds one transaction at a time (SQLite),
 * and a host reading between its batched commands expects to see them.
 */
int orderly__read_order(orderly_engine *e, const char *id, struct orderly__agg *a, uint64_t *version)
{
    void *txn = e->batch_txn;
    int rc;

    if (txn != NULL && e->batch_failed)
        return orderly__fail(&e->ctx, ORDERLY_EMISUSE, "the open batch failed: roll it back");
    if (txn == NULL && (rc = orderly__vt_begin_read(e, &txn)) < 0)
        return rc;
    rc = orderly__vt_load(e, txn, id, &e->load_buf, version);
    if (txn != e->batch_txn)
        orderly__vt_rollback(e, txn);
    else if (rc < 0 && rc != ORDERLY_ENOTFOUND)
        e->batch_failed = 1; /* the batch's transaction is now only fit for rollback */
    if (a == &e->agg)
        e->agg_warm = 0;
    if (rc == ORDERLY_ENOTFOUND)
        return orderly__fail(&e->ctx, rc, "no order '%s'", id);
    if (rc < 0)
        return rc;
    if ((rc = orderly__agg_decode(a, id, orderly_buf_data(&e->load_buf), orderly_buf_len(&e->load_buf))) < 0)
        return rc == ORDERLY_ENOTSUPPORTED
                   ? orderly__fail(&e->ctx, rc, "order '%s' has more lines than this engine's "
                                   "max_lines %lu holds", id, (unsigned long)e->max_lines)
                   : orderly__fail(&e->ctx, rc, "stored order '%s' is corrupt", id);
    return ORDERLY_OK;
}

int orderly_engine_get_order(orderly_engine *e, const char *order_id, orderly_order_view *out)
{
    orderly_order_view v;
    uint64_t version = 0;
    int rc;

    if (e == NULL || order_id == NULL || out == NULL)
        return ORDERLY_EINVAL;
    if ((rc = orderly__out_check(&e->ctx, out, sizeof *out, "orderly_order_view")) < 0)
        return rc;
    if (strlen(order_id) > ORDERLY_ID_MAX)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "order id too long");
    if ((rc = orderly__read_order(e, order_id, &e->agg, &version)) < 0)
        return rc;
    memset(&v, 0, sizeof v);
    v.order_state = e->agg.order_state;
    v.payment_state = e->agg.payment_state;
    v.payment_method = e->agg.method;
    memcpy(v.currency, e->agg.currency, 3);
    v.total = e->agg.total;
    v.authorized = e->agg.authorized;
    v.captured = e->agg.captured;
    v.refunded = e->agg.refunded;
    v.n_lines = e->agg.n_lines;
    v.n_fulfillments = e->agg.n_ful;
    v.n_shipments = e->agg.n_ship;
    v.n_returns = e->agg.n_ret;
    v.created = e->agg.created;
    v.version = version;
    memcpy(v.replacement_of, e->agg.replacement_of, sizeof v.replacement_of);
    orderly__out_put(out, &v, sizeof v);
    return ORDERLY_OK;
}

int orderly_engine_get_part(orderly_engine *e, const char *order_id, int machine, uint32_t index,
                            orderly_part_view *out)
{
    orderly_part_view v;
    uint64_t version = 0;
    int rc;

    if (e == NULL || order_id == NULL || out == NULL)
        return ORDERLY_EINVAL;
    if ((rc = orderly__out_check(&e->ctx, out, sizeof *out, "orderly_part_view")) < 0)
        return rc;
    if (strlen(order_id) > ORDERLY_ID_MAX)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "order id too long");
    if ((rc = orderly__read_order(e, order_id, &e->agg, &version)) < 0)
        return rc;
    if ((rc = orderly__part_state(&v, &e->agg, machine, index)) < 0)
        return orderly__fail(&e->ctx, rc, "order '%s' has no part %d #%u", order_id, machine, index);
    orderly__out_put(out, &v, sizeof v);
    return ORDERLY_OK;
}

int orderly_engine_get_return_lines(orderly_engine *e, const char *order_id, uint32_t index,
                                    orderly_return_line *out, size_t cap, size_t *count)
{
    const struct orderly__part *p;
    uint64_t version = 0;
    size_t k;
    int rc;

    if (e == NULL || order_id == NULL || count == NULL || (out == NULL && cap > 0))
        return ORDERLY_EINVAL;
    if (strlen(order_id) > ORDERLY_ID_MAX)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "order id too long");
    if ((rc = orderly__read_order(e, order_id, &e->agg, &version)) < 0)
        return rc;
    if (index >= e->agg.n_ret)
        return orderly__fail(&e->ctx, ORDERLY_ENOTFOUND, "order '%s' has no return #%u", order_id,
                             index);
    p = &e->agg.ret[index];
    for (k = 0; k < p->rl_n && k < cap; k++) {
        out[k].line = e->agg.rlines[p->rl_first + k].line;
        out[k].quantity = e->agg.rlines[p->rl_first + k].qty;
    }
    *count = p->rl_n;
    return ORDERLY_OK;
}

int orderly_engine_get_return_line(orderly_engine *e, const char *order_id, uint32_t index,
                                   uint32_t k, orderly_return_line *out)
{
    const struct orderly__part *p;
    uint64_t version = 0;
    int rc;

    if (e == NULL || order_id == NULL || out == NULL)
        return ORDERLY_EINVAL;
    if (strlen(order_id) > ORDERLY_ID_MAX)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "order id too long");
    if ((rc = orderly__read_order(e, order_id, &e->agg, &version)) < 0)
        return rc;
    if (index >= e->agg.n_ret)
        return orderly__fail(&e->ctx, ORDERLY_ENOTFOUND, "order '%s' has no return #%u", order_id,
                             index);
    p = &e->agg.ret[index];
    if (k < p->rl_n) {
        out->line = e->agg.rlines[p->rl_first + k].line;
        out->quantity = e->agg.rlines[p->rl_first + k].qty;
        return ORDERLY_OK;
    }
    return orderly__fail(&e->ctx, ORDERLY_ENOTFOUND, "return #%u of order '%s' names %u lines",
                         index, order_id, p->rl_n);
}
