/* exec_async.c: asynchronous steps. A step starts operations (ngt_step_async) that complete
 * from any thread (ngt_async_complete); the job wakes when all have (when_all), when its offload
 * step is done, or when its deadline expires (late completions are then ignored). */
#include "exec_int.h"
#include "internal.h"

void exec_reset_async(exec_job *j)
{
    pthread_mutex_lock(&j->mu);
    j->pending = j->failed = j->timed_out = j->n_started = 0;
    j->offload = 0;
    pthread_mutex_unlock(&j->mu);
}

ngt_async *ngt_step_async(ngt_step_io *io)
{
    exec_job *j = io ? io->opaque : NULL;
    if (!j)
        return NULL;
    pthread_mutex_lock(&j->mu);
    ngt_async *a = NULL;
    if (j->n_started < NGT_MAX_ASYNC) {
        a = &j->slots[j->n_started++];
        a->job = j;
        a->gen = j->gen;
        a->done = 0;
        j->pending++;
    }
    pthread_mutex_unlock(&j->mu);
    return a;
}

void ngt_async_complete(ngt_async *a, int status)
{
    if (!a)
        return;
    exec_job *j = a->job;
    pthread_mutex_lock(&j->mu);
    int wake = 0;
    if (a->gen == j->gen && !a->done) {
        a->done = 1;
        j->failed |= status < 0;
        j->pending--;
        wake = j->pending == 0 && j->parked;
        if (wake)
            j->parked = 0;
    }
    pthread_mutex_unlock(&j->mu);
    if (wake)
        j->wake(j->cb_user, j);
}

int exec_call_fn(exec_job *j, const step *s, ngt_ctx *ctx)
{
    j->io = (ngt_step_io){.batch = j->b,
                          .sel = j->sel,
                          .n = j->n_sel,
                          .pass = j->pass,
                          .error = j->error,
                          .worker = ctx ? ctx->worker : -1,
                          .opaque = j,
                          .err = &j->step_err};
    return s->fn(s->user, &j->io);
}

void exec_job_offload(exec_job *j)
{
    const step *s = &j->m->steps[j->m->nodes[j->cursor].step];
    int rc = exec_call_fn(j, s, NULL);
    if (rc == NGT_PENDING)
        rc = seterr(&j->step_err, NGT_ESTEP, "an offload step cannot return pending");
    j->step_rc = rc < 0 ? rc : NGT_OK;
    pthread_mutex_lock(&j->mu);
    j->parked = j->offload = 0;
    pthread_mutex_unlock(&j->mu);
    j->wake(j->cb_user, j);
}

int exec_job_expire(exec_job *j, uint64_t now)
{
    pthread_mutex_lock(&j->mu);
    int expire = j->parked && !j->offload && now >= j->deadline;
    if (expire) {
        j->gen++; /* late completions are ignored */
        j->parked = 0;
        j->timed_out = 1;
    }
    pthread_mutex_unlock(&j->mu);
    if (expire)
        j->wake(j->cb_user, j);
    return expire;
}
