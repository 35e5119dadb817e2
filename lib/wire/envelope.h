/* The CloudEvents envelope: what the engine's own path needs beyond the
 * public orderly/envelope.h (internal). */
#ifndef ORDERLY_WIRE_ENVELOPE_H
#define ORDERLY_WIRE_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "orderly/envelope.h"

/* orderly_event_decode for the engine's own path: the data member is not
 * re-serialised; orderly__event_data gives it parsed (borrowed, NULL when
 * absent or null). */
struct json_t;
int orderly__event_decode_lean(orderly_event **out, const uint8_t *bytes, size_t len,
                               const orderly_allocator *alloc, orderly_ctx *ctx);
struct json_t *orderly__event_data(const orderly_event *ev);

#endif
