/*
 * Read-only views of the outbox for operators: what is pending, what was
 * published, what was dead-lettered, with the event id consumers see.
 */
#include "../engine/internal.h"
#include "../wire/record.h"

struct lister {
    orderly_engine *e;
    orderly_outbox_cb cb;
    void *user_data;
};

static int relay(const orderly_queue_item *it, void *ud)
{
    struct lister *l = ud;
    struct orderly__event_rec r;
    orderly_outbox_view v;
    char id_hex[33], type[64];

    /* a row that does not decode is listed, not a reason to stop: it is
     * the one an operator is looking for */
    orderly__event_rec_at(l->e, &r, ORDERLY__SITE_LIST);
    if (orderly__event_rec_decode(&r, it->kind, it->group, it->payload, it->payload_len) < 0) {
        id_hex[0] = '\0';
        v.type = orderly__event_type((int)it->kind);
    } else {
        orderly__hex(id_hex, r.id, 16);
        v.type = orderly__event_type_of((int)it->kind, r.machine, r.event, type, sizeof type);
    }
    v.size = sizeof v;
    v.id = it->id;
    v.order_id = it->group;
    v.topic = l->e->topics[orderly__event_topic((int)it->kind)];
    v.event_id = id_hex;
    v.state = (int)it->state;
    v.attempts = it->attempts;
    v.created = it->created;
    v.due = it->due;
    return l->cb(&v, l->user_data);
}

int orderly_engine_list_outbox(orderly_engine *e, int state, uint64_t after_id, size_t max,
                               orderly_outbox_cb cb, void *user_data)
{
    struct lister l = { e, cb, user_data };
    void *txn;
    int rc;

    if (e == NULL || cb == NULL)
        return ORDERLY_EINVAL;
    if (state < -1 || state > ORDERLY_ITEM_DEAD)
        return orderly__fail(&e->ctx, ORDERLY_EINVAL, "state %d is not an item state", state);
    if ((rc = orderly__vt_begin_read(e, &txn)) < 0)
        return rc;
    rc = orderly__vt_scan(e, txn, ORDERLY_QUEUE_OUTBOX, state, after_id, max, relay, &l);
    orderly__vt_rollback(e, txn);
    return rc < 0 ? rc : ORDERLY_OK;
}
