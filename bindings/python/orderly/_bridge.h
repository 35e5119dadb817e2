/*
 * The binding's own declarations (not copies of orderly's headers): the
 * shims of _shim.c and one extern "Python" trampoline per callback slot.
 */
int pyorderly_apply(orderly_engine *engine, const char *order_id, int machine, int event,
                    uint32_t index, int64_t amount, const char *idem_key, orderly_time_ms now,
                    int64_t *out);
int pyorderly_create_order(orderly_engine *engine, const char *order_id, const char *currency,
                           int payment_method, const orderly_line *lines, size_t n_lines,
                           uint32_t has_promotion, int64_t loyalty_points, const char *idem_key,
                           orderly_time_ms now, int64_t *out);
int pyorderly_next(const orderly_machine *m, int state, int event);
int pyorderly_next_guarded(const orderly_machine *m, int state, int event, orderly_time_ms now,
                           orderly_time_ms deadline, int64_t amount, int64_t authorized,
                           int64_t captured, int64_t refunded, uint32_t parts_total,
                           uint32_t parts_done);

extern "Python" int pyo_s_begin(orderly_storage *, orderly_ctx *, void **);
extern "Python" int pyo_s_commit(orderly_storage *, orderly_ctx *, void *);
extern "Python" void pyo_s_rollback(orderly_storage *, orderly_ctx *, void *);
extern "Python" int pyo_s_load(orderly_storage *, orderly_ctx *, void *, const char *,
                               orderly_buf *, uint64_t *);
extern "Python" int pyo_s_save(orderly_storage *, orderly_ctx *, void *, const char *,
                               const uint8_t *, size_t, uint64_t);
extern "Python" int pyo_s_scan(orderly_storage *, orderly_ctx *, void *, const char *, size_t,
                               orderly_record_cb, void *);
extern "Python" int pyo_s_queue_push(orderly_storage *, orderly_ctx *, void *, int,
                                     const orderly_queue_item *, uint64_t *);
extern "Python" int pyo_s_queue_claim(orderly_storage *, orderly_ctx *, void *, int,
                                      orderly_time_ms, size_t, uint32_t, orderly_time_ms,
                                      uint64_t *, orderly_item_cb, void *);
extern "Python" int pyo_s_queue_finish(orderly_storage *, orderly_ctx *, void *, int, uint64_t,
                                       uint64_t, int, orderly_time_ms, uint32_t);
extern "Python" int pyo_s_queue_reset(orderly_storage *, orderly_ctx *, void *, int, uint64_t,
                                      int, orderly_time_ms);
extern "Python" int pyo_s_queue_get(orderly_storage *, orderly_ctx *, void *, int, uint64_t,
                                    orderly_item_cb, void *);
extern "Python" int pyo_s_queue_scan(orderly_storage *, orderly_ctx *, void *, int, int,
                                     uint64_t, size_t, orderly_item_cb, void *);
extern "Python" int pyo_s_queue_purge(orderly_storage *, orderly_ctx *, void *, int,
                                      orderly_time_ms, size_t);
extern "Python" int pyo_s_queue_stats(orderly_storage *, orderly_ctx *, void *, int,
                                      orderly_time_ms, orderly_queue_stats *);
extern "Python" int pyo_s_idem_get(orderly_storage *, orderly_ctx *, void *, const char *,
                                   orderly_time_ms, orderly_idem_record *, orderly_buf *);
extern "Python" int pyo_s_idem_put(orderly_storage *, orderly_ctx *, void *, const char *,
                                   orderly_time_ms, const orderly_idem_record *);
extern "Python" int pyo_s_idem_purge(orderly_storage *, orderly_ctx *, void *, orderly_time_ms,
                                     size_t);
extern "Python" void pyo_s_destroy(orderly_storage *);
extern "Python" int pyo_s_history_append(orderly_storage *, orderly_ctx *, void *,
                                         const orderly_history_item *);
extern "Python" int pyo_s_history_scan(orderly_storage *, orderly_ctx *, void *, const char *,
                                       uint32_t, size_t, orderly_history_cb, void *);
extern "Python" int pyo_s_begin_read(orderly_storage *, orderly_ctx *, void **);
extern "Python" int pyo_s_queue_next_due(orderly_storage *, orderly_ctx *, void *, int,
                                         orderly_time_ms *);

extern "Python" int pyo_t_publish(orderly_transport *, orderly_ctx *, const char *, const char *,
                                  const uint8_t *, size_t, const orderly_header *, size_t);
extern "Python" void pyo_t_destroy(orderly_transport *);

extern "Python" void pyo_on_work(orderly_engine *, size_t, void *);
extern "Python" void pyo_on_alert(const orderly_alert *, void *);
extern "Python" orderly_time_ms pyo_clock(void *);
extern "Python" int pyo_executor(const orderly_operation_view *, void *);
extern "Python" int pyo_outbox_row(const orderly_outbox_view *, void *);
extern "Python" int pyo_operation_row(const orderly_operation_view *, void *);
extern "Python" void pyo_metric(const char *, double, void *);
extern "Python" int pyo_history_entry(const orderly_history_entry *, void *);

extern "Python" int pyo_c_open(orderly_storage **, void *);
extern "Python" int pyo_c_crash(orderly_storage **, void *);
extern "Python" void pyo_c_close(orderly_storage *, void *);
extern "Python" int pyo_c_reset(void *);
