/*
 * orderly/envelope.h - CloudEvents 1.0 envelopes (JSON structured mode).
 *
 * Every event orderly publishes, and every event it accepts from another
 * service, is a CloudEvents 1.0 JSON object with two extensions:
 * `schemaversion` (this data layout's version, an integer) and
 * `traceparent` (W3C trace context, carried from the event that caused
 * it). Decoding accepts unknown fields and older schema versions. The
 * envelope layout and the id derivation are pinned forever.
 */
#ifndef ORDERLY_ENVELOPE_H
#define ORDERLY_ENVELOPE_H

#include "common.h"
#include "errors.h"
#include "sys/alloc.h"

ORDERLY_BEGIN_DECLS

#define ORDERLY_SCHEMA_VERSION 2   /* 2: payloads carry lines and currency (doc/events.md) */
ORDERLY_API int orderly_schema_version(void);

/* An envelope's fields. Every pointer is borrowed; NULL means absent. */
typedef struct orderly_envelope {
    const char *id;              /* required: CloudEvents makes it so (any non-empty string) */
    const char *source;          /* required */
    const char *type;            /* required, e.g. "payment.capture_succeeded" */
    const char *subject;         /* the order id */
    const char *time;            /* RFC 3339 */
    const char *datacontenttype; /* "application/json" when data is given */
    const char *traceparent;     /* 00-<32 hex>-<16 hex>-<2 hex> */
    int schemaversion;           /* 1..ORDERLY_SCHEMA_VERSION */
    const char *data;            /* JSON text of the data member, or NULL */
    size_t data_len;
} orderly_envelope;

/*
 * Writes env as one JSON object to write(). EENVELOPE naming the field
 * when a required one is missing or data is not valid JSON; the writer's
 * own negative code is returned unchanged.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_envelope_encode(const orderly_envelope *env,
                                                            orderly_writer_cb write,
                                                            void *user_data, orderly_ctx *ctx);

/* A decoded envelope; owns its strings. */
typedef struct orderly_event orderly_event;

/*
 * Parses bytes[0..len) into *out (caller owns; orderly_event_free).
 * EENVELOPE with the field named in ctx for malformed JSON, a missing,
 * empty or mistyped required field (specversion, id, source, type),
 * specversion other than 1.0, a schemaversion that is not a positive
 * integer (or a string of digits), or a malformed traceparent; EVERSION
 * for a schemaversion newer than this library's.
 * alloc may be NULL.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_event_decode(orderly_event **out,
                                                         const uint8_t *bytes, size_t len,
                                                         const orderly_allocator *alloc,
                                                         orderly_ctx *ctx);

/* Releases a decoded event. NULL is accepted. */
ORDERLY_API void orderly_event_free(orderly_event *ev);

/* Fills *out with borrowed views valid until orderly_event_free(ev). */
ORDERLY_API int orderly_event_fields(const orderly_event *ev, orderly_envelope *out);

/*
 * An id derived from what an event is: XXH3-128 over (kind, 0x1f,
 * natural_key), written as 32 lowercase hex digits plus NUL into out
 * (ORDERLY_EVENT_ID_SIZE bytes), for producers that have no id of their
 * own to give. Pinned forever.
 */
#define ORDERLY_EVENT_ID_SIZE 33
ORDERLY_API int orderly_event_derive_id(char *out, const char *kind, const char *natural_key);

ORDERLY_END_DECLS

#endif
