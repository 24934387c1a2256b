/* hls_run.c: one event through the layers, as hls4ml's io_parallel Latency templates compute it:
 * exact products, the accumulator type on every assignment, results cast at the end. */
#include "hls/hls_model.h"

#include <math.h>
#include <string.h>

/* Assigns v * 2^-f to the layer's result type, recording overflows and the range in stats. */
static inline int64_t put(const hls_layer *l, hls_i128 v, int f, int64_t *st)
{
    if (!st)
        return (int64_t)hls_quant(v, f, &l->res, NULL);
    int fl = 0;
    int64_t r = (int64_t)hls_quant(v, f, &l->res, &fl);
    st[0] += (fl & HLS_F_OVERFLOW) != 0;
    st[1] += (fl & HLS_F_ROUNDED) != 0;
    if (r < st[2])
        st[2] = r;
    if (r > st[3])
        st[3] = r;
    return r;
}

/* int16 x int16 dot products summed in int32 (exact: the bound was checked at load); written so
 * that the compiler vectorises them (pmaddwd) for the widest ISA found at run time. */
HLS_CLONES static void dot16(const int16_t *x, const int16_t *w, int n_ops, int n_out, int32_t *out)
{
    for (int j = 0; j < n_out; j++) {
        const int16_t *wj = w + (size_t)j * n_ops;
        int32_t s = 0;
        for (int i = 0; i < n_ops; i++)
            s += (int32_t)x[i] * (int32_t)wj[i];
        out[j] = s;
    }
}

/* One output value: the bias then every product in order, each assigned to accum_t. */
static hls_i128 accumulate(const hls_layer *l, const hls_type *xt, const int64_t *x, int j,
                           int64_t *st)
{
    const hls_type *at = &l->acc;
    int fa = hls_frac(at), fp = hls_frac(xt) + hls_frac(&l->wt);
    int fl = 0, *flp = st ? &fl : NULL;
    hls_i128 acc = hls_quant(l->bq[j], hls_frac(&l->bt), at, flp);
    const int64_t *w = l->wq + (size_t)j * l->n_ops;
    for (int i = 0; i < l->n_ops; i++) {
        hls_i128 p = hls_quant((hls_i128)x[i] * w[i], fp, at, flp);
        hls_i128 s;
        if (__builtin_add_overflow(acc, p, &s)) /* only at W = 128: wraps or saturates */
            s = at->o == HLS_WRAP ? (hls_i128)((hls_u128)acc + (hls_u128)p)
                                  : (acc < 0 ? hls_raw_min(at) : hls_raw_max(at));
        else
            s = hls_quant(s, fa, at, flp);
        acc = s;
    }
    if (st && (fl & HLS_F_OVERFLOW))
        st[4]++;
    return acc;
}

/* Dense or one conv pixel: x holds the n_ops inputs in order (im2col for conv). */
static void dense(const hls_layer *l, const hls_type *xt, const int64_t *x, int16_t *x16,
                  int32_t *s32, int64_t *y, int stride, int64_t *st)
{
    if (l->fast32) {
        for (int i = 0; i < l->n_ops; i++)
            x16[i] = (int16_t)x[i];
        dot16(x16, l->w16, l->n_ops, l->n_out, s32);
        int fp = hls_frac(xt) + hls_frac(&l->wt), sh = fp - hls_frac(&l->bt);
        for (int j = 0; j < l->n_out; j++)
            y[(size_t)j * stride] = put(l, (int64_t)s32[j] + hls_shl64(l->bq[j], sh), fp, st);
        return;
    }
    if (l->fast) {
        int fp = hls_frac(xt) + hls_frac(&l->wt), fb = hls_frac(&l->bt);
        int fs = fp > fb ? fp : fb;
        for (int j = 0; j < l->n_out; j++) {
            const int64_t *w = l->wq + (size_t)j * l->n_ops;
            int64_t s = 0;
            for (int i = 0; i < l->n_ops; i++)
                s += x[i] * w[i];
            s = hls_shl64(s, fs - fp) + hls_shl64(l->bq[j], fs - fb);
            y[(size_t)j * stride] = put(l, s, fs, st);
        }
        return;
    }
    for (int j = 0; j < l->n_out; j++)
        y[(size_t)j * stride] = put(l, accumulate(l, xt, x, j, st), hls_frac(&l->acc), st);
}

/* index = trunc_toward_zero(x * N / span) + N / 2, clamped (nnet::sigmoid / nnet::tanh). */
static int table_index(const hls_type *xt, int64_t x, int n, int span)
{
    int f = hls_frac(xt);
    hls_i128 num = (hls_i128)x * n, den = span;
    if (f >= 0)
        den <<= f;
    else
        num = hls_shl(num, -f);
    hls_i128 q = num / den; /* C division truncates toward zero */
    hls_i128 idx = q + n / 2;
    return idx < 0 ? 0 : idx > n - 1 ? n - 1 : (int)idx;
}

int hls_event(const hls_model *m, int64_t *ws, const float *in, float *out, int64_t *stats)
{
    int64_t *scratch = ws + m->ev_words;
    int16_t *x16 = (int16_t *)(scratch + m->ws_scratch);
    int32_t *s32 = (int32_t *)(void *)(scratch + m->ws_scratch + hls_ws_x16_words(m));
    for (int k = 0; k < m->n_layers; k++) {
        const hls_layer *l = &m->layers[k];
        int64_t *y = ws + m->offset[k], *st = stats ? stats + 8 * k : NULL;
        const hls_layer *a = &m->layers[l->in[0]];
        const int64_t *x = ws + m->offset[l->in[0]];
        switch (l->kind) {
        case HLS_L_INPUT: {
            int hw = l->w ? l->h * l->w : 1, c = l->w ? l->c : (int)l->size;
            if (!st) {
                double scale = ldexp(1.0, hls_frac(&l->res));
                for (int ch = 0; ch < c; ch++)
                    for (int p = 0; p < hw; p++)
                        y[(size_t)p * c + ch] = hls_quant_in(l, in[(size_t)ch * hw + p], scale);
                break;
            }
            for (int ch = 0; ch < c; ch++) /* channels first -> channels last */
                for (int p = 0; p < hw; p++) {
                    int fl = 0;
                    int64_t r = (int64_t)hls_from_double(in[(size_t)ch * hw + p], &l->res, &fl);
                    if (st) {
                        st[0] += (fl & HLS_F_OVERFLOW) != 0;
                        st[1] += (fl & HLS_F_ROUNDED) != 0;
                        st[2] = r < st[2] ? r : st[2];
                        st[3] = r > st[3] ? r : st[3];
                    }
                    y[(size_t)p * c + ch] = r;
                }
            break;
        }
        case HLS_L_DENSE:
            if (l->wd && !st && l->rq.fast)
                hls_fast_dense(l, x, y, (double *)(void *)scratch);
            else
                dense(l, &a->res, x, x16, s32, y, 1, st);
            break;
        case HLS_L_CONV: {
            if (l->wd && !st && l->rq.fast) {
                hls_fast_conv(l, x, y, (double *)(void *)scratch);
                break;
            }
            int npix = l->h * l->w;
            for (int p = 0; p < npix; p++) {
                const int *tp = l->taps + (size_t)p * l->n_ops;
                for (int i = 0; i < l->n_ops; i++)
                    scratch[i] = tp[i] < 0 ? 0 : x[tp[i]];
                dense(l, &a->res, scratch, x16, s32, y + (size_t)p * l->c, 1, st);
            }
            break;
        }
        case HLS_L_RELU:
            if (!st && l->rq.fast) {
                for (int64_t i = 0; i < l->size; i++)
                    y[i] = x[i] > 0 ? hls_castv(&l->rq, x[i]) : 0;
                break;
            }
            for (int64_t i = 0; i < l->size; i++)
                y[i] = x[i] > 0 ? put(l, x[i], hls_frac(&a->res), st) : 0;
            break;
        case HLS_L_SIGMOID:
        case HLS_L_TANH: {
            int span = l->kind == HLS_L_SIGMOID ? 16 : 8;
            if (!st && l->idx_fast && l->rq.fast) {
                int n = l->table_size, sh = l->idx_shift;
                for (int64_t i = 0; i < l->size; i++) {
                    int64_t q = x[i] >= 0 ? x[i] >> sh : -((-x[i]) >> sh); /* toward zero */
                    int64_t idx = q + n / 2;
                    idx = idx < 0 ? 0 : idx > n - 1 ? n - 1 : idx;
                    y[i] = hls_castv(&l->rq, l->table[idx]);
                }
                break;
            }
            for (int64_t i = 0; i < l->size; i++)
                y[i] = put(l, l->table[table_index(&a->res, x[i], l->table_size, span)],
                           hls_frac(&l->tab), st);
            break;
        }
        case HLS_L_SOFTMAX:
            hls_softmax_event(l, &a->res, x, scratch, y, st);
            break;
        case HLS_L_BATCHNORM: {
            int c = l->n_out, fx = hls_frac(&a->res), fs = hls_frac(&l->wt), fb = hls_frac(&l->bt);
            int fp = fx + fs, f = fp > fb ? fp : fb;
            for (int64_t i = 0; i < l->size; i++) {
                int ch = (int)(i % c);
                hls_i128 v =
                    hls_shl((hls_i128)x[i] * l->wq[ch], f - fp) + hls_shl(l->bq[ch], f - fb);
                y[i] = put(l, v, f, st);
            }
            break;
        }
        case HLS_L_ADD: {
            const hls_layer *b = &m->layers[l->in[1]];
            const int64_t *x2 = ws + m->offset[l->in[1]];
            int fa = hls_frac(&a->res), fb = hls_frac(&b->res), f = fa > fb ? fa : fb;
            for (int64_t i = 0; i < l->size; i++)
                y[i] = put(l, hls_shl(x[i], f - fa) + hls_shl(x2[i], f - fb), f, st);
            break;
        }
        case HLS_L_CONCAT: {
            const hls_layer *b = &m->layers[l->in[1]];
            const int64_t *x2 = ws + m->offset[l->in[1]];
            for (int64_t i = 0; i < a->size; i++)
                y[i] = put(l, x[i], hls_frac(&a->res), st);
            for (int64_t i = 0; i < b->size; i++)
                y[a->size + i] = put(l, x2[i], hls_frac(&b->res), st);
            break;
        }
        default:
            return NGT_EUNSUPPORTED;
        }
    }
    const hls_layer *o = &m->layers[m->out_layer];
    const int64_t *y = ws + m->offset[m->out_layer];
    int hw = o->w ? o->h * o->w : 1, c = o->w ? o->c : (int)o->size;
    for (int ch = 0; ch < c && out; ch++) /* channels last -> the ONNX layout */
        for (int p = 0; p < hw; p++)
            out[(size_t)ch * hw + p] = (float)hls_to_double(y[(size_t)p * c + ch], &o->res);
    return NGT_OK;
}
