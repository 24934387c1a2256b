/* hls_fast.c: the exact fast path: Dense/Conv whose accumulator provably never rounds or overflows
 * run as integer sums in double FMA (exact below 2^53), and int64 casts with shifts. */
#include "hls/hls_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef double v8d __attribute__((vector_size(64), aligned(8), may_alias));

/* Unaligned loads and stores of 8 doubles (macros: no vector values cross a call). */
#define ld8(p) (*(const v8d *)(const void *)(p))
#define st8(p, v) (*(v8d *)(void *)(p) = (v))

/* C[m][0..np) = bias + A[m][0..k) . W[0..k)[0..np): np a multiple of 8, all values integers whose
 * partial sums stay below 2^53 (checked at load), so any summation order gives the same bits. */
HLS_CLONES static void hls_gemm_d(const double *a, int m, int k, const double *w,
                                  const double *bias, int np, double *c)
{
    int r = 0;
    for (; r + 4 <= m; r += 4) /* 4 rows x 16 columns: 8 independent chains */
        for (int n = 0; n < np; n += 16) {
            int two = n + 16 <= np;
            v8d b0 = ld8(bias + n), b1 = two ? ld8(bias + n + 8) : b0;
            v8d c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
            const double *a0 = a + (size_t)r * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
            for (int i = 0; i < k; i++) {
                v8d w0 = ld8(w + (size_t)i * np + n),
                    w1 = two ? ld8(w + (size_t)i * np + n + 8) : w0;
                c00 += a0[i] * w0;
                c01 += a0[i] * w1;
                c10 += a1[i] * w0;
                c11 += a1[i] * w1;
                c20 += a2[i] * w0;
                c21 += a2[i] * w1;
                c30 += a3[i] * w0;
                c31 += a3[i] * w1;
            }
            double *o = c + (size_t)r * np + n;
            st8(o, c00);
            st8(o + np, c10);
            st8(o + 2 * (size_t)np, c20);
            st8(o + 3 * (size_t)np, c30);
            if (two) {
                st8(o + 8, c01);
                st8(o + np + 8, c11);
                st8(o + 2 * (size_t)np + 8, c21);
                st8(o + 3 * (size_t)np + 8, c31);
            }
        }
    for (; r < m; r++) { /* one row: 8 columns, inputs in 4 interleaved chains */
        const double *ar = a + (size_t)r * k;
        for (int n = 0; n < np; n += 8) {
            v8d s0 = ld8(bias + n), s1 = {0}, s2 = {0}, s3 = {0};
            int i = 0;
            for (; i + 4 <= k; i += 4) {
                s0 += ar[i] * ld8(w + (size_t)i * np + n);
                s1 += ar[i + 1] * ld8(w + (size_t)(i + 1) * np + n);
                s2 += ar[i + 2] * ld8(w + (size_t)(i + 2) * np + n);
                s3 += ar[i + 3] * ld8(w + (size_t)(i + 3) * np + n);
            }
            for (; i < k; i++)
                s0 += ar[i] * ld8(w + (size_t)i * np + n);
            st8(c + (size_t)r * np + n, (s0 + s1) + (s2 + s3));
        }
    }
}

/* Precomputes the double weights ([n_ops][np], scaled to the sum's fraction) when the exact
 * integer sum stays below 2^53. */
int hls_fast_prepare(hls_layer *l, const hls_type *x, double worst)
{
    int fp = hls_frac(x) + hls_frac(&l->wt), fb = hls_frac(&l->bt);
    int fs = fp > fb ? fp : fb;
    if (!l->fast || ldexp(worst, fs) >= 0x1p52)
        return NGT_OK;
    int np = (l->n_out + 7) / 8 * 8;
    l->wd = calloc((size_t)l->n_ops * np, sizeof *l->wd);
    l->bd = calloc((size_t)np, sizeof *l->bd);
    if (!l->wd || !l->bd)
        return NGT_ENOMEM;
    for (int j = 0; j < l->n_out; j++) {
        l->bd[j] = ldexp((double)l->bq[j], fs - fb);
        for (int i = 0; i < l->n_ops; i++)
            l->wd[(size_t)i * np + j] = ldexp((double)l->wq[(size_t)j * l->n_ops + i], fs - fp);
    }
    l->np = np;
    l->fs = fs;
    l->worst = ldexp(worst, fs);
    hls_cast_prepare(&l->rq, fs, 53, &l->res);
    return NGT_OK;
}

/* A cast from fraction fsrc (|raw| < 2^bits) to t done with int64 shifts when the modes allow. */
void hls_cast_prepare(hls_cast *c, int fsrc, int bits, const hls_type *t)
{
    memset(c, 0, sizeof *c);
    c->t = *t;
    c->d = fsrc - hls_frac(t);
    int q_ok = c->d <= 0 || t->q == HLS_TRN || t->q == HLS_RND;
    c->fast = t->w <= 62 && bits <= 63 && c->d <= 62 && bits - c->d <= 62 && q_ok;
    c->mx = (int64_t)hls_raw_max(t);
    c->mn = (int64_t)hls_raw_min(t);
}

/* Dense on the fast path: x (n_ops raw) -> y (n_out raw, result type). */
void hls_fast_dense(const hls_layer *l, const int64_t *x, int64_t *y, double *sd)
{
    double *a = sd, *c = sd + l->n_ops;
    for (int i = 0; i < l->n_ops; i++)
        a[i] = (double)x[i];
    hls_gemm_d(a, 1, l->n_ops, l->wd, l->bd, l->np, c);
    for (int j = 0; j < l->n_out; j++)
        y[j] = hls_castv(&l->rq, (int64_t)c[j]);
}

/* Conv on the fast path: the input in double once, then im2col rows of 4 pixels at a time. */
void hls_fast_conv(const hls_layer *l, const int64_t *x, int64_t *y, double *sd)
{
    size_t nin = (size_t)l->ic * l->ih * l->iw;
    double *xd = sd, *a = xd + nin, *c = a + 4 * (size_t)l->n_ops;
    for (size_t i = 0; i < nin; i++)
        xd[i] = (double)x[i];
    int npix = l->h * l->w;
    for (int p0 = 0; p0 < npix; p0 += 4) {
        int m = npix - p0 < 4 ? npix - p0 : 4;
        for (int r = 0; r < m; r++) {
            const int *tp = l->taps + (size_t)(p0 + r) * l->n_ops;
            double *ar = a + (size_t)r * l->n_ops;
            for (int i = 0; i < l->n_ops; i++)
                ar[i] = tp[i] < 0 ? 0.0 : xd[tp[i]];
        }
        hls_gemm_d(a, m, l->n_ops, l->wd, l->bd, l->np, c);
        for (int r = 0; r < m; r++)
            for (int j = 0; j < l->n_out; j++)
                y[(size_t)(p0 + r) * l->c + j] =
                    hls_castv(&l->rq, (int64_t)c[(size_t)r * l->np + j]);
    }
}

/* Doubles of scratch the fast path needs for layer l. */
size_t hls_fast_scratch(const hls_layer *l)
{
    if (!l->wd)
        return 0;
    if (l->kind == HLS_L_DENSE)
        return (size_t)l->n_ops + (size_t)l->np;
    return (size_t)l->ic * l->ih * l->iw + 4 * ((size_t)l->n_ops + (size_t)l->np);
}
