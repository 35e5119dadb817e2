/*
 * orderly/sys/fault.h - fault injection for any storage adapter.
 *
 * The plans here drive the in-memory adapters (orderly/sys/memory.h) and
 * the fault wrapper below, which puts the same plans in front of any
 * storage (SQLite, PostgreSQL, a host's own): it forwards every call to
 * the inner storage and fails the ones the plan picks, so a host can watch
 * its own adapter under the engine's retry and rollback paths. An injected
 * failure happens before the inner call; an injected commit failure rolls
 * the inner transaction back, so nothing of it stays.
 */
#ifndef ORDERLY_SYS_FAULT_H
#define ORDERLY_SYS_FAULT_H

#include "alloc.h"
#include "storage.h"

ORDERLY_BEGIN_DECLS

/* Storage methods, for fault plans and call counters. */
typedef enum orderly_storage_method {
    ORDERLY_METHOD_ANY          = 0,
    ORDERLY_METHOD_BEGIN        = 1,
    ORDERLY_METHOD_COMMIT       = 2,
    ORDERLY_METHOD_LOAD         = 3,
    ORDERLY_METHOD_SAVE         = 4,
    ORDERLY_METHOD_SCAN         = 5,
    ORDERLY_METHOD_QUEUE_PUSH   = 6,
    ORDERLY_METHOD_QUEUE_CLAIM  = 7,
    ORDERLY_METHOD_QUEUE_FINISH = 8,
    ORDERLY_METHOD_QUEUE_RESET  = 9,
    ORDERLY_METHOD_QUEUE_GET    = 10,
    ORDERLY_METHOD_QUEUE_SCAN   = 11,
    ORDERLY_METHOD_QUEUE_PURGE  = 12,
    ORDERLY_METHOD_QUEUE_STATS  = 13,
    ORDERLY_METHOD_IDEM_GET     = 14,
    ORDERLY_METHOD_IDEM_PUT     = 15,
    ORDERLY_METHOD_IDEM_PURGE   = 16,
    ORDERLY_METHOD_HISTORY_APPEND = 17, /* storage version 3 */
    ORDERLY_METHOD_HISTORY_SCAN = 18,   /* storage version 3 */
    ORDERLY_METHOD_BEGIN_READ   = 19,   /* storage version 3 */
    ORDERLY_METHOD_QUEUE_NEXT_DUE = 20, /* storage version 3 */
    ORDERLY_METHOD_QUEUE_NEXT_DUE_EXCEPT = 21 /* storage version 4 */
} orderly_storage_method;
#define ORDERLY_METHOD_COUNT 22

#define ORDERLY_FAULT_PLAN_VERSION 1

typedef struct orderly_fault_plan {
    unsigned int version;   /* ORDERLY_FAULT_PLAN_VERSION */
    int method;             /* orderly_storage_method; ANY counts every call (transport: ignored) */
    uint64_t fail_at;       /* fail the Nth matching call, 1-based, counted from set_faults; 0 = off */
    int persistent;         /* 1: keep failing every matching call after the Nth */
    double probability;     /* 0..1: each matching call also fails with this chance */
    uint64_t seed;          /* for probability */
    int code;               /* the code injected; 0 = ESTORAGE (ETRANSPORT for transports) */
} orderly_fault_plan;

#define ORDERLY_FAULT_PLAN_INIT { ORDERLY_FAULT_PLAN_VERSION, 0, 0, 0, 0.0, 1, 0 }

/*
 * Wraps inner. The caller owns *out and frees it with
 * orderly_fault_storage_free after every engine using it has closed; inner
 * stays the caller's and must outlive the wrapper (the wrapper's destroy
 * slot is NULL, so engines free neither). No plan is installed at first:
 * every call passes through.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_fault_storage_new(orderly_storage **out,
                                                              orderly_storage *inner,
                                                              const orderly_allocator *alloc);
ORDERLY_API void orderly_fault_storage_free(orderly_storage *s);
/* Installs a plan (copied) and restarts its call count; NULL removes it.
 * EINVAL for a storage that is not a fault wrapper or a bad plan. */
ORDERLY_API int orderly_fault_storage_set_faults(orderly_storage *s, const orderly_fault_plan *plan);
/* Calls made to a method (ANY = all) since the wrapper was created. */
ORDERLY_API uint64_t orderly_fault_storage_calls(const orderly_storage *s, int method);
/* Faults injected since the wrapper was created. */
ORDERLY_API uint64_t orderly_fault_storage_faults(const orderly_storage *s);

ORDERLY_END_DECLS

#endif
