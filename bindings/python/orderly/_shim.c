/*
 * C side of the Python binding, compiled into orderly._native next to the
 * cffi glue. The shims take scalars and strings straight from Python, so a
 * command crosses into C as one call with no struct built in Python; each
 * wraps exactly one orderly entry point and adds no behaviour.
 */
#include <stdio.h>

#include <orderly.h>
#include <orderly/sys/conformance.h>
#include <orderly/sys/memory.h>
#include <orderly/sys/sqlite.h>

/* The result's fields after code, in declaration order, as Python reads
 * them with one ffi.unpack. */
#define PYORDERLY_RESULT_FIELDS 10

static void unpack(const orderly_result *r, int64_t *out)
{
    out[0] = r->machine;
    out[1] = r->event;
    out[2] = r->from;
    out[3] = r->to;
    out[4] = r->order_state;
    out[5] = r->late;
    out[6] = r->duplicate;
    out[7] = r->outbox_rows;
    out[8] = r->operations;
    out[9] = (int64_t)r->version;
}

int pyorderly_apply(orderly_engine *engine, const char *order_id, int machine, int event,
                    uint32_t index, int64_t amount, const char *idem_key, orderly_time_ms now,
                    int64_t *out)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    orderly_command cmd;
    int rc;

    cmd.order_id = order_id;
    cmd.machine = machine;
    cmd.event = event;
    cmd.index = index;
    cmd.amount = amount;
    cmd.idem_key = idem_key;
    cmd.now = now;
    rc = orderly_engine_apply(engine, &cmd, &res);
    unpack(&res, out);
    return rc;
}

int pyorderly_create_order(orderly_engine *engine, const char *order_id, const char *currency,
                           int payment_method, const orderly_line *lines, size_t n_lines,
                           uint32_t has_promotion, int64_t loyalty_points, const char *idem_key,
                           orderly_time_ms now, int64_t *out)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    orderly_order_spec spec;
    int rc;

    spec.order_id = order_id;
    spec.currency = currency;
    spec.payment_method = payment_method;
    spec.lines = lines;
    spec.n_lines = n_lines;
    spec.has_promotion = has_promotion;
    spec.loyalty_points = loyalty_points;
    spec.idem_key = idem_key;
    spec.now = now;
    rc = orderly_engine_create_order(engine, &spec, &res);
    unpack(&res, out);
    return rc;
}

/* The next state, or the negative code: the transition hot path, with no
 * out parameter for Python to allocate. */
int pyorderly_next(const orderly_machine *m, int state, int event)
{
    int next;
    int rc = orderly_machine_next(&next, m, state, event, NULL, NULL);

    return rc < 0 ? rc : next;
}

/* As pyorderly_next, with the guard inputs as scalars. */
int pyorderly_next_guarded(const orderly_machine *m, int state, int event, orderly_time_ms now,
                           orderly_time_ms deadline, int64_t amount, int64_t authorized,
                           int64_t captured, int64_t refunded, uint32_t parts_total,
                           uint32_t parts_done)
{
    orderly_guard_input in;
    int next, rc;

    in.now = now;
    in.deadline = deadline;
    in.amount = amount;
    in.authorized = authorized;
    in.captured = captured;
    in.refunded = refunded;
    in.parts_total = parts_total;
    in.parts_done = parts_done;
    rc = orderly_machine_next(&next, m, state, event, &in, NULL);
    return rc < 0 ? rc : next;
}
