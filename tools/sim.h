/*
 * orderly simulate: the pieces of one simulation run.
 *
 * simulate.c drives scripted customers, warehouses and carriers through
 * the engine on a simulated clock, up to the parcels' hand-over;
 * sim_after.c plays what follows (deliveries, losses and their claims,
 * parcels sent back, returns, exchanges and replacement orders) and keeps
 * the world's books per order line; sim_world.c is the outside world the
 * operations act on (payment provider, inventory) and the inbound
 * webhooks it sends back; sim_check.c consumes what was published and
 * checks the invariants at the end, with sim_ledger.c's per-line verdicts.
 */
#ifndef ORDERLY_SIM_H
#define ORDERLY_SIM_H

#include "cli.h"

enum sim_scenario {
    SC_HAPPY,            /* paid, shipped, delivered, completed */
    SC_CANCEL_UNPAID,    /* the customer cancels before paying */
    SC_CANCEL_PAID,      /* the customer cancels after paying, before shipping */
    SC_DECLINED,         /* the card is declined */
    SC_ABANDONED,        /* never paid or confirmed: the reservation or COD window expires */
    SC_RETURN,           /* delivered, then some of it returned (once or twice) and refunded */
    SC_EXCHANGE,         /* delivered, then exchanged: a replacement order follows */
    SC_WAREHOUSE_CANCEL, /* one warehouse cannot ship its part */
    SC_RETURN_TO_ORIGIN, /* the only parcel is lost or goes back */
    SC_PARTIAL_DELIVERY, /* one of two or more parcels is lost or goes back */
    SC_COUNT
};

#define SIM_FUL_MAX 8          /* warehouses (so fulfillments and parcels) per order */
#define SIM_LARGE_MIN 50       /* a large order draws 50..300 lines ... */
#define SIM_LARGE_MAX 300      /* ... clamped to the engine's max_lines */

/* One order line as the world outside the engine knows it: what the
 * customer ordered and, unit by unit, what the warehouses, the carriers
 * and the customer did with it. sim_check.c holds it against the engine's
 * reservation part of the same line. */
struct sim_line {
    uint64_t sku;
    uint32_t warehouse, quantity;
    int64_t unit_price;
    uint32_t shipped;          /* its warehouse handed it to a carrier */
    uint32_t delivered, lost, back_at_origin;   /* how that parcel ended */
    uint32_t reshipped;        /* sent again by the warehouse for a lost parcel's claim */
    uint32_t claimed;          /* named by the returns opened so far */
    uint32_t returned;         /* received back by the warehouse */
    uint32_t to_restock;       /* returns completed (not exchanges) and units back at origin */
    uint32_t restocked;        /* put back by the inventory (restock operations carried out) */
    uint32_t released;         /* given back by the inventory (release operations carried out) */
    int64_t refund_due;        /* owed back for its returned, lost or undelivered units */
    int64_t uncollected;       /* of that, cash on delivery the courier never took */
};

struct sim_order {
    char id[32];
    uint8_t method;            /* orderly_payment_method */
    uint8_t scenario;
    uint8_t n_ful;
    uint16_t n_lines;
    uint8_t ful_step[SIM_FUL_MAX];   /* fulfillment events done, 0..5 */
    uint8_t ship_step[SIM_FUL_MAX];  /* shipment events done */
    uint8_t ship_ful[SIM_FUL_MAX];   /* the fulfillment whose parcel shipment i is */
    uint8_t ful_wh[SIM_FUL_MAX];     /* fulfillment i's warehouse (first appearance in the lines) */
    uint8_t n_shipped;         /* parcels handed to carriers */
    uint8_t victim;            /* SC_PARTIAL_DELIVERY: the fulfillment whose parcel fails */
    uint8_t victim_lost;       /* that parcel (or the only one) is lost, not sent back */
    uint8_t ret_step;          /* return events done */
    uint8_t returns_left;      /* returns the customer will still open */
    uint8_t waits;             /* steps spent waiting for the payment provider */
    uint8_t done;              /* the script has nothing more to do */
    uint8_t cod_collected;
    uint8_t placed;            /* created in the engine */
    uint8_t large;             /* drew SIM_LARGE_MIN..SIM_LARGE_MAX lines */
    uint8_t exchanged;         /* its exchange completed: the replacement is due */
    uint16_t claims_open;      /* bit per lost parcel whose claim the host must decide */
    uint16_t claims_unclosed;  /* bit per claim decided but not yet closed */
    uint32_t ret_index;
    uint32_t cmd_seq;          /* numbers idempotency keys */
    uint32_t replacement;      /* 1 + the slot of the replacement order, 0 = none */
    uint32_t original;         /* a replacement: 1 + the slot of the order it replaces */
    struct sim_line *lines;    /* n_lines, owned */
    orderly_return_line *ret_lines;  /* the open return's lines, owned (n_lines capacity) */
    uint32_t ret_n;
    int64_t ret_fee;           /* the open return's restocking fee (<= 0) */
    int64_t fees;              /* every refunded return's fee, added to what is owed */
    int64_t total;
    /* the outside world's view, from executed operations */
    int64_t psp_captured, psp_refunded, psp_voided;
    uint32_t psp_msgs;         /* numbers webhook event ids */
    /* what consumers saw, from published events */
    uint8_t seen_state;        /* last order status published, 0 before any */
    uint8_t chain_broken;
    uint32_t order_events;
};

enum sim_action_kind {
    ACT_STEP = 1,              /* the order's script takes its next step */
    ACT_CAPTURE_RESULT = 2,    /* the payment provider's capture webhook */
};

struct sim_action {
    orderly_time_ms at;
    uint64_t seq;              /* ties broken by scheduling order: deterministic */
    uint32_t order;
    uint32_t kind;
    int64_t arg;
};

struct sim_counts {
    uint64_t commands, applied, duplicates_sent, duplicates_answered, late_sent, late_answered;
    uint64_t rejected, gave_up, retries, webhooks, envelopes;
    uint64_t remote_calls;       /* engine calls a worker ran for the driver (--workers) */
    uint64_t storage_faults, transport_faults, executor_faults;
    uint64_t operations_run, operations_exhausted_alerts, operations_replayed, dead_letter_alerts;
    uint64_t stale_alerts, purged, ticks_fired;
    uint64_t parcels_lost;     /* lost by the carrier: each opens a claim */
    uint64_t parcels_back;     /* returned to origin */
    uint64_t claims_refunded, claims_reshipped, claims_closed, reships_sent;
    uint64_t returns_opened, partial_returns, second_returns, returns_with_fee;
    uint64_t exchanges, replacements, replacements_skipped;
    uint64_t partial_deliveries, cod_orders, large_orders;
    uint64_t published_msgs, published_distinct, dlq_msgs, redelivered_copies;
    uint64_t world_txns;       /* transactions of the world's own reads (views, tallies) */
};


struct sim_keyset {            /* open-addressing set of 128-bit ids */
    uint8_t (*keys)[16];
    uint8_t *used;
    size_t cap, n;
};

struct sim {
    /* options */
    const char *db_path;       /* NULL with --storage memory */
    uint64_t n_orders, seed, days;
    double faults;
    int progress;
    uint32_t claim_resolution; /* --claims: orderly_claim_resolution */
    uint32_t max_lines, max_parts;   /* as the engine was opened with */
    uint64_t fault_plans;      /* storage fault plans installed, seeding the next one */
    int scaled;                /* the plan installed is a large order's (sim_faults_for) */
    /* plumbing */
    orderly_storage *sqlite;   /* the adapter under the faults: SQLite ... */
    orderly_storage *memory;   /* ... or the in-memory one; the other is NULL */
    orderly_storage *storage;  /* the fault wrapper around it, what the engine uses */
    const char *pg_conninfo;   /* --storage postgresql://...: the adapter is ... */
    orderly_storage *pg;       /* ... liborderly-pg instead (sim_pg.c) */
    int pg_prepared;           /* the schema was replaced already: open only */
    uint64_t workers;          /* --workers N: engine processes (sim_workers.c) */
    struct sim_workers *wk;    /* in the driver with workers: pump and tick go to them */
    /* --topology services (sim_services.c) */
    const char *redis_url;     /* --transport: the services' Redis */
    const char *svc_dir;       /* --db DIR: one SQLite file per service */
    int svc_self;              /* in a service process: which one; else -1 */
    int kill_service;          /* --kill-service: kill -9 one service once, restart it */
    int svc_overwrite;         /* --overwrite: replace the services' files */
    struct sim_services *sv;   /* in the world: the services, the log, the streams */
    orderly_policy policy;     /* as the engine was opened with, for the checks */
    orderly_transport *transport;
    orderly_engine *engine;
    int work;                  /* the engine asked for a pump */
    int applied;               /* the last command or envelope changed state (not late, not a copy) */
    orderly_time_ms start, now;
    uint64_t rng;
    /* the population */
    struct sim_order *orders;
    uint64_t created;          /* slots in use: the orders, then replacements */
    uint64_t capacity;
    struct sim_action *heap;
    size_t heap_n, heap_cap;
    uint64_t heap_seq;
    /* the outside world */
    struct sim_keyset executed;     /* operation keys already carried out */
    struct sim_keyset published;    /* event ids consumers received */
    struct sim_keyset seen_on;      /* (event id, topic) pairs received, dead-letter topics too */
    struct sim_keyset exhausted;    /* operation ids alerted as exhausted */
    struct operation_tally *op_tally; /* operations tallied so far (sim_check.c) */
    int discontinued_fixed;         /* the operator has fixed the failing restock */
    struct sim_counts c;
    char failure[256];              /* the first harness failure, if any */
    char chain_example[256];        /* the first order its events do not explain */
    uint64_t chains_broken;
};

/* The engine's transaction count now, and the transactions opened since
 * mark added to the world's own (what it reads to decide, not what the
 * engine needs): the report counts the two apart. */
uint64_t sim_txns_mark(struct sim *s);
void sim_txns_world(struct sim *s, uint64_t mark);

/* sim_world.c */
double sim_rand(struct sim *s);
uint32_t sim_below(struct sim *s, uint32_t n);
int sim_schedule(struct sim *s, orderly_time_ms at, uint32_t order, uint32_t kind, int64_t arg);
int sim_pop(struct sim *s, struct sim_action *out);
struct operation_tally;
/* Tallies the finished operations not tallied yet, so the end-of-run
 * checks still see those the purge is about to delete. A negative code
 * (the read failed): the caller must not purge. */
int sim_tally_finished_operations(struct sim *s);
void sim_tally_free(struct sim *s);
int sim_keyset_add(struct sim_keyset *k, const uint8_t id[16]);   /* 1 new, 0 present, <0 ENOMEM */
int sim_keyset_has(const struct sim_keyset *k, const uint8_t id[16]);
void sim_keyset_free(struct sim_keyset *k);
int sim_hex16(uint8_t out[16], const char *hex);
struct sim_order *sim_order_of(struct sim *s, const char *order_id);
int sim_register_executors(struct sim *s);
int sim_execute(const orderly_operation_view *op, void *user_data);   /* s is user_data */
int sim_capture_result(struct sim *s, struct sim_order *o, int64_t amount);
struct sim_line *sim_line_of(struct sim_order *o, uint64_t sku, uint32_t warehouse);
void sim_on_alert(const orderly_alert *a, void *user_data);
void sim_fail(struct sim *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* simulate.c: what a host does around each command */
#define SIM_MINUTE 60000LL
#define SIM_HOUR (60 * SIM_MINUTE)
#define SIM_DAY (24 * SIM_HOUR)
/* A host retries a transiently failed command until it goes through: each
 * try fails only if one of its storage calls does, so at any fault rate
 * below 1 it eventually succeeds; the bound only stops a broken store. */
/* The last of orderly's operations; the world carries out every one up
 * to it, in this process or for a worker */
#define SIM_OP_LAST ORDERLY_OP_RESHIP
#define SIM_RETRIES 100000
int sim_is_transient(int rc);     /* ESTORAGE, ECONFLICT, EINFLIGHT: try again */
int sim_is_business(int rc);      /* refused by the rules: ETRANSITION, EGUARD, ... */
int sim_is_final(int order_state);
int sim_pump(struct sim *s);      /* publishes what is due, then consumes it */
/* Storage faults for the commands of order o (NULL: every other call). A
 * large order's command makes more storage calls than a small one's (an
 * event, its history entry and a deadline per warehouse it moves, up to
 * 8), so the rate is scaled down by the order's size (its lines stand in
 * for its warehouses and events) for them to fail about as often as a
 * small order's do; at a per-call rate of 0.1 the payment of an order
 * over 8 warehouses would otherwise fail 40 webhook deliveries in a row
 * about half the time. */
void sim_faults_for(struct sim *s, const struct sim_order *o);
/* One command with the host's retries (and now and then a redelivery);
 * s->applied says whether it changed state. Business refusals return 0. */
int sim_command(struct sim *s, struct sim_order *o, int machine, int event, uint32_t index,
                int64_t amount, orderly_result *res);
/* A carrier's status update for shipment index, as a CloudEvents envelope. */
int sim_carrier_event(struct sim *s, struct sim_order *o, const char *type, uint32_t index);

/* sim_after.c: parcels' ends, claims, returns, exchanges and replacements */
enum sim_parcel_fate { PARCEL_SHIPPED, PARCEL_DELIVERED, PARCEL_LOST, PARCEL_BACK, PARCEL_CANCELLED };
void sim_book_parcel(struct sim_order *o, uint32_t ful, int fate);
int sim_end_parcel(struct sim *s, struct sim_order *o, uint32_t shipment);
/* What is still owed whatever the order's state (claims, a refunded
 * return's completion, a replacement to open); 1 when nothing is. */
int sim_follow_up(struct sim *s, struct sim_order *o);
int sim_after_delivery(struct sim *s, struct sim_order *o, const orderly_order_view *v,
                       orderly_time_ms *delay);

/* sim_pg.c: --storage postgresql://... (schema orderly_simulate, replaced
 * on every run); without liborderly-pg, opening says so */
int sim_pg_is_url(const char *v);
int sim_pg_open(struct sim *s, orderly_ctx *ctx);
void sim_pg_close(struct sim *s);
int sim_pg_prepare(struct sim *s);   /* replaces the schema once, before workers fork */

/* sim_workers.c: --workers N. The driver forks N processes before its own
 * setup; each runs setup (its own connection and engine) and then does
 * what the driver hands it: pump, or tick + operations + pump, at the
 * driver's simulated time. Executors, alerts and published messages come
 * back to the driver, which owns the world and the checks. */
int sim_workers_start(struct sim *s, int (*setup)(struct sim *s));  /* returns in the driver only */
int sim_workers_pump(struct sim *s, int background);
void sim_workers_stop(struct sim *s);
/* The engine calls that write: with workers, run by the worker that takes
 * the order's commands (its id picks it), their outcome as the engine gave
 * it (a commit that appended rows sets s->work); else by s->engine. */
int sim_apply(struct sim *s, const orderly_command *c, orderly_result *res);
int sim_create_order(struct sim *s, const orderly_order_spec *sp, orderly_result *res);
int sim_open_return(struct sim *s, uint32_t *index, const orderly_return_spec *rs,
                    orderly_result *res);
int sim_open_replacement(struct sim *s, const char *order_id, uint32_t index, orderly_time_ms now,
                         orderly_result *res);
int sim_handle_webhook(struct sim *s, const char *order_id, const uint8_t *secret,
                       size_t secret_len, const char *header, const uint8_t *body, size_t len,
                       int64_t tolerance, orderly_time_ms now, orderly_result *res);
int sim_handle_event(struct sim *s, const char *order_id, const uint8_t *bytes, size_t len,
                     orderly_time_ms now, orderly_result *res);

/* Shared by sim_workers.c and sim_services.c: runs one encoded engine call
 * on e and encodes its outcome into *reply (malloc'd, the caller frees);
 * returns the call's code (ENOMEM with *reply NULL when encoding failed).
 * sim_call_decode reads such a reply back: the call's code, or EUSER for a
 * truncated reply. */
int sim_call_run(orderly_engine *e, const uint8_t *call, size_t len, uint8_t **reply,
                 size_t *reply_len);
int sim_call_decode(const uint8_t *reply, size_t len, orderly_result *res, uint32_t *index);

/* sim_services.c: --topology services. The world forks six service
 * processes (the review's services, each a replica engine with its roles on
 * DIR/<service>.db); every engine call that writes goes to one shared Redis
 * log that every service applies, and rounds of background work too. */
int sim_services_start(struct sim *s, int (*setup)(struct sim *s));  /* returns in the world only */
/* Appends the encoded call to the log, waits until all six answered:
 * *reply is the order service's (malloc'd). 0, or -1 (s->failure says why). */
/* In setup: opens the storage (a service's own file, or the order
 * service's read-only in the world) and the transport, and sets the
 * service's roles, flags and topics in *eo. */
int sim_services_storage(struct sim *s, orderly_ctx *ctx, orderly_engine_options *eo);
int sim_services_readers(struct sim *s);   /* the world: the other five files, read-only */
int sim_services_call(struct sim *s, const uint8_t *call, size_t len, uint8_t **reply,
                      size_t *reply_len);
int sim_services_round(struct sim *s, int background);   /* sim_pump / background */
int sim_services_quiet(struct sim *s, int *quiet);      /* nothing pending in any service */
int sim_services_report(struct sim *s, FILE *out);      /* the services block; 0 when it holds */
void sim_services_stop(struct sim *s);
int sim_consume_one(struct sim *s, const char *topic, const uint8_t *data, size_t len);

/* sim_ledger.c: the per-line and per-order verdicts, pure functions of the
 * world's counts and the engine's views (unit-tested in tests/cli). Each
 * returns 0 when they agree, else 1 with the first disagreement in why. */
int sim_line_verdict(const struct sim_line *w, const orderly_part_view *p, int exact_money,
                     char *why, size_t n);

/* One order's money, as the world and the engine see it. */
struct sim_money {
    int ended_unpaid;          /* cancelled or failed: it may keep nothing */
    int64_t world_captured, world_refunded;   /* at the payment provider */
    int64_t world_due;         /* what the world's returns and losses are owed */
    int64_t captured, refunded;               /* the engine's order view */
    int64_t lines_refunded;    /* the engine's lines' refunds, summed */
};
int sim_money_verdict(const struct sim_money *m, char *why, size_t n);

/* sim_check.c */
int sim_consume(struct sim *s);            /* drains the transport into the checks */
int sim_report(struct sim *s, double wall_seconds, FILE *out);  /* CLI exit code */

#endif
