/*
 * Random commands: the input is a program of engine calls on the in-memory
 * store (create, apply with machine/event/index/amount from the input,
 * cancel, capture, open_return, pump, tick, run_operations, purge, time
 * advances, redeliveries, one-shot storage and publish faults, failing
 * executors). After every step the money and stock invariants are checked
 * through the public API (harness.c) and the step's own promises too:
 * a refused command writes nothing, and a command repeated with its key
 * within the idempotency TTL is answered as a duplicate.
 *
 * Input layout: one opcode byte per step, followed by the operands that
 * opcode reads; a short input reads zeroes.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "orderly/compensation.h"

#define STEPS_MAX 256
#define SLOTS 4

typedef struct reader {
    const uint8_t *p;
    size_t n, pos;
} reader;

static uint8_t u8(reader *r)
{
    return r->pos < r->n ? r->p[r->pos++] : 0;
}

static uint16_t u16(reader *r)
{
    uint16_t hi = u8(r);
    return (uint16_t)(hi << 8 | u8(r));
}

/* The last command that was applied (not refused, late or a duplicate),
 * with its key ("" when the engine derived it). */
typedef struct last_cmd {
    int valid;
    char order[16];
    char key[16];
    orderly_command cmd;
    orderly_time_ms at;        /* when it was applied */
    orderly_result res;        /* copied whole from an initialised result */
} last_cmd;

typedef struct state {
    fz_world w;
    orderly_time_ms now;
    int pending;               /* a fault plan waits for the next engine call: 1 storage, 2 publish */
    orderly_fault_plan plan;
    int faulted;               /* the current step's engine call ran under that plan */
    last_cmd last;
    unsigned keys;
} state;

static const char *slot_id(size_t slot)
{
    static const char *ids[SLOTS] = { "fz-0", "fz-1", "fz-2", "fz-3" };
    return ids[slot % SLOTS];
}

/* An idempotency key: derived (NULL), one of a few shared ones (so keys get
 * reused for other commands), or a fresh one. */
static const char *pick_key(state *s, uint8_t b, char *buf, size_t cap)
{
    switch (b % 4) {
    case 0:
    case 1:
        return NULL;
    case 2:
        snprintf(buf, cap, "k%u", (unsigned)(b >> 2) % 4);
        return buf;
    default:
        snprintf(buf, cap, "u%u", ++s->keys);
        return buf;
    }
}

/* Amounts around the interesting edges of the order's total. */
static int64_t pick_amount(reader *r, int64_t total)
{
    uint8_t b = u8(r);

    switch (b % 8) {
    case 0: return 0;
    case 1: return total;
    case 2: return total / 2;
    case 3: return total < INT64_MAX ? total + 1 : total;
    case 4: return total - 1;
    case 5: return 1;
    case 6: return -(int64_t)u16(r);
    default: return (int64_t)u16(r);
    }
}

static int64_t total_of(state *s, size_t slot)
{
    return s->w.orders[slot].live ? s->w.orders[slot].total : 1000;
}

/* Installs the pending fault plan for the engine call that follows; the
 * harness's own reads run without it. */
static void arm(state *s)
{
    int rc = 0;

    if (s->pending == 1)
        rc = orderly_memory_storage_set_faults(s->w.f.st, &s->plan);
    else if (s->pending == 2)
        rc = orderly_memory_transport_set_faults(s->w.f.tr, &s->plan);
    if (rc < 0)
        fz_fail("set_faults: %s", orderly_error_name(rc));
    s->faulted = s->pending != 0;
    s->pending = 0;
}

static void disarm(state *s)
{
    if (!s->faulted)
        return;
    (void)orderly_memory_storage_set_faults(s->w.f.st, NULL);
    (void)orderly_memory_transport_set_faults(s->w.f.tr, NULL);
}

/* Background steps fail only when a fault was injected. */
static void background_rc(state *s, const char *what, int rc)
{
    if (rc < 0 && !s->faulted)
        fz_fail("%s failed with no fault injected: %s %s", what, orderly_error_name(rc),
                orderly_engine_errmsg(s->w.f.e));
}

/* ORDERLY_FUZZ_TRACE=1 prints every step (to replay one input by hand). */
static int tracing = -1;

static void trace(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void trace(const char *fmt, ...)
{
    va_list ap;

    if (tracing < 0)
        tracing = getenv("ORDERLY_FUZZ_TRACE") != NULL;
    if (!tracing)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* After a command on slot: refused, late and duplicate answers write nothing. */
static void check_answer(state *s, size_t slot, uint64_t before, int rc, const orderly_result *res,
                         const char *what)
{
    uint64_t after;

    if (rc < 0)
        trace("t+%llds %s %s%s: %s (%s)\n", (long long)((s->now - FZ_T0) / FZ_SECOND), what,
              slot_id(slot), s->faulted ? " faulted" : "", orderly_error_name(rc),
              orderly_engine_errmsg(s->w.f.e));
    else
        trace("t+%llds %s %s%s: ok%s%s, %d -> %d, order state %d, version %llu\n",
              (long long)((s->now - FZ_T0) / FZ_SECOND), what, slot_id(slot),
              s->faulted ? " faulted" : "", res->late ? " late" : "",
              res->duplicate ? " duplicate" : "", res->from, res->to, res->order_state,
              (unsigned long long)res->version);
    after = fz_version(&s->w, slot);
    if ((rc < 0 || res->late || res->duplicate) && after != before)
        fz_fail("%s on '%s' answered %s%s%s but the order moved from version %llu to %llu", what,
                slot_id(slot), rc < 0 ? orderly_error_name(rc) : "ok",
                rc == 0 && res->late ? " (late)" : "", rc == 0 && res->duplicate ? " (duplicate)" : "",
                (unsigned long long)before, (unsigned long long)after);
    if (rc == 0 && !res->late && !res->duplicate && s->w.orders[slot].live && after != res->version)
        fz_fail("%s on '%s': result says version %llu, the store %llu", what, slot_id(slot),
                (unsigned long long)res->version, (unsigned long long)after);
}

static void op_create(state *s, reader *r)
{
    uint8_t b = u8(r);
    size_t slot = b % SLOTS, n = 1 + (size_t)(u8(r) % 4), i;
    orderly_line lines[4];
    orderly_result res = ORDERLY_RESULT_INIT;
    char kb[16];
    const char *key = pick_key(s, u8(r), kb, sizeof kb);
    uint64_t before = fz_version(&s->w, slot);
    int rc;

    for (i = 0; i < n; i++) {
        uint8_t q = u8(r);
        lines[i].sku = 100 + u8(r) % 8;
        lines[i].warehouse = 1 + u8(r) % 3;
        if (q < 0xf0) {
            lines[i].quantity = 1 + q % 5;
            lines[i].unit_price = u16(r) % 2000;
        } else {
            /* the edges of what the API takes: any quantity (over
             * ORDERLY_QUANTITY_MAX is refused), the largest unit price,
             * below 0 */
            lines[i].quantity = (uint32_t)u16(r) << 16 | u16(r);
            lines[i].unit_price = q & 1 ? ORDERLY_UNIT_PRICE_MAX - u8(r) : -(int64_t)u8(r);
        }
    }
    memset(&res, 0, sizeof res);
    arm(s);
    rc = fz_create(&s->w, slot, slot_id(slot), (b & 4) ? ORDERLY_PAY_COD : ORDERLY_PAY_CARD, lines,
                   n, (b >> 3) & 1, (b & 16) ? u8(r) : 0, key, s->now, &res);
    disarm(s);
    check_answer(s, slot, before, rc, &res, "create");
}

/* Applies cmd and checks its answer; remembers an applied command. */
static void apply(state *s, size_t slot, orderly_command *c, const char *what)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    uint64_t before = fz_version(&s->w, slot);
    int rc;

    memset(&res, 0, sizeof res);
    arm(s);
    rc = orderly_engine_apply(s->w.f.e, c, &res);
    disarm(s);
    check_answer(s, slot, before, rc, &res, what);
    if (rc == 0 && !res.late && !res.duplicate) {
        last_cmd *l = &s->last;
        l->valid = 1;
        snprintf(l->order, sizeof l->order, "%s", c->order_id);
        snprintf(l->key, sizeof l->key, "%s", c->idem_key != NULL ? c->idem_key : "");
        l->cmd = *c;
        l->cmd.order_id = l->order;
        l->cmd.idem_key = c->idem_key != NULL ? l->key : NULL;   /* NULL: derived again */
        l->at = c->now;
        l->res = res;
    }
}

static void op_apply(state *s, reader *r)
{
    size_t slot = u8(r) % SLOTS;
    orderly_command c;
    const orderly_machine *m;
    char kb[16];

    memset(&c, 0, sizeof c);
    c.order_id = slot_id(slot);
    c.machine = 1 + u8(r) % ORDERLY_MACHINE_COUNT;
    if (orderly_machine_by_id(&m, c.machine) < 0)
        fz_fail("machine %d", c.machine);
    /* events 0..limit-1: the reserved and invalid ones included */
    c.event = u8(r) % orderly_machine_event_limit(m);
    c.index = u8(r) % 10;
    c.amount = pick_amount(r, total_of(s, slot));
    c.idem_key = pick_key(s, u8(r), kb, sizeof kb);
    c.now = s->now;
    {
        const char *ev = orderly_machine_event_name(m, c.event);
        char what[64];
        snprintf(what, sizeof what, "%s.%s#%u %lld", orderly_machine_name(m), ev ? ev : "?",
                 c.index, (long long)c.amount);
        apply(s, slot, &c, what);
    }
}

/* The shorthands go through apply underneath; call them as a host does. */
static void op_host(state *s, reader *r)
{
    uint8_t b = u8(r);
    size_t slot = (b >> 2) % SLOTS;
    orderly_result res = ORDERLY_RESULT_INIT;
    char kb[16];
    const char *key = pick_key(s, u8(r), kb, sizeof kb);
    uint64_t before = fz_version(&s->w, slot);
    uint32_t index = 0;
    int rc;

    memset(&res, 0, sizeof res);
    switch (b % 3) {
    case 0:
        arm(s);
        rc = orderly_engine_cancel_order(s->w.f.e, slot_id(slot), key, s->now, &res);
        disarm(s);
        check_answer(s, slot, before, rc, &res, "cancel_order");
        break;
    case 1:
        arm(s);
        rc = orderly_engine_request_capture(s->w.f.e, slot_id(slot), key, s->now, &res);
        disarm(s);
        check_answer(s, slot, before, rc, &res, "request_capture");
        break;
    default: {
        int64_t amount = pick_amount(r, total_of(s, slot));
        arm(s);
        rc = orderly_engine_open_return(s->w.f.e, &index, slot_id(slot), amount, (b >> 4) & 1,
                                        key, s->now, &res);
        disarm(s);
        check_answer(s, slot, before, rc, &res, "open_return");
        if (rc == 0 && index >= ORDERLY_PARTS_MAX)
            fz_fail("open_return on '%s' gave return index %u", slot_id(slot), index);
        break;
    }
    }
}

static void op_background(state *s, reader *r)
{
    uint8_t b = u8(r);
    size_t max = (size_t)(b >> 2) % 8, n = 0;
    const char *what;
    orderly_health h = ORDERLY_HEALTH_INIT;
    int rc;

    arm(s);
    switch (b % 4) {
    case 0:
        what = "pump";
        rc = orderly_engine_pump(s->w.f.e, s->now, max, &n);
        break;
    case 1:
        what = "tick";
        rc = orderly_engine_tick(s->w.f.e, s->now, max, &n);
        break;
    case 2:
        what = "run_operations";
        rc = orderly_engine_run_operations(s->w.f.e, s->now, max, &n);
        break;
    default:
        what = "purge";
        rc = orderly_engine_purge(s->w.f.e, s->now, max, &n);
        break;
    }
    disarm(s);
    trace("t+%llds %s%s max %zu: %s, %zu done\n", (long long)((s->now - FZ_T0) / FZ_SECOND), what,
          s->faulted ? " faulted" : "", max, orderly_error_name(rc), n);
    background_rc(s, what, rc);
    background_rc(s, "health", orderly_engine_health(s->w.f.e, s->now, 0, 0, &h));
}

static void op_time(state *s, reader *r)
{
    static const int64_t steps[] = {
        FZ_SECOND, 30 * FZ_SECOND, FZ_MINUTE, 15 * FZ_MINUTE + 1, FZ_HOUR,
        2 * FZ_HOUR + 1, FZ_DAY + 1, 5 * FZ_DAY, 7 * FZ_DAY + 1, 30 * FZ_DAY + 1,
    };
    uint8_t b = u8(r);

    if (b < 200)
        s->now += steps[b % (sizeof steps / sizeof steps[0])];
    else
        s->now += (int64_t)u16(r) * FZ_SECOND;
}

/* The last applied command again, with its key: a duplicate while the
 * idempotency mark lives (policy default: 7 days). */
static void op_redeliver(state *s)
{
    orderly_result res = ORDERLY_RESULT_INIT;
    size_t slot;
    int rc;

    if (!s->last.valid)
        return;
    for (slot = 0; slot < SLOTS; slot++)
        if (strcmp(slot_id(slot), s->last.order) == 0)
            break;
    memset(&res, 0, sizeof res);
    s->last.cmd.now = s->now;
    {
        uint64_t before = fz_version(&s->w, slot);
        arm(s);
        rc = orderly_engine_apply(s->w.f.e, &s->last.cmd, &res);
        disarm(s);
        check_answer(s, slot, before, rc, &res, "redelivery");
    }
    if (s->faulted || s->now >= s->last.at + 7 * FZ_DAY - FZ_SECOND)
        return;
    if (rc < 0 || !res.duplicate)
        fz_fail("redelivery of key '%s' on '%s' %llds later: %s, not a duplicate", s->last.key,
                s->last.order, (long long)((s->now - s->last.at) / FZ_SECOND),
                rc < 0 ? orderly_error_name(rc) : res.late ? "late" : "applied");
    if (res.from != s->last.res.from || res.to != s->last.res.to ||
        res.version != s->last.res.version || res.order_state != s->last.res.order_state)
        fz_fail("redelivery of key '%s' on '%s' answered another result than the first",
                s->last.key, s->last.order);
}

/* A one-shot fault for the next step's engine call: the Nth call of a
 * storage method fails, or the Nth publish. */
static void op_fault(state *s, reader *r)
{
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    uint8_t b = u8(r);

    plan.fail_at = 1 + (uint64_t)(u8(r) % 12);
    if (b & 1) {
        plan.method = (b >> 1) % ORDERLY_METHOD_COUNT;
        plan.code = (b & 0x40) ? ORDERLY_ECONFLICT : 0;
        s->pending = 1;
    } else {
        plan.code = (b & 2) ? ORDERLY_EINVAL : 0;   /* a refusal, or the broker away */
        s->pending = 2;
    }
    s->plan = plan;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static state s;
    reader r = { data, size, 0 };
    int steps;

    memset(&s, 0, sizeof s);
    fz_open(&s.w.f);
    s.now = FZ_T0;
    for (steps = 0; steps < STEPS_MAX && r.pos < r.n; steps++) {
        uint8_t op = u8(&r);
        s.faulted = 0;
        switch (op % 10) {
        case 0: case 1: op_create(&s, &r); break;
        case 2: case 3: op_apply(&s, &r); break;
        case 4: op_host(&s, &r); break;
        case 5: op_background(&s, &r); break;
        case 6: op_time(&s, &r); break;
        case 7: op_redeliver(&s); break;
        case 8: op_fault(&s, &r); break;
        default: s.w.f.executors_fail = !s.w.f.executors_fail; break;
        }
        fz_check(&s.w);
    }
    fz_close(&s.w.f);
    return 0;
}
