#include "guard.h"

int orderly__guard_holds(int guard, const orderly_guard_input *in)
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
