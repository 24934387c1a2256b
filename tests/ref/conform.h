/* conform.h: helpers of the ref conformance tests: run a model file on .npy inputs through a
 * backend and compare with a peer's outputs under the documented tolerance. */
#ifndef NGT_TEST_CONFORM_H
#define NGT_TEST_CONFORM_H

#include "ngt.h"

/* Tolerance against ONNX Runtime: |ref - ort| <= CONFORM_ABS + CONFORM_REL * |ort|. */
#define CONFORM_ABS 1e-5
#define CONFORM_REL 1e-5

typedef struct conform_model {
    const ngt_backend *be;
    void *model;
    ngt_model_desc desc;
    void *ws;
} conform_model;

/* Loads path with the ref backend; 0 or a negative code (err filled). */
int conform_load(conform_model *c, const char *path, ngt_error *err);
void conform_unload(conform_model *c);
/* Runs events [first, first + n) of the inputs (dense [events][elems] arrays) in calls of at most
 * chunk events, writing outputs at the same event offsets. */
int conform_run(conform_model *c, const void *const *inputs, void *const *outputs, int first, int n,
                int chunk, ngt_error *err);
size_t conform_row_bytes(const ngt_tensor_desc *d);
/* Worst excess over the tolerance (<= 0 when within) and the worst |difference|, comparing count
 * elements of two arrays of dtype t. */
double conform_compare(ngt_dtype t, const void *got, const void *want, size_t count,
                       double *worst_abs);

#endif
