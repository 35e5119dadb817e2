/*
 * Error codes, their names and classes, the error context and the
 * allocator hook it allocates through. Values are written out literally:
 * they are persisted and bound by other languages, so a renumbering must
 * fail here.
 */
#include <limits.h>
#include <string.h>

#include "orderly/errors.h"
#include "orderly/sys/alloc.h"
#include "orderly/version.h"
#include "unit_main.h"

typedef struct code_case {
    int code;
    int value;
    const char *name;
    int transient;
} code_case;

static const code_case code_cases[] = {
    { ORDERLY_OK, 0, "ORDERLY_OK", 0 },
    { ORDERLY_ERROR, -1, "ORDERLY_ERROR", 0 },
    { ORDERLY_ENOMEM, -2, "ORDERLY_ENOMEM", 1 },
    { ORDERLY_EINVAL, -3, "ORDERLY_EINVAL", 0 },
    { ORDERLY_EMISUSE, -4, "ORDERLY_EMISUSE", 0 },
    { ORDERLY_ENOTFOUND, -5, "ORDERLY_ENOTFOUND", 0 },
    { ORDERLY_EEXISTS, -6, "ORDERLY_EEXISTS", 0 },
    { ORDERLY_ECONFLICT, -7, "ORDERLY_ECONFLICT", 1 },
    { ORDERLY_ETRANSITION, -8, "ORDERLY_ETRANSITION", 0 },
    { ORDERLY_EGUARD, -9, "ORDERLY_EGUARD", 0 },
    { ORDERLY_EIDEMMISMATCH, -10, "ORDERLY_EIDEMMISMATCH", 0 },
    { ORDERLY_EINFLIGHT, -11, "ORDERLY_EINFLIGHT", 1 },
    { ORDERLY_ESTORAGE, -12, "ORDERLY_ESTORAGE", 1 },
    { ORDERLY_ETRANSPORT, -13, "ORDERLY_ETRANSPORT", 1 },
    { ORDERLY_ETIMEOUT, -14, "ORDERLY_ETIMEOUT", 1 },
    { ORDERLY_EVERSION, -15, "ORDERLY_EVERSION", 0 },
    { ORDERLY_ENOTSUPPORTED, -16, "ORDERLY_ENOTSUPPORTED", 0 },
    { ORDERLY_ECONFIG, -17, "ORDERLY_ECONFIG", 0 },
    { ORDERLY_EINVARIANT, -18, "ORDERLY_EINVARIANT", 0 },
    { ORDERLY_EBUFSIZE, -19, "ORDERLY_EBUFSIZE", 0 },
    { ORDERLY_EENVELOPE, -20, "ORDERLY_EENVELOPE", 0 },
    { ORDERLY_ESIGNATURE, -21, "ORDERLY_ESIGNATURE", 0 },
    { ORDERLY_ESIGHEADER, -22, "ORDERLY_ESIGHEADER", 0 },
    { ORDERLY_ESTALE, -23, "ORDERLY_ESTALE", 0 },
    { ORDERLY_EUSER, -30, "ORDERLY_EUSER", 0 },
    { ORDERLY_ITEROVER, -31, "ORDERLY_ITEROVER", 0 },
};

/* Values no code uses: the gap, either side, and the extremes. */
static const int unknown_codes[] = { -24, -25, -29, -32, -33, 1, 2, 100, -1000, INT_MIN, INT_MAX };

/* ---- codes ------------------------------------------------------------------ */

START_TEST(codes_pinned)
{
    /* literal, one per line, so a renumbered code names itself */
    ck_assert_int_eq(ORDERLY_OK, 0);
    ck_assert_int_eq(ORDERLY_ERROR, -1);
    ck_assert_int_eq(ORDERLY_ENOMEM, -2);
    ck_assert_int_eq(ORDERLY_EINVAL, -3);
    ck_assert_int_eq(ORDERLY_EMISUSE, -4);
    ck_assert_int_eq(ORDERLY_ENOTFOUND, -5);
    ck_assert_int_eq(ORDERLY_EEXISTS, -6);
    ck_assert_int_eq(ORDERLY_EDUPLICATE, -6);
    ck_assert_int_eq(ORDERLY_ECONFLICT, -7);
    ck_assert_int_eq(ORDERLY_ETRANSITION, -8);
    ck_assert_int_eq(ORDERLY_EGUARD, -9);
    ck_assert_int_eq(ORDERLY_EIDEMMISMATCH, -10);
    ck_assert_int_eq(ORDERLY_EINFLIGHT, -11);
    ck_assert_int_eq(ORDERLY_ESTORAGE, -12);
    ck_assert_int_eq(ORDERLY_ETRANSPORT, -13);
    ck_assert_int_eq(ORDERLY_ETIMEOUT, -14);
    ck_assert_int_eq(ORDERLY_EVERSION, -15);
    ck_assert_int_eq(ORDERLY_ENOTSUPPORTED, -16);
    ck_assert_int_eq(ORDERLY_ECONFIG, -17);
    ck_assert_int_eq(ORDERLY_EINVARIANT, -18);
    ck_assert_int_eq(ORDERLY_EBUFSIZE, -19);
    ck_assert_int_eq(ORDERLY_EENVELOPE, -20);
    ck_assert_int_eq(ORDERLY_ESIGNATURE, -21);
    ck_assert_int_eq(ORDERLY_ESIGHEADER, -22);
    ck_assert_int_eq(ORDERLY_ESTALE, -23);
    ck_assert_int_eq(ORDERLY_EUSER, -30);
    ck_assert_int_eq(ORDERLY_ITEROVER, -31);
    ck_assert_int_eq(ORDERLY_ERRMSG_MAX, 256);
    ck_assert_uint_eq(orderly_errmsg_max(), ORDERLY_ERRMSG_MAX);
}
END_TEST

START_TEST(codes_table_consistent)
{
    size_t i;

    for (i = 0; i < COUNT_OF(code_cases); i++)
        ck_assert_int_eq(code_cases[i].code, code_cases[i].value);
}
END_TEST

START_TEST(codes_named)
{
    size_t i;

    for (i = 0; i < COUNT_OF(code_cases); i++)
        ck_assert_str_eq(orderly_error_name(code_cases[i].code), code_cases[i].name);
    ck_assert_str_eq(orderly_error_name(ORDERLY_EDUPLICATE), "ORDERLY_EEXISTS");
}
END_TEST

START_TEST(codes_distinct_texts)
{
    size_t i, j;

    for (i = 0; i < COUNT_OF(code_cases); i++) {
        const char *ni = orderly_error_name(code_cases[i].code);
        const char *ti = orderly_strerror(code_cases[i].code);

        ck_assert_ptr_nonnull(ni);
        ck_assert_ptr_nonnull(ti);
        ck_assert_uint_gt(strlen(ti), 0);
        ck_assert_msg(strchr(ti, '\n') == NULL, "%s text is not one line", ni);
        ck_assert_str_ne(ti, orderly_strerror(INT_MIN));
        ck_assert_str_ne(ni, orderly_error_name(INT_MIN));
        for (j = 0; j < i; j++) {
            ck_assert_msg(strcmp(ni, orderly_error_name(code_cases[j].code)) != 0,
                          "%s shares its name with code %d", ni, code_cases[j].code);
            ck_assert_msg(strcmp(ti, orderly_strerror(code_cases[j].code)) != 0,
                          "%s shares its text '%s' with %s", ni, ti, code_cases[j].name);
        }
    }
}
END_TEST

START_TEST(codes_unknown_static)
{
    const char *generic = orderly_strerror(unknown_codes[0]);
    const char *generic_name = orderly_error_name(unknown_codes[0]);
    size_t i;

    ck_assert_ptr_nonnull(generic);
    ck_assert_ptr_nonnull(generic_name);
    ck_assert_uint_gt(strlen(generic), 0);
    for (i = 0; i < COUNT_OF(unknown_codes); i++) {
        /* the same static string every time: nothing is formatted or allocated */
        ck_assert_ptr_eq(orderly_strerror(unknown_codes[i]), generic);
        ck_assert_ptr_eq(orderly_error_name(unknown_codes[i]), generic_name);
        ck_assert_int_eq(orderly_error_is_transient(unknown_codes[i]), 0);
    }
    for (i = 0; i < COUNT_OF(code_cases); i++)
        ck_assert_ptr_eq(orderly_strerror(code_cases[i].code),
                         orderly_strerror(code_cases[i].code));
}
END_TEST

START_TEST(codes_transient_class)
{
    size_t i;

    for (i = 0; i < COUNT_OF(code_cases); i++)
        ck_assert_msg(orderly_error_is_transient(code_cases[i].code) == code_cases[i].transient,
                      "%s transient should be %d", code_cases[i].name, code_cases[i].transient);
    /* the retry set by name, independent of the table above */
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_ECONFLICT), 1);
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_EINFLIGHT), 1);
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_ESTORAGE), 1);
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_ETRANSPORT), 1);
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_ETIMEOUT), 1);
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_ENOMEM), 1);
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_OK), 0);
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_ETRANSITION), 0);
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_EGUARD), 0);
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_EIDEMMISMATCH), 0);
    ck_assert_int_eq(orderly_error_is_transient(ORDERLY_EUSER), 0);
}
END_TEST

/* ---- the error context ------------------------------------------------------ */

static orderly_ctx *new_ctx(void)
{
    orderly_ctx *ctx = NULL;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), ORDERLY_OK);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

START_TEST(ctx_fresh)
{
    orderly_ctx *ctx = new_ctx();

    ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_OK);
    ck_assert_str_eq(orderly_ctx_errmsg(ctx), "");
    ck_assert_int_eq(orderly_ctx_native(ctx), 0);
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(ctx_set_error_copies)
{
    orderly_ctx *ctx = new_ctx();
    char msg[32];

    strcpy(msg, "disk full");
    ck_assert_int_eq(orderly_ctx_set_error(ctx, ORDERLY_ESTORAGE, 13, msg), ORDERLY_ESTORAGE);
    ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_ESTORAGE);
    ck_assert_int_eq(orderly_ctx_native(ctx), 13);
    ck_assert_str_eq(orderly_ctx_errmsg(ctx), "disk full");
    ck_assert_ptr_ne(orderly_ctx_errmsg(ctx), msg);
    memset(msg, 'x', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    ck_assert_str_eq(orderly_ctx_errmsg(ctx), "disk full");

    /* a later error replaces the earlier one entirely */
    ck_assert_int_eq(orderly_ctx_set_error(ctx, ORDERLY_ETIMEOUT, INT64_MIN, "slow"),
                     ORDERLY_ETIMEOUT);
    ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_ETIMEOUT);
    ck_assert_int_eq(orderly_ctx_native(ctx), INT64_MIN);
    ck_assert_str_eq(orderly_ctx_errmsg(ctx), "slow");

    /* re-raising the current message under a new code keeps its text */
    ck_assert_int_eq(orderly_ctx_set_error(ctx, ORDERLY_ESTORAGE, 5, orderly_ctx_errmsg(ctx)),
                     ORDERLY_ESTORAGE);
    ck_assert_str_eq(orderly_ctx_errmsg(ctx), "slow");
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(ctx_truncates)
{
    orderly_ctx *ctx = new_ctx();
    char big[ORDERLY_ERRMSG_MAX * 2];
    size_t i;

    for (i = 0; i < sizeof big - 1; i++)
        big[i] = (char)('a' + (char)(i % 26));
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(orderly_ctx_set_error(ctx, ORDERLY_ERROR, 0, big), ORDERLY_ERROR);
    ck_assert_uint_eq(strlen(orderly_ctx_errmsg(ctx)), ORDERLY_ERRMSG_MAX - 1);
    ck_assert_int_eq(memcmp(orderly_ctx_errmsg(ctx), big, ORDERLY_ERRMSG_MAX - 1), 0);

    /* exactly the capacity minus the NUL fits whole */
    big[ORDERLY_ERRMSG_MAX - 1] = '\0';
    ck_assert_int_eq(orderly_ctx_set_error(ctx, ORDERLY_ERROR, 0, big), ORDERLY_ERROR);
    ck_assert_str_eq(orderly_ctx_errmsg(ctx), big);

    /* one byte more loses exactly that byte */
    big[ORDERLY_ERRMSG_MAX - 1] = 'Z';
    big[ORDERLY_ERRMSG_MAX] = '\0';
    ck_assert_int_eq(orderly_ctx_set_error(ctx, ORDERLY_ERROR, 0, big), ORDERLY_ERROR);
    ck_assert_uint_eq(strlen(orderly_ctx_errmsg(ctx)), ORDERLY_ERRMSG_MAX - 1);
    ck_assert_ptr_null(strchr(orderly_ctx_errmsg(ctx), 'Z'));
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(ctx_null_message_uses_strerror)
{
    orderly_ctx *ctx = new_ctx();
    size_t i;

    for (i = 0; i < COUNT_OF(code_cases); i++) {
        ck_assert_int_eq(orderly_ctx_set_error(ctx, code_cases[i].code, 7, NULL),
                         code_cases[i].code);
        ck_assert_str_eq(orderly_ctx_errmsg(ctx), orderly_strerror(code_cases[i].code));
        ck_assert_int_eq(orderly_ctx_errcode(ctx), code_cases[i].code);
    }
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(ctx_clear)
{
    orderly_ctx *ctx = new_ctx();

    ck_assert_int_eq(orderly_ctx_set_error(ctx, ORDERLY_ECONFLICT, 99, "stale version"),
                     ORDERLY_ECONFLICT);
    orderly_ctx_clear(ctx);
    ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_OK);
    ck_assert_int_eq(orderly_ctx_native(ctx), 0);
    ck_assert_str_eq(orderly_ctx_errmsg(ctx), "");
    /* clearing twice is harmless */
    orderly_ctx_clear(ctx);
    ck_assert_int_eq(orderly_ctx_errcode(ctx), ORDERLY_OK);
    orderly_ctx_free(ctx);
}
END_TEST

START_TEST(ctx_null_tolerance)
{
    orderly_ctx_free(NULL);
    orderly_ctx_clear(NULL);
    ck_assert_int_eq(orderly_ctx_set_error(NULL, ORDERLY_EGUARD, 1, "ignored"), ORDERLY_EGUARD);
    ck_assert_int_eq(orderly_ctx_set_error(NULL, ORDERLY_EUSER, 0, NULL), ORDERLY_EUSER);
    ck_assert_ptr_nonnull(orderly_ctx_errmsg(NULL));
    ck_assert_str_eq(orderly_ctx_errmsg(NULL), "");
    ck_assert_int_eq(orderly_ctx_native(NULL), 0);
    ck_assert_int_eq(orderly_ctx_errcode(NULL), ORDERLY_EINVAL);
    ck_assert_int_eq(orderly_ctx_new(NULL, NULL), ORDERLY_EINVAL);
}
END_TEST

START_TEST(ctx_independent)
{
    orderly_ctx *a = new_ctx(), *b = new_ctx();

    ck_assert_int_eq(orderly_ctx_set_error(a, ORDERLY_EGUARD, 0, "a"), ORDERLY_EGUARD);
    ck_assert_int_eq(orderly_ctx_errcode(b), ORDERLY_OK);
    ck_assert_str_eq(orderly_ctx_errmsg(b), "");
    orderly_ctx_free(a);
    ck_assert_str_eq(orderly_ctx_errmsg(b), "");
    orderly_ctx_free(b);
}
END_TEST

/* ---- the allocator hook ------------------------------------------------------ */

typedef struct counting {
    int mallocs, reallocs, frees;
    int fail_from;      /* fail every malloc numbered >= this (1-based); 0 never */
    void *last;         /* the last block handed out */
    int bad_user_data;  /* set when a method saw someone else's user_data */
} counting;

static counting *the_counter;

static void *count_malloc(size_t size, void *user_data)
{
    counting *c = user_data;
    void *p;

    if (c != the_counter)
        the_counter->bad_user_data = 1;
    c->mallocs++;
    if (c->fail_from > 0 && c->mallocs >= c->fail_from)
        return NULL;
    p = malloc(size);
    c->last = p;
    return p;
}

static void *count_realloc(void *ptr, size_t size, void *user_data)
{
    counting *c = user_data;

    if (c != the_counter)
        the_counter->bad_user_data = 1;
    c->reallocs++;
    return realloc(ptr, size);
}

static void count_free(void *ptr, void *user_data)
{
    counting *c = user_data;

    if (c != the_counter)
        the_counter->bad_user_data = 1;
    if (ptr != NULL)
        c->frees++;
    free(ptr);
}

static void never_free(void *ptr, void *user_data)
{
    (void)ptr;
    (void)user_data;
    ck_abort_msg("the context freed through a hook it was not created with");
}

static orderly_allocator counting_allocator(counting *c)
{
    orderly_allocator a;

    memset(c, 0, sizeof *c);
    the_counter = c;
    ck_assert_int_eq(orderly_allocator_init(&a, ORDERLY_ALLOCATOR_VERSION), ORDERLY_OK);
    a.user_data = c;
    a.malloc = count_malloc;
    a.realloc = count_realloc;
    a.free = count_free;
    return a;
}

START_TEST(alloc_counts_ctx)
{
    counting c;
    orderly_allocator a = counting_allocator(&c);
    orderly_ctx *ctx = NULL;

    ck_assert_int_eq(orderly_ctx_new(&ctx, &a), ORDERLY_OK);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(c.mallocs, 1);
    ck_assert_ptr_eq(c.last, ctx);
    ck_assert_int_eq(c.frees, 0);
    ck_assert_int_eq(orderly_ctx_set_error(ctx, ORDERLY_ESTORAGE, 0, "x"), ORDERLY_ESTORAGE);
    ck_assert_int_eq(c.mallocs, 1); /* recording an error never allocates */
    orderly_ctx_free(ctx);
    ck_assert_int_eq(c.frees, 1);
    ck_assert_int_eq(c.mallocs, 1);
    ck_assert_int_eq(c.bad_user_data, 0);
}
END_TEST

START_TEST(alloc_hook_is_copied)
{
    counting c;
    orderly_allocator a = counting_allocator(&c);
    orderly_ctx *ctx = NULL;

    ck_assert_int_eq(orderly_ctx_new(&ctx, &a), ORDERLY_OK);
    /* the caller's struct may change or die after the call */
    a.free = never_free;
    a.user_data = NULL;
    orderly_ctx_free(ctx);
    ck_assert_int_eq(c.frees, 1);
}
END_TEST

START_TEST(alloc_failure_is_enomem)
{
    counting c;
    orderly_allocator a = counting_allocator(&c);
    orderly_ctx *ctx = (orderly_ctx *)&c; /* must be overwritten */

    c.fail_from = 1;
    ck_assert_int_eq(orderly_ctx_new(&ctx, &a), ORDERLY_ENOMEM);
    ck_assert_ptr_null(ctx);
    ck_assert_int_eq(c.mallocs, 1);
    ck_assert_int_eq(c.frees, 0);

    /* and recovers once memory is back */
    c.fail_from = 0;
    ck_assert_int_eq(orderly_ctx_new(&ctx, &a), ORDERLY_OK);
    ck_assert_ptr_nonnull(ctx);
    orderly_ctx_free(ctx);
    ck_assert_int_eq(c.frees, 1);
}
END_TEST

START_TEST(alloc_rejects_bad_hooks)
{
    counting c;
    orderly_allocator a = counting_allocator(&c), bad;
    orderly_ctx *ctx = NULL;

    bad = a;
    bad.version = 0;
    ck_assert_int_eq(orderly_ctx_new(&ctx, &bad), ORDERLY_EVERSION);
    ck_assert_ptr_null(ctx);
    bad = a;
    bad.version = ORDERLY_ALLOCATOR_VERSION + 1;
    ck_assert_int_eq(orderly_ctx_new(&ctx, &bad), ORDERLY_EVERSION);
    bad = a;
    bad.malloc = NULL;
    ck_assert_int_eq(orderly_ctx_new(&ctx, &bad), ORDERLY_EINVAL);
    bad = a;
    bad.realloc = NULL;
    ck_assert_int_eq(orderly_ctx_new(&ctx, &bad), ORDERLY_EINVAL);
    bad = a;
    bad.free = NULL;
    ck_assert_int_eq(orderly_ctx_new(&ctx, &bad), ORDERLY_EINVAL);
    ck_assert_ptr_null(ctx);
    ck_assert_int_eq(c.mallocs, 0);
}
END_TEST

START_TEST(alloc_init_versions)
{
    orderly_allocator a;

    ck_assert_int_eq(ORDERLY_ALLOCATOR_VERSION, 1);
    memset(&a, 0xa5, sizeof a);
    ck_assert_int_eq(orderly_allocator_init(&a, ORDERLY_ALLOCATOR_VERSION), ORDERLY_OK);
    ck_assert_uint_eq(a.version, ORDERLY_ALLOCATOR_VERSION);
    ck_assert_ptr_null(a.user_data);
    ck_assert(a.malloc == NULL);
    ck_assert(a.realloc == NULL);
    ck_assert(a.free == NULL);

    memset(&a, 0xa5, sizeof a);
    ck_assert_int_eq(orderly_allocator_init(&a, 0), ORDERLY_EVERSION);
    ck_assert_int_eq(orderly_allocator_init(&a, ORDERLY_ALLOCATOR_VERSION + 1),
                     ORDERLY_EVERSION);
    ck_assert_int_eq(orderly_allocator_init(&a, UINT_MAX), ORDERLY_EVERSION);
    ck_assert_int_eq(orderly_allocator_init(NULL, ORDERLY_ALLOCATOR_VERSION), ORDERLY_EINVAL);

    /* an initialised hook without methods is not usable */
    {
        orderly_ctx *ctx = NULL;
        ck_assert_int_eq(orderly_allocator_init(&a, ORDERLY_ALLOCATOR_VERSION), ORDERLY_OK);
        ck_assert_int_eq(orderly_ctx_new(&ctx, &a), ORDERLY_EINVAL);
        ck_assert_ptr_null(ctx);
    }
}
END_TEST

/* ---- version ------------------------------------------------------------------ */

START_TEST(version_matches_header)
{
    ck_assert_int_eq(orderly_version_number(), ORDERLY_VERSION_NUMBER);
    ck_assert_str_eq(orderly_version_string(), ORDERLY_VERSION_STRING);
    ck_assert_int_eq(ORDERLY_VERSION_NUMBER, ORDERLY_VERSION_MAJOR * 10000 +
                                                 ORDERLY_VERSION_MINOR * 100 +
                                                 ORDERLY_VERSION_PATCH);
}
END_TEST

/* ---- suites ------------------------------------------------------------------- */

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");

    orderly_test_case(s, codes_pinned, UNIT_TIMEOUT);
    orderly_test_case(s, codes_table_consistent, UNIT_TIMEOUT);
    orderly_test_case(s, codes_named, UNIT_TIMEOUT);
    orderly_test_case(s, codes_distinct_texts, UNIT_TIMEOUT);
    orderly_test_case(s, codes_unknown_static, UNIT_TIMEOUT);
    orderly_test_case(s, codes_transient_class, UNIT_TIMEOUT);
    orderly_test_case(s, ctx_fresh, UNIT_TIMEOUT);
    orderly_test_case(s, ctx_set_error_copies, UNIT_TIMEOUT);
    orderly_test_case(s, ctx_truncates, UNIT_TIMEOUT);
    orderly_test_case(s, ctx_null_message_uses_strerror, UNIT_TIMEOUT);
    orderly_test_case(s, ctx_clear, UNIT_TIMEOUT);
    orderly_test_case(s, ctx_null_tolerance, UNIT_TIMEOUT);
    orderly_test_case(s, ctx_independent, UNIT_TIMEOUT);
    return s;
}

static Suite *alloc_suite(void)
{
    Suite *s = suite_create("alloc");

    orderly_test_case(s, alloc_counts_ctx, UNIT_TIMEOUT);
    orderly_test_case(s, alloc_hook_is_copied, UNIT_TIMEOUT);
    orderly_test_case(s, alloc_failure_is_enomem, UNIT_TIMEOUT);
    orderly_test_case(s, alloc_rejects_bad_hooks, UNIT_TIMEOUT);
    orderly_test_case(s, alloc_init_versions, UNIT_TIMEOUT);
    return s;
}

static Suite *version_suite(void)
{
    Suite *s = suite_create("version");

    orderly_test_case(s, version_matches_header, UNIT_TIMEOUT);
    return s;
}

int main(void)
{
    Suite *suites[] = { errors_suite(), alloc_suite(), version_suite(), NULL };

    return unit_run(suites);
}
