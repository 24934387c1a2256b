/* zmq_int.h: the node's internals shared by zmq_node.c (lifecycle, statistics), zmq_source.c (the
 * PULL thread) and zmq_sink.c (the PUSH threads). Each socket is owned by one thread. */
#ifndef NGT_ZMQ_INT_H
#define NGT_ZMQ_INT_H

#include "internal.h"
#include "ngt_zmq.h"
#include "wire.h"

#include <pthread.h>
#include <stdatomic.h>

enum {
    ZMQ_MAX_SINKS = 64,
    ZMQ_OUT_BUFS = 8,     /* output messages per sink: one filling, the rest queued or sending */
    ZMQ_MAX_SOURCES = 64, /* (source, epoch) pairs tracked for sequence gaps */
    ZMQ_ENDPOINT_MAX = 512
};

/* One output message being filled, queued, or in libzmq's hands: every frame preallocated for cap
 * events. Its column frames are sent without a copy (zmq_msg_init_data): the buffer comes back to
 * its sink when libzmq has released every frame (refs); one orphaned by a reload frees itself. */
struct zmq_sink;
typedef struct zmq_obuf {
    struct zmq_sink *owner;
    int slot, nf; /* its index in owner->bufs; frames (n_frames - 1) */
    atomic_int refs;
    int orphan; /* owner->mu */
    uint8_t *header;
    uint8_t **frames; /* layout.n_frames - 1: columns, ids, decision, streams, status, provenance */
    size_t *rows;     /* bytes per event of each frame but the provenance */
    int n;
    ngt_provenance prov;
    size_t prov_size;
    uint64_t t0; /* when its first event came */
    uint64_t send_ns;
} zmq_obuf;

typedef struct zmq_sink {
    struct ngt_zmq_node *node;
    char stream[NGT_NAME_MAX];
    char endpoint[ZMQ_ENDPOINT_MAX];
    int index; /* menu stream index; -1: detached (a reload removed its stream) */
    void *sock;
    pthread_t tid;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a buffer was queued, or stop */
    pthread_cond_t free_cv; /* a buffer came back */
    zmq_obuf *bufs[ZMQ_OUT_BUFS];
    int free_list[ZMQ_OUT_BUFS], n_free;
    int queue[ZMQ_OUT_BUFS], q_head, q_count;
    int open; /* filling, or -1 */
    int stop;
    int sending;                         /* the sink thread is in a send */
    int end_req;                         /* send an end of stream now (detach) */
    int ended;                           /* the last message sent was an end of stream */
    uint64_t sent_events, sent_messages; /* handed to libzmq */
    uint64_t undelivered;                /* events dropped after the stop's linger (mu) */
    uint64_t progress_ns;                /* the sink thread's last send (its own) */
} zmq_sink;

typedef struct zmq_seq {
    uint32_t source;
    uint64_t epoch, next, last; /* last: when it was last used (seq_clock) */
    int used;
} zmq_seq;

struct ngt_zmq_node {
    ngt_menu *menu;
    ngt_runner *runner;
    ngt_zmq_opts o;
    void *ctx;
    void *src_sock;
    wire_layout in, out;
    int capacity;
    uint64_t epoch; /* this node's start, ns since the Unix epoch */
    /* source thread */
    pthread_t src_tid;
    int src_started;
    atomic_int stop;
    _Atomic uint64_t stop_ns; /* when stop was first asked (zmq_node_request_stop) */
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv;
    int src_done;
    /* pause (a reload): the source submits its partial batch and waits on pause_cv */
    atomic_int pause_req;
    int paused; /* done_mu */
    pthread_cond_t pause_cv;
    ngt_batch *scratch; /* counts of messages that span batches are checked here first */
    uint8_t *bad;
    zmq_seq seqs[ZMQ_MAX_SOURCES];
    uint64_t seq_clock;
    /* statistics (source thread writes; anyone reads) */
    pthread_mutex_t st_mu;
    ngt_zmq_stats st;
    /* sinks */
    zmq_sink *sinks[ZMQ_MAX_SINKS];
    int n_sinks;
    ngt_sink_fn also;
    void *also_user;
    int finished;
};

/* zmq_node.c: endpoint with its '@' / '>' prefix: binds or connects s; default_bind otherwise. */
int zmq_attach(void *s, const char *endpoint, int default_bind, ngt_error *err);
/* zmq_source.c */
void *zmq_source_main(void *arg);
/* zmq_sink.c */
zmq_sink *zmq_sink_new(struct ngt_zmq_node *n, const char *stream, int index, const char *endpoint,
                       ngt_error *err);
int zmq_sink_start(zmq_sink *s, ngt_error *err);
void zmq_sink_deliver(zmq_sink *s, ngt_batch *b, const ngt_provenance *p);
void zmq_sink_stop(zmq_sink *s);   /* flushes, sends the end of stream, joins */
void zmq_sink_idle(zmq_sink *s);   /* queues the open message, waits until every one has left */
void zmq_sink_detach(zmq_sink *s); /* idle, then an end of stream; index -1 */
/* Makes the buffers anew for the node's current output layout (the sink idle, no batch being
 * delivered; buffers still in libzmq's hands free themselves when released). */
int zmq_sink_relayout(zmq_sink *s, ngt_error *err);
/* After zmq_sink_stop: waits (linger_ms without progress at most) until libzmq has written every
 * frame out; what it still holds then is counted undelivered and dropped at close. */
void zmq_sink_settle(zmq_sink *s);
void zmq_sink_close(zmq_sink *s); /* stops it and closes its socket (libzmq keeps what is queued) */
void zmq_sink_free(zmq_sink *s);  /* after zmq_ctx_term: every frame released */
/* Sets stop (and when it was first asked, for the sinks' linger). */
void zmq_node_request_stop(struct ngt_zmq_node *n);
/* Wall clock, ns since the Unix epoch (send timestamps). */
uint64_t zmq_wall_ns(void);

#endif
