/* exec.c: one batch's trip through a built menu. The job walks the planned nodes with a cursor;
 * a step that goes asynchronous parks the job with the cursor saved, and the caller's loop (the
 * scheduler or ngt_menu_process) resumes it: no recursion, constant stack. */
#include "cut_int.h"
#include "exec_int.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

exec_job *exec_job_new(ngt_menu *m, int cap, ngt_error *err)
{
    if (!m || !m->built || cap <= 0) {
        seterr(err, NGT_EINVAL, "a job needs a built menu and a capacity > 0");
        return NULL;
    }
    exec_job *j = calloc(1, sizeof *j);
    if (!j) {
        seterr(err, NGT_ENOMEM, "out of memory for a job of %d events", cap);
        return NULL;
    }
    pthread_mutex_init(&j->mu, NULL);
    j->deadline = UINT64_MAX;
    j->m = m;
    j->cap = cap;
    size_t c = (size_t)cap, nch = (size_t)m->n_chains + 1, nst = (size_t)m->n_steps + 1;
    size_t scratch = 0;
    for (int i = 0; i < m->n_steps; i++)
        if (m->steps[i].cut) {
            size_t k = cut_scratch_size(m->steps[i].cut, cap);
            scratch = k > scratch ? k : scratch;
        }
    j->pins = calloc((size_t)m->n_models + 1, sizeof(model_version *)); /* array of pointers */
    j->shadows = calloc((size_t)m->n_models + 1, sizeof(model_version *));
    j->factors = calloc((size_t)m->n_chains + 1, sizeof *j->factors);
    j->live = aalloc(nch * c);
    j->errc = aalloc(nch * c);
    j->err_dirty = 1;
    j->perr = aalloc(nst * c);
    j->need = aalloc(c);
    j->pass = aalloc(c);
    j->error = aalloc(c);
    j->bad = aalloc(c);
    j->sel = aalloc(c * sizeof *j->sel);
    j->gather = aalloc(m->gather_bytes * c + 64);
    j->cut_scratch = aalloc(scratch + 64);
    size_t ns = (size_t)m->n_streams + 1;
    j->keys = aalloc(c * sizeof *j->keys);
    j->fin_err = aalloc(c + 8);
    j->fin_any = aalloc(c + 8);
    j->fin_unique = calloc(nch, sizeof *j->fin_unique);
    j->fin_stream = calloc(ns * ns, sizeof *j->fin_stream);
    int cut_ok = 1;
    if (m->cutc) {
        j->cut_rows = aalloc((size_t)m->cut_rows * c);
        j->cut_ptrs = malloc((size_t)m->cut_rows * sizeof *j->cut_ptrs);
        j->cutc_scratch = aalloc(cutc_scratch_size(m->cutc) + 64);
        cut_ok = j->cut_rows && j->cut_ptrs && j->cutc_scratch;
        for (int r = 0; cut_ok && r < m->cut_rows; r++)
            j->cut_ptrs[r] = row(j->cut_rows, r, cap);
    }
    if (!j->pins || !j->shadows || !j->factors || !j->live || !j->errc || !j->perr || !j->need ||
        !j->pass || !j->error || !j->bad || !j->sel || !j->gather || !j->cut_scratch || !j->keys ||
        !j->fin_err || !j->fin_any || !j->fin_unique || !j->fin_stream || !cut_ok) {
        exec_job_free(j);
        seterr(err, NGT_ENOMEM, "out of memory for a job of %d events", cap);
        return NULL;
    }
    return j;
}

void exec_job_free(exec_job *j)
{
    if (!j)
        return;
    exec_job_finish(j);
    pthread_mutex_destroy(&j->mu);
    free(j->pins);
    free(j->shadows);
    free(j->factors);
    afree(j->live);
    afree(j->errc);
    afree(j->perr);
    afree(j->need);
    afree(j->pass);
    afree(j->error);
    afree(j->bad);
    afree(j->sel);
    afree(j->gather);
    afree(j->cut_scratch);
    afree(j->cut_rows);
    free(j->cut_ptrs);
    afree(j->cutc_scratch);
    afree(j->keys);
    afree(j->fin_err);
    afree(j->fin_any);
    free(j->fin_unique);
    free(j->fin_stream);
    free(j);
}

void exec_job_set_callbacks(exec_job *j, exec_wake_fn wake, exec_offload_fn offload, void *user)
{
    j->wake = wake;
    j->offload_fn = offload;
    j->cb_user = user;
}

ngt_batch *exec_job_batch(const exec_job *j)
{
    return j->b;
}

int exec_job_error(const exec_job *j, ngt_error *err)
{
    if (j->batch_rc < 0 && err)
        *err = j->batch_err;
    return j->batch_rc;
}

void exec_job_start(exec_job *j, ngt_batch *b)
{
    ngt_menu *m = j->m;
    j->b = b;
    j->n = ngt_batch_count(b) < j->cap ? ngt_batch_count(b) : j->cap;
    j->cursor = 0;
    j->resuming = 0;
    j->cuts_done = 0;
    j->keys_done = 0;
    ngt_provenance *p = batch_provenance(b);
    p->n_models = m->n_models;
    for (int k = 0; k < m->n_models; k++) {
        j->pins[k] = registry_pin(m->reg, m->model_slots[k]);
        j->shadows[k] = registry_pin_shadow(m->reg, m->model_slots[k]);
        ngt_model_pin *pin = &p->models[k];
        const char *name = ngt_menu_model_name(m, k);
        if (strcmp(pin->name, name) != 0) /* a pool's batch keeps it: copied when it changes */
            str_copy(pin->name, name, sizeof pin->name);
        pin->hash = j->pins[k] ? j->pins[k]->hash : 0;
        pin->serial = j->pins[k] ? j->pins[k]->serial : 0;
    }
    j->column = menu_column_for_batch(m, b, j->factors);
    p->menu_hash = m->hash;
    p->column = j->column;
    str_copy(p->prescale_column, j->column >= 0 ? m->pcols[j->column].name : "",
             sizeof p->prescale_column);
    j->batch_rc = NGT_OK;
    j->batch_err.code = 0;
    j->batch_err.msg[0] = '\0';
    if (j->err_dirty) { /* most batches have no errors: nothing to clear */
        memset(j->errc, 0, (size_t)m->n_chains * (size_t)j->cap);
        memset(j->perr, 0, (size_t)m->n_steps * (size_t)j->cap);
        j->err_dirty = 0;
    }
    /* every way in: no step sees an event whose collection count is outside 0..max */
    ngt_error e;
    j->n_bad = ngt_batch_check_counts(b, 0, j->n, j->bad, &e);
    if (j->n_bad < 0) { /* cannot happen: j->n is the batch's count */
        j->n_bad = 0;
        memset(j->bad, 0, (size_t)j->n);
    }
    if (j->n_bad > 0) { /* those events are errored (exec_finalize) */
        j->err_dirty = 1;
        menu_note_error(m, m->n_order, e.msg);
        j->batch_rc = NGT_ESTEP;
        seterr(&j->batch_err, NGT_ESTEP, "input: %d events refused; first: %s", j->n_bad, e.msg);
    }
}

void exec_job_finish(exec_job *j)
{
    if (!j->m || !j->pins)
        return;
    for (int k = 0; k < j->m->n_models; k++) {
        registry_release(j->m->reg, j->pins[k]);
        j->pins[k] = NULL;
        if (j->shadows) { /* NULL when the job's allocation failed part way */
            registry_release(j->m->reg, j->shadows[k]);
            j->shadows[k] = NULL;
        }
    }
}

uint64_t exec_job_deadline(const exec_job *j)
{
    pthread_mutex_t *mu = (pthread_mutex_t *)&j->mu;
    pthread_mutex_lock(mu);
    uint64_t d = j->parked && !j->offload ? j->deadline : UINT64_MAX;
    pthread_mutex_unlock(mu);
    return d;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static int select_from(const uint8_t *mask, int n, uint32_t *sel)
{
    int k = 0;
    for (int e = 0; e < n; e++) {
        sel[k] = (uint32_t)e;
        k += mask[e] != 0;
    }
    return k;
}

/* The prescale key of event e: the physics identity when the schema declares one (run, lumi,
 * event number hashed as three little-endian u64 with FNV-1a 64; an absent run or lumi is 0, an
 * absent event number is replaced by the event id), else the event id itself. */
static uint64_t event_key(exec_job *j, int e)
{
    const ngt_schema *s = j->m->schema;
    int id[3];
    ngt_schema_identity(s, &id[0], &id[1], &id[2]);
    if (id[0] < 0 && id[1] < 0 && id[2] < 0)
        return ngt_batch_event_ids(j->b)[e];
    uint64_t v[3] = {0, 0, ngt_batch_event_ids(j->b)[e]}; /* no event number: the event id */
    for (int k = 0; k < 3; k++)
        if (id[k] >= 0) {
            const ngt_column_info *c = ngt_schema_column(s, id[k]);
            const char *base = ngt_batch_column(j->b, id[k]);
            v[k] = (uint64_t)read_int(
                base + (c->kind == NGT_COL_SCALAR ? 0 : (size_t)e * c->row_bytes), c->dtype);
        }
    uint8_t bytes[24];
    for (int k = 0; k < 24; k++)
        bytes[k] = (uint8_t)(v[k / 8] >> (8 * (k % 8)));
    return fnv1a(bytes, sizeof bytes, fnv1a_basis());
}

/* The prescale keys of the batch's events, computed once per batch by the first prescale step. */
static void batch_keys(exec_job *j)
{
    if (j->keys_done)
        return;
    for (int e = 0; e < j->n; e++)
        j->keys[e] = event_key(j, e);
    j->keys_done = 1;
}

static const char *prescale_same_key_msg(const ngt_schema *s)
{
    int id[3];
    ngt_schema_identity(s, &id[0], &id[1], &id[2]);
    if (id[0] < 0 && id[1] < 0 && id[2] < 0)
        return "every event has the same prescale key: the schema has no identity and the "
               "batch's event ids are all equal (set ngt_batch_event_ids, or declare an "
               "identity with ngt_schema_set_identity)";
    return "every event has the same prescale key: the identity columns hold the same values "
           "for every event of the batch (fill the event number)";
}

static void hist_add(_Atomic uint64_t *st, uint64_t ns)
{
    stat_add(&st[ST_HIST + hist_bin(ns)], 1);
}

static _Atomic uint64_t *step_stats(ngt_ctx *ctx, int si)
{
    return &ctx->stats->step[(size_t)ctx->menu->step_order[si] * ST_FIELDS];
}

/* A step's time runs from the previous step boundary (its selection and the chain bookkeeping
 * since included) to now, which becomes the next boundary: one clock read per step. */
static uint64_t step_end(exec_job *j)
{
    uint64_t now = now_ns(), dt = now - j->t_mark;
    j->t_mark = now;
    return dt;
}

/* ---- nodes ----------------------------------------------------------------------------------- */

static void run_start(exec_job *j, ngt_ctx *ctx, int ci)
{
    const chain *c = &j->m->chains[ci];
    uint8_t *live = row(j->live, ci, j->cap);
    uint64_t seen = 0;
    if (c->n_seeds == 0 && c->n_vetoes == 0) { /* every event but those the input check refused */
        if (j->n_bad == 0)
            memset(live, 1, (size_t)j->n);
        else
            for (int e = 0; e < j->n; e++)
                live[e] = (uint8_t)!j->bad[e];
        stat_add(&ctx->stats->chain[ci * CH_FIELDS + CH_SEEN], (uint64_t)(j->n - j->n_bad));
        return;
    }
    for (int e = 0; e < j->n; e++) {
        int on = c->n_seeds == 0;
        for (int k = 0; k < c->n_seeds && !on; k++)
            on = row(j->live, c->seeds[k], j->cap)[e];
        for (int k = 0; k < c->n_vetoes && on; k++)
            on = !row(j->live, c->vetoes[k], j->cap)[e];
        on = on && !j->bad[e];
        live[e] = (uint8_t)on;
        seen += (uint64_t)on;
    }
    stat_add(&ctx->stats->chain[ci * CH_FIELDS + CH_SEEN], seen);
}

static void run_use(exec_job *j, ngt_ctx *ctx, int ci, int si)
{
    uint8_t *live = row(j->live, ci, j->cap), *errc = row(j->errc, ci, j->cap);
    const uint8_t *perr = row(j->perr, si, j->cap);
    uint64_t lost = 0;
    for (int e = 0; e < j->n; e++)
        if (live[e] && perr[e]) {
            live[e] = 0;
            errc[e] = 1;
            lost++;
        }
    j->err_dirty |= lost > 0;
    stat_add(&ctx->stats->chain[ci * CH_FIELDS + CH_ERRORED], lost);
}

/* The events a producer must compute: those some user chain still has live, less those a
 * producer it depends on failed on (they are errored here too). */
static void producer_select(exec_job *j, int si)
{
    ngt_menu *m = j->m;
    const step *s = &m->steps[si];
    memset(j->need, 0, (size_t)j->n);
    for (int u = m->user_start[si]; u < m->user_start[si + 1]; u++) {
        const uint8_t *live = row(j->live, m->users[u], j->cap);
        for (int e = 0; e < j->n; e++)
            j->need[e] |= live[e];
    }
    uint8_t *mine = row(j->perr, si, j->cap);
    for (int d = 0; d < s->n_deps; d++) {
        const uint8_t *theirs = row(j->perr, s->deps[d], j->cap);
        for (int e = 0; e < j->n; e++)
            if (j->need[e] && theirs[e]) {
                j->need[e] = 0;
                mine[e] = 1;
                j->err_dirty = 1;
            }
    }
    j->n_sel = select_from(j->need, j->n, j->sel);
}

static int prescale_factor(const exec_job *j, const step *s, int si)
{
    const ngt_menu *m = j->m;
    if (m->chains[s->chain].prescale_step == si && j->factors[s->chain] != UINT32_MAX)
        return (int)(j->factors[s->chain] > INT32_MAX ? INT32_MAX : j->factors[s->chain]);
    if (j->column >= 0 && m->chains[s->chain].prescale_step == si) {
        uint32_t f = m->pcols[j->column].factors[s->chain];
        if (f != UINT32_MAX)
            return (int)(f > INT32_MAX ? INT32_MAX : f);
    }
    return (int)(s->factor > INT32_MAX ? INT32_MAX : s->factor);
}

/* A compiled cut step: the menu's compiled cuts run once per batch, over all its events, when a
 * chain first needs one; each cut step then keeps the live events its row passes. Counted as
 * finish_step counts a filter (a cut never errs). */
static void run_compiled_cut(exec_job *j, ngt_ctx *ctx, const node *x, const step *s)
{
    if (!j->cuts_done) {
        cutc_run(j->m->cutc, j->b, NULL, j->n, j->cut_ptrs, j->cutc_scratch);
        j->cuts_done = 1;
    }
    uint8_t *live = row(j->live, x->chain, j->cap);
    const uint8_t *pass = j->cut_ptrs[s->cut_row];
    uint64_t in = 0, passed = 0;
    int e = 0;
    for (; e + 8 <= j->n;
         e += 8) { /* 8 events a word: bytes are 0 or 1, so they sum by a multiply */
        uint64_t l, p;
        memcpy(&l, live + e, 8);
        memcpy(&p, pass + e, 8);
        p &= l;
        memcpy(live + e, &p, 8);
        in += (l * 0x0101010101010101ULL) >> 56;
        passed += (p * 0x0101010101010101ULL) >> 56;
    }
    for (; e < j->n; e++) {
        unsigned l = live[e], p = l & pass[e];
        live[e] = (uint8_t)p;
        in += l;
        passed += p;
    }
    uint64_t dt = step_end(j);
    stat_add(&ctx->stats->chain[x->chain * CH_FIELDS + CH_TIME], dt);
    if (in == 0)
        return;
    _Atomic uint64_t *st = step_stats(ctx, x->step);
    stat_add(&st[ST_CALLS], 1);
    stat_add(&st[ST_IN], in);
    stat_add(&st[ST_PASSED], passed);
    stat_add(&st[ST_TIME], dt);
    hist_add(st, dt);
}

/* A prescale step over all the batch's events (no selection): the events kept of those live.
 * Returns 0, having done nothing, when the live events all have the same key and the factor is
 * above 1: begin_step's prescale then refuses them as an error. */
static int run_prescale(exec_job *j, ngt_ctx *ctx, const node *x, const step *s)
{
    batch_keys(j);
    uint8_t *live = row(j->live, x->chain, j->cap);
    int e0 = 0;
    while (e0 < j->n && !live[e0])
        e0++;
    uint64_t first = e0 < j->n ? j->keys[e0] : 0, diff = 0;
    int in = 0;
    for (int e = 0; e < j->n; e++) {
        in += live[e];
        diff |= (j->keys[e] ^ first) & (0 - (uint64_t)live[e]);
    }
    int f = prescale_factor(j, s, x->step);
    if (diff == 0 && in > 1 && f > 1)
        return 0;
    int kept = prescale_mask(j->keys, s->seed, (uint32_t)f, live, live, j->n);
    uint64_t dt = step_end(j);
    _Atomic uint64_t *cs = &ctx->stats->chain[x->chain * CH_FIELDS];
    stat_add(&cs[CH_PRESCALED], (uint64_t)(in - kept));
    stat_add(&cs[CH_TIME], dt);
    if (in == 0)
        return 1;
    _Atomic uint64_t *st = step_stats(ctx, x->step);
    stat_add(&st[ST_CALLS], 1);
    stat_add(&st[ST_IN], (uint64_t)in);
    stat_add(&st[ST_PASSED], (uint64_t)kept);
    stat_add(&st[ST_TIME], dt);
    hist_add(st, dt);
    return 1;
}

/* ---- steps: begin, park, finish ----------------------------------------------------------- */

/* Parks the job on its started asynchronous operations (0), or returns 1 when they all completed
 * before it could park. */
static int park(exec_job *j, const step *s)
{
    pthread_mutex_lock(&j->mu);
    if (j->pending == 0) { /* everything completed before we could park */
        pthread_mutex_unlock(&j->mu);
        return 1;
    }
    j->parked = 1;
    j->deadline = now_ns() + s->timeout_ns;
    pthread_mutex_unlock(&j->mu);
    return 0;
}

/* Starts the step at the cursor. Returns 1 when it completed (finish it now), 0 when the job
 * parked (the caller must not touch the job any more). */
static int begin_step(exec_job *j, ngt_ctx *ctx, const node *x)
{
    const step *s = &j->m->steps[x->step];
    if (x->kind == NODE_FILTER)
        j->n_sel = select_from(row(j->live, x->chain, j->cap), j->n, j->sel);
    else
        producer_select(j, x->step);
    memset(j->pass, 1, (size_t)j->n_sel);
    memset(j->error, 0, (size_t)j->n_sel);
    j->step_rc = NGT_OK;
    j->step_err.code = 0;
    j->step_err.msg[0] = '\0';
    j->t_start = j->t_mark;
    if (j->n_sel == 0)
        return 1;
    switch (s->kind) {
    case STEP_CUT:
        j->step_rc = cut_eval(s->cut, j->b, j->sel, j->n_sel, j->pass, j->cut_scratch);
        return 1;
    case STEP_PRESCALE: {
        int f = prescale_factor(j, s, x->step);
        batch_keys(j);
        uint64_t first = 0;
        int same = 1;
        for (int i = 0; i < j->n_sel; i++) {
            uint64_t key = j->keys[j->sel[i]];
            first = i == 0 ? key : first;
            same &= key == first;
            j->pass[i] = (uint8_t)prescale_keep(key, s->seed, (uint32_t)f);
        }
        /* one key for every event (no identity and event ids never set: all 0) would keep all or
         * none of them: refused rather than silently wrong */
        if (same && j->n_sel > 1 && f > 1)
            j->step_rc = seterr(&j->step_err, NGT_ESTEP, "%s", prescale_same_key_msg(j->m->schema));
        return 1;
    }
    case STEP_INFER: {
        exec_reset_async(j);
        int rc = exec_start_infer(j, ctx, s);
        if (rc != NGT_PENDING) {
            j->step_rc = rc;
            return 1;
        }
        return park(j, s);
    }
    default:
        break;
    }
    exec_reset_async(j);
    if (s->mode == NGT_STEP_OFFLOAD && j->offload_fn) {
        pthread_mutex_lock(&j->mu);
        j->parked = j->offload = 1;
        j->deadline = UINT64_MAX; /* an offload step runs to completion on its helper thread */
        pthread_mutex_unlock(&j->mu);
        j->offload_fn(j->cb_user, j);
        return 0;
    }
    int rc = exec_call_fn(j, s, ctx);
    if (rc < 0 || s->mode == NGT_STEP_SYNC) {
        j->step_rc = rc < 0 ? rc : NGT_OK;
        return 1;
    }
    pthread_mutex_lock(&j->mu);
    int started = j->n_started;
    pthread_mutex_unlock(&j->mu);
    if (started == 0) {
        if (rc == NGT_PENDING)
            j->step_rc = seterr(&j->step_err, NGT_ESTEP,
                                "step returned pending but started "
                                "no asynchronous operation");
        return 1;
    }
    return park(j, s);
}

/* A failed call: its message (the step's own, else what is known) is kept as the step's first
 * error and as the batch's first failure; the failed calls are counted. */
static void note_failure(exec_job *j, ngt_ctx *ctx, const step *s, int si, int timed_out,
                         int failed, uint64_t errors)
{
    char msg[NGT_ERR_MSG_MAX];
    const char *own = j->step_err.msg[0] ? j->step_err.msg : NULL;
    if (timed_out)
        snprintf(msg, sizeof msg, "timed out after %.3g s", (double)s->timeout_ns / 1e9);
    else if (own)
        snprintf(msg, sizeof msg, "%s", own);
    else if (failed)
        snprintf(msg, sizeof msg, "an asynchronous operation completed with an error");
    else if (j->step_rc < 0)
        snprintf(msg, sizeof msg, "returned %d without a message", j->step_rc);
    else
        snprintf(msg, sizeof msg, "marked %llu events in error[] without a message",
                 (unsigned long long)errors);
    menu_note_error(j->m, j->m->step_order[si], msg);
    stat_add(&step_stats(ctx, si)[ST_FAILS], 1);
    if (j->batch_rc == NGT_OK) {
        j->batch_rc = NGT_ESTEP;
        seterr(&j->batch_err, NGT_ESTEP, "step '%s': %s", s->name, msg);
    }
}

/* A producer's columns hold 0 for the events it did not run on (no chain using it had them
 * live), never a value left in a pooled batch by earlier events: the gaps between the selected
 * events are cleared (nothing to do when it ran on every event). */
static void clear_unselected(exec_job *j, const step *s)
{
    int next = 0; /* first event not yet accounted for */
    for (int i = 0; i <= j->n_sel; i++) {
        int upto = i < j->n_sel ? (int)j->sel[i] : j->n;
        if (upto > next)
            for (int k = 0; k < s->n_out; k++) {
                size_t rb = ngt_schema_column(j->m->schema, s->out[k])->row_bytes;
                memset((char *)ngt_batch_column(j->b, s->out[k]) + (size_t)next * rb, 0,
                       (size_t)(upto - next) * rb);
            }
        next = upto + 1;
    }
}

static void finish_step(exec_job *j, ngt_ctx *ctx, const node *x)
{
    const step *s = &j->m->steps[x->step];
    pthread_mutex_lock(&j->mu);
    int timed_out = j->timed_out, failed = j->failed;
    j->timed_out = j->failed = 0;
    pthread_mutex_unlock(&j->mu);
    if (s->kind == STEP_INFER && j->infer_op) { /* an asynchronous inference ends here */
        int rc = exec_end_infer(j, s, timed_out ? NGT_ETIMEOUT : failed ? NGT_ESTEP : NGT_OK);
        if (rc < 0 && j->step_rc >= 0)
            j->step_rc = rc;
    }
    int all_bad = j->step_rc < 0 || timed_out || failed;
    j->t_mark = j->t_start; /* from the step's start, also when it parked in between */
    uint64_t dt = step_end(j), passed = 0, errors = 0, dropped = 0;
    if (x->kind == NODE_PRODUCER) {
        clear_unselected(j, s);
        uint8_t *perr = row(j->perr, x->step, j->cap);
        for (int i = 0; i < j->n_sel; i++) {
            int bad = all_bad || j->error[i];
            perr[j->sel[i]] |= (uint8_t)bad;
            errors += (uint64_t)bad;
        }
        passed = (uint64_t)j->n_sel - errors;
        j->err_dirty |= errors > 0;
    } else {
        uint8_t *live = row(j->live, x->chain, j->cap), *errc = row(j->errc, x->chain, j->cap);
        for (int i = 0; i < j->n_sel; i++) {
            uint32_t e = j->sel[i];
            if (all_bad || j->error[i]) {
                live[e] = 0;
                errc[e] = 1;
                errors++;
            } else if (!j->pass[i]) {
                live[e] = 0;
                dropped++;
            } else {
                passed++;
            }
        }
        j->err_dirty |= errors > 0;
        _Atomic uint64_t *cs = &ctx->stats->chain[x->chain * CH_FIELDS];
        stat_add(&cs[CH_ERRORED], errors);
        if (s->kind == STEP_PRESCALE)
            stat_add(&cs[CH_PRESCALED], dropped);
        stat_add(&cs[CH_TIME], dt);
    }
    if (j->n_sel == 0)
        return;
    if (errors > 0)
        note_failure(j, ctx, s, x->step, timed_out, failed, errors);
    _Atomic uint64_t *st = step_stats(ctx, x->step);
    stat_add(&st[ST_CALLS], 1);
    stat_add(&st[ST_IN], (uint64_t)j->n_sel);
    stat_add(&st[ST_PASSED], passed);
    stat_add(&st[ST_ERRORS], errors);
    stat_add(&st[ST_TIMEOUTS], (uint64_t)timed_out);
    stat_add(&st[ST_TIME], dt);
    hist_add(st, dt);
}

exec_status exec_job_run(exec_job *j, ngt_ctx *ctx)
{
    const ngt_menu *m = j->m;
    j->t_mark = now_ns();
    while (j->cursor < m->n_nodes) {
        const node *x = &m->nodes[j->cursor];
        if (j->resuming) {
            j->resuming = 0;
            finish_step(j, ctx, x);
            j->cursor++;
            continue;
        }
        switch (x->kind) {
        case NODE_START:
            run_start(j, ctx, x->chain);
            break;
        case NODE_USE:
            run_use(j, ctx, x->chain, x->step);
            break;
        case NODE_END:
            break;
        case NODE_FILTER:
            if (j->m->steps[x->step].kind == STEP_CUT && j->m->steps[x->step].cut_row >= 0) {
                run_compiled_cut(j, ctx, x, &j->m->steps[x->step]);
                break;
            }
            if (j->m->steps[x->step].kind == STEP_PRESCALE &&
                run_prescale(j, ctx, x, &j->m->steps[x->step]))
                break;
            /* fall through */
        default:
            j->resuming = 1;
            if (!begin_step(j, ctx, x))
                return EXEC_PARKED;
            continue; /* finish it in the next round */
        }
        j->cursor++;
    }
    exec_finalize(j, ctx);
    return EXEC_DONE;
}
