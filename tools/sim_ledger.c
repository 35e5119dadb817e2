/*
 * The verdicts of simulate's per-line and per-order conservation checks:
 * pure functions of the world's counts (struct sim_line, struct
 * sim_money) and the engine's views, so that tests/cli can feed them
 * mismatches directly and see each one caught.
 */
#include <stdarg.h>
#include <stdio.h>

#include "sim.h"

static int say(char *why, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int say(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && n > 0) {
        va_start(ap, fmt);
        vsnprintf(why, n, fmt, ap);
        va_end(ap);
    }
    return 1;
}

/* The world's count of one kind of unit against the engine's. */
#define SAME(field)                                                                            \
    do {                                                                                       \
        if (w->field != p->field)                                                              \
            return say(why, n, #field " %u in the world, %u in the engine", w->field,          \
                       p->field);                                                              \
    } while (0)

int sim_line_verdict(const struct sim_line *w, const orderly_part_view *p, int exact_money,
                     char *why, size_t n)
{
    uint32_t accounted;

    if (w->sku != p->sku || w->warehouse != p->warehouse || w->quantity != p->quantity)
        return say(why, n, "ordered sku %llu x%u in warehouse %u, the engine holds sku %llu x%u in %u",
                   (unsigned long long)w->sku, w->quantity, w->warehouse,
                   (unsigned long long)p->sku, p->quantity, p->warehouse);
    /* the world's own books first: a unit is where it was sent */
    if (w->shipped > w->quantity)
        return say(why, n, "shipped %u of %u ordered", w->shipped, w->quantity);
    if (w->delivered + w->lost + w->back_at_origin > w->shipped)
        return say(why, n, "%u delivered, %u lost, %u back at origin of %u shipped", w->delivered,
                   w->lost, w->back_at_origin, w->shipped);
    if (w->returned > w->delivered)
        return say(why, n, "returned %u of %u delivered", w->returned, w->delivered);
    if (w->restocked > w->returned + w->back_at_origin)
        return say(why, n, "restocked %u of %u returned and %u back at origin", w->restocked,
                   w->returned, w->back_at_origin);
    if (w->restocked != w->to_restock)
        return say(why, n, "the inventory restocked %u, %u came back to be restocked", w->restocked,
                   w->to_restock);
    if (w->reshipped > w->lost)
        return say(why, n, "reshipped %u of %u lost", w->reshipped, w->lost);
    /* then the engine's: the same chain, and the same counts */
    if (p->shipped > p->quantity || p->delivered + p->lost + p->back_at_origin > p->shipped ||
        p->returned > p->delivered || p->restocked > p->returned + p->back_at_origin)
        return say(why, n, "the engine's counts break the chain (ordered %u, shipped %u, delivered "
                   "%u, lost %u, back %u, returned %u, restocked %u)", p->quantity, p->shipped,
                   p->delivered, p->lost, p->back_at_origin, p->returned, p->restocked);
    SAME(shipped);
    SAME(delivered);
    SAME(lost);
    SAME(back_at_origin);
    SAME(returned);
    SAME(restocked);
    /* stock: every unit is still held, shipped or given back; a hold that
     * lapsed (an expired reservation) needs no release */
    accounted = p->reserved + w->shipped + w->released;
    if (accounted != w->quantity &&
        !(accounted == 0 && p->state == ORDERLY_RESERVATION_EXPIRED))
        return say(why, n, "%u ordered but %u held, %u shipped and %u released", w->quantity,
                   p->reserved, w->shipped, w->released);
    if (p->refunded < 0 || p->refunded > (int64_t)w->quantity * w->unit_price)
        return say(why, n, "refunded %lld of a line worth %lld", (long long)p->refunded,
                   (long long)((int64_t)w->quantity * w->unit_price));
    if (exact_money && p->refunded != w->refund_due - w->uncollected)
        return say(why, n, "refunded %lld, the world is owed %lld", (long long)p->refunded,
                   (long long)(w->refund_due - w->uncollected));
    return 0;
}

int sim_money_verdict(const struct sim_money *m, char *why, size_t n)
{
    if (m->refunded > m->captured || m->world_refunded > m->world_captured)
        return say(why, n, "refunded %lld of %lld captured (the provider: %lld of %lld)",
                   (long long)m->refunded, (long long)m->captured, (long long)m->world_refunded,
                   (long long)m->world_captured);
    if (m->captured != m->world_captured)
        return say(why, n, "captured %lld, the provider holds %lld", (long long)m->captured,
                   (long long)m->world_captured);
    if (m->refunded != m->world_refunded)
        return say(why, n, "refunded %lld, the provider paid back %lld", (long long)m->refunded,
                   (long long)m->world_refunded);
    if (m->lines_refunded != m->refunded)
        return say(why, n, "the lines' refunds add up to %lld, the order's to %lld",
                   (long long)m->lines_refunded, (long long)m->refunded);
    if (m->ended_unpaid && m->world_captured != m->world_refunded)
        return say(why, n, "ended unpaid but keeps %lld", (long long)(m->world_captured - m->world_refunded));
    if (!m->ended_unpaid && m->world_refunded != m->world_due)
        return say(why, n, "refunded %lld, what came back or was lost is worth %lld",
                   (long long)m->world_refunded, (long long)m->world_due);
    return 0;
}
