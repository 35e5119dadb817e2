/*
 * The choreography between machines, declared: what one part's effect or
 * new state makes another machine of the same order do. lib/engine/choreo.c
 * interprets the rows; orderly__reactions_validate checks them when an
 * engine opens, as the machines are checked.
 */
#ifndef ORDERLY_FSM_REACTIONS_H
#define ORDERLY_FSM_REACTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "orderly/errors.h"

/* Which instance(s) of the target machine a reaction's event goes to. */
enum {
    ORDERLY__SEL_NONE = 0,      /* declared "no reaction" (target is 0) */
    ORDERLY__SEL_OWNER,         /* the order's one order or payment */
    ORDERLY__SEL_PARENT,        /* the fulfillment a shipment ships */
    ORDERLY__SEL_EVERY,         /* every instance, in index order */
    ORDERLY__SEL_NEW,           /* a new instance for the source part (event is ORDERLY_EVENT_INIT) */
    ORDERLY__SEL_HELD,          /* every line whose stock is held */
    ORDERLY__SEL_HELD_HERE,     /* every held line of the source fulfillment's warehouse */
    ORDERLY__SEL_ONLY,          /* no event (0): the row only records its op or emits its signal */
    ORDERLY__SEL_BOOKED,        /* every shipment booked with its carrier and not yet picked up */
    ORDERLY__SEL_SAME           /* the target instance with the source part's index (a lost
                                 * shipment's claim) */
};

/* The amount a reaction's event carries. */
enum {
    ORDERLY__AMT_NONE = 0,
    ORDERLY__AMT_PART,          /* the source part's amount (a return's) */
    ORDERLY__AMT_OUTSTANDING,   /* captured less refunded */
    ORDERLY__AMT_TOTAL,         /* the order's total */
    ORDERLY__AMT_AUTHORIZED,    /* the authorized amount */
    ORDERLY__AMT_CARRIED,       /* what the source shipment's units cost, less what their
                                 * lines were refunded */
    ORDERLY__AMT_REMAINDER,     /* what the units that will not reach the customer (their
                                 * warehouse dropped them unshipped; back at origin or from a
                                 * cancelled parcel; lost) cost, less what their lines were
                                 * refunded */
    /* the amounts below serve effect declarations only, but for EVENT */
    ORDERLY__AMT_EVENT,         /* the amount the row's event carried */
    ORDERLY__AMT_CAPTURED,      /* the captured amount */
    ORDERLY__AMT_UNCAPTURED,    /* authorized less captured */
    ORDERLY__AMT_LOYALTY,       /* the loyalty points the order spent */
    ORDERLY__AMT_COUNT
};

/* When a reaction fires. A target with no row for the event from its
 * state ignores it in every case, so alternatives (void if authorized,
 * refund if captured) are rows side by side. */
enum {
    ORDERLY__WHEN_ALWAYS = 0,
    ORDERLY__WHEN_DEFER,        /* the target's capture is in flight: remember, fire with the capture */
    ORDERLY__WHEN_DEFERRED,     /* only if an earlier reaction deferred; clears it */
    ORDERLY__WHEN_STAYED        /* only if the source part is still in the row's new state
                                 * (no earlier reaction of the row moved it on) */
};

/*
 * The declared aggregate conditions a reaction may require, over machine
 * `cond_machine` (the row's cond_arg is an event or state attributes).
 * Evaluated once, when the row's turn comes, before any of its work.
 */
enum {
    ORDERLY__IF_ALWAYS = 0,
    ORDERLY__IF_ALL_CAN,        /* every instance can take event cond_arg now (guards included) */
    ORDERLY__IF_NOT_ALL_CAN,    /* some instance cannot */
    ORDERLY__IF_IN,             /* the owner instance's state has one of the attributes cond_arg */
    ORDERLY__IF_PROMOTION,      /* the order carries a promotion (no machine, no arg) */
    ORDERLY__IF_AMOUNT,         /* the row's amount is positive (no machine, no arg) */
    ORDERLY__IF_CLAIM_POLICY,   /* the engine's policy.claim_resolution is cond_arg (no machine) */
    ORDERLY__IF_COUNT
};

/* The outbox signals a reaction may emit after its work; choreo.c names
 * their outbox kinds. */
enum {
    ORDERLY__SIG_NONE = 0,
    ORDERLY__SIG_STOCK_COMMITTED,   /* inventory.stock.committed, for the order */
    ORDERLY__SIG_CAPTURE_REQUESTED, /* orders.payment.capture_requested: the host sends request_capture */
    ORDERLY__SIG_COUNT
};

struct orderly__reaction {
    uint8_t source;             /* ORDERLY_MACHINE_* of the part that changed */
    uint8_t effect;             /* ORDERLY_EFFECT_* on its row that triggers the reaction */
    uint8_t state;              /* the part's new state, or 0 for any */
    uint8_t target;             /* ORDERLY_MACHINE_*, or 0: declared as having no reaction */
    uint8_t select;             /* ORDERLY__SEL_* */
    uint8_t event;              /* the target's event */
    uint8_t amount;             /* ORDERLY__AMT_* */
    uint8_t when;               /* ORDERLY__WHEN_* */
    uint8_t op;                 /* ORDERLY_OP_* staged for the selected lines when any (or,
                                 * for SEL_ONLY, with amount), or 0 */
    const char *why;            /* one line for the choreography page */
    /* appended, so rows written without them mean "always, nothing emitted" */
    uint8_t cond;               /* ORDERLY__IF_* */
    uint8_t cond_machine;       /* ORDERLY_MACHINE_* the condition looks at */
    uint16_t cond_arg;          /* its event, or ORDERLY__ST_* attributes */
    uint8_t emit;               /* ORDERLY__SIG_* staged after the row's work, or 0 */
    uint8_t emit_amount;        /* ORDERLY__AMT_* the signal carries */
};

/*
 * What each effect of a machine row does itself, besides the reactions it
 * triggers: declared per (effect, source machine), so that choreo.c only
 * interprets. An effect a machine row names must be declared for that
 * machine (ORDERLY__DO_UNDECLARED is the zero of an entry nobody wrote).
 */
enum {
    ORDERLY__DO_UNDECLARED = 0,
    ORDERLY__DO_REACT,          /* nothing of its own: its work is its reactions */
    ORDERLY__DO_PUBLISH,        /* stages outbox event `what` (ORDERLY__OUT_*) for the part */
    ORDERLY__DO_RECORD,         /* stages operation `what` (ORDERLY_OP_*) */
    ORDERLY__DO_START_SLA,      /* the fulfillments' SLA clock starts now */
    ORDERLY__DO_COUNT
};

/* The outbox events an effect publishes; choreo.c names their kinds. */
enum {
    ORDERLY__OUT_NONE = 0,
    ORDERLY__OUT_STATUS_CHANGED,    /* <machine>.status_changed */
    ORDERLY__OUT_ORDER_CANCELLED,
    ORDERLY__OUT_PAYMENT_CONFIRMED,
    ORDERLY__OUT_PAYMENT_FAILED,
    ORDERLY__OUT_PAYMENT_CAPTURED,
    ORDERLY__OUT_SLA_BREACHED,
    ORDERLY__OUT_REPLACEMENT_REQUESTED,
    ORDERLY__OUT_COUNT
};

/* The lines an operation names. */
enum {
    ORDERLY__LINES_NONE = 0,
    ORDERLY__LINES_ALL,           /* every line of the order */
    ORDERLY__LINES_SHIPPED_HERE,  /* the lines the source shipment carries */
    ORDERLY__LINES_RETURNED,      /* the lines the source return names, for its units; an
                                   * operation naming none is not recorded */
    ORDERLY__LINES_COUNT
};

struct orderly__effect_decl {
    uint8_t does;               /* ORDERLY__DO_* */
    uint8_t what;               /* ORDERLY__OUT_* or ORDERLY_OP_* */
    uint8_t amount;             /* ORDERLY__AMT_* the event or operation carries */
    uint8_t lines;              /* ORDERLY__LINES_* an operation names */
    uint8_t cond;               /* ORDERLY__IF_PROMOTION / _AMOUNT, or ALWAYS */
};

#define ORDERLY__EFFECT_IDS 32  /* effect ids the declaration table holds */
typedef struct orderly__effect_decl orderly__effect_decls_of[ORDERLY__EFFECT_IDS];

/* [machine][effect], machines 1..ORDERLY_MACHINE_COUNT */
extern const orderly__effect_decls_of orderly__effect_decls[];

/*
 * How an operation's idempotency key names its cause (doc/delivery.md):
 * one cause always gives one key, whichever command or retry records it.
 */
enum {
    ORDERLY__KEY_UNDECLARED = 0,
    ORDERLY__KEY_ORDER,         /* once per order, whoever asks: "order"; the aggregate
                                 * remembers it in its `once` bit */
    ORDERLY__KEY_PART,          /* once per part: "<machine>/<index>" */
    ORDERLY__KEY_LINES,         /* a line goes once: "lines/<mask>" */
    ORDERLY__KEY_COUNT          /* may repeat: "op/<n>", n the order's operation count */
};

/* What an operation's recording does to the units of the lines it names. */
enum {
    ORDERLY__COUNTS_NOTHING = 0,
    ORDERLY__COUNTS_RESTOCKED,  /* they are counted restocked (line.restocked) */
    ORDERLY__COUNTS_COUNT
};

struct orderly__op_decl {
    uint8_t key;                /* ORDERLY__KEY_* */
    uint8_t once;               /* KEY_ORDER: its bit of the aggregate's once_ops (persisted, pinned) */
    uint8_t counts;             /* ORDERLY__COUNTS_* */
};

#define ORDERLY__OP_IDS 16      /* built-in operation ids the table holds */
extern const struct orderly__op_decl orderly__op_decls[ORDERLY__OP_IDS];

/*
 * Checks the effect and operation declarations: every effect any row of
 * machine m names is declared for m, with a known kind, event or
 * operation, amount, line set and condition that fit its source; every
 * built-in operation an effect or reaction records has a key scope, and
 * the once-per-order bits are distinct single bits. Returns 0, or
 * ORDERLY_EINVARIANT with a message.
 */
int orderly__effects_validate(const orderly__effect_decls_of *fx, const struct orderly__op_decl *ops,
                              const struct orderly__reaction *r, size_t n, orderly_ctx *ctx);

/*
 * What a machine's event sees and does besides its rows, declared per
 * (machine, event): the deadline its guards compare with, the amount its
 * guards weigh, the parts ALL_PARTS / SOME_PARTS count, and the money the
 * payment's stored amounts move by. An all-zero entry means: the state's
 * own timer, the event's amount, no parts, no money.
 */
enum {
    ORDERLY__IN_EVENT = 0,      /* the amount the event carries */
    ORDERLY__IN_UNCAPTURED,     /* authorized less captured: what a capture takes */
    ORDERLY__IN_COUNTED         /* the event's amount, already counted in refunded: the
                                 * guards see refunded less it */
};

enum {
    ORDERLY__MONEY_NONE = 0,
    ORDERLY__MONEY_AUTHORIZE,   /* authorized = amount, which must be the total; authorized_at = now */
    ORDERLY__MONEY_CAPTURE,     /* captured = authorized */
    ORDERLY__MONEY_COLLECT,     /* authorized = captured = total (cash on delivery) */
    ORDERLY__MONEY_REFUND,      /* refunded += amount */
    ORDERLY__MONEY_COUNT
};

struct orderly__event_input {
    uint8_t timer;              /* orderly_timer whose deadline the guards see; 0: the state's */
    uint8_t amount;             /* ORDERLY__IN_* */
    uint8_t parts_of;           /* ORDERLY_MACHINE_* whose instances are the parts, or 0 */
    uint8_t done_of;            /* ORDERLY_MACHINE_* whose instances count as done */
    uint16_t parts_out;         /* ORDERLY__ST_* of a part that no longer counts */
    uint16_t done_attrs;        /* ORDERLY__ST_* of a done instance */
    uint8_t money;              /* ORDERLY__MONEY_* (payment events only) */
};

#define ORDERLY__INPUT_EVENTS 32 /* event ids per machine the table holds (ORDERLY__NEXT_STRIDE) */
typedef struct orderly__event_input orderly__machine_inputs[ORDERLY__INPUT_EVENTS];

extern const orderly__machine_inputs orderly__event_inputs[];

extern const struct orderly__reaction orderly__reactions[];
extern const size_t orderly__n_reactions;

/*
 * Checks a reaction table: sources, states, targets, selectors and events
 * exist; every terminal state of a part (reservation, fulfillment,
 * shipment, return) has a reaction or a declared none; and no cycle of
 * reactions can run unbounded (every cycle enters a terminal state, which
 * a part does once). Returns 0, or ORDERLY_EINVARIANT with a message.
 */
int orderly__reactions_validate(const struct orderly__reaction *r, size_t n, orderly_ctx *ctx);

/*
 * Checks an event-input table ([machine][event], machines 1..ORDERLY_MACHINE_COUNT): every
 * entry names an event of its machine and known kinds; money moves only
 * with payment events and parts are counted only for order events; every
 * row guarded by a deadline has one (the event's declared timer or its
 * state's) and every row guarded by ALL_PARTS / SOME_PARTS has parts to
 * count. Returns 0, or ORDERLY_EINVARIANT with a message.
 */
int orderly__inputs_validate(const orderly__machine_inputs *in, orderly_ctx *ctx);

/*
 * Every live state of machine m (the engine checks the payment's) either
 * schedules a deadline, is declared settled (ORDERLY__ST_SETTLED: it waits
 * on nobody) or bound to its order's deadline (ORDERLY__ST_ORDER_BOUND),
 * so nothing waits forever on the outside. Returns 0, or
 * ORDERLY_EINVARIANT naming the state.
 */
struct orderly_machine;
int orderly__deadlines_validate(const struct orderly_machine *m, orderly_ctx *ctx);

/* All validations of the engine's own tables. */
int orderly__choreography_validate(orderly_ctx *ctx);

#endif
