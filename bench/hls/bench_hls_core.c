/* bench_hls_core.c: the C half of bench/hls: the hls backend on one thread over the given events
 * (events/s, best of 5), and its mismatches against hls4ml's outputs when they are given. */
#include "hls/ngt_hls.h"
#include "ngt_npy.h"
#include "hls/hls_model.h"

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

/* Raw output bits of every event against hls4ml's float64 outputs (ONNX layout); with float64
 * outputs (NgtOutput f64) the output values too. */
static long mismatches(const ngt_backend *be, void *m, void *ws, const float *x, int n,
                       const ngt_npy *want)
{
    const hls_model *hm = m;
    const hls_layer *o = &hm->layers[hm->out_layer];
    size_t ni = (size_t)hm->layers[0].size, no = (size_t)o->size;
    int hw = o->w ? o->h * o->w : 1, c = o->w ? o->c : (int)o->size;
    double *out = malloc(no * sizeof *out); /* float or double values */
    const double *wd = want->data;
    long bad = 0;
    for (int e = 0; e < n && out; e++) {
        const void *in[1] = {x + (size_t)e * ni};
        void *op[1] = {out};
        ngt_error err = {0};
        if (be->infer(m, ws, in, op, 1, &err) < 0) {
            fprintf(stderr, "bench_hls: %s\n", err.msg);
            bad = -1;
            break;
        }
        const int64_t *raw = hls_output_raw(m, ws);
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++) {
                double w = wd[(size_t)e * no + (size_t)ch * hw + p];
                bad += ldexp(w, hls_frac(&o->res)) != (double)raw[(size_t)p * c + ch] ||
                       (hm->out_f64 && out[(size_t)ch * hw + p] != w);
            }
    }
    free(out);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--cpu") == 0) {
        printf("%s, ISA %s, one thread\n", ngt_cpu_model(), ngt_cpu_isa());
        return 0;
    }
    if (argc < 5 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: bench_hls_core NAME MODEL.onnx CONFIG IN.npy [HLS4ML_OUT.npy]\n"
                        "(CONFIG with NgtOutput f64: float64 outputs, also compared as values)\n"
                        "prints: NAME events events_per_s mismatches(-1 without hls4ml outputs)\n"
                        "then: kernel VARIANT (the tiled path's, docs/hls.md)\n");
        return 2;
    }
    const ngt_backend *be = hls_backend();
    ngt_error err = {0};
    void *m = NULL;
    ngt_npy x, want;
    if (be->load(argv[2], argv[3], &m, &err) < 0 || ngt_npy_read(argv[4], &x, &err) < 0) {
        fprintf(stderr, "bench_hls: %s\n", err.msg);
        return 1;
    }
    const hls_model *hm = m;
    int n = (int)x.shape[0], batch = 256;
    size_t ni = (size_t)hm->layers[0].size, no = (size_t)hm->layers[hm->out_layer].size;
    void *ws = malloc(be->workspace_size(m, batch));
    size_t osz = hm->out_f64 ? sizeof(double) : sizeof(float); /* NgtOutput */
    char *out = calloc((size_t)n * no, osz);
    const float *xf = x.data;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        long done = 0;
        double t0 = now(), t;
        do {
            for (int e = 0; e < n; e += batch) {
                int k = n - e < batch ? n - e : batch;
                const void *in[1] = {xf + (size_t)e * ni};
                void *op[1] = {out + (size_t)e * no * osz};
                if (be->infer(m, ws, in, op, k, &err) < 0) {
                    fprintf(stderr, "bench_hls: %s\n", err.msg);
                    return 1;
                }
            }
            done += n;
            t = now() - t0;
        } while (t < 0.3);
        double r = (double)done / t;
        best = r > best ? r : best;
    }
    long bad = -1;
    if (argc > 5) {
        if (ngt_npy_read(argv[5], &want, &err) < 0 || want.dtype != NGT_F64 || want.shape[0] != n) {
            fprintf(stderr, "bench_hls: %s: expected %d float64 events %s\n", argv[5], n, err.msg);
            return 1;
        }
        bad = mismatches(be, m, ws, xf, n, &want);
        ngt_npy_free(&want);
    }
    printf("%s %d %.1f %ld\nkernel %s\n", argv[1], n, best, bad, hls_tile_kernel(hm));
    free(ws);
    free(out);
    ngt_npy_free(&x);
    be->unload(m);
    return 0;
}
