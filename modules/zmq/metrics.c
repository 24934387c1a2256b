/* metrics.c: Prometheus text metrics over HTTP (libmicrohttpd, its own thread), read from the
 * control's menu under the control's lock. */
#include "ctl_int.h"
#include "internal.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

struct ngt_metrics {
    struct MHD_Daemon *d;
    ngt_ctl *ctl;
};

size_t ngt_metrics_text(ngt_ctl *c, char *buf, size_t size)
{
    strbuf s = sb_fixed(buf, size);
    pthread_mutex_lock(&c->mu);
    ctl_metrics_locked(c, &s);
    pthread_mutex_unlock(&c->mu);
    return s.len;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *con, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)state;
    ngt_metrics *m = cls;
    const char *text = NULL;
    char *body = NULL;
    size_t len = 0;
    unsigned code = MHD_HTTP_OK;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        code = MHD_HTTP_METHOD_NOT_ALLOWED;
        text = "GET /metrics\n";
    } else if (strcmp(url, "/metrics") != 0) {
        code = MHD_HTTP_NOT_FOUND;
        text = "ngt: metrics are at /metrics\n";
    } else {
        strbuf sb = {0};
        pthread_mutex_lock(&m->ctl->mu);
        ctl_metrics_locked(m->ctl, &sb);
        pthread_mutex_unlock(&m->ctl->mu);
        body = sb.s;
        len = sb.len;
        if (sb.oom || !body) {
            code = MHD_HTTP_INTERNAL_SERVER_ERROR;
            text = "ngt: out of memory\n";
        }
    }
    struct MHD_Response *r =
        text ? MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT)
             : MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (text)
        free(body);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(con, code, r);
    MHD_destroy_response(r);
    return ret;
}

ngt_metrics *ngt_metrics_new(ngt_ctl *c, const char *address, int allow_remote, ngt_error *err)
{
    char host[64];
    const char *colon = address ? strrchr(address, ':') : NULL;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!c || !colon || (size_t)(colon - address) >= sizeof host || !end || *end || port < 0 ||
        port > 65535) {
        seterr(err, NGT_EINVAL, "metrics address '%s': expected HOST:PORT",
               address ? address : "(null)");
        return NULL;
    }
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        str_copy(host, "127.0.0.1", sizeof host);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        seterr(err, NGT_EINVAL, "metrics address '%s': '%s' is not an IPv4 address", address, host);
        return NULL;
    }
    if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127 && !allow_remote) {
        seterr(err, NGT_EINVAL,
               "metrics address '%s' is not on loopback; binding elsewhere must be asked "
               "for explicitly",
               address);
        return NULL;
    }
    ngt_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        seterr(err, NGT_ENOMEM, "out of memory");
        return NULL;
    }
    m->ctl = c;
    m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, answer, m,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!m->d) {
        free(m);
        seterr(err, NGT_EIO, "metrics: cannot listen on %s", address);
        return NULL;
    }
    return m;
}

void ngt_metrics_free(ngt_metrics *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->d);
    free(m);
}
