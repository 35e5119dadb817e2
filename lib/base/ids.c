#include <stdio.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ids.h"
#include "orderly/engine.h"

void orderly__hash128(uint8_t out[16], const void *a, size_t alen, const void *b, size_t blen)
{
    static const uint8_t sep = 0x1f; /* unit separator: ("ab","c") != ("a","bc") */
    XXH128_canonical_t c;
    XXH128_hash_t h;
    uint8_t buf[1024];

    /* the one-shot form over the joined bytes gives the streaming result at
     * a fraction of its setup cost; long inputs still stream */
    if (alen + 1 + blen <= sizeof buf) {
        if (alen > 0)
            memcpy(buf, a, alen);
        buf[alen] = sep;
        if (blen > 0)
            memcpy(buf + alen + 1, b, blen);
        h = XXH3_128bits(buf, alen + 1 + blen);
    } else {
        XXH3_state_t st;
        XXH3_128bits_reset(&st);
        XXH3_128bits_update(&st, a, alen);
        XXH3_128bits_update(&st, &sep, 1);
        XXH3_128bits_update(&st, b, blen);
        h = XXH3_128bits_digest(&st);
    }
    XXH128_canonicalFromHash(&c, h);
    memcpy(out, c.digest, 16);
}

void orderly__natural_id(uint8_t out[16], const char *kind, const char *order_id, uint32_t seq)
{
    char natural[ORDERLY_ID_MAX + 12], digits[10];
    size_t n = strlen(order_id), k = 0;

    if (n > ORDERLY_ID_MAX)
        n = ORDERLY_ID_MAX;
    memcpy(natural, order_id, n);
    natural[n++] = '/';
    do {
        digits[k++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq != 0);
    while (k > 0)
        natural[n++] = digits[--k];
    orderly__hash128(out, kind, strlen(kind), natural, n);
}

void orderly__deadline_id(uint8_t out[16], const char *order_id, const char *timer, uint64_t row)
{
    char natural[ORDERLY_ID_MAX + 64];
    int n;

    n = snprintf(natural, sizeof natural, "%.*s/%.24s/%llu", ORDERLY_ID_MAX, order_id, timer,
                 (unsigned long long)row);
    orderly__hash128(out, "timer", 5, natural, (size_t)n);
}

void orderly__b64url16(char *out, const uint8_t in[16])
{
    static const char digit[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i;

    for (i = 0; i < 15; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = digit[v >> 18];
        *out++ = digit[v >> 12 & 63];
        *out++ = digit[v >> 6 & 63];
        *out++ = digit[v & 63];
    }
    *out++ = digit[in[15] >> 2];
    *out++ = digit[(in[15] & 3) << 4];
    *out = '\0';
}

void orderly__hex(char *out, const uint8_t *in, size_t n)
{
    /* both digits of every byte value: one lookup per byte */
    static const char pairs[513] =
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
        "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    size_t i;

    for (i = 0; i < n; i++)
        memcpy(out + 2 * i, pairs + 2 * in[i], 2);
    out[2 * n] = '\0';
}

int orderly__valid_id(const char *id)
{
    size_t i;

    if (id == NULL)
        return 0;
    for (i = 0; id[i] != '\0'; i++)
        if (i == ORDERLY_ID_MAX || id[i] <= ' ' || id[i] > '~')
            return 0;
    return i > 0;
}
