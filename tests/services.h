/* The review's six services as the services topology's tests see them
 * (tests/engine/test_replica.c in one process, tests/redis/ as processes):
 * each service's name and roles, and which machine publishes each event
 * type. The owners are the tests' own oracle, written apart from
 * lib/wire/events.c on purpose. */
#ifndef ORDERLY_TESTS_SERVICES_H
#define ORDERLY_TESTS_SERVICES_H

#include <stddef.h>
#include <string.h>

#include "orderly/machine.h"

enum { SVC_ORDER, SVC_PAYMENT, SVC_WAREHOUSE, SVC_FULFILLMENT, SVC_SHIPPING, SVC_RETURN, N_SVC };

#define BIT(m) (1u << ORDERLY_MACHINE_##m)

/* Service s's name: its consumer group and CloudEvents source. */
static inline const char *svc_name_of(size_t s)
{
    static const char *const names[N_SVC] = { "order", "payment", "warehouse",
                                              "fulfillment", "shipping", "return" };

    return s < N_SVC ? names[s] : "";
}

/* Service s's roles (bits 1 << ORDERLY_MACHINE_*). */
static inline unsigned svc_roles_of(size_t s)
{
    static const unsigned roles[N_SVC] = {
        [SVC_ORDER] = BIT(ORDER),
        [SVC_PAYMENT] = BIT(PAYMENT),
        [SVC_WAREHOUSE] = BIT(RESERVATION),
        [SVC_FULFILLMENT] = BIT(FULFILLMENT),
        [SVC_SHIPPING] = BIT(SHIPMENT) | BIT(CLAIM),
        [SVC_RETURN] = BIT(RETURN),
    };

    return s < N_SVC ? roles[s] : 0u;
}

/* The machine whose service publishes event type `type`; 0 for a type the
 * table does not know. */
static inline int event_owner(const char *type)
{
    static const struct {
        const char *type;
        int machine;
    } owners[] = {
        { "order.status_changed", ORDERLY_MACHINE_ORDER },
        { "order.cancelled", ORDERLY_MACHINE_ORDER },
        { "inventory.stock.committed", ORDERLY_MACHINE_ORDER },
        { "payment.status_changed", ORDERLY_MACHINE_PAYMENT },
        { "payment.confirmed", ORDERLY_MACHINE_PAYMENT },
        { "payment.failed", ORDERLY_MACHINE_PAYMENT },
        { "payment.captured", ORDERLY_MACHINE_PAYMENT },
        { "payment.capture_failed", ORDERLY_MACHINE_PAYMENT },
        { "payment.voided", ORDERLY_MACHINE_PAYMENT },
        { "payment.refunded", ORDERLY_MACHINE_PAYMENT },
        { "orders.payment.capture_requested", ORDERLY_MACHINE_PAYMENT },
        { "inventory.reservation.status_changed", ORDERLY_MACHINE_RESERVATION },
        { "fulfillment.status_changed", ORDERLY_MACHINE_FULFILLMENT },
        { "fulfillment.sla_breached", ORDERLY_MACHINE_FULFILLMENT },
        { "shipment.status_changed", ORDERLY_MACHINE_SHIPMENT },
        { "return.status_changed", ORDERLY_MACHINE_RETURN },
        { "order.replacement_requested", ORDERLY_MACHINE_RETURN },
    };
    size_t i;

    for (i = 0; i < sizeof owners / sizeof owners[0]; i++)
        if (strcmp(owners[i].type, type) == 0)
            return owners[i].machine;
    return 0;
}

#endif
