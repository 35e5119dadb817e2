/*
 * The suite must catch a broken adapter and name the rules it breaks: the
 * in-memory storage with its fencing removed (a finish carrying a stale
 * lease token is applied instead of rejected) fails exactly the three cases
 * that finish with a stale token, and passes once they are listed as known
 * failures.
 */
#include <stdio.h>
#include <string.h>

#include "orderly/sys/conformance.h"
#include "orderly/sys/memory.h"

#define FENCING "contract: finish is fenced by the lease token"
#define MISSES "contract: expected misses leave the transaction committable"
#define TAKEOVER "handles: a completion with a taken-over lease's token is refused"

struct store {
    orderly_storage *s;
    int (*finish)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                  uint64_t token, int state, orderly_time_ms due, uint32_t attempts);
};

static struct store store;

static int lease_of(const orderly_queue_item *it, void *ud)
{
    if (it->state == ORDERLY_ITEM_LEASED)
        *(uint64_t *)ud = it->lease_token;
    return 0;
}

/* Finishes under whatever lease the item holds now: no fencing. */
static int unfenced_finish(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                           uint64_t token, int state, orderly_time_ms due, uint32_t attempts)
{
    (void)s->queue_get(s, ctx, txn, queue, id, lease_of, &token);
    return store.finish(s, ctx, txn, queue, id, token, state, due, attempts);
}

static int b_open(orderly_storage **out, void *ud)
{
    struct store *st = ud;
    int rc;

    if (st->s == NULL) {
        if ((rc = orderly_memory_storage_new(&st->s, NULL)) < 0)
            return rc;
        st->finish = st->s->queue_finish;
        st->s->queue_finish = unfenced_finish;
    }
    *out = st->s;
    return 0;
}

static int b_crash(orderly_storage **s, void *ud)
{
    (void)ud;
    orderly_memory_storage_crash(*s);
    return 0;
}

static void b_close(orderly_storage *s, void *ud)
{
    (void)s;
    (void)ud;
}

static int b_reset(void *ud)
{
    struct store *st = ud;

    orderly_memory_storage_free(st->s);
    st->s = NULL;
    return 0;
}

/* Runs the contract part into a scratch file; returns its result and how
 * many of the three stale-token cases were reported as failing (any other
 * failure is echoed as a TAP comment). */
static int run(const char *known, int *stale_failed)
{
    orderly_conformance_target t = ORDERLY_CONFORMANCE_TARGET_INIT;
    orderly_conformance_options o = ORDERLY_CONFORMANCE_OPTIONS_INIT;
    char line[512];
    FILE *f = tmpfile();
    int rc;

    *stale_failed = 0;
    if (f == NULL)
        return -1;
    t.name = "memory without fencing";
    t.user_data = &store;
    t.open = b_open;
    t.crash = b_crash;
    t.close = b_close;
    t.reset = b_reset;
    o.parts = ORDERLY_CONFORMANCE_CONTRACT;
    o.known_failures = known;
    rc = orderly_conformance_run(&t, &o, f);
    rewind(f);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "not ok", 6) != 0)
            continue;
        if (strstr(line, FENCING) != NULL || strstr(line, MISSES) != NULL ||
            strstr(line, TAKEOVER) != NULL)
            (*stale_failed)++;
        else
            printf("# unexpected: %s", line);
    }
    fclose(f);
    (void)b_reset(&store);
    return rc;
}

int main(void)
{
    int failed, stale, ok1, ok2;

    failed = run(NULL, &stale);
    ok1 = failed == 3 && stale == 3;
    printf("%s 1 - an adapter without fencing fails the three stale-token cases and only them\n",
           ok1 ? "ok" : "not ok");
    printf("# %d failed\n", failed);
    failed = run(FENCING ", " MISSES ", " TAKEOVER, &stale);
    ok2 = failed == 0 && stale == 3;
    printf("%s 2 - listed known failures are still reported but not counted\n",
           ok2 ? "ok" : "not ok");
    printf("# %d failed\n", failed);
    printf("1..2\n");
    return ok1 && ok2 ? 0 : 1;
}
