/* mb.h: a tiny ONNX model builder for tests and fuzz seeds, over the protobuf-c bindings that
 * modules/onnx generates at build time. Everything a builder allocates is freed by mb_free. */
#ifndef NGT_TEST_MB_H
#define NGT_TEST_MB_H

#include "ngt.h"
#include "onnx/onnx_ir.h"
#include "onnx.pb-c.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mb mb;
enum { MB_F32 = 1, MB_I32 = 6, MB_I64 = 7 }; /* ONNX data types used by the tests */

mb *mb_new(int opset);
void mb_free(mb *b);
/* A graph input; its first dimension becomes the symbol "N" (the events). */
void mb_input(mb *b, const char *name, int elem_type, int rank, const int64_t *dims);
void mb_output(mb *b, const char *name);
/* A graph output declaring its type and shape (dims[0] symbolic). */
void mb_output_typed(mb *b, const char *name, int elem_type, int rank, const int64_t *dims);
void mb_init_f(mb *b, const char *name, int rank, const int64_t *dims, const float *data);
void mb_init_i(mb *b, const char *name, int rank, const int64_t *dims, const int64_t *data);
/* A node; ins and outs are comma-separated tensor names ("" between commas: absent). */
Onnx__NodeProto *mb_node(mb *b, const char *op, const char *name, const char *ins,
                         const char *outs);
void mb_attr_i(mb *b, Onnx__NodeProto *n, const char *name, int64_t v);
void mb_attr_f(mb *b, Onnx__NodeProto *n, const char *name, float v);
void mb_attr_ints(mb *b, Onnx__NodeProto *n, const char *name, int count, const int64_t *v);
void mb_attr_s(mb *b, Onnx__NodeProto *n, const char *name, const char *s);
void mb_attr_t(mb *b, Onnx__NodeProto *n, const char *name, int rank, const int64_t *dims,
               const float *data);
/* The graph being built, for tests that corrupt it on purpose. */
Onnx__GraphProto *mb_graph(mb *b);
/* Serialises the model: a malloc'd buffer the caller frees. */
uint8_t *mb_pack(mb *b, size_t *len);
/* Serialises and reads it back through the reader (NULL on error, err filled). */
onnx_graph *mb_read(mb *b, ngt_error *err);
/* Writes the model to path; 0 on success. */
int mb_write(mb *b, const char *path);

#endif
