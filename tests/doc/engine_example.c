#include <stdio.h>

#include <orderly.h>
#include <orderly/sys/memory.h>

static void pump_now(orderly_engine *engine, size_t n_rows, void *user_data)
{
    size_t published = 0;

    (void)n_rows;
    if (orderly_engine_pump(engine, *(const orderly_time_ms *)user_data, 0, &published) == 0)
        printf("pumped %zu event(s)\n", published);
}

int main(void)
{
    orderly_engine_options opts = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_line lines[] = { { 101, 1, 2, 500 }, { 202, 2, 1, 1000 } }; /* sku, warehouse, qty, price */
    orderly_order_spec spec = { 0 };
    orderly_command pay = { 0 };
    orderly_storage *storage = NULL;
    orderly_transport *transport = NULL;
    orderly_engine *engine = NULL;
    const orderly_machine *order_m, *payment_m;
    orderly_order_view view = ORDERLY_ORDER_VIEW_INIT;
    orderly_result res = ORDERLY_RESULT_INIT;
    orderly_message msg;
    orderly_time_ms now = 1700000000000; /* time comes in; the engine reads no clock */
    size_t i;
    int rc;

    if (orderly_memory_storage_new(&storage, NULL) < 0 ||
        orderly_memory_transport_new(&transport, NULL) < 0)
        return 1;
    opts.storage = storage;
    opts.transport = transport;
    opts.on_work = pump_now; /* called after each commit that queued events */
    opts.work_user_data = &now;
    if ((rc = orderly_engine_open(&engine, &opts, NULL)) < 0)
        goto out;

    spec.order_id = "order-1";
    spec.currency = "EUR";
    spec.payment_method = ORDERLY_PAY_CARD;
    spec.lines = lines;
    spec.n_lines = 2;
    spec.now = now;
    if ((rc = orderly_engine_create_order(engine, &spec, &res)) < 0)
        goto out;

    now += 1000; /* the payment provider authorizes the full amount */
    pay.order_id = "order-1";
    pay.machine = ORDERLY_MACHINE_PAYMENT;
    pay.event = ORDERLY_PAYMENT_EV_AUTHORIZE;
    pay.amount = 2000;
    pay.idem_key = "psp-event-42"; /* the provider's event id: a redelivery is a no-op */
    pay.now = now;
    if ((rc = orderly_engine_apply(engine, &pay, &res)) < 0 ||
        (rc = orderly_engine_apply(engine, &pay, &res)) < 0)
        goto out;
    printf("second delivery is a duplicate: %s\n", res.duplicate ? "yes" : "no");

    if ((rc = orderly_engine_get_order(engine, "order-1", &view)) < 0 ||
        (rc = orderly_machine_by_id(&order_m, ORDERLY_MACHINE_ORDER)) < 0 ||
        (rc = orderly_machine_by_id(&payment_m, ORDERLY_MACHINE_PAYMENT)) < 0)
        goto out;
    printf("order is %s, payment is %s\n", orderly_machine_state_name(order_m, view.order_state),
           orderly_machine_state_name(payment_m, view.payment_state));
    for (i = 0; i < orderly_memory_transport_count(transport); i++)
        if (orderly_memory_transport_get(&msg, transport, i) == 0)
            printf("published on %s\n", msg.topic);
out:
    if (rc < 0)
        fprintf(stderr, "error: %s\n", engine != NULL ? orderly_engine_errmsg(engine) : orderly_strerror(rc));
    orderly_engine_close(engine);
    orderly_memory_transport_free(transport);
    orderly_memory_storage_free(storage);
    return rc < 0 ? 1 : 0;
}
