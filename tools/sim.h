/*
 * orderly simulate: the pieces of one simulation run.
 *
 * simulate.c drives scripted customers, warehouses and carriers through
 * the engine on a simulated clock; sim_world.c is the outside world the
 * operations act on (payment provider, inventory) and the inbound
 * webhooks it sends back; sim_check.c consumes what was published and
 * checks the invariants at the end.
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
    SC_RETURN,           /* delivered, then part of it returned and refunded */
    SC_EXCHANGE,         /* delivered, then exchanged */
    SC_WAREHOUSE_CANCEL, /* one warehouse cannot ship its part */
    SC_RETURN_TO_ORIGIN, /* delivery fails and the parcel goes back */
    SC_COUNT
};

#define SIM_LINES_MAX 4
#define SIM_FUL_MAX 3

struct sim_order {
    char id[32];
    uint8_t method;            /* orderly_payment_method */
    uint8_t scenario;
    uint8_t n_lines, n_ful;
    uint8_t ful_step[SIM_FUL_MAX];   /* fulfillment events done, 0..5 */
    uint8_t ship_step[SIM_FUL_MAX];  /* shipment events done */
    uint8_t ret_step;          /* return events done */
    uint8_t waits;             /* steps spent waiting for the payment provider */
    uint8_t done;              /* the script has nothing more to do */
    uint8_t cod_collected;
    uint32_t ret_index;
    uint32_t cmd_seq;          /* numbers idempotency keys */
    uint64_t sku[SIM_LINES_MAX];
    uint32_t warehouse[SIM_LINES_MAX];
    uint32_t quantity[SIM_LINES_MAX];
    int64_t total;
    /* the outside world's view, from executed operations */
    int64_t psp_captured, psp_refunded, psp_voided;
    uint32_t released_lines;   /* bit per line released by the inventory */
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
    uint64_t storage_faults, transport_faults, executor_faults;
    uint64_t operations_run, operations_exhausted_alerts, operations_replayed, dead_letter_alerts;
    uint64_t stale_alerts, purged, ticks_fired;
    uint64_t parcels_lost;     /* lost by the carrier: each opens a claim */
    uint64_t published_msgs, published_distinct, dlq_msgs, redelivered_copies;
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
    /* plumbing */
    orderly_storage *sqlite;   /* the adapter under the faults: SQLite ... */
    orderly_storage *memory;   /* ... or the in-memory one; the other is NULL */
    orderly_storage *storage;  /* the fault wrapper around it, what the engine uses */
    const char *pg_conninfo;   /* --storage postgresql://...: the adapter is ... */
    orderly_storage *pg;       /* ... liborderly-pg instead (sim_pg.c) */
    int pg_prepared;           /* the schema was replaced already: open only */
    uint64_t workers;          /* --workers N: engine processes (sim_workers.c) */
    struct sim_workers *wk;    /* in the driver with workers: pump and tick go to them */
    orderly_policy policy;     /* as the engine was opened with, for the checks */
    orderly_transport *transport;
    orderly_engine *engine;
    int work;                  /* the engine asked for a pump */
    orderly_time_ms start, now;
    uint64_t rng;
    /* the population */
    struct sim_order *orders;
    uint64_t created;
    struct sim_action *heap;
    size_t heap_n, heap_cap;
    uint64_t heap_seq;
    /* the outside world */
    struct sim_keyset executed;     /* operation keys already carried out */
    struct sim_keyset published;    /* event ids consumers received */
    struct sim_keyset seen_on;      /* (event id, topic) pairs received, dead-letter topics too */
    struct sim_keyset exhausted;    /* operation ids alerted as exhausted */
    int discontinued_fixed;         /* the operator has fixed the failing restock */
    struct sim_counts c;
    char failure[256];              /* the first harness failure, if any */
    char chain_example[256];        /* the first order its events do not explain */
    uint64_t chains_broken;
};

/* sim_world.c */
double sim_rand(struct sim *s);
uint32_t sim_below(struct sim *s, uint32_t n);
int sim_schedule(struct sim *s, orderly_time_ms at, uint32_t order, uint32_t kind, int64_t arg);
int sim_pop(struct sim *s, struct sim_action *out);
int sim_keyset_add(struct sim_keyset *k, const uint8_t id[16]);   /* 1 new, 0 present, <0 ENOMEM */
int sim_keyset_has(const struct sim_keyset *k, const uint8_t id[16]);
void sim_keyset_free(struct sim_keyset *k);
int sim_hex16(uint8_t out[16], const char *hex);
struct sim_order *sim_order_of(struct sim *s, const char *order_id);
int sim_register_executors(struct sim *s);
int sim_execute(const orderly_operation_view *op, void *user_data);   /* s is user_data */
int sim_capture_result(struct sim *s, struct sim_order *o, int64_t amount);
void sim_on_alert(const orderly_alert *a, void *user_data);
void sim_fail(struct sim *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

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

/* sim_check.c */
int sim_consume(struct sim *s);            /* drains the transport into the checks */
int sim_report(struct sim *s, double wall_seconds, FILE *out);  /* CLI exit code */

#endif
