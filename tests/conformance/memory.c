/*
 * Runs the storage conformance suite against the in-memory reference
 * storage. usage: conformance_memory [FILTER]
 */
#include <stdio.h>

#include "orderly/sys/conformance.h"
#include "orderly/sys/memory.h"

struct store {
    orderly_storage *s;   /* the durable state: it outlives every handle */
};

static int m_open(orderly_storage **out, void *ud)
{
    struct store *st = ud;
    int rc;

    if (st->s == NULL && (rc = orderly_memory_storage_new(&st->s, NULL)) < 0)
        return rc;
    *out = st->s;
    return 0;
}

/* Open transactions vanish; their handles stay valid for rollback. */
static int m_crash(orderly_storage **s, void *ud)
{
    (void)ud;
    orderly_memory_storage_crash(*s);
    return 0;
}

static void m_close(orderly_storage *s, void *ud)
{
    (void)s;
    (void)ud;
}

static int m_reset(void *ud)
{
    struct store *st = ud;

    orderly_memory_storage_free(st->s);
    st->s = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    orderly_conformance_target t = ORDERLY_CONFORMANCE_TARGET_INIT;
    orderly_conformance_options o = ORDERLY_CONFORMANCE_OPTIONS_INIT;
    struct store st = { NULL };
    int failed;

    t.name = "memory";
    t.user_data = &st;
    t.open = m_open;
    t.crash = m_crash;
    t.close = m_close;
    t.reset = m_reset;
    o.filter = argc > 1 ? argv[1] : NULL;
    failed = orderly_conformance_run(&t, &o, stdout);
    (void)m_reset(&st);
    return failed == 0 ? 0 : 1;
}
