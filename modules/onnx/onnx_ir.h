/* onnx_ir.h: the graph IR that the ONNX reader produces and every backend (ref, genc, hls) reads.
 * Tensors with shapes over a symbolic batch dimension, normalised nodes, constants owned by the IR.
 */
#ifndef NGT_ONNX_IR_H
#define NGT_ONNX_IR_H

#include "ngt.h"

#include <stddef.h>
#include <stdint.h>

/* Opsets of the default domain ("" or "ai.onnx") the reader accepts: 11 up to the newest opset of
 * the pinned onnx Python package (onnx 1.19.1: onnx.defs.onnx_opset_version() == 24). */
enum { ONNX_OPSET_MIN = 11, ONNX_OPSET_MAX = 24 };

enum {
    ONNX_MAX_RANK = 8, /* full rank of any tensor, batch dimension included */
    ONNX_BATCH = -1    /* shape[0] of a batched tensor: the number of events */
};

/* Tensors. Every graph input is batched: its first dimension is the events, whatever the file
 * declares (a symbol or a number); its other dimensions must be numbers. A node's outputs are
 * batched when one of its inputs is, and the batch always stays the first dimension (an operator
 * that would move it or mix events is refused). Other tensors are constants with data. */
typedef enum onnx_tensor_kind {
    ONNX_T_INPUT = 0, /* graph input (batched) */
    ONNX_T_CONST,     /* initializer or Constant output: data below */
    ONNX_T_VALUE      /* produced by a node */
} onnx_tensor_kind;

typedef struct onnx_tensor {
    char *name;
    ngt_dtype dtype;
    onnx_tensor_kind kind;
    int rank;                     /* full rank */
    int64_t shape[ONNX_MAX_RANK]; /* shape[0] == ONNX_BATCH for batched tensors */
    void *data;                   /* ONNX_T_CONST: dense C-order data of dtype (owned), else NULL */
    size_t bytes;
    int producer; /* index of the node writing it, or -1 */
} onnx_tensor;

/* Operators after normalisation. Constant nodes become ONNX_T_CONST tensors and disappear;
 * CastLike becomes CAST; Dropout (inference) becomes IDENTITY; Flatten, Reshape, Squeeze and
 * Unsqueeze become RESHAPE (the data does not move; the output tensor's shape says it all). */
typedef enum onnx_op {
    ONNX_OP_GEMM = 0, /* A, B, [C]; alpha, beta (float), transA, transB (int) */
    ONNX_OP_MATMUL,   /* A, B; numpy matmul semantics */
    ONNX_OP_ADD,      /* A, B; numpy broadcasting (also SUB, MUL, DIV; integer DIV truncates) */
    ONNX_OP_SUB,
    ONNX_OP_MUL,
    ONNX_OP_DIV,
    ONNX_OP_RELU,
    ONNX_OP_LEAKYRELU, /* alpha (float) */
    ONNX_OP_ELU,       /* alpha (float) */
    ONNX_OP_SIGMOID,
    ONNX_OP_TANH,
    ONNX_OP_SOFTMAX, /* axis (int, >= 0), span (int): normalised over the span axes from axis on
                        (1 since opset 13; rank - axis before: the old coerced-2D semantics) */
    ONNX_OP_CONV, /* X, W, [B]; kernel_shape, strides, dilations, pads (begins then ends, auto_pad
                     resolved), group (ints; one entry per spatial axis, 1 or 2 of them) */
    ONNX_OP_MAXPOOL, /* X; kernel_shape, strides, dilations, pads (ints); ceil_mode is resolved into
                        the output shape: windows are clipped to the padded input */
    ONNX_OP_AVGPOOL, /* same, plus count_include_pad (int) */
    ONNX_OP_BATCHNORM, /* X, scale, B, mean, var; epsilon (float); inference only */
    ONNX_OP_RESHAPE,   /* X; the output has X's data in the output tensor's shape */
    ONNX_OP_TRANSPOSE, /* X; perm (ints, full) */
    ONNX_OP_CONCAT,    /* X...; axis (int, >= 0) */
    ONNX_OP_SLICE,     /* X; starts, steps (ints, one per axis, resolved and clamped): output
                          element i along an axis reads input element starts + i * steps */
    ONNX_OP_GATHER,    /* data, indices; axis (int, >= 0); negative indices count from the end */
    ONNX_OP_CLIP,      /* X; min, max (float; -inf/+inf when absent) */
    ONNX_OP_CAST,      /* X; to (int: an ngt_dtype) */
    ONNX_OP_ROUND,     /* half to even */
    ONNX_OP_EXP,
    ONNX_OP_LOG,
    ONNX_OP_SQRT,
    ONNX_OP_IDENTITY,
    ONNX_OP_COUNT
} onnx_op;

typedef enum onnx_attr_type {
    ONNX_A_INT = 0,
    ONNX_A_FLOAT,
    ONNX_A_INTS,
    ONNX_A_FLOATS,
    ONNX_A_STRING,
    ONNX_A_TENSOR
} onnx_attr_type;

typedef struct onnx_attr {
    char *name;
    onnx_attr_type type;
    int64_t i;
    float f;
    int n;          /* INTS, FLOATS: count */
    int64_t *ints;  /* owned */
    float *floats;  /* owned */
    char *s;        /* STRING, owned */
    onnx_tensor *t; /* TENSOR, owned (its name and data too) */
} onnx_attr;

typedef struct onnx_node {
    char *name;    /* the file's node name, or "#<index>" when it has none */
    char *op_type; /* the file's operator name ("Flatten", "CastLike", ...) */
    onnx_op op;
    int n_in, n_out;
    int *in, *out; /* tensor indices; -1 for an absent optional input */
    int n_attrs;
    onnx_attr *attrs;
} onnx_node;

typedef struct onnx_graph {
    int opset; /* of the default domain */
    int64_t ir_version;
    int n_tensors;
    onnx_tensor *tensors;
    int n_nodes; /* in execution order (topological, as the file has them) */
    onnx_node *nodes;
    int n_inputs, n_outputs; /* graph inputs (initializers excluded) and outputs */
    int *inputs, *outputs;   /* tensor indices */
    int cap_tensors, cap_nodes;
} onnx_graph;

/* Reads an ONNX model; NULL on failure with err naming the problem (the node and operator, the
 * tensor, the dimension). The caller frees the graph with onnx_graph_free. */
onnx_graph *onnx_read_file(const char *path, ngt_error *err);
onnx_graph *onnx_read_buffer(const void *data, size_t size, ngt_error *err);
void onnx_graph_free(onnx_graph *g);

const char *onnx_op_name(onnx_op op);
/* Attributes of a normalised node (the canonical ones listed above are always present). */
const onnx_attr *onnx_attr_find(const onnx_node *n, const char *name);
int64_t onnx_attr_int(const onnx_node *n, const char *name, int64_t def);
float onnx_attr_float(const onnx_node *n, const char *name, float def);
/* Count of an INTS attribute (its values in *v), or -1 when absent. */
int onnx_attr_ints(const onnx_node *n, const char *name, const int64_t **v);

static inline int onnx_tensor_batched(const onnx_tensor *t)
{
    return t->rank > 0 && t->shape[0] == ONNX_BATCH;
}
/* Elements per event of a batched tensor (the batch dimension left out), all elements of a
 * constant. */
int64_t onnx_tensor_elems(const onnx_tensor *t);
/* Index of the tensor called name, or -1. */
int onnx_find_tensor(const onnx_graph *g, const char *name);

/* Shared by the backends (onnx_backend.c). Element i of dense data of dtype t, as a float. */
float onnx_elem_f(const void *data, ngt_dtype t, size_t i);
/* 1 when node nd reads a batched tensor (it runs per event), 0 when it can be folded once. */
int onnx_node_batched(const onnx_graph *g, const onnx_node *nd);
/* Fills desc from g's inputs and outputs (per-event shapes), max_batch as given (0: no limit),
 * batch_invariant 1. */
void onnx_describe(const onnx_graph *g, int max_batch, ngt_model_desc *desc);

#endif
