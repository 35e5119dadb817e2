/*
 * Shared by the engine fuzz targets: an engine on the in-memory store, and
 * the money and stock invariants checked through the public API after
 * every step. A broken invariant prints what broke and calls abort(), which
 * libFuzzer records as a crash with the input that caused it.
 */
#ifndef ORDERLY_FUZZ_HARNESS_H
#define ORDERLY_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "orderly/engine.h"
#include "orderly/outbox.h"
#include "orderly/sys/memory.h"

#define FZ_T0 1700000000000LL   /* 2023-11-14T22:13:20Z, in ms */
#define FZ_SECOND 1000LL
#define FZ_MINUTE (60 * FZ_SECOND)
#define FZ_HOUR (60 * FZ_MINUTE)
#define FZ_DAY (24 * FZ_HOUR)

#define FZ_ORDERS_MAX 8

typedef struct fz_engine {
    orderly_storage *st;
    orderly_transport *tr;
    orderly_engine *e;
    int executors_fail;        /* while set, every registered executor fails */
} fz_engine;

/* What the harness knows of one order it created, and what it saw last. */
typedef struct fz_order {
    char id[16];
    int live;                  /* created: tracked from now on */
    int method;
    int64_t total;
    uint32_t n_lines;
    orderly_line lines[ORDERLY_LINES_MAX];
    /* last observed states: order, payment, and each part per machine */
    int order_state, payment_state;
    uint32_t n_parts[ORDERLY_MACHINE_COUNT + 1];
    int part_state[ORDERLY_MACHINE_COUNT + 1][ORDERLY_LINES_MAX];
    uint64_t version;
} fz_order;

typedef struct fz_world {
    fz_engine f;
    fz_order orders[FZ_ORDERS_MAX];
    size_t n_orders;
} fz_world;

/* Prints the message and aborts: an invariant broke. */
void fz_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

/* Opens an engine on a fresh in-memory store and transport, with an
 * executor for every built-in operation; aborts when that fails. */
void fz_open(fz_engine *f);
void fz_close(fz_engine *f);

/* Creates order id through the public API and starts tracking it in slot.
 * Returns the engine's code; the order is tracked only when it was created
 * (not a duplicate). */
int fz_create(fz_world *w, size_t slot, const char *id, int method, const orderly_line *lines,
              size_t n_lines, uint32_t promotion, int64_t points, const char *idem_key,
              orderly_time_ms now, orderly_result *res);

/* The version of slot's order as stored now (0 when not tracked). */
uint64_t fz_version(fz_world *w, size_t slot);

/*
 * Reads every tracked order and each of its parts, and aborts unless:
 * - money: 0 <= refunded <= captured <= authorized; nothing captured on a
 *   voided payment; the total is what the lines say;
 * - stock: every reservation still holds its line's sku, warehouse and
 *   quantity (> 0), so what an order holds is never negative; a cancelled
 *   or failed order holds none;
 * - machines: every state is valid, and every change since the last check
 *   is reachable through the declared transition table (a reservation is
 *   released, confirmed, fulfilled or expired at most once, nothing comes
 *   back from a terminal state); parts are never removed.
 */
void fz_check(fz_world *w);

#endif
