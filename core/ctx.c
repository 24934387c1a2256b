/* ctx.c: per-thread execution contexts (statistics, model workspaces) and ngt_menu_process, which
 * runs one batch on the caller's thread, waiting there for any asynchronous step. */
#include "exec.h"
#include "internal.h"
#include "menu_int.h"
#include "schema_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>

ngt_ctx *ngt_ctx_new(ngt_menu *m, int max_batch, ngt_error *err)
{
    if (!m || !m->built) {
        seterr(err, NGT_ESTATE, "contexts are made from a built menu");
        return NULL;
    }
    if (max_batch <= 0)
        max_batch = 256;
    ngt_ctx *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->menu = m;
    c->worker = -1;
    c->max_batch = max_batch;
    c->stats = stats_alloc(m);
    /* where a freed context's counts go: made now, so that freeing one never allocates */
    pthread_mutex_lock(&m->stats_mu);
    if (!m->retired)
        m->retired = stats_alloc(m);
    int retired = m->retired != NULL;
    pthread_mutex_unlock(&m->stats_mu);
    if (!retired)
        goto oom;
    c->ws = calloc((size_t)m->n_models + 1, sizeof *c->ws);
    c->ws_size = calloc((size_t)m->n_models + 1, sizeof *c->ws_size);
    if (!c->stats || !c->ws || !c->ws_size)
        goto oom;
    for (int k = 0; k < m->n_models; k++) { /* size workspaces now, off the hot path */
        model_version *v = registry_pin(m->reg, m->model_slots[k]);
        if (v && !ctx_workspace(c, k, v, max_batch)) {
            registry_release(m->reg, v);
            goto oom;
        }
        registry_release(m->reg, v);
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_mutex_lock(&m->stats_mu);
    c->next = m->contexts;
    m->contexts = c;
    pthread_mutex_unlock(&m->stats_mu);
    return c;
oom:
    if (c) {
        for (int k = 0; c->ws && k < m->n_models; k++)
            afree(c->ws[k]);
        free(c->ws);
        free(c->ws_size);
        stats_free(c->stats);
        free(c);
    }
    seterr(err, NGT_ENOMEM, "out of memory for a context");
    return NULL;
}

void ngt_ctx_free(ngt_ctx *c)
{
    if (!c)
        return;
    ngt_menu *m = c->menu;
    pthread_mutex_lock(&m->stats_mu);
    for (ngt_ctx **p = &m->contexts; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    stats_add(m, m->retired, c->stats); /* counts outlive the context (retired: see ctx_new) */
    pthread_mutex_unlock(&m->stats_mu);
    exec_job_free(c->job);
    for (int k = 0; k < m->n_models; k++)
        afree(c->ws[k]);
    afree(c->shadow_out);
    free(c->ws);
    free(c->ws_size);
    stats_free(c->stats);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

void ctx_set_worker(ngt_ctx *c, int worker)
{
    c->worker = worker;
}

void *ctx_shadow_out(ngt_ctx *c, size_t bytes)
{
    if (bytes > c->shadow_bytes || !c->shadow_out) {
        void *p = aalloc(bytes ? bytes : 64);
        if (!p)
            return NULL;
        afree(c->shadow_out);
        c->shadow_out = p;
        c->shadow_bytes = bytes;
    }
    return c->shadow_out;
}

void *ctx_workspace(ngt_ctx *c, int k, const model_version *v, int n)
{
    if (n < c->max_batch)
        n = c->max_batch;
    size_t need = v->backend->workspace_size(v->model, n);
    if (need > c->ws_size[k] || !c->ws[k]) { /* first use, or a swapped-in version wants more */
        void *p = aalloc(need ? need : 64);
        if (!p)
            return NULL;
        afree(c->ws[k]);
        c->ws[k] = p;
        c->ws_size[k] = need;
    }
    return c->ws[k];
}

/* ---- the synchronous path ------------------------------------------------------------------ */

static void sync_wake(void *user, exec_job *j)
{
    (void)j;
    ngt_ctx *c = user;
    pthread_mutex_lock(&c->mu);
    c->woken = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void sync_offload(void *user, exec_job *j)
{
    (void)user;
    exec_job_offload(j); /* no helper threads here: run it now, on the caller's thread */
}

/* A batch made from the menu's schema has its layout token: one compare. Another schema with the
 * same columns is checked column by column once, then known by its token. */
static int same_layout(ngt_ctx *c, const ngt_schema *b, const ngt_schema *m)
{
    if (b->layout == m->layout || (b->layout == c->layout_batch && m->layout == c->layout_menu))
        return 1;
    if (!schema_same_layout(b, m))
        return 0;
    c->layout_batch = b->layout;
    c->layout_menu = m->layout;
    return 1;
}

static void wait_woken(ngt_ctx *c, exec_job *j)
{
    pthread_mutex_lock(&c->mu);
    while (!c->woken) {
        uint64_t deadline = exec_job_deadline(j);
        if (deadline == UINT64_MAX) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        struct timespec now_rt, ts;
        clock_gettime(CLOCK_REALTIME, &now_rt);
        uint64_t now = now_ns();
        uint64_t wait = deadline > now ? deadline - now : 0;
        uint64_t at = (uint64_t)now_rt.tv_sec * 1000000000ULL + (uint64_t)now_rt.tv_nsec + wait;
        ts.tv_sec = (time_t)(at / 1000000000ULL);
        ts.tv_nsec = (long)(at % 1000000000ULL);
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT) {
            pthread_mutex_unlock(&c->mu);
            exec_job_expire(j, now_ns()); /* wakes us if it really expired */
            pthread_mutex_lock(&c->mu);
        }
    }
    c->woken = 0;
    pthread_mutex_unlock(&c->mu);
}

int ngt_menu_process(ngt_menu *m, ngt_ctx *c, ngt_batch *b, ngt_error *err)
{
    if (!m || !c || !b || c->menu != m)
        return seterr(err, NGT_EINVAL, "process: needs a menu, one of its contexts and a batch");
    if (!same_layout(c, ngt_batch_schema(b), m->schema))
        return seterr(err, NGT_EINVAL,
                      "process: the batch was not made from ngt_menu_schema() "
                      "of this menu");
    if (ngt_batch_count(b) > c->max_batch)
        return seterr(err, NGT_EINVAL, "process: %d events exceed the context's maximum %d",
                      ngt_batch_count(b), c->max_batch);
    if (!c->job) {
        c->job = exec_job_new(m, c->max_batch, err);
        if (!c->job)
            return err ? err->code : NGT_ENOMEM;
        exec_job_set_callbacks(c->job, sync_wake, sync_offload, c);
    }
    exec_job_start(c->job, b);
    while (exec_job_run(c->job, c) == EXEC_PARKED)
        wait_woken(c, c->job);
    exec_job_finish(c->job);
    return exec_job_error(c->job, err); /* the batch is complete even when some events errored */
}
