/* exec_int.h: the job (one batch in flight) as exec.c, exec_async.c, exec_infer.c and
 * exec_result.c share it; nothing outside core/exec*.c includes this. */
#ifndef NGT_EXEC_INT_H
#define NGT_EXEC_INT_H

#include "exec.h"
#include "menu_int.h"

struct ngt_async {
    struct exec_job *job;
    unsigned gen;
    int done;
};

struct exec_job {
    ngt_menu *m;
    int cap;
    ngt_batch *b;
    int n;
    int cursor;
    int resuming; /* the node at cursor parked and must be finished */
    int column;   /* prescale column pinned for this batch */
    model_version **pins;
    model_version **shadows; /* per model: its shadow pinned with it, or NULL */
    uint32_t *factors; /* per chain: the operator's prescale for this batch (UINT32_MAX: none) */
    uint8_t *live, *errc, *perr, *need, *pass, *error;
    uint8_t *bad; /* events refused by the input check (bad collection counts) */
    int n_bad;
    int err_dirty; /* some errc or perr byte may be set (cleared at the next batch's start) */
    uint32_t *sel;
    int n_sel;
    void *gather, *cut_scratch;
    /* compiled cuts: row r of cut_rows (cap bytes) is result row r, computed for every event of
     * the batch by the first cut step that needs it (cuts_done) */
    uint8_t *cut_rows, **cut_ptrs;
    double *cutc_scratch;
    int cuts_done;
    /* prescale keys of the batch's events, computed by the first prescale step (keys_done) */
    uint64_t *keys;
    int keys_done;
    /* exec_finalize's counts: per event an error; per chain unique accepts; per stream pair
     * (ns x ns) events */
    uint8_t *fin_err; /* cap + 8 bytes */
    uint8_t *fin_any; /* cap + 8 bytes: per event, 1 when some chain accepted it */
    uint64_t *fin_unique, *fin_stream;
    /* the step in progress (also while parked) */
    ngt_step_io io;
    ngt_error step_err;
    int step_rc;
    /* the batch's first step failure (or bad input), for ngt_menu_process */
    ngt_error batch_err;
    int batch_rc;
    /* step times: t_mark is the last step boundary (a step's end, or the job's start or resume),
     * read once and reused as the next step's start; t_start, the step in progress's start (kept
     * while it is parked) */
    uint64_t t_mark, t_start;
    /* asynchronous state, under mu */
    pthread_mutex_t mu;
    int parked, offload, pending, failed, timed_out;
    unsigned gen;
    uint64_t deadline;
    struct ngt_async slots[NGT_MAX_ASYNC];
    int n_started;
    void *infer_op; /* an asynchronous backend's inference in flight (NULL when none) */
    exec_wake_fn wake;
    exec_offload_fn offload_fn;
    void *cb_user;
};

/* Row k of a per-chain (or per-step) mask array of cap bytes each. */
static inline uint8_t *row(uint8_t *masks, int k, int cap)
{
    return masks + (size_t)k * (size_t)cap;
}

/* exec_async.c: the asynchronous state is reset before each function step; call a step's
 * function on the job's selection. */
void exec_reset_async(exec_job *j);
int exec_call_fn(exec_job *j, const step *s, ngt_ctx *ctx);
/* exec_infer.c: runs a model producer on the job's selection (dense or gathered). */
int exec_run_infer(exec_job *j, ngt_ctx *ctx, const step *s);
/* A backend with infer_start: starts the inference as one asynchronous operation of the job and
 * returns NGT_PENDING, or returns what exec_run_infer returns when it cannot (a chunked batch,
 * no wake-up callback). exec_end_infer hands the operation back (status: NGT_OK, or the timeout
 * or failure seen) and scatters the outputs; it returns the step's status. */
int exec_start_infer(exec_job *j, ngt_ctx *ctx, const step *s);
int exec_end_infer(exec_job *j, const step *s, int status);
/* exec_result.c: decisions, streams, statuses and the batch's statistics. */
void exec_finalize(exec_job *j, ngt_ctx *ctx);

#endif
