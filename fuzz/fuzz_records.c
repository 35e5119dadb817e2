/*
 * The queue record decoders (lib/wire/record.h: outbox events, timers,
 * operations) on arbitrary payloads, as a broken or hostile
 * store could hand them back. Whatever decodes must encode again and decode
 * from that to the same record.
 *
 * Input layout: [which: 0 event, 1 timer, 2 operation (mod 3)], then for an
 * event [kind][group length][group], then the payload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/record.h"

static void broken(const char *what)
{
    fprintf(stderr, "record round trip: %s\n", what);
    abort();
}

/* line memory for the biggest records the core writes */
static struct orderly__event_line ev_a[ORDERLY_LINES_MAX], ev_b[ORDERLY_LINES_MAX];
static uint64_t sku_a[ORDERLY_LINES_MAX], sku_b[ORDERLY_LINES_MAX];
static uint32_t wh_a[ORDERLY_LINES_MAX], wh_b[ORDERLY_LINES_MAX];
static uint32_t qty_a[ORDERLY_LINES_MAX], qty_b[ORDERLY_LINES_MAX];
static uint8_t big[64 * ORDERLY_LINES_MAX + ORDERLY__RECORD_MAX];

static void event(const uint8_t *data, size_t size)
{
    struct orderly__event_rec a, b;
    char group[ORDERLY_ID_MAX + 1];
    uint32_t kind;
    size_t n, len, i;

    if (size < 2)
        return;
    kind = data[0];
    n = data[1] % (ORDERLY_ID_MAX + 1);
    if (size - 2 < n)
        return;
    memcpy(group, data + 2, n);
    group[n] = '\0';
    data += 2 + n;
    size -= 2 + n;
    a.lines = ev_a;
    a.cap_lines = ORDERLY_LINES_MAX;
    b.lines = ev_b;
    b.cap_lines = ORDERLY_LINES_MAX;
    if (orderly__event_rec_decode(&a, kind, group, data, size) < 0)
        return;
    if ((len = orderly__event_rec_encode(&a, big, sizeof big)) == 0)
        broken("a decoded event does not encode");
    if (orderly__event_rec_decode(&b, kind, group, big, len) < 0)
        broken("a re-encoded event does not decode");
    if (a.n_lines != b.n_lines || strcmp(a.currency, b.currency) != 0)
        broken("an event's lines changed");
    for (i = 0; i < a.n_lines; i++)
        if (a.lines[i].line != b.lines[i].line || a.lines[i].sku != b.lines[i].sku ||
            a.lines[i].quantity != b.lines[i].quantity || a.lines[i].unit_price != b.lines[i].unit_price)
            broken("an event's line changed");
    if (a.seq != b.seq || memcmp(a.id, b.id, sizeof a.id) != 0 || a.machine != b.machine ||
        a.index != b.index || a.from != b.from || a.to != b.to || a.event != b.event ||
        a.amount != b.amount || a.time != b.time || strcmp(a.trace, b.trace) != 0)
        broken("an event changed");
}

static void timer(const uint8_t *data, size_t size)
{
    struct orderly__timer_rec a, b;
    uint8_t buf[ORDERLY__RECORD_MAX];
    size_t len;

    if (orderly__timer_rec_decode(&a, data, size) < 0)
        return;
    if ((len = orderly__timer_rec_encode(&a, buf, sizeof buf)) == 0)
        broken("a decoded timer does not encode");
    if (orderly__timer_rec_decode(&b, buf, len) < 0)
        broken("a re-encoded timer does not decode");
    if (strcmp(a.order_id, b.order_id) != 0 || a.timer != b.timer || a.machine != b.machine ||
        a.index != b.index || a.event != b.event)
        broken("a timer changed");
}

static void operation(const uint8_t *data, size_t size)
{
    struct orderly__operation_rec a, b;
    size_t len, i;

    a.sku = sku_a;
    a.warehouse = wh_a;
    a.quantity = qty_a;
    a.cap_lines = ORDERLY_LINES_MAX;
    b.sku = sku_b;
    b.warehouse = wh_b;
    b.quantity = qty_b;
    b.cap_lines = ORDERLY_LINES_MAX;
    if (orderly__operation_rec_decode(&a, data, size) < 0)
        return;
    if ((len = orderly__operation_rec_encode(&a, big, sizeof big)) == 0)
        broken("a decoded operation does not encode");
    if (orderly__operation_rec_decode(&b, big, len) < 0)
        broken("a re-encoded operation does not decode");
    if (strcmp(a.order_id, b.order_id) != 0 || memcmp(a.key, b.key, sizeof a.key) != 0 ||
        a.op != b.op || a.index != b.index || a.lines != b.lines || a.amount != b.amount ||
        a.n_lines != b.n_lines)
        broken("an operation changed");
    for (i = 0; i < a.n_lines; i++)
        if (a.sku[i] != b.sku[i] || a.warehouse[i] != b.warehouse[i] ||
            a.quantity[i] != b.quantity[i])
            broken("an operation's lines changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: event(data + 1, size - 1); break;
    case 1: timer(data + 1, size - 1); break;
    default: operation(data + 1, size - 1); break;
    }
    return 0;
}
