/* zmq_client.c: the sender and receiver behind `ngt send` and `ngt recv`: batches of the input
 * schema out as input messages; a node's output messages in, checked as the node checks its input,
 * and kept per stream to be written as .npy files the way `ngt run --output` writes them. */
#include "zmq_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

struct ngt_zmq_sender {
    void *ctx, *sock;
    wire_layout l;
    uint32_t source;
    uint64_t epoch, next;
    uint8_t *header;
};

ngt_zmq_sender *ngt_zmq_sender_new(const char *endpoint, const ngt_schema *s, uint32_t source,
                                   uint64_t epoch, ngt_error *err)
{
    ngt_zmq_sender *z = calloc(1, sizeof *z);
    if (!z) {
        seterr(err, NGT_ENOMEM, "sender: out of memory");
        return NULL;
    }
    if (source >> WIRE_SOURCE_BITS) {
        seterr(err, NGT_EINVAL, "sender: source id %u above 2^24 - 1", source);
        goto fail;
    }
    z->source = source;
    z->epoch = epoch;
    if (wire_layout_init(&z->l, s, 0, err) != NGT_OK)
        goto fail;
    z->header = malloc(wire_header_size(&z->l));
    z->ctx = zmq_ctx_new();
    z->sock = z->ctx ? zmq_socket(z->ctx, ZMQ_PUSH) : NULL;
    if (!z->header || !z->sock) {
        seterr(err, NGT_EIO, "sender: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    int linger = -1;
    zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_attach(z->sock, endpoint, 0, err) != NGT_OK)
        goto fail;
    return z;
fail:
    ngt_zmq_sender_free(z);
    return NULL;
}

int ngt_zmq_sender_send(ngt_zmq_sender *z, ngt_batch *b, int end, ngt_error *err)
{
    int n = b ? ngt_batch_count(b) : 0;
    wire_msg h = {0};
    h.flags = end ? WIRE_F_END : 0;
    h.source = z->source;
    h.epoch = z->epoch;
    h.first_seq = z->next;
    h.count = (uint32_t)n;
    h.send_ns = zmq_wall_ns();
    wire_put_header(z->header, &z->l, &h, b);
    int rc = zmq_send(z->sock, z->header, wire_header_size(&z->l), ZMQ_SNDMORE);
    for (int k = 0; k < z->l.n_cols && rc >= 0; k++) {
        const void *p = b ? ngt_batch_column(b, z->l.cols[k]) : z->header;
        rc = zmq_send(z->sock, p, (size_t)n * z->l.row[k], k + 1 < z->l.n_cols ? ZMQ_SNDMORE : 0);
    }
    if (rc < 0)
        return seterr(err, NGT_EIO, "send: %s", zmq_strerror(zmq_errno()));
    z->next += (uint64_t)n;
    return NGT_OK;
}

void ngt_zmq_sender_free(ngt_zmq_sender *z)
{
    if (!z)
        return;
    if (z->sock)
        zmq_close(z->sock);
    if (z->ctx)
        zmq_ctx_term(z->ctx);
    wire_layout_free(&z->l);
    free(z->header);
    free(z);
}

/* ---- receiver ------------------------------------------------------------------------------ */

typedef struct rbuf {
    char *data;
    size_t len, cap;
} rbuf;

enum { RECV_FRAMES = 1024, RECV_CAP = 1024, RECV_LAT = 1 << 16 };

struct ngt_zmq_receiver {
    void *ctx, *sock;
    ngt_menu *m;
    const ngt_schema *s;
    wire_layout l;
    ngt_batch *b;
    uint8_t bad[RECV_CAP];
    int nstreams, ncols; /* recorded columns: input ones and the three decision columns */
    int *cols;
    rbuf *bufs; /* [stream][col] */
    uint64_t *events;
    int *seen;
    uint64_t ends, refused;
    double *lat; /* us, a ring of the last RECV_LAT messages */
    uint64_t n_lat;
    zmq_msg_t parts[RECV_FRAMES];
    const void *frames[RECV_FRAMES];
    size_t sizes[RECV_FRAMES];
};

ngt_zmq_receiver *ngt_zmq_receiver_new(const char *endpoint, ngt_menu *m, ngt_error *err)
{
    ngt_zmq_receiver *r = calloc(1, sizeof *r);
    if (!r) {
        seterr(err, NGT_ENOMEM, "receiver: out of memory");
        return NULL;
    }
    r->m = m;
    r->s = ngt_menu_schema(m);
    r->nstreams = ngt_menu_nstreams(m);
    int nc = ngt_schema_ncolumns(r->s);
    r->cols = calloc((size_t)nc, sizeof *r->cols);
    r->bufs = calloc((size_t)nc * (size_t)r->nstreams, sizeof *r->bufs);
    r->events = calloc((size_t)r->nstreams, sizeof *r->events);
    r->seen = calloc((size_t)r->nstreams, sizeof *r->seen);
    r->lat = calloc(RECV_LAT, sizeof *r->lat);
    if (!r->cols || !r->bufs || !r->events || !r->seen || !r->lat) {
        seterr(err, NGT_ENOMEM, "receiver: out of memory");
        goto fail;
    }
    for (int i = 0; i < nc; i++) {
        const ngt_column_info *c = ngt_schema_column(r->s, i);
        if (!c->derived || !strcmp(c->name, "ngt.decision") || !strcmp(c->name, "ngt.streams") ||
            !strcmp(c->name, "ngt.status"))
            r->cols[r->ncols++] = i;
    }
    if (wire_layout_init(&r->l, r->s, 1, err) != NGT_OK)
        goto fail;
    r->l.max_events = WIRE_MAX_EVENTS;
    r->b = ngt_batch_new(r->s, RECV_CAP, err);
    r->ctx = zmq_ctx_new();
    r->sock = r->ctx ? zmq_socket(r->ctx, ZMQ_PULL) : NULL;
    if (!r->b || !r->sock) {
        seterr(err, NGT_EIO, "receiver: cannot start");
        goto fail;
    }
    int linger = 0;
    zmq_setsockopt(r->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_attach(r->sock, endpoint, 0, err) != NGT_OK)
        goto fail;
    return r;
fail:
    ngt_zmq_receiver_free(r);
    return NULL;
}

static int keep(rbuf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

/* Appends events [0, n) of the receiver's batch to stream s. */
static int keep_batch(ngt_zmq_receiver *r, int s, int n, ngt_error *err)
{
    for (int k = 0; k < r->ncols; k++) {
        const ngt_column_info *c = ngt_schema_column(r->s, r->cols[k]);
        const char *col = ngt_batch_column(r->b, r->cols[k]);
        rbuf *b = &r->bufs[(size_t)s * (size_t)ngt_schema_ncolumns(r->s) + (size_t)k];
        for (int i = 0; i < n; i++) {
            const char *row = c->kind == NGT_COL_SCALAR ? col : col + (size_t)i * c->row_bytes;
            if (keep(b, row, c->row_bytes) != 0)
                return seterr(err, NGT_ENOMEM, "receiver: out of memory");
        }
    }
    r->events[s] += (uint64_t)n;
    return NGT_OK;
}

static int take(ngt_zmq_receiver *r, int nparts, ngt_error *err)
{
    wire_msg m;
    if (wire_parse(&r->l, nparts, r->frames, r->sizes, &m, err) != NGT_OK)
        return NGT_EFORMAT;
    ngt_provenance p;
    char stream[NGT_NAME_MAX];
    wire_get_prov(m.prov, m.prov_size, &p, stream, err);
    int s = -1;
    for (int i = 0; i < r->nstreams; i++)
        if (!strcmp(ngt_menu_stream_name(r->m, i), stream))
            s = i;
    if (s < 0)
        return seterr(err, NGT_EFORMAT, "output of stream '%s', which this menu has not", stream);
    for (uint32_t from = 0; from < m.count; from += RECV_CAP) {
        int k = (int)(m.count - from < RECV_CAP ? m.count - from : RECV_CAP);
        if (wire_copy_in(&r->l, &m, (int)from, k, r->b, 0, r->bad, err) != 0)
            return NGT_EFORMAT;
        int rc = keep_batch(r, s, k, err);
        if (rc != NGT_OK)
            return rc;
    }
    r->seen[s] = 1;
    if (m.flags & WIRE_F_END)
        r->ends++;
    else if (m.send_ns) {
        uint64_t now = zmq_wall_ns();
        r->lat[r->n_lat++ % RECV_LAT] = now > m.send_ns ? (double)(now - m.send_ns) / 1e3 : 0;
    }
    return 1;
}

int ngt_zmq_receiver_next(ngt_zmq_receiver *r, int timeout_ms, ngt_error *err)
{
    zmq_pollitem_t item = {r->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return 0;
    int nparts = 0, more = 1;
    while (more) {
        zmq_msg_t *p = &r->parts[nparts < RECV_FRAMES ? nparts : RECV_FRAMES - 1];
        if (nparts >= RECV_FRAMES)
            zmq_msg_close(p);
        zmq_msg_init(p);
        if (zmq_msg_recv(p, r->sock, 0) < 0) {
            zmq_msg_close(p);
            break;
        }
        more = zmq_msg_more(p);
        if (nparts < RECV_FRAMES) {
            r->frames[nparts] = zmq_msg_data(p);
            r->sizes[nparts] = zmq_msg_size(p);
        }
        nparts++;
    }
    int used = nparts < RECV_FRAMES ? nparts : RECV_FRAMES;
    int rc = used ? take(r, used, err) : 0;
    for (int i = 0; i < used; i++)
        zmq_msg_close(&r->parts[i]);
    if (rc < 0)
        r->refused++;
    return rc;
}

uint64_t ngt_zmq_receiver_ends(const ngt_zmq_receiver *r)
{
    return r->ends;
}
uint64_t ngt_zmq_receiver_refused(const ngt_zmq_receiver *r)
{
    return r->refused;
}
uint64_t ngt_zmq_receiver_events(const ngt_zmq_receiver *r, int s)
{
    return s >= 0 && s < r->nstreams ? r->events[s] : 0;
}
int ngt_zmq_receiver_seen(const ngt_zmq_receiver *r, int s)
{
    return s >= 0 && s < r->nstreams ? r->seen[s] : 0;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void ngt_zmq_receiver_latency(const ngt_zmq_receiver *r, double *p50, double *p99)
{
    size_t n = r->n_lat < RECV_LAT ? (size_t)r->n_lat : RECV_LAT;
    *p50 = *p99 = 0;
    if (n == 0)
        return;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return;
    memcpy(v, r->lat, n * sizeof *v);
    qsort(v, n, sizeof *v, dcmp);
    *p50 = v[n / 2];
    *p99 = v[(size_t)((double)(n - 1) * 0.99)];
    free(v);
}

int ngt_zmq_receiver_write(const ngt_zmq_receiver *r, const char *dir, ngt_zmq_npy_write_fn write,
                           ngt_error *err)
{
    if (!write)
        return seterr(err, NGT_EINVAL, "recv: no .npy writer given");
    mkdir(dir, 0755);
    char path[4096];
    for (int s = 0; s < r->nstreams; s++) {
        if (!r->seen[s])
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, ngt_menu_stream_name(r->m, s));
        mkdir(path, 0755);
        for (int k = 0; k < r->ncols; k++) {
            const ngt_column_info *c = ngt_schema_column(r->s, r->cols[k]);
            const rbuf *b = &r->bufs[(size_t)s * (size_t)ngt_schema_ncolumns(r->s) + (size_t)k];
            int64_t shape[NGT_MAX_RANK + 1] = {(int64_t)r->events[s]};
            int rank = 1;
            if (c->kind != NGT_COL_SCALAR) {
                for (int d = 0; d < c->rank; d++)
                    shape[d + 1] = c->shape[d];
                rank = 1 + c->rank;
            }
            snprintf(path, sizeof path, "%s/%s/%s.npy", dir, ngt_menu_stream_name(r->m, s),
                     c->name);
            static const char empty[1] = {0};
            int rc = write(path, c->dtype, rank, shape, b->data ? b->data : empty, err);
            if (rc < 0)
                return rc;
        }
    }
    return NGT_OK;
}

void ngt_zmq_receiver_free(ngt_zmq_receiver *r)
{
    if (!r)
        return;
    if (r->sock)
        zmq_close(r->sock);
    if (r->ctx)
        zmq_ctx_term(r->ctx);
    if (r->bufs)
        for (size_t i = 0; i < (size_t)r->nstreams * (size_t)ngt_schema_ncolumns(r->s); i++)
            free(r->bufs[i].data);
    wire_layout_free(&r->l);
    ngt_batch_free(r->b);
    free(r->cols);
    free(r->bufs);
    free(r->events);
    free(r->seen);
    free(r->lat);
    free(r);
}
