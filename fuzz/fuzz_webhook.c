/*
 * Webhook signature verification (orderly/webhook.h) on arbitrary headers
 * and payloads. The header is attacker-controlled; the secret, the
 * tolerance and the clock are the host's, so they vary within what a host
 * passes. Two properties besides not crashing: a header orderly_webhook_sign
 * made for the payload always verifies, and verify succeeds only when one
 * v1 element is exactly that signature (the same secret, "t" and payload).
 *
 * Input layout: [secret length 1..32][secret][flags][clock skew, 2 bytes]
 * [header up to the first '\n'][payload: the rest].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "orderly/webhook.h"

#define NOW_S 1700000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 when header has a "t" element (the first non-empty one) and a "v1"
 * element (hex in either case) that is the signature of payload at that t. */
static int signed_by(const char *header, const uint8_t *secret, size_t secret_len,
                     const uint8_t *payload, size_t len)
{
    char made[160];
    const char *p, *t = NULL, *mac;

    for (p = header; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ','))
        if (t == NULL && strncmp(p, "t=", 2) == 0 && p[2] != ',' && p[2] != '\0')
            t = p + 2;
    if (t == NULL ||
        orderly_webhook_sign(made, sizeof made, secret, secret_len, payload, len,
                             strtoll(t, NULL, 10)) < 0)
        return 0;
    mac = strstr(made, ",v1=") + 4;
    for (p = header; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ','))
        if (strncmp(p, "v1=", 3) == 0 && strcspn(p + 3, ",") == strlen(mac) &&
            strncasecmp(p + 3, mac, strlen(mac)) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t secret[32];
    size_t secret_len, pos = 0, hlen;
    const uint8_t *nl;
    char *header;
    char made[160];
    int64_t tolerance;
    orderly_time_ms now;
    int rc, flags;

    if (size < 4)
        return 0;
    secret_len = 1 + data[pos++] % sizeof secret;
    if (size - pos < secret_len + 3)
        return 0;
    memcpy(secret, data + pos, secret_len);
    pos += secret_len;
    flags = data[pos++];
    tolerance = (flags & 1) ? 300 : (flags & 2) ? 0 : (int64_t)(flags >> 2) * 60;
    now = (NOW_S + (int16_t)(data[pos] << 8 | data[pos + 1])) * 1000 + (flags & 0x80 ? 999 : 0);
    pos += 2;
    nl = memchr(data + pos, '\n', size - pos);
    hlen = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
    if ((header = malloc(hlen + 1)) == NULL)
        return 0;
    memcpy(header, data + pos, hlen);
    header[hlen] = '\0';
    pos += hlen + (nl != NULL);

    rc = orderly_webhook_verify(secret, secret_len, header, data + pos, size - pos, tolerance, now,
                                NULL);
    if (rc == 0) {
        if (!signed_by(header, secret, secret_len, data + pos, size - pos)) {
            fprintf(stderr, "header verified without the payload's signature: %s\n", header);
            abort();
        }
    } else if (rc != ORDERLY_ESIGHEADER && rc != ORDERLY_ESTALE && rc != ORDERLY_ESIGNATURE) {
        fprintf(stderr, "verify returned %s for a header\n", orderly_error_name(rc));
        abort();
    }

    /* what sign makes for this payload at a time within tolerance verifies */
    if (orderly_webhook_sign(made, sizeof made, secret, secret_len, data + pos, size - pos,
                             now / 1000) < 0 ||
        (rc = orderly_webhook_verify(secret, secret_len, made, data + pos, size - pos, tolerance,
                                     now, NULL)) != 0) {
        fprintf(stderr, "a signed header does not verify: %s\n", made);
        abort();
    }
    free(header);
    return 0;
}
