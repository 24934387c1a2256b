/* conform_zoo.c: a backend on every case of the operator zoo (tools/make_op_tests.py) against
 * ONNX Runtime, and batch invariance; the ref and genc optests run it with their backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngt_npy.h"
#include "conform/conform.h"

enum { MAX_CHUNKS = 4 };

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

/* Cases whose models move the events away from the first dimension (Transpose [N,K] -> [K,N]
 * feeding Gemm transA): the reader refuses them by design (docs/onnx.md); the test checks that
 * the refusal is clean and names the node, and counts them apart. */
static int refused_by_design(const char *name, const ngt_error *err)
{
    return strncmp(name, "gemm_transa_", 12) == 0 && strstr(err->msg, "(Transpose)") &&
           strstr(err->msg, "events");
}

/* Runs all events at once, then in calls of each chunk size; 0 or the first failure's code. */
static int run_all(const conform_zoo *z, conform_model *c, const void *const *in, void **got,
                   void *alt[][NGT_MAX_MODEL_IO], int n, ngt_error *err)
{
    int rc = conform_run(c, in, got, 0, n, n, err);
    for (int j = 0; j < z->n_chunks && !rc; j++)
        rc = conform_run(c, in, alt[j], 0, n, z->chunks[j], err);
    return rc;
}

/* Runs one case; returns 1 when it agrees with ONNX Runtime (or is refused by design). */
static int run_case(const conform_zoo *z, const char *root, const char *name, worst *w)
{
    char dir[400], path[600];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    ngt_error err = {0};
    conform_model c;
    if (conform_load(&c, z->be, path, NULL, z->ws_slack, &err)) {
        int by_design = refused_by_design(name, &err);
        printf("%s %s: %s\n", by_design ? "REFUSED (by design)" : "FAIL", name, err.msg);
        w->refused += by_design;
        return by_design;
    }
    ngt_npy x[NGT_MAX_MODEL_IO] = {0}, want[NGT_MAX_MODEL_IO] = {0};
    const void *in[NGT_MAX_MODEL_IO];
    void *got[NGT_MAX_MODEL_IO], *alt[MAX_CHUNKS][NGT_MAX_MODEL_IO];
    for (int k = 0; k < c.desc.n_inputs; k++) {
        read_npy(dir, "input", k, &x[k]);
        assert_int_equal(x[k].dtype, c.desc.inputs[k].dtype);
        in[k] = x[k].data;
    }
    int n = (int)x[0].shape[0], ok = 1;
    for (int k = 0; k < c.desc.n_outputs; k++) {
        read_npy(dir, "output", k, &want[k]);
        got[k] = calloc((size_t)n + 1, conform_row_bytes(&c.desc.outputs[k]));
        for (int j = 0; j < z->n_chunks; j++)
            alt[j][k] = calloc((size_t)n + 1, conform_row_bytes(&c.desc.outputs[k]));
    }
    if (run_all(z, &c, in, got, alt, n, &err)) {
        printf("FAIL %s: %s\n", name, err.msg);
        ok = 0;
    }
    for (int k = 0; ok && k < c.desc.n_outputs; k++) {
        size_t rb = conform_row_bytes(&c.desc.outputs[k]);
        size_t count = (size_t)n * rb / ngt_dtype_size(c.desc.outputs[k].dtype);
        if (want[k].bytes != (size_t)n * rb || want[k].dtype != c.desc.outputs[k].dtype) {
            printf("FAIL %s: output %d has %zu bytes of %s, ORT wrote %zu of %s\n", name, k,
                   (size_t)n * rb, ngt_dtype_name(c.desc.outputs[k].dtype), want[k].bytes,
                   ngt_dtype_name(want[k].dtype));
            ok = 0;
            break;
        }
        double d,
            excess = conform_compare(c.desc.outputs[k].dtype, got[k], want[k].data, count, &d);
        if (d > w->abs) {
            w->abs = d;
            snprintf(w->name, sizeof w->name, "%s", name);
        }
        if (excess > 0) {
            printf("FAIL %s: output %d differs from ONNX Runtime by %g\n", name, k, d);
            ok = 0;
        }
        int same = 1;
        for (int j = 0; j < z->n_chunks; j++)
            same &= memcmp(got[k], alt[j][k], (size_t)n * rb) == 0;
        if (!same) {
            printf("FAIL %s: output %d depends on the batch size\n", name, k);
            ok = 0;
        }
    }
    for (int k = 0; k < c.desc.n_inputs; k++)
        ngt_npy_free(&x[k]);
    for (int k = 0; k < c.desc.n_outputs; k++) {
        ngt_npy_free(&want[k]);
        free(got[k]);
        for (int j = 0; j < z->n_chunks; j++)
            free(alt[j][k]);
    }
    conform_unload(&c);
    w->passed += ok;
    return ok;
}

void conform_zoo_run(const conform_zoo *z)
{
    assert_true(z->n_chunks >= 1 && z->n_chunks <= MAX_CHUNKS);
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
        failed += !run_case(z, root, name, &w);
    }
    fclose(f);
    printf("%s vs ONNX Runtime: %d cases, %d passed, %d refused by design, %d failed; worst "
           "|%s - ort| = %.3g (%s); tolerance %g + %g * |ort|\n",
           z->who, cases, w.passed, w.refused, failed, z->who, w.abs, w.name, CONFORM_ABS,
           CONFORM_REL);
    assert_true(cases >= z->min_cases);
    assert_int_equal(failed, 0);
    assert_true(w.refused <= 2);
}
