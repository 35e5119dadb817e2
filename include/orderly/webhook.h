/*
 * orderly/webhook.h - payment-provider webhook signatures.
 *
 * Stripe-style: the header is "t=<unix seconds>,v1=<hex>[,v1=<hex>...]"
 * and each v1 is HMAC-SHA256(secret, "<t>.<payload>"). Any one matching v1
 * verifies (providers send several while rotating secrets); comparison is
 * constant-time (libsodium).
 */
#ifndef ORDERLY_WEBHOOK_H
#define ORDERLY_WEBHOOK_H

#include "common.h"
#include "errors.h"

ORDERLY_BEGIN_DECLS

/*
 * Verifies payload against header. Returns 0 when a v1 matches and t is
 * within tolerance_seconds of now; ORDERLY_ESIGHEADER for a malformed
 * header (no t, no v1, bad hex, unknown layout); ORDERLY_ESTALE for a
 * timestamp outside the tolerance; ORDERLY_ESIGNATURE when no v1 matches;
 * ORDERLY_EINVAL naming the argument for a missing secret or header,
 * a NULL payload with len > 0, a negative tolerance, or now outside
 * 0..ORDERLY_TIME_MAX. ctx (may be NULL) gets the reason.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_webhook_verify(const uint8_t *secret,
                                                           size_t secret_len,
                                                           const char *header,
                                                           const uint8_t *payload, size_t len,
                                                           int64_t tolerance_seconds,
                                                           orderly_time_ms now,
                                                           orderly_ctx *ctx);

/*
 * Computes the header value a provider would send for payload at
 * timestamp (unix seconds) into out (cap bytes, NUL-terminated; 128 bytes
 * suffice). For tests and for hosts that relay webhooks. EBUFSIZE when
 * cap is too small; EINVAL for a missing argument or a timestamp outside
 * 0..ORDERLY_TIME_MAX / 1000.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_webhook_sign(char *out, size_t cap,
                                                         const uint8_t *secret, size_t secret_len,
                                                         const uint8_t *payload, size_t len,
                                                         int64_t timestamp);

ORDERLY_END_DECLS

#endif
