/* zmq_sink.c: one output stream's PUSH socket and its thread. The runner's sink (on a worker, in
 * submission order) copies the stream's events into the open output message, which is queued when
 * full or when the next events differ in provenance or batch scalars; the sink thread sends queued
 * messages and flushes an open one older than the flush timeout. A full queue blocks the worker
 * (back-pressure through the runner's pool up to the source), never drops. */
#include "zmq_int.h"

#include <string.h>
#include <time.h>
#include <zmq.h>

enum { SINK_ZERO_COPY_MIN = 16384 }; /* bytes: smaller frames are copied by zmq_send */

static void obuf_free(zmq_obuf *o)
{
    if (!o)
        return;
    for (int k = 0; o->frames && k < o->nf; k++)
        free(o->frames[k]);
    free(o->frames);
    free(o->rows);
    free(o->header);
    free(o);
}

static zmq_obuf *obuf_new(zmq_sink *s, int slot, const wire_layout *l, int cap)
{
    int nf = l->n_frames - 1;
    zmq_obuf *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->owner = s;
    o->slot = slot;
    o->nf = nf;
    atomic_init(&o->refs, 0);
    o->header = calloc(1, wire_header_size(l));
    o->frames = calloc((size_t)nf, sizeof *o->frames);
    o->rows = calloc((size_t)nf, sizeof *o->rows);
    if (!o->header || !o->frames || !o->rows) {
        obuf_free(o);
        return NULL;
    }
    for (int k = 0; k < l->n_cols; k++)
        o->rows[k] = l->row[k];
    o->rows[l->n_cols] = 8;
    o->rows[l->n_cols + 1] = l->row_decision;
    o->rows[l->n_cols + 2] = 8;
    o->rows[l->n_cols + 3] = 1;
    for (int k = 0; k < nf - 1; k++)
        if (!(o->frames[k] = malloc(o->rows[k] * (size_t)cap + 1))) {
            obuf_free(o);
            return NULL;
        }
    if (!(o->frames[nf - 1] = malloc(wire_prov_size(NGT_MAX_MENU_MODELS)))) {
        obuf_free(o);
        return NULL;
    }
    return o;
}

/* Drops one reference; the last one gives the buffer back to its sink (or frees an orphan). Runs on
 * the sink thread and on libzmq's I/O thread (zmq_msg_init_data's free function). */
static void obuf_release(zmq_obuf *o)
{
    if (atomic_fetch_sub(&o->refs, 1) != 1)
        return;
    zmq_sink *s = o->owner;
    pthread_mutex_lock(&s->mu);
    int orphan = o->orphan;
    if (!orphan) {
        s->free_list[s->n_free++] = o->slot;
        pthread_cond_broadcast(&s->free_cv);
    }
    pthread_mutex_unlock(&s->mu);
    if (orphan)
        obuf_free(o);
}

static void frame_done(void *data, void *hint)
{
    (void)data;
    obuf_release(hint);
}

zmq_sink *zmq_sink_new(ngt_zmq_node *n, const char *stream, int index, const char *endpoint,
                       ngt_error *err)
{
    zmq_sink *s = calloc(1, sizeof *s);
    if (!s) {
        seterr(err, NGT_ENOMEM, "sink: out of memory");
        return NULL;
    }
    s->node = n;
    s->index = index;
    s->open = -1;
    str_copy(s->stream, stream, sizeof s->stream);
    str_copy(s->endpoint, endpoint, sizeof s->endpoint);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->free_cv, NULL);
    s->sock = zmq_socket(n->ctx, ZMQ_PUSH);
    if (!s->sock) {
        seterr(err, NGT_EIO, "sink '%s': %s", stream, zmq_strerror(zmq_errno()));
        zmq_sink_free(s);
        return NULL;
    }
    int hwm = n->o.hwm, linger = -1; /* zmq_sink_settle bounds the wait and sets it to 0 */
    zmq_setsockopt(s->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_attach(s->sock, endpoint, 1, err) != NGT_OK) {
        preferr(err, NGT_EIO, "sink '%s'", stream);
        zmq_sink_free(s);
        return NULL;
    }
    return s;
}

static void *sink_main(void *arg);

/* Marks in is_free the buffers on the free list (mu held); the others are queued, being filled
 * or in libzmq's hands. */
static void free_slots(const zmq_sink *s, int *is_free)
{
    for (int i = 0; i < ZMQ_OUT_BUFS; i++)
        is_free[i] = 0;
    for (int i = 0; i < s->n_free; i++)
        is_free[s->free_list[i]] = 1;
}

/* Makes every buffer for the node's output layout (mu held, or before start). A buffer still in
 * libzmq's hands is orphaned: it frees itself when released. */
static int sink_buffers(zmq_sink *s, ngt_error *err)
{
    ngt_zmq_node *n = s->node;
    int is_free[ZMQ_OUT_BUFS];
    free_slots(s, is_free);
    s->n_free = 0;
    for (int i = 0; i < ZMQ_OUT_BUFS; i++) {
        if (s->bufs[i] && is_free[i])
            obuf_free(s->bufs[i]);
        else if (s->bufs[i])
            s->bufs[i]->orphan = 1;
        s->bufs[i] = obuf_new(s, i, &n->out, n->capacity);
        if (!s->bufs[i])
            return seterr(err, NGT_ENOMEM, "sink '%s': out of memory", s->stream);
        s->free_list[s->n_free++] = i;
    }
    return NGT_OK;
}

int zmq_sink_start(zmq_sink *s, ngt_error *err)
{
    if (sink_buffers(s, err) != NGT_OK)
        return err ? err->code : NGT_ENOMEM;
    if (pthread_create(&s->tid, NULL, sink_main, s) != 0)
        return seterr(err, NGT_EIO, "sink '%s': cannot start its thread", s->stream);
    s->started = 1;
    return NGT_OK;
}

static int prov_equal(const ngt_provenance *a, const ngt_provenance *b)
{
    if (a->menu_hash != b->menu_hash || a->n_models != b->n_models ||
        strcmp(a->prescale_column, b->prescale_column) != 0)
        return 0;
    for (int k = 0; k < a->n_models; k++)
        if (a->models[k].hash != b->models[k].hash || a->models[k].serial != b->models[k].serial)
            return 0;
    return 1;
}

static int scalars_equal(const wire_layout *l, const uint8_t *header, ngt_batch *b)
{
    const uint8_t *p = header + WIRE_HEADER;
    for (int k = 0; k < l->n_scalars; k++) {
        if (memcmp(ngt_batch_column(b, l->scalars[k]), p, l->sc_size[k]) != 0)
            return 0;
        p += l->sc_size[k];
    }
    return 1;
}

/* Queues the open message (mu held). */
static void queue_open(zmq_sink *s)
{
    if (s->open < 0)
        return;
    s->queue[(s->q_head + s->q_count) % ZMQ_OUT_BUFS] = s->open;
    s->q_count++;
    s->open = -1;
    pthread_cond_signal(&s->work_cv);
}

/* Opens a message for b's events (mu held; waits for a free buffer). */
static zmq_obuf *open_for(zmq_sink *s, ngt_batch *b, const ngt_provenance *p)
{
    while (s->n_free == 0)
        pthread_cond_wait(&s->free_cv, &s->mu);
    s->open = s->free_list[--s->n_free];
    zmq_obuf *o = s->bufs[s->open];
    wire_msg h = {0};
    wire_put_header(o->header, &s->node->out, &h, b);
    o->n = 0;
    o->prov = *p;
    o->prov_size = wire_prov_size(p->n_models);
    wire_put_prov(o->frames[s->node->out.n_frames - 2], p, s->stream);
    o->t0 = now_ns();
    return o;
}

/* Copies rows [i, j) of b into the open message o. */
static void copy_rows(const wire_layout *l, zmq_obuf *o, ngt_batch *b, int i, int j)
{
    size_t n = (size_t)(j - i);
    for (int k = 0; k < l->n_cols; k++)
        memcpy(o->frames[k] + (size_t)o->n * l->row[k],
               (const uint8_t *)ngt_batch_column(b, l->cols[k]) + (size_t)i * l->row[k],
               n * l->row[k]);
    memcpy(o->frames[l->n_cols] + (size_t)o->n * 8, ngt_batch_event_ids(b) + i, n * 8);
    const int cols[3] = {l->col_decision, l->col_streams, l->col_status};
    for (int k = 0; k < 3; k++) {
        size_t rb = o->rows[l->n_cols + 1 + k];
        memcpy(o->frames[l->n_cols + 1 + k] + (size_t)o->n * rb,
               (const uint8_t *)ngt_batch_column(b, cols[k]) + (size_t)i * rb, n * rb);
    }
    o->n += j - i;
}

void zmq_sink_deliver(zmq_sink *s, ngt_batch *b, const ngt_provenance *p)
{
    ngt_zmq_node *n = s->node;
    const wire_layout *l = &n->out;
    const uint64_t *streams = ngt_batch_column(b, l->col_streams);
    int nev = ngt_batch_count(b), cap = n->capacity;
    pthread_mutex_lock(&s->mu);
    /* provenance and batch scalars are the batch's: a message never spans a change of either */
    if (s->open >= 0 &&
        (!prov_equal(&s->bufs[s->open]->prov, p) || !scalars_equal(l, s->bufs[s->open]->header, b)))
        queue_open(s);
    int i = 0;
    while (i < nev) {
        if (!(streams[i] >> s->index & 1)) {
            i++;
            continue;
        }
        zmq_obuf *o = s->open >= 0 ? s->bufs[s->open] : open_for(s, b, p);
        int j = i + 1;
        while (j < nev && j - i < cap - o->n && (streams[j] >> s->index & 1))
            j++;
        copy_rows(l, o, b, i, j); /* a run of consecutive events in one copy per frame */
        if (o->n == cap)
            queue_open(s);
        i = j;
    }
    pthread_mutex_unlock(&s->mu);
}

/* Sends one message (the sink thread, without the lock); blocks while the peer's queue is full.
 * Header and provenance are copied; column frames go without a copy, each holding a reference on
 * o that libzmq drops once the frame has left; the caller holds one more and drops it after. */
/* Waits until the socket takes a message (back-pressure: indefinitely while the node runs); after
 * a stop, gives up when the peer has taken nothing for linger_ms. Returns 0 when it can send. */
static int wait_writable(zmq_sink *s)
{
    ngt_zmq_node *n = s->node;
    zmq_pollitem_t it = {s->sock, 0, ZMQ_POLLOUT, 0};
    for (;;) {
        if (zmq_poll(&it, 1, 50) > 0 && (it.revents & ZMQ_POLLOUT))
            return 0;
        if (atomic_load(&n->stop)) { /* the linger counts from the stop or the last send */
            uint64_t since = atomic_load(&n->stop_ns);
            since = s->progress_ns > since ? s->progress_ns : since;
            if (now_ns() - since >= (uint64_t)n->o.linger_ms * 1000000ULL)
                return -1;
        }
    }
}

static int send_obuf(zmq_sink *s, zmq_obuf *o, uint64_t first, uint32_t flags)
{
    const wire_layout *l = &s->node->out;
    atomic_store(&o->refs, 1); /* the caller's, dropped after the send (or the drop) */
    if (wait_writable(s) != 0)
        return -1;
    wire_st32(o->header + 8, flags | WIRE_F_OUTPUT);
    wire_st32(o->header + 12, s->node->o.node_id);
    wire_st64(o->header + 24, s->node->epoch);
    wire_st64(o->header + 32, first);
    wire_st32(o->header + 40, (uint32_t)o->n);
    wire_st64(o->header + 48, o->send_ns ? o->send_ns : zmq_wall_ns());
    int nf = o->nf;
    zmq_send(s->sock, o->header, wire_header_size(l), ZMQ_SNDMORE);
    for (int k = 0; k < nf - 1; k++) {
        size_t size = o->rows[k] * (size_t)o->n;
        zmq_msg_t m;
        if (size < SINK_ZERO_COPY_MIN) { /* a copy costs less than libzmq's bookkeeping */
            zmq_send(s->sock, o->frames[k], size, ZMQ_SNDMORE);
            continue;
        }
        atomic_fetch_add(&o->refs, 1);
        if (zmq_msg_init_data(&m, o->frames[k], size, frame_done, o) != 0) {
            atomic_fetch_sub(&o->refs, 1);
            zmq_send(s->sock, o->frames[k], size, ZMQ_SNDMORE); /* cannot happen: a copy then */
            continue;
        }
        if (zmq_msg_send(&m, s->sock, ZMQ_SNDMORE) < 0)
            zmq_msg_close(&m); /* releases the reference */
    }
    zmq_send(s->sock, o->frames[nf - 1], o->prov_size, 0);
    s->progress_ns = now_ns();
    return 0;
}

static void deadline(struct timespec *ts, double ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    uint64_t ns = (uint64_t)ts->tv_nsec + (uint64_t)(ms * 1e6);
    ts->tv_sec += (time_t)(ns / 1000000000ULL);
    ts->tv_nsec = (long)(ns % 1000000000ULL);
}

/* Sends buffer o (mu held; released while sending). Returns 0, or -1 when it was dropped (its
 * events counted undelivered). */
static int send_locked(zmq_sink *s, zmq_obuf *o, uint32_t flags)
{
    uint64_t first = s->sent_events;
    int n = o->n; /* o may be reused once released */
    s->sending = 1;
    pthread_mutex_unlock(&s->mu);
    int rc = send_obuf(s, o, first, flags);
    obuf_release(o);
    pthread_mutex_lock(&s->mu);
    s->sending = 0;
    if (rc != 0)
        s->undelivered += (uint64_t)n;
    pthread_cond_broadcast(&s->free_cv);
    return rc;
}

/* Sends an end of stream: no events, the last provenance known (or none). mu held. */
static void send_end(zmq_sink *s)
{
    while (s->n_free == 0)
        pthread_cond_wait(&s->free_cv, &s->mu);
    zmq_obuf *o = s->bufs[s->free_list[--s->n_free]];
    if (o->prov_size == 0) {
        memset(&o->prov, 0, sizeof o->prov);
        o->prov_size = wire_prov_size(0);
    }
    wire_put_prov(o->frames[o->nf - 1], &o->prov, s->stream);
    wire_msg h = {0};
    wire_put_header(o->header, &s->node->out, &h, NULL);
    o->n = 0;
    o->send_ns = 0;
    send_locked(s, o, WIRE_F_END);
    s->ended = 1;
}

static void *sink_main(void *arg)
{
    zmq_sink *s = arg;
    uint64_t flush_ns = (uint64_t)(s->node->o.flush_ms * 1e6);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->q_count == 0 && s->open >= 0 &&
            (s->stop || s->end_req || now_ns() - s->bufs[s->open]->t0 >= flush_ns))
            queue_open(s);
        if (s->q_count == 0 && s->end_req) {
            send_end(s);
            s->end_req = 0;
            pthread_cond_broadcast(&s->free_cv);
            continue;
        }
        if (s->q_count == 0) {
            if (s->stop)
                break;
            struct timespec ts;
            deadline(&ts, s->open >= 0 ? s->node->o.flush_ms : 50);
            pthread_cond_timedwait(&s->work_cv, &s->mu, &ts);
            continue;
        }
        zmq_obuf *o = s->bufs[s->queue[s->q_head]];
        s->q_head = (s->q_head + 1) % ZMQ_OUT_BUFS;
        s->q_count--;
        o->send_ns = 0;
        int n = o->n; /* o may be reused once released */
        if (send_locked(s, o, 0) == 0) {
            s->sent_events += (uint64_t)n;
            s->sent_messages++;
        }
        s->ended = 0;
    }
    if (!(s->ended && s->index < 0)) /* a detached sink has sent its end already */
        send_end(s);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void zmq_sink_stop(zmq_sink *s)
{
    if (!s->started)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->tid, NULL);
    s->started = 0;
}

void zmq_sink_idle(zmq_sink *s)
{
    pthread_mutex_lock(&s->mu);
    queue_open(s);
    while (s->started && (s->q_count > 0 || s->sending))
        pthread_cond_wait(&s->free_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

void zmq_sink_detach(zmq_sink *s)
{
    zmq_sink_idle(s);
    pthread_mutex_lock(&s->mu);
    s->index = -1;
    if (s->started) {
        s->end_req = 1;
        pthread_cond_signal(&s->work_cv);
        while (s->end_req)
            pthread_cond_wait(&s->free_cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
}

int zmq_sink_relayout(zmq_sink *s, ngt_error *err)
{
    pthread_mutex_lock(&s->mu); /* the sink thread reads the layout after taking mu */
    int rc = sink_buffers(s, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void zmq_sink_settle(zmq_sink *s)
{
    uint64_t wait_ns = (uint64_t)s->node->o.linger_ms * 1000000ULL;
    pthread_mutex_lock(&s->mu);
    int seen = s->n_free;
    uint64_t since = now_ns();
    while (s->n_free < ZMQ_OUT_BUFS && now_ns() - since < wait_ns) {
        struct timespec ts;
        deadline(&ts, 50);
        pthread_cond_timedwait(&s->free_cv, &s->mu, &ts);
        if (s->n_free > seen) { /* progress: the peer takes messages */
            seen = s->n_free;
            since = now_ns();
        }
    }
    /* what libzmq still holds is undelivered: out of the sent counts, into undelivered */
    int kept = s->n_free < ZMQ_OUT_BUFS, is_free[ZMQ_OUT_BUFS];
    free_slots(s, is_free);
    for (int i = 0; kept && i < ZMQ_OUT_BUFS; i++)
        if (s->bufs[i] && !is_free[i] && s->bufs[i]->n > 0) {
            s->undelivered += (uint64_t)s->bufs[i]->n;
            s->sent_events -= (uint64_t)s->bufs[i]->n;
            s->sent_messages--;
        }
    pthread_mutex_unlock(&s->mu);
    if (kept && s->sock) {
        int linger = 0; /* drop them at close instead of waiting for a peer that is gone */
        zmq_setsockopt(s->sock, ZMQ_LINGER, &linger, sizeof linger);
    }
}

void zmq_sink_close(zmq_sink *s)
{
    if (!s)
        return;
    zmq_sink_stop(s);
    if (s->sock)
        zmq_close(s->sock);
    s->sock = NULL;
}

void zmq_sink_free(zmq_sink *s)
{
    if (!s)
        return;
    zmq_sink_close(s);
    for (int i = 0; i < ZMQ_OUT_BUFS; i++)
        obuf_free(s->bufs[i]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->free_cv);
    free(s);
}
