/* ref_move.c: kernels that move data without arithmetic: Transpose, Concat, Slice, Gather.
 * Each walks the output in order and computes where its element comes from. */
#include "ref/ref.h"

#include <string.h>

static void strides_of(const int64_t *s, int r, int64_t *st)
{
    int64_t k = 1;
    for (int d = r - 1; d >= 0; d--) {
        st[d] = k;
        k *= s[d];
    }
}

/* Walks the output (e elements of shape ys, rank r) in order: y[i] = x[base + sum idx[d] * st[d]]
 * for output index idx. */
static void walk(const float *x, float *y, int64_t e, int r, const int64_t *ys, int64_t base,
                 const int64_t *st)
{
    int64_t idx[ONNX_MAX_RANK] = {0};
    for (int64_t i = 0; i < e; i++) {
        int64_t o = base;
        for (int d = 0; d < r; d++)
            o += idx[d] * st[d];
        y[i] = x[o];
        for (int d = r - 1; d >= 0 && ++idx[d] == ys[d]; d--)
            idx[d] = 0;
    }
}

int ref_transpose(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    int64_t xs[ONNX_MAX_RANK], ys[ONNX_MAX_RANK], xst[ONNX_MAX_RANK], src[ONNX_MAX_RANK];
    const int64_t *perm;
    int r = ref_dims(c, nd->in[0], xs);
    ref_dims(c, nd->out[0], ys);
    onnx_attr_ints(nd, "perm", &perm);
    strides_of(xs, r, xst);
    for (int d = 0; d < r; d++)
        src[d] = xst[perm[d]];
    walk(ref_ptr(c, nd->in[0]), ref_ptr(c, nd->out[0]), ref_count(c, nd->out[0]), r, ys, 0, src);
    return NGT_OK;
}

int ref_concat(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    int64_t ys[ONNX_MAX_RANK], xs[ONNX_MAX_RANK], outer = 1, inner = 1;
    int r = ref_dims(c, nd->out[0], ys), axis = (int)onnx_attr_int(nd, "axis", 0);
    for (int d = 0; d < r; d++)
        if (d != axis)
            *(d < axis ? &outer : &inner) *= ys[d];
    float *y = ref_ptr(c, nd->out[0]);
    for (int64_t o = 0; o < outer; o++) {
        for (int k = 0; k < nd->n_in; k++) {
            ref_dims(c, nd->in[k], xs);
            size_t chunk = (size_t)(xs[axis] * inner);
            memcpy(y, ref_ptr(c, nd->in[k]) + (size_t)o * chunk, chunk * sizeof(float));
            y += chunk;
        }
    }
    return NGT_OK;
}

int ref_slice(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    int64_t xs[ONNX_MAX_RANK], ys[ONNX_MAX_RANK], xst[ONNX_MAX_RANK], src[ONNX_MAX_RANK];
    const int64_t *starts, *steps;
    int r = ref_dims(c, nd->in[0], xs);
    ref_dims(c, nd->out[0], ys);
    onnx_attr_ints(nd, "starts", &starts);
    onnx_attr_ints(nd, "steps", &steps);
    strides_of(xs, r, xst);
    int64_t base = 0;
    for (int d = 0; d < r; d++) {
        base += starts[d] * xst[d];
        src[d] = steps[d] * xst[d];
    }
    walk(ref_ptr(c, nd->in[0]), ref_ptr(c, nd->out[0]), ref_count(c, nd->out[0]), r, ys, base, src);
    return NGT_OK;
}

int ref_gather(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    int64_t xs[ONNX_MAX_RANK], outer = 1, inner = 1;
    int r = ref_dims(c, nd->in[0], xs), axis = (int)onnx_attr_int(nd, "axis", 0);
    for (int d = 0; d < r; d++)
        if (d != axis)
            *(d < axis ? &outer : &inner) *= xs[d];
    int64_t dim = xs[axis], ni = ref_count(c, nd->in[1]);
    const float *x = ref_ptr(c, nd->in[0]), *ind = ref_ptr(c, nd->in[1]);
    float *y = ref_ptr(c, nd->out[0]);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < ni; i++) {
            int64_t k = (int64_t)ind[i];
            k = k < 0 ? k + dim : k;
            if (k < 0 || k >= dim)
                return seterr(err, NGT_EINVAL,
                              "node '%s' (%s): index %lld out of range [-%lld, %lld)", nd->name,
                              nd->op_type, (long long)ind[i], (long long)dim, (long long)dim);
            memcpy(y + (o * ni + i) * inner, x + (o * dim + k) * inner,
                   (size_t)inner * sizeof(float));
        }
    return NGT_OK;
}
