/* gpu_hd.h: the arithmetic of the gpu kernels as __host__ __device__ functions: one output value
 * of one layer for one event, float or fixed point. The kernels call them on the device and their
 * CPU-grid emulation calls the same code on the host, so both give the same bits: floats use
 * explicit fmaf in a fixed order and an exp of our own (no device intrinsics), fixed point uses
 * the hls module's integer arithmetic (hls_quant.h). CUDA only. */
#ifndef NGT_GPU_HD_H
#define NGT_GPU_HD_H

#include "gpu_net.h"
#include "hls/hls_quant.h"

#include <math.h>
#include <string.h>

#define GPU_HD __host__ __device__ __forceinline__

GPU_HD float gpu_pow2i(int n) /* 2^n for -126 <= n <= 127 */
{
    unsigned u = (unsigned)(n + 127) << 23;
#ifdef __CUDA_ARCH__
    return __uint_as_float(u);
#else
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
#endif
}

/* exp(x) within 2 ulp, the same bits on host and device: Cody-Waite reduction by ln 2, a degree-7
 * polynomial by fmaf, scaling by an exact power of two. */
GPU_HD float gpu_expf(float x)
{
    if (x != x)
        return x;
    if (x > 88.0f)
        return INFINITY;
    if (x < -87.0f)
        return 0.0f;
    float t = x * 1.44269502f;
    float n = rintf(t);
    float r = fmaf(n, -0.693145752f, x);
    r = fmaf(n, -1.42860677e-06f, r);
    float p = 1.98412698e-04f;
    p = fmaf(p, r, 1.38888889e-03f);
    p = fmaf(p, r, 8.33333333e-03f);
    p = fmaf(p, r, 4.16666667e-02f);
    p = fmaf(p, r, 1.66666667e-01f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    int k = (int)n;
    if (k > 127) { /* 2^127 * p may still be finite */
        p *= 2.0f;
        k--;
    }
    return p * gpu_pow2i(k < -126 ? -126 : k);
}

GPU_HD float gpu_activate(int act, float v)
{
    switch (act) {
    case GPU_ACT_RELU:
        return v > 0.0f ? v : 0.0f;
    case GPU_ACT_SIGMOID:
        return 1.0f / (1.0f + gpu_expf(-v));
    case GPU_ACT_TANH: {
        float e = gpu_expf(-2.0f * fabsf(v));
        float t = (1.0f - e) / (1.0f + e);
        return v < 0.0f ? -t : t;
    }
    default:
        return v;
    }
}

/* Output j of float layer L for one event whose inputs are x: the bias, then every product in
 * input order (conv: input channel, then tap), then the activation. */
GPU_HD float gpu_f_value(const gpu_flayer *L, const float *P, const float *x, int j)
{
    const float *W = P + L->w_off, *B = P + L->b_off;
    if (L->kind == GPU_F_DENSE) {
        float acc = B[j];
        for (int i = 0; i < L->n_in; i++)
            acc = fmaf(x[i], W[(size_t)i * L->n_out + j], acc);
        return gpu_activate(L->act, acc);
    }
    int co = j / L->ow, p = j % L->ow;
    float acc = B[co];
    for (int ci = 0; ci < L->ic; ci++) {
        const float *w = W + ((size_t)co * L->ic + ci) * L->k;
        const float *xi = x + (size_t)ci * L->iw;
        for (int kk = 0; kk < L->k; kk++) {
            int q = p + kk - L->pad_l;
            if (q >= 0 && q < L->iw)
                acc = fmaf(xi[q], w[kk], acc);
        }
    }
    return gpu_activate(L->act, acc);
}

/* The bias and activation after a cuBLAS product (layer-by-layer path). */
GPU_HD float gpu_f_bias_act(const gpu_flayer *L, const float *P, float v, int j)
{
    return gpu_activate(L->act, v + P[L->b_off + j]);
}

GPU_HD int gpu_frac(const hls_type *t)
{
    return t->w - t->i;
}

GPU_HD int64_t gpu_shl64(int64_t v, int s)
{
    return (int64_t)((uint64_t)v << s);
}

/* Input op i of output pixel p of a conv: the value (0 in the padding). */
GPU_HD int64_t gpu_x_tap(const gpu_xlayer *L, const int64_t *x, int p, int i)
{
    int kk = i / L->ic, ci = i % L->ic, q = p + kk - L->pad_l;
    return q >= 0 && q < L->iw ? x[(size_t)q * L->ic + ci] : 0;
}

/* A dense or conv output value, as hls4ml's dense_latency computes it: exact products, the bias
 * and each product assigned to accum_t in op order (when the sum is exact in int64, summing first
 * gives the same bits), the result cast at the end. */
GPU_HD int64_t gpu_x_dot(const gpu_xlayer *L, const int64_t *P, const int64_t *x, int p, int co)
{
    const int64_t *w = P + L->w_off + (size_t)co * L->n_ops;
    int64_t b = P[L->b_off + co];
    int conv = L->kind == GPU_X_CONV1D;
    int fp = gpu_frac(&L->xt) + gpu_frac(&L->wt), fb = gpu_frac(&L->bt);
    if (L->fast) {
        int fs = fp > fb ? fp : fb;
        int64_t s = 0;
        for (int i = 0; i < L->n_ops; i++)
            s += (conv ? gpu_x_tap(L, x, p, i) : x[i]) * w[i];
        s = gpu_shl64(s, fs - fp) + gpu_shl64(b, fs - fb);
        return (int64_t)hls_quant_hd(s, fs, &L->res, NULL);
    }
    const hls_type *at = &L->acc;
    int fa = gpu_frac(at);
    hls_i128 acc = hls_quant_hd(b, fb, at, NULL);
    for (int i = 0; i < L->n_ops; i++) {
        int64_t xi = conv ? gpu_x_tap(L, x, p, i) : x[i];
        hls_i128 pr = hls_quant_hd((hls_i128)xi * w[i], fp, at, NULL);
        hls_i128 s = (hls_i128)((hls_u128)acc + (hls_u128)pr);
        int ovf = (acc >= 0) == (pr >= 0) && (s >= 0) != (acc >= 0);
        if (ovf) /* only at W = 128: wraps or saturates */
            s = at->o == HLS_WRAP ? s : (acc < 0 ? hls_raw_min_hd(at) : hls_raw_max_hd(at));
        else
            s = hls_quant_hd(s, fa, at, NULL);
        acc = s;
    }
    return (int64_t)hls_quant_hd(acc, fa, &L->res, NULL);
}

/* Output j (channels last) of fixed layer L (not the input layer) for one event. */
GPU_HD int64_t gpu_x_value(const gpu_xlayer *L, const int64_t *P, const int64_t *x, int j)
{
    switch (L->kind) {
    case GPU_X_DENSE:
        return gpu_x_dot(L, P, x, 0, j);
    case GPU_X_CONV1D:
        return gpu_x_dot(L, P, x, j / L->c, j % L->c);
    case GPU_X_RELU:
        return x[j] > 0 ? (int64_t)hls_quant_hd(x[j], gpu_frac(&L->xt), &L->res, NULL) : 0;
    case GPU_X_TABLE: { /* index = trunc_toward_zero(x * N / span) + N / 2, clamped */
        int f = gpu_frac(&L->xt), n = L->table_size;
        hls_i128 num = (hls_i128)x[j] * n, den = L->span;
        if (f >= 0)
            den <<= f;
        else
            num = (hls_i128)((hls_u128)num << -f);
        hls_i128 neg = num < 0;
        hls_u128 un = (hls_u128)(neg ? -num : num), q = un / (hls_u128)den;
        hls_i128 idx = (neg ? -(hls_i128)q : (hls_i128)q) + n / 2;
        int k = idx < 0 ? 0 : idx > n - 1 ? n - 1 : (int)idx;
        return (int64_t)hls_quant_hd(P[L->t_off + k], gpu_frac(&L->tab), &L->res, NULL);
    }
    default:
        return 0;
    }
}

/* The input layer: value j (channels last) from the event's floats (ONNX layout, channels first)
 * as ap_fixed's constructor from double. */
GPU_HD int64_t gpu_x_input(const gpu_xnet *net, const float *in, int j)
{
    const gpu_xlayer *L = &net->l[0];
    int c = net->in_c, p = j / c, ch = j % c;
    return (int64_t)hls_from_double_hd((double)in[(size_t)ch * net->in_hw + p], &L->res, NULL);
}

/* Output value o (ONNX layout) from the last layer's raw values y (channels last). */
GPU_HD float gpu_x_output(const gpu_xnet *net, const int64_t *y, int o)
{
    const gpu_xlayer *L = &net->l[net->n_layers - 1];
    int ch = o / net->out_hw, p = o % net->out_hw;
    return (float)hls_to_double_hd(y[(size_t)p * net->out_c + ch], &L->res);
}

#endif
