/* See server.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "server.h"

static int answers(const char *sock)
{
    redisContext *c = redisConnectUnix(sock);
    redisReply *r = NULL;
    int ok = 0;

    if (c != NULL && c->err == 0 && (r = redisCommand(c, "PING")) != NULL)
        ok = r->type == REDIS_REPLY_STATUS;
    if (r != NULL)
        freeReplyObject(r);
    if (c != NULL)
        redisFree(c);
    return ok;
}

static int spawn(redis_server *s)
{
    const char *bin = getenv("ORDERLY_REDIS_SERVER");
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    int i;

    if (bin == NULL || bin[0] == '\0')
        bin = "redis-server";
    if ((s->pid = fork()) < 0)
        return -1;
    if (s->pid == 0) {
        char log[96];
        /* a test that fails half-way must not leave its server running */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        snprintf(log, sizeof log, "%s/redis.log", s->dir);
        char port[16];
        snprintf(port, sizeof port, "%d", s->port);
        execlp(bin, bin, "--bind", "127.0.0.1", "--port", port, "--unixsocket", s->sock, "--unixsocketperm", "700",
               "--dir", s->dir, "--save", "", "--appendonly", s->persist ? "yes" : "no",
               "--appendfsync", "always", "--daemonize", "no", "--logfile", log, (char *)NULL);
        _exit(127);
    }
    /* a readiness wait, bounded so a missing binary fails instead of hanging */
    for (i = 0; i < 1000; i++) {
        int status;
        if (answers(s->sock))
            return 0;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        nanosleep(&pause, NULL);
    }
    return -1;
}

static int prepare(redis_server *s, int persist)
{
    const char *tmp = getenv("TMPDIR");

    memset(s, 0, sizeof *s);
    if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 24)
        tmp = "/tmp";
    snprintf(s->dir, sizeof s->dir, "%s/orderly-redis-XXXXXX", tmp);
    if (mkdtemp(s->dir) == NULL)
        return -1;
    snprintf(s->sock, sizeof s->sock, "%s/redis.sock", s->dir);
    snprintf(s->url, sizeof s->url, "unix:%s", s->sock);
    s->persist = persist;
    return 0;
}

int server_start(redis_server *s, int persist)
{
    return prepare(s, persist) == 0 ? spawn(s) : -1;
}

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int server_start_tcp(redis_server *s)
{
    int port = free_port();

    if (port <= 0 || prepare(s, 0) != 0)
        return -1;
    s->port = port;
    snprintf(s->url, sizeof s->url, "redis://127.0.0.1:%d", port);
    return spawn(s);
}

int server_restart(redis_server *s)
{
    return spawn(s);
}

static void end(redis_server *s, int sig)
{
    if (s->pid > 0) {
        kill(s->pid, sig);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

void server_crash(redis_server *s)
{
    end(s, SIGKILL);
}

void server_stop(redis_server *s)
{
    char cmd[128];

    end(s, SIGTERM);
    if (s->dir[0] != '\0') {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", s->dir);
    }
    s->dir[0] = '\0';
}

static redis_server suite_server;
static pid_t suite_owner;

static void stop_suite_server(void)
{
    /* Check forks a child per test: only the process that started it stops it */
    if (getpid() == suite_owner)
        server_stop(&suite_server);
}

const char *suite_redis_url(void)
{
    const char *env = getenv("ORDERLY_REDIS_URL");

    if (env != NULL && env[0] != '\0')
        return env;
    if (suite_server.pid == 0) {
        if (server_start(&suite_server, 0) != 0) {
            fprintf(stderr, "cannot start redis-server (install it: scripts/setup.sh)\n");
            exit(1);
        }
        suite_owner = getpid();
        atexit(stop_suite_server);
    }
    return suite_server.url;
}

redisContext *raw_connect(const char *url)
{
    char host[64];
    int port = 6379;
    redisContext *c;

    if (strncmp(url, "unix:", 5) == 0) {
        c = redisConnectUnix(url + 5);
    } else {
        if (sscanf(url, "redis://%63[^:]:%d", host, &port) < 1)
            return NULL;
        c = redisConnect(host, port);
    }
    if (c != NULL && c->err != 0) {
        redisFree(c);
        c = NULL;
    }
    return c;
}

long long raw_xlen(const char *url, const char *stream)
{
    redisContext *c = raw_connect(url);
    redisReply *r = c != NULL ? redisCommand(c, "XLEN %s", stream) : NULL;
    long long n = r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

    if (r != NULL)
        freeReplyObject(r);
    if (c != NULL)
        redisFree(c);
    return n;
}

long long raw_pending(const char *url, const char *stream, const char *group)
{
    redisContext *c = raw_connect(url);
    redisReply *r = c != NULL ? redisCommand(c, "XPENDING %s %s", stream, group) : NULL;
    long long n = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
                          r->element[0]->type == REDIS_REPLY_INTEGER
                      ? r->element[0]->integer
                      : -1;

    if (r != NULL)
        freeReplyObject(r);
    if (c != NULL)
        redisFree(c);
    return n;
}
