/*
 * Runs the storage conformance suite against the fault wrapper in front of
 * the in-memory storage, with no plan set: the wrapper must pass every
 * call and every optional slot its inner storage answers straight through.
 * usage: conformance_fault [FILTER]
 */
#include <stdio.h>

#include "orderly/sys/conformance.h"
#include "orderly/sys/fault.h"
#include "orderly/sys/memory.h"

struct store {
    orderly_storage *mem;   /* the durable state: it outlives every handle */
    orderly_storage *wrap;  /* in front of mem, made with it */
};

static int f_open(orderly_storage **out, void *ud)
{
    struct store *st = ud;
    int rc;

    if (st->mem == NULL) {
        if ((rc = orderly_memory_storage_new(&st->mem, NULL)) < 0)
            return rc;
        if ((rc = orderly_fault_storage_new(&st->wrap, st->mem, NULL)) < 0)
            return rc;
    }
    *out = st->wrap;
    return 0;
}

/* The inner storage's open transactions vanish; the wrapper keeps none. */
static int f_crash(orderly_storage **s, void *ud)
{
    struct store *st = ud;

    (void)s;
    orderly_memory_storage_crash(st->mem);
    return 0;
}

static void f_close(orderly_storage *s, void *ud)
{
    (void)s;
    (void)ud;
}

static int f_reset(void *ud)
{
    struct store *st = ud;

    orderly_fault_storage_free(st->wrap);
    orderly_memory_storage_free(st->mem);
    st->wrap = st->mem = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    orderly_conformance_target t = ORDERLY_CONFORMANCE_TARGET_INIT;
    orderly_conformance_options o = ORDERLY_CONFORMANCE_OPTIONS_INIT;
    struct store st = { NULL, NULL };
    int failed;

    t.name = "fault wrapper over memory";
    t.user_data = &st;
    t.open = f_open;
    t.crash = f_crash;
    t.close = f_close;
    t.reset = f_reset;
    o.filter = argc > 1 ? argv[1] : NULL;
    failed = orderly_conformance_run(&t, &o, stdout);
    (void)f_reset(&st);
    return failed == 0 ? 0 : 1;
}
