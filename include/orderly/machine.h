/*
 * orderly/machine.h - the declared state machines and how to query them.
 *
 * orderly's six machines (order, payment, reservation, fulfillment, shipment,
 * return) are static const tables: states, events, and transition rows of
 * (from, event, guard, to, effects). This header is the read-only window on
 * them. Nothing here allocates, so every function is safe from any thread.
 *
 * Ids are small integers pinned forever (they are persisted): see the
 * per-machine headers (orderly/order.h, ...) for the named values. State and
 * event id 0 is never valid; event ids 1-3 are reserved (ENTRY, EXIT, INIT)
 * and user events start at ORDERLY_EVENT_FIRST.
 *
 * A machine handle (const orderly_machine *) points at static data: it is
 * never freed and is valid for the life of the process.
 */
#ifndef ORDERLY_MACHINE_H
#define ORDERLY_MACHINE_H

#include "common.h"
#include "errors.h"

ORDERLY_BEGIN_DECLS

typedef struct orderly_machine orderly_machine;

typedef enum orderly_machine_id {
    ORDERLY_MACHINE_ORDER       = 1,
    ORDERLY_MACHINE_PAYMENT     = 2,
    ORDERLY_MACHINE_RESERVATION = 3,
    ORDERLY_MACHINE_FULFILLMENT = 4,
    ORDERLY_MACHINE_SHIPMENT    = 5,
    ORDERLY_MACHINE_RETURN      = 6,
    ORDERLY_MACHINE_CLAIM       = 7
} orderly_machine_id;

#define ORDERLY_MACHINE_COUNT 7
ORDERLY_API int orderly_machine_count(void);

/* Reserved event ids; no transition row uses them. */
#define ORDERLY_EVENT_ENTRY 1
#define ORDERLY_EVENT_EXIT  2
#define ORDERLY_EVENT_INIT  3
#define ORDERLY_EVENT_FIRST 4
ORDERLY_API int orderly_event_first(void);

/*
 * Guards: named predicates over an orderly_guard_input. A row with a guard
 * applies only when the guard holds; rows sharing (from, event) are tried in
 * table order and the first whose guard holds wins.
 */
typedef enum orderly_guard {
    ORDERLY_GUARD_NONE            = 0, /* always holds */
    ORDERLY_GUARD_WITHIN_DEADLINE = 1, /* now < deadline (COD window, TTL, auth age) */
    ORDERLY_GUARD_PAST_DEADLINE   = 2, /* now >= deadline */
    ORDERLY_GUARD_CAPTURABLE      = 3, /* now < deadline and captured + amount <= authorized */
    ORDERLY_GUARD_REFUND_PARTIAL  = 4, /* 0 < amount and refunded + amount < captured */
    ORDERLY_GUARD_REFUND_FULL     = 5, /* 0 < amount and refunded + amount == captured */
    ORDERLY_GUARD_ALL_PARTS       = 6, /* parts_total > 0 and parts_done >= parts_total */
    ORDERLY_GUARD_SOME_PARTS      = 7  /* parts_done < parts_total */
} orderly_guard;

/*
 * What a guard looks at. The engine fills it from stored aggregates; a host
 * querying machines directly fills what the guard needs and zeroes the rest.
 * Amounts are integer minor units of one currency.
 */
typedef struct orderly_guard_input {
    orderly_time_ms now;
    orderly_time_ms deadline;  /* COD window end, reservation TTL end, authorization expiry */
    int64_t amount;            /* the amount this event moves (capture, refund) */
    int64_t authorized;        /* authoritative stored amounts */
    int64_t captured;
    int64_t refunded;
    uint32_t parts_total;      /* fulfillments or shipments of the order */
    uint32_t parts_done;       /* of those, how many reached this event, this one included */
} orderly_guard_input;

/*
 * Effects: what a transition produces. EMIT_* effects become outbox events;
 * the others are actions the engine runs (or records as operations when
 * they fail). Values are pinned.
 */
typedef enum orderly_effect {
    ORDERLY_EFFECT_NONE                 = 0,
    ORDERLY_EFFECT_EMIT_STATUS_CHANGED  = 1,  /* <machine>.status_changed */
    ORDERLY_EFFECT_EMIT_ORDER_CANCELLED = 2,  /* order.cancelled */
    ORDERLY_EFFECT_EMIT_PAYMENT_CONFIRMED = 3,
    ORDERLY_EFFECT_EMIT_PAYMENT_FAILED  = 4,
    ORDERLY_EFFECT_EMIT_PAYMENT_CAPTURED = 5,
    ORDERLY_EFFECT_EMIT_SLA_BREACHED    = 6,  /* fulfillment.sla_breached */
    ORDERLY_EFFECT_CONFIRM_RESERVATIONS = 7,  /* all-or-nothing; emits inventory.stock.committed */
    ORDERLY_EFFECT_RELEASE_RESERVATIONS = 8,
    ORDERLY_EFFECT_FULFILL_RESERVATIONS = 9,  /* stock deducted at shipment */
    ORDERLY_EFFECT_REQUEST_CAPTURE      = 10, /* card orders: ask the payment to capture */
    ORDERLY_EFFECT_CAPTURE_PAYMENT      = 11, /* gateway capture of the stored amount */
    ORDERLY_EFFECT_VOID_AUTHORIZATION   = 12,
    ORDERLY_EFFECT_SETTLE_PAYMENT       = 13, /* void if authorized, refund if captured */
    ORDERLY_EFFECT_REFUND_PAYMENT       = 14,
    ORDERLY_EFFECT_CANCEL_FULFILLMENTS  = 15,
    ORDERLY_EFFECT_CANCEL_SHIPMENT      = 16, /* carrier cancel, once */
    ORDERLY_EFFECT_REVERT_PROMOTION     = 17,
    ORDERLY_EFFECT_RESTORE_LOYALTY      = 18,
    ORDERLY_EFFECT_RESTOCK              = 19,
    ORDERLY_EFFECT_OPEN_REPLACEMENT     = 20, /* exchange: replacement order, no restock */
    ORDERLY_EFFECT_CANCEL_COD_CLAIM     = 21,
    ORDERLY_EFFECT_CANCEL_ORDER         = 22, /* cascade: cancel the owning order */
    ORDERLY_EFFECT_NOTIFY_ORDER         = 23, /* feed this change to the owning order */
    ORDERLY_EFFECT_RELEASE_FULFILLMENTS = 24, /* the order is confirmed: its warehouses may start */
    ORDERLY_EFFECT_CANCEL_REMAINDER     = 25, /* what has not left yet is cancelled and refunded */
    ORDERLY_EFFECT_RESHIP               = 26  /* a lost parcel's units are sent again */
} orderly_effect;

#define ORDERLY_EFFECT_MAX 6    /* effects per row in this version; no public struct depends on it */

/*
 * Timers: entering a state may schedule one deadline; when it passes the
 * engine applies the timer's event. A timer whose state was left does
 * nothing because its event has no row from the new state.
 */
typedef enum orderly_timer {
    ORDERLY_TIMER_NONE            = 0,
    ORDERLY_TIMER_RESERVATION_TTL = 1,
    ORDERLY_TIMER_COD_WINDOW      = 2,
    ORDERLY_TIMER_AUTH_EXPIRY     = 3,
    ORDERLY_TIMER_AUTO_COMPLETE   = 4,
    ORDERLY_TIMER_FULFILLMENT_SLA = 5,
    ORDERLY_TIMER_ABANDONED       = 6,
    ORDERLY_TIMER_COD_COLLECTION  = 7  /* a confirmed COD payment's cash not collected */
} orderly_timer;

/*
 * One transition row, described. Its effect list is not copied: effects
 * points at the machine's static table (valid for the life of the
 * process, like the machine handle), so a row may gain effects without
 * this struct changing layout. Read effects[0 .. n_effects-1] only.
 */
typedef struct orderly_transition {
    uint16_t from;
    uint16_t event;
    uint16_t to;
    uint16_t guard;                        /* orderly_guard */
    uint16_t n_effects;
    const uint8_t *effects;                /* [n_effects] orderly_effect, in the row's order */
} orderly_transition;

/* ---- finding machines ------------------------------------------------- */

/* *out = the machine with this id; ORDERLY_ENOTFOUND if none. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_machine_by_id(const orderly_machine **out, int id);

/* *out = the machine named name ("order", "payment", ...); ORDERLY_ENOTFOUND if none. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_machine_by_name(const orderly_machine **out,
                                                            const char *name);

ORDERLY_API int orderly_machine_get_id(const orderly_machine *m);
/* Static string; NULL only when m is NULL. */
ORDERLY_API const char *orderly_machine_name(const orderly_machine *m);
ORDERLY_API int orderly_machine_initial(const orderly_machine *m);
/* One past the highest state id (state ids run 1..n-1). */
ORDERLY_API int orderly_machine_state_limit(const orderly_machine *m);
/* One past the highest event id (user events run ORDERLY_EVENT_FIRST..n-1). */
ORDERLY_API int orderly_machine_event_limit(const orderly_machine *m);

/* ---- names ------------------------------------------------------------- */

/* Static name of a state or event id, or NULL when the id is not valid. */
ORDERLY_API const char *orderly_machine_state_name(const orderly_machine *m, int state);
ORDERLY_API const char *orderly_machine_event_name(const orderly_machine *m, int event);

/* *out = id for a name; ORDERLY_ENOTFOUND for an unknown name. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_machine_state_id(int *out, const orderly_machine *m,
                                                             const char *name);
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_machine_event_id(int *out, const orderly_machine *m,
                                                             const char *name);

/* Static name of a guard, effect or timer ("capturable", "release_reservations"). */
ORDERLY_API const char *orderly_guard_name(int guard);
ORDERLY_API const char *orderly_effect_name(int effect);
ORDERLY_API const char *orderly_timer_name(int timer);

/* ---- asking the table -------------------------------------------------- */

/*
 * The transition that event takes from state, given in. On success *out is
 * filled and 0 returned. Otherwise:
 *   ORDERLY_EINVAL      state or event is not a valid id of this machine
 *                       (the reserved ENTRY/EXIT/INIT included);
 *   ORDERLY_ETRANSITION no row for (state, event);
 *   ORDERLY_EGUARD      rows exist but no guard holds for in.
 * in may be NULL when no guard needs it (a guard then sees all zeroes).
 * ctx may be NULL; when given, a failure writes the reason there ("event
 * 'ship' is not allowed in state 'pending' of machine 'fulfillment'").
 * Never allocates.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_machine_step(orderly_transition *out,
                                                         const orderly_machine *m,
                                                         int state, int event,
                                                         const orderly_guard_input *in,
                                                         orderly_ctx *ctx);

/*
 * As orderly_machine_step, but only the next state: the hot path. On
 * success *next_out is the target state.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_machine_next(int *next_out, const orderly_machine *m,
                                                         int state, int event,
                                                         const orderly_guard_input *in,
                                                         orderly_ctx *ctx);

/* 0 when event is allowed from state given in, else the code step returns. */
ORDERLY_API int orderly_machine_can(const orderly_machine *m, int state, int event,
                                    const orderly_guard_input *in, orderly_ctx *ctx);

/*
 * The distinct events that have at least one row from state (guards not
 * evaluated), in ascending id order. Writes up to cap ids to events_out
 * (which may be NULL when cap is 0) and the total to *count_out. Returns 0,
 * or ORDERLY_EINVAL for a bad state.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_machine_allowed(int *events_out, size_t cap,
                                                            size_t *count_out,
                                                            const orderly_machine *m, int state);

/* 1 when state is terminal (no exits), 0 when not, ORDERLY_EINVAL for a bad id. */
ORDERLY_API int orderly_machine_is_terminal(const orderly_machine *m, int state);

/*
 * 1 when status a is later in the lifecycle than status b, 0 when not,
 * ORDERLY_EINVAL for a bad id. Terminal states are later than all others.
 */
ORDERLY_API int orderly_machine_is_later(const orderly_machine *m, int a, int b);

/*
 * 1 when event arriving in state is a late (out-of-order) event: it has no
 * row from state, but every state it could lead to is not later than state
 * (a `picked` after `shipped`). Such events are ignored and counted, never
 * applied and never an error. 0 when not late; ORDERLY_EINVAL for bad ids.
 */
ORDERLY_API int orderly_machine_is_late(const orderly_machine *m, int state, int event);

/* Timer scheduled on entering state (orderly_timer), ORDERLY_EINVAL for a bad id. */
ORDERLY_API int orderly_machine_state_timer(const orderly_machine *m, int state);

/* The machine and event a timer kind fires; ORDERLY_ENOTFOUND for NONE or unknown. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_timer_target(int *machine_out, int *event_out,
                                                         int timer);

/* ---- listing and checking rows ----------------------------------------- */

/* Number of transition rows. */
ORDERLY_API int orderly_machine_transition_count(const orderly_machine *m);

/* *out = row i (0-based); ORDERLY_EINVAL when i is out of range. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_machine_transition_at(orderly_transition *out,
                                                                  const orderly_machine *m,
                                                                  int i);

/*
 * Checks the table: every state reachable from the initial one, terminal
 * states without exits and non-terminal states with at least one, no two
 * rows for one (state, event) unless guards tell them apart, every id named,
 * the lookup index consistent with the rows. 0 when sound; otherwise
 * ORDERLY_ECONFIG with the first problem described in ctx (may be NULL).
 */
ORDERLY_API int orderly_machine_validate(const orderly_machine *m, orderly_ctx *ctx);

ORDERLY_END_DECLS

#endif
