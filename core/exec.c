/* exec.c: one batch's trip through a built menu. The job walks the planned nodes with a cursor;
 * a step that goes asynchronous parks the job with the cursor saved, and the caller's loop (the
 * scheduler or ngt_menu_process) resumes it: no recursion, constant stack. */
#include "cut_int.h"
#include "exec_int.h"
#include "internal.h"

#include <string.h>

ngt_job *exec_job_new(ngt_menu *m, int cap, ngt_error *err)
{
    if (!m || !m->built || cap <= 0) {
        ngt_seterr(err, NGT_EINVAL, "a job needs a built menu and a capacity > 0");
        return NULL;
    }
    ngt_job *j = calloc(1, sizeof *j);
    if (!j) {
        ngt_seterr(err, NGT_ENOMEM, "out of memory for a job of %d events", cap);
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
            size_t k = ngt_cut_scratch_size(m->steps[i].cut, cap);
            scratch = k > scratch ? k : scratch;
        }
    j->pins = calloc((size_t)m->n_models + 1, sizeof(model_version *)); /* array of pointers */
    j->live = ngt_aalloc(nch * c);
    j->errc = ngt_aalloc(nch * c);
    j->err_dirty = 1;
    j->perr = ngt_aalloc(nst * c);
    j->need = ngt_aalloc(c);
    j->pass = ngt_aalloc(c);
    j->error = ngt_aalloc(c);
    j->sel = ngt_aalloc(c * sizeof *j->sel);
    j->gather = ngt_aalloc(m->gather_bytes * c + 64);
    j->cut_scratch = ngt_aalloc(scratch + 64);
    size_t ns = (size_t)m->n_streams + 1;
    j->keys = ngt_aalloc(c * sizeof *j->keys);
    j->fin_err = ngt_aalloc(c + 8);
    j->fin_unique = calloc(nch, sizeof *j->fin_unique);
    j->fin_stream = calloc(ns * ns, sizeof *j->fin_stream);
    if (!j->keys || !j->fin_err || !j->fin_unique || !j->fin_stream) {
        exec_job_free(j);
        ngt_seterr(err, NGT_ENOMEM, "out of memory for a job of %d events", cap);
        return NULL;
    }
    if (m->cutc) {
        j->cut_rows = ngt_aalloc((size_t)m->cut_rows * c);
        j->cut_ptrs = malloc((size_t)m->cut_rows * sizeof *j->cut_ptrs);
        j->cutc_scratch = ngt_aalloc(cutc_scratch_size(m->cutc) + 64);
        if (!j->cut_rows || !j->cut_ptrs || !j->cutc_scratch) {
            exec_job_free(j);
            ngt_seterr(err, NGT_ENOMEM, "out of memory for a job of %d events", cap);
            return NULL;
        }
        for (int r = 0; r < m->cut_rows; r++)
            j->cut_ptrs[r] = row(j->cut_rows, r, cap);
    }
    if (!j->pins || !j->live || !j->errc || !j->perr || !j->need || !j->pass || !j->error ||
        !j->sel || !j->gather || !j->cut_scratch) {
        exec_job_free(j);
        ngt_seterr(err, NGT_ENOMEM, "out of memory for a job of %d events", cap);
        return NULL;
    }
    return j;
}

void exec_job_free(ngt_job *j)
{
    if (!j)
        return;
    exec_job_finish(j);
    pthread_mutex_destroy(&j->mu);
    free(j->pins);
    ngt_afree(j->live);
    ngt_afree(j->errc);
    ngt_afree(j->perr);
    ngt_afree(j->need);
    ngt_afree(j->pass);
    ngt_afree(j->error);
    ngt_afree(j->sel);
    ngt_afree(j->gather);
    ngt_afree(j->cut_scratch);
    ngt_afree(j->cut_rows);
    free(j->cut_ptrs);
    ngt_afree(j->cutc_scratch);
    ngt_afree(j->keys);
    ngt_afree(j->fin_err);
    free(j->fin_unique);
    free(j->fin_stream);
    free(j);
}

void exec_job_set_callbacks(ngt_job *j, exec_wake_fn wake, exec_offload_fn offload, void *user)
{
    j->wake = wake;
    j->offload_fn = offload;
    j->cb_user = user;
}

ngt_batch *exec_job_batch(const ngt_job *j)
{
    return j->b;
}

void exec_job_start(ngt_job *j, ngt_batch *b)
{
    ngt_menu *m = j->m;
    j->b = b;
    j->n = ngt_batch_count(b) < j->cap ? ngt_batch_count(b) : j->cap;
    j->cursor = 0;
    j->resuming = 0;
    j->cuts_done = 0;
    j->keys_done = 0;
    for (int k = 0; k < m->n_models; k++)
        j->pins[k] = registry_pin(m->reg, m->model_slots[k]);
    j->column = menu_column_for_batch(m, b);
    if (j->err_dirty) { /* most batches have no errors: nothing to clear */
        memset(j->errc, 0, (size_t)m->n_chains * (size_t)j->cap);
        memset(j->perr, 0, (size_t)m->n_steps * (size_t)j->cap);
        j->err_dirty = 0;
    }
}

void exec_job_finish(ngt_job *j)
{
    if (!j->m || !j->pins)
        return;
    for (int k = 0; k < j->m->n_models; k++) {
        registry_release(j->m->reg, j->pins[k]);
        j->pins[k] = NULL;
    }
}

uint64_t exec_job_deadline(const ngt_job *j)
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
static uint64_t event_key(ngt_job *j, int e)
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
            v[k] = (uint64_t)ngt_read_int(
                base + (c->kind == NGT_COL_SCALAR ? 0 : (size_t)e * c->row_bytes), c->dtype);
        }
    uint8_t bytes[24];
    for (int k = 0; k < 24; k++)
        bytes[k] = (uint8_t)(v[k / 8] >> (8 * (k % 8)));
    return ngt_fnv1a(bytes, sizeof bytes, ngt_fnv1a_basis());
}

static void hist_add(_Atomic uint64_t *st, uint64_t ns)
{
    stat_add(&st[ST_HIST + hist_bin(ns)], 1);
}

static _Atomic uint64_t *step_stats(ngt_ctx *ctx, int si)
{
    return &ctx->stats->step[(size_t)ctx->menu->step_order[si] * ST_FIELDS];
}

/* ---- nodes ----------------------------------------------------------------------------------- */

static void run_start(ngt_job *j, ngt_ctx *ctx, int ci)
{
    const chain *c = &j->m->chains[ci];
    uint8_t *live = row(j->live, ci, j->cap);
    uint64_t seen = 0;
    if (c->n_seeds == 0 && c->n_vetoes == 0) {
        memset(live, 1, (size_t)j->n);
        stat_add(&ctx->stats->chain[ci * CH_FIELDS + CH_SEEN], (uint64_t)j->n);
        return;
    }
    for (int e = 0; e < j->n; e++) {
        int on = c->n_seeds == 0;
        for (int k = 0; k < c->n_seeds && !on; k++)
            on = row(j->live, c->seeds[k], j->cap)[e];
        for (int k = 0; k < c->n_vetoes && on; k++)
            on = !row(j->live, c->vetoes[k], j->cap)[e];
        live[e] = (uint8_t)on;
        seen += (uint64_t)on;
    }
    stat_add(&ctx->stats->chain[ci * CH_FIELDS + CH_SEEN], seen);
}

static void run_use(ngt_job *j, ngt_ctx *ctx, int ci, int si)
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
static void producer_select(ngt_job *j, int si)
{
    ngt_menu *m = j->m;
    const step *s = &m->steps[si];
    memset(j->need, 0, (size_t)j->n);
    for (int c = 0; c < m->n_chains; c++)
        if (m->producer_users[si * m->n_chains + c]) {
            const uint8_t *live = row(j->live, c, j->cap);
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

static int prescale_factor(const ngt_job *j, const step *s, int si)
{
    const ngt_menu *m = j->m;
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
static void run_compiled_cut(ngt_job *j, ngt_ctx *ctx, const node *x, const step *s)
{
    uint64_t t0 = ngt_now_ns();
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
    uint64_t dt = ngt_now_ns() - t0;
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

/* A prescale step over all the batch's events (no selection): the events kept of those live. */
static void run_prescale(ngt_job *j, ngt_ctx *ctx, const node *x, const step *s)
{
    uint64_t t0 = ngt_now_ns();
    if (!j->keys_done) {
        for (int e = 0; e < j->n; e++)
            j->keys[e] = event_key(j, e);
        j->keys_done = 1;
    }
    uint8_t *live = row(j->live, x->chain, j->cap);
    int in = 0;
    for (int e = 0; e < j->n; e++)
        in += live[e];
    int f = prescale_factor(j, s, x->step);
    int kept = prescale_mask(j->keys, s->seed, (uint32_t)f, live, live, j->n);
    uint64_t dt = ngt_now_ns() - t0;
    _Atomic uint64_t *cs = &ctx->stats->chain[x->chain * CH_FIELDS];
    stat_add(&cs[CH_PRESCALED], (uint64_t)(in - kept));
    stat_add(&cs[CH_TIME], dt);
    if (in == 0)
        return;
    _Atomic uint64_t *st = step_stats(ctx, x->step);
    stat_add(&st[ST_CALLS], 1);
    stat_add(&st[ST_IN], (uint64_t)in);
    stat_add(&st[ST_PASSED], (uint64_t)kept);
    stat_add(&st[ST_TIME], dt);
    hist_add(st, dt);
}

/* ---- steps: begin, park, finish ----------------------------------------------------------- */

/* Starts the step at the cursor. Returns 1 when it completed (finish it now), 0 when the job
 * parked (the caller must not touch the job any more). */
static int begin_step(ngt_job *j, ngt_ctx *ctx, const node *x)
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
    j->t_start = ngt_now_ns();
    if (j->n_sel == 0)
        return 1;
    switch (s->kind) {
    case STEP_CUT:
        j->step_rc = ngt_cut_eval(s->cut, j->b, j->sel, j->n_sel, j->pass, j->cut_scratch);
        return 1;
    case STEP_INFER:
        j->step_rc = exec_run_infer(j, ctx, s);
        return 1;
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
    if (j->n_started == 0) {
        pthread_mutex_unlock(&j->mu);
        if (rc == NGT_PENDING)
            j->step_rc = ngt_seterr(&j->step_err, NGT_ESTEP,
                                    "step returned pending but started "
                                    "no asynchronous operation");
        return 1;
    }
    if (j->pending == 0) { /* everything completed before we could park */
        pthread_mutex_unlock(&j->mu);
        return 1;
    }
    j->parked = 1;
    j->deadline = ngt_now_ns() + s->timeout_ns;
    pthread_mutex_unlock(&j->mu);
    return 0;
}

static void finish_step(ngt_job *j, ngt_ctx *ctx, const node *x)
{
    const step *s = &j->m->steps[x->step];
    pthread_mutex_lock(&j->mu);
    int timed_out = j->timed_out, failed = j->failed;
    j->timed_out = j->failed = 0;
    pthread_mutex_unlock(&j->mu);
    int all_bad = j->step_rc < 0 || timed_out || failed;
    uint64_t dt = ngt_now_ns() - j->t_start, passed = 0, errors = 0, dropped = 0;
    if (x->kind == NODE_PRODUCER) {
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
    _Atomic uint64_t *st = step_stats(ctx, x->step);
    stat_add(&st[ST_CALLS], 1);
    stat_add(&st[ST_IN], (uint64_t)j->n_sel);
    stat_add(&st[ST_PASSED], passed);
    stat_add(&st[ST_ERRORS], errors);
    stat_add(&st[ST_TIMEOUTS], (uint64_t)timed_out);
    stat_add(&st[ST_TIME], dt);
    hist_add(st, dt);
}

exec_status exec_job_run(ngt_job *j, ngt_ctx *ctx)
{
    const ngt_menu *m = j->m;
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
            if (j->m->steps[x->step].kind == STEP_PRESCALE) {
                run_prescale(j, ctx, x, &j->m->steps[x->step]);
                break;
            }
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
