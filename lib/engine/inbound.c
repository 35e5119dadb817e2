/* Events from other services, and verified webhooks, become commands. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "orderly/envelope.h"
#include "orderly/webhook.h"

/* "payment.capture_succeeded" -> (payment, capture_succeeded) */
static int parse_type(orderly_engine *e, const char *type, int *machine, int *event)
{
    const orderly_machine *m;
    const char *dot = strchr(type, '.');
    char name[32];
    size_t n;

    if (dot == NULL || (n = (size_t)(dot - type)) == 0 || n >= sizeof name)
        return orderly__fail(&e->ctx, ORDERLY_EENVELOPE,
                             "envelope field 'type' is '%s', not <machine>.<event>", type);
    memcpy(name, type, n);
    name[n] = '\0';
    if (orderly_machine_by_name(&m, name) < 0)
        return orderly__fail(&e->ctx, ORDERLY_EENVELOPE, "envelope field 'type' names no machine: '%s'", type);
    if (orderly_machine_event_id(event, m, dot + 1) < 0 || *event < ORDERLY_EVENT_FIRST)
        return orderly__fail(&e->ctx, ORDERLY_EENVELOPE, "envelope field 'type' names no event: '%s'", type);
    *machine = orderly_machine_get_id(m);
    return ORDERLY_OK;
}

/* Reads data.index and data.amount from the envelope as parsed once. */
static int read_data(orderly_engine *e, const orderly_event *ev, orderly_command *c)
{
    json_t *d = orderly__event_data(ev), *v;

    if (d == NULL)
        return ORDERLY_OK;
    if (!json_is_object(d))
        return orderly__fail(&e->ctx, ORDERLY_EENVELOPE, "envelope field 'data' is not an object");
    if ((v = json_object_get(d, "index")) != NULL) {
        /* each machine's own bound is checked with the command */
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= ORDERLY_LINES_MAX)
            return orderly__fail(&e->ctx, ORDERLY_EENVELOPE, "envelope field 'data.index' is out of range");
        c->index = (uint32_t)json_integer_value(v);
    }
    if ((v = json_object_get(d, "amount")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return orderly__fail(&e->ctx, ORDERLY_EENVELOPE, "envelope field 'data.amount' is not a non-negative integer");
        c->amount = (int64_t)json_integer_value(v);
    }
    return ORDERLY_OK;
}

int orderly_engine_handle_event(orderly_engine *e, const uint8_t *bytes, size_t len,
                                orderly_time_ms now, orderly_result *out)
{
    orderly_event *ev = NULL;
    orderly_envelope env;
    orderly_command c;
    char key[ORDERLY_EVENT_ID_SIZE + 8];
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    orderly_ctx_clear(&e->ctx);
    if (out != NULL && (rc = orderly__result_reset(&e->ctx, out)) < 0)
        return rc;
    /* refused before a byte is parsed: a parser's cost grows with its input */
    if (len > e->max_envelope)
        return orderly__fail(&e->ctx, ORDERLY_EENVELOPE,
                             "envelope is %zu bytes, over the limit of %zu (max_envelope_bytes)",
                             len, e->max_envelope);
    if ((rc = orderly__check_now(e, now)) < 0 ||
        (rc = orderly__event_decode_lean(&ev, bytes, len, &e->alloc, &e->ctx)) < 0)
        return rc;
    (void)orderly_event_fields(ev, &env);
    memset(&c, 0, sizeof c);
    c.now = now;
    if (env.subject == NULL || env.subject[0] == '\0') {
        rc = orderly__fail(&e->ctx, ORDERLY_EENVELOPE, "envelope field 'subject' (the order id) is missing");
        goto done;
    }
    if (!orderly__valid_id(env.subject)) {
        rc = orderly__fail(&e->ctx, ORDERLY_EENVELOPE,
                           "envelope field 'subject' is not an order id (1..%d printable ASCII "
                           "bytes, no blanks)", ORDERLY_ID_MAX);
        goto done;
    }
    if ((rc = parse_type(e, env.type, &c.machine, &c.event)) < 0 || (rc = read_data(e, ev, &c)) < 0)
        goto done;
    c.order_id = env.subject;
    if (orderly__valid_id(env.id)) {
        c.idem_key = env.id;
    } else {
        /* any CloudEvents id (long, blanks, UTF-8) still dedupes: by its hash */
        char hex[ORDERLY_EVENT_ID_SIZE];
        orderly_event_derive_id(hex, "orderly.long-id", env.id);
        snprintf(key, sizeof key, "h:%s", hex);
        c.idem_key = key;
    }
    rc = orderly__apply_traced(e, &c, env.traceparent, out);
done:
    orderly_event_free(ev);
    return rc;
}

int orderly_engine_handle_webhook(orderly_engine *e, const uint8_t *secret, size_t secret_len,
                                  const char *signature_header, const uint8_t *payload, size_t len,
                                  int64_t tolerance_seconds, orderly_time_ms now, orderly_result *out)
{
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    if (out != NULL && (rc = orderly__result_reset(&e->ctx, out)) < 0)
        return rc;
    orderly_ctx_clear(&e->ctx);
    if ((rc = orderly_webhook_verify(secret, secret_len, signature_header, payload, len,
                                     tolerance_seconds, now, &e->ctx)) < 0)
        return rc;
    return orderly_engine_handle_event(e, payload, len, now, out);
}
