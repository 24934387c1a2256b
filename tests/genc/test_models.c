/* test_models.c: genc on the canonical models (fad, mdt) against ONNX Runtime's committed outputs
 * at batch 1, 7, 256 and 1024, the same bits at every batch size and for an event at any place in
 * the batch (batch invariance), and for every target (generic, avx2, avx512 where the CPU has it).
 */
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

static int cpu_has(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192];
    int yes = 0;
    while (f && !yes && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5)) {
            char pat[64];
            snprintf(pat, sizeof pat, " %s ", flag);
            line[strcspn(line, "\n")] = ' ';
            yes = strstr(line, pat) != NULL;
            break;
        }
    if (f)
        fclose(f);
    return yes;
}

static void check_model(const char *name, const char *options)
{
    char path[256], in_path[256], out_path[256];
    snprintf(path, sizeof path, "models/%s.onnx", name);
    snprintf(in_path, sizeof in_path, "models/%s.input.npy", name);
    snprintf(out_path, sizeof out_path, "models/%s.output.npy", name);
    ngt_error err = {0};
    ngt_npy x, want;
    if (ngt_npy_read(in_path, &x, &err) || ngt_npy_read(out_path, &want, &err))
        fail_msg("%s", err.msg);
    conform_model c;
    if (conform_load(&c, genc_backend(), path, options, CONFORM_GENC_WS_SLACK, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(c.desc.batch_invariant, 1);
    int n = (int)x.shape[0];
    assert_int_equal(n, 1024);
    size_t ib = conform_row_bytes(&c.desc.inputs[0]), ob = conform_row_bytes(&c.desc.outputs[0]);
    static const int chunks[] = {1024, 256, 7, 1};
    char *first = NULL;
    for (size_t b = 0; b < sizeof chunks / sizeof chunks[0]; b++) {
        char *y = calloc((size_t)n, ob);
        const void *in[1] = {x.data};
        void *out[1] = {y};
        if (conform_run(&c, in, out, 0, n, chunks[b], &err))
            fail_msg("%s: %s", name, err.msg);
        double worst, excess = conform_compare(NGT_F32, y, want.data, (size_t)n * ob / 4, &worst);
        printf("%s [%s]: batch %d: worst |genc - ort| = %.3g\n", name, options, chunks[b], worst);
        if (excess > 0)
            fail_msg("%s at batch %d differs from ONNX Runtime by %g", name, chunks[b], worst);
        if (!first)
            first = y;
        else {
            if (memcmp(first, y, (size_t)n * ob))
                fail_msg("%s: batch %d gives other bits than batch %d", name, chunks[b], chunks[0]);
            free(y);
        }
    }
    /* every event at another place: the batch reversed, in calls of 256 and 37 */
    char *rx = malloc((size_t)n * ib), *ry = malloc((size_t)n * ob);
    for (int i = 0; i < n; i++)
        memcpy(rx + (size_t)i * ib, (char *)x.data + (size_t)(n - 1 - i) * ib, ib);
    for (int chunk = 256; chunk > 0; chunk = chunk == 256 ? 37 : 0) {
        const void *in[1] = {rx};
        void *out[1] = {ry};
        if (conform_run(&c, in, out, 0, n, chunk, &err))
            fail_msg("%s: %s", name, err.msg);
        for (int i = 0; i < n; i++)
            if (memcmp(ry + (size_t)i * ob, first + (size_t)(n - 1 - i) * ob, ob))
                fail_msg("%s: event %d gives other bits at place %d (calls of %d)", name, n - 1 - i,
                         i, chunk);
    }
    free(rx);
    free(ry);
    free(first);
    conform_unload(&c);
    ngt_npy_free(&x);
    ngt_npy_free(&want);
}

static void each_target(const char *name)
{
    check_model(name, "target=generic");
    if (cpu_has("avx2") && cpu_has("fma"))
        check_model(name, "target=avx2");
    if (cpu_has("avx512f"))
        check_model(name, "target=avx512");
}

static void test_fad(void **state)
{
    (void)state;
    each_target("fad");
}

static void test_mdt(void **state)
{
    (void)state;
    each_target("mdt");
}

/* Loading refuses cleanly: a bad option, a missing file, more events than max_batch. */
static void test_errors(void **state)
{
    (void)state;
    ngt_error err = {0};
    conform_model c;
    assert_true(conform_load(&c, genc_backend(), "models/fad.onnx", "target=sparc",
                             CONFORM_GENC_WS_SLACK, &err) < 0);
    assert_non_null(strstr(err.msg, "sparc"));
    assert_true(conform_load(&c, genc_backend(), "models/none.onnx", NULL, CONFORM_GENC_WS_SLACK,
                             &err) < 0);
    assert_non_null(strstr(err.msg, "none.onnx"));
    assert_int_equal(conform_load(&c, genc_backend(), "models/fad.onnx", "max_batch=8",
                                  CONFORM_GENC_WS_SLACK, &err),
                     0);
    assert_int_equal(c.desc.max_batch, 8);
    float x[9 * 77] = {0}, y[9 * 76];
    const void *in[1] = {x};
    void *out[1] = {y};
    assert_true(c.be->infer(c.model, c.ws, in, out, 9, &err) < 0);
    assert_int_equal(c.be->infer(c.model, c.ws, in, out, 8, &err), 0);
    conform_unload(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fad), cmocka_unit_test(test_mdt),
                                       cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
