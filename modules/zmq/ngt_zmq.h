/* ngt_zmq.h: the node's control tools over ZeroMQ (modules/zmq): the control socket (one thread
 * owning a REP socket, JSON protocol in docs/control.md) and its client, CURVE keys with a ZAP
 * allow-list, Prometheus metrics over HTTP. Fed to LuaJIT's ffi.cdef as core/ngt.h is. */
#ifndef NGT_ZMQ_H
#define NGT_ZMQ_H

#include "ngt.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared below is libngt's public API (the rest of the library is hidden). */
#pragma GCC visibility push(default)

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
