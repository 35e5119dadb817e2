/*
 * `orderly simulate --storage postgresql://... --workers N`: one driver
 * process owns the world (the scripts, the clock, the payment provider and
 * inventory ledgers, the consumer's checks) and sends the commands; N
 * forked worker processes, each with its own connection and engine on the
 * same schema, apply the commands and do the background work: pump the
 * outbox, fire timers, run operations. An order's commands all go to one
 * worker (by its id), and the workers compete for the same queue rows, so
 * every claim, lease and per-order rule of the adapter is exercised across
 * processes. The driver's own engine only reads.
 *
 * The driver hands out work in rounds at its simulated time ("pump", or
 * "tick, run operations, pump") and waits until every worker has finished
 * the round. Meanwhile the workers report back over a pipe each:
 *   - every message their transport accepted, stamped from one counter
 *     shared by the fleet at the moment of the publish, so the driver can
 *     hand them to its consumer in the order they were published across
 *     processes (an order's next event is claimed only after its previous
 *     one was published and acknowledged, so the stamps keep each order's
 *     sequence);
 *   - every operation to carry out, which the driver runs against its
 *     ledgers while the worker waits for the verdict;
 *   - at the end of a round, the timers fired and the alerts raised.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "sim.h"

enum frame_kind {
    F_JOB = 1,      /* driver -> worker: a round (payload: kind, now) */
    F_VERDICT,      /* driver -> worker: an operation's result (payload: rc) */
    F_MESSAGE,      /* worker -> driver: one published message */
    F_OPERATION,    /* worker -> driver: an operation to carry out */
    F_DONE,         /* worker -> driver: the round is over */
    F_CALL,         /* driver -> worker: one engine call that writes (payload: call, args) */
    F_RESULT,       /* worker -> driver: its code, result and return index */
};

enum call_kind { CALL_APPLY = 1, CALL_CREATE, CALL_RETURN, CALL_REPLACEMENT, CALL_WEBHOOK, CALL_EVENT };

enum job_kind { JOB_PUMP = 1, JOB_BACKGROUND = 2 };

struct frame_head {
    uint32_t kind, len;
};

/* A growable byte buffer for one frame's payload. */
struct wbuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
};

struct held_message {
    uint64_t seq;
    char *topic, *key;
    uint8_t *data;
    size_t len;
};

struct sim_workers {
    uint32_t n;
    pid_t *pid;
    int *to, *from;            /* the driver's ends of each worker's pipes */
    atomic_uint_least64_t *stamp;   /* shared by the fleet (MAP_SHARED) */
    struct held_message *held; /* a round's messages, until it ends */
    size_t n_held, cap_held;
    orderly_ctx *ctx;
    int faults_off;            /* the driver's transport only relays */
};

/* ---- framing -------------------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 0 when n bytes were read, 1 at end of file before any, -1 otherwise. */
static int read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 && got == 0)
            return 1;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int send_frame(int fd, uint32_t kind, const void *payload, size_t len)
{
    struct frame_head h;

    if (len > UINT32_MAX)
        return -1;
    h.kind = kind;
    h.len = (uint32_t)len;
    if (write_all(fd, &h, sizeof h) < 0 || (len > 0 && write_all(fd, payload, len) < 0))
        return -1;
    return 0;
}

/* Reads one frame into *payload (malloc'd, the caller frees). 1 at end of
 * file, -1 on a broken pipe or no memory. */
static int recv_frame(int fd, struct frame_head *h, uint8_t **payload)
{
    int rc;

    *payload = NULL;
    if ((rc = read_all(fd, h, sizeof *h)) != 0)
        return rc;
    if ((*payload = malloc(h->len > 0 ? h->len : 1)) == NULL)
        return -1;
    if (h->len > 0 && read_all(fd, *payload, h->len) != 0) {
        free(*payload);
        *payload = NULL;
        return -1;
    }
    return 0;
}

static void put(struct wbuf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        uint8_t *q;
        while (cap < b->n + n)
            cap *= 2;
        if ((q = realloc(b->p, cap)) == NULL) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_u64(struct wbuf *b, uint64_t v)
{
    put(b, &v, sizeof v);
}

static void put_str(struct wbuf *b, const char *s)
{
    uint64_t n = s != NULL ? strlen(s) : 0;

    put_u64(b, n);
    put(b, s != NULL ? s : "", (size_t)n + 1);
}

/* A cursor over a received payload; every get fails once it would read
 * past the end. */
struct rbuf {
    const uint8_t *p;
    size_t n, at;
    int bad;
};

static const void *take(struct rbuf *r, size_t n)
{
    const void *q;

    if (r->bad || n > r->n - r->at) {
        r->bad = 1;
        return NULL;
    }
    q = r->p + r->at;
    r->at += n;
    return q;
}

static uint64_t get_u64(struct rbuf *r)
{
    const void *q = take(r, sizeof(uint64_t));
    uint64_t v = 0;

    if (q != NULL)
        memcpy(&v, q, sizeof v);
    return v;
}

/* The string in place (sent with its NUL). */
static const char *get_str(struct rbuf *r)
{
    uint64_t n = get_u64(r);
    const char *q;

    if (r->bad || n >= r->n)
        return r->bad = 1, "";
    q = take(r, (size_t)n + 1);
    return q != NULL && q[n] == '\0' ? q : (r->bad = 1, "");
}

/* ---- the worker ------------------------------------------------------------------- */

/* A worker is one process with one engine, so its link to the driver is
 * this file's only state there. */
static struct {
    struct sim *s;
    int in, out;
    atomic_uint_least64_t *stamp;
    int (*publish)(orderly_transport *t, orderly_ctx *ctx, const char *topic, const char *key,
                   const uint8_t *data, size_t len, const orderly_header *headers,
                   size_t n_headers);
} me;

/* The worker's transport keeps its injected faults; what it accepts goes
 * to the driver, stamped now, while the row is still leased to this
 * process. */
static int relay_publish(orderly_transport *t, orderly_ctx *ctx, const char *topic,
                         const char *key, const uint8_t *data, size_t len,
                         const orderly_header *headers, size_t n_headers)
{
    struct wbuf b = { NULL, 0, 0, 0 };
    int rc = me.publish(t, ctx, topic, key, data, len, headers, n_headers);

    if (rc < 0)
        return rc;
    put_u64(&b, atomic_fetch_add(me.stamp, 1));
    put_str(&b, topic);
    put_str(&b, key);
    put_u64(&b, len);
    put(&b, data, len);
    rc = b.oom ? ORDERLY_ENOMEM
       : send_frame(me.out, F_MESSAGE, b.p, b.n) < 0 ? ORDERLY_ETRANSPORT : ORDERLY_OK;
    free(b.p);
    return rc;
}

/* The driver carries the operation out against its ledgers; the answer
 * is the executor's. */
static int relay_operation(const orderly_operation_view *op, void *user_data)
{
    struct wbuf b = { NULL, 0, 0, 0 };
    struct frame_head h;
    uint8_t *reply = NULL;
    int32_t verdict = ORDERLY_ETRANSPORT;
    uint32_t i;

    (void)user_data;
    put_u64(&b, op->id);
    put_u64(&b, (uint64_t)(int64_t)op->op);
    put_str(&b, op->order_id);
    put_str(&b, op->key);
    put_u64(&b, op->index);
    put_u64(&b, (uint64_t)op->amount);
    put_u64(&b, op->attempts);
    put_u64(&b, (uint64_t)(int64_t)op->state);
    put_u64(&b, op->max_attempts);
    put_u64(&b, op->n_lines);
    for (i = 0; i < op->n_lines; i++) {
        put_u64(&b, op->sku[i]);
        put_u64(&b, op->warehouse[i]);
        put_u64(&b, op->quantity != NULL ? op->quantity[i] : 0);
    }
    if (b.oom || send_frame(me.out, F_OPERATION, b.p, b.n) < 0) {
        free(b.p);
        return b.oom ? ORDERLY_ENOMEM : ORDERLY_ETRANSPORT;
    }
    free(b.p);
    if (recv_frame(me.in, &h, &reply) == 0 && h.kind == F_VERDICT && h.len == sizeof verdict)
        memcpy(&verdict, reply, sizeof verdict);
    free(reply);
    return verdict;
}

static int is_transient(int rc)
{
    return rc == ORDERLY_ESTORAGE || rc == ORDERLY_ECONFLICT || rc == ORDERLY_EINFLIGHT;
}

/* Repeats one kind of background call, as a host loop does, until it
 * finds nothing or the bound; transient failures are retried next time. */
static int repeat(int (*call)(orderly_engine *, orderly_time_ms, size_t, size_t *),
                  orderly_engine *e, orderly_time_ms now, int bound, uint64_t *total)
{
    size_t n;
    int i, rc;

    for (i = 0; i < bound; i++) {
        rc = call(e, now, 0, &n);
        if (rc < 0 && !is_transient(rc))
            return rc;
        if (rc == 0 && total != NULL)
            *total += n;
        if (rc == 0 && n == 0)
            break;
    }
    return ORDERLY_OK;
}

/* The end of a round: its result, the timers fired, and the alerts the
 * worker's engine raised (counted in its struct sim by sim_on_alert) and
 * the exhausted operations they named, which the driver's checks need. */
static int send_done(int32_t rc, uint64_t ticks)
{
    struct sim *s = me.s;
    struct wbuf b = { NULL, 0, 0, 0 };
    size_t i;
    int out;

    put_u64(&b, (uint64_t)(int64_t)rc);
    put_u64(&b, ticks);
    put_u64(&b, s->c.dead_letter_alerts);
    put_u64(&b, s->c.operations_exhausted_alerts);
    put_u64(&b, s->c.stale_alerts);
    put_str(&b, s->failure);
    put_u64(&b, s->exhausted.n);
    for (i = 0; i < s->exhausted.cap; i++)
        if (s->exhausted.used[i])
            put(&b, s->exhausted.keys[i], 16);
    s->c.dead_letter_alerts = s->c.operations_exhausted_alerts = s->c.stale_alerts = 0;
    s->failure[0] = '\0';
    sim_keyset_free(&s->exhausted);
    out = b.oom ? -1 : send_frame(me.out, F_DONE, b.p, b.n);
    free(b.p);
    return out;
}

/* A string that may be NULL travels with a flag before it. */
static void put_opt(struct wbuf *b, const char *s)
{
    put_u64(b, s != NULL);
    put_str(b, s);
}

static const char *get_opt(struct rbuf *r)
{
    uint64_t some = get_u64(r);
    const char *v = get_str(r);

    return some ? v : NULL;
}

static void put_bytes(struct wbuf *b, const void *p, size_t n)
{
    put_u64(b, n);
    put(b, p, n);
}

static const uint8_t *get_bytes(struct rbuf *r, size_t *n)
{
    uint64_t len = get_u64(r);

    *n = r->bad || len > r->n ? 0 : (size_t)len;
    return r->bad || len > r->n ? NULL : take(r, (size_t)len);
}

/* Runs one engine call the driver sent on this worker's engine: the
 * arguments borrowed from the frame, as the driver had them. */
static int run_call(orderly_engine *e, struct rbuf *r, orderly_result *res, uint32_t *index)
{
    uint64_t kind = get_u64(r), n, i;
    orderly_time_ms now = (orderly_time_ms)get_u64(r);
    const char *order_id = get_str(r);
    int rc = ORDERLY_EINVAL;

    switch (kind) {
    case CALL_APPLY: {
        orderly_command c;
        memset(&c, 0, sizeof c);
        c.order_id = order_id;
        c.now = now;
        c.machine = (int)get_u64(r);
        c.event = (int)get_u64(r);
        c.index = (uint32_t)get_u64(r);
        c.amount = (int64_t)get_u64(r);
        c.idem_key = get_opt(r);
        if (!r->bad)
            rc = orderly_engine_apply(e, &c, res);
        break;
    }
    case CALL_CREATE: {
        orderly_order_spec sp;
        orderly_line *lines;
        memset(&sp, 0, sizeof sp);
        sp.order_id = order_id;
        sp.now = now;
        sp.currency = get_str(r);
        sp.payment_method = (int)get_u64(r);
        sp.has_promotion = (uint32_t)get_u64(r);
        sp.loyalty_points = (int64_t)get_u64(r);
        sp.idem_key = get_opt(r);
        n = get_u64(r);
        if (r->bad || n == 0 || n > ORDERLY_LINES_MAX || (lines = calloc((size_t)n, sizeof *lines)) == NULL)
            break;
        for (i = 0; i < n; i++)
            lines[i] = (orderly_line){ get_u64(r), (uint32_t)get_u64(r), (uint32_t)get_u64(r),
                                       (int64_t)get_u64(r) };
        sp.lines = lines;
        sp.n_lines = (size_t)n;
        if (!r->bad)
            rc = orderly_engine_create_order(e, &sp, res);
        free(lines);
        break;
    }
    case CALL_RETURN: {
        orderly_return_spec rs = ORDERLY_RETURN_SPEC_INIT;
        orderly_return_line *lines;
        rs.order_id = order_id;
        rs.now = now;
        rs.adjustment = (int64_t)get_u64(r);
        rs.exchange = (int)get_u64(r);
        rs.idem_key = get_opt(r);
        n = get_u64(r);
        if (r->bad || n == 0 || n > ORDERLY_LINES_MAX || (lines = calloc((size_t)n, sizeof *lines)) == NULL)
            break;
        for (i = 0; i < n; i++)
            lines[i] = (orderly_return_line){ (uint32_t)get_u64(r), (uint32_t)get_u64(r) };
        rs.lines = lines;
        rs.n_lines = (size_t)n;
        if (!r->bad)
            rc = orderly_engine_open_return_lines(e, index, &rs, res);
        free(lines);
        break;
    }
    case CALL_REPLACEMENT:
        *index = (uint32_t)get_u64(r);
        if (!r->bad)
            rc = orderly_engine_open_replacement(e, order_id, *index, now, res);
        break;
    case CALL_WEBHOOK: {
        size_t secret_len = 0, len = 0;
        const uint8_t *secret = get_bytes(r, &secret_len), *body;
        const char *header = get_str(r);
        int64_t tolerance = (int64_t)get_u64(r);
        body = get_bytes(r, &len);
        if (!r->bad)
            rc = orderly_engine_handle_webhook(e, secret, secret_len, header, body, len, tolerance,
                                               now, res);
        break;
    }
    case CALL_EVENT: {
        size_t len = 0;
        const uint8_t *body = get_bytes(r, &len);
        if (!r->bad)
            rc = orderly_engine_handle_event(e, body, len, now, res);
        break;
    }
    default:
        break;
    }
    return rc;
}

int sim_call_run(orderly_engine *e, const uint8_t *call, size_t len, uint8_t **reply,
                 size_t *reply_len)
{
    struct rbuf r = { call, len, 0, 0 };
    orderly_result res = ORDERLY_RESULT_INIT;
    struct wbuf b = { NULL, 0, 0, 0 };
    uint32_t index = 0;
    int rc = run_call(e, &r, &res, &index);

    put_u64(&b, (uint64_t)(int64_t)rc);
    put_u64(&b, index);
    put_u64(&b, (uint64_t)(int64_t)res.code);
    put_u64(&b, (uint64_t)(int64_t)res.machine);
    put_u64(&b, (uint64_t)(int64_t)res.event);
    put_u64(&b, (uint64_t)(int64_t)res.from);
    put_u64(&b, (uint64_t)(int64_t)res.to);
    put_u64(&b, (uint64_t)(int64_t)res.order_state);
    put_u64(&b, res.late);
    put_u64(&b, res.duplicate);
    put_u64(&b, res.outbox_rows);
    put_u64(&b, res.operations);
    put_u64(&b, res.version);
    if (b.oom) {
        free(b.p);
        return ORDERLY_ENOMEM;
    }
    *reply = b.p;
    *reply_len = b.n;
    return rc;
}

int sim_call_decode(const uint8_t *reply, size_t len, orderly_result *res, uint32_t *index)
{
    struct rbuf r = { reply, len, 0, 0 };
    int rc = (int)(int64_t)get_u64(&r);
    uint32_t at = (uint32_t)get_u64(&r);

    if (index != NULL)
        *index = at;
    res->code = (int)(int64_t)get_u64(&r);
    res->machine = (int)(int64_t)get_u64(&r);
    res->event = (int)(int64_t)get_u64(&r);
    res->from = (int)(int64_t)get_u64(&r);
    res->to = (int)(int64_t)get_u64(&r);
    res->order_state = (int)(int64_t)get_u64(&r);
    res->late = (uint32_t)get_u64(&r);
    res->duplicate = (uint32_t)get_u64(&r);
    res->outbox_rows = (uint32_t)get_u64(&r);
    res->operations = (uint32_t)get_u64(&r);
    res->version = get_u64(&r);
    return r.bad ? ORDERLY_EUSER : rc;
}

static int serve_call(const uint8_t *payload, size_t len)
{
    uint8_t *reply = NULL;
    size_t n = 0;
    int rc;

    if (sim_call_run(me.s->engine, payload, len, &reply, &n) == ORDERLY_ENOMEM && reply == NULL)
        return -1;
    rc = send_frame(me.out, F_RESULT, reply, n) < 0 ? -1 : 0;
    free(reply);
    return rc;
}

static int run_job(uint32_t kind, orderly_time_ms now, uint64_t *ticks)
{
    orderly_engine *e = me.s->engine;
    int rc;

    if (kind == JOB_BACKGROUND &&
        ((rc = repeat(orderly_engine_tick, e, now, 32, ticks)) < 0 ||
         (rc = repeat(orderly_engine_run_operations, e, now, 32, NULL)) < 0))
        return rc;
    return repeat(orderly_engine_pump, e, now, 64, NULL);
}

static void worker_main(struct sim *s, uint32_t self, int (*setup)(struct sim *s))
{
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;
    struct frame_head h;
    uint8_t *job = NULL;
    int op, rc = 0;

    me.s = s;
    s->wk = NULL;   /* this process does the work itself */
    if (setup(s) < 0)
        _exit(CLI_EXIT_FAIL);
    /* each worker draws its own faults */
    plan.probability = s->faults;
    plan.seed = s->seed * 3 + 1 + 7919 * (uint64_t)self;
    if (orderly_fault_storage_set_faults(s->storage, &plan) < 0)
        _exit(CLI_EXIT_FAIL);
    plan.seed++;
    if (orderly_memory_transport_set_faults(s->transport, &plan) < 0)
        _exit(CLI_EXIT_FAIL);
    for (op = ORDERLY_OP_RELEASE_RESERVATIONS; op <= SIM_OP_LAST; op++)
        if (orderly_engine_set_executor(s->engine, op, relay_operation, NULL) < 0)
            _exit(CLI_EXIT_FAIL);
    /* the messages go to the driver; the transport only decides faults */
    orderly_memory_transport_keep(s->transport, 0);
    me.publish = s->transport->publish;
    s->transport->publish = relay_publish;
    while ((rc = recv_frame(me.in, &h, &job)) == 0) {
        struct rbuf r = { job, h.len, 0, 0 };
        uint64_t kind, ticks = 0;
        orderly_time_ms now;
        if (h.kind == F_CALL) {
            rc = serve_call(job, h.len);
            free(job);
            if (rc < 0)
                break;
            continue;
        }
        kind = get_u64(&r);
        now = (orderly_time_ms)get_u64(&r);
        free(job);
        if (h.kind != F_JOB || r.bad) {
            rc = -1;
            break;
        }
        s->now = now;
        rc = run_job((uint32_t)kind, now, &ticks);
        if (send_done(rc, ticks) < 0) {
            rc = -1;
            break;
        }
    }
    /* end of file: the driver is done with this worker */
    orderly_engine_close(s->engine);
    orderly_fault_storage_free(s->storage);
    sim_pg_close(s);
    _exit(rc == 1 ? CLI_EXIT_OK : CLI_EXIT_FAIL);
}

/* ---- the driver -------------------------------------------------------------------- */

int sim_workers_start(struct sim *s, int (*setup)(struct sim *s))
{
    struct sim_workers *w;
    uint32_t k, j;
    int rc, to[2], from[2];
    void *shared;

    if ((rc = sim_pg_prepare(s)) < 0)
        return rc;
    if ((w = calloc(1, sizeof *w)) == NULL)
        return ORDERLY_ENOMEM;
    s->wk = w;
    w->n = (uint32_t)s->workers;
    w->pid = calloc(w->n, sizeof *w->pid);
    w->to = calloc(w->n, sizeof *w->to);
    w->from = calloc(w->n, sizeof *w->from);
    if (w->pid == NULL || w->to == NULL || w->from == NULL || orderly_ctx_new(&w->ctx, NULL) < 0)
        return ORDERLY_ENOMEM;
    shared = mmap(NULL, sizeof *w->stamp, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        return ORDERLY_ENOMEM;
    w->stamp = shared;
    atomic_init(w->stamp, 0);
    /* a worker that died is noticed as a closed pipe, not a signal */
    signal(SIGPIPE, SIG_IGN);
    for (k = 0; k < w->n; k++)
        w->to[k] = w->from[k] = -1;
    for (k = 0; k < w->n; k++) {
        if (pipe(to) < 0)
            return ORDERLY_ENOMEM;
        if (pipe(from) < 0) {
            close(to[0]);
            close(to[1]);
            return ORDERLY_ENOMEM;
        }
        fflush(NULL);
        if ((w->pid[k] = fork()) < 0) {
            close(to[0]), close(to[1]), close(from[0]), close(from[1]);
            fprintf(stderr, "orderly simulate: cannot fork worker %u: %s\n", k + 1, strerror(errno));
            return ORDERLY_ENOMEM;
        }
        if (w->pid[k] == 0) {
            /* the other workers' pipes stay with the driver, so that
             * closing them reaches their workers as end of file */
            for (j = 0; j < k; j++)
                close(w->to[j]), close(w->from[j]);
            close(to[1]);
            close(from[0]);
            me.in = to[0];
            me.out = from[1];
            me.stamp = w->stamp;
            worker_main(s, k + 1, setup);
        }
        close(to[0]);
        close(from[1]);
        w->to[k] = to[1];
        w->from[k] = from[0];
    }
    return ORDERLY_OK;
}

static int hold(struct sim_workers *w, struct rbuf *r)
{
    struct held_message *m;
    uint64_t seq = get_u64(r), len;
    const char *topic = get_str(r), *key = get_str(r);
    const uint8_t *data;

    len = get_u64(r);
    data = take(r, (size_t)len);
    if (r->bad)
        return ORDERLY_EINVAL;
    if (w->n_held == w->cap_held) {
        size_t cap = w->cap_held ? 2 * w->cap_held : 256;
        struct held_message *q = realloc(w->held, cap * sizeof *q);
        if (q == NULL)
            return ORDERLY_ENOMEM;
        w->held = q;
        w->cap_held = cap;
    }
    m = &w->held[w->n_held];
    m->seq = seq;
    m->len = (size_t)len;
    m->topic = strdup(topic);
    m->key = strdup(key);
    m->data = malloc(m->len > 0 ? m->len : 1);
    if (m->topic == NULL || m->key == NULL || m->data == NULL) {
        free(m->topic), free(m->key), free(m->data);
        return ORDERLY_ENOMEM;
    }
    memcpy(m->data, data, m->len);
    w->n_held++;
    return ORDERLY_OK;
}

/* Carries out a worker's operation in this process's world and answers. */
static int execute_for(struct sim *s, int fd, struct rbuf *r)
{
    orderly_operation_view op;
    uint64_t sku[ORDERLY_LINES_MAX];
    uint32_t warehouse[ORDERLY_LINES_MAX], quantity[ORDERLY_LINES_MAX], i;
    int32_t verdict;

    memset(&op, 0, sizeof op);
    op.size = sizeof op;
    op.id = get_u64(r);
    op.op = (int)(int64_t)get_u64(r);
    op.order_id = get_str(r);
    op.key = get_str(r);
    op.index = (uint32_t)get_u64(r);
    op.amount = (int64_t)get_u64(r);
    op.attempts = (uint32_t)get_u64(r);
    op.state = (int)(int64_t)get_u64(r);
    op.max_attempts = (uint32_t)get_u64(r);
    op.n_lines = (uint32_t)get_u64(r);
    if (op.n_lines > ORDERLY_LINES_MAX)
        return ORDERLY_EINVAL;
    for (i = 0; i < op.n_lines; i++) {
        sku[i] = get_u64(r);
        warehouse[i] = (uint32_t)get_u64(r);
        quantity[i] = (uint32_t)get_u64(r);
    }
    if (r->bad)
        return ORDERLY_EINVAL;
    op.sku = sku;
    op.warehouse = warehouse;
    op.quantity = quantity;
    verdict = sim_execute(&op, s);
    return send_frame(fd, F_VERDICT, &verdict, sizeof verdict) < 0 ? ORDERLY_ESTORAGE : ORDERLY_OK;
}

/* A worker's round is over: its figures join the driver's. */
static int finish(struct sim *s, struct rbuf *r, uint64_t *ticks, int *worker_rc)
{
    const char *failure;
    uint64_t n, i;
    const void *key;

    *worker_rc = (int)(int64_t)get_u64(r);
    *ticks += get_u64(r);
    s->c.dead_letter_alerts += get_u64(r);
    s->c.operations_exhausted_alerts += get_u64(r);
    s->c.stale_alerts += get_u64(r);
    failure = get_str(r);
    if (!r->bad && failure[0] != '\0')
        sim_fail(s, "in a worker: %s", failure);
    n = get_u64(r);
    for (i = 0; i < n && !r->bad; i++)
        if ((key = take(r, 16)) != NULL && sim_keyset_add(&s->exhausted, key) < 0)
            return ORDERLY_ENOMEM;
    return r->bad ? ORDERLY_EINVAL : ORDERLY_OK;
}

static int by_stamp(const void *pa, const void *pb)
{
    const struct held_message *a = pa, *b = pb;

    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The round's messages, in the fleet's publish order, to the consumer. */
static int deliver(struct sim *s, struct sim_workers *w)
{
    size_t i;
    int rc = ORDERLY_OK;

    if (w->n_held > 1)
        qsort(w->held, w->n_held, sizeof *w->held, by_stamp);
    for (i = 0; i < w->n_held; i++) {
        struct held_message *m = &w->held[i];
        if (rc == 0)
            rc = s->transport->publish(s->transport, w->ctx, m->topic, m->key, m->data, m->len,
                                       NULL, 0);
        free(m->topic), free(m->key), free(m->data);
    }
    w->n_held = 0;
    return rc < 0 ? rc : sim_consume(s);
}

/* One frame from worker k. */
static int serve(struct sim *s, struct sim_workers *w, uint32_t k, uint64_t *ticks, int *done,
                 int *worker_rc)
{
    struct frame_head h;
    uint8_t *p = NULL;
    struct rbuf r;
    int rc;

    if ((rc = recv_frame(w->from[k], &h, &p)) != 0) {
        sim_fail(s, "worker %u (pid %ld) stopped answering", k + 1, (long)w->pid[k]);
        return ORDERLY_EUSER;
    }
    r.p = p;
    r.n = h.len;
    r.at = 0;
    r.bad = 0;
    switch (h.kind) {
    case F_MESSAGE:
        rc = hold(w, &r);
        break;
    case F_OPERATION:
        rc = execute_for(s, w->to[k], &r);
        break;
    case F_DONE:
        rc = finish(s, &r, ticks, worker_rc);
        *done = 1;
        break;
    default:
        rc = ORDERLY_EINVAL;
        break;
    }
    free(p);
    if (rc < 0)
        sim_fail(s, "worker %u sent a frame the driver cannot use (%s)", k + 1,
                 orderly_error_name(rc));
    return rc;
}

int sim_workers_pump(struct sim *s, int background)
{
    struct sim_workers *w = s->wk;
    struct pollfd fds[64];
    uint8_t done[64];
    uint64_t job[2], ticks = 0;
    uint32_t k, left = w->n;
    int rc = ORDERLY_OK, first_rc = ORDERLY_OK;

    s->work = 0;
    if (!w->faults_off) {
        /* the faults happened in the worker that published */
        (void)orderly_memory_transport_set_faults(s->transport, NULL);
        w->faults_off = 1;
    }
    job[0] = background ? JOB_BACKGROUND : JOB_PUMP;
    job[1] = (uint64_t)s->now;
    memset(done, 0, sizeof done);
    for (k = 0; k < w->n; k++)
        if (send_frame(w->to[k], F_JOB, job, sizeof job) < 0) {
            sim_fail(s, "worker %u (pid %ld) is gone", k + 1, (long)w->pid[k]);
            return ORDERLY_EUSER;
        }
    while (left > 0) {
        uint32_t n = 0;
        for (k = 0; k < w->n; k++)
            if (!done[k]) {
                fds[n].fd = w->from[k];
                fds[n].events = POLLIN;
                fds[n].revents = 0;
                n++;
            }
        if (poll(fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            return ORDERLY_EUSER;
        }
        for (k = 0, n = 0; k < w->n; k++) {
            int finished = 0, worker_rc = 0;
            if (done[k])
                continue;
            if (fds[n++].revents == 0)
                continue;
            if ((rc = serve(s, w, k, &ticks, &finished, &worker_rc)) < 0)
                return rc;
            if (finished) {
                done[k] = 1;
                left--;
                if (worker_rc < 0 && first_rc == 0)
                    first_rc = worker_rc;
            }
        }
    }
    s->c.ticks_fired += ticks;
    rc = deliver(s, w);
    return first_rc < 0 ? first_rc : rc;
}

void sim_workers_stop(struct sim *s)
{
    struct sim_workers *w = s->wk;
    uint32_t k;
    int status = 0;

    if (w == NULL)
        return;
    /* end of file tells each worker to close its engine and exit */
    for (k = 0; k < w->n && w->to != NULL; k++)
        if (w->to[k] >= 0)
            close(w->to[k]);
    for (k = 0; k < w->n && w->pid != NULL; k++) {
        if (w->pid[k] <= 0)
            continue;
        pid_t got;
        while ((got = waitpid(w->pid[k], &status, 0)) < 0 && errno == EINTR)
            ;
        if (got == w->pid[k] && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
            fprintf(stderr, "orderly simulate: worker %u (pid %ld) ended badly (status %d)\n",
                    k + 1, (long)w->pid[k], status);
    }
    for (k = 0; k < w->n && w->from != NULL; k++)
        if (w->from[k] >= 0)
            close(w->from[k]);
    if (w->stamp != NULL)
        munmap(w->stamp, sizeof *w->stamp);
    for (k = 0; k < w->n_held; k++)
        free(w->held[k].topic), free(w->held[k].key), free(w->held[k].data);
    free(w->held);
    orderly_ctx_free(w->ctx);
    free(w->pid);
    free(w->to);
    free(w->from);
    free(w);
    s->wk = NULL;
}

/* ---- the engine calls that write ---------------------------------------------- */

/* The worker an order's commands go to: always the same one. */
static uint32_t worker_of(const struct sim_workers *w, const char *order_id)
{
    uint32_t h = 2166136261u;

    for (; *order_id != '\0'; order_id++)
        h = (h ^ (uint8_t)*order_id) * 16777619u;
    return h % w->n;
}

/* Sends the call in b to the order's worker (or, with --topology services,
 * to the shared log) and waits for its answer. */
static int remote(struct sim *s, const char *order_id, struct wbuf *b, orderly_result *res,
                  uint32_t *index)
{
    struct sim_workers *w = s->wk;
    struct frame_head h = { 0, 0 };
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    uint32_t k = 0;
    int rc;

    if (b->oom) {
        free(b->p);
        return ORDERLY_ENOMEM;
    }
    if (s->sv != NULL) {
        rc = sim_services_call(s, b->p, b->n, &reply, &reply_len);
    } else {
        k = worker_of(w, order_id);
        rc = send_frame(w->to[k], F_CALL, b->p, b->n) < 0 ||
                     recv_frame(w->from[k], &h, &reply) != 0 || h.kind != F_RESULT
                 ? -1 : 0;
        reply_len = h.len;
    }
    free(b->p);
    s->c.remote_calls++;
    if (rc < 0) {
        free(reply);
        if (s->sv == NULL)
            sim_fail(s, "worker %u (pid %ld) did not answer a call", k + 1, (long)w->pid[k]);
        return ORDERLY_EUSER;
    }
    rc = sim_call_decode(reply, reply_len, res, index);
    free(reply);
    /* what the worker's commit appended waits for the next pump round */
    if (rc == 0 && res->outbox_rows > 0)
        s->work = 1;
    return rc;
}

static void put_head(struct wbuf *b, int kind, orderly_time_ms now, const char *order_id)
{
    put_u64(b, (uint64_t)kind);
    put_u64(b, (uint64_t)now);
    put_str(b, order_id);
}

int sim_apply(struct sim *s, const orderly_command *c, orderly_result *res)
{
    struct wbuf b = { NULL, 0, 0, 0 };

    if (s->wk == NULL && s->sv == NULL)
        return orderly_engine_apply(s->engine, c, res);
    put_head(&b, CALL_APPLY, c->now, c->order_id);
    put_u64(&b, (uint64_t)(int64_t)c->machine);
    put_u64(&b, (uint64_t)(int64_t)c->event);
    put_u64(&b, c->index);
    put_u64(&b, (uint64_t)c->amount);
    put_opt(&b, c->idem_key);
    return remote(s, c->order_id, &b, res, NULL);
}

int sim_create_order(struct sim *s, const orderly_order_spec *sp, orderly_result *res)
{
    struct wbuf b = { NULL, 0, 0, 0 };
    size_t i;

    if (s->wk == NULL && s->sv == NULL)
        return orderly_engine_create_order(s->engine, sp, res);
    put_head(&b, CALL_CREATE, sp->now, sp->order_id);
    put_str(&b, sp->currency);
    put_u64(&b, (uint64_t)(int64_t)sp->payment_method);
    put_u64(&b, sp->has_promotion);
    put_u64(&b, (uint64_t)sp->loyalty_points);
    put_opt(&b, sp->idem_key);
    put_u64(&b, sp->n_lines);
    for (i = 0; i < sp->n_lines; i++) {
        put_u64(&b, sp->lines[i].sku);
        put_u64(&b, sp->lines[i].warehouse);
        put_u64(&b, sp->lines[i].quantity);
        put_u64(&b, (uint64_t)sp->lines[i].unit_price);
    }
    return remote(s, sp->order_id, &b, res, NULL);
}

int sim_open_return(struct sim *s, uint32_t *index, const orderly_return_spec *rs,
                    orderly_result *res)
{
    struct wbuf b = { NULL, 0, 0, 0 };
    size_t i;

    if (s->wk == NULL && s->sv == NULL)
        return orderly_engine_open_return_lines(s->engine, index, rs, res);
    put_head(&b, CALL_RETURN, rs->now, rs->order_id);
    put_u64(&b, (uint64_t)rs->adjustment);
    put_u64(&b, (uint64_t)(int64_t)rs->exchange);
    put_opt(&b, rs->idem_key);
    put_u64(&b, rs->n_lines);
    for (i = 0; i < rs->n_lines; i++) {
        put_u64(&b, rs->lines[i].line);
        put_u64(&b, rs->lines[i].quantity);
    }
    return remote(s, rs->order_id, &b, res, index);
}

int sim_open_replacement(struct sim *s, const char *order_id, uint32_t index, orderly_time_ms now,
                         orderly_result *res)
{
    struct wbuf b = { NULL, 0, 0, 0 };

    if (s->wk == NULL && s->sv == NULL)
        return orderly_engine_open_replacement(s->engine, order_id, index, now, res);
    put_head(&b, CALL_REPLACEMENT, now, order_id);
    put_u64(&b, index);
    return remote(s, order_id, &b, res, NULL);
}

int sim_handle_webhook(struct sim *s, const char *order_id, const uint8_t *secret,
                       size_t secret_len, const char *header, const uint8_t *body, size_t len,
                       int64_t tolerance, orderly_time_ms now, orderly_result *res)
{
    struct wbuf b = { NULL, 0, 0, 0 };

    if (s->wk == NULL && s->sv == NULL)
        return orderly_engine_handle_webhook(s->engine, secret, secret_len, header, body, len,
                                             tolerance, now, res);
    put_head(&b, CALL_WEBHOOK, now, order_id);
    put_bytes(&b, secret, secret_len);
    put_str(&b, header);
    put_u64(&b, (uint64_t)tolerance);
    put_bytes(&b, body, len);
    return remote(s, order_id, &b, res, NULL);
}

int sim_handle_event(struct sim *s, const char *order_id, const uint8_t *bytes, size_t len,
                     orderly_time_ms now, orderly_result *res)
{
    struct wbuf b = { NULL, 0, 0, 0 };

    if (s->wk == NULL && s->sv == NULL)
        return orderly_engine_handle_event(s->engine, bytes, len, now, res);
    put_head(&b, CALL_EVENT, now, order_id);
    put_bytes(&b, bytes, len);
    return remote(s, order_id, &b, res, NULL);
}
