/*
 * A storage that records the writes and transactions the engine makes on
 * the adapter it wraps, so a bench can replay the same row writes raw
 * (bench_sqlite, bench_pg). Every slot the adapter fills is passed on, so
 * the engine runs as it does on the bare adapter.
 */
#ifndef ORDERLY_BENCH_RECORDER_H
#define ORDERLY_BENCH_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "orderly/sys/storage.h"

enum op { OP_BEGIN, OP_COMMIT, OP_ROLLBACK, OP_INSERT, OP_UPDATE, OP_PUSH, OP_IDEM, OP_HISTORY };

struct rec_op {
    unsigned char op;
    unsigned char queue;
    uint32_t len;         /* payload or data bytes */
    uint32_t key;         /* offset into keys (records, idempotency, history groups) */
    uint64_t expected;    /* OP_UPDATE; OP_HISTORY: the entry's seq */
};

struct recorder {
    orderly_storage base;  /* first: what the engine is given */
    orderly_storage *inner;
    struct rec_op *ops;
    size_t n, cap;
    char *keys;
    size_t keys_len, keys_cap;
};

/* Wraps inner (borrowed for r's life); exits the bench when out of memory. */
void recorder_init(struct recorder *r, orderly_storage *inner);
/* Frees what r recorded. */
void recorder_free(struct recorder *r);

#endif
