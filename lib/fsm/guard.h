/*
 * Guard evaluation for the row walk. Inline because a guarded transition
 * evaluates one or two guards and a call would cost more than the compare.
 */
#ifndef ORDERLY_FSM_GUARD_H
#define ORDERLY_FSM_GUARD_H

#include "orderly/machine.h"

/* 1 when guard holds for in; unknown guards never hold. */
static inline int orderly__guard_holds(int guard, const orderly_guard_input *in)
{
    switch (guard) {
    case ORDERLY_GUARD_NONE:
        return 1;
    case ORDERLY_GUARD_WITHIN_DEADLINE:
        return in->now < in->deadline;
    case ORDERLY_GUARD_PAST_DEADLINE:
        return in->now >= in->deadline;
    case ORDERLY_GUARD_CAPTURABLE:
        return in->now < in->deadline && in->amount > 0 && in->captured >= 0 &&
               in->amount <= in->authorized - in->captured;
    case ORDERLY_GUARD_REFUND_PARTIAL:
        return in->amount > 0 && in->refunded >= 0 &&
               in->amount < in->captured - in->refunded;
    case ORDERLY_GUARD_REFUND_FULL:
        return in->amount > 0 && in->refunded >= 0 &&
               in->amount == in->captured - in->refunded;
    case ORDERLY_GUARD_ALL_PARTS:
        return in->parts_total > 0 && in->parts_done >= in->parts_total;
    case ORDERLY_GUARD_SOME_PARTS:
        return in->parts_done < in->parts_total;
    default:
        return 0;
    }
}

#endif
