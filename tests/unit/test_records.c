/*
 * The outbox event row (lib/wire/record.c): format 3 carries the lines
 * and currency of the snapshot; a format 2 row (staged before lines were
 * carried) still decodes, as schemaversion 1; rows the engine could not
 * have written are refused.
 */
#include <string.h>

#include "unit_main.h"
#include "../../lib/base/codec.h"
#include "../../lib/wire/record.h"

/* line memory of records, for up to ORDERLY_LINES_MAX lines */
static struct orderly__event_line lines_a[ORDERLY_LINES_MAX], lines_b[ORDERLY_LINES_MAX];
static uint8_t big[64 * ORDERLY_LINES_MAX + ORDERLY__RECORD_MAX];

static struct orderly__event_rec sample(uint32_t n_lines)
{
    struct orderly__event_rec r;
    uint32_t i;

    memset(&r, 0, sizeof r);
    r.lines = lines_a;
    r.cap_lines = ORDERLY_LINES_MAX;
    r.seq = 7;
    r.machine = 1;
    r.to = 2;
    r.amount = 2000;
    r.time = 1700000000000LL;
    memcpy(r.currency, "EUR", 4);
    r.n_lines = n_lines;
    for (i = 0; i < n_lines; i++) {
        r.lines[i].line = i;
        r.lines[i].sku = UINT64_MAX - i;
        r.lines[i].warehouse = UINT32_MAX;
        r.lines[i].quantity = ORDERLY_QUANTITY_MAX;
        r.lines[i].unit_price = ORDERLY_UNIT_PRICE_MAX;
    }
    return r;
}

static struct orderly__event_rec empty(uint32_t cap)
{
    struct orderly__event_rec r;

    memset(&r, 0, sizeof r);
    r.lines = lines_b;
    r.cap_lines = cap;
    return r;
}

/* An event of the most lines an order may have survives its row, each
 * line at the widest of its fields. */
START_TEST(lines_and_currency_survive_the_row)
{
    struct orderly__event_rec r = sample(ORDERLY_LINES_MAX), back = empty(ORDERLY_LINES_MAX);
    size_t len;

    ck_assert_uint_le(orderly__event_rec_max(ORDERLY_LINES_MAX), sizeof big);
    len = orderly__event_rec_encode(&r, big, orderly__event_rec_max(ORDERLY_LINES_MAX));
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(orderly__event_rec_decode(&back, 1, "o1", big, len), 0);
    ck_assert_uint_eq(back.schema, 2);
    ck_assert_str_eq(back.currency, "EUR");
    ck_assert_uint_eq(back.n_lines, ORDERLY_LINES_MAX);
    ck_assert_uint_eq(back.lines[ORDERLY_LINES_MAX - 1].line, ORDERLY_LINES_MAX - 1);
    ck_assert(back.lines[ORDERLY_LINES_MAX - 1].sku == UINT64_MAX - (ORDERLY_LINES_MAX - 1));
    ck_assert_uint_eq(back.lines[15].warehouse, UINT32_MAX);
    ck_assert_uint_eq(back.lines[15].quantity, ORDERLY_QUANTITY_MAX);
    ck_assert_int_eq(back.lines[15].unit_price, ORDERLY_UNIT_PRICE_MAX);
    ck_assert_int_eq(back.amount, 2000);
}
END_TEST

/* A reader whose line memory is shorter than the row's lines (an engine
 * configured for smaller orders) is told so, and writes past nothing. */
START_TEST(decoder_refuses_more_lines_than_it_holds)
{
    struct orderly__event_rec r = sample(40), back = empty(39);
    size_t len = orderly__event_rec_encode(&r, big, sizeof big);

    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(orderly__event_rec_decode(&back, 1, "o1", big, len), ORDERLY_ENOTSUPPORTED);
    back = empty(40);
    ck_assert_int_eq(orderly__event_rec_decode(&back, 1, "o1", big, len), 0);
    ck_assert_uint_eq(back.n_lines, 40);
}
END_TEST

START_TEST(format_2_row_decodes_as_schemaversion_1)
{
    uint8_t buf[64], *w = buf;
    struct orderly__event_rec back = empty(1);

    w = orderly__put_u64(w, 2);  /* format 2: no currency, no lines */
    w = orderly__put_u64(w, 3);  /* seq */
    w = orderly__put_u64(w, 1);  /* machine */
    w = orderly__put_u64(w, 0);  /* index */
    w = orderly__put_u64(w, 1);  /* from */
    w = orderly__put_u64(w, 2);  /* to */
    w = orderly__put_u64(w, 5);  /* event */
    w = orderly__put_i64(w, 500);
    w = orderly__put_i64(w, 1000);
    w = orderly__put_u64(w, 0);  /* no traceparent */
    ck_assert_int_eq(orderly__event_rec_decode(&back, 1, "o1", buf, (size_t)(w - buf)), 0);
    ck_assert_uint_eq(back.schema, 1);
    ck_assert_uint_eq(back.n_lines, 0);
    ck_assert_str_eq(back.currency, "");
    ck_assert_int_eq(back.amount, 500);
    ck_assert_uint_eq(back.seq, 3);
}
END_TEST

START_TEST(encoder_refuses_what_the_engine_never_holds)
{
    struct orderly__event_rec r = sample(1);
    uint8_t buf[ORDERLY__RECORD_MAX];

    r.lines[0].unit_price = -1;
    ck_assert_uint_eq(orderly__event_rec_encode(&r, buf, sizeof buf), 0);
    r = sample(1);
    r.lines[0].quantity = ORDERLY_QUANTITY_MAX + 1;
    ck_assert_uint_eq(orderly__event_rec_encode(&r, buf, sizeof buf), 0);
    r = sample(1);
    r.n_lines = ORDERLY_LINES_MAX + 1;
    ck_assert_uint_eq(orderly__event_rec_encode(&r, buf, sizeof buf), 0);
    r = sample(1);
    ck_assert_uint_eq(orderly__event_rec_encode(&r, buf, orderly__event_rec_max(1) - 1), 0);
    ck_assert_uint_gt(orderly__event_rec_encode(&r, buf, orderly__event_rec_max(1)), 0);
}
END_TEST

START_TEST(decoder_refuses_a_line_out_of_bounds)
{
    struct orderly__event_rec r = sample(1), back = empty(1);
    uint8_t buf[ORDERLY__RECORD_MAX];
    size_t len = orderly__event_rec_encode(&r, buf, sizeof buf);

    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(orderly__event_rec_decode(&back, 1, "o1", buf, len - 1), ORDERLY_ESTORAGE);
    buf[0] = 4; /* a format this library does not know */
    ck_assert_int_eq(orderly__event_rec_decode(&back, 1, "o1", buf, len), ORDERLY_ESTORAGE);
}
END_TEST

static Suite *records_suite(void)
{
    Suite *s = suite_create("records");

    orderly_test_case(s, lines_and_currency_survive_the_row, UNIT_TIMEOUT);
    orderly_test_case(s, decoder_refuses_more_lines_than_it_holds, UNIT_TIMEOUT);
    orderly_test_case(s, format_2_row_decodes_as_schemaversion_1, UNIT_TIMEOUT);
    orderly_test_case(s, encoder_refuses_what_the_engine_never_holds, UNIT_TIMEOUT);
    orderly_test_case(s, decoder_refuses_a_line_out_of_bounds, UNIT_TIMEOUT);
    return s;
}

int main(void)
{
    Suite *suites[] = { records_suite(), NULL };

    return unit_run(suites);
}
