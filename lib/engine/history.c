/*
 * An order's history: every event it produced, appended in the command's
 * own transaction (so it holds exactly what committed) and read back in
 * order, independent of the outbox and its retention.
 */
#include <string.h>

#include "internal.h"

int orderly__history_append(orderly_engine *e, void *txn, const char *order_id, uint32_t seq,
                            uint32_t kind, const uint8_t *payload, size_t len, orderly_time_ms now)
{
    orderly_history_item it;

    if (seq >= ORDERLY_HISTORY_MAX || !orderly__vt_has_history(e))
        return ORDERLY_OK;
    it.group = order_id;
    it.seq = seq;
    it.kind = kind;
    it.payload = payload;
    it.payload_len = len;
    it.created = now;
    return orderly__vt_history_append(e, txn, &it);
}

struct reader {
    orderly_engine *e;
    orderly_history_entry_cb cb;
    void *user_data;
};

static int relay(const orderly_history_item *it, void *ud)
{
    struct reader *rd = ud;
    orderly_engine *e = rd->e;
    struct orderly__event_rec r;
    const orderly_machine *m = NULL;
    orderly_history_entry v;
    char id_hex[33], trace[ORDERLY__TRACE_LEN + 1];
    int rc;

    orderly__event_rec_at(e, &r, ORDERLY__SITE_HISTORY);
    if (orderly__event_rec_decode(&r, it->kind, it->group, it->payload, it->payload_len) < 0)
        return orderly__fail(&e->ctx, ORDERLY_ESTORAGE, "history entry %u of order '%s' is corrupt",
                             it->seq, it->group);
    if ((rc = orderly__encode_event(e, it->kind, it->group, &r, id_hex, trace)) < 0)
        return orderly__fail(&e->ctx, rc, "history entry %u of order '%s' does not encode",
                             it->seq, it->group);
    if (orderly_machine_by_id(&m, r.machine) < 0)
        m = NULL;
    memset(&v, 0, sizeof v);
    v.size = sizeof v;
    v.seq = it->seq;
    v.order_id = it->group;
    v.type = orderly__event_type((int)it->kind);
    v.event_id = id_hex;
    v.time = r.time;
    v.machine = m != NULL ? orderly_machine_name(m) : "";
    v.index = r.index;
    v.from = m != NULL ? orderly_machine_state_name(m, r.from) : NULL;
    v.to = m != NULL ? orderly_machine_state_name(m, r.to) : NULL;
    v.event = m != NULL ? orderly_machine_event_name(m, r.event) : NULL;
    v.amount = r.amount;
    v.currency = r.currency;
    v.n_lines = r.n_lines;
    v.json = e->json;
    v.json_len = e->json_len;
    return rd->cb(&v, rd->user_data);
}

int orderly_engine_order_history(orderly_engine *e, const char *order_id, uint32_t from_seq,
                                 size_t max, orderly_history_entry_cb cb, void *user_data)
{
    struct reader rd = { e, cb, user_data };
    void *txn;
    uint64_t version;
    int rc;

    if (e == NULL)
        return ORDERLY_EINVAL;
    orderly_ctx_clear(&e->ctx);
    if (order_id == NULL || cb == NULL)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "order id and callback are required");
    if (strlen(order_id) > ORDERLY_ID_MAX)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "order id too long");
    if (!orderly__vt_has_history(e))
        return orderly__fail(&e->ctx, ORDERLY_ENOTSUPPORTED,
                             "the storage keeps no history (it needs storage version 3 with "
                             "history_append and history_scan)");
    if ((txn = e->batch_txn) != NULL && e->batch_failed)
        return orderly__fail(&e->ctx, ORDERLY_EMISUSE, "the open batch failed: roll it back");
    if (txn == NULL && (rc = orderly__vt_begin_read(e, &txn)) < 0)
        return rc;
    rc = orderly__vt_load(e, txn, order_id, &e->load_buf, &version);
    if (rc == ORDERLY_ENOTFOUND)
        rc = orderly__fail(&e->ctx, rc, "no order '%s'", order_id);
    else if (rc >= 0)
        rc = orderly__vt_history_scan(e, txn, order_id, from_seq, max == 0 ? ORDERLY_HISTORY_MAX : max,
                                      relay, &rd);
    if (txn != e->batch_txn)
        orderly__vt_rollback(e, txn);
    else if (rc < 0 && rc != ORDERLY_ENOTFOUND)
        e->batch_failed = 1;
    return rc;
}
