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
    pthread_mutex_init(&n->done_mu, NULL);
    pthread_cond_init(&n->done_cv, NULL);
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

int ngt_zmq_node_sink(ngt_zmq_node *n, const char *stream, const char *endpoint, ngt_error *err)
{
    if (n->runner)
        return seterr(err, NGT_ESTATE, "zmq node: sinks are added before start");
    if (n->n_sinks == ZMQ_MAX_SINKS)
        return seterr(err, NGT_EINVAL, "zmq node: at most %d sinks", ZMQ_MAX_SINKS);
    int index = -1;
    for (int i = 0; i < ngt_menu_nstreams(n->menu); i++)
        if (stream && strcmp(ngt_menu_stream_name(n->menu, i), stream) == 0)
            index = i;
    if (index < 0)
        return seterr(err, NGT_EINVAL, "sink: the menu has no stream '%s'",
                      stream ? stream : "(null)");
    zmq_sink *s = zmq_sink_new(n, stream, index, endpoint, err);
    if (!s)
        return err ? err->code : NGT_EIO;
    n->sinks[n->n_sinks++] = s;
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

void ngt_zmq_node_stop(ngt_zmq_node *n)
{
    atomic_store(&n->stop, 1);
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
    return NGT_OK;
}

void ngt_zmq_node_stats(ngt_zmq_node *n, ngt_zmq_stats *s)
{
    pthread_mutex_lock(&n->st_mu);
    *s = n->st;
    pthread_mutex_unlock(&n->st_mu);
    s->sent_messages = s->sent_events = 0;
    for (int i = 0; i < n->n_sinks; i++) {
        zmq_sink *k = n->sinks[i];
        pthread_mutex_lock(&k->mu);
        s->sent_messages += k->sent_messages;
        s->sent_events += k->sent_events;
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
        zmq_sink_free(n->sinks[i]);
    if (n->src_sock)
        zmq_close(n->src_sock);
    if (n->ctx)
        zmq_ctx_term(n->ctx);
    wire_layout_free(&n->in);
    wire_layout_free(&n->out);
    ngt_batch_free(n->scratch);
    free(n->bad);
    pthread_mutex_destroy(&n->done_mu);
    pthread_cond_destroy(&n->done_cv);
    pthread_mutex_destroy(&n->st_mu);
    free(n);
}
