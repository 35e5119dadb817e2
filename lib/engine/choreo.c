/*
 * The choreography: what a transition of one machine means for the rest of
 * the order. Each row's effects are interpreted here, in table order, as
 * lib/fsm/reactions.c declares them: what an effect does itself (an
 * outbox event or an operation for the operations queue, keyed as it
 * declares) and the reactions it triggers on the other machines of the
 * same aggregate, all inside the command's transaction. A cascaded event that
 * has no row from its target's state does not apply and is skipped; every
 * other failure rejects the whole command.
 */
#include <stdio.h>
#include <string.h>

#include "../fsm/guard.h"
#include "../fsm/reactions.h"
#include "../fsm/table.h"
#include "internal.h"
#include "orderly/claim.h"
#include "orderly/fulfillment.h"
#include "orderly/order.h"
#include "orderly/payment.h"
#include "orderly/reservation.h"
#include "orderly/return.h"
#include "orderly/shipment.h"

/* Pointer to the state byte of part (machine, index), or NULL. */
static uint8_t *state_of(struct orderly__agg *a, int m, uint32_t index, orderly_time_ms **since)
{
    switch (m) {
    case ORDERLY_MACHINE_ORDER:
        *since = &a->order_since;
        return index == 0 ? &a->order_state : NULL;
    case ORDERLY_MACHINE_PAYMENT:
        *since = &a->payment_since;
        return index == 0 ? &a->payment_state : NULL;
    case ORDERLY_MACHINE_RESERVATION:
        if (index >= a->n_lines)
            return NULL;
        *since = &a->lines[index].since;
        return &a->lines[index].state;
    case ORDERLY_MACHINE_FULFILLMENT:
        if (index >= a->n_ful)
            return NULL;
        *since = &a->ful[index].since;
        return &a->ful[index].state;
    case ORDERLY_MACHINE_SHIPMENT:
        if (index >= a->n_ship)
            return NULL;
        *since = &a->ship[index].since;
        return &a->ship[index].state;
    case ORDERLY_MACHINE_RETURN:
        if (index >= a->n_ret)
            return NULL;
        *since = &a->ret[index].since;
        return &a->ret[index].state;
    case ORDERLY_MACHINE_CLAIM:
        /* shipment i's claim, once its loss opened it */
        if (index >= a->n_ship || a->ship[index].claim == 0)
            return NULL;
        *since = &a->ship[index].claim_since;
        return &a->ship[index].claim;
    default:
        return NULL;
    }
}

/* t + d for d > 0, saturating: a duration a host set to "never"
 * (INT64_MAX) gives a deadline that never comes instead of one long past. */
static orderly_time_ms later(orderly_time_ms t, int64_t d)
{
    return t > INT64_MAX - d ? INT64_MAX : t + d;
}

/* A COD order waits for its confirmation for cod_window: a deadline d that
 * would end it sooner (its reservations' TTL, its abandonment) is
 * stretched to the window, so a confirmation inside it finds the stock
 * still held and the order still open. */
static int64_t cod_floor(const struct orderly__agg *a, const orderly_policy *p, int64_t d)
{
    return a->method == ORDERLY_PAY_COD && d < p->cod_window ? p->cod_window : d;
}

orderly_time_ms orderly__deadline(const orderly_engine *e, const struct orderly__agg *a, int timer,
                                  uint32_t index)
{
    const orderly_policy *p = &e->policy;

    switch (timer) {
    case ORDERLY_TIMER_RESERVATION_TTL:
        return index < a->n_lines ? later(a->lines[index].since, cod_floor(a, p, p->reservation_ttl))
                                  : 0;
    case ORDERLY_TIMER_COD_WINDOW:
        return later(a->payment_since, p->cod_window);
    case ORDERLY_TIMER_AUTH_EXPIRY:
        return later(a->authorized_at, p->auth_window);
    case ORDERLY_TIMER_AUTO_COMPLETE:
        return later(a->order_since, p->auto_complete_after);
    case ORDERLY_TIMER_FULFILLMENT_SLA:
        /* the SLA runs from the fulfillment's release to its warehouse (the
         * order's confirmation), whatever it did since: an order paid at
         * +23 h has its full SLA, not one hour of it */
        return later(a->released_at, p->fulfillment_sla);
    case ORDERLY_TIMER_ABANDONED:
        return later(a->created, cod_floor(a, p, p->abandoned_after));
    case ORDERLY_TIMER_COD_COLLECTION:
        return later(a->payment_since, p->cod_collection_window);
    default:
        return 0;
    }
}

/* How many instances of machine m the order has. */
static uint32_t count_of(const struct orderly__agg *a, int m)
{
    switch (m) {
    case ORDERLY_MACHINE_RESERVATION:
        return a->n_lines;
    case ORDERLY_MACHINE_FULFILLMENT:
        return a->n_ful;
    case ORDERLY_MACHINE_SHIPMENT:
        return a->n_ship;
    case ORDERLY_MACHINE_RETURN:
        return a->n_ret;
    case ORDERLY_MACHINE_CLAIM:
        return a->n_ship;
    default:
        return 1;
    }
}

/* The state of instance i of machine m (i < count_of(a, m)). */
static int state_at(struct orderly__agg *a, int m, uint32_t i)
{
    orderly_time_ms *since;
    const uint8_t *st = state_of(a, m, i, &since);

    return st != NULL ? *st : 0;
}

/* The instances of machine m whose state has one of attrs, or lacks all
 * of them when `without`. */
static uint32_t count_in(struct orderly__agg *a, int m, unsigned attrs, int without)
{
    uint32_t i, n = 0;

    for (i = 0; i < count_of(a, m); i++)
        if (((ORDERLY__ATTRS(orderly__machines[m], state_at(a, m, i)) & attrs) != 0) != (without != 0))
            n++;
    return n;
}

/* What the guards of event of part (m, index), now in state, see: the
 * declared inputs of the event (lib/fsm/reactions.c). */
static void guard_input(orderly_engine *e, struct orderly__stage *s, int m, uint32_t index,
                        int state, int event, int64_t amount, orderly_guard_input *in)
{
    const struct orderly__event_input *x = &orderly__event_inputs[m][event];
    struct orderly__agg *a = s->a;
    int timer = x->timer != ORDERLY_TIMER_NONE ? x->timer : orderly__machines[m]->states[state].timer;

    memset(in, 0, sizeof *in);
    in->now = s->now;
    in->deadline = orderly__deadline(e, a, timer, index);
    in->amount = x->amount == ORDERLY__IN_UNCAPTURED ? a->authorized - a->captured : amount;
    in->authorized = a->authorized;
    in->captured = a->captured;
    in->refunded = x->amount == ORDERLY__IN_COUNTED ? a->refunded - amount : a->refunded;
    if (x->parts_of != 0) {
        /* a warehouse that cancelled after another shipped no longer counts */
        in->parts_total = count_in(a, x->parts_of, x->parts_out, 1);
        in->parts_done = count_in(a, x->done_of, x->done_attrs, 0);
    }
}

static int stage_event(struct orderly__stage *s, int kind, int m, uint32_t index, int from, int to,
                       int event, int64_t amount)
{
    struct orderly__staged_event *ev;

    if (s->n_events >= ORDERLY__STAGE_EVENTS)
        return orderly__fail(s->ctx, ORDERLY_EINVARIANT,
                             "order '%s': one command would publish more than %d events",
                             s->a->id, ORDERLY__STAGE_EVENTS);
    ev = &s->events[s->n_events++];
    ev->kind = (uint8_t)kind;
    ev->machine = (uint8_t)m;
    ev->index = index;
    ev->from = (uint8_t)from;
    ev->to = (uint8_t)to;
    ev->event = (uint8_t)event;
    ev->amount = amount;
    orderly__lines_clear(ev->lines, s->a->n_lines);
    return ORDERLY_OK;
}

/* A reservation's move publishes its line; the lines one command moves
 * the same way (a cancellation's releases, a payment's confirmations)
 * share one event, so a warehouse acts on them together. */
static int stage_reservation(struct orderly__stage *s, uint32_t line, const struct orderly__row *t)
{
    size_t i;
    int rc;

    for (i = 0; i < s->n_events; i++) {
        struct orderly__staged_event *ev = &s->events[i];
        if (ev->kind == ORDERLY__EV_RESERVATION_STATUS && ev->from == t->from && ev->to == t->to &&
            ev->event == t->event) {
            orderly__lines_add(ev->lines, line);
            return ORDERLY_OK;
        }
    }
    if ((rc = stage_event(s, ORDERLY__EV_RESERVATION_STATUS, ORDERLY_MACHINE_RESERVATION, line,
                          t->from, t->to, t->event, 0)) < 0)
        return rc;
    orderly__lines_add(s->events[s->n_events - 1].lines, line);
    return ORDERLY_OK;
}

/* The cause of an operation keyed by the lines it touches: their bits as
 * a number while an order has at most 32 lines (the keys orders of that
 * size always had), else a hash of the set. */
static int lines_cause(char *out, size_t cap, const struct orderly__agg *a, const uint64_t *lines)
{
    uint8_t h[16];

    if (a->n_lines <= 32)
        return snprintf(out, cap, "%s/lines/%u", a->id, (unsigned)(lines[0] & UINT32_MAX));
    orderly__hash128(h, "lines", 5, lines, ORDERLY__LINE_WORDS(a->n_lines) * sizeof *lines);
    return snprintf(out, cap, "%s/lines/x%02x%02x%02x%02x%02x%02x%02x%02x", a->id, h[0], h[1], h[2],
                    h[3], h[4], h[5], h[6], h[7]);
}

/*
 * Stages operation op, caused by part (m, index) of the order. Its key is
 * XXH3-128 of the op name and "<order id>/<cause>", the cause named as the
 * operation's declared key scope says (lib/fsm/reactions.c,
 * doc/delivery.md); a once-per-order operation the aggregate already
 * remembers is not recorded again. A second operation for a cause already
 * staged by this command is dropped: the ledger never holds two for one
 * cause.
 */
static int stage_op(struct orderly__stage *s, int op, int m, uint32_t index, const uint64_t *lines,
                    int return_units, int64_t amount)
{
    struct orderly__agg *a = s->a;
    struct orderly__staged_op *ef;
    const char *name = orderly_op_name(op);
    const struct orderly__op_decl *d = &orderly__op_decls[op];
    unsigned once = d->once;
    char cause[ORDERLY_ID_MAX + 40];
    size_t i, words = ORDERLY__LINE_WORDS(a->n_lines);
    int n;

    if (a->once_ops & once)
        return ORDERLY_OK;
    if (s->n_ops >= ORDERLY__STAGE_OPS)
        return orderly__fail(s->ctx, ORDERLY_EINVARIANT,
                             "order '%s': one command would record more than %d operations",
                             s->a->id, ORDERLY__STAGE_OPS);
    switch (d->key) {
    case ORDERLY__KEY_ORDER:
        n = snprintf(cause, sizeof cause, "%s/order", a->id);
        break;
    case ORDERLY__KEY_PART:
        n = snprintf(cause, sizeof cause, "%s/%s/%u", a->id,
                     orderly_machine_name(orderly__machines[m]), index);
        break;
    case ORDERLY__KEY_LINES:
        n = lines_cause(cause, sizeof cause, a, lines);
        break;
    default:
        n = snprintf(cause, sizeof cause, "%s/op/%u", a->id, a->op_seq);
        break;
    }
    ef = &s->ops[s->n_ops];
    orderly__hash128(ef->key, name, strlen(name), cause, (size_t)n);
    for (i = 0; i < s->n_ops; i++)
        if (memcmp(s->ops[i].key, ef->key, sizeof ef->key) == 0)
            return ORDERLY_OK;
    s->n_ops++;
    a->once_ops = (uint8_t)(a->once_ops | once);
    a->op_seq++;
    ef->op = (uint8_t)op;
    ef->index = index;
    ef->return_units = (uint8_t)(return_units != 0);
    if (lines != NULL)
        memcpy(ef->lines, lines, words * sizeof *lines);
    else
        orderly__lines_clear(ef->lines, a->n_lines);
    ef->amount = amount;
    if (d->counts == ORDERLY__COUNTS_RESTOCKED)
        for (i = 0; i < a->n_lines; i++)
            if (orderly__lines_has(ef->lines, (uint32_t)i))
                a->lines[i].restocked += return_units ? orderly__ret_units(a, &a->ret[index], (uint32_t)i)
                                                      : a->lines[i].quantity;
    /* money that moves back (a void, a refund) is announced with its amount */
    if (orderly__event_of_op(op) != 0)
        return stage_event(s, orderly__event_of_op(op), m, index, 0, 0, 0, amount);
    return ORDERLY_OK;
}

int orderly__schedule(orderly_engine *e, struct orderly__stage *s, int m, uint32_t index)
{
    orderly_time_ms *since;
    uint8_t *st = state_of(s->a, m, index, &since);
    int timer, tm, tev;
    struct orderly__staged_timer *t;
    orderly_time_ms due;
    size_t k;

    if (st == NULL)
        return ORDERLY_OK;
    timer = orderly__machines[m]->states[*st].timer;
    if (timer == ORDERLY_TIMER_NONE || orderly_timer_target(&tm, &tev, timer) < 0)
        return ORDERLY_OK;
    due = orderly__deadline(e, s->a, timer, index);
    /* the lines' deadlines share one row: its tick fires on whichever line
     * is still waiting on it (orderly__timer_line), so an order of n lines
     * writes one deadline, not n */
    if (tm == ORDERLY_MACHINE_RESERVATION)
        for (k = 0; k < s->n_timers; k++)
            if (s->timers[k].timer == timer && s->timers[k].machine == tm && s->timers[k].due == due)
                return ORDERLY_OK;
    if (s->n_timers >= s->max_timers)
        return orderly__fail(s->ctx, ORDERLY_EINVARIANT,
                             "order '%s': one command would schedule more than %zu deadlines",
                             s->a->id, s->max_timers);
    t = &s->timers[s->n_timers++];
    t->timer = (uint8_t)timer;
    t->machine = (uint8_t)tm;
    t->index = tm == m ? index : 0;
    t->event = (uint8_t)tev;
    t->due = due;
    t->row = 0;
    return ORDERLY_OK;
}

int orderly__timer_line(orderly_engine *e, const struct orderly__agg *a, int timer,
                        orderly_time_ms now, uint32_t *line)
{
    uint32_t i;

    for (i = 0; i < a->n_lines; i++)
        if (a->lines[i].state > 0 && a->lines[i].state < orderly__reservation_machine.n_states &&
            orderly__reservation_machine.states[a->lines[i].state].timer == timer &&
            orderly__deadline(e, a, timer, i) <= now) {
            *line = i;
            return 1;
        }
    return 0;
}

int orderly__is_deadline_event(int machine, int event)
{
    int timer, tm, tev;

    for (timer = ORDERLY_TIMER_RESERVATION_TTL; timer <= ORDERLY_TIMER_COD_COLLECTION; timer++)
        if (orderly_timer_target(&tm, &tev, timer) == 0 && tm == machine && tev == event)
            return 1;
    return 0;
}

/* Whether some part of a is in a state timed by `timer` whose deadline is
 * t (by_now: has passed at t). */
static int waits_on(const orderly_engine *e, struct orderly__agg *a, int timer, orderly_time_ms t,
                    int by_now)
{
    int m;
    uint32_t i;

    for (m = 1; m <= ORDERLY_MACHINE_COUNT; m++) {
        const struct orderly_machine *mc = orderly__machines[m];
        for (i = 0; i < count_of(a, m); i++) {
            int st = state_at(a, m, i);
            orderly_time_ms d;
            if (st <= 0 || st >= mc->n_states || mc->states[st].timer != timer)
                continue;
            d = orderly__deadline(e, a, timer, i);
            if (by_now ? d <= t : d == t)
                return 1;
        }
    }
    return 0;
}

int orderly__timer_due(const orderly_engine *e, struct orderly__agg *a, int timer,
                       orderly_time_ms now)
{
    return waits_on(e, a, timer, now, 1);
}

int orderly__timer_live(const orderly_engine *e, struct orderly__agg *a, int timer,
                        orderly_time_ms due)
{
    return waits_on(e, a, timer, due, 0);
}

static int status_kind(int m)
{
    switch (m) {
    case ORDERLY_MACHINE_ORDER:
        return ORDERLY__EV_ORDER_STATUS;
    case ORDERLY_MACHINE_PAYMENT:
        return ORDERLY__EV_PAYMENT_STATUS;
    case ORDERLY_MACHINE_RESERVATION:
        return ORDERLY__EV_RESERVATION_STATUS;
    case ORDERLY_MACHINE_FULFILLMENT:
        return ORDERLY__EV_FULFILLMENT_STATUS;
    case ORDERLY_MACHINE_SHIPMENT:
        return ORDERLY__EV_SHIPMENT_STATUS;
    default:
        return ORDERLY__EV_RETURN_STATUS;
    }
}

static int fire(orderly_engine *e, struct orderly__stage *s, int m, uint32_t index, int event,
                int64_t amount, int *late_out, int cascaded);

/* Fires a cascaded event: not applicable (no row) is fine, anything else
 * is the command's failure. */
static int cascade(orderly_engine *e, struct orderly__stage *s, int m, uint32_t index, int event,
                   int64_t amount)
{
    int late = 0, rc;

    rc = fire(e, s, m, index, event, amount, &late, 1);
    return rc == ORDERLY_ETRANSITION ? ORDERLY_OK : rc;
}

/* Into set: the lines whose reservation state has one of attrs, in
 * warehouse or in any. Returns how many. */
static uint32_t lines_in(uint64_t *set, const struct orderly__agg *a, unsigned attrs,
                         uint32_t warehouse, int any_warehouse)
{
    uint32_t i, n = 0;

    orderly__lines_clear(set, a->n_lines);
    for (i = 0; i < a->n_lines; i++)
        if ((ORDERLY__ATTRS(&orderly__reservation_machine, a->lines[i].state) & attrs) &&
            (any_warehouse || a->lines[i].warehouse == warehouse)) {
            orderly__lines_add(set, i);
            n++;
        }
    return n;
}

/* A shipment carries the lines its warehouse deducted that no shipment
 * carries yet, whole (lines deducted after it opens join it in
 * count_units). */
static int open_shipment(struct orderly__stage *s, uint32_t ful)
{
    struct orderly__agg *a = s->a;
    struct orderly__part *p;
    uint32_t i;

    if (a->n_ship >= s->max_parts)
        return orderly__fail(s->ctx, ORDERLY_EINVARIANT,
                             "order '%s' already has %lu shipments (max_parts)", a->id,
                             (unsigned long)s->max_parts);
    p = orderly__agg_add_part(a->ship, &a->n_ship);
    p->state = ORDERLY_SHIPMENT_CREATED;
    p->fulfillment = (uint8_t)ful;
    p->warehouse = a->ful[ful].warehouse;
    p->since = s->now;
    for (i = 0; i < a->n_lines; i++) {
        struct orderly__line *l = &a->lines[i];
        if (l->warehouse == p->warehouse && l->shipped == 0 &&
            (ORDERLY__ATTRS(&orderly__reservation_machine, l->state) & ORDERLY__ST_SHIPPED)) {
            l->shipped = l->quantity;
            l->shipment = (uint8_t)(a->n_ship - 1);
        }
    }
    return ORDERLY_OK;
}

/* Whether the units lost in shipment `ship` are given up for money: a
 * claim resolved by a refund, or a loss recorded before claims existed
 * (no claim). A claim undecided or reshipping keeps them owed to the
 * customer, not refunded. */
static int lost_refundable(const struct orderly__agg *a, uint32_t ship)
{
    uint8_t claim = ship < a->n_ship ? a->ship[ship].claim : 0;

    return claim == 0 || a->ship[ship].written_off != 0 ||
           (ORDERLY__ATTRS(&orderly__claim_machine, claim) & ORDERLY__ST_WRITTEN_OFF);
}

/* Shipment `ship`'s claim opens, once: a loss is final, so a second
 * opening cannot come from the table; it is refused rather than reset. */
static int open_claim(struct orderly__stage *s, uint32_t ship)
{
    struct orderly__part *p = &s->a->ship[ship];

    if (p->claim != 0)
        return orderly__fail(s->ctx, ORDERLY_EINVARIANT, "order '%s': shipment #%u's claim is open",
                             s->a->id, ship);
    p->claim = (uint8_t)orderly__claim_machine.initial;
    p->claim_since = s->now;
    return ORDERLY_OK;
}

/* The units of line i that will not reach the customer: all of them when
 * its warehouse dropped it unshipped, else those back at origin (or from
 * a cancelled parcel) or lost and refunded by their claim. */
static uint32_t undelivered_units(const struct orderly__agg *a, uint32_t i)
{
    const struct orderly__line *l = &a->lines[i];
    uint32_t f;

    if (l->shipped == 0) {
        for (f = 0; f < a->n_ful; f++)
            if (a->ful[f].warehouse == l->warehouse &&
                (ORDERLY__ATTRS(&orderly__fulfillment_machine, a->ful[f].state) & ORDERLY__ST_DROPPED))
                return l->quantity;
        return 0;
    }
    return l->back + (lost_refundable(a, l->shipment) ? l->lost : 0);
}

/* What the units that will not reach the customer cost, less what their
 * lines got back and, for cash on delivery, less the cash the carrier
 * never collected for them (it collects for what was delivered). */
static int64_t remainder_value(const struct orderly__agg *a)
{
    int64_t sum = 0, v;
    uint32_t i;

    for (i = 0; i < a->n_lines; i++) {
        v = a->lines[i].unit_price * (int64_t)undelivered_units(a, i) - a->lines[i].refunded;
        /* a record read back may hold more than an order can cost: saturate,
         * and the refund's guard refuses it */
        if (v > 0 && __builtin_add_overflow(sum, v, &sum))
            return INT64_MAX;
    }
    if (a->method == ORDERLY_PAY_COD && a->captured > 0 && a->total > a->captured)
        sum = sum > a->total - a->captured ? sum - (a->total - a->captured) : 0;
    return sum;
}

/* What shipment `ship`'s units cost, less what their lines got back. */
static int64_t carried_value(const struct orderly__agg *a, uint32_t ship)
{
    int64_t sum = 0, v;
    uint32_t i;

    for (i = 0; i < a->n_lines; i++) {
        const struct orderly__line *l = &a->lines[i];
        if (l->shipped == 0 || l->shipment != ship)
            continue;
        v = l->unit_price * (int64_t)l->shipped - l->refunded;
        if (v > 0 && __builtin_add_overflow(sum, v, &sum))
            return INT64_MAX;
    }
    return sum;
}

static int64_t reaction_amount(const struct orderly__agg *a, int kind, uint32_t index, int64_t event)
{
    switch (kind) {
    case ORDERLY__AMT_EVENT:
        return event;
    case ORDERLY__AMT_CAPTURED:
        return a->captured;
    case ORDERLY__AMT_UNCAPTURED:
        return a->authorized - a->captured;
    case ORDERLY__AMT_LOYALTY:
        return a->loyalty_points;
    case ORDERLY__AMT_PART:
        return a->ret[index].amount;
    case ORDERLY__AMT_OUTSTANDING:
        return a->captured - a->refunded;
    case ORDERLY__AMT_TOTAL:
        return a->total;
    case ORDERLY__AMT_AUTHORIZED:
        return a->authorized;
    case ORDERLY__AMT_REMAINDER:
        return remainder_value(a);
    case ORDERLY__AMT_CARRIED:
        return carried_value(a, index);
    default:
        return 0;
    }
}

/* The outbox kind and machine of each ORDERLY__SIG_*. */
static const struct {
    uint8_t kind, machine;
} signals[ORDERLY__SIG_COUNT] = {
    [ORDERLY__SIG_STOCK_COMMITTED] = { ORDERLY__EV_STOCK_COMMITTED, ORDERLY_MACHINE_ORDER },
    [ORDERLY__SIG_CAPTURE_REQUESTED] = { ORDERLY__EV_CAPTURE_REQUESTED, ORDERLY_MACHINE_PAYMENT },
};

/* Whether every instance of machine m can take event now. */
static int all_can(orderly_engine *e, struct orderly__stage *s, int m, int event)
{
    const orderly_machine *mm = orderly__machines[m];
    orderly_guard_input in;
    uint32_t i;
    int st;

    for (i = 0; i < count_of(s->a, m); i++) {
        st = state_at(s->a, m, i);
        if (st <= 0 || st >= mm->n_states)
            return 0;
        guard_input(e, s, m, i, st, event, 0, &in);
        if (orderly_machine_can(mm, st, event, &in, NULL) < 0)
            return 0;
    }
    return 1;
}

/* Whether declared condition cond (over machine cm, with arg) holds for
 * a row whose amount is `amount`. */
static int holds(orderly_engine *e, struct orderly__stage *s, int cond, int cm, unsigned arg,
                 int64_t amount)
{
    switch (cond) {
    case ORDERLY__IF_ALL_CAN:
        return all_can(e, s, cm, (int)arg);
    case ORDERLY__IF_NOT_ALL_CAN:
        return !all_can(e, s, cm, (int)arg);
    case ORDERLY__IF_IN:
        return (ORDERLY__ATTRS(orderly__machines[cm], state_at(s->a, cm, 0)) & arg) != 0;
    case ORDERLY__IF_PROMOTION:
        return s->a->has_promotion != 0;
    case ORDERLY__IF_AMOUNT:
        return amount > 0;
    case ORDERLY__IF_CLAIM_POLICY:
        return e->policy.claim_resolution == arg;
    default:
        return 1;
    }
}

/* The work of reaction r: its event on the selected instances, and the
 * operation recorded for them. */
static int run_selected(orderly_engine *e, struct orderly__stage *s, const struct orderly__reaction *r,
                        int m, uint32_t index, int64_t amount)
{
    struct orderly__agg *a = s->a;
    uint64_t *held;
    uint32_t i;
    int rc;

    switch (r->select) {
    case ORDERLY__SEL_OWNER:
        return cascade(e, s, r->target, 0, r->event, amount);
    case ORDERLY__SEL_PARENT:
        return cascade(e, s, r->target, a->ship[index].fulfillment, r->event, amount);
    case ORDERLY__SEL_EVERY:
        for (i = 0; i < count_of(a, r->target); i++)
            if ((rc = cascade(e, s, r->target, i, r->event, amount)) < 0)
                return rc;
        return ORDERLY_OK;
    case ORDERLY__SEL_NEW:
        return r->target == ORDERLY_MACHINE_CLAIM ? open_claim(s, index) : open_shipment(s, index);
    case ORDERLY__SEL_SAME:
        return cascade(e, s, r->target, index, r->event, amount);
    case ORDERLY__SEL_BOOKED:
        for (i = 0; i < a->n_ship; i++)
            if ((ORDERLY__ATTRS(&orderly__shipment_machine, a->ship[i].state) & ORDERLY__ST_BOOKED) &&
                (rc = cascade(e, s, r->target, i, r->event, amount)) < 0)
                return rc;
        return ORDERLY_OK;
    case ORDERLY__SEL_HELD:
    case ORDERLY__SEL_HELD_HERE:
        /* held: the cascades below may use the other sets of the stage */
        held = s->held[s->depth];
        if (lines_in(held, a, ORDERLY__ST_HELD, r->select == ORDERLY__SEL_HELD ? 0 : a->ful[index].warehouse,
                     r->select == ORDERLY__SEL_HELD) == 0)
            return ORDERLY_OK;
        for (i = 0; i < a->n_lines; i++)
            if (orderly__lines_has(held, i) && (rc = cascade(e, s, r->target, i, r->event, amount)) < 0)
                return rc;
        return r->op ? stage_op(s, r->op, r->target, 0, held, 0, 0) : ORDERLY_OK;
    case ORDERLY__SEL_ONLY:
        return r->op ? stage_op(s, r->op, m, 0, 0, 0, amount) : ORDERLY_OK;
    default:
        return orderly__fail(s->ctx, ORDERLY_EINVARIANT, "reaction selector %d", r->select);
    }
}

/* Runs reaction r of part (m, index) of the order, which a row took into
 * state `to`. */
static int run_reaction(orderly_engine *e, struct orderly__stage *s, const struct orderly__reaction *r,
                        int m, uint32_t index, int to, int64_t event_amount)
{
    struct orderly__agg *a = s->a;
    int64_t amount = reaction_amount(a, r->amount, index, event_amount);
    uint32_t at;
    uint8_t kind;
    int rc;

    if (r->when == ORDERLY__WHEN_DEFER) {
        /* remembered when its condition holds; fired by a DEFERRED row */
        if (holds(e, s, r->cond, r->cond_machine, r->cond_arg, amount))
            a->settle_on_capture = 1;
        return ORDERLY_OK;
    }
    if (r->when == ORDERLY__WHEN_DEFERRED) {
        if (!a->settle_on_capture)
            return ORDERLY_OK;
        a->settle_on_capture = 0;
    }
    if (r->when == ORDERLY__WHEN_STAYED && state_at(a, m, index) != to)
        return ORDERLY_OK;
    if (!holds(e, s, r->cond, r->cond_machine, r->cond_arg, amount))
        return ORDERLY_OK;
    kind = s->refund_kind;
    at = s->refund_index;
    s->refund_kind = r->amount;
    s->refund_index = index;
    rc = run_selected(e, s, r, m, index, amount);
    s->refund_kind = kind;
    s->refund_index = at;
    if (rc < 0 || r->emit == ORDERLY__SIG_NONE)
        return rc;
    return stage_event(s, signals[r->emit].kind, signals[r->emit].machine, 0, 0, 0, 0,
                       reaction_amount(a, r->emit_amount, index, 0));
}

/* The choreography: the reactions that effect on a row into state `to` of
 * part (m, index) triggers, in table order. */
int orderly__index_reactions(orderly_engine *e, orderly_ctx *ctx)
{
    size_t i, n = 0;
    int m, fx;

    if (orderly__n_reactions > ORDERLY__REACTIONS_MAX)
        return orderly__fail(ctx, ORDERLY_EINVARIANT, "%zu reaction rows: the index holds %d",
                             orderly__n_reactions, ORDERLY__REACTIONS_MAX);
    for (i = 0; i < orderly__n_reactions; i++)
        if (orderly__reactions[i].effect >= ORDERLY__EFFECT_SLOTS ||
            orderly__reactions[i].source > ORDERLY_MACHINE_COUNT)
            return orderly__fail(ctx, ORDERLY_EINVARIANT, "reaction row %zu: effect %u or machine "
                                 "%u is past the index", i, orderly__reactions[i].effect,
                                 orderly__reactions[i].source);
    for (m = 0; m <= ORDERLY_MACHINE_COUNT; m++) {
        for (fx = 0; fx < ORDERLY__EFFECT_SLOTS; fx++) {
            e->react_first[m][fx] = (uint8_t)n;
            for (i = 0; i < orderly__n_reactions; i++) {
                const struct orderly__reaction *r = &orderly__reactions[i];
                if (r->source == m && r->effect == fx && r->target != 0)
                    e->react_rows[n++] = (uint8_t)i;
            }
            e->react_n[m][fx] = (uint8_t)(n - e->react_first[m][fx]);
        }
    }
    return ORDERLY_OK;
}

static int react(orderly_engine *e, struct orderly__stage *s, int m, uint32_t index, int effect,
                 int to, int64_t event_amount)
{
    size_t i, first, n;
    int rc;

    if (m < 0 || m > ORDERLY_MACHINE_COUNT || effect < 0 || effect >= ORDERLY__EFFECT_SLOTS)
        return ORDERLY_OK;
    first = e->react_first[m][effect];
    n = e->react_n[m][effect];
    for (i = first; i < first + n; i++) {
        const struct orderly__reaction *r = &orderly__reactions[e->react_rows[i]];
        if (r->state != 0 && r->state != to)
            continue;
        if ((rc = run_reaction(e, s, r, m, index, to, event_amount)) < 0)
            return rc;
    }
    return ORDERLY_OK;
}

/* The outbox kind of each ORDERLY__OUT_*; 0: the machine's status kind. */
static const uint8_t published[ORDERLY__OUT_COUNT] = {
    [ORDERLY__OUT_ORDER_CANCELLED] = ORDERLY__EV_ORDER_CANCELLED,
    [ORDERLY__OUT_PAYMENT_CONFIRMED] = ORDERLY__EV_PAYMENT_CONFIRMED,
    [ORDERLY__OUT_PAYMENT_FAILED] = ORDERLY__EV_PAYMENT_FAILED,
    [ORDERLY__OUT_PAYMENT_CAPTURED] = ORDERLY__EV_PAYMENT_CAPTURED,
    [ORDERLY__OUT_SLA_BREACHED] = ORDERLY__EV_SLA_BREACHED,
    [ORDERLY__OUT_REPLACEMENT_REQUESTED] = ORDERLY__EV_REPLACEMENT_REQUESTED,
};

/* Into set: the lines an operation names, as its effect declares.
 * Returns how many. */
static uint32_t effect_lines(uint64_t *set, const struct orderly__agg *a, int lines, uint32_t index)
{
    const struct orderly__part *r;
    uint32_t i, n = 0;

    orderly__lines_clear(set, a->n_lines);
    switch (lines) {
    case ORDERLY__LINES_ALL:
        for (i = 0; i < a->n_lines; i++)
            orderly__lines_add(set, i);
        return a->n_lines;
    case ORDERLY__LINES_SHIPPED_HERE:
        for (i = 0; i < a->n_lines; i++)
            if (a->lines[i].shipped > 0 && a->lines[i].shipment == index) {
                orderly__lines_add(set, i);
                n++;
            }
        return n;
    case ORDERLY__LINES_RETURNED:
        r = &a->ret[index];
        for (i = 0; i < r->rl_n; i++)
            orderly__lines_add(set, a->rlines[r->rl_first + i].line);
        return r->rl_n;
    default:
        return 0;
    }
}

/* What effect of a row of part (m, index) does itself, as declared in
 * orderly__effect_decls (lib/fsm/reactions.c). */
static int run_effect(orderly_engine *e, struct orderly__stage *s, int effect, int m,
                      uint32_t index, const struct orderly__row *t, int64_t amount)
{
    const struct orderly__effect_decl *d;
    int64_t v;

    if (effect >= ORDERLY__EFFECT_IDS)
        return ORDERLY_OK;
    d = &orderly__effect_decls[m][effect];
    switch (d->does) {
    case ORDERLY__DO_PUBLISH:
    case ORDERLY__DO_RECORD:
        v = reaction_amount(s->a, d->amount, index, amount);
        if (!holds(e, s, d->cond, 0, 0, v))
            return ORDERLY_OK;
        if (d->does == ORDERLY__DO_RECORD) {
            uint64_t *set = s->held[s->depth];
            if (effect_lines(set, s->a, d->lines, index) == 0 && d->lines == ORDERLY__LINES_RETURNED)
                return ORDERLY_OK;
            return stage_op(s, d->what, m, index, set, d->lines == ORDERLY__LINES_RETURNED, v);
        }
        return stage_event(s, orderly__event_refine(published[d->what] ? published[d->what]
                                                                         : status_kind(m),
                                                    m, t->to),
                           m, index, t->from, t->to, t->event, v);
    case ORDERLY__DO_START_SLA:
        /* the SLA of every fulfillment the reactions release starts now */
        s->a->released_at = s->now;
        s->timed = 1;
        return ORDERLY_OK;
    default: /* the effect's work is its reactions */
        return ORDERLY_OK;
    }
}

/* Money moves with the payment's transitions, as their events declare
 * (lib/fsm/reactions.c); the stored amounts are authoritative, never an
 * event's. */
/* The units a refund goes to first, as the amount of the reaction
 * refunding declares (into first[]), or NULL: a return's own units, a
 * parcel's, or those that will not reach the customer. */
static const uint32_t *refund_first(const struct orderly__stage *s, uint32_t *first)
{
    const struct orderly__agg *a = s->a;
    uint32_t i;

    if (s->refund_kind == ORDERLY__AMT_PART && s->refund_index < a->n_ret) {
        const struct orderly__part *r = &a->ret[s->refund_index];
        memset(first, 0, a->n_lines * sizeof *first);
        for (i = 0; i < r->rl_n; i++)
            first[a->rlines[r->rl_first + i].line] = a->rlines[r->rl_first + i].qty;
        return first;
    }
    if (s->refund_kind == ORDERLY__AMT_CARRIED) {
        for (i = 0; i < a->n_lines; i++)
            first[i] = a->lines[i].shipped > 0 && a->lines[i].shipment == s->refund_index
                           ? a->lines[i].shipped
                           : 0;
        return first;
    }
    if (s->refund_kind == ORDERLY__AMT_REMAINDER) {
        for (i = 0; i < a->n_lines; i++)
            first[i] = undelivered_units(a, i);
        return first;
    }
    return NULL;
}

static int move_money(struct orderly__stage *s, int money, int64_t amount)
{
    struct orderly__agg *a = s->a;
    int64_t uncollected;

    switch (money) {
    case ORDERLY__MONEY_AUTHORIZE:
        if (amount != a->total)
            return orderly__fail(s->ctx, ORDERLY_EINVARIANT,
                                 "order '%s': authorized %lld is not the order total %lld", a->id,
                                 (long long)amount, (long long)a->total);
        a->authorized = amount;
        a->authorized_at = s->now;
        s->timed = 1;
        break;
    case ORDERLY__MONEY_CAPTURE:
        a->captured = a->authorized;
        break;
    case ORDERLY__MONEY_COLLECT:
        /* the carrier collects for what reached the customer, never for a
         * parcel that came back or was lost before the cash changed hands */
        a->captured = 0;
        uncollected = remainder_value(a);
        a->captured = uncollected < a->total ? a->total - uncollected : 0;
        a->authorized = a->captured;
        break;
    case ORDERLY__MONEY_REFUND:
        a->refunded += amount;
        /* what no line can take breaks refunded <= captured, and is refused there */
        orderly__agg_spread_refund(a, amount, refund_first(s, s->first));
        break;
    default:
        break;
    }
    return ORDERLY_OK;
}

/* The units of the lines a shipment carries or a return names move with
 * the part's state, as the states' attributes declare: a shipment's lines
 * count delivered, lost or back at origin when it ends so; a return's
 * units count returned while its state says they are back with the
 * merchant (a rejection after inspection sends them back out). */
static void count_units(struct orderly__agg *a, int m, uint32_t index, int from, int to)
{
    const orderly_machine *mm = orderly__machines[m];
    unsigned was = ORDERLY__ATTRS(mm, from), is = ORDERLY__ATTRS(mm, to);
    uint32_t i;

    if (m == ORDERLY_MACHINE_RESERVATION && ((is & ~was) & ORDERLY__ST_SHIPPED)) {
        /* deducted: it left in its warehouse's newest shipment, opened
         * by the same shipping, before or after this */
        struct orderly__line *l = &a->lines[index];
        for (i = a->n_ship; i > 0 && l->shipped == 0; i--)
            if (a->ship[i - 1].warehouse == l->warehouse) {
                l->shipped = l->quantity;
                l->shipment = (uint8_t)(i - 1);
            }
    } else if (m == ORDERLY_MACHINE_SHIPMENT) {
        for (i = 0; i < a->n_lines; i++) {
            struct orderly__line *l = &a->lines[i];
            if (l->shipped == 0 || l->shipment != index)
                continue;
            if ((is & ~was) & ORDERLY__ST_DELIVERED)
                l->delivered += l->shipped;
            if ((is & ~was) & ORDERLY__ST_LOST)
                l->lost += l->shipped;
            if ((is & ~was) & ORDERLY__ST_BACK)
                l->back += l->shipped;
        }
    } else if (m == ORDERLY_MACHINE_CLAIM && (is & ORDERLY__ST_WRITTEN_OFF)) {
        /* remembered past the claim's close, which says nothing of how it ended */
        a->ship[index].written_off = 1;
    } else if (m == ORDERLY_MACHINE_RETURN && ((was ^ is) & ORDERLY__ST_RECEIVED)) {
        const struct orderly__part *r = &a->ret[index];
        for (i = 0; i < r->rl_n; i++) {
            const struct orderly__ret_line *rl = &a->rlines[r->rl_first + i];
            struct orderly__line *l = &a->lines[rl->line];
            if (is & ORDERLY__ST_RECEIVED)
                l->returned += rl->qty;
            else
                l->returned -= rl->qty < l->returned ? rl->qty : l->returned;
        }
    }
}

/* Fires event on part (m, index); m is a machine id and event one of its
 * user events. cascaded: a refusal for want of a row is not explained,
 * since the caller drops it. */
static int fire(orderly_engine *e, struct orderly__stage *s, int m, uint32_t index, int event,
                int64_t amount, int *late_out, int cascaded)
{
    const orderly_machine *mm = orderly__machines[m];
    const struct orderly__row *t;
    struct orderly__agg *a = s->a;
    orderly_guard_input in;
    orderly_time_ms *since;
    uint8_t *st;
    int rc = ORDERLY_OK, k;

    *late_out = 0;
    if ((st = state_of(a, m, index, &since)) == NULL)
        return orderly__fail(&e->ctx, ORDERLY_ENOTFOUND, "order '%s' has no %s #%u", a->id,
                             orderly_machine_name(mm), index);
    /* m and event were checked with the command (or are the engine's own);
     * a state byte comes from storage */
    if (*st == 0 || *st >= mm->n_states)
        return orderly_machine_can(mm, *st, event, NULL, &e->ctx); /* says which is invalid */
    if (s->depth >= ORDERLY__CASCADE_DEPTH)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT, "cascade deeper than %d",
                             ORDERLY__CASCADE_DEPTH);
    guard_input(e, s, m, index, *st, event, amount, &in);
    if ((t = orderly__machine_row(mm, *st, event, &in, &rc)) == NULL) {
        if (rc == ORDERLY_ETRANSITION && orderly_machine_is_late(mm, *st, event) == 1) {
            *late_out = 1;
            return ORDERLY_OK;
        }
        if (rc == ORDERLY_ETRANSITION && cascaded)
            return rc;
        return orderly_machine_can(mm, *st, event, &in, &e->ctx); /* the refusal's reason */
    }
    if ((rc = move_money(s, orderly__event_inputs[m][event].money, amount)) < 0)
        return orderly__fail(&e->ctx, rc, "payment %s of %lld does not match order '%s' total %lld",
                             orderly_machine_event_name(mm, event), (long long)amount, a->id,
                             (long long)a->total);
    if (t->to != t->from) {
        if (mm->states[t->from].timer != ORDERLY_TIMER_NONE ||
            mm->states[t->to].timer != ORDERLY_TIMER_NONE)
            s->timed = 1;
        *st = t->to;
        *since = s->now;
        count_units(a, m, index, t->from, t->to);
        if ((rc = orderly__schedule(e, s, m, index)) < 0)
            return rc;
        if (m == ORDERLY_MACHINE_RESERVATION && (rc = stage_reservation(s, index, t)) < 0)
            return rc;
    }
    s->depth++;
    for (k = 0; k < ORDERLY_EFFECT_MAX && t->effects[k] != ORDERLY_EFFECT_NONE && rc >= 0; k++)
        if ((rc = run_effect(e, s, t->effects[k], m, index, t, amount)) >= 0)
            rc = react(e, s, m, index, t->effects[k], t->to, amount);
    s->depth--;
    if (rc < 0)
        return rc;
    /* a cascade's parts are checked with the command that caused it: an
     * order of n lines cancelled checks n lines once, not n times */
    return cascaded ? ORDERLY_OK : orderly__check_invariants(e, a, 0);
}

int orderly__fire(orderly_engine *e, struct orderly__stage *s, int m, uint32_t index, int event,
                  int64_t amount, int *late_out)
{
    return fire(e, s, m, index, event, amount, late_out, 0);
}
