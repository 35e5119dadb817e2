/*
 * The one path every command, event, webhook and timer takes: idempotency
 * check, load, transition and cascade, invariants, versioned save, outbox
 * and operation rows, idempotency mark, commit. All writes come after
 * every check, so a rejected command writes nothing, in a batch too.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "../fsm/table.h"
#include "../wire/record.h"
#include "../base/codec.h"
#include "internal.h"
#include "orderly/order.h"
#include "orderly/payment.h"
#include "orderly/reservation.h"
#include "orderly/fulfillment.h"
#include "orderly/return.h"

/* Format 2 appended the index of the part a request opened; format 1
 * marks are still read (see decode_result). */
enum { RESULT_FORMAT = 2 };

/* What a request asks for. Opening a return is a request of its own: it
 * creates a part instead of moving one, so it borrows no event and no
 * field of a command. */
enum request_kind { REQ_CREATE = 1, REQ_COMMAND = 2, REQ_OPEN_RETURN = 3 };

struct request {
    const char *order_id;
    int kind;                            /* enum request_kind */
    const orderly_order_spec *spec;      /* REQ_CREATE */
    int64_t total;                       /* of the spec, checked */
    const orderly_command *cmd;          /* REQ_COMMAND */
    int64_t amount;                      /* REQ_OPEN_RETURN, > 0 (or the adjustment, with lines) */
    int exchange;                        /* REQ_OPEN_RETURN, 0 or 1 */
    const orderly_return_spec *ret;      /* REQ_OPEN_RETURN naming lines, or NULL */
    const char *replacement_of;          /* REQ_CREATE of an exchange's replacement, or NULL */
    uint32_t index;                      /* the return it opened, first result's too */
    const char *trace;
    char key[32];                        /* derived key when none was given */
    const char *idem_key;
    uint8_t fingerprint[16];
    orderly_time_ms now;
};

/* Every field at its widest: the result is written on every command, so
 * without bounds checks. */
#define RESULT_MAX (11 * ORDERLY__VARINT_MAX)

static size_t encode_result(const orderly_result *r, uint32_t index, uint8_t buf[RESULT_MAX])
{
    uint8_t *w = buf;

    w = orderly__put_u64(w, RESULT_FORMAT);
    w = orderly__put_i64(w, r->code);
    w = orderly__put_u64(w, (uint64_t)r->machine);
    w = orderly__put_u64(w, (uint64_t)r->event);
    w = orderly__put_u64(w, (uint64_t)r->from);
    w = orderly__put_u64(w, (uint64_t)r->to);
    w = orderly__put_u64(w, (uint64_t)r->order_state);
    w = orderly__put_u64(w, r->outbox_rows);
    w = orderly__put_u64(w, r->operations);
    w = orderly__put_u64(w, r->version);
    w = orderly__put_u64(w, index);
    return (size_t)(w - buf);
}

/* Decodes a stored first result, and into *index the part it opened. A
 * format 1 result has no index: a return opened then carried its index in
 * result.from, so for kind REQ_OPEN_RETURN it is moved back from there. */
static int decode_result(orderly_result *r, uint32_t *index, int kind, const uint8_t *p, size_t len)
{
    struct orderly__rd rd = { p, len, 0, 0 };
    uint64_t format;

    memset(r, 0, sizeof *r);
    *index = 0;
    format = orderly__rd_u64(&rd);
    if (format != 1 && format != RESULT_FORMAT)
        return ORDERLY_ESTORAGE;
    r->code = (int)orderly__rd_i64(&rd);
    r->machine = (int)orderly__rd_u32(&rd, 255);
    r->event = (int)orderly__rd_u32(&rd, 255);
    r->from = (int)orderly__rd_u32(&rd, 255);
    r->to = (int)orderly__rd_u32(&rd, 255);
    r->order_state = (int)orderly__rd_u32(&rd, 255);
    r->outbox_rows = orderly__rd_u32(&rd, UINT32_MAX);
    r->operations = orderly__rd_u32(&rd, UINT32_MAX);
    r->version = orderly__rd_u64(&rd);
    if (format == RESULT_FORMAT) {
        *index = orderly__rd_u32(&rd, ORDERLY_LINES_MAX - 1);
    } else if (kind == REQ_OPEN_RETURN) {
        *index = (uint32_t)r->from;
        r->from = 0;
    }
    return rd.bad || rd.pos != len ? ORDERLY_ESTORAGE : ORDERLY_OK;
}


/* ---- building the aggregate of a new order ------------------------------ */

/* Checks a spec and computes its total into *total: lines are bounded and
 * the sum is checked, so no total can wrap into a small number that could
 * then be paid (a line of 2^20 x 2^44 plus one of 100 stored 100). Lines
 * are named from 1, with their array index beside. */
static int check_spec(orderly_engine *e, const orderly_order_spec *sp, int64_t *total)
{
    int64_t line_total;
    size_t i;
    int rc;

    if (!orderly__valid_id(sp->order_id))
        return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                             "order_id must be 1..%d printable ASCII bytes", ORDERLY_ID_MAX);
    if (sp->currency == NULL || strlen(sp->currency) != 3 || sp->currency[0] < 'A' ||
        sp->currency[0] > 'Z' || sp->currency[1] < 'A' || sp->currency[1] > 'Z' ||
        sp->currency[2] < 'A' || sp->currency[2] > 'Z')
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "currency must be an ISO 4217 code");
    if (sp->payment_method != ORDERLY_PAY_CARD && sp->payment_method != ORDERLY_PAY_COD)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "payment_method %d is unknown",
                             sp->payment_method);
    if (sp->lines == NULL || sp->n_lines == 0 || sp->n_lines > e->max_lines)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "lines: 1..%lu lines required (max_lines)",
                             (unsigned long)e->max_lines);
    if (sp->loyalty_points < 0)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "loyalty_points is negative");
    if ((rc = orderly__check_now(e, sp->now)) < 0)
        return rc;
    *total = 0;
    for (i = 0; i < sp->n_lines; i++) {
        const orderly_line *l = &sp->lines[i];
        if (l->quantity == 0 || l->quantity > ORDERLY_QUANTITY_MAX)
            return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                                 "line %zu (lines[%zu]): quantity %lu is not 1..%lu", i + 1, i,
                                 (unsigned long)l->quantity, (unsigned long)ORDERLY_QUANTITY_MAX);
        if (l->unit_price < 0 || l->unit_price > ORDERLY_UNIT_PRICE_MAX)
            return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                                 "line %zu (lines[%zu]): unit_price %lld is not 0..%lld", i + 1, i,
                                 (long long)l->unit_price, (long long)ORDERLY_UNIT_PRICE_MAX);
        if (__builtin_mul_overflow(l->unit_price, (int64_t)l->quantity, &line_total) ||
            __builtin_add_overflow(*total, line_total, total))
            return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                                 "line %zu (lines[%zu]): the order total passes %lld", i + 1, i,
                                 (long long)INT64_MAX);
    }
    return ORDERLY_OK;
}

static int build_order(orderly_engine *e, struct orderly__stage *s, const orderly_order_spec *sp,
                       int64_t total)
{
    struct orderly__agg *a = s->a;
    size_t i, j;
    int rc;

    orderly__agg_reset(a);
    memcpy(a->id, sp->order_id, strlen(sp->order_id) + 1);
    memcpy(a->currency, sp->currency, 3);
    a->method = (uint8_t)sp->payment_method;
    a->has_promotion = sp->has_promotion != 0;
    a->loyalty_points = sp->loyalty_points;
    a->created = a->order_since = a->payment_since = sp->now;
    a->order_state = ORDERLY_ORDER_PENDING;
    a->payment_state = sp->payment_method == ORDERLY_PAY_COD ? ORDERLY_PAYMENT_COD_PENDING
                                                             : ORDERLY_PAYMENT_PENDING;
    a->total = total;
    a->n_lines = (uint32_t)sp->n_lines;
    for (i = 0; i < sp->n_lines; i++) {
        struct orderly__line *l = &a->lines[i];
        struct orderly__part *f;
        memset(l, 0, sizeof *l);
        l->sku = sp->lines[i].sku;
        l->warehouse = sp->lines[i].warehouse;
        l->quantity = sp->lines[i].quantity;
        l->unit_price = sp->lines[i].unit_price;
        l->state = ORDERLY_RESERVATION_ACTIVE;
        l->since = sp->now;
        for (j = 0; j < a->n_ful && a->ful[j].warehouse != l->warehouse; j++)
            ;
        if (j == a->n_ful) {
            if (a->n_ful >= e->max_parts)
                return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                                     "lines span more than %lu warehouses (max_parts)",
                                     (unsigned long)e->max_parts);
            /* on hold until the order is confirmed: nothing is picked unpaid */
            f = orderly__agg_add_part(a->ful, &a->n_ful);
            f->state = (uint8_t)orderly__machines[ORDERLY_MACHINE_FULFILLMENT]->initial;
            f->warehouse = l->warehouse;
            f->since = sp->now;
        }
    }
    if ((rc = orderly__schedule(e, s, ORDERLY_MACHINE_ORDER, 0)) < 0 ||
        (rc = orderly__schedule(e, s, ORDERLY_MACHINE_PAYMENT, 0)) < 0)
        return rc;
    for (i = 0; i < a->n_lines; i++)
        if ((rc = orderly__schedule(e, s, ORDERLY_MACHINE_RESERVATION, (uint32_t)i)) < 0)
            return rc;
    for (i = 0; i < a->n_ful; i++)
        if ((rc = orderly__schedule(e, s, ORDERLY_MACHINE_FULFILLMENT, (uint32_t)i)) < 0)
            return rc;
    s->n_events = 1;
    s->events[0].kind = ORDERLY__EV_ORDER_STATUS;
    s->events[0].machine = ORDERLY_MACHINE_ORDER;
    s->events[0].index = 0;
    s->events[0].from = 0;
    s->events[0].to = ORDERLY_ORDER_PENDING;
    s->events[0].event = 0;
    s->events[0].amount = a->total;
    return ORDERLY_OK;
}

/*
 * What a new return or exchange may still claim: what was delivered and
 * paid for (the captured amount; a COD order's total, since its cash is
 * collected at the door) less what was refunded and what live returns
 * claim. A return claims its amount until it is refunded (then it is in
 * refunded); an exchange claims it for good, since it gives goods instead
 * of money. Each step is bounded by what is left, so amounts stored before
 * this bound existed cannot wrap it.
 */
static int64_t returnable(const struct orderly__agg *a)
{
    int64_t left = (a->method == ORDERLY_PAY_COD ? a->total : a->captured) - a->refunded;
    int64_t claim;
    uint32_t i;

    for (i = 0; i < a->n_ret; i++) {
        const struct orderly__part *r = &a->ret[i];
        unsigned at = ORDERLY__ATTRS(&orderly__return_machine, r->state);
        if ((at & ORDERLY__ST_WITHDRAWN) || (!r->exchange && (at & ORDERLY__ST_GIVEN_BACK)))
            continue;
        claim = r->amount < left ? r->amount : left;
        left -= claim;
    }
    return left;
}

/* Into units[i]: what of each line i live returns and exchanges claim,
 * as much as was delivered at most. */
static void claimed(const struct orderly__agg *a, uint32_t *units)
{
    uint32_t i, j;

    memset(units, 0, a->n_lines * sizeof *units);
    for (j = 0; j < a->n_ret; j++) {
        const struct orderly__part *r = &a->ret[j];
        if (ORDERLY__ATTRS(&orderly__return_machine, r->state) & ORDERLY__ST_WITHDRAWN)
            continue;
        for (i = 0; i < r->rl_n; i++) {
            const struct orderly__ret_line *rl = &a->rlines[r->rl_first + i];
            uint64_t n = (uint64_t)units[rl->line] + rl->qty;
            units[rl->line] = n < a->lines[rl->line].delivered ? (uint32_t)n : a->lines[rl->line].delivered;
        }
    }
}

/* Names the lines of spec in return p, each within what was delivered
 * and no live return claims yet, and computes its amount. The lines are
 * kept in line order, whatever order spec gives them in. */
static int name_lines(orderly_engine *e, struct orderly__agg *a, const orderly_return_spec *sp,
                      struct orderly__part *p)
{
    uint32_t *units = e->units, i;
    int64_t value = 0;
    uint64_t left;
    size_t k;

    if (a->n_rlines + sp->n_lines > a->cap_rlines)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                             "the returns of order '%s' would name more than %lu lines in all",
                             a->id, (unsigned long)a->cap_rlines);
    claimed(a, units);
    for (k = 0; k < sp->n_lines; k++) {
        const orderly_return_line *rl = &sp->lines[k];
        const struct orderly__line *l;
        if (rl->line >= a->n_lines)
            return orderly__fail(&e->ctx, ORDERLY_EINVAL, "lines[%zu]: order '%s' has no line %u",
                                 k, a->id, rl->line);
        l = &a->lines[rl->line];
        left = l->delivered - units[rl->line];
        if (rl->quantity > left)
            return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                                 "lines[%zu]: %u units of line %u exceed the %llu delivered and not "
                                 "yet returned on order '%s'", k, rl->quantity, rl->line,
                                 (unsigned long long)left, a->id);
        if (__builtin_add_overflow(value, l->unit_price * (int64_t)rl->quantity, &value))
            return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                                 "the returned lines of order '%s' are worth more than %lld", a->id,
                                 (long long)INT64_MAX);
    }
    /* the spec names each line once (checked on entry): mark, then list in line order */
    memset(units, 0, a->n_lines * sizeof *units);
    for (k = 0; k < sp->n_lines; k++)
        units[sp->lines[k].line] = sp->lines[k].quantity;
    p->rl_first = a->n_rlines;
    for (i = 0; i < a->n_lines; i++)
        if (units[i] > 0)
            a->rlines[p->rl_first + p->rl_n++] = (struct orderly__ret_line){ i, units[i] };
    /* adjustment is bounded by value, yet value + adjustment may pass INT64_MAX */
    if (sp->adjustment < -value || sp->adjustment > value ||
        __builtin_add_overflow(value, sp->adjustment, &p->amount))
        return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                             "adjustment %lld is past the %lld the returned lines are worth",
                             (long long)sp->adjustment, (long long)value);
    return ORDERLY_OK;
}

static int open_return(orderly_engine *e, struct orderly__stage *s, const struct request *rq)
{
    struct orderly__agg *a = s->a;
    struct orderly__part *p;
    int64_t left;
    int rc;

    if (!(ORDERLY__ATTRS(&orderly__order_machine, a->order_state) & ORDERLY__ST_RETURNABLE))
        return orderly__fail(&e->ctx, ORDERLY_ETRANSITION,
                             "order '%s' is not delivered: a return cannot be opened", a->id);
    if (a->n_ret >= e->max_parts)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                             "order '%s' has %lu returns already (max_parts)", a->id,
                             (unsigned long)e->max_parts);
    p = &a->ret[a->n_ret];
    memset(p, 0, sizeof *p);
    p->amount = rq->amount;
    if (rq->ret != NULL && (rc = name_lines(e, a, rq->ret, p)) < 0)
        return rc;
    if (p->amount > (left = returnable(a)))
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                             "%s of %lld exceeds the %lld delivered and not yet given back on order '%s'",
                             rq->exchange ? "exchange" : "return", (long long)p->amount,
                             (long long)left, a->id);
    a->n_ret++;
    a->n_rlines += p->rl_n;
    p->state = ORDERLY_RETURN_REQUESTED;
    p->exchange = (uint8_t)rq->exchange;
    p->since = s->now;
    s->events[0].kind = ORDERLY__EV_RETURN_STATUS;
    s->events[0].machine = ORDERLY_MACHINE_RETURN;
    s->events[0].index = a->n_ret - 1u;
    s->events[0].to = p->state;
    s->events[0].amount = p->amount;
    s->n_events = 1;
    return ORDERLY_OK;
}

/* ---- writing what a command staged ---------------------------------------- */

/* Appends one encoded row to queue. */
static int push_row(orderly_engine *e, void *txn, int queue, const char *group, uint32_t kind,
                    const uint8_t *payload, size_t len, orderly_time_ms created,
                    orderly_time_ms due, uint64_t *id_out)
{
    orderly_queue_item it;

    memset(&it, 0, sizeof it);
    it.group = group;
    it.kind = kind;
    it.payload = payload;
    it.payload_len = len;
    it.created = created;
    it.due = due;
    return orderly__vt_push(e, txn, queue, &it, id_out);
}

/* Whether an event of ev's kind carries line l of a (lib/wire/events.c). */
static int carries(const struct orderly__agg *a, const struct orderly__staged_event *ev, int how,
                   uint32_t l)
{
    switch (how) {
    case ORDERLY__EVL_ALL:
        return 1;
    case ORDERLY__EVL_STAGED:
        return orderly__lines_has(ev->lines, l);
    case ORDERLY__EVL_WAREHOUSE:
        if (ev->machine == ORDERLY_MACHINE_FULFILLMENT && ev->index < a->n_ful)
            return a->lines[l].warehouse == a->ful[ev->index].warehouse;
        if (ev->machine == ORDERLY_MACHINE_SHIPMENT && ev->index < a->n_ship)
            return a->lines[l].warehouse == a->ship[ev->index].warehouse;
        return 0;
    case ORDERLY__EVL_RETURNED:
        return ev->machine == ORDERLY_MACHINE_RETURN && ev->index < a->n_ret &&
               orderly__ret_units(a, &a->ret[ev->index], l) > 0;
    default:
        return 0;
    }
}

/* Copies what ev's consumer needs from a into r: the payload is a
 * snapshot of the order as this command leaves it (lib/wire/record.h). */
static void snapshot(struct orderly__event_rec *r, const struct orderly__agg *a,
                     const struct orderly__staged_event *ev)
{
    int how = orderly__event_lines_of(ev->kind);
    uint32_t l;

    r->currency[0] = '\0';
    if (orderly__event_has_currency(ev->kind))
        memcpy(r->currency, a->currency, sizeof r->currency);
    r->n_lines = 0;
    for (l = 0; how != ORDERLY__EVL_NONE && l < a->n_lines; l++) {
        struct orderly__event_line *o;
        if (!carries(a, ev, how, l))
            continue;
        o = &r->lines[r->n_lines++];
        o->line = l;
        o->sku = a->lines[l].sku;
        o->warehouse = a->lines[l].warehouse;
        o->quantity = how == ORDERLY__EVL_RETURNED ? orderly__ret_units(a, &a->ret[ev->index], l)
                                                    : a->lines[l].quantity;
        o->unit_price = a->lines[l].unit_price;
    }
}

static int write_events(orderly_engine *e, void *txn, struct orderly__stage *s)
{
    struct orderly__event_rec r;
    uint8_t *buf = e->rec;
    size_t i, len;
    int rc;

    orderly__event_rec_at(e, &r, ORDERLY__SITE_WRITE);
    for (i = 0; i < s->n_events; i++) {
        const struct orderly__staged_event *ev = &s->events[i];
        snapshot(&r, s->a, ev);
        r.seq = s->a->event_seq++;
        r.machine = ev->machine;
        r.index = ev->index;
        r.from = ev->from;
        r.to = ev->to;
        r.event = ev->event;
        r.amount = ev->amount;
        r.time = s->now;
        r.trace[0] = '\0';
        if (s->trace != NULL)
            snprintf(r.trace, sizeof r.trace, "%s", s->trace);
        if ((len = orderly__event_rec_encode(&r, buf, e->rec_cap)) == 0)
            return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                                 "order '%s': an event's payload does not encode", s->a->id);
        /* every replica's history holds every event; one outbox publishes it */
        if ((orderly__writes_event(e, ev->kind) &&
             (rc = push_row(e, txn, ORDERLY_QUEUE_OUTBOX, s->a->id, ev->kind, buf, len, s->now,
                            s->now, NULL)) < 0) ||
            (rc = orderly__history_append(e, txn, s->a->id, r.seq, ev->kind, buf, len, s->now)) < 0)
            return rc;
    }
    return ORDERLY_OK;
}

static int write_operations(orderly_engine *e, void *txn, struct orderly__stage *s)
{
    struct orderly__operation_rec r;
    uint8_t *buf = e->rec;
    size_t i, len;
    uint32_t l;
    int rc;

    for (i = 0; i < s->n_ops; i++) {
        const struct orderly__staged_op *ef = &s->ops[i];
        if (!orderly__writes_op(e, ef->op))
            continue;
        memset(&r, 0, sizeof r);
        orderly__operation_rec_at(e, &r, ORDERLY__SITE_WRITE);
        memcpy(r.order_id, s->a->id, strlen(s->a->id) + 1);
        memcpy(r.key, ef->key, sizeof r.key);
        r.op = ef->op;
        r.index = ef->index;
        r.lines = (uint32_t)(ef->lines[0] & UINT32_MAX);
        r.amount = ef->amount;
        for (l = 0; l < s->a->n_lines; l++) {
            if (!orderly__lines_has(ef->lines, l))
                continue;
            r.sku[r.n_lines] = s->a->lines[l].sku;
            r.warehouse[r.n_lines] = s->a->lines[l].warehouse;
            r.quantity[r.n_lines] = ef->return_units ? orderly__ret_units(s->a, &s->a->ret[ef->index], l)
                                                     : s->a->lines[l].quantity;
            r.n_lines++;
        }
        len = orderly__operation_rec_encode(&r, buf, e->rec_cap);
        if ((rc = push_row(e, txn, ORDERLY_QUEUE_OPERATIONS, "", ef->op, buf, len, s->now,
                           s->now, NULL)) < 0)
            return rc;
    }
    return ORDERLY_OK;
}

static int write_timers(orderly_engine *e, void *txn, struct orderly__stage *s)
{
    struct orderly__timer_rec r;
    uint8_t buf[ORDERLY__RECORD_MAX];
    size_t i, len;
    int rc;

    for (i = 0; i < s->n_timers; i++) {
        struct orderly__staged_timer *t = &s->timers[i];
        /* entered and left within this command: it could fire nothing;
         * another replica's: its owner's tick turns it into a command */
        if (!orderly__owns(e, t->machine) ||
            (s->timed && !orderly__timer_live(e, s->a, t->timer, t->due)))
            continue;
        memset(&r, 0, sizeof r);
        memcpy(r.order_id, s->a->id, strlen(s->a->id) + 1);
        r.timer = t->timer;
        r.machine = t->machine;
        r.index = t->index;
        r.event = t->event;
        len = orderly__timer_rec_encode(&r, buf, sizeof buf);
        if ((rc = push_row(e, txn, ORDERLY_QUEUE_TIMERS, "", t->timer, buf, len, s->now,
                           t->due, &t->row)) < 0)
            return rc;
    }
    return ORDERLY_OK;
}

/* ---- the path --------------------------------------------------------------- */

static void fingerprint(orderly_engine *e, struct request *rq)
{
    struct orderly__wr w = { e->fp, e->fp_cap, 0, 0 };
    size_t i;

    if (rq->kind == REQ_CREATE) {
        const orderly_order_spec *sp = rq->spec;
        orderly__wr_str(&w, sp->currency != NULL ? sp->currency : "");
        orderly__wr_u64(&w, (uint64_t)sp->payment_method);
        orderly__wr_u64(&w, sp->has_promotion);
        orderly__wr_i64(&w, sp->loyalty_points);
        for (i = 0; i < sp->n_lines; i++) {
            orderly__wr_u64(&w, sp->lines[i].sku);
            orderly__wr_u64(&w, sp->lines[i].warehouse);
            orderly__wr_u64(&w, sp->lines[i].quantity);
            orderly__wr_i64(&w, sp->lines[i].unit_price);
        }
    } else if (rq->kind == REQ_OPEN_RETURN) {
        /* pinned: the bytes it had when it travelled as a command (return,
         * the reserved init, exchange as index), so keys derived and marks
         * stored before stay valid; no host command can carry init now */
        orderly__wr_u64(&w, ORDERLY_MACHINE_RETURN);
        orderly__wr_u64(&w, ORDERLY_EVENT_INIT);
        orderly__wr_u64(&w, (uint64_t)rq->exchange);
        orderly__wr_i64(&w, rq->amount);
        /* a return naming lines has them after: it never equals an amount-only one */
        for (i = 0; rq->ret != NULL && i < rq->ret->n_lines; i++) {
            orderly__wr_u64(&w, rq->ret->lines[i].line);
            orderly__wr_u64(&w, rq->ret->lines[i].quantity);
        }
    } else {
        orderly__wr_u64(&w, (uint64_t)rq->cmd->machine);
        orderly__wr_u64(&w, (uint64_t)rq->cmd->event);
        orderly__wr_u64(&w, rq->cmd->index);
        orderly__wr_i64(&w, rq->cmd->amount);
    }
    /* the buffer holds a spec of max_lines lines, which the request was checked against */
    orderly__hash128(rq->fingerprint, rq->order_id, strlen(rq->order_id), e->fp,
                     w.len < w.cap ? w.len : w.cap);
    if (rq->idem_key == NULL) {
        /* short: every mark of every command without a key is kept for the TTL */
        memcpy(rq->key, "d:", 2);
        orderly__b64url16(rq->key + 2, rq->fingerprint);
        rq->idem_key = rq->key;
    }
}

/* The idempotency check: 1 when the request was answered from its mark
 * (the stored first result, res->duplicate set, *index the part it
 * opened), ENOTFOUND when it is new, or the code (EINFLIGHT: another open
 * transaction holds the key; EIDEMMISMATCH: the key was used for a
 * different request). */
static int check_mark(orderly_engine *e, void *txn, const struct request *rq, orderly_result *res,
                      uint32_t *index)
{
    orderly_idem_record rec;
    int rc;

    rc = orderly__vt_idem_get(e, txn, rq->idem_key, rq->now, &rec);
    if (rc == 0) {
        if (sodium_memcmp(rec.fingerprint, rq->fingerprint, 16) != 0) {
            e->stats.idem_mismatch++;
            return orderly__fail(&e->ctx, ORDERLY_EIDEMMISMATCH,
                                 "idempotency key '%s' was used for a different request", rq->idem_key);
        }
        if ((rc = decode_result(res, index, rq->kind, rec.result, rec.result_len)) < 0)
            return orderly__fail(&e->ctx, rc, "stored result for '%s' is corrupt", rq->idem_key);
        res->duplicate = 1;
        e->stats.duplicates++;
        return 1;
    }
    if (rc == ORDERLY_EINFLIGHT)
        e->stats.idem_busy++;
    return rc;
}

/* A refusal the order's state gave (as opposed to storage's). */
static int is_rejection(int rc)
{
    return rc == ORDERLY_ETRANSITION || rc == ORDERLY_EGUARD || rc == ORDERLY_EINVARIANT ||
           rc == ORDERLY_EINVAL || rc == ORDERLY_ENOTFOUND || rc == ORDERLY_EEXISTS;
}

/* How one attempt inside a transaction ended. */
enum outcome {
    WRITTEN = 0,    /* state, outbox, queues and the mark written: commit */
    ANSWERED = 1,   /* a duplicate or a late event: nothing written */
};

/* An order stored by an engine configured with higher limits is left to
 * such an engine: this one refuses it whole rather than act on a part of it. */
static int within_limits(orderly_engine *e, const struct orderly__agg *a)
{
    if (a->n_lines > e->max_lines)
        return orderly__fail(&e->ctx, ORDERLY_ENOTSUPPORTED,
                             "order '%s' has %u lines, over this engine's max_lines %lu", a->id,
                             (unsigned)a->n_lines, (unsigned long)e->max_lines);
    if (a->n_ful > e->max_parts || a->n_ship > e->max_parts || a->n_ret > e->max_parts)
        return orderly__fail(&e->ctx, ORDERLY_ENOTSUPPORTED,
                             "order '%s' has %u fulfillments, %u shipments and %u returns, over "
                             "this engine's max_parts %lu",
                             a->id, (unsigned)a->n_ful, (unsigned)a->n_ship, (unsigned)a->n_ret,
                             (unsigned long)e->max_parts);
    return ORDERLY_OK;
}

/* Load: the request's order, or for a create the proof there is none.
 * The aggregate in e->agg is reused when it is the one last committed. */
static int load_order(orderly_engine *e, void *txn, const struct request *rq, uint64_t *version)
{
    struct orderly__agg *a = &e->agg;
    int rc, warm;

    warm = e->agg_warm;
    e->agg_warm = 0; /* a is about to change */
    rc = orderly__vt_load(e, txn, rq->order_id, &e->load_buf, version);
    if (rq->kind == REQ_CREATE) {
        if (rc == 0)
            return orderly__fail(&e->ctx, ORDERLY_EEXISTS, "order '%s' already exists", rq->order_id);
        return rc == ORDERLY_ENOTFOUND ? ORDERLY_OK : rc;
    }
    if (rc == ORDERLY_ENOTFOUND)
        return orderly__fail(&e->ctx, ORDERLY_ENOTFOUND, "no order '%s'", rq->order_id);
    if (rc < 0)
        return rc;
    if (!(warm && *version == e->agg_version && strcmp(e->agg_key, rq->order_id) == 0 &&
          orderly_buf_len(&e->load_buf) == e->enc_len &&
          memcmp(orderly_buf_data(&e->load_buf), e->enc, e->enc_len) == 0) &&
        (rc = orderly__agg_decode(a, rq->order_id, orderly_buf_data(&e->load_buf),
                                  orderly_buf_len(&e->load_buf))) < 0)
        return rc == ORDERLY_ENOTSUPPORTED
                   ? orderly__fail(&e->ctx, rc, "order '%s' has more lines than this engine's "
                                   "max_lines %lu", rq->order_id, (unsigned long)e->max_lines)
                   : orderly__fail(&e->ctx, rc, "stored order '%s' is corrupt", rq->order_id);
    return within_limits(e, a);
}

/* Into res: the outbox rows and operations of s this engine writes (a
 * replica writes only its machines'). */
static void count_owned(orderly_engine *e, const struct orderly__stage *s, orderly_result *res)
{
    size_t i;

    res->outbox_rows = (uint32_t)s->n_events;
    res->operations = (uint32_t)s->n_ops;
    if (!e->replica)
        return;
    for (i = 0; i < s->n_events; i++)
        if (!orderly__writes_event(e, s->events[i].kind))
            res->outbox_rows--;
    for (i = 0; i < s->n_ops; i++)
        if (!orderly__writes_op(e, s->ops[i].op))
            res->operations--;
}

/* Stage: the transition and everything it cascades to, in e->stage, and
 * the invariants. ANSWERED when the event is late (nothing to write). */
static int stage_request(orderly_engine *e, struct request *rq, uint64_t version,
                         orderly_result *res)
{
    struct orderly__stage *s = &e->stage;
    struct orderly__agg *a = &e->agg;
    int rc, late = 0;

    memset(s, 0, offsetof(struct orderly__stage, events));
    s->a = a;
    s->ctx = &e->ctx;
    s->max_parts = e->max_parts;
    s->now = rq->now;
    s->trace = rq->trace;
    if (rq->kind == REQ_CREATE) {
        if ((rc = build_order(e, s, rq->spec, rq->total)) < 0)
            return rc;
        if (rq->replacement_of != NULL)
            memcpy(a->replacement_of, rq->replacement_of, strlen(rq->replacement_of) + 1);
        res->machine = ORDERLY_MACHINE_ORDER;
        res->to = a->order_state;
    } else if (rq->kind == REQ_OPEN_RETURN) {
        if ((rc = open_return(e, s, rq)) < 0)
            return rc;
        rq->index = (uint32_t)(a->n_ret - 1);
        res->machine = ORDERLY_MACHINE_RETURN;
        res->to = a->ret[rq->index].state;   /* from none: it did not exist */
    } else {
        const orderly_command *c = rq->cmd;
        uint8_t before = 0;
        orderly_part_view pv;
        res->machine = c->machine;
        res->event = c->event;
        if (orderly__part_state(&pv, a, c->machine, c->index) == 0)
            before = (uint8_t)pv.state;
        rc = orderly__fire(e, s, c->machine, c->index, c->event, c->amount, &late);
        /* a deadline command reaches a replica through the shared log,
         * after whatever the log held before it: a state left meanwhile
         * makes it late, as a stale timer does nothing on its own engine */
        if (rc == ORDERLY_ETRANSITION && e->replica && orderly__is_deadline_event(c->machine, c->event)) {
            orderly_ctx_clear(&e->ctx);
            late = 1;
            rc = ORDERLY_OK;
        }
        if (rc < 0)
            return rc;
        res->from = before;
        res->to = orderly__part_state(&pv, a, c->machine, c->index) == 0 ? pv.state : before;
    }
    if (late) {
        res->late = 1;
        res->order_state = a->order_state;
        res->version = version;
        return ANSWERED;
    }
    if ((rc = orderly__check_invariants(e, a, 1)) < 0)
        return rc;
    res->order_state = a->order_state;
    count_owned(e, s, res);
    res->version = version + 1;
    return WRITTEN;
}

/* Write: the staged events, operations and timers, then the order with a
 * version check. */
static int write_staged(orderly_engine *e, void *txn, const struct request *rq, uint64_t version)
{
    struct orderly__stage *s = &e->stage;
    struct orderly__agg *a = &e->agg;
    size_t len;
    int rc;

    if ((rc = write_events(e, txn, s)) < 0 || (rc = write_operations(e, txn, s)) < 0 ||
        (rc = write_timers(e, txn, s)) < 0 ||
        (s->timed && (rc = orderly__deadlines_cancel(e, txn, a, s->now)) < 0))
        return rc;
    if ((len = orderly__agg_encode(a, e->enc, e->enc_cap)) == 0)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT, "order '%s' outgrew its record", a->id);
    e->enc_len = len;
    return orderly__vt_save(e, txn, rq->order_id, e->enc, len, version);
}

/* Mark: the idempotency record holding the result, in the same
 * transaction. */
static int mark_request(orderly_engine *e, void *txn, const struct request *rq,
                        const orderly_result *res)
{
    orderly_idem_record rec;
    uint8_t rbuf[RESULT_MAX];
    int rc;

    memset(&rec, 0, sizeof rec);
    memcpy(rec.fingerprint, rq->fingerprint, 16);
    /* saturating: a TTL of "forever" must not wrap into the past */
    rec.expires = rq->now > INT64_MAX - e->policy.idem_ttl ? INT64_MAX : rq->now + e->policy.idem_ttl;
    rec.result = rbuf;
    rec.result_len = encode_result(res, rq->index, rbuf);
    rc = orderly__vt_idem_put(e, txn, rq->idem_key, rq->now, &rec);
    /* a concurrent request committed the same key first: retrying finds its result */
    return rc == ORDERLY_EEXISTS ? ORDERLY_ECONFLICT : rc;
}

/* Load, stage, write, mark a new request inside txn: WRITTEN, ANSWERED
 * (late, nothing written) or a negative code. */
static int transition(orderly_engine *e, void *txn, struct request *rq, orderly_result *res)
{
    uint64_t version = 0;
    int rc;

    if ((rc = load_order(e, txn, rq, &version)) < 0 ||
        (rc = stage_request(e, rq, version, res)) != WRITTEN ||
        (rc = write_staged(e, txn, rq, version)) < 0)
        return rc;
    return mark_request(e, txn, rq, res);
}

/* A refusal the state gave may be the state a concurrent delivery of this
 * very request committed after the first check (a store whose reads see
 * every commit); its mark, committed with it, tells, and then this is a
 * duplicate with the first result: ANSWERED. ENOTFOUND when there is no
 * such mark and the refusal stands. */
static int recheck_mark(orderly_engine *e, void *txn, struct request *rq, orderly_result *res)
{
    orderly_result first;
    orderly_ctx refusal;
    uint32_t index;
    int again;

    refusal = e->ctx;
    memset(&first, 0, sizeof first);
    if ((again = check_mark(e, txn, rq, &first, &index)) != ORDERLY_ENOTFOUND) {
        if (again == 1) {
            *res = first;
            rq->index = index;
        }
        return again == 1 ? ANSWERED : again;
    }
    e->ctx = refusal;
    return ORDERLY_ENOTFOUND;
}

/* One attempt inside txn: check idempotency, then load, stage, write and
 * mark. WRITTEN, ANSWERED (duplicate or late) or a negative code. */
static int attempt(orderly_engine *e, void *txn, struct request *rq, orderly_result *res)
{
    int rc, again;

    if ((rc = check_mark(e, txn, rq, res, &rq->index)) != ORDERLY_ENOTFOUND)
        return rc == 1 ? ANSWERED : rc;
    rc = transition(e, txn, rq, res);
    if (!(rc == ANSWERED || is_rejection(rc)))
        return rc;
    if ((again = recheck_mark(e, txn, rq, res)) != ORDERLY_ENOTFOUND)
        return again;
    if (rc == ANSWERED)
        e->stats.late_ignored++;
    return rc;
}

static void notify_work(orderly_engine *e, size_t rows)
{
    if (rows > 0 && e->on_work != NULL)
        e->on_work(e, rows, e->work_user_data);
}

/* The one place a finished request is counted: rc is its final code, res
 * its result when WRITTEN (and committed, or staged in the open batch). */
static void count(orderly_engine *e, int rc, const orderly_result *res)
{
    if (rc == WRITTEN) {
        e->stats.applied++;
        e->stats.outbox_appended += res->outbox_rows;
        e->stats.operations_recorded += res->operations;
    } else if (is_rejection(rc)) {
        e->stats.rejected++;
    }
}

/* Inside the open batch: one attempt in its transaction. */
static int run_batched(orderly_engine *e, struct request *rq, orderly_result *res)
{
    int rc;

    rc = attempt(e, e->batch_txn, rq, res);
    if (rc == WRITTEN)
        e->batch_rows += res->outbox_rows;
    else if (rc < 0 && orderly_error_is_transient(rc))
        e->batch_failed = 1; /* a write may have happened: only the whole batch can be undone */
    count(e, rc, res);
    return rc;
}

/* Hand-off, inside a written command's txn: the pending acknowledgements
 * first (so no lease of theirs is taken over), then the claim of the rows
 * the command appended. WRITTEN, or the code that spoiled txn. */
static int hand_off(orderly_engine *e, void *txn, const struct request *rq,
                    const orderly_result *res, int *handed, orderly_time_ms *next_due)
{
    int rc;

    if ((rc = orderly__write_acks(e, txn)) < 0)
        return rc;
    if (res->outbox_rows > 0 && (rc = orderly__hand_off(e, txn, rq->now, next_due)) < 0)
        return rc;
    *handed = rc;
    return WRITTEN;
}

/* On its own: attempts in transactions of their own, retried on a version
 * conflict. */
static int run_alone(orderly_engine *e, struct request *rq, orderly_result *res)
{
    orderly_time_ms next_due;
    uint32_t tries;
    void *txn;
    int rc = ORDERLY_OK, handed;

    for (tries = 0; tries <= e->policy.max_conflict_retries; tries++) {
        memset(res, 0, sizeof *res);
        handed = 0;
        next_due = ORDERLY__DUE_UNKNOWN;
        if ((rc = orderly__vt_begin(e, &txn)) < 0)
            break;
        rc = attempt(e, txn, rq, res);
        if (rc == WRITTEN && e->handed != NULL)
            rc = hand_off(e, txn, rq, res, &handed, &next_due);
        if (rc != WRITTEN) {
            orderly__vt_rollback(e, txn);
            if (rc != ORDERLY_ECONFLICT)
                break;
        } else if ((rc = orderly__vt_commit(e, txn)) == 0) {
            if (e->handed != NULL) {
                e->n_acks = 0;
                e->n_handed += (size_t)handed;
                if (next_due != ORDERLY__DUE_UNKNOWN)
                    e->due_floor[ORDERLY_QUEUE_OUTBOX] = next_due;
            }
            orderly__deadlines_remember(e, rq->order_id, &e->stage);
            e->agg_warm = 1;
            e->agg_version = res->version;
            memcpy(e->agg_key, rq->order_id, strlen(rq->order_id) + 1);
            break;
        } else if (rc != ORDERLY_ECONFLICT) {
            break;
        }
        e->stats.conflicts_retried++;
    }
    count(e, rc, res);
    if (rc == WRITTEN)
        notify_work(e, res->outbox_rows);
    return rc;
}

static int run(orderly_engine *e, struct request *rq, orderly_result *out)
{
    orderly_result res;
    int rc;

    fingerprint(e, rq);
    if (e->batch_txn != NULL && e->batch_failed)
        return orderly__fail(&e->ctx, ORDERLY_EMISUSE, "the open batch failed: roll it back");
    memset(&res, 0, sizeof res);
    rc = e->batch_txn != NULL ? run_batched(e, rq, &res) : run_alone(e, rq, &res);
    if (rc == ANSWERED)
        rc = ORDERLY_OK;
    res.code = rc;
    if (out != NULL)
        orderly__out_put(out, &res, sizeof res);
    return rc;
}

int orderly_engine_create_order(orderly_engine *e, const orderly_order_spec *spec, orderly_result *out)
{
    return orderly__create_order(e, spec, NULL, out);
}

int orderly__create_order(orderly_engine *e, const orderly_order_spec *spec,
                          const char *replacement_of, orderly_result *out)
{
    struct request rq;
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    orderly_ctx_clear(&e->ctx);
    if (out != NULL && (rc = orderly__result_reset(&e->ctx, out)) < 0)
        return rc;
    if (spec == NULL)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "spec is NULL");
    memset(&rq, 0, sizeof rq);
    if ((rc = check_spec(e, spec, &rq.total)) < 0)
        return rc;
    if (spec->idem_key != NULL && !orderly__valid_id(spec->idem_key))
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "idem_key must be 1..%d printable bytes",
                             ORDERLY_ID_MAX);
    rq.order_id = spec->order_id;
    rq.kind = REQ_CREATE;
    rq.spec = spec;
    rq.replacement_of = replacement_of;
    rq.idem_key = spec->idem_key;
    rq.now = spec->now;
    return run(e, &rq, out);
}

/* How many parts of machine m an order can have: an index at or past it
 * names no part of any order. */
static uint32_t index_limit(int m)
{
    switch (m) {
    case ORDERLY_MACHINE_ORDER:
    case ORDERLY_MACHINE_PAYMENT:
        return 1;
    case ORDERLY_MACHINE_RESERVATION:
        return ORDERLY_LINES_MAX;
    default:
        return ORDERLY_PARTS_MAX;
    }
}

/* Every field of a host's command, before anything computes with it: the
 * machine id shifts the roles mask and indexes the tables, the event
 * indexes a table's rows, and the index is narrowed to a byte when staged,
 * so an out-of-range value must never reach them. */
static int check_command(orderly_engine *e, const orderly_command *c)
{
    const orderly_machine *m;
    uint32_t limit;
    int rc;

    if (!orderly__valid_id(c->order_id))
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "order_id must be 1..%d printable bytes",
                             ORDERLY_ID_MAX);
    if (c->idem_key != NULL && !orderly__valid_id(c->idem_key))
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "idem_key must be 1..%d printable bytes",
                             ORDERLY_ID_MAX);
    if (c->machine < 1 || c->machine > ORDERLY_MACHINE_COUNT)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "machine %d is not a machine id (1..%d)",
                             c->machine, ORDERLY_MACHINE_COUNT);
    m = orderly__machines[c->machine];
    if (c->event < 1 || c->event >= m->n_events)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "event %d is not an event of machine '%s'",
                             c->event, orderly_machine_name(m));
    /* reserved ones open parts or mark entry and exit inside the engine:
     * init opened a return without its amount check */
    if (c->event < ORDERLY_EVENT_FIRST)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                             "event '%s' of machine '%s' is reserved to the engine",
                             m->events[c->event], orderly_machine_name(m));
    if (m->fed[c->event])
        return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                             "event '%s' of machine '%s' is fed by the engine, not sent by hosts",
                             m->events[c->event], orderly_machine_name(m));
    limit = index_limit(c->machine);
    if (c->index >= limit)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                             "index %u is out of range for machine '%s' (0..%u)", c->index,
                             orderly_machine_name(m), limit - 1);
    if (c->amount < 0)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "amount is negative");
    /* times are stored as differences from the order's creation */
    if ((rc = orderly__check_now(e, c->now)) < 0)
        return rc;
    if (!orderly__accepts(e, c->machine))
        return orderly__fail(&e->ctx, ORDERLY_ECONFIG, "this engine does not own machine '%s'",
                             orderly_machine_name(m));
    return ORDERLY_OK;
}

int orderly__apply_traced(orderly_engine *e, const orderly_command *cmd, const char *trace,
                          orderly_result *out)
{
    struct request rq;
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    orderly_ctx_clear(&e->ctx);
    if (out != NULL && (rc = orderly__result_reset(&e->ctx, out)) < 0)
        return rc;
    if (cmd == NULL)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "command is NULL");
    if ((rc = check_command(e, cmd)) < 0)
        return rc;
    memset(&rq, 0, sizeof rq);
    rq.order_id = cmd->order_id;
    rq.kind = REQ_COMMAND;
    rq.cmd = cmd;
    rq.idem_key = cmd->idem_key;
    rq.now = cmd->now;
    rq.trace = trace;
    return run(e, &rq, out);
}

int orderly_engine_apply(orderly_engine *e, const orderly_command *cmd, orderly_result *out)
{
    return orderly__apply_traced(e, cmd, NULL, out);
}

int orderly_engine_open_return(orderly_engine *e, uint32_t *index_out, const char *order_id,
                               int64_t amount, int exchange, const char *idem_key,
                               orderly_time_ms now, orderly_result *out)
{
    struct request rq;
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    orderly_ctx_clear(&e->ctx);
    if (out != NULL && (rc = orderly__result_reset(&e->ctx, out)) < 0)
        return rc;
    if (!orderly__valid_id(order_id))
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "order_id must be 1..%d printable bytes",
                             ORDERLY_ID_MAX);
    if (idem_key != NULL && !orderly__valid_id(idem_key))
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "idem_key must be 1..%d printable bytes",
                             ORDERLY_ID_MAX);
    if (amount <= 0)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "return amount %lld is not positive",
                             (long long)amount);
    if ((rc = orderly__check_now(e, now)) < 0)
        return rc;
    if (!orderly__accepts(e, ORDERLY_MACHINE_RETURN))
        return orderly__fail(&e->ctx, ORDERLY_ECONFIG, "this engine does not own machine 'return'");
    memset(&rq, 0, sizeof rq);
    rq.order_id = order_id;
    rq.kind = REQ_OPEN_RETURN;
    rq.amount = amount;
    rq.exchange = exchange != 0;
    rq.idem_key = idem_key;
    rq.now = now;
    rc = run(e, &rq, out);
    if (rc == 0 && index_out != NULL)
        *index_out = rq.index;
    return rc;
}

int orderly_engine_open_return_lines(orderly_engine *e, uint32_t *index_out,
                                     const orderly_return_spec *sp, orderly_result *out)
{
    struct request rq;
    size_t k;
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    orderly_ctx_clear(&e->ctx);
    if (out != NULL && (rc = orderly__result_reset(&e->ctx, out)) < 0)
        return rc;
    if (sp == NULL)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "spec is NULL");
    if (sp->version != ORDERLY_RETURN_SPEC_VERSION)
        return orderly__fail(&e->ctx, ORDERLY_EVERSION, "return spec version %u is unknown",
                             sp->version);
    if (!orderly__valid_id(sp->order_id))
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "order_id must be 1..%d printable bytes",
                             ORDERLY_ID_MAX);
    if (sp->idem_key != NULL && !orderly__valid_id(sp->idem_key))
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "idem_key must be 1..%d printable bytes",
                             ORDERLY_ID_MAX);
    if (sp->lines == NULL || sp->n_lines == 0 || sp->n_lines > e->max_lines)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "lines: 1..%lu lines required (max_lines)",
                             (unsigned long)e->max_lines);
    /* e->units marks the lines named so far: no order of this engine has more than max_lines */
    memset(e->units, 0, e->max_lines * sizeof *e->units);
    for (k = 0; k < sp->n_lines; k++) {
        const orderly_return_line *rl = &sp->lines[k];
        if (rl->line >= e->max_lines || e->units[rl->line] != 0)
            return orderly__fail(&e->ctx, ORDERLY_EINVAL,
                                 "lines[%zu]: line %u is out of range or named twice", k, rl->line);
        if (rl->quantity == 0 || rl->quantity > ORDERLY_QUANTITY_MAX)
            return orderly__fail(&e->ctx, ORDERLY_EINVAL, "lines[%zu]: quantity %u is not 1..%u",
                                 k, rl->quantity, ORDERLY_QUANTITY_MAX);
        e->units[rl->line] = 1;
    }
    /* bounded so that value + adjustment cannot wrap, whatever the lines */
    if (sp->adjustment < -INT64_MAX / 4 || sp->adjustment > INT64_MAX / 4)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "adjustment %lld is out of range",
                             (long long)sp->adjustment);
    if ((rc = orderly__check_now(e, sp->now)) < 0)
        return rc;
    if (!orderly__accepts(e, ORDERLY_MACHINE_RETURN))
        return orderly__fail(&e->ctx, ORDERLY_ECONFIG, "this engine does not own machine 'return'");
    memset(&rq, 0, sizeof rq);
    rq.order_id = sp->order_id;
    rq.kind = REQ_OPEN_RETURN;
    rq.amount = sp->adjustment;
    rq.exchange = sp->exchange != 0;
    rq.ret = sp;
    rq.idem_key = sp->idem_key;
    rq.now = sp->now;
    rc = run(e, &rq, out);
    if (rc == 0 && index_out != NULL)
        *index_out = rq.index;
    return rc;
}

int orderly_engine_begin_batch(orderly_engine *e)
{
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    if (e->batch_txn != NULL)
        return orderly__fail(&e->ctx, ORDERLY_EMISUSE, "a batch is already open");
    if ((rc = orderly__vt_begin(e, &e->batch_txn)) < 0) {
        e->batch_txn = NULL;
        return rc;
    }
    e->batch_failed = 0;
    e->batch_rows = 0;
    return ORDERLY_OK;
}

int orderly_engine_commit_batch(orderly_engine *e)
{
    void *txn;
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    if ((txn = e->batch_txn) == NULL)
        return orderly__fail(&e->ctx, ORDERLY_EMISUSE, "no batch is open");
    e->batch_txn = NULL;
    if (e->batch_failed) {
        orderly__vt_rollback(e, txn);
        return orderly__fail(&e->ctx, ORDERLY_ECONFLICT, "the batch failed and was rolled back");
    }
    if ((rc = orderly__vt_commit(e, txn)) < 0)
        return rc;
    notify_work(e, e->batch_rows);
    return ORDERLY_OK;
}

void orderly_engine_rollback_batch(orderly_engine *e)
{
    if (e == NULL || e->batch_txn == NULL)
        return;
    orderly__vt_rollback(e, e->batch_txn);
    e->batch_txn = NULL;
}
