/* test_nodetests.c: genc on the ONNX backend node tests of the pinned onnx package (converted to
 * .npy by tools/genc_nodetests.py): each test passes (ONNX's expected outputs within the tolerance
 * CONFORM_NODE_ABS/REL of conform.h, the same bits event by event) or is refused at load with a
 * reason; none is wrong. Writes DIR/results.txt (case, status, reason) for
 * tools/genc_conformance.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngt_npy.h"
#include "genc/genc.h"
#include "conform/conform.h"

enum { PASS = 0, REFUSED, WRONG };

static int read_npy(const char *dir, const char *kind, int k, ngt_npy *a, ngt_error *err)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s_%d.npy", dir, kind, k);
    return ngt_npy_read(p, a, err);
}

static int run_case(const char *dir, char *why, size_t nwhy)
{
    char path[700];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    ngt_error err = {0};
    conform_model c;
    if (conform_load(&c, genc_backend(), path, NULL, CONFORM_GENC_WS_SLACK, &err)) {
        snprintf(why, nwhy, "%s", err.msg);
        return REFUSED;
    }
    ngt_npy x[NGT_MAX_MODEL_IO] = {0}, want[NGT_MAX_MODEL_IO] = {0};
    const void *in[NGT_MAX_MODEL_IO];
    void *got[NGT_MAX_MODEL_IO] = {0}, *one[NGT_MAX_MODEL_IO] = {0};
    int status = PASS, n = -1;
    for (int k = 0; k < c.desc.n_inputs && status == PASS; k++) {
        if (read_npy(dir, "input", k, &x[k], &err)) {
            snprintf(why, nwhy, "%s", err.msg);
            status = WRONG;
        } else if (x[k].rank < 1 || x[k].dtype != c.desc.inputs[k].dtype ||
                   (n >= 0 && x[k].shape[0] != n)) {
            snprintf(why, nwhy, "the inputs share no events dimension (genc batches the first)");
            status = REFUSED;
        } else {
            n = (int)x[k].shape[0];
            in[k] = x[k].data;
        }
    }
    for (int k = 0; k < c.desc.n_outputs && status == PASS; k++) {
        if (read_npy(dir, "output", k, &want[k], &err)) {
            snprintf(why, nwhy, "%s", err.msg);
            status = WRONG;
            break;
        }
        size_t rb = conform_row_bytes(&c.desc.outputs[k]);
        got[k] = calloc((size_t)n + 1, rb);
        one[k] = calloc((size_t)n + 1, rb);
        if (want[k].bytes != (size_t)n * rb || want[k].dtype != c.desc.outputs[k].dtype) {
            snprintf(why, nwhy, "output %d: %d events of %zu bytes of %s; expected %zu bytes of %s",
                     k, n, rb, ngt_dtype_name(c.desc.outputs[k].dtype), want[k].bytes,
                     ngt_dtype_name(want[k].dtype));
            status = WRONG;
        }
    }
    if (status == PASS &&
        (conform_run(&c, in, got, 0, n, n, &err) || conform_run(&c, in, one, 0, n, 1, &err))) {
        snprintf(why, nwhy, "infer: %s", err.msg);
        status = WRONG;
    }
    for (int k = 0; k < c.desc.n_outputs && status == PASS; k++) {
        size_t rb = conform_row_bytes(&c.desc.outputs[k]);
        size_t count = (size_t)n * rb / ngt_dtype_size(c.desc.outputs[k].dtype);
        double d;
        if (conform_compare_tol(c.desc.outputs[k].dtype, got[k], want[k].data, count,
                                CONFORM_NODE_ABS, CONFORM_NODE_REL, &d) > 0) {
            snprintf(why, nwhy, "output %d differs from ONNX's expected output by %g", k, d);
            status = WRONG;
        } else if (memcmp(got[k], one[k], (size_t)n * rb)) {
            snprintf(why, nwhy, "output %d depends on the batch size", k);
            status = WRONG;
        }
    }
    for (int k = 0; k < NGT_MAX_MODEL_IO; k++) {
        if (x[k].data)
            ngt_npy_free(&x[k]);
        if (want[k].data)
            ngt_npy_free(&want[k]);
        free(got[k]);
        free(one[k]);
    }
    conform_unload(&c);
    return status;
}

static void test_nodes(void **state)
{
    (void)state;
    const char *root = getenv("NGT_NODETESTS_DIR");
    if (!root)
        skip();
    char list[600], name[256], dir[600], why[NGT_ERR_MSG_MAX + 64];
    snprintf(list, sizeof list, "%s/cases.txt", root);
    FILE *f = fopen(list, "r");
    if (!f)
        fail_msg("cannot open %s (run tools/genc_nodetests.py --out %s)", list, root);
    snprintf(dir, sizeof dir, "%s/results.txt", root);
    FILE *res = fopen(dir, "w");
    assert_non_null(res);
    int count[3] = {0, 0, 0};
    static const char *label[3] = {"pass", "refused", "WRONG"};
    while (fgets(name, sizeof name, f)) {
        name[strcspn(name, "\r\n")] = 0;
        if (!*name)
            continue;
        snprintf(dir, sizeof dir, "%s/%s", root, name);
        why[0] = 0;
        int s = run_case(dir, why, sizeof why);
        count[s]++;
        for (char *p = why; *p; p++)
            if (*p == '\t' || *p == '\n')
                *p = ' ';
        fprintf(res, "%s\t%s\t%s\n", name, label[s], why);
        if (s == WRONG)
            printf("WRONG %s: %s\n", name, why);
    }
    fclose(f);
    fclose(res);
    printf("genc on the ONNX node tests: %d passed, %d refused at load, %d wrong\n", count[PASS],
           count[REFUSED], count[WRONG]);
    assert_int_equal(count[WRONG], 0);
    assert_true(count[PASS] >= 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_nodes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
