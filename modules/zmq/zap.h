/* zap.h: CURVE on ZeroMQ sockets with an allow-list of client keys, for the control socket and
 * the data sockets alike. A ZAP handler (one thread per context, bound at inproc://zeromq.zap.01)
 * accepts a CURVE client only when its public key is listed; without a handler libzmq would
 * accept any client that knows the server's public key. */
#ifndef NGT_ZAP_H
#define NGT_ZAP_H

#include "ngt.h"

typedef struct zap_handler zap_handler;
/* allow: Z85 public keys separated by commas, spaces or newlines, or "@FILE". */
zap_handler *zap_start(void *zmq_context, const char *allow, ngt_error *err);
void zap_stop(zap_handler *z);
uint64_t zap_refused(const zap_handler *z); /* clients refused so far */
/* Makes sock a CURVE server with this secret key (before bind). */
int zap_server_socket(void *sock, const char *secret_key, ngt_error *err);
/* Makes sock a CURVE client of server_key with client_secret (NULL: a fresh pair). */
int zap_client_socket(void *sock, const char *server_key, const char *client_secret,
                      ngt_error *err);

#endif
