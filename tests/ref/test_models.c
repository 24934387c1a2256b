/* test_models.c: ref on the canonical models (fad, mdt) against ONNX Runtime's committed outputs,
 * at batch sizes 1, 7 and 256, and bit-identical whatever the batch size (batch invariance). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngt_npy.h"
#include "ref/ref.h"
#include "conform/conform.h"
#include "internal.h"

typedef struct canon {
    const char *name;
    int in_rank;
    int64_t in_shape[2];
    int64_t out_elems;
} canon;

static void check_model(const canon *cm)
{
    char path[256], in_path[256], out_path[256];
    snprintf(path, sizeof path, "models/%s.onnx", cm->name);
    snprintf(in_path, sizeof in_path, "models/%s.input.npy", cm->name);
    snprintf(out_path, sizeof out_path, "models/%s.output.npy", cm->name);
    ngt_error err = {0};
    ngt_npy x, want;
    if (ngt_npy_read(in_path, &x, &err) || ngt_npy_read(out_path, &want, &err))
        fail_msg("%s", err.msg);
    conform_model c;
    if (conform_load(&c, ref_backend(), path, NULL, 0, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(c.desc.n_inputs, 1);
    assert_int_equal(c.desc.inputs[0].rank, cm->in_rank);
    for (int k = 0; k < cm->in_rank; k++)
        assert_int_equal(c.desc.inputs[0].shape[k], cm->in_shape[k]);
    assert_int_equal(conform_row_bytes(&c.desc.outputs[0]), cm->out_elems * 4);
    assert_int_equal(c.desc.batch_invariant, 1);
    int n = (int)x.shape[0];
    assert_true(n >= 256);
    assert_int_equal(want.shape[0], n);
    size_t ob = conform_row_bytes(&c.desc.outputs[0]);
    char *y[4];
    static const int chunks[4] = {256, 7, 1, 1 << 20};
    for (int b = 0; b < 4; b++) {
        y[b] = calloc((size_t)n, ob);
        const void *in[1] = {x.data};
        void *out[1] = {y[b]};
        int first = b == 3 ? 0 : 0, count = b == 3 ? n : 256;
        if (conform_run(&c, in, out, first, count, chunks[b], &err))
            fail_msg("%s: %s", cm->name, err.msg);
        double worst_abs,
            excess = conform_compare(NGT_F32, y[b], want.data, (size_t)count * ob / 4, &worst_abs);
        printf("%s: batch %d: worst |ref - ort| = %.3g\n", cm->name, chunks[b] > n ? n : chunks[b],
               worst_abs);
        if (excess > 0)
            fail_msg("%s at batch %d: differs from ONNX Runtime by %g", cm->name, chunks[b],
                     worst_abs);
    }
    /* the same bits for the first 256 events at batch 256, 7, 1 and all at once */
    for (int b = 1; b < 4; b++)
        assert_memory_equal(y[0], y[b], 256 * ob);
    for (int b = 0; b < 4; b++)
        free(y[b]);
    conform_unload(&c);
    ngt_npy_free(&x);
    ngt_npy_free(&want);
}

static void test_fad(void **state)
{
    (void)state;
    static const canon fad = {"fad", 1, {77, 0}, 76};
    check_model(&fad);
}

static void test_mdt(void **state)
{
    (void)state;
    static const canon mdt = {"mdt", 2, {1, 216}, 216};
    check_model(&mdt);
}

/* The workspace holds one tile whatever max_batch was asked for: any n runs in it. */
static void test_workspace_any_n(void **state)
{
    (void)state;
    const ngt_backend *be = ref_backend();
    void *m;
    ngt_error err = {0};
    if (be->load("models/fad.onnx", NULL, &m, &err))
        fail_msg("%s", err.msg);
    size_t small = be->workspace_size(m, 1), big = be->workspace_size(m, 100000);
    assert_int_equal(small, big);
    ngt_npy x;
    if (ngt_npy_read("models/fad.input.npy", &x, &err))
        fail_msg("%s", err.msg);
    void *ws = aalloc(small);
    float *a = calloc(300 * 76, 4), *b = calloc(300 * 76, 4);
    const void *in[1] = {x.data};
    void *out[1] = {a};
    assert_int_equal(be->infer(m, ws, in, out, 300, &err), NGT_OK);
    for (int e = 0; e < 300; e++) {
        const void *in1[1] = {(const float *)x.data + e * 77};
        void *out1[1] = {b + e * 76};
        assert_int_equal(be->infer(m, ws, in1, out1, 1, &err), NGT_OK);
    }
    assert_memory_equal(a, b, 300 * 76 * 4);
    assert_int_equal(be->infer(m, ws, in, out, -1, &err), NGT_EINVAL);
    assert_non_null(strstr(err.msg, "-1"));
    afree(ws);
    free(a);
    free(b);
    ngt_npy_free(&x);
    be->unload(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fad),
        cmocka_unit_test(test_mdt),
        cmocka_unit_test(test_workspace_any_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
