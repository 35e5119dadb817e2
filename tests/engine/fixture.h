/* The engine suites' shared fixture (fixture.c, built once per suite set
 * into a static library): an engine on the in-memory adapters and the
 * helpers the tests drive it with. */
#ifndef ORDERLY_TESTS_FIXTURE_H
#define ORDERLY_TESTS_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_case.h"

#include "orderly/compensation.h"
#include "orderly/engine.h"
#include "orderly/envelope.h"
#include "orderly/fulfillment.h"
#include "orderly/order.h"
#include "orderly/outbox.h"
#include "orderly/payment.h"
#include "orderly/reservation.h"
#include "orderly/return.h"
#include "orderly/shipment.h"
#include "orderly/sys/memory.h"
#include "orderly/webhook.h"

#define T0 1700000000000LL
#define MIN 60000LL
#define HOUR 3600000LL
#define DAY 86400000LL
#define TOTAL 2000 /* 2 x 500 + 1 x 1000 */

#define MAX_LOG 128

typedef struct logged_cmd {
    char order[32];
    int machine, event;
    uint32_t index;
    int64_t amount;
    char key[48];
    orderly_time_ms now;
} logged_cmd;

typedef struct fx {
    orderly_storage *st;
    orderly_transport *tr;
    orderly_engine *e;
    orderly_engine_options o;
    orderly_policy policy;                      /* o.policy points here */
    const char *topics[ORDERLY_TOPIC_COUNT + 1]; /* o.topics points here */
    unsigned keyseq;
    logged_cmd log[MAX_LOG];
    size_t n_log;
} fx;

void fx_init(fx *f);

void fx_open(fx *f);

void fx_setup(fx *f);

void fx_free(fx *f);

/* Applies one command; key NULL = a fresh unique key. Logs it for replay. */
int applyk(fx *f, const char *order, int machine, int event, uint32_t index,
           int64_t amount, orderly_time_ms now, const char *key, orderly_result *res);

int apply(fx *f, const char *order, int machine, int event, uint32_t index, int64_t amount,
          orderly_time_ms now, orderly_result *res);

#define APPLY_OK(f, o, m, ev, i, amt, now)                                                  \
    do {                                                                                    \
        orderly_result r_ = ORDERLY_RESULT_INIT;                                                                  \
        int rc_ = apply((f), (o), (m), (ev), (i), (amt), (now), &r_);                      \
        ck_assert_msg(rc_ == 0, "apply %d/%d #%u: %d %s", (m), (ev), (unsigned)(i), rc_,   \
                      orderly_engine_errmsg((f)->e));                                      \
        ck_assert_uint_eq(r_.late, 0);                                                      \
    } while (0)

extern const orderly_line std_lines[2];

int create_ex(fx *f, const char *id, int method, uint32_t promo, int64_t points,
              orderly_time_ms now, orderly_result *res);

void create_ok(fx *f, const char *id, int method, orderly_time_ms now);

orderly_order_view view(fx *f, const char *id);

int part_state(fx *f, const char *id, int m, uint32_t i);

orderly_health health(fx *f, orderly_time_ms now);

size_t tick(fx *f, orderly_time_ms now);

/* Pumps until nothing is pending at now (bounded). */
void pump_all(fx *f, orderly_time_ms now);

/* The message's type field (copied into out). */
void msg_type(const orderly_message *m, char *out, size_t cap);

/* Messages of a type published for order (NULL = any order). */
size_t count_type(fx *f, const char *order, const char *type);

/* ---- operations ---- */

typedef struct operation_rec {
    uint64_t id;
    int op;
    char order[32];
    uint32_t index;
    int64_t amount;
    uint32_t n_lines;
    uint64_t sku[16];         /* the first 16 lines the operation touches */
    uint32_t warehouse[16];
    uint32_t quantity[16];
    uint32_t attempts;
    int state;
    char key[33];
} operation_rec;

typedef struct operation_list {
    operation_rec r[64];
    size_t n;
} operation_list;

/* orderly_engine_list_operations callback: appends each operation to the operation_list ud. */
int collect_cb(const orderly_operation_view *op, void *ud);

void operations(fx *f, operation_list *l);

/* Count of operations op for order; *last gets the last one. */
size_t count_op(fx *f, const char *order, int op, operation_rec *last);

/* ---- lifecycles ---- */

void authorize_ok(fx *f, const char *id, orderly_time_ms now);

void capture_ok(fx *f, const char *id, orderly_time_ms now);

void ship_ful(fx *f, const char *id, uint32_t i, orderly_time_ms now);

void deliver_ship(fx *f, const char *id, uint32_t i, orderly_time_ms now);

/* Card order paid, captured, both fulfillments shipped and delivered. */
void to_delivered(fx *f, const char *id, orderly_time_ms now);

/* Opens a return (or exchange) of quantity units of order line `line`. */
int open_return_units(fx *f, uint32_t *idx, const char *order, uint32_t line, uint32_t quantity,
                      int exchange, const char *key, orderly_time_ms now, orderly_result *res);

/* The order line `line` of order, as its reservation part's view. */
orderly_part_view line_view(fx *f, const char *order, uint32_t line);

/* Encodes a CloudEvents envelope; caller frees. */
char *make_env(const char *id, const char *type, const char *subject, const char *data);

int handle(fx *f, const char *env, orderly_time_ms now, orderly_result *res);

int run_suite(Suite *s);

#endif
