/* The public structs' shape: caller-sized out structs, and their sizes
 * pinned per version, so a layout change cannot slip through unnoticed. */
#include <stddef.h>
#include <string.h>

#include "abi.h"
#include "ctx.h"
#include "orderly/envelope.h"
#include "orderly/outbox.h"

int orderly__out_check(orderly_ctx *ctx, const void *out, size_t min, const char *type)
{
    size_t size;

    memcpy(&size, out, sizeof size);
    if (size < min)
        return orderly__fail(ctx, ORDERLY_EINVAL,
                             "%s.size %zu is below %zu: set it with the type's _INIT macro", type,
                             size, min);
    return ORDERLY_OK;
}

void orderly__out_put(void *out, const void *full, size_t full_size)
{
    size_t size, n;

    memcpy(&size, out, sizeof size);
    n = size < full_size ? size : full_size;
    memcpy((char *)out + sizeof size, (const char *)full + sizeof size, n - sizeof size);
    if (size > full_size)
        memset((char *)out + full_size, 0, size - full_size);
}

int orderly__result_reset(orderly_ctx *ctx, orderly_result *out)
{
    static const orderly_result none;
    int rc;

    if ((rc = orderly__out_check(ctx, out, sizeof *out, "orderly_result")) < 0)
        return rc;
    orderly__out_put(out, &none, sizeof none);
    return ORDERLY_OK;
}

/*
 * Sizes per version on the ABIs orderly is built for (LP64: 8-byte
 * pointers, size_t and 64-bit integers aligned to 8). Changing a public
 * struct fails here: append the field, bump the struct's version (options,
 * vtables, policy) and add the new size next to the old one.
 */
#if defined(__LP64__) || defined(_WIN64)
#define PIN(type, size) _Static_assert(sizeof(type) == (size), #type " changed size: see abi.c")
#define PIN_AT(type, field, off) \
    _Static_assert(offsetof(type, field) == (off), #type "." #field " moved: see abi.c")

/* engine options version 4 (version 3, flags appended, was 128 bytes;
 * version 2, 0.2, 120), policy version 2 (version 1, the 0.2 layout, was
 * 120 bytes; version 2 appended claim_resolution and cod_collection_window) */
PIN(orderly_engine_options, 136);
PIN_AT(orderly_engine_options, version, 0);
PIN_AT(orderly_engine_options, max_envelope_bytes, 112);
PIN_AT(orderly_engine_options, flags, 120);
PIN_AT(orderly_engine_options, max_lines, 124);
PIN_AT(orderly_engine_options, max_parts, 128);
PIN(orderly_policy, 136);
PIN_AT(orderly_policy, version, 0);
PIN_AT(orderly_policy, claim_resolution, 120);
PIN_AT(orderly_policy, cod_collection_window, 128);

/* caller-sized out structs, 0.2 layout (size first) */
PIN(orderly_result, 56);
PIN(orderly_order_view, 160); /* 88 with replacement_of appended (unreleased) */
PIN(orderly_part_view, 168); /* 0.2 with the line units appended (56 before), then replacement
                              * (104 before; unreleased) */
PIN(orderly_engine_stats, 128); /* 0.2 appended the transaction counts (80 before; unreleased) */
PIN(orderly_health, 160);
PIN(orderly_outbox_view, 72);
PIN(orderly_operation_view, 104);
PIN(orderly_history_entry, 128);
PIN_AT(orderly_result, size, 0);
PIN_AT(orderly_order_view, size, 0);
PIN_AT(orderly_part_view, size, 0);
PIN_AT(orderly_engine_stats, size, 0);
PIN_AT(orderly_health, size, 0);
PIN_AT(orderly_outbox_view, size, 0);
PIN_AT(orderly_operation_view, size, 0);
PIN_AT(orderly_history_entry, size, 0);

/* vtables: storage version 4 (version 2's 160 bytes plus version 3's
 * history, read-begin and next-due slots, and version 4's next-due-except), transport version 1, allocator (unversioned) */
PIN(orderly_storage, 200);
PIN_AT(orderly_storage, history_append, 160);
PIN_AT(orderly_storage, begin_read, 176);
PIN_AT(orderly_storage, queue_next_due_except, 192);
PIN(orderly_transport, 32);
PIN(orderly_allocator, 40);
PIN_AT(orderly_storage, version, 0);
PIN_AT(orderly_transport, version, 0);

/* inputs and the types the vtables and callbacks exchange, 0.2 layout */
PIN(orderly_alert, 32);
PIN(orderly_line, 24);
PIN(orderly_order_spec, 72);
PIN(orderly_command, 48);
/* return spec version 1 (0.2) */
PIN(orderly_return_line, 8);
PIN(orderly_return_spec, 64);
PIN_AT(orderly_return_spec, version, 0);
PIN(orderly_envelope, 80);
PIN(orderly_guard_input, 56);
PIN(orderly_transition, 24); /* effects point at the table: ORDERLY_EFFECT_MAX is not in it */
PIN(orderly_queue_item, 80);
PIN(orderly_history_item, 40);
PIN(orderly_queue_stats, 56);
PIN(orderly_idem_record, 40);
PIN(orderly_header, 16);
#endif
