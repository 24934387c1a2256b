/* ngt_zmq.h: the ZeroMQ module's public API (modules/zmq): a node's source and sinks around a
 * runner, the sender and receiver behind `ngt send` / `ngt recv` (wire format: docs/wire.md), the
 * control socket (one thread owning a REP socket, JSON protocol in docs/control.md) and its
 * client, CURVE keys with a ZAP allow-list, Prometheus metrics over HTTP. Fed to LuaJIT's
 * ffi.cdef after ngt.h: constants are enums, no macros in declarations. Endpoints are ZeroMQ's
 * (tcp://HOST:PORT, ipc://PATH); for the node's data sockets a leading '@' binds, '>' connects;
 * without either a node binds and a client connects. */
#ifndef NGT_ZMQ_H
#define NGT_ZMQ_H

#include "ngt.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared below is libngt's public API (the rest of the library is hidden). */
#pragma GCC visibility push(default)

/* Why a message was refused (ngt_zmq_stats.refused_by). */
enum {
    NGT_ZMQ_MALFORMED = 1, /* framing, header fields, frame sizes (truncated, garbage) */
    NGT_ZMQ_VERSION = 2,
    NGT_ZMQ_SCHEMA = 3,
    NGT_ZMQ_OVERSIZE = 4,
    NGT_ZMQ_COUNTS = 5,   /* a collection count outside 0..max */
    NGT_ZMQ_SEQUENCE = 6, /* a sequence number already seen in this (source, epoch) */
    NGT_ZMQ_REASONS = 7
};

typedef struct ngt_zmq_opts {
    double
        flush_ms; /* a partial batch (and a partial output message) waits at most this; <= 0: 1 */
    int stop_at_end;  /* drain and stop after the first end-of-stream message */
    int max_events;   /* events per input message; <= 0: 2^20 (more: refused as oversize) */
    int hwm;          /* ZeroMQ high-water marks, messages; <= 0: 1000 */
    uint32_t node_id; /* source id written in output messages */
    int linger_ms;    /* after a stop, how long a sink waits for its peer to take anything; what is
                         still unsent then is dropped and counted (undelivered_events); <= 0: 10000 */
} ngt_zmq_opts;

typedef struct ngt_zmq_stats {
    uint64_t messages; /* input messages received (refused ones included) */
    uint64_t events;   /* events of accepted messages (submitted to the menu) */
    uint64_t refused_messages, refused_events;
    uint64_t refused_by[NGT_ZMQ_REASONS]; /* messages, by NGT_ZMQ_* reason */
    uint64_t lost_upstream;               /* sequence gaps per (source, epoch) */
    uint64_t ends;                        /* end-of-stream messages */
    uint64_t epochs;                      /* (source, epoch) pairs seen */
    uint64_t batches;                     /* batches submitted */
    uint64_t sent_messages, sent_events;  /* over every sink */
    char first_error[NGT_ERR_MSG_MAX];    /* the first refusal's message */
    uint64_t undelivered_events; /* accepted events a sink's peer did not take within linger_ms
                                    of the stop: lost downstream, reported */
} ngt_zmq_stats;

/* ---- Node: a PULL source filling a runner's batches, PUSH sinks per output stream ------------ */
typedef struct ngt_zmq_node ngt_zmq_node;
ngt_zmq_node *ngt_zmq_node_new(ngt_menu *m, const char *source, const ngt_zmq_opts *opts,
                               ngt_error *err);
/* Sends the accepted events of stream (a menu stream or "error") to endpoint. Before start, or
 * while paused (ngt_zmq_node_pause). */
int ngt_zmq_node_sink(ngt_zmq_node *n, const char *stream, const char *endpoint, ngt_error *err);
/* The runner's sink (ngt_run_opts.sink, with sink_user = the node and in_order = 1). */
void ngt_zmq_node_sink_fn(void *user, ngt_batch *b);
/* Another sink the node's calls after its own (e.g. the --output recorder). Before start. */
void ngt_zmq_node_chain(ngt_zmq_node *n, ngt_sink_fn also, void *user);
/* Starts the source and sink threads over runner r (made with ngt_zmq_node_sink_fn). */
int ngt_zmq_node_start(ngt_zmq_node *n, ngt_runner *r, ngt_error *err);
/* Waits up to timeout_ms; 1 once the source has stopped (end of stream with stop_at_end, or
 * ngt_zmq_node_stop), else 0. */
int ngt_zmq_node_wait(ngt_zmq_node *n, int timeout_ms);
void ngt_zmq_node_stop(ngt_zmq_node *n); /* stop taking input; what was received is submitted */
/* A menu reload under way: pause stops the source between messages (its partial batch is
 * submitted to the current runner; input waits in ZeroMQ's queues, nothing is dropped) and
 * returns once it waits. The caller then drains the old runner (its batches finish on the old
 * menu and are sent) and retargets the node to the new menu m, run by r (made with
 * ngt_zmq_node_sink_fn): input messages are decoded with m's input schema from then on (those of
 * another schema id are refused as NGT_ZMQ_SCHEMA), sinks follow their stream by name, and a sink
 * whose stream m lacks sends an end of stream and is detached. While paused, ngt_zmq_node_sink
 * opens sinks for new streams (or takes a detached one back: same stream and endpoint). resume lets
 * the source go on. On an error retarget leaves the node on its old menu and runner (out of memory
 * re-making sink buffers: the node stops instead). */
void ngt_zmq_node_pause(ngt_zmq_node *n);
int ngt_zmq_node_retarget(ngt_zmq_node *n, ngt_menu *m, ngt_runner *r, ngt_error *err);
void ngt_zmq_node_resume(ngt_zmq_node *n);
/* While paused: stream's sink at endpoint sends an end of stream and takes no more events (its
 * socket stays bound; ngt_zmq_node_sink with the same stream and endpoint takes it back). */
int ngt_zmq_node_sink_detach(ngt_zmq_node *n, const char *stream, const char *endpoint,
                             ngt_error *err);
/* After stop (or the end): waits for the source, drains the runner, flushes every sink, sends an
 * end of stream on each and closes the sockets. */
int ngt_zmq_node_finish(ngt_zmq_node *n, ngt_error *err);
void ngt_zmq_node_stats(ngt_zmq_node *n, ngt_zmq_stats *s);
void ngt_zmq_node_free(ngt_zmq_node *n);

/* ---- Sender (ngt send): batches of the input schema as input messages ------------------------ */
typedef struct ngt_zmq_sender ngt_zmq_sender;
ngt_zmq_sender *ngt_zmq_sender_new(const char *endpoint, const ngt_schema *s, uint32_t source,
                                   uint64_t epoch, ngt_error *err);
/* Sends b's events (numbered on from the previous message); end: mark the end of stream. */
int ngt_zmq_sender_send(ngt_zmq_sender *z, ngt_batch *b, int end, ngt_error *err);
void ngt_zmq_sender_free(ngt_zmq_sender *z); /* waits until every message has left */

/* ---- Receiver (ngt recv): output messages of a node, kept per stream ------------------------- */
typedef struct ngt_zmq_receiver ngt_zmq_receiver;
ngt_zmq_receiver *ngt_zmq_receiver_new(const char *endpoint, ngt_menu *m, ngt_error *err);
/* Receives one message (waiting up to timeout_ms): 1 received, 0 none, NGT_EFORMAT refused (err
 * says why; counted). */
int ngt_zmq_receiver_next(ngt_zmq_receiver *r, int timeout_ms, ngt_error *err);
uint64_t ngt_zmq_receiver_ends(const ngt_zmq_receiver *r);    /* end-of-stream messages */
uint64_t ngt_zmq_receiver_refused(const ngt_zmq_receiver *r); /* refused messages */
uint64_t ngt_zmq_receiver_events(const ngt_zmq_receiver *r, int stream); /* menu stream index */
int ngt_zmq_receiver_seen(const ngt_zmq_receiver *r, int stream); /* a message of it arrived */
/* Latency of received messages (now - their send timestamp), microseconds, p50 and p99. */
void ngt_zmq_receiver_latency(const ngt_zmq_receiver *r, double *p50_us, double *p99_us);
/* Writes DIR/<stream>/<column>.npy for every stream seen, as `ngt run --output` does. */
/* The .npy writer is the ngt binary's (ngt_npy_write, lua/ngt_npy.h), passed in: libngt reads and
 * writes no files of that format itself. */
typedef int (*ngt_zmq_npy_write_fn)(const char *path, ngt_dtype t, int rank, const int64_t *shape,
                                    const void *data, ngt_error *err);
int ngt_zmq_receiver_write(const ngt_zmq_receiver *r, const char *dir, ngt_zmq_npy_write_fn write,
                           ngt_error *err);
void ngt_zmq_receiver_free(ngt_zmq_receiver *r);

/* ---- Control socket -------------------------------------------------------------------------
 * endpoint: "tcp://127.0.0.1:PORT" or "ipc://PATH"; NULL makes a holder without a socket (for the
 * metrics alone). A tcp endpoint off loopback is refused unless allow_remote is set. curve_secret
 * (Z85, 40 characters) turns CURVE on; curve_allow then lists the clients' public keys (Z85,
 * separated by commas, spaces or newlines, or "@FILE" to read them from a file): any other key is
 * refused by the ZAP handler. The thread never blocks behind a long operation: swap and shadow
 * run on a job thread, reload on the Lua main thread (ngt_ctl_next); `status` reports them. */
typedef struct ngt_ctl ngt_ctl;
ngt_ctl *ngt_ctl_new(const char *endpoint, const char *curve_secret, const char *curve_allow,
                     int allow_remote, ngt_error *err);
void ngt_ctl_free(ngt_ctl *c);
/* The endpoint as bound (a tcp port 0 or "*" resolved); "" without a socket. */
const char *ngt_ctl_endpoint(const ngt_ctl *c);
/* The menu commands act on (NULL: none). Waits until the control thread no longer uses the old
 * one, whose final totals are kept as retired (node totals add up across reloads). */
void ngt_ctl_set_menu(ngt_ctl *c, ngt_menu *m, const char *path);
enum { NGT_CTL_RUNNING = 0, NGT_CTL_PAUSED = 1, NGT_CTL_DRAINING = 2, NGT_CTL_STOPPING = 3 };
int ngt_ctl_state(const ngt_ctl *c);
/* Jobs for the main thread (reload): returns the job's id and fills cmd and arg, or 0. */
int ngt_ctl_next(ngt_ctl *c, char *cmd, size_t cmd_size, char *arg, size_t arg_size);
void ngt_ctl_finish(ngt_ctl *c, int job, int ok, const char *message);
/* The node's statistics as JSON (what `stats` returns); the length needed, as snprintf. */
size_t ngt_ctl_stats_json(ngt_ctl *c, char *buf, size_t size);

/* One request, one reply (the client of `ngt ctl` and `ngt top`). server_key: the node's CURVE
 * public key (NULL: plain); client_secret: this client's secret key (NULL: a fresh key pair).
 * Returns the reply's length or a negative code (NGT_ETIMEOUT when no reply in timeout_ms). */
int ngt_ctl_request(const char *endpoint, const char *request, char *reply, size_t size,
                    int timeout_ms, const char *server_key, const char *client_secret,
                    ngt_error *err);

/* A new CURVE key pair, Z85, 41 bytes each (NUL included). NGT_OK or NGT_EUNSUPPORTED. */
int ngt_curve_keypair(char *public_key, char *secret_key);
/* The public key of a secret key (Z85, 41 bytes). */
int ngt_curve_public(const char *secret_key, char *public_key);

/* ---- Prometheus metrics -------------------------------------------------------------------------
 * HTTP on "HOST:PORT" (loopback unless allow_remote), text format 0.0.4 on /metrics, from the
 * control's menu (its totals across reloads, chains, streams, steps, models). */
typedef struct ngt_metrics ngt_metrics;
ngt_metrics *ngt_metrics_new(ngt_ctl *c, const char *address, int allow_remote, ngt_error *err);
void ngt_metrics_free(ngt_metrics *m);
size_t ngt_metrics_text(ngt_ctl *c, char *buf, size_t size);

/* ---- Validation files ---------------------------------------------------------------------------
 * .npy files belong to the ngt binary (lua/ngt_npy.h), not to libngt: a host that wants `swap`
 * and `shadow` to accept validation inputs and reference outputs as files hands its reader over
 * (the binary passes ngt_npy_read and ngt_npy_free). Without one such requests are refused. */
struct ngt_npy;
typedef int (*ngt_ctl_npy_read_fn)(const char *path, struct ngt_npy *out, ngt_error *err);
typedef void (*ngt_ctl_npy_free_fn)(struct ngt_npy *a);
void ngt_ctl_set_npy(ngt_ctl *c, ngt_ctl_npy_read_fn read, ngt_ctl_npy_free_fn release);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
