/*
 * orderly/sys/conformance.h - the storage conformance suite, shipped for
 * adapter authors (liborderly-conformance, a static library).
 *
 * One suite holds every storage adapter to the contract of
 * orderly/sys/storage.h: the in-memory reference storage, the SQLite
 * adapter, and any adapter a host writes. An adapter author describes
 * how to open, crash, close and wipe a store of theirs in an
 * orderly_conformance_target and calls orderly_conformance_run; it prints
 * TAP and returns the number of failures, so it drops straight into any
 * test runner (meson `protocol: 'tap'`, prove, ctest).
 *
 * Two parts:
 * - contract: one case per rule of the vtable, called directly on the
 *   adapter (transactions, compare-and-swap, scans, queue claims with
 *   leases, per-group order and fencing, purges, stats, idempotency marks,
 *   what a rollback and a crash discard);
 * - crash: a realistic workload (card and COD orders over two warehouses,
 *   capture, shipping, a cancellation, a return with a flaky restock, a
 *   operation that exhausts and is replayed by an operator, outbox
 *   purges) run through a real engine, crashed once at every storage call
 *   in turn, both before the call reaches the adapter and after it
 *   returned. After each crash the store is recovered with target->crash,
 *   a fresh engine is opened on it and the workload continues with the same
 *   idempotency keys. Every run is then checked: no committed event lost,
 *   each order's events published in outbox order (a duplicate only ever
 *   repeats an event id), no lease left behind, every operation done or
 *   exhausted with an alert, money invariants, and the same final state and
 *   events as a crash-free run.
 *
 * The suite never calls the storage's destroy slot: handles go back
 * through target->close. It needs one transaction open at a time per
 * handle only. It is not thread-safe; run one suite per process.
 * Use it with the liborderly of the same version.
 */
#ifndef ORDERLY_SYS_CONFORMANCE_H
#define ORDERLY_SYS_CONFORMANCE_H

#include <stdio.h>

#include "storage.h"

ORDERLY_BEGIN_DECLS

#define ORDERLY_CONFORMANCE_TARGET_VERSION 1

/* How the suite reaches one kind of store. Every callback gets
 * user_data as its last argument and returns 0 or a negative orderly
 * code (close cannot fail). */
typedef struct orderly_conformance_target {
    unsigned int version;      /* ORDERLY_CONFORMANCE_TARGET_VERSION; first, always */
    const char *name;          /* shown in the TAP output; NULL = "storage" */
    void *user_data;

    /* ---- version 1 ---- */

    /* Must provide. Opens a handle on the store into *out, creating the
     * store when absent. Whatever earlier handles committed is there. The
     * handle stays the target's: the suite gives it back to close (or to
     * crash), never to destroy. */
    int (*open)(orderly_storage **out, void *user_data);
    /* Must provide. Simulates the process dying with *s open: every
     * transaction open on it is lost, every commit that returned 0 survives.
     * Either keep *s (then a transaction handle opened before the crash
     * must still be safe to pass to rollback, which only releases it) or
     * close it, which releases those handles, and store a handle from a
     * fresh open in *s. On failure *s must be NULL or still valid. */
    int (*crash)(orderly_storage **s, void *user_data);
    /* Must provide. Releases a handle from open or crash, with no
     * transaction open. Committed state stays in the store. */
    void (*close)(orderly_storage *s, void *user_data);
    /* Must provide. Wipes the store to empty. Called with no handle open. */
    int (*reset)(void *user_data);
} orderly_conformance_target;

#define ORDERLY_CONFORMANCE_TARGET_INIT \
    { ORDERLY_CONFORMANCE_TARGET_VERSION, NULL, NULL, NULL, NULL, NULL, NULL }

/* Which parts run (bits). */
#define ORDERLY_CONFORMANCE_CONTRACT 0x1u
#define ORDERLY_CONFORMANCE_CRASH    0x2u
#define ORDERLY_CONFORMANCE_ALL      0x3u

#define ORDERLY_CONFORMANCE_OPTIONS_VERSION 1

typedef struct orderly_conformance_options {
    unsigned int version;      /* ORDERLY_CONFORMANCE_OPTIONS_VERSION; first, always */
    unsigned int parts;        /* ORDERLY_CONFORMANCE_* bits; 0 = all */
    const char *filter;        /* run only tests whose name contains this; NULL = all */
    /* Comma-separated names of tests known to fail on this target (a bug
     * reported and not fixed yet). They still run and print as
     * "not ok ... # TODO known failure" but are not counted; one that
     * passes prints "ok ... # TODO ..." so the entry can be dropped.
     * NULL = none. */
    const char *known_failures;
} orderly_conformance_options;

#define ORDERLY_CONFORMANCE_OPTIONS_INIT \
    { ORDERLY_CONFORMANCE_OPTIONS_VERSION, 0, NULL, NULL }

/*
 * Runs the suite against target and prints TAP to report (a plan at the
 * end, one "ok N - name" or "not ok N - name" line per test, detail as
 * "# " lines). opts may be NULL for the defaults. Returns the number of
 * failed tests (0 = the adapter conforms), or a negative orderly code when
 * the suite cannot run at all: EINVAL for a missing callback or report,
 * EVERSION for an unknown target or options version, ENOMEM.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_conformance_run(
    const orderly_conformance_target *target, const orderly_conformance_options *opts,
    FILE *report);

ORDERLY_END_DECLS

#endif
