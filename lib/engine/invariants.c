/*
 * The money and stock invariants, checked after every transition and
 * before every commit. A violation is a bug in the engine or its tables,
 * or a command that would make one: the command is refused with
 * ORDERLY_EINVARIANT naming the broken rule, and nothing is written.
 */
#include <string.h>

#include "../fsm/table.h"
#include "internal.h"
#include "orderly/order.h"
#include "orderly/payment.h"

static int broken(orderly_engine *e, const struct orderly__agg *a, uint32_t line, const char *rule,
                  long long lhs, long long rhs)
{
    return orderly__fail(&e->ctx, ORDERLY_EINVARIANT, "order '%s' line %u: %s (%lld > %lld)", a->id,
                         line + 1, rule, lhs, rhs);
}

/* Each line's units, in the order they move: ordered, shipped, then
 * delivered, lost or back; returned from what was delivered; restocked
 * from what came back. A line's refunds stay within what it cost. */
static int check_line(orderly_engine *e, const struct orderly__agg *a, uint32_t i)
{
    const struct orderly__line *l = &a->lines[i];
    uint64_t landed = (uint64_t)l->delivered + l->lost + l->back;

    if (l->quantity == 0)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT, "order '%s': line %u reserves nothing",
                             a->id, i + 1);
    if (l->shipped > l->quantity)
        return broken(e, a, i, "shipped exceeds ordered", l->shipped, l->quantity);
    if (landed > l->shipped)
        return broken(e, a, i, "delivered, lost and back exceed shipped", (long long)landed,
                      l->shipped);
    if (l->returned > l->delivered)
        return broken(e, a, i, "returned exceeds delivered", l->returned, l->delivered);
    if ((uint64_t)l->restocked > (uint64_t)l->returned + l->back)
        return broken(e, a, i, "restocked exceeds returned and back at origin", l->restocked,
                      (long long)l->returned + l->back);
    if (l->refunded < 0 || l->refunded > l->unit_price * (int64_t)l->quantity)
        return broken(e, a, i, "refunded exceeds what the line cost", l->refunded,
                      l->unit_price * (int64_t)l->quantity);
    return ORDERLY_OK;
}

/* What live returns claim of each line stays within what was delivered:
 * two returns of one unit never take back two of a one-unit line. */
static int check_returns(orderly_engine *e, const struct orderly__agg *a)
{
    uint32_t *claimed = e->units, i, j;
    uint64_t n;

    if (a->n_rlines > a->cap_rlines)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT, "order '%s': its returns name too many lines",
                             a->id);
    if (a->n_ret == 0)
        return ORDERLY_OK;
    memset(claimed, 0, a->n_lines * sizeof *claimed);
    for (j = 0; j < a->n_ret; j++) {
        const struct orderly__part *r = &a->ret[j];
        int live = !(ORDERLY__ATTRS(&orderly__return_machine, r->state) & ORDERLY__ST_WITHDRAWN);
        if ((uint64_t)r->rl_first + r->rl_n > a->n_rlines)
            return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                                 "order '%s': return %u names lines it does not hold", a->id, j);
        for (i = 0; i < r->rl_n; i++) {
            const struct orderly__ret_line *rl = &a->rlines[r->rl_first + i];
            if (rl->line >= a->n_lines)
                return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                                     "order '%s': return %u names a line the order does not have",
                                     a->id, j);
            if (!live)
                continue;
            n = (uint64_t)claimed[rl->line] + rl->qty;
            if (n > a->lines[rl->line].delivered)
                return broken(e, a, rl->line, "returns claim more than was delivered", (long long)n,
                              a->lines[rl->line].delivered);
            claimed[rl->line] = (uint32_t)n;
        }
    }
    return ORDERLY_OK;
}

/* Once a command's compensations ran, an order closed before delivery
 * holds no stock and keeps no money, unless a capture is still in flight
 * (refunded when it lands). */
static int check_closed(orderly_engine *e, const struct orderly__agg *a)
{
    uint32_t i;

    if (!(ORDERLY__ATTRS(&orderly__order_machine, a->order_state) & ORDERLY__ST_CLOSED_UNDELIVERED))
        return ORDERLY_OK;
    for (i = 0; i < a->n_lines; i++)
        if (ORDERLY__ATTRS(&orderly__reservation_machine, a->lines[i].state) & ORDERLY__ST_HELD)
            return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                                 "order '%s' is closed but reservation %u is still held", a->id, i);
    if (a->captured != a->refunded && !a->settle_on_capture &&
        !(ORDERLY__ATTRS(&orderly__payment_machine, a->payment_state) & ORDERLY__ST_CAPTURING))
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                             "order '%s' is closed but keeps %lld of its captured %lld", a->id,
                             (long long)(a->captured - a->refunded), (long long)a->captured);
    return ORDERLY_OK;
}

int orderly__check_invariants(orderly_engine *e, const struct orderly__agg *a, int final)
{
    int64_t spread = 0;
    uint32_t i;
    int rc;

    if (a->authorized < 0 || a->captured < 0 || a->refunded < 0)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT, "order '%s': negative amount", a->id);
    if (a->captured > a->authorized)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                             "order '%s': captured %lld exceeds authorized %lld", a->id,
                             (long long)a->captured, (long long)a->authorized);
    if (a->refunded > a->captured)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                             "order '%s': refunded %lld exceeds captured %lld", a->id,
                             (long long)a->refunded, (long long)a->captured);
    if (a->payment_state == ORDERLY_PAYMENT_VOIDED && a->captured != 0)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT, "order '%s': capture after void", a->id);
    for (i = 0; i < a->n_lines; i++) {
        if ((rc = check_line(e, a, i)) < 0)
            return rc;
        if (__builtin_add_overflow(spread, a->lines[i].refunded, &spread))
            return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                                 "order '%s': its lines' refunds pass %lld", a->id,
                                 (long long)INT64_MAX);
    }
    if (spread != a->refunded)
        return orderly__fail(&e->ctx, ORDERLY_EINVARIANT,
                             "order '%s': its lines were refunded %lld, the order %lld", a->id,
                             (long long)spread, (long long)a->refunded);
    if ((rc = check_returns(e, a)) < 0)
        return rc;
    return final ? check_closed(e, a) : ORDERLY_OK;
}
