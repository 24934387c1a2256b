/* bench_gpu.c: events/s of the gpu backend on fad and mdt, float and fixed point, at batch 256 to
 * 65536, beside the CPU backends on the same machine (genc for float, hls for fixed point, one
 * thread); the device named, the copies timed apart from the kernels; then the fused MLP against
 * cuBLAS layer by layer (target: >= 2x at >= 16k events). Medians of 7 runs after a warm-up.
 * Usage: bench_gpu [--quick]   (run from the repository root). Without a device: says so, exit 0.
 */
#include "ngt_npy.h"
#include "gpu.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { REPS = 7 };

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

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

/* n events tiled from the model's reference inputs. */
static float *events(const char *name, int n, size_t *ni)
{
    char path[128];
    snprintf(path, sizeof path, "models/%s.input.npy", name);
    ngt_npy a;
    ngt_error err = {0};
    if (ngt_npy_read(path, &a, &err) != NGT_OK) {
        fprintf(stderr, "bench_gpu: %s\n", err.msg);
        exit(1);
    }
    int have = (int)a.shape[0];
    *ni = a.bytes / sizeof(float) / (size_t)have;
    float *x = malloc((size_t)n * *ni * sizeof *x);
    for (int e = 0; e < n; e++)
        memcpy(x + (size_t)e * *ni, (float *)a.data + (size_t)(e % have) * *ni, *ni * sizeof *x);
    ngt_npy_free(&a);
    return x;
}

static void *load(const ngt_backend *be, const char *path, const char *opts)
{
    void *m = NULL;
    ngt_error err = {0};
    if (be->load(path, opts, &m, &err) != NGT_OK) {
        fprintf(stderr, "bench_gpu: %s (%s): %s\n", path, be->name, err.msg);
        exit(1);
    }
    return m;
}

/* The CPU backend's events/s on one thread (at most 4096 events a run: a rate per event). */
static double cpu_rate(const ngt_backend *be, void *m, const float *in, float *out, int n)
{
    if (n > 4096)
        n = 4096;
    void *ws = aalloc(be->workspace_size(m, n));
    const void *ip[1] = {in};
    void *op[1] = {out};
    ngt_error err = {0};
    double t[REPS];
    be->infer(m, ws, ip, op, n, &err);
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = now_ns();
        be->infer(m, ws, ip, op, n, &err);
        t[r] = (double)(now_ns() - t0) * 1e-9;
    }
    afree(ws);
    return n / median(t, REPS);
}

/* The device's times (ms: copy in, kernels, copy out), medians. */
static void gpu_times(void *m, const float *in, float *out, int n, double ms[3])
{
    double v[3][REPS], once[3];
    ngt_error err = {0};
    if (gpu_bench_once(m, in, out, n, once, &err) != NGT_OK) {
        fprintf(stderr, "bench_gpu: %s\n", err.msg);
        exit(1);
    }
    for (int r = 0; r < REPS; r++) {
        gpu_bench_once(m, in, out, n, once, &err);
        for (int k = 0; k < 3; k++)
            v[k][r] = once[k];
    }
    for (int k = 0; k < 3; k++)
        ms[k] = median(v[k], REPS);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    ngt_error err = {0};
    if (gpu_device_check(&err) != NGT_OK) {
        printf("bench/gpu: no CUDA device on this machine (%s): nothing measured\n", err.msg);
        return 0;
    }
    printf("bench/gpu on %s; CPU %s (%s, BLAS %s), CPU backends on one thread\n", gpu_device_name(),
           ngt_cpu_model(), ngt_cpu_isa(), ngt_blas_kernel());
    const int batches[] = {256, 1024, 4096, 16384, 65536};
    int nb = quick ? 3 : 5;
    const struct {
        const char *name, *precision;
    } cases[] = {{"fad", NULL},
                 {"fad", "configs/fad_hls.json"},
                 {"mdt", NULL},
                 {"mdt", "configs/mdt_hls.json"}};
    printf("\n%-4s %-6s %7s | %12s %12s %9s %9s %9s | %12s %6s | %8s\n", "model", "kind", "batch",
           "gpu ev/s", "+copies", "in ms", "kern ms", "out ms", "cpu ev/s", "cpu", "gpu/cpu");
    for (int c = 0; c < 4; c++) {
        char path[64], opts[128];
        snprintf(path, sizeof path, "models/%s.onnx", cases[c].name);
        snprintf(opts, sizeof opts, "%s%s", cases[c].precision ? "precision=" : "",
                 cases[c].precision ? cases[c].precision : "");
        void *g = load(backend("gpu"), path, opts);
        const ngt_backend *cb = cases[c].precision ? backend("hls") : backend("genc");
        void *cm = load(cb, path, cases[c].precision);
        for (int b = 0; b < nb; b++) {
            int n = batches[b];
            size_t ni;
            float *in = events(cases[c].name, n, &ni);
            float *out = malloc((size_t)n * ((const gpu_model *)g)->out_bytes);
            double ms[3];
            gpu_times(g, in, out, n, ms);
            double cpu = cpu_rate(cb, cm, in, out, n);
            double kern = n / (ms[1] * 1e-3), all = n / ((ms[0] + ms[1] + ms[2]) * 1e-3);
            printf("%-4s %-6s %7d | %12.4g %12.4g %9.4f %9.4f %9.4f | %12.4g %6s | %8.1f\n",
                   cases[c].name, gpu_model_path(g), n, kern, all, ms[0], ms[1], ms[2], cpu,
                   cb->name, all / cpu);
            free(in);
            free(out);
        }
        backend("gpu")->unload(g);
        cb->unload(cm);
    }
    printf("\nfad float: the fused kernel vs cuBLAS layer by layer (kernels only, no copies)\n");
    printf("%7s | %12s %12s | %6s\n", "batch", "fused ms", "cublas ms", "ratio");
    void *fu = load(backend("gpu"), "models/fad.onnx", "gemm=fused");
    void *cu = load(backend("gpu"), "models/fad.onnx", "gemm=cublas tile=0");
    for (int b = 0; b < nb; b++) {
        int n = batches[b];
        size_t ni;
        float *in = events("fad", n, &ni);
        float *out = malloc((size_t)n * 76 * sizeof *out);
        double a[3], c2[3];
        gpu_times(fu, in, out, n, a);
        gpu_times(cu, in, out, n, c2);
        printf("%7d | %12.4f %12.4f | %6.2fx%s\n", n, a[1], c2[1], c2[1] / a[1],
               n >= 16384
                   ? (c2[1] / a[1] >= 2 ? "  (target >= 2x: met)" : "  (target >= 2x: missed)")
                   : "");
        free(in);
        free(out);
    }
    backend("gpu")->unload(fu);
    backend("gpu")->unload(cu);
    return 0;
}
