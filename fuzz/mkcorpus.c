/*
 * Writes the seed corpus of every fuzz target, and the dictionary of the
 * envelope targets, under DIR (normally fuzz/):
 *   build-fuzz/fuzz/mkcorpus fuzz
 * Aggregates and queue records are produced by running the engine on the
 * in-memory store, so the seeds are what a store really holds. Run it again
 * when a format changes; the files are checked in.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/aggregate.h"
#include "harness.h"
#include "orderly/fulfillment.h"
#include "orderly/order.h"
#include "orderly/payment.h"
#include "orderly/return.h"
#include "orderly/shipment.h"
#include "orderly/webhook.h"
#include "wire/record.h"

static const char *root;

static void die(const char *what)
{
    fprintf(stderr, "mkcorpus: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void write_file(const char *target, const char *name, const void *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/corpus", root);
    (void)mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/corpus/%s", root, target);
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        die(path);
    snprintf(path, sizeof path, "%s/corpus/%s/%s", root, target, name);
    if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die(path);
}

static void write_str(const char *target, const char *name, const char *s)
{
    write_file(target, name, s, strlen(s));
}

/* ---- envelope ---------------------------------------------------------- */

#define TRACE "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static void envelopes(void)
{
    write_str("envelope", "minimal.json",
              "{\"specversion\":\"1.0\",\"id\":\"e-1\",\"source\":\"payments\","
              "\"type\":\"payment.capture_succeeded\"}");
    write_str("envelope", "full.json",
              "{\"specversion\":\"1.0\",\"id\":\"e-2\",\"source\":\"orderly\","
              "\"type\":\"order.status_changed\",\"subject\":\"o-1\","
              "\"time\":\"2023-11-14T22:13:20Z\",\"datacontenttype\":\"application/json\","
              "\"schemaversion\":1,\"traceparent\":\"" TRACE "\","
              "\"data\":{\"from\":\"pending\",\"to\":\"confirmed\",\"amount\":2000,"
              "\"lines\":[{\"sku\":101,\"quantity\":2}],\"ok\":true,\"note\":null,\"r\":1.5}}");
    write_str("envelope", "derived-id.json",
              "{\"specversion\":\"1.0\",\"source\":\"warehouse\",\"type\":\"fulfillment.picked\","
              "\"subject\":\"o-7\",\"schemaversion\":\"1\",\"data\":[1,\"two\",{}],"
              "\"unknown\":{\"nested\":[]}}");
    write_str("envelope", "newer.json",
              "{\"specversion\":\"1.0\",\"id\":\"e-3\",\"source\":\"s\",\"type\":\"t\","
              "\"schemaversion\":2,\"data\":\"\\u00e9\\n\"}");
    write_str("envelope", "bad-trace.json",
              "{\"specversion\":\"1.0\",\"id\":\"e-4\",\"source\":\"s\",\"type\":\"t\","
              "\"traceparent\":\"00-xyz\",\"data\":-0.0}");
}

/* The envelope targets' dictionary: JSON punctuation, field names, and every
 * machine.event type the engine accepts. */
static void dictionary(void)
{
    static const char *words[] = {
        "{", "}", "[", "]", ":", ",", "\\\"", "null", "true", "false", "1.0", "-0", "1e309",
        "\\\\u0000", "\\\\ud800", "application/json", "specversion", "id", "source", "type",
        "subject", "time", "datacontenttype", "schemaversion", "traceparent", "data", "index",
        "amount", "o-card", "o-paid", "o-cod", "o-ship", TRACE,
    };
    char path[512];
    FILE *f;
    size_t i;
    int m, ev;

    snprintf(path, sizeof path, "%s/envelope.dict", root);
    if ((f = fopen(path, "w")) == NULL)
        die(path);
    fputs("# libFuzzer dictionary for fuzz_envelope and fuzz_handle_event (mkcorpus.c)\n", f);
    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        fprintf(f, "\"%s\"\n", words[i]);
    for (m = 1; m <= ORDERLY_MACHINE_COUNT; m++) {
        const orderly_machine *mc;
        if (orderly_machine_by_id(&mc, m) < 0)
            exit(1);
        for (ev = ORDERLY_EVENT_FIRST; ev < orderly_machine_event_limit(mc); ev++)
            if (orderly_machine_event_name(mc, ev) != NULL)
                fprintf(f, "\"%s.%s\"\n", orderly_machine_name(mc), orderly_machine_event_name(mc, ev));
    }
    if (fclose(f) != 0)
        die(path);
}

/* ---- webhook ----------------------------------------------------------- */

#define NOW_S 1700000000LL

/* [secret length - 1][secret][flags][skew][header]\n[payload] */
static void webhook(const char *name, const char *secret, int flags, int skew, const char *header,
                    const char *payload)
{
    uint8_t buf[1024];
    size_t n = 0, sl = strlen(secret);

    buf[n++] = (uint8_t)(sl - 1);
    memcpy(buf + n, secret, sl);
    n += sl;
    buf[n++] = (uint8_t)flags;
    buf[n++] = (uint8_t)((skew >> 8) & 0xff);
    buf[n++] = (uint8_t)(skew & 0xff);
    memcpy(buf + n, header, strlen(header));
    n += strlen(header);
    buf[n++] = '\n';
    memcpy(buf + n, payload, strlen(payload));
    n += strlen(payload);
    write_file("webhook", name, buf, n);
}

static void webhooks(void)
{
    static const char secret[] = "whsec_test_secret";
    static const char payload[] =
        "{\"specversion\":\"1.0\",\"id\":\"evt_1\",\"source\":\"stripe\","
        "\"type\":\"payment.capture_succeeded\",\"subject\":\"o-card\"}";
    char h[160], two[400], upper[160];
    size_t i;

    if (orderly_webhook_sign(h, sizeof h, (const uint8_t *)secret, strlen(secret),
                             (const uint8_t *)payload, strlen(payload), NOW_S) < 0)
        exit(1);
    webhook("valid", secret, 1, 0, h, payload);
    /* rotating secrets: an old v1 first, then the right one */
    snprintf(two, sizeof two, "t=%lld,v1=%064d,%s,v0=legacy", NOW_S, 0, strchr(h, ',') + 1);
    webhook("rotated", secret, 1, 0, two, payload);
    snprintf(upper, sizeof upper, "%s", h);
    for (i = 0; upper[i] != '\0'; i++)
        if (upper[i] >= 'a' && upper[i] <= 'f')
            upper[i] = (char)(upper[i] - 'a' + 'A');
    webhook("upper-hex", secret, 1, 0, upper, payload);
    webhook("stale", secret, 1, 400, h, payload);
    webhook("malformed", secret, 1, 0, "t=17000000x0,v1=zz,=", payload);
}

/* ---- handle_event ------------------------------------------------------- */

static void events(void)
{
    write_str("handle_event", "authorize.json",
              "{\"specversion\":\"1.0\",\"id\":\"ev-1\",\"source\":\"payments\","
              "\"type\":\"payment.authorize\",\"subject\":\"o-card\",\"data\":{\"amount\":2000}}");
    write_str("handle_event", "capture.json",
              "{\"specversion\":\"1.0\",\"id\":\"ev-2\",\"source\":\"payments\","
              "\"type\":\"payment.request_capture\",\"subject\":\"o-paid\","
              "\"traceparent\":\"" TRACE "\"}");
    write_str("handle_event", "picked-then-late.jsonseq",
              "{\"specversion\":\"1.0\",\"id\":\"ev-3\",\"source\":\"warehouse\","
              "\"type\":\"fulfillment.picked\",\"subject\":\"o-ship\",\"data\":{\"index\":0}}"
              "\x1e"
              "{\"specversion\":\"1.0\",\"id\":\"ev-4\",\"source\":\"warehouse\","
              "\"type\":\"fulfillment.start_picking\",\"subject\":\"o-ship\",\"data\":{\"index\":0}}"
              "\x1e"
              "{\"specversion\":\"1.0\",\"id\":\"ev-3\",\"source\":\"warehouse\","
              "\"type\":\"fulfillment.picked\",\"subject\":\"o-ship\",\"data\":{\"index\":0}}");
    write_str("handle_event", "cod-cancel.jsonseq",
              "{\"specversion\":\"1.0\",\"id\":\"ev-5\",\"source\":\"shop\","
              "\"type\":\"payment.cod_confirm\",\"subject\":\"o-cod\"}"
              "\x1e"
              "{\"specversion\":\"1.0\",\"source\":\"shop\",\"type\":\"order.cancel\","
              "\"subject\":\"o-cod\",\"schemaversion\":1}");
    write_str("handle_event", "refund.jsonseq",
              "{\"specversion\":\"1.0\",\"id\":\"ev-6\",\"source\":\"payments\","
              "\"type\":\"payment.request_capture\",\"subject\":\"o-paid\"}"
              "\x1e"
              "{\"specversion\":\"1.0\",\"id\":\"ev-7\",\"source\":\"payments\","
              "\"type\":\"payment.capture_succeeded\",\"subject\":\"o-paid\"}"
              "\x1e"
              "{\"specversion\":\"1.0\",\"id\":\"ev-8\",\"source\":\"payments\","
              "\"type\":\"payment.refund\",\"subject\":\"o-paid\",\"data\":{\"amount\":500}}");
}

/* ---- aggregate and records, from a real engine ---------------------------- */

struct dump {
    const char *target;
    int n;
};

static void save_aggregate(fz_engine *f, const char *id, const char *name)
{
    orderly_ctx *ctx = NULL;
    orderly_buf *b = NULL;
    static uint8_t out[ORDERLY__ROOM_BYTES + 32];
    uint64_t version;
    size_t len;
    void *txn;

    if (orderly_ctx_new(&ctx, NULL) < 0 || orderly_buf_new(&b, NULL) < 0 ||
        f->st->begin(f->st, ctx, &txn) < 0 || f->st->load(f->st, ctx, txn, id, b, &version) < 0)
        exit(1);
    f->st->rollback(f->st, ctx, txn);
    len = orderly_buf_len(b);
    if (len > ORDERLY__ROOM_BYTES)
        exit(1);
    out[0] = (uint8_t)(strlen(id) - 1);
    memcpy(out + 1, id, strlen(id));
    memcpy(out + 1 + strlen(id), orderly_buf_data(b), len);
    write_file("aggregate", name, out, 1 + strlen(id) + len);
    orderly_buf_free(b);
    orderly_ctx_free(ctx);
}

/* Every queue row as a fuzz_records input: [which][kind][group length][group]
 * payload for events, [which] payload for timers and operations. */
static int save_row(const orderly_queue_item *it, void *user_data)
{
    const int *queue = user_data;
    static int seq;
    uint8_t out[ORDERLY__RECORD_MAX + 80];
    char name[32];
    size_t n = 0, gl = strlen(it->group);

    if (it->payload_len > ORDERLY__RECORD_MAX || gl > ORDERLY_ID_MAX)
        return 0;
    if (*queue == ORDERLY_QUEUE_OUTBOX) {
        out[n++] = 0;
        out[n++] = (uint8_t)it->kind;
        out[n++] = (uint8_t)gl;
        memcpy(out + n, it->group, gl);
        n += gl;
    } else {
        out[n++] = *queue == ORDERLY_QUEUE_TIMERS ? 1 : 2;
    }
    memcpy(out + n, it->payload, it->payload_len);
    n += it->payload_len;
    snprintf(name, sizeof name, "%s-%02d",
             *queue == ORDERLY_QUEUE_OUTBOX ? "event" : *queue == ORDERLY_QUEUE_TIMERS ? "timer" : "operation",
             ++seq);
    write_file("records", name, out, n);
    return 0;
}

static void save_rows(fz_engine *f, int queue, size_t max)
{
    orderly_ctx *ctx = NULL;
    void *txn;

    if (orderly_ctx_new(&ctx, NULL) < 0 || f->st->begin(f->st, ctx, &txn) < 0 ||
        f->st->queue_scan(f->st, ctx, txn, queue, -1, 0, max, save_row, &queue) < 0)
        exit(1);
    f->st->rollback(f->st, ctx, txn);
    orderly_ctx_free(ctx);
}

static void run(fz_world *w, const char *id, int m, int ev, uint32_t index, int64_t amount,
                orderly_time_ms now)
{
    orderly_command c;
    orderly_result res = ORDERLY_RESULT_INIT;

    memset(&c, 0, sizeof c);
    c.order_id = id;
    c.machine = m;
    c.event = ev;
    c.index = index;
    c.amount = amount;
    c.now = now;
    if (orderly_engine_apply(w->f.e, &c, &res) < 0) {
        fprintf(stderr, "mkcorpus: %s %d/%d: %s\n", id, m, ev, orderly_engine_errmsg(w->f.e));
        exit(1);
    }
}

static void aggregates(void)
{
    static fz_world w;
    static const orderly_line two[2] = { { 101, 1, 2, 500 }, { 202, 2, 1, 1000 } };
    static const orderly_line one[1] = { { 303, 1, 3, 250 } };
    orderly_time_ms now = FZ_T0;
    orderly_result res = ORDERLY_RESULT_INIT;
    uint32_t ri;

    memset(&w, 0, sizeof w);
    fz_open(&w.f);
    if (fz_create(&w, 0, "agg-new", ORDERLY_PAY_CARD, two, 2, 1, 40, NULL, now, &res) < 0 ||
        fz_create(&w, 1, "agg-cod", ORDERLY_PAY_COD, one, 1, 0, 0, NULL, now, &res) < 0 ||
        fz_create(&w, 2, "agg-done", ORDERLY_PAY_CARD, one, 1, 0, 0, NULL, now, &res) < 0 ||
        fz_create(&w, 3, "agg-cancel", ORDERLY_PAY_CARD, two, 2, 1, 10, NULL, now, &res) < 0)
        exit(1);
    save_aggregate(&w.f, "agg-new", "created-card");
    save_aggregate(&w.f, "agg-cod", "created-cod");

    /* agg-done: paid, picked, packed, shipped, delivered, a return opened */
    run(&w, "agg-done", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, 750, now);
    save_aggregate(&w.f, "agg-done", "authorized");
    run(&w, "agg-done", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 0, 0, now);
    run(&w, "agg-done", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PICKED, 0, 0, now);
    run(&w, "agg-done", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PACKING, 0, 0, now);
    run(&w, "agg-done", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PACKED, 0, 0, now);
    run(&w, "agg-done", ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_SHIP, 0, 0, now + FZ_HOUR);
    run(&w, "agg-done", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, now + FZ_HOUR);
    run(&w, "agg-done", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0, 0, now + FZ_HOUR);
    save_aggregate(&w.f, "agg-done", "shipped");
    run(&w, "agg-done", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 0, 0, now + FZ_HOUR);
    run(&w, "agg-done", ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_DELIVER, 0, 0, now + FZ_DAY);
    if (orderly_engine_open_return(w.f.e, &ri, "agg-done", 250, 0, NULL, now + 2 * FZ_DAY, &res) < 0) {
        fprintf(stderr, "mkcorpus: open_return: %s\n", orderly_engine_errmsg(w.f.e));
        exit(1);
    }
    save_aggregate(&w.f, "agg-done", "delivered-return");

    if (orderly_engine_cancel_order(w.f.e, "agg-cancel", NULL, now + FZ_MINUTE, &res) < 0)
        exit(1);
    save_aggregate(&w.f, "agg-cancel", "cancelled");
    fz_check(&w);

    /* the queue rows all that left behind: events, timers, operations */
    save_rows(&w.f, ORDERLY_QUEUE_OUTBOX, 3);
    save_rows(&w.f, ORDERLY_QUEUE_TIMERS, 2);
    save_rows(&w.f, ORDERLY_QUEUE_OPERATIONS, 3);
    fz_close(&w.f);
}

/* An outbox event that carries an inbound traceparent. */
static void traced_event(void)
{
    struct orderly__event_rec r;
    uint8_t out[ORDERLY__RECORD_MAX + 16];
    size_t n;

    memset(&r, 0, sizeof r);
    r.seq = 7;
    r.machine = ORDERLY_MACHINE_PAYMENT;
    r.from = ORDERLY_PAYMENT_CAPTURE_REQUESTED;
    r.to = ORDERLY_PAYMENT_CAPTURED;
    r.event = ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED;
    r.amount = 2000;
    r.time = FZ_T0;
    snprintf(r.trace, sizeof r.trace, "%s", TRACE);
    out[0] = 0;
    out[1] = 6;               /* payment.captured */
    out[2] = 4;
    memcpy(out + 3, "o-42", 4);
    if ((n = orderly__event_rec_encode(&r, out + 7, ORDERLY__RECORD_MAX)) == 0)
        exit(1);
    write_file("records", "event-traced", out, 7 + n);
}

/* ---- commands ------------------------------------------------------------ */

typedef struct prog {
    uint8_t b[512];
    size_t n;
} prog;

static void emit(prog *p, int n, ...)
{
    va_list ap;
    int i;

    va_start(ap, n);
    for (i = 0; i < n; i++)
        p->b[p->n++] = (uint8_t)va_arg(ap, int);
    va_end(ap);
}

/* Opcodes and operands as fuzz_commands.c reads them. */
static void p_create(prog *p, int slot, int cod, int promo)
{
    emit(p, 4, 0, slot | (cod ? 4 : 0) | (promo ? 8 : 0), 1, 0); /* two lines, derived key */
    emit(p, 5, 1, 1, 0, 0x01, 0xf4);                             /* x2 sku 101 wh 1 @500 */
    emit(p, 5, 0, 2, 1, 0x03, 0xe8);                             /* x1 sku 102 wh 2 @1000 */
}
static void p_apply(prog *p, int slot, int m, int ev, int index, int amount_sel)
{
    emit(p, 7, 2, slot, m - 1, ev, index, amount_sel, 0);
}
static void p_cancel(prog *p, int slot) { emit(p, 3, 4, 0 | slot << 2, 0); }
static void p_capture(prog *p, int slot) { emit(p, 3, 4, 1 | slot << 2, 0); }
static void p_return(prog *p, int slot, int exchange, int amount_sel)
{
    emit(p, 4, 4, 2 | slot << 2 | exchange << 4, 0, amount_sel);
}
static void p_bg(prog *p, int kind) { emit(p, 2, 5, kind); }
static void p_time(prog *p, int step) { emit(p, 2, 6, step); }

static void commands(void)
{
    prog p;

    /* card: authorize the total, ship, deliver, return, refund, then time passes */
    memset(&p, 0, sizeof p);
    p_create(&p, 0, 0, 1);
    p_apply(&p, 0, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, 1);
    emit(&p, 1, 7);                                    /* redeliver */
    p_apply(&p, 0, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 0, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PICKED, 0, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PACKING, 0, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PACKED, 0, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_SHIP, 0, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, 1, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PICKED, 1, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PACKING, 1, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PACKED, 1, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_SHIP, 1, 0);
    p_capture(&p, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0, 0);
    p_bg(&p, 0);
    p_bg(&p, 2);
    p_apply(&p, 0, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 0, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_DELIVER, 0, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, 1, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_DELIVER, 1, 0);
    p_return(&p, 0, 0, 2);
    p_apply(&p, 0, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, 0, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, 0, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, 0, 0);
    p_apply(&p, 0, ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, 0, 2);
    p_bg(&p, 2);
    p_time(&p, 8);
    p_bg(&p, 1);
    p_bg(&p, 0);
    write_file("commands", "card-lifecycle", p.b, p.n);

    /* COD and card side by side; timers expire the unpaid card order */
    memset(&p, 0, sizeof p);
    p_create(&p, 1, 1, 0);
    p_create(&p, 2, 0, 1);
    p_apply(&p, 1, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_COD_CONFIRM, 0, 0);
    p_time(&p, 3);
    p_bg(&p, 1);
    p_bg(&p, 2);
    p_time(&p, 6);
    p_bg(&p, 1);
    p_bg(&p, 0);
    p_bg(&p, 3);
    write_file("commands", "cod-and-expiry", p.b, p.n);

    /* faults: a failing save, a refused publish, failing executors, cancel */
    memset(&p, 0, sizeof p);
    p_create(&p, 3, 0, 1);
    emit(&p, 3, 8, 1 | (ORDERLY_METHOD_SAVE << 1), 0);
    p_apply(&p, 3, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, 1);
    p_apply(&p, 3, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, 1);
    emit(&p, 1, 9);                                    /* executors fail */
    p_cancel(&p, 3);
    emit(&p, 3, 8, 2, 0);                              /* the next publish is refused */
    p_bg(&p, 0);
    p_bg(&p, 2);
    p_time(&p, 2);
    emit(&p, 1, 9);                                    /* executors work again */
    p_bg(&p, 2);
    p_bg(&p, 0);
    write_file("commands", "faults-and-cancel", p.b, p.n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR   (writes DIR/corpus/<target>/ and DIR/envelope.dict)\n",
                argv[0]);
        return 2;
    }
    root = argv[1];
    envelopes();
    dictionary();
    webhooks();
    events();
    aggregates();
    traced_event();
    commands();
    return 0;
}
