/*
 * Outbound events carry what their consumer needs (lines, amounts,
 * currency), each money and stock movement has its own type, every
 * payload a real engine emits satisfies its schema in doc/events/, and
 * schemaversion 1 and 2 envelopes both drive the engine.
 */
#include <regex.h>

#include <jansson.h>

#include "fixture.h"

/* ---- reading what was published ---- */

/* The n-th (from 0) message of type for order, parsed; NULL if none.
 * The caller decrefs. */
static json_t *published(fx *f, const char *order, const char *type, size_t n)
{
    size_t i, total = orderly_memory_transport_count(f->tr);
    orderly_message m;
    char t[96];

    for (i = 0; i < total; i++) {
        ck_assert_int_eq(orderly_memory_transport_get(&m, f->tr, i), 0);
        if (strcmp(m.key, order) != 0)
            continue;
        msg_type(&m, t, sizeof t);
        if (strcmp(t, type) == 0 && n-- == 0)
            return json_loadb((const char *)m.data, m.len, 0, NULL);
    }
    return NULL;
}

static json_int_t data_int(json_t *ev, const char *k)
{
    json_t *v = json_object_get(json_object_get(ev, "data"), k);

    ck_assert_msg(json_is_integer(v), "data.%s is not an integer", k);
    return json_integer_value(v);
}

static const char *data_str(json_t *ev, const char *k)
{
    json_t *v = json_object_get(json_object_get(ev, "data"), k);

    ck_assert_msg(json_is_string(v), "data.%s is not a string", k);
    return json_string_value(v);
}

static json_t *data_lines(json_t *ev)
{
    json_t *v = json_object_get(json_object_get(ev, "data"), "lines");

    ck_assert_msg(json_is_array(v), "data.lines is not an array");
    return v;
}

static json_int_t line_int(json_t *lines, size_t i, const char *k)
{
    json_t *v = json_object_get(json_array_get(lines, i), k);

    ck_assert_msg(json_is_integer(v), "lines[%zu].%s is not an integer", i, k);
    return json_integer_value(v);
}

/* ---- a checker for the subset of JSON Schema doc/events/ uses ---- */

static int has_type(json_t *v, const char *type)
{
    if (strcmp(type, "object") == 0)
        return json_is_object(v);
    if (strcmp(type, "array") == 0)
        return json_is_array(v);
    if (strcmp(type, "string") == 0)
        return json_is_string(v);
    if (strcmp(type, "integer") == 0)
        return json_is_integer(v);
    return 0;
}

static int matches(const char *pattern, const char *s)
{
    regex_t re;
    int ok;

    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* Fails the test naming where v breaks schema s (type, required,
 * properties, items, const, enum, pattern, minimum). */
static void check_schema(json_t *v, json_t *s, const char *where)
{
    json_t *k, *sub, *x;
    const char *name;
    char path[256];
    size_t i;

    if ((k = json_object_get(s, "type")) != NULL)
        ck_assert_msg(has_type(v, json_string_value(k)), "%s is not of type %s", where,
                      json_string_value(k));
    if ((k = json_object_get(s, "const")) != NULL)
        ck_assert_msg(json_equal(v, k), "%s is not the schema's const", where);
    if ((k = json_object_get(s, "enum")) != NULL) {
        int found = 0;
        json_array_foreach(k, i, x)
            found |= json_equal(v, x);
        ck_assert_msg(found, "%s is not one of the schema's enum", where);
    }
    if ((k = json_object_get(s, "pattern")) != NULL && json_is_string(v))
        ck_assert_msg(matches(json_string_value(k), json_string_value(v)), "%s ('%s') does not match %s",
                      where, json_string_value(v), json_string_value(k));
    if ((k = json_object_get(s, "minimum")) != NULL && json_is_integer(v))
        ck_assert_msg(json_integer_value(v) >= json_integer_value(k), "%s is below its minimum", where);
    if ((k = json_object_get(s, "required")) != NULL)
        json_array_foreach(k, i, x)
            ck_assert_msg(json_object_get(v, json_string_value(x)) != NULL, "%s lacks required '%s'",
                          where, json_string_value(x));
    if ((k = json_object_get(s, "properties")) != NULL && json_is_object(v))
        json_object_foreach(k, name, sub)
            if ((x = json_object_get(v, name)) != NULL) {
                snprintf(path, sizeof path, "%s.%s", where, name);
                check_schema(x, sub, path);
            }
    if ((k = json_object_get(s, "items")) != NULL && json_is_array(v))
        json_array_foreach(v, i, x) {
            snprintf(path, sizeof path, "%s[%zu]", where, i);
            check_schema(x, k, path);
        }
}

/* Checks every message published so far against doc/events/<type>.schema.json;
 * returns how many were checked. */
static size_t check_all(fx *f)
{
    size_t i, total = orderly_memory_transport_count(f->tr);
    orderly_message m;
    char t[96], path[512];

    for (i = 0; i < total; i++) {
        json_t *ev, *schema;
        json_error_t err;
        ck_assert_int_eq(orderly_memory_transport_get(&m, f->tr, i), 0);
        msg_type(&m, t, sizeof t);
        /* operations nobody executes in-process share one schema */
        if (strncmp(t, "orderly.command.", 16) == 0)
            t[15] = '\0';
        snprintf(path, sizeof path, "%s/%s.schema.json", EVENTS_DIR, t);
        schema = json_load_file(path, 0, &err);
        ck_assert_msg(schema != NULL, "no schema for %s: %s", t, err.text);
        ev = json_loadb((const char *)m.data, m.len, 0, NULL);
        ck_assert_ptr_nonnull(ev);
        check_schema(ev, schema, t);
        json_decref(ev);
        json_decref(schema);
    }
    return total;
}

/* ---- stock events ---- */

START_TEST(stock_committed_lists_every_line_sku_and_quantity)
{
    fx f;
    json_t *ev, *lines;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    pump_all(&f, T0 + 1000);
    ev = published(&f, "o1", "inventory.stock.committed", 0);
    ck_assert_ptr_nonnull(ev);
    lines = data_lines(ev);
    ck_assert_uint_eq(json_array_size(lines), 2);
    ck_assert_int_eq(line_int(lines, 0, "sku"), 101);
    ck_assert_int_eq(line_int(lines, 0, "warehouse"), 1);
    ck_assert_int_eq(line_int(lines, 0, "quantity"), 2);
    ck_assert_int_eq(line_int(lines, 0, "unit_price"), 500);
    ck_assert_int_eq(line_int(lines, 0, "amount"), 1000);
    ck_assert_int_eq(line_int(lines, 1, "sku"), 202);
    ck_assert_int_eq(line_int(lines, 1, "warehouse"), 2);
    ck_assert_int_eq(line_int(lines, 1, "quantity"), 1);
    json_decref(ev);
    fx_free(&f);
}
END_TEST

START_TEST(reservation_moves_of_one_command_publish_one_event_with_their_lines)
{
    fx f;
    json_t *ev;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, T0 + 1000);
    pump_all(&f, T0 + 1000);
    ck_assert_uint_eq(count_type(&f, "o1", "inventory.reservation.status_changed"), 1);
    ev = published(&f, "o1", "inventory.reservation.status_changed", 0);
    ck_assert_str_eq(data_str(ev, "machine"), "reservation");
    ck_assert_str_eq(data_str(ev, "to"), "released");
    ck_assert_uint_eq(json_array_size(data_lines(ev)), 2);
    json_decref(ev);
    fx_free(&f);
}
END_TEST

START_TEST(fulfillment_and_shipment_events_carry_their_warehouse_lines)
{
    fx f;
    json_t *ev, *lines;
    size_t n, i;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    capture_ok(&f, "o1", T0 + 2000);
    ship_ful(&f, "o1", 1, T0 + 3000);
    deliver_ship(&f, "o1", 0, T0 + 4000); /* the one shipment: warehouse 2's */
    pump_all(&f, T0 + 4000);
    n = count_type(&f, "o1", "fulfillment.status_changed");
    ck_assert_uint_ge(n, 1);
    /* fulfillment 0 is warehouse 1 (sku 101), fulfillment 1 warehouse 2 (sku 202) */
    for (i = 0; i < n; i++) {
        json_int_t index;
        ev = published(&f, "o1", "fulfillment.status_changed", i);
        index = data_int(ev, "index");
        lines = data_lines(ev);
        ck_assert_uint_eq(json_array_size(lines), 1);
        ck_assert_int_eq(line_int(lines, 0, "sku"), index == 0 ? 101 : 202);
        ck_assert_int_eq(line_int(lines, 0, "warehouse"), index + 1);
        json_decref(ev);
    }
    ev = published(&f, "o1", "shipment.status_changed", 0);
    ck_assert_ptr_nonnull(ev);
    lines = data_lines(ev);
    ck_assert_uint_eq(json_array_size(lines), 1);
    ck_assert_int_eq(line_int(lines, 0, "warehouse"), 2);
    json_decref(ev);
    fx_free(&f);
}
END_TEST

/* An exchange's replacement request names the replacement order and
 * carries only the exchanged lines, with the units exchanged. */
START_TEST(replacement_request_names_the_replacement_and_the_exchanged_units)
{
    static const int steps[] = { ORDERLY_RETURN_EV_APPROVE, ORDERLY_RETURN_EV_RECEIVE,
                                 ORDERLY_RETURN_EV_INSPECT, ORDERLY_RETURN_EV_EXCHANGE };
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 9;
    size_t i;
    json_t *ev, *lines;
    fx f;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(open_return_units(&f, &idx, "o1", 0, 1, 1, NULL, T0 + HOUR, &r), 0);
    for (i = 0; i < sizeof steps / sizeof steps[0]; i++)
        APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, steps[i], idx, 0, T0 + HOUR);
    pump_all(&f, T0 + HOUR);
    ev = published(&f, "o1", "order.replacement_requested", 0);
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(data_str(ev, "replacement_id"), "o1.x0");
    lines = data_lines(ev);
    ck_assert_uint_eq(json_array_size(lines), 1);
    ck_assert_int_eq(line_int(lines, 0, "sku"), 101);
    ck_assert_int_eq(line_int(lines, 0, "quantity"), 1);
    json_decref(ev);
    fx_free(&f);
}
END_TEST

/* ---- money events ---- */

START_TEST(capture_failure_is_not_published_as_a_decline)
{
    fx f;
    json_t *ev;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_FAILED, 0, 0, T0 + 3000);
    create_ok(&f, "o2", ORDERLY_PAY_CARD, T0);
    APPLY_OK(&f, "o2", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, T0 + 1000);
    pump_all(&f, T0 + 3000);
    ck_assert_uint_eq(count_type(&f, "o1", "payment.capture_failed"), 1);
    ck_assert_uint_eq(count_type(&f, "o1", "payment.failed"), 0);
    ck_assert_uint_eq(count_type(&f, "o2", "payment.failed"), 1);
    ck_assert_uint_eq(count_type(&f, "o2", "payment.capture_failed"), 0);
    ev = published(&f, "o1", "payment.capture_failed", 0);
    ck_assert_str_eq(data_str(ev, "currency"), "EUR");
    json_decref(ev);
    fx_free(&f);
}
END_TEST

START_TEST(void_is_published_with_the_authorized_amount)
{
    fx f;
    json_t *ev;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o1", T0 + 1000);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, T0 + 2000);
    pump_all(&f, T0 + 2000);
    ck_assert_uint_eq(count_type(&f, "o1", "payment.voided"), 1);
    ev = published(&f, "o1", "payment.voided", 0);
    ck_assert_int_eq(data_int(ev, "amount"), TOTAL);
    ck_assert_str_eq(data_str(ev, "currency"), "EUR");
    json_decref(ev);
    fx_free(&f);
}
END_TEST

START_TEST(refund_is_published_with_its_amount)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 99;
    orderly_time_ms t = T0 + HOUR;
    json_t *ev;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(orderly_engine_open_return(f.e, &idx, "o1", 500, 0, "ret-1", t, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, t);
    pump_all(&f, t);
    ck_assert_uint_eq(count_type(&f, "o1", "payment.refunded"), 1);
    ev = published(&f, "o1", "payment.refunded", 0);
    ck_assert_int_eq(data_int(ev, "amount"), 500);
    ck_assert_str_eq(data_str(ev, "currency"), "EUR");
    json_decref(ev);
    fx_free(&f);
}
END_TEST

/* ---- schemas ---- */

START_TEST(every_emitted_payload_satisfies_its_schema)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    uint32_t idx = 99;
    orderly_time_ms t = T0 + HOUR;

    fx_setup(&f);
    to_delivered(&f, "o1", T0);
    ck_assert_int_eq(orderly_engine_open_return(f.e, &idx, "o1", 500, 0, "ret-1", t, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_REFUND, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_COMPLETE, idx, 0, t);
    ck_assert_int_eq(orderly_engine_open_return(f.e, &idx, "o1", 500, 1, "exch-1", t, &r), 0);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_APPROVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_RECEIVE, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_INSPECT, idx, 0, t);
    APPLY_OK(&f, "o1", ORDERLY_MACHINE_RETURN, ORDERLY_RETURN_EV_EXCHANGE, idx, 0, t);
    create_ok(&f, "o2", ORDERLY_PAY_CARD, T0);
    authorize_ok(&f, "o2", T0 + 1000);
    APPLY_OK(&f, "o2", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, T0 + 2000);
    APPLY_OK(&f, "o2", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_FAILED, 0, 0, T0 + 3000);
    APPLY_OK(&f, "o2", ORDERLY_MACHINE_ORDER, ORDERLY_ORDER_EV_CANCEL, 0, 0, T0 + 4000);
    create_ok(&f, "o3", ORDERLY_PAY_CARD, T0);
    APPLY_OK(&f, "o3", ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_DECLINE, 0, 0, T0 + 1000);
    pump_all(&f, t);
    tick(&f, T0 + 30 * DAY);
    pump_all(&f, T0 + 30 * DAY);
    /* no executors here: the operations go out as orderly.command.<op> */
    ck_assert_int_eq(orderly_engine_run_operations(f.e, T0 + 30 * DAY, 0, NULL), 0);
    ck_assert_uint_ge(count_type(&f, "o2", "orderly.command.void_authorization"), 1);
    ck_assert_uint_ge(check_all(&f), 30);
    ck_assert_uint_eq(count_type(&f, "o1", "order.replacement_requested"), 1);
    fx_free(&f);
}
END_TEST

/* ---- schemaversion ---- */

static char *env_v(const char *id, const char *type, const char *data, int version)
{
    char *s = make_env(id, type, "o1", data), *p;

    /* make_env writes schemaversion 1 */
    p = strstr(s, "\"schemaversion\":1");
    ck_assert_ptr_nonnull(p);
    p[16] = (char)('0' + version);
    return s;
}

START_TEST(handle_event_takes_schemaversion_1_and_2)
{
    fx f;
    orderly_result r = ORDERLY_RESULT_INIT;
    char *v1, *v2, *v3;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    v1 = env_v("e-1", "payment.authorize", "{\"amount\":2000}", 1);
    ck_assert_int_eq(handle(&f, v1, T0 + 1000, &r), 0);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_AUTHORIZED);
    v2 = env_v("e-2", "payment.request_capture",
               "{\"order_id\":\"o1\",\"amount\":0,\"currency\":\"EUR\",\"lines\":[{\"line\":0,"
               "\"sku\":101,\"warehouse\":1,\"quantity\":2,\"unit_price\":500,\"amount\":1000}]}",
               2);
    ck_assert_int_eq(handle(&f, v2, T0 + 2000, &r), 0);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_CAPTURE_REQUESTED);
    v3 = env_v("e-3", "payment.capture_succeeded", NULL, 3);
    ck_assert_int_eq(handle(&f, v3, T0 + 3000, &r), ORDERLY_EVERSION);
    ck_assert_int_eq(view(&f, "o1").payment_state, ORDERLY_PAYMENT_CAPTURE_REQUESTED);
    free(v1);
    free(v2);
    free(v3);
    fx_free(&f);
}
END_TEST

START_TEST(published_events_say_schemaversion_2)
{
    fx f;
    json_t *ev;

    fx_setup(&f);
    create_ok(&f, "o1", ORDERLY_PAY_CARD, T0);
    pump_all(&f, T0);
    ev = published(&f, "o1", "order.status_changed", 0);
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(json_integer_value(json_object_get(ev, "schemaversion")), 2);
    ck_assert_int_eq(orderly_schema_version(), 2);
    json_decref(ev);
    fx_free(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("events");

    orderly_test_case(s, stock_committed_lists_every_line_sku_and_quantity, 0);
    orderly_test_case(s, reservation_moves_of_one_command_publish_one_event_with_their_lines, 0);
    orderly_test_case(s, replacement_request_names_the_replacement_and_the_exchanged_units, 0);
    orderly_test_case(s, fulfillment_and_shipment_events_carry_their_warehouse_lines, 0);
    orderly_test_case(s, capture_failure_is_not_published_as_a_decline, 0);
    orderly_test_case(s, void_is_published_with_the_authorized_amount, 0);
    orderly_test_case(s, refund_is_published_with_its_amount, 0);
    orderly_test_case(s, every_emitted_payload_satisfies_its_schema, 0);
    orderly_test_case(s, handle_event_takes_schemaversion_1_and_2, 0);
    orderly_test_case(s, published_events_say_schemaversion_2, 0);
    return run_suite(s);
}
