/* zmq_node.c: a node's lifecycle around a runner: the PULL socket and the sinks made on the
 * caller's thread, then handed to their own threads (start); stop, finish (drain and flush) and
 * the statistics. */
#include "zmq_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

uint64_t zmq_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int zmq_attach(void *s, const char *endpoint, int default_bind, ngt_error *err)
{
    int bind = default_bind;
    const char *ep = endpoint;
    if (ep[0] == '@' || ep[0] == '>') {
        bind = ep[0] == '@';
        ep++;
    }
    int rc = bind ? zmq_bind(s, ep) : zmq_connect(s, ep);
    if (rc != 0)
        return seterr(err, NGT_EIO, "cannot %s %s: %s", bind ? "bind" : "connect to", ep,
                      zmq_strerror(zmq_errno()));
    return NGT_OK;
}

static void node_settle(ngt_zmq_opts *o, const ngt_zmq_opts *in)
{
    if (in)
        *o = *in;
    if (o->flush_ms <= 0)
        o->flush_ms = 1;
    if (o->max_events <= 0 || o->max_events > WIRE_MAX_EVENTS)
        o->max_events = WIRE_DEFAULT_MAX_EVENTS;
    if (o->hwm <= 0)
        o->hwm = 1000;
    if (o->linger_ms <= 0)
        o->linger_ms = 10000;
}

ngt_zmq_node *ngt_zmq_node_new(ngt_menu *m, const char *source, const ngt_zmq_opts *opts,
                               ngt_error *err)
{
    if (!m || !source || !*source) {
        seterr(err, NGT_EINVAL, "zmq node: a menu and a source endpoint are needed");
        return NULL;
    }
    ngt_zmq_node *n = calloc(1, sizeof *n);
    if (!n) {
        seterr(err, NGT_ENOMEM, "zmq node: out of memory");
        return NULL;
    }
    n->menu = m;
    node_settle(&n->o, opts);
    n->epoch = zmq_wall_ns();
    atomic_init(&n->stop, 0);
    atomic_init(&n->stop_ns, 0);
    pthread_mutex_init(&n->done_mu, NULL);
    pthread_cond_init(&n->done_cv, NULL);
    pthread_cond_init(&n->pause_cv, NULL);
    atomic_init(&n->pause_req, 0);
    pthread_mutex_init(&n->st_mu, NULL);
    const ngt_schema *s = ngt_menu_schema(m);
    if (wire_layout_init(&n->in, s, 0, err) != NGT_OK ||
        wire_layout_init(&n->out, s, 1, err) != NGT_OK)
        goto fail;
    n->in.max_events = (uint32_t)n->o.max_events;
    n->ctx = zmq_ctx_new();
    n->src_sock = n->ctx ? zmq_socket(n->ctx, ZMQ_PULL) : NULL;
    if (!n->src_sock) {
        seterr(err, NGT_EIO, "zmq node: cannot make a socket: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    int hwm = n->o.hwm, linger = 0;
    zmq_setsockopt(n->src_sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(n->src_sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_attach(n->src_sock, source, 1, err) != NGT_OK) {
        preferr(err, NGT_EIO, "source");
        goto fail;
    }
    return n;
fail:
    ngt_zmq_node_free(n);
    return NULL;
}

/* The index of stream name in m, or -1. */
static int stream_index(ngt_menu *m, const char *name)
{
    for (int i = 0; i < ngt_menu_nstreams(m); i++)
        if (strcmp(ngt_menu_stream_name(m, i), name) == 0)
            return i;
    return -1;
}

static zmq_sink *find_sink(ngt_zmq_node *n, const char *stream, const char *endpoint)
{
    for (int i = 0; i < n->n_sinks; i++)
        if (strcmp(n->sinks[i]->stream, stream) == 0 && endpoint &&
            strcmp(n->sinks[i]->endpoint, endpoint) == 0)
            return n->sinks[i];
    return NULL;
}

static int is_paused(ngt_zmq_node *n)
{
    pthread_mutex_lock(&n->done_mu);
    int p = n->paused;
    pthread_mutex_unlock(&n->done_mu);
    return p;
}

int ngt_zmq_node_sink(ngt_zmq_node *n, const char *stream, const char *endpoint, ngt_error *err)
{
    if (n->runner && !is_paused(n))
        return seterr(err, NGT_ESTATE, "zmq node: sinks are added before start or while paused");
    int index = stream ? stream_index(n->menu, stream) : -1;
    if (index < 0)
        return seterr(err, NGT_EINVAL, "sink: the menu has no stream '%s'",
                      stream ? stream : "(null)");
    zmq_sink *was = find_sink(n, stream, endpoint);
    if (was) { /* a reload brings its stream back: the same socket, nothing rebound */
        was->index = index;
        return NGT_OK;
    }
    if (n->n_sinks == ZMQ_MAX_SINKS)
        return seterr(err, NGT_EINVAL, "zmq node: at most %d sinks", ZMQ_MAX_SINKS);
    zmq_sink *s = zmq_sink_new(n, stream, index, endpoint, err);
    if (!s)
        return err ? err->code : NGT_EIO;
    if (n->runner && zmq_sink_start(s, err) != NGT_OK) {
        zmq_sink_free(s);
        return err ? err->code : NGT_EIO;
    }
    n->sinks[n->n_sinks++] = s;
    return NGT_OK;
}

int ngt_zmq_node_sink_detach(ngt_zmq_node *n, const char *stream, const char *endpoint,
                             ngt_error *err)
{
    if (!is_paused(n))
        return seterr(err, NGT_ESTATE, "zmq node: sinks are detached while paused");
    zmq_sink *s = stream ? find_sink(n, stream, endpoint) : NULL;
    if (!s)
        return seterr(err, NGT_EINVAL, "sink: none for stream '%s' at %s",
                      stream ? stream : "(null)", endpoint ? endpoint : "(null)");
    if (s->index >= 0)
        zmq_sink_detach(s);
    return NGT_OK;
}

void ngt_zmq_node_chain(ngt_zmq_node *n, ngt_sink_fn also, void *user)
{
    n->also = also;
    n->also_user = user;
}

void ngt_zmq_node_sink_fn(void *user, ngt_batch *b)
{
    ngt_zmq_node *n = user;
    if (n->n_sinks > 0) {
        const ngt_provenance *p = ngt_batch_provenance(b);
        for (int i = 0; i < n->n_sinks; i++)
            if (n->sinks[i]->index >= 0)
                zmq_sink_deliver(n->sinks[i], b, p);
    }
    if (n->also)
        n->also(n->also_user, b);
}

int ngt_zmq_node_start(ngt_zmq_node *n, ngt_runner *r, ngt_error *err)
{
    if (n->runner)
        return seterr(err, NGT_ESTATE, "zmq node: already started");
    n->runner = r;
    ngt_batch *probe = ngt_runner_acquire(r);
    if (!probe)
        return seterr(err, NGT_ESTATE, "zmq node: the runner is stopping");
    n->capacity = ngt_batch_capacity(probe);
    ngt_runner_release(r, probe);
    n->scratch = ngt_batch_new(ngt_menu_schema(n->menu), n->capacity, err);
    n->bad = malloc((size_t)n->capacity);
    if (!n->scratch || !n->bad)
        return seterr(err, NGT_ENOMEM, "zmq node: out of memory");
    for (int i = 0; i < n->n_sinks; i++)
        if (zmq_sink_start(n->sinks[i], err) != NGT_OK)
            return err ? err->code : NGT_EIO;
    if (pthread_create(&n->src_tid, NULL, zmq_source_main, n) != 0)
        return seterr(err, NGT_EIO, "zmq node: cannot start the source thread");
    n->src_started = 1;
    return NGT_OK;
}

int ngt_zmq_node_wait(ngt_zmq_node *n, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ULL;
    ts.tv_sec += (time_t)(ns / 1000000000ULL);
    ts.tv_nsec = (long)(ns % 1000000000ULL);
    pthread_mutex_lock(&n->done_mu);
    while (!n->src_done && n->src_started)
        if (pthread_cond_timedwait(&n->done_cv, &n->done_mu, &ts) != 0)
            break;
    int done = n->src_done || !n->src_started;
    pthread_mutex_unlock(&n->done_mu);
    return done;
}

void zmq_node_request_stop(ngt_zmq_node *n)
{
    uint64_t none = 0;
    atomic_compare_exchange_strong(&n->stop_ns, &none, now_ns());
    atomic_store(&n->stop, 1);
}

void ngt_zmq_node_stop(ngt_zmq_node *n)
{
    zmq_node_request_stop(n);
    pthread_mutex_lock(&n->done_mu);
    pthread_cond_broadcast(&n->pause_cv);
    pthread_mutex_unlock(&n->done_mu);
}

void ngt_zmq_node_pause(ngt_zmq_node *n)
{
    atomic_store(&n->pause_req, 1);
    pthread_mutex_lock(&n->done_mu);
    while (n->src_started && !n->src_done && !n->paused)
        pthread_cond_wait(&n->done_cv, &n->done_mu);
    if (!n->src_started || n->src_done)
        n->paused = 1; /* no source thread: nothing to hold */
    pthread_mutex_unlock(&n->done_mu);
}

void ngt_zmq_node_resume(ngt_zmq_node *n)
{
    pthread_mutex_lock(&n->done_mu);
    atomic_store(&n->pause_req, 0);
    if (!n->src_started || n->src_done)
        n->paused = 0;
    pthread_cond_broadcast(&n->pause_cv);
    pthread_mutex_unlock(&n->done_mu);
}

int ngt_zmq_node_retarget(ngt_zmq_node *n, ngt_menu *m, ngt_runner *r, ngt_error *err)
{
    if (!n->runner || !is_paused(n))
        return seterr(err, NGT_ESTATE, "zmq node: retarget needs a started node, paused");
    if (!m || !r)
        return seterr(err, NGT_EINVAL, "zmq node: retarget needs a menu and its runner");
    ngt_batch *probe = ngt_runner_acquire(r);
    if (!probe)
        return seterr(err, NGT_ESTATE, "zmq node: the new runner is stopping");
    int cap = ngt_batch_capacity(probe);
    ngt_runner_release(r, probe);
    /* everything that can fail is made before the node changes */
    wire_layout in = {0}, out = {0};
    const ngt_schema *s = ngt_menu_schema(m);
    ngt_batch *scratch = NULL;
    uint8_t *bad = NULL;
    if (wire_layout_init(&in, s, 0, err) != NGT_OK || wire_layout_init(&out, s, 1, err) != NGT_OK)
        goto fail;
    scratch = ngt_batch_new(s, cap, err);
    bad = malloc((size_t)cap);
    if (!scratch || !bad) {
        seterr(err, NGT_ENOMEM, "zmq node: out of memory");
        goto fail;
    }
    in.max_events = n->in.max_events;
    /* sinks follow their stream by name; one whose stream the new menu lacks sends an end of
     * stream and is detached (its socket stays bound, for the stream to come back) */
    for (int i = 0; i < n->n_sinks; i++) {
        zmq_sink *k = n->sinks[i];
        int index = stream_index(m, k->stream);
        if (index < 0 && k->index >= 0)
            zmq_sink_detach(k);
        else
            zmq_sink_idle(k);
        if (k->index >= 0) /* a detached sink stays so until ngt_zmq_node_sink takes it back */
            k->index = index;
    }
    wire_layout old_out = n->out;
    wire_layout_free(&n->in);
    n->in = in;
    n->out = out;
    ngt_batch_free(n->scratch);
    free(n->bad);
    n->scratch = scratch;
    n->bad = bad;
    n->capacity = cap;
    n->menu = m;
    n->runner = r;
    int rc = NGT_OK;
    for (int i = 0; i < n->n_sinks; i++)
        if (zmq_sink_relayout(n->sinks[i], err) != NGT_OK && rc == NGT_OK) {
            rc = err ? err->code : NGT_ENOMEM;
            ngt_zmq_node_stop(n); /* a sink without buffers cannot take events */
        }
    wire_layout_free(&old_out);
    return rc;
fail:
    wire_layout_free(&in);
    wire_layout_free(&out);
    ngt_batch_free(scratch);
    free(bad);
    return err ? err->code : NGT_ENOMEM;
}

int ngt_zmq_node_finish(ngt_zmq_node *n, ngt_error *err)
{
    (void)err;
    if (n->finished)
        return NGT_OK;
    n->finished = 1;
    ngt_zmq_node_stop(n);
    if (n->src_started)
        pthread_join(n->src_tid, NULL);
    n->src_started = 0;
    if (n->runner)
        ngt_runner_drain(n->runner);
    for (int i = 0; i < n->n_sinks; i++)
        zmq_sink_stop(n->sinks[i]);
    for (int i = 0; i < n->n_sinks; i++)
        zmq_sink_settle(n->sinks[i]);
    return NGT_OK;
}

void ngt_zmq_node_stats(ngt_zmq_node *n, ngt_zmq_stats *s)
{
    pthread_mutex_lock(&n->st_mu);
    *s = n->st;
    pthread_mutex_unlock(&n->st_mu);
    s->sent_messages = s->sent_events = s->undelivered_events = 0;
    for (int i = 0; i < n->n_sinks; i++) {
        zmq_sink *k = n->sinks[i];
        pthread_mutex_lock(&k->mu);
        s->sent_messages += k->sent_messages;
        s->sent_events += k->sent_events;
        s->undelivered_events += k->undelivered;
        pthread_mutex_unlock(&k->mu);
    }
}

void ngt_zmq_node_free(ngt_zmq_node *n)
{
    if (!n)
        return;
    if (n->runner)
        ngt_zmq_node_finish(n, NULL);
    for (int i = 0; i < n->n_sinks; i++)
        zmq_sink_close(n->sinks[i]);
    if (n->src_sock)
        zmq_close(n->src_sock);
    if (n->ctx)
        zmq_ctx_term(n->ctx); /* every frame sent or dropped: the sinks' buffers are released */
    for (int i = 0; i < n->n_sinks; i++)
        zmq_sink_free(n->sinks[i]);
    wire_layout_free(&n->in);
    wire_layout_free(&n->out);
    ngt_batch_free(n->scratch);
    free(n->bad);
    pthread_mutex_destroy(&n->done_mu);
    pthread_cond_destroy(&n->done_cv);
    pthread_cond_destroy(&n->pause_cv);
    pthread_mutex_destroy(&n->st_mu);
    free(n);
}
