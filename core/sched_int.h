/* sched_int.h: the threaded runner's internals, shared by sched.c (API, pool, start and stop) and
 * sched_loop.c (workers, wake-ups, offload threads, timeouts, in-order delivery). */
#ifndef NGT_SCHED_INT_H
#define NGT_SCHED_INT_H

#include "exec.h"
#include "ngt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* A fixed-capacity FIFO of slot indices; never grows (capacity = pool size, and a slot is in a
 * given queue at most once). Guarded by the mutex of whoever owns it. */
typedef struct sched_ring {
    int *items;
    int cap, head, count;
} sched_ring;

static inline void sched_ring_push(sched_ring *q, int v)
{
    q->items[(q->head + q->count) % q->cap] = v;
    q->count++;
}

static inline int sched_ring_pop(sched_ring *q)
{
    int v = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return v;
}

/* Life of a slot (one batch + its job):
 *   FREE -> HELD (acquired) -> QUEUED (submitted) -> RUNNING -> DONE -> FREE
 *   RUNNING -> PARKED (async or offload step) -> QUEUED (woken) -> RUNNING ...
 *   RUNNING -> WOKEN (woken before the worker saw it park: the worker runs it again)
 *   PARKED -> EXPIRING (timer checking it) -> PARKED, or -> EXPIRING_WOKEN -> QUEUED */
enum {
    SLOT_FREE = 0,
    SLOT_HELD,
    SLOT_QUEUED,
    SLOT_RUNNING,
    SLOT_WOKEN,
    SLOT_PARKED,
    SLOT_EXPIRING,
    SLOT_EXPIRING_WOKEN,
    SLOT_DONE
};

typedef struct sched_slot {
    _Alignas(64) exec_job *job; /* one cache line (or two) per slot: no false sharing */
    ngt_batch *batch;
    struct ngt_runner *r;
    int index;
    int offload_pending;       /* set by the offload callback, read by the same worker */
    uint64_t seq;              /* submission number, from 1 */
    _Atomic int state;         /* SLOT_* */
    _Atomic int refs;          /* 1 while in flight, +1 while an offload thread holds it */
    _Atomic uint64_t deadline; /* exec_job_deadline when it parked */
} sched_slot;

/* A batch address and its slot, sorted by address to find a slot from a batch without a search
 * over the whole pool. */
typedef struct sched_addr {
    const ngt_batch *batch;
    int slot;
} sched_addr;

typedef struct sched_worker {
    struct ngt_runner *r;
    ngt_ctx *ctx;
    int index;
} sched_worker;

struct ngt_runner {
    ngt_menu *menu;
    ngt_sink_fn sink;
    void *sink_user;
    int in_order, threads, nbatches, capacity, noffload;
    sched_slot *slots;
    sched_addr *by_addr;
    sched_worker *workers;
    pthread_t *worker_tids, *offload_tids, timer_tid;
    int workers_started, offload_started, timer_started;

    pthread_mutex_t pool_mu; /* pool: free slots, submitted/returned counts */
    pthread_cond_t pool_cv;  /* a slot came back (acquire) */
    pthread_cond_t drain_cv; /* returned caught up with submitted (drain) */
    sched_ring pool;
    uint64_t submitted, returned;
    int stopping;
    int acquiring; /* producers waiting in acquire (free waits for them to leave) */

    pthread_mutex_t run_mu; /* run queue: jobs ready for a worker */
    pthread_cond_t run_cv;
    sched_ring runq;
    int run_stop;

    pthread_mutex_t off_mu; /* offload queue: jobs whose offload step waits for a helper */
    pthread_cond_t off_cv;
    sched_ring offq;
    int off_stop;

    pthread_mutex_t tim_mu; /* timer: expires parked jobs past their deadline */
    pthread_cond_t tim_cv;
    uint64_t tim_next; /* when the timer scans next */
    int tim_stop;
    _Atomic uint64_t tim_min_timeout; /* shortest timeout parked so far: sets the scan period */

    pthread_mutex_t rob_mu; /* reorder buffer (in_order): finished jobs by sequence number */
    sched_slot **rob;
    uint64_t next_deliver;
    int delivering;

    _Atomic uint64_t seq;
};

/* sched_loop.c */
void *sched_worker_main(void *arg);
void *sched_offload_main(void *arg);
void *sched_timer_main(void *arg);
void sched_wake(void *user, exec_job *j);
void sched_offload(void *user, exec_job *j);
void sched_runq_push(struct ngt_runner *r, sched_slot *s);
/* sched.c: drops a reference; the last one returns the slot to the pool. */
void sched_slot_unref(struct ngt_runner *r, sched_slot *s);

#endif
