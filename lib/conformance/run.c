/* The suite's entry point and its TAP reporting. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void orderly__conf_note(char *buf, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    int n;

    if (used + 2 >= ORDERLY__CONF_NOTE_MAX)
        return;
    if (used > 0)
        buf[used++] = '\n';
    va_start(ap, fmt);
    n = vsnprintf(buf + used, ORDERLY__CONF_NOTE_MAX - used, fmt, ap);
    va_end(ap);
    if (n < 0)
        buf[used] = '\0';
}

void orderly__conf_fail_at(char *buf, orderly_ctx *ctx, const char *file, int line,
                           const char *fmt, ...)
{
    char msg[512];
    const char *why = ctx != NULL ? orderly_ctx_errmsg(ctx) : "";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    orderly__conf_note(buf, "%s:%d: %s", file, line, msg);
    if (why[0] != '\0')
        orderly__conf_note(buf, "adapter said: %s", why);
}

int orderly__conf_run_table(struct orderly__conf_tap *tap, const orderly_conformance_target *t,
                            const void *table, size_t n, size_t size, orderly__conf_case_fn run)
{
    const unsigned char *entry = table;
    orderly_ctx *ctx = NULL;
    orderly_buf *buf = NULL;
    size_t i;
    int rc;

    if ((rc = orderly_ctx_new(&ctx, NULL)) < 0)
        return rc;
    if ((rc = orderly_buf_new(&buf, NULL)) < 0) {
        orderly_ctx_free(ctx);
        return rc;
    }
    for (i = 0; i < n; i++, entry += size)
        if (orderly__conf_wanted(tap, *(const char *const *)(const void *)entry))
            run(tap, t, ctx, buf, entry);
    orderly_buf_free(buf);
    orderly_ctx_free(ctx);
    return ORDERLY_OK;
}

int orderly__conf_wanted(const struct orderly__conf_tap *tap, const char *name)
{
    return tap->filter == NULL || strstr(name, tap->filter) != NULL;
}

/* 1 when name is one entry of the comma-separated list. */
static int listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    const char *p = list;

    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == len && strncmp(p, name, len) == 0)
            return 1;
        p = end != NULL ? end + 1 : NULL;
    }
    return 0;
}

void orderly__conf_report(struct orderly__conf_tap *tap, const char *name, int ok,
                          const char *detail)
{
    int known = listed(tap->known, name);
    const char *p = detail;

    tap->n++;
    fprintf(tap->out, "%s %d - %s%s\n", ok ? "ok" : "not ok", tap->n, name,
            known ? " # TODO known failure" : "");
    if (!ok && !known)
        tap->failed++;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '\n');
        int n = end != NULL ? (int)(end - p) : (int)strlen(p);
        fprintf(tap->out, "#   %.*s\n", n, p);
        p = end != NULL ? end + 1 : NULL;
    }
    fflush(tap->out);
}

int orderly_conformance_run(const orderly_conformance_target *target,
                            const orderly_conformance_options *opts, FILE *report)
{
    orderly_conformance_options o = ORDERLY_CONFORMANCE_OPTIONS_INIT;
    struct orderly__conf_tap tap;
    int rc = 0;

    if (target == NULL || report == NULL)
        return ORDERLY_EINVAL;
    if (target->version == 0 || target->version > ORDERLY_CONFORMANCE_TARGET_VERSION)
        return ORDERLY_EVERSION;
    if (target->open == NULL || target->crash == NULL || target->close == NULL ||
        target->reset == NULL)
        return ORDERLY_EINVAL;
    if (opts != NULL) {
        if (opts->version == 0 || opts->version > ORDERLY_CONFORMANCE_OPTIONS_VERSION)
            return ORDERLY_EVERSION;
        o = *opts;
    }
    if (o.parts == 0)
        o.parts = ORDERLY_CONFORMANCE_ALL;
    memset(&tap, 0, sizeof tap);
    tap.out = report;
    tap.filter = o.filter;
    tap.known = o.known_failures;
    fprintf(report, "TAP version 13\n# orderly storage conformance: %s\n",
            target->name != NULL ? target->name : "storage");
    if (o.parts & ORDERLY_CONFORMANCE_CONTRACT)
        rc = orderly__conf_contract(&tap, target);
    if (rc >= 0 && (o.parts & ORDERLY_CONFORMANCE_CONTRACT))
        rc = orderly__conf_handles(&tap, target);
    if (rc >= 0 && (o.parts & ORDERLY_CONFORMANCE_CONTRACT))
        rc = orderly__conf_engine(&tap, target);
    if (rc >= 0 && (o.parts & ORDERLY_CONFORMANCE_CRASH))
        rc = orderly__conf_crash(&tap, target);
    if (rc < 0) {
        fprintf(report, "Bail out! the suite itself failed: %s\n", orderly_strerror(rc));
        return rc;
    }
    fprintf(report, "1..%d\n", tap.n);
    fflush(report);
    return tap.failed;
}
