/* A redis-server of the test's own: started in a scratch directory on a
 * Unix socket, never a system Redis. */
#ifndef ORDERLY_TESTS_REDIS_SERVER_H
#define ORDERLY_TESTS_REDIS_SERVER_H

#include <sys/types.h>

typedef struct redis_server {
    char dir[64];
    char sock[96];
    char url[112];
    int persist;     /* 1: append-only file fsynced on every write */
    int port;        /* > 0: also listen on 127.0.0.1:port, and url names it */
    pid_t pid;
} redis_server;

/* Creates the directory and starts the server; 0 when it answers PING. */
int server_start(redis_server *s, int persist);

/* server_start, listening on a free loopback port as well (the url is
 * then redis://127.0.0.1:PORT). */
int server_start_tcp(redis_server *s);

/* Starts it again on the same socket and directory (its data, when
 * persist is set, survives). */
int server_restart(redis_server *s);

/* kill -9: the crash a restart test recovers from. */
void server_crash(redis_server *s);

/* Stops the server and removes its directory. */
void server_stop(redis_server *s);

/* The URL the suites use: $ORDERLY_REDIS_URL (scripts/test-redis.sh), else
 * a server started here and stopped at exit. */
const char *suite_redis_url(void);

/* A plain hiredis connection to url, for the tests' own checks. */
struct redisContext;
struct redisContext *raw_connect(const char *url);

/* XLEN of stream on url. */
long long raw_xlen(const char *url, const char *stream);

/* Entries of stream pending in group (XPENDING summary count). */
long long raw_pending(const char *url, const char *stream, const char *group);

#endif
