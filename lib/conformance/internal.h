/* Shared between the files of liborderly-conformance; never installed. */
#ifndef ORDERLY_CONFORMANCE_INTERNAL_H
#define ORDERLY_CONFORMANCE_INTERNAL_H

#include "orderly/sys/conformance.h"

#if defined(__GNUC__)
#define ORDERLY__CONF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ORDERLY__CONF_PRINTF(f, a)
#endif

/* Detail kept for one test: the lines after its result line. */
#define ORDERLY__CONF_NOTE_MAX 4096

struct orderly__conf_tap {
    FILE *out;
    const char *filter;
    const char *known;      /* comma-separated known failures */
    int n;                  /* tests reported */
    int failed;             /* failures that count */
};

/* 1 when the filter selects name. */
int orderly__conf_wanted(const struct orderly__conf_tap *tap, const char *name);

/* Runs one case of a suite's table with the context and buffer its cases share. */
typedef void (*orderly__conf_case_fn)(struct orderly__conf_tap *tap,
                                      const orderly_conformance_target *t, orderly_ctx *ctx,
                                      orderly_buf *buf, const void *c);
/* Runs every case the filter selects of a table of n entries of size bytes,
 * each starting with its name (const char *); ENOMEM before any ran. */
int orderly__conf_run_table(struct orderly__conf_tap *tap, const orderly_conformance_target *t,
                            const void *table, size_t n, size_t size, orderly__conf_case_fn run);

/* Prints one result line and its detail (lines separated by '\n', each
 * printed as a "# " comment), counting it unless it is a known failure. */
void orderly__conf_report(struct orderly__conf_tap *tap, const char *name, int ok,
                          const char *detail);

/* Appends one formatted line to a detail buffer of ORDERLY__CONF_NOTE_MAX
 * bytes, silently dropping what does not fit. */
void orderly__conf_note(char *buf, const char *fmt, ...) ORDERLY__CONF_PRINTF(2, 3);

/* Notes a failed check as "file:line: message" in buf, then what the
 * adapter said last on ctx (NULL or empty: nothing more). */
void orderly__conf_fail_at(char *buf, orderly_ctx *ctx, const char *file, int line,
                           const char *fmt, ...) ORDERLY__CONF_PRINTF(5, 6);

/* The two parts; each reports its own tests. A negative return is a
 * harness error (ENOMEM), not a failure of the target. The contract part
 * ends with a few engine cases (crash.c, for its wrapper): behaviour an
 * engine must show on every adapter alike. */
int orderly__conf_contract(struct orderly__conf_tap *tap, const orderly_conformance_target *t);
int orderly__conf_engine(struct orderly__conf_tap *tap, const orderly_conformance_target *t);
/* Part of the contract: the rules two handles on one store show (handles.c). */
int orderly__conf_handles(struct orderly__conf_tap *tap, const orderly_conformance_target *t);
int orderly__conf_crash(struct orderly__conf_tap *tap, const orderly_conformance_target *t);

#endif
