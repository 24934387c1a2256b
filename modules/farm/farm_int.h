/* farm_int.h: shared by the farm node (farm_node.c) and its clients (farm_client.c): connection
 * and stream setup, the input payload (wire-v1 frames back to back) and the result record. */
#ifndef NGT_FARM_INT_H
#define NGT_FARM_INT_H

#include "internal.h"
#include "ngt_farm.h"
#include "wire.h"

#include <nats/nats.h>

enum {
    FARM_NAME_MAX = 200,
    FARM_REC_VERSION = 2,
    FARM_REC_RESULT = 1,
    FARM_REC_POISON = 2,
    FARM_REC_HEADER = 160, /* fixed part of a result record */
    FARM_REC_END = 1,      /* flags: the input carried END */
    FARM_REC_IDS = 2,      /* flags: source, epoch, first sequence are known (poison records) */
    FARM_REASON_MAX = 256, /* poison records: the reason text after the header */
    FARM_MAX_FRAMES = 1024
};

/* Subjects and names of a farm. */
typedef struct farm_names {
    char stream[FARM_NAME_MAX], results[FARM_NAME_MAX], in[FARM_NAME_MAX], out[FARM_NAME_MAX];
    char control[FARM_NAME_MAX], nodes[FARM_NAME_MAX];
} farm_names;
#define FARM_CONSUMER "ngt"

int farm_names_init(farm_names *nm, const char *stream, ngt_error *err);
/* Connects and makes a JetStream context; errors name the URL. */
int farm_connect(const char *url, natsConnection **nc, jsCtx **js, ngt_error *err);
/* nats status + JetStream code as an error. */
int farm_naterr(ngt_error *err, natsStatus s, jsErrCode jerr, const char *what);
/* ngt_farm_setup on an open context; fills the consumer's AckWait (ms) and MaxDeliver. */
int farm_setup(jsCtx *js, const farm_names *nm, const ngt_farm_opts *o, int64_t *ack_wait_ms,
               int64_t *max_deliver, ngt_error *err);

/* Splits an input payload (frame 0, then the column frames, back to back; sizes from the header
 * and layout) into frames for wire_parse. 0 or an error naming what is wrong. */
int farm_split(const wire_layout *l, const uint8_t *p, size_t len, const void **frames,
               size_t *sizes, int *n_frames, ngt_error *err);

/* Result record header fields (docs/farm.md). A result record is the header, the per-event arrays
 * (streams, decisions, status), the provenance frame (wire_put_prov, models versions that decided
 * the batch) and the kept events' data: the input's batch scalars, then each input column's rows
 * of the `kept` events that went to a stream (data_bytes in all, checked by the reader against its
 * schema). A poison record is the header and the reason. */
typedef struct farm_rec {
    uint32_t kind, node, source, count, accepted, rejected, errored, words, streams, deliveries,
        flags, kept, models;
    uint64_t epoch, first_seq, menu_hash, stream_seq, schema_id;
    size_t data_bytes; /* not in the header: what follows the provenance frame */
    char column[NGT_NAME_MAX];
} farm_rec;
void farm_put_rec(uint8_t *dst, const farm_rec *r);
int farm_get_rec(const uint8_t *src, size_t len, farm_rec *r, ngt_error *err);
size_t farm_rec_size(const farm_rec *r);    /* the whole record */
size_t farm_rec_prov_at(const farm_rec *r); /* offset of the provenance frame (results) */
size_t farm_rec_data_at(const farm_rec *r); /* offset of the kept events' data (results) */

static inline uint16_t farm_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

#endif
