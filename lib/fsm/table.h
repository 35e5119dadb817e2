/*
 * Internal layout of a declared machine and the macros that build one.
 *
 * Each machine file lists its states, events and rows once, as X-macro
 * lists, and this header turns the lists into const arrays: the rows, a
 * dense (state x event) index of the first row of each pair, a dense
 * next-state table that answers unguarded pairs with one load (the
 * transition hot path), and the name tables. Both dense tables are data
 * too, and orderly_machine_validate re-derives them from the rows, so a
 * list edited by hand cannot drift from them.
 */
#ifndef ORDERLY_FSM_TABLE_H
#define ORDERLY_FSM_TABLE_H

#include <stdint.h>

#include "orderly/machine.h"

struct orderly__state_def {
    const char *name;
    uint8_t rank;      /* lifecycle position; larger is later */
    uint8_t terminal;
    uint8_t timer;     /* orderly_timer scheduled on entry */
    uint32_t attrs;    /* ORDERLY__ST_* bits: what the state means to the rest of the order */
};

/*
 * Declared meanings of a state, so that the choreography and the engine
 * ask "does this part count as shipped?" instead of comparing state ids: a
 * state added to a machine means nothing to the others until its line
 * says so.
 */
enum {
    ORDERLY__ST_HELD = 1 << 0,       /* reservation: its stock is held (released on cancel) */
    ORDERLY__ST_DROPPED = 1 << 1,    /* fulfillment: will not ship; no longer one of the order's parts */
    ORDERLY__ST_SHIPPED = 1 << 2,    /* fulfillment: counts as shipped; reservation: stock left the warehouse */
    ORDERLY__ST_DELIVERED = 1 << 3,  /* shipment: counts as delivered */
    ORDERLY__ST_WITHDRAWN = 1 << 4,  /* return: claims nothing (rejected or cancelled) */
    ORDERLY__ST_GIVEN_BACK = 1 << 5, /* return: its amount was refunded */
    ORDERLY__ST_RETURNABLE = 1 << 6, /* order: delivered, a return may be opened */
    ORDERLY__ST_CLOSED_UNDELIVERED = 1 << 7, /* order: ended before delivery; nothing may stay held */
    ORDERLY__ST_CAPTURING = 1 << 8,  /* payment: a capture is in flight; a refund must wait for it */
    ORDERLY__ST_UNCAPTURED = 1 << 9, /* payment: authorized, no capture asked for yet */
    ORDERLY__ST_COD_CLAIM = 1 << 10, /* payment: a cash-on-delivery claim with the carrier is live */
    ORDERLY__ST_LOST = 1 << 11,      /* shipment: its units are lost in transit */
    ORDERLY__ST_BACK = 1 << 12,      /* shipment: its units came back to origin undelivered */
    ORDERLY__ST_RECEIVED = 1 << 13,  /* return: its units are back with the merchant */
    ORDERLY__ST_BOOKED = 1 << 14,    /* shipment: booked with its carrier, not yet picked up */
    ORDERLY__ST_WRITTEN_OFF = 1 << 15, /* claim: its parcel's units are refunded, not replaced */
    ORDERLY__ST_SETTLED = 1 << 16,   /* payment: rests with its money where it belongs; it waits
                                      * on nobody, so it needs no deadline */
    ORDERLY__ST_ORDER_BOUND = 1 << 17 /* payment: its deadline is its order's (abandonment); the
                                       * order's settlement ends it */
};

/* The declared attributes of state of machine m; none for an id outside
 * the machine (a state byte read back from storage is not checked). */
#define ORDERLY__ATTRS(m, state) orderly__state_attrs((m), (state))

struct orderly__row {
    uint8_t from;
    uint8_t event;
    uint8_t guard;
    uint8_t to;
    uint8_t effects[ORDERLY_EFFECT_MAX];
};

struct orderly_machine {
    int id;
    const char *name;
    int initial;
    int n_states;                             /* one past the highest state id */
    int n_events;                             /* one past the highest event id */
    const struct orderly__state_def *states;  /* [n_states]; [0] unused */
    const char *const *events;                /* [n_events]; reserved ids named too */
    const uint8_t *fed;                       /* [n_events]: 1 = fed by the engine, no host's */
    const struct orderly__row *rows;
    int n_rows;
    const uint8_t *index;                     /* [n_states * n_events]: 1 + first row, 0 = none */
    const struct orderly__next *next;         /* [n_states << ORDERLY__NEXT_SHIFT] */
};

/*
 * The next-state table answers a transition without walking rows. An entry
 * holds the target and guard of the pair's first row and of its guarded
 * alternative (a pair has at most two rows); to == 0 means the pair has no
 * row. Rows of the table are ORDERLY__NEXT_STRIDE entries wide so that the
 * index is a shift, not a multiply: the lookup sits on the dependency chain
 * from one state to the next.
 */
struct orderly__next {
    uint8_t to;
    uint8_t guard;
    uint8_t alt_to;
    uint8_t alt_guard;
};

#define ORDERLY__NEXT_SHIFT 5
#define ORDERLY__NEXT_STRIDE (1 << ORDERLY__NEXT_SHIFT)

/* Rank given to terminal states: later than every live state. */
#define ORDERLY__RANK_TERMINAL 100

/* FX(A, B, ...) -> {ORDERLY_EFFECT_A, ORDERLY_EFFECT_B, ...}, up to six. */
#define ORDERLY__NARG(...) ORDERLY__NARG_(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define ORDERLY__NARG_(a, b, c, d, e, f, n, ...) n
#define ORDERLY__CAT(a, b) ORDERLY__CAT_(a, b)
#define ORDERLY__CAT_(a, b) a##b
#define ORDERLY__FX_1(a) ORDERLY_EFFECT_##a
#define ORDERLY__FX_2(a, ...) ORDERLY_EFFECT_##a, ORDERLY__FX_1(__VA_ARGS__)
#define ORDERLY__FX_3(a, ...) ORDERLY_EFFECT_##a, ORDERLY__FX_2(__VA_ARGS__)
#define ORDERLY__FX_4(a, ...) ORDERLY_EFFECT_##a, ORDERLY__FX_3(__VA_ARGS__)
#define ORDERLY__FX_5(a, ...) ORDERLY_EFFECT_##a, ORDERLY__FX_4(__VA_ARGS__)
#define ORDERLY__FX_6(a, ...) ORDERLY_EFFECT_##a, ORDERLY__FX_5(__VA_ARGS__)
#define FX(...) { ORDERLY__CAT(ORDERLY__FX_, ORDERLY__NARG(__VA_ARGS__))(__VA_ARGS__) }
#define FX0 { ORDERLY_EFFECT_NONE }

/*
 * A machine file defines S(x) and E(x) (its state and event enum prefixes),
 * then STATES(X, F), EVENTS(X, I) and ROWS(T, A) lists, and finally invokes
 * ORDERLY__DEFINE_MACHINE. In STATES, F marks a final state; in EVENTS, I
 * marks an event the engine feeds to the machine from another part of the
 * order (a payment's confirmation to its order), which a host may not send;
 * a state's last column is its ORDERLY__ST_* attributes (0 for none);
 * in ROWS, T is the first row for a (from, event) pair and A its one
 * guarded alternative, right after it.
 */
#define ORDERLY__STATE(id, name, rank, timer, attrs) \
    [S(id)] = { name, rank, 0, ORDERLY_TIMER_##timer, attrs },
#define ORDERLY__FINAL(id, name, attrs) \
    [S(id)] = { name, ORDERLY__RANK_TERMINAL, 1, ORDERLY_TIMER_NONE, attrs },
#define ORDERLY__EVENT(id, name) [E(id)] = name,
#define ORDERLY__FED(id, name) [E(id)] = 1,
#define ORDERLY__HOST(id, name)
#define ORDERLY__ROW(from, ev, g, to, fx) \
    { S(from), E(ev), ORDERLY_GUARD_##g, S(to), fx },
#define ORDERLY__ROW_ID(from, ev, g, to, fx) ROW_##from##_##ev##_##g,
#define ORDERLY__INDEX(from, ev, g, to, fx) \
    [S(from)][E(ev)] = 1 + ROW_##from##_##ev##_##g,
#define ORDERLY__NEXT(from, ev, g, target, fx) \
    [S(from)][E(ev)].to = S(target), [S(from)][E(ev)].guard = ORDERLY_GUARD_##g,
#define ORDERLY__NEXT_ALT(from, ev, g, target, fx) \
    [S(from)][E(ev)].alt_to = S(target), [S(from)][E(ev)].alt_guard = ORDERLY_GUARD_##g,
#define ORDERLY__SKIP(from, ev, g, to, fx)

#define ORDERLY__DEFINE_MACHINE(var, ID, NAME, INITIAL, LAST_STATE, LAST_EVENT)      \
    enum { N_STATES = S(LAST_STATE) + 1, N_EVENTS = E(LAST_EVENT) + 1 };              \
    enum { ROWS(ORDERLY__ROW_ID, ORDERLY__ROW_ID) N_ROWS };                           \
    static const struct orderly__state_def state_defs[N_STATES] = {                  \
        STATES(ORDERLY__STATE, ORDERLY__FINAL)                                       \
    };                                                                               \
    static const char *const event_names[N_EVENTS] = {                               \
        [ORDERLY_EVENT_ENTRY] = "entry", [ORDERLY_EVENT_EXIT] = "exit",              \
        [ORDERLY_EVENT_INIT] = "init", EVENTS(ORDERLY__EVENT, ORDERLY__EVENT)        \
    };                                                                               \
    static const uint8_t event_fed[N_EVENTS] = {                                     \
        [0] = 0, EVENTS(ORDERLY__HOST, ORDERLY__FED)                                 \
    };                                                                               \
    static const struct orderly__row rows[N_ROWS] = {                                \
        ROWS(ORDERLY__ROW, ORDERLY__ROW)                                             \
    };                                                                               \
    static const uint8_t row_index[N_STATES][N_EVENTS] = {                           \
        ROWS(ORDERLY__INDEX, ORDERLY__SKIP)                                          \
    };                                                                               \
    _Static_assert(N_EVENTS <= ORDERLY__NEXT_STRIDE, NAME " has too many events");  \
    static const struct orderly__next next_state[N_STATES][ORDERLY__NEXT_STRIDE] = { \
        ROWS(ORDERLY__NEXT, ORDERLY__NEXT_ALT)                                       \
    };                                                                               \
    const struct orderly_machine var = {                                             \
        ID, NAME, S(INITIAL), N_STATES, N_EVENTS, state_defs, event_names,           \
        event_fed, rows, N_ROWS, &row_index[0][0], &next_state[0][0]                 \
    }

/*
 * For the engine, which runs a machine on every command and cascade: the
 * machine of an id (ORDERLY_MACHINE_ORDER .. ORDERLY_MACHINE_COUNT; no
 * check), and the row event takes from state, or NULL with *rc set to
 * ORDERLY_ETRANSITION (no row) or ORDERLY_EGUARD (no guard holds). No
 * message is formatted; orderly_machine_can gives the reason when wanted.
 * state and event must be valid for m.
 */
extern const struct orderly_machine *const orderly__machines[];
const struct orderly__row *orderly__machine_row(const orderly_machine *m, int state, int event,
                                                const orderly_guard_input *in, int *rc);

static inline unsigned orderly__state_attrs(const struct orderly_machine *m, int state)
{
    return state > 0 && state < m->n_states ? m->states[state].attrs : 0u;
}

extern const struct orderly_machine orderly__order_machine;
extern const struct orderly_machine orderly__payment_machine;
extern const struct orderly_machine orderly__reservation_machine;
extern const struct orderly_machine orderly__fulfillment_machine;
extern const struct orderly_machine orderly__shipment_machine;
extern const struct orderly_machine orderly__return_machine;
extern const struct orderly_machine orderly__claim_machine;

#endif
