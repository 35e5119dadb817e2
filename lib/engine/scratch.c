/*
 * The memory an engine needs for orders of up to max_lines lines: the
 * aggregate's lines, encodings, the stage's line sets and deadlines, the
 * timer rows its commands pushed (lib/engine/deadlines.c), and
 * line memory for each place that decodes a record. Sized once at open
 * and allocated in one block, so the command path never allocates and an
 * engine configured for small orders stays small.
 */
#include <string.h>

#include "../base/codec.h"
#include "internal.h"

struct layout {
    size_t size;
};

/* Reserves n bytes, 16-aligned, and returns their offset in the block. */
static size_t take(struct layout *l, size_t n)
{
    size_t at = (l->size + 15u) & ~(size_t)15u;

    l->size = at + n;
    return at;
}

struct offsets {
    size_t lines, rlines, enc, rec, fp, timers, first, units, spec, ev_bits, op_bits, held, deadlines;
    size_t ev[ORDERLY__SITES], sku[ORDERLY__SITES], wh[ORDERLY__SITES], qty[ORDERLY__SITES];
};

static size_t plan(const orderly_engine *e, struct offsets *o)
{
    struct layout l = { 0 };
    size_t n = e->max_lines, words = ORDERLY__LINE_WORDS(e->max_lines), rec, op;
    int i;

    rec = orderly__event_rec_max(e->max_lines);
    op = orderly__operation_rec_max(e->max_lines);
    o->lines = take(&l, n * sizeof(struct orderly__line));
    o->rlines = take(&l, ORDERLY__RET_LINES_CAP(e->max_lines) * sizeof(struct orderly__ret_line));
    o->enc = take(&l, orderly__agg_max_bytes(e->max_lines));
    o->rec = take(&l, rec > op ? rec : op);
    /* a create's fingerprint: four varints a line, and the order's fields */
    o->fp = take(&l, ORDERLY_ID_MAX + 64 + n * 4 * ORDERLY__VARINT_MAX);
    o->timers = take(&l, ORDERLY__STAGE_TIMERS(e->max_lines) * sizeof(struct orderly__staged_timer));
    o->first = take(&l, n * sizeof(uint32_t));
    o->units = take(&l, n * sizeof(uint32_t));
    o->spec = take(&l, n * sizeof(orderly_line));
    o->ev_bits = take(&l, ORDERLY__STAGE_EVENTS * words * sizeof(uint64_t));
    o->op_bits = take(&l, ORDERLY__STAGE_OPS * words * sizeof(uint64_t));
    o->held = take(&l, (ORDERLY__CASCADE_DEPTH + 1) * words * sizeof(uint64_t));
    o->deadlines = take(&l, ORDERLY__DEADLINE_SETS * ORDERLY__DEADLINE_WAYS *
                                sizeof(struct orderly__deadline_slot));
    for (i = 0; i < ORDERLY__SITES; i++) {
        o->ev[i] = take(&l, n * sizeof(struct orderly__event_line));
        o->sku[i] = take(&l, n * sizeof(uint64_t));
        o->wh[i] = take(&l, n * sizeof(uint32_t));
        o->qty[i] = take(&l, n * sizeof(uint32_t));
    }
    return l.size;
}

int orderly__scratch_open(orderly_engine *e, orderly_ctx *ctx)
{
    struct offsets o;
    size_t size = plan(e, &o), words = ORDERLY__LINE_WORDS(e->max_lines), i;
    uint8_t *b;

    if ((b = e->alloc.malloc(size, e->alloc.user_data)) == NULL)
        return orderly__fail(ctx, ORDERLY_ENOMEM, "out of memory for orders of %lu lines",
                             (unsigned long)e->max_lines);
    e->scratch = b;
    orderly__agg_attach(&e->agg, (struct orderly__line *)(void *)(b + o.lines), e->max_lines,
                        (struct orderly__ret_line *)(void *)(b + o.rlines));
    e->enc = b + o.enc;
    e->enc_cap = orderly__agg_max_bytes(e->max_lines);
    e->rec = b + o.rec;
    e->rec_cap = o.fp - o.rec;
    e->fp = b + o.fp;
    e->fp_cap = o.timers - o.fp;
    e->stage.timers = (struct orderly__staged_timer *)(void *)(b + o.timers);
    e->stage.max_timers = ORDERLY__STAGE_TIMERS(e->max_lines);
    e->stage.first = (uint32_t *)(void *)(b + o.first);
    e->units = (uint32_t *)(void *)(b + o.units);
    e->spec_lines = (orderly_line *)(void *)(b + o.spec);
    e->deadlines = (struct orderly__deadline_slot *)(void *)(b + o.deadlines);
    memset(e->deadlines, 0, ORDERLY__DEADLINE_SETS * ORDERLY__DEADLINE_WAYS * sizeof *e->deadlines);
    for (i = 0; i < ORDERLY__STAGE_EVENTS; i++)
        e->stage.events[i].lines = (uint64_t *)(void *)(b + o.ev_bits) + i * words;
    for (i = 0; i < ORDERLY__STAGE_OPS; i++)
        e->stage.ops[i].lines = (uint64_t *)(void *)(b + o.op_bits) + i * words;
    for (i = 0; i <= ORDERLY__CASCADE_DEPTH; i++)
        e->stage.held[i] = (uint64_t *)(void *)(b + o.held) + i * words;
    for (i = 0; i < ORDERLY__SITES; i++) {
        e->ev_lines[i] = (struct orderly__event_line *)(void *)(b + o.ev[i]);
        e->op_lines[i].sku = (uint64_t *)(void *)(b + o.sku[i]);
        e->op_lines[i].warehouse = (uint32_t *)(void *)(b + o.wh[i]);
        e->op_lines[i].quantity = (uint32_t *)(void *)(b + o.qty[i]);
    }
    orderly__buf_init(&e->claim_arena, &e->alloc);
    orderly__buf_init(&e->handed_arena, &e->alloc);
    return ORDERLY_OK;
}

void orderly__scratch_close(orderly_engine *e)
{
    orderly__buf_free(&e->claim_arena);
    orderly__buf_free(&e->handed_arena);
    if (e->scratch != NULL)
        e->alloc.free(e->scratch, e->alloc.user_data);
    e->scratch = NULL;
}

void orderly__event_rec_at(orderly_engine *e, struct orderly__event_rec *r, int site)
{
    r->lines = e->ev_lines[site];
    r->cap_lines = e->max_lines;
}

void orderly__operation_rec_at(orderly_engine *e, struct orderly__operation_rec *r, int site)
{
    r->sku = e->op_lines[site].sku;
    r->warehouse = e->op_lines[site].warehouse;
    r->quantity = e->op_lines[site].quantity;
    r->cap_lines = e->max_lines;
}
