/*
 * Runs the storage conformance suite against the SQLite adapter, on a file.
 * usage: conformance_sqlite DIR [FILTER]
 *
 * The database is DIR/orderly-conformance-<pid>.db, so runs from several
 * build trees never share one. A crash closes the connection with its
 * transaction open (SQLite rolls it back, as it would after a kill) and
 * reopens the file. Synchronous NORMAL is enough here: it survives a
 * killed process, which is what is simulated. The suite wipes and reopens
 * the store some three thousand times; on a tmpfs DIR that costs no fsync.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "orderly/sys/conformance.h"
#include "orderly/sys/sqlite.h"

struct db {
    char path[4096];
};

static int s_open(orderly_storage **out, void *ud)
{
    struct db *d = ud;
    orderly_sqlite_options o = ORDERLY_SQLITE_OPTIONS_INIT;

    o.synchronous = ORDERLY_SQLITE_SYNC_NORMAL;
    return orderly_sqlite_storage_open(out, d->path, &o, NULL);
}

static int s_crash(orderly_storage **s, void *ud)
{
    orderly_sqlite_storage_close(*s);
    *s = NULL;
    return s_open(s, ud);
}

static void s_close(orderly_storage *s, void *ud)
{
    (void)ud;
    orderly_sqlite_storage_close(s);
}

static int s_reset(void *ud)
{
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
    struct db *d = ud;
    char path[4200];
    size_t i;

    for (i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(path, sizeof path, "%s%s", d->path, suffix[i]);
        if (unlink(path) < 0 && errno != ENOENT)
            return ORDERLY_ESTORAGE;
    }
    return 0;
}

int main(int argc, char **argv)
{
    orderly_conformance_target t = ORDERLY_CONFORMANCE_TARGET_INIT;
    orderly_conformance_options o = ORDERLY_CONFORMANCE_OPTIONS_INIT;
    struct db d;
    int failed;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [FILTER]\n", argv[0]);
        return 2;
    }
    snprintf(d.path, sizeof d.path, "%s/orderly-conformance-%ld.db", argv[1], (long)getpid());
    t.name = "sqlite";
    t.user_data = &d;
    t.open = s_open;
    t.crash = s_crash;
    t.close = s_close;
    t.reset = s_reset;
    o.filter = argc > 2 ? argv[2] : NULL;
    failed = orderly_conformance_run(&t, &o, stdout);
    (void)s_reset(&d);
    return failed == 0 ? 0 : 1;
}
