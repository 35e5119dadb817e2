/* The engine's layout and the helpers its files share (internal). */
#ifndef ORDERLY_ENGINE_INTERNAL_H
#define ORDERLY_ENGINE_INTERNAL_H

#include <string.h>

#include "aggregate.h"
#include "../base/abi.h"
#include "../base/buf.h"
#include "../base/ctx.h"
#include "../base/ids.h"
#include "../wire/envelope.h"
#include "../wire/events.h"
#include "../wire/record.h"
#include "orderly/compensation.h"
#include "orderly/engine.h"
#include "orderly/envelope.h"
#include "orderly/outbox.h"

/* What one command may stage: a few per part, and a deadline per line */
#define ORDERLY__STAGE_EVENTS (3 * ORDERLY_PARTS_MAX + 32)
#define ORDERLY__STAGE_OPS (2 * ORDERLY_PARTS_MAX + 32)
#define ORDERLY__STAGE_TIMERS(max_lines) ((max_lines) + 3u * ORDERLY_PARTS_MAX + 16u)
#define ORDERLY__CASCADE_DEPTH 8

/* A set of an order's lines: a bit per line, in words of 64. */
#define ORDERLY__LINE_WORDS(max_lines) (((max_lines) + 63u) / 64u)

static inline void orderly__lines_clear(uint64_t *set, uint32_t n_lines)
{
    memset(set, 0, ORDERLY__LINE_WORDS(n_lines) * sizeof *set);
}

static inline void orderly__lines_add(uint64_t *set, uint32_t line)
{
    set[line / 64] |= (uint64_t)1 << (line % 64);
}

static inline int orderly__lines_has(const uint64_t *set, uint32_t line)
{
    return (int)(set[line / 64] >> (line % 64) & 1u);
}

struct orderly__staged_event {
    uint8_t kind, machine, from, to, event;
    uint32_t index;
    int64_t amount;
    uint64_t *lines;          /* for ORDERLY__EVL_STAGED kinds: the lines it carries */
};

struct orderly__staged_op {
    uint8_t op;
    uint32_t index;
    uint8_t return_units;     /* 1: each line for the units return `index` names, not its quantity */
    uint64_t *lines;          /* the order lines the operation touches */
    int64_t amount;
    uint8_t key[16];          /* idempotency key, derived from the operation's cause */
};

struct orderly__staged_timer {
    uint8_t timer, machine, event;
    uint32_t index;
    orderly_time_ms due;
    uint64_t row;             /* its timer row once pushed; 0 = not pushed */
};

/* A timer row this engine's command pushed (lib/engine/deadlines.c): a
 * set-associative table keyed by the order, sized once at open. */
#define ORDERLY__DEADLINE_SETS 1024u
#define ORDERLY__DEADLINE_WAYS 4u
struct orderly__deadline_slot {
    uint64_t order;           /* XXH3 of the order id; 0 = empty */
    uint64_t row;
    orderly_time_ms due;
    uint8_t timer;
};

/* Everything one command produces before it is written. */
struct orderly__stage {
    struct orderly__agg *a;
    orderly_ctx *ctx;         /* where a refusal's words go */
    uint32_t max_parts;       /* the engine's configured limit */
    orderly_time_ms now;
    const char *trace;        /* inbound traceparent, or NULL */
    size_t n_events, n_ops, n_timers;
    /* Whose refund is moving money, as the reaction refunding declares it
     * (ORDERLY__AMT_PART: return refund_index's; ORDERLY__AMT_REMAINDER:
     * the cancelled units'; else nobody's): those lines get it first. */
    uint8_t refund_kind;
    uint32_t refund_index;
    int depth;
    /* a part entered or left a state with a deadline, or a deadline's
     * start moved: only then can a timer row have become moot */
    int timed;
    struct orderly__staged_event events[ORDERLY__STAGE_EVENTS];
    struct orderly__staged_op ops[ORDERLY__STAGE_OPS];
    /* Sized for the engine's max_lines (struct orderly__lines) */
    size_t max_timers;
    struct orderly__staged_timer *timers;
    uint32_t *first;          /* units per line a refund goes to first */
    uint64_t *held[ORDERLY__CASCADE_DEPTH + 1]; /* line sets, one per cascade depth */
};

/* Who decodes records with lines: each has its own line memory, since one
 * may run inside a host callback of another (a publish, a history walk). */
enum { ORDERLY__SITE_WRITE, ORDERLY__SITE_PUMP, ORDERLY__SITE_LIST, ORDERLY__SITE_RUN,
       ORDERLY__SITE_HISTORY, ORDERLY__SITES };

struct orderly__op_lines {
    uint64_t *sku;
    uint32_t *warehouse;
    uint32_t *quantity;
};

/* A queue row copied out of a claim, so it outlives the claim's callback. */
struct orderly__claimed {
    uint64_t id;
    uint32_t kind;
    uint32_t attempts;        /* as claimed; what finish will store */
    int outcome;              /* what finish will set */
    uint8_t held;             /* given back untried: behind its order, or the step stopped */
    uint8_t bad;              /* too large to be a row the core wrote: parked unread */
    orderly_time_ms due;
    char group[ORDERLY_ID_MAX + 1];
    size_t len;
    size_t off;               /* where the payload is in its arena */
    const uint8_t *payload;   /* set once the claim is over (the arena may move during it) */
};

struct orderly__executor {
    int op;
    orderly_executor_cb cb;
    void *user_data;
};

#define ORDERLY__EXECUTORS 32

#define ORDERLY__EFFECT_SLOTS 32   /* effect ids are below this */
#define ORDERLY__REACTIONS_MAX 255  /* reaction rows the engine indexes */

/* Allocates and frees e's memory for orders of e->max_lines lines, and
 * points e->agg and e->stage into it; ENOMEM. */
int orderly__scratch_open(orderly_engine *e, orderly_ctx *ctx);
void orderly__scratch_close(orderly_engine *e);

/* Points r at line memory of site, for orders up to e's max_lines. */
void orderly__event_rec_at(orderly_engine *e, struct orderly__event_rec *r, int site);
void orderly__operation_rec_at(orderly_engine *e, struct orderly__operation_rec *r, int site);

/* Builds e's index of the reaction table; EINVARIANT when the table
 * outgrew the index. */
int orderly__index_reactions(orderly_engine *e, orderly_ctx *ctx);

struct orderly_engine {
    orderly_allocator alloc;
    orderly_ctx ctx;
    orderly_storage *storage;
    orderly_transport *transport;
    unsigned int roles;
    char source[128];
    size_t max_envelope;      /* bytes handle_event parses at most */
    uint32_t max_lines;       /* lines an order may have, as configured */
    uint32_t max_parts;       /* fulfillments, shipments, returns each, as configured */
    char topics[ORDERLY_TOPIC_COUNT + 1][128];
    orderly_policy policy;
    orderly_work_cb on_work;
    void *work_user_data;
    orderly_alert_cb on_alert;
    void *alert_user_data;
    orderly_engine_stats stats;
    void *batch_txn;          /* open batch, or NULL */
    int batch_failed;         /* a write failed inside the batch: it must roll back */
    size_t batch_rows;
    orderly_buf load_buf;
    orderly_buf idem_buf;
    struct orderly__agg agg;
    /* agg holds the decoding of enc[0 .. enc_len), saved as agg_key at
     * agg_version by the last command that committed, while agg_warm is
     * set; a command on the same order then skips the decode */
    int agg_warm;
    uint64_t agg_version;
    size_t enc_len;
    char agg_key[ORDERLY_ID_MAX + 1];
    struct orderly__stage stage;
    uint8_t *enc;             /* agg's encoding: orderly__agg_max_bytes(max_lines) */
    size_t enc_cap;
    /* Memory for orders of up to max_lines lines, allocated at open in one
     * block (lib/engine/scratch.c) so no command allocates. */
    void *scratch;
    uint8_t *rec;             /* an event's or operation's encoding */
    size_t rec_cap;
    uint8_t *fp;              /* the bytes a command's fingerprint hashes */
    size_t fp_cap;
    struct orderly__event_line *ev_lines[ORDERLY__SITES];
    struct orderly__op_lines op_lines[ORDERLY__SITES];
    orderly_line *spec_lines; /* a replacement's lines */
    uint32_t *units;          /* per line, while a return names its lines */
    struct orderly__deadline_slot *deadlines; /* SETS x WAYS */
    /* payloads of the claimed and handed rows (they point into these) */
    orderly_buf claim_arena, handed_arena;
    struct orderly__claimed *claimed;  /* policy.batch_max rows */
    size_t batch[4];          /* rows per claim of each queue: halved on failure, regrown */
    /* The reaction rows of each (machine, effect) in table order, indexed
     * at open so a transition reads only its own rows, not the table. */
    uint8_t react_first[ORDERLY_MACHINE_COUNT + 1][ORDERLY__EFFECT_SLOTS];
    uint8_t react_n[ORDERLY_MACHINE_COUNT + 1][ORDERLY__EFFECT_SLOTS];
    uint8_t react_rows[ORDERLY__REACTIONS_MAX];
    struct orderly__executor executors[ORDERLY__EXECUTORS];
    uint32_t op_attempts[ORDERLY_OP_CANCEL_COD_CLAIM + 1]; /* host's limit per op; 0 = declared */
    uint64_t rng;             /* backoff jitter */
    uint64_t stale_completions, leases_expired, published, redelivered, rows_parked;
    orderly_clock_cb clock;   /* may be NULL */
    void *clock_user_data;
    uint32_t outage_streak;   /* transient publish failures since the last success */
    orderly_time_ms outage_since; /* now of the first of them; 0 when none */

    char *json;               /* envelope scratch */
    size_t json_len, json_cap;

    /* The earliest instant each queue may hold a claimable row, as far as
     * this engine knows: read from the store (queue_next_due) when a step
     * ends, lowered by every row this engine pushes or sets READY.
     * ORDERLY__DUE_UNKNOWN makes the next step look at the store. */
    orderly_time_ms due_floor[4];
    int short_claim;          /* the step's claim took fewer rows than it asked */
    /* Hand-off (ORDERLY_ENGINE_HAND_OFF): outbox rows a command's own
     * transaction claimed, which the next pump publishes without a claim
     * transaction of its own. NULL when the engine does not hand off. */
    struct orderly__claimed *handed;   /* policy.batch_max rows */
    size_t n_handed;
    uint64_t handed_token;
    size_t handed_taken_over; /* of them, taken over from an expired lease */
    /* Acknowledgements of published handed rows not yet written: they
     * ride on the next command's transaction, or are written on their own
     * by a pump once a quarter of the lease is gone or before it claims. */
    struct orderly__ack *acks;         /* policy.batch_max entries */
    size_t n_acks;
    size_t acks_riding;                /* of them, written by the open claim's transaction */
    orderly_time_ms acks_since;        /* now of the oldest pending one */
    int sole;                          /* ORDERLY_ENGINE_SOLE: no other claimer */
    int replica;                       /* ORDERLY_ENGINE_REPLICA: roles pick outputs only */
};

struct orderly__ack {
    uint64_t id, token;
    int outcome;
    orderly_time_ms due;
    uint32_t attempts;
};

/* Whether e takes commands of machine m: every machine for a replica
 * (ORDERLY_ENGINE_REPLICA), else those of its roles. */
static inline int orderly__accepts(const orderly_engine *e, int m)
{
    return e->replica || (m > 0 && (e->roles & (1u << m)) != 0);
}

/* Whether e writes what machine m owns (an event, an operation, a timer
 * row): always without REPLICA, else only for a machine of its roles. */
static inline int orderly__owns(const orderly_engine *e, int m)
{
    return !e->replica || (m > 0 && m <= ORDERLY_MACHINE_COUNT && (e->roles & (1u << m)) != 0);
}

/* Whether e appends events of kind to its outbox, and records operations
 * of type op: the flag is read first, so an engine that is no replica
 * looks nothing up on the command path. */
static inline int orderly__writes_event(const orderly_engine *e, int kind)
{
    return !e->replica || orderly__owns(e, orderly__event_owner(kind));
}

static inline int orderly__writes_op(const orderly_engine *e, int op)
{
    return !e->replica || orderly__owns(e, orderly_op_machine(op));
}

#define ORDERLY__DUE_UNKNOWN INT64_MIN
#define ORDERLY__DUE_NONE INT64_MAX

/* A row of queue may be claimable from due on: lowers the floor. */
static inline void orderly__due_lower(orderly_engine *e, int queue, orderly_time_ms due)
{
    if (queue > 0 && queue < 4 && due < e->due_floor[queue])
        e->due_floor[queue] = due;
}

/* Inside a command's open transaction txn: when the engine hands off and
 * holds no handed rows, claims the due outbox rows into e->handed and,
 * when the store can tell, reads into *next_due when the outbox is next
 * due. Returns the count (0 when nothing was claimed) or a negative code,
 * after which txn is only good for rollback. The rows count as handed
 * only once the caller commits: it then adds the count to e->n_handed. */
int orderly__hand_off(orderly_engine *e, void *txn, orderly_time_ms now, orderly_time_ms *next_due);
/* Writes the pending acknowledgements inside txn (a command's, which
 * then also hands off), stale ones counted. The caller clears e->n_acks
 * once txn commits. A negative code leaves txn only good for rollback. */
int orderly__write_acks(orderly_engine *e, void *txn);
/* Writes the pending acknowledgements in a transaction of their own. */
int orderly__flush_acks(orderly_engine *e);
/* Publishes nothing: gives back the handed rows (READY at their claim
 * time, attempts given back) in one transaction. For close. */
void orderly__release_handed(orderly_engine *e);

/* orderly__claim, but when it claims rows it leaves its transaction open
 * in *txn_out (txn_out NULL: commits as orderly__claim does), so the step
 * can act on them and finish them in that same transaction with
 * orderly__end_in. Leases then matter only if that commit succeeds. */
int orderly__claim_in(orderly_engine *e, int queue, orderly_time_ms now, size_t max,
                      uint32_t max_attempts, uint64_t *token, void **txn_out);
/* Finishes the n claimed rows inside txn from orderly__claim_in, reads
 * when the queue is next due, and commits; on failure rolls txn back (the
 * claim with it) and halves the queue's claim size. */
int orderly__end_in(orderly_engine *e, int queue, size_t n, uint64_t token, void *txn);
/* Halves the queue's claim size after a failed step. */
void orderly__shrink(orderly_engine *e, int queue);

/* Claims up to max due rows of queue into e->claimed (each row's attempts
 * counted up to max_attempts); returns the count and the store's token. */
int orderly__claim(orderly_engine *e, int queue, orderly_time_ms now, size_t max,
                   uint32_t max_attempts, uint64_t *token);
/* Ends a background step whose result so far is rc: finishes the claimed
 * rows with their outcome, due and attempts, in chunks that shrink while
 * commits fail (stale ones counted), and returns rc if it failed, else
 * the finish's result. */
int orderly__end_step(orderly_engine *e, int queue, size_t n, uint64_t token, int rc);
/* Returns a claimed row untried: READY at due, its attempt given back. */
void orderly__give_back(struct orderly__claimed *c, orderly_time_ms due);
/* Gives back the rows after i (of n) of row i's group, due with row i. */
void orderly__hold_group(orderly_engine *e, size_t i, size_t n);
/* The one rule for a row that cannot be decoded or encoded: parked dead,
 * counted, alerted; only its own order's later rows in the batch wait. */
void orderly__park(orderly_engine *e, int queue, struct orderly__claimed *c, size_t i, size_t n,
                   const char *why);
/* Backoff with full jitter for a row that has been tried attempts times. */
orderly_time_ms orderly__backoff(orderly_engine *e, uint32_t attempts);
/* Raises an alert through the host callback, if any. */
void orderly__alert(orderly_engine *e, int kind, int queue, uint64_t id, const char *group,
                    const char *message);

/* Applies event to part (machine, index) of s->a and everything it
 * cascades to. *late_out is set when the top-level event is ignored as late. */
int orderly__fire(orderly_engine *e, struct orderly__stage *s, int machine, uint32_t index,
                  int event, int64_t amount, int *late_out);

/* Reads part (machine, index) of a into *out; ENOTFOUND when absent. */
int orderly__part_state(orderly_part_view *out, const struct orderly__agg *a, int machine,
                        uint32_t index);

/* Reads order id into *a (in the open batch's transaction, if any);
 * ENOTFOUND with a message when there is none. */
int orderly__read_order(orderly_engine *e, const char *id, struct orderly__agg *a, uint64_t *version);

/* orderly_engine_create_order, the new order recording the order an
 * exchange of it replaces (replacement_of, or NULL for none). */
int orderly__create_order(orderly_engine *e, const orderly_order_spec *spec,
                          const char *replacement_of, orderly_result *out);

/* orderly_engine_apply with an inbound traceparent carried to produced events. */
int orderly__apply_traced(orderly_engine *e, const orderly_command *cmd, const char *trace,
                          orderly_result *out);

/* The money and stock invariants of a; ORDERLY_EINVARIANT naming the broken one. */
int orderly__check_invariants(orderly_engine *e, const struct orderly__agg *a, int final);

/* Deadline of timer for part (machine, index) of a under e's policy. */
orderly_time_ms orderly__deadline(const orderly_engine *e, const struct orderly__agg *a,
                                  int timer, uint32_t index);

/* Stages the deadline the state just entered by (machine, index) needs. */
int orderly__schedule(orderly_engine *e, struct orderly__stage *s, int machine, uint32_t index);
/* The line of a that a reservation deadline `timer` due by now fires on:
 * the first still in a state timed by it whose deadline has passed (the
 * lines of an order share one deadline row). 1 with *line set, 0 when no
 * line waits on it any more. */
int orderly__timer_line(orderly_engine *e, const struct orderly__agg *a, int timer,
                        orderly_time_ms now, uint32_t *line);

/* Whether some part of a still waits on deadline `timer` due at due: a
 * row for it can still fire something. 0 when every part that needed it
 * left the state it timed (or entered it again with another deadline). */
int orderly__timer_live(const orderly_engine *e, struct orderly__agg *a, int timer,
                        orderly_time_ms due);
/* Whether some part of a waits on deadline `timer` and it has passed at
 * now: a due row for it has something to fire. */
int orderly__timer_due(const orderly_engine *e, struct orderly__agg *a, int timer,
                       orderly_time_ms now);
/* Whether (machine, event) is the event some deadline fires. */
int orderly__is_deadline_event(int machine, int event);

/* After the commit of a command whose stage is s: remembers the timer
 * rows it pushed. Never fails; a full set forgets its oldest row. */
void orderly__deadlines_remember(orderly_engine *e, const char *order_id,
                                 const struct orderly__stage *s);
/* Inside a command's txn, once a holds its new state: finishes (DONE at
 * now) every remembered timer row of a's order that no part waits on any
 * more, after reading it back to be sure it is that deadline, still READY.
 * A negative code leaves txn only good for rollback. */
int orderly__deadlines_cancel(orderly_engine *e, void *txn, struct orderly__agg *a,
                              orderly_time_ms now);

/* 0, or ORDERLY_EINVAL with a message when now is outside
 * 0..ORDERLY_TIME_MAX. */
int orderly__check_now(orderly_engine *e, orderly_time_ms now);

/* The one place host vtable methods are called from (vtab.c). */
int orderly__vt_check_storage(const orderly_storage *s, orderly_ctx *ctx);
int orderly__vt_check_transport(const orderly_transport *t, orderly_ctx *ctx);
/* queue_next_due leaving out the leases of one claim (storage version 4),
 * or queue_next_due itself on a store without that slot. Only when
 * orderly__vt_can_tell_due. */
int orderly__vt_next_due_except(orderly_engine *e, void *txn, int queue, uint64_t token,
                                orderly_time_ms *due);
int orderly__vt_begin(orderly_engine *e, void **txn);
/* A transaction that only reads: begin_read when the adapter has it, else
 * begin. */
int orderly__vt_begin_read(orderly_engine *e, void **txn);
/* 1 when the adapter answers queue_next_due. */
int orderly__vt_can_tell_due(const orderly_engine *e);
/* *due: the queue's earliest claimable instant, ORDERLY__DUE_NONE when it
 * holds nothing pending. Only when orderly__vt_can_tell_due. */
int orderly__vt_next_due(orderly_engine *e, void *txn, int queue, orderly_time_ms *due);
int orderly__vt_commit(orderly_engine *e, void *txn);
void orderly__vt_rollback(orderly_engine *e, void *txn);
int orderly__vt_load(orderly_engine *e, void *txn, const char *key, orderly_buf *out,
                     uint64_t *version);
int orderly__vt_save(orderly_engine *e, void *txn, const char *key, const uint8_t *data,
                     size_t len, uint64_t expected);
int orderly__vt_push(orderly_engine *e, void *txn, int queue, const orderly_queue_item *item,
                     uint64_t *id_out);
int orderly__vt_idem_get(orderly_engine *e, void *txn, const char *key, orderly_time_ms now,
                         orderly_idem_record *out);
int orderly__vt_idem_put(orderly_engine *e, void *txn, const char *key, orderly_time_ms now,
                         const orderly_idem_record *rec);
/* Deletes up to max marks expired at now; returns the count. */
int orderly__vt_idem_purge(orderly_engine *e, void *txn, orderly_time_ms now, size_t max);
/* *token gets the store-issued fencing token (0 when nothing was claimed). */
int orderly__vt_claim(orderly_engine *e, void *txn, int queue, orderly_time_ms now, size_t max,
                      uint32_t max_attempts, orderly_time_ms lease_until, uint64_t *token,
                      orderly_item_cb cb, void *user_data);
/* ECONFLICT (a stale token) comes back with the error slot clear. */
int orderly__vt_finish(orderly_engine *e, void *txn, int queue, uint64_t id, uint64_t token,
                       int state, orderly_time_ms due, uint32_t attempts);
int orderly__vt_reset(orderly_engine *e, void *txn, int queue, uint64_t id, int state,
                      orderly_time_ms due);
int orderly__vt_get(orderly_engine *e, void *txn, int queue, uint64_t id, orderly_item_cb cb,
                    void *user_data);
int orderly__vt_scan(orderly_engine *e, void *txn, int queue, int state, uint64_t after_id,
                     size_t max, orderly_item_cb cb, void *user_data);
int orderly__vt_purge(orderly_engine *e, void *txn, int queue, orderly_time_ms before_time,
                      size_t max);
int orderly__vt_stats(orderly_engine *e, void *txn, int queue, orderly_time_ms now,
                      orderly_queue_stats *out);
/* Whether the storage keeps order history (version 3 with its methods). */
int orderly__vt_has_history(const orderly_engine *e);
int orderly__vt_history_append(orderly_engine *e, void *txn, const orderly_history_item *item);
int orderly__vt_history_scan(orderly_engine *e, void *txn, const char *group, uint32_t from_seq,
                             size_t max, orderly_history_cb cb, void *user_data);
/* Appends event seq (kind, its row payload) to order_id's history inside
 * txn, when the storage keeps history and seq is below ORDERLY_HISTORY_MAX. */
int orderly__history_append(orderly_engine *e, void *txn, const char *order_id, uint32_t seq,
                            uint32_t kind, const uint8_t *payload, size_t len, orderly_time_ms now);
/* The CloudEvents envelope of event row r of kind for order group into
 * e->json (e->json_len bytes); id_hex gets its id (33 bytes), trace its
 * traceparent (ORDERLY__TRACE_LEN + 1). ENOMEM, or EINVAL for text that
 * is not UTF-8. */
int orderly__encode_event(orderly_engine *e, uint32_t kind, const char *group,
                          const struct orderly__event_rec *r, char *id_hex, char *trace);
int orderly__vt_publish(orderly_engine *e, const char *topic, const char *key,
                        const uint8_t *data, size_t len, const orderly_header *headers,
                        size_t n_headers);

#endif
