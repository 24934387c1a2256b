/* bench_torch_core.c: the C half of bench/torch (bench_torch.py runs it): per-call times of fad
 * and mdt through ngt's torch backend (the .pt2 packages) and genc (the same models' .onnx) at
 * the given batch sizes, one thread. Prints "time BACKEND MODEL BATCH SECONDS_PER_CALL" lines.
 * "time shimwork fad N": the libtorch calls the shim makes around AOTInductor's run, alone: wrap
 * the input, inspect an output tensor (dim, sizes, strides, dtype, data), copy it out, delete
 * both (an upper bound of its own per-call work: the run deletes the input itself).
 * Usage: bench_torch_core PT2_DIR BUDGET_S BATCH... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "genc/genc.h"
#include "ngt.h"
#include "torch/torch_int.h"

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

/* The shim's own libtorch calls per infer() of n fad events, without the model run; pair_only:
 * just a from_blob + delete pair (the loop makes one more of each than the shim does: the output
 * tensor, which the model makes, and the input's deletion, which the run does). */
static double shim_work(int n, double budget, int pair_only)
{
    ngt_error err = {0};
    const torch_lib *l = torch_lib_get(&err);
    if (!l) {
        fprintf(stderr, "bench_torch_core: %s\n", err.msg);
        exit(1);
    }
    static float x[1024 * 77], y[1024 * 76];
    int64_t in_sizes[2] = {n, 77}, in_strides[2] = {77, 1}, out_sizes[2] = {n, 76},
            out_strides[2] = {76, 1};
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        long c = 0;
        double t0 = now(), t;
        do {
            AtenTensorHandle in, out;
            int64_t dim, *sz, *st;
            int32_t dt;
            void *data;
            l->from_blob(x, 2, in_sizes, in_strides, 0, l->dtype_f32, l->device_cpu, 0, &in);
            if (pair_only) {
                l->del(in);
                c++;
                t = now() - t0;
                continue;
            }
            l->from_blob(y, 2, out_sizes, out_strides, 0, l->dtype_f32, l->device_cpu, 0, &out);
            l->omp_set_num_threads(1);
            l->dim(out, &dim);
            l->sizes(out, &sz);
            l->strides(out, &st);
            l->dtype(out, &dt);
            l->data_ptr(out, &data);
            memcpy(x, data, (size_t)n * 76 * sizeof(float));
            l->del(out);
            l->del(in);
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
        const ngt_backend *bes[2] = {torch_backend(), genc_backend()};
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
    for (int a = 3; a < argc; a++) {
        int n = atoi(argv[a]);
        double loop = shim_work(n, budget, 0), pair = shim_work(n, budget, 1);
        printf("time shimwork fad %d %.9g\n", n, loop - pair);
        printf("time blobpair fad %d %.9g\n", n, pair);
    }
    ngt_torch_counters c;
    ngt_torch_counters_get(&c);
    printf("counters runs %llu output_tensors %llu output_bytes %llu\n", (unsigned long long)c.runs,
           (unsigned long long)c.output_tensors, (unsigned long long)c.output_bytes);
    return 0;
}
