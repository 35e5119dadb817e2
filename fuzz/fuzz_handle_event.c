/*
 * orderly_engine_handle_event on the in-memory store: envelopes from
 * another service, as arbitrary bytes, addressed to orders that exist. Four
 * orders are created first (card and cash on delivery, one of them paid and
 * one in fulfillment) so events hit real aggregates. The input is a JSON
 * text sequence (RFC 7464): up to eight envelopes separated by 0x1e, each
 * handled a second later than the one before; the money and stock
 * invariants are checked after each, and the outbox is pumped at the end
 * (the inbound traceparent travels into the published envelopes).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "orderly/fulfillment.h"
#include "orderly/payment.h"

#define EVENTS_MAX 8

static const orderly_line lines_a[2] = { { 101, 1, 2, 500 }, { 202, 2, 1, 1000 } };
static const orderly_line lines_b[1] = { { 303, 1, 3, 250 } };

static void apply_ok(fz_world *w, const char *id, int machine, int event, uint32_t index,
                     int64_t amount, orderly_time_ms now)
{
    orderly_command c;
    orderly_result res = ORDERLY_RESULT_INIT;
    int rc;

    memset(&c, 0, sizeof c);
    c.order_id = id;
    c.machine = machine;
    c.event = event;
    c.index = index;
    c.amount = amount;
    c.now = now;
    if ((rc = orderly_engine_apply(w->f.e, &c, &res)) < 0)
        fz_fail("setting up '%s': %s", id, orderly_engine_errmsg(w->f.e));
}

/* o-card (card, pending), o-paid (card, authorized and confirmed), o-cod
 * (cash on delivery), o-ship (paid, first fulfillment picking). */
static void setup(fz_world *w, orderly_time_ms now)
{
    orderly_result res = ORDERLY_RESULT_INIT;

    if (fz_create(w, 0, "o-card", ORDERLY_PAY_CARD, lines_a, 2, 1, 50, NULL, now, &res) < 0 ||
        fz_create(w, 1, "o-paid", ORDERLY_PAY_CARD, lines_a, 2, 0, 0, NULL, now, &res) < 0 ||
        fz_create(w, 2, "o-cod", ORDERLY_PAY_COD, lines_b, 1, 0, 0, NULL, now, &res) < 0 ||
        fz_create(w, 3, "o-ship", ORDERLY_PAY_CARD, lines_b, 1, 0, 0, NULL, now, &res) < 0)
        fz_fail("creating the orders: %s", orderly_engine_errmsg(w->f.e));
    apply_ok(w, "o-paid", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, 2000, now);
    apply_ok(w, "o-ship", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, 750, now);
    apply_ok(w, "o-ship", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 0, 0,
             now);
    fz_check(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_world w;
    orderly_time_ms now = FZ_T0;
    orderly_result res = ORDERLY_RESULT_INIT;
    size_t start = 0, n;
    int i, rc;

    memset(&w, 0, sizeof w);
    fz_open(&w.f);
    setup(&w, now);
    for (i = 0; i < EVENTS_MAX && start <= size; i++) {
        const uint8_t *rs = size > start ? memchr(data + start, 0x1e, size - start) : NULL;
        size_t end = rs != NULL ? (size_t)(rs - data) : size;
        now += FZ_SECOND;
        (void)orderly_engine_handle_event(w.f.e, data + start, end - start, now, &res);
        fz_check(&w);
        start = end + 1;
    }
    if ((rc = orderly_engine_pump(w.f.e, now, 0, &n)) < 0)
        fz_fail("pump: %s", orderly_engine_errmsg(w.f.e));
    fz_close(&w.f);
    return 0;
}
