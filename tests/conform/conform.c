/* conform.c: running a model through a backend over dense event arrays, and comparing results
 * with a peer's under the tolerance in conform.h. */
#include "conform/conform.h"
#include "internal.h"

#include <math.h>
#include <string.h>

enum { CONFORM_MAX_BATCH = 1024 }; /* the workspace holds one tile whatever this is */

int conform_load(conform_model *c, const ngt_backend *be, const char *path, const char *options,
                 size_t ws_slack, ngt_error *err)
{
    memset(c, 0, sizeof *c);
    c->be = be;
    int rc = be->load(path, options, &c->model, err);
    if (rc)
        return rc;
    be->describe(c->model, &c->desc);
    c->ws = aalloc(be->workspace_size(c->model, CONFORM_MAX_BATCH) + ws_slack);
    return c->ws ? NGT_OK : seterr(err, NGT_ENOMEM, "workspace");
}

void conform_unload(conform_model *c)
{
    if (c->model)
        c->be->unload(c->model);
    afree(c->ws);
    memset(c, 0, sizeof *c);
}

size_t conform_row_bytes(const ngt_tensor_desc *d)
{
    size_t e = ngt_dtype_size(d->dtype);
    for (int k = 0; k < d->rank; k++)
        e *= (size_t)d->shape[k];
    return e;
}

int conform_run(conform_model *c, const void *const *inputs, void *const *outputs, int first, int n,
                int chunk, ngt_error *err)
{
    for (int e = first; e < first + n; e += chunk) {
        int k = first + n - e < chunk ? first + n - e : chunk;
        const void *in[NGT_MAX_MODEL_IO];
        void *out[NGT_MAX_MODEL_IO];
        for (int i = 0; i < c->desc.n_inputs; i++)
            in[i] = (const char *)inputs[i] + (size_t)e * conform_row_bytes(&c->desc.inputs[i]);
        for (int i = 0; i < c->desc.n_outputs; i++)
            out[i] = (char *)outputs[i] + (size_t)e * conform_row_bytes(&c->desc.outputs[i]);
        int rc = c->be->infer(c->model, c->ws, in, out, k, err);
        if (rc)
            return rc;
    }
    return NGT_OK;
}

static double value(ngt_dtype t, const void *p, size_t i)
{
    switch (t) {
    case NGT_F32:
        return ((const float *)p)[i];
    case NGT_F64:
        return ((const double *)p)[i];
    case NGT_I32:
        return ((const int32_t *)p)[i];
    case NGT_I64:
        return (double)((const int64_t *)p)[i];
    case NGT_I8:
        return ((const int8_t *)p)[i];
    case NGT_U8:
    case NGT_BOOL:
        return ((const uint8_t *)p)[i];
    case NGT_I16:
        return ((const int16_t *)p)[i];
    case NGT_U16:
        return ((const uint16_t *)p)[i];
    case NGT_U32:
        return ((const uint32_t *)p)[i];
    default:
        return (double)((const uint64_t *)p)[i];
    }
}

double conform_compare(ngt_dtype t, const void *got, const void *want, size_t count,
                       double *worst_abs)
{
    return conform_compare_tol(t, got, want, count, CONFORM_ABS, CONFORM_REL, worst_abs);
}

double conform_compare_tol(ngt_dtype t, const void *got, const void *want, size_t count,
                           double abs_tol, double rel_tol, double *worst_abs)
{
    double worst = -INFINITY;
    *worst_abs = 0;
    for (size_t i = 0; i < count; i++) {
        double g = value(t, got, i), w = value(t, want, i);
        double d = (isnan(g) && isnan(w)) || g == w ? 0.0 : fabs(g - w);
        if (isnan(d))
            d = INFINITY;
        double excess = d - (abs_tol + rel_tol * fabs(w));
        worst = excess > worst ? excess : worst;
        *worst_abs = d > *worst_abs ? d : *worst_abs;
    }
    return worst;
}
