/* test_kernels.c: the gpu kernels, emulated on the CPU over their grids (and launched on a device
 * when there is one), against the ref and genc backends (float: within a tolerance) and the hls
 * backend (fixed point: the same bits), at several batch sizes (batch-invariant: the same bits). */
#include <math.h>

#include "ngt_npy.h"
#include "testutil.h"

#include "gpu.h"

/* A backend by name, from a registry (the public way: the backends' own functions are internal). */
static const ngt_backend *backend(const char *name)
{
    static ngt_registry *reg;
    if (!reg)
        reg = ngt_registry_new(NULL);
    const ngt_backend *b = reg ? ngt_registry_backend(reg, name) : NULL;
    if (!b) {
        fprintf(stderr, "no backend '%s' in this build\n", name);
        exit(1);
    }
    return b;
}

typedef struct model {
    const ngt_backend *be;
    void *m;
} model;

static int load(model *x, const ngt_backend *be, const char *path, const char *opts, ngt_error *err)
{
    x->be = be;
    x->m = NULL;
    return be->load(path, opts, &x->m, err);
}

static void must_load(model *x, const ngt_backend *be, const char *path, const char *opts)
{
    ngt_error err = {0};
    if (load(x, be, path, opts, &err) != NGT_OK)
        fail_msg("load %s (%s, '%s'): %s", path, be->name, opts ? opts : "", err.msg);
}

/* n events of in through the model, chunk events per call (0: all at once). */
static void run(const model *x, const float *in, float *out, int n, int chunk, size_t ni, size_t no)
{
    ngt_error err = {0};
    if (chunk <= 0)
        chunk = n;
    void *ws = malloc(x->be->workspace_size(x->m, chunk) + 64);
    for (int at = 0; at < n; at += chunk) {
        int k = n - at < chunk ? n - at : chunk;
        const void *ip[1] = {in + (size_t)at * ni};
        void *op[1] = {out + (size_t)at * no};
        if (x->be->infer(x->m, ws, ip, op, k, &err) != NGT_OK)
            fail_msg("infer (%s): %s", x->be->name, err.msg);
    }
    free(ws);
}

static float *input(const char *name, int *n, size_t *ni)
{
    char path[128];
    snprintf(path, sizeof path, "models/%s.input.npy", name);
    ngt_npy a;
    ngt_error err = {0};
    if (ngt_npy_read(path, &a, &err) != NGT_OK)
        fail_msg("%s: %s", path, err.msg);
    *n = (int)a.shape[0];
    *ni = a.bytes / sizeof(float) / (size_t)*n;
    return a.data;
}

static size_t out_size(const model *x)
{
    ngt_model_desc d;
    x->be->describe(x->m, &d);
    size_t e = 1;
    for (int k = 0; k < d.outputs[0].rank; k++)
        e *= (size_t)d.outputs[0].shape[k];
    return e;
}

/* Float: within |a - b| <= 1e-5 + 1e-4 |b| of ref (docs/gpu.md). */
static void close_to(const char *what, const float *a, const float *b, size_t n)
{
    size_t bad = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        worst = d > worst ? d : worst;
        bad += !(d <= 1e-5 + 1e-4 * fabs(b[i]));
    }
    print_message("%s: %zu values, worst |diff| %.3g, %zu out of tolerance\n", what, n, worst, bad);
    assert_int_equal(bad, 0);
}

static void same_bits(const char *what, const float *a, const float *b, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += memcmp(&a[i], &b[i], sizeof *a) != 0;
    print_message("%s: %zu values, %zu differ\n", what, n, bad);
    assert_int_equal(bad, 0);
}

static void float_model(const char *name, int nmax, const char *opts)
{
    int n;
    size_t ni;
    float *in = input(name, &n, &ni);
    n = n < nmax ? n : nmax;
    char path[128], what[160];
    snprintf(path, sizeof path, "models/%s.onnx", name);
    model ref, gpu;
    must_load(&ref, backend("ref"), path, NULL);
    must_load(&gpu, backend("gpu"), path, opts);
    size_t no = out_size(&ref);
    float *r = malloc((size_t)n * no * sizeof *r), *g = malloc((size_t)n * no * sizeof *g);
    float *g2 = malloc((size_t)n * no * sizeof *g2);
    run(&ref, in, r, n, 0, ni, no);
    run(&gpu, in, g, n, 0, ni, no);
    snprintf(what, sizeof what, "%s float (%s) vs ref", name, opts);
    close_to(what, g, r, (size_t)n * no);
    model genc; /* and the compiled CPU backend */
    must_load(&genc, backend("genc"), path, NULL);
    run(&genc, in, r, n, 0, ni, no);
    snprintf(what, sizeof what, "%s float (%s) vs genc", name, opts);
    close_to(what, g, r, (size_t)n * no);
    genc.be->unload(genc.m);
    int chunks[] = {1, 7, 100};
    for (int c = 0; c < 3; c++) {
        run(&gpu, in, g2, n, chunks[c], ni, no);
        snprintf(what, sizeof what, "%s float (%s): batch %d vs %d", name, opts, chunks[c], n);
        same_bits(what, g2, g, (size_t)n * no);
    }
    gpu.be->unload(gpu.m);
    ref.be->unload(ref.m);
    free(r);
    free(g);
    free(g2);
    free(in);
}

static void test_float_fad(void **state)
{
    (void)state;
    float_model("fad", 1024, "emulate=1");
}

static void test_float_fad_cublas(void **state)
{
    (void)state;
    float_model("fad", 300, "emulate=1 gemm=cublas tile=64");
}

static void test_float_mdt(void **state)
{
    (void)state;
    float_model("mdt", 256, "emulate=1");
}

/* Fixed point: the same bits as the hls backend. Returns how many layers sum by hls4ml's per-add
 * casts (not the exact int64 path). */
static int fixed_model(const char *name, const char *precision, int nmax)
{
    int n;
    size_t ni;
    float *in = input(name, &n, &ni);
    n = n < nmax ? n : nmax;
    char path[128], opts[512], what[600];
    snprintf(path, sizeof path, "models/%s.onnx", name);
    snprintf(opts, sizeof opts, "emulate=1 precision=%s", precision);
    model hls, gpu;
    must_load(&hls, backend("hls"), path, precision);
    must_load(&gpu, backend("gpu"), path, opts);
    const gpu_model *gm = gpu.m;
    assert_int_equal(gm->fixed, 1);
    int slow = 0;
    for (int k = 0; k < gm->xnet.n_layers; k++)
        slow += (gm->xnet.l[k].kind == GPU_X_DENSE || gm->xnet.l[k].kind == GPU_X_CONV1D) &&
                !gm->xnet.l[k].fast;
    size_t no = out_size(&hls);
    float *h = malloc((size_t)n * no * sizeof *h), *g = malloc((size_t)n * no * sizeof *g);
    run(&hls, in, h, n, 0, ni, no);
    int chunks[] = {0, 7};
    for (int c = 0; c < 2; c++) {
        run(&gpu, in, g, n, chunks[c], ni, no);
        snprintf(what, sizeof what, "%s fixed (%.60s) batch %d vs hls", name, precision,
                 chunks[c] ? chunks[c] : n);
        same_bits(what, g, h, (size_t)n * no);
    }
    gpu.be->unload(gpu.m);
    hls.be->unload(hls.m);
    free(h);
    free(g);
    free(in);
    return slow;
}

static void test_fixed_fad(void **state)
{
    (void)state;
    assert_int_equal(fixed_model("fad", "configs/fad_hls.json", 1024), 0);
}

static void test_fixed_mdt(void **state)
{
    (void)state;
    assert_int_equal(fixed_model("mdt", "configs/mdt_hls.json", 128), 0);
}

/* Narrow saturating and rounding accumulators: hls4ml's per-add casts, in op order. */
static void test_fixed_narrow(void **state)
{
    (void)state;
    const char *cfg = "{\"Model\":{\"Precision\":{\"default\":\"fixed<16,6>\"}},\"LayerName\":{"
                      "\"fc1\":{\"Precision\":{\"accum\":\"fixed<14,5,RND_CONV,SAT>\","
                      "\"result\":\"fixed<12,5,RND,SAT_SYM>\"}},"
                      "\"fc3\":{\"Precision\":{\"accum\":\"fixed<12,3,RND_INF,WRAP>\"}}}}";
    assert_true(fixed_model("fad", cfg, 512) >= 1);
    const char *cfg2 = "{\"Model\":{\"Precision\":{\"default\":\"fixed<20,6>\"}},\"LayerName\":{"
                       "\"conv1\":{\"Precision\":{\"accum\":\"fixed<16,4,RND_ZERO,SAT>\"}}}}";
    assert_true(fixed_model("mdt", cfg2, 32) >= 1);
}

/* The same exp on every machine: within 2 ulp of the C library's over its whole range. */
static void test_errors(void **state)
{
    (void)state;
    model x;
    ngt_error err = {0};
    assert_true(load(&x, backend("gpu"), "models/fad.onnx", "emulate=2", &err) < 0);
    assert_non_null(strstr(err.msg, "emulate"));
    assert_true(load(&x, backend("gpu"), "models/fad.onnx",
                     "emulate=1 gemm=cublas "
                     "precision=configs/fad_hls.json",
                     &err) < 0);
    assert_true(load(&x, backend("gpu"), "models/none.onnx", "emulate=1", &err) < 0);
    assert_true(load(&x, backend("gpu"), "models/fad.onnx", "delay_ms=3", &err) < 0);
}

/* Real launches: the same bits as the emulation (float fused and fixed), cuBLAS within the
 * tolerance. Without a device: loading fails clearly, and the launches are skipped. */
static void test_device(void **state)
{
    (void)state;
    model x;
    ngt_error err = {0};
    int rc = load(&x, backend("gpu"), "models/fad.onnx", "", &err);
    if (rc != NGT_OK) {
        assert_int_equal(rc, NGT_EUNSUPPORTED);
        assert_non_null(strstr(err.msg, "CUDA"));
        print_message("no CUDA device (%s): real launches skipped, only the emulation was "
                      "checked\n",
                      err.msg);
        skip();
        return;
    }
    print_message("device: %s\n", gpu_device_name());
    x.be->unload(x.m);
    const char *cases[][3] = {
        {"fad", "", "emulate=1"},
        {"mdt", "", "emulate=1"},
        {"fad", "precision=configs/fad_hls.json", "emulate=1 precision=configs/fad_hls.json"},
        {"mdt", "precision=configs/mdt_hls.json", "emulate=1 precision=configs/mdt_hls.json"},
        {"fad", "gemm=cublas tile=0", "emulate=1"}};
    for (int c = 0; c < 5; c++) {
        int n;
        size_t ni;
        float *in = input(cases[c][0], &n, &ni);
        char path[128];
        snprintf(path, sizeof path, "models/%s.onnx", cases[c][0]);
        model dev, emu;
        must_load(&dev, backend("gpu"), path, cases[c][1]);
        must_load(&emu, backend("gpu"), path, cases[c][2]);
        size_t no = out_size(&dev);
        if (strcmp(cases[c][0], "mdt") == 0 && n > 256)
            n = 256;
        float *a = malloc((size_t)n * no * 4), *b = malloc((size_t)n * no * 4);
        run(&dev, in, a, n, 0, ni, no);
        run(&emu, in, b, n, 0, ni, no);
        char what[160];
        snprintf(what, sizeof what, "%s '%s' device vs emulation", cases[c][0], cases[c][1]);
        if (c == 4)
            close_to(what, a, b, (size_t)n * no);
        else
            same_bits(what, a, b, (size_t)n * no);
        run(&dev, in, a, n, 7, ni, no);
        if (c != 4)
            same_bits("device at batch 7", a, b, (size_t)n * no);
        dev.be->unload(dev.m);
        emu.be->unload(emu.m);
        free(a);
        free(b);
        free(in);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_fad), cmocka_unit_test(test_float_fad_cublas),
        cmocka_unit_test(test_float_mdt), cmocka_unit_test(test_fixed_fad),
        cmocka_unit_test(test_fixed_mdt), cmocka_unit_test(test_fixed_narrow),
        cmocka_unit_test(test_errors),    cmocka_unit_test(test_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
