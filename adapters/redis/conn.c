/* One Redis connection: parsed once, connected lazily, dropped on any
 * socket failure so that the next call starts afresh. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int orderly__redis_fail(orderly_ctx *ctx, int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (ctx == NULL)
        return code;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return orderly_ctx_set_error(ctx, code, 0, msg);
}

char *orderly__redis_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

static int parse_tcp(struct orderly__redis_conn *c, const char *rest)
{
    const char *colon = strrchr(rest, ':');
    size_t n = colon != NULL ? (size_t)(colon - rest) : strlen(rest);
    long port = 6379;
    char *end;

    if (n == 0)
        return ORDERLY_EINVAL;
    if (colon != NULL) {
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno != 0 || end == colon + 1 || *end != '\0' || port < 1 || port > 65535)
            return ORDERLY_EINVAL;
    }
    if ((c->host = malloc(n + 1)) == NULL)
        return ORDERLY_ENOMEM;
    memcpy(c->host, rest, n);
    c->host[n] = '\0';
    c->port = (int)port;
    return ORDERLY_OK;
}

int orderly__redis_conn_init(struct orderly__redis_conn *c, const char *url, int timeout_ms)
{
    memset(c, 0, sizeof *c);
    if (url == NULL || timeout_ms <= 0)
        return ORDERLY_EINVAL;
    c->timeout_ms = timeout_ms;
    if (strncmp(url, "redis://", 8) == 0) {
        /* a path or query would be silently ignored: refuse it instead */
        if (strchr(url + 8, '/') != NULL || strchr(url + 8, '?') != NULL)
            return ORDERLY_EINVAL;
        return parse_tcp(c, url + 8);
    }
    if (strncmp(url, "unix:", 5) == 0 && url[5] != '\0') {
        const char *path = url + 5;
        while (path[0] == '/' && path[1] == '/')
            path++;
        return (c->path = orderly__redis_strdup(path)) != NULL ? ORDERLY_OK : ORDERLY_ENOMEM;
    }
    return ORDERLY_EINVAL;
}

static void drop(struct orderly__redis_conn *c)
{
    if (c->rc != NULL)
        redisFree(c->rc);
    c->rc = NULL;
}

void orderly__redis_conn_fini(struct orderly__redis_conn *c)
{
    drop(c);
    free(c->host);
    free(c->path);
    memset(c, 0, sizeof *c);
}

static struct timeval tv_of(int64_t ms)
{
    struct timeval tv;

    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    return tv;
}

int orderly__redis_conn_ensure(struct orderly__redis_conn *c, int *fresh, orderly_ctx *ctx)
{
    struct timeval tv = tv_of(c->timeout_ms);
    redisContext *rc;

    if (fresh != NULL)
        *fresh = 0;
    if (c->rc != NULL)
        return ORDERLY_OK;
    rc = c->path != NULL ? redisConnectUnixWithTimeout(c->path, tv)
                         : redisConnectWithTimeout(c->host, c->port, tv);
    if (rc == NULL)
        return orderly__redis_fail(ctx, ORDERLY_ENOMEM, "redis: out of memory");
    if (rc->err != 0) {
        int code = orderly__redis_fail(ctx, ORDERLY_ETRANSPORT, "redis: connect to %s%s%d: %s",
                                       c->path != NULL ? c->path : c->host,
                                       c->path != NULL ? "" : ":", c->path != NULL ? 0 : c->port,
                                       rc->errstr);
        redisFree(rc);
        return code;
    }
    c->rc = rc;
    c->connects++;
    if (fresh != NULL)
        *fresh = 1;
    return ORDERLY_OK;
}

redisReply *orderly__redis_cmd(struct orderly__redis_conn *c, int argc, const char **argv,
                               const size_t *lens, int extra_ms, int *err, int *reply_err,
                               orderly_ctx *ctx)
{
    redisReply *r;

    if (reply_err != NULL)
        *reply_err = 0;
    if ((*err = orderly__redis_conn_ensure(c, NULL, ctx)) < 0)
        return NULL;
    if (redisSetTimeout(c->rc, tv_of((int64_t)c->timeout_ms + extra_ms)) != REDIS_OK) {
        *err = orderly__redis_fail(ctx, ORDERLY_ETRANSPORT, "redis: cannot set the socket timeout");
        drop(c);
        return NULL;
    }
    r = redisCommandArgv(c->rc, argc, argv, lens);
    if (r == NULL) {
        int timed_out = c->rc->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
        *err = orderly__redis_fail(ctx, timed_out ? ORDERLY_ETIMEOUT : ORDERLY_ETRANSPORT,
                                   "redis: %s: %s", argv[0],
                                   timed_out ? "timed out" : c->rc->errstr);
        drop(c);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        if (reply_err != NULL)
            *reply_err = strncmp(r->str, "NOGROUP", 7) == 0     ? ORDERLY__REDIS_NOGROUP
                         : strncmp(r->str, "BUSYGROUP", 9) == 0 ? ORDERLY__REDIS_BUSYGROUP
                                                                : 0;
        *err = orderly__redis_fail(ctx, ORDERLY_ETRANSPORT, "redis: %s: %s", argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    *err = ORDERLY_OK;
    return r;
}
