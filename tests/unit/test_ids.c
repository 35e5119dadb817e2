/*
 * The internal encodings whose bytes are persisted or published: derived
 * keys (base64url), ids (hex, natural ids), and the two varint writers,
 * which must agree byte for byte. Expected values are written out, not
 * computed by the code under test.
 */
#include <string.h>

#include "../../lib/engine/internal.h"
#include "../../lib/base/codec.h"
#include "orderly/envelope.h"
#include "unit_main.h"

START_TEST(b64url16_vectors)
{
    static const struct {
        uint8_t in[16];
        const char *out;
    } cases[] = {
        /* RFC 4648 alphabet, URL-safe, unpadded: "AAECAwQFBgcICQoLDA0ODw==" unpadded */
        { { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 }, "AAECAwQFBgcICQoLDA0ODw" },
        /* all ones: '/' and '+' of base64 become '_' and '-' */
        { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff },
          "_____________________w" },
        { { 0xfb, 0xef, 0xbe, 0xfb, 0xef, 0xbe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03 },
          "--------AAAAAAAAAAAAAw" },
    };
    char out[23];
    size_t i;

    for (i = 0; i < COUNT_OF(cases); i++) {
        memset(out, 'x', sizeof out);
        orderly__b64url16(out, cases[i].in);
        ck_assert_str_eq(out, cases[i].out);
        ck_assert_uint_eq(strlen(out), 22);
    }
}
END_TEST

START_TEST(hex_vector)
{
    static const uint8_t in[4] = { 0x00, 0x9f, 0xa0, 0xff };
    char out[9];

    orderly__hex(out, in, sizeof in);
    ck_assert_str_eq(out, "009fa0ff");
}
END_TEST

START_TEST(natural_id_is_the_pinned_derivation)
{
    static const struct {
        const char *order;
        uint32_t seq;
        const char *natural;
    } cases[] = {
        { "o1", 0, "o1/0" },
        { "ord-42", 7, "ord-42/7" },
        { "x", 4294967295u, "x/4294967295" },
    };
    char want[ORDERLY_EVENT_ID_SIZE], got[33];
    uint8_t id[16];
    size_t i;

    for (i = 0; i < COUNT_OF(cases); i++) {
        ck_assert_int_eq(orderly_event_derive_id(want, "order.status_changed", cases[i].natural), 0);
        orderly__natural_id(id, "order.status_changed", cases[i].order, cases[i].seq);
        orderly__hex(got, id, 16);
        ck_assert_str_eq(got, want);
    }
}
END_TEST

/* The unchecked writer the aggregate uses and the checked one every other
 * record uses must produce the same bytes. */
START_TEST(varint_writers_agree)
{
    static const uint64_t u[] = { 0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 1700000000000ull,
                                  UINT32_MAX, UINT64_MAX };
    static const int64_t s[] = { 0, -1, 1, -64, 63, 64, INT64_MIN, INT64_MAX, -1700000000000ll };
    uint8_t a[ORDERLY__VARINT_MAX], b[ORDERLY__VARINT_MAX];
    size_t i;

    for (i = 0; i < COUNT_OF(u); i++) {
        struct orderly__wr w = { b, sizeof b, 0, 0 };
        size_t n = (size_t)(orderly__put_u64(a, u[i]) - a);
        orderly__wr_u64(&w, u[i]);
        ck_assert_uint_eq(n, w.len);
        ck_assert_int_eq(w.overflow, 0);
        ck_assert_mem_eq(a, b, n);
    }
    for (i = 0; i < COUNT_OF(s); i++) {
        struct orderly__wr w = { b, sizeof b, 0, 0 };
        size_t n = (size_t)(orderly__put_i64(a, s[i]) - a);
        orderly__wr_i64(&w, s[i]);
        ck_assert_uint_eq(n, w.len);
        ck_assert_mem_eq(a, b, n);
    }
    ck_assert_uint_eq((size_t)(orderly__put_u64(a, UINT64_MAX) - a), ORDERLY__VARINT_MAX);
}
END_TEST

START_TEST(aggregate_encoder_refuses_a_short_buffer)
{
    static struct orderly__agg a, back;
    static struct orderly__agg_room ra, rb;
    static uint8_t buf[ORDERLY__ROOM_BYTES];
    size_t len;

    orderly__agg_in_room(&a, &ra);
    orderly__agg_in_room(&back, &rb);
    memcpy(a.currency, "EUR", 4);
    a.order_state = 1;
    a.payment_state = 1;
    a.created = 1700000000000;
    a.n_lines = 1;
    a.lines[0].quantity = 2;
    a.lines[0].since = a.created;
    ck_assert_uint_eq(orderly__agg_encode(&a, buf, orderly__agg_max_bytes(a.cap_lines) - 1), 0);
    len = orderly__agg_encode(&a, buf, sizeof buf);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, len), 0);
    ck_assert_int_eq(back.created, a.created);
    ck_assert_uint_eq(back.lines[0].quantity, 2);
    a.n_ret = ORDERLY_PARTS_MAX + 1;
    ck_assert_uint_eq(orderly__agg_encode(&a, buf, sizeof buf), 0);
}
END_TEST

/* A stored record is input too: times and line amounts out of range are
 * a malformed record, never an overflow (found by fuzz/fuzz_aggregate). */
START_TEST(aggregate_decoder_bounds_times_and_prices)
{
    static struct orderly__agg a, back;
    static struct orderly__agg_room ra, rb;
    static uint8_t buf[ORDERLY__ROOM_BYTES];
    size_t len;

    orderly__agg_in_room(&a, &ra);
    orderly__agg_in_room(&back, &rb);
    memcpy(a.currency, "EUR", 3);
    a.created = ORDERLY_TIME_MAX;
    a.order_since = ORDERLY_TIME_MAX;
    a.n_lines = 1;
    a.lines[0].quantity = ORDERLY_QUANTITY_MAX;
    a.lines[0].unit_price = ORDERLY_UNIT_PRICE_MAX;
    a.lines[0].since = ORDERLY_TIME_MAX;
    len = orderly__agg_encode(&a, buf, sizeof buf);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, len), 0);
    a.lines[0].unit_price = ORDERLY_UNIT_PRICE_MAX + 1;
    len = orderly__agg_encode(&a, buf, sizeof buf);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, len), ORDERLY_ESTORAGE);
    a.lines[0].unit_price = 1;
    a.lines[0].quantity = ORDERLY_QUANTITY_MAX + 1;
    len = orderly__agg_encode(&a, buf, sizeof buf);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, len), ORDERLY_ESTORAGE);
    a.lines[0].quantity = 1;
    a.created = -1;
    a.order_since = -1;
    a.lines[0].since = -1;
    len = orderly__agg_encode(&a, buf, sizeof buf);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, len), ORDERLY_ESTORAGE);
    /* a delta that would carry created past INT64_MAX */
    a.created = ORDERLY_TIME_MAX;
    a.order_since = ORDERLY_TIME_MAX;
    a.lines[0].since = INT64_MIN + ORDERLY_TIME_MAX; /* stored as since - created */
    len = orderly__agg_encode(&a, buf, sizeof buf);
    ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, len), ORDERLY_ESTORAGE);
}
END_TEST

/* A record with negative money is corrupt: the engine subtracts refunds
 * from captures, and INT64_MIN there overflowed (found by fuzz_aggregate). */
START_TEST(aggregate_decoder_refuses_negative_money)
{
    static struct orderly__agg a, back;
    static struct orderly__agg_room ra, rb;
    static uint8_t buf[ORDERLY__ROOM_BYTES];
    int64_t *money[] = { &a.total, &a.authorized, &a.captured, &a.refunded, &a.loyalty_points };
    size_t i, len;

    orderly__agg_in_room(&back, &rb);
    for (i = 0; i < sizeof money / sizeof money[0]; i++) {
        orderly__agg_in_room(&a, &ra);
        memcpy(a.currency, "EUR", 3);
        a.n_lines = 1;
        a.lines[0].quantity = 1;
        len = orderly__agg_encode(&a, buf, sizeof buf);
        ck_assert_int_eq(orderly__agg_decode(&back, "o1", buf, len), 0);
        *money[i] = INT64_MIN;
        len = orderly__agg_encode(&a, buf, sizeof buf);
        ck_assert_msg(orderly__agg_decode(&back, "o1", buf, len) == ORDERLY_ESTORAGE,
                      "money field %zu", i);
    }
}
END_TEST

static Suite *ids_suite(void)
{
    Suite *s = suite_create("ids");

    orderly_test_case(s, b64url16_vectors, UNIT_TIMEOUT);
    orderly_test_case(s, hex_vector, UNIT_TIMEOUT);
    orderly_test_case(s, natural_id_is_the_pinned_derivation, UNIT_TIMEOUT);
    orderly_test_case(s, varint_writers_agree, UNIT_TIMEOUT);
    orderly_test_case(s, aggregate_encoder_refuses_a_short_buffer, UNIT_TIMEOUT);
    orderly_test_case(s, aggregate_decoder_bounds_times_and_prices, UNIT_TIMEOUT);
    orderly_test_case(s, aggregate_decoder_refuses_negative_money, UNIT_TIMEOUT);
    return s;
}

int main(void)
{
    Suite *suites[] = { ids_suite(), NULL };

    return unit_run(suites);
}
