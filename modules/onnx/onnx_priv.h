/* onnx_priv.h: helpers shared by the reader's files (building the IR, attributes, node errors).
 * Private to modules/onnx; backends include onnx_ir.h only. */
#ifndef NGT_ONNX_PRIV_H
#define NGT_ONNX_PRIV_H

#include "onnx/onnx_ir.h"
#include "internal.h"

/* Appends a tensor (kind ONNX_T_VALUE, no shape yet); returns its index or a negative code. */
int onnx_add_tensor(onnx_graph *g, const char *name, ngt_error *err);
/* Appends an empty node; returns its index or a negative code. */
int onnx_add_node(onnx_graph *g, ngt_error *err);
void onnx_tensor_clear(onnx_tensor *t);
/* A malloc'd copy of s (NULL taken as ""), or NULL when out of memory. */
char *onnx_strdup(const char *s);
void onnx_node_clear(onnx_node *n);

/* Fills err with "node 'NAME' (OP): <message>"; returns code. */
int onnx_node_err(ngt_error *err, int code, const onnx_node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#ifdef __clang_analyzer__ /* returns code: see seterr in internal.h */
#define onnx_node_err(err, code, ...) (onnx_node_err((err), (code), __VA_ARGS__), (code))
#endif

/* Attribute setters (replace an attribute of the same name); return NGT_OK or NGT_ENOMEM. */
int onnx_attr_set_int(onnx_node *n, const char *name, int64_t v);
int onnx_attr_set_float(onnx_node *n, const char *name, float v);
int onnx_attr_set_ints(onnx_node *n, const char *name, const int64_t *v, int count);
void onnx_attr_remove(onnx_node *n, const char *name);
void onnx_attr_clear(onnx_attr *a);

/* Values of an integer constant (int32 or int64) into out (at most max); count or -1. */
int onnx_const_ints(const onnx_tensor *t, int64_t *out, int max);
/* The single value of a numeric constant as a float; NGT_OK or -1. */
int onnx_const_float(const onnx_tensor *t, float *out);

/* Proto helpers (onnx_read.c): ONNX data type -> ngt_dtype (0 or -1); a TensorProto into a
 * constant tensor. */
int onnx_dtype_from_proto(int32_t t, ngt_dtype *out);
int onnx_read_tensor_proto(onnx_tensor *t, const void *proto, const char *what, ngt_error *err);

/* Input k of node n, or NULL when absent. */
onnx_tensor *onnx_in(onnx_graph *g, const onnx_node *n, int k);
/* Sets output k's dtype and shape. */
void onnx_set_out(onnx_graph *g, const onnx_node *n, int k, ngt_dtype dt, int rank,
                  const int64_t *shape);
/* Formats a shape as "[N,3,4]" into buf. */
const char *onnx_shape_str(const onnx_tensor *t, char *buf, size_t size);

/* Per-family normalisers (onnx_ops*.c); each returns NGT_OK or fills err naming the node. */
typedef int (*onnx_norm_fn)(onnx_graph *g, onnx_node *n, ngt_error *err);
int onnx_norm_conv(onnx_graph *g, onnx_node *n, ngt_error *err);
int onnx_norm_pool(onnx_graph *g, onnx_node *n, ngt_error *err);
int onnx_norm_reshape(onnx_graph *g, onnx_node *n, ngt_error *err);
int onnx_norm_flatten(onnx_graph *g, onnx_node *n, ngt_error *err);
int onnx_norm_squeeze(onnx_graph *g, onnx_node *n, ngt_error *err);
int onnx_norm_unsqueeze(onnx_graph *g, onnx_node *n, ngt_error *err);
int onnx_norm_transpose(onnx_graph *g, onnx_node *n, ngt_error *err);
int onnx_norm_concat(onnx_graph *g, onnx_node *n, ngt_error *err);
int onnx_norm_slice(onnx_graph *g, onnx_node *n, ngt_error *err);
int onnx_norm_gather(onnx_graph *g, onnx_node *n, ngt_error *err);

/* Normalises node i (already holding its inputs, outputs and the file's attributes) into its
 * canonical form and infers its outputs' dtype and shape (onnx_ops.c). */
int onnx_normalise(onnx_graph *g, int i, ngt_error *err);

#endif
