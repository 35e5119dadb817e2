/*
 * The claim machine. A lost parcel's units are either refunded or
 * reshipped: the two rows leave `opened` for different states and neither
 * state has a row to the other, so a claim can never do both. Refunding
 * feeds the order (the payment gives back what the units cost, the order
 * moves on as if the parcel had come back); reshipping records one
 * operation naming the parcel's lines, which the host performs. `close`
 * only ends the claim's life.
 */
#include "orderly/claim.h"
#include "table.h"

#define S(x) ORDERLY_CLAIM_##x
#define E(x) ORDERLY_CLAIM_EV_##x

#define STATES(X, F)                                             \
    X(OPENED,     "opened",     1, NONE, 0)                      \
    X(REFUNDED,   "refunded",   2, NONE, ORDERLY__ST_WRITTEN_OFF) \
    X(RESHIPPING, "reshipping", 2, NONE, 0)                      \
    F(CLOSED,     "closed", 0)

#define EVENTS(X, I)          \
    X(REFUND, "refund")       \
    X(RESHIP, "reship")       \
    X(CLOSE,  "close")

#define ROWS(T, A)                                                  \
    T(OPENED,     REFUND, NONE, REFUNDED,   FX(NOTIFY_ORDER))       \
    T(OPENED,     RESHIP, NONE, RESHIPPING, FX(RESHIP))             \
    T(REFUNDED,   CLOSE,  NONE, CLOSED,     FX0)                    \
    T(RESHIPPING, CLOSE,  NONE, CLOSED,     FX0)

ORDERLY__DEFINE_MACHINE(orderly__claim_machine, ORDERLY_MACHINE_CLAIM, "claim", OPENED, CLOSED,
                        CLOSE);
