/* onnx_ops_shape.c: normalisation of the operators that move data without arithmetic: Reshape,
 * Flatten, Squeeze, Unsqueeze (all become RESHAPE), Transpose, Concat, Slice, Gather. */
#include "onnx/onnx_priv.h"

#include <string.h>

static int oom(ngt_error *err)
{
    return seterr(err, NGT_ENOMEM, "out of memory");
}

/* Axes from the attribute (older opsets) or from constant input k (newer ones); count or < 0. */
static int axes_of(onnx_graph *g, onnx_node *n, int k, int from_input, int64_t *axes,
                   ngt_error *err)
{
    if (from_input) {
        const onnx_tensor *t = onnx_in(g, n, k);
        if (!t)
            return 0;
        int c = onnx_const_ints(t, axes, ONNX_MAX_RANK);
        if (c < 0)
            return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                                 "axes ('%s') must be a constant list of integers", t->name);
        return c;
    }
    if (n->n_in > 1)
        return onnx_node_err(err, NGT_EFORMAT, n, "axes is an attribute at opset %d", g->opset);
    const int64_t *v;
    int c = onnx_attr_ints(n, "axes", &v);
    if (c > ONNX_MAX_RANK)
        return onnx_node_err(err, NGT_EFORMAT, n, "too many axes");
    if (c > 0)
        memcpy(axes, v, sizeof *axes * (size_t)c);
    return c < 0 ? 0 : c;
}

/* Makes the node a RESHAPE of input 0 into shape (rank r), checking the element counts. */
static int become_reshape(onnx_graph *g, onnx_node *n, int r, const int64_t *shape, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    onnx_tensor y = {.rank = r};
    memcpy(y.shape, shape, sizeof(int64_t) * (size_t)r);
    char a[96], b[96];
    if (onnx_tensor_batched(x) != onnx_tensor_batched(&y) ||
        onnx_tensor_elems(x) != onnx_tensor_elems(&y))
        return onnx_node_err(err, NGT_EFORMAT, n, "cannot reshape %s into %s%s",
                             onnx_shape_str(x, a, sizeof a), onnx_shape_str(&y, b, sizeof b),
                             onnx_tensor_batched(x) ? " (the events must stay the first dimension)"
                                                    : "");
    for (int d = 0; d < r; d++)
        if (shape[d] < 0 && !(d == 0 && shape[d] == ONNX_BATCH))
            return onnx_node_err(err, NGT_EFORMAT, n, "negative dimension");
    n->op = ONNX_OP_RESHAPE;
    n->n_in = 1;
    onnx_attr_remove(n, "axes");
    onnx_attr_remove(n, "axis");
    onnx_attr_remove(n, "allowzero");
    onnx_set_out(g, n, 0, x->dtype, r, shape);
    return NGT_OK;
}

/* Resolves Reshape's -1 (at most one) once the copied and fixed dimensions are known. */
static int reshape_infer(onnx_node *n, const onnx_tensor *x, int r, int64_t *out, int infer,
                         int64_t known, int batch_kept, ngt_error *err)
{
    int64_t e = onnx_tensor_elems(x);
    if (onnx_tensor_batched(x) && !batch_kept) {
        /* only a leading -1 that takes exactly the events keeps them first */
        if (infer != 0 || known != e)
            return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                                 "the reshape would merge the events with other dimensions");
        out[0] = ONNX_BATCH;
        return r;
    }
    if (infer >= 0) {
        if (known <= 0 || e % known != 0)
            return onnx_node_err(err, NGT_EFORMAT, n, "cannot infer the -1 dimension (%lld / %lld)",
                                 (long long)e, (long long)known);
        out[infer] = e / known;
    }
    return r;
}

int onnx_norm_reshape(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0), *s = onnx_in(g, n, 1);
    int64_t v[ONNX_MAX_RANK], out[ONNX_MAX_RANK];
    int r = onnx_const_ints(s, v, ONNX_MAX_RANK);
    if (r < 0 || s->rank != 1)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                             "shape ('%s') must be a constant 1-D integer tensor of length <= %d",
                             s->name, ONNX_MAX_RANK);
    /* allowzero (opset 14): a 0 means a zero-size dimension instead of "copy the input's" */
    int allowzero = g->opset >= 14 && onnx_attr_int(n, "allowzero", 0) != 0;
    int infer = -1, batch_kept = 0;
    int64_t known = 1;
    for (int d = 0; d < r; d++) {
        out[d] = v[d];
        if (v[d] == 0 && !allowzero) {
            if (d >= x->rank)
                return onnx_node_err(err, NGT_EFORMAT, n, "0 at dimension %d copies nothing", d);
            out[d] = x->shape[d];
            if (out[d] == ONNX_BATCH) {
                batch_kept = 1;
                continue;
            }
        } else if (v[d] == -1) {
            if (infer >= 0)
                return onnx_node_err(err, NGT_EFORMAT, n, "more than one -1 in the shape");
            infer = d;
            continue;
        } else if (v[d] < 0) {
            return onnx_node_err(err, NGT_EFORMAT, n, "bad target dimension %lld", (long long)v[d]);
        }
        known *= out[d];
    }
    int rc = reshape_infer(n, x, r, out, infer, known, batch_kept, err);
    return rc < 0 ? rc : become_reshape(g, n, r, out, err);
}

int onnx_norm_flatten(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    int64_t axis = onnx_attr_int(n, "axis", 1);
    if (axis < 0)
        axis += x->rank;
    if (axis < 0 || axis > x->rank)
        return onnx_node_err(err, NGT_EFORMAT, n, "axis out of range for rank %d", x->rank);
    int64_t out[2] = {1, 1};
    for (int d = 0; d < x->rank; d++)
        out[d >= axis] *= x->shape[d] == ONNX_BATCH ? 1 : x->shape[d];
    if (onnx_tensor_batched(x)) {
        if (axis == 0 || out[0] != 1)
            return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                                 "flattening at axis %lld merges the events with other dimensions",
                                 (long long)axis);
        out[0] = ONNX_BATCH;
    }
    return become_reshape(g, n, 2, out, err);
}

static int norm_axis(onnx_node *n, int64_t *a, int rank, ngt_error *err)
{
    if (*a < 0)
        *a += rank;
    if (*a < 0 || *a >= rank)
        return onnx_node_err(err, NGT_EFORMAT, n, "axis out of range for rank %d", rank);
    return NGT_OK;
}

int onnx_norm_squeeze(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    int64_t axes[ONNX_MAX_RANK], out[ONNX_MAX_RANK];
    int na = axes_of(g, n, 1, g->opset >= 13, axes, err), drop[ONNX_MAX_RANK] = {0}, r = 0;
    if (na < 0)
        return na;
    for (int i = 0; i < na; i++) {
        if (norm_axis(n, &axes[i], x->rank, err))
            return err ? err->code : NGT_EFORMAT;
        if (x->shape[axes[i]] != 1)
            return onnx_node_err(err, NGT_EFORMAT, n, "dimension %lld is not 1",
                                 (long long)axes[i]);
        drop[axes[i]] = 1;
    }
    for (int d = 0; d < x->rank; d++)
        if (!(na ? drop[d] : x->shape[d] == 1))
            out[r++] = x->shape[d];
    return become_reshape(g, n, r, out, err);
}

int onnx_norm_unsqueeze(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    int64_t axes[ONNX_MAX_RANK], out[ONNX_MAX_RANK];
    int na = axes_of(g, n, 1, g->opset >= 13, axes, err), add[ONNX_MAX_RANK] = {0};
    if (na < 0)
        return na;
    int r = x->rank + na;
    if (na == 0 || r > ONNX_MAX_RANK)
        return onnx_node_err(err, NGT_EFORMAT, n, "needs 1 to %d axes", ONNX_MAX_RANK - x->rank);
    for (int i = 0; i < na; i++) {
        if (norm_axis(n, &axes[i], r, err))
            return err ? err->code : NGT_EFORMAT;
        if (add[axes[i]]++)
            return onnx_node_err(err, NGT_EFORMAT, n, "axis %lld repeated", (long long)axes[i]);
    }
    for (int d = 0, k = 0; d < r; d++)
        out[d] = add[d] ? 1 : x->shape[k++];
    return become_reshape(g, n, r, out, err);
}

int onnx_norm_transpose(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    int64_t perm[ONNX_MAX_RANK], out[ONNX_MAX_RANK];
    int seen[ONNX_MAX_RANK] = {0};
    const int64_t *p;
    int np = onnx_attr_ints(n, "perm", &p);
    if (np >= 0 && np != x->rank)
        return onnx_node_err(err, NGT_EFORMAT, n, "perm has %d entries for rank %d", np, x->rank);
    for (int d = 0; d < x->rank; d++) {
        perm[d] = np >= 0 ? p[d] : x->rank - 1 - d;
        if (perm[d] < 0 || perm[d] >= x->rank || seen[perm[d]]++)
            return onnx_node_err(err, NGT_EFORMAT, n, "perm is not a permutation");
        out[d] = x->shape[perm[d]];
    }
    if (onnx_tensor_batched(x) && perm[0] != 0)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "moves the events dimension");
    if (onnx_attr_set_ints(n, "perm", perm, x->rank))
        return oom(err);
    n->op = ONNX_OP_TRANSPOSE;
    onnx_set_out(g, n, 0, x->dtype, x->rank, out);
    return NGT_OK;
}

int onnx_norm_concat(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    int64_t axis = onnx_attr_int(n, "axis", ONNX_MAX_RANK * 4), out[ONNX_MAX_RANK];
    if (norm_axis(n, &axis, x->rank, err))
        return err ? err->code : NGT_EFORMAT;
    memcpy(out, x->shape, sizeof out);
    out[axis] = 0;
    for (int k = 0; k < n->n_in; k++) {
        const onnx_tensor *t = onnx_in(g, n, k);
        if (t->rank != x->rank || t->dtype != x->dtype ||
            onnx_tensor_batched(t) != onnx_tensor_batched(x))
            return onnx_node_err(err, NGT_EFORMAT, n,
                                 "input '%s' differs from the first in rank, type or events",
                                 t->name);
        for (int d = 0; d < x->rank; d++)
            if (d != axis && t->shape[d] != x->shape[d])
                return onnx_node_err(err, NGT_EFORMAT, n, "input '%s' differs in dimension %d",
                                     t->name, d);
        out[axis] += t->shape[axis];
    }
    if (onnx_tensor_batched(x) && axis == 0)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "concatenates along the events");
    if (onnx_attr_set_int(n, "axis", axis))
        return oom(err);
    n->op = ONNX_OP_CONCAT;
    onnx_set_out(g, n, 0, x->dtype, x->rank, out);
    return NGT_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* One sliced axis: resolves start (clamped as ONNX does) and the output count. */
static void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *s0,
                       int64_t *count)
{
    if (start < 0)
        start += dim;
    if (end < 0)
        end += dim;
    if (step > 0) {
        start = clamp64(start, 0, dim);
        end = clamp64(end, 0, dim);
        *count = end > start ? (end - start + step - 1) / step : 0;
    } else {
        start = clamp64(start, 0, dim - 1);
        end = clamp64(end, -1, dim - 1);
        *count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
    }
    *s0 = start;
}

int onnx_norm_slice(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    int64_t st[ONNX_MAX_RANK], en[ONNX_MAX_RANK], ax[ONNX_MAX_RANK], sp[ONNX_MAX_RANK];
    int64_t starts[ONNX_MAX_RANK], steps[ONNX_MAX_RANK], out[ONNX_MAX_RANK];
    int c[4];
    int64_t *dst[4] = {st, en, ax, sp};
    for (int k = 0; k < 4; k++) {
        const onnx_tensor *t = onnx_in(g, n, k + 1);
        c[k] = t ? onnx_const_ints(t, dst[k], ONNX_MAX_RANK) : -2;
        if (t && c[k] < 0)
            return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                                 "'%s' must be a constant list of integers", t->name);
    }
    if (c[1] != c[0] || (c[2] >= 0 && c[2] != c[0]) || (c[3] >= 0 && c[3] != c[0]))
        return onnx_node_err(err, NGT_EFORMAT, n, "starts, ends, axes, steps differ in length");
    for (int d = 0; d < x->rank; d++) {
        starts[d] = 0;
        steps[d] = 1;
        out[d] = x->shape[d];
    }
    int done[ONNX_MAX_RANK] = {0};
    for (int i = 0; i < c[0]; i++) {
        int64_t a = c[2] >= 0 ? ax[i] : i, step = c[3] >= 0 ? sp[i] : 1;
        if (norm_axis(n, &a, x->rank, err))
            return err ? err->code : NGT_EFORMAT;
        if (step == 0 || done[a]++)
            return onnx_node_err(err, NGT_EFORMAT, n, "step 0 or axis %lld repeated", (long long)a);
        if (x->shape[a] == ONNX_BATCH) {
            if (st[i] != 0 || step != 1 || en[i] < INT32_MAX)
                return onnx_node_err(err, NGT_EUNSUPPORTED, n, "slices the events dimension");
            continue;
        }
        slice_axis(x->shape[a], st[i], en[i], step, &starts[a], &out[a]);
        steps[a] = step;
        if (out[a] == 0)
            return onnx_node_err(err, NGT_EUNSUPPORTED, n, "empty output along axis %lld",
                                 (long long)a);
    }
    if (onnx_attr_set_ints(n, "starts", starts, x->rank) ||
        onnx_attr_set_ints(n, "steps", steps, x->rank))
        return oom(err);
    n->op = ONNX_OP_SLICE;
    n->n_in = 1;
    onnx_set_out(g, n, 0, x->dtype, x->rank, out);
    return NGT_OK;
}

int onnx_norm_gather(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0), *idx = onnx_in(g, n, 1);
    int64_t axis = onnx_attr_int(n, "axis", 0), out[ONNX_MAX_RANK];
    if (x->rank < 1 || norm_axis(n, &axis, x->rank, err))
        return onnx_node_err(err, NGT_EFORMAT, n, "axis out of range");
    if (idx->dtype != NGT_I64 && idx->dtype != NGT_I32)
        return onnx_node_err(err, NGT_EFORMAT, n, "indices must be int32 or int64");
    int r = x->rank - 1 + idx->rank;
    if (r > ONNX_MAX_RANK)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "output rank too large");
    if (onnx_tensor_batched(x) && (axis == 0 || onnx_tensor_batched(idx)))
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "gathers across events");
    if (onnx_tensor_batched(idx) && axis != 0)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                             "per-event indices need axis 0 (the events stay first)");
    int k = 0;
    for (int d = 0; d < axis; d++)
        out[k++] = x->shape[d];
    for (int d = 0; d < idx->rank; d++)
        out[k++] = idx->shape[d];
    for (int d = (int)axis + 1; d < x->rank; d++)
        out[k++] = x->shape[d];
    if (idx->kind == ONNX_T_CONST) {
        int64_t e = onnx_tensor_elems(idx), dim = x->shape[axis];
        for (int64_t i = 0; i < e; i++) {
            int64_t v =
                idx->dtype == NGT_I64 ? ((int64_t *)idx->data)[i] : ((int32_t *)idx->data)[i];
            if (v < -dim || v >= dim)
                return onnx_node_err(err, NGT_EFORMAT, n, "index %lld out of range [-%lld, %lld)",
                                     (long long)v, (long long)dim, (long long)dim);
        }
    }
    if (onnx_attr_set_int(n, "axis", axis))
        return oom(err);
    n->op = ONNX_OP_GATHER;
    onnx_set_out(g, n, 0, x->dtype, r, out);
    return NGT_OK;
}
