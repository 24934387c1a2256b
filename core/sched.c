/* sched.c: the threaded runner's API: a pool of preallocated batches and jobs, T workers with a
 * context each, offload helpers and a timer, all made up front (no allocation once running). */
#include "internal.h"
#include "sched_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SCHED_MAX_THREADS = 1024, SCHED_MAX_BATCHES = 1 << 20 };

static int sched_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n < SCHED_MAX_THREADS ? n : SCHED_MAX_THREADS) : 1;
}

static int sched_check_opts(const ngt_run_opts *o, ngt_error *err)
{
    if (o->threads > SCHED_MAX_THREADS)
        return seterr(err, NGT_EINVAL, "runner: %d threads asked, at most %d", o->threads,
                      SCHED_MAX_THREADS);
    if (o->offload_threads > SCHED_MAX_THREADS)
        return seterr(err, NGT_EINVAL, "runner: %d offload threads asked, at most %d",
                      o->offload_threads, SCHED_MAX_THREADS);
    if (o->batches > SCHED_MAX_BATCHES)
        return seterr(err, NGT_EINVAL, "runner: a pool of %d batches asked, at most %d", o->batches,
                      SCHED_MAX_BATCHES);
    return NGT_OK;
}

static void sched_settle_opts(ngt_runner *r, const ngt_run_opts *o)
{
    r->threads = o->threads > 0 ? o->threads : sched_cores();
    r->nbatches = o->batches > 0 ? o->batches : 4 * r->threads;
    r->capacity = o->capacity > 0 ? o->capacity : 256;
    r->noffload = o->offload_threads > 0 ? o->offload_threads : 1;
    r->in_order = o->in_order != 0;
    r->sink = o->sink;
    r->sink_user = o->sink_user;
    r->tim_next = UINT64_MAX;
    atomic_init(&r->tim_min_timeout, UINT64_MAX);
    r->next_deliver = 1;
}

static int sched_ring_init(sched_ring *q, int cap)
{
    q->items = calloc((size_t)cap, sizeof *q->items);
    q->cap = cap;
    return q->items ? 0 : -1;
}

static int sched_sync_init(ngt_runner *r)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* now_ns's clock, for the timer */
    pthread_mutex_t *mus[] = {&r->pool_mu, &r->run_mu, &r->off_mu, &r->tim_mu, &r->rob_mu};
    pthread_cond_t *cvs[] = {&r->pool_cv, &r->drain_cv, &r->run_cv, &r->off_cv, &r->tim_cv};
    for (size_t i = 0; i < sizeof mus / sizeof mus[0]; i++)
        pthread_mutex_init(mus[i], NULL);
    for (size_t i = 0; i < sizeof cvs / sizeof cvs[0]; i++)
        pthread_cond_init(cvs[i], &ca);
    pthread_condattr_destroy(&ca);
    return 0;
}

static void sched_sync_destroy(ngt_runner *r)
{
    pthread_mutex_t *mus[] = {&r->pool_mu, &r->run_mu, &r->off_mu, &r->tim_mu, &r->rob_mu};
    pthread_cond_t *cvs[] = {&r->pool_cv, &r->drain_cv, &r->run_cv, &r->off_cv, &r->tim_cv};
    for (size_t i = 0; i < sizeof mus / sizeof mus[0]; i++)
        pthread_mutex_destroy(mus[i]);
    for (size_t i = 0; i < sizeof cvs / sizeof cvs[0]; i++)
        pthread_cond_destroy(cvs[i]);
}

static int sched_alloc(ngt_runner *r, ngt_error *err)
{
    int n = r->nbatches;
    r->slots = aalloc((size_t)n * sizeof *r->slots);
    if (r->slots) /* zeroed at once: sched_destroy reads it if anything below fails */
        memset(r->slots, 0, (size_t)n * sizeof *r->slots);
    r->by_addr = calloc((size_t)n, sizeof *r->by_addr);
    r->rob = calloc((size_t)n, sizeof(sched_slot *)); /* array of pointers */
    r->workers = calloc((size_t)r->threads, sizeof *r->workers);
    r->worker_tids = calloc((size_t)r->threads, sizeof *r->worker_tids);
    r->offload_tids = calloc((size_t)r->noffload, sizeof *r->offload_tids);
    if (!r->slots || !r->by_addr || !r->rob || !r->workers || !r->worker_tids || !r->offload_tids ||
        sched_ring_init(&r->pool, n) || sched_ring_init(&r->runq, n) ||
        sched_ring_init(&r->offq, n))
        return seterr(err, NGT_ENOMEM, "runner: out of memory for a pool of %d batches", n);
    return NGT_OK;
}

static int sched_addr_cmp(const void *a, const void *b)
{
    const sched_addr *x = a, *y = b;
    uintptr_t p = (uintptr_t)x->batch, q = (uintptr_t)y->batch;
    return p < q ? -1 : p > q;
}

/* Makes every batch and job of the pool; each starts free. */
static int sched_make_pool(ngt_runner *r, ngt_error *err)
{
    const ngt_schema *schema = ngt_menu_schema(r->menu);
    for (int i = 0; i < r->nbatches; i++) {
        sched_slot *s = &r->slots[i];
        s->r = r;
        s->index = i;
        atomic_init(&s->state, SLOT_FREE);
        atomic_init(&s->refs, 0);
        atomic_init(&s->deadline, UINT64_MAX);
        s->batch = ngt_batch_new(schema, r->capacity, err);
        if (!s->batch)
            return preferr(err, NGT_ENOMEM, "runner: batch %d of the pool", i);
        s->job = exec_job_new(r->menu, r->capacity, err);
        if (!s->job)
            return preferr(err, NGT_ENOMEM, "runner: job %d of the pool", i);
        exec_job_set_callbacks(s->job, sched_wake, sched_offload, s);
        r->by_addr[i] = (sched_addr){s->batch, i};
        sched_ring_push(&r->pool, i);
    }
    qsort(r->by_addr, (size_t)r->nbatches, sizeof *r->by_addr, sched_addr_cmp);
    return NGT_OK;
}

static int sched_make_contexts(ngt_runner *r, ngt_error *err)
{
    for (int i = 0; i < r->threads; i++) {
        sched_worker *w = &r->workers[i];
        w->r = r;
        w->index = i;
        w->ctx = ngt_ctx_new(r->menu, r->capacity, err);
        if (!w->ctx)
            return preferr(err, NGT_ENOMEM, "runner: context of worker %d", i);
        ctx_set_worker(w->ctx, i);
    }
    return NGT_OK;
}

static int sched_start_threads(ngt_runner *r, ngt_error *err)
{
    for (; r->workers_started < r->threads; r->workers_started++)
        if (pthread_create(&r->worker_tids[r->workers_started], NULL, sched_worker_main,
                           &r->workers[r->workers_started]) != 0)
            return seterr(err, NGT_EIO, "runner: cannot start worker thread %d",
                          r->workers_started);
    for (; r->offload_started < r->noffload; r->offload_started++)
        if (pthread_create(&r->offload_tids[r->offload_started], NULL, sched_offload_main, r) != 0)
            return seterr(err, NGT_EIO, "runner: cannot start offload thread %d",
                          r->offload_started);
    if (pthread_create(&r->timer_tid, NULL, sched_timer_main, r) != 0)
        return seterr(err, NGT_EIO, "runner: cannot start the timer thread");
    r->timer_started = 1;
    return NGT_OK;
}

/* Tells every thread to stop once its queue is empty, then joins them. */
static void sched_stop_threads(ngt_runner *r)
{
    pthread_mutex_lock(&r->run_mu);
    r->run_stop = 1;
    pthread_cond_broadcast(&r->run_cv);
    pthread_mutex_unlock(&r->run_mu);
    for (int i = 0; i < r->workers_started; i++)
        pthread_join(r->worker_tids[i], NULL);
    pthread_mutex_lock(&r->off_mu);
    r->off_stop = 1;
    pthread_cond_broadcast(&r->off_cv);
    pthread_mutex_unlock(&r->off_mu);
    for (int i = 0; i < r->offload_started; i++)
        pthread_join(r->offload_tids[i], NULL);
    pthread_mutex_lock(&r->tim_mu);
    r->tim_stop = 1;
    pthread_cond_broadcast(&r->tim_cv);
    pthread_mutex_unlock(&r->tim_mu);
    if (r->timer_started)
        pthread_join(r->timer_tid, NULL);
}

/* Frees what sched_alloc and the pool made; threads must be stopped. */
static void sched_destroy(ngt_runner *r)
{
    for (int i = 0; r->workers && i < r->threads; i++)
        ngt_ctx_free(r->workers[i].ctx);
    for (int i = 0; r->slots && i < r->nbatches; i++) {
        if (r->slots[i].job)
            exec_job_free(r->slots[i].job);
        ngt_batch_free(r->slots[i].batch);
    }
    afree(r->slots);
    free(r->by_addr);
    free(r->rob);
    free(r->workers);
    free(r->worker_tids);
    free(r->offload_tids);
    free(r->pool.items);
    free(r->runq.items);
    free(r->offq.items);
    sched_sync_destroy(r);
    free(r);
}

ngt_runner *ngt_runner_new(ngt_menu *m, const ngt_run_opts *opts, ngt_error *err)
{
    ngt_run_opts none = {0};
    if (!m) {
        seterr(err, NGT_EINVAL, "runner: no menu given");
        return NULL;
    }
    if (!opts)
        opts = &none;
    if (sched_check_opts(opts, err) != NGT_OK)
        return NULL;
    ngt_runner *r = calloc(1, sizeof *r);
    if (!r || sched_sync_init(r) != 0) {
        free(r);
        seterr(err, NGT_ENOMEM, "runner: out of memory");
        return NULL;
    }
    r->menu = m;
    sched_settle_opts(r, opts);
    if (sched_alloc(r, err) != NGT_OK || sched_make_pool(r, err) != NGT_OK ||
        sched_make_contexts(r, err) != NGT_OK || sched_start_threads(r, err) != NGT_OK) {
        sched_stop_threads(r);
        sched_destroy(r);
        return NULL;
    }
    return r;
}

/* The slot holding batch b, or NULL when b is not from this runner's pool. */
static sched_slot *sched_find(ngt_runner *r, const ngt_batch *b)
{
    sched_addr key = {b, 0};
    sched_addr *a =
        bsearch(&key, r->by_addr, (size_t)r->nbatches, sizeof *r->by_addr, sched_addr_cmp);
    return a ? &r->slots[a->slot] : NULL;
}

static ngt_batch *sched_take(ngt_runner *r)
{
    sched_slot *s = &r->slots[sched_ring_pop(&r->pool)];
    atomic_store(&s->state, SLOT_HELD);
    return s->batch;
}

ngt_batch *ngt_runner_acquire(ngt_runner *r)
{
    if (!r)
        return NULL;
    ngt_batch *b = NULL;
    pthread_mutex_lock(&r->pool_mu);
    r->acquiring++;
    while (r->pool.count == 0 && !r->stopping)
        pthread_cond_wait(&r->pool_cv, &r->pool_mu);
    if (!r->stopping)
        b = sched_take(r);
    if (--r->acquiring == 0 && r->stopping)
        pthread_cond_broadcast(&r->drain_cv);
    pthread_mutex_unlock(&r->pool_mu);
    return b;
}

ngt_batch *ngt_runner_try_acquire(ngt_runner *r)
{
    if (!r)
        return NULL;
    ngt_batch *b = NULL;
    pthread_mutex_lock(&r->pool_mu);
    if (r->pool.count > 0 && !r->stopping)
        b = sched_take(r);
    pthread_mutex_unlock(&r->pool_mu);
    return b;
}

/* Puts a slot back in the pool (pool_mu held). */
static void sched_put(ngt_runner *r, sched_slot *s)
{
    atomic_store(&s->state, SLOT_FREE);
    sched_ring_push(&r->pool, s->index);
    pthread_cond_signal(&r->pool_cv);
}

void ngt_runner_release(ngt_runner *r, ngt_batch *b)
{
    sched_slot *s = r && b ? sched_find(r, b) : NULL;
    if (!s)
        return;
    int expect = SLOT_HELD;
    if (!atomic_compare_exchange_strong(&s->state, &expect, SLOT_FREE))
        return; /* not held by the host: nothing to give back */
    pthread_mutex_lock(&r->pool_mu);
    sched_put(r, s);
    pthread_mutex_unlock(&r->pool_mu);
}

void sched_slot_unref(ngt_runner *r, sched_slot *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    pthread_mutex_lock(&r->pool_mu);
    sched_put(r, s);
    r->returned++;
    if (r->returned == r->submitted)
        pthread_cond_broadcast(&r->drain_cv);
    pthread_mutex_unlock(&r->pool_mu);
}

int ngt_runner_submit(ngt_runner *r, ngt_batch *b, ngt_error *err)
{
    if (!r || !b)
        return seterr(err, NGT_EINVAL, "runner_submit: no %s given", r ? "batch" : "runner");
    sched_slot *s = sched_find(r, b);
    if (!s)
        return seterr(err, NGT_EINVAL,
                      "runner_submit: the batch is not from this runner's pool (take one "
                      "with ngt_runner_acquire)");
    int expect = SLOT_HELD;
    if (!atomic_compare_exchange_strong(&s->state, &expect, SLOT_QUEUED))
        return seterr(err, NGT_ESTATE,
                      "runner_submit: batch %d of the pool is not held by the caller "
                      "(submitted twice, or released)",
                      s->index);
    pthread_mutex_lock(&r->pool_mu);
    r->submitted++;
    pthread_mutex_unlock(&r->pool_mu);
    atomic_store(&s->refs, 1);
    s->offload_pending = 0;
    s->seq = atomic_fetch_add(&r->seq, 1) + 1;
    exec_job_start(s->job, b);
    sched_runq_push(r, s);
    return NGT_OK;
}

int ngt_runner_drain(ngt_runner *r)
{
    if (!r)
        return NGT_EINVAL;
    pthread_mutex_lock(&r->pool_mu);
    while (r->returned != r->submitted)
        pthread_cond_wait(&r->drain_cv, &r->pool_mu);
    pthread_mutex_unlock(&r->pool_mu);
    return NGT_OK;
}

void ngt_runner_free(ngt_runner *r)
{
    if (!r)
        return;
    ngt_runner_drain(r);
    pthread_mutex_lock(&r->pool_mu);
    r->stopping = 1;
    pthread_cond_broadcast(&r->pool_cv);
    while (r->acquiring > 0) /* producers blocked in acquire leave with NULL first */
        pthread_cond_wait(&r->drain_cv, &r->pool_mu);
    pthread_mutex_unlock(&r->pool_mu);
    sched_stop_threads(r);
    sched_destroy(r);
}
