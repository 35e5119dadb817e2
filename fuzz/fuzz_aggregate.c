/*
 * The order aggregate decoder (lib/engine/aggregate.h) on arbitrary bytes, as
 * a broken or hostile store could hand them back: whatever decodes must
 * encode again and decode from that to the same aggregate. Then the same
 * bytes are stored as an order's record in the in-memory store and the
 * engine reads and drives that order: bad storage bytes must come back as
 * an error (ESTORAGE, EINVARIANT, ...), never as a crash.
 *
 * Input layout: [order id length 1..16][order id][the record].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/aggregate.h"
#include "harness.h"
#include "orderly/payment.h"

static void broken(const char *what)
{
    fprintf(stderr, "aggregate round trip: %s\n", what);
    abort();
}

static int same_part(const struct orderly__part *x, const struct orderly__part *y)
{
    return x->state == y->state && x->fulfillment == y->fulfillment &&
           x->exchange == y->exchange && x->warehouse == y->warehouse &&
           x->amount == y->amount && x->since == y->since;
}

static void round_trip(const char *id, const uint8_t *data, size_t size, struct orderly__agg *a)
{
    static struct orderly__agg b;
    static struct orderly__agg_room room;
    static uint8_t buf[ORDERLY__ROOM_BYTES];
    size_t len, i;

    orderly__agg_in_room(&b, &room);
    if ((len = orderly__agg_encode(a, buf, sizeof buf)) == 0)
        broken("a decoded aggregate does not encode");
    if (orderly__agg_decode(&b, id, buf, len) < 0)
        broken("a re-encoded aggregate does not decode");
    if (strcmp(a->id, b.id) != 0 || memcmp(a->currency, b.currency, sizeof a->currency) != 0 ||
        a->order_state != b.order_state || a->payment_state != b.payment_state ||
        a->method != b.method || a->has_promotion != b.has_promotion ||
        a->settle_on_capture != b.settle_on_capture || a->once_ops != b.once_ops ||
        a->n_lines != b.n_lines || a->n_ful != b.n_ful || a->n_ship != b.n_ship ||
        a->n_ret != b.n_ret || a->total != b.total || a->authorized != b.authorized ||
        a->captured != b.captured || a->refunded != b.refunded ||
        a->loyalty_points != b.loyalty_points || a->created != b.created ||
        a->order_since != b.order_since || a->payment_since != b.payment_since ||
        a->authorized_at != b.authorized_at || a->event_seq != b.event_seq ||
        a->op_seq != b.op_seq)
        broken("the head changed");
    for (i = 0; i < a->n_lines; i++) {
        const struct orderly__line *x = &a->lines[i], *y = &b.lines[i];
        if (x->sku != y->sku || x->warehouse != y->warehouse || x->quantity != y->quantity ||
            x->unit_price != y->unit_price || x->state != y->state || x->since != y->since)
            broken("a line changed");
    }
    for (i = 0; i < a->n_ful; i++)
        if (!same_part(&a->ful[i], &b.ful[i]))
            broken("a fulfillment changed");
    for (i = 0; i < a->n_ship; i++)
        if (!same_part(&a->ship[i], &b.ship[i]))
            broken("a shipment changed");
    for (i = 0; i < a->n_ret; i++)
        if (!same_part(&a->ret[i], &b.ret[i]) || a->ret[i].rl_n != b.ret[i].rl_n)
            broken("a return changed");
    if (a->n_rlines != b.n_rlines)
        broken("the returns' lines changed");
    for (i = 0; i < a->n_rlines; i++)
        if (a->rlines[i].line != b.rlines[i].line || a->rlines[i].qty != b.rlines[i].qty)
            broken("a return line changed");
    (void)data;
    (void)size;
}

/* Stores the record under id and lets the engine at it. */
static void drive(const char *id, const uint8_t *data, size_t size)
{
    static fz_engine f;
    orderly_ctx *ctx = NULL;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_part_view p = ORDERLY_PART_VIEW_INIT;
    orderly_command c;
    orderly_result res = ORDERLY_RESULT_INIT;
    size_t n;
    void *txn;
    int m, rc;

    fz_open(&f);
    if (orderly_ctx_new(&ctx, NULL) < 0 || f.st->begin(f.st, ctx, &txn) < 0 ||
        f.st->save(f.st, ctx, txn, id, data, size, 0) < 0 || f.st->commit(f.st, ctx, txn) < 0)
        fz_fail("storing the record");
    orderly_ctx_free(ctx);

    (void)orderly_engine_get_order(f.e, id, &v);
    for (m = ORDERLY_MACHINE_RESERVATION; m <= ORDERLY_MACHINE_RETURN; m++)
        (void)orderly_engine_get_part(f.e, id, m, (uint32_t)(size % 4), &p);
    memset(&c, 0, sizeof c);
    c.order_id = id;
    c.now = FZ_T0 + FZ_DAY;
    /* one event per machine, picked by the record's last byte */
    for (m = ORDERLY_MACHINE_ORDER; m <= ORDERLY_MACHINE_RETURN; m++) {
        const orderly_machine *mc;
        if (orderly_machine_by_id(&mc, m) < 0)
            fz_fail("machine %d", m);
        c.machine = m;
        c.event = ORDERLY_EVENT_FIRST + (size > 0 ? data[size - 1] : 0) %
                                            (orderly_machine_event_limit(mc) - ORDERLY_EVENT_FIRST);
        c.index = 0;
        c.amount = 100;
        (void)orderly_engine_apply(f.e, &c, &res);
    }
    (void)orderly_engine_cancel_order(f.e, id, NULL, c.now, &res);
    if ((rc = orderly_engine_pump(f.e, c.now, 0, &n)) < 0 ||
        (rc = orderly_engine_tick(f.e, c.now + 30 * FZ_DAY, 0, &n)) < 0 ||
        (rc = orderly_engine_run_operations(f.e, c.now + 30 * FZ_DAY, 0, &n)) < 0 ||
        (rc = orderly_engine_pump(f.e, c.now + 30 * FZ_DAY, 0, &n)) < 0)
        fz_fail("a background step failed on the in-memory store: %s", orderly_error_name(rc));
    fz_close(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct orderly__agg a;
    static struct orderly__agg_room room;
    char id[17];
    size_t n;

    if (size < 1)
        return 0;
    n = 1 + data[0] % 16;
    if (size - 1 < n)
        return 0;
    memcpy(id, data + 1, n);
    id[n] = '\0';
    if (id[0] == '\0')
        return 0;
    data += 1 + n;
    size -= 1 + n;
    orderly__agg_in_room(&a, &room);
    if (orderly__agg_decode(&a, id, data, size) < 0)
        return 0;
    round_trip(id, data, size, &a);
    drive(id, data, size);
    return 0;
}
