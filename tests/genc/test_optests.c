/* test_optests.c: genc on every case of the operator zoo (tools/make_op_tests.py, written by the
 * genc_optests_generate fixture) against ONNX Runtime within the tolerance of gconform.h, and the
 * same bits when the events run in calls of 1 and 7 (batch invariance). Reports the worst case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gconform.h"

typedef struct worst {
    double abs;
    char name[256];
    int refused, passed;
} worst;

static void read_npy(const char *dir, const char *kind, int k, ngt_npy *a)
{
    char p[600];
    ngt_error err = {0};
    snprintf(p, sizeof p, "%s/%s_%d.npy", dir, kind, k);
    if (ngt_npy_read(p, a, &err))
        fail_msg("%s", err.msg);
}

/* The reader refuses models that move the events off the first dimension (docs/onnx.md). */
static int refused_by_design(const char *name, const ngt_error *err)
{
    return strncmp(name, "gemm_transa_", 12) == 0 && strstr(err->msg, "(Transpose)") &&
           strstr(err->msg, "events");
}

static int run_case(const char *root, const char *name, worst *w)
{
    char dir[400], path[600];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    ngt_error err = {0};
    gc_model c;
    if (gc_load(&c, ngt_backend_genc(), path, NULL, &err)) {
        int by_design = refused_by_design(name, &err);
        printf("%s %s: %s\n", by_design ? "REFUSED (by design)" : "FAIL", name, err.msg);
        w->refused += by_design;
        return by_design;
    }
    ngt_npy x[NGT_MAX_MODEL_IO], want[NGT_MAX_MODEL_IO];
    const void *in[NGT_MAX_MODEL_IO];
    void *got[NGT_MAX_MODEL_IO], *one[NGT_MAX_MODEL_IO], *seven[NGT_MAX_MODEL_IO];
    for (int k = 0; k < c.desc.n_inputs; k++) {
        read_npy(dir, "input", k, &x[k]);
        assert_int_equal(x[k].dtype, c.desc.inputs[k].dtype);
        in[k] = x[k].data;
    }
    int n = (int)x[0].shape[0], ok = 1;
    for (int k = 0; k < c.desc.n_outputs; k++) {
        read_npy(dir, "output", k, &want[k]);
        got[k] = calloc((size_t)n + 1, gc_row_bytes(&c.desc.outputs[k]));
        one[k] = calloc((size_t)n + 1, gc_row_bytes(&c.desc.outputs[k]));
        seven[k] = calloc((size_t)n + 1, gc_row_bytes(&c.desc.outputs[k]));
    }
    if (gc_run(&c, in, got, n, n, &err) || gc_run(&c, in, one, n, 1, &err) ||
        gc_run(&c, in, seven, n, 7, &err)) {
        printf("FAIL %s: %s\n", name, err.msg);
        ok = 0;
    }
    for (int k = 0; ok && k < c.desc.n_outputs; k++) {
        size_t rb = gc_row_bytes(&c.desc.outputs[k]);
        size_t count = (size_t)n * rb / ngt_dtype_size(c.desc.outputs[k].dtype);
        if (want[k].bytes != (size_t)n * rb || want[k].dtype != c.desc.outputs[k].dtype) {
            printf("FAIL %s: output %d has %zu bytes of %s, ORT wrote %zu of %s\n", name, k,
                   (size_t)n * rb, ngt_dtype_name(c.desc.outputs[k].dtype), want[k].bytes,
                   ngt_dtype_name(want[k].dtype));
            ok = 0;
            break;
        }
        double d, excess = gc_compare(c.desc.outputs[k].dtype, got[k], want[k].data, count, &d);
        if (d > w->abs) {
            w->abs = d;
            snprintf(w->name, sizeof w->name, "%s", name);
        }
        if (excess > 0) {
            printf("FAIL %s: output %d differs from ONNX Runtime by %g\n", name, k, d);
            ok = 0;
        }
        if (memcmp(got[k], one[k], (size_t)n * rb) || memcmp(got[k], seven[k], (size_t)n * rb)) {
            printf("FAIL %s: output %d depends on the batch size\n", name, k);
            ok = 0;
        }
    }
    for (int k = 0; k < c.desc.n_inputs; k++)
        ngt_npy_free(&x[k]);
    for (int k = 0; k < c.desc.n_outputs; k++) {
        ngt_npy_free(&want[k]);
        free(got[k]);
        free(one[k]);
        free(seven[k]);
    }
    gc_unload(&c);
    w->passed += ok;
    return ok;
}

static void test_zoo(void **state)
{
    (void)state;
    const char *root = getenv("NGT_OPTESTS_DIR");
    if (!root)
        skip();
    char list[600], name[256];
    snprintf(list, sizeof list, "%s/cases.txt", root);
    FILE *f = fopen(list, "r");
    if (!f)
        fail_msg("cannot open %s (run tools/make_op_tests.py --out %s)", list, root);
    int cases = 0, failed = 0;
    worst w = {0};
    while (fgets(name, sizeof name, f)) {
        name[strcspn(name, "\r\n")] = 0;
        if (!*name)
            continue;
        cases++;
        failed += !run_case(root, name, &w);
    }
    fclose(f);
    printf("genc vs ONNX Runtime: %d cases, %d passed, %d refused by design, %d failed; worst "
           "|genc - ort| = %.3g (%s); tolerance %g + %g * |ort|\n",
           cases, w.passed, w.refused, failed, w.abs, w.name, GC_ABS, GC_REL);
    assert_true(cases >= 30);
    assert_int_equal(failed, 0);
    assert_true(w.refused <= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_zoo)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
