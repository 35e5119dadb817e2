/*
 * The choreography between machines, declared: what one part's effect or
 * new state makes another machine of the same order do. lib/core/choreo.c
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
    ORDERLY__SEL_HELD_HERE      /* every held line of the source fulfillment's warehouse */
};

/* The amount a reaction's event carries. */
enum {
    ORDERLY__AMT_NONE = 0,
    ORDERLY__AMT_PART,          /* the source part's amount (a return's) */
    ORDERLY__AMT_OUTSTANDING    /* captured less refunded */
};

/* When a reaction fires. A target with no row for the event from its
 * state ignores it in every case, so alternatives (void if authorized,
 * refund if captured) are rows side by side. */
enum {
    ORDERLY__WHEN_ALWAYS = 0,
    ORDERLY__WHEN_DEFER,        /* the target's capture is in flight: remember, fire with the capture */
    ORDERLY__WHEN_DEFERRED      /* only if an earlier reaction deferred; clears it */
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
    uint8_t op;                 /* ORDERLY_OP_* staged for the selected lines when any, or 0 */
    const char *why;            /* one line for the choreography page */
};

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

/* orderly__reactions_validate of the engine's own table. */
int orderly__choreography_validate(orderly_ctx *ctx);

#endif
