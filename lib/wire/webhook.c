#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../base/ctx.h"
#include "orderly/webhook.h"

static void mac(uint8_t out[crypto_auth_hmacsha256_BYTES], const uint8_t *secret, size_t secret_len,
                const char *ts, const uint8_t *payload, size_t len)
{
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, secret, secret_len);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
    crypto_auth_hmacsha256_update(&st, payload, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

int orderly_webhook_sign(char *out, size_t cap, const uint8_t *secret, size_t secret_len,
                         const uint8_t *payload, size_t len, int64_t timestamp)
{
    uint8_t h[crypto_auth_hmacsha256_BYTES];
    char ts[24], hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    int n;

    if (out == NULL || secret == NULL || secret_len == 0 || (payload == NULL && len > 0) ||
        timestamp < 0 || timestamp > ORDERLY_TIME_MAX / 1000 || sodium_init() < 0)
        return ORDERLY_EINVAL;
    snprintf(ts, sizeof ts, "%lld", (long long)timestamp);
    mac(h, secret, secret_len, ts, payload, len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    n = snprintf(out, cap, "t=%s,v1=%s", ts, hex);
    return n < 0 || (size_t)n >= cap ? ORDERLY_EBUFSIZE : ORDERLY_OK;
}

int orderly_webhook_verify(const uint8_t *secret, size_t secret_len, const char *header,
                           const uint8_t *payload, size_t len, int64_t tolerance_seconds,
                           orderly_time_ms now, orderly_ctx *ctx)
{
    uint8_t want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
    char ts[24] = "";
    const char *p;
    long long t = 0;
    int n_sigs = 0, match = 0;

    if (secret == NULL || secret_len == 0)
        return orderly__fail(ctx, ORDERLY_EINVAL, "the webhook secret is required");
    if (header == NULL)
        return orderly__fail(ctx, ORDERLY_EINVAL, "the signature header is required");
    if (payload == NULL && len > 0)
        return orderly__fail(ctx, ORDERLY_EINVAL, "payload is NULL but len is %zu", len);
    if (tolerance_seconds < 0)
        return orderly__fail(ctx, ORDERLY_EINVAL, "tolerance_seconds %lld is negative",
                             (long long)tolerance_seconds);
    if (now < 0 || now > ORDERLY_TIME_MAX)
        return orderly__fail(ctx, ORDERLY_EINVAL, "now %lld is outside 0..%lld", (long long)now,
                             ORDERLY_TIME_MAX);
    if (sodium_init() < 0)
        return orderly__fail(ctx, ORDERLY_ERROR, "libsodium failed to initialise");
    /* first pass: the timestamp, and the layout of every element */
    for (p = header; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n > 2 && p[0] == 't' && p[1] == '=') {
            size_t i;
            if (ts[0] != '\0' || n - 2 >= sizeof ts)
                return orderly__fail(ctx, ORDERLY_ESIGHEADER, "signature header has a bad 't'");
            for (i = 2; i < n; i++)
                if (p[i] < '0' || p[i] > '9')
                    return orderly__fail(ctx, ORDERLY_ESIGHEADER, "signature header 't' is not a number");
            memcpy(ts, p + 2, n - 2);
            ts[n - 2] = '\0';
        } else if (n > 3 && p[0] == 'v' && p[1] == '1' && p[2] == '=') {
            if (n - 3 != 2 * sizeof got)
                return orderly__fail(ctx, ORDERLY_ESIGHEADER, "signature header 'v1' has the wrong length");
            n_sigs++;
        } else if (n == 0 || memchr(p, '=', n) == NULL) {
            return orderly__fail(ctx, ORDERLY_ESIGHEADER, "signature header element is not key=value");
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (ts[0] == '\0' || n_sigs == 0)
        return orderly__fail(ctx, ORDERLY_ESIGHEADER, "signature header needs 't' and at least one 'v1'");
    /* both sides are >= 0, so neither difference can overflow */
    t = strtoll(ts, NULL, 10);
    if (now / 1000 - t > tolerance_seconds || t - now / 1000 > tolerance_seconds)
        return orderly__fail(ctx, ORDERLY_ESTALE, "webhook timestamp %lld is outside %lld s of now",
                             t, (long long)tolerance_seconds);
    mac(want, secret, secret_len, ts, payload, len);
    for (p = header; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p), bin_len = 0;
        if (n > 3 && p[0] == 'v' && p[1] == '1' && p[2] == '=') {
            if (sodium_hex2bin(got, sizeof got, p + 3, n - 3, NULL, &bin_len, NULL) != 0 ||
                bin_len != sizeof got) {
                sodium_memzero(want, sizeof want);
                return orderly__fail(ctx, ORDERLY_ESIGHEADER, "signature header 'v1' is not hex");
            }
            match |= sodium_memcmp(got, want, sizeof want) == 0;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    sodium_memzero(want, sizeof want);
    if (!match)
        return orderly__fail(ctx, ORDERLY_ESIGNATURE, "no v1 signature matches the payload");
    return ORDERLY_OK;
}
