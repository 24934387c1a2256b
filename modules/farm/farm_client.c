/* farm_client.c: the sender (ngt send --farm), the receiver (ngt recv --farm: unique results,
 * duplicates recognised by their ids, farm totals), control and status (ngt farm). */
#include "farm_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

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

struct ngt_farm_receiver {
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    farm_names nm;
    ngt_menu *m;
    uint64_t schema_id, menu_hash;
    int nstreams;
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
    wire_layout l;
    if (wire_layout_init(&l, ngt_menu_schema(m), 0, err) != NGT_OK)
        goto fail;
    r->schema_id = l.schema_id;
    wire_layout_free(&l);
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

void ngt_farm_receiver_free(ngt_farm_receiver *r)
{
    if (!r)
        return;
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
