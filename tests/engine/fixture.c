/* The engine suites' shared fixture: see fixture.h. */
#include "fixture.h"

void fx_init(fx *f)
{
    orderly_engine_options init = ORDERLY_ENGINE_OPTIONS_INIT;
    orderly_policy policy = ORDERLY_POLICY_INIT;

    memset(f, 0, sizeof *f);
    ck_assert_int_eq(orderly_memory_storage_new(&f->st, NULL), 0);
    ck_assert_int_eq(orderly_memory_transport_new(&f->tr, NULL), 0);
    f->o = init;
    f->o.storage = f->st;
    f->o.transport = f->tr;
    f->policy = policy;
    f->o.policy = &f->policy;
    f->o.topics = f->topics;
    f->o.n_topics = ORDERLY_TOPIC_COUNT + 1;
}

void fx_open(fx *f)
{
    orderly_ctx *ctx = NULL;
    int rc;

    ck_assert_int_eq(orderly_ctx_new(&ctx, NULL), 0);
    rc = orderly_engine_open(&f->e, &f->o, ctx);
    ck_assert_msg(rc == 0, "open: %d %s", rc, orderly_ctx_errmsg(ctx));
    orderly_ctx_free(ctx);
}

void fx_setup(fx *f)
{
    fx_init(f);
    fx_open(f);
}

void fx_free(fx *f)
{
    orderly_engine_close(f->e);
    f->e = NULL;
    orderly_memory_storage_free(f->st);
    orderly_memory_transport_free(f->tr);
}

int applyk(fx *f, const char *order, int machine, int event, uint32_t index,
           int64_t amount, orderly_time_ms now, const char *key, orderly_result *res)
{
    orderly_command c;
    char buf[48];
    orderly_result tmp = ORDERLY_RESULT_INIT;
    int rc;

    if (key == NULL) {
        snprintf(buf, sizeof buf, "k-%u", ++f->keyseq);
        key = buf;
    }
    memset(&c, 0, sizeof c);
    c.order_id = order;
    c.machine = machine;
    c.event = event;
    c.index = index;
    c.amount = amount;
    c.idem_key = key;
    c.now = now;
    rc = orderly_engine_apply(f->e, &c, res != NULL ? res : &tmp);
    if (rc == 0 && f->n_log < MAX_LOG) {
        logged_cmd *l = &f->log[f->n_log++];
        snprintf(l->order, sizeof l->order, "%s", order);
        l->machine = machine;
        l->event = event;
        l->index = index;
        l->amount = amount;
        snprintf(l->key, sizeof l->key, "%s", key);
        l->now = now;
    }
    return rc;
}

int apply(fx *f, const char *order, int machine, int event, uint32_t index, int64_t amount,
          orderly_time_ms now, orderly_result *res)
{
    return applyk(f, order, machine, event, index, amount, now, NULL, res);
}

const orderly_line std_lines[2] = {
    { 101, 1, 2, 500 },
    { 202, 2, 1, 1000 },
};

int create_ex(fx *f, const char *id, int method, uint32_t promo, int64_t points,
              orderly_time_ms now, orderly_result *res)
{
    orderly_order_spec s;
    orderly_result tmp = ORDERLY_RESULT_INIT;

    memset(&s, 0, sizeof s);
    s.order_id = id;
    s.currency = "EUR";
    s.payment_method = method;
    s.lines = std_lines;
    s.n_lines = 2;
    s.has_promotion = promo;
    s.loyalty_points = points;
    s.now = now;
    return orderly_engine_create_order(f->e, &s, res != NULL ? res : &tmp);
}

void create_ok(fx *f, const char *id, int method, orderly_time_ms now)
{
    int rc = create_ex(f, id, method, 0, 0, now, NULL);
    ck_assert_msg(rc == 0, "create %s: %d %s", id, rc, orderly_engine_errmsg(f->e));
}

orderly_order_view view(fx *f, const char *id)
{
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    int rc = orderly_engine_get_order(f->e, id, &v);
    ck_assert_msg(rc == 0, "get_order %s: %d", id, rc);
    return v;
}

int part_state(fx *f, const char *id, int m, uint32_t i)
{
    orderly_part_view p = ORDERLY_PART_VIEW_INIT;
    int rc = orderly_engine_get_part(f->e, id, m, i, &p);
    ck_assert_msg(rc == 0, "get_part %s %d #%u: %d", id, m, i, rc);
    return p.state;
}

orderly_health health(fx *f, orderly_time_ms now)
{
    orderly_health h = ORDERLY_HEALTH_INIT;
    ck_assert_int_eq(orderly_engine_health(f->e, now, 0, 0, &h), 0);
    return h;
}

size_t tick(fx *f, orderly_time_ms now)
{
    size_t fired = 0, total = 0;
    int i;

    for (i = 0; i < 20; i++) {
        ck_assert_int_eq(orderly_engine_tick(f->e, now, 0, &fired), 0);
        total += fired;
        if (health(f, now).timers_due == 0)
            break;
    }
    return total;
}

void pump_all(fx *f, orderly_time_ms now)
{
    size_t n;
    int i;

    for (i = 0; i < 50; i++) {
        ck_assert_int_eq(orderly_engine_pump(f->e, now, 0, &n), 0);
        if (n == 0)
            break;
    }
}

void msg_type(const orderly_message *m, char *out, size_t cap)
{
    char *buf = malloc(m->len + 1);
    const char *p, *q;

    out[0] = '\0';
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, m->data, m->len);
    buf[m->len] = '\0';
    p = strstr(buf, "\"type\"");
    if (p != NULL && (p = strchr(p + 6, '"')) != NULL && (q = strchr(p + 1, '"')) != NULL) {
        size_t n = (size_t)(q - p - 1);
        if (n >= cap)
            n = cap - 1;
        memcpy(out, p + 1, n);
        out[n] = '\0';
    }
    free(buf);
}

size_t count_type(fx *f, const char *order, const char *type)
{
    size_t i, n = 0, total = orderly_memory_transport_count(f->tr);
    orderly_message m;
    char t[96];

    for (i = 0; i < total; i++) {
        ck_assert_int_eq(orderly_memory_transport_get(&m, f->tr, i), 0);
        if (order != NULL && (m.key == NULL || strcmp(m.key, order) != 0))
            continue;
        msg_type(&m, t, sizeof t);
        if (strcmp(t, type) == 0)
            n++;
    }
    return n;
}

int collect_cb(const orderly_operation_view *op, void *ud)
{
    operation_list *l = ud;
    uint32_t i;
    if (l->n < 64) {
        operation_rec *r = &l->r[l->n++];
        r->id = op->id;
        r->op = op->op;
        snprintf(r->order, sizeof r->order, "%s", op->order_id != NULL ? op->order_id : "");
        r->index = op->index;
        r->amount = op->amount;
        r->n_lines = op->n_lines;
        for (i = 0; i < op->n_lines && i < 16; i++) {
            r->sku[i] = op->sku[i];
            r->warehouse[i] = op->warehouse[i];
            r->quantity[i] = op->quantity[i];
        }
        r->attempts = op->attempts;
        r->state = op->state;
        snprintf(r->key, sizeof r->key, "%s", op->key != NULL ? op->key : "");
    }
    return 0;
}

void operations(fx *f, operation_list *l)
{
    memset(l, 0, sizeof *l);
    ck_assert_int_eq(orderly_engine_list_operations(f->e, -1, 0, 64, collect_cb, l), 0);
}

size_t count_op(fx *f, const char *order, int op, operation_rec *last)
{
    operation_list l;
    size_t i, n = 0;

    operations(f, &l);
    for (i = 0; i < l.n; i++)
        if (l.r[i].op == op && (order == NULL || strcmp(l.r[i].order, order) == 0)) {
            n++;
            if (last != NULL)
                *last = l.r[i];
        }
    return n;
}

void authorize_ok(fx *f, const char *id, orderly_time_ms now)
{
    APPLY_OK(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_AUTHORIZE, 0, TOTAL, now);
}

void capture_ok(fx *f, const char *id, orderly_time_ms now)
{
    APPLY_OK(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_REQUEST_CAPTURE, 0, 0, now);
    APPLY_OK(f, id, ORDERLY_MACHINE_PAYMENT, ORDERLY_PAYMENT_EV_CAPTURE_SUCCEEDED, 0, 0, now);
}

void ship_ful(fx *f, const char *id, uint32_t i, orderly_time_ms now)
{
    APPLY_OK(f, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PICKING, i, 0, now);
    APPLY_OK(f, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PICKED, i, 0, now);
    APPLY_OK(f, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_START_PACKING, i, 0, now);
    APPLY_OK(f, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_PACKED, i, 0, now);
    APPLY_OK(f, id, ORDERLY_MACHINE_FULFILLMENT, ORDERLY_FULFILLMENT_EV_SHIP, i, 0, now);
}

void deliver_ship(fx *f, const char *id, uint32_t i, orderly_time_ms now)
{
    APPLY_OK(f, id, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_PICK_UP, i, 0, now);
    APPLY_OK(f, id, ORDERLY_MACHINE_SHIPMENT, ORDERLY_SHIPMENT_EV_DELIVER, i, 0, now);
}

void to_delivered(fx *f, const char *id, orderly_time_ms now)
{
    create_ok(f, id, ORDERLY_PAY_CARD, now);
    authorize_ok(f, id, now + 1000);
    capture_ok(f, id, now + 2000);
    ship_ful(f, id, 0, now + 3000);
    ship_ful(f, id, 1, now + 4000);
    deliver_ship(f, id, 0, now + 5000);
    deliver_ship(f, id, 1, now + 6000);
    ck_assert_int_eq(view(f, id).order_state, ORDERLY_ORDER_DELIVERED);
}

/* Encodes a CloudEvents envelope; caller frees. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int sbuf_write(const char *data, size_t len, void *ud)
{
    sbuf *b = ud;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return ORDERLY_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = '\0';
    return 0;
}

char *make_env(const char *id, const char *type, const char *subject, const char *data)
{
    orderly_envelope env;
    sbuf b = { NULL, 0, 0 };

    memset(&env, 0, sizeof env);
    env.id = id;
    env.source = "test";
    env.type = type;
    env.subject = subject;
    env.schemaversion = 1;
    if (data != NULL) {
        env.datacontenttype = "application/json";
        env.data = data;
        env.data_len = strlen(data);
    }
    ck_assert_int_eq(orderly_envelope_encode(&env, sbuf_write, &b, NULL), 0);
    ck_assert_ptr_nonnull(b.p);
    return b.p;
}

int handle(fx *f, const char *env, orderly_time_ms now, orderly_result *res)
{
    return orderly_engine_handle_event(f->e, (const uint8_t *)env, strlen(env), now, res);
}

int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int open_return_units(fx *f, uint32_t *idx, const char *order, uint32_t line, uint32_t quantity,
                      int exchange, const char *key, orderly_time_ms now, orderly_result *res)
{
    orderly_return_line rl = { line, quantity };
    orderly_return_spec rs = ORDERLY_RETURN_SPEC_INIT;

    rs.order_id = order;
    rs.lines = &rl;
    rs.n_lines = 1;
    rs.exchange = exchange;
    rs.idem_key = key;
    rs.now = now;
    return orderly_engine_open_return_lines(f->e, idx, &rs, res);
}

orderly_part_view line_view(fx *f, const char *order, uint32_t line)
{
    orderly_part_view v = ORDERLY_PART_VIEW_INIT;

    ck_assert_int_eq(orderly_engine_get_part(f->e, order, ORDERLY_MACHINE_RESERVATION, line, &v), 0);
    return v;
}
