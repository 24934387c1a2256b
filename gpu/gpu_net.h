/* gpu_net.h: a model as the gpu kernels see it: a flat list of layers (plain data, no pointers)
 * over one parameter array, in float (from the ONNX graph) or in fixed point (from the hls
 * backend's model, raw integers and the same ap_fixed types). C and CUDA both include it. */
#ifndef NGT_GPU_NET_H
#define NGT_GPU_NET_H

#include "hls/hls_fixed.h"

#include <stddef.h>
#include <stdint.h>

enum { GPU_MAX_LAYERS = 32 };

/* Float layers. Activations are per event in the ONNX layout (channels first), so Flatten and
 * Reshape cost nothing. */
typedef enum gpu_fkind { GPU_F_DENSE = 0, GPU_F_CONV1D } gpu_fkind;
typedef enum gpu_act { GPU_ACT_NONE = 0, GPU_ACT_RELU, GPU_ACT_SIGMOID, GPU_ACT_TANH } gpu_act;

typedef struct gpu_flayer {
    int kind, act;
    int n_in, n_out;       /* values per event */
    int ic, iw, oc, ow, k; /* conv1d: [ic][iw] -> [oc][ow], kernel k, stride 1 */
    int pad_l;             /* conv1d: zeros before the input */
    int64_t w_off, b_off;  /* into the parameters: dense W as [n_in][n_out]; conv W [oc][ic][k] */
} gpu_flayer;

typedef struct gpu_fnet {
    int n_layers;
    gpu_flayer l[GPU_MAX_LAYERS];
    int64_t n_params;
    int n_in, n_out, max_act; /* values per event: input, output, widest layer */
} gpu_fnet;

/* Fixed-point layers, hls4ml's io_parallel: activations channels last, raw integers (int64). */
typedef enum gpu_xkind {
    GPU_X_INPUT = 0, /* float (ONNX layout) -> res, channels last */
    GPU_X_DENSE,
    GPU_X_CONV1D,
    GPU_X_RELU,
    GPU_X_TABLE /* sigmoid (span 16) or tanh (span 8) by lookup table */
} gpu_xkind;

typedef struct gpu_xlayer {
    int kind;
    int size;         /* output values per event */
    int c, w;         /* output channels and width (w = 1 for flat layers) */
    int n_ops, n_out; /* dense/conv: products per output value, output channels */
    int ic, iw, k;    /* conv1d input channels and width, kernel width (stride 1) */
    int pad_l;        /* conv1d: zeros before the input */
    int fast;         /* 1: the sum is exact in int64 (order free), else hls4ml's per-add casts */
    int table_size, span;
    hls_type xt; /* the input's type (the previous layer's result) */
    hls_type res, acc, wt, bt, tab;
    int64_t w_off, b_off, t_off; /* raw parameters: W [n_out][n_ops] (ops tap-major), bias, table */
} gpu_xlayer;

typedef struct gpu_xnet {
    int n_layers;
    gpu_xlayer l[GPU_MAX_LAYERS];
    int64_t n_params;
    int n_in, n_out, max_act;
    int in_c, in_hw, out_c, out_hw; /* ONNX layouts of the input and output (channels, width) */
} gpu_xnet;

/* How a kernel covers a batch: events_per_block events per block of threads threads, with
 * smem_bytes of shared memory ([params?][act A][act B]); params_shared 0 when the parameters are
 * read from global memory (too large to keep in shared memory). */
typedef struct gpu_shape {
    int events_per_block, threads, params_shared;
    size_t smem_bytes;
} gpu_shape;

#endif
