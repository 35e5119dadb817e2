#include <string.h>

#include <jansson.h>

#include "json.h"
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

int orderly__jw_grow(struct orderly__jw *w, size_t n)
{
    size_t cap = *w->cap ? *w->cap : 512;
    char *p;

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

/* jansson's own encoding of a string it was not worth special-casing. */
static void str_by_jansson(struct orderly__jw *w, const char *s, size_t n)
{
    const orderly_allocator *previous = orderly__json_enter(w->alloc);
    json_t *v = json_stringn(s, n);
    size_t need;

    if (v == NULL) {
        /* jansson refuses what is not UTF-8, or memory ran out */
        w->bad = orderly__json_failed() ? ORDERLY_ENOMEM : ORDERLY_EINVAL;
        orderly__json_leave(previous);
        return;
    }
    need = json_dumpb(v, NULL, 0, JSON_ENCODE_ANY | JSON_COMPACT);
    if (need == 0) {
        w->bad = ORDERLY_ENOMEM;
    } else if (orderly__jw_room(w, need)) {
        json_dumpb(v, *w->buf + w->len, need, JSON_ENCODE_ANY | JSON_COMPACT);
        w->len += need;
    }
    json_decref(v);
    orderly__json_leave(previous);
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Non-zero when one of the 8 bytes in x needs more than copying: below
 * 0x20, above 0x7e, '"' or '\\' (the usual zero-byte tricks, per byte). */
static uint64_t special8(uint64_t x)
{
    uint64_t low = (x - ONES * 0x20) & ~x;
    uint64_t high = (x + ONES * 0x01) | x;
    uint64_t q = x ^ (ONES * 0x22), b = x ^ (ONES * 0x5c);

    return (low | high | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}

/* Writes the n printable ASCII bytes of s quoted, escaping '"' and '\\'. */
static void str_escaped(struct orderly__jw *w, const char *s, size_t n)
{
    size_t i, extra = 0;
    char *o;

    for (i = 0; i < n; i++)
        extra += s[i] == '"' || s[i] == '\\';
    if (!orderly__jw_room(w, n + extra + 2))
        return;
    o = *w->buf + w->len;
    *o++ = '"';
    for (i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            *o++ = '\\';
        *o++ = s[i];
    }
    *o++ = '"';
    w->len = (size_t)(o - *w->buf);
}

void orderly__jw_str(struct orderly__jw *w, const char *s)
{
    size_t i = 0, n = strlen(s);
    uint64_t x;

    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        if (special8(x))
            break;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            break;
    }
    if (i < n) {
        for (; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c > 0x7e) {
                str_by_jansson(w, s, n);
                return;
            }
        }
        str_escaped(w, s, n);
        return;
    }
    orderly__jw_plain(w, s, n);
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
    orderly__jw_put(w, p, (size_t)(tmp + sizeof tmp - p));
}

int orderly__jw_finish(struct orderly__jw *w)
{
    if (orderly__jw_room(w, 0))
        (*w->buf)[w->len] = '\0';
    return w->bad;
}
