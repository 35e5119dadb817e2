/*
 * The SQLite storage adapter: opening and migrating files, the vtable
 * contract checked directly and against the in-memory adapter (the
 * oracle) on random operation sequences, two connections on one file, the
 * engine running on it, and a writer killed at arbitrary instants.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../check_case.h"
#include "base/buf.h"
#include "base/ctx.h"
#include "orderly/engine.h"
#include "orderly/outbox.h"
#include "orderly/payment.h"
#include "orderly/sys/memory.h"
#include "orderly/sys/sqlite.h"

#define T0 1700000000000LL

/* ---- helpers ------------------------------------------------------------ */

#include "scratch.h"

static orderly_storage *open_ok(const char *path, orderly_ctx *ctx)
{
    orderly_storage *s = NULL;
    int rc = orderly_sqlite_storage_open(&s, path, NULL, ctx);

    ck_assert_msg(rc == 0, "open %s: %d %s", path, rc, orderly_ctx_errmsg(ctx));
    return s;
}

static void *begin(orderly_storage *s, orderly_ctx *ctx)
{
    void *t = NULL;
    int rc = s->begin(s, ctx, &t);

    ck_assert_msg(rc == 0, "begin: %d %s", rc, orderly_ctx_errmsg(ctx));
    return t;
}

static void commit(orderly_storage *s, orderly_ctx *ctx, void *t)
{
    int rc = s->commit(s, ctx, t);

    ck_assert_msg(rc == 0, "commit: %d %s", rc, orderly_ctx_errmsg(ctx));
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;

    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;

    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static orderly_queue_item item_of(const char *group, uint32_t kind, const char *payload,
                                  orderly_time_ms created, orderly_time_ms due)
{
    orderly_queue_item it;

    memset(&it, 0, sizeof it);
    it.group = group;
    it.kind = kind;
    it.payload = (const uint8_t *)payload;
    it.payload_len = strlen(payload);
    it.created = created;
    it.due = due;
    return it;
}

/* Items passed to a callback, copied out. */
struct seen {
    size_t n;
    uint64_t id[64];
    uint32_t state[64], attempts[64];
    char group[64][16];
    char payload[64][32];
    uint64_t token[64];
    uint64_t issued;         /* the token the claim was issued, 0 when none */
};

static int see(const orderly_queue_item *it, void *ud)
{
    struct seen *s = ud;

    ck_assert_uint_lt(s->n, 64);
    s->id[s->n] = it->id;
    s->state[s->n] = it->state;
    s->attempts[s->n] = it->attempts;
    s->token[s->n] = it->lease_token;
    snprintf(s->group[s->n], sizeof s->group[s->n], "%s", it->group);
    snprintf(s->payload[s->n], sizeof s->payload[s->n], "%.*s", (int)it->payload_len,
             (const char *)it->payload);
    s->n++;
    return 0;
}

static uint64_t push(orderly_storage *s, orderly_ctx *ctx, void *t, int queue, const char *group,
                     const char *payload, orderly_time_ms due)
{
    orderly_queue_item it = item_of(group, 7, payload, T0, due);
    uint64_t id = 0;

    ck_assert_int_eq(s->queue_push(s, ctx, t, queue, &it, &id), 0);
    return id;
}

static int claim(orderly_storage *s, orderly_ctx *ctx, int queue, orderly_time_ms now, size_t max,
                 struct seen *out)
{
    void *t = begin(s, ctx);
    int n;

    memset(out, 0, sizeof *out);
    n = s->queue_claim(s, ctx, t, queue, now, max, 10, now + 1000, &out->issued, see, out);
    ck_assert_msg(n >= 0, "claim: %d %s", n, orderly_ctx_errmsg(ctx));
    commit(s, ctx, t);
    return n;
}

/* ---- opening, migrating, refusing ---------------------------------------- */

START_TEST(test_create_and_reopen_persists)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s;
    orderly_allocator a;
    orderly_buf b;
    orderly_idem_record rec, got;
    struct seen seen;
    uint64_t version = 0, id;
    void *t;

    make_dir();
    orderly__alloc_default(&a);
    orderly__buf_init(&b, &a);
    s = open_ok(db_path("a.db"), ctx);
    ck_assert_int_eq(s->version, ORDERLY_STORAGE_VERSION);
    t = begin(s, ctx);
    ck_assert_int_eq(s->save(s, ctx, t, "order-1", (const uint8_t *)"hello", 5, 0), 0);
    id = push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "order-1", "ev1", T0);
    ck_assert_uint_eq(id, 1);
    memset(&rec, 0, sizeof rec);
    memset(rec.fingerprint, 0xab, sizeof rec.fingerprint);
    rec.expires = T0 + 1000;
    rec.result = (const uint8_t *)"first";
    rec.result_len = 5;
    ck_assert_int_eq(s->idem_put(s, ctx, t, "key-1", T0, &rec), 0);
    commit(s, ctx, t);
    orderly_sqlite_storage_close(s);

    s = open_ok(db_path("a.db"), ctx);
    t = begin(s, ctx);
    ck_assert_int_eq(s->load(s, ctx, t, "order-1", &b, &version), 0);
    ck_assert_uint_eq(version, 1);
    ck_assert_mem_eq(orderly_buf_data(&b), "hello", 5);
    ck_assert_int_eq(s->idem_get(s, ctx, t, "key-1", T0, &got, &b), 0);
    ck_assert_mem_eq(got.fingerprint, rec.fingerprint, 16);
    ck_assert_int_eq(got.expires, T0 + 1000);
    ck_assert_uint_eq(got.result_len, 5);
    ck_assert_mem_eq(got.result, "first", 5);
    /* ids continue after a reopen, never restarting at 1 */
    ck_assert_uint_eq(push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "order-1", "ev2", T0), 2);
    ck_assert_uint_eq(push(s, ctx, t, ORDERLY_QUEUE_TIMERS, "order-1", "tm1", T0), 1);
    commit(s, ctx, t);
    ck_assert_int_eq(claim(s, ctx, ORDERLY_QUEUE_OUTBOX, T0, 10, &seen), 2);
    ck_assert_str_eq(seen.payload[0], "ev1");
    ck_assert_str_eq(seen.payload[1], "ev2");
    ck_assert_int_eq(orderly_sqlite_schema_version(), 3);
    orderly_sqlite_storage_close(s);
    ck_assert_int_eq(raw_int(db_path("a.db"), "PRAGMA user_version"), orderly_sqlite_schema_version());
    ck_assert_int_eq(raw_int(db_path("a.db"), "PRAGMA application_id"), 0x4F52444C);
    orderly__buf_free(&b);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

START_TEST(test_migrates_empty_file)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s;
    int fd;

    make_dir();
    fd = open(db_path("empty.db"), O_CREAT | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    o.create = 0;
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("empty.db"), &o, ctx), 0);
    orderly_sqlite_storage_close(s);
    ck_assert_int_eq(raw_int(db_path("empty.db"), "PRAGMA user_version"), 3);
    ck_assert_int_eq(raw_int(db_path("empty.db"), "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
    ck_assert_int_eq(raw_int(db_path("empty.db"),
                             "SELECT count(*) FROM sqlite_master WHERE name IN "
                             "('records','items','queues','idem','items_state','items_group',"
                             "'history')"),
                     7);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* A version 1 database (tokens drawn by the engines) is migrated so the
 * store's counter starts above every lease taken before the upgrade. */
static int count_history(const orderly_history_item *it, void *ud)
{
    (void)it;
    ++*(int *)ud;
    return 0;
}

/* A version 2 database (no history table) gains the table at its next
 * read-write open, keeping what it holds; history starts with the next
 * event appended. */
START_TEST(test_migrates_v2_to_history)
{
    orderly_ctx *ctx = new_ctx();
    orderly_history_item it = { "o1", 0, 1, (const uint8_t *)"x", 1, T0 };
    orderly_storage *s;
    int n = 0;
    void *t;

    make_dir();
    s = open_ok(db_path("h.db"), ctx);
    t = begin(s, ctx);
    push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "o1", "kept", T0);
    commit(s, ctx, t);
    orderly_sqlite_storage_close(s);
    raw_exec(db_path("h.db"), "DROP TABLE history; PRAGMA user_version = 2");
    s = open_ok(db_path("h.db"), ctx);
    ck_assert_int_eq(raw_int(db_path("h.db"), "PRAGMA user_version"), 3);
    ck_assert_int_eq(raw_int(db_path("h.db"), "SELECT count(*) FROM items"), 1);
    t = begin(s, ctx);
    ck_assert_int_eq(s->history_append(s, ctx, t, &it), 0);
    ck_assert_int_eq(s->history_append(s, ctx, t, &it), ORDERLY_EEXISTS);
    commit(s, ctx, t);
    t = begin(s, ctx);
    ck_assert_int_eq(s->history_scan(s, ctx, t, "o1", 0, 10, count_history, &n), 1);
    commit(s, ctx, t);
    ck_assert_int_eq(n, 1);
    orderly_sqlite_storage_close(s);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

START_TEST(test_migrates_v1_tokens_above_old_leases)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s;
    struct seen c;
    void *t;

    make_dir();
    s = open_ok(db_path("m.db"), ctx);
    t = begin(s, ctx);
    push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "g", "old", T0);
    push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "h", "new", T0);
    commit(s, ctx, t);
    orderly_sqlite_storage_close(s);
    /* as 0.1 left it: no counter row, and a lease under a token it drew */
    raw_exec(db_path("m.db"), "DELETE FROM queues WHERE queue = 0;"
                              "UPDATE items SET state = 1, lease_token = 987654321,"
                              " lease_until = 9000000000000, attempts = 1 WHERE id = 1;"
                              "DROP TABLE history; PRAGMA user_version = 1");
    s = open_ok(db_path("m.db"), ctx);
    ck_assert_int_eq(raw_int(db_path("m.db"), "PRAGMA user_version"), 3);
    ck_assert_int_eq(claim(s, ctx, ORDERLY_QUEUE_OUTBOX, T0, 10, &c), 1);
    ck_assert_str_eq(c.payload[0], "new");
    ck_assert_uint_gt(c.issued, 987654321);
    orderly_sqlite_storage_close(s);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

START_TEST(test_newer_schema_is_eversion)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s;

    make_dir();
    s = open_ok(db_path("v.db"), ctx);
    orderly_sqlite_storage_close(s);
    raw_exec(db_path("v.db"), "PRAGMA user_version = 99");
    s = (orderly_storage *)1;
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("v.db"), NULL, ctx), ORDERLY_EVERSION);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_EVERSION);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "schema version 99"));
    /* the refused file is left as it was */
    ck_assert_int_eq(raw_int(db_path("v.db"), "PRAGMA user_version"), 99);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

START_TEST(test_garbage_and_foreign_files_are_estorage)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s;
    char junk[8192];
    FILE *f;
    size_t i;

    make_dir();
    for (i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 131 + 7);
    ck_assert_ptr_nonnull(f = fopen(db_path("junk.db"), "wb"));
    ck_assert_uint_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("junk.db"), NULL, ctx), ORDERLY_ESTORAGE);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "not an SQLite database"));
    ck_assert_int_ne(orderly_ctx_native(ctx), 0);

    raw_exec(db_path("other.db"), "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("other.db"), NULL, ctx), ORDERLY_ESTORAGE);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "not an orderly one"));
    ck_assert_int_eq(raw_int(db_path("other.db"), "SELECT count(*) FROM sqlite_master"), 1);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

START_TEST(test_missing_file_and_bad_options)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s;

    make_dir();
    o.create = 0;
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("none.db"), &o, ctx), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(access(db_path("none.db"), F_OK), -1);
    o.create = 1;
    o.busy_timeout_ms = 0;
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("none.db"), &o, ctx), ORDERLY_EINVAL);
    o.busy_timeout_ms = 10;
    o.synchronous = 7;
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("none.db"), &o, ctx), ORDERLY_EINVAL);
    o.synchronous = ORDERLY_SQLITE_SYNC_NORMAL;
    o.version = ORDERLY_SQLITE_OPTIONS_VERSION + 1;
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("none.db"), &o, ctx), ORDERLY_EVERSION);
    ck_assert_int_eq(orderly_sqlite_storage_open(NULL, db_path("none.db"), NULL, ctx), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, NULL, NULL, NULL), ORDERLY_EINVAL);
    orderly_sqlite_storage_close(NULL);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* ---- records and transactions ------------------------------------------ */

static int collect_keys(const char *key, const uint8_t *data, size_t len, uint64_t version, void *ud)
{
    char *out = ud;

    (void)data;
    (void)len;
    snprintf(out + strlen(out), 64, "%s@%llu ", key, (unsigned long long)version);
    return 0;
}

START_TEST(test_cas_scan_and_rollback)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s;
    orderly_allocator a;
    orderly_buf b;
    uint64_t v = 0;
    char keys[256] = "";
    void *t, *t2;

    make_dir();
    orderly__alloc_default(&a);
    orderly__buf_init(&b, &a);
    s = open_ok(db_path("r.db"), ctx);
    t = begin(s, ctx);
    ck_assert_int_eq(s->load(s, ctx, t, "k", &b, &v), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(s->save(s, ctx, t, "k", (const uint8_t *)"1", 1, 0), 0);
    ck_assert_int_eq(s->save(s, ctx, t, "k", (const uint8_t *)"2", 1, 0), ORDERLY_ECONFLICT);
    ck_assert_int_eq(s->save(s, ctx, t, "k", (const uint8_t *)"2", 1, 1), 0);
    ck_assert_int_eq(s->save(s, ctx, t, "k", (const uint8_t *)"3", 1, 1), ORDERLY_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "at version 2, expected 1"));
    ck_assert_int_eq(s->save(s, ctx, t, "j", NULL, 0, 0), 0);
    ck_assert_int_eq(s->save(s, ctx, t, "l", (const uint8_t *)"x", 1, 0), 0);
    ck_assert_int_eq(s->save(s, ctx, t, "missing", (const uint8_t *)"x", 1, 4), ORDERLY_ECONFLICT);
    commit(s, ctx, t);

    t = begin(s, ctx);
    /* one transaction per connection: the core never nests them */
    ck_assert_int_eq(s->begin(s, ctx, &t2), ORDERLY_EMISUSE);
    ck_assert_int_eq(s->load(s, ctx, t, "j", &b, &v), 0);
    ck_assert_uint_eq(orderly_buf_len(&b), 0);
    ck_assert_int_eq(s->scan(s, ctx, t, "", 10, collect_keys, keys), 3);
    ck_assert_str_eq(keys, "j@1 k@2 l@1 ");
    keys[0] = '\0';
    ck_assert_int_eq(s->scan(s, ctx, t, "j", 1, collect_keys, keys), 1);
    ck_assert_str_eq(keys, "k@2 ");
    ck_assert_int_eq(s->save(s, ctx, t, "k", (const uint8_t *)"9", 1, 2), 0);
    push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "k", "lost", T0);
    s->rollback(s, ctx, t);

    t = begin(s, ctx);
    ck_assert_int_eq(s->load(s, ctx, t, "k", &b, &v), 0);
    ck_assert_uint_eq(v, 2);
    ck_assert_mem_eq(orderly_buf_data(&b), "2", 1);
    /* the rolled-back push left no row and did not use up its id */
    ck_assert_uint_eq(push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "k", "kept", T0), 1);
    commit(s, ctx, t);
    /* calls outside a transaction are refused */
    ck_assert_int_eq(s->load(s, ctx, t, "k", &b, &v), ORDERLY_EMISUSE);
    ck_assert_int_eq(s->commit(s, ctx, t), ORDERLY_EMISUSE);
    s->rollback(s, ctx, t);
    orderly_sqlite_storage_close(s);
    orderly__buf_free(&b);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* ---- queues ---------------------------------------------------------------- */

START_TEST(test_claim_orders_each_group)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s;
    struct seen c;
    void *t;

    make_dir();
    s = open_ok(db_path("q.db"), ctx);
    t = begin(s, ctx);
    push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "a", "a1", T0 + 50); /* 1: not due yet */
    push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "b", "b1", T0);      /* 2 */
    push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "a", "a2", T0);      /* 3: held back by 1 */
    push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "", "u1", T0);       /* 4: unordered */
    push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "b", "b2", T0);      /* 5: follows 2 in one call */
    push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "c", "c1", T0);      /* 6 */
    commit(s, ctx, t);

    ck_assert_int_eq(claim(s, ctx, ORDERLY_QUEUE_OUTBOX, T0, 10, &c), 4);
    ck_assert_str_eq(c.payload[0], "b1");
    ck_assert_str_eq(c.payload[1], "u1");
    ck_assert_str_eq(c.payload[2], "b2");
    ck_assert_str_eq(c.payload[3], "c1");
    ck_assert_uint_eq(c.state[0], ORDERLY_ITEM_READY);
    ck_assert_uint_eq(c.attempts[0], 1);
    ck_assert_uint_gt(c.issued, 0);
    ck_assert_uint_eq(c.token[0], c.issued);

    /* a2 stays behind a1 until a1 is claimed; both go in one call */
    ck_assert_int_eq(claim(s, ctx, ORDERLY_QUEUE_OUTBOX, T0 + 10, 10, &c), 0);
    ck_assert_int_eq(claim(s, ctx, ORDERLY_QUEUE_OUTBOX, T0 + 50, 1, &c), 1);
    ck_assert_str_eq(c.payload[0], "a1");
    /* a2 must wait while a1 is leased under another token */
    ck_assert_int_eq(claim(s, ctx, ORDERLY_QUEUE_OUTBOX, T0 + 50, 10, &c), 0);

    /* b1 (lease 11) expires at T0 + 1000: taken over, reported as LEASED, and
     * b2 behind it comes too since this call now holds b1 */
    ck_assert_int_eq(claim(s, ctx, ORDERLY_QUEUE_OUTBOX, T0 + 1000, 3, &c), 3);
    ck_assert_str_eq(c.payload[0], "b1");
    ck_assert_uint_eq(c.state[0], ORDERLY_ITEM_LEASED);
    ck_assert_uint_eq(c.attempts[0], 2);
    ck_assert_str_eq(c.payload[1], "u1");
    ck_assert_str_eq(c.payload[2], "b2");
    orderly_sqlite_storage_close(s);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

START_TEST(test_finish_is_fenced)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s;
    orderly_queue_stats st;
    struct seen c, g;
    uint64_t first, second;
    void *t;

    make_dir();
    s = open_ok(db_path("f.db"), ctx);
    t = begin(s, ctx);
    push(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, "o", "x", T0);
    push(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, "", "y", T0);
    commit(s, ctx, t);
    ck_assert_int_eq(claim(s, ctx, ORDERLY_QUEUE_OPERATIONS, T0, 1, &c), 1);
    first = c.issued;
    /* the lease lapses; another worker takes it over under a newer token */
    ck_assert_int_eq(claim(s, ctx, ORDERLY_QUEUE_OPERATIONS, T0 + 2000, 1, &c), 1);
    ck_assert_uint_eq(c.id[0], 1);
    ck_assert_uint_gt(c.issued, first);
    second = c.issued;

    t = begin(s, ctx);
    ck_assert_int_eq(s->queue_finish(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 1, first,
                                     ORDERLY_ITEM_DONE, T0 + 2001, 2), ORDERLY_ECONFLICT);
    ck_assert_int_eq(s->queue_finish(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 9, second,
                                     ORDERLY_ITEM_DONE, T0 + 2001, 2), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(s->queue_finish(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 2, second,
                                     ORDERLY_ITEM_DONE, T0 + 2001, 2), ORDERLY_ECONFLICT);
    ck_assert_int_eq(s->queue_finish(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 1, second,
                                     ORDERLY_ITEM_LEASED, T0 + 2001, 2), ORDERLY_EINVAL);
    ck_assert_int_eq(s->queue_finish(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 1, second,
                                     ORDERLY_ITEM_DONE, T0 + 2001, 2), 0);
    /* finished: the token no longer matches a lease */
    ck_assert_int_eq(s->queue_finish(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 1, second,
                                     ORDERLY_ITEM_DONE, T0 + 2001, 2), ORDERLY_ECONFLICT);
    ck_assert_int_eq(s->queue_finish(s, ctx, t, 9, 1, second, ORDERLY_ITEM_DONE, 0, 2), ORDERLY_EINVAL);
    memset(&g, 0, sizeof g);
    ck_assert_int_eq(s->queue_get(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 1, see, &g), 0);
    ck_assert_uint_eq(g.state[0], ORDERLY_ITEM_DONE);
    ck_assert_uint_eq(g.attempts[0], 2);
    ck_assert_int_eq(s->queue_get(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 5, see, &g), ORDERLY_ENOTFOUND);

    /* operator reset: READY again with attempts cleared, any lease ignored */
    ck_assert_int_eq(s->queue_reset(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 1, ORDERLY_ITEM_READY,
                                    T0 + 3000), 0);
    ck_assert_int_eq(s->queue_reset(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 2, ORDERLY_ITEM_DEAD,
                                    T0 + 3000), 0);
    ck_assert_int_eq(s->queue_reset(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 3, ORDERLY_ITEM_DEAD,
                                    T0), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(s->queue_reset(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, 1, 4, T0), ORDERLY_EINVAL);
    memset(&g, 0, sizeof g);
    ck_assert_int_eq(s->queue_scan(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, -1, 0, 10, see, &g), 2);
    ck_assert_uint_eq(g.state[0], ORDERLY_ITEM_READY);
    ck_assert_uint_eq(g.attempts[0], 0);
    ck_assert_uint_eq(g.state[1], ORDERLY_ITEM_DEAD);
    memset(&g, 0, sizeof g);
    ck_assert_int_eq(s->queue_scan(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, ORDERLY_ITEM_DEAD, 0, 10,
                                   see, &g), 1);
    ck_assert_uint_eq(g.id[0], 2);
    ck_assert_int_eq(s->queue_stats(s, ctx, t, ORDERLY_QUEUE_OPERATIONS, T0 + 2500, &st), 0);
    ck_assert_uint_eq(st.ready, 1);
    ck_assert_uint_eq(st.due, 0);
    ck_assert_uint_eq(st.dead, 1);
    ck_assert_int_eq(st.oldest_pending, T0);
    commit(s, ctx, t);
    orderly_sqlite_storage_close(s);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

START_TEST(test_purge_and_idempotency_expiry)
{
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s;
    orderly_allocator a;
    orderly_buf b;
    orderly_idem_record rec, got;
    struct seen c;
    void *t;
    int i;

    make_dir();
    orderly__alloc_default(&a);
    orderly__buf_init(&b, &a);
    s = open_ok(db_path("p.db"), ctx);
    t = begin(s, ctx);
    for (i = 0; i < 5; i++)
        push(s, ctx, t, ORDERLY_QUEUE_OUTBOX, "", "e", T0);
    commit(s, ctx, t);
    ck_assert_int_eq(claim(s, ctx, ORDERLY_QUEUE_OUTBOX, T0, 5, &c), 5);
    t = begin(s, ctx);
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(s->queue_finish(s, ctx, t, ORDERLY_QUEUE_OUTBOX, (uint64_t)i + 1, c.issued,
                                         i == 3 ? ORDERLY_ITEM_DEAD : ORDERLY_ITEM_DONE, T0 + i, 1),
                         0);
    ck_assert_int_eq(s->queue_purge(s, ctx, t, ORDERLY_QUEUE_OUTBOX, T0 + 1, 10), 2);
    ck_assert_int_eq(s->queue_purge(s, ctx, t, ORDERLY_QUEUE_OUTBOX, T0 + 100, 10), 1);
    ck_assert_int_eq(s->queue_purge(s, ctx, t, ORDERLY_QUEUE_OUTBOX, T0 + 100, 10), 0);

    memset(&rec, 0, sizeof rec);
    rec.expires = T0 + 10;
    ck_assert_int_eq(s->idem_put(s, ctx, t, "a", T0, &rec), 0);
    ck_assert_int_eq(s->idem_put(s, ctx, t, "a", T0 + 9, &rec), ORDERLY_EEXISTS);
    ck_assert_int_eq(s->idem_get(s, ctx, t, "a", T0 + 9, &got, &b), 0);
    ck_assert_uint_eq(got.result_len, 0);
    ck_assert_int_eq(s->idem_get(s, ctx, t, "a", T0 + 10, &got, &b), ORDERLY_ENOTFOUND);
    /* an expired mark counts as absent */
    rec.expires = T0 + 50;
    rec.fingerprint[0] = 1;
    ck_assert_int_eq(s->idem_put(s, ctx, t, "a", T0 + 10, &rec), 0);
    ck_assert_int_eq(s->idem_get(s, ctx, t, "a", T0 + 10, &got, &b), 0);
    ck_assert_int_eq(got.fingerprint[0], 1);
    rec.expires = T0 + 20;
    ck_assert_int_eq(s->idem_put(s, ctx, t, "b", T0, &rec), 0);
    ck_assert_int_eq(s->idem_put(s, ctx, t, "c", T0, &rec), 0);
    ck_assert_int_eq(s->idem_purge(s, ctx, t, T0 + 20, 1), 1);
    ck_assert_int_eq(s->idem_purge(s, ctx, t, T0 + 20, 10), 1);
    ck_assert_int_eq(s->idem_purge(s, ctx, t, T0 + 20, 10), 0);
    ck_assert_int_eq(s->idem_get(s, ctx, t, "a", T0 + 20, &got, &b), 0);
    commit(s, ctx, t);
    orderly_sqlite_storage_close(s);
    orderly__buf_free(&b);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* ---- differential: the in-memory adapter is the oracle ---------------------- */

/* The fencing tokens a store issued, in order: traces name a token by
 * its place here, since stores count them differently (a rolled-back
 * claim spends one in memory, not in SQLite). */
struct tokens {
    uint64_t v[2048];
    size_t n;
};

struct trace {
    char text[4096];
    size_t len;
    const struct tokens *tk;
    int claiming;            /* items seen by a claim carry a token not listed yet */
};

/* The latest claim issued token (SQLite issues a rolled-back one again). */
static unsigned token_ordinal(const struct tokens *tk, uint64_t token)
{
    size_t i;

    for (i = tk != NULL ? tk->n : 0; i-- > 0;)
        if (tk->v[i] == token)
            return (unsigned)i + 1;
    return 0;
}

static void tr_add(struct trace *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->len >= sizeof t->text - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->text + t->len, sizeof t->text - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
    if (t->len >= sizeof t->text)
        t->len = sizeof t->text - 1;
}

static int tr_item(const orderly_queue_item *it, void *ud)
{
    struct trace *t = ud;

    tr_add(t, "[%llu %s k%u s%u a%u %.*s c%lld d%lld t%u u%lld]", (unsigned long long)it->id,
           it->group, it->kind, it->state, it->attempts, (int)it->payload_len,
           (const char *)it->payload, (long long)it->created, (long long)it->due,
           t->claiming ? 0 : token_ordinal(t->tk, it->lease_token), (long long)it->lease_until);
    return 0;
}

static int tr_rec(const char *key, const uint8_t *data, size_t len, uint64_t version, void *ud)
{
    tr_add(ud, "[%s %.*s v%llu]", key, (int)len, (const char *)data, (unsigned long long)version);
    return 0;
}

static uint64_t rng_state;

static void idem_get_op(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                        orderly_time_ms at, orderly_buf *b, struct trace *t)
{
    orderly_idem_record rec;
    int rc;

    memset(&rec, 0, sizeof rec);
    rc = s->idem_get(s, ctx, txn, key, at, &rec, b);
    tr_add(t, "iget %d", rc);
    if (rc == 0)
        tr_add(t, " %02x%02x e%lld %.*s", rec.fingerprint[0], rec.fingerprint[15],
               (long long)rec.expires, (int)rec.result_len, (const char *)rec.result);
}

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

/* Runs one random operation on s in its own transaction; records what is
 * observable (code and outputs) in *t. The random stream is replayed for
 * each store from the same seed, so both see the same operation.
 *
 * Some operations are never rolled back here because the memory adapter
 * does not fully undo them: a rolled-back push still spends its id, a
 * rolled-back idem_put or idem_purge keeps having deleted expired marks,
 * and a rolled-back finish or reset restores the item's fields but not
 * its place in the group and live-range bookkeeping. queue_purge is left
 * out: the memory adapter's compaction can leave its claim cursor past a
 * pending item (test_purge_and_idempotency_expiry covers purge instead). */
static void one_op(orderly_storage *s, orderly_ctx *ctx, orderly_buf *b, orderly_time_ms now,
                   struct tokens *tk, struct trace *t)
{
    static const char *groups[] = { "", "g1", "g2", "g3" };
    static const int finish_states[] = { ORDERLY_ITEM_READY, ORDERLY_ITEM_DONE, ORDERLY_ITEM_DEAD,
                                         ORDERLY_ITEM_DONE, ORDERLY_ITEM_LEASED };
    orderly_queue_item it;
    orderly_queue_stats st;
    orderly_idem_record rec;
    char payload[16], key[8];
    uint64_t id = 0, v = 0, token = 0;
    int queue = 1 + (int)rnd(2), op = (int)rnd(15), rc = 0, rollback = rnd(8) == 0;
    uint32_t back;
    void *txn = begin(s, ctx);

    t->tk = tk;
    switch (op) {
    case 0:
    case 1:
    case 2:
        snprintf(payload, sizeof payload, "p%u", rnd(1000));
        it = item_of(groups[rnd(4)], rnd(5), payload, now, now + (orderly_time_ms)rnd(20) - 5);
        rc = s->queue_push(s, ctx, txn, queue, &it, &id);
        tr_add(t, "push %d id%llu", rc, (unsigned long long)id);
        rollback = 0;
        break;
    case 3:
    case 4:
        t->claiming = 1;
        rc = s->queue_claim(s, ctx, txn, queue, now, 1 + rnd(4), 2 + rnd(3),
                            now + 1 + (orderly_time_ms)rnd(10), &token, tr_item, t);
        t->claiming = 0;
        if (rc > 0 && tk->n < sizeof tk->v / sizeof tk->v[0])
            tk->v[tk->n++] = token;
        tr_add(t, "claim %d t%u", rc, token_ordinal(tk, token));
        break;
    case 5:
        back = rnd(6);
        if (tk->n > 0)
            token = tk->v[tk->n - 1 - (back < tk->n ? back : tk->n - 1)];
        rc = s->queue_finish(s, ctx, txn, queue, 1 + rnd(30), token, finish_states[rnd(5)],
                             now + (orderly_time_ms)rnd(5), rnd(5));
        tr_add(t, "finish %d", rc);
        rollback = 0;
        break;
    case 6:
        rc = s->queue_reset(s, ctx, txn, queue, 1 + rnd(30), (int)rnd(4), now + (orderly_time_ms)rnd(5));
        tr_add(t, "reset %d", rc);
        rollback = 0;
        break;
    case 7:
        rc = s->queue_get(s, ctx, txn, queue, 1 + rnd(30), tr_item, t);
        tr_add(t, "get %d", rc);
        break;
    case 8:
        rc = s->queue_scan(s, ctx, txn, queue, (int)rnd(5) - 1, rnd(10), 1 + rnd(8), tr_item, t);
        tr_add(t, "scan %d", rc);
        break;
    case 9:
    case 10:
        rc = s->queue_stats(s, ctx, txn, queue, now, &st);
        tr_add(t, "stats %d %llu %llu %llu %llu %llu %llu %lld", rc, (unsigned long long)st.ready,
               (unsigned long long)st.due, (unsigned long long)st.leased,
               (unsigned long long)st.lease_expired, (unsigned long long)st.done,
               (unsigned long long)st.dead, (long long)st.oldest_pending);
        break;
    case 11:
        snprintf(key, sizeof key, "i%u", rnd(6));
        memset(&rec, 0, sizeof rec);
        rec.fingerprint[rnd(16)] = (uint8_t)rnd(256);
        rec.expires = now + 1 + (orderly_time_ms)rnd(15);
        snprintf(payload, sizeof payload, "r%u", rnd(100));
        rec.result = (const uint8_t *)payload;
        rec.result_len = strlen(payload);
        rc = s->idem_put(s, ctx, txn, key, now, &rec);
        tr_add(t, "iput %d", rc);
        rollback = 0;
        /* within the putting transaction only at now: memory returns its
         * own uncommitted mark without looking at the expiry */
        if (rc == 0 || rnd(2))
            idem_get_op(s, ctx, txn, key, now, b, t);
        break;
    case 13:
        snprintf(key, sizeof key, "i%u", rnd(6));
        idem_get_op(s, ctx, txn, key, now + (orderly_time_ms)rnd(10), b, t);
        break;
    case 12:
        if (rnd(2)) {
            rc = s->idem_purge(s, ctx, txn, now, 1000);
            tr_add(t, "ipurge %d", rc);
            rollback = 0;
            break;
        }
        snprintf(key, sizeof key, "r%u", rnd(5));
        rc = s->load(s, ctx, txn, key, b, &v);
        tr_add(t, "load %d v%llu", rc, (unsigned long long)(rc == 0 ? v : 0));
        snprintf(payload, sizeof payload, "d%u", rnd(100));
        rc = s->save(s, ctx, txn, key, (const uint8_t *)payload, strlen(payload),
                     rc == 0 && rnd(4) ? v : rnd(3));
        tr_add(t, " save %d", rc);
        break;
    default:
        rc = s->scan(s, ctx, txn, rnd(2) ? "" : "r2", 1 + rnd(5), tr_rec, t);
        tr_add(t, "rscan %d", rc);
        break;
    }
    if (rollback) {
        s->rollback(s, ctx, txn);
    } else {
        rc = s->commit(s, ctx, txn);
        tr_add(t, " commit %d", rc);
    }
}

static void dump(orderly_storage *s, orderly_ctx *ctx, const char *name)
{
    struct trace t;
    void *txn = begin(s, ctx);
    int q;

    for (q = 1; q <= 2; q++) {
        memset(&t, 0, sizeof t);
        (void)s->queue_scan(s, ctx, txn, q, -1, 0, 100, tr_item, &t);
        fprintf(stderr, "# %s queue %d: %s\n", name, q, t.text);
    }
    s->rollback(s, ctx, txn);
}

START_TEST(test_matches_memory_adapter)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options fast = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *mem, *sql;
    orderly_allocator a;
    orderly_buf b;
    struct trace tm, ts;
    struct tokens km, ks;
    orderly_time_ms now = T0;
    uint64_t seed = 0x5eed0000u + (unsigned)_i;
    int step;

    memset(&km, 0, sizeof km);
    memset(&ks, 0, sizeof ks);
    make_dir();
    orderly__alloc_default(&a);
    orderly__buf_init(&b, &a);
    ck_assert_int_eq(orderly_memory_storage_new(&mem, NULL), 0);
    fast.synchronous = ORDERLY_SQLITE_SYNC_NORMAL;
    ck_assert_int_eq(orderly_sqlite_storage_open(&sql, db_path("diff.db"), &fast, ctx), 0);
    rng_state = seed;
    for (step = 0; step < 1500; step++) {
        uint64_t before = rng_state;
        memset(&tm, 0, sizeof tm);
        memset(&ts, 0, sizeof ts);
        one_op(mem, ctx, &b, now, &km, &tm);
        rng_state = before;
        one_op(sql, ctx, &b, now, &ks, &ts);
        if (strcmp(tm.text, ts.text) != 0) {
            dump(mem, ctx, "memory");
            dump(sql, ctx, "sqlite");
        }
        ck_assert_msg(strcmp(tm.text, ts.text) == 0, "seed %llx step %d: memory %s; sqlite %s",
                      (unsigned long long)seed, step, tm.text, ts.text);
        now += (orderly_time_ms)rnd(3);
    }
    orderly_memory_storage_free(mem);
    orderly_sqlite_storage_close(sql);
    orderly__buf_free(&b);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* ---- two connections on one file ------------------------------------------ */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static double mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

START_TEST(test_second_writer_waits_then_conflicts)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s1, *s2;
    orderly_allocator a;
    orderly_buf b;
    uint64_t v;
    void *t1, *t2;
    double t0;
    int go[2], status;
    pid_t pid;
    char c;

    make_dir();
    orderly__alloc_default(&a);
    orderly__buf_init(&b, &a);
    s1 = open_ok(db_path("two.db"), ctx);
    o.busy_timeout_ms = 150;
    ck_assert_int_eq(orderly_sqlite_storage_open(&s2, db_path("two.db"), &o, ctx), 0);

    t1 = begin(s1, ctx);
    ck_assert_int_eq(s1->save(s1, ctx, t1, "x", (const uint8_t *)"1", 1, 0), 0);
    t0 = mono_ms();
    ck_assert_int_eq(s2->begin(s2, ctx, &t2), ORDERLY_ECONFLICT);
    ck_assert_double_ge(mono_ms() - t0, 100.0);
    ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_ECONFLICT);
    ck_assert_int_ne(orderly_ctx_native(ctx), 0);
    commit(s1, ctx, t1);
    t2 = begin(s2, ctx);
    ck_assert_int_eq(s2->load(s2, ctx, t2, "x", &b, &v), 0);
    ck_assert_int_eq(s2->save(s2, ctx, t2, "x", (const uint8_t *)"2", 1, 1), 0);
    commit(s2, ctx, t2);
    orderly_sqlite_storage_close(s2);

    /* a writer in another process holds the lock for a while: this one
     * waits inside its busy timeout and then sees the committed write */
    ck_assert_int_eq(pipe(go), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        orderly_storage *cs = open_ok(db_path("two.db"), ctx);
        void *ct = begin(cs, ctx);
        if (cs->save(cs, ctx, ct, "x", (const uint8_t *)"3", 1, 2) != 0)
            _exit(2);
        if (write(go[1], "g", 1) != 1)
            _exit(3);
        sleep_ms(200);
        commit(cs, ctx, ct);
        orderly_sqlite_storage_close(cs);
        _exit(0);
    }
    ck_assert_int_eq((int)read(go[0], &c, 1), 1);
    t0 = mono_ms();
    t1 = begin(s1, ctx);
    ck_assert_double_ge(mono_ms() - t0, 50.0);
    ck_assert_int_eq(s1->load(s1, ctx, t1, "x", &b, &v), 0);
    ck_assert_uint_eq(v, 3);
    ck_assert_mem_eq(orderly_buf_data(&b), "3", 1);
    s1->rollback(s1, ctx, t1);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(go[0]);
    close(go[1]);
    orderly_sqlite_storage_close(s1);
    orderly__buf_free(&b);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* ---- the engine on a file -------------------------------------------------- */

struct engine_fx {
    orderly_storage *s;
    orderly_transport *t;
    orderly_engine *e;
};

static void engine_open(struct engine_fx *f, const char *path, int sync)
{
    orderly_engine_options o = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_sqlite_options so = ORDERLY_SQLITE_OPTIONS_INIT;
    int rc;

    so.synchronous = sync;
    ck_assert_int_eq(orderly_sqlite_storage_open(&f->s, path, &so, NULL), 0);
    ck_assert_int_eq(orderly_memory_transport_new(&f->t, NULL), 0);
    o.storage = f->s;
    o.transport = f->t;
    rc = orderly_engine_open(&f->e, &o, NULL);
    ck_assert_int_eq(rc, 0);
}

static void engine_close(struct engine_fx *f)
{
    orderly_engine_close(f->e);
    orderly_sqlite_storage_close(f->s);
    orderly_memory_transport_free(f->t);
}

static int create_order(orderly_engine *e, const char *id, orderly_time_ms now)
{
    orderly_line line = { 42, 7, 2, 1250 };
    orderly_order_spec sp;
    orderly_result r = ORDERLY_RESULT_INIT;

    memset(&sp, 0, sizeof sp);
    sp.order_id = id;
    sp.currency = "EUR";
    sp.payment_method = ORDERLY_PAY_CARD;
    sp.lines = &line;
    sp.n_lines = 1;
    sp.now = now;
    return orderly_engine_create_order(e, &sp, &r);
}

static int authorize(orderly_engine *e, const char *id, orderly_time_ms now)
{
    orderly_command c;
    orderly_result r = ORDERLY_RESULT_INIT;

    memset(&c, 0, sizeof c);
    c.order_id = id;
    c.machine = ORDERLY_MACHINE_PAYMENT;
    c.event = ORDERLY_PAYMENT_EV_AUTHORIZE;
    c.amount = 2500;
    c.now = now;
    return orderly_engine_apply(e, &c, &r);
}

START_TEST(test_engine_cycle_on_file)
{
    struct engine_fx f;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_result r = ORDERLY_RESULT_INIT;
    orderly_command c;
    size_t published = 0;

    make_dir();
    memset(&c, 0, sizeof c);
    c.order_id = "ord-1";
    c.machine = ORDERLY_MACHINE_PAYMENT;
    c.event = ORDERLY_PAYMENT_EV_AUTHORIZE;
    c.amount = 2500;
    c.idem_key = "auth-1";
    c.now = T0 + 1000;
    engine_open(&f, db_path("engine.db"), ORDERLY_SQLITE_SYNC_NORMAL);
    ck_assert_int_eq(create_order(f.e, "ord-1", T0), 0);
    ck_assert_int_eq(orderly_engine_apply(f.e, &c, &r), 0);
    ck_assert_uint_eq(r.duplicate, 0);
    ck_assert_int_eq(orderly_engine_pump(f.e, T0 + 3000, 0, &published), 0);
    ck_assert_uint_ge(published, 2);
    ck_assert_uint_eq(orderly_memory_transport_count(f.t), published);
    engine_close(&f);

    engine_open(&f, db_path("engine.db"), ORDERLY_SQLITE_SYNC_FULL);
    ck_assert_int_eq(orderly_engine_get_order(f.e, "ord-1", &v), 0);
    ck_assert_int_eq(v.payment_state, ORDERLY_PAYMENT_AUTHORIZED);
    ck_assert_int_eq(v.authorized, 2500);
    /* a redelivery after the restart is answered from the marks in the file */
    c.now = T0 + 2000;
    ck_assert_int_eq(orderly_engine_apply(f.e, &c, &r), 0);
    ck_assert_uint_eq(r.duplicate, 1);
    /* everything was acked before the restart: nothing left to publish */
    ck_assert_int_eq(orderly_engine_pump(f.e, T0 + 4000, 0, &published), 0);
    ck_assert_uint_eq(published, 0);
    ck_assert_int_eq(orderly_engine_get_order(f.e, "nope", &v), ORDERLY_ENOTFOUND);
    engine_close(&f);
    ck_assert_int_gt(raw_int(db_path("engine.db"), "SELECT count(*) FROM items WHERE queue = 1"), 1);
    ck_assert_int_eq(raw_int(db_path("engine.db"),
                             "SELECT count(*) FROM items WHERE queue = 1 AND state <> 2"), 0);
    remove_dir();
}
END_TEST

/* An engine whose storage waits busy_ms for another writer. */
static void engine_open_busy(struct engine_fx *f, const char *path, int busy_ms)
{
    orderly_engine_options o = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_sqlite_options so = ORDERLY_SQLITE_OPTIONS_INIT;

    so.busy_timeout_ms = busy_ms;
    ck_assert_int_eq(orderly_sqlite_storage_open(&f->s, path, &so, NULL), 0);
    ck_assert_int_eq(orderly_memory_transport_new(&f->t, NULL), 0);
    o.storage = f->s;
    o.transport = f->t;
    ck_assert_int_eq(orderly_engine_open(&f->e, &o, NULL), 0);
}

/* Two engines, each with its own connection to one file, get the same
 * event. While the winner's batch is open the loser is told to come back
 * (its writer waits out the busy timeout); once the winner commits, the
 * loser's delivery is a duplicate with the winner's result, never late. */
START_TEST(test_concurrent_duplicate_is_a_duplicate)
{
    struct engine_fx a, b;
    orderly_engine_stats st = ORDERLY_ENGINE_STATS_INIT;
    orderly_command c;
    orderly_result ra = ORDERLY_RESULT_INIT, rb = ORDERLY_RESULT_INIT;
    int rc;

    make_dir();
    engine_open_busy(&a, db_path("race.db"), 5000);
    engine_open_busy(&b, db_path("race.db"), 50);
    ck_assert_int_eq(create_order(a.e, "ord-1", T0), 0);
    memset(&c, 0, sizeof c);
    c.order_id = "ord-1";
    c.machine = ORDERLY_MACHINE_PAYMENT;
    c.event = ORDERLY_PAYMENT_EV_AUTHORIZE;
    c.amount = 2500;
    c.idem_key = "auth-1";
    c.now = T0 + 1000;

    ck_assert_int_eq(orderly_engine_begin_batch(a.e), 0);
    ck_assert_int_eq(orderly_engine_apply(a.e, &c, &ra), 0);
    ck_assert_uint_eq(ra.duplicate, 0);
    rc = orderly_engine_apply(b.e, &c, &rb);
    ck_assert_msg(rc == ORDERLY_ECONFLICT || rc == ORDERLY_EINFLIGHT, "loser got %d", rc);
    ck_assert(orderly_error_is_transient(rc));
    ck_assert_uint_eq(rb.late, 0);
    ck_assert_int_eq(orderly_engine_commit_batch(a.e), 0);

    c.now = T0 + 2000;
    ck_assert_int_eq(orderly_engine_apply(b.e, &c, &rb), 0);
    ck_assert_uint_eq(rb.duplicate, 1);
    ck_assert_uint_eq(rb.late, 0);
    ck_assert_int_eq(rb.from, ra.from);
    ck_assert_int_eq(rb.to, ra.to);
    ck_assert_int_eq(rb.order_state, ra.order_state);
    ck_assert_uint_eq(rb.version, ra.version);
    ck_assert_uint_eq(rb.outbox_rows, ra.outbox_rows);
    orderly_engine_get_stats(b.e, &st);
    ck_assert_uint_eq(st.late_ignored, 0);
    ck_assert_uint_eq(st.duplicates, 1);

    /* and the other way round, each engine deciding on its own connection */
    c.event = ORDERLY_PAYMENT_EV_REQUEST_CAPTURE;
    c.amount = 0;
    c.idem_key = "capture-1";
    ck_assert_int_eq(orderly_engine_apply(b.e, &c, &rb), 0);
    ck_assert_uint_eq(rb.duplicate, 0);
    ck_assert_int_eq(orderly_engine_apply(a.e, &c, &ra), 0);
    ck_assert_uint_eq(ra.duplicate, 1);
    ck_assert_uint_eq(ra.late, 0);
    ck_assert_uint_eq(ra.version, rb.version);
    engine_close(&b);
    engine_close(&a);
    remove_dir();
}
END_TEST

/* ---- crash: a writer killed at arbitrary instants ------------------------------ */

/* The child reports "C <id>" once create has committed and "A <id>" once
 * authorize has; it never reports before the call returned 0. */
static void crash_child(const char *path, int run, int fd)
{
    struct engine_fx f;
    char id[32], line[48];
    int i, n;

    engine_open(&f, path, run % 2 ? ORDERLY_SQLITE_SYNC_FULL : ORDERLY_SQLITE_SYNC_NORMAL);
    for (i = 0;; i++) {
        snprintf(id, sizeof id, "r%d-%d", run, i);
        if (create_order(f.e, id, T0 + i) != 0)
            _exit(10);
        n = snprintf(line, sizeof line, "C %s\n", id);
        if (write(fd, line, (size_t)n) != n)
            _exit(11);
        if (authorize(f.e, id, T0 + i + 1) != 0)
            _exit(12);
        n = snprintf(line, sizeof line, "A %s\n", id);
        if (write(fd, line, (size_t)n) != n)
            _exit(13);
    }
}

START_TEST(test_killed_writer_loses_nothing_committed)
{
    static char reported[1 << 20];
    struct engine_fx f;
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    const char *path;
    int run, total_checked = 0;

    make_dir();
    path = db_path("crash.db");
    for (run = 0; run < 20; run++) {
        int fds[2], status;
        size_t len = 0;
        ssize_t got;
        pid_t pid;
        char *line, *save = NULL;

        ck_assert_int_eq(pipe(fds), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(path, run, fds[1]);
        }
        close(fds[1]);
        sleep_ms(5 + (run * 7919) % 120);
        kill(pid, SIGKILL);
        while ((got = read(fds[0], reported + len, sizeof reported - 1 - len)) > 0)
            len += (size_t)got;
        reported[len] = '\0';
        close(fds[0]);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status), "writer exited by itself (status %d)", status);

        ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
        engine_open(&f, path, ORDERLY_SQLITE_SYNC_FULL);
        for (line = strtok_r(reported, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
            char q[160];
            ck_assert_int_eq(orderly_engine_get_order(f.e, line + 2, &v), 0);
            if (line[0] == 'A')
                ck_assert_int_eq(v.payment_state, ORDERLY_PAYMENT_AUTHORIZED);
            snprintf(q, sizeof q, "SELECT count(*) FROM items WHERE queue = 1 AND grp = '%s'", line + 2);
            ck_assert_int_ge(raw_int(path, q), line[0] == 'A' ? 2 : 1);
            total_checked++;
        }
        engine_close(&f);
    }
    ck_assert_int_gt(total_checked, 0);
    remove_dir();
}
END_TEST

/* ---- read-only inspection ---------------------------------------------------- */

/* What a file looks like on disk, to prove an open wrote nothing. */
struct file_state {
    int exists;
    off_t size;
    struct timespec mtime;
    char bytes[1 << 16];
};

static void file_state(const char *path, struct file_state *out)
{
    struct stat sb;
    FILE *f;

    memset(out, 0, sizeof *out);
    if (stat(path, &sb) != 0) {
        ck_assert_int_eq(errno, ENOENT);
        return;
    }
    out->exists = 1;
    out->size = sb.st_size;
    out->mtime = sb.st_mtim;
    ck_assert_int_le(sb.st_size, (off_t)sizeof out->bytes);
    ck_assert_ptr_nonnull(f = fopen(path, "rb"));
    ck_assert_uint_eq(fread(out->bytes, 1, sizeof out->bytes, f), (size_t)sb.st_size);
    fclose(f);
}

static void assert_unchanged(const struct file_state *before, const char *path)
{
    static struct file_state now;

    file_state(path, &now);
    ck_assert_int_eq(now.exists, before->exists);
    ck_assert_int_eq(now.size, before->size);
    ck_assert_int_eq(now.mtime.tv_sec, before->mtime.tv_sec);
    ck_assert_int_eq(now.mtime.tv_nsec, before->mtime.tv_nsec);
    ck_assert(memcmp(now.bytes, before->bytes, (size_t)now.size) == 0);
}

/* Size of path, -1 when absent. */
static off_t size_of(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static int open_read_only(orderly_storage **out, const char *path, int busy_ms, orderly_ctx *ctx)
{
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;

    o.read_only = 1;
    o.busy_timeout_ms = busy_ms;
    return orderly_sqlite_storage_open(out, path, &o, ctx);
}

/* Inspection never turns a file into a database: a missing, empty,
 * foreign or older file is refused and left exactly as it was. */
START_TEST(test_read_only_refuses_and_touches_nothing)
{
    static struct file_state before;
    orderly_ctx *ctx = new_ctx();
    orderly_storage *s = NULL;
    char wal[400];
    int fd;

    make_dir();
    ck_assert_int_eq(open_read_only(&s, db_path("none.db"), 5000, ctx), ORDERLY_ENOTFOUND);
    ck_assert_int_eq(access(db_path("none.db"), F_OK), -1);

    fd = open(db_path("empty.db"), O_CREAT | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    file_state(db_path("empty.db"), &before);
    ck_assert_int_eq(open_read_only(&s, db_path("empty.db"), 5000, ctx), ORDERLY_ESTORAGE);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "is empty, not an orderly database"));
    assert_unchanged(&before, db_path("empty.db"));
    snprintf(wal, sizeof wal, "%s-wal", db_path("empty.db"));
    ck_assert_int_eq(size_of(wal), -1);

    raw_exec(db_path("other.db"), "CREATE TABLE customers (id INTEGER PRIMARY KEY)");
    file_state(db_path("other.db"), &before);
    ck_assert_int_eq(open_read_only(&s, db_path("other.db"), 5000, ctx), ORDERLY_ESTORAGE);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "not an orderly one"));
    assert_unchanged(&before, db_path("other.db"));

    /* an older schema is migrated only by a read-write open */
    s = open_ok(db_path("old.db"), ctx);
    orderly_sqlite_storage_close(s);
    raw_exec(db_path("old.db"), "PRAGMA user_version = 1");
    file_state(db_path("old.db"), &before);
    ck_assert_int_eq(open_read_only(&s, db_path("old.db"), 5000, ctx), ORDERLY_EVERSION);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "open it read-write once"));
    assert_unchanged(&before, db_path("old.db"));
    ck_assert_int_eq(raw_int(db_path("old.db"), "PRAGMA user_version"), 1);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* A database made read-only on disk is read through a read-only storage
 * without a byte written: the file keeps its size, bytes and mtime, the
 * WAL gets no frame, and writes are refused as misuse (tests run as root,
 * whom chmod does not stop, so SQLITE_OPEN_READONLY must). */
START_TEST(test_read_only_reads_without_writing)
{
    static struct file_state before;
    struct engine_fx f;
    orderly_engine_options eo = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_ctx *ctx = new_ctx();
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_health h = ORDERLY_HEALTH_INIT;
    size_t n = 0;
    char wal[400];

    make_dir();
    engine_open(&f, db_path("ro.db"), ORDERLY_SQLITE_SYNC_FULL);
    ck_assert_int_eq(create_order(f.e, "ord-ro", T0), 0);
    engine_close(&f);
    ck_assert_int_eq(chmod(db_path("ro.db"), 0444), 0);
    snprintf(wal, sizeof wal, "%s-wal", db_path("ro.db"));
    ck_assert_int_eq(size_of(wal), -1);
    file_state(db_path("ro.db"), &before);

    ck_assert_int_eq(open_read_only(&f.s, db_path("ro.db"), 5000, ctx), 0);
    ck_assert_int_eq(orderly_memory_transport_new(&f.t, NULL), 0);
    eo.storage = f.s;
    eo.transport = f.t;
    ck_assert_int_eq(orderly_engine_open(&f.e, &eo, NULL), 0);
    ck_assert_int_eq(orderly_engine_get_order(f.e, "ord-ro", &v), 0);
    ck_assert_uint_eq(v.version, 1);
    ck_assert_int_eq(orderly_engine_health(f.e, T0, 0, 0, &h), 0);
    ck_assert_uint_ge(h.outbox_pending, 1);
    ck_assert_int_eq(authorize(f.e, "ord-ro", T0 + 1), ORDERLY_EMISUSE);
    ck_assert_ptr_nonnull(strstr(orderly_engine_errmsg(f.e), "is open read-only"));
    ck_assert_int_eq(orderly_engine_pump(f.e, T0 + 2, 0, &n), ORDERLY_EMISUSE);
    engine_close(&f);

    assert_unchanged(&before, db_path("ro.db"));
    ck_assert_int_le(size_of(wal), 0);
    ck_assert_int_eq(chmod(db_path("ro.db"), 0600), 0);
    ck_assert_int_eq(raw_int(db_path("ro.db"), "SELECT count(*) FROM records"), 1);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* A probe is not a writer: while another connection holds a write
 * transaction, health and order reads on a read-only storage answer at
 * once from the last commit, long before their generous busy timeout. */
START_TEST(test_read_only_does_not_wait_for_a_writer)
{
    struct engine_fx w, r;
    orderly_engine_options eo = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_ctx *ctx = new_ctx();
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    orderly_health h = ORDERLY_HEALTH_INIT;
    void *t;
    double t0;

    make_dir();
    engine_open(&w, db_path("busy.db"), ORDERLY_SQLITE_SYNC_NORMAL);
    ck_assert_int_eq(create_order(w.e, "ord-1", T0), 0);
    ck_assert_int_eq(open_read_only(&r.s, db_path("busy.db"), 20000, ctx), 0);
    ck_assert_int_eq(orderly_memory_transport_new(&r.t, NULL), 0);
    eo.storage = r.s;
    eo.transport = r.t;
    ck_assert_int_eq(orderly_engine_open(&r.e, &eo, NULL), 0);

    /* the writer's connection takes the write lock and keeps it */
    t = begin(w.s, ctx);
    ck_assert_int_eq(w.s->save(w.s, ctx, t, "ord-2", (const uint8_t *)"x", 1, 0), 0);
    t0 = mono_ms();
    ck_assert_int_eq(orderly_engine_health(r.e, T0, 0, 0, &h), 0);
    ck_assert_int_eq(orderly_engine_get_order(r.e, "ord-1", &v), 0);
    ck_assert_int_eq(orderly_engine_get_order(r.e, "ord-2", &v), ORDERLY_ENOTFOUND);
    ck_assert_double_lt(mono_ms() - t0, 20000.0);
    w.s->rollback(w.s, ctx, t);

    engine_close(&r);
    engine_close(&w);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

static Suite *sqlite_suite(void)
{
    Suite *s = suite_create("sqlite");

    orderly_test_case(s, test_create_and_reopen_persists, 30);
    orderly_test_case(s, test_migrates_empty_file, 30);
    orderly_test_case(s, test_migrates_v1_tokens_above_old_leases, 30);
    orderly_test_case(s, test_migrates_v2_to_history, 30);
    orderly_test_case(s, test_newer_schema_is_eversion, 30);
    orderly_test_case(s, test_garbage_and_foreign_files_are_estorage, 30);
    orderly_test_case(s, test_missing_file_and_bad_options, 30);

    orderly_test_case(s, test_cas_scan_and_rollback, 30);

    orderly_test_case(s, test_claim_orders_each_group, 30);
    orderly_test_case(s, test_finish_is_fenced, 30);
    orderly_test_case(s, test_purge_and_idempotency_expiry, 30);

    orderly_test_loop(s, test_matches_memory_adapter, 0, 6, 60);

    orderly_test_case(s, test_second_writer_waits_then_conflicts, 30);

    orderly_test_case(s, test_engine_cycle_on_file, 30);

    orderly_test_case(s, test_read_only_refuses_and_touches_nothing, 60);
    orderly_test_case(s, test_read_only_reads_without_writing, 60);
    orderly_test_case(s, test_read_only_does_not_wait_for_a_writer, 60);

    orderly_test_case(s, test_concurrent_duplicate_is_a_duplicate, 30);

    orderly_test_case(s, test_killed_writer_loses_nothing_committed, 60);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sqlite_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
