/*
 * The in-memory store's idempotency marks past the first few thousand:
 * they move in batches from a small map into a large one behind a bit
 * filter, and every answer must stay what one map gave. Driven through the
 * storage vtable, with more marks than several batches hold.
 */
#include <stdio.h>
#include <string.h>

#include "orderly/sys/memory.h"
#include "orderly/sys/storage.h"
#include "unit_main.h"

#define MARKS 20000          /* several batches of the small map */

struct fx {
    orderly_storage *s;
    orderly_buf *buf;
};

static void fx_open(struct fx *f)
{
    ck_assert_int_eq(orderly_memory_storage_new(&f->s, NULL), 0);
    ck_assert_int_eq(orderly_buf_new(&f->buf, NULL), 0);
}

static void fx_close(struct fx *f)
{
    orderly_buf_free(f->buf);
    orderly_memory_storage_free(f->s);
}

static void key_of(char *key, size_t n, const char *prefix, size_t i)
{
    snprintf(key, n, "%s-%zu", prefix, i);
}

/* Marks key with a result naming it, expiring at expires, in its own
 * committed transaction; the put's code. */
static int put(struct fx *f, const char *key, orderly_time_ms now, orderly_time_ms expires)
{
    orderly_idem_record rec;
    void *txn;
    int rc;

    memset(&rec, 0, sizeof rec);
    rec.fingerprint[0] = (uint8_t)key[0];
    rec.expires = expires;
    rec.result = (const uint8_t *)key;
    rec.result_len = strlen(key);
    ck_assert_int_eq(f->s->begin(f->s, NULL, &txn), 0);
    rc = f->s->idem_put(f->s, NULL, txn, key, now, &rec);
    if (rc < 0) {
        f->s->rollback(f->s, NULL, txn);
        return rc;
    }
    ck_assert_int_eq(f->s->commit(f->s, NULL, txn), 0);
    return rc;
}

/* idem_get's code for key at now; on a hit the stored result must be the key. */
static int get(struct fx *f, const char *key, orderly_time_ms now)
{
    orderly_idem_record rec;
    void *txn;
    int rc;

    ck_assert_int_eq(f->s->begin(f->s, NULL, &txn), 0);
    rc = f->s->idem_get(f->s, NULL, txn, key, now, &rec, f->buf);
    if (rc == 0) {
        ck_assert_uint_eq(rec.result_len, strlen(key));
        ck_assert(memcmp(rec.result, key, rec.result_len) == 0);
    }
    f->s->rollback(f->s, NULL, txn);
    return rc;
}

START_TEST(every_mark_is_found_after_the_batches_move)
{
    struct fx f;
    char key[32];
    size_t i;

    fx_open(&f);
    for (i = 0; i < MARKS; i++) {
        key_of(key, sizeof key, "k", i);
        ck_assert_int_eq(put(&f, key, 1000, 100000), 0);
    }
    for (i = 0; i < MARKS; i++) {
        key_of(key, sizeof key, "k", i);
        ck_assert_int_eq(get(&f, key, 2000), 0);
        ck_assert_int_eq(put(&f, key, 2000, 100000), ORDERLY_EEXISTS);
    }
    fx_close(&f);
}
END_TEST

START_TEST(keys_never_marked_are_not_found)
{
    struct fx f;
    char key[32];
    size_t i;

    fx_open(&f);
    for (i = 0; i < MARKS; i++) {
        key_of(key, sizeof key, "k", i);
        ck_assert_int_eq(put(&f, key, 1000, 100000), 0);
    }
    for (i = 0; i < MARKS; i++) {
        key_of(key, sizeof key, "other", i);
        ck_assert_int_eq(get(&f, key, 2000), ORDERLY_ENOTFOUND);
    }
    fx_close(&f);
}
END_TEST

START_TEST(an_expired_old_mark_is_replaced)
{
    struct fx f;
    char key[32];
    size_t i;

    fx_open(&f);
    for (i = 0; i < MARKS; i++) {
        key_of(key, sizeof key, "k", i);
        ck_assert_int_eq(put(&f, key, 1000, 5000), 0);
    }
    /* k-0 went to the large map with the first batch */
    ck_assert_int_eq(get(&f, "k-0", 6000), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(put(&f, "k-0", 6000, 100000), 0);
    ck_assert_int_eq(get(&f, "k-0", 7000), 0);
    ck_assert_int_eq(put(&f, "k-0", 7000, 100000), ORDERLY_EEXISTS);
    fx_close(&f);
}
END_TEST

START_TEST(purge_removes_expired_marks_from_both_maps)
{
    struct fx f;
    char key[32];
    void *txn;
    size_t i;

    fx_open(&f);
    for (i = 0; i < MARKS; i++) {
        key_of(key, sizeof key, "k", i);
        /* even keys lapse at 5000, odd ones live on */
        ck_assert_int_eq(put(&f, key, 1000, i % 2 == 0 ? 5000 : 100000), 0);
    }
    ck_assert_int_eq(f.s->begin(f.s, NULL, &txn), 0);
    ck_assert_int_eq(f.s->idem_purge(f.s, NULL, txn, 6000, MARKS), MARKS / 2);
    ck_assert_int_eq(f.s->commit(f.s, NULL, txn), 0);
    for (i = 0; i < MARKS; i++) {
        key_of(key, sizeof key, "k", i);
        ck_assert_int_eq(get(&f, key, 1000), i % 2 == 0 ? ORDERLY_ENOTFOUND : 0);
    }
    fx_close(&f);
}
END_TEST

START_TEST(a_put_open_while_batches_move_commits)
{
    struct fx f;
    orderly_idem_record rec;
    char key[32];
    void *txn;
    size_t i;

    fx_open(&f);
    memset(&rec, 0, sizeof rec);
    rec.expires = 100000;
    rec.result = (const uint8_t *)"late";
    rec.result_len = 4;
    /* the put's place in the small map goes stale as batches move */
    ck_assert_int_eq(f.s->begin(f.s, NULL, &txn), 0);
    ck_assert_int_eq(f.s->idem_put(f.s, NULL, txn, "late", 1000, &rec), 0);
    for (i = 0; i < MARKS; i++) {
        key_of(key, sizeof key, "k", i);
        ck_assert_int_eq(put(&f, key, 1000, 100000), 0);
    }
    ck_assert_int_eq(f.s->commit(f.s, NULL, txn), 0);
    ck_assert_int_eq(get(&f, "late", 2000), 0);
    for (i = 0; i < MARKS; i++) {
        key_of(key, sizeof key, "k", i);
        ck_assert_int_eq(get(&f, key, 2000), 0);
    }
    fx_close(&f);
}
END_TEST

static Suite *marks_suite(void)
{
    Suite *s = suite_create("memory_marks");

    orderly_test_case(s, every_mark_is_found_after_the_batches_move, UNIT_TIMEOUT);
    orderly_test_case(s, keys_never_marked_are_not_found, UNIT_TIMEOUT);
    orderly_test_case(s, an_expired_old_mark_is_replaced, UNIT_TIMEOUT);
    orderly_test_case(s, purge_removes_expired_marks_from_both_maps, UNIT_TIMEOUT);
    orderly_test_case(s, a_put_open_while_batches_move_commits, UNIT_TIMEOUT);
    return s;
}

int main(void)
{
    Suite *suites[] = { marks_suite(), NULL };

    return unit_run(suites);
}
