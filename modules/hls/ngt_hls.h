/* ngt_hls.h: the hls module's public API, installed beside ngt.h and fed to LuaJIT's ffi.cdef by
 * lua/ngt/cmd_hls.lua and hls_tune.lua (no macros in declarations, constants as enums): the
 * precision configuration reader the backend uses, and the tools `ngt hls profile` and `tune`. */
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

/* ---- Precision configuration ----------------------------------------------------------------
 * A node of a read configuration: a null, boolean, number, string, list or map. */
typedef struct hls_cfg ngt_hls_cfg;

enum {
    NGT_HLS_CFG_NULL = 0,
    NGT_HLS_CFG_BOOL = 1,
    NGT_HLS_CFG_NUM = 2,
    NGT_HLS_CFG_STR = 3,
    NGT_HLS_CFG_LIST = 4,
    NGT_HLS_CFG_MAP = 5
};

/* Reads a precision configuration as the hls backend does (docs/hls.md): JSON text, a .json or
 * .lua file (a table literal, never executed), NgtBase resolved, keys checked and LayerName and
 * LayerType keys in hls4ml's snake_case. NULL on error, with err naming the problem. */
ngt_hls_cfg *ngt_hls_cfg_load(const char *options, ngt_error *err);
void ngt_hls_cfg_free(ngt_hls_cfg *c);
int ngt_hls_cfg_kind(const ngt_hls_cfg *c);
double ngt_hls_cfg_num(const ngt_hls_cfg *c);         /* NUM, BOOL (0 or 1) */
const char *ngt_hls_cfg_string(const ngt_hls_cfg *c); /* STR, else NULL */
int ngt_hls_cfg_len(const ngt_hls_cfg *c);            /* LIST, MAP: children, else 0 */
/* Child i of a list or map, and its key (NULL in a list, and for a key overridden by a later
 * spelling of it, which readers skip). */
const ngt_hls_cfg *ngt_hls_cfg_item(const ngt_hls_cfg *c, int i);
const char *ngt_hls_cfg_key(const ngt_hls_cfg *c, int i);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
