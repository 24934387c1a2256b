/* exec.h: one batch's trip through a built menu, as a resumable state machine (a "job").
 * The scheduler (sched.c) and the synchronous path (ngt_menu_process) both drive jobs; a job that
 * meets an asynchronous step parks with its position saved and is resumed later through the
 * caller's loop, never by recursion, so the stack stays constant however often it parks. */
#ifndef NGT_EXEC_H
#define NGT_EXEC_H

#include "ngt.h"

typedef struct exec_job exec_job;

typedef enum exec_status { EXEC_DONE = 0, EXEC_PARKED = 1 } exec_status;

/* Allocates everything one batch in flight needs (masks, selection vectors, gather buffers,
 * async slots) for batches of up to capacity events. Never allocates afterwards. */
exec_job *exec_job_new(ngt_menu *m, int capacity, ngt_error *err);
void exec_job_free(exec_job *j);

/* Called from any thread when a parked job becomes runnable again (all its async operations
 * completed, its offload step finished or its deadline expired). The callee requeues it. */
typedef void (*exec_wake_fn)(void *user, exec_job *j);
/* Called (on the worker) when the job parks on an offload step; the callee must arrange for
 * exec_job_offload(j) to run on a helper thread. */
typedef void (*exec_offload_fn)(void *user, exec_job *j);
void exec_job_set_callbacks(exec_job *j, exec_wake_fn wake, exec_offload_fn offload, void *user);

/* Begins a batch: pins the model versions and the prescale column, clears the results. */
void exec_job_start(exec_job *j, ngt_batch *b);
/* Runs the job until it is done or parks. ctx supplies the worker's stats and workspaces. */
exec_status exec_job_run(exec_job *j, ngt_ctx *ctx);
/* Runs the job's pending offload step (on a helper thread), then wakes the job. */
void exec_job_offload(exec_job *j);
/* Monotonic ns after which a parked job times out (UINT64_MAX when not parked). */
uint64_t exec_job_deadline(const exec_job *j);
/* If the job is still parked past its deadline: errors the waiting step's events, ignores any
 * late completion, wakes the job and returns 1. Otherwise 0. */
int exec_job_expire(exec_job *j, uint64_t now_ns);
ngt_batch *exec_job_batch(const exec_job *j);
/* NGT_OK, or the batch's first step failure or input refusal (NGT_ESTEP, copied to err). */
int exec_job_error(const exec_job *j, ngt_error *err);
/* Releases the pinned model versions once the batch has left the sink. */
void exec_job_finish(exec_job *j);

/* Contexts: the scheduler makes one per worker and numbers them. */
void ctx_set_worker(ngt_ctx *c, int worker);

#endif
