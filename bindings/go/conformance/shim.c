/* The conformance target whose callbacks reach the Go Target (run.go). */
#include <stdio.h>

#include "shim.h"
#include "_cgo_export.h"

static int t_open(orderly_storage **out, void *ud)
{
    return goConfOpen((uintptr_t)ud, out);
}

static int t_crash(orderly_storage **s, void *ud)
{
    return goConfCrash((uintptr_t)ud, *s);
}

static void t_close(orderly_storage *s, void *ud)
{
    goConfClose((uintptr_t)ud, s);
}

static int t_reset(void *ud)
{
    return goConfReset((uintptr_t)ud);
}

int orderly_go_conformance_run(uintptr_t handle, const char *name, unsigned int parts,
                               const char *filter, const char *known_failures, char **report,
                               size_t *len)
{
    orderly_conformance_target t = ORDERLY_CONFORMANCE_TARGET_INIT;
    orderly_conformance_options o = ORDERLY_CONFORMANCE_OPTIONS_INIT;
    FILE *f = tmpfile();
    long size;
    int failures;

    *report = NULL;
    *len = 0;
    if (f == NULL)
        return -1;
    t.name = name;
    t.user_data = (void *)handle;
    t.open = t_open;
    t.crash = t_crash;
    t.close = t_close;
    t.reset = t_reset;
    o.parts = parts;
    o.filter = filter;
    o.known_failures = known_failures;
    failures = orderly_conformance_run(&t, &o, f);
    size = ftell(f);
    if (size > 0 && (*report = malloc((size_t)size)) != NULL) {
        rewind(f);
        *len = fread(*report, 1, (size_t)size, f);
    }
    fclose(f);
    return failures;
}
