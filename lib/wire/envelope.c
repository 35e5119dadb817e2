/* CloudEvents JSON through jansson: no hand-written parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../base/json.h"
#include "../base/ctx.h"
#include "../base/ids.h"
#include "envelope.h"
#include "events.h"
#include "orderly/envelope.h"

struct orderly_event {
    orderly_allocator alloc;
    json_t *root;
    char *data;               /* data re-serialised, jansson-allocated */
    orderly_envelope view;
};

int orderly_schema_version(void)
{
    return ORDERLY_SCHEMA_VERSION;
}

int orderly_event_derive_id(char *out, const char *kind, const char *natural_key)
{
    uint8_t h[16];

    if (out == NULL || kind == NULL || natural_key == NULL)
        return ORDERLY_EINVAL;
    orderly__hash128(h, kind, strlen(kind), natural_key, strlen(natural_key));
    orderly__hex(out, h, 16);
    return ORDERLY_OK;
}

static int is_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int valid_traceparent(const char *t)
{
    return strlen(t) == ORDERLY__TRACE_LEN && is_hex(t, 2) && t[2] == '-' && is_hex(t + 3, 32) &&
           t[35] == '-' && is_hex(t + 36, 16) && t[52] == '-' && is_hex(t + 53, 2);
}

static int set_str(json_t *o, const char *k, const char *v)
{
    return v != NULL ? json_object_set_new(o, k, json_string(v)) : 0;
}

struct relay {
    orderly_writer_cb write;
    void *user_data;
    int rc;
};

static int relay(const char *buffer, size_t size, void *data)
{
    struct relay *r = data;

    r->rc = r->write(buffer, size, r->user_data);
    return r->rc < 0 ? -1 : 0;
}

static int encode(const orderly_envelope *env, orderly_writer_cb write, void *user_data,
                  orderly_ctx *ctx)
{
    struct relay r = { write, user_data, ORDERLY_OK };
    json_t *o, *data = NULL;
    json_error_t err;
    int bad = 0, rc;

    if (env == NULL || write == NULL)
        return orderly__fail(ctx, ORDERLY_EINVAL, "envelope and writer are required");
    if (env->id == NULL || env->id[0] == '\0')
        return orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field 'id' is required");
    if (env->source == NULL || env->source[0] == '\0')
        return orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field 'source' is required");
    if (env->type == NULL || env->type[0] == '\0')
        return orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field 'type' is required");
    if (env->traceparent != NULL && !valid_traceparent(env->traceparent))
        return orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field 'traceparent' is malformed");
    if (env->data != NULL &&
        (data = json_loadb(env->data, env->data_len, JSON_DECODE_ANY, &err)) == NULL) {
        if (json_error_code(&err) == json_error_out_of_memory || orderly__json_failed())
            return orderly__fail(ctx, ORDERLY_ENOMEM, "out of memory");
        return orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field 'data' is not JSON: %s", err.text);
    }
    if (orderly__json_failed()) {
        json_decref(data);
        return orderly__fail(ctx, ORDERLY_ENOMEM, "out of memory");
    }
    if ((o = json_object()) == NULL) {
        json_decref(data);
        return orderly__fail(ctx, ORDERLY_ENOMEM, "out of memory");
    }
    bad |= set_str(o, "specversion", "1.0");
    bad |= set_str(o, "id", env->id);
    bad |= set_str(o, "source", env->source);
    bad |= set_str(o, "type", env->type);
    bad |= set_str(o, "subject", env->subject);
    bad |= set_str(o, "time", env->time);
    bad |= set_str(o, "datacontenttype",
                   env->datacontenttype != NULL ? env->datacontenttype
                                                : (data != NULL ? "application/json" : NULL));
    bad |= json_object_set_new(o, "schemaversion",
                               json_integer(env->schemaversion > 0 ? env->schemaversion
                                                                   : ORDERLY_SCHEMA_VERSION));
    bad |= set_str(o, "traceparent", env->traceparent);
    if (data != NULL)
        bad |= json_object_set_new(o, "data", data);
    if (bad) {
        json_decref(o);
        return orderly__fail(ctx, ORDERLY_ENOMEM, "out of memory");
    }
    rc = json_dump_callback(o, relay, &r, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (r.rc < 0)
        return orderly__fail(ctx, r.rc, "envelope writer stopped: %s", orderly_strerror(r.rc));
    if (rc != 0)
        return orderly__fail(ctx, ORDERLY_ENOMEM, "envelope encoding failed");
    return ORDERLY_OK;
}

int orderly_envelope_encode(const orderly_envelope *env, orderly_writer_cb write, void *user_data,
                            orderly_ctx *ctx)
{
    const orderly_allocator *previous = orderly__json_enter(ctx != NULL ? &ctx->alloc : NULL);
    int rc = encode(env, write, user_data, ctx);

    orderly__json_leave(previous);
    return rc;
}

/* Reads optional string member k; EENVELOPE when present but not a string. */
static int get_str(json_t *root, const char *k, const char **out, int required, orderly_ctx *ctx)
{
    json_t *v = json_object_get(root, k);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field '%s' is missing", k);
        return ORDERLY_OK;
    }
    if (!json_is_string(v))
        return orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field '%s' is not a string", k);
    *out = json_string_value(v);
    if (required && (*out)[0] == '\0')
        return orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field '%s' is empty", k);
    return ORDERLY_OK;
}

/* A schemaversion given as a string must be all digits ("1abc" is not 1). */
static json_int_t string_version(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 9)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return (json_int_t)strtol(s, NULL, 10);
}

static int decode(orderly_event **out, const uint8_t *bytes, size_t len,
                  const orderly_allocator *alloc, orderly_ctx *ctx, int data_text)
{
    orderly_allocator a;
    orderly_event *ev;
    const char *spec;
    json_error_t err;
    json_t *v;
    int rc;

    if (out == NULL || (bytes == NULL && len > 0))
        return orderly__fail(ctx, ORDERLY_EINVAL, "out and bytes are required");
    *out = NULL;
    if ((rc = orderly__alloc_copy(&a, alloc)) < 0)
        return orderly__fail(ctx, rc, "allocator rejected");
    if ((ev = a.malloc(sizeof *ev, a.user_data)) == NULL)
        return orderly__fail(ctx, ORDERLY_ENOMEM, "out of memory");
    memset(ev, 0, sizeof *ev);
    ev->alloc = a;
    ev->root = json_loadb((const char *)bytes, len, 0, &err);
    /* jansson's lexer can drop a byte of a string when an allocation fails
     * and still return a tree: any failed allocation discards the parse */
    if (orderly__json_failed() || (ev->root == NULL && json_error_code(&err) == json_error_out_of_memory)) {
        rc = orderly__fail(ctx, ORDERLY_ENOMEM, "out of memory parsing the envelope");
        goto fail;
    }
    if (ev->root == NULL || !json_is_object(ev->root)) {
        rc = orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope is not a JSON object: %s",
                           ev->root == NULL ? err.text : "top level is not an object");
        goto fail;
    }
    if ((rc = get_str(ev->root, "specversion", &spec, 1, ctx)) < 0)
        goto fail;
    if (strcmp(spec, "1.0") != 0) {
        rc = orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field 'specversion' is '%s', not 1.0", spec);
        goto fail;
    }
    if ((rc = get_str(ev->root, "source", &ev->view.source, 1, ctx)) < 0 ||
        (rc = get_str(ev->root, "type", &ev->view.type, 1, ctx)) < 0 ||
        (rc = get_str(ev->root, "id", &ev->view.id, 1, ctx)) < 0 ||
        (rc = get_str(ev->root, "subject", &ev->view.subject, 0, ctx)) < 0 ||
        (rc = get_str(ev->root, "time", &ev->view.time, 0, ctx)) < 0 ||
        (rc = get_str(ev->root, "datacontenttype", &ev->view.datacontenttype, 0, ctx)) < 0 ||
        (rc = get_str(ev->root, "traceparent", &ev->view.traceparent, 0, ctx)) < 0)
        goto fail;
    if (ev->view.traceparent != NULL && !valid_traceparent(ev->view.traceparent)) {
        rc = orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field 'traceparent' is malformed");
        goto fail;
    }
    ev->view.schemaversion = 1; /* producers before the extension existed */
    if ((v = json_object_get(ev->root, "schemaversion")) != NULL) {
        json_int_t sv;
        if (json_is_integer(v))
            sv = json_integer_value(v);
        else if (json_is_string(v))
            sv = string_version(json_string_value(v));
        else
            sv = 0;
        if (sv < 1) {
            rc = orderly__fail(ctx, ORDERLY_EENVELOPE, "envelope field 'schemaversion' is not a positive integer");
            goto fail;
        }
        if (sv > ORDERLY_SCHEMA_VERSION) {
            rc = orderly__fail(ctx, ORDERLY_EVERSION, "envelope schemaversion %lld is newer than %d",
                               (long long)sv, ORDERLY_SCHEMA_VERSION);
            goto fail;
        }
        ev->view.schemaversion = (int)sv;
    }
    if (data_text && (v = json_object_get(ev->root, "data")) != NULL && !json_is_null(v)) {
        if ((ev->data = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)) == NULL) {
            rc = orderly__fail(ctx, ORDERLY_ENOMEM, "out of memory");
            goto fail;
        }
        ev->view.data = ev->data;
        ev->view.data_len = strlen(ev->data);
    }
    *out = ev;
    return ORDERLY_OK;
fail:
    orderly_event_free(ev);
    return rc;
}

/* Decodes under the event's own allocator: the jansson tree it keeps is
 * freed by orderly_event_free under the same one. */
static int decode_scoped(orderly_event **out, const uint8_t *bytes, size_t len,
                         const orderly_allocator *alloc, orderly_ctx *ctx, int data_text)
{
    const orderly_allocator *previous;
    orderly_allocator a;
    int rc;

    if ((rc = orderly__alloc_copy(&a, alloc)) < 0)
        return orderly__fail(ctx, rc, "allocator rejected");
    previous = orderly__json_enter(&a);
    rc = decode(out, bytes, len, &a, ctx, data_text);
    orderly__json_leave(previous);
    return rc;
}

int orderly_event_decode(orderly_event **out, const uint8_t *bytes, size_t len,
                         const orderly_allocator *alloc, orderly_ctx *ctx)
{
    return decode_scoped(out, bytes, len, alloc, ctx, 1);
}

int orderly__event_decode_lean(orderly_event **out, const uint8_t *bytes, size_t len,
                               const orderly_allocator *alloc, orderly_ctx *ctx)
{
    return decode_scoped(out, bytes, len, alloc, ctx, 0);
}

json_t *orderly__event_data(const orderly_event *ev)
{
    json_t *v = json_object_get(ev->root, "data");

    return v != NULL && !json_is_null(v) ? v : NULL;
}

void orderly_event_free(orderly_event *ev)
{
    const orderly_allocator *previous;

    if (ev == NULL)
        return;
    previous = orderly__json_enter(&ev->alloc);
    json_decref(ev->root);
    orderly__json_free(ev->data);
    orderly__json_leave(previous);
    ev->alloc.free(ev, ev->alloc.user_data);
}

int orderly_event_fields(const orderly_event *ev, orderly_envelope *out)
{
    if (ev == NULL || out == NULL)
        return ORDERLY_EINVAL;
    *out = ev->view;
    return ORDERLY_OK;
}
