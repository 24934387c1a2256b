/* zap.c: the ZAP handler (RFC 27) with an allow-list of CURVE client keys, and CURVE setup of
 * server and client sockets. */
#include "zap.h"

#include "internal.h"
#include "ngt_zmq.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

enum { KEY_Z85 = 40, MAX_KEYS = 256 };

struct zap_handler {
    void *sock;
    pthread_t thread;
    atomic_int stop;
    _Atomic uint64_t refused;
    int n_keys;
    uint8_t keys[MAX_KEYS][32];
};

static int add_keys(zap_handler *z, const char *text, ngt_error *err)
{
    const char *p = text;
    while (*p) {
        while (*p && (*p == ',' || isspace((unsigned char)*p)))
            p++;
        if (!*p)
            break;
        size_t n = 0;
        while (p[n] && p[n] != ',' && !isspace((unsigned char)p[n]))
            n++;
        char key[KEY_Z85 + 1];
        if (n != KEY_Z85)
            return seterr(err, NGT_EINVAL,
                          "CURVE allow-list: '%.*s' is not a Z85 key of 40 "
                          "characters",
                          (int)(n > 60 ? 60 : n), p);
        if (z->n_keys == MAX_KEYS)
            return seterr(err, NGT_EINVAL, "CURVE allow-list: more than %d keys", MAX_KEYS);
        memcpy(key, p, KEY_Z85);
        key[KEY_Z85] = 0;
        if (!zmq_z85_decode(z->keys[z->n_keys], key))
            return seterr(err, NGT_EINVAL, "CURVE allow-list: '%s' is not valid Z85", key);
        z->n_keys++;
        p += n;
    }
    return NGT_OK;
}

static int load_allow(zap_handler *z, const char *allow, ngt_error *err)
{
    if (!allow || allow[0] != '@')
        return add_keys(z, allow ? allow : "", err);
    FILE *f = fopen(allow + 1, "r");
    if (!f)
        return seterr(err, NGT_EIO, "CURVE allow-list: cannot open '%s'", allow + 1);
    char line[256];
    int rc = NGT_OK;
    while (rc == NGT_OK && fgets(line, sizeof line, f)) {
        const char *t = line;
        while (isspace((unsigned char)*t))
            t++;
        if (*t == '#') /* a comment line ('#' is also a Z85 character: never cut a key at it) */
            continue;
        rc = add_keys(z, t, err);
    }
    fclose(f);
    return rc;
}

/* Receives one frame into buf (truncated); returns its size or -1; *more tells if more follow. */
static int recv_frame(void *s, char *buf, size_t size, int *more)
{
    int n = zmq_recv(s, buf, size, 0);
    int m = 0;
    size_t ml = sizeof m;
    zmq_getsockopt(s, ZMQ_RCVMORE, &m, &ml);
    *more = m;
    return n;
}

static void handle(zap_handler *z)
{
    char f[8][256] = {{0}};
    int len[8] = {0}, n = 0, more = 1;
    while (more) {
        char tmp[256] = {0};
        int k = recv_frame(z->sock, n < 8 ? f[n] : tmp, 256, &more);
        if (k < 0)
            return;
        if (n < 8)
            len[n] = k;
        n++;
    }
    /* version, request id, domain, address, identity, mechanism, credentials... */
    if (n < 6)
        return;
    int ok = 0;
    const char *status = "400", *text = "key not allowed";
    if (len[5] == 5 && memcmp(f[5], "CURVE", 5) == 0 && n >= 7 && len[6] == 32) {
        for (int i = 0; i < z->n_keys && !ok; i++)
            ok = memcmp(z->keys[i], f[6], 32) == 0;
    } else {
        text = "CURVE required";
    }
    if (ok) {
        status = "200";
        text = "OK";
    } else {
        atomic_fetch_add(&z->refused, 1);
    }
    int idl = len[1] < 0 ? 0 : (len[1] > 255 ? 255 : len[1]);
    zmq_send(z->sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(z->sock, f[1], (size_t)idl, ZMQ_SNDMORE);
    zmq_send(z->sock, status, 3, ZMQ_SNDMORE);
    zmq_send(z->sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(z->sock, ok ? "client" : "", ok ? 6 : 0, ZMQ_SNDMORE);
    zmq_send(z->sock, "", 0, 0);
}

static void *zap_main(void *arg)
{
    zap_handler *z = arg;
    while (!atomic_load(&z->stop)) {
        zmq_pollitem_t it = {z->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) > 0 && (it.revents & ZMQ_POLLIN))
            handle(z);
    }
    return NULL;
}

zap_handler *zap_start(void *ctx, const char *allow, ngt_error *err)
{
    if (!zmq_has("curve")) {
        seterr(err, NGT_EUNSUPPORTED, "this libzmq has no CURVE support");
        return NULL;
    }
    zap_handler *z = calloc(1, sizeof *z);
    if (!z) {
        seterr(err, NGT_ENOMEM, "out of memory");
        return NULL;
    }
    if (load_allow(z, allow, err) != NGT_OK) {
        free(z);
        return NULL;
    }
    if (z->n_keys == 0) {
        free(z);
        seterr(err, NGT_EINVAL, "CURVE needs an allow-list of client keys (none given)");
        return NULL;
    }
    z->sock = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    if (z->sock)
        zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (!z->sock || zmq_bind(z->sock, "inproc://zeromq.zap.01") != 0) {
        seterr(err, NGT_EIO, "ZAP handler: %s", zmq_strerror(zmq_errno()));
        if (z->sock)
            zmq_close(z->sock);
        free(z);
        return NULL;
    }
    if (pthread_create(&z->thread, NULL, zap_main, z) != 0) {
        zmq_close(z->sock);
        free(z);
        seterr(err, NGT_EIO, "ZAP handler: cannot start its thread");
        return NULL;
    }
    return z;
}

void zap_stop(zap_handler *z)
{
    if (!z)
        return;
    atomic_store(&z->stop, 1);
    pthread_join(z->thread, NULL);
    zmq_close(z->sock);
    free(z);
}

uint64_t zap_refused(const zap_handler *z)
{
    return z ? atomic_load(&((zap_handler *)z)->refused) : 0;
}

int zap_server_socket(void *sock, const char *secret_key, ngt_error *err)
{
    int one = 1;
    if (!secret_key || strlen(secret_key) != KEY_Z85)
        return seterr(err, NGT_EINVAL, "CURVE secret key must be 40 Z85 characters");
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret_key, KEY_Z85) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "ngt", 3) != 0)
        return seterr(err, NGT_EINVAL, "CURVE server: %s", zmq_strerror(zmq_errno()));
    return NGT_OK;
}

int zap_client_socket(void *sock, const char *server_key, const char *client_secret, ngt_error *err)
{
    char pub[KEY_Z85 + 1], sec[KEY_Z85 + 1];
    if (!server_key || strlen(server_key) != KEY_Z85)
        return seterr(err, NGT_EINVAL, "CURVE server key must be 40 Z85 characters");
    if (client_secret) {
        if (strlen(client_secret) != KEY_Z85 || ngt_curve_public(client_secret, pub) != NGT_OK)
            return seterr(err, NGT_EINVAL, "CURVE client secret key is not a Z85 key");
        memcpy(sec, client_secret, sizeof sec);
    } else if (ngt_curve_keypair(pub, sec) != NGT_OK) {
        return seterr(err, NGT_EUNSUPPORTED, "this libzmq has no CURVE support");
    }
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_key, KEY_Z85) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, KEY_Z85) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, KEY_Z85) != 0)
        return seterr(err, NGT_EINVAL, "CURVE client: %s", zmq_strerror(zmq_errno()));
    return NGT_OK;
}

int ngt_curve_keypair(char *public_key, char *secret_key)
{
    return zmq_curve_keypair(public_key, secret_key) == 0 ? NGT_OK : NGT_EUNSUPPORTED;
}

int ngt_curve_public(const char *secret_key, char *public_key)
{
    return secret_key && strlen(secret_key) == KEY_Z85 &&
                   zmq_curve_public(public_key, secret_key) == 0
               ? NGT_OK
               : NGT_EINVAL;
}
