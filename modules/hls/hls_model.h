/* hls_model.h: the hls backend's model: hls4ml layers in order over channels-last tensors of raw
 * fixed-point integers (int64 per value), each with its resolved ap_fixed types. */
#ifndef NGT_HLS_MODEL_H
#define NGT_HLS_MODEL_H

#include "hls/hls_cfg.h"
#include "hls/hls_fixed.h"
#include "internal.h"
#include "onnx/onnx_ir.h"

#include <math.h>

typedef enum hls_kind {
    HLS_L_INPUT = 0,
    HLS_L_DENSE,
    HLS_L_CONV, /* 1D or 2D */
    HLS_L_RELU,
    HLS_L_SIGMOID,
    HLS_L_TANH,
    HLS_L_SOFTMAX,
    HLS_L_BATCHNORM,
    HLS_L_ADD,
    HLS_L_CONCAT
} hls_kind;

enum { HLS_SOFTMAX_LATENCY = 0, HLS_SOFTMAX_STABLE = 2 };
enum { HLS_TILE_EVENTS = 8 };
/* Kernels are cloned for AVX-512, AVX2 and plain x86-64 and chosen at load (an ifunc). Under
 * ThreadSanitizer the ifunc resolver runs before the sanitizer's runtime is up and crashes the
 * process, so that build keeps the default clone only. */
#if defined(__SANITIZE_THREAD__)
#define HLS_CLONES
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HLS_CLONES
#endif
#endif
#ifndef HLS_CLONES
#define HLS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

#define HLS_2P61                                                                                   \
    2305843009213693952.0 /* 2^61 */ /* events computed side by side on the tiled path */

/* A cast to t from raw values at a fixed fraction, by int64 shifts when fast (see hls_fast.c). */
typedef struct hls_cast {
    hls_type t;
    int d, fast; /* right shift (fsrc - frac(t)); 1: TRN/RND and no 128-bit intermediates */
    int64_t mx, mn;
} hls_cast;

typedef struct hls_layer {
    char name[NGT_NAME_MAX];
    hls_kind kind;
    int in[2], n_in_t; /* input tensor (layer) indices */
    int64_t size;      /* output elements per event */
    int c, h, w;       /* output channels and spatial size (h = 1 for 1D; 0,0 for flat) */
    hls_type res, acc, wt, bt, tab, exp_t, inv_t, inv_inp, norm;
    /* Dense/Conv: n_ops products per output value; weights [size_out_ch][n_ops] quantized raw */
    int n_ops, n_out;
    int64_t *wq, *bq; /* raw weights (w type) and biases (b type) */
    int16_t *w16;     /* fast path weights, [n_out][n_ops] */
    int fast;         /* 1: accumulation provably exact in int64 (see hls_run.c) */
    int fast32;       /* 1: ... and in int32 */
    int kh, kw, pt, pl, pb, pr, ic, ih, iw; /* conv geometry (input c, h, w; pads) */
    int *taps;               /* conv: per output pixel x n_ops: input offset or -1 (padding) */
    int table_size, impl;    /* table entries (softmax: exp table), softmax implementation */
    int inv_size;            /* softmax: 1/x table entries */
    int exp_bits, inv_bits;  /* softmax: index bits of the two tables */
    int64_t *table, *table2; /* sigmoid/tanh table; softmax exp and inverse tables */
    double *wd, *bd; /* exact fast path: weights [n_ops][np] and biases, scaled to fraction fs */
    int np, fs;
    double worst;  /* fast path: bound on |sum| (raw, at fraction fs) */
    hls_cast rq;   /* the result cast from the fast path's sum, the ReLU input or the table */
    int idx_shift; /* sigmoid/tanh: index = x >> idx_shift (toward zero) when idx_fast */
    int idx_fast;
    double *tcast; /* tiled path: sigmoid/tanh table already cast to the result type */
    int cast_id;   /* tiled path: the result cast is the identity on every possible sum */
} hls_layer;

typedef struct hls_model {
    onnx_graph *g;
    int n_layers;
    hls_layer *layers;
    int in_rank, out_rank;
    int64_t in_shape[3], out_shape[3]; /* ONNX per-event shapes (channels first) */
    int out_layer;
    size_t *offset; /* per layer: int64 offset of its output in an event's workspace */
    size_t ev_words, ws_scratch;
    int tiled, tile_n; /* 1: every layer runs on the tiled path (hls_tile.c), tile_n tiles a pass */
    int out_f64;       /* NgtOutput = "f64": outputs as float64, each value exact (<= 53 bits) */
    int tkern;         /* tiled: the kernel variant (hls_tile_kernel) */
    size_t *toff, tpad, tile_doubles; /* tiled: per layer offsets, conv padding, total */
    size_t *tmarg; /* tiled: zero margins around a layer's values (1D conv padding) */
    ngt_model_desc desc;
} hls_model;

int hls_build(hls_model *m, const hls_cfg *cfg, ngt_error *err);
void hls_model_free(hls_model *m);
/* One event: float input (ONNX layout) -> float output (ONNX layout; NULL: only the raw values
 * in ws, see hls_output_raw); ws holds ev_words int64.
 * stats (may be NULL): per layer [overflow count, rounded count, min raw, max raw]. */
int hls_event(const hls_model *m, int64_t *ws, const float *in, float *out, int64_t *stats);
/* Resolved types of a layer, as text for reports ("result ap_fixed<...>, accum ..."). */
size_t hls_ws_words(const hls_model *m);     /* workspace size in int64 words */
size_t hls_ws_x16_words(const hls_model *m); /* the int16 area's int64 words */
/* The output layer's raw values after hls_event (channels last). */
const int64_t *hls_output_raw(const void *model, const void *workspace);
/* Softmax: builds the exp and 1/x tables (types and sizes set); one event's values (e: n scratch).
 */
int hls_softmax_tables(hls_layer *l, ngt_error *err);
void hls_softmax_event(const hls_layer *l, const hls_type *xt, const int64_t *x, int64_t *e,
                       int64_t *y, int64_t *st);
/* The exact fast path (hls_fast.c). */
void hls_cast_prepare(hls_cast *c, int fsrc, int bits, const hls_type *t);
int hls_fast_prepare(hls_layer *l, const hls_type *x, double worst);
void hls_fast_dense(const hls_layer *l, const int64_t *x, int64_t *y, double *sd);
void hls_fast_conv(const hls_layer *l, const int64_t *x, int64_t *y, double *sd);
size_t hls_fast_scratch(const hls_layer *l);

/* Assigns raw v (at the cast's source fraction) to its type; c->fast must be set. */
static inline int64_t hls_castv(const hls_cast *c, int64_t v)
{
    int64_t r;
    if (c->d > 0) {
        if (c->t.q == HLS_RND)
            v += (int64_t)1 << (c->d - 1);
        r = v >> c->d;
    } else {
        r = v * ((int64_t)1 << -c->d);
    }
    int symmin = c->t.o == HLS_SAT_SYM && c->t.sign && r == c->mn;
    if (__builtin_expect(r <= c->mx && r >= c->mn && !symmin, 1))
        return r;
    switch (c->t.o) {
    case HLS_SAT:
        return r > c->mx ? c->mx : c->mn;
    case HLS_SAT_ZERO:
        return 0;
    case HLS_SAT_SYM:
        if (r > c->mx)
            return c->mx;
        return c->t.sign ? (c->t.w == 1 ? c->mn : -c->mx) : 0;
    default: {
        uint64_t m = ((uint64_t)1 << c->t.w) - 1, u = (uint64_t)r & m;
        if (c->t.sign && (u >> (c->t.w - 1)) & 1)
            u |= ~m;
        return (int64_t)u;
    }
    }
}

/* The tiled path (hls_tile.c): n events, any n, the same bits as hls_event; out is float, or
 * double when out_f64. */
int hls_tile_prepare(hls_model *m);
size_t hls_tile_bytes(const hls_model *m);
/* The tiled path's kernel variant for this model and CPU, as text (benches print it). */
const char *hls_tile_kernel(const hls_model *m);
int hls_tile_infer(const hls_model *m, void *ws, const float *in, void *out, int n);

/* float input -> the input type without 128-bit steps: x * 2^f is exact in double, floor or
 * nearest-ties-up in double, then the overflow by int64 compares (other modes: the exact path). */
static inline int64_t hls_quant_in(const hls_layer *l, float xf, double scale)
{
    double v = (double)xf * scale;
    if (l->rq.fast && (l->res.q == HLS_TRN || l->res.q == HLS_RND) && fabs(v) < HLS_2P61)
        return hls_castv(&l->rq, (int64_t)floor(l->res.q == HLS_RND ? v + 0.5 : v));
    return (int64_t)hls_from_double(xf, &l->res, NULL);
}

void hls_layer_types(const hls_layer *l, char *buf, int size);

/* The "hls" backend (listed in the generated module table). */
const ngt_backend *hls_backend(void);

#endif
