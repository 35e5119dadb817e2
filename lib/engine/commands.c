/* The host-command shorthands, each one orderly_engine_apply underneath.
 * Opening a return is not one: it is its own request (apply.c). */
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
