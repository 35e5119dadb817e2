/* A scratch folder per test for the SQLite suites, and the helpers around
 * it (header only: each suite is one program). */
#ifndef ORDERLY_TESTS_SQLITE_SCRATCH_H
#define ORDERLY_TESTS_SQLITE_SCRATCH_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "orderly/errors.h"

static char dir[256];

/* Makes a fresh folder under $TMPDIR (or /tmp) into dir. */
static void make_dir(void)
{
    snprintf(dir, sizeof dir, "%s/orderly-sqlite-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Removes dir, which make_dir made. */
static void remove_dir(void)
{
    char cmd[300];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* name inside dir; the last two results stay valid */
static const char *db_path(const char *name)
{
    static char p[2][320];
    static int k;

    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static orderly_ctx *new_ctx(void)
{
    orderly_ctx *c;

    ck_assert_int_eq(orderly_ctx_new(&c, NULL), 0);
    return c;
}

#endif
