/* test_models.c: the hls backend against hls4ml's predict() goldens (data/models/, made by
 * tools/hls_oracle.py): raw output bits per event (0 mismatches), at batch 1, 7 and 256. */
#include <math.h>

#include "testutil.h"

#include "hls/hls_model.h"

static int check_one(const char *name)
{
    char dir[256], onnx[320], path[320];
    snprintf(dir, sizeof dir, "tests/hls/data/models/%s", name);
    if (strcmp(name, "fad") == 0 || strcmp(name, "mdt") == 0)
        snprintf(onnx, sizeof onnx, "models/%s.onnx", name);
    else
        snprintf(onnx, sizeof onnx, "%s/model.onnx", dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    const ngt_backend *be = ngt_backend_hls();
    ngt_error err = {0};
    void *m = NULL;
    if (be->load(onnx, path, &m, &err) < 0) {
        print_message("%s: skipped: %s\n", name, err.msg);
        return -1;
    }
    ngt_npy x, want;
    snprintf(path, sizeof path, "%s/input.npy", dir);
    assert_int_equal(ngt_npy_read(path, &x, &err), NGT_OK);
    snprintf(path, sizeof path, "%s/output.npy", dir);
    assert_int_equal(ngt_npy_read(path, &want, &err), NGT_OK);
    assert_int_equal(want.dtype, NGT_F64);
    const hls_model *hm = m;
    const hls_layer *o = &hm->layers[hm->out_layer];
    int n = (int)x.shape[0];
    size_t ni = (size_t)hm->layers[0].size, no = (size_t)o->size;
    void *ws = malloc(be->workspace_size(m, 256));
    float *one = malloc(no * sizeof(float)), *all = malloc((size_t)n * no * sizeof(float));
    int hw = o->w ? o->h * o->w : 1, c = o->w ? o->c : (int)o->size;
    long bad = 0;
    const float *xf = x.data;
    const double *wd = want.data;
    for (int e = 0; e < n; e++) {
        const void *in[1] = {xf + (size_t)e * ni};
        void *out[1] = {one};
        assert_int_equal(be->infer(m, ws, in, out, 1, &err), NGT_OK);
        const int64_t *raw = hls_output_raw(m, ws);
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++) {
                double g = wd[(size_t)e * no + (size_t)ch * hw + p];
                double r = ldexp(g, hls_frac(&o->res));
                if (r != (double)raw[(size_t)p * c + ch]) {
                    if (bad < 3)
                        print_message("%s: event %d value %d: hls4ml %.17g, ngt %.17g\n", name, e,
                                      ch * hw + p, g, hls_to_double(raw[(size_t)p * c + ch], &o->res));
                    bad++;
                }
            }
    }
    /* batch invariance: 1, 7 and 256 events per call give the same bits */
    int sizes[] = {1, 7, 256};
    float *ref = malloc((size_t)n * no * sizeof(float));
    for (int s = 0; s < 3; s++) {
        for (int e = 0; e < n; e += sizes[s]) {
            int k = n - e < sizes[s] ? n - e : sizes[s];
            const void *in[1] = {xf + (size_t)e * ni};
            void *out[1] = {all + (size_t)e * no};
            assert_int_equal(be->infer(m, ws, in, out, k, &err), NGT_OK);
        }
        if (s == 0)
            memcpy(ref, all, (size_t)n * no * sizeof(float));
        else
            assert_memory_equal(ref, all, (size_t)n * no * sizeof(float));
    }
    print_message("%-16s %4d events x %4zu values: %ld mismatches\n", name, n, no, bad);
    free(ref);
    free(ws);
    free(one);
    free(all);
    ngt_npy_free(&x);
    ngt_npy_free(&want);
    be->unload(m);
    return bad > 0;
}

static void test_canonical(void **state)
{
    (void)state;
    assert_int_equal(check_one("fad"), 0);
    assert_int_equal(check_one("mdt"), 0);
}

static void test_random(void **state)
{
    (void)state;
    FILE *f = fopen("tests/hls/data/models/LIST", "r");
    assert_non_null(f);
    char name[128];
    int ok = 0, failed = 0, skipped = 0;
    while (fscanf(f, "%127s", name) == 1) {
        if (strncmp(name, "rand", 4) != 0)
            continue;
        int r = check_one(name);
        ok += r == 0;
        failed += r > 0;
        skipped += r < 0;
    }
    fclose(f);
    print_message("random models: %d bit-exact, %d with mismatches, %d unsupported\n", ok, failed,
                  skipped);
    assert_int_equal(failed, 0);
    assert_true(ok >= 12);
}

static void test_errors(void **state)
{
    (void)state;
    const ngt_backend *be = ngt_backend_hls();
    ngt_error err = {0};
    void *m = NULL;
    assert_true(be->load("models/fad.onnx", "{\"Model\": {\"Precision\": \"fixed<40,6>\"}}", &m,
                         &err) < 0);
    assert_non_null(strstr(err.msg, "width 40"));
    assert_true(be->load("models/fad.onnx", "{\"LayerName\": {\"fc1\": {\"Precision\": "
                                            "{\"accum\": \"fixed<16,6,AP_BAD>\"}}}}",
                         &m, &err) < 0);
    assert_non_null(strstr(err.msg, "fc1"));
    assert_true(be->load("models/fad.onnx", "{\"Model\": ", &m, &err) < 0);
    assert_true(be->load("models/fad.onnx", "/nonexistent.json", &m, &err) < 0);
    assert_non_null(strstr(err.msg, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
