/* ngt_hls.h: the hls module's public tool API (`ngt hls profile`, `ngt hls tune`), installed beside
 * ngt.h and fed to LuaJIT's ffi.cdef by lua/ngt/cmd_hls.lua: no macros in declarations. */
#ifndef NGT_HLS_API_H
#define NGT_HLS_API_H

#include "ngt.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared below is libngt's public API (the rest of the library is hidden). */
#pragma GCC visibility push(default)

/* ---- hls tools (modules/hls) ----------------------------------------------------------------
 * For `ngt hls profile` and `ngt hls tune`: the hls backend's model (ONNX file + precision
 * configuration, as the backend's options) over n events. With stats, every event goes through
 * the exact step-by-step path and each layer's assignments to its result type are counted;
 * without, the backend's own (fast) path runs. n = 0 only loads and fills the sizes. */
enum { NGT_HLS_MAX_LAYERS = 64 };
typedef struct ngt_hls_layer_stats {
    char name[NGT_NAME_MAX];
    char kind[16];   /* "Input", "Dense", "Conv", "ReLU", "Sigmoid", "Tanh", "Softmax", ... */
    char types[256]; /* the resolved types as text ("result ap_fixed<...>, accum ...") */
    int width, integer, is_signed;     /* the result type */
    double type_min, type_max;         /* its representable range */
    double seen_min, seen_max;         /* range of the values stored (0, 0 when none) */
    int64_t values;                    /* values assigned (events x layer size) */
    int64_t overflows;                 /* assignments that wrapped or saturated */
    int64_t rounded;                   /* assignments that dropped nonzero low bits */
    int64_t acc_overflows;             /* Dense/Conv: sums whose accumulator overflowed */
    double weight_min, weight_max;     /* Dense/Conv/BatchNorm: quantized weights (scale) */
    double bias_min, bias_max;         /* ... and biases */
    int64_t n_weights, n_biases, size; /* weight and bias counts; output values per event */
    int in_width, weight_width, bias_width, acc_width, acc_integer; /* Dense/Conv/BatchNorm */
    int64_t multipliers; /* products per output position (n_in x n_out) */
} ngt_hls_layer_stats;
typedef struct ngt_hls_stats {
    int n_layers;
    int64_t in_size, out_size; /* float values per event, ONNX layout */
    ngt_hls_layer_stats layer[NGT_HLS_MAX_LAYERS];
} ngt_hls_stats;
/* in: n x in_size floats; out (n x out_size floats) may be NULL; st may be NULL (fast path). */
int ngt_hls_profile(const char *model, const char *precision, const float *in, int n, float *out,
                    ngt_hls_stats *st, ngt_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
