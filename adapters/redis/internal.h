/* The connection both halves of liborderly-redis share: URL, lazy
 * connect, reconnect after any failure, errors as orderly codes. */
#ifndef ORDERLY_REDIS_INTERNAL_H
#define ORDERLY_REDIS_INTERNAL_H

#include <hiredis/hiredis.h>

#include "orderly/sys/redis.h"

struct orderly__redis_conn {
    char *host;          /* TCP host, or NULL with path set */
    char *path;          /* Unix socket path */
    int port;
    int timeout_ms;
    redisContext *rc;    /* NULL while disconnected */
    uint64_t connects;
};

enum { ORDERLY__REDIS_NOGROUP = 1, ORDERLY__REDIS_BUSYGROUP = 2 };

/* Parses url; EINVAL for a malformed one, ENOMEM. Does not connect. */
int orderly__redis_conn_init(struct orderly__redis_conn *c, const char *url, int timeout_ms);
void orderly__redis_conn_fini(struct orderly__redis_conn *c);

/* Connects when disconnected; *fresh is 1 when this call connected. */
int orderly__redis_conn_ensure(struct orderly__redis_conn *c, int *fresh, orderly_ctx *ctx);

/*
 * Runs one command (binary-safe arguments) with the socket timeout raised
 * by extra_ms. Returns the reply (caller frees with freeReplyObject) or
 * NULL with *err set: ETRANSPORT for an error reply (the connection stays)
 * or a broken connection (dropped, so the next call reconnects), ETIMEOUT
 * when the socket timed out. *reply_err (may be NULL) tells the error
 * replies a caller reacts to apart: ORDERLY__REDIS_NOGROUP (Redis lost the
 * consumer group), ORDERLY__REDIS_BUSYGROUP (it exists already), else 0.
 */
redisReply *orderly__redis_cmd(struct orderly__redis_conn *c, int argc, const char **argv,
                               const size_t *lens, int extra_ms, int *err, int *reply_err,
                               orderly_ctx *ctx);

/* Sets ctx's error; returns code. */
int orderly__redis_fail(orderly_ctx *ctx, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

char *orderly__redis_strdup(const char *s);

#endif
