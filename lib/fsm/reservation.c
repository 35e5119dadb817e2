/*
 * The reservation machine: stock held for one order line in one warehouse.
 * It always starts with a TTL; confirming after the TTL is a guard failure,
 * so an order's all-or-nothing confirmation cannot resurrect expired stock,
 * and every exit is terminal so a reservation is settled exactly once.
 */
#include "orderly/reservation.h"
#include "table.h"

#define S(x) ORDERLY_RESERVATION_##x
#define E(x) ORDERLY_RESERVATION_EV_##x

#define STATES(X, F)                                   \
    X(ACTIVE,    "active",    1, RESERVATION_TTL, ORDERLY__ST_HELD) \
    X(CONFIRMED, "confirmed", 2, NONE, ORDERLY__ST_HELD) \
    F(FULFILLED, "fulfilled", ORDERLY__ST_SHIPPED) \
    F(RELEASED,  "released", 0) \
    F(EXPIRED,   "expired", 0)

#define EVENTS(X, I)            \
    X(CONFIRM, "confirm")       \
    X(RELEASE, "release")       \
    X(EXPIRE,  "expire")        \
    X(FULFILL, "fulfill")

#define ROWS(T, A)                                                        \
    T(ACTIVE,    CONFIRM, WITHIN_DEADLINE, CONFIRMED, FX0)                \
    T(ACTIVE,    RELEASE, NONE, RELEASED, FX0)                            \
    T(ACTIVE,    EXPIRE,  PAST_DEADLINE, EXPIRED, FX(NOTIFY_ORDER))       \
    T(CONFIRMED, RELEASE, NONE, RELEASED, FX0)                            \
    T(CONFIRMED, FULFILL, NONE, FULFILLED, FX0)

ORDERLY__DEFINE_MACHINE(orderly__reservation_machine, ORDERLY_MACHINE_RESERVATION,
                        "reservation", ACTIVE, EXPIRED, FULFILL);
