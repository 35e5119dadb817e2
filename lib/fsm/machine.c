/*
 * Queries over the declared tables, and their validation. Lookups index the
 * dense (state x event) table and then walk the guarded alternatives of
 * that pair; nothing here allocates.
 */
#include <string.h>

#include "../base/ctx.h"
#include "guard.h"
#include "table.h"

#if defined(__GNUC__)
#  define ORDERLY__NOINLINE __attribute__((noinline))
#  define ORDERLY__INLINE inline __attribute__((always_inline))
#else
#  define ORDERLY__NOINLINE
#  define ORDERLY__INLINE inline
#endif

const struct orderly_machine *const orderly__machines[ORDERLY_MACHINE_COUNT + 1] = {
    [ORDERLY_MACHINE_ORDER] = &orderly__order_machine,
    [ORDERLY_MACHINE_PAYMENT] = &orderly__payment_machine,
    [ORDERLY_MACHINE_RESERVATION] = &orderly__reservation_machine,
    [ORDERLY_MACHINE_FULFILLMENT] = &orderly__fulfillment_machine,
    [ORDERLY_MACHINE_SHIPMENT] = &orderly__shipment_machine,
    [ORDERLY_MACHINE_RETURN] = &orderly__return_machine,
    [ORDERLY_MACHINE_CLAIM] = &orderly__claim_machine,
};

static const orderly_guard_input zero_input;

int orderly_machine_count(void)
{
    return ORDERLY_MACHINE_COUNT;
}

int orderly_event_first(void)
{
    return ORDERLY_EVENT_FIRST;
}

int orderly_machine_by_id(const orderly_machine **out, int id)
{
    if (out == NULL)
        return ORDERLY_EINVAL;
    if (id < 1 || id > ORDERLY_MACHINE_COUNT)
        return ORDERLY_ENOTFOUND;
    *out = orderly__machines[id];
    return ORDERLY_OK;
}

int orderly_machine_by_name(const orderly_machine **out, const char *name)
{
    int i;

    if (out == NULL || name == NULL)
        return ORDERLY_EINVAL;
    for (i = 1; i <= ORDERLY_MACHINE_COUNT; i++) {
        if (strcmp(orderly__machines[i]->name, name) == 0) {
            *out = orderly__machines[i];
            return ORDERLY_OK;
        }
    }
    return ORDERLY_ENOTFOUND;
}

int orderly_machine_get_id(const orderly_machine *m)
{
    return m != NULL ? m->id : ORDERLY_EINVAL;
}

const char *orderly_machine_name(const orderly_machine *m)
{
    return m != NULL ? m->name : NULL;
}

int orderly_machine_initial(const orderly_machine *m)
{
    return m != NULL ? m->initial : ORDERLY_EINVAL;
}

int orderly_machine_state_limit(const orderly_machine *m)
{
    return m != NULL ? m->n_states : ORDERLY_EINVAL;
}

int orderly_machine_event_limit(const orderly_machine *m)
{
    return m != NULL ? m->n_events : ORDERLY_EINVAL;
}

static int valid_state(const orderly_machine *m, int state)
{
    return state > 0 && state < m->n_states;
}

static int valid_event(const orderly_machine *m, int event)
{
    return event >= ORDERLY_EVENT_FIRST && event < m->n_events;
}

const char *orderly_machine_state_name(const orderly_machine *m, int state)
{
    if (m == NULL || !valid_state(m, state))
        return NULL;
    return m->states[state].name;
}

const char *orderly_machine_event_name(const orderly_machine *m, int event)
{
    if (m == NULL || event < 1 || event >= m->n_events)
        return NULL;
    return m->events[event];
}

int orderly_machine_state_id(int *out, const orderly_machine *m, const char *name)
{
    int i;

    if (out == NULL || m == NULL || name == NULL)
        return ORDERLY_EINVAL;
    for (i = 1; i < m->n_states; i++) {
        if (m->states[i].name != NULL && strcmp(m->states[i].name, name) == 0) {
            *out = i;
            return ORDERLY_OK;
        }
    }
    return ORDERLY_ENOTFOUND;
}

int orderly_machine_event_id(int *out, const orderly_machine *m, const char *name)
{
    int i;

    if (out == NULL || m == NULL || name == NULL)
        return ORDERLY_EINVAL;
    for (i = 1; i < m->n_events; i++) {
        if (m->events[i] != NULL && strcmp(m->events[i], name) == 0) {
            *out = i;
            return ORDERLY_OK;
        }
    }
    return ORDERLY_ENOTFOUND;
}

static int reject(const orderly_machine *m, int state, int event, int code, orderly_ctx *ctx)
{
    if (ctx == NULL)
        return code;
    if (code == ORDERLY_EGUARD)
        return orderly__fail(ctx, code, "guard rejected event '%s' in state '%s' of machine '%s'",
                             m->events[event], m->states[state].name, m->name);
    return orderly__fail(ctx, code, "event '%s' is not allowed in state '%s' of machine '%s'",
                         m->events[event], m->states[state].name, m->name);
}

/*
 * The first of the rows from row onwards for (state, event) whose guard
 * holds, or NULL. row is the pair's first row; its alternatives follow it.
 */
static ORDERLY__INLINE const struct orderly__row *first_holding(const orderly_machine *m,
                                                const struct orderly__row *row, int state,
                                                int event, const orderly_guard_input *in)
{
    const struct orderly__row *end = m->rows + m->n_rows;

    if (in == NULL)
        in = &zero_input;
    for (; row < end && row->from == state && row->event == event; row++)
        if (orderly__guard_holds(row->guard, in))
            return row;
    return NULL;
}

/* The row event takes from state, or NULL with *rc set. */
static const struct orderly__row *lookup(const orderly_machine *m, int state, int event,
                                         const orderly_guard_input *in, orderly_ctx *ctx,
                                         int *rc)
{
    const struct orderly__row *row;

    if (m == NULL || !valid_state(m, state) || !valid_event(m, event)) {
        *rc = orderly__fail(ctx, ORDERLY_EINVAL, "state %d or event %d is not valid for machine '%s'",
                            state, event, m != NULL ? m->name : "(null)");
        return NULL;
    }
    if ((row = orderly__machine_row(m, state, event, in, rc)) == NULL)
        *rc = reject(m, state, event, *rc, ctx);
    return row;
}

const struct orderly__row *orderly__machine_row(const orderly_machine *m, int state, int event,
                                                const orderly_guard_input *in, int *rc)
{
    const struct orderly__row *row;
    unsigned idx = m->index[state * m->n_events + event];

    if (idx == 0) {
        *rc = ORDERLY_ETRANSITION;
        return NULL;
    }
    row = &m->rows[idx - 1];
    if (row->guard == ORDERLY_GUARD_NONE)
        return row;
    if ((row = first_holding(m, row, state, event, in)) == NULL)
        *rc = ORDERLY_EGUARD;
    return row;
}

static void copy_row(orderly_transition *out, const struct orderly__row *row)
{
    int i;

    out->from = row->from;
    out->event = row->event;
    out->to = row->to;
    out->guard = row->guard;
    out->effects = row->effects;
    for (i = 0; i < ORDERLY_EFFECT_MAX && row->effects[i] != ORDERLY_EFFECT_NONE; i++)
        ;
    out->n_effects = (uint16_t)i;
}

int orderly_machine_step(orderly_transition *out, const orderly_machine *m, int state, int event,
                         const orderly_guard_input *in, orderly_ctx *ctx)
{
    const struct orderly__row *row;
    int rc = ORDERLY_OK;

    if (out == NULL)
        return orderly__fail(ctx, ORDERLY_EINVAL, "out is NULL");
    if ((row = lookup(m, state, event, in, ctx, &rc)) == NULL)
        return rc;
    copy_row(out, row);
    return ORDERLY_OK;
}

/*
 * The slow path of orderly_machine_next, out of line so that its fast path
 * needs no stack frame: argument errors and refusals that need a reason go
 * through lookup(), which formats it. It takes orderly_machine_next's own
 * arguments, so the fast path reaches it without moving a register.
 */
static ORDERLY__NOINLINE int next_by_rows(int *next_out, const orderly_machine *m, int state,
                                          int event, const orderly_guard_input *in,
                                          orderly_ctx *ctx)
{
    const struct orderly__row *row;
    int rc = ORDERLY_OK;

    if (next_out == NULL)
        return orderly__fail(ctx, ORDERLY_EINVAL, "next_out is NULL");
    if ((row = lookup(m, state, event, in, ctx, &rc)) == NULL)
        return rc;
    *next_out = row->to;
    return ORDERLY_OK;
}

int orderly_machine_next(int *next_out, const orderly_machine *m, int state, int event,
                         const orderly_guard_input *in, orderly_ctx *ctx)
{
    const struct orderly__next *n;

    /*
     * The unsigned compares let state 0 and the reserved events through;
     * their entries are empty and they fail the refusal test below, so
     * next_by_rows reports them as invalid.
     */
    if (next_out == NULL || m == NULL || (unsigned)state >= (unsigned)m->n_states ||
        (unsigned)event >= (unsigned)m->n_events)
        return next_by_rows(next_out, m, state, event, in, ctx);
    n = &m->next[((unsigned)state << ORDERLY__NEXT_SHIFT) | (unsigned)event];
    if (n->guard != ORDERLY_GUARD_NONE) {
        /* evaluated here: a second call would cost more than the guards */
        if (in == NULL)
            in = &zero_input;
        if (orderly__guard_holds(n->guard, in)) {
            *next_out = n->to;
            return ORDERLY_OK;
        }
        if (n->alt_to != 0 && orderly__guard_holds(n->alt_guard, in)) {
            *next_out = n->alt_to;
            return ORDERLY_OK;
        }
        if (ctx == NULL)
            return ORDERLY_EGUARD;
        return next_by_rows(next_out, m, state, event, in, ctx);
    }
    if (n->to != 0) {
        *next_out = n->to;
        return ORDERLY_OK;
    }
    if (ctx == NULL && state != 0 && event >= ORDERLY_EVENT_FIRST)
        return ORDERLY_ETRANSITION;
    return next_by_rows(next_out, m, state, event, in, ctx);
}

int orderly_machine_can(const orderly_machine *m, int state, int event,
                        const orderly_guard_input *in, orderly_ctx *ctx)
{
    int rc = ORDERLY_OK;

    return lookup(m, state, event, in, ctx, &rc) != NULL ? ORDERLY_OK : rc;
}

int orderly_machine_allowed(int *events_out, size_t cap, size_t *count_out,
                            const orderly_machine *m, int state)
{
    size_t n = 0;
    int e;

    if (count_out == NULL || m == NULL || (events_out == NULL && cap > 0))
        return ORDERLY_EINVAL;
    if (!valid_state(m, state))
        return ORDERLY_EINVAL;
    for (e = ORDERLY_EVENT_FIRST; e < m->n_events; e++) {
        if (m->index[state * m->n_events + e] == 0)
            continue;
        if (n < cap)
            events_out[n] = e;
        n++;
    }
    *count_out = n;
    return ORDERLY_OK;
}

int orderly_machine_is_terminal(const orderly_machine *m, int state)
{
    if (m == NULL || !valid_state(m, state))
        return ORDERLY_EINVAL;
    return m->states[state].terminal;
}

int orderly_machine_is_later(const orderly_machine *m, int a, int b)
{
    if (m == NULL || !valid_state(m, a) || !valid_state(m, b))
        return ORDERLY_EINVAL;
    return m->states[a].rank > m->states[b].rank;
}

int orderly_machine_is_late(const orderly_machine *m, int state, int event)
{
    int i, seen = 0;
    unsigned rank;

    if (m == NULL || !valid_state(m, state) || !valid_event(m, event))
        return ORDERLY_EINVAL;
    if (m->index[state * m->n_events + event] != 0)
        return 0;
    rank = m->states[state].rank;
    for (i = 0; i < m->n_rows; i++) {
        if (m->rows[i].event != event)
            continue;
        seen = 1;
        if (m->states[m->rows[i].to].rank > rank)
            return 0;
    }
    return seen;
}

int orderly_machine_state_timer(const orderly_machine *m, int state)
{
    if (m == NULL || !valid_state(m, state))
        return ORDERLY_EINVAL;
    return m->states[state].timer;
}

int orderly_machine_transition_count(const orderly_machine *m)
{
    return m != NULL ? m->n_rows : ORDERLY_EINVAL;
}

int orderly_machine_transition_at(orderly_transition *out, const orderly_machine *m, int i)
{
    if (out == NULL || m == NULL || i < 0 || i >= m->n_rows)
        return ORDERLY_EINVAL;
    copy_row(out, &m->rows[i]);
    return ORDERLY_OK;
}

/* ---- validation -------------------------------------------------------- */

static int check_names(const orderly_machine *m, orderly_ctx *ctx)
{
    int i, j;

    if (!valid_state(m, m->initial))
        return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': initial state %d is not valid",
                             m->name, m->initial);
    for (i = 1; i < m->n_states; i++) {
        if (m->states[i].name == NULL)
            return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': state %d has no name",
                                 m->name, i);
        for (j = 1; j < i; j++)
            if (strcmp(m->states[i].name, m->states[j].name) == 0)
                return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': state name '%s' repeats",
                                     m->name, m->states[i].name);
        if (orderly_timer_name(m->states[i].timer) == NULL)
            return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': state '%s' has unknown timer %d",
                                 m->name, m->states[i].name, m->states[i].timer);
    }
    for (i = 1; i < m->n_events; i++) {
        if (m->events[i] == NULL)
            return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': event %d has no name",
                                 m->name, i);
        for (j = 1; j < i; j++)
            if (strcmp(m->events[i], m->events[j]) == 0)
                return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': event name '%s' repeats",
                                     m->name, m->events[i]);
    }
    return ORDERLY_OK;
}

static int check_row(const orderly_machine *m, int i, orderly_ctx *ctx)
{
    const struct orderly__row *r = &m->rows[i];
    int k;

    if (!valid_state(m, r->from) || !valid_state(m, r->to) || !valid_event(m, r->event))
        return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': row %d uses an invalid id",
                             m->name, i);
    if (orderly_guard_name(r->guard) == NULL)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': row %d has unknown guard %d",
                             m->name, i, r->guard);
    for (k = 0; k < ORDERLY_EFFECT_MAX; k++)
        if (orderly_effect_name(r->effects[k]) == NULL)
            return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': row %d has unknown effect %d",
                                 m->name, i, r->effects[k]);
    if (m->states[r->from].terminal)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': terminal state '%s' has an exit",
                             m->name, m->states[r->from].name);
    return ORDERLY_OK;
}

/* Rows of one (from, event) are contiguous, at most two (the next-state
 * table holds two), distinct in guard, and never mix an unguarded row with
 * others (it would shadow them). */
static int check_group(const orderly_machine *m, int first, orderly_ctx *ctx)
{
    const struct orderly__row *a = &m->rows[first];
    int i, j, n = 0;

    for (i = first; i < m->n_rows && m->rows[i].from == a->from && m->rows[i].event == a->event; i++)
        n++;
    for (i = first + n; i < m->n_rows; i++)
        if (m->rows[i].from == a->from && m->rows[i].event == a->event)
            return orderly__fail(ctx, ORDERLY_ECONFIG,
                                 "machine '%s': rows for ('%s', '%s') are not contiguous",
                                 m->name, m->states[a->from].name, m->events[a->event]);
    if (n > 2)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': ('%s', '%s') has more than two rows",
                             m->name, m->states[a->from].name, m->events[a->event]);
    for (i = first; i < first + n; i++) {
        if (n > 1 && m->rows[i].guard == ORDERLY_GUARD_NONE)
            return orderly__fail(ctx, ORDERLY_ECONFIG,
                                 "machine '%s': ('%s', '%s') has an unguarded row among several",
                                 m->name, m->states[a->from].name, m->events[a->event]);
        for (j = first; j < i; j++)
            if (m->rows[i].guard == m->rows[j].guard)
                return orderly__fail(ctx, ORDERLY_ECONFIG,
                                     "machine '%s': two rows for ('%s', '%s') with the same guard",
                                     m->name, m->states[a->from].name, m->events[a->event]);
    }
    return n;
}

/* Whether the next-state entry of a (from, event) pair agrees with its rows. */
static int next_agrees(const orderly_machine *m, int s, int e, const struct orderly__row *first)
{
    const struct orderly__next *n = &m->next[(s << ORDERLY__NEXT_SHIFT) | e];
    const struct orderly__row *alt = NULL;

    if (first == NULL)
        return n->to == 0 && n->guard == 0 && n->alt_to == 0 && n->alt_guard == 0;
    if (first + 1 < m->rows + m->n_rows && first[1].from == s && first[1].event == e)
        alt = first + 1;
    return n->to == first->to && n->guard == first->guard &&
           n->alt_to == (alt != NULL ? alt->to : 0) && n->alt_guard == (alt != NULL ? alt->guard : 0);
}

static int check_index(const orderly_machine *m, orderly_ctx *ctx)
{
    const struct orderly__row *first;
    int s, e, i, want;

    for (s = 0; s < m->n_states; s++) {
        for (e = 0; e < m->n_events; e++) {
            want = 0;
            first = NULL;
            for (i = 0; i < m->n_rows; i++) {
                if (m->rows[i].from == s && m->rows[i].event == e) {
                    want = i + 1;
                    first = &m->rows[i];
                    break;
                }
            }
            if (m->index[s * m->n_events + e] != want)
                return orderly__fail(ctx, ORDERLY_ECONFIG,
                                     "machine '%s': lookup index disagrees with rows at (%d, %d)",
                                     m->name, s, e);
            if (!next_agrees(m, s, e, first))
                return orderly__fail(ctx, ORDERLY_ECONFIG,
                                     "machine '%s': next-state table disagrees with rows at (%d, %d)",
                                     m->name, s, e);
        }
    }
    return ORDERLY_OK;
}

static int check_reachable(const orderly_machine *m, orderly_ctx *ctx)
{
    unsigned char seen[256];
    int changed = 1, i, s;

    memset(seen, 0, sizeof seen);
    seen[m->initial] = 1;
    while (changed) {
        changed = 0;
        for (i = 0; i < m->n_rows; i++) {
            if (seen[m->rows[i].from] && !seen[m->rows[i].to]) {
                seen[m->rows[i].to] = 1;
                changed = 1;
            }
        }
    }
    for (s = 1; s < m->n_states; s++) {
        if (!seen[s])
            return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': state '%s' is unreachable",
                                 m->name, m->states[s].name);
    }
    return ORDERLY_OK;
}

static int check_exits(const orderly_machine *m, orderly_ctx *ctx)
{
    int s, i, exits;

    for (s = 1; s < m->n_states; s++) {
        if (m->states[s].terminal)
            continue;
        exits = 0;
        for (i = 0; i < m->n_rows; i++)
            if (m->rows[i].from == s && m->rows[i].to != s)
                exits++;
        if (exits == 0)
            return orderly__fail(ctx, ORDERLY_ECONFIG,
                                 "machine '%s': non-terminal state '%s' has no way out",
                                 m->name, m->states[s].name);
    }
    return ORDERLY_OK;
}

int orderly_machine_validate(const orderly_machine *m, orderly_ctx *ctx)
{
    int i, rc;

    if (m == NULL)
        return orderly__fail(ctx, ORDERLY_EINVAL, "machine is NULL");
    if (m->n_states < 2 || m->n_states > 255 || m->n_events <= ORDERLY_EVENT_FIRST ||
        m->n_events > ORDERLY__NEXT_STRIDE || m->n_rows < 1 || m->n_rows > 254)
        return orderly__fail(ctx, ORDERLY_ECONFIG, "machine '%s': table sizes out of range", m->name);
    if ((rc = check_names(m, ctx)) < 0)
        return rc;
    for (i = 0; i < m->n_rows; i++)
        if ((rc = check_row(m, i, ctx)) < 0)
            return rc;
    for (i = 0; i < m->n_rows; i += rc)
        if ((rc = check_group(m, i, ctx)) < 0)
            return rc;
    if ((rc = check_index(m, ctx)) < 0)
        return rc;
    if ((rc = check_reachable(m, ctx)) < 0)
        return rc;
    return check_exits(m, ctx);
}
