/*
 * orderly/sys/memory.h - the in-memory reference storage and transport.
 *
 * Shipped in liborderly for orderly's own tests and for hosts' tests: the
 * storage is the oracle the conformance suite holds other adapters to.
 * Both have fault injection: fail the Nth call of a method (or of any
 * method), fail with a seeded probability, simulate a crash (every open
 * transaction vanishes); the transport can also duplicate, reorder and
 * delay deliveries. Neither is thread-safe: share one between engines of
 * one thread only.
 */
#ifndef ORDERLY_SYS_MEMORY_H
#define ORDERLY_SYS_MEMORY_H

#include "fault.h"
#include "storage.h"
#include "transport.h"

ORDERLY_BEGIN_DECLS


/* Creates an empty storage. The caller owns *out and frees it with
 * orderly_memory_storage_free after every engine using it has closed
 * (its destroy slot is NULL: engines never free it). */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_memory_storage_new(orderly_storage **out,
                                                               const orderly_allocator *alloc);
ORDERLY_API void orderly_memory_storage_free(orderly_storage *s);

/* Installs a fault plan (copied) and restarts the call count; NULL removes it. */
ORDERLY_API int orderly_memory_storage_set_faults(orderly_storage *s,
                                                  const orderly_fault_plan *plan);
/* Calls made to a method (ANY = all) since the storage was created. */
ORDERLY_API uint64_t orderly_memory_storage_calls(const orderly_storage *s, int method);
/* Faults injected since the storage was created. */
ORDERLY_API uint64_t orderly_memory_storage_faults(const orderly_storage *s);
/* Simulates a crash: every open transaction's work vanishes; their
 * handles fail from now on. Committed state is untouched. */
ORDERLY_API void orderly_memory_storage_crash(orderly_storage *s);
/* Committed records and the bytes they hold (keys, data and bookkeeping). */
ORDERLY_API void orderly_memory_storage_usage(const orderly_storage *s, size_t *records_out,
                                              size_t *bytes_out);

/* ---- transport ------------------------------------------------------------ */

#define ORDERLY_DELIVERY_PLAN_VERSION 1

typedef struct orderly_delivery_plan {
    unsigned int version;   /* ORDERLY_DELIVERY_PLAN_VERSION */
    double duplicate;       /* chance a message is delivered twice */
    double reorder;         /* chance a message swaps places with the next one */
    uint32_t max_delay;     /* a message is held back up to this many deliver() calls */
    uint64_t seed;
} orderly_delivery_plan;

#define ORDERLY_DELIVERY_PLAN_INIT { ORDERLY_DELIVERY_PLAN_VERSION, 0.0, 0.0, 0, 1 }

/* A message as accepted by publish. Pointers live until the transport is
 * cleared or freed. */
typedef struct orderly_message {
    const char *topic;
    const char *key;
    const uint8_t *data;
    size_t len;
    uint64_t seq;           /* publish order, from 0 */
} orderly_message;

typedef int (*orderly_message_cb)(const orderly_message *msg, void *user_data);

/* Creates a transport that records every accepted message. The caller owns
 * *out (destroy slot NULL) and frees it after the engines using it. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_memory_transport_new(orderly_transport **out,
                                                                 const orderly_allocator *alloc);
ORDERLY_API void orderly_memory_transport_free(orderly_transport *t);
/* Makes publish fail per plan (method ignored); NULL removes it. */
ORDERLY_API int orderly_memory_transport_set_faults(orderly_transport *t,
                                                    const orderly_fault_plan *plan);
/* Duplicates, reorders and delays what deliver() hands out; NULL = faithful. */
ORDERLY_API int orderly_memory_transport_set_delivery(orderly_transport *t,
                                                      const orderly_delivery_plan *plan);
/* Accepted messages since the transport was made (clear does not reset it). */
ORDERLY_API size_t orderly_memory_transport_count(const orderly_transport *t);
/* *out = message i of those held since the last clear (publish order).
 * ENOTFOUND past the end. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_memory_transport_get(orderly_message *out,
                                                                 const orderly_transport *t,
                                                                 size_t i);
/* Hands up to max undelivered messages to cb, as the delivery plan
 * distorts them (every accepted message is delivered at least once
 * eventually); returns the number delivered or cb's negative code. */
ORDERLY_API int orderly_memory_transport_deliver(orderly_transport *t, size_t max,
                                                 orderly_message_cb cb, void *user_data);
/* Forgets every message (frees their memory). */
ORDERLY_API void orderly_memory_transport_clear(orderly_transport *t);
/* When keep is 0, publish only counts messages and stores none (benches). */
ORDERLY_API void orderly_memory_transport_keep(orderly_transport *t, int keep);

ORDERLY_END_DECLS

#endif
