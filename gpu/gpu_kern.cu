/* gpu_kern.cu: the fused kernels (every layer in one kernel, parameters in shared memory), their
 * emulation on the CPU over the same grid, and the device side of the backend: streams per worker,
 * asynchronous copies, cuBLAS for layers too large to fuse.
 *
 * A kernel is written as phases split where it synchronises (load, one per layer, store); each
 * phase is a function of (block, thread) that the kernel calls between __syncthreads() and the
 * emulation calls for every thread of a block in turn, block after block. Both run the same
 * __host__ __device__ arithmetic of gpu_hd.h, so the emulation gives the kernel's bits. */
#include "gpu.h"
#include "gpu_hd.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "internal.h"
}

/* ---- phases (host and device) ---------------------------------------------------------------- */

struct gpu_frame { /* where a block's shared memory puts things */
    int eb, act;   /* events per block, values per event in one activation buffer */
    size_t p_words;
};

template <typename T> GPU_HD gpu_frame frame_of(const gpu_shape &sh, int64_t n_params, int max_act)
{
    gpu_frame f;
    f.eb = sh.events_per_block;
    f.act = max_act;
    f.p_words = sh.params_shared ? (size_t)((n_params + 7) / 8 * 8) : 0;
    (void)sizeof(T);
    return f;
}

/* Float: parameters (when shared) and the block's inputs into shared memory. */
GPU_HD void f_load(const gpu_fnet *net, const float *gP, const float *gin, int n, int l0,
                   const gpu_shape &sh, int blk, int tid, int nt, float *sm)
{
    gpu_frame f = frame_of<float>(sh, net->n_params, net->max_act);
    if (sh.params_shared)
        for (int64_t i = tid; i < net->n_params; i += nt)
            sm[i] = gP[i];
    float *A = sm + f.p_words;
    int w = net->l[l0].n_in;
    for (int idx = tid; idx < f.eb * w; idx += nt) {
        int e = idx / w, i = idx % w, ev = blk * f.eb + e;
        A[(size_t)e * f.act + i] = ev < n ? gin[(size_t)ev * w + i] : 0.0f;
    }
}

GPU_HD void f_layer(const gpu_fnet *net, const float *P, int k, int n, const gpu_shape &sh, int blk,
                    int tid, int nt, const float *X, float *Y)
{
    gpu_frame f = frame_of<float>(sh, net->n_params, net->max_act);
    const gpu_flayer *L = &net->l[k];
    for (int idx = tid; idx < f.eb * L->n_out; idx += nt) {
        int e = idx / L->n_out, j = idx % L->n_out;
        if (blk * f.eb + e < n)
            Y[(size_t)e * f.act + j] = gpu_f_value(L, P, X + (size_t)e * f.act, j);
    }
}

GPU_HD void f_store(const gpu_fnet *net, int l1, int n, const gpu_shape &sh, int blk, int tid,
                    int nt, const float *Y, float *gout)
{
    gpu_frame f = frame_of<float>(sh, net->n_params, net->max_act);
    int w = net->l[l1 - 1].n_out;
    for (int idx = tid; idx < f.eb * w; idx += nt) {
        int e = idx / w, j = idx % w, ev = blk * f.eb + e;
        if (ev < n)
            gout[(size_t)ev * w + j] = Y[(size_t)e * f.act + j];
    }
}

/* Fixed point: the input layer quantizes straight into shared memory. */
GPU_HD void x_load(const gpu_xnet *net, const int64_t *gP, const float *gin, int n,
                   const gpu_shape &sh, int blk, int tid, int nt, int64_t *sm)
{
    gpu_frame f = frame_of<int64_t>(sh, net->n_params, net->max_act);
    if (sh.params_shared)
        for (int64_t i = tid; i < net->n_params; i += nt)
            sm[i] = gP[i];
    int64_t *A = sm + f.p_words;
    int w = net->l[0].size;
    for (int idx = tid; idx < f.eb * w; idx += nt) {
        int e = idx / w, j = idx % w, ev = blk * f.eb + e;
        A[(size_t)e * f.act + j] = ev < n ? gpu_x_input(net, gin + (size_t)ev * net->n_in, j) : 0;
    }
}

GPU_HD void x_layer(const gpu_xnet *net, const int64_t *P, int k, int n, const gpu_shape &sh,
                    int blk, int tid, int nt, const int64_t *X, int64_t *Y)
{
    gpu_frame f = frame_of<int64_t>(sh, net->n_params, net->max_act);
    const gpu_xlayer *L = &net->l[k];
    for (int idx = tid; idx < f.eb * L->size; idx += nt) {
        int e = idx / L->size, j = idx % L->size;
        if (blk * f.eb + e < n)
            Y[(size_t)e * f.act + j] = gpu_x_value(L, P, X + (size_t)e * f.act, j);
    }
}

GPU_HD void x_store(const gpu_xnet *net, int n, const gpu_shape &sh, int blk, int tid, int nt,
                    const int64_t *Y, float *gout)
{
    gpu_frame f = frame_of<int64_t>(sh, net->n_params, net->max_act);
    int w = net->n_out;
    for (int idx = tid; idx < f.eb * w; idx += nt) {
        int e = idx / w, o = idx % w, ev = blk * f.eb + e;
        if (ev < n)
            gout[(size_t)ev * w + o] = gpu_x_output(net, Y + (size_t)e * f.act, o);
    }
}

/* Bias and activation after a cuBLAS product: one thread per value. */
GPU_HD void f_bias_act(const gpu_flayer *L, const float *P, float *Y, int n, int idx)
{
    if (idx < n * L->n_out)
        Y[idx] = gpu_f_bias_act(L, P, Y[idx], idx % L->n_out);
}

/* ---- kernels ------------------------------------------------------------------------------- */

__global__ void gpu_k_fnet(const gpu_fnet *net, const float *gP, const float *gin, float *gout,
                           int n, int l0, int l1, gpu_shape sh)
{
    extern __shared__ __align__(16) unsigned char smraw[];
    float *sm = (float *)smraw;
    int blk = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    f_load(net, gP, gin, n, l0, sh, blk, tid, nt, sm);
    __syncthreads();
    gpu_frame f = frame_of<float>(sh, net->n_params, net->max_act);
    const float *P = sh.params_shared ? sm : gP;
    float *A = sm + f.p_words, *B = A + (size_t)f.eb * f.act;
    for (int k = l0; k < l1; k++) {
        f_layer(net, P, k, n, sh, blk, tid, nt, A, B);
        __syncthreads();
        float *t = A;
        A = B;
        B = t;
    }
    f_store(net, l1, n, sh, blk, tid, nt, A, gout);
}

__global__ void gpu_k_xnet(const gpu_xnet *net, const int64_t *gP, const float *gin, float *gout,
                           int n, gpu_shape sh)
{
    extern __shared__ __align__(16) unsigned char smraw[];
    int64_t *sm = (int64_t *)smraw;
    int blk = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    x_load(net, gP, gin, n, sh, blk, tid, nt, sm);
    __syncthreads();
    gpu_frame f = frame_of<int64_t>(sh, net->n_params, net->max_act);
    const int64_t *P = sh.params_shared ? sm : gP;
    int64_t *A = sm + f.p_words, *B = A + (size_t)f.eb * f.act;
    for (int k = 1; k < net->n_layers; k++) {
        x_layer(net, P, k, n, sh, blk, tid, nt, A, B);
        __syncthreads();
        int64_t *t = A;
        A = B;
        B = t;
    }
    x_store(net, n, sh, blk, tid, nt, A, gout);
}

__global__ void gpu_k_bias_act(const gpu_fnet *net, int k, const float *P, float *Y, int n)
{
    f_bias_act(&net->l[k], P, Y, n, blockIdx.x * blockDim.x + threadIdx.x);
}

/* ---- the same grids on the CPU ------------------------------------------------------------- */

static int blocks_for(int n, int eb)
{
    return (n + eb - 1) / eb;
}

/* Single-layer shape for the layer-by-layer path (parameters from global memory). */
static gpu_shape layer_shape(const gpu_model *m)
{
    gpu_shape sh = m->shape;
    sh.params_shared = 0;
    return sh;
}

static void emu_fnet(const gpu_fnet *net, const float *P, const float *in, float *out, int n,
                     int l0, int l1, const gpu_shape &sh, float *sm)
{
    gpu_frame f = frame_of<float>(sh, net->n_params, net->max_act);
    for (int blk = 0; blk < blocks_for(n, f.eb); blk++) {
        for (int t = 0; t < sh.threads; t++)
            f_load(net, P, in, n, l0, sh, blk, t, sh.threads, sm);
        const float *Pb = sh.params_shared ? sm : P;
        float *A = sm + f.p_words, *B = A + (size_t)f.eb * f.act;
        for (int k = l0; k < l1; k++) {
            for (int t = 0; t < sh.threads; t++)
                f_layer(net, Pb, k, n, sh, blk, t, sh.threads, A, B);
            float *x = A;
            A = B;
            B = x;
        }
        for (int t = 0; t < sh.threads; t++)
            f_store(net, l1, n, sh, blk, t, sh.threads, A, out);
    }
}

/* The cuBLAS product Y = X W of the layer-by-layer path, emulated in the fused kernel's order
 * (the device's cuBLAS may sum differently: within the documented tolerance). */
static void emu_gemm(const gpu_flayer *L, const float *P, const float *X, float *Y, int n)
{
    const float *W = P + L->w_off;
    for (int e = 0; e < n; e++)
        for (int j = 0; j < L->n_out; j++) {
            float acc = 0.0f;
            for (int i = 0; i < L->n_in; i++)
                acc = fmaf(X[(size_t)e * L->n_in + i], W[(size_t)i * L->n_out + j], acc);
            Y[(size_t)e * L->n_out + j] = acc;
        }
}

size_t gpu_emu_bytes(const gpu_model *m, int cap)
{
    size_t block = m->shape.smem_bytes + 64;
    if (m->layerwise)
        block = ((size_t)m->shape.events_per_block * 2 * (size_t)m->max_act) * sizeof(float) + 64 +
                2 * (size_t)cap * (size_t)m->max_act * sizeof(float);
    return block;
}

void gpu_emu_run(const gpu_model *m, void *emu, const void *in, void *out, int n)
{
    if (m->fixed) {
        const gpu_xnet *net = &m->xnet;
        const gpu_shape &sh = m->shape;
        gpu_frame f = frame_of<int64_t>(sh, net->n_params, net->max_act);
        int64_t *sm = (int64_t *)emu;
        const int64_t *gP = (const int64_t *)m->params;
        for (int blk = 0; blk < blocks_for(n, f.eb); blk++) {
            for (int t = 0; t < sh.threads; t++)
                x_load(net, gP, (const float *)in, n, sh, blk, t, sh.threads, sm);
            const int64_t *P = sh.params_shared ? sm : gP;
            int64_t *A = sm + f.p_words, *B = A + (size_t)f.eb * f.act;
            for (int k = 1; k < net->n_layers; k++) {
                for (int t = 0; t < sh.threads; t++)
                    x_layer(net, P, k, n, sh, blk, t, sh.threads, A, B);
                int64_t *x = A;
                A = B;
                B = x;
            }
            for (int t = 0; t < sh.threads; t++)
                x_store(net, n, sh, blk, t, sh.threads, A, (float *)out);
        }
        return;
    }
    const gpu_fnet *net = &m->fnet;
    const float *P = (const float *)m->params;
    if (!m->layerwise) {
        emu_fnet(net, P, (const float *)in, (float *)out, n, 0, net->n_layers, m->shape,
                 (float *)emu);
        return;
    }
    gpu_shape sh = layer_shape(m);
    float *sm = (float *)emu;
    float *bufs[2];
    bufs[0] = sm + (size_t)sh.events_per_block * 2 * (size_t)m->max_act + 16;
    bufs[1] = bufs[0] + (size_t)n * (size_t)m->max_act;
    const float *x = (const float *)in;
    for (int k = 0; k < net->n_layers; k++) {
        const gpu_flayer *L = &net->l[k];
        float *y = k == net->n_layers - 1 ? (float *)out : bufs[k & 1];
        if (L->kind == GPU_F_DENSE) {
            emu_gemm(L, P, x, y, n);
            int nt = GPU_THREADS, total = n * L->n_out;
            for (int b = 0; b < (total + nt - 1) / nt; b++)
                for (int t = 0; t < nt; t++)
                    f_bias_act(L, P, y, n, b * nt + t);
        } else {
            emu_fnet(net, P, x, y, n, k, k + 1, sh, sm);
        }
        x = y;
    }
}

/* ---- device -------------------------------------------------------------------------------- */

static int cuda_err(ngt_error *err, cudaError_t e, const char *what)
{
    return seterr(err, NGT_EIO, "gpu: %s: %s (%s)", what, cudaGetErrorString(e),
                  cudaGetErrorName(e));
}

#define CU(call, what)                                                                             \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess)                                                                     \
            return cuda_err(err, e_, what);                                                        \
    } while (0)

int gpu_device_check(ngt_error *err)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess)
        return seterr(err, NGT_EUNSUPPORTED,
                      "gpu: no usable CUDA device (cudaGetDeviceCount: %s); the gpu backend "
                      "needs one (tests may use options 'emulate=1')",
                      cudaGetErrorString(e));
    if (n < 1)
        return seterr(err, NGT_EUNSUPPORTED, "gpu: no CUDA device on this machine");
    return NGT_OK;
}

const char *gpu_device_name(void)
{
    static char name[300];
    cudaDeviceProp p;
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&p, dev) != cudaSuccess)
        return "none";
    snprintf(name, sizeof name, "%s (sm_%d%d, %d SMs, %.0f GiB)", p.name, p.major, p.minor,
             p.multiProcessorCount, (double)p.totalGlobalMem / (1u << 30));
    return name;
}

int gpu_dev_load(gpu_model *m, ngt_error *err)
{
    size_t net_bytes = m->fixed ? sizeof m->xnet : sizeof m->fnet;
    CU(cudaMalloc(&m->d_params, m->param_bytes ? m->param_bytes : 8), "cudaMalloc(parameters)");
    CU(cudaMalloc(&m->d_net, net_bytes), "cudaMalloc(net)");
    CU(cudaMemcpy(m->d_params, m->params, m->param_bytes, cudaMemcpyHostToDevice),
       "copy of the parameters");
    CU(cudaMemcpy(m->d_net, m->fixed ? (const void *)&m->xnet : (const void *)&m->fnet, net_bytes,
                  cudaMemcpyHostToDevice),
       "copy of the layers");
    /* The attribute is the kernel's, shared by every model: allow the device's whole opt-in. */
    int dev = 0, optin = 0;
    CU(cudaGetDevice(&dev), "cudaGetDevice");
    CU(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev),
       "shared memory per block");
    if (m->shape.smem_bytes > (size_t)optin)
        return seterr(err, NGT_EUNSUPPORTED,
                      "gpu: the kernel wants %zu bytes of shared memory, the device has %d",
                      m->shape.smem_bytes, optin);
    CU(cudaFuncSetAttribute(gpu_k_xnet, cudaFuncAttributeMaxDynamicSharedMemorySize, optin),
       "shared memory of the fixed-point kernel");
    CU(cudaFuncSetAttribute(gpu_k_fnet, cudaFuncAttributeMaxDynamicSharedMemorySize, optin),
       "shared memory of the float kernel");
    return NGT_OK;
}

void gpu_dev_unload(gpu_model *m)
{
    if (m->emulate)
        return;
    for (int i = 0; i <= GPU_MAX_LANES; i++) {
        if (m->blas[i])
            cublasDestroy((cublasHandle_t)m->blas[i]);
        if (m->streams[i]) {
            cudaStreamSynchronize((cudaStream_t)m->streams[i]);
            cudaStreamDestroy((cudaStream_t)m->streams[i]);
        }
    }
    cudaFree(m->d_params);
    cudaFree(m->d_net);
}

int gpu_slot_dev_alloc(gpu_model *m, gpu_slot *s, int cap, ngt_error *err)
{
    size_t act = (size_t)cap * (size_t)m->max_act * sizeof(float);
    int tile = m->gemm_tile > 0 ? m->gemm_tile : cap, rows = (cap + tile - 1) / tile * tile;
    /* the layer-by-layer path reads whole tiles of the input */
    CU(cudaMalloc(&s->d_in, (size_t)(m->layerwise ? rows : cap) * m->in_bytes),
       "cudaMalloc(input)");
    CU(cudaMalloc(&s->d_out, (size_t)cap * m->out_bytes), "cudaMalloc(output)");
    if (m->layerwise) {
        size_t t = (size_t)rows * (size_t)m->max_act * sizeof(float);
        CU(cudaMalloc(&s->d_a, t > act ? t : act), "cudaMalloc(intermediates)");
        CU(cudaMalloc(&s->d_b, t > act ? t : act), "cudaMalloc(intermediates)");
    }
    CU(cudaMallocHost(&s->h_out, (size_t)cap * m->out_bytes), "cudaMallocHost(output staging)");
    cudaEvent_t ev;
    CU(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "cudaEventCreate");
    s->ev = ev;
    return NGT_OK;
}

void gpu_slot_dev_free(gpu_slot *s)
{
    cudaFree(s->d_in);
    cudaFree(s->d_out);
    cudaFree(s->d_a);
    cudaFree(s->d_b);
    cudaFreeHost(s->h_out);
    if (s->ev)
        cudaEventDestroy((cudaEvent_t)s->ev);
}

/* The lane's stream (and cuBLAS handle), made on first use: one per worker. */
static int lane_of(gpu_model *m, int lane, cudaStream_t *st, cublasHandle_t *h, ngt_error *err)
{
    int i = lane >= 0 && lane < GPU_MAX_LANES ? lane : GPU_MAX_LANES;
    pthread_mutex_lock(&m->mu);
    cudaError_t e = cudaSuccess;
    if (!m->streams[i]) {
        cudaStream_t s;
        e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
        if (e == cudaSuccess)
            m->streams[i] = s;
    }
    if (e == cudaSuccess && m->layerwise && !m->blas[i]) {
        cublasHandle_t b;
        if (cublasCreate(&b) == CUBLAS_STATUS_SUCCESS) {
            cublasSetStream(b, (cudaStream_t)m->streams[i]);
            cublasSetMathMode(b, CUBLAS_PEDANTIC_MATH); /* no TF32: float products as on the CPU */
            m->blas[i] = b;
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (e != cudaSuccess)
        return cuda_err(err, e, "cudaStreamCreate");
    if (m->layerwise && !m->blas[i])
        return seterr(err, NGT_EIO, "gpu: cublasCreate failed");
    *st = (cudaStream_t)m->streams[i];
    *h = (cublasHandle_t)m->blas[i];
    return NGT_OK;
}

static int enqueue_kernels(gpu_model *m, gpu_slot *s, int n, cudaStream_t st, cublasHandle_t h,
                           ngt_error *err)
{
    const gpu_shape &sh = m->shape;
    int blocks = blocks_for(n, sh.events_per_block);
    if (m->fixed) {
        gpu_k_xnet<<<blocks, sh.threads, sh.smem_bytes, st>>>(
            (const gpu_xnet *)m->d_net, (const int64_t *)m->d_params, (const float *)s->d_in,
            (float *)s->d_out, n, sh);
        CU(cudaGetLastError(), "launch of the fixed-point kernel");
        return NGT_OK;
    }
    if (!m->layerwise) {
        gpu_k_fnet<<<blocks, sh.threads, sh.smem_bytes, st>>>(
            (const gpu_fnet *)m->d_net, (const float *)m->d_params, (const float *)s->d_in,
            (float *)s->d_out, n, 0, m->fnet.n_layers, sh);
        CU(cudaGetLastError(), "launch of the fused kernel");
        return NGT_OK;
    }
    gpu_shape ls = layer_shape(m);
    ls.smem_bytes = (size_t)ls.events_per_block * 2 * (size_t)m->max_act * sizeof(float) + 64;
    int tile = m->gemm_tile > 0 ? m->gemm_tile : n;
    int rows = (n + tile - 1) / tile * tile; /* padded: every product has the same shape */
    const float *x = (const float *)s->d_in;
    const float *P = (const float *)m->d_params;
    for (int k = 0; k < m->fnet.n_layers; k++) {
        const gpu_flayer *L = &m->fnet.l[k];
        int last = k == m->fnet.n_layers - 1;
        float *scratch = (float *)(k & 1 ? s->d_b : s->d_a); /* never x */
        float *y = last ? (float *)s->d_out : scratch;
        if (L->kind == GPU_F_DENSE) {
            const float one = 1.0f, zero = 0.0f;
            for (int r = 0; r < rows; r += tile) {
                int mrows = last && r + tile > n ? n - r : tile; /* the output holds n rows */
                if (mrows <= 0)
                    break;
                if (cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, L->n_out, tile, L->n_in, &one,
                                P + L->w_off, L->n_out, x + (size_t)r * L->n_in, L->n_in, &zero,
                                last ? scratch + (size_t)r * L->n_out : y + (size_t)r * L->n_out,
                                L->n_out) != CUBLAS_STATUS_SUCCESS)
                    return seterr(err, NGT_EIO, "gpu: cublasSgemm failed (layer %d)", k);
            }
            if (last)
                CU(cudaMemcpyAsync(y, scratch, (size_t)n * L->n_out * sizeof(float),
                                   cudaMemcpyDeviceToDevice, st),
                   "copy of the last product");
            int total = n * L->n_out;
            gpu_k_bias_act<<<(total + GPU_THREADS - 1) / GPU_THREADS, GPU_THREADS, 0, st>>>(
                (const gpu_fnet *)m->d_net, k, P, y, n);
            CU(cudaGetLastError(), "launch of the bias kernel");
        } else {
            int b = blocks_for(n, ls.events_per_block);
            gpu_k_fnet<<<b, ls.threads, ls.smem_bytes, st>>>((const gpu_fnet *)m->d_net, P, x, y, n,
                                                             k, k + 1, ls);
            CU(cudaGetLastError(), "launch of a layer kernel");
        }
        x = y;
    }
    return NGT_OK;
}

static void CUDART_CB host_done(void *user)
{
    gpu_slot_device_done((gpu_slot *)user);
}

int gpu_dev_start(gpu_model *m, gpu_slot *s, const void *in, int n, ngt_error *err)
{
    cudaStream_t st;
    cublasHandle_t h;
    int rc = lane_of(m, s->lane, &st, &h, err);
    if (rc < 0)
        return rc;
    CU(cudaMemcpyAsync(s->d_in, in, (size_t)n * m->in_bytes, cudaMemcpyHostToDevice, st),
       "copy in");
    rc = enqueue_kernels(m, s, n, st, h, err);
    if (rc < 0)
        return rc;
    CU(cudaMemcpyAsync(s->h_out, s->d_out, (size_t)n * m->out_bytes, cudaMemcpyDeviceToHost, st),
       "copy out");
    CU(cudaEventRecord((cudaEvent_t)s->ev, st), "cudaEventRecord");
    CU(cudaLaunchHostFunc(st, host_done, s), "cudaLaunchHostFunc");
    return NGT_OK;
}

void gpu_dev_drain(gpu_model *m, gpu_slot *s)
{
    int i = s->lane >= 0 && s->lane < GPU_MAX_LANES ? s->lane : GPU_MAX_LANES;
    pthread_mutex_lock(&m->mu);
    cudaStream_t st = (cudaStream_t)m->streams[i];
    pthread_mutex_unlock(&m->mu);
    if (st)
        cudaStreamSynchronize(st);
}

int gpu_dev_status(gpu_slot *s, ngt_error *err)
{
    cudaError_t e = cudaEventQuery((cudaEvent_t)s->ev);
    if (e != cudaSuccess)
        return cuda_err(err, e, "inference on the device");
    return NGT_OK;
}

int gpu_dev_timed(gpu_model *m, gpu_slot *s, const void *in, void *out, int n, double ms[3],
                  ngt_error *err)
{
    cudaStream_t st;
    cublasHandle_t h;
    int rc = lane_of(m, -1, &st, &h, err);
    if (rc < 0)
        return rc;
    cudaEvent_t ev[4];
    for (int i = 0; i < 4; i++)
        CU(cudaEventCreate(&ev[i]), "cudaEventCreate");
    CU(cudaEventRecord(ev[0], st), "cudaEventRecord");
    CU(cudaMemcpyAsync(s->d_in, in, (size_t)n * m->in_bytes, cudaMemcpyHostToDevice, st),
       "copy in");
    CU(cudaEventRecord(ev[1], st), "cudaEventRecord");
    rc = enqueue_kernels(m, s, n, st, h, err);
    if (rc < 0)
        return rc;
    CU(cudaEventRecord(ev[2], st), "cudaEventRecord");
    CU(cudaMemcpyAsync(out, s->d_out, (size_t)n * m->out_bytes, cudaMemcpyDeviceToHost, st),
       "copy out");
    CU(cudaEventRecord(ev[3], st), "cudaEventRecord");
    CU(cudaEventSynchronize(ev[3]), "inference on the device");
    for (int i = 0; i < 3; i++) {
        float t = 0;
        cudaEventElapsedTime(&t, ev[i], ev[i + 1]);
        ms[i] = t;
    }
    for (int i = 0; i < 4; i++)
        cudaEventDestroy(ev[i]);
    return NGT_OK;
}

int gpu_host_register(void *p, size_t bytes, int attach)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n < 1)
        return NGT_OK; /* nothing to pin for (emulation) */
    cudaError_t e =
        attach ? cudaHostRegister(p, bytes, cudaHostRegisterDefault) : cudaHostUnregister(p);
    return e == cudaSuccess || e == cudaErrorHostMemoryAlreadyRegistered ? NGT_OK : NGT_EIO;
}
