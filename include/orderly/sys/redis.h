/*
 * orderly/sys/redis.h - the Redis Streams transport (liborderly-redis).
 *
 * A separate library, built when meson finds hiredis (option `redis`), with
 * its own pkg-config file, orderly-redis.pc. Two halves:
 *
 * The transport (an orderly_transport for the engine options) publishes
 * every outbox event with XADD to a stream named after its topic, as the
 * entry Dapr's pubsub.redis component writes: field `data` holds the
 * CloudEvents envelope, field `metadata` a JSON object of strings (the
 * partition key as `partitionKey`, then every header: ce-id, ce-type,
 * traceparent). A Dapr subscriber reads these entries unchanged. With
 * maxlen set, XADD trims the stream with MAXLEN ~ maxlen.
 *
 * The consumer reads topics through a consumer group (XREADGROUP), hands
 * each entry to the host (or straight to orderly_engine_handle_event) and
 * acknowledges it (XACK) only when the handler returned 0: the engine
 * committed, or answered duplicate or late. Anything else stays pending in
 * the group. Entries pending longer than claim_idle_ms, whoever holds them
 * (a consumer that died, or this one after a failure), are taken over with
 * XAUTOCLAIM and handled again; one delivered more than max_deliveries
 * times is moved to "<topic>.dlq" (same fields plus `source-id` and
 * `deliveries`) and acknowledged in one MULTI/EXEC, and on_dead is called.
 *
 * No threads inside. The host drives the consumer from its own loop with
 * orderly_redis_consumer_poll*, choosing how long each call may block.
 *
 * Failures: when Redis is unreachable, restarting or answers an error, the
 * call returns ORDERLY_ETRANSPORT (ORDERLY_ETIMEOUT when the socket timed
 * out) with Redis's message in ctx, drops the connection, and the next call
 * connects again (and re-creates the consumer group, in case Redis lost
 * it). Nothing is acknowledged that the handler did not accept, so a
 * failure at any point means a redelivery, never a loss. For the transport
 * the engine's outbox retries with backoff.
 *
 * Signals: a write to a connection Redis closed raises SIGPIPE, which ends
 * a process by default; a host ignores it (signal(SIGPIPE, SIG_IGN)) and
 * then sees ETRANSPORT instead.
 *
 * Threads: a transport or consumer is one connection; use it from one
 * thread at a time.
 *
 * URLs: "redis://HOST:PORT" (PORT defaults to 6379) or "unix:PATH".
 */
#ifndef ORDERLY_SYS_REDIS_H
#define ORDERLY_SYS_REDIS_H

#include "transport.h"
#include "../engine.h"

ORDERLY_BEGIN_DECLS

/* ---- the transport ------------------------------------------------------- */

#define ORDERLY_REDIS_OPTIONS_VERSION 1

typedef struct orderly_redis_options {
    unsigned int version;  /* ORDERLY_REDIS_OPTIONS_VERSION; first, always */
    const char *url;       /* required; copied */
    int timeout_ms;        /* connect and per-command socket timeout; > 0 */
    int64_t maxlen;        /* 0: never trim; > 0: XADD MAXLEN ~ maxlen */
} orderly_redis_options;

#define ORDERLY_REDIS_OPTIONS_INIT { ORDERLY_REDIS_OPTIONS_VERSION, NULL, 2000, 0 }

/* Fills *opts with ORDERLY_REDIS_OPTIONS_INIT for hosts that cannot use the
 * macro. EVERSION for an unknown version, EINVAL for NULL. */
ORDERLY_API int orderly_redis_options_init(orderly_redis_options *opts, unsigned int version);

/*
 * Creates a transport for opts->url. It connects on its first publish, so
 * a host can start while Redis is still down. EINVAL for a missing or
 * malformed URL or a bad timeout or maxlen, EVERSION for an unknown
 * options version, ENOMEM. The caller owns *out and frees it with
 * orderly_redis_transport_free after every engine using it has closed (its
 * destroy slot is NULL).
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_redis_transport_new(orderly_transport **out,
                                                                const orderly_redis_options *opts);

/* Closes the connection and frees the transport. NULL is accepted. */
ORDERLY_API void orderly_redis_transport_free(orderly_transport *t);

/* Entries this transport added since it was created. */
ORDERLY_API uint64_t orderly_redis_transport_published(const orderly_transport *t);

/* ---- the consumer -------------------------------------------------------- */

/* One stream entry handed to a handler. Everything is borrowed for the
 * duration of the call. */
typedef struct orderly_redis_message {
    const char *topic;    /* the stream */
    const char *id;       /* the entry id, "<ms>-<seq>" */
    const uint8_t *data;  /* field `data`: the envelope; NUL-terminated */
    size_t len;
    uint32_t deliveries;  /* 1 on the first delivery, counted by Redis */
} orderly_redis_message;

/* Returns 0 to acknowledge the entry; anything else leaves it pending. */
typedef int (*orderly_redis_message_cb)(const orderly_redis_message *msg, void *user_data);

/* Called once an entry was moved to its topic's .dlq stream. */
typedef void (*orderly_redis_dead_cb)(const orderly_redis_message *msg, void *user_data);

#define ORDERLY_REDIS_CONSUMER_OPTIONS_VERSION 1

typedef struct orderly_redis_consumer_options {
    unsigned int version;       /* ORDERLY_REDIS_CONSUMER_OPTIONS_VERSION; first, always */
    const char *url;            /* required; copied */
    int timeout_ms;             /* connect and socket timeout, on top of the block time; > 0 */
    const char *group;          /* required; the consumer group (Dapr's consumerID); copied */
    const char *consumer;       /* required; this consumer's name in the group; copied */
    const char *const *topics;  /* required; the streams read, 1..16; copied */
    size_t n_topics;
    /* Take over entries pending at least this long (ms); 0 takes every
     * pending entry at once, < 0 never takes any over (this consumer's
     * refused entries then wait for another consumer to take them). */
    int64_t claim_idle_ms;
    /* Deliveries an entry may have; the next one moves it to the DLQ
     * instead. 0 = never dead-letter. */
    uint32_t max_deliveries;
    uint32_t batch;             /* entries per read and per claim; 1..1000 */
    orderly_redis_dead_cb on_dead;  /* may be NULL */
    void *dead_user_data;
} orderly_redis_consumer_options;

#define ORDERLY_REDIS_CONSUMER_OPTIONS_INIT                                          \
    { ORDERLY_REDIS_CONSUMER_OPTIONS_VERSION, NULL, 2000, NULL, NULL, NULL, 0, 30000, \
      5, 64, NULL, NULL }

/* Fills *opts with ORDERLY_REDIS_CONSUMER_OPTIONS_INIT for hosts that
 * cannot use the macro. EVERSION for an unknown version, EINVAL for NULL. */
ORDERLY_API int orderly_redis_consumer_options_init(orderly_redis_consumer_options *opts,
                                                    unsigned int version);

typedef struct orderly_redis_consumer orderly_redis_consumer;

typedef struct orderly_redis_consumer_stats {
    size_t size;             /* sizeof(orderly_redis_consumer_stats); the INIT macro sets it */
    uint64_t delivered;      /* entries handed to a handler */
    uint64_t acked;          /* entries the handler accepted */
    uint64_t failed;         /* entries the handler refused (left pending) */
    uint64_t reclaimed;      /* entries taken over with XAUTOCLAIM */
    uint64_t dead_lettered;  /* entries moved to a .dlq stream */
    uint64_t duplicates;     /* engine answers with result.duplicate (poll_engine) */
    uint64_t late;           /* engine answers with result.late (poll_engine) */
    uint64_t reconnects;     /* connections made after the first */
} orderly_redis_consumer_stats;

#define ORDERLY_REDIS_CONSUMER_STATS_INIT { sizeof(orderly_redis_consumer_stats), 0, 0, 0, 0, 0, 0, 0, 0 }

/*
 * Creates a consumer. Like the transport it connects (and creates the
 * group on every topic, from the stream's start, MKSTREAM) on its first
 * poll. EINVAL for missing or bad options, EVERSION, ENOMEM. The caller
 * owns *out; free with orderly_redis_consumer_free.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_redis_consumer_new(
    orderly_redis_consumer **out, const orderly_redis_consumer_options *opts);

/* Closes the connection and frees the consumer. NULL is accepted. */
ORDERLY_API void orderly_redis_consumer_free(orderly_redis_consumer *c);

/*
 * One step: first takes over entries idle past claim_idle_ms (dead-lettering
 * those past max_deliveries), then reads new entries, waiting up to
 * block_ms for one when nothing was taken over (0: do not wait). Each entry
 * goes to handler; those it accepts are acknowledged. Returns the number of
 * entries handled (accepted, refused or dead-lettered), or ETRANSPORT /
 * ETIMEOUT with the detail in ctx (may be NULL); entries handled before a
 * failure stay handled, entries read but not handled yet stay pending (and
 * are taken over after claim_idle_ms), and an accepted entry whose XACK
 * failed is simply delivered again. EINVAL for NULL arguments or a negative block_ms.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_redis_consumer_poll(orderly_redis_consumer *c,
                                                                int block_ms,
                                            orderly_redis_message_cb handler, void *user_data,
                                            orderly_ctx *ctx);

/*
 * orderly_redis_consumer_poll with orderly_engine_handle_event as the
 * handler, at time now: an entry is acknowledged when the engine returned 0
 * (committed, duplicate or late), counted in the stats' duplicates and late.
 * Any refusal leaves it pending for a retry after claim_idle_ms and, past
 * max_deliveries, the DLQ. engine is borrowed.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_redis_consumer_poll_engine(orderly_redis_consumer *c,
                                                   orderly_engine *engine, int block_ms,
                                                   orderly_time_ms now, orderly_ctx *ctx);

/* Copies the counters since creation into *out (as far as out->size
 * covers). EINVAL for NULL or a size below the first layout. */
ORDERLY_API int orderly_redis_consumer_get_stats(const orderly_redis_consumer *c,
                                                 orderly_redis_consumer_stats *out);

ORDERLY_END_DECLS

#endif
