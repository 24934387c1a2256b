/* test_torch.c: the torch backend on AOTInductor packages that tools/export_torch.py builds into
 * $NGT_TORCH_DIR: fad and mdt against eager torch (the same inputs) at batch 1, 7 and 1024 and
 * against the ref backend, within the documented tolerance (docs/torch.md); a source-only package
 * compiled at load; bad packages refused with clear errors; a missing libtorch; two package
 * versions swapped while batches run; AOTInductor's output tensors counted.
 * Exits 77 (skipped) with the reason when torch is not installed here: see tests/torch/CMakeLists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conform/conform.h"
#include "ngt_npy.h"
#include "ref/ref.h"
#include "torch/torch_int.h"

/* docs/torch.md: |torch - eager| <= TORCH_ABS + TORCH_REL * |eager| (and the same against ref). */
#define TORCH_ABS 1e-5
#define TORCH_REL 1e-5

static const char *dir;

static void pkg(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s.pt2", dir, name);
}

static void read_npy(const char *path, ngt_npy *a)
{
    ngt_error err = {0};
    if (ngt_npy_read(path, a, &err))
        fail_msg("%s", err.msg);
}

/* Runs all 1024 events of models/NAME.input.npy through conform model c in calls of chunk. */
static float *run_all(conform_model *c, const ngt_npy *x, int chunk)
{
    ngt_error err = {0};
    int n = (int)x->shape[0];
    float *y = calloc((size_t)n, conform_row_bytes(&c->desc.outputs[0]));
    const void *in[1] = {x->data};
    void *out[1] = {y};
    if (conform_run(c, in, out, 0, n, chunk, &err))
        fail_msg("%s", err.msg);
    return y;
}

static void check_model(const char *name, const char *package)
{
    char path[512], in_path[256], eager_path[512], onnx[256];
    pkg(path, sizeof path, package);
    snprintf(in_path, sizeof in_path, "models/%s.input.npy", name);
    snprintf(eager_path, sizeof eager_path, "%s/%s.eager.npy", dir, name);
    snprintf(onnx, sizeof onnx, "models/%s.onnx", name);
    ngt_npy x, eager;
    read_npy(in_path, &x);
    read_npy(eager_path, &eager);
    ngt_error err = {0};
    conform_model c, ref;
    if (conform_load(&c, torch_backend(), path, NULL, 0, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(c.desc.batch_invariant, 0);
    assert_int_equal(c.desc.max_batch, 1024);
    if (conform_load(&ref, ref_backend(), onnx, NULL, 0, &err))
        fail_msg("%s", err.msg);
    int n = (int)x.shape[0];
    assert_int_equal(n, 1024);
    size_t count = (size_t)n * conform_row_bytes(&c.desc.outputs[0]) / sizeof(float);
    assert_int_equal(count * sizeof(float), eager.bytes);
    float *want_ref = run_all(&ref, &x, 1024);
    static const int chunks[] = {1, 7, 1024};
    for (size_t b = 0; b < sizeof chunks / sizeof chunks[0]; b++) {
        float *y = run_all(&c, &x, chunks[b]);
        double worst_e, worst_r;
        double ex_e =
            conform_compare_tol(NGT_F32, y, eager.data, count, TORCH_ABS, TORCH_REL, &worst_e);
        double ex_r =
            conform_compare_tol(NGT_F32, y, want_ref, count, TORCH_ABS, TORCH_REL, &worst_r);
        printf("%s (%s): batch %4d: worst |torch - eager| = %.3g, |torch - ref| = %.3g\n", name,
               package, chunks[b], worst_e, worst_r);
        if (ex_e > 0 || ex_r > 0)
            fail_msg("%s at batch %d: beyond the tolerance (eager %g, ref %g)", name, chunks[b],
                     worst_e, worst_r);
        free(y);
    }
    free(want_ref);
    conform_unload(&ref);
    conform_unload(&c);
    ngt_npy_free(&x);
    ngt_npy_free(&eager);
}

static void test_fad(void **state)
{
    (void)state;
    check_model("fad", "fad");
}

static void test_mdt(void **state)
{
    (void)state;
    check_model("mdt", "mdt");
}

/* A source-only package (aot_inductor.package_cpp_only) compiled at load, cached by hash. */
static void test_cpp_only(void **state)
{
    (void)state;
    check_model("fad", "fad_cpp");
}

static void expect_error(const char *package, const char *options, const char *needle)
{
    char path[512];
    pkg(path, sizeof path, package);
    ngt_error err = {0};
    void *model = NULL;
    int rc = torch_backend()->load(path, options, &model, &err);
    printf("%s: %s\n", package, err.msg);
    if (rc == 0 || model)
        fail_msg("%s loaded", package);
    if (!strstr(err.msg, needle))
        fail_msg("%s: '%s' does not say '%s'", package, err.msg, needle);
    if (!strstr(err.msg, path))
        fail_msg("%s: '%s' does not name the file", package, err.msg);
}

static void test_bad_packages(void **state)
{
    (void)state;
    expect_error("bad_notzip", NULL, "not a zip");
    expect_error("bad_nolib", NULL, "no model library");
    expect_error("bad_shape", NULL, "a first event of zeros");
    expect_error("bad_dtype", NULL, "a first event of zeros");
    expect_error("bad_f16", NULL, "dtype f16");
    expect_error("bad_oldtorch", NULL, "compiled by torch 1.0.0");
    expect_error("fad", "model=other", "no model 'other'");
    expect_error("fad", "threads=x", "bad option");
    expect_error("missing", NULL, "cannot open");
}

/* NGT_LIBTORCH naming no library: a clear error, and the next load (variable unset) works. */
static void test_no_libtorch(void **state)
{
    (void)state;
    setenv("NGT_LIBTORCH", "/nonexistent/libtorch.so", 1);
    expect_error("fad", NULL, "cannot load libtorch /nonexistent/libtorch.so (from NGT_LIBTORCH)");
    unsetenv("NGT_LIBTORCH");
}

/* ---- a runtime swap: fad and fad_v2 published in turn while another thread runs batches ---- */
typedef struct swap_state {
    ngt_registry *r;
    const float *x, *v1, *v2;
    atomic_int stop;
    int batches, n_v1, n_v2, bad, errors;
    char msg[NGT_ERR_MSG_MAX];
} swap_state;

enum { SWAP_BATCH = 64, SWAP_OUT = 76 };

static int same(const float *a, const float *b, size_t n)
{
    double worst;
    return conform_compare_tol(NGT_F32, a, b, n, TORCH_ABS, TORCH_REL, &worst) <= 0;
}

static void *swap_runner(void *arg)
{
    swap_state *s = arg;
    static float y[SWAP_BATCH * SWAP_OUT];
    for (int b = 0; !atomic_load(&s->stop) || b < 4; b++) {
        int first = (b * SWAP_BATCH) % (1024 - SWAP_BATCH);
        const void *in[1] = {s->x + (size_t)first * 77};
        void *out[1] = {y};
        ngt_error err = {0};
        if (ngt_registry_infer(s->r, "fad", in, out, SWAP_BATCH, &err)) {
            s->errors++;
            memcpy(s->msg, err.msg, sizeof s->msg);
            continue;
        }
        size_t off = (size_t)first * SWAP_OUT, cnt = (size_t)SWAP_BATCH * SWAP_OUT;
        if (same(y, s->v1 + off, cnt))
            s->n_v1++;
        else if (same(y, s->v2 + off, cnt))
            s->n_v2++;
        else
            s->bad++;
        s->batches++;
    }
    return NULL;
}

static void test_swap(void **state)
{
    (void)state;
    char p1[512], p2[512], e2[512];
    pkg(p1, sizeof p1, "fad");
    pkg(p2, sizeof p2, "fad_v2");
    snprintf(e2, sizeof e2, "%s/fad_v2.eager.npy", dir);
    char e1[512];
    snprintf(e1, sizeof e1, "%s/fad.eager.npy", dir);
    ngt_npy x, v1, v2;
    read_npy("models/fad.input.npy", &x);
    read_npy(e1, &v1);
    read_npy(e2, &v2);
    ngt_error err = {0};
    swap_state s = {.x = x.data, .v1 = v1.data, .v2 = v2.data};
    s.r = ngt_registry_new(&err);
    assert_non_null(s.r);
    if (ngt_registry_load(s.r, "fad", "torch", p1, NULL, &err))
        fail_msg("%s", err.msg);
    uint64_t h1 = ngt_registry_model_hash(s.r, "fad");
    pthread_t t;
    pthread_create(&t, NULL, swap_runner, &s);
    int swaps = 0;
    for (int i = 0; i < 6; i++, swaps++) {
        if (ngt_registry_load(s.r, "fad", "torch", i % 2 ? p1 : p2, NULL, &err))
            fail_msg("swap %d: %s", i, err.msg);
        nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
    }
    atomic_store(&s.stop, 1);
    pthread_join(t, NULL);
    uint64_t h_last = ngt_registry_model_hash(s.r, "fad");
    printf("swap: %d swaps, %d batches: %d as v1, %d as v2, %d neither, %d errors %s\n", swaps,
           s.batches, s.n_v1, s.n_v2, s.bad, s.errors, s.msg);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.n_v1 + s.n_v2, s.batches);
    assert_true(s.n_v2 > 0);
    assert_true(h_last == h1); /* an even number of swaps ends on v1 */
    /* the last published version is v1: its outputs now */
    static float y[SWAP_BATCH * SWAP_OUT];
    const void *in[1] = {x.data};
    void *out[1] = {y};
    if (ngt_registry_infer(s.r, "fad", in, out, SWAP_BATCH, &err))
        fail_msg("%s", err.msg);
    assert_true(same(y, v1.data, (size_t)SWAP_BATCH * SWAP_OUT));
    ngt_registry_free(s.r);
    ngt_npy_free(&x);
    ngt_npy_free(&v1);
    ngt_npy_free(&v2);
}

/* Every run's output tensors are AOTInductor's: counted, one per output per run. */
static void test_counters(void **state)
{
    (void)state;
    char path[512];
    pkg(path, sizeof path, "fad");
    ngt_error err = {0};
    conform_model c;
    if (conform_load(&c, torch_backend(), path, NULL, 0, &err))
        fail_msg("%s", err.msg);
    ngt_torch_counters a, b;
    ngt_torch_counters_get(&a);
    static float x[10 * 77], y[10 * 76];
    const void *in[1] = {x};
    void *out[1] = {y};
    for (int i = 0; i < 5; i++)
        assert_int_equal(c.be->infer(c.model, c.ws, in, out, 10, &err), 0);
    assert_true(c.be->infer(c.model, c.ws, in, out, 1025, &err) < 0); /* beyond max_batch */
    assert_int_equal(c.be->infer(c.model, c.ws, in, out, 0, &err), 0);
    ngt_torch_counters_get(&b);
    assert_int_equal(b.runs - a.runs, 5);
    assert_int_equal(b.output_tensors - a.output_tensors, 5);
    assert_int_equal(b.output_bytes - a.output_bytes, 5 * 10 * 76 * sizeof(float));
    conform_unload(&c);
}

int main(void)
{
    dir = getenv("NGT_TORCH_DIR");
    char probe[512];
    if (!dir || (snprintf(probe, sizeof probe, "%s/fad.pt2", dir), access(probe, R_OK))) {
        printf("SKIP: no packages in %s (tools/export_torch.py did not run: torch is not "
               "installed; scripts/bootstrap --torch)\n",
               dir ? dir : "$NGT_TORCH_DIR (unset)");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_libtorch),  cmocka_unit_test(test_fad),
        cmocka_unit_test(test_mdt),          cmocka_unit_test(test_cpp_only),
        cmocka_unit_test(test_bad_packages), cmocka_unit_test(test_swap),
        cmocka_unit_test(test_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
