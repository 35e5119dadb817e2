/* Ids and digests: hashing, natural ids, their text forms (internal). */
#ifndef ORDERLY_BASE_IDS_H
#define ORDERLY_BASE_IDS_H

#include <stddef.h>
#include <stdint.h>

/* XXH3-128 of the parts, canonical (big-endian) bytes. */
void orderly__hash128(uint8_t out[16], const void *a, size_t alen, const void *b, size_t blen);
/* The id of the seq-th event or operation of an order, named kind:
 * XXH3-128 of (kind, "<order id>/<seq>"), as orderly__hash128. */
void orderly__natural_id(uint8_t out[16], const char *kind, const char *order_id, uint32_t seq);
/* The id of the deadline command a replica's tick writes for timer row
 * `row` (a store-issued id) of order_id, a deadline of the timer named
 * timer: XXH3-128 of ("timer", "<order id>/<timer>/<row>"). The timer's
 * name keeps apart the rows of stores of different services, which each
 * issue their own ids. */
void orderly__deadline_id(uint8_t out[16], const char *order_id, const char *timer, uint64_t row);
/* The 22 unpadded base64url digits (RFC 4648 section 5) of 16 bytes,
 * NUL-terminated (23 bytes). */
void orderly__b64url16(char *out, const uint8_t in[16]);
/* 32 lowercase hex digits of 16 bytes, NUL-terminated (33 bytes). */
void orderly__hex(char *out, const uint8_t *in, size_t n);
/* 1 for 1..ORDERLY_ID_MAX printable ASCII bytes without blanks: an order
 * id or an idempotency key as the storage keys them. */
int orderly__valid_id(const char *id);

#endif
