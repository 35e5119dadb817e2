/* The host-command shorthands, each one orderly_engine_apply underneath. */
#include <string.h>

#include "internal.h"
#include "orderly/order.h"
#include "orderly/payment.h"

static int simple(orderly_engine *e, const char *order_id, int machine, int event,
                  const char *idem_key, orderly_time_ms now, orderly_result *out)
{
    orderly_command c;

    memset(&c, 0, sizeof c);
    c.order_id = order_id;
    c.machine = machine;
    c.event = event;
    c.idem_key = idem_key;
    c.now = now;
    return orderly_engine_apply(e, &c, out);
}

int orderly_engine_cancel_order(orderly_engine *e, const char *order_id, const char *idem_key,
                                orderly_time_ms now, orderly_result *out)
{
    return simple(e, order_id, ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, idem_key, now, out);
}

int orderly_engine_request_capture(orderly_engine *e, const char *order_id, const char *idem_key,
                                   orderly_time_ms now, orderly_result *out)
{
    return simple(e, order_id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE,
                  idem_key, now, out);
}

int orderly_engine_open_return(orderly_engine *e, uint32_t *index_out, const char *order_id,
                               int64_t amount, int exchange, const char *idem_key,
                               orderly_time_ms now, orderly_result *out)
{
    orderly_command c;
    orderly_result r;
    int rc;

    if (amount <= 0)
        return e != NULL ? orderly__fail(&e->ctx, ORDERLY_EINVAL, "return amount must be positive")
                         : ORDERLY_EINVAL;
    memset(&c, 0, sizeof c);
    c.order_id = order_id;
    c.machine = ORDERLY_MACHINE_RETURN;
    c.event = ORDERLY_EVENT_INIT;   /* opening a part, not a transition of one */
    c.index = exchange != 0;
    c.amount = amount;
    c.idem_key = idem_key;
    c.now = now;
    rc = orderly_engine_apply(e, &c, &r);
    if (out != NULL)
        *out = r;
    if (rc == 0 && index_out != NULL)
        *index_out = (uint32_t)r.from;
    return rc;
}
