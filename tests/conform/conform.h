/* conform.h: the conformance harness of the backend tests (tests/ref, tests/genc): load a model
 * with a backend, run dense event arrays through it, compare with a peer under a tolerance. */
#ifndef NGT_TEST_CONFORM_H
#define NGT_TEST_CONFORM_H

#include "ngt.h"

/* Tolerance against ONNX Runtime: |got - ort| <= CONFORM_ABS + CONFORM_REL * |ort| (docs/genc.md).
 */
#define CONFORM_ABS 1e-5
#define CONFORM_REL 1e-5
/* The ONNX node tests store some expected outputs rounded to 4 decimals
 * (test_averagepool_2d_ceil_last_window_starts_on_pad): they are compared with
 * CONFORM_NODE_ABS + CONFORM_NODE_REL * |expected|. */
#define CONFORM_NODE_ABS 1e-4
#define CONFORM_NODE_REL 1e-4
/* Bytes the genc tests allocate past the workspace the backend asks for (its compiled code runs
 * outside the sanitizers); ref's tests allocate the exact size. */
enum { CONFORM_GENC_WS_SLACK = 64 };

typedef struct conform_model {
    const ngt_backend *be;
    void *model;
    ngt_model_desc desc;
    void *ws;
} conform_model;

/* Loads path with backend be (options may be NULL) and a workspace of ws_slack bytes more than it
 * asks for; 0 or a negative code (err filled). */
int conform_load(conform_model *c, const ngt_backend *be, const char *path, const char *options,
                 size_t ws_slack, ngt_error *err);
void conform_unload(conform_model *c);
size_t conform_row_bytes(const ngt_tensor_desc *d);
/* Runs events [first, first + n) of the inputs (dense [events][elems] arrays) in calls of at most
 * chunk events, writing outputs at the same event offsets. */
int conform_run(conform_model *c, const void *const *inputs, void *const *outputs, int first, int n,
                int chunk, ngt_error *err);
/* Worst excess over the tolerance (<= 0 when within) and the worst |difference|, comparing count
 * elements of two arrays of dtype t: under CONFORM_ABS/REL, or abs_tol/rel_tol. */
double conform_compare(ngt_dtype t, const void *got, const void *want, size_t count,
                       double *worst_abs);
double conform_compare_tol(ngt_dtype t, const void *got, const void *want, size_t count,
                           double abs_tol, double rel_tol, double *worst_abs);

/* The operator zoo (tools/make_op_tests.py, directory $NGT_OPTESTS_DIR; skipped when unset): every
 * case through be against ONNX Runtime, within CONFORM_ABS/REL, and the same bits when the events
 * run in calls of each of chunks (batch invariance). Fails the cmocka test on any wrong case, on
 * fewer than min_cases cases or more than 2 refused by design. Reports the worst case. */
typedef struct conform_zoo {
    const ngt_backend *be;
    const char *who; /* the backend's name in messages */
    size_t ws_slack;
    const int *chunks;
    int n_chunks; /* 1 to 4 */
    int min_cases;
} conform_zoo;
void conform_zoo_run(const conform_zoo *z);

#endif
