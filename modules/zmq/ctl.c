/* ctl.c: the control socket. One thread owns a REP socket and answers every request at once:
 * quick commands (stats, prescale, column, promote, status, pause, resume, drain, stop) act
 * directly; a swap or shadow (model load, maybe a genc compile) runs on a job thread and a reload
 * (a Lua script) is queued for the Lua main thread; both answer with a job id that `status`
 * follows. One job at a time: a second one is refused as busy. */
#include "ctl_int.h"
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "ngt_npy.h"

/* ---- jobs -------------------------------------------------------------------------------------*/

static ctl_job *job_get(ngt_ctl *c, int id)
{
    return id > 0 && id > c->n_jobs - CTL_JOBS && id <= c->n_jobs ? &c->jobs[id % CTL_JOBS] : NULL;
}

/* Splits a comma-separated list into at most max items (in place in buf); returns the count. */
static int split(char *buf, char **items, int max)
{
    int n = 0;
    for (char *p = buf; p && *p && n < max + 1; n++) {
        char *comma = strchr(p, ',');
        if (n < max)
            items[n] = p;
        if (comma)
            *comma++ = 0;
        p = comma;
    }
    return n;
}

static int64_t elems(const ngt_tensor_desc *t)
{
    int64_t e = 1;
    for (int d = 0; d < t->rank; d++)
        e *= t->shape[d];
    return e;
}

/* Reads one .npy per tensor (n events of its dtype and element count) through the host's reader. */
static int read_arrays(ngt_ctl *c, const char *list, const ngt_tensor_desc *t, int count,
                       ngt_npy *a, const void **ptr, int64_t *n, const char *what, ngt_error *err)
{
    char buf[CTL_PATH];
    char *items[NGT_MAX_MODEL_IO];
    if (!c->npy_read)
        return seterr(err, NGT_EUNSUPPORTED, "%s: this host reads no .npy files", what);
    if (str_copy(buf, list, sizeof buf) != 0)
        return seterr(err, NGT_EINVAL, "%s: file list too long", what);
    int k = split(buf, items, NGT_MAX_MODEL_IO);
    if (k != count)
        return seterr(err, NGT_EINVAL, "%s: %d files for %d tensors", what, k, count);
    for (int i = 0; i < count; i++) {
        int rc = c->npy_read(items[i], &a[i], err);
        if (rc != NGT_OK)
            return preferr(err, rc, "%s", what);
        int64_t rows = a[i].rank > 0 ? a[i].shape[0] : 0, per = 1;
        for (int d = 1; d < a[i].rank; d++)
            per *= a[i].shape[d];
        if (a[i].dtype != t[i].dtype || per != elems(&t[i]) || rows < 1)
            return seterr(err, NGT_EINVAL,
                          "%s %s: %s with %lld values per event, the model wants %s x %lld", what,
                          items[i], ngt_dtype_name(a[i].dtype), (long long)per,
                          ngt_dtype_name(t[i].dtype), (long long)elems(&t[i]));
        if (*n >= 0 && rows != *n)
            return seterr(err, NGT_EINVAL, "%s %s: %lld events, expected %lld", what, items[i],
                          (long long)rows, (long long)*n);
        *n = rows;
        ptr[i] = a[i].data;
    }
    return NGT_OK;
}

/* A swap or shadow on the job thread: validation files read, then the registry's own checks. */
static int model_job(ngt_ctl *c, const ctl_job *j, ngt_registry *reg, ngt_error *e)
{
    ngt_npy in[NGT_MAX_MODEL_IO], ref[NGT_MAX_MODEL_IO];
    const void *inp[NGT_MAX_MODEL_IO] = {0}, *refp[NGT_MAX_MODEL_IO] = {0};
    memset(in, 0, sizeof in);
    memset(ref, 0, sizeof ref);
    ngt_model_desc d;
    int64_t n = -1;
    int rc = ngt_registry_describe(reg, j->model, &d, e);
    if (rc == NGT_OK && j->inputs[0])
        rc = read_arrays(c, j->inputs, d.inputs, d.n_inputs, in, inp, &n, "validation inputs", e);
    if (rc == NGT_OK && j->outputs[0])
        rc = j->inputs[0] ? read_arrays(c, j->outputs, d.outputs, d.n_outputs, ref, refp, &n,
                                        "reference outputs", e)
                          : seterr(e, NGT_EINVAL, "reference outputs need validation inputs");
    if (rc != NGT_OK) {
        preferr(e, rc, "model '%s' (%s): kept the current version", j->model, j->file);
    } else {
        ngt_swap_check chk = {n > 0 ? (int)n : 0, n > 0 ? inp : NULL, j->outputs[0] ? refp : NULL,
                              j->tol};
        const char *opt = j->options[0] ? j->options : NULL;
        rc = strcmp(j->cmd, "swap") == 0
                 ? ngt_registry_swap(reg, j->model, j->backend, j->file, opt, &chk, e)
                 : ngt_registry_shadow(reg, j->model, j->backend, j->file, opt, &chk, e);
    }
    for (int k = 0; k < NGT_MAX_MODEL_IO && c->npy_free; k++) {
        if (in[k].data)
            c->npy_free(&in[k]);
        if (ref[k].data)
            c->npy_free(&ref[k]);
    }
    return rc;
}

static void *job_main(void *arg)
{
    ngt_ctl *c = arg;
    pthread_mutex_lock(&c->mu);
    ctl_job j = *job_get(c, c->busy);
    ngt_registry *reg = c->menu ? ngt_menu_registry(c->menu) : NULL;
    pthread_mutex_unlock(&c->mu);
    ngt_error e = {0};
    int rc = reg ? model_job(c, &j, reg, &e) : seterr(&e, NGT_ESTATE, "no menu");
    pthread_mutex_lock(&c->mu);
    ctl_job *p = job_get(c, j.id);
    if (p) {
        p->state = rc < 0 ? JOB_FAILED : JOB_DONE;
        p->result = rc;
        p->ended_ns = now_ns();
        if (rc < 0)
            str_copy(p->msg, e.msg, sizeof p->msg);
        else if (strcmp(j.cmd, "swap") == 0)
            snprintf(p->msg, sizeof p->msg, "model '%s' is now version %d (%.300s)", j.model, rc,
                     j.file);
        else
            snprintf(p->msg, sizeof p->msg, "model '%s' has shadow %.300s", j.model, j.file);
    }
    c->busy = 0;
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Joins a finished job thread (under mu). */
static void reap(ngt_ctl *c)
{
    if (c->thread_live && c->busy == 0) {
        pthread_join(c->job_thread, NULL);
        c->thread_live = 0;
    }
}

/* A new job (under mu); NULL when one is already running (why says which). */
static ctl_job *job_new(ngt_ctl *c, const char *cmd, char *why, size_t why_size)
{
    reap(c);
    if (c->busy) {
        ctl_job *b = job_get(c, c->busy);
        snprintf(why, why_size, "busy: job %d (%s) is still running", c->busy, b ? b->cmd : "?");
        return NULL;
    }
    int id = ++c->n_jobs;
    ctl_job *j = &c->jobs[id % CTL_JOBS];
    memset(j, 0, sizeof *j);
    j->id = id;
    str_copy(j->cmd, cmd, sizeof j->cmd);
    j->state = JOB_QUEUED;
    j->started_ns = now_ns();
    c->busy = id;
    return j;
}

int ngt_ctl_next(ngt_ctl *c, char *cmd, size_t cmd_size, char *arg, size_t arg_size)
{
    if (!c)
        return 0;
    pthread_mutex_lock(&c->mu);
    ctl_job *j = job_get(c, c->busy);
    int id = 0;
    if (j && j->main_thread && j->state == JOB_QUEUED) {
        j->state = JOB_RUNNING;
        id = j->id;
        str_copy(cmd, j->cmd, cmd_size);
        str_copy(arg, j->file, arg_size);
    }
    pthread_mutex_unlock(&c->mu);
    return id;
}

void ngt_ctl_finish(ngt_ctl *c, int id, int ok, const char *message)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    ctl_job *j = job_get(c, id);
    if (j) {
        j->state = ok ? JOB_DONE : JOB_FAILED;
        j->ended_ns = now_ns();
        str_copy(j->msg, message ? message : "", sizeof j->msg);
    }
    if (c->busy == id)
        c->busy = 0;
    pthread_mutex_unlock(&c->mu);
}

/* ---- commands ---------------------------------------------------------------------------------*/

static void fail(strbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(strbuf *s, const char *fmt, ...)
{
    char msg[CTL_MSG + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->len = 0;
    sb_printf(s, "{\"ok\":false,\"error\":");
    ctl_str(s, msg);
    sb_printf(s, "}");
}

static void job_json(strbuf *s, const ctl_job *j)
{
    static const char *st[] = {"queued", "running", "done", "failed"};
    uint64_t end = j->ended_ns ? j->ended_ns : now_ns();
    sb_printf(s, "{\"id\":%d,\"cmd\":\"%s\",\"state\":\"%s\",\"seconds\":%.3f", j->id, j->cmd,
              st[j->state], (double)(end - j->started_ns) * 1e-9);
    if (j->model[0]) {
        sb_printf(s, ",\"model\":");
        ctl_str(s, j->model);
    }
    if (j->file[0]) {
        sb_printf(s, ",\"file\":");
        ctl_str(s, j->file);
    }
    if (j->state == JOB_DONE && strcmp(j->cmd, "swap") == 0)
        sb_printf(s, ",\"serial\":%lld", j->result);
    sb_printf(s, ",\"message\":");
    ctl_str(s, j->msg);
    sb_printf(s, "}");
}

static int chain_index(ngt_menu *m, const char *name)
{
    for (int i = 0; name && i < ngt_menu_nchains(m); i++)
        if (strcmp(ngt_menu_chain_name(m, i), name) == 0)
            return i;
    return -1;
}

static void copy_opt(char *dst, size_t size, const ctl_req *r, const char *key)
{
    const char *v = ctl_get(r, key);
    str_copy(dst, v ? v : "", size);
}

static void start_model_job(ngt_ctl *c, const ctl_req *r, const char *cmd, strbuf *s)
{
    const char *model = ctl_get(r, "model"), *file = ctl_get(r, "file");
    if (!model || !*model || !file || !*file)
        return fail(s, "%s needs \"model\" and \"file\"", cmd);
    if (ngt_registry_model_serial(ngt_menu_registry(c->menu), model) == 0)
        return fail(s, "%s: unknown model '%s'", cmd, model);
    const char *tol = ctl_get(r, "tol");
    char *end = NULL;
    double t = tol ? strtod(tol, &end) : 0;
    if (tol && (end == tol || *end || !(t >= 0)))
        return fail(s, "%s: \"tol\" must be a number >= 0, not '%s'", cmd, tol);
    char why[CTL_MSG];
    ctl_job *j = job_new(c, cmd, why, sizeof why);
    if (!j)
        return fail(s, "%s", why);
    str_copy(j->model, model, sizeof j->model);
    str_copy(j->file, file, sizeof j->file);
    copy_opt(j->backend, sizeof j->backend, r, "backend");
    copy_opt(j->options, sizeof j->options, r, "options");
    copy_opt(j->inputs, sizeof j->inputs, r, "inputs");
    copy_opt(j->outputs, sizeof j->outputs, r, "outputs");
    j->tol = t;
    j->state = JOB_RUNNING;
    if (pthread_create(&c->job_thread, NULL, job_main, c) != 0) {
        j->state = JOB_FAILED;
        str_copy(j->msg, "cannot start a job thread", sizeof j->msg);
        c->busy = 0;
        return fail(s, "%s: cannot start a job thread", cmd);
    }
    c->thread_live = 1;
    sb_printf(s, "{\"ok\":true,\"job\":%d,\"state\":\"running\"}", j->id);
}

/* Answers one request into s (under mu). */
static void command(ngt_ctl *c, const ctl_req *r, strbuf *s)
{
    const char *cmd = ctl_get(r, "cmd");
    ngt_menu *m = c->menu;
    ngt_error e = {0};
    if (!cmd)
        return fail(s, "no \"cmd\" in the request");
    if (strcmp(cmd, "stats") == 0)
        return ctl_stats_locked(c, s);
    if (strcmp(cmd, "status") == 0) {
        reap(c);
        sb_printf(s, "{\"ok\":true,\"state\":\"%s\",\"busy\":%d,\"menu\":",
                  ctl_state_name(atomic_load(&c->state)), c->busy);
        ctl_str(s, c->path);
        sb_printf(s, ",\"reloads\":%d,\"uptime_s\":%.3f,\"jobs\":[", c->reloads,
                  (double)(now_ns() - c->t0) * 1e-9);
        const char *want = ctl_get(r, "job");
        int first = c->n_jobs > CTL_JOBS ? c->n_jobs - CTL_JOBS + 1 : 1, n = 0;
        for (int id = first; id <= c->n_jobs; id++)
            if (!want || atoi(want) == id) {
                sb_printf(s, "%s", n++ ? "," : "");
                job_json(s, &c->jobs[id % CTL_JOBS]);
            }
        sb_printf(s, "]}");
        return;
    }
    if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 || strcmp(cmd, "drain") == 0 ||
        strcmp(cmd, "stop") == 0) {
        int want = cmd[0] == 'p'   ? NGT_CTL_PAUSED
                   : cmd[0] == 'r' ? NGT_CTL_RUNNING
                   : cmd[0] == 'd' ? NGT_CTL_DRAINING
                                   : NGT_CTL_STOPPING;
        int now = atomic_load(&c->state);
        if (now >= NGT_CTL_DRAINING && want < NGT_CTL_DRAINING)
            return fail(s, "%s: the node is %s", cmd, ctl_state_name(now));
        if (now < want || want < NGT_CTL_DRAINING)
            atomic_store(&c->state, want);
        sb_printf(s, "{\"ok\":true,\"state\":\"%s\"}", ctl_state_name(atomic_load(&c->state)));
        return;
    }
    if (!m)
        return fail(s, "%s: no menu is running", cmd);
    if (strcmp(cmd, "prescale") == 0) {
        const char *chain = ctl_get(r, "chain"), *v = ctl_get(r, "value");
        int k = chain_index(m, chain);
        char *end = NULL;
        unsigned long long n = v ? strtoull(v, &end, 10) : 0;
        if (k < 0)
            return fail(s, "prescale: unknown chain '%s'", chain ? chain : "(none)");
        if (!v || end == v || *end || v[0] == '-' || n > UINT32_MAX)
            return fail(s, "prescale: \"value\" must be an integer in 0..%u, not '%s'", UINT32_MAX,
                        v ? v : "(none)");
        if (ngt_menu_set_prescale(m, k, (uint32_t)n, &e) != NGT_OK)
            return fail(s, "prescale: %s", e.msg);
        sb_printf(s, "{\"ok\":true,\"chain\":");
        ctl_str(s, chain);
        sb_printf(s, ",\"prescale\":%llu}", n);
        return;
    }
    if (strcmp(cmd, "column") == 0) {
        const char *name = ctl_get(r, "name");
        if (!name || ngt_menu_select_column(m, name, &e) != NGT_OK)
            return fail(s, "column: %s", name ? e.msg : "needs \"name\"");
        sb_printf(s, "{\"ok\":true,\"column\":");
        ctl_str(s, name);
        sb_printf(s, "}");
        return;
    }
    if (strcmp(cmd, "swap") == 0)
        return start_model_job(c, r, "swap", s);
    if (strcmp(cmd, "shadow") == 0) {
        const char *clear = ctl_get(r, "clear"), *model = ctl_get(r, "model");
        if (clear && strcmp(clear, "true") == 0) {
            if (ngt_registry_shadow_clear(ngt_menu_registry(m), model, &e) != NGT_OK)
                return fail(s, "shadow: %s", e.msg);
            sb_printf(s, "{\"ok\":true}");
            return;
        }
        return start_model_job(c, r, "shadow", s);
    }
    if (strcmp(cmd, "promote") == 0) {
        const char *model = ctl_get(r, "model");
        reap(c);
        if (c->busy)
            return fail(s, "promote: busy: job %d is still running", c->busy);
        int rc = ngt_registry_promote(ngt_menu_registry(m), model, &e);
        if (rc < 0)
            return fail(s, "promote: %s", e.msg);
        sb_printf(s, "{\"ok\":true,\"model\":");
        ctl_str(s, model);
        sb_printf(s, ",\"serial\":%d}", rc);
        return;
    }
    if (strcmp(cmd, "reload") == 0) {
        const char *file = ctl_get(r, "file");
        if (!file || !*file)
            return fail(s, "reload needs \"file\"");
        char why[CTL_MSG];
        ctl_job *j = job_new(c, "reload", why, sizeof why);
        if (!j)
            return fail(s, "%s", why);
        j->main_thread = 1;
        str_copy(j->file, file, sizeof j->file);
        sb_printf(s, "{\"ok\":true,\"job\":%d,\"state\":\"queued\"}", j->id);
        return;
    }
    fail(s,
         "unknown command '%s' (stats status prescale column swap shadow promote reload "
         "pause resume drain stop)",
         cmd);
}

/* ---- the socket thread ------------------------------------------------------------------------*/

static void serve_one(ngt_ctl *c)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, c->sock, 0) < 0) {
        zmq_msg_close(&msg);
        return;
    }
    int more = zmq_msg_more(&msg);
    size_t len = zmq_msg_size(&msg);
    ctl_req *req = malloc(sizeof *req);
    strbuf s = {0};
    char why[256] = "";
    pthread_mutex_lock(&c->mu);
    c->requests++;
    if (!req)
        fail(&s, "out of memory");
    else if (more)
        fail(&s, "a request is one frame");
    else if (len > 64 * 1024)
        fail(&s, "request of %zu bytes (at most 65536)", len);
    else if (ctl_parse(zmq_msg_data(&msg), len, req, why, sizeof why) != 0)
        fail(&s, "bad request: %s", why);
    else
        command(c, req, &s);
    if (s.oom || !s.s) {
        sb_free(&s);
        fail(&s, "out of memory for the reply");
    }
    if (s.s && strncmp(s.s, "{\"ok\":false", 11) == 0)
        c->bad_requests++;
    pthread_mutex_unlock(&c->mu);
    while (more) { /* drop the rest of a multipart request */
        zmq_msg_recv(&msg, c->sock, 0);
        more = zmq_msg_more(&msg);
    }
    zmq_msg_close(&msg);
    free(req);
    zmq_send(c->sock, s.s ? s.s : "", s.s ? s.len : 0, 0);
    sb_free(&s);
}

static void *ctl_main(void *arg)
{
    ngt_ctl *c = arg;
    while (!atomic_load(&c->stop)) {
        zmq_pollitem_t it = {c->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) > 0 && (it.revents & ZMQ_POLLIN))
            serve_one(c);
    }
    return NULL;
}

/* tcp endpoints must name a loopback address unless remote access is allowed. */
static int loopback(const char *ep)
{
    if (strncmp(ep, "tcp://", 6) != 0)
        return 1;
    const char *h = ep + 6;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost:", 10) == 0 ||
           strncmp(h, "[::1]:", 6) == 0;
}

ngt_ctl *ngt_ctl_new(const char *endpoint, const char *curve_secret, const char *curve_allow,
                     int allow_remote, ngt_error *err)
{
    if (endpoint && !loopback(endpoint) && !allow_remote) {
        seterr(err, NGT_EINVAL,
               "control endpoint '%s' is not on loopback (127.0.0.1, localhost, [::1]); "
               "binding elsewhere must be asked for explicitly",
               endpoint);
        return NULL;
    }
    ngt_ctl *c = calloc(1, sizeof *c);
    if (!c) {
        seterr(err, NGT_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->t0 = now_ns();
    if (!endpoint)
        return c;
    c->zctx = zmq_ctx_new();
    if (!c->zctx)
        goto zfail;
    if (curve_secret && *curve_secret) {
        c->zap = zap_start(c->zctx, curve_allow, err);
        if (!c->zap)
            goto fail;
    }
    c->sock = zmq_socket(c->zctx, ZMQ_REP);
    if (!c->sock)
        goto zfail;
    int linger = 0;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (c->zap && zap_server_socket(c->sock, curve_secret, err) != NGT_OK)
        goto fail;
    if (zmq_bind(c->sock, endpoint) != 0) {
        seterr(err, NGT_EIO, "control: cannot bind '%s': %s", endpoint, zmq_strerror(zmq_errno()));
        goto fail;
    }
    size_t len = sizeof c->endpoint;
    zmq_getsockopt(c->sock, ZMQ_LAST_ENDPOINT, c->endpoint, &len);
    if (pthread_create(&c->thread, NULL, ctl_main, c) != 0) {
        seterr(err, NGT_EIO, "control: cannot start its thread");
        goto fail;
    }
    c->has_thread = 1;
    return c;
zfail:
    seterr(err, NGT_EIO, "control: %s", zmq_strerror(zmq_errno()));
fail:
    ngt_ctl_free(c);
    return NULL;
}

void ngt_ctl_free(ngt_ctl *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, 1);
    if (c->has_thread)
        pthread_join(c->thread, NULL);
    if (c->thread_live)
        pthread_join(c->job_thread, NULL);
    if (c->sock)
        zmq_close(c->sock);
    zap_stop(c->zap);
    if (c->zctx)
        zmq_ctx_term(c->zctx);
    ngt_stats_free(c->stats);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void ngt_ctl_set_npy(ngt_ctl *c, ngt_ctl_npy_read_fn read, ngt_ctl_npy_free_fn release)
{
    pthread_mutex_lock(&c->mu);
    c->npy_read = read;
    c->npy_free = release;
    pthread_mutex_unlock(&c->mu);
}

const char *ngt_ctl_endpoint(const ngt_ctl *c)
{
    return c ? c->endpoint : "";
}

int ngt_ctl_state(const ngt_ctl *c)
{
    return c ? atomic_load(&((ngt_ctl *)c)->state) : NGT_CTL_RUNNING;
}

void ngt_ctl_set_menu(ngt_ctl *c, ngt_menu *m, const char *path)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    /* a swap or shadow job on the old menu's registry: let it finish (a main-thread job, the
     * reload calling this, has no thread) */
    while (c->thread_live && c->busy && job_get(c, c->busy) && !job_get(c, c->busy)->main_thread) {
        pthread_mutex_unlock(&c->mu);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&c->mu);
    }
    reap(c);
    if (c->menu && c->stats && ngt_stats_read(c->menu, c->stats) == NGT_OK) {
        const ngt_totals *t = ngt_stats_totals(c->stats);
        c->retired.batches += t->batches;
        c->retired.in += t->in;
        c->retired.accepted += t->accepted;
        c->retired.rejected += t->rejected;
        c->retired.errored += t->errored;
        if (m)
            c->reloads++;
    }
    ngt_stats_free(c->stats);
    c->stats = m ? ngt_stats_new(m) : NULL;
    c->menu = c->stats ? m : NULL;
    str_copy(c->path, path ? path : "", sizeof c->path);
    pthread_mutex_unlock(&c->mu);
}

size_t ngt_ctl_stats_json(ngt_ctl *c, char *buf, size_t size)
{
    strbuf s = sb_fixed(buf, size);
    pthread_mutex_lock(&c->mu);
    ctl_stats_locked(c, &s);
    pthread_mutex_unlock(&c->mu);
    return s.len;
}

/* ---- the client -------------------------------------------------------------------------------*/

int ngt_ctl_request(const char *endpoint, const char *request, char *reply, size_t size,
                    int timeout_ms, const char *server_key, const char *client_secret,
                    ngt_error *err)
{
    void *ctx = zmq_ctx_new();
    void *s = ctx ? zmq_socket(ctx, ZMQ_REQ) : NULL;
    int rc = NGT_OK;
    if (!s)
        rc = seterr(err, NGT_EIO, "%s", zmq_strerror(zmq_errno()));
    int linger = 0;
    if (s)
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (rc == NGT_OK && server_key && *server_key)
        rc = zap_client_socket(s, server_key, client_secret, err);
    if (rc == NGT_OK && zmq_connect(s, endpoint) != 0)
        rc = seterr(err, NGT_EINVAL, "cannot connect to '%s': %s", endpoint,
                    zmq_strerror(zmq_errno()));
    if (rc == NGT_OK && zmq_send(s, request, strlen(request), 0) < 0)
        rc = seterr(err, NGT_EIO, "send: %s", zmq_strerror(zmq_errno()));
    if (rc == NGT_OK) {
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        int p = zmq_poll(&it, 1, timeout_ms);
        if (p <= 0)
            rc = seterr(err, NGT_ETIMEOUT, "no reply from '%s' in %d ms%s", endpoint, timeout_ms,
                        server_key ? " (CURVE: is this key allowed?)" : "");
    }
    if (rc == NGT_OK) {
        int n = zmq_recv(s, reply, size ? size - 1 : 0, 0);
        if (n < 0)
            rc = seterr(err, NGT_EIO, "receive: %s", zmq_strerror(zmq_errno()));
        else if ((size_t)n >= size)
            rc = seterr(err, NGT_EINVAL, "reply of %d bytes is larger than %zu", n, size);
        else {
            reply[n] = 0;
            rc = n;
        }
    }
    if (s)
        zmq_close(s);
    if (ctx)
        zmq_ctx_term(ctx);
    return rc;
}
