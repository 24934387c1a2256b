/* farm_client.c: the sender (ngt send --farm), the receiver (ngt recv --farm: unique results,
 * duplicates recognised by their ids, farm totals), control and status (ngt farm). */
#include "farm_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* ---- sender ---------------------------------------------------------------------------------- */

struct ngt_farm_sender {
    natsConnection *nc;
    jsCtx *js;
    farm_names nm;
    wire_layout l;
    uint32_t source;
    uint64_t epoch, next;
    uint8_t *buf;
    size_t cap;
    atomic_ullong errors;
};

static void sender_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pae;
    ngt_farm_sender *z = closure;
    atomic_fetch_add(&z->errors, 1);
}

ngt_farm_sender *ngt_farm_sender_new(const ngt_farm_opts *o, const ngt_schema *s, uint32_t source,
                                     uint64_t epoch, ngt_error *err)
{
    ngt_farm_sender *z = calloc(1, sizeof *z);
    if (!z) {
        seterr(err, NGT_ENOMEM, "farm sender: out of memory");
        return NULL;
    }
    if (source >> WIRE_SOURCE_BITS) {
        seterr(err, NGT_EINVAL, "farm sender: source id %u above 2^24 - 1", source);
        goto fail;
    }
    z->source = source;
    z->epoch = epoch;
    if (farm_names_init(&z->nm, o->stream, err) != NGT_OK ||
        wire_layout_init(&z->l, s, 0, err) != NGT_OK ||
        farm_connect(o->url, &z->nc, &z->js, err) != NGT_OK ||
        farm_setup(z->js, &z->nm, o, NULL, NULL, err) != NGT_OK)
        goto fail;
    jsCtx_Destroy(z->js);
    z->js = NULL;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.ErrHandler = sender_error;
    jo.PublishAsync.ErrHandlerClosure = z;
    jo.PublishAsync.MaxPending = 256;
    natsStatus st = natsConnection_JetStream(&z->js, z->nc, &jo);
    if (st != NATS_OK) {
        farm_naterr(err, st, 0, "farm sender");
        goto fail;
    }
    return z;
fail:
    ngt_farm_sender_free(z);
    return NULL;
}

int ngt_farm_sender_send(ngt_farm_sender *z, ngt_batch *b, int end, ngt_error *err)
{
    int n = b ? ngt_batch_count(b) : 0;
    size_t size = wire_header_size(&z->l);
    for (int k = 0; k < z->l.n_cols; k++)
        size += (size_t)n * z->l.row[k];
    if (size > z->cap) {
        uint8_t *p = realloc(z->buf, size);
        if (!p)
            return seterr(err, NGT_ENOMEM, "farm sender: out of memory");
        z->buf = p;
        z->cap = size;
    }
    wire_msg h = {0};
    h.flags = end ? WIRE_F_END : 0;
    h.source = z->source;
    h.epoch = z->epoch;
    h.first_seq = z->next;
    h.count = (uint32_t)n;
    h.send_ns = (uint64_t)nats_Now() * 1000000;
    wire_put_header(z->buf, &z->l, &h, b);
    size_t at = wire_header_size(&z->l);
    for (int k = 0; k < z->l.n_cols && n; k++) {
        memcpy(z->buf + at, ngt_batch_column(b, z->l.cols[k]), (size_t)n * z->l.row[k]);
        at += (size_t)n * z->l.row[k];
    }
    char id[96];
    snprintf(id, sizeof id, "s.%u.%llu.%llu", z->source, (unsigned long long)z->epoch,
             (unsigned long long)z->next);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    natsStatus s = js_PublishAsync(z->js, z->nm.in, z->buf, (int)size, &po);
    if (s != NATS_OK)
        return farm_naterr(err, s, 0, "farm send");
    z->next += (uint64_t)n;
    return NGT_OK;
}

int ngt_farm_sender_finish(ngt_farm_sender *z, ngt_error *err)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 30000;
    natsStatus s = js_PublishAsyncComplete(z->js, &po);
    if (s != NATS_OK)
        return farm_naterr(err, s, 0, "farm send: waiting for the server's acknowledgements");
    uint64_t e = atomic_load(&z->errors);
    if (e)
        return seterr(err, NGT_EIO, "farm send: %llu messages not stored by the server",
                      (unsigned long long)e);
    return NGT_OK;
}

void ngt_farm_sender_free(ngt_farm_sender *z)
{
    if (!z)
        return;
    if (z->js)
        jsCtx_Destroy(z->js);
    if (z->nc)
        natsConnection_Destroy(z->nc);
    wire_layout_free(&z->l);
    free(z->buf);
    free(z);
}

/* ---- receiver -------------------------------------------------------------------------------- */

typedef struct seen_key {
    uint64_t a, b, c; /* source|kind, epoch, first sequence (or stream sequence) */
    int used;
} seen_key;

typedef struct pair {
    uint32_t source;
    uint64_t epoch, events, end_total;
    int ended;
} pair;

enum { RECV_NODES = 256 };

/* A unique result record kept for --output (ngt_farm_receiver_keep): its bytes and header. */
typedef struct kept_rec {
    farm_rec f;
    uint8_t *p;
} kept_rec;

struct ngt_farm_receiver {
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    farm_names nm;
    ngt_menu *m;
    uint64_t schema_id, menu_hash;
    int nstreams, nmodels;
    wire_layout in; /* the input layout: the kept events' data */
    size_t in_row;  /* bytes of one kept event's input rows */
    int keep;
    kept_rec *recs;
    size_t n_recs, cap_recs;
    seen_key *keys;
    size_t n_keys, cap_keys;
    pair *pairs;
    size_t n_pairs, cap_pairs;
    uint64_t per_stream[64];
    uint32_t nodes[RECV_NODES];
    int n_nodes;
    char *poison;
    size_t poison_len;
    uint64_t last_seq; /* stream sequence of the last record read */
    ngt_farm_totals t;
};

ngt_farm_receiver *ngt_farm_receiver_new(const ngt_farm_opts *o, ngt_menu *m, ngt_error *err)
{
    ngt_farm_receiver *r = calloc(1, sizeof *r);
    if (!r) {
        seterr(err, NGT_ENOMEM, "farm receiver: out of memory");
        return NULL;
    }
    r->m = m;
    r->schema_id = ngt_schema_id(ngt_menu_schema(m));
    r->menu_hash = ngt_menu_hash(m);
    r->nstreams = ngt_menu_nstreams(m);
    r->nmodels = ngt_menu_nmodels(m);
    if (wire_layout_init(&r->in, ngt_menu_schema(m), 0, err) != NGT_OK)
        goto fail;
    r->schema_id = r->in.schema_id;
    for (int k = 0; k < r->in.n_cols; k++)
        r->in_row += r->in.row[k];
    if (farm_names_init(&r->nm, o->stream, err) != NGT_OK ||
        farm_connect(o->url, &r->nc, &r->js, err) != NGT_OK ||
        farm_setup(r->js, &r->nm, o, NULL, NULL, err) != NGT_OK)
        goto fail;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = r->nm.results;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    jsErrCode jerr = 0;
    natsStatus s = js_SubscribeSync(&r->sub, r->js, r->nm.out, NULL, &so, &jerr);
    if (s != NATS_OK) {
        farm_naterr(err, s, jerr, "farm receiver: subscription to the results");
        goto fail;
    }
    return r;
fail:
    ngt_farm_receiver_free(r);
    return NULL;
}

static uint64_t mix(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = 1469598103934665603ull;
    uint64_t v[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        h ^= v[i];
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

/* 1 when (a, b, c) was already there; adds it otherwise (-1: out of memory). */
static int seen(ngt_farm_receiver *r, uint64_t a, uint64_t b, uint64_t c)
{
    if (2 * (r->n_keys + 1) > r->cap_keys) {
        size_t cap = r->cap_keys ? 2 * r->cap_keys : 1024;
        seen_key *k = calloc(cap, sizeof *k);
        if (!k)
            return -1;
        for (size_t i = 0; i < r->cap_keys; i++) {
            if (!r->keys[i].used)
                continue;
            size_t j = mix(r->keys[i].a, r->keys[i].b, r->keys[i].c) & (cap - 1);
            while (k[j].used)
                j = (j + 1) & (cap - 1);
            k[j] = r->keys[i];
        }
        free(r->keys);
        r->keys = k;
        r->cap_keys = cap;
    }
    size_t j = mix(a, b, c) & (r->cap_keys - 1);
    while (r->keys[j].used) {
        if (r->keys[j].a == a && r->keys[j].b == b && r->keys[j].c == c)
            return 1;
        j = (j + 1) & (r->cap_keys - 1);
    }
    r->keys[j] = (seen_key){a, b, c, 1};
    r->n_keys++;
    return 0;
}

static pair *pair_of(ngt_farm_receiver *r, uint32_t source, uint64_t epoch)
{
    for (size_t i = 0; i < r->n_pairs; i++)
        if (r->pairs[i].source == source && r->pairs[i].epoch == epoch)
            return &r->pairs[i];
    if (r->n_pairs == r->cap_pairs) {
        size_t cap = r->cap_pairs ? 2 * r->cap_pairs : 16;
        pair *p = realloc(r->pairs, cap * sizeof *p);
        if (!p)
            return NULL;
        r->pairs = p;
        r->cap_pairs = cap;
    }
    pair *p = &r->pairs[r->n_pairs++];
    memset(p, 0, sizeof *p);
    p->source = source;
    p->epoch = epoch;
    return p;
}

static void note_node(ngt_farm_receiver *r, uint32_t node)
{
    for (int i = 0; i < r->n_nodes; i++)
        if (r->nodes[i] == node)
            return;
    if (r->n_nodes < RECV_NODES)
        r->nodes[r->n_nodes++] = node;
}

static void add_poison(ngt_farm_receiver *r, const farm_rec *f, const uint8_t *reason)
{
    char line[600];
    int len;
    if (f->flags & FARM_REC_IDS)
        len = snprintf(line, sizeof line,
                       "stream seq %llu: source %u epoch %llu first %llu, %u events, %u "
                       "deliveries: %.*s\n",
                       (unsigned long long)f->stream_seq, f->source, (unsigned long long)f->epoch,
                       (unsigned long long)f->first_seq, f->count, f->deliveries,
                       (int)strnlen((const char *)reason, FARM_REASON_MAX), reason);
    else
        len = snprintf(line, sizeof line, "stream seq %llu: ids unreadable, %u deliveries: %.*s\n",
                       (unsigned long long)f->stream_seq, f->deliveries,
                       (int)strnlen((const char *)reason, FARM_REASON_MAX), reason);
    if (len <= 0)
        return;
    char *p = realloc(r->poison, r->poison_len + (size_t)len + 1);
    if (!p)
        return;
    memcpy(p + r->poison_len, line, (size_t)len + 1);
    r->poison = p;
    r->poison_len += (size_t)len;
}

/* A result record's parts against this menu: models, provenance, the kept events' data. */
static int check_result(const ngt_farm_receiver *r, const farm_rec *f, const uint8_t *p,
                        ngt_error *err)
{
    if (f->words != (uint32_t)((ngt_menu_nchains(r->m) + 63) / 64) ||
        f->models != (uint32_t)r->nmodels)
        return seterr(err, NGT_EFORMAT,
                      "result record of node %u: %u decision words and %u models, this menu has "
                      "%d and %d",
                      f->node, f->words, f->models, (ngt_menu_nchains(r->m) + 63) / 64, r->nmodels);
    ngt_provenance pv;
    char stream[NGT_NAME_MAX];
    if (wire_get_prov(p + farm_rec_prov_at(f), wire_prov_size((int)f->models), &pv, stream, err) !=
        NGT_OK)
        return NGT_EFORMAT;
    const uint8_t *streams = p + FARM_REC_HEADER;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < f->count; i++)
        kept += wire_ld64(streams + 8 * (size_t)i) != 0;
    if (kept != f->kept || f->data_bytes != r->in.scalar_bytes + (size_t)kept * r->in_row)
        return seterr(err, NGT_EFORMAT,
                      "result record of node %u: %u kept events and %zu bytes of their data, its "
                      "streams say %u events (%zu bytes)",
                      f->node, f->kept, f->data_bytes, kept,
                      r->in.scalar_bytes + (size_t)kept * r->in_row);
    return NGT_OK;
}

static int keep_rec(ngt_farm_receiver *r, const farm_rec *f, const uint8_t *p, size_t len)
{
    if (r->n_recs == r->cap_recs) {
        size_t cap = r->cap_recs ? 2 * r->cap_recs : 256;
        kept_rec *k = realloc(r->recs, cap * sizeof *k);
        if (!k)
            return NGT_ENOMEM;
        r->recs = k;
        r->cap_recs = cap;
    }
    uint8_t *c = malloc(len);
    if (!c)
        return NGT_ENOMEM;
    memcpy(c, p, len);
    kept_rec *k = &r->recs[r->n_recs++];
    k->f = *f;
    k->p = c; /* freed by ngt_farm_receiver_free */
    return NGT_OK;
}

int ngt_farm_receiver_next(ngt_farm_receiver *r, int timeout_ms, ngt_error *err)
{
    natsMsg *msg = NULL;
    natsStatus s = natsSubscription_NextMsg(&msg, r->sub, timeout_ms);
    if (s == NATS_TIMEOUT)
        return 0;
    if (s != NATS_OK)
        return farm_naterr(err, s, 0, "farm receiver");
    const uint8_t *p = (const uint8_t *)natsMsg_GetData(msg);
    size_t len = (size_t)natsMsg_GetDataLength(msg);
    jsMsgMetaData *md = NULL;
    if (natsMsg_GetMetaData(&md, msg) == NATS_OK) {
        r->last_seq = md->Sequence.Stream;
        jsMsgMetaData_Destroy(md);
    }
    farm_rec f;
    r->t.records++;
    int rc = farm_get_rec(p, len, &f, err);
    if (rc == NGT_OK && f.kind == FARM_REC_RESULT &&
        (f.schema_id != r->schema_id || f.streams != (uint32_t)r->nstreams))
        rc = seterr(err, NGT_EFORMAT,
                    "result record of node %u: schema %016llx with %u streams, this menu's is "
                    "%016llx with %d",
                    f.node, (unsigned long long)f.schema_id, f.streams,
                    (unsigned long long)r->schema_id, r->nstreams);
    if (rc == NGT_OK && f.kind == FARM_REC_RESULT)
        rc = check_result(r, &f, p, err);
    if (rc != NGT_OK) {
        r->t.refused++;
        natsMsg_Destroy(msg);
        return NGT_EFORMAT;
    }
    note_node(r, f.node);
    int dup = f.kind == FARM_REC_POISON ? seen(r, 1ull << 63, 0, f.stream_seq)
                                        : seen(r, f.source, f.epoch, f.first_seq);
    if (dup < 0) {
        natsMsg_Destroy(msg);
        return seterr(err, NGT_ENOMEM, "farm receiver: out of memory");
    }
    if (dup) {
        r->t.duplicates++;
        natsMsg_Destroy(msg);
        return 1;
    }
    if (f.kind == FARM_REC_POISON) {
        r->t.poisoned++;
        r->t.poisoned_events += f.count;
        add_poison(r, &f, p + FARM_REC_HEADER);
        natsMsg_Destroy(msg);
        return 1;
    }
    pair *q = pair_of(r, f.source, f.epoch);
    if (q) {
        q->events += f.count;
        if (f.flags & FARM_REC_END) {
            q->ended = 1;
            q->end_total = f.first_seq + f.count;
        }
    }
    if (r->keep && keep_rec(r, &f, p, len) != NGT_OK) {
        natsMsg_Destroy(msg);
        return seterr(err, NGT_ENOMEM, "farm receiver: out of memory keeping the results");
    }
    r->t.in += f.count;
    r->t.accepted += f.accepted;
    r->t.rejected += f.rejected;
    r->t.errored += f.errored;
    const uint8_t *streams = p + FARM_REC_HEADER;
    for (uint32_t i = 0; i < f.count; i++) {
        uint64_t bits = wire_ld64(streams + 8 * (size_t)i);
        for (int k = 0; k < r->nstreams && bits; k++)
            if (bits >> k & 1)
                r->per_stream[k]++;
    }
    natsMsg_Destroy(msg);
    return 1;
}

int ngt_farm_receiver_drain(ngt_farm_receiver *r, int timeout_ms, ngt_error *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, r->js, r->nm.results, NULL, &jerr);
    if (s != NATS_OK)
        return farm_naterr(err, s, jerr, "farm receiver: results stream");
    uint64_t last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    int64_t end = nats_Now() + timeout_ms;
    while (r->last_seq < last && nats_Now() < end) {
        int rc = ngt_farm_receiver_next(r, 100, err);
        if (rc < 0 && rc != NGT_EFORMAT)
            return rc;
    }
    if (r->last_seq < last)
        return seterr(err, NGT_ETIMEOUT, "farm receiver: read up to record %llu of %llu",
                      (unsigned long long)r->last_seq, (unsigned long long)last);
    return NGT_OK;
}

void ngt_farm_receiver_totals(const ngt_farm_receiver *r, ngt_farm_totals *t)
{
    *t = r->t;
    t->pairs = r->n_pairs;
    t->nodes = (uint64_t)r->n_nodes;
    for (size_t i = 0; i < r->n_pairs; i++) {
        const pair *q = &r->pairs[i];
        if (q->ended) {
            t->ends++;
            if (q->events == q->end_total)
                t->ends_complete++;
        }
    }
}

uint64_t ngt_farm_receiver_events(const ngt_farm_receiver *r, int stream)
{
    return stream >= 0 && stream < 64 ? r->per_stream[stream] : 0;
}

size_t ngt_farm_receiver_poison(const ngt_farm_receiver *r, char *buf, size_t size)
{
    if (buf && size) {
        size_t n = r->poison_len < size - 1 ? r->poison_len : size - 1;
        if (n)
            memcpy(buf, r->poison, n);
        buf[n] = 0;
    }
    return r->poison_len;
}

void ngt_farm_receiver_keep(ngt_farm_receiver *r)
{
    r->keep = 1;
}

/* Event order: (source, first sequence, epoch), so by event id. */
static int rec_cmp(const void *a, const void *b)
{
    const farm_rec *x = &((const kept_rec *)a)->f, *y = &((const kept_rec *)b)->f;
    if (x->source != y->source)
        return x->source < y->source ? -1 : 1;
    if (x->first_seq != y->first_seq)
        return x->first_seq < y->first_seq ? -1 : 1;
    return x->epoch < y->epoch ? -1 : x->epoch > y->epoch;
}

static int write_col(const char *path, const ngt_column_info *c, uint64_t n, const void *data,
                     ngt_farm_npy_write_fn write, ngt_error *err)
{
    int64_t shape[NGT_MAX_RANK + 1] = {(int64_t)n};
    int rank = 1;
    if (c->kind != NGT_COL_SCALAR) {
        for (int d = 0; d < c->rank; d++)
            shape[d + 1] = c->shape[d];
        rank = 1 + c->rank;
    }
    static const char empty[1] = {0};
    return write(path, c->dtype, rank, shape, data ? data : empty, err);
}

/* The rows of schema column col for the events of stream s (s < 0: every event) in record order,
 * into out (n x row bytes). */
static void gather(const ngt_farm_receiver *r, int col, int s, uint8_t *out)
{
    const ngt_schema *sc = ngt_menu_schema(r->m);
    const ngt_column_info *c = ngt_schema_column(sc, col);
    int frame = -1, scalar = -1;
    size_t at_col = 0, at_scalar = 0;
    for (int k = 0; k < r->in.n_cols; k++) {
        if (r->in.cols[k] == col)
            frame = k;
        else if (frame < 0)
            at_col += r->in.row[k];
    }
    for (int k = 0; k < r->in.n_scalars; k++) {
        if (r->in.scalars[k] == col)
            scalar = k;
        else if (scalar < 0)
            at_scalar += r->in.sc_size[k];
    }
    int which = !strcmp(c->name, "ngt.decision")  ? 1
                : !strcmp(c->name, "ngt.streams") ? 2
                : !strcmp(c->name, "ngt.status")  ? 3
                                                  : 0;
    size_t rb = c->row_bytes;
    for (size_t q = 0; q < r->n_recs; q++) {
        const farm_rec *f = &r->recs[q].f;
        const uint8_t *p = r->recs[q].p;
        const uint8_t *st = p + FARM_REC_HEADER;
        const uint8_t *dec = st + 8 * (size_t)f->count;
        const uint8_t *status = dec + 8 * (size_t)f->words * f->count;
        const uint8_t *data = p + farm_rec_data_at(f);
        size_t j = 0; /* kept index */
        for (uint32_t i = 0; i < f->count; i++) {
            uint64_t bits = wire_ld64(st + 8 * (size_t)i);
            if (s < 0 || bits >> s & 1) {
                const uint8_t *src = which == 1   ? dec + 8 * (size_t)f->words * i
                                     : which == 2 ? st + 8 * (size_t)i
                                     : which == 3 ? status + i
                                     : scalar >= 0
                                         ? data + at_scalar
                                         : data + r->in.scalar_bytes + f->kept * at_col + j * rb;
                memcpy(out, src, rb);
                out += rb;
            }
            j += bits != 0;
        }
    }
}

int ngt_farm_receiver_write(ngt_farm_receiver *r, const char *dir, ngt_farm_npy_write_fn write,
                            ngt_error *err)
{
    if (!write)
        return seterr(err, NGT_EINVAL, "farm recv: no .npy writer given");
    if (!r->keep)
        return seterr(err, NGT_EINVAL, "farm recv: ngt_farm_receiver_keep was not called");
    qsort(r->recs, r->n_recs, sizeof *r->recs, rec_cmp);
    const ngt_schema *sc = ngt_menu_schema(r->m);
    mkdir(dir, 0755);
    char path[4096];
    int rc = NGT_OK;
    /* every stream: the input columns and decisions of its events */
    for (int s = -1; s < r->nstreams && rc == NGT_OK; s++) {
        const char *sname = s < 0 ? "all" : ngt_menu_stream_name(r->m, s);
        snprintf(path, sizeof path, "%s/%s", dir, sname);
        mkdir(path, 0755);
        uint64_t n = 0;
        for (size_t q = 0; q < r->n_recs; q++) {
            const uint8_t *st = r->recs[q].p + FARM_REC_HEADER;
            for (uint32_t i = 0; i < r->recs[q].f.count; i++)
                n += s < 0 || (wire_ld64(st + 8 * (size_t)i) >> s & 1);
        }
        for (int col = 0; col < ngt_schema_ncolumns(sc) && rc == NGT_OK; col++) {
            const ngt_column_info *c = ngt_schema_column(sc, col);
            int decision = !strcmp(c->name, "ngt.decision") || !strcmp(c->name, "ngt.streams") ||
                           !strcmp(c->name, "ngt.status");
            if (!(decision || (!c->derived && s >= 0))) /* all/: the decisions only */
                continue;
            uint8_t *buf = n ? malloc((size_t)n * c->row_bytes) : NULL;
            if (n && !buf)
                return seterr(err, NGT_ENOMEM, "farm recv: out of memory writing %s", c->name);
            if (n)
                gather(r, col, s, buf);
            snprintf(path, sizeof path, "%s/%s/%s.npy", dir, sname, c->name);
            rc = write_col(path, c, n, buf, write, err);
            free(buf);
        }
        if (s < 0 && r->nmodels > 0 && rc == NGT_OK) {
            /* all/ngt.models.npy: [events][models] hashes of the versions that decided each */
            uint64_t *h = n ? malloc((size_t)n * (size_t)r->nmodels * 8) : NULL;
            if (n && !h)
                return seterr(err, NGT_ENOMEM, "farm recv: out of memory writing ngt.models");
            size_t at = 0;
            for (size_t q = 0; q < r->n_recs; q++) {
                const farm_rec *f = &r->recs[q].f;
                const uint8_t *pv = r->recs[q].p + farm_rec_prov_at(f);
                for (uint32_t i = 0; i < f->count; i++)
                    for (int k = 0; k < r->nmodels; k++)
                        h[at++] =
                            wire_ld64(pv + WIRE_PROV_FIXED + (size_t)k * WIRE_PROV_MODEL + 64);
            }
            int64_t shape[2] = {(int64_t)n, r->nmodels};
            static const uint64_t none[1] = {0};
            snprintf(path, sizeof path, "%s/all/ngt.models.npy", dir);
            rc = write(path, NGT_U64, 2, shape, h ? (const void *)h : none, err);
            free(h);
        }
    }
    return rc;
}

void ngt_farm_receiver_free(ngt_farm_receiver *r)
{
    if (!r)
        return;
    for (size_t q = 0; q < r->n_recs; q++)
        free(r->recs[q].p);
    free(r->recs);
    wire_layout_free(&r->in);
    if (r->sub)
        natsSubscription_Destroy(r->sub);
    if (r->js)
        jsCtx_Destroy(r->js);
    if (r->nc)
        natsConnection_Destroy(r->nc);
    free(r->keys);
    free(r->pairs);
    free(r->poison);
    free(r);
}

/* ---- control and status ---------------------------------------------------------------------- */

int ngt_farm_control(const ngt_farm_opts *o, const char *command, ngt_error *err)
{
    farm_names nm;
    natsConnection *nc;
    jsCtx *js;
    int rc = farm_names_init(&nm, o->stream, err);
    if (rc == NGT_OK)
        rc = farm_connect(o->url, &nc, &js, err);
    if (rc != NGT_OK)
        return rc;
    natsStatus s = natsConnection_PublishString(nc, nm.control, command);
    if (s == NATS_OK)
        s = natsConnection_FlushTimeout(nc, 2000);
    if (s != NATS_OK)
        rc = farm_naterr(err, s, 0, "farm control");
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return rc;
}

enum { REQ_NODES = 256, REQ_DISCOVER_MS = 2000 };

typedef struct req_node {
    unsigned id;
    int final; /* 0 started, 1 ok, 2 failed */
    char line[FARM_NAME_MAX + NGT_ERR_MSG_MAX + 512];
} req_node;

/* One reply "node ID: STATE: text" into the table (a later final reply replaces a "started"). */
static void req_take(req_node *t, int *n, const char *text, int len)
{
    unsigned id = 0;
    char state[16] = "";
    if (sscanf(text, "node %u: %15[a-z]:", &id, state) != 2)
        return;
    int k = 0;
    while (k < *n && t[k].id != id)
        k++;
    if (k == *n) {
        if (*n == REQ_NODES)
            return;
        (*n)++;
        t[k].final = -1;
    }
    int fin = !strcmp(state, "ok") ? 1 : !strcmp(state, "failed") ? 2 : 0;
    if (t[k].final > 0 && fin == 0)
        return; /* a late "started" after the final reply */
    t[k].id = id;
    t[k].final = fin;
    snprintf(t[k].line, sizeof t[k].line, "%.*s", len, text);
}

int ngt_farm_request(const ngt_farm_opts *o, const char *command, int nodes, int wait_ms, char *buf,
                     size_t size, int *ok, int *failed, ngt_error *err)
{
    farm_names nm;
    natsConnection *nc;
    jsCtx *js;
    *ok = *failed = 0;
    if (!buf || size == 0)
        return seterr(err, NGT_EINVAL, "farm request: no buffer");
    buf[0] = 0;
    int rc = farm_names_init(&nm, o->stream, err);
    if (rc == NGT_OK)
        rc = farm_connect(o->url, &nc, &js, err);
    if (rc != NGT_OK)
        return rc;
    req_node *t = calloc(REQ_NODES, sizeof *t);
    if (!t) {
        jsCtx_Destroy(js);
        natsConnection_Destroy(nc);
        return seterr(err, NGT_ENOMEM, "farm request: out of memory");
    }
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    natsStatus s = natsInbox_Create(&inbox);
    if (s == NATS_OK)
        s = natsConnection_SubscribeSync(&sub, nc, inbox);
    if (s == NATS_OK)
        s = natsConnection_PublishRequestString(nc, nm.control, inbox, command);
    if (s == NATS_OK)
        s = natsConnection_FlushTimeout(nc, 2000);
    if (s != NATS_OK)
        rc = farm_naterr(err, s, 0, "farm control");
    int n = 0;
    int64_t t0 = nats_Now(), end = t0 + wait_ms;
    while (rc == NGT_OK) {
        int64_t now = nats_Now();
        int finals = 0, open = 0;
        for (int k = 0; k < n; k++) {
            finals += t[k].final > 0;
            open += t[k].final <= 0;
        }
        /* with a count, done as soon as that many answered; else after the first 2 s */
        if (now >= end || (open == 0 && nodes > 0 && finals >= nodes) ||
            (open == 0 && nodes <= 0 && now - t0 >= REQ_DISCOVER_MS))
            break;
        natsMsg *msg = NULL;
        int64_t left = end - now;
        if (nodes <= 0 && now - t0 < REQ_DISCOVER_MS && t0 + REQ_DISCOVER_MS - now < left)
            left = t0 + REQ_DISCOVER_MS - now;
        if (natsSubscription_NextMsg(&msg, sub, left > 0 ? left : 1) != NATS_OK)
            continue;
        int len = natsMsg_GetDataLength(msg);
        char text[FARM_NAME_MAX + NGT_ERR_MSG_MAX + 512];
        snprintf(text, sizeof text, "%.*s", len < (int)sizeof text - 1 ? len : (int)sizeof text - 1,
                 natsMsg_GetData(msg));
        req_take(t, &n, text, (int)strlen(text));
        natsMsg_Destroy(msg);
    }
    size_t at = 0;
    for (int k = 0; k < n && rc == NGT_OK; k++) {
        int w;
        if (t[k].final > 0)
            w = snprintf(buf + at, size - at, "%s\n", t[k].line);
        else
            w = snprintf(buf + at, size - at,
                         "node %u: failed: no reply within %d ms (its last word: %s)\n", t[k].id,
                         wait_ms, t[k].line);
        *ok += t[k].final == 1;
        *failed += t[k].final != 1;
        if (w > 0)
            at = at + (size_t)w < size ? at + (size_t)w : size - 1;
    }
    natsSubscription_Destroy(sub);
    natsInbox_Destroy(inbox);
    free(t);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return rc;
}

int ngt_farm_status(const ngt_farm_opts *o, int wait_ms, char *buf, size_t size, ngt_error *err)
{
    farm_names nm;
    natsConnection *nc;
    jsCtx *js;
    if (!buf || size == 0)
        return seterr(err, NGT_EINVAL, "farm status: no buffer");
    buf[0] = 0;
    int rc = farm_names_init(&nm, o->stream, err);
    if (rc == NGT_OK)
        rc = farm_connect(o->url, &nc, &js, err);
    if (rc != NGT_OK)
        return rc;
    size_t at = 0;
#define OUT(...)                                                                                   \
    do {                                                                                           \
        int w_ = snprintf(buf + at, size - at, __VA_ARGS__);                                       \
        if (w_ > 0)                                                                                \
            at = at + (size_t)w_ < size ? at + (size_t)w_ : size - 1;                              \
    } while (0)
    natsSubscription *sub = NULL;
    natsStatus s = natsConnection_SubscribeSync(&sub, nc, nm.nodes);
    jsConsumerInfo *ci = NULL;
    jsStreamInfo *si = NULL, *ri = NULL;
    jsErrCode jerr = 0;
    if (s == NATS_OK)
        s = js_GetStreamInfo(&si, js, nm.stream, NULL, &jerr);
    if (s == NATS_OK)
        s = js_GetStreamInfo(&ri, js, nm.results, NULL, &jerr);
    if (s == NATS_OK)
        s = js_GetConsumerInfo(&ci, js, nm.stream, FARM_CONSUMER, NULL, &jerr);
    if (s != NATS_OK) {
        rc = farm_naterr(err, s, jerr, "farm status (is the farm set up? docs/farm.md)");
    } else {
        OUT("farm %s on %s\n", nm.stream, o->url);
        OUT("  input stream: %llu messages stored\n", (unsigned long long)si->State.Msgs);
        OUT("  results stream: %llu records\n", (unsigned long long)ri->State.Msgs);
        OUT("  consumer %s: pending %llu, ack pending %lld, redelivered %lld, waiting pulls %lld, "
            "AckWait %lld ms, MaxDeliver %lld\n",
            FARM_CONSUMER, (unsigned long long)ci->NumPending, (long long)ci->NumAckPending,
            (long long)ci->NumRedelivered, (long long)ci->NumWaiting,
            (long long)(ci->Config->AckWait / 1000000), (long long)ci->Config->MaxDeliver);
        /* heartbeats: the last of each node within the wait */
        char lines[64][512];
        unsigned ids[64];
        int n = 0;
        int64_t end = nats_Now() + wait_ms;
        natsMsg *msg = NULL;
        while (nats_Now() < end &&
               natsSubscription_NextMsg(&msg, sub, end - nats_Now() > 0 ? end - nats_Now() : 1) ==
                   NATS_OK) {
            int len = natsMsg_GetDataLength(msg);
            unsigned id = 0;
            char line[512];
            snprintf(line, sizeof line, "%.*s", len < 511 ? len : 511, natsMsg_GetData(msg));
            natsMsg_Destroy(msg);
            msg = NULL;
            if (sscanf(line, "node=%u", &id) != 1)
                continue;
            int k = 0;
            while (k < n && ids[k] != id)
                k++;
            if (k == n && n < 64)
                n++;
            if (k < 64) {
                ids[k] = id;
                memcpy(lines[k], line, sizeof line);
            }
        }
        OUT("  nodes heard within %d ms: %d\n", wait_ms, n);
        uint64_t poisoned = 0;
        for (int k = 0; k < n; k++) {
            OUT("    %s\n", lines[k]);
            const char *p = strstr(lines[k], "poisoned=");
            if (p)
                poisoned += strtoull(p + 9, NULL, 10);
        }
        OUT("  poisoned (by the nodes heard): %llu\n", (unsigned long long)poisoned);
    }
#undef OUT
    jsConsumerInfo_Destroy(ci);
    jsStreamInfo_Destroy(si);
    jsStreamInfo_Destroy(ri);
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return rc;
}
