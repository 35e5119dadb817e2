/* The engine fixture and invariant checks the engine fuzz targets share. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "orderly/compensation.h"
#include "orderly/order.h"
#include "orderly/payment.h"
#include "orderly/reservation.h"

#define STATES_MAX 32

void fz_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("fuzz invariant broken: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static int run_executor(const orderly_operation_view *op, void *user_data)
{
    const fz_engine *f = user_data;

    (void)op;
    return f->executors_fail ? ORDERLY_ETRANSPORT : ORDERLY_OK;
}

void fz_open(fz_engine *f)
{
    orderly_engine_options o = ORDERLY_ENGINE_OPTIONS_INIT;
    int op, rc;

    memset(f, 0, sizeof *f);
    if (orderly_memory_storage_new(&f->st, NULL) < 0 || orderly_memory_transport_new(&f->tr, NULL) < 0)
        fz_fail("in-memory storage or transport");
    orderly_memory_transport_keep(f->tr, 0);
    o.storage = f->st;
    o.transport = f->tr;
    if ((rc = orderly_engine_open(&f->e, &o, NULL)) < 0)
        fz_fail("engine open: %s", orderly_error_name(rc));
    for (op = ORDERLY_OP_RELEASE_RESERVATIONS; op <= ORDERLY_OP_CANCEL_COD_CLAIM; op++)
        if (orderly_engine_set_executor(f->e, op, run_executor, f) < 0)
            fz_fail("set_executor %d", op);
}

void fz_close(fz_engine *f)
{
    orderly_engine_close(f->e);
    orderly_memory_storage_free(f->st);
    orderly_memory_transport_free(f->tr);
    memset(f, 0, sizeof *f);
}

int fz_create(fz_world *w, size_t slot, const char *id, int method, const orderly_line *lines,
              size_t n_lines, uint32_t promotion, int64_t points, const char *idem_key,
              orderly_time_ms now, orderly_result *res)
{
    orderly_order_spec s;
    fz_order *o = &w->orders[slot];
    size_t i;
    int rc;

    memset(&s, 0, sizeof s);
    s.order_id = id;
    s.currency = "EUR";
    s.payment_method = method;
    s.lines = lines;
    s.n_lines = n_lines;
    s.has_promotion = promotion;
    s.loyalty_points = points;
    s.idem_key = idem_key;
    s.now = now;
    rc = orderly_engine_create_order(w->f.e, &s, res);
    if (rc < 0 || res->duplicate)
        return rc;
    if (o->live)
        fz_fail("order '%s' created a second time (key %s)", id, idem_key ? idem_key : "derived");
    memset(o, 0, sizeof *o);
    snprintf(o->id, sizeof o->id, "%s", id);
    o->live = 1;
    o->method = method;
    o->n_lines = (uint32_t)n_lines;
    for (i = 0; i < n_lines; i++) {
        int64_t amount;
        o->lines[i] = lines[i];
        if (__builtin_mul_overflow((int64_t)lines[i].quantity, lines[i].unit_price, &amount) ||
            __builtin_add_overflow(o->total, amount, &o->total))
            fz_fail("order '%s' was accepted, but its total overflows int64 (line %zu: %u x %lld)",
                    id, i, lines[i].quantity, (long long)lines[i].unit_price);
    }
    if (slot >= w->n_orders)
        w->n_orders = slot + 1;
    return rc;
}

uint64_t fz_version(fz_world *w, size_t slot)
{
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;

    if (slot >= FZ_ORDERS_MAX || !w->orders[slot].live)
        return 0;
    if (orderly_engine_get_order(w->f.e, w->orders[slot].id, &v) < 0)
        fz_fail("get_order '%s': %s", w->orders[slot].id, orderly_engine_errmsg(w->f.e));
    return v.version;
}

/* reach[m][a][b]: state b of machine m follows from a through declared rows. */
static unsigned char reach[ORDERLY_MACHINE_COUNT + 1][STATES_MAX][STATES_MAX];
static int reach_ready;

static void build_reach(void)
{
    int m, i, k, a, b;

    for (m = 1; m <= ORDERLY_MACHINE_COUNT; m++) {
        const orderly_machine *mc;
        int n;
        if (orderly_machine_by_id(&mc, m) < 0 || orderly_machine_state_limit(mc) > STATES_MAX)
            fz_fail("machine %d: no table, or more than %d states", m, STATES_MAX);
        n = orderly_machine_state_limit(mc);
        for (a = 1; a < n; a++)
            reach[m][a][a] = 1;
        for (i = 0; i < orderly_machine_transition_count(mc); i++) {
            orderly_transition t;
            if (orderly_machine_transition_at(&t, mc, i) < 0)
                fz_fail("machine %d: row %d", m, i);
            reach[m][t.from][t.to] = 1;
        }
        for (k = 1; k < n; k++)
            for (a = 1; a < n; a++)
                if (reach[m][a][k])
                    for (b = 1; b < n; b++)
                        if (reach[m][k][b])
                            reach[m][a][b] = 1;
    }
    reach_ready = 1;
}

/* Aborts unless a state change of machine m from `from` (0 = not seen yet:
 * the machine's initial state) to `to` is valid and declared. */
static void check_step(const char *what, const char *order, uint32_t index, int m, int from, int to)
{
    const orderly_machine *mc;

    if (orderly_machine_by_id(&mc, m) < 0)
        fz_fail("machine %d", m);
    if (to <= 0 || to >= orderly_machine_state_limit(mc))
        fz_fail("order '%s': %s #%u is in state %d, not a state of %s", order, what, index, to,
                orderly_machine_name(mc));
    if (from == 0)
        from = orderly_machine_initial(mc);
    if (!reach[m][from][to])
        fz_fail("order '%s': %s #%u went from %s to %s, which no declared path allows", order, what,
                index, orderly_machine_state_name(mc, from), orderly_machine_state_name(mc, to));
}

static void check_order(fz_world *w, fz_order *o)
{
    static const struct {
        int machine;
        const char *name;
    } parts[] = {
        { ORDERLY_MACHINE_RESERVATION, "reservation" },
        { ORDERLY_MACHINE_FULFILLMENT, "fulfillment" },
        { ORDERLY_MACHINE_SHIPMENT, "shipment" },
        { ORDERLY_MACHINE_RETURN, "return" },
    };
    orderly_order_view v = ORDERLY_ORDER_VIEW_INIT;
    size_t k;
    uint32_t i;
    int closed;

    if (orderly_engine_get_order(w->f.e, o->id, &v) < 0)
        fz_fail("get_order '%s': %s", o->id, orderly_engine_errmsg(w->f.e));

    /* money */
    if (v.authorized < 0 || v.captured < 0 || v.refunded < 0)
        fz_fail("order '%s': negative amount (authorized %lld, captured %lld, refunded %lld)", o->id,
                (long long)v.authorized, (long long)v.captured, (long long)v.refunded);
    if (v.captured > v.authorized)
        fz_fail("order '%s': captured %lld exceeds authorized %lld", o->id, (long long)v.captured,
                (long long)v.authorized);
    if (v.refunded > v.captured)
        fz_fail("order '%s': refunded %lld exceeds captured %lld", o->id, (long long)v.refunded,
                (long long)v.captured);
    if (v.payment_state == ORDERLY_PAYMENT_VOIDED && v.captured != 0)
        fz_fail("order '%s': %lld captured on a voided payment", o->id, (long long)v.captured);
    if (v.total != o->total)
        fz_fail("order '%s': total %lld, its lines say %lld", o->id, (long long)v.total,
                (long long)o->total);
    if (v.payment_method != o->method || strcmp(v.currency, "EUR") != 0)
        fz_fail("order '%s': payment method or currency changed", o->id);
    if (v.version < o->version)
        fz_fail("order '%s': version went back from %llu to %llu", o->id,
                (unsigned long long)o->version, (unsigned long long)v.version);
    /* every change to an order is a save, and every save a new version:
     * an unchanged version was checked last time */
    if (v.version == o->version)
        return;
    o->version = v.version;

    /* machines: order and payment */
    check_step("order", o->id, 0, ORDERLY_MACHINE_ORDER, o->order_state, v.order_state);
    check_step("payment", o->id, 0, ORDERLY_MACHINE_PAYMENT, o->payment_state, v.payment_state);
    o->order_state = v.order_state;
    o->payment_state = v.payment_state;

    /* parts, reservations first */
    if (v.n_lines != o->n_lines)
        fz_fail("order '%s' has %u lines, was created with %u", o->id, v.n_lines, o->n_lines);
    closed = v.order_state == ORDERLY_ORDER_CANCELLED || v.order_state == ORDERLY_ORDER_FAILED;
    for (k = 0; k < sizeof parts / sizeof parts[0]; k++) {
        int m = parts[k].machine;
        uint32_t n = m == ORDERLY_MACHINE_RESERVATION ? v.n_lines
                   : m == ORDERLY_MACHINE_FULFILLMENT ? v.n_fulfillments
                   : m == ORDERLY_MACHINE_SHIPMENT    ? v.n_shipments
                                                      : v.n_returns;
        if (n < o->n_parts[m])
            fz_fail("order '%s': %ss went from %u to %u", o->id, parts[k].name, o->n_parts[m], n);
        if (n > (m == ORDERLY_MACHINE_RESERVATION ? ORDERLY_LINES_MAX : ORDERLY_PARTS_MAX))
            fz_fail("order '%s': %u %ss", o->id, n, parts[k].name);
        for (i = 0; i < n; i++) {
            orderly_part_view p = ORDERLY_PART_VIEW_INIT;
            int prev = i < o->n_parts[m] ? o->part_state[m][i] : 0;
            if (orderly_engine_get_part(w->f.e, o->id, m, i, &p) < 0)
                fz_fail("get_part '%s' %s #%u: %s", o->id, parts[k].name, i,
                        orderly_engine_errmsg(w->f.e));
            check_step(parts[k].name, o->id, i, m, prev, p.state);
            o->part_state[m][i] = p.state;
            if (m != ORDERLY_MACHINE_RESERVATION)
                continue;
            /* stock: each reservation holds exactly its line */
            if (p.quantity == 0 || p.quantity != o->lines[i].quantity ||
                p.sku != o->lines[i].sku || p.warehouse != o->lines[i].warehouse)
                fz_fail("order '%s': reservation #%u holds sku %llu x%u in %u, its line says "
                        "sku %llu x%u in %u", o->id, i, (unsigned long long)p.sku, p.quantity,
                        p.warehouse, (unsigned long long)o->lines[i].sku, o->lines[i].quantity,
                        o->lines[i].warehouse);
            if (closed && (p.state == ORDERLY_RESERVATION_ACTIVE ||
                           p.state == ORDERLY_RESERVATION_CONFIRMED))
                fz_fail("order '%s' is %s but reservation #%u still holds stock", o->id,
                        v.order_state == ORDERLY_ORDER_CANCELLED ? "cancelled" : "failed", i);
        }
        o->n_parts[m] = n;
    }
}

void fz_check(fz_world *w)
{
    size_t i;

    if (!reach_ready)
        build_reach();
    for (i = 0; i < w->n_orders; i++)
        if (w->orders[i].live)
            check_order(w, &w->orders[i]);
}
