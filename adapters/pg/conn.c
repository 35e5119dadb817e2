/*
 * The session: binary parameters and results, the mapping of server
 * errors to orderly codes, and what a (re)connected session needs before
 * its first transaction (settings, prepared statements, LISTEN).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"

/* Zero-length binary values still need a non-NULL pointer: NULL is SQL NULL. */
static const char empty[1];

void orderly__pg_int(struct orderly__pg_params *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    int i;

    for (i = 7; i >= 0; i--) {
        p->ints[p->n][i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
    p->value[p->n] = (const char *)p->ints[p->n];
    p->length[p->n] = 8;
    p->format[p->n] = 1;
    p->n++;
}

void orderly__pg_text(struct orderly__pg_params *p, const char *s)
{
    p->value[p->n] = s != NULL ? s : empty;
    p->length[p->n] = s != NULL ? (int)strlen(s) : 0;
    p->format[p->n] = 1;
    p->n++;
}

void orderly__pg_blob(struct orderly__pg_params *p, const uint8_t *data, size_t len)
{
    p->value[p->n] = len > 0 ? (const char *)data : empty;
    p->length[p->n] = (int)len;
    p->format[p->n] = 1;
    p->n++;
}

int64_t orderly__pg_get_int(const PGresult *res, int r, int c)
{
    const unsigned char *v = (const unsigned char *)PQgetvalue(res, r, c);
    int len = PQgetlength(res, r, c), i;
    uint64_t u;

    if (PQgetisnull(res, r, c) || len <= 0)
        return 0;
    /* sign-extend from the first byte: int2, int4 and int8 alike */
    u = (v[0] & 0x80) ? UINT64_MAX : 0;
    for (i = 0; i < len; i++)
        u = (u << 8) | v[i];
    return (int64_t)u;
}

int orderly__pg_fail(orderly_ctx *ctx, int code, const char *fmt, ...)
{
    char msg[ORDERLY_ERRMSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return orderly_ctx_set_error(ctx, code, 0, msg);
}

/* A libpq message on one line: its lines joined by "; ", runs of blanks
 * folded (a lost connection can carry the server's last FATAL ahead of
 * libpq's own words). */
static void one_line(char *out, size_t cap, const char *msg)
{
    size_t n = 0;
    int gap = 0;

    for (; msg != NULL && *msg != '\0' && n + 3 < cap; msg++) {
        if (*msg == '\n' || *msg == ' ' || *msg == '\t') {
            gap = gap || *msg == '\n' ? 2 : 1;
            continue;
        }
        if (gap && n > 0) {
            if (gap == 2)
                out[n++] = ';';
            out[n++] = ' ';
        }
        gap = 0;
        out[n++] = *msg;
    }
    out[n] = '\0';
}

static int code_of(const char *state)
{
    if (state == NULL)
        return ORDERLY_ESTORAGE;
    if (strcmp(state, "57014") == 0) /* query_canceled: statement_timeout */
        return ORDERLY_ETIMEOUT;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0) /* serialization, deadlock, lock timeout */
        return ORDERLY_ECONFLICT;
    if (strcmp(state, "53200") == 0) /* out_of_memory */
        return ORDERLY_ENOMEM;
    return ORDERLY_ESTORAGE;
}

int orderly__pg_result_fail(struct orderly__pg *q, PGresult *res, orderly_ctx *ctx,
                            const char *what)
{
    char msg[ORDERLY_ERRMSG_MAX], state[8] = "";
    const char *field = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int code = code_of(field);

    /* the field lives in res, which is cleared below */
    if (field != NULL)
        snprintf(state, sizeof state, "%s", field);

    one_line(msg, sizeof msg,
               res != NULL && PQresultErrorMessage(res)[0] != '\0' ? PQresultErrorMessage(res)
                                                                  : PQerrorMessage(q->conn));
    if (res != NULL)
        PQclear(res);
    if (PQstatus(q->conn) == CONNECTION_BAD) {
        /* the transaction died with the session: begin() reconnects */
        q->prepared = 0;
        return orderly__pg_fail(ctx, ORDERLY_ESTORAGE, "%s: connection lost: %s", what, msg);
    }
    return orderly__pg_fail(ctx, code, "%s: %s%s%s", what, msg, state[0] != '\0' ? " SQLSTATE " : "",
                            state);
}

/* Prefixed: a host's own prepared statements on a wrapped connection
 * never collide with these. */
static const char *name_of(enum orderly__pg_stmt which, char buf[24])
{
    snprintf(buf, 24, "orderly__pg_%d", (int)which);
    return buf;
}

/* Sends what one round trip carries: BEGIN when due, the statements, a
 * sync. Reads every result back whatever happens, so the connection leaves
 * pipeline mode idle; the first failure is the answer. */
/* The held push h as the parameters of PG_PUSH, pointing into the buffer. */
static void held_params(const struct orderly__pg *q, const struct orderly__pg_held *h,
                        struct orderly__pg_params *p)
{
    p->n = 0;
    orderly__pg_int(p, h->queue);
    p->value[p->n] = (const char *)q->held_buf + h->group_at;
    p->length[p->n] = (int)h->group_len;
    p->format[p->n] = 1;
    p->n++;
    orderly__pg_int(p, h->kind);
    orderly__pg_int(p, h->created);
    orderly__pg_int(p, h->due);
    p->value[p->n] = (const char *)q->held_buf + h->payload_at;
    p->length[p->n] = (int)h->payload_len;
    p->format[p->n] = 1;
    p->n++;
}

static int pipeline(struct orderly__pg *q, int n, const enum orderly__pg_stmt *which,
                    const struct orderly__pg_params *const *p, orderly_ctx *ctx,
                    const char *what, PGresult **out)
{
    struct orderly__pg_params hp;
    int begin = q->begin_due, held = q->n_held, sent, i, rc = ORDERLY_OK;
    PGresult *res;
    char name[24];

    for (i = 0; i < n; i++)
        out[i] = NULL;
    if (!PQenterPipelineMode(q->conn))
        return orderly__pg_result_fail(q, NULL, ctx, what);
    sent = !begin || PQsendQueryParams(q->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
    for (i = 0; sent && i < held; i++) {
        held_params(q, &q->held[i], &hp);
        sent = PQsendQueryPrepared(q->conn, name_of(PG_PUSH, name), hp.n, hp.value, hp.length,
                                   hp.format, 1);
    }
    for (i = 0; sent && i < n; i++)
        sent = PQsendQueryPrepared(q->conn, name_of(which[i], name), p[i]->n, p[i]->value,
                                   p[i]->length, p[i]->format, 1);
    if (!sent || !PQpipelineSync(q->conn)) {
        rc = orderly__pg_result_fail(q, NULL, ctx, what);
        (void)PQexitPipelineMode(q->conn);
        return rc;
    }
    /* answers in order: BEGIN (-1 - held), the held pushes (-held..-1),
     * then the statements (0..n-1) */
    for (i = -held - (begin ? 1 : 0); i < n; i++) {
        ExecStatusType st;
        if ((res = PQgetResult(q->conn)) == NULL) {
            /* the connection went while the answers were on their way */
            if (rc == ORDERLY_OK)
                rc = orderly__pg_result_fail(q, NULL, ctx, what);
            break;
        }
        st = PQresultStatus(res);
        if (rc == ORDERLY_OK && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
            rc = orderly__pg_result_fail(q, res, ctx, i < 0 && i >= -held ? "queue push" : what);
        else if (rc == ORDERLY_OK && i >= 0)
            out[i] = res;
        else
            PQclear(res);
        /* each statement's results end with a NULL */
        while ((res = PQgetResult(q->conn)) != NULL)
            PQclear(res);
    }
    if (PQstatus(q->conn) == CONNECTION_OK) {
        /* the sync's own result, then idle */
        while ((res = PQgetResult(q->conn)) != NULL) {
            ExecStatusType st = PQresultStatus(res);
            PQclear(res);
            if (st == PGRES_PIPELINE_SYNC)
                break;
        }
    }
    (void)PQexitPipelineMode(q->conn);
    if (rc == ORDERLY_OK && PQstatus(q->conn) == CONNECTION_BAD)
        rc = orderly__pg_result_fail(q, NULL, ctx, what);
    if (rc < 0) {
        for (i = 0; i < n; i++) {
            PQclear(out[i]);
            out[i] = NULL;
        }
        return rc;
    }
    q->begin_due = 0;
    orderly__pg_drop_held(q);
    return ORDERLY_OK;
}

int orderly__pg_exec_n(struct orderly__pg *q, int n, const enum orderly__pg_stmt *which,
                       const struct orderly__pg_params *const *p, orderly_ctx *ctx,
                       const char *what, PGresult **out)
{
    int rc;

    if (!q->prepared)
        return orderly__pg_fail(ctx, ORDERLY_ESTORAGE, "%s: the connection was lost", what);
    if (n < 0 || n > ORDERLY__PG_PIPELINE_MAX)
        return orderly__pg_fail(ctx, ORDERLY_EINVAL, "%s: %d statements in one round trip", what,
                                n);
    rc = pipeline(q, n, which, p, ctx, what, out);
    /* A session lost while idle shows up at the transaction's first round
     * trip, which carries its BEGIN: nothing of the transaction ran, so it
     * is replaced and the round trip made again, and the host sees
     * nothing. */
    if (rc < 0 && q->begin_due && PQstatus(q->conn) == CONNECTION_BAD &&
        (rc = orderly__pg_reconnect(q, ctx)) == 0)
        rc = pipeline(q, n, which, p, ctx, what, out);
    return rc;
}

int orderly__pg_flush(struct orderly__pg *q, orderly_ctx *ctx)
{
    if (q->n_held == 0)
        return ORDERLY_OK;
    return orderly__pg_exec_n(q, 0, NULL, NULL, ctx, "queue push", NULL);
}

void orderly__pg_drop_held(struct orderly__pg *q)
{
    q->n_held = 0;
    q->held_len = 0;
}

/* Copies len bytes into the held buffer; their offset in *at. */
static int keep_bytes(struct orderly__pg *q, const void *data, size_t len, size_t *at)
{
    if (q->held_len + len + 1 > q->held_cap) {
        size_t cap = q->held_cap ? q->held_cap : 4096;
        uint8_t *b;
        while (cap < q->held_len + len + 1)
            cap *= 2;
        if ((b = realloc(q->held_buf, cap)) == NULL)
            return ORDERLY_ENOMEM;
        q->held_buf = b;
        q->held_cap = cap;
    }
    *at = q->held_len;
    if (len > 0)
        memcpy(q->held_buf + q->held_len, data, len);
    q->held_len += len;
    q->held_buf[q->held_len++] = 0;
    return ORDERLY_OK;
}

int orderly__pg_hold_push(struct orderly__pg *q, int queue, const orderly_queue_item *item,
                          orderly_ctx *ctx)
{
    struct orderly__pg_held *h;
    const char *group = item->group != NULL ? item->group : "";
    int rc;

    if (q->n_held == ORDERLY__PG_HELD_MAX && (rc = orderly__pg_flush(q, ctx)) < 0)
        return rc;
    h = &q->held[q->n_held];
    h->queue = queue;
    h->kind = item->kind;
    h->created = item->created;
    h->due = item->due;
    h->group_len = strlen(group);
    h->payload_len = item->payload_len;
    if (keep_bytes(q, group, h->group_len, &h->group_at) < 0 ||
        keep_bytes(q, item->payload, item->payload_len, &h->payload_at) < 0)
        return orderly__pg_fail(ctx, ORDERLY_ENOMEM, "queue push: out of memory");
    q->n_held++;
    return ORDERLY_OK;
}

int orderly__pg_exec(struct orderly__pg *q, enum orderly__pg_stmt which,
                     const struct orderly__pg_params *p, orderly_ctx *ctx, const char *what,
                     PGresult **out)
{
    PGresult *res;
    ExecStatusType st;
    char name[24];

    if (q->begin_due || q->n_held > 0)
        return orderly__pg_exec_n(q, 1, &which, &p, ctx, what, out);
    if (!q->prepared)
        return orderly__pg_fail(ctx, ORDERLY_ESTORAGE, "%s: the connection was lost", what);
    res = PQexecPrepared(q->conn, name_of(which, name), p->n, p->value, p->length, p->format, 1);
    st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        return orderly__pg_result_fail(q, res, ctx, what);
    *out = res;
    return ORDERLY_OK;
}

int orderly__pg_change(struct orderly__pg *q, enum orderly__pg_stmt which,
                       const struct orderly__pg_params *p, orderly_ctx *ctx, const char *what)
{
    PGresult *res;
    int rc;

    if ((rc = orderly__pg_exec(q, which, p, ctx, what, &res)) < 0)
        return rc;
    rc = atoi(PQcmdTuples(res));
    PQclear(res);
    return rc;
}

int orderly__pg_simple(struct orderly__pg *q, const char *sql, orderly_ctx *ctx, const char *what)
{
    PGresult *res;
    int rc = ORDERLY_OK;

    if (!PQsendQuery(q->conn, sql))
        return orderly__pg_result_fail(q, NULL, ctx, what);
    while ((res = PQgetResult(q->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (rc == ORDERLY_OK && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            rc = orderly__pg_result_fail(q, res, ctx, what);
            continue;
        }
        PQclear(res);
    }
    if (rc == ORDERLY_OK && PQstatus(q->conn) == CONNECTION_BAD)
        rc = orderly__pg_result_fail(q, NULL, ctx, what);
    return rc;
}

int orderly__pg_expand(const struct orderly__pg *q, const char *tmpl, char *out, size_t cap)
{
    size_t slen = strlen(q->schema), n = 0;

    for (; *tmpl != '\0'; tmpl++) {
        if (*tmpl == '@') {
            if (n + slen >= cap)
                return ORDERLY_EINVAL;
            memcpy(out + n, q->schema, slen);
            n += slen;
        } else {
            if (n + 1 >= cap)
                return ORDERLY_EINVAL;
            out[n++] = *tmpl;
        }
    }
    out[n] = '\0';
    return ORDERLY_OK;
}

/* Appends text to out (cap bytes, used *n); EINVAL when it does not fit. */
static int append(char *out, size_t cap, size_t *n, const char *text)
{
    size_t len = strlen(text);

    if (*n + len + 1 > cap)
        return ORDERLY_EINVAL;
    memcpy(out + *n, text, len + 1);
    *n += len;
    return ORDERLY_OK;
}

/* Builds the whole session setup as one multi-statement string, so a
 * (re)connect costs one round trip: the settings, one PREPARE per
 * statement (the statements outlive no session) and the LISTEN. */
static int session_sql(struct orderly__pg *q, char *out, size_t cap)
{
    static const char *const type_of[] = { ['i'] = "bigint", ['t'] = "text", ['b'] = "bytea" };
    char head[160], body[4096];
    size_t n = 0;
    int i, j, rc = ORDERLY_OK;

    out[0] = '\0';
    if (q->statement_timeout_ms > 0) {
        snprintf(head, sizeof head, "SET statement_timeout = %d;", q->statement_timeout_ms);
        rc = append(out, cap, &n, head);
    }
    for (i = 0; i < PG_COUNT && rc == ORDERLY_OK; i++) {
        const struct orderly__pg_sql *s = &orderly__pg_sql[i];
        snprintf(head, sizeof head, "PREPARE orderly__pg_%d (", i);
        rc = append(out, cap, &n, head);
        for (j = 0; s->types[j] != '\0' && rc == ORDERLY_OK; j++) {
            rc = append(out, cap, &n, j > 0 ? ", " : "");
            if (rc == ORDERLY_OK)
                rc = append(out, cap, &n, type_of[(unsigned char)s->types[j]]);
        }
        if (rc == ORDERLY_OK)
            rc = append(out, cap, &n, ") AS ");
        if (rc == ORDERLY_OK && (rc = orderly__pg_expand(q, s->text, body, sizeof body)) == 0)
            rc = append(out, cap, &n, body);
        if (rc == ORDERLY_OK)
            rc = append(out, cap, &n, ";");
    }
    if (rc == ORDERLY_OK && q->listen) {
        snprintf(head, sizeof head, "LISTEN %s;", q->channel);
        rc = append(out, cap, &n, head);
    }
    return rc;
}

/* Notices (such as "schema already exists") are not errors: keep them
 * off the host's stderr. */
static void quiet(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

void orderly__pg_quiet(struct orderly__pg *q)
{
    PQsetNoticeReceiver(q->conn, quiet, NULL);
}

int orderly__pg_session(struct orderly__pg *q, orderly_ctx *ctx)
{
    static const size_t cap = 32768;
    char *sql = malloc(cap);
    int rc;

    if (sql == NULL)
        return orderly__pg_fail(ctx, ORDERLY_ENOMEM, "out of memory");
    if ((rc = session_sql(q, sql, cap)) < 0)
        rc = orderly__pg_fail(ctx, ORDERLY_EINVAL, "the session setup does not fit");
    else if ((rc = orderly__pg_simple(q, sql, ctx, "preparing the session")) == 0)
        q->prepared = 1;
    free(sql);
    return rc;
}

int orderly__pg_reconnect(struct orderly__pg *q, orderly_ctx *ctx)
{
    q->prepared = 0;
    (void)PQexitPipelineMode(q->conn);
    PQreset(q->conn);
    if (PQstatus(q->conn) != CONNECTION_OK)
        return orderly__pg_result_fail(q, NULL, ctx, "reconnecting");
    /* anything the old session queued for us is gone with it; wake the
     * host once so it looks for work it may have missed */
    q->woken |= (1u << ORDERLY_QUEUE_OUTBOX) | (1u << ORDERLY_QUEUE_TIMERS) |
                (1u << ORDERLY_QUEUE_OPERATIONS);
    return orderly__pg_session(q, ctx);
}
