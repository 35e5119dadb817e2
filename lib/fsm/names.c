/* Names of guards, effects and timers, and what each timer fires. */
#include "orderly/fulfillment.h"
#include "orderly/order.h"
#include "orderly/payment.h"
#include "orderly/reservation.h"

static const char *const guard_names[] = {
    [ORDERLY_GUARD_NONE] = "none",
    [ORDERLY_GUARD_WITHIN_DEADLINE] = "within_deadline",
    [ORDERLY_GUARD_PAST_DEADLINE] = "past_deadline",
    [ORDERLY_GUARD_CAPTURABLE] = "capturable",
    [ORDERLY_GUARD_REFUND_PARTIAL] = "refund_partial",
    [ORDERLY_GUARD_REFUND_FULL] = "refund_full",
    [ORDERLY_GUARD_ALL_PARTS] = "all_parts",
    [ORDERLY_GUARD_SOME_PARTS] = "some_parts",
};

static const char *const effect_names[] = {
    [ORDERLY_EFFECT_NONE] = "none",
    [ORDERLY_EFFECT_EMIT_STATUS_CHANGED] = "emit_status_changed",
    [ORDERLY_EFFECT_EMIT_ORDER_CANCELLED] = "emit_order_cancelled",
    [ORDERLY_EFFECT_EMIT_PAYMENT_CONFIRMED] = "emit_payment_confirmed",
    [ORDERLY_EFFECT_EMIT_PAYMENT_FAILED] = "emit_payment_failed",
    [ORDERLY_EFFECT_EMIT_PAYMENT_CAPTURED] = "emit_payment_captured",
    [ORDERLY_EFFECT_EMIT_SLA_BREACHED] = "emit_sla_breached",
    [ORDERLY_EFFECT_CONFIRM_RESERVATIONS] = "confirm_reservations",
    [ORDERLY_EFFECT_RELEASE_RESERVATIONS] = "release_reservations",
    [ORDERLY_EFFECT_FULFILL_RESERVATIONS] = "fulfill_reservations",
    [ORDERLY_EFFECT_REQUEST_CAPTURE] = "request_capture",
    [ORDERLY_EFFECT_CAPTURE_PAYMENT] = "capture_payment",
    [ORDERLY_EFFECT_VOID_AUTHORIZATION] = "void_authorization",
    [ORDERLY_EFFECT_SETTLE_PAYMENT] = "settle_payment",
    [ORDERLY_EFFECT_REFUND_PAYMENT] = "refund_payment",
    [ORDERLY_EFFECT_CANCEL_FULFILLMENTS] = "cancel_fulfillments",
    [ORDERLY_EFFECT_CANCEL_SHIPMENT] = "cancel_shipment",
    [ORDERLY_EFFECT_REVERT_PROMOTION] = "revert_promotion",
    [ORDERLY_EFFECT_RESTORE_LOYALTY] = "restore_loyalty",
    [ORDERLY_EFFECT_RESTOCK] = "restock",
    [ORDERLY_EFFECT_OPEN_REPLACEMENT] = "open_replacement",
    [ORDERLY_EFFECT_CANCEL_COD_CLAIM] = "cancel_cod_claim",
    [ORDERLY_EFFECT_CANCEL_ORDER] = "cancel_order",
    [ORDERLY_EFFECT_NOTIFY_ORDER] = "notify_order",
    [ORDERLY_EFFECT_RELEASE_FULFILLMENTS] = "release_fulfillments",
    [ORDERLY_EFFECT_CANCEL_REMAINDER] = "cancel_remainder",
    [ORDERLY_EFFECT_RESHIP] = "reship",
};

struct timer_def {
    const char *name;
    int machine;
    int event;
};

static const struct timer_def timers[] = {
    [ORDERLY_TIMER_NONE] = { "none", 0, 0 },
    [ORDERLY_TIMER_RESERVATION_TTL] = { "reservation_ttl", ORDERLY_MACHINE_RESERVATION,
                                        ORDERLY_RESERVATION_EV_EXPIRE },
    [ORDERLY_TIMER_COD_WINDOW] = { "cod_window", ORDERLY_MACHINE_PAYMENT,
                                   ORDERLY_PAYMENT_EV_COD_WINDOW_ELAPSED },
    [ORDERLY_TIMER_AUTH_EXPIRY] = { "auth_expiry", ORDERLY_MACHINE_PAYMENT,
                                    ORDERLY_PAYMENT_EV_AUTHORIZATION_EXPIRED },
    [ORDERLY_TIMER_AUTO_COMPLETE] = { "auto_complete", ORDERLY_MACHINE_ORDER,
                                      ORDERLY_ORDER_EV_AUTO_COMPLETE },
    [ORDERLY_TIMER_FULFILLMENT_SLA] = { "fulfillment_sla", ORDERLY_MACHINE_FULFILLMENT,
                                        ORDERLY_FULFILLMENT_EV_SLA_BREACH },
    [ORDERLY_TIMER_ABANDONED] = { "abandoned", ORDERLY_MACHINE_ORDER,
                                  ORDERLY_ORDER_EV_ABANDONED },
    [ORDERLY_TIMER_COD_COLLECTION] = { "cod_collection", ORDERLY_MACHINE_PAYMENT,
                                       ORDERLY_PAYMENT_EV_COLLECTION_OVERDUE },
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

const char *orderly_guard_name(int guard)
{
    return guard >= 0 && guard < COUNT(guard_names) ? guard_names[guard] : NULL;
}

const char *orderly_effect_name(int effect)
{
    return effect >= 0 && effect < COUNT(effect_names) ? effect_names[effect] : NULL;
}

const char *orderly_timer_name(int timer)
{
    return timer >= 0 && timer < COUNT(timers) ? timers[timer].name : NULL;
}

int orderly_timer_target(int *machine_out, int *event_out, int timer)
{
    if (machine_out == NULL || event_out == NULL)
        return ORDERLY_EINVAL;
    if (timer <= ORDERLY_TIMER_NONE || timer >= COUNT(timers))
        return ORDERLY_ENOTFOUND;
    *machine_out = timers[timer].machine;
    *event_out = timers[timer].event;
    return ORDERLY_OK;
}
