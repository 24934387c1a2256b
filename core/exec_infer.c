/* exec_infer.c: a model producer on a batch: the pinned version must still fit the columns; the
 * selected rows go to the backend in place when contiguous, else gathered and scattered back. */
#include "exec_int.h"
#include "internal.h"

#include <string.h>

static int infer_chunk(exec_job *j, ngt_ctx *ctx, const step *s, model_version *v,
                       const uint32_t *sel, int n, int dense)
{
    const ngt_schema *sc = j->m->schema;
    const void *in[NGT_MAX_MODEL_IO];
    void *out[NGT_MAX_MODEL_IO];
    char *g = j->gather;
    for (int k = 0; k < s->n_in; k++) {
        const ngt_column_info *c = ngt_schema_column(sc, s->in[k]);
        const char *col = ngt_batch_column(j->b, s->in[k]);
        if (dense) {
            in[k] = col + (size_t)sel[0] * c->row_bytes;
            continue;
        }
        for (int i = 0; i < n; i++)
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
    void *ws = ctx_workspace(ctx, s->model_index, v, j->cap);
    if (!ws)
        return seterr(&j->step_err, NGT_ENOMEM, "no workspace for model '%s'", s->model);
    int rc = v->backend->infer(v->model, ws, in, out, n, &j->step_err);
    if (rc != NGT_OK || dense)
        return rc;
    for (int k = 0; k < s->n_out; k++) {
        const ngt_column_info *c = ngt_schema_column(sc, s->out[k]);
        char *col = ngt_batch_column(j->b, s->out[k]);
        for (int i = 0; i < n; i++)
            memcpy(col + (size_t)sel[i] * c->row_bytes, (char *)out[k] + (size_t)i * c->row_bytes,
                   c->row_bytes);
    }
    return NGT_OK;
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
