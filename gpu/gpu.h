/* gpu.h: the gpu backend's model and the interface between its C side (gpu_backend.c: loading,
 * the backend entries, slots) and its CUDA side (gpu_kern.cu: kernels, their CPU-grid emulation,
 * streams, copies). Internal to gpu/. */
#ifndef NGT_GPU_H
#define NGT_GPU_H

#include "gpu_net.h"
#include "ngt.h"

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { GPU_MAX_LANES = 64 };
enum { GPU_SMEM_BUDGET = 96 * 1024, GPU_THREADS = 256 };

typedef struct gpu_model gpu_model;

/* One inference in flight: its device buffers and pinned host staging, reused (never freed)
 * until the model goes. */
typedef struct gpu_slot {
    gpu_model *m;
    int cap;                        /* events the buffers hold */
    void *d_in, *d_out, *d_a, *d_b; /* device: input, output, layer-by-layer intermediates */
    void *h_out;                    /* host staging of the outputs (pinned on a device) */
    void *emu;                      /* emulation: one block's shared memory + intermediates */
    void *ev;                       /* cudaEvent_t recorded after the last copy */
    const void *in;                 /* the op's input (emulation) */
    int n, lane;
    ngt_infer_done_fn done;
    void *user;
    int status;    /* NGT_OK or the failure seen by the device side */
    int busy;      /* the device (or the emulation thread) still works on it */
    int abandoned; /* its end came first (a timeout): free it when the device is done */
    char msg[160];
    struct gpu_slot *next; /* free list / emulation queue */
} gpu_slot;

struct gpu_model {
    int fixed;      /* 1: xnet (fixed point, bit-exact with hls), 0: fnet (float) */
    int emulate;    /* 1: the kernels' bodies run on the CPU over their grids (tests) */
    int layerwise;  /* float: layer by layer, dense layers by cuBLAS (too large to fuse) */
    int gemm_tile;  /* layerwise: events per cuBLAS call (the last one padded); 0: the whole n */
    double delay_s; /* emulation: each op completes this much later (tests of timeouts) */
    gpu_fnet fnet;
    gpu_xnet xnet;
    void *params; /* host: float or int64 */
    size_t param_bytes;
    gpu_shape shape;
    size_t in_bytes, out_bytes; /* per event */
    int max_act;
    ngt_model_desc desc;
    /* device state (gpu_kern.cu) */
    void *d_params, *d_net;
    void *streams[GPU_MAX_LANES + 1]; /* one per worker, the last for host threads */
    void *blas[GPU_MAX_LANES + 1];
    pthread_mutex_t mu; /* slots, lanes */
    gpu_slot *free_slots;
    gpu_slot **all_slots;
    int n_slots, cap_slots;
    /* emulation thread */
    pthread_t emu_thread;
    int emu_running, emu_stop;
    pthread_cond_t emu_cv;
    gpu_slot *emu_head, *emu_tail;
};

/* gpu_kern.cu */
int gpu_device_check(ngt_error *err); /* NGT_OK when a CUDA device is usable */
const char *gpu_device_name(void);
int gpu_dev_load(gpu_model *m, ngt_error *err); /* params and net to the device */
void gpu_dev_unload(gpu_model *m);
int gpu_slot_dev_alloc(gpu_model *m, gpu_slot *s, int cap, ngt_error *err);
void gpu_slot_dev_free(gpu_slot *s);
/* Enqueues copies in, kernels, copy out on the lane's stream and a host callback that calls
 * gpu_slot_device_done(s). */
int gpu_dev_start(gpu_model *m, gpu_slot *s, const void *in, int n, ngt_error *err);
/* Waits for everything queued on the slot's lane (after a failed gpu_dev_start). */
void gpu_dev_drain(gpu_model *m, gpu_slot *s);
/* After the callback: NGT_OK, or the device error that the stream met. */
int gpu_dev_status(gpu_slot *s, ngt_error *err);
/* The kernels' bodies on the CPU over their grids: in -> out for n events (emu: slot scratch). */
void gpu_emu_run(const gpu_model *m, void *emu, const void *in, void *out, int n);
size_t gpu_emu_bytes(const gpu_model *m, int cap);
int gpu_host_register(void *p, size_t bytes, int attach);
/* Host timing split for the bench: copies in, kernels, copy out, each timed by events. */
int gpu_dev_timed(gpu_model *m, gpu_slot *s, const void *in, void *out, int n, double ms[3],
                  ngt_error *err);

/* gpu_backend.c: for bench/gpu, one inference timed on the device (ms: copy in, kernels, copy
 * out); the model's path ("fused", "cublas", "fixed"). */
int gpu_bench_once(void *model, const float *in, float *out, int n, double ms[3], ngt_error *err);
const char *gpu_model_path(const void *model);
/* gpu_backend.c: called when the device (or the emulation) finished slot s. */
void gpu_slot_device_done(gpu_slot *s);
/* Shape of the fused kernel for a net: events per block, threads, shared memory. */
gpu_shape gpu_pick_shape(int64_t param_bytes, int act_bytes_per_event);

#ifdef __cplusplus
}
#endif
#endif
