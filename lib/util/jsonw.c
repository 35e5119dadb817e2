#include <string.h>

#include <jansson.h>

#include "jsonw.h"
#include "orderly/errors.h"

void orderly__jw_start(struct orderly__jw *w, const orderly_allocator *alloc, char **buf,
                       size_t *cap)
{
    w->alloc = alloc;
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->bad = 0;
    w->first = 1;
}

/* Room for n more bytes and a NUL; 0 when there is none. */
static int room(struct orderly__jw *w, size_t n)
{
    size_t cap;
    char *p;

    if (w->bad)
        return 0;
    if (w->len + n < *w->cap)
        return 1;
    cap = *w->cap ? *w->cap : 512;
    while (cap <= w->len + n)
        cap *= 2;
    if ((p = w->alloc->realloc(*w->buf, cap, w->alloc->user_data)) == NULL) {
        w->bad = ORDERLY_ENOMEM;
        return 0;
    }
    *w->buf = p;
    *w->cap = cap;
    return 1;
}

static void put(struct orderly__jw *w, const char *s, size_t n)
{
    if (room(w, n)) {
        memcpy(*w->buf + w->len, s, n);
        w->len += n;
    }
}

void orderly__jw_open(struct orderly__jw *w)
{
    put(w, "{", 1);
    w->first = 1;
}

void orderly__jw_close(struct orderly__jw *w)
{
    put(w, "}", 1);
    w->first = 0;
}

void orderly__jw_key(struct orderly__jw *w, const char *key)
{
    size_t n = strlen(key);

    if (!room(w, n + 4))
        return;
    if (!w->first)
        (*w->buf)[w->len++] = ',';
    w->first = 0;
    (*w->buf)[w->len++] = '"';
    memcpy(*w->buf + w->len, key, n);
    w->len += n;
    (*w->buf)[w->len++] = '"';
    (*w->buf)[w->len++] = ':';
}

/* jansson's own encoding of a string it was not worth special-casing. */
static void str_by_jansson(struct orderly__jw *w, const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    size_t need;

    if (v == NULL) {
        w->bad = ORDERLY_EINVAL;
        return;
    }
    need = json_dumpb(v, NULL, 0, JSON_ENCODE_ANY | JSON_COMPACT);
    if (need == 0) {
        w->bad = ORDERLY_ENOMEM;
    } else if (room(w, need)) {
        json_dumpb(v, *w->buf + w->len, need, JSON_ENCODE_ANY | JSON_COMPACT);
        w->len += need;
    }
    json_decref(v);
}

void orderly__jw_str(struct orderly__jw *w, const char *s)
{
    size_t i, n = strlen(s), quote = 0;
    char *o;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e) {
            str_by_jansson(w, s, n);
            return;
        }
        quote += c == '"' || c == '\\';
    }
    if (!room(w, n + quote + 2))
        return;
    o = *w->buf + w->len;
    *o++ = '"';
    if (quote == 0) {
        memcpy(o, s, n);
        o += n;
    } else {
        for (i = 0; i < n; i++) {
            if (s[i] == '"' || s[i] == '\\')
                *o++ = '\\';
            *o++ = s[i];
        }
    }
    *o++ = '"';
    w->len = (size_t)(o - *w->buf);
}

void orderly__jw_int(struct orderly__jw *w, int64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    put(w, p, (size_t)(tmp + sizeof tmp - p));
}

int orderly__jw_finish(struct orderly__jw *w)
{
    if (room(w, 0))
        (*w->buf)[w->len] = '\0';
    return w->bad;
}
