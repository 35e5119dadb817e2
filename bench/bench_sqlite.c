/*
 * The SQLite adapter against raw SQLite doing the same row writes.
 *
 * The engine runs a fixed lifecycle (create, then eleven commands) per
 * order on a database file through liborderly-sqlite. A recording wrapper
 * around the storage vtable passes every slot the adapter fills through
 * (so the engine keeps order history and reads in read transactions, as
 * on the bare adapter) and notes every write the engine asks for (record
 * insert or guarded update, queue push, idempotency mark, history entry)
 * and every transaction boundary. Raw SQLite then replays exactly those
 * writes, with the same payload sizes, in the same transactions, on a
 * fresh file with the same schema and indexes, opened as the adapter
 * opens its own (no mutex, persistent statements, the same synchronous
 * level, locking mode and checkpoint threshold), so the ratio is the
 * adapter's and the engine's overhead and nothing else. Engine and raw
 * runs alternate, three each, and each side's median is printed, with the
 * ratio of wall time and of this process's CPU time.
 * Raw does no reads: the engine's idempotency check and aggregate load
 * count against it. The adapter also writes each queue's id counter once
 * per transaction; raw replays that write too, since the adapter has to
 * make it.
 *
 * Usage: bench_sqlite [orders]   (default 5000; FULL runs a tenth)
 * Prints figures; asserts nothing (machines here are shared and noisy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "orderly.h"
#include "orderly/sys/memory.h"
#include "orderly/sys/sqlite.h"
#include "lifecycle.h"
#include "recorder.h"

static double clock_s(clockid_t which)
{
    struct timespec ts;

    clock_gettime(which, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall and CPU seconds of one run: on a shared machine the CPU time of
 * this process is the steadier of the two (it leaves out the waits for
 * other processes, not the fsyncs' own cost, which is in neither). */
struct took {
    double wall, cpu;
};

static void start(struct took *t)
{
    t->wall = clock_s(CLOCK_MONOTONIC);
    t->cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void stop(struct took *t)
{
    t->wall = clock_s(CLOCK_MONOTONIC) - t->wall;
    t->cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - t->cpu;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_sqlite: %s: %s\n", what, detail);
    exit(1);
}

/* ---- the engine workload ------------------------------------------------- */

/* One comparison: the same settings on both sides. */
struct config {
    const char *label;
    int sync;              /* orderly_sqlite_sync */
    size_t orders, batch;  /* batch > 1: that many orders per transaction */
    int exclusive;         /* locking_mode=EXCLUSIVE */
    int checkpoint_pages;  /* wal_autocheckpoint; 0 = SQLite's 1000 */
};


static void check(orderly_engine *e, const char *what, int rc)
{
    if (rc < 0)
        die(what, orderly_engine_errmsg(e));
}

static void one_order(orderly_engine *e, size_t i)
{
    orderly_line line = { 42, 7, 2, 1250 };
    orderly_order_spec sp;
    orderly_command c;
    orderly_result r = ORDERLY_RESULT_INIT;
    char id[32];
    size_t k;

    snprintf(id, sizeof id, "ord-%zu", i);
    memset(&sp, 0, sizeof sp);
    sp.order_id = id;
    sp.currency = "EUR";
    sp.payment_method = ORDERLY_PAY_CARD;
    sp.lines = &line;
    sp.n_lines = 1;
    sp.now = 1000;
    check(e, "create", orderly_engine_create_order(e, &sp, &r));
    for (k = 0; k < STEPS; k++) {
        memset(&c, 0, sizeof c);
        c.order_id = id;
        c.machine = lifecycle[k].machine;
        c.event = lifecycle[k].event;
        c.amount = k == 0 ? 2500 : 0;
        c.now = 2000;
        check(e, "apply", orderly_engine_apply(e, &c, &r));
    }
}

/* Runs the workload through the engine; returns what it took. */
static struct took run_engine(const char *path, const struct config *cf, struct recorder *rec)
{
    orderly_engine_options o = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_sqlite_options so = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_ctx *ctx;
    orderly_storage *s;
    orderly_transport *t;
    orderly_engine *e;
    struct took dt;
    size_t i;

    so.synchronous = cf->sync;
    so.exclusive = cf->exclusive;
    so.checkpoint_pages = cf->checkpoint_pages;
    if (orderly_ctx_new(&ctx, NULL) < 0)
        die("ctx", "out of memory");
    if (orderly_sqlite_storage_open(&s, path, &so, ctx) < 0)
        die("open", orderly_ctx_errmsg(ctx));
    if (orderly_memory_transport_new(&t, NULL) < 0)
        die("transport", "out of memory");
    orderly_memory_transport_keep(t, 0);
    recorder_init(rec, s);
    o.storage = &rec->base;
    o.transport = t;
    if (orderly_engine_open(&e, &o, ctx) < 0)
        die("engine", orderly_ctx_errmsg(ctx));
    start(&dt);
    for (i = 0; i < cf->orders; i++) {
        if (cf->batch > 1 && i % cf->batch == 0)
            check(e, "begin batch", orderly_engine_begin_batch(e));
        one_order(e, i);
        if (cf->batch > 1 && (i % cf->batch == cf->batch - 1 || i == cf->orders - 1))
            check(e, "commit batch", orderly_engine_commit_batch(e));
    }
    stop(&dt);
    orderly_engine_close(e);
    orderly_sqlite_storage_close(s);
    orderly_memory_transport_free(t);
    orderly_ctx_free(ctx);
    return dt;
}

/* ---- raw SQLite replay ----------------------------------------------------- */

static void raw_ok(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        die(what, sqlite3_errmsg(db));
}

static void step_reset(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    raw_ok(db, sqlite3_step(st), what);
    sqlite3_reset(st);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;

    raw_ok(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL), "prepare");
    return st;
}

/* Replays the recorded writes on a fresh file with the adapter's schema,
 * opened and set up as the adapter opens its own (no mutex, the same
 * pragmas, persistent statements); returns what it took. */
static struct took run_raw(const char *path, const struct config *cf, const struct recorder *rec)
{
    static const uint8_t blob[4096];
    static const uint8_t fp[16];
    orderly_storage *s;
    sqlite3 *db;
    sqlite3_stmt *ins, *upd, *push, *seq, *idem, *hist, *begin, *commit, *rollback;
    char sql[64];
    uint64_t last[4] = { 0, 0, 0, 0 };
    int dirty[4] = { 0, 0, 0, 0 }, q;
    struct took dt;
    size_t i;

    /* the schema (tables and indexes) comes from the adapter itself */
    if (orderly_sqlite_storage_open(&s, path, NULL, NULL) < 0)
        die("raw", "cannot create the schema");
    orderly_sqlite_storage_close(s);
    raw_ok(NULL, sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL),
           "raw open");
    if (cf->exclusive)
        raw_ok(db, sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE", NULL, NULL, NULL), "raw lock");
    raw_ok(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), "raw wal");
    raw_ok(db, sqlite3_exec(db, cf->sync ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL",
                            NULL, NULL, NULL), "raw sync");
    snprintf(sql, sizeof sql, "PRAGMA wal_autocheckpoint=%d",
             cf->checkpoint_pages > 0 ? cf->checkpoint_pages : 1000);
    raw_ok(db, sqlite3_exec(db, sql, NULL, NULL, NULL), "raw checkpoint");
    ins = prep(db, "INSERT INTO records (key, version, data) VALUES (?1, 1, ?2)");
    upd = prep(db, "UPDATE records SET data = ?2, version = version + 1"
                   " WHERE key = ?1 AND version = ?3");
    push = prep(db, "INSERT INTO items (queue, id, grp, kind, state, attempts,"
                    " created, due, lease_token, lease_until, payload)"
                    " VALUES (?1, ?2, ?3, 1, 0, 0, 1000, 1000, 0, 0, ?4)");
    seq = prep(db, "UPDATE queues SET last_id = ?2 WHERE queue = ?1");
    idem = prep(db, "INSERT INTO idem (key, fingerprint, expires, result)"
                    " VALUES (?1, ?2, 999999999, ?3)");
    hist = prep(db, "INSERT INTO history (grp, seq, kind, created, payload)"
                    " VALUES (?1, ?2, 1, 1000, ?3)");
    begin = prep(db, "BEGIN IMMEDIATE");
    commit = prep(db, "COMMIT");
    rollback = prep(db, "ROLLBACK");

    start(&dt);
    for (i = 0; i < rec->n; i++) {
        const struct rec_op *o = &rec->ops[i];
        const char *key = rec->keys + o->key;
        switch (o->op) {
        case OP_BEGIN:
            step_reset(db, begin, "begin");
            break;
        case OP_COMMIT:
            for (q = 1; q < 4; q++) {
                if (!dirty[q])
                    continue;
                sqlite3_bind_int(seq, 1, q);
                sqlite3_bind_int64(seq, 2, (sqlite3_int64)last[q]);
                step_reset(db, seq, "queue ids");
                dirty[q] = 0;
            }
            step_reset(db, commit, "commit");
            break;
        case OP_ROLLBACK:
            step_reset(db, rollback, "rollback");
            break;
        case OP_INSERT:
            sqlite3_bind_text(ins, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_blob(ins, 2, blob, (int)o->len, SQLITE_STATIC);
            step_reset(db, ins, "insert");
            break;
        case OP_UPDATE:
            sqlite3_bind_text(upd, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_blob(upd, 2, blob, (int)o->len, SQLITE_STATIC);
            sqlite3_bind_int64(upd, 3, (sqlite3_int64)o->expected);
            step_reset(db, upd, "update");
            break;
        case OP_PUSH:
            sqlite3_bind_int(push, 1, o->queue);
            sqlite3_bind_int64(push, 2, (sqlite3_int64)++last[o->queue]);
            sqlite3_bind_text(push, 3, key, -1, SQLITE_STATIC);
            sqlite3_bind_blob(push, 4, blob, (int)o->len, SQLITE_STATIC);
            step_reset(db, push, "push");
            dirty[o->queue] = 1;
            break;
        case OP_IDEM:
            sqlite3_bind_text(idem, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_blob(idem, 2, fp, 16, SQLITE_STATIC);
            sqlite3_bind_blob(idem, 3, blob, (int)o->len, SQLITE_STATIC);
            step_reset(db, idem, "idem");
            break;
        case OP_HISTORY:
            sqlite3_bind_text(hist, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(hist, 2, (sqlite3_int64)o->expected);
            sqlite3_bind_blob(hist, 3, blob, (int)o->len, SQLITE_STATIC);
            step_reset(db, hist, "history");
            break;
        }
    }
    stop(&dt);
    sqlite3_finalize(ins);
    sqlite3_finalize(upd);
    sqlite3_finalize(push);
    sqlite3_finalize(seq);
    sqlite3_finalize(idem);
    sqlite3_finalize(hist);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_finalize(rollback);
    sqlite3_close(db);
    return dt;
}

/* ---- driver ---------------------------------------------------------------- */

static char dir[256];

static void remove_files(const char *name)
{
    static const char *const suffix[] = { "", "-wal", "-shm" };
    char p[320];
    size_t i;

    for (i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s%s", dir, name, suffix[i]);
        unlink(p);
    }
}

/* Rounds per side, alternated (engine, raw, engine, raw, ...) so the
 * writeback of one run's pages and other load on the machine fall on both
 * sides alike; each side's median is reported. */
#define ROUNDS 3

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void compare(const struct config *cf)
{
    struct recorder rec;
    char epath[320], rpath[320];
    double ew[ROUNDS], ec[ROUNDS], rw[ROUNDS], rc[ROUNDS];
    double events = (double)cf->orders * (double)(STEPS + 1);
    struct took t;
    size_t i, writes = 0, txns = 0;
    int k;

    snprintf(epath, sizeof epath, "%s/engine.db", dir);
    snprintf(rpath, sizeof rpath, "%s/raw.db", dir);
    memset(&rec, 0, sizeof rec);
    for (k = 0; k < ROUNDS; k++) {
        struct recorder again;
        /* every engine round runs the same workload; the first one's
         * record is what raw replays */
        t = run_engine(epath, cf, k == 0 ? &rec : &again);
        ew[k] = t.wall;
        ec[k] = t.cpu;
        if (k > 0) {
            free(again.ops);
            free(again.keys);
        }
        remove_files("engine.db");
        t = run_raw(rpath, cf, &rec);
        rw[k] = t.wall;
        rc[k] = t.cpu;
        remove_files("raw.db");
    }
    for (i = 0; i < rec.n; i++) {
        writes += rec.ops[i].op >= OP_INSERT;
        txns += rec.ops[i].op == OP_COMMIT;
    }
    qsort(ew, ROUNDS, sizeof ew[0], by_value);
    qsort(ec, ROUNDS, sizeof ec[0], by_value);
    qsort(rw, ROUNDS, sizeof rw[0], by_value);
    qsort(rc, ROUNDS, sizeof rc[0], by_value);
    printf("%-40s engine %7.0f events/s  raw %7.0f events/s  ratio %5.1f%%  (CPU: %5.1f%%)\n",
           cf->label, events / ew[ROUNDS / 2], events / rw[ROUNDS / 2],
           100.0 * rw[ROUNDS / 2] / ew[ROUNDS / 2], 100.0 * rc[ROUNDS / 2] / ec[ROUNDS / 2]);
    printf("%-40s (%zu events, %zu transactions, %.2f row writes per event)\n", "", (size_t)events,
           txns, (double)writes / events);
    recorder_free(&rec);
}

int main(int argc, char **argv)
{
    size_t orders = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 5000;
    const char *tmp = getenv("TMPDIR");
    const struct config configs[] = {
        { "NORMAL, 1 event per transaction", ORDERLY_SQLITE_SYNC_NORMAL, orders, 1, 0, 0 },
        { "NORMAL, 8 orders per batch", ORDERLY_SQLITE_SYNC_NORMAL, orders, 8, 0, 0 },
        { "FULL, 1 event per transaction", ORDERLY_SQLITE_SYNC_FULL, orders / 10 + 1, 1, 0, 0 },
        /* the options version 3 settings a single-process host would pick */
        { "NORMAL, 1/txn, exclusive", ORDERLY_SQLITE_SYNC_NORMAL, orders, 1, 1, 0 },
        { "NORMAL, 1/txn, exclusive, ckpt 10000", ORDERLY_SQLITE_SYNC_NORMAL, orders, 1, 1, 10000 },
        { "FULL, 1/txn, exclusive, ckpt 10000", ORDERLY_SQLITE_SYNC_FULL, orders / 10 + 1, 1, 1,
          10000 },
    };
    size_t c;

    snprintf(dir, sizeof dir, "%s/orderly-bench-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", dir);
    printf("orderly on SQLite %s (WAL) vs raw SQLite, same row writes and transactions\n",
           sqlite3_libversion());
    printf("one order = create + %zu commands = %zu events; SPEC target: ratio >= 80%%\n", STEPS,
           STEPS + 1);
    printf("median of %d alternated rounds per side\n", ROUNDS);
    for (c = 0; c < sizeof configs / sizeof configs[0]; c++)
        compare(&configs[c]);
    rmdir(dir);
    return 0;
}
