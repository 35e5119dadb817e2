/*
 * orderly/engine.h - the engine: commands and events in, state changed,
 * outbox and idempotency mark written, all in one storage transaction.
 *
 * An engine is used by one thread at a time; run one per thread or lock
 * around it. It never starts threads, reads clocks or does I/O itself: time
 * comes in with every call and I/O goes through the storage and transport
 * vtables given in the options.
 *
 * Every entry point follows the same path: idempotency check, load the
 * order aggregate, apply the transition and everything it cascades to
 * (reservations, payment, fulfillments, shipments, returns), check the
 * money and stock invariants, save with a version check (retried on
 * conflict), append produced events to the outbox and operations to the
 * operation queue, write the idempotency mark, commit. A rejected input
 * returns its code and writes nothing. A duplicate returns the stored first
 * result with result.duplicate set. A late event (one that would regress a
 * status) is ignored, counted, and reported with result.late set. Before
 * answering late or refusing, the engine reads the idempotency mark again:
 * a concurrent delivery of the same request may have committed the very
 * state it just read, and then the answer is that delivery's result as a
 * duplicate (or EINFLIGHT while it is still uncommitted), never late.
 */
#ifndef ORDERLY_ENGINE_H
#define ORDERLY_ENGINE_H

#include "common.h"
#include "errors.h"
#include "machine.h"
#include "sys/alloc.h"
#include "sys/storage.h"
#include "sys/transport.h"

ORDERLY_BEGIN_DECLS

typedef struct orderly_engine orderly_engine;

/* ---- topics -------------------------------------------------------------- */

typedef enum orderly_topic {
    ORDERLY_TOPIC_ORDER       = 1,
    ORDERLY_TOPIC_PAYMENT     = 2,
    ORDERLY_TOPIC_INVENTORY   = 3,
    ORDERLY_TOPIC_FULFILLMENT = 4,
    ORDERLY_TOPIC_SHIPMENT    = 5,
    ORDERLY_TOPIC_RETURN      = 6,
    ORDERLY_TOPIC_COMMANDS    = 7  /* operations with no registered executor */
} orderly_topic;
#define ORDERLY_TOPIC_COUNT 7
ORDERLY_API int orderly_topic_count(void);

/* The default topic name for a topic id ("orderly.order", ...), or NULL. */
ORDERLY_API const char *orderly_topic_default_name(int topic);

/* ---- policy and options ---------------------------------------------------- */

/*
 * Durations in milliseconds, each 1..ORDERLY_DURATION_MAX (100 years),
 * except that a deadline (the first six) or idem_ttl of INT64_MAX means
 * never: they saturate instead of wrapping into the past. Anything else is
 * ORDERLY_ECONFIG at open, and so is a batch_max outside
 * 1..ORDERLY_BATCH_MAX_LIMIT. ORDERLY_ENGINE_OPTIONS_INIT fills defaults.
 * Every now an engine call takes must be 0..ORDERLY_TIME_MAX
 * (ORDERLY_EINVAL otherwise), so nothing computed from them overflows.
 *
 * Deadlines per payment method. A cash-on-delivery order waits for its
 * confirmation for cod_window, so its reservations are held for
 * max(reservation_ttl, cod_window) and it is abandoned no sooner than
 * max(abandoned_after, cod_window): a confirmation inside the window finds
 * the stock held and the order open (with the defaults, a COD order keeps
 * its stock 24 h while a card order loses it after 15 min). Because the
 * window wins, no setting of these three can contradict it, and open
 * rejects none of them for it.
 */
#define ORDERLY_BATCH_MAX_LIMIT 65536  /* policy.batch_max at most */

/* Version 1 is the 0.2 layout; 2 appended claim_resolution and
 * cod_collection_window. Fields are only
 * appended, each behind a bump. */
#define ORDERLY_POLICY_VERSION 2

typedef struct orderly_policy {
    unsigned int version;         /* ORDERLY_POLICY_VERSION; first, always */
    int64_t reservation_ttl;      /* stock held before payment; default 15 min
                                   * (a COD order's: at least cod_window) */
    int64_t cod_window;           /* COD confirmation window; default 24 h */
    int64_t auth_window;          /* card authorization validity; default 7 days */
    int64_t auto_complete_after;  /* shipped/delivered -> completed; default 7 days */
    int64_t fulfillment_sla;      /* pending -> shipped; default 24 h */
    int64_t abandoned_after;      /* pending orders cleaned up; default 2 h
                                   * (a COD order: not before cod_window) */
    int64_t idem_ttl;             /* idempotency marks kept; default 7 days */
    int64_t backoff_base;         /* first retry delay; default 1 s */
    int64_t backoff_max;          /* cap on one retry delay; default 1 h */
    int64_t lease;                /* queue lease; default 30 s */
    int64_t retention;            /* published outbox rows kept; default 30 days */
    uint32_t max_conflict_retries; /* version conflicts retried per command; default 8 */
    uint32_t outbox_max_attempts; /* then dead-lettered; default 10 */
    uint32_t operation_max_attempts; /* attempts per operation; default 8 */
    uint32_t batch_max;           /* items per pump/tick batch; default 256 */
    uint64_t seed;                /* jitter seed; default 1 */
    /* ---- version 2 ---- */
    uint32_t claim_resolution;    /* orderly_claim_resolution (orderly/claim.h): how the claim a
                                   * lost parcel opens is resolved; default
                                   * ORDERLY_CLAIM_BY_REFUND (a version-1 policy gets it) */
    int64_t cod_collection_window; /* confirmed COD cash must be reported collected within it,
                                   * else the payment ends cod_uncollected; default 30 days */
    /* ---- later versions append here ---- */
} orderly_policy;

#define ORDERLY_POLICY_INIT                                                       \
    { ORDERLY_POLICY_VERSION, 15 * 60000LL, 24 * 3600000LL, 7 * 86400000LL,     \
      7 * 86400000LL, 24 * 3600000LL, 2 * 3600000LL, 7 * 86400000LL, 1000,      \
      3600000LL, 30000, 30 * 86400000LL, 8, 10, 8, 256, 1, 1, 30 * 86400000LL }
/* The former name of ORDERLY_POLICY_INIT. */
#define ORDERLY_POLICY_DEFAULTS ORDERLY_POLICY_INIT

/* Fills *policy with the defaults of ORDERLY_POLICY_INIT for hosts that
 * cannot use the macro. ORDERLY_EVERSION for an unknown version. */
ORDERLY_API int orderly_policy_init(orderly_policy *policy, unsigned int version);

/* Called after a commit that appended n outbox rows: pump now. */
typedef void (*orderly_work_cb)(orderly_engine *engine, size_t n, void *user_data);

typedef enum orderly_alert_kind {
    ORDERLY_ALERT_DEAD_LETTER = 1,        /* an outbox event exhausted its attempts */
    ORDERLY_ALERT_OPERATION_EXHAUSTED = 2,   /* an operation exhausted its attempts */
    ORDERLY_ALERT_STALE_COMPLETION = 3,   /* a completion with a stale lease token */
    ORDERLY_ALERT_ROW_PARKED = 4          /* a queue row that cannot be decoded or encoded */
} orderly_alert_kind;

typedef struct orderly_alert {
    int kind;                  /* orderly_alert_kind */
    int queue;                 /* orderly_queue */
    uint64_t item_id;
    const char *group;         /* the order id, borrowed */
    const char *message;       /* one line, borrowed */
} orderly_alert;

typedef void (*orderly_alert_cb)(const orderly_alert *alert, void *user_data);

/* The host's current time, in the timebase of the now arguments. */
typedef orderly_time_ms (*orderly_clock_cb)(void *user_data);

#define ORDERLY_ROLES_ALL 0xFEu   /* bit (1 << machine id) for each of the seven */

/*
 * Version 2 is the 0.2 layout: the policy and the topic names moved behind
 * pointers (so that each can grow on its own), and clock, clock_user_data
 * and max_envelope_bytes were added. Version 3 (0.3) appends flags,
 * version 4 max_lines and max_parts. Later versions only append.
 */
#define ORDERLY_ENGINE_OPTIONS_VERSION 4

typedef struct orderly_engine_options {
    unsigned int version;          /* ORDERLY_ENGINE_OPTIONS_VERSION; first, always */
    unsigned int roles;            /* machines this host owns: bits 1 << ORDERLY_MACHINE_* */
    orderly_storage *storage;      /* required; host memory, must outlive the engine */
    orderly_transport *transport;  /* required; host memory, must outlive the engine */
    const orderly_allocator *alloc;/* NULL = C library; copied */
    const char *source;            /* CloudEvents source; default "orderly"; UTF-8
                                    * without control bytes, under 128 bytes (ECONFIG) */
    /* NULL = ORDERLY_POLICY_INIT. Otherwise read (as far as its version
     * covers) and copied at open: it need not outlive the call. */
    const orderly_policy *policy;
    /* Topic names indexed by topic id: topics[i] for i < n_topics, [0]
     * unused. NULL (or n_topics 0) = every default name; a NULL entry, or an
     * id at or past n_topics, = that topic's default name. Copied at open.
     * n_topics above ORDERLY_TOPIC_COUNT + 1 is ORDERLY_ECONFIG. */
    const char *const *topics;
    size_t n_topics;
    orderly_work_cb on_work;       /* may be NULL */
    void *work_user_data;
    orderly_alert_cb on_alert;     /* may be NULL */
    void *alert_user_data;
    /* May be NULL. Read only by the dispatcher, between publishes, to stop
     * before its lease lapses: with less than a quarter of policy.lease
     * left, the rest of the batch goes back unpublished with its attempts
     * untouched, so a slow broker never lets a second worker take over
     * rows this one is still publishing. Without it the dispatcher cannot
     * tell a slow publish; give one when publishing may outlast a lease. */
    orderly_clock_cb clock;
    void *clock_user_data;
    /* Largest envelope orderly_engine_handle_event parses; a longer one is
     * refused with ORDERLY_EENVELOPE before parsing. 0 = the default,
     * ORDERLY_ENVELOPE_MAX_DEFAULT; above ORDERLY_ENVELOPE_MAX_LIMIT is
     * ORDERLY_ECONFIG. */
    size_t max_envelope_bytes;
    /* ---- version 3 ---- */
    /* ORDERLY_ENGINE_* bits; 0 = none. */
    unsigned int flags;
    /* ---- version 4 ---- */
    /* The most lines an order of this engine may have: a bigger order is
     * refused at creation (EINVAL), and a command on a stored
     * order with more lines than this (written by an engine configured
     * higher) is refused with ORDERLY_ENOTSUPPORTED, writing nothing;
     * such an order's deadlines, operations and events are left to an
     * engine configured for it (this engine's steps retry them with
     * backoff and park them with an ORDERLY_ALERT_ROW_PARKED alert once
     * their attempts are spent), so engines sharing a store should share
     * max_lines. The engine sets aside memory for an order of this size
     * at open (about 550 bytes a line), so the command path never
     * allocates. The returns of one order name at most 2 x max_lines +
     * 4 x ORDERLY_PARTS_MAX lines in all (a return past that is
     * EINVARIANT). 0 = ORDERLY_LINES_DEFAULT; above ORDERLY_LINES_MAX is
     * ORDERLY_ECONFIG. */
    uint32_t max_lines;
    /* The most fulfillments (warehouses), shipments and returns
     * an order may have, each counted on its own, refused like max_lines
     * (creating an order over more warehouses is EINVAL, a further
     * shipment or return EINVARIANT). 0 = ORDERLY_PARTS_MAX, the hard
     * maximum; above it is ORDERLY_ECONFIG. */
    uint32_t max_parts;
    /* ---- later versions append here, behind a version bump ---- */
} orderly_engine_options;

/*
 * Hand-off: a command's own transaction also claims the outbox rows it
 * appended (and any others due), under a lease, so the next
 * orderly_engine_pump publishes them without a claim transaction; their
 * acknowledgements are then written by the next write transaction (a
 * command's, or a claim's of any queue, ahead of the claim), or by a pump
 * on their own once a quarter of the lease has gone. For a host that
 * pumps right after each command (on_work): one transaction per command
 * instead of three. Until acknowledged the rows
 * show as leased (health's outbox_leased), and only this engine can
 * publish them before the lease lapses; orderly_engine_close writes the
 * pending acknowledgements and gives back the rows it never published. A
 * pump publishes every handed row, whatever its max. Commands inside a
 * batch, and timers fired by a tick, hand nothing off. See doc/delivery.md.
 */
#define ORDERLY_ENGINE_HAND_OFF 0x1u

/*
 * Sole dispatcher, with ORDERLY_ENGINE_HAND_OFF: the host promises that no
 * other engine claims from this engine's store (one process and one
 * engine: a SQLite store opened with `exclusive`, or a memory store no
 * other engine uses). Hand-off acknowledgements then wait for the next
 * write transaction however long the host stays quiet, instead of being
 * written on their own once a quarter of their lease has gone: with no
 * other claimer nobody can take their rows over, and this engine's own
 * claims write them first. A crash loses only the acknowledgements, so
 * their rows are published again once their leases lapse. Breaking the
 * promise costs duplicates, never a lost event: another engine may
 * republish a row whose lease lapsed before its acknowledgement was
 * written. Until written, such rows show as leased or lease-expired in
 * orderly_engine_health. Without HAND_OFF it changes nothing.
 */
#define ORDERLY_ENGINE_SOLE 0x2u

/*
 * Replica: one ordered input log, every service a replica. Each service
 * of a services topology runs an engine with its own roles and its own
 * store, and every one of them applies every input of one shared, ordered
 * log (host commands, webhooks, the deadline commands below): each store
 * then holds the whole of every order, and every replica decides alike.
 * The host must guarantee what that rests on: every replica reads the same
 * inputs, in the same order, each with the same now (the one recorded in
 * the log entry, never the replica's own clock), with the same policy and
 * max_lines/max_parts; and the log keeps an entry until every replica has
 * read it (a replica that starts late or restarts replays from its own
 * position). Idempotency keys are the log entries' ids, so a redelivered
 * entry is answered as a duplicate on every replica.
 *
 * roles then decide only what an engine produces, so each effect happens
 * once, in the service that owns it:
 * - inputs: every machine's commands are accepted, whatever roles (without
 *   REPLICA a machine outside roles is ECONFIG);
 * - outbox: only events of a kind whose machine is in roles (doc/events.md,
 *   the machine column) are appended; the order history still records
 *   every event, with the same seq, on every replica;
 * - operations: only those whose orderly_op_machine is in roles;
 * - timers: only deadlines whose target machine (orderly_timer_target) is
 *   in roles get a row;
 * - tick: a due deadline is not applied here (that would place it
 *   differently in each replica's input order). The tick's transaction
 *   instead appends a deadline command to ORDERLY_TOPIC_COMMANDS and
 *   finishes the timer row: a CloudEvents envelope of type
 *   "<machine>.<event>" (as orderly_engine_handle_event reads it), subject
 *   the order id, data {"order_id", "index"}, time the tick's now, and an
 *   id stable across redeliveries (XXH3-128 of "timer" and
 *   "<order id>/<timer name>/<timer row id>"). The host appends it to the
 *   shared log; every replica, this one included, applies it with
 *   orderly_engine_handle_event at that time.
 * Each machine must be in the roles of exactly one service (one store),
 * or its effects happen once per owner. result.outbox_rows and
 * result.operations count the rows this engine appended.
 */
#define ORDERLY_ENGINE_REPLICA 0x4u

#define ORDERLY_ENVELOPE_MAX_DEFAULT 65536
#define ORDERLY_ENVELOPE_MAX_LIMIT (16u * 1024 * 1024)

#define ORDERLY_ENGINE_OPTIONS_INIT                                               \
    { ORDERLY_ENGINE_OPTIONS_VERSION, ORDERLY_ROLES_ALL, NULL, NULL, NULL, NULL, \
      NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0 }

/* Fills *opts with the defaults of ORDERLY_ENGINE_OPTIONS_INIT for hosts
 * that cannot use the macro. ORDERLY_EVERSION for an unknown version. */
ORDERLY_API int orderly_engine_options_init(orderly_engine_options *opts, unsigned int version);

/*
 * Opens an engine. The options are checked first: storage and transport
 * present with every required method and a supported version, every topic
 * non-empty and distinct, every duration positive, backoff_max at least
 * backoff_base, and the idempotency TTL at least the longest retry horizon
 * (every backoff delay plus a lease per attempt, for the outbox and the
 * operations; a dedupe window that lapses before the last retry would
 * let duplicates through). The horizon saturates at INT64_MAX, so huge
 * durations cannot wrap it into a small number. Any violation is
 * ORDERLY_ECONFIG (or ORDERLY_EVERSION / ORDERLY_EINVAL) with the reason in
 * ctx, which may be NULL. The caller owns *out; release with
 * orderly_engine_close. The storage and transport destroy methods run when
 * the engine closes, or here when open fails after they were accepted.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_open(orderly_engine **out,
                                                        const orderly_engine_options *opts,
                                                        orderly_ctx *ctx);

/* Closes the engine. NULL is accepted. */
ORDERLY_API void orderly_engine_close(orderly_engine *engine);

/* The engine's error slot: the last failure of a call on this engine. */
ORDERLY_API int orderly_engine_errcode(const orderly_engine *engine);
ORDERLY_API const char *orderly_engine_errmsg(const orderly_engine *engine);
/* Borrowed; lives as long as the engine. Adapters receive it as ctx. */
ORDERLY_API orderly_ctx *orderly_engine_ctx(orderly_engine *engine);

/* The configured name of a topic (borrowed, lives as long as the engine). */
ORDERLY_API const char *orderly_engine_topic(const orderly_engine *engine, int topic);

/*
 * Resolves a topic name a host is about to subscribe to. ORDERLY_ECONFIG
 * for an empty or unknown name, so a misspelt consumer fails at setup
 * instead of silently subscribing to nothing.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_topic_id(int *out,
                                                            const orderly_engine *engine,
                                                            const char *name);

/* ---- results --------------------------------------------------------------- */

/*
 * Result and view structs the caller allocates (orderly_result,
 * orderly_order_view, orderly_part_view, orderly_health,
 * orderly_engine_stats) start with size, which the caller sets to
 * sizeof the struct it was built with; the *_INIT macros do. The library
 * fills the fields that fit in size and zeroes the rest of it, so a struct
 * can gain fields at its end without breaking a caller built against an
 * older header. A size below the 0.2 layout is ORDERLY_EINVAL, with
 * nothing filled. Structs the library hands to a callback
 * (orderly_outbox_view, orderly_operation_view) start with size as well, set
 * by the library: fields at or past it were not filled.
 */
typedef struct orderly_result {
    size_t size;         /* sizeof(orderly_result); ORDERLY_RESULT_INIT sets it */
    int code;            /* 0, or the code the first processing returned */
    int machine;         /* the machine addressed */
    int event;
    int from;            /* its state before ... */
    int to;              /* ... and after (equal when late) */
    int order_state;     /* the order's state after */
    uint32_t late;       /* 1: ignored as an out-of-order event */
    uint32_t duplicate;  /* 1: a redelivery; this is the stored first result */
    uint32_t outbox_rows;/* events appended by this command */
    uint32_t operations; /* operations recorded in the queue */
    uint64_t version;    /* aggregate version after */
    /* ---- later versions append here ---- */
} orderly_result;

#define ORDERLY_RESULT_INIT { sizeof(orderly_result), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* ---- commands ------------------------------------------------------------- */

typedef enum orderly_payment_method {
    ORDERLY_PAY_CARD = 1,  /* authorize, then capture */
    ORDERLY_PAY_COD  = 2   /* cash on delivery, confirmed within a window */
} orderly_payment_method;

/*
 * Bounds of an order line. A line's total is then at most 10^18 minor
 * units, and the order's total is summed with an overflow check: a spec
 * whose total would pass INT64_MAX is EINVAL, never a total that wrapped.
 */
#define ORDERLY_QUANTITY_MAX 1000000u             /* units per line */
#define ORDERLY_UNIT_PRICE_MAX 1000000000000LL    /* minor units (10^12) */

/* One order line, reserved in one warehouse. */
typedef struct orderly_line {
    uint64_t sku;
    uint32_t warehouse;
    uint32_t quantity;     /* 1..ORDERLY_QUANTITY_MAX */
    int64_t unit_price;    /* minor units, 0..ORDERLY_UNIT_PRICE_MAX */
} orderly_line;

#define ORDERLY_ID_MAX 64        /* order ids and idempotency keys, bytes without NUL */
/* Hard maxima of this build; an engine is configured at or below them
 * (orderly_engine_options.max_lines, max_parts). */
#define ORDERLY_LINES_MAX 4096   /* lines per order */
#define ORDERLY_LINES_DEFAULT 256 /* lines per order when max_lines is 0 */
#define ORDERLY_PARTS_MAX 64     /* fulfillments (warehouses), shipments, returns per order */
ORDERLY_API size_t orderly_id_max(void);
ORDERLY_API size_t orderly_lines_max(void);
ORDERLY_API size_t orderly_parts_max(void);

typedef struct orderly_order_spec {
    const char *order_id;        /* 1..ORDERLY_ID_MAX bytes, printable ASCII */
    const char *currency;        /* ISO 4217, three upper-case letters */
    int payment_method;          /* orderly_payment_method */
    const orderly_line *lines;   /* borrowed for the call */
    size_t n_lines;              /* 1..the engine's max_lines */
    uint32_t has_promotion;      /* 1: a promotion was applied (reverted on cancel) */
    int64_t loyalty_points;      /* points redeemed (restored on cancel), >= 0 */
    const char *idem_key;        /* request key; NULL = derived from the order id */
    orderly_time_ms now;         /* 0..ORDERLY_TIME_MAX */
} orderly_order_spec;

/*
 * Creates an order: the order in `pending`, one active reservation per
 * line with the policy TTL, one fulfillment per distinct warehouse, the
 * payment in `pending` (or `cod_pending` for COD), the deadlines scheduled,
 * and an order.status_changed event in the outbox, in one transaction.
 * EEXISTS when the order id is taken by a different request; EINVAL with
 * the field named for a bad spec (a line as "line 2 (lines[1]): ...", and
 * a total that would pass INT64_MAX naming the line where it does).
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_create_order(orderly_engine *engine,
                                                                const orderly_order_spec *spec,
                                                                orderly_result *out);

/*
 * A state-machine event addressed to one part of an order. index picks the
 * reservation (line), fulfillment, shipment or return (0-based); it is 0
 * for the order and payment. amount is read by events that move money
 * (payment authorize/refund, return refund); captures always use the stored
 * authorised amount, whatever amount says.
 */
typedef struct orderly_command {
    const char *order_id;
    int machine;                 /* ORDERLY_MACHINE_* */
    int event;                   /* an event id of that machine */
    uint32_t index;
    int64_t amount;
    const char *idem_key;        /* event id or request key; NULL = derived (see below) */
    orderly_time_ms now;         /* 0..ORDERLY_TIME_MAX */
} orderly_command;

/*
 * A command or spec without idem_key gets a key derived from its request:
 * "d:" followed by the 22 unpadded base64url digits of the XXH3-128
 * fingerprint of the order id and the command's fields (machine, event,
 * index, amount; for a create, the spec; for opening a return, the return
 * machine, the reserved init event, exchange as index, and amount). The
 * same request repeated is then a duplicate, answered with the first
 * result. Pinned like the fingerprint.
 *
 * Applies one command through the idempotent transactional path. Returns 0
 * (applied, ignored as late, or a duplicate), or the rejection:
 * EINVAL (a field out of range, checked before anything else: a machine
 * that is not 1..ORDERLY_MACHINE_COUNT, an event that is not one of the
 * machine's, a reserved event (entry, exit, init), an event the engine
 * feeds a machine from another part of the order (doc/machines.md), an
 * index no order can have, a negative amount, a now outside
 * 0..ORDERLY_TIME_MAX), ECONFIG (a machine this
 * engine's roles do not include, unless it is an ORDERLY_ENGINE_REPLICA),
 * ENOTFOUND (no such order or part),
 * ETRANSITION, EGUARD, EINVARIANT,
 * EIDEMMISMATCH (key reused for a different command), EINFLIGHT (the same
 * key is being processed right now; retry later), ESTORAGE/ECONFLICT after
 * the bounded retries. Nothing is written on any failure.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_apply(orderly_engine *engine,
                                                         const orderly_command *cmd,
                                                         orderly_result *out);

/* Shorthands for the host commands, each orderly_engine_apply underneath. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_cancel_order(orderly_engine *engine,
                                                                const char *order_id,
                                                                const char *idem_key,
                                                                orderly_time_ms now,
                                                                orderly_result *out);
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_request_capture(orderly_engine *engine,
                                                                   const char *order_id,
                                                                   const char *idem_key,
                                                                   orderly_time_ms now,
                                                                   orderly_result *out);

/*
 * Deprecated shorthand kept for 0.1 hosts: a return that names no lines,
 * only money (a goodwill refund). It restocks nothing, since it says
 * nothing came back; orderly_engine_open_return_lines names what did.
 *
 * Opens a return (or, with exchange nonzero, an exchange) of amount minor
 * units on a delivered or partially refunded order. amount must be
 * positive (else EINVAL) and at most what was delivered and not yet given
 * back: the captured amount (a COD order's total) less what was refunded
 * and what live returns and exchanges already claim (else EINVARIANT).
 * *index_out (may be NULL) gets the new return's index, which its later
 * commands name; result.machine is ORDERLY_MACHINE_RETURN, result.to its
 * state (requested) and result.from 0, since it did not exist before. A
 * duplicate gives the first request's index again. This is a request of
 * its own, not a command: orderly_engine_apply takes no event that opens
 * a part.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_open_return(orderly_engine *engine,
                                                               uint32_t *index_out,
                                                               const char *order_id,
                                                               int64_t amount, int exchange,
                                                               const char *idem_key,
                                                               orderly_time_ms now,
                                                               orderly_result *out);

/* One line a return takes back: the order line (0-based, as created)
 * and how many of its units. */
typedef struct orderly_return_line {
    uint32_t line;
    uint32_t quantity;     /* 1..what was delivered and no other live return claims */
} orderly_return_line;

/* Version 1 is the 0.2 layout; fields are only appended, behind a bump. */
#define ORDERLY_RETURN_SPEC_VERSION 1

typedef struct orderly_return_spec {
    unsigned int version;          /* ORDERLY_RETURN_SPEC_VERSION; first, always */
    const char *order_id;
    const orderly_return_line *lines; /* borrowed for the call; each line at most once */
    size_t n_lines;                /* 1..the engine's max_lines */
    /* Added to the lines' value to give the amount refunded: negative for
     * a restocking fee kept, positive for what the host refunds besides
     * (its shipping charge). |adjustment| is at most the lines' value, so
     * the amount is 0..twice their value, and like every return it is
     * bounded by what the order can still give back (EINVARIANT). */
    int64_t adjustment;
    int exchange;                  /* nonzero: an exchange, refunding and restocking nothing */
    const char *idem_key;          /* NULL = derived from the request */
    orderly_time_ms now;           /* 0..ORDERLY_TIME_MAX */
} orderly_return_spec;

#define ORDERLY_RETURN_SPEC_INIT { ORDERLY_RETURN_SPEC_VERSION, NULL, NULL, 0, 0, 0, NULL, 0 }

/*
 * Opens a return (or an exchange) of the units spec names, on a delivered
 * or partially refunded order, as orderly_engine_open_return does; its
 * amount is the units' value plus spec->adjustment. Each unit counts as
 * returned once the return is received; completing a refunded return
 * restocks exactly its units (an exchange restocks none), so two partial
 * returns never put back more than was delivered. EINVAL for a bad spec
 * (a line the order cannot have, a zero quantity, a line named twice, an
 * adjustment past the lines' value, an unknown version); EINVARIANT when a
 * line's units exceed what was delivered less what live returns claim,
 * or the amount what the order can still give back. *index_out as for
 * orderly_engine_open_return.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_open_return_lines(
    orderly_engine *engine, uint32_t *index_out, const orderly_return_spec *spec,
    orderly_result *out);

/*
 * The id of the replacement order an exchange opens: return `return_index`
 * of order_id gives "<order_id>.x<return_index>" when that fits in
 * ORDERLY_ID_MAX bytes, else "x." and the 32 lower-case hex digits of
 * XXH3-128 of ("replacement", "<order_id>/return/<return_index>"). Ids of
 * these forms are the replacements': a host names none of its own orders
 * so. Writes the id and its NUL into out (ORDERLY_ID_MAX + 1 bytes, the
 * caller's); EINVAL for a NULL or invalid order id.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_replacement_id(char *out, const char *order_id,
                                                          uint32_t return_index);

/*
 * Opens the replacement order of an exchange: return `return_index` of
 * order_id, opened as an exchange (which restocks nothing) and completed,
 * gets a new order with id orderly_replacement_id(order_id, return_index),
 * created as orderly_engine_create_order creates one (pending, its stock
 * reserved, its payment pending for the host to settle, e.g. against the
 * exchange's credit), holding the exchanged units of each line at their
 * price, in the original's currency and payment method, with no promotion
 * or loyalty points. The replacement's orderly_order_view.replacement_of
 * names the original; the exchange's orderly_part_view.replacement names
 * the replacement. Its idempotency key is derived from its id, so opening
 * it again (a redelivered order.replacement_requested) returns the first
 * result (result.duplicate) and never opens a second order; once that mark
 * has lapsed it is EEXISTS. ENOTFOUND for no such order or return;
 * ETRANSITION when the return is not an exchange, not completed, or names no
 * lines (a money-only exchange, orderly_engine_open_return, has no units to
 * replace).
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_open_replacement(orderly_engine *engine,
                                                                   const char *order_id,
                                                                   uint32_t return_index,
                                                                   orderly_time_ms now,
                                                                   orderly_result *out);

/*
 * Handles a CloudEvents JSON envelope received from another service. Its
 * type names the machine and event ("payment.capture_succeeded"), its
 * subject the order id, its data optionally {"index": n, "amount": m}; its
 * id is the idempotency key. EENVELOPE names the bad field.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_handle_event(orderly_engine *engine,
                                                                const uint8_t *envelope,
                                                                size_t len, orderly_time_ms now,
                                                                orderly_result *out);

/*
 * Verifies a payment provider's webhook (see orderly/webhook.h), then
 * handles payload as an envelope through orderly_engine_handle_event.
 * Signature failures return their code and touch nothing.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_handle_webhook(
    orderly_engine *engine, const uint8_t *secret, size_t secret_len, const char *signature_header,
    const uint8_t *payload, size_t len, int64_t tolerance_seconds, orderly_time_ms now,
    orderly_result *out);

/* ---- batching --------------------------------------------------------------- */

/*
 * Groups the following commands into one storage transaction, for hosts
 * that trade latency for throughput. Each command is still all-or-nothing:
 * a rejected one writes nothing and the others stand. A storage failure or
 * a version conflict inside the batch rolls the whole batch back: the
 * failing call and orderly_engine_commit_batch return the code and the host
 * replays the batch. EMISUSE when a batch is already open.
 *
 * While the batch is open the engine holds that one transaction, on every
 * adapter alike: orderly_engine_get_order, orderly_engine_get_part,
 * orderly_engine_health and orderly_engine_metrics read through it (and so
 * see the batch's own commands); every other call that needs storage (pump,
 * tick, run_operations, purge, the list, inspect and replay calls) returns
 * EMISUSE, "a batch is open", and leaves the batch as it was. Commit or roll
 * back first: publishing before the batch commits could publish events that
 * never happen.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_begin_batch(orderly_engine *engine);
/* Commits the open batch; EMISUSE when none is open. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_commit_batch(orderly_engine *engine);
/* Discards the open batch. NULL and no open batch are accepted. */
ORDERLY_API void orderly_engine_rollback_batch(orderly_engine *engine);

/* ---- reading ---------------------------------------------------------------- */

typedef struct orderly_order_view {
    size_t size;           /* sizeof(orderly_order_view); ORDERLY_ORDER_VIEW_INIT sets it */
    int order_state;
    int payment_state;
    int payment_method;
    char currency[4];
    int64_t total;
    int64_t authorized;
    int64_t captured;
    int64_t refunded;
    uint32_t n_lines;
    uint32_t n_fulfillments;
    uint32_t n_shipments;
    uint32_t n_returns;
    orderly_time_ms created;
    uint64_t version;
    /* the order an exchange of it replaces, or "" (orderly_engine_open_replacement) */
    char replacement_of[ORDERLY_ID_MAX + 1];
    /* ---- later versions append here ---- */
} orderly_order_view;

#define ORDERLY_ORDER_VIEW_INIT                                                   \
    { sizeof(orderly_order_view), 0, 0, 0, { 0, 0, 0, 0 }, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, { 0 } }

/* Reads an order's current state into *out (inside an open batch, as the
 * batch sees it). ENOTFOUND for an unknown id; ENOTSUPPORTED for an order
 * of more lines than this engine's max_lines holds. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_get_order(orderly_engine *engine,
                                                             const char *order_id,
                                                             orderly_order_view *out);

typedef struct orderly_part_view {
    size_t size;           /* sizeof(orderly_part_view); ORDERLY_PART_VIEW_INIT sets it */
    int machine;
    uint32_t index;
    int state;
    uint64_t sku;          /* reservations */
    uint32_t warehouse;    /* reservations, fulfillments, shipments */
    uint32_t quantity;     /* reservations */
    int64_t amount;        /* returns */
    orderly_time_ms since; /* when the part entered its state */
    /* Reservations (the order's lines): where the line's units are. Each
     * is bounded by the one before: shipped <= quantity; delivered + lost
     * + back_at_origin <= shipped; returned <= delivered; restocked <=
     * returned + back_at_origin. A return's quantity is its units, over
     * the lines bit `lines` names. */
    uint32_t reserved;     /* held in the warehouse: quantity while the stock is held */
    uint32_t shipped;
    uint32_t delivered;
    uint32_t lost;
    uint32_t back_at_origin;
    uint32_t returned;     /* received back by returns not rejected */
    uint32_t restocked;
    uint32_t shipment;     /* the shipment carrying the line, when shipped */
    int64_t refunded;      /* the line's share of the order's refunds */
    uint32_t lines;        /* returns: bit per order line it names, for the
                            * first 32 lines only: orderly_engine_get_return_line
                            * reads every line of any order */
    /* a completed exchange: the id of its replacement order
     * (orderly_replacement_id), whether opened yet or not; else "" */
    char replacement[ORDERLY_ID_MAX + 1];
    /* ---- later versions append here ---- */
} orderly_part_view;

#define ORDERLY_PART_VIEW_INIT                                                    \
    { sizeof(orderly_part_view), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, { 0 } }

/* Reads one part (a reservation, fulfillment, shipment or return) of an
 * order. ENOTFOUND when the order or the index does not exist. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_get_part(orderly_engine *engine,
                                                            const char *order_id, int machine,
                                                            uint32_t index,
                                                            orderly_part_view *out);

/*
 * The k-th line (0-based, in order-line order) that return `index` of an
 * order names: *out gets the order line and the return's units of it.
 * The way to read a return's lines whatever the order's size
 * (orderly_part_view.lines holds a bit only for each of the first 32
 * order lines); k from 0 up until ENOTFOUND walks them all. ENOTFOUND
 * when the order, the return or the k-th line does not exist (a return
 * opened by amount names none); out is caller memory, written on success.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_get_return_line(orderly_engine *engine,
                                                                   const char *order_id,
                                                                   uint32_t index, uint32_t k,
                                                                   orderly_return_line *out);

/*
 * Every line return `index` of an order names, in order-line order, from
 * one read: out[0 .. min(cap, count)) get them and *count the number the
 * return names, so a caller with too small an array learns the size it
 * needs (cap 0 and out NULL just count). ENOTFOUND when the order or the
 * return does not exist (a return opened by amount names none: count 0);
 * out (cap entries) and count are caller memory.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_get_return_lines(orderly_engine *engine,
                                                                    const char *order_id,
                                                                    uint32_t index,
                                                                    orderly_return_line *out,
                                                                    size_t cap, size_t *count);

/* ---- history ------------------------------------------------------------------ */

/*
 * Events kept in an order's history. Every event of an order is published;
 * the first ORDERLY_HISTORY_MAX are also kept, so a very long-lived order
 * (a subscription that never closes) cannot grow its history without
 * bound. A history that stops short of the order's event count was capped.
 */
#define ORDERLY_HISTORY_MAX 4096u

/* One event of an order's history, as it was published. Pointers are
 * borrowed for the duration of the callback. */
typedef struct orderly_history_entry {
    size_t size;               /* sizeof the library's orderly_history_entry: fields at or
                                * past it were not filled (see orderly_result) */
    uint32_t seq;              /* the event's number within its order, from 0, gapless */
    const char *order_id;
    const char *type;          /* CloudEvents type, e.g. "inventory.stock.committed" */
    const char *event_id;      /* 32 hex digits: the id consumers saw */
    orderly_time_ms time;      /* when the command that produced it committed */
    const char *machine;       /* whose part moved: "order", "payment", ... */
    uint32_t index;            /* which part */
    const char *from, *to, *event; /* state and event names; NULL when not a transition */
    int64_t amount;            /* minor units */
    const char *currency;      /* "" for events that carry no money */
    uint32_t n_lines;          /* lines it carried (doc/events.md) */
    const char *json;          /* the CloudEvents envelope, as published (json_len bytes, no NUL) */
    size_t json_len;
    /* ---- later versions append here ---- */
} orderly_history_entry;

typedef int (*orderly_history_entry_cb)(const orderly_history_entry *entry, void *user_data);

/*
 * Calls cb for up to max (0 = all) events of order_id with seq >= from_seq,
 * in the order they were produced, from one read-only transaction (inside
 * an open batch, as the batch sees it). History is written in the
 * command's own transaction and kept as long as the order, independent of
 * the outbox's retention. Returns the count, or: ENOTFOUND for an unknown
 * order; ENOTSUPPORTED when the storage keeps no history (a version 2
 * adapter, or one without history_append/history_scan); ESTORAGE for an
 * entry that does not decode. A negative return from cb stops the walk
 * and is returned.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_engine_order_history(orderly_engine *engine,
                                                                 const char *order_id,
                                                                 uint32_t from_seq, size_t max,
                                                                 orderly_history_entry_cb cb,
                                                                 void *user_data);

typedef struct orderly_engine_stats {
    size_t size;                 /* sizeof(orderly_engine_stats); ORDERLY_ENGINE_STATS_INIT */
    uint64_t applied;            /* commands that changed state */
    uint64_t rejected;           /* ETRANSITION, EGUARD, EINVARIANT, ... */
    uint64_t duplicates;         /* redeliveries answered from the idempotency store */
    uint64_t late_ignored;       /* out-of-order events ignored */
    uint64_t idem_busy;          /* EINFLIGHT answers */
    uint64_t idem_mismatch;      /* EIDEMMISMATCH answers */
    uint64_t conflicts_retried;  /* version conflicts retried */
    uint64_t outbox_appended;
    uint64_t operations_recorded;
    /* ---- 0.3: the storage transactions the engine opened and ended, every
     * entry point included (commands, pump, tick, operations, reads), so a
     * host sees what its workload costs the store. Every successful begin
     * ends in exactly one commit or rollback; read_begins counts the begins
     * opened read-only (ORDERLY_STORAGE_VERSION 3's begin_read), which are
     * included in txn_begins. */
    uint64_t txn_begins;
    uint64_t txn_commits;
    uint64_t txn_rollbacks;
    uint64_t txn_read_begins;
    /* ---- 0.3 too: write transactions that only wrote hand-off
     * acknowledgements (ORDERLY_ENGINE_HAND_OFF), and timer rows a command
     * finished in its own transaction because no part waits on them any
     * more, so no tick claims them to fire nothing. */
    uint64_t txn_ack_writes;
    uint64_t deadlines_cancelled;
    /* ---- later versions append here ---- */
} orderly_engine_stats;

#define ORDERLY_ENGINE_STATS_INIT { sizeof(orderly_engine_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Counters since open (not persisted). ORDERLY_EINVAL (nothing filled) for
 * a NULL engine or out, or an out->size below the 0.2 layout. */
ORDERLY_API int orderly_engine_get_stats(const orderly_engine *engine,
                                         orderly_engine_stats *out);

ORDERLY_END_DECLS

#endif
