/*
 * The SQLite adapter's host-side settings (options version 3): each one is
 * read back from the storage's own connection to show it took effect, and
 * shown at work where it changes behaviour (the WAL left to the host, the
 * exclusive lock). Older option versions keep SQLite's defaults, and every
 * out-of-range field is ECONFIG naming the field.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../check_case.h"
#include "../../adapters/sqlite/internal.h"
#include "base/ctx.h"

#include "scratch.h"

static orderly_storage *open_with(const char *path, const orderly_sqlite_options *o,
                                  orderly_ctx *ctx)
{
    orderly_storage *s = NULL;
    int rc = orderly_sqlite_storage_open(&s, path, o, ctx);

    ck_assert_msg(rc == 0, "open %s: %d %s", path, rc, orderly_ctx_errmsg(ctx));
    return s;
}

/* One integer from sql run on the storage's own connection. */
static int64_t conn_int(orderly_storage *s, const char *sql)
{
    sqlite3 *db = ((struct orderly__sqlite *)(void *)s)->db;
    sqlite3_stmt *st;
    int64_t v = -1;

    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void conn_text(orderly_storage *s, const char *sql, char *out, size_t cap)
{
    sqlite3 *db = ((struct orderly__sqlite *)(void *)s)->db;
    sqlite3_stmt *st;

    out[0] = '\0';
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* What a connection of this SQLite build starts with. */
static int64_t sqlite_default(const char *pragma)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;

    ck_assert_int_eq(sqlite3_open(db_path("defaults.db"), &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, pragma, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static off_t file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* n committed transactions of one 2 KiB record each. */
static void write_records(orderly_storage *s, orderly_ctx *ctx, const char *prefix, int n)
{
    static const uint8_t data[2048];
    char key[64];
    void *t;
    int i, rc;

    for (i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s-%d", prefix, i);
        ck_assert_int_eq(s->begin(s, ctx, &t), 0);
        rc = s->save(s, ctx, t, key, data, sizeof data, 0);
        ck_assert_msg(rc == 0, "save: %d %s", rc, orderly_ctx_errmsg(ctx));
        ck_assert_int_eq(s->commit(s, ctx, t), 0);
    }
}

/* ---- versions and validation ----------------------------------------------- */

START_TEST(test_older_versions_keep_sqlite_defaults)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s;
    char mode[32];
    unsigned v;

    make_dir();
    for (v = 1; v <= ORDERLY_SQLITE_OPTIONS_VERSION; v++) {
        o.version = v;
        /* fields past an old version are never read: garbage there is ignored */
        if (v < 3) {
            o.checkpoint = 99;
            o.exclusive = 7;
            o.cache_kib = -5;
            o.mmap_bytes = -1;
        } else {
            memset(&o.checkpoint, 0, sizeof o - offsetof(orderly_sqlite_options, checkpoint));
        }
        s = open_with(db_path("old.db"), &o, ctx);
        ck_assert_int_eq(conn_int(s, "PRAGMA wal_autocheckpoint"),
                         sqlite_default("PRAGMA wal_autocheckpoint"));
        ck_assert_int_eq(conn_int(s, "PRAGMA cache_size"), sqlite_default("PRAGMA cache_size"));
        ck_assert_int_eq(conn_int(s, "PRAGMA mmap_size"), sqlite_default("PRAGMA mmap_size"));
        conn_text(s, "PRAGMA locking_mode", mode, sizeof mode);
        ck_assert_str_eq(mode, "normal");
        orderly_sqlite_storage_close(s);
    }
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* Sets one field of a fresh INIT copy, expects ECONFIG naming `field`,
 * and checks that nothing was created. */
#define EXPECT_ECONFIG(field, value)                                                          \
    do {                                                                                      \
        orderly_sqlite_options o_ = ORDERLY_SQLITE_OPTIONS_INIT;                              \
        orderly_storage *s_ = NULL;                                                           \
        o_.field = value;                                                                     \
        ck_assert_int_eq(orderly_sqlite_storage_open(&s_, db_path("bad.db"), &o_, ctx),       \
                         ORDERLY_ECONFIG);                                                    \
        ck_assert_ptr_null(s_);                                                               \
        ck_assert_msg(strstr(orderly_ctx_errmsg(ctx), #field) != NULL, "%s: '%s'", #field,    \
                      orderly_ctx_errmsg(ctx));                                               \
        ck_assert_int_eq(access(db_path("bad.db"), F_OK), -1);                                \
    } while (0)

START_TEST(test_out_of_range_settings_are_econfig)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s = NULL;

    make_dir();
    EXPECT_ECONFIG(checkpoint, 2);
    EXPECT_ECONFIG(checkpoint, -1);
    EXPECT_ECONFIG(checkpoint_pages, -1);
    EXPECT_ECONFIG(checkpoint_pages, 1000001);
    EXPECT_ECONFIG(exclusive, 2);
    EXPECT_ECONFIG(cache_kib, -1);
    EXPECT_ECONFIG(mmap_bytes, -1);
    /* pages under the host policy would be a setting that does nothing */
    o.checkpoint = ORDERLY_SQLITE_CHECKPOINT_HOST;
    o.checkpoint_pages = 500;
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("bad.db"), &o, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "checkpoint_pages"));
    /* an inspector must never lock the host out */
    o = (orderly_sqlite_options)ORDERLY_SQLITE_OPTIONS_INIT;
    o.exclusive = 1;
    o.read_only = 1;
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("bad.db"), &o, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "exclusive"));
    ck_assert_int_eq(access(db_path("bad.db"), F_OK), -1);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* ---- checkpoints -------------------------------------------------------------- */

START_TEST(test_checkpoint_pages_bound_the_wal)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s;
    int64_t page;

    make_dir();
    o.checkpoint_pages = 20;
    s = open_with(db_path("auto.db"), &o, ctx);
    ck_assert_int_eq(conn_int(s, "PRAGMA wal_autocheckpoint"), 20);
    page = conn_int(s, "PRAGMA page_size");
    write_records(s, ctx, "k", 400);
    /* 400 transactions of a 2 KiB record and its index page would fill
     * far more than 20 pages; the automatic checkpoints kept rewinding
     * the WAL, so it never grew much past the threshold */
    ck_assert_int_lt(file_size(db_path("auto.db-wal")), 40 * (page + 24) + 32);
    orderly_sqlite_storage_close(s);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

START_TEST(test_host_policy_leaves_checkpoints_to_the_host)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s;
    int wal = -1, copied = -1;
    int64_t page;

    make_dir();
    o.checkpoint = ORDERLY_SQLITE_CHECKPOINT_HOST;
    s = open_with(db_path("host.db"), &o, ctx);
    ck_assert_int_eq(conn_int(s, "PRAGMA wal_autocheckpoint"), 0);
    page = conn_int(s, "PRAGMA page_size");
    write_records(s, ctx, "k", 1200);
    /* past SQLite's 1000-page default: no commit checkpointed */
    ck_assert_int_gt(file_size(db_path("host.db-wal")), 1000 * page);

    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(&wal, &copied, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_PASSIVE, 0, ctx),
                     0);
    ck_assert_int_gt(wal, 1000);
    ck_assert_int_eq(copied, wal);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(&wal, &copied, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_TRUNCATE, 0, ctx),
                     0);
    ck_assert_int_eq(wal, 0);
    ck_assert_int_eq(file_size(db_path("host.db-wal")), 0);
    /* the data went to the database file, and the storage goes on */
    ck_assert_int_eq(conn_int(s, "SELECT count(*) FROM records"), 1200);
    write_records(s, ctx, "more", 3);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(NULL, NULL, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_TRUNCATE, 0, ctx),
                     0);
    orderly_sqlite_storage_close(s);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* With a threshold the call is free until the storage's own commits have
 * filled the WAL that far: a host may call it as often as it likes. */
START_TEST(test_host_checkpoint_waits_for_min_pages)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s, *automatic;
    int wal = -1, copied = -1;
    off_t size;

    make_dir();
    o.checkpoint = ORDERLY_SQLITE_CHECKPOINT_HOST;
    s = open_with(db_path("min.db"), &o, ctx);
    write_records(s, ctx, "few", 5);
    size = file_size(db_path("min.db-wal"));
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(&wal, &copied, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_TRUNCATE, 1000,
                                                       ctx),
                     0);
    ck_assert_int_gt(wal, 0);
    ck_assert_int_lt(wal, 1000);
    ck_assert_int_eq(copied, 0);
    ck_assert_int_eq(file_size(db_path("min.db-wal")), size); /* not truncated: not run */

    write_records(s, ctx, "many", 1200);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(&wal, &copied, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_PASSIVE, 1000,
                                                       ctx),
                     0);
    ck_assert_int_ge(wal, 1000);
    ck_assert_int_eq(copied, wal);
    /* all copied: the count starts again from nothing */
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(&wal, &copied, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_PASSIVE, 1000,
                                                       ctx),
                     0);
    ck_assert_int_eq(wal, 0);
    ck_assert_int_eq(copied, 0);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(NULL, NULL, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_PASSIVE, -1, ctx),
                     ORDERLY_EINVAL);
    orderly_sqlite_storage_close(s);

    /* under AUTO nothing counts the pages: a threshold is a mistake */
    o = (orderly_sqlite_options)ORDERLY_SQLITE_OPTIONS_INIT;
    automatic = open_with(db_path("min.db"), &o, ctx);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(NULL, NULL, automatic,
                                                       ORDERLY_SQLITE_CHECKPOINT_PASSIVE, 5, ctx),
                     ORDERLY_EMISUSE);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "HOST"));
    orderly_sqlite_storage_close(automatic);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

START_TEST(test_checkpoint_misuse_and_busy)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s, *ro;
    sqlite3 *reader;
    int wal = -1, copied = -1;
    void *t;

    make_dir();
    o.checkpoint = ORDERLY_SQLITE_CHECKPOINT_HOST;
    o.busy_timeout_ms = 50;
    s = open_with(db_path("ck.db"), &o, ctx);
    write_records(s, ctx, "k", 10);

    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(&wal, &copied, NULL,
                                                       ORDERLY_SQLITE_CHECKPOINT_PASSIVE, 0, ctx),
                     ORDERLY_EINVAL);
    ck_assert_int_eq(wal, 0);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(NULL, NULL, s, 2, 0, ctx), ORDERLY_EINVAL);
    ck_assert_int_eq(s->begin(s, ctx, &t), 0);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(NULL, NULL, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_PASSIVE, 0, ctx),
                     ORDERLY_EMISUSE);
    s->rollback(s, ctx, t);

    o = (orderly_sqlite_options)ORDERLY_SQLITE_OPTIONS_INIT;
    o.read_only = 1;
    ro = open_with(db_path("ck.db"), &o, ctx);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(NULL, NULL, ro,
                                                       ORDERLY_SQLITE_CHECKPOINT_PASSIVE, 0, ctx),
                     ORDERLY_EMISUSE);
    orderly_sqlite_storage_close(ro);

    /* a reader holding a snapshot of the WAL: TRUNCATE waits it out and
     * gives up (transient), PASSIVE copies what it can without waiting */
    ck_assert_int_eq(sqlite3_open(db_path("ck.db"), &reader), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM records;", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    write_records(s, ctx, "late", 5);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(&wal, &copied, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_TRUNCATE, 0, ctx),
                     ORDERLY_ECONFLICT);
    ck_assert_int_eq(orderly_ctx_native(ctx) & 0xff, SQLITE_BUSY);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(&wal, &copied, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_PASSIVE, 0, ctx),
                     0);
    ck_assert_int_lt(copied, wal);
    ck_assert_int_eq(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(reader);
    ck_assert_int_eq(orderly_sqlite_storage_checkpoint(&wal, &copied, s,
                                                       ORDERLY_SQLITE_CHECKPOINT_TRUNCATE, 0, ctx),
                     0);
    orderly_sqlite_storage_close(s);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

/* ---- locking, cache, mmap ------------------------------------------------------ */

START_TEST(test_exclusive_keeps_other_connections_out)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s, *other = NULL;
    sqlite3 *raw;
    char mode[32];

    make_dir();
    o.exclusive = 1;
    o.busy_timeout_ms = 50;
    s = open_with(db_path("x.db"), &o, ctx);
    conn_text(s, "PRAGMA locking_mode", mode, sizeof mode);
    ck_assert_str_eq(mode, "exclusive");
    write_records(s, ctx, "k", 3);
    /* the wal-index lives in this process's memory: no -shm file */
    ck_assert_int_eq(access(db_path("x.db-shm"), F_OK), -1);

    ck_assert_int_eq(sqlite3_open(db_path("x.db"), &raw), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(raw, "SELECT count(*) FROM records", NULL, NULL, NULL) & 0xff,
                     SQLITE_BUSY);
    o = (orderly_sqlite_options)ORDERLY_SQLITE_OPTIONS_INIT;
    o.busy_timeout_ms = 50;
    ck_assert_int_lt(orderly_sqlite_storage_open(&other, db_path("x.db"), &o, ctx), 0);
    ck_assert_ptr_null(other);

    /* the lock goes with the storage */
    orderly_sqlite_storage_close(s);
    ck_assert_int_eq(sqlite3_exec(raw, "SELECT count(*) FROM records", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    other = open_with(db_path("x.db"), &o, ctx);
    ck_assert_int_eq(conn_int(other, "SELECT count(*) FROM records"), 3);
    orderly_sqlite_storage_close(other);
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

START_TEST(test_cache_and_mmap_take_effect)
{
    orderly_ctx *ctx = new_ctx();
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_storage *s = NULL;

    make_dir();
    o.cache_kib = 8192;
    o.mmap_bytes = 1 << 20;
    s = open_with(db_path("c.db"), &o, ctx);
    ck_assert_int_eq(conn_int(s, "PRAGMA cache_size"), -8192);
    ck_assert_int_eq(conn_int(s, "PRAGMA mmap_size"), 1 << 20);
    write_records(s, ctx, "k", 3);
    ck_assert_int_eq(conn_int(s, "SELECT count(*) FROM records"), 3);
    orderly_sqlite_storage_close(s);

    /* SQLite caps mmap at its build's limit; a request above it is not
     * quietly shrunk */
    s = NULL;
    o.mmap_bytes = INT64_MAX;
    ck_assert_int_eq(orderly_sqlite_storage_open(&s, db_path("c.db"), &o, ctx), ORDERLY_ECONFIG);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(orderly_ctx_errmsg(ctx), "mmap_bytes"));
    orderly_ctx_free(ctx);
    remove_dir();
}
END_TEST

static Suite *options_suite(void)
{
    Suite *s = suite_create("sqlite-options");

    orderly_test_case(s, test_older_versions_keep_sqlite_defaults, 30);
    orderly_test_case(s, test_out_of_range_settings_are_econfig, 30);
    orderly_test_case(s, test_checkpoint_pages_bound_the_wal, 60);
    orderly_test_case(s, test_host_policy_leaves_checkpoints_to_the_host, 60);
    orderly_test_case(s, test_host_checkpoint_waits_for_min_pages, 60);
    orderly_test_case(s, test_checkpoint_misuse_and_busy, 30);
    orderly_test_case(s, test_exclusive_keeps_other_connections_out, 30);
    orderly_test_case(s, test_cache_and_mmap_take_effect, 30);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(options_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
