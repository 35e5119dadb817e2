#include "orderly/errors.h"

struct code_info {
    int code;
    int transient;
    const char *name;
    const char *text;
};

static const struct code_info codes[] = {
    { ORDERLY_OK,            0, "ORDERLY_OK",            "success" },
    { ORDERLY_ERROR,         0, "ORDERLY_ERROR",         "unclassified error" },
    { ORDERLY_ENOMEM,        1, "ORDERLY_ENOMEM",        "out of memory" },
    { ORDERLY_EINVAL,        0, "ORDERLY_EINVAL",        "invalid argument" },
    { ORDERLY_EMISUSE,       0, "ORDERLY_EMISUSE",       "call made in the wrong state or order" },
    { ORDERLY_ENOTFOUND,     0, "ORDERLY_ENOTFOUND",     "not found" },
    { ORDERLY_EEXISTS,       0, "ORDERLY_EEXISTS",       "duplicate: already exists" },
    { ORDERLY_ECONFLICT,     1, "ORDERLY_ECONFLICT",     "version conflict" },
    { ORDERLY_ETRANSITION,   0, "ORDERLY_ETRANSITION",   "illegal transition" },
    { ORDERLY_EGUARD,        0, "ORDERLY_EGUARD",        "transition guard rejected the input" },
    { ORDERLY_EIDEMMISMATCH, 0, "ORDERLY_EIDEMMISMATCH", "idempotency key reused with a different request" },
    { ORDERLY_EINFLIGHT,     1, "ORDERLY_EINFLIGHT",     "idempotency key busy: request in flight" },
    { ORDERLY_ESTORAGE,      1, "ORDERLY_ESTORAGE",      "storage error" },
    { ORDERLY_ETRANSPORT,    1, "ORDERLY_ETRANSPORT",    "transport error" },
    { ORDERLY_ETIMEOUT,      1, "ORDERLY_ETIMEOUT",      "timed out" },
    { ORDERLY_EVERSION,      0, "ORDERLY_EVERSION",      "unsupported version" },
    { ORDERLY_ENOTSUPPORTED, 0, "ORDERLY_ENOTSUPPORTED", "operation not supported" },
    { ORDERLY_ECONFIG,       0, "ORDERLY_ECONFIG",       "configuration error" },
    { ORDERLY_EINVARIANT,    0, "ORDERLY_EINVARIANT",    "money or stock invariant violated" },
    { ORDERLY_EBUFSIZE,      0, "ORDERLY_EBUFSIZE",      "buffer too small" },
    { ORDERLY_EENVELOPE,     0, "ORDERLY_EENVELOPE",     "malformed event envelope" },
    { ORDERLY_ESIGNATURE,    0, "ORDERLY_ESIGNATURE",    "webhook signature mismatch" },
    { ORDERLY_ESIGHEADER,    0, "ORDERLY_ESIGHEADER",    "malformed webhook signature header" },
    { ORDERLY_ESTALE,        0, "ORDERLY_ESTALE",        "webhook timestamp outside tolerance" },
    { ORDERLY_EUSER,         0, "ORDERLY_EUSER",         "host callback failed" },
    { ORDERLY_ITEROVER,      0, "ORDERLY_ITEROVER",      "iteration over" },
};

static const struct code_info *find(int code)
{
    size_t i;

    for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return &codes[i];
    return NULL;
}

const char *orderly_strerror(int code)
{
    const struct code_info *c = find(code);
    return c != NULL ? c->text : "unknown error code";
}

const char *orderly_error_name(int code)
{
    const struct code_info *c = find(code);
    return c != NULL ? c->name : "ORDERLY_UNKNOWN";
}

int orderly_error_is_transient(int code)
{
    const struct code_info *c = find(code);
    return c != NULL && c->transient;
}
