/* exec_infer.c: a model producer on a batch: the pinned version must still fit the columns; the
 * selected rows go to the backend in place when contiguous, else gathered and scattered back. */
#include "exec_int.h"
#include "internal.h"

#include <math.h>
#include <string.h>

static int version_fits(const exec_job *j, const step *s, const model_version *v);

/* The shadow version on the same inputs; its outputs only compared with the live ones. */
static void run_shadow(exec_job *j, ngt_ctx *ctx, const step *s, model_version *sh,
                       const void *const *in, void *const *out, int n)
{
    const ngt_schema *sc = j->m->schema;
    size_t bytes = 0;
    for (int k = 0; k < s->n_out; k++)
        bytes += pad64(ngt_schema_column(sc, s->out[k])->row_bytes * (size_t)n);
    char *buf = ctx_shadow_out(ctx, bytes);
    void *sout[NGT_MAX_MODEL_IO];
    for (int k = 0, at = 0; buf && k < s->n_out; k++) {
        sout[k] = buf + at;
        at += (int)pad64(ngt_schema_column(sc, s->out[k])->row_bytes * (size_t)n);
    }
    void *ws = buf ? ctx_workspace(ctx, s->model_index, sh, j->cap) : NULL;
    ngt_error e;
    if (!ws || sh->backend->infer(sh->model, ws, in, sout, n, &e) != NGT_OK) {
        registry_shadow_add(sh, 0, 0, 0, 1);
        return;
    }
    uint64_t identical = 0;
    double maxd = 0;
    for (int i = 0; i < n; i++) {
        int same = 1;
        for (int k = 0; k < s->n_out; k++) {
            const ngt_column_info *c = ngt_schema_column(sc, s->out[k]);
            const char *a = (const char *)out[k] + (size_t)i * c->row_bytes;
            const char *b = (const char *)sout[k] + (size_t)i * c->row_bytes;
            if (memcmp(a, b, c->row_bytes) == 0)
                continue;
            same = 0;
            for (int64_t x = 0; x < c->elems; x++) {
                double d = 1.0; /* integer outputs: differ or not */
                if (c->dtype == NGT_F32) {
                    float fa, fb;
                    memcpy(&fa, a + x * 4, 4);
                    memcpy(&fb, b + x * 4, 4);
                    d = fabs((double)fa - (double)fb);
                } else if (c->dtype == NGT_F64) {
                    double da, db;
                    memcpy(&da, a + x * 8, 8);
                    memcpy(&db, b + x * 8, 8);
                    d = fabs(da - db);
                }
                if (d > maxd || isnan(d))
                    maxd = d;
            }
        }
        identical += (uint64_t)same;
    }
    registry_shadow_add(sh, (uint64_t)n, identical, maxd, 0);
}

/* Input and output pointers of n selected events: the columns in place when dense, else the
 * job's gather area (inputs copied there when gather_in). */
static void io_pointers(exec_job *j, const step *s, const uint32_t *sel, int n, int dense,
                        int gather_in, const void **in, void **out)
{
    const ngt_schema *sc = j->m->schema;
    char *g = j->gather;
    for (int k = 0; k < s->n_in; k++) {
        const ngt_column_info *c = ngt_schema_column(sc, s->in[k]);
        const char *col = ngt_batch_column(j->b, s->in[k]);
        if (dense) {
            in[k] = col + (size_t)sel[0] * c->row_bytes;
            continue;
        }
        for (int i = 0; gather_in && i < n; i++)
            memcpy(g + (size_t)i * c->row_bytes, col + (size_t)sel[i] * c->row_bytes, c->row_bytes);
        in[k] = g;
        g += pad64(c->row_bytes) * (size_t)j->cap;
    }
    for (int k = 0; k < s->n_out; k++) {
        const ngt_column_info *c = ngt_schema_column(sc, s->out[k]);
        char *col = ngt_batch_column(j->b, s->out[k]);
        out[k] = dense ? col + (size_t)sel[0] * c->row_bytes : (void *)g;
        if (!dense)
            g += pad64(c->row_bytes) * (size_t)j->cap;
    }
}

static void scatter(exec_job *j, const step *s, const uint32_t *sel, int n, void *const *out)
{
    const ngt_schema *sc = j->m->schema;
    for (int k = 0; k < s->n_out; k++) {
        const ngt_column_info *c = ngt_schema_column(sc, s->out[k]);
        char *col = ngt_batch_column(j->b, s->out[k]);
        for (int i = 0; i < n; i++)
            memcpy(col + (size_t)sel[i] * c->row_bytes, (char *)out[k] + (size_t)i * c->row_bytes,
                   c->row_bytes);
    }
}

static int infer_chunk(exec_job *j, ngt_ctx *ctx, const step *s, model_version *v,
                       const uint32_t *sel, int n, int dense)
{
    const void *in[NGT_MAX_MODEL_IO];
    void *out[NGT_MAX_MODEL_IO];
    io_pointers(j, s, sel, n, dense, 1, in, out);
    void *ws = ctx_workspace(ctx, s->model_index, v, j->cap);
    if (!ws)
        return seterr(&j->step_err, NGT_ENOMEM, "no workspace for model '%s'", s->model);
    int rc = v->backend->infer(v->model, ws, in, out, n, &j->step_err);
    model_version *sh = j->shadows[s->model_index];
    if (rc == NGT_OK && sh && version_fits(j, s, sh))
        run_shadow(j, ctx, s, sh, in, out, n);
    if (rc == NGT_OK && !dense)
        scatter(j, s, sel, n, out);
    return rc;
}

/* The pinned version must still fit the columns (a swap may have changed it). */
static int version_fits(const exec_job *j, const step *s, const model_version *v)
{
    if (!v || v->desc.n_inputs != s->n_in || v->desc.n_outputs != s->n_out)
        return 0;
    for (int k = 0; k < s->n_in + s->n_out; k++) {
        const ngt_tensor_desc *t = k < s->n_in ? &v->desc.inputs[k] : &v->desc.outputs[k - s->n_in];
        const ngt_column_info *c =
            ngt_schema_column(j->m->schema, k < s->n_in ? s->in[k] : s->out[k - s->n_in]);
        int64_t e = 1;
        for (int d = 0; d < t->rank; d++)
            e *= t->shape[d];
        if (e != c->elems || t->dtype != c->dtype)
            return 0;
    }
    return 1;
}

int exec_run_infer(exec_job *j, ngt_ctx *ctx, const step *s)
{
    model_version *v = j->pins[s->model_index];
    if (!version_fits(j, s, v))
        return seterr(&j->step_err, NGT_ESTEP, "model '%s' has no version that fits the menu",
                      s->model);
    int dense = j->n_sel > 0 && j->sel[j->n_sel - 1] - j->sel[0] == (uint32_t)(j->n_sel - 1);
    int chunk = v->desc.max_batch > 0 ? v->desc.max_batch : j->n_sel;
    for (int at = 0; at < j->n_sel; at += chunk) {
        int k = j->n_sel - at < chunk ? j->n_sel - at : chunk;
        int rc = infer_chunk(j, ctx, s, v, j->sel + at, k, dense);
        if (rc != NGT_OK)
            return rc;
    }
    return NGT_OK;
}

static int is_dense(const exec_job *j)
{
    return j->n_sel > 0 && j->sel[j->n_sel - 1] - j->sel[0] == (uint32_t)(j->n_sel - 1);
}

static void infer_done(void *user, int status)
{
    ngt_async_complete(user, status);
}

int exec_start_infer(exec_job *j, ngt_ctx *ctx, const step *s)
{
    model_version *v = j->pins[s->model_index];
    j->infer_op = NULL;
    if (!version_fits(j, s, v))
        return seterr(&j->step_err, NGT_ESTEP, "model '%s' has no version that fits the menu",
                      s->model);
    if (!v->backend->infer_start || !v->backend->infer_end || !j->wake ||
        (v->desc.max_batch > 0 && j->n_sel > v->desc.max_batch))
        return exec_run_infer(j, ctx, s);
    const void *in[NGT_MAX_MODEL_IO];
    void *out[NGT_MAX_MODEL_IO];
    io_pointers(j, s, j->sel, j->n_sel, is_dense(j), 1, in, out);
    ngt_step_io io = {.opaque = j};
    ngt_async *a = ngt_step_async(&io);
    if (!a)
        return seterr(&j->step_err, NGT_ESTEP, "no asynchronous slot for model '%s'", s->model);
    void *op = NULL;
    int rc = v->backend->infer_start(v->model, in, j->n_sel, ctx ? ctx->worker : -1, infer_done, a,
                                     &op, &j->step_err);
    if (rc != NGT_PENDING) { /* nothing started: the slot completes here */
        ngt_async_complete(a, rc < 0 ? rc : NGT_ESTEP);
        return rc < 0 ? rc
                      : seterr(&j->step_err, NGT_ESTEP,
                               "model '%s': infer_start returned %d, not pending", s->model, rc);
    }
    j->infer_op = op;
    return NGT_PENDING;
}

int exec_end_infer(exec_job *j, const step *s, int status)
{
    model_version *v = j->pins[s->model_index];
    void *op = j->infer_op;
    j->infer_op = NULL;
    const void *in[NGT_MAX_MODEL_IO];
    void *out[NGT_MAX_MODEL_IO];
    int dense = is_dense(j);
    io_pointers(j, s, j->sel, j->n_sel, dense, 0, in, out);
    int rc = v->backend->infer_end(v->model, op, out, j->n_sel, status, &j->step_err);
    if (rc == NGT_OK && !dense)
        scatter(j, s, j->sel, j->n_sel, out);
    if (rc < 0 && status == NGT_ETIMEOUT)
        seterr(&j->step_err, NGT_ETIMEOUT, "model '%s': no result within the step's timeout",
               s->model);
    return rc;
}
