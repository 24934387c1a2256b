/* hls_quant.h: assignment to an ap_fixed type on raw integers (rounding, then overflow) and
 * conversions to and from floating point, as inline functions that both C (hls_fixed.c) and CUDA
 * (gpu/, where HLS_HD makes them __host__ __device__) compile: one arithmetic for the hls backend
 * and the gpu kernels, so their fixed-point results are the same bits. */
#ifndef NGT_HLS_QUANT_H
#define NGT_HLS_QUANT_H

#include "hls/hls_fixed.h"

#include <math.h>

#ifdef __CUDACC__
#define HLS_HD __host__ __device__ __forceinline__
#else
#define HLS_HD static inline
#endif

HLS_HD hls_i128 hls_raw_max_hd(const hls_type *t)
{
    int b = t->sign ? t->w - 1 : t->w;
    if (b >= 127)
        return (hls_i128)(((hls_u128)1 << 127) - 1);
    return ((hls_i128)1 << b) - 1;
}

HLS_HD hls_i128 hls_raw_min_hd(const hls_type *t)
{
    if (!t->sign)
        return 0;
    return -(hls_i128)(((hls_u128)1 << (t->w - 1)) - 1) - 1;
}

/* The low w bits of v, sign-extended when t is signed. */
HLS_HD hls_i128 hls_wrap_hd(hls_u128 v, const hls_type *t)
{
    if (t->w >= 128 || t->w < 1) /* types are 1..128 bits wide (checked when parsed) */
        return (hls_i128)v;
    hls_u128 m = ((hls_u128)1 << t->w) - 1;
    v &= m;
    if (t->sign && (v >> (t->w - 1)) & 1)
        v |= ~m;
    return (hls_i128)v;
}

/* Overflow handling of an exact (rounded) value r; big = 1 when r itself did not fit 128 bits
 * (then neg says its sign and low holds its low 128 bits). */
HLS_HD hls_i128 hls_overflow_hd(hls_i128 r, int big, int neg, hls_u128 low, const hls_type *t,
                                int *flags)
{
    hls_i128 mx = hls_raw_max_hd(t), mn = hls_raw_min_hd(t);
    int over = big ? !neg : r > mx;
    int under = big ? neg : r < mn;
    int symmin = !big && !under && t->o == HLS_SAT_SYM && t->sign && r == mn;
    if (!over && !under && !symmin)
        return r;
    if (flags && (over || under))
        *flags |= HLS_F_OVERFLOW;
    switch (t->o) {
    case HLS_SAT:
        return over ? mx : mn;
    case HLS_SAT_ZERO:
        return 0;
    case HLS_SAT_SYM:
        if (over)
            return mx;
        /* ap_types sets the lowest bit of the most negative code: -max (W = 1: -1 stays). */
        return t->sign ? (t->w == 1 ? mn : -mx) : 0;
    default:
        return hls_wrap_hd(big ? low : (hls_u128)r, t);
    }
}

/* 1 when quantization mode q rounds the floor r up by one LSB: neg is the sign of the exact value,
 * qb the first dropped bit, rest whether any later dropped bit is set, lsb r's lowest bit. */
HLS_HD int hls_round_up_hd(int q, int neg, int qb, int rest, int lsb)
{
    switch (q) {
    case HLS_TRN_ZERO:
        return neg;
    case HLS_RND:
        return qb;
    case HLS_RND_ZERO:
        return qb && (rest || neg);
    case HLS_RND_MIN_INF:
        return qb && rest;
    case HLS_RND_INF:
        return qb && (rest || !neg);
    case HLS_RND_CONV:
        return qb && (rest || lsb);
    default: /* TRN: the floor */
        return 0;
    }
}

/* v * 2^-fsrc assigned to type t: rounding by t->q, then overflow by t->o (hls_quant). */
HLS_HD hls_i128 hls_quant_hd(hls_i128 v, int fsrc, const hls_type *t, int *flags)
{
    int d = fsrc - (t->w - t->i);
    int neg = v < 0;
    if (d > 0) {
        if (d > 126) {
            /* |v| < 2^127: the result is 0 or -1 before rounding, the dropped part all of v. */
            hls_i128 r = neg ? -1 : 0;
            int qb = neg, rest = v != 0 && v != -1;
            if (v != 0 && flags)
                *flags |= HLS_F_ROUNDED;
            return hls_overflow_hd(r + hls_round_up_hd(t->q, neg, qb, rest, (int)(r & 1)), 0, 0, 0,
                                   t, flags);
        }
        hls_i128 r = v >> d; /* arithmetic: floor */
        hls_u128 dropped = (hls_u128)v & ((((hls_u128)1) << d) - 1);
        if (dropped) {
            int qb = (int)((dropped >> (d - 1)) & 1);
            int rest = (dropped & ((((hls_u128)1) << (d - 1)) - 1)) != 0;
            if (flags)
                *flags |= HLS_F_ROUNDED;
            r += hls_round_up_hd(t->q, neg, qb, rest, (int)(r & 1));
        }
        return hls_overflow_hd(r, 0, 0, 0, t, flags);
    }
    if (d < 0) {
        int s = -d;
        hls_u128 low = s >= 128 ? 0 : (hls_u128)v << s;
        int big = 0;
        if (v != 0) {
            if (s >= 128)
                big = 1;
            else { /* v << s fits 128 bits when -2^(127-s) <= v < 2^(127-s) */
                hls_i128 lim = (hls_i128)1 << (127 - s);
                big = v >= lim || v < -lim;
            }
        }
        return hls_overflow_hd(big ? 0 : (hls_i128)low, big, neg, low, t, flags);
    }
    return hls_overflow_hd(v, 0, 0, 0, t, flags);
}

/* A double assigned to t (as ap_fixed's constructor from double: exact, then quantized). */
HLS_HD hls_i128 hls_from_double_hd(double x, const hls_type *t, int *flags)
{
    if (x != x || x == 0.0)
        return 0;
    if (isinf(x))
        return hls_overflow_hd(0, 1, x < 0, 0, t, flags);
    int e;
    double f = frexp(x, &e);           /* x = f * 2^e, 0.5 <= |f| < 1 */
    int64_t m = (int64_t)ldexp(f, 53); /* exact: 53 significant bits */
    /* x = m * 2^(e-53): fsrc = 53 - e; exponents far beyond 128-bit range saturate early. */
    int fsrc = 53 - e;
    if (fsrc < -200)
        return hls_overflow_hd(0, 1, x < 0, 0, t, flags);
    if (fsrc > 400)
        fsrc = 400;
    return hls_quant_hd((hls_i128)m, fsrc, t, flags);
}

/* raw * 2^-frac(t) as a double (hls_to_double). */
HLS_HD double hls_to_double_hd(hls_i128 raw, const hls_type *t)
{
    double v = (double)raw;
    int f = t->w - t->i;
    while (f > 60) {
        v *= 0x1p-60;
        f -= 60;
    }
    while (f < -60) {
        v *= 0x1p60;
        f += 60;
    }
    return f >= 0 ? v / (double)((uint64_t)1 << f) : v * (double)((uint64_t)1 << -f);
}

#endif
