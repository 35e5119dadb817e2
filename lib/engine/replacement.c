/*
 * An exchange's replacement order: its id derived from the return, so that
 * opening it twice names the same order and cannot open a second one, and
 * its lines the exchanged units.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "orderly/return.h"

int orderly_replacement_id(char *out, const char *order_id, uint32_t return_index)
{
    static const char hex[] = "0123456789abcdef";
    char cause[ORDERLY_ID_MAX + 32];
    uint8_t h[16];
    int n, i;

    if (out == NULL || !orderly__valid_id(order_id) || order_id[0] == '\0')
        return ORDERLY_EINVAL;
    n = snprintf(out, ORDERLY_ID_MAX + 1, "%s.x%u", order_id, return_index);
    if (n >= 0 && n <= ORDERLY_ID_MAX)
        return ORDERLY_OK;
    /* too long to read: a hash of the same cause, as fixed in length */
    n = snprintf(cause, sizeof cause, "%s/return/%u", order_id, return_index);
    orderly__hash128(h, "replacement", strlen("replacement"), cause, (size_t)n);
    out[0] = 'x';
    out[1] = '.';
    for (i = 0; i < 16; i++) {
        out[2 + 2 * i] = hex[h[i] >> 4];
        out[3 + 2 * i] = hex[h[i] & 15];
    }
    out[34] = '\0';
    return ORDERLY_OK;
}

int orderly_engine_open_replacement(orderly_engine *e, const char *order_id, uint32_t return_index,
                                    orderly_time_ms now, orderly_result *out)
{
    struct orderly__agg *a;
    orderly_line *lines;
    orderly_order_spec spec;
    char id[ORDERLY_ID_MAX + 1], currency[4];
    const struct orderly__part *r;
    uint64_t version = 0;
    size_t n = 0;
    uint32_t i;
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    orderly_ctx_clear(&e->ctx);
    if (orderly_replacement_id(id, order_id, return_index) < 0)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "order_id must be 1..%d printable bytes",
                             ORDERLY_ID_MAX);
    if ((rc = orderly__check_now(e, now)) < 0)
        return rc;
    a = &e->agg;
    if ((rc = orderly__read_order(e, order_id, a, &version)) < 0)
        return rc;
    if (return_index >= a->n_ret)
        return orderly__fail(&e->ctx, ORDERLY_ENOTFOUND, "order '%s' has no return #%u", order_id,
                             return_index);
    r = &a->ret[return_index];
    /* completed is terminal: the units read here cannot change any more */
    if (!r->exchange || r->state != ORDERLY_RETURN_COMPLETED)
        return orderly__fail(&e->ctx, ORDERLY_ETRANSITION,
                             "return #%u of order '%s' is not a completed exchange", return_index,
                             order_id);
    lines = e->spec_lines;
    for (i = 0; i < r->rl_n; i++) {
        const struct orderly__ret_line *rl = &a->rlines[r->rl_first + i];
        const struct orderly__line *l = &a->lines[rl->line];
        lines[n++] = (orderly_line){ l->sku, l->warehouse, rl->qty, l->unit_price };
    }
    if (n == 0)
        return orderly__fail(&e->ctx, ORDERLY_ETRANSITION,
                             "exchange #%u of order '%s' names no lines (a money-only exchange has "
                             "nothing to replace)", return_index, order_id);
    memcpy(currency, a->currency, sizeof currency);
    memset(&spec, 0, sizeof spec);
    spec.order_id = id;
    spec.currency = currency;
    spec.payment_method = a->method;
    spec.lines = lines;
    spec.n_lines = n;
    spec.now = now;
    return orderly__create_order(e, &spec, order_id, out);
}
