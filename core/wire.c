/* wire.c: wire format v1 codec (docs/wire.md). Parsing checks everything a message claims against
 * the layout before a byte of it is read as data; copying into a batch ends with the core's one
 * collection-count check. No transport here: modules/zmq moves the frames. */
#include "wire.h"

#include "internal.h"

#include <stdio.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "wire format v1 frames are the host's rows: a little-endian host is required"
#endif

static const uint8_t magic[4] = {'N', 'G', 'T', '1'};

void wire_layout_free(wire_layout *l)
{
    if (!l)
        return;
    free(l->cols);
    free(l->row);
    free(l->scalars);
    free(l->sc_size);
    memset(l, 0, sizeof *l);
}

int wire_layout_init(wire_layout *l, const ngt_schema *s, int output, ngt_error *err)
{
    memset(l, 0, sizeof *l);
    int nc = ngt_schema_ncolumns(s);
    l->cols = calloc((size_t)nc + 1, sizeof *l->cols);
    l->row = calloc((size_t)nc + 1, sizeof *l->row);
    l->scalars = calloc((size_t)nc + 1, sizeof *l->scalars);
    l->sc_size = calloc((size_t)nc + 1, sizeof *l->sc_size);
    if (!l->cols || !l->row || !l->scalars || !l->sc_size) {
        wire_layout_free(l);
        return seterr(err, NGT_ENOMEM, "wire: out of memory");
    }
    l->s = s;
    l->schema_id = ngt_schema_id(s);
    l->output = output != 0;
    l->max_events = WIRE_DEFAULT_MAX_EVENTS;
    for (int i = 0; i < nc; i++) {
        const ngt_column_info *c = ngt_schema_column(s, i);
        if (c->derived)
            continue;
        if (c->kind == NGT_COL_SCALAR) {
            l->scalars[l->n_scalars] = i;
            l->sc_size[l->n_scalars++] = c->row_bytes;
            l->scalar_bytes += c->row_bytes;
        } else {
            l->cols[l->n_cols] = i;
            l->row[l->n_cols++] = c->row_bytes;
        }
    }
    if (WIRE_HEADER + l->scalar_bytes > 65535) {
        wire_layout_free(l);
        return seterr(err, NGT_EINVAL, "wire: %zu bytes of batch scalars, at most %d",
                      l->scalar_bytes, 65535 - WIRE_HEADER);
    }
    l->n_frames = 1 + l->n_cols;
    l->col_decision = l->col_streams = l->col_status = -1;
    if (l->output) {
        l->col_decision = ngt_schema_find(s, "ngt.decision");
        l->col_streams = ngt_schema_find(s, "ngt.streams");
        l->col_status = ngt_schema_find(s, "ngt.status");
        if (l->col_decision < 0 || l->col_streams < 0 || l->col_status < 0) {
            wire_layout_free(l);
            return seterr(err, NGT_EINVAL, "wire: output messages need a built menu's schema");
        }
        l->row_decision = ngt_schema_column(s, l->col_decision)->row_bytes;
        l->n_frames += 5; /* ids, decision, streams, status, provenance */
    }
    return NGT_OK;
}

size_t wire_header_size(const wire_layout *l)
{
    return WIRE_HEADER + l->scalar_bytes;
}

void wire_put_header(uint8_t *dst, const wire_layout *l, const wire_msg *h, ngt_batch *b)
{
    memset(dst, 0, WIRE_HEADER);
    memcpy(dst, magic, 4);
    dst[4] = WIRE_VERSION;
    size_t hs = wire_header_size(l);
    dst[6] = (uint8_t)hs;
    dst[7] = (uint8_t)(hs >> 8);
    wire_st32(dst + 8, h->flags | (l->output ? WIRE_F_OUTPUT : 0));
    wire_st32(dst + 12, h->source);
    wire_st64(dst + 16, l->schema_id);
    wire_st64(dst + 24, h->epoch);
    wire_st64(dst + 32, h->first_seq);
    wire_st32(dst + 40, h->count);
    wire_st32(dst + 44, (uint32_t)l->n_frames);
    wire_st64(dst + 48, h->send_ns);
    uint8_t *p = dst + WIRE_HEADER;
    for (int k = 0; k < l->n_scalars; k++) {
        if (b)
            memcpy(p, ngt_batch_column(b, l->scalars[k]), l->sc_size[k]);
        else
            memset(p, 0, l->sc_size[k]);
        p += l->sc_size[k];
    }
}

/* rows * row bytes, or SIZE_MAX on overflow. */
static size_t rows_bytes(uint64_t rows, size_t row)
{
    size_t out;
    if (__builtin_mul_overflow((size_t)rows, row, &out))
        return SIZE_MAX;
    return out;
}

static int check_frame(size_t got, size_t want, const char *what, ngt_error *err)
{
    if (got == want)
        return NGT_OK;
    return seterr(err, NGT_EFORMAT, "frame %s: %zu bytes, the header's event count needs %zu", what,
                  got, want);
}

static int parse_header(const wire_layout *l, const uint8_t *h, size_t size, int n_frames,
                        wire_msg *m, ngt_error *err)
{
    m->reason = WIRE_R_MALFORMED;
    if (size < WIRE_HEADER || memcmp(h, magic, 4) != 0)
        return seterr(err, NGT_EFORMAT, "not a wire message (%s)",
                      size < WIRE_HEADER ? "header frame shorter than 64 bytes" : "no NGT1 magic");
    unsigned version = h[4] | (unsigned)h[5] << 8;
    if (version != WIRE_VERSION && (m->reason = WIRE_R_VERSION))
        return seterr(err, NGT_EFORMAT, "wire version %u, this node speaks %d", version,
                      WIRE_VERSION);
    size_t hs = h[6] | (size_t)h[7] << 8;
    if (hs != wire_header_size(l) || size != hs)
        return seterr(err, NGT_EFORMAT,
                      "header frame of %zu bytes (says %zu); the schema's batch scalars make it "
                      "%zu",
                      size, hs, wire_header_size(l));
    m->flags = wire_ld32(h + 8);
    m->source = wire_ld32(h + 12);
    m->schema_id = wire_ld64(h + 16);
    m->epoch = wire_ld64(h + 24);
    m->first_seq = wire_ld64(h + 32);
    m->count = wire_ld32(h + 40);
    uint32_t frames = wire_ld32(h + 44);
    m->send_ns = wire_ld64(h + 48);
    m->scalars = h + WIRE_HEADER;
    if (m->flags & ~(uint32_t)WIRE_F_KNOWN)
        return seterr(err, NGT_EFORMAT, "unknown flags 0x%x", m->flags);
    if (!(m->flags & WIRE_F_OUTPUT) != !l->output)
        return seterr(err, NGT_EFORMAT, "%s message where %s messages are expected",
                      m->flags & WIRE_F_OUTPUT ? "an output" : "an input",
                      l->output ? "output" : "input");
    if (wire_ld64(h + 56) != 0)
        return seterr(err, NGT_EFORMAT, "reserved header bytes 56..63 are not zero");
    if (m->schema_id != l->schema_id && (m->reason = WIRE_R_SCHEMA))
        return seterr(err, NGT_EFORMAT, "schema id %016llx, this node's schema is %016llx",
                      (unsigned long long)m->schema_id, (unsigned long long)l->schema_id);
    if (m->source >> WIRE_SOURCE_BITS)
        return seterr(err, NGT_EFORMAT, "source id %u above 2^%d - 1", m->source, WIRE_SOURCE_BITS);
    if (m->count > l->max_events && (m->reason = WIRE_R_OVERSIZE))
        return seterr(err, NGT_EFORMAT, "oversize: %u events, at most %u per message", m->count,
                      l->max_events);
    if (m->first_seq >> WIRE_SEQ_BITS || (m->first_seq + m->count) >> WIRE_SEQ_BITS)
        return seterr(err, NGT_EFORMAT, "sequence numbers %llu + %u pass 2^%d",
                      (unsigned long long)m->first_seq, m->count, WIRE_SEQ_BITS);
    if ((int)frames != l->n_frames || n_frames != l->n_frames)
        return seterr(err, NGT_EFORMAT, "%d frames (header says %u); the schema makes %d", n_frames,
                      frames, l->n_frames);
    m->reason = WIRE_R_NONE;
    return NGT_OK;
}

int wire_parse(const wire_layout *l, int n_frames, const void *const *frames, const size_t *sizes,
               wire_msg *m, ngt_error *err)
{
    memset(m, 0, sizeof *m);
    m->reason = WIRE_R_MALFORMED;
    if (n_frames < 1 || !frames || !sizes)
        return seterr(err, NGT_EFORMAT, "empty message");
    int rc = parse_header(l, frames[0], sizes[0], n_frames, m, err);
    if (rc != NGT_OK)
        return rc;
    m->reason = WIRE_R_MALFORMED; /* until every frame is checked */
    m->frames = (const uint8_t *const *)frames;
    char what[NGT_NAME_MAX + 16];
    for (int k = 0; k < l->n_cols; k++) {
        snprintf(what, sizeof what, "%d (%s)", k + 1, ngt_schema_column(l->s, l->cols[k])->name);
        if ((rc = check_frame(sizes[k + 1], rows_bytes(m->count, l->row[k]), what, err)) != NGT_OK)
            return rc;
    }
    if (!l->output) {
        m->reason = WIRE_R_NONE;
        return NGT_OK;
    }
    int f = 1 + l->n_cols;
    if ((rc = check_frame(sizes[f], rows_bytes(m->count, 8), "event ids", err)) != NGT_OK ||
        (rc = check_frame(sizes[f + 1], rows_bytes(m->count, l->row_decision), "ngt.decision",
                          err)) != NGT_OK ||
        (rc = check_frame(sizes[f + 2], rows_bytes(m->count, 8), "ngt.streams", err)) != NGT_OK ||
        (rc = check_frame(sizes[f + 3], rows_bytes(m->count, 1), "ngt.status", err)) != NGT_OK)
        return rc;
    m->prov = frames[f + 4];
    m->prov_size = sizes[f + 4];
    ngt_provenance p;
    char stream[NGT_NAME_MAX];
    rc = wire_get_prov(m->prov, m->prov_size, &p, stream, err);
    if (rc == NGT_OK)
        m->reason = WIRE_R_NONE;
    return rc;
}

int wire_copy_in(const wire_layout *l, const wire_msg *m, int from, int n, ngt_batch *b, int at,
                 uint8_t *bad, ngt_error *err)
{
    if (from < 0 || n < 0 || (uint64_t)from + (uint64_t)n > m->count || at < 0 ||
        at + n > ngt_batch_capacity(b))
        return seterr(err, NGT_EINVAL, "wire_copy_in: events out of range");
    for (int k = 0; k < l->n_cols; k++)
        memcpy((uint8_t *)ngt_batch_column(b, l->cols[k]) + (size_t)at * l->row[k],
               m->frames[k + 1] + (size_t)from * l->row[k], (size_t)n * l->row[k]);
    if (at == 0) {
        const uint8_t *p = m->scalars;
        for (int k = 0; k < l->n_scalars; k++) {
            memcpy(ngt_batch_column(b, l->scalars[k]), p, l->sc_size[k]);
            p += l->sc_size[k];
        }
    }
    uint64_t *ids = ngt_batch_event_ids(b) + at;
    if (l->output) {
        int f = 1 + l->n_cols;
        memcpy(ids, m->frames[f] + (size_t)from * 8, (size_t)n * 8);
        const size_t rows[3] = {l->row_decision, 8, 1};
        const int cols[3] = {l->col_decision, l->col_streams, l->col_status};
        for (int k = 0; k < 3; k++)
            memcpy((uint8_t *)ngt_batch_column(b, cols[k]) + (size_t)at * rows[k],
                   m->frames[f + 1 + k] + (size_t)from * rows[k], (size_t)n * rows[k]);
    } else {
        uint64_t base = (uint64_t)m->source << WIRE_SEQ_BITS | (m->first_seq + (uint64_t)from);
        for (int i = 0; i < n; i++)
            ids[i] = base + (uint64_t)i;
    }
    if (ngt_batch_count(b) < at + n) /* the check reads only events the batch holds */
        ngt_batch_set_count(b, at + n, NULL);
    return ngt_batch_check_counts(b, at, n, bad, err);
}

int wire_check_counts(const wire_layout *l, const wire_msg *m, int from, int n, ngt_batch *scratch,
                      uint8_t *bad, ngt_error *err)
{
    if (from < 0 || n < 0 || (uint64_t)from + (uint64_t)n > m->count ||
        n > ngt_batch_capacity(scratch))
        return seterr(err, NGT_EINVAL, "wire_check_counts: events out of range");
    for (int k = 0; k < l->n_cols; k++)
        if (ngt_schema_column(l->s, l->cols[k])->kind == NGT_COL_COUNT)
            memcpy(ngt_batch_column(scratch, l->cols[k]),
                   m->frames[k + 1] + (size_t)from * l->row[k], (size_t)n * l->row[k]);
    ngt_batch_set_count(scratch, n, NULL);
    return ngt_batch_check_counts(scratch, 0, n, bad, err);
}

int wire_scalars_equal(const wire_layout *l, const wire_msg *m, ngt_batch *b)
{
    const uint8_t *p = m->scalars;
    for (int k = 0; k < l->n_scalars; k++) {
        if (memcmp(ngt_batch_column(b, l->scalars[k]), p, l->sc_size[k]) != 0)
            return 0;
        p += l->sc_size[k];
    }
    return 1;
}

/* Provenance frame:
 *   0 u64 menu hash | 8 u32 models | 12 u32 reserved (0) | 16 prescale column[64] | 80 stream[64]
 *   144 + 80 k: model name[64] | u64 hash | u64 serial
 * Names are UTF-8, NUL-padded, with at least one NUL. */
size_t wire_prov_size(int n_models)
{
    return WIRE_PROV_FIXED + (size_t)n_models * WIRE_PROV_MODEL;
}

static void put_name(uint8_t *dst, const char *s)
{
    memset(dst, 0, NGT_NAME_MAX);
    if (s)
        memcpy(dst, s, strnlen(s, NGT_NAME_MAX - 1));
}

void wire_put_prov(uint8_t *dst, const ngt_provenance *p, const char *stream)
{
    wire_st64(dst, p->menu_hash);
    wire_st32(dst + 8, (uint32_t)p->n_models);
    wire_st32(dst + 12, 0);
    put_name(dst + 16, p->prescale_column);
    put_name(dst + 80, stream);
    for (int k = 0; k < p->n_models; k++) {
        uint8_t *r = dst + WIRE_PROV_FIXED + (size_t)k * WIRE_PROV_MODEL;
        put_name(r, p->models[k].name);
        wire_st64(r + 64, p->models[k].hash);
        wire_st64(r + 72, p->models[k].serial);
    }
}

static int get_name(char *dst, const uint8_t *src, const char *what, ngt_error *err)
{
    if (!memchr(src, 0, NGT_NAME_MAX))
        return seterr(err, NGT_EFORMAT, "provenance: %s is not NUL-terminated", what);
    memcpy(dst, src, NGT_NAME_MAX);
    return NGT_OK;
}

int wire_get_prov(const uint8_t *src, size_t size, ngt_provenance *p, char *stream, ngt_error *err)
{
    memset(p, 0, sizeof *p);
    if (size < WIRE_PROV_FIXED)
        return seterr(err, NGT_EFORMAT, "provenance frame of %zu bytes, at least %d", size,
                      WIRE_PROV_FIXED);
    uint32_t n = wire_ld32(src + 8);
    if (n > NGT_MAX_MENU_MODELS || size != wire_prov_size((int)n))
        return seterr(err, NGT_EFORMAT, "provenance frame of %zu bytes for %u models (at most %d)",
                      size, n, NGT_MAX_MENU_MODELS);
    if (wire_ld32(src + 12) != 0)
        return seterr(err, NGT_EFORMAT, "provenance: reserved bytes 12..15 are not zero");
    p->menu_hash = wire_ld64(src);
    p->n_models = (int)n;
    int rc = get_name(p->prescale_column, src + 16, "the prescale column", err);
    if (rc == NGT_OK)
        rc = get_name(stream, src + 80, "the stream name", err);
    for (uint32_t k = 0; k < n && rc == NGT_OK; k++) {
        const uint8_t *r = src + WIRE_PROV_FIXED + (size_t)k * WIRE_PROV_MODEL;
        rc = get_name(p->models[k].name, r, "a model name", err);
        p->models[k].hash = wire_ld64(r + 64);
        p->models[k].serial = wire_ld64(r + 72);
    }
    return rc;
}
