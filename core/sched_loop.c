/* sched_loop.c: the runner's threads: workers running jobs until they finish or park, wake-ups
 * from any thread, offload helpers, the timer that expires parked jobs, and in-order delivery. */
#include "internal.h"
#include "sched_int.h"

#include <time.h>

void sched_runq_push(struct ngt_runner *r, sched_slot *s)
{
    pthread_mutex_lock(&r->run_mu);
    sched_ring_push(&r->runq, s->index);
    pthread_cond_signal(&r->run_cv);
    pthread_mutex_unlock(&r->run_mu);
}

/* Wake callback of every job (any thread). A parked job is requeued; a job whose worker has not
 * yet seen it park, or that the timer is examining, is marked and requeued by them. */
void sched_wake(void *user, exec_job *j)
{
    sched_slot *s = user;
    (void)j;
    int st = atomic_load(&s->state);
    for (;;) {
        int to;
        if (st == SLOT_PARKED)
            to = SLOT_QUEUED;
        else if (st == SLOT_RUNNING)
            to = SLOT_WOKEN;
        else if (st == SLOT_EXPIRING)
            to = SLOT_EXPIRING_WOKEN;
        else
            return; /* not waiting: a late or repeated wake-up */
        if (atomic_compare_exchange_weak(&s->state, &st, to)) {
            if (to == SLOT_QUEUED)
                sched_runq_push(s->r, s);
            return;
        }
    }
}

/* Offload callback (on the worker, inside exec_job_run): the hand-off to a helper waits until
 * exec_job_run has returned, so no helper touches a job its worker is still inside. */
void sched_offload(void *user, exec_job *j)
{
    sched_slot *s = user;
    (void)j;
    s->offload_pending = 1;
}

static void sched_offq_push(struct ngt_runner *r, sched_slot *s)
{
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_lock(&r->off_mu);
    sched_ring_push(&r->offq, s->index);
    pthread_cond_signal(&r->off_cv);
    pthread_mutex_unlock(&r->off_mu);
}

static void sched_deliver(struct ngt_runner *r, sched_slot *s)
{
    if (r->sink)
        r->sink(r->sink_user, s->batch);
    exec_job_finish(s->job);
    sched_slot_unref(r, s);
}

/* In submission order: whoever finishes the next expected batch delivers it and every later one
 * already waiting, one at a time (the sink never runs twice at once). */
static void sched_deliver_in_order(struct ngt_runner *r, sched_slot *s)
{
    int n = r->nbatches;
    pthread_mutex_lock(&r->rob_mu);
    r->rob[(s->seq - 1) % (uint64_t)n] = s;
    if (r->delivering || s->seq != r->next_deliver) {
        pthread_mutex_unlock(&r->rob_mu);
        return;
    }
    r->delivering = 1;
    for (;;) {
        size_t k = (size_t)((r->next_deliver - 1) % (uint64_t)n);
        sched_slot *next = r->rob[k];
        if (!next || next->seq != r->next_deliver)
            break;
        r->rob[k] = NULL;
        r->next_deliver++;
        pthread_mutex_unlock(&r->rob_mu);
        sched_deliver(r, next);
        pthread_mutex_lock(&r->rob_mu);
    }
    r->delivering = 0;
    pthread_mutex_unlock(&r->rob_mu);
}

/* The timer scans every half of the shortest timeout seen (at most every second, at least every
 * millisecond), so a parked job expires between 1x and 1.5x its timeout. A park tells the timer
 * only when it brings a shorter timeout than any before: the common park takes no lock here. */
enum { SCHED_TICK_MIN_NS = 1000000, SCHED_TICK_MAX_NS = 1000000000 };

static uint64_t sched_timer_period(struct ngt_runner *r)
{
    uint64_t p = atomic_load(&r->tim_min_timeout) / 2;
    return p < SCHED_TICK_MIN_NS   ? SCHED_TICK_MIN_NS
           : p > SCHED_TICK_MAX_NS ? SCHED_TICK_MAX_NS
                                   : p;
}

static void sched_timer_notify(struct ngt_runner *r, uint64_t deadline)
{
    if (deadline == UINT64_MAX)
        return;
    uint64_t now = now_ns(), timeout = deadline > now ? deadline - now : 0;
    uint64_t min = atomic_load(&r->tim_min_timeout);
    int shorter = 0;
    while (timeout < min &&
           !(shorter = atomic_compare_exchange_weak(&r->tim_min_timeout, &min, timeout)))
        ;
    if (!shorter)
        return;
    pthread_mutex_lock(&r->tim_mu); /* orders this with the timer's scan-then-wait */
    if (deadline < r->tim_next)
        pthread_cond_signal(&r->tim_cv);
    pthread_mutex_unlock(&r->tim_mu);
}

/* Runs one job until it is done or parked. A job woken before it was seen parking runs again in
 * this loop: resumption is iteration, never recursion, so the stack stays flat. */
static void sched_run_job(sched_worker *w, sched_slot *s)
{
    struct ngt_runner *r = w->r;
    for (;;) {
        atomic_store(&s->state, SLOT_RUNNING);
        if (exec_job_run(s->job, w->ctx) == EXEC_DONE) {
            atomic_store(&s->state, SLOT_DONE);
            if (r->in_order)
                sched_deliver_in_order(r, s);
            else
                sched_deliver(r, s);
            return;
        }
        if (s->offload_pending) {
            s->offload_pending = 0;
            sched_offq_push(r, s);
        }
        uint64_t deadline = exec_job_deadline(s->job);
        atomic_store(&s->deadline, deadline);
        int expect = SLOT_RUNNING;
        if (atomic_compare_exchange_strong(&s->state, &expect, SLOT_PARKED)) {
            sched_timer_notify(r, deadline);
            return; /* forgotten until its wake-up requeues it */
        }
    }
}

/* Pops the next runnable job; NULL when the runner stops and the queue is empty. */
static sched_slot *sched_runq_pop(struct ngt_runner *r)
{
    sched_slot *s = NULL;
    pthread_mutex_lock(&r->run_mu);
    while (r->runq.count == 0 && !r->run_stop)
        pthread_cond_wait(&r->run_cv, &r->run_mu);
    if (r->runq.count > 0)
        s = &r->slots[sched_ring_pop(&r->runq)];
    pthread_mutex_unlock(&r->run_mu);
    return s;
}

void *sched_worker_main(void *arg)
{
    sched_worker *w = arg;
    sched_slot *s;
    while ((s = sched_runq_pop(w->r)) != NULL)
        sched_run_job(w, s);
    return NULL;
}

void *sched_offload_main(void *arg)
{
    struct ngt_runner *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->off_mu);
        while (r->offq.count == 0 && !r->off_stop)
            pthread_cond_wait(&r->off_cv, &r->off_mu);
        if (r->offq.count == 0) {
            pthread_mutex_unlock(&r->off_mu);
            return NULL;
        }
        sched_slot *s = &r->slots[sched_ring_pop(&r->offq)];
        pthread_mutex_unlock(&r->off_mu);
        exec_job_offload(s->job); /* runs the step, then wakes the job */
        sched_slot_unref(r, s);
    }
}

/* Expires one parked job past its deadline; a wake-up during the check is replayed here. */
static void sched_expire(struct ngt_runner *r, sched_slot *s, uint64_t now)
{
    int expect = SLOT_PARKED;
    if (!atomic_compare_exchange_strong(&s->state, &expect, SLOT_EXPIRING))
        return;
    exec_job_expire(s->job, now);
    expect = SLOT_EXPIRING;
    if (atomic_compare_exchange_strong(&s->state, &expect, SLOT_PARKED))
        return;
    atomic_store(&s->state, SLOT_QUEUED);
    sched_runq_push(r, s);
}

/* One pass over the pool: expires what is due, returns the earliest deadline still ahead. */
static uint64_t sched_timer_scan(struct ngt_runner *r)
{
    uint64_t now = now_ns(), next = UINT64_MAX;
    for (int i = 0; i < r->nbatches; i++) {
        sched_slot *s = &r->slots[i];
        if (atomic_load(&s->state) != SLOT_PARKED)
            continue;
        uint64_t d = atomic_load(&s->deadline);
        if (d <= now)
            sched_expire(r, s, now);
        else if (d < next)
            next = d;
    }
    return next;
}

static void sched_timer_wait(struct ngt_runner *r, uint64_t until)
{
    struct timespec ts = {.tv_sec = (time_t)(until / 1000000000ULL),
                          .tv_nsec = (long)(until % 1000000000ULL)};
    int rc = pthread_cond_timedwait(&r->tim_cv, &r->tim_mu, &ts);
    (void)rc; /* a timeout, a signal or a spurious wake-up: all lead to a new scan */
}

void *sched_timer_main(void *arg)
{
    struct ngt_runner *r = arg;
    pthread_mutex_lock(&r->tim_mu);
    while (!r->tim_stop) {
        uint64_t next = sched_timer_scan(r), tick = now_ns() + sched_timer_period(r);
        r->tim_next = next < tick ? next : tick;
        if (!r->tim_stop)
            sched_timer_wait(r, r->tim_next);
    }
    pthread_mutex_unlock(&r->tim_mu);
    return NULL;
}
