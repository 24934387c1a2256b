/* ref.h: the reference interpreter's model and the kernel interface its operator files share.
 * Kernels compute in float32 over full tensors whose events dimension is the current tile. */
#ifndef NGT_REF_H
#define NGT_REF_H

#include "internal.h"
#include "onnx/onnx_ir.h"

/* Events computed together. The workspace holds every per-event tensor for REF_TILE events,
 * whatever max_batch is, and infer() walks any n in tiles of REF_TILE, so the workspace never
 * limits n. Every kernel computes each event alone, in a fixed order: results are the same bits
 * whatever n and an event's place in the batch. */
enum { REF_TILE = 64 };

typedef struct ref_model {
    onnx_graph *g;
    float **cdata;  /* per tensor: constant (or folded) values as float, owned; else NULL */
    size_t *offset; /* per tensor: byte offset of its tile buffer in the workspace, or 0 */
    int *run;       /* nodes to run per tile (those with per-event inputs), in order */
    int n_run;
    size_t ws_bytes;
    ngt_model_desc desc;
} ref_model;

/* What a kernel sees: the model and one pointer per tensor for the current tile of n events. */
typedef struct ref_ctx {
    const ref_model *m;
    float *const *ptr;
    int n;
} ref_ctx;

/* Tensor t's full shape with the events dimension set to c->n; returns the rank. */
int ref_dims(const ref_ctx *c, int t, int64_t *shape);
/* Total element count of tensor t in this tile. */
int64_t ref_count(const ref_ctx *c, int t);
static inline float *ref_ptr(const ref_ctx *c, int t)
{
    return c->ptr[t];
}

typedef int (*ref_kernel)(const ref_ctx *c, const onnx_node *nd, ngt_error *err);
int ref_unary(const ref_ctx *c, const onnx_node *nd, ngt_error *err);  /* elementwise + Cast */
int ref_binary(const ref_ctx *c, const onnx_node *nd, ngt_error *err); /* Add Sub Mul Div */
int ref_softmax(const ref_ctx *c, const onnx_node *nd, ngt_error *err);
int ref_batchnorm(const ref_ctx *c, const onnx_node *nd, ngt_error *err);
int ref_gemm(const ref_ctx *c, const onnx_node *nd, ngt_error *err);
int ref_matmul(const ref_ctx *c, const onnx_node *nd, ngt_error *err);
int ref_conv(const ref_ctx *c, const onnx_node *nd, ngt_error *err);
int ref_pool(const ref_ctx *c, const onnx_node *nd, ngt_error *err); /* MaxPool AveragePool */
int ref_copy(const ref_ctx *c, const onnx_node *nd, ngt_error *err); /* Reshape Identity */
int ref_transpose(const ref_ctx *c, const onnx_node *nd, ngt_error *err);
int ref_concat(const ref_ctx *c, const onnx_node *nd, ngt_error *err);
int ref_slice(const ref_ctx *c, const onnx_node *nd, ngt_error *err);
int ref_gather(const ref_ctx *c, const onnx_node *nd, ngt_error *err);

/* The kernel of op, or NULL when ref has none (ref_fold.c). */
ref_kernel ref_kernel_for(onnx_op op);
/* Constants of g to float into cdata (one slot per tensor, zeroed), then every node over
 * constants computed once into cdata; the nodes left to run per event go to run[(*n_run)++] unless
 * run is NULL. A node without a kernel is refused as "not supported by <who>". */
int ref_fold(onnx_graph *g, float **cdata, int *run, int *n_run, const char *who, ngt_error *err);

/* Strides of shape (rank r) aligned right against an output of rank orank; broadcast axes get
 * stride 0. */
void ref_bstrides(const int64_t *shape, int r, const int64_t *oshape, int orank, int64_t *st);

/* The "ref" backend (listed in the generated module table). */
const ngt_backend *ref_backend(void);

#endif
