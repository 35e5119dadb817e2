/*
 * The publishing half: one XADD per outbox event, in the entry shape of
 * Dapr's pubsub.redis (fields `data` and `metadata`), see orderly/sys/redis.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

struct rtrans {
    orderly_transport base;
    struct orderly__redis_conn conn;
    int64_t maxlen;
    uint64_t published;
};

#define RT(t) ((struct rtrans *)(void *)(t))

/* {"partitionKey": key, header: value, ...}: Dapr reads it back as a map of
 * strings, so every value stays a string. */
static char *metadata_json(const char *key, const orderly_header *h, size_t n)
{
    json_t *o = json_object();
    char *s = NULL;
    size_t i;
    int bad = o == NULL;

    if (!bad && key != NULL)
        bad = json_object_set_new(o, "partitionKey", json_string(key)) != 0;
    for (i = 0; !bad && i < n; i++)
        if (h[i].name != NULL && h[i].value != NULL)
            bad = json_object_set_new(o, h[i].name, json_string(h[i].value)) != 0;
    if (!bad)
        s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

static int rt_publish(orderly_transport *base, orderly_ctx *ctx, const char *topic,
                      const char *key, const uint8_t *data, size_t len,
                      const orderly_header *headers, size_t n_headers)
{
    struct rtrans *t = RT(base);
    const char *argv[10];
    size_t lens[10];
    char maxlen[24];
    char *meta;
    redisReply *r;
    int argc = 0, err;

    if (topic == NULL || data == NULL)
        return orderly__redis_fail(ctx, ORDERLY_EINVAL, "redis: publish without topic or data");
    if ((meta = metadata_json(key, headers, n_headers)) == NULL)
        return orderly__redis_fail(ctx, ORDERLY_ENOMEM, "redis: out of memory");
#define ARG(s, n) (argv[argc] = (s), lens[argc] = (n), argc++)
    ARG("XADD", 4);
    ARG(topic, strlen(topic));
    if (t->maxlen > 0) {
        snprintf(maxlen, sizeof maxlen, "%" PRId64, t->maxlen);
        ARG("MAXLEN", 6);
        ARG("~", 1);
        ARG(maxlen, strlen(maxlen));
    }
    ARG("*", 1);
    ARG("data", 4);
    ARG((const char *)data, len);
    ARG("metadata", 8);
    ARG(meta, strlen(meta));
#undef ARG
    r = orderly__redis_cmd(&t->conn, argc, argv, lens, 0, &err, NULL, ctx);
    free(meta);
    if (r == NULL)
        return err;
    freeReplyObject(r);
    t->published++;
    return ORDERLY_OK;
}

int orderly_redis_options_init(orderly_redis_options *opts, unsigned int version)
{
    orderly_redis_options init = ORDERLY_REDIS_OPTIONS_INIT;

    if (opts == NULL)
        return ORDERLY_EINVAL;
    if (version == 0 || version > ORDERLY_REDIS_OPTIONS_VERSION)
        return ORDERLY_EVERSION;
    *opts = init;
    opts->version = version;
    return ORDERLY_OK;
}

int orderly_redis_transport_new(orderly_transport **out, const orderly_redis_options *opts)
{
    struct rtrans *t;
    int rc;

    if (out == NULL)
        return ORDERLY_EINVAL;
    *out = NULL;
    if (opts == NULL)
        return ORDERLY_EINVAL;
    if (opts->version == 0 || opts->version > ORDERLY_REDIS_OPTIONS_VERSION)
        return ORDERLY_EVERSION;
    if (opts->maxlen < 0)
        return ORDERLY_EINVAL;
    if ((t = calloc(1, sizeof *t)) == NULL)
        return ORDERLY_ENOMEM;
    if ((rc = orderly__redis_conn_init(&t->conn, opts->url, opts->timeout_ms)) < 0) {
        orderly__redis_conn_fini(&t->conn);
        free(t);
        return rc;
    }
    orderly_transport_init(&t->base, ORDERLY_TRANSPORT_VERSION);
    t->base.user_data = t;
    t->base.publish = rt_publish;
    t->maxlen = opts->maxlen;
    *out = &t->base;
    return ORDERLY_OK;
}

void orderly_redis_transport_free(orderly_transport *base)
{
    if (base == NULL)
        return;
    orderly__redis_conn_fini(&RT(base)->conn);
    free(RT(base));
}

uint64_t orderly_redis_transport_published(const orderly_transport *base)
{
    return base != NULL ? ((const struct rtrans *)(const void *)base)->published : 0;
}
