/*
 * orderly/sys/transport.h - the transport vtable a host supplies.
 *
 * orderly only publishes; consuming is the host's (it hands received
 * envelopes to orderly_engine_handle_event). publish() returning 0 means
 * the broker accepted the message; after that the outbox row is done.
 * Delivery is at-least-once: a crash between publish and the outbox ack
 * publishes the same event id again, so consumers dedupe by event id.
 */
#ifndef ORDERLY_SYS_TRANSPORT_H
#define ORDERLY_SYS_TRANSPORT_H

#include "../common.h"
#include "../errors.h"

ORDERLY_BEGIN_DECLS

typedef struct orderly_header {
    const char *name;
    const char *value;
} orderly_header;

#define ORDERLY_TRANSPORT_VERSION 1

typedef struct orderly_transport orderly_transport;

struct orderly_transport {
    unsigned int version;      /* ORDERLY_TRANSPORT_VERSION; first, always */
    unsigned int flags;        /* reserved, 0 */
    void *user_data;

    /* ---- version 1 ---- */

    /* Must provide. Publishes data (a CloudEvents JSON envelope) to topic
     * with partition key key (the order id) and headers (ce-id, ce-type,
     * traceparent, ...). All inputs borrowed. ETRANSPORT or ETIMEOUT on
     * failure; the core retries with backoff. */
    int ORDERLY_CALLBACK(publish)(orderly_transport *t, orderly_ctx *ctx, const char *topic,
                                  const char *key, const uint8_t *data, size_t len,
                                  const orderly_header *headers, size_t n_headers);
    /* May provide; if NULL nothing is called. Runs once at engine close. */
    void ORDERLY_CALLBACK(destroy)(orderly_transport *t);
};

/* Zero-fills *t and sets version; ORDERLY_EVERSION for an unknown one. */
ORDERLY_API int orderly_transport_init(orderly_transport *t, unsigned int version);

ORDERLY_END_DECLS

#endif
