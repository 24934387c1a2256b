/* bench_torch_core.c: the C half of bench/torch (bench_torch.py runs it): per-call times of fad
 * and mdt through ngt's torch backend (the .pt2 packages) and genc (the same models' .onnx) at
 * the given batch sizes, one thread. Prints "time BACKEND MODEL BATCH SECONDS_PER_CALL" lines.
 * Usage: bench_torch_core PT2_DIR BUDGET_S BATCH... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ngt.h"
#include "torch/ngt_torch.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static size_t row(const ngt_tensor_desc *d)
{
    size_t e = ngt_dtype_size(d->dtype);
    for (int k = 0; k < d->rank; k++)
        e *= (size_t)d->shape[k];
    return e;
}

/* Best of 5 rounds of budget/5 seconds each: seconds per infer call of n events. */
static double per_call(const ngt_backend *be, void *model, void *ws, const void *x, void *y, int n,
                       double budget)
{
    const void *in[1] = {x};
    void *out[1] = {y};
    ngt_error err = {0};
    for (int i = 0; i < 20; i++)
        if (be->infer(model, ws, in, out, n, &err)) {
            fprintf(stderr, "bench_torch_core: %s\n", err.msg);
            exit(1);
        }
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        long c = 0;
        double t0 = now(), t;
        do {
            be->infer(model, ws, in, out, n, &err);
            c++;
            t = now() - t0;
        } while (t < budget / 5);
        if (t / (double)c < best)
            best = t / (double)c;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_torch_core PT2_DIR BUDGET_S BATCH...\n");
        return 2;
    }
    double budget = atof(argv[2]);
    static const char *models[] = {"fad", "mdt"};
    for (int mi = 0; mi < 2; mi++) {
        const char *name = models[mi];
        char pt2[1024], onnx[256];
        snprintf(pt2, sizeof pt2, "%s/%s.pt2", argv[1], name);
        snprintf(onnx, sizeof onnx, "models/%s.onnx", name);
        const ngt_backend *bes[2] = {ngt_backend_torch(), ngt_backend_genc()};
        const char *paths[2] = {pt2, onnx};
        for (int b = 0; b < 2; b++) {
            ngt_error err = {0};
            void *model = NULL;
            if (bes[b]->load(paths[b], NULL, &model, &err)) {
                fprintf(stderr, "bench_torch_core: %s\n", err.msg);
                return 1;
            }
            ngt_model_desc d;
            bes[b]->describe(model, &d);
            size_t ib = row(&d.inputs[0]), ob = row(&d.outputs[0]);
            float *x = calloc(1024, ib);
            void *y = calloc(1024, ob);
            for (size_t i = 0; i < 1024 * ib / sizeof *x; i++)
                x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
            void *ws = aligned_alloc(64, (bes[b]->workspace_size(model, 1024) + 127) / 64 * 64);
            for (int a = 3; a < argc; a++) {
                int n = atoi(argv[a]);
                printf("time %s %s %d %.9g\n", bes[b]->name, name, n,
                       per_call(bes[b], model, ws, x, y, n, budget));
                fflush(stdout);
            }
            free(ws);
            free(x);
            free(y);
            bes[b]->unload(model);
        }
    }
    ngt_torch_counters c;
    ngt_torch_counters_get(&c);
    printf("counters runs %llu output_tensors %llu output_bytes %llu\n", (unsigned long long)c.runs,
           (unsigned long long)c.output_tensors, (unsigned long long)c.output_bytes);
    return 0;
}
