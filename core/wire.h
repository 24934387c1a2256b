/* wire.h: wire format v1 (docs/wire.md), the codec without any transport: a batch of events is one
 * multipart message, frame 0 a fixed little-endian header plus the batch scalars, then one frame
 * per input column; output messages add event ids, decisions, streams, statuses and a provenance
 * frame. Modules that move messages (modules/zmq) include this; hosts never do. */
#ifndef NGT_WIRE_H
#define NGT_WIRE_H

#include "ngt.h"

#include <stddef.h>
#include <stdint.h>

enum {
    WIRE_VERSION = 1,
    WIRE_HEADER = 64,  /* fixed part of frame 0; the batch scalars follow */
    WIRE_F_END = 1,    /* end of stream: the sender sends nothing more in this epoch */
    WIRE_F_OUTPUT = 2, /* an output message (ids, decisions, streams, status, provenance follow) */
    WIRE_F_KNOWN = 3,  /* any other flag bit is refused */
    WIRE_SOURCE_BITS = 24,
    WIRE_SEQ_BITS = 40,               /* event id = source << 40 | sequence number */
    WIRE_PROV_FIXED = 144,            /* provenance frame before its model records */
    WIRE_PROV_MODEL = 80,             /* one model record: name[64], hash, serial */
    WIRE_MAX_EVENTS = 1 << 24,        /* hard limit of a message's event count */
    WIRE_DEFAULT_MAX_EVENTS = 1 << 20 /* a node's default limit (oversize beyond) */
};

/* How one schema travels: which columns make frames, where the scalars sit in frame 0. */
typedef struct wire_layout {
    const ngt_schema *s; /* not owned: outlives the layout */
    uint64_t schema_id;
    int output;      /* output messages: the extra frames */
    int n_cols;      /* column frames (input event, field and count columns, schema order) */
    int *cols;       /* schema index of each column frame */
    size_t *row;     /* bytes per event of each column frame */
    int n_scalars;   /* batch scalars, schema order, in frame 0 after the fixed header */
    int *scalars;    /* schema index of each */
    size_t *sc_size; /* bytes of each */
    size_t scalar_bytes;
    int col_decision, col_streams, col_status; /* output layouts: menu schema indices */
    size_t row_decision;
    int n_frames; /* frames in a message of this layout */
    uint32_t max_events;
} wire_layout;

/* Why a message was refused (wire_msg.reason; the node adds counts and sequence). */
typedef enum wire_reason {
    WIRE_R_NONE = 0,
    WIRE_R_MALFORMED, /* framing, header fields, frame sizes, provenance */
    WIRE_R_VERSION,
    WIRE_R_SCHEMA,
    WIRE_R_OVERSIZE,
    WIRE_R_COUNTS,   /* a collection count outside 0..max */
    WIRE_R_SEQUENCE, /* a sequence number already seen in this (source, epoch) */
    WIRE_R_COUNT
} wire_reason;

/* A parsed message: header fields, and the frames as the transport holds them (not copied). */
typedef struct wire_msg {
    uint32_t flags, source, count;
    uint64_t schema_id, epoch, first_seq, send_ns;
    const uint8_t *scalars;
    const uint8_t *const *frames; /* the caller's array of n_frames pointers */
    const uint8_t *prov;          /* output: the provenance frame */
    size_t prov_size;
    wire_reason reason; /* set when wire_parse refuses it */
} wire_msg;

/* s: the input schema (input layouts) or a menu schema (input or output layouts: derived columns
 * are skipped, and output layouts take ngt.decision, ngt.streams and ngt.status from it). */
int wire_layout_init(wire_layout *l, const ngt_schema *s, int output, ngt_error *err);
void wire_layout_free(wire_layout *l);
size_t wire_header_size(const wire_layout *l); /* WIRE_HEADER + scalar bytes */

/* Writes frame 0 into dst (wire_header_size bytes); the scalars come from batch b (zeros if NULL).
 */
void wire_put_header(uint8_t *dst, const wire_layout *l, const wire_msg *h, ngt_batch *b);

/* Checks every size, count, id and flag of a message before anything reads it; fills m. Does not
 * look at collection counts (wire_copy_in does, once the rows are in a batch). */
int wire_parse(const wire_layout *l, int n_frames, const void *const *frames, const size_t *sizes,
               wire_msg *m, ngt_error *err);

/* Copies events [from, from+n) of m into rows [at, at+n) of b (made from the layout's schema), with
 * their event ids; the batch scalars too when at == 0. Then checks the copied collection counts
 * with ngt_batch_check_counts (bad: n bytes of scratch). Returns the number of events with a bad
 * count (the caller refuses the message), or a negative code. */
int wire_copy_in(const wire_layout *l, const wire_msg *m, int from, int n, ngt_batch *b, int at,
                 uint8_t *bad, ngt_error *err);
/* Only the collection counts of events [from, from+n) of m, copied into rows [0, n) of scratch and
 * checked (for a message that will span several batches: refused before any part is used). */
int wire_check_counts(const wire_layout *l, const wire_msg *m, int from, int n, ngt_batch *scratch,
                      uint8_t *bad, ngt_error *err);
/* 1 when m's batch scalars equal b's (the two may share a batch). */
int wire_scalars_equal(const wire_layout *l, const wire_msg *m, ngt_batch *b);

/* Provenance frame: menu hash, prescale column, stream name, the model versions. */
size_t wire_prov_size(int n_models);
void wire_put_prov(uint8_t *dst, const ngt_provenance *p, const char *stream);
int wire_get_prov(const uint8_t *src, size_t size, ngt_provenance *p, char *stream,
                  ngt_error *err); /* stream: NGT_NAME_MAX bytes */

/* Little-endian loads and stores at any alignment. */
static inline uint64_t wire_ld64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
static inline uint32_t wire_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void wire_st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wire_st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif
