/* bench_genc_core.c: the C half of bench/genc: this core's FP32 FMA peak, genc, the ref backend
 * and a layer-by-layer cblas_sgemm fad, at batch 1, 16, 256, 1024, one thread; one line per row. */
#include "genc/genc.h"
#include "ref/ref.h"
#include "ngt.h"

#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* 12 independent FMA chains on the widest vector: FLOP/s of one core at its peak. */
__attribute__((target("avx512f"))) static double peak512(long iters)
{
    __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    __m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2),
           a3 = _mm512_set1_ps(3);
    __m512 a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5), a6 = _mm512_set1_ps(6),
           a7 = _mm512_set1_ps(7);
    __m512 a8 = _mm512_set1_ps(8), a9 = _mm512_set1_ps(9), a10 = _mm512_set1_ps(10),
           a11 = _mm512_set1_ps(11);
    double t = now();
    for (long k = 0; k < iters; k++) {
#define F(a) a = _mm512_fmadd_ps(a, m, c)
        F(a0);
        F(a1);
        F(a2);
        F(a3);
        F(a4);
        F(a5);
        F(a6);
        F(a7);
        F(a8);
        F(a9);
        F(a10);
        F(a11);
#undef F
    }
    t = now() - t;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    float out[16];
    _mm512_storeu_ps(out, s);
    return out[0] == 12345.0f ? 0 : 2.0 * 16 * 12 * (double)iters / t;
}

__attribute__((target("avx2,fma"))) static double peak256(long iters)
{
    __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2),
           a3 = _mm256_set1_ps(3);
    __m256 a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5), a6 = _mm256_set1_ps(6),
           a7 = _mm256_set1_ps(7);
    __m256 a8 = _mm256_set1_ps(8), a9 = _mm256_set1_ps(9), a10 = _mm256_set1_ps(10),
           a11 = _mm256_set1_ps(11);
    double t = now();
    for (long k = 0; k < iters; k++) {
#define F(a) a = _mm256_fmadd_ps(a, m, c)
        F(a0);
        F(a1);
        F(a2);
        F(a3);
        F(a4);
        F(a5);
        F(a6);
        F(a7);
        F(a8);
        F(a9);
        F(a10);
        F(a11);
#undef F
    }
    t = now() - t;
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float out[16];
    _mm256_storeu_ps(out, s);
    return out[0] == 12345.0f ? 0 : 2.0 * 8 * 12 * (double)iters / t;
}

typedef struct run {
    const ngt_backend *be;
    void *model;
    void *ws;
    size_t in_row, out_row;
} run;

static double time_backend(run *r, const float *x, float *y, int n, double budget)
{
    const void *in[1] = {x};
    void *out[1] = {y};
    ngt_error err = {0};
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now(), t;
        long c = 0;
        do {
            if (r->be->infer(r->model, r->ws, in, out, n, &err)) {
                fprintf(stderr, "infer: %s\n", err.msg);
                exit(1);
            }
            c++;
        } while ((t = now() - t0) < budget / 5);
        best = t / (double)c < best ? t / (double)c : best;
    }
    return best; /* seconds per call */
}

static int load(run *r, const ngt_backend *be, const char *path)
{
    ngt_error err = {0};
    memset(r, 0, sizeof *r);
    r->be = be;
    if (be->load(path, NULL, &r->model, &err)) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return -1;
    }
    r->ws = aligned_alloc(64, (be->workspace_size(r->model, 1024) + 127) / 64 * 64);
    return 0;
}

/* fad as four cblas_sgemm calls (y = x W^T + b, ReLU between), the usual way. */
static float *fw[4], *fb[4];
static const int fdims[5] = {77, 32, 32, 32, 76};

static void fad_init(void)
{
    srand(7);
    for (int l = 0; l < 4; l++) {
        fw[l] = malloc(sizeof(float) * fdims[l] * fdims[l + 1]);
        fb[l] = malloc(sizeof(float) * fdims[l + 1]);
        for (int i = 0; i < fdims[l] * fdims[l + 1]; i++)
            fw[l][i] = (float)((double)rand() / RAND_MAX) - 0.5f;
        for (int i = 0; i < fdims[l + 1]; i++)
            fb[l][i] = 0.01f * (float)i;
    }
}

static void fad_blas(const float *x, float *y, float *t1, float *t2, int n)
{
    const float *in = x;
    for (int l = 0; l < 4; l++) {
        float *out = l == 3 ? y : (l % 2 ? t2 : t1);
        int N = fdims[l + 1];
        for (int i = 0; i < n; i++)
            memcpy(out + (size_t)i * N, fb[l], sizeof(float) * N);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, N, fdims[l], 1.0f, in, fdims[l],
                    fw[l], fdims[l], 1.0f, out, N);
        if (l < 3)
            for (size_t i = 0; i < (size_t)n * N; i++)
                out[i] = out[i] > 0 ? out[i] : 0;
        in = out;
    }
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 0.5;
    openblas_set_num_threads(1);
    const char *isa = ngt_cpu_isa();
    double peak = !strcmp(isa, "avx512") ? peak512(20000000) : peak256(20000000);
    printf("cpu\t%s\nisa\t%s\nblas\t%s\npeak_gflops\t%.1f\n", ngt_cpu_model(), isa,
           ngt_blas_kernel(), peak / 1e9);
    const char *models[2] = {"fad", "mdt"};
    const double flops[2] = {13888, 2.0 * 216 * (12 * 24 + 12 * 12 * 3 + 12)};
    const int batches[4] = {1, 16, 256, 1024};
    size_t maxb = 1024;
    float *x = calloc(maxb * 216, sizeof(float)), *y = calloc(maxb * 216, sizeof(float));
    float *t1 = calloc(maxb * 32, sizeof(float)), *t2 = calloc(maxb * 32, sizeof(float));
    for (size_t i = 0; i < maxb * 216; i++)
        x[i] = (float)((i * 7919) % 1000) / 1000.0f;
    fad_init();
    for (int m = 0; m < 2; m++) {
        char path[64];
        snprintf(path, sizeof path, "models/%s.onnx", models[m]);
        run g, r;
        if (load(&g, genc_backend(), path) || load(&r, ref_backend(), path))
            return 1;
        for (int b = 0; b < 4; b++) {
            int n = batches[b];
            double tg = time_backend(&g, x, y, n, budget);
            double tr = time_backend(&r, x, y, n, budget / 2);
            printf("row\t%s\t%d\tgenc\t%.4f\t%.3f\n", models[m], n, tg * 1e6,
                   flops[m] * n / tg / 1e9);
            printf("row\t%s\t%d\tref\t%.4f\t%.3f\n", models[m], n, tr * 1e6,
                   flops[m] * n / tr / 1e9);
            if (m == 0) {
                double best = 1e30;
                for (int rep = 0; rep < 5; rep++) {
                    long c = 0;
                    double t0 = now(), t;
                    do {
                        fad_blas(x, y, t1, t2, n);
                        c++;
                    } while ((t = now() - t0) < budget / 5);
                    best = t / (double)c < best ? t / (double)c : best;
                }
                printf("row\t%s\t%d\tsgemm\t%.4f\t%.3f\n", models[m], n, best * 1e6,
                       flops[m] * n / best / 1e9);
            }
            fflush(stdout);
        }
        g.be->unload(g.model);
        r.be->unload(r.model);
    }
    return 0;
}
