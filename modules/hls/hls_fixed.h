/* hls_fixed.h: ap_fixed<W,I,Q,O> / ap_ufixed emulated on raw integers: a value is raw * 2^-(W-I).
 * Quantization (7 modes) and overflow (4 modes) happen only on assignment, as in Xilinx ap_types.
 */
#ifndef NGT_HLS_FIXED_H
#define NGT_HLS_FIXED_H

#include "ngt.h"

#include <stdint.h>

/* Raw integers of accumulators and exact intermediates (GCC/Clang 128-bit integer). */
__extension__ typedef __int128 hls_i128;
__extension__ typedef unsigned __int128 hls_u128;

typedef enum hls_qmode {
    HLS_TRN = 0, /* floor (the default) */
    HLS_TRN_ZERO,
    HLS_RND, /* nearest, ties toward +inf */
    HLS_RND_ZERO,
    HLS_RND_MIN_INF,
    HLS_RND_INF,
    HLS_RND_CONV /* nearest, ties to even */
} hls_qmode;

typedef enum hls_omode {
    HLS_WRAP = 0, /* keep the low W bits (the default) */
    HLS_SAT,
    HLS_SAT_ZERO,
    HLS_SAT_SYM /* signed: [-max, max]; the most negative code never occurs */
} hls_omode;

enum { HLS_DATA_WMAX = 32, HLS_ACC_WMAX = 128 };

typedef struct hls_type {
    int w, i; /* total and integer bits (i may be < 0 or > w) */
    int sign; /* 1: ap_fixed, 0: ap_ufixed */
    int q, o; /* hls_qmode, hls_omode */
} hls_type;

static inline int hls_frac(const hls_type *t)
{
    return t->w - t->i;
}

/* Flags hls_quant reports (or-ed into *flags when flags is not NULL). */
enum { HLS_F_OVERFLOW = 1, HLS_F_ROUNDED = 2 };

/* v * 2^-fsrc assigned to type t (w <= 128): rounding by t->q, then overflow by t->o. Returns
 * t's raw integer. */
hls_i128 hls_quant(hls_i128 v, int fsrc, const hls_type *t, int *flags);
/* A double assigned to t (as ap_fixed's constructor from double: exact, then quantized). */
hls_i128 hls_from_double(double x, const hls_type *t, int *flags);
static inline double hls_to_double(hls_i128 raw, const hls_type *t);
/* v * 2^s (0 <= s < 128 or 64) as a shift defined for negative v (two's complement). */
static inline hls_i128 hls_shl(hls_i128 v, int s)
{
    return (hls_i128)((hls_u128)v << s);
}
static inline int64_t hls_shl64(int64_t v, int s)
{
    return (int64_t)((uint64_t)v << s);
}
/* Largest and smallest raw values of t. */
hls_i128 hls_raw_max(const hls_type *t);
hls_i128 hls_raw_min(const hls_type *t);

/* Parses "ap_fixed<16,6,AP_RND,AP_SAT>", "fixed<16,6,RND_CONV,SAT_SYM>", "ap_ufixed<8,0>",
 * "ufixed<..>", "ap_int<8>", "int<8>", "ap_uint<4>", "uint<4>" (hls4ml's spellings). Returns NGT_OK
 * or NGT_EINVAL with err naming the problem; wmax bounds w. */
int hls_type_parse(const char *s, hls_type *t, int wmax, ngt_error *err);
/* Writes t as "ap_fixed<W,I,AP_Q,AP_O>" (modes only when not the defaults) into buf. */
const char *hls_type_str(const hls_type *t, char *buf, int size);
int hls_type_eq(const hls_type *a, const hls_type *b);

#include "hls/hls_quant.h"

static inline double hls_to_double(hls_i128 raw, const hls_type *t)
{
    return hls_to_double_hd(raw, t);
}

#endif
