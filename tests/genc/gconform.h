/* gconform.h: helpers of the genc tests: load a model with a backend, run dense event arrays
 * through it in calls of a given size, compare with ONNX Runtime under the documented tolerance. */
#ifndef NGT_TEST_GCONFORM_H
#define NGT_TEST_GCONFORM_H

#include "ngt.h"

/* Tolerance against ONNX Runtime: |genc - ort| <= GC_ABS + GC_REL * |ort| (docs/genc.md). */
#define GC_ABS 1e-5
#define GC_REL 1e-5

typedef struct gc_model {
    const ngt_backend *be;
    void *model;
    ngt_model_desc desc;
    void *ws;
} gc_model;

int gc_load(gc_model *c, const ngt_backend *be, const char *path, const char *options,
            ngt_error *err);
void gc_unload(gc_model *c);
size_t gc_row_bytes(const ngt_tensor_desc *d);
/* Runs events [0, n) in calls of at most chunk events. */
int gc_run(gc_model *c, const void *const *inputs, void *const *outputs, int n, int chunk,
           ngt_error *err);
/* Worst excess over the tolerance (<= 0 within) and worst |difference| over count elements. */
double gc_compare(ngt_dtype t, const void *got, const void *want, size_t count, double *worst_abs);
/* The same with another tolerance: the ONNX node tests store some expected outputs rounded to 4
 * decimals (test_averagepool_2d_ceil_last_window_starts_on_pad), so they are compared with
 * GC_NODE_ABS + GC_NODE_REL * |expected|. */
#define GC_NODE_ABS 1e-4
#define GC_NODE_REL 1e-4
double gc_compare_tol(ngt_dtype t, const void *got, const void *want, size_t count, double abs_tol,
                      double rel_tol, double *worst_abs);

#endif
