/*
 * Declarations shared by the cgo files of package orderly. Only
 * declarations: a file with //export may include nothing that defines.
 * shim.c defines them.
 */
#ifndef ORDERLY_GO_SHIM_H
#define ORDERLY_GO_SHIM_H

#include <stdint.h>
#include <stdlib.h>

#include <orderly.h>
#include <orderly/sys/memory.h>
#include <orderly/sys/sqlite.h>

/* One engine call's arguments and result, in C memory allocated once per
 * engine, so a call through cgo allocates nothing on either side. The line
 * arrays grow to the largest order the engine was given, never past the
 * run-time library's orderly_lines_max(), and are kept for the next call. */
typedef struct orderly_go_call {
    orderly_command cmd;
    orderly_order_spec spec;
    orderly_result res;
    orderly_line *lines;           /* lines_cap entries */
    size_t lines_cap;
    orderly_return_spec ret;
    orderly_return_line *rlines;   /* rlines_cap entries */
    size_t rlines_cap;
    uint32_t index;
    char order_id[ORDERLY_ID_MAX + 1];
    char idem_key[ORDERLY_ID_MAX + 1];
    char currency[4];
} orderly_go_call;

/* Make room for n order lines (lines) or return lines (rlines): 0, or
 * ORDERLY_ENOMEM with the arrays as they were. */
int orderly_go_call_lines(orderly_go_call *c, size_t n);
int orderly_go_call_rlines(orderly_go_call *c, size_t n);
/* Frees c and its line arrays; NULL is accepted. */
void orderly_go_call_free(orderly_go_call *c);

/* The next state (> 0) or a negative code: one crossing, no out pointer. */
int64_t orderly_go_next(const orderly_machine *m, int state, int event);

int orderly_go_apply(orderly_engine *e, orderly_go_call *c, int has_idem);
int orderly_go_create(orderly_engine *e, orderly_go_call *c, int has_idem);
int orderly_go_cancel(orderly_engine *e, orderly_go_call *c, int has_idem);
int orderly_go_request_capture(orderly_engine *e, orderly_go_call *c, int has_idem);
int orderly_go_open_return(orderly_engine *e, orderly_go_call *c, int exchange, int has_idem);
int orderly_go_open_return_lines(orderly_engine *e, orderly_go_call *c, int has_idem);
int orderly_go_order_history(orderly_engine *e, const char *order_id, uint32_t from_seq,
                             size_t max, uintptr_t handle);

/* Opens an engine whose callbacks (work, alert, clock) reach the Go engine
 * behind handle; each flag bit turns one on. */
#define ORDERLY_GO_ON_WORK 1
#define ORDERLY_GO_ON_ALERT 2
#define ORDERLY_GO_CLOCK 4
int orderly_go_open(orderly_engine **out, orderly_engine_options *o, uintptr_t handle, int flags,
                    orderly_ctx *ctx);

int orderly_go_set_executor(orderly_engine *e, int op, uintptr_t handle, int on);
int orderly_go_list_outbox(orderly_engine *e, int state, uint64_t after, size_t max,
                           uintptr_t handle);
int orderly_go_list_operations(orderly_engine *e, int state, uint64_t after, size_t max,
                               uintptr_t handle);
int orderly_go_inspect_operation(orderly_engine *e, uint64_t id, uintptr_t handle);
int orderly_go_metrics(orderly_engine *e, orderly_time_ms now, uintptr_t handle);
int orderly_go_export(const orderly_machine *m, int format, uintptr_t handle);
int orderly_go_export_choreography(int format, uintptr_t handle);

/* Storage and transport vtables whose slots call the Go value behind
 * handle. The vtable is C memory; its destroy slot frees it and deletes
 * the handle (orderly_go_storage_free does the same for hosts that never
 * give it to an engine). */
#define ORDERLY_GO_HISTORY 1
#define ORDERLY_GO_BEGIN_READ 2
#define ORDERLY_GO_NEXT_DUE 4
orderly_storage *orderly_go_storage_new(uintptr_t handle, int optional);
void orderly_go_storage_free(orderly_storage *s);
orderly_transport *orderly_go_transport_new(uintptr_t handle);
void orderly_go_transport_free(orderly_transport *t);

/* Calls a callback the core handed to a Go storage method. */
int orderly_go_item_cb(orderly_item_cb cb, const orderly_queue_item *item, void *ud);
int orderly_go_history_cb(orderly_history_cb cb, const orderly_history_item *item, void *ud);
int orderly_go_record_cb(orderly_record_cb cb, const char *key, const uint8_t *data, size_t len,
                         uint64_t version, void *ud);

#endif
