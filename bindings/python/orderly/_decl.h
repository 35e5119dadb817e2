/*
 * The C declarations the Python binding uses: a curated copy of the public
 * headers, in the subset of C that cffi's cdef parses. The extension is
 * compiled against the real headers (cffi API mode), so the C compiler
 * checks every line here against them: a drifted declaration fails the
 * build instead of misbehaving at run time.
 */

/* ---- version.h, errors.h, common.h ---- */
#define ORDERLY_VERSION_NUMBER ...
int orderly_version_number(void);
const char *orderly_version_string(void);

typedef int64_t orderly_time_ms;
#define ORDERLY_TIME_MAX ...
#define ORDERLY_DURATION_MAX ...
typedef int (*orderly_writer_cb)(const char *data, size_t len, void *user_data);

#define ORDERLY_OK ...
#define ORDERLY_ENOTFOUND ...
#define ORDERLY_EUSER ...
#define ORDERLY_ITEROVER ...
const char *orderly_strerror(int code);
const char *orderly_error_name(int code);
int orderly_error_is_transient(int code);

typedef struct orderly_ctx orderly_ctx;
typedef struct orderly_allocator orderly_allocator;
int orderly_ctx_new(orderly_ctx **out, const orderly_allocator *alloc);
void orderly_ctx_free(orderly_ctx *ctx);
int orderly_ctx_errcode(const orderly_ctx *ctx);
const char *orderly_ctx_errmsg(const orderly_ctx *ctx);
int64_t orderly_ctx_native(const orderly_ctx *ctx);
void orderly_ctx_clear(orderly_ctx *ctx);
int orderly_ctx_set_error(orderly_ctx *ctx, int code, int64_t native, const char *msg);

/* ---- machine.h, graph.h ---- */
typedef struct orderly_machine orderly_machine;
#define ORDERLY_MACHINE_COUNT ...
#define ORDERLY_EVENT_FIRST ...
typedef struct orderly_guard_input {
    orderly_time_ms now;
    orderly_time_ms deadline;
    int64_t amount;
    int64_t authorized;
    int64_t captured;
    int64_t refunded;
    uint32_t parts_total;
    uint32_t parts_done;
} orderly_guard_input;
typedef struct orderly_transition {
    uint16_t from;
    uint16_t event;
    uint16_t to;
    uint16_t guard;
    uint16_t n_effects;
    const uint8_t *effects;
} orderly_transition;

int orderly_machine_by_id(const orderly_machine **out, int id);
int orderly_machine_by_name(const orderly_machine **out, const char *name);
int orderly_machine_get_id(const orderly_machine *m);
const char *orderly_machine_name(const orderly_machine *m);
int orderly_machine_initial(const orderly_machine *m);
int orderly_machine_state_limit(const orderly_machine *m);
int orderly_machine_event_limit(const orderly_machine *m);
const char *orderly_machine_state_name(const orderly_machine *m, int state);
const char *orderly_machine_event_name(const orderly_machine *m, int event);
int orderly_machine_state_id(int *out, const orderly_machine *m, const char *name);
int orderly_machine_event_id(int *out, const orderly_machine *m, const char *name);
const char *orderly_guard_name(int guard);
const char *orderly_effect_name(int effect);
const char *orderly_timer_name(int timer);
int orderly_machine_step(orderly_transition *out, const orderly_machine *m, int state,
                         int event, const orderly_guard_input *in, orderly_ctx *ctx);
int orderly_machine_next(int *next_out, const orderly_machine *m, int state, int event,
                         const orderly_guard_input *in, orderly_ctx *ctx);
int orderly_machine_can(const orderly_machine *m, int state, int event,
                        const orderly_guard_input *in, orderly_ctx *ctx);
int orderly_machine_allowed(int *events_out, size_t cap, size_t *count_out,
                            const orderly_machine *m, int state);
int orderly_machine_is_terminal(const orderly_machine *m, int state);
int orderly_machine_is_later(const orderly_machine *m, int a, int b);
int orderly_machine_is_late(const orderly_machine *m, int state, int event);
int orderly_machine_state_timer(const orderly_machine *m, int state);
int orderly_timer_target(int *machine_out, int *event_out, int timer);
int orderly_machine_transition_count(const orderly_machine *m);
int orderly_machine_transition_at(orderly_transition *out, const orderly_machine *m, int i);
int orderly_machine_validate(const orderly_machine *m, orderly_ctx *ctx);

int orderly_graph_format_by_name(int *out, const char *name);
int orderly_graph_export_buf(char *buf, size_t cap, size_t *len_out, const orderly_machine *m,
                             int format, orderly_ctx *ctx);
int orderly_graph_export_choreography_buf(char *buf, size_t cap, size_t *len_out, int format,
                                          orderly_ctx *ctx);

/* ---- compensation.h ---- */
#define ORDERLY_OP_HOST ...
const char *orderly_op_name(int op);
uint32_t orderly_op_default_attempts(int op);
int orderly_op_machine(int op);

/* ---- sys/storage.h ---- */
typedef struct orderly_buf orderly_buf;
int orderly_buf_set(orderly_buf *buf, const uint8_t *data, size_t len);
const uint8_t *orderly_buf_data(const orderly_buf *buf);
size_t orderly_buf_len(const orderly_buf *buf);

typedef struct orderly_queue_item {
    uint64_t id;
    const char *group;
    uint32_t kind;
    uint32_t state;
    uint32_t attempts;
    const uint8_t *payload;
    size_t payload_len;
    orderly_time_ms created;
    orderly_time_ms due;
    uint64_t lease_token;
    orderly_time_ms lease_until;
} orderly_queue_item;
typedef int (*orderly_item_cb)(const orderly_queue_item *item, void *user_data);
typedef struct orderly_queue_stats {
    uint64_t ready;
    uint64_t due;
    uint64_t leased;
    uint64_t lease_expired;
    uint64_t done;
    uint64_t dead;
    orderly_time_ms oldest_pending;
} orderly_queue_stats;
typedef int (*orderly_record_cb)(const char *key, const uint8_t *data, size_t len,
                                 uint64_t version, void *user_data);
typedef struct orderly_idem_record {
    uint8_t fingerprint[16];
    orderly_time_ms expires;
    const uint8_t *result;
    size_t result_len;
} orderly_idem_record;

typedef struct orderly_history_item {
    const char *group;
    uint32_t seq;
    uint32_t kind;
    const uint8_t *payload;
    size_t payload_len;
    orderly_time_ms created;
} orderly_history_item;
typedef int (*orderly_history_cb)(const orderly_history_item *item, void *user_data);

#define ORDERLY_STORAGE_VERSION ...
#define ORDERLY_STORAGE_VERSION_MIN ...
typedef struct orderly_storage orderly_storage;
struct orderly_storage {
    unsigned int version;
    unsigned int flags;
    void *user_data;
    int (*begin)(orderly_storage *s, orderly_ctx *ctx, void **txn_out);
    int (*commit)(orderly_storage *s, orderly_ctx *ctx, void *txn);
    void (*rollback)(orderly_storage *s, orderly_ctx *ctx, void *txn);
    int (*load)(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                orderly_buf *out, uint64_t *version_out);
    int (*save)(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                const uint8_t *data, size_t len, uint64_t expected_version);
    int (*scan)(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *after, size_t max,
                orderly_record_cb cb, void *user_data);
    int (*queue_push)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                      const orderly_queue_item *item, uint64_t *id_out);
    int (*queue_claim)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                       orderly_time_ms now, size_t max, uint32_t max_attempts,
                       orderly_time_ms lease_until, uint64_t *token_out, orderly_item_cb cb,
                       void *user_data);
    int (*queue_finish)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                        uint64_t token, int state, orderly_time_ms due, uint32_t attempts);
    int (*queue_reset)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                       int state, orderly_time_ms due);
    int (*queue_get)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, uint64_t id,
                     orderly_item_cb cb, void *user_data);
    int (*queue_scan)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue, int state,
                      uint64_t after_id, size_t max, orderly_item_cb cb, void *user_data);
    int (*queue_purge)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                       orderly_time_ms before, size_t max);
    int (*queue_stats)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                       orderly_time_ms now, orderly_queue_stats *out);
    int (*idem_get)(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                    orderly_time_ms now, orderly_idem_record *out, orderly_buf *result);
    int (*idem_put)(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *key,
                    orderly_time_ms now, const orderly_idem_record *rec);
    int (*idem_purge)(orderly_storage *s, orderly_ctx *ctx, void *txn, orderly_time_ms now,
                      size_t max);
    void (*destroy)(orderly_storage *s);
    int (*history_append)(orderly_storage *s, orderly_ctx *ctx, void *txn,
                          const orderly_history_item *item);
    int (*history_scan)(orderly_storage *s, orderly_ctx *ctx, void *txn, const char *group,
                        uint32_t from_seq, size_t max, orderly_history_cb cb, void *user_data);
    int (*begin_read)(orderly_storage *s, orderly_ctx *ctx, void **txn_out);
    int (*queue_next_due)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                          orderly_time_ms *due_out);
    int (*queue_next_due_except)(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                                 uint64_t token, orderly_time_ms *due_out);
};
int orderly_storage_init(orderly_storage *s, unsigned int version);

/* ---- sys/transport.h ---- */
typedef struct orderly_header {
    const char *name;
    const char *value;
} orderly_header;
#define ORDERLY_TRANSPORT_VERSION ...
typedef struct orderly_transport orderly_transport;
struct orderly_transport {
    unsigned int version;
    unsigned int flags;
    void *user_data;
    int (*publish)(orderly_transport *t, orderly_ctx *ctx, const char *topic, const char *key,
                   const uint8_t *data, size_t len, const orderly_header *headers,
                   size_t n_headers);
    void (*destroy)(orderly_transport *t);
};
int orderly_transport_init(orderly_transport *t, unsigned int version);

/* ---- sys/memory.h ---- */
int orderly_memory_storage_new(orderly_storage **out, const orderly_allocator *alloc);
void orderly_memory_storage_free(orderly_storage *s);
void orderly_memory_storage_usage(const orderly_storage *s, size_t *records_out,
                                  size_t *bytes_out);
typedef struct orderly_message {
    const char *topic;
    const char *key;
    const uint8_t *data;
    size_t len;
    uint64_t seq;
} orderly_message;
int orderly_memory_transport_new(orderly_transport **out, const orderly_allocator *alloc);
void orderly_memory_transport_free(orderly_transport *t);
size_t orderly_memory_transport_count(const orderly_transport *t);
int orderly_memory_transport_get(orderly_message *out, const orderly_transport *t, size_t i);
void orderly_memory_transport_clear(orderly_transport *t);
void orderly_memory_transport_keep(orderly_transport *t, int keep);

/* ---- sys/sqlite.h ---- */
#define ORDERLY_SQLITE_OPTIONS_VERSION ...
typedef struct orderly_sqlite_options {
    unsigned int version;
    int create;
    int busy_timeout_ms;
    int synchronous;
    int read_only;
    int checkpoint;
    int checkpoint_pages;
    int exclusive;
    int cache_kib;
    int64_t mmap_bytes;
} orderly_sqlite_options;
int orderly_sqlite_schema_version(void);
int orderly_sqlite_storage_open(orderly_storage **out, const char *path,
                                const orderly_sqlite_options *opts, orderly_ctx *ctx);
void orderly_sqlite_storage_close(orderly_storage *s);

/* ---- engine.h ---- */
typedef struct orderly_engine orderly_engine;
#define ORDERLY_TOPIC_COUNT ...
const char *orderly_topic_default_name(int topic);
#define ORDERLY_BATCH_MAX_LIMIT ...
#define ORDERLY_POLICY_VERSION ...
typedef struct orderly_policy {
    unsigned int version;
    int64_t reservation_ttl;
    int64_t cod_window;
    int64_t auth_window;
    int64_t auto_complete_after;
    int64_t fulfillment_sla;
    int64_t abandoned_after;
    int64_t idem_ttl;
    int64_t backoff_base;
    int64_t backoff_max;
    int64_t lease;
    int64_t retention;
    uint32_t max_conflict_retries;
    uint32_t outbox_max_attempts;
    uint32_t operation_max_attempts;
    uint32_t batch_max;
    uint64_t seed;
    uint32_t claim_resolution;
    int64_t cod_collection_window;
} orderly_policy;
int orderly_policy_init(orderly_policy *policy, unsigned int version);

typedef void (*orderly_work_cb)(orderly_engine *engine, size_t n, void *user_data);
typedef struct orderly_alert {
    int kind;
    int queue;
    uint64_t item_id;
    const char *group;
    const char *message;
} orderly_alert;
typedef void (*orderly_alert_cb)(const orderly_alert *alert, void *user_data);
typedef orderly_time_ms (*orderly_clock_cb)(void *user_data);
#define ORDERLY_ROLES_ALL ...
#define ORDERLY_ENGINE_OPTIONS_VERSION ...
typedef struct orderly_engine_options {
    unsigned int version;
    unsigned int roles;
    orderly_storage *storage;
    orderly_transport *transport;
    const orderly_allocator *alloc;
    const char *source;
    const orderly_policy *policy;
    const char *const *topics;
    size_t n_topics;
    orderly_work_cb on_work;
    void *work_user_data;
    orderly_alert_cb on_alert;
    void *alert_user_data;
    orderly_clock_cb clock;
    void *clock_user_data;
    size_t max_envelope_bytes;
    unsigned int flags;
    uint32_t max_lines;
    uint32_t max_parts;
} orderly_engine_options;
#define ORDERLY_ENGINE_HAND_OFF ...
#define ORDERLY_ENGINE_SOLE ...
#define ORDERLY_ENGINE_REPLICA ...
#define ORDERLY_ENVELOPE_MAX_DEFAULT ...
#define ORDERLY_ENVELOPE_MAX_LIMIT ...
int orderly_engine_options_init(orderly_engine_options *opts, unsigned int version);
int orderly_engine_open(orderly_engine **out, const orderly_engine_options *opts,
                        orderly_ctx *ctx);
void orderly_engine_close(orderly_engine *engine);
int orderly_engine_errcode(const orderly_engine *engine);
const char *orderly_engine_errmsg(const orderly_engine *engine);
orderly_ctx *orderly_engine_ctx(orderly_engine *engine);
const char *orderly_engine_topic(const orderly_engine *engine, int topic);
int orderly_engine_topic_id(int *out, const orderly_engine *engine, const char *name);

typedef struct orderly_result {
    size_t size;
    int code;
    int machine;
    int event;
    int from;
    int to;
    int order_state;
    uint32_t late;
    uint32_t duplicate;
    uint32_t outbox_rows;
    uint32_t operations;
    uint64_t version;
} orderly_result;

#define ORDERLY_QUANTITY_MAX ...
#define ORDERLY_UNIT_PRICE_MAX ...
typedef struct orderly_line {
    uint64_t sku;
    uint32_t warehouse;
    uint32_t quantity;
    int64_t unit_price;
} orderly_line;
#define ORDERLY_ID_MAX ...
size_t orderly_id_max(void);
size_t orderly_lines_max(void);
size_t orderly_parts_max(void);
typedef struct orderly_order_spec {
    const char *order_id;
    const char *currency;
    int payment_method;
    const orderly_line *lines;
    size_t n_lines;
    uint32_t has_promotion;
    int64_t loyalty_points;
    const char *idem_key;
    orderly_time_ms now;
} orderly_order_spec;
typedef struct orderly_command {
    const char *order_id;
    int machine;
    int event;
    uint32_t index;
    int64_t amount;
    const char *idem_key;
    orderly_time_ms now;
} orderly_command;

int orderly_engine_create_order(orderly_engine *engine, const orderly_order_spec *spec,
                                orderly_result *out);
int orderly_engine_apply(orderly_engine *engine, const orderly_command *cmd,
                         orderly_result *out);
int orderly_engine_cancel_order(orderly_engine *engine, const char *order_id,
                                const char *idem_key, orderly_time_ms now, orderly_result *out);
int orderly_engine_request_capture(orderly_engine *engine, const char *order_id,
                                   const char *idem_key, orderly_time_ms now,
                                   orderly_result *out);
int orderly_engine_open_return(orderly_engine *engine, uint32_t *index_out,
                               const char *order_id, int64_t amount, int exchange,
                               const char *idem_key, orderly_time_ms now, orderly_result *out);
typedef struct orderly_return_line {
    uint32_t line;
    uint32_t quantity;
} orderly_return_line;
#define ORDERLY_RETURN_SPEC_VERSION ...
typedef struct orderly_return_spec {
    unsigned int version;
    const char *order_id;
    const orderly_return_line *lines;
    size_t n_lines;
    int64_t adjustment;
    int exchange;
    const char *idem_key;
    orderly_time_ms now;
} orderly_return_spec;
int orderly_engine_open_return_lines(orderly_engine *engine, uint32_t *index_out,
                                     const orderly_return_spec *spec, orderly_result *out);
int orderly_replacement_id(char *out, const char *order_id, uint32_t return_index);
int orderly_engine_open_replacement(orderly_engine *engine, const char *order_id,
                                    uint32_t return_index, orderly_time_ms now,
                                    orderly_result *out);
int orderly_engine_handle_event(orderly_engine *engine, const uint8_t *envelope, size_t len,
                                orderly_time_ms now, orderly_result *out);
int orderly_engine_handle_webhook(orderly_engine *engine, const uint8_t *secret,
                                  size_t secret_len, const char *signature_header,
                                  const uint8_t *payload, size_t len,
                                  int64_t tolerance_seconds, orderly_time_ms now,
                                  orderly_result *out);
int orderly_engine_begin_batch(orderly_engine *engine);
int orderly_engine_commit_batch(orderly_engine *engine);
void orderly_engine_rollback_batch(orderly_engine *engine);

typedef struct orderly_order_view {
    size_t size;
    int order_state;
    int payment_state;
    int payment_method;
    char currency[4];
    int64_t total;
    int64_t authorized;
    int64_t captured;
    int64_t refunded;
    uint32_t n_lines;
    uint32_t n_fulfillments;
    uint32_t n_shipments;
    uint32_t n_returns;
    orderly_time_ms created;
    uint64_t version;
    char replacement_of[65];   /* ORDERLY_ID_MAX + 1 */
} orderly_order_view;
int orderly_engine_get_order(orderly_engine *engine, const char *order_id,
                             orderly_order_view *out);
typedef struct orderly_part_view {
    size_t size;
    int machine;
    uint32_t index;
    int state;
    uint64_t sku;
    uint32_t warehouse;
    uint32_t quantity;
    int64_t amount;
    orderly_time_ms since;
    uint32_t reserved;
    uint32_t shipped;
    uint32_t delivered;
    uint32_t lost;
    uint32_t back_at_origin;
    uint32_t returned;
    uint32_t restocked;
    uint32_t shipment;
    int64_t refunded;
    uint32_t lines;
    char replacement[65];      /* ORDERLY_ID_MAX + 1 */
} orderly_part_view;
int orderly_engine_get_part(orderly_engine *engine, const char *order_id, int machine,
                            uint32_t index, orderly_part_view *out);
int orderly_engine_get_return_line(orderly_engine *engine, const char *order_id, uint32_t index,
                                   uint32_t k, orderly_return_line *out);
int orderly_engine_get_return_lines(orderly_engine *engine, const char *order_id, uint32_t index,
                                    orderly_return_line *out, size_t cap, size_t *count);
typedef struct orderly_engine_stats {
    size_t size;
    uint64_t applied;
    uint64_t rejected;
    uint64_t duplicates;
    uint64_t late_ignored;
    uint64_t idem_busy;
    uint64_t idem_mismatch;
    uint64_t conflicts_retried;
    uint64_t outbox_appended;
    uint64_t operations_recorded;
    uint64_t txn_begins;
    uint64_t txn_commits;
    uint64_t txn_rollbacks;
    uint64_t txn_read_begins;
    uint64_t txn_ack_writes;
    uint64_t deadlines_cancelled;
} orderly_engine_stats;
int orderly_engine_get_stats(const orderly_engine *engine, orderly_engine_stats *out);
#define ORDERLY_HISTORY_MAX ...
typedef struct orderly_history_entry {
    size_t size;
    uint32_t seq;
    const char *order_id;
    const char *type;
    const char *event_id;
    orderly_time_ms time;
    const char *machine;
    uint32_t index;
    const char *from, *to, *event;
    int64_t amount;
    const char *currency;
    uint32_t n_lines;
    const char *json;
    size_t json_len;
} orderly_history_entry;
typedef int (*orderly_history_entry_cb)(const orderly_history_entry *entry, void *user_data);
int orderly_engine_order_history(orderly_engine *engine, const char *order_id,
                                 uint32_t from_seq, size_t max, orderly_history_entry_cb cb,
                                 void *user_data);

/* ---- outbox.h ---- */
int orderly_engine_pump(orderly_engine *engine, orderly_time_ms now, size_t max,
                        size_t *published_out);
int orderly_engine_purge(orderly_engine *engine, orderly_time_ms now, size_t max,
                         size_t *purged_out);
int orderly_engine_tick(orderly_engine *engine, orderly_time_ms now, size_t max,
                        size_t *fired_out);
void orderly_engine_wake(orderly_engine *engine);
typedef struct orderly_outbox_view {
    size_t size;
    uint64_t id;
    const char *order_id;
    const char *type;
    const char *topic;
    const char *event_id;
    int state;
    uint32_t attempts;
    orderly_time_ms created;
    orderly_time_ms due;
} orderly_outbox_view;
typedef int (*orderly_outbox_cb)(const orderly_outbox_view *row, void *user_data);
int orderly_engine_list_outbox(orderly_engine *engine, int state, uint64_t after_id, size_t max,
                               orderly_outbox_cb cb, void *user_data);
typedef struct orderly_operation_view {
    size_t size;
    uint64_t id;
    int op;
    const char *order_id;
    const char *key;
    uint32_t index;
    int64_t amount;
    uint32_t n_lines;
    const uint64_t *sku;
    const uint32_t *warehouse;
    const uint32_t *quantity;
    uint32_t attempts;
    int state;
    uint32_t max_attempts;
} orderly_operation_view;
typedef int (*orderly_executor_cb)(const orderly_operation_view *op, void *user_data);
int orderly_engine_set_executor(orderly_engine *engine, int op, orderly_executor_cb cb,
                                void *user_data);
int orderly_engine_set_op_attempts(orderly_engine *engine, int op, uint32_t n);
int orderly_engine_run_operations(orderly_engine *engine, orderly_time_ms now, size_t max,
                                  size_t *done_out);
typedef int (*orderly_operation_cb)(const orderly_operation_view *op, void *user_data);
int orderly_engine_list_operations(orderly_engine *engine, int state, uint64_t after_id,
                                   size_t max, orderly_operation_cb cb, void *user_data);
int orderly_engine_inspect_operation(orderly_engine *engine, uint64_t id,
                                     orderly_operation_cb cb, void *user_data);
int orderly_engine_replay_operation(orderly_engine *engine, uint64_t id, orderly_time_ms now);
typedef struct orderly_health {
    size_t size;
    uint64_t outbox_pending;
    int64_t outbox_oldest_age_ms;
    uint64_t outbox_leased;
    uint64_t outbox_lease_expired;
    uint64_t outbox_dead;
    uint64_t operations_pending;
    uint64_t operations_exhausted;
    uint64_t timers_due;
    uint64_t late_ignored;
    uint64_t duplicates_suppressed;
    uint64_t idem_busy;
    uint64_t idem_mismatch;
    uint64_t stale_completions;
    uint64_t leases_expired_total;
    uint64_t published_total;
    uint64_t redelivered_total;
    int ready;
    uint64_t rows_parked_total;
    int64_t transport_outage_ms;
} orderly_health;
int orderly_engine_health(orderly_engine *engine, orderly_time_ms now, uint64_t max_backlog,
                          int64_t max_age_ms, orderly_health *out);
typedef void (*orderly_metric_cb)(const char *name, double value, void *user_data);
int orderly_engine_metrics(orderly_engine *engine, orderly_time_ms now, orderly_metric_cb cb,
                           void *user_data);

/* ---- webhook.h ---- */
int orderly_webhook_sign(char *out, size_t cap, const uint8_t *secret, size_t secret_len,
                         const uint8_t *payload, size_t len, int64_t timestamp);

/* ---- sys/conformance.h ---- */
typedef ... FILE;
typedef struct orderly_conformance_target {
    unsigned int version;
    const char *name;
    void *user_data;
    int (*open)(orderly_storage **out, void *user_data);
    int (*crash)(orderly_storage **s, void *user_data);
    void (*close)(orderly_storage *s, void *user_data);
    int (*reset)(void *user_data);
} orderly_conformance_target;
#define ORDERLY_CONFORMANCE_TARGET_VERSION ...
#define ORDERLY_CONFORMANCE_OPTIONS_VERSION ...
typedef struct orderly_conformance_options {
    unsigned int version;
    unsigned int parts;
    const char *filter;
    const char *known_failures;
} orderly_conformance_options;
int orderly_conformance_run(const orderly_conformance_target *target,
                            const orderly_conformance_options *opts, FILE *report);
FILE *fdopen(int fd, const char *mode);
int fclose(FILE *stream);
