/*
 * Helpers shared by the subcommands of the orderly tool.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "orderly %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'orderly %s --help' for usage.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_i64(const char *s, int64_t *out)
{
    long long v;
    char *end;

    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int cli_parse_rate(const char *s, double *out)
{
    double v;
    char *end;

    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v >= 0.0) || v > 1.0)
        return -1;
    *out = v;
    return 0;
}

int cli_db_open(cli_db *db, const char *cmd, const char *path, int read_only)
{
    orderly_sqlite_options so = ORDERLY_SQLITE_OPTIONS_INIT;
    orderly_engine_options eo = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_ctx *ctx = NULL;
    struct stat sb;
    int rc;

    memset(db, 0, sizeof *db);
    db->path = path;
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "orderly %s: no database at '%s' (run 'orderly simulate --db %s' to make one)\n",
                cmd, path, path);
        return CLI_EXIT_FAIL;
    }
    /* A read-write open takes an empty file for a new database and writes
     * its schema; a command that only opens databases must not make one. */
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0) {
        fprintf(stderr, "orderly %s: '%s' is empty, not an orderly database\n", cmd, path);
        return CLI_EXIT_FAIL;
    }
    so.create = 0;
    so.read_only = read_only;
    if (orderly_ctx_new(&ctx, NULL) < 0) {
        fprintf(stderr, "orderly %s: out of memory\n", cmd);
        return CLI_EXIT_FAIL;
    }
    rc = orderly_sqlite_storage_open(&db->sqlite, path, &so, ctx);
    if (rc < 0) {
        fprintf(stderr, "orderly %s: cannot open '%s': %s (%s)\n", cmd, path,
                orderly_ctx_errmsg(ctx)[0] != '\0' ? orderly_ctx_errmsg(ctx) : orderly_strerror(rc),
                orderly_error_name(rc));
        orderly_ctx_free(ctx);
        return CLI_EXIT_FAIL;
    }
    if ((rc = orderly_memory_transport_new(&db->transport, NULL)) < 0) {
        fprintf(stderr, "orderly %s: %s\n", cmd, orderly_strerror(rc));
        cli_db_close(db);
        orderly_ctx_free(ctx);
        return CLI_EXIT_FAIL;
    }
    eo.storage = db->sqlite;
    eo.transport = db->transport;
    /* the inspection commands read any order this build can hold, however
     * many lines the engine that wrote it allowed */
    eo.max_lines = (uint32_t)orderly_lines_max();
    eo.max_parts = (uint32_t)orderly_parts_max();
    if ((rc = orderly_engine_open(&db->engine, &eo, ctx)) < 0) {
        fprintf(stderr, "orderly %s: cannot open the engine on '%s': %s\n", cmd, path,
                orderly_ctx_errmsg(ctx));
        cli_db_close(db);
        orderly_ctx_free(ctx);
        return CLI_EXIT_FAIL;
    }
    orderly_ctx_free(ctx);
    return CLI_EXIT_OK;
}

void cli_db_close(cli_db *db)
{
    orderly_engine_close(db->engine);
    orderly_memory_transport_free(db->transport);
    orderly_sqlite_storage_close(db->sqlite);
    db->engine = NULL;
    db->transport = NULL;
    db->sqlite = NULL;
}

static int clock_io(orderly_storage *s, orderly_time_ms *t, int write)
{
    orderly_buf *buf = NULL;
    orderly_ctx *ctx = NULL;
    uint8_t bytes[8];
    uint64_t version = 0, v;
    void *txn = NULL;
    int rc, i;

    if ((rc = orderly_buf_new(&buf, NULL)) < 0 || (rc = orderly_ctx_new(&ctx, NULL)) < 0 ||
        (rc = s->begin(s, ctx, &txn)) < 0) {
        orderly_ctx_free(ctx);
        orderly_buf_free(buf);
        return rc;
    }
    rc = s->load(s, ctx, txn, CLI_CLOCK_KEY, buf, &version);
    if (!write) {
        if (rc == 0 && orderly_buf_len(buf) == 8) {
            for (v = 0, i = 7; i >= 0; i--)
                v = v << 8 | orderly_buf_data(buf)[i];
            *t = (orderly_time_ms)v;
        } else if (rc == 0) {
            rc = ORDERLY_ESTORAGE;
        }
        s->rollback(s, ctx, txn);
    } else if (rc == 0 || rc == ORDERLY_ENOTFOUND) {
        for (v = (uint64_t)*t, i = 0; i < 8; i++, v >>= 8)
            bytes[i] = (uint8_t)v;
        if ((rc = s->save(s, ctx, txn, CLI_CLOCK_KEY, bytes, 8, rc == 0 ? version : 0)) < 0)
            s->rollback(s, ctx, txn);
        else
            rc = s->commit(s, ctx, txn);
    } else {
        s->rollback(s, ctx, txn);
    }
    orderly_ctx_free(ctx);
    orderly_buf_free(buf);
    return rc;
}

int cli_db_clock(cli_db *db, orderly_time_ms *out)
{
    return clock_io(db->sqlite, out, 0);
}

orderly_time_ms cli_db_now(cli_db *db)
{
    orderly_time_ms t;

    if (cli_db_clock(db, &t) == 0)
        return t;
    return cli_wall_ms();
}

int cli_db_set_now(orderly_storage *s, orderly_time_ms now)
{
    return clock_io(s, &now, 1);
}

int cli_text_append(const char *data, size_t len, void *user_data)
{
    cli_text *t = user_data;

    if (t->len + len >= sizeof t->data)
        return ORDERLY_ENOMEM;
    memcpy(t->data + t->len, data, len);
    t->len += len;
    return ORDERLY_OK;
}

orderly_time_ms cli_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (orderly_time_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double cli_mono_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_format_time(char *out, size_t cap, orderly_time_ms t)
{
    time_t secs = (time_t)(t / 1000);
    struct tm tm;

    if (gmtime_r(&secs, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(out, cap, "%lld", (long long)t);
        return;
    }
    snprintf(out + strlen(out), cap - strlen(out), ".%03dZ", (int)(t % 1000));
}
