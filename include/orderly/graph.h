/*
 * orderly/graph.h - a machine, or the choreography between all six,
 * exported as DOT, Mermaid or JSON.
 *
 * Generated from the same tables the engine runs, so a diagram cannot
 * disagree with behaviour. The core touches no files: output goes to a
 * writer callback or into a caller buffer.
 */
#ifndef ORDERLY_GRAPH_H
#define ORDERLY_GRAPH_H

#include "machine.h"

ORDERLY_BEGIN_DECLS

typedef enum orderly_graph_format {
    ORDERLY_GRAPH_DOT     = 1, /* Graphviz digraph */
    ORDERLY_GRAPH_MERMAID = 2, /* Mermaid stateDiagram-v2 */
    ORDERLY_GRAPH_JSON    = 3  /* states, events and rows with guards and effects */
} orderly_graph_format;

/* *out = the format named "dot", "mermaid" or "json"; ORDERLY_ENOTFOUND otherwise. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_graph_format_by_name(int *out, const char *name);

/*
 * Streams machine m in format to write(data, len, user_data), in chunks.
 * Returns 0, ORDERLY_EINVAL for a bad argument or format, ORDERLY_ENOMEM,
 * or the first negative code write returned (output then stops). The
 * output ends with a newline. ctx (may be NULL) receives the reason.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_graph_export(const orderly_machine *m, int format,
                                                         orderly_writer_cb write,
                                                         void *user_data, orderly_ctx *ctx);

/*
 * Writes the export into buf (cap bytes) followed by a NUL, and its length
 * without the NUL into *len_out. When cap is too small nothing useful is in
 * buf, *len_out is the length needed, and ORDERLY_EBUFSIZE is returned, so
 * a caller can size a buffer with (NULL, 0) first.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_graph_export_buf(char *buf, size_t cap,
                                                             size_t *len_out,
                                                             const orderly_machine *m,
                                                             int format, orderly_ctx *ctx);

/*
 * The choreography view: the six machines and the declared reactions
 * between them (a part's effect or new state firing an event on another
 * machine of the same order), from the table the engine interprets.
 * DOT and Mermaid draw one node per machine and one edge per reaction,
 * labelled "effect (new state): event" with the instances it reaches
 * when not the one owner; JSON lists every machine's states with their
 * declared attributes and every reaction row with all its columns,
 * including the rows that declare a state as needing no reaction
 * ("target": null). Same contract as orderly_graph_export.
 */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_graph_export_choreography(int format,
                                                                      orderly_writer_cb write,
                                                                      void *user_data,
                                                                      orderly_ctx *ctx);

/* The choreography view into a caller buffer; as orderly_graph_export_buf. */
ORDERLY_API ORDERLY_WARN_UNUSED int orderly_graph_export_choreography_buf(char *buf, size_t cap,
                                                                          size_t *len_out,
                                                                          int format,
                                                                          orderly_ctx *ctx);

ORDERLY_END_DECLS

#endif
