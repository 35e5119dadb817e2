/*
 * After the warehouse: how each parcel ends (delivered, lost and its claim,
 * sent back), what the customer does with a delivered order (returns,
 * partial or whole, once or twice; exchanges and their replacement
 * orders), and the world's books of every unit and every amount owed back,
 * per order line, which sim_check.c holds against the engine.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* The world's books for a parcel: fulfillment ful's lines were handed to
 * the carrier, or the parcel carrying them ended, or the warehouse never
 * shipped them. A parcel back at origin is owed back to the customer and
 * restocked; the lines a warehouse cancelled are owed back too (their
 * stock is released, never having left); a lost one's units are owed back
 * once its claim is refunded (claim_refunded). */
void sim_book_parcel(struct sim_order *o, uint32_t ful, int fate)
{
    uint32_t k;

    for (k = 0; k < o->n_lines; k++) {
        struct sim_line *l = &o->lines[k];
        if (l->warehouse != o->ful_wh[ful])
            continue;
        switch (fate) {
        case PARCEL_SHIPPED:
            l->shipped = l->quantity;
            break;
        case PARCEL_DELIVERED:
            l->delivered = l->shipped;
            break;
        case PARCEL_LOST:
            l->lost = l->shipped;
            break;
        case PARCEL_CANCELLED:
            l->refund_due += (int64_t)l->quantity * l->unit_price;
            break;
        default:
            l->back_at_origin = l->shipped;
            l->to_restock += l->shipped;
            l->refund_due += (int64_t)l->shipped * l->unit_price;
            break;
        }
    }
}

static void claim_refunded(struct sim_order *o, uint32_t shipment)
{
    uint32_t k;

    for (k = 0; k < o->n_lines; k++)
        if (o->lines[k].warehouse == o->ful_wh[o->ship_ful[shipment]])
            o->lines[k].refund_due += (int64_t)o->lines[k].lost * o->lines[k].unit_price;
}

/* Whether the parcel of fulfillment ful fails to reach the customer. */
static int parcel_fails(const struct sim_order *o, uint32_t ful)
{
    return o->scenario == SC_RETURN_TO_ORIGIN ||
           (o->scenario == SC_PARTIAL_DELIVERY && ful == o->victim);
}

/* The carrier's last word on shipment i: delivered, lost (its claim opens)
 * or sent back after a failed delivery. */
int sim_end_parcel(struct sim *s, struct sim_order *o, uint32_t i)
{
    uint32_t ful = o->ship_ful[i];
    int rc;

    if (!parcel_fails(o, ful)) {
        if ((rc = sim_carrier_event(s, o, "shipment.deliver", i)) == 0 && s->applied)
            sim_book_parcel(o, ful, PARCEL_DELIVERED);
        return rc;
    }
    if (o->victim_lost) {
        s->c.parcels_lost++;
        if ((rc = sim_carrier_event(s, o, "shipment.lose", i)) < 0 || !s->applied)
            return rc;
        sim_book_parcel(o, ful, PARCEL_LOST);
        /* the host decides (--claims host) or the engine already did; the
         * host closes it either way */
        if (s->claim_resolution == ORDERLY_CLAIM_BY_HOST) {
            o->claims_open |= (uint16_t)(1u << i);
            return ORDERLY_OK;
        }
        if (s->claim_resolution == ORDERLY_CLAIM_BY_REFUND) {
            s->c.claims_refunded++;
            claim_refunded(o, i);
        } else {
            s->c.claims_reshipped++;
        }
        o->claims_unclosed |= (uint16_t)(1u << i);
        return ORDERLY_OK;
    }
    if ((rc = sim_carrier_event(s, o, "shipment.fail_delivery", i)) < 0)
        return rc;
    if ((rc = sim_carrier_event(s, o, "shipment.return_to_origin", i)) == 0 && s->applied) {
        s->c.parcels_back++;
        sim_book_parcel(o, ful, PARCEL_BACK);
    }
    return rc;
}

/* The merchant's side of a lost parcel: decide the claim (--claims host:
 * three in five refunded, the rest reshipped), then close it. */
static int claim_step(struct sim *s, struct sim_order *o)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    uint32_t i;
    int rc, refund;

    if (o->claims_open != 0) {
        for (i = 0; !((uint32_t)o->claims_open >> i & 1u); i++)
            ;
        refund = sim_rand(s) < 0.6;
        rc = sim_command(s, o, ORDERLY_MACHINE_CLAIM,
                     refund ? ORDERLY_CLAIM_EV_REFUND : ORDERLY_CLAIM_EV_RESHIP, i, 0, &res);
        if (rc < 0)
            return rc;
        /* a claim the engine refuses to move is left to the checks */
        o->claims_open &= (uint16_t)~(1u << i);
        if (!s->applied)
            return ORDERLY_OK;
        if (refund) {
            s->c.claims_refunded++;
            claim_refunded(o, i);
        } else {
            s->c.claims_reshipped++;
        }
        o->claims_unclosed |= (uint16_t)(1u << i);
        return ORDERLY_OK;
    }
    for (i = 0; !((uint32_t)o->claims_unclosed >> i & 1u); i++)
        ;
    rc = sim_command(s, o, ORDERLY_MACHINE_CLAIM, ORDERLY_CLAIM_EV_CLOSE, i, 0, &res);
    if (rc == 0 && s->applied)
        s->c.claims_closed++;
    if (rc == 0)
        o->claims_unclosed &= (uint16_t)~(1u << i);
    return rc;
}

static const int return_events[3] = {
    ORDERLY_RETURN_EV_APPROVE, ORDERLY_RETURN_EV_RECEIVE, ORDERLY_RETURN_EV_INSPECT,
};

/* Picks the units of the customer's next return into o->ret_lines: with
 * whole, every delivered unit no return has named yet; else some units of
 * some lines (at least one unit). Returns the units picked; *kept gets the
 * units still with the customer after it. */
static uint32_t pick_return(struct sim *s, struct sim_order *o, int whole, uint32_t *kept)
{
    uint32_t k, avail, q, units = 0, first = o->n_lines;

    o->ret_n = 0;
    *kept = 0;
    for (k = 0; k < o->n_lines; k++) {
        avail = o->lines[k].delivered - o->lines[k].claimed;
        if (avail == 0)
            continue;
        if (first == o->n_lines)
            first = k;
        q = whole ? avail : sim_rand(s) < 0.4 ? 1 + sim_below(s, avail) : 0;
        *kept += avail - q;
        if (q == 0)
            continue;
        o->ret_lines[o->ret_n].line = k;
        o->ret_lines[o->ret_n].quantity = q;
        o->ret_n++;
        units += q;
    }
    if (units == 0 && first < o->n_lines) {
        o->ret_lines[0].line = first;
        o->ret_lines[0].quantity = 1;
        o->ret_n = 1;
        units = 1;
        (*kept)--;
    }
    return units;
}

/* The customer asks to send units back: every other return (and every
 * exchange) all of them, the rest some; one return in four keeps a 10 %
 * restocking fee. */
static int open_return(struct sim *s, struct sim_order *o, const orderly_order_view *v)
{
    orderly_return_spec rs = ORDERLY_RETURN_SPEC_INIT;
    orderly_result res = ORDERLY_RESULT_INIT;
    int exchange = o->scenario == SC_EXCHANGE, rc = 0, i;
    uint32_t k, kept;
    int64_t value = 0;
    char key[48];

    if (v->captured <= 0) {
        o->done = 1;   /* nothing was paid, so there is nothing to give back */
        return ORDERLY_OK;
    }
    if (o->ret_lines == NULL && (o->ret_lines = calloc(o->n_lines, sizeof *o->ret_lines)) == NULL)
        return ORDERLY_ENOMEM;
    if (pick_return(s, o, exchange || sim_below(s, 2) == 0, &kept) == 0) {
        o->done = 1;   /* nothing delivered is left to send back */
        return ORDERLY_OK;
    }
    for (k = 0; k < o->ret_n; k++)
        value += (int64_t)o->ret_lines[k].quantity * o->lines[o->ret_lines[k].line].unit_price;
    o->ret_fee = !exchange && sim_rand(s) < 0.25 ? -(value / 10) : 0;
    snprintf(key, sizeof key, "%s/return/%u", o->id, ++o->cmd_seq);
    rs.order_id = o->id;
    rs.lines = o->ret_lines;
    rs.n_lines = o->ret_n;
    rs.adjustment = o->ret_fee;
    rs.exchange = exchange;
    rs.idem_key = key;
    rs.now = s->now;
    sim_faults_for(s, o);
    for (i = 0; i < SIM_RETRIES; i++) {
        if (!sim_is_transient(rc = sim_open_return(s, &o->ret_index, &rs, &res)))
            break;
        s->c.retries++;
    }
    sim_faults_for(s, NULL);
    s->c.commands++;
    if (rc < 0) {
        o->done = 1;
        s->c.rejected++;
        if (sim_is_business(rc))
            sim_fail(s, "%s: the engine refused a return of delivered units: %s", o->id,
                     orderly_engine_errmsg(s->engine));
        return sim_is_business(rc) ? ORDERLY_OK : rc;
    }
    s->c.applied++;
    s->c.returns_opened++;
    s->c.partial_returns += kept > 0;
    s->c.second_returns += o->ret_index > 0;
    s->c.returns_with_fee += o->ret_fee != 0;
    for (k = 0; k < o->ret_n; k++)
        o->lines[o->ret_lines[k].line].claimed += o->ret_lines[k].quantity;
    o->ret_step = 1;
    return s->work ? sim_pump(s) : ORDERLY_OK;
}

/* The return's units in the world's books: received by the warehouse,
 * owed back (with the return's fee), or restocked. */
enum { RETURN_RECEIVED, RETURN_REFUNDED, RETURN_RESTOCKED };

static void book_return(struct sim_order *o, int what)
{
    uint32_t k;

    if (what == RETURN_REFUNDED)
        o->fees += o->ret_fee;
    for (k = 0; k < o->ret_n; k++) {
        struct sim_line *l = &o->lines[o->ret_lines[k].line];
        uint32_t q = o->ret_lines[k].quantity;
        if (what == RETURN_RECEIVED)
            l->returned += q;
        else if (what == RETURN_REFUNDED)
            l->refund_due += (int64_t)q * l->unit_price;
        else
            l->to_restock += q;
    }
}

/* Opens the replacement of the exchange just completed and gives it a
 * slot of its own: the customer then pays it and it ships as any order. */
static int open_replacement(struct sim *s, struct sim_order *o)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    char id[ORDERLY_ID_MAX + 1];
    struct sim_order *r;
    uint32_t k, f;
    int rc = 0, i;

    o->exchanged = 0;
    o->done = 1;
    if (orderly_replacement_id(id, o->id, o->ret_index) < 0 || strlen(id) >= sizeof r->id ||
        s->created == s->capacity) {
        s->c.replacements_skipped++;
        return ORDERLY_OK;
    }
    sim_faults_for(s, o);
    for (i = 0; i < SIM_RETRIES; i++) {
        if (!sim_is_transient(rc = sim_open_replacement(s, o->id, o->ret_index, s->now, &res)))
            break;
        s->c.retries++;
    }
    sim_faults_for(s, NULL);
    s->c.commands++;
    if (rc < 0) {
        s->c.rejected++;
        sim_fail(s, "opening the replacement of %s failed: %s", o->id, orderly_engine_errmsg(s->engine));
        return sim_is_business(rc) ? ORDERLY_OK : rc;
    }
    s->c.applied++;
    s->c.replacements++;
    r = &s->orders[s->created];
    memset(r, 0, sizeof *r);
    if ((r->lines = calloc(o->ret_n, sizeof *r->lines)) == NULL)
        return ORDERLY_ENOMEM;
    snprintf(r->id, sizeof r->id, "%s", id);
    r->method = o->method;
    r->scenario = SC_HAPPY;
    r->placed = 1;
    r->original = (uint32_t)(o - s->orders) + 1;
    r->n_lines = (uint16_t)o->ret_n;
    for (k = 0; k < o->ret_n; k++) {
        const struct sim_line *from = &o->lines[o->ret_lines[k].line];
        r->lines[k].sku = from->sku;
        r->lines[k].warehouse = from->warehouse;
        r->lines[k].quantity = o->ret_lines[k].quantity;
        r->lines[k].unit_price = from->unit_price;
        r->total += from->unit_price * o->ret_lines[k].quantity;
        for (f = 0; f < r->n_ful && r->ful_wh[f] != from->warehouse; f++)
            ;
        if (f == r->n_ful)
            r->ful_wh[r->n_ful++] = (uint8_t)from->warehouse;
    }
    o->replacement = (uint32_t)s->created + 1;
    if ((rc = sim_schedule(s, s->now + 30 * SIM_MINUTE, (uint32_t)s->created++, ACT_STEP, 0)) < 0)
        return rc;
    return s->work ? sim_pump(s) : ORDERLY_OK;
}

/* What the script still owes whatever the order's state: decide and
 * close the claims of lost parcels, complete a refunded return (which
 * restocks it), open an exchange's replacement. 1 when there was none. */
int sim_follow_up(struct sim *s, struct sim_order *o)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    int rc;

    if (o->claims_open != 0 || o->claims_unclosed != 0)
        return claim_step(s, o);
    if (o->exchanged)
        return open_replacement(s, o);
    if (o->ret_step != 5 || o->scenario == SC_EXCHANGE)
        return 1;
    o->ret_step = 0;
    if ((rc = sim_command(s, o, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, o->ret_index, 0, &res)) < 0)
        return rc;
    if (s->applied)
        book_return(o, RETURN_RESTOCKED);
    if (--o->returns_left == 0)
        o->done = 1;
    return ORDERLY_OK;
}

/* The courier hands over the cash for what reached the customer: the
 * units already owed back (sent back, never shipped, lost and refunded)
 * are never paid for, so nothing is refunded for them either. */
static void collect_cash(struct sim_order *o)
{
    int64_t cash = o->total;
    uint32_t k;

    for (k = 0; k < o->n_lines; k++) {
        o->lines[k].uncollected = o->lines[k].refund_due;
        cash -= o->lines[k].refund_due;
    }
    o->psp_captured += cash;
}

int sim_after_delivery(struct sim *s, struct sim_order *o, const orderly_order_view *v,
                          orderly_time_ms *delay)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    int rc, exchange = o->scenario == SC_EXCHANGE;

    *delay = SIM_HOUR + (orderly_time_ms)sim_below(s, (uint32_t)(2 * SIM_DAY));
    if (o->method == ORDERLY_PAY_COD && !o->cod_collected) {
        o->cod_collected = 1;
        rc = sim_command(s, o, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_COLLECTED, 0, 0, &res);
        if (rc == 0 && s->applied)
            collect_cash(o);
        return rc;
    }
    if (o->scenario != SC_RETURN && !exchange) {
        o->done = 1;
        /* half the customers confirm; the rest are completed by the timer */
        if (sim_rand(s) < 0.5)
            return sim_command(s, o, ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_COMPLETE, 0, 0, &res);
        return ORDERLY_OK;
    }
    if (o->ret_step == 0)
        return open_return(s, o, v);
    if (o->ret_step <= 3) {
        rc = sim_command(s, o, ORDERLY_MACHINE_RETURN, return_events[o->ret_step - 1], o->ret_index, 0, &res);
        if (rc == 0 && s->applied && return_events[o->ret_step - 1] == ORDERLY_RETURN_EV_RECEIVE)
            book_return(o, RETURN_RECEIVED);
        o->ret_step++;
        return rc;
    }
    o->ret_step++;
    if (exchange) {
        o->done = 1;
        rc = sim_command(s, o, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_EXCHANGE, o->ret_index, 0, &res);
        if (rc == 0 && s->applied) {
            s->c.exchanges++;
            o->exchanged = 1;
            o->done = 0;   /* the replacement is still to open */
        }
        return rc;
    }
    rc = sim_command(s, o, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, o->ret_index, 0, &res);
    if (rc == 0 && s->applied)
        book_return(o, RETURN_REFUNDED);
    return rc;
}

