/* ref_elem.c: elementwise kernels of the reference interpreter: activations, Clip, Cast, Round,
 * Exp/Log/Sqrt, broadcasting Add/Sub/Mul/Div, Softmax, BatchNormalization and plain copies. */
#include "ref/ref.h"

#include <float.h>
#include <math.h>
#include <string.h>

int ref_dims(const ref_ctx *c, int t, int64_t *shape)
{
    const onnx_tensor *x = &c->m->g->tensors[t];
    for (int d = 0; d < x->rank; d++)
        shape[d] = x->shape[d] == ONNX_BATCH ? c->n : x->shape[d];
    return x->rank;
}

int64_t ref_count(const ref_ctx *c, int t)
{
    int64_t s[ONNX_MAX_RANK], e = 1;
    int r = ref_dims(c, t, s);
    for (int d = 0; d < r; d++)
        e *= s[d];
    return e;
}

void ref_bstrides(const int64_t *shape, int r, const int64_t *oshape, int orank, int64_t *st)
{
    int64_t s = 1;
    for (int d = orank - 1; d >= 0; d--) {
        int di = d - (orank - r);
        st[d] = (di >= 0 && shape[di] == oshape[d] && shape[di] != 1) ? s : 0;
        if (di >= 0)
            s *= shape[di];
    }
}

/* Float -> the value a cast to an integer type keeps: truncated toward zero, clamped to range. */
static float cast_int(float v, ngt_dtype to)
{
    static const double lo[] = {[NGT_I8] = -128.0,
                                [NGT_I16] = -32768.0,
                                [NGT_I32] = -2147483648.0,
                                [NGT_I64] = -9.2233720368547758e18,
                                [NGT_U8] = 0,
                                [NGT_U16] = 0,
                                [NGT_U32] = 0,
                                [NGT_U64] = 0};
    static const double hi[] = {[NGT_I8] = 127.0,         [NGT_I16] = 32767.0,
                                [NGT_I32] = 2147483647.0, [NGT_I64] = 9.2233720368547758e18,
                                [NGT_U8] = 255.0,         [NGT_U16] = 65535.0,
                                [NGT_U32] = 4294967295.0, [NGT_U64] = 1.8446744073709552e19};
    if (to == NGT_BOOL)
        return v != 0.0f ? 1.0f : 0.0f;
    if (isnan(v))
        return 0.0f;
    double t = trunc((double)v);
    return (float)(t < lo[to] ? lo[to] : t > hi[to] ? hi[to] : t);
}

/* A Clip bound; an absent one (stored as an infinity) is the largest finite float, as ONNX
 * Runtime takes it: Clip(-inf) without a min gives -FLT_MAX. */
float ref_clip_bound(const onnx_node *nd, const char *name)
{
    float v = onnx_attr_float(nd, name, name[1] == 'i' ? -INFINITY : INFINITY);
    return isinf(v) ? copysignf(FLT_MAX, v) : v;
}

static float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

int ref_unary(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    const float *x = ref_ptr(c, nd->in[0]);
    float *y = ref_ptr(c, nd->out[0]);
    int64_t e = ref_count(c, nd->out[0]);
    float alpha = onnx_attr_float(nd, "alpha", 0), lo = ref_clip_bound(nd, "min");
    float hi = ref_clip_bound(nd, "max");
    ngt_dtype to = (ngt_dtype)onnx_attr_int(nd, "to", NGT_F32);
    for (int64_t i = 0; i < e; i++) {
        float v = x[i];
        switch (nd->op) {
        case ONNX_OP_RELU:
            v = v < 0 ? 0 : v; /* NaN stays NaN, as in ONNX Runtime */
            break;
        case ONNX_OP_LEAKYRELU:
            v = v >= 0 ? v : alpha * v;
            break;
        case ONNX_OP_ELU:
            v = v >= 0 ? v : alpha * (expf(v) - 1.0f);
            break;
        case ONNX_OP_SIGMOID:
            v = sigmoid(v);
            break;
        case ONNX_OP_TANH:
            v = tanhf(v);
            break;
        case ONNX_OP_EXP:
            v = expf(v);
            break;
        case ONNX_OP_LOG:
            v = logf(v);
            break;
        case ONNX_OP_SQRT:
            v = sqrtf(v);
            break;
        case ONNX_OP_ROUND:
            v = nearbyintf(v);
            break; /* half to even */
        case ONNX_OP_CLIP:
            v = v < lo ? lo : v > hi ? hi : v;
            break;
        case ONNX_OP_CAST:
            v = (to == NGT_F32 || to == NGT_F64) ? v : cast_int(v, to);
            break;
        default:
            break;
        }
        y[i] = v;
    }
    return NGT_OK;
}

int ref_copy(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    float *y = ref_ptr(c, nd->out[0]);
    const float *x = ref_ptr(c, nd->in[0]);
    if (x != y)
        memcpy(y, x, sizeof(float) * (size_t)ref_count(c, nd->out[0]));
    return NGT_OK;
}

static float binop(onnx_op op, float a, float b, int integer)
{
    switch (op) {
    case ONNX_OP_ADD:
        return a + b;
    case ONNX_OP_SUB:
        return a - b;
    case ONNX_OP_MUL:
        return a * b;
    default:
        return integer ? (b != 0.0f ? truncf(a / b) : 0.0f) : a / b;
    }
}

int ref_binary(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    int64_t os[ONNX_MAX_RANK], as[ONNX_MAX_RANK], bs[ONNX_MAX_RANK];
    int64_t sa[ONNX_MAX_RANK], sb[ONNX_MAX_RANK], idx[ONNX_MAX_RANK] = {0};
    int orank = ref_dims(c, nd->out[0], os);
    ref_bstrides(as, ref_dims(c, nd->in[0], as), os, orank, sa);
    ref_bstrides(bs, ref_dims(c, nd->in[1], bs), os, orank, sb);
    const float *a = ref_ptr(c, nd->in[0]), *b = ref_ptr(c, nd->in[1]);
    float *y = ref_ptr(c, nd->out[0]);
    ngt_dtype dt = c->m->g->tensors[nd->out[0]].dtype;
    int integer = dt != NGT_F32 && dt != NGT_F64;
    int64_t e = ref_count(c, nd->out[0]), inner = orank ? os[orank - 1] : 1;
    int64_t ia = orank ? sa[orank - 1] : 0, ib = orank ? sb[orank - 1] : 0;
    for (int64_t i = 0; i < e; i += inner) {
        int64_t oa = 0, ob = 0;
        for (int d = 0; d < orank - 1; d++) {
            oa += idx[d] * sa[d];
            ob += idx[d] * sb[d];
        }
        for (int64_t j = 0; j < inner; j++)
            y[i + j] = binop(nd->op, a[oa + j * ia], b[ob + j * ib], integer);
        for (int d = orank - 2; d >= 0 && ++idx[d] == os[d]; d--)
            idx[d] = 0;
    }
    return NGT_OK;
}

int ref_softmax(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    int64_t s[ONNX_MAX_RANK], outer = 1, len = 1, inner = 1;
    int r = ref_dims(c, nd->in[0], s);
    int axis = (int)onnx_attr_int(nd, "axis", r - 1), span = (int)onnx_attr_int(nd, "span", 1);
    for (int d = 0; d < r; d++)
        *(d < axis ? &outer : d < axis + span ? &len : &inner) *= s[d];
    const float *x = ref_ptr(c, nd->in[0]);
    float *y = ref_ptr(c, nd->out[0]);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            const float *xp = x + o * len * inner + i;
            float *yp = y + o * len * inner + i;
            float mx = xp[0], sum = 0.0f;
            for (int64_t k = 1; k < len; k++)
                mx = xp[k * inner] > mx ? xp[k * inner] : mx;
            for (int64_t k = 0; k < len; k++) {
                yp[k * inner] = expf(xp[k * inner] - mx);
                sum += yp[k * inner];
            }
            for (int64_t k = 0; k < len; k++)
                yp[k * inner] /= sum;
        }
    }
    return NGT_OK;
}

int ref_batchnorm(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    int64_t s[ONNX_MAX_RANK] = {0}, inner = 1; /* rank >= 2: N, C, then any spatial dims */
    int r = ref_dims(c, nd->in[0], s);
    for (int d = 2; d < r; d++)
        inner *= s[d];
    const float *x = ref_ptr(c, nd->in[0]), *sc = ref_ptr(c, nd->in[1]);
    const float *b = ref_ptr(c, nd->in[2]), *mean = ref_ptr(c, nd->in[3]);
    const float *var = ref_ptr(c, nd->in[4]);
    float eps = onnx_attr_float(nd, "epsilon", 1e-5f), *y = ref_ptr(c, nd->out[0]);
    for (int64_t n = 0; n < s[0]; n++) {
        for (int64_t ch = 0; ch < s[1]; ch++) {
            float k = sc[ch] / sqrtf(var[ch] + eps);
            int64_t base = (n * s[1] + ch) * inner;
            for (int64_t i = 0; i < inner; i++)
                y[base + i] = (x[base + i] - mean[ch]) * k + b[ch];
        }
    }
    return NGT_OK;
}
