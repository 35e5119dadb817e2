/*
 * orderly/errors.h - result codes and the per-context error slot.
 *
 * Every orderly function that can fail returns an int: 0 on success, one of
 * the negative codes below on failure. Values are pinned forever; new codes
 * are only ever added. Detailed, human-readable messages live on an
 * orderly_ctx (one per engine or per caller), never in a process-wide global,
 * so a Go goroutine that changes OS threads loses nothing.
 */
#ifndef ORDERLY_ERRORS_H
#define ORDERLY_ERRORS_H

#include "common.h"
#include "sys/alloc.h"

ORDERLY_BEGIN_DECLS

typedef enum orderly_error_code {
    ORDERLY_OK            = 0,
    ORDERLY_ERROR         = -1,  /* unclassified failure */
    ORDERLY_ENOMEM        = -2,  /* allocation failed */
    ORDERLY_EINVAL        = -3,  /* bad argument */
    ORDERLY_EMISUSE       = -4,  /* wrong handle state or call order */
    ORDERLY_ENOTFOUND     = -5,  /* no such machine, state, event, record */
    ORDERLY_EEXISTS       = -6,  /* duplicate: the record or key already exists */
    ORDERLY_ECONFLICT     = -7,  /* version conflict (optimistic concurrency) */
    ORDERLY_ETRANSITION   = -8,  /* the machine has no transition for this event here */
    ORDERLY_EGUARD        = -9,  /* a transition exists but its guard rejected the input */
    ORDERLY_EIDEMMISMATCH = -10, /* idempotency key reused with a different request */
    ORDERLY_EINFLIGHT     = -11, /* idempotency key held by a request still running */
    ORDERLY_ESTORAGE      = -12, /* the storage adapter failed */
    ORDERLY_ETRANSPORT    = -13, /* the transport adapter failed */
    ORDERLY_ETIMEOUT      = -14, /* an adapter timed out */
    ORDERLY_EVERSION      = -15, /* unsupported vtable, options or schema version */
    ORDERLY_ENOTSUPPORTED = -16, /* the operation is not available here */
    ORDERLY_ECONFIG       = -17, /* configuration rejected at setup */
    ORDERLY_EINVARIANT    = -18, /* a money or stock invariant would be violated */
    ORDERLY_EBUFSIZE      = -19, /* the caller's buffer is too small */
    ORDERLY_EENVELOPE     = -20, /* malformed or incomplete event envelope */
    ORDERLY_ESIGNATURE    = -21, /* webhook signature does not match */
    ORDERLY_ESIGHEADER    = -22, /* webhook signature header malformed */
    ORDERLY_ESTALE        = -23, /* webhook timestamp outside the tolerance */
    ORDERLY_EUSER         = -30, /* the host's own failure; never produced by orderly */
    ORDERLY_ITEROVER      = -31  /* an iteration has no more items */
} orderly_error_code;

/* ORDERLY_EDUPLICATE names the same code as ORDERLY_EEXISTS. */
#define ORDERLY_EDUPLICATE ORDERLY_EEXISTS

/*
 * A static, never-NULL English description of a code. Unknown codes get a
 * generic text; nothing is allocated.
 */
ORDERLY_API const char *orderly_strerror(int code);

/* The code's symbolic name ("ORDERLY_EGUARD"); static, never NULL. */
ORDERLY_API const char *orderly_error_name(int code);

/*
 * 1 when retrying the same call later may succeed (conflict, in-flight,
 * storage, transport, timeout, out of memory), 0 when it cannot.
 */
ORDERLY_API int orderly_error_is_transient(int code);

/*
 * The error context: holds the last error code, a one-line message and an
 * adapter's native code. Engines own one each; standalone calls (machine
 * queries, exports) take an optional one. Not thread-safe: one thread at a
 * time per context.
 */
typedef struct orderly_ctx orderly_ctx;

/*
 * Allocates a context into *out. alloc may be NULL for the C library
 * allocator; when given it is copied, and its user_data must outlive the
 * context. The caller owns *out and releases it with orderly_ctx_free.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_ctx_new(orderly_ctx **out,
                                                    const orderly_allocator *alloc);

/* Releases a context. NULL is accepted. */
ORDERLY_API void orderly_ctx_free(orderly_ctx *ctx);

/* The last error code recorded (0 after success or a clear). */
ORDERLY_API int orderly_ctx_errcode(const orderly_ctx *ctx);

/*
 * The last message; never NULL (empty when there is none). Borrowed: valid
 * until the next call that takes this context.
 */
ORDERLY_API const char *orderly_ctx_errmsg(const orderly_ctx *ctx);

/* The adapter's own code for the last error (an SQLite rc, say), or 0. */
ORDERLY_API int64_t orderly_ctx_native(const orderly_ctx *ctx);

/* Forgets the last error. NULL is accepted. */
ORDERLY_API void orderly_ctx_clear(orderly_ctx *ctx);

/*
 * Records an error; adapters call this from their vtable methods to attach
 * detail. msg is copied at once (truncated to ORDERLY_ERRMSG_MAX - 1 bytes);
 * NULL means "use orderly_strerror(code)". Returns code, so a host can write
 * `return orderly_ctx_set_error(ctx, ORDERLY_ESTORAGE, rc, "disk full");`.
 * With ctx NULL nothing is recorded and code is still returned.
 */
ORDERLY_API int orderly_ctx_set_error(orderly_ctx *ctx, int code, int64_t native,
                                      const char *msg);

/* Capacity of a context's message slot, in bytes including the NUL. */
#define ORDERLY_ERRMSG_MAX 256
ORDERLY_API size_t orderly_errmsg_max(void);

ORDERLY_END_DECLS

#endif
