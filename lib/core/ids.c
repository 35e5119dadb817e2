#define XXH_INLINE_ALL
#include <xxhash.h>

#include "internal.h"

void orderly__hash128(uint8_t out[16], const void *a, size_t alen, const void *b, size_t blen)
{
    XXH3_state_t st;
    XXH128_canonical_t c;
    static const uint8_t sep = 0x1f; /* unit separator: ("ab","c") != ("a","bc") */

    XXH3_128bits_reset(&st);
    XXH3_128bits_update(&st, a, alen);
    XXH3_128bits_update(&st, &sep, 1);
    XXH3_128bits_update(&st, b, blen);
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
    memcpy(out, c.digest, 16);
}

void orderly__hex(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}
