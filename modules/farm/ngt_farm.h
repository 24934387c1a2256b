/* ngt_farm.h: the farm module's public API (modules/farm): a node that takes wire-v1 batches from a
 * NATS JetStream work-queue stream and publishes one result record per batch to a results stream,
 * acknowledging each input only after the server acknowledged its result; the sender, receiver,
 * control and status behind `ngt send --farm`, `ngt recv --farm` and `ngt farm`. docs/farm.md.
 * Fed to LuaJIT's ffi.cdef after ngt.h: constants are enums, no macros in declarations.
 * Names for a farm called NAME: input stream NAME (subject NAME.in), results stream NAME_results
 * (subject NAME.out), durable pull consumer "ngt" on NAME, control subject NAME.control, node
 * heartbeats on NAME.nodes. */
#ifndef NGT_FARM_H
#define NGT_FARM_H

#include "ngt.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

enum {
    NGT_FARM_ACK_WAIT_MS = 30000, /* the consumer's AckWait when created without one */
    NGT_FARM_MAX_DELIVER = 5,     /* the consumer's MaxDeliver when created without one */
    NGT_FARM_FETCH = 16,          /* messages a node fetches at once */
    NGT_FARM_TEXT = 4096          /* ngt_farm_status's text */
};

typedef struct ngt_farm_opts {
    const char *url;    /* nats://HOST:PORT */
    const char *stream; /* the farm's name */
    int create;         /* create the streams and the consumer when missing */
    int ack_wait_ms;    /* with create: the consumer's AckWait; else, if > 0, checked */
    int max_deliver;    /* with create: the consumer's MaxDeliver; else, if > 0, checked */
    int dup_window_ms;  /* with create: the streams' duplicate window; <= 0: 2 minutes */
    int fetch;          /* messages per fetch; <= 0: NGT_FARM_FETCH */
    int max_events;     /* events per input message; <= 0: 2^20 (more: poisoned) */
    uint32_t node_id;   /* written in result records and heartbeats */
} ngt_farm_opts;

typedef struct ngt_farm_stats {
    uint64_t messages;    /* input messages fetched (redeliveries included) */
    uint64_t redelivered; /* of them, deliveries after the first */
    uint64_t results;     /* result records acknowledged by the server */
    uint64_t events, accepted, rejected, errored; /* of the messages processed */
    uint64_t naks;              /* undecodable deliveries handed back (before MaxDeliver) */
    uint64_t poisoned;          /* messages terminated after MaxDeliver deliveries */
    uint64_t retried;           /* inputs handed back because their results were not acknowledged */
    uint64_t server_duplicates; /* results the server dropped as duplicates (same message id) */
    uint64_t swaps, swaps_failed;     /* model swaps published; refused (the old version kept) */
    char last_swap[NGT_ERR_MSG_MAX];  /* the last swap's outcome, as its reply said */
    int64_t ack_wait_ms, max_deliver; /* the consumer's */
    char first_error[NGT_ERR_MSG_MAX];
} ngt_farm_stats;

/* Checks (or, with create, makes) the streams and the consumer; a clear error names what is
 * missing or misconfigured. */
int ngt_farm_setup(const ngt_farm_opts *o, ngt_error *err);

/* ---- Node ------------------------------------------------------------------------------------ */
typedef struct ngt_farm_node ngt_farm_node;
ngt_farm_node *ngt_farm_node_new(ngt_menu *m, const ngt_farm_opts *o, ngt_error *err);
/* One round: control messages, a heartbeat when due, one fetch (waiting up to timeout_ms) and its
 * messages processed and their results published; each input is acknowledged when its result's
 * PubAck arrives (on libnats' thread). Returns 1 when a stop came by the control subject (once a
 * model swap still loading has ended), 0 otherwise, a negative code when the server is gone for
 * good. */
int ngt_farm_node_step(ngt_farm_node *n, int timeout_ms, ngt_error *err);
void ngt_farm_node_stats(ngt_farm_node *n, ngt_farm_stats *s);
/* Waits (up to 5 s) for the last results' PubAcks, settles their inputs, disconnects. */
void ngt_farm_node_free(ngt_farm_node *n);

/* ---- Sender (ngt send --farm) ---------------------------------------------------------------- */
typedef struct ngt_farm_sender ngt_farm_sender;
ngt_farm_sender *ngt_farm_sender_new(const ngt_farm_opts *o, const ngt_schema *s, uint32_t source,
                                     uint64_t epoch, ngt_error *err);
/* Publishes b's events as one input message (asynchronously; message id source.epoch.first). */
int ngt_farm_sender_send(ngt_farm_sender *z, ngt_batch *b, int end, ngt_error *err);
/* Waits for every publish acknowledgement; an error when any publish failed. */
int ngt_farm_sender_finish(ngt_farm_sender *z, ngt_error *err);
void ngt_farm_sender_free(ngt_farm_sender *z);

/* ---- Receiver (ngt recv --farm) -------------------------------------------------------------- */
typedef struct ngt_farm_totals {
    uint64_t records;    /* result records read (duplicates included) */
    uint64_t duplicates; /* records whose (source, epoch, first sequence) was already counted */
    uint64_t refused;    /* records that do not decode */
    uint64_t in, accepted, rejected, errored; /* over unique records */
    uint64_t poisoned, poisoned_events;       /* poison records (events where readable) */
    uint64_t ends, ends_complete; /* (source, epoch) pairs that ended; of them, fully counted */
    uint64_t pairs;               /* (source, epoch) pairs seen */
    uint64_t nodes;               /* distinct node ids among the records */
} ngt_farm_totals;
typedef struct ngt_farm_receiver ngt_farm_receiver;
ngt_farm_receiver *ngt_farm_receiver_new(const ngt_farm_opts *o, ngt_menu *m, ngt_error *err);
/* Reads one record (waiting up to timeout_ms): 1 read, 0 none, NGT_EFORMAT refused (counted). */
int ngt_farm_receiver_next(ngt_farm_receiver *r, int timeout_ms, ngt_error *err);
/* Reads on until every record the results stream holds now is read (poison records published
 * after the last result included), waiting at most timeout_ms. */
int ngt_farm_receiver_drain(ngt_farm_receiver *r, int timeout_ms, ngt_error *err);
void ngt_farm_receiver_totals(const ngt_farm_receiver *r, ngt_farm_totals *t);
uint64_t ngt_farm_receiver_events(const ngt_farm_receiver *r, int stream); /* unique, per stream */
/* Writes the poisoned records' descriptions, one a line (NUL-terminated, truncated to size). */
size_t ngt_farm_receiver_poison(const ngt_farm_receiver *r, char *buf, size_t size);
/* Keeps every unique result record from now on, for ngt_farm_receiver_write. */
void ngt_farm_receiver_keep(ngt_farm_receiver *r);
/* The .npy writer is the ngt binary's (ngt_npy_write, lua/ngt_npy.h), passed in. */
typedef int (*ngt_farm_npy_write_fn)(const char *path, ngt_dtype t, int rank, const int64_t *shape,
                                     const void *data, ngt_error *err);
/* Writes the kept results as `ngt run --output DIR` does: DIR/<stream>/<column>.npy for every
 * stream (its events' input columns and decisions), DIR/all/ngt.{decision,streams,status}.npy for
 * every event and DIR/all/ngt.models.npy ([events][models] hashes of the versions that decided
 * each, when the menu has models), events in event-id order whatever order the nodes finished. */
int ngt_farm_receiver_write(ngt_farm_receiver *r, const char *dir, ngt_farm_npy_write_fn write,
                            ngt_error *err);
void ngt_farm_receiver_free(ngt_farm_receiver *r);

/* ---- Control and status ---------------------------------------------------------------------- */
/* Sends command to every node of the farm (no reply asked): "stop", "prescale COLUMN" ('-': the
 * chains' own factors), "swap MODEL BACKEND FILE" (BACKEND '-': the current version's; FILE the
 * rest of the text, a path every node can read). docs/farm.md. */
int ngt_farm_control(const ngt_farm_opts *o, const char *command, ngt_error *err);
/* The same as a request: collects each node's final reply ("node ID: ok: ..." or "node ID:
 * failed: ..."; a swap first answers "started") into buf, one a line, until `nodes` nodes have
 * answered and none heard from is still working (nodes 0: any number, listened for during the
 * first 2 s), or wait_ms passed: a node that started and did not finish is listed as failed,
 * "no reply".
 * *ok and *failed count the final replies. */
int ngt_farm_request(const ngt_farm_opts *o, const char *command, int nodes, int wait_ms, char *buf,
                     size_t size, int *ok, int *failed, ngt_error *err);
/* Consumer state and the nodes heard from within wait_ms, as text (NUL-terminated). */
int ngt_farm_status(const ngt_farm_opts *o, int wait_ms, char *buf, size_t size, ngt_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
