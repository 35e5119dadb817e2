/*
 * The CloudEvents envelope decoder (orderly/envelope.h) on arbitrary bytes.
 * Whatever decodes must encode again, and decode from that to the same
 * fields: decode(encode(decode(x))) == decode(x).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orderly/envelope.h"

typedef struct sink {
    char *p;
    size_t len, cap;
} sink;

static int collect(const char *data, size_t len, void *user_data)
{
    sink *s = user_data;

    if (s->len + len > s->cap) {
        size_t cap = (s->len + len) * 2;
        char *p = realloc(s->p, cap);
        if (p == NULL)
            return ORDERLY_ENOMEM;
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, len);
    s->len += len;
    return ORDERLY_OK;
}

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void mismatch(const char *field, const sink *s)
{
    fprintf(stderr, "envelope round trip changed '%s'; re-encoded as: %.*s\n", field, (int)s->len,
            s->p);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    orderly_event *ev = NULL, *again = NULL;
    orderly_envelope a, b;
    sink s = { NULL, 0, 0 };
    int rc;

    if (orderly_event_decode(&ev, data, size, NULL, NULL) < 0)
        return 0;
    if (orderly_event_fields(ev, &a) < 0)
        abort();
    if ((rc = orderly_envelope_encode(&a, collect, &s, NULL)) < 0) {
        fprintf(stderr, "a decoded envelope does not encode: %s\n", orderly_error_name(rc));
        abort();
    }
    if ((rc = orderly_event_decode(&again, (const uint8_t *)s.p, s.len, NULL, NULL)) < 0) {
        fprintf(stderr, "a re-encoded envelope does not decode: %s: %.*s\n", orderly_error_name(rc),
                (int)s.len, s.p);
        abort();
    }
    if (orderly_event_fields(again, &b) < 0)
        abort();
    if (!same(a.id, b.id))
        mismatch("id", &s);
    if (!same(a.source, b.source))
        mismatch("source", &s);
    if (!same(a.type, b.type))
        mismatch("type", &s);
    if (!same(a.subject, b.subject))
        mismatch("subject", &s);
    if (!same(a.time, b.time))
        mismatch("time", &s);
    /* the encoder names the content type of data when the producer did not */
    if (!same(a.datacontenttype, b.datacontenttype) &&
        !(a.datacontenttype == NULL && a.data != NULL && same(b.datacontenttype, "application/json")))
        mismatch("datacontenttype", &s);
    if (!same(a.traceparent, b.traceparent))
        mismatch("traceparent", &s);
    if (a.schemaversion != b.schemaversion)
        mismatch("schemaversion", &s);
    if (a.data_len != b.data_len || !same(a.data, b.data))
        mismatch("data", &s);
    orderly_event_free(again);
    orderly_event_free(ev);
    free(s.p);
    return 0;
}
