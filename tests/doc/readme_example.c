#include <stdio.h>

#include <orderly.h>

static int print_chunk(const char *data, size_t len, void *user_data)
{
    return fwrite(data, 1, len, user_data) == len ? ORDERLY_OK : ORDERLY_ERROR;
}

int main(void)
{
    const orderly_machine *order;
    orderly_ctx *ctx;
    int next, rc;

    if (orderly_machine_by_name(&order, "order") < 0 || orderly_ctx_new(&ctx, NULL) < 0)
        return 1;

    /* What does a confirmed payment do to a pending order? */
    rc = orderly_machine_next(&next, order, ORDERLY_ORDER_PENDING,
                              ORDERLY_ORDER_EV_PAYMENT_CONFIRMED, NULL, ctx);
    if (rc == ORDERLY_OK)
        printf("pending + payment_confirmed -> %s\n", orderly_machine_state_name(order, next));

    /* A completed order cannot be cancelled; the context says why. */
    rc = orderly_machine_next(&next, order, ORDERLY_ORDER_COMPLETED,
                              ORDERLY_ORDER_EV_CANCEL, NULL, ctx);
    if (rc == ORDERLY_ETRANSITION)
        printf("rejected (%s): %s\n", orderly_error_name(rc), orderly_ctx_errmsg(ctx));

    /* The same table, exported as a Mermaid diagram. */
    if (rc == ORDERLY_ETRANSITION)
        rc = orderly_graph_export(order, ORDERLY_GRAPH_MERMAID, print_chunk, stdout, ctx);
    orderly_ctx_free(ctx);
    return rc == ORDERLY_OK ? 0 : 1;
}
